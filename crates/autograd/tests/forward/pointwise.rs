//! log1p, expm1, softplus, erf and the activations.

use std::f64::consts::LN_2;

use autograd::Var;
use tensor::Tensor;

use crate::{assert_close, var, XS};

#[test]
fn log1p_and_expm1_keep_tiny_arguments_exact() {
    let x = var(&[-0.5, 1e-10, 0.7, 2.0]);
    assert_close(
        &x.log1p(),
        &[
            -LN_2,
            9.999999999500001e-11,
            0.5306282510621704,
            1.0986122886681096,
        ],
        "log1p",
    );
    assert_close(
        &var(&XS).expm1(),
        &[
            -0.950212931632136,
            -0.3934693402873666,
            1.00000000005e-10,
            1.0137527074704764,
            6.38905609893065,
        ],
        "expm1",
    );
}

#[test]
fn softplus_is_stable_at_both_ends() {
    // Naively ln(1 + e^800) is inf and ln(1 + e^−30) rounds to 9.3e-14 with 2 digits lost;
    // the reference is ln1p(e^−|x|) + max(x, 0).
    let x = var(&[-30.0, -3.0, 0.0, 0.7, 40.0, 800.0]);
    assert_close(
        &x.softplus(),
        &[
            9.357622968839737e-14,
            0.04858735157374206,
            LN_2,
            1.103186048885458,
            40.0,
            800.0,
        ],
        "softplus",
    );
    let f32_large = Var::leaf(Tensor::from_slice(&[100.0f32, -100.0], &[2]).unwrap());
    let y = f32_large.softplus().value().to_vec::<f32>();
    assert_eq!(y[0], 100.0);
    assert!(y[1] > 0.0 && y[1] < 1e-40, "{}", y[1]);
}

#[test]
fn erf_against_python() {
    assert_close(
        &var(&XS).erf(),
        &[
            -0.9999779095030014,
            -0.5204998778130465,
            1.1283791670955126e-10,
            0.6778011938374184,
            0.9953222650189527,
        ],
        "erf",
    );
}

#[test]
fn activations_against_python() {
    let x = var(&XS);
    assert_close(
        &x.elu(0.5),
        &[-0.475106465816068, -0.1967346701436833, 1e-10, 0.7, 2.0],
        "elu",
    );
    assert_close(
        &x.gelu(),
        &[
            -0.00404969409489031,
            -0.15426876936299344,
            5.000000000398942e-11,
            0.5306254434438489,
            1.9544997361036416,
        ],
        "gelu",
    );
    assert_close(
        &x.gelu_tanh(),
        &[
            -0.0036373920817729943,
            -0.15428599017485606,
            5.000000000398942e-11,
            0.5305701347051167,
            1.954597694087775,
        ],
        "gelu_tanh",
    );
    assert_close(
        &x.silu(),
        &[
            -0.14227761953270035,
            -0.1887703343990727,
            5.00000000025e-11,
            0.46773144051771626,
            1.7615941559557646,
        ],
        "silu",
    );
}
