//! Initialisers: fan computation, the bounds of the uniform ones, and the sample mean and
//! standard deviation of ≥ 10 000 draws against the formulas.
//!
//! Tolerances are a few standard errors, tight enough to catch a missing gain (×√2) or a
//! uniform bound mistaken for a std (×√3). For n draws the standard error of the sample mean
//! is σ/√n, and of the sample std about σ·√((κ − 1)/4n) with κ the kurtosis: κ = 3 for a
//! normal (≈ 0.5% at n = 20 000), κ = 1.8 for a uniform (≈ 0.3%).

use nn::init::{fans, RELU_GAIN};
use nn::Init;
use rand::rngs::StdRng;
use rand::SeedableRng;
use tensor::DType;

fn draw(init: Init, shape: &[usize]) -> Vec<f64> {
    let values = init
        .sample(shape, DType::F64, &mut StdRng::seed_from_u64(42))
        .to_vec::<f64>();
    assert!(values.len() >= 10_000, "too few draws for the tolerances");
    values
}

fn mean_and_std(values: &[f64]) -> (f64, f64) {
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0);
    (mean, var.sqrt())
}

/// Mean within 5 standard errors of `mean`, std within `rel` of `std`.
fn assert_moments(values: &[f64], mean: f64, std: f64, rel: f64) {
    let (m, s) = mean_and_std(values);
    let standard_error = std / (values.len() as f64).sqrt();
    assert!(
        (m - mean).abs() < 5.0 * standard_error,
        "mean {m}, expected {mean}"
    );
    assert!((s / std - 1.0).abs() < rel, "std {s}, expected {std}");
}

/// Every draw inside ±bound, and the extremes close to it (so the bound is not too loose).
fn assert_bound(values: &[f64], bound: f64) {
    let largest = values.iter().fold(0f64, |m, v| m.max(v.abs()));
    assert!(largest < bound, "{largest} ≥ {bound}");
    assert!(largest > 0.99 * bound, "{largest} far inside {bound}");
}

#[test]
fn fans_of_linear_and_conv_shapes() {
    // Linear [out, in]: fan_in = in, fan_out = out.
    assert_eq!(fans(&[3, 5]), (5, 3));
    // Conv [O, C, kh, kw]: fan_in = C·kh·kw = 4·3·3 = 36, fan_out = O·kh·kw = 8·9 = 72.
    assert_eq!(fans(&[8, 4, 3, 3]), (36, 72));
    assert_eq!(fans(&[8, 4, 1, 5]), (20, 40));
    // Vectors and scalars.
    assert_eq!(fans(&[7]), (7, 7));
    assert_eq!(fans(&[]), (1, 1));
}

#[test]
fn kaiming_uniform() {
    // [200, 100]: fan_in = 100, gain √2: std = √2/10 ≈ 0.1414, bound = √3·std = √6/10.
    let values = draw(Init::KaimingUniform { gain: RELU_GAIN }, &[200, 100]);
    let std = RELU_GAIN / 10.0;
    assert_bound(&values, 3f64.sqrt() * std);
    assert_moments(&values, 0.0, std, 0.02);
}

#[test]
fn kaiming_normal_on_a_conv_weight() {
    // [64, 32, 3, 3]: fan_in = 288, gain 1: std = 1/√288.
    let values = draw(Init::KaimingNormal { gain: 1.0 }, &[64, 32, 3, 3]);
    assert_moments(&values, 0.0, 1.0 / 288f64.sqrt(), 0.03);
}

#[test]
fn xavier_uniform_on_a_conv_weight() {
    // [64, 32, 3, 3]: fan_in + fan_out = 288 + 576 = 864; bound = √(6/864) = 1/12.
    let values = draw(Init::XavierUniform { gain: 1.0 }, &[64, 32, 3, 3]);
    assert_bound(&values, 1.0 / 12.0);
    assert_moments(&values, 0.0, 1.0 / 12.0 / 3f64.sqrt(), 0.02);
}

#[test]
fn xavier_normal() {
    // [150, 100] with gain 2: std = 2·√(2/250) = 2/√125.
    let values = draw(Init::XavierNormal { gain: 2.0 }, &[150, 100]);
    assert_moments(&values, 0.0, 2.0 / 125f64.sqrt(), 0.03);
}

#[test]
fn plain_uniform_normal_and_constant() {
    // U(1, 3): mean 2, std (3 − 1)/√12.
    let uniform = draw(
        Init::Uniform {
            low: 1.0,
            high: 3.0,
        },
        &[20_000],
    );
    assert!(uniform.iter().all(|&v| (1.0..3.0).contains(&v)));
    assert_moments(&uniform, 2.0, 2.0 / 12f64.sqrt(), 0.02);
    let normal = draw(
        Init::Normal {
            mean: -1.0,
            std: 0.5,
        },
        &[20_000],
    );
    assert_moments(&normal, -1.0, 0.5, 0.03);
    let constant = draw(Init::Constant(0.25), &[100, 100]);
    assert!(constant.iter().all(|&v| v == 0.25));
}

#[test]
fn samples_are_seeded_and_take_the_dtype() {
    let init = Init::KaimingUniform { gain: 1.0 };
    let sample = |seed| init.sample(&[4, 3], DType::F32, &mut StdRng::seed_from_u64(seed));
    assert_eq!(sample(1).dtype(), DType::F32);
    assert_eq!(sample(1).to_vec::<f32>(), sample(1).to_vec::<f32>());
    assert_ne!(sample(1).to_vec::<f32>(), sample(2).to_vec::<f32>());
}
