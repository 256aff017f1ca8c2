//! Accuracy of the `f32` functions against the `f64` standard library rounded to `f32`, in
//! ulps (units in the last place: how many representable `f32` lie between two values), and
//! agreement between the slice kernels and one call at a time.

use super::*;

/// The distance in ulps between `a` and `b` (0 for two NaNs, `u64::MAX` for one).
fn ulps(a: f32, b: f32) -> u64 {
    if a.is_nan() || b.is_nan() {
        return if a.is_nan() && b.is_nan() {
            0
        } else {
            u64::MAX
        };
    }
    // The bit patterns ordered as integers: positive floats count up from +0, negative
    // ones down from −0.
    let ordered = |v: f32| {
        let bits = v.to_bits() as i32;
        if bits < 0 {
            i32::MIN as i64 - bits as i64
        } else {
            bits as i64
        }
    };
    ordered(a).abs_diff(ordered(b))
}

fn sigmoid_f64(x: f64) -> f64 {
    if x >= 0.0 {
        1.0 / (1.0 + (-x).exp())
    } else {
        x.exp() / (1.0 + x.exp())
    }
}

/// A function's `f64` reference.
type Reference = fn(f64) -> f64;

/// Each function, its reference, and the largest error it is allowed, in ulps.
const CASES: [(Math, Reference, u64); 4] = [
    (Math::Exp, f64::exp, 1),
    (Math::Ln, f64::ln, 1),
    (Math::Tanh, f64::tanh, 1),
    (Math::Sigmoid, sigmoid_f64, 2),
];

/// The largest error of `f` over the `inputs`, and an input where it occurs.
fn worst(f: Math, reference: fn(f64) -> f64, inputs: impl Iterator<Item = f32>) -> (u64, f32) {
    let mut worst = (0, f32::NAN);
    for x in inputs {
        let error = ulps(f.scalar(x), reference(x as f64) as f32);
        if error > worst.0 {
            worst = (error, x);
        }
    }
    worst
}

#[test]
fn within_bound_over_the_whole_f32_range() {
    // Every 257th bit pattern: 17 million inputs of every sign and exponent, NaNs included
    // (a few seconds in a release build; a debug build takes every 4099th).
    let stride = if cfg!(debug_assertions) { 4099 } else { 257 };
    for (f, reference, bound) in CASES {
        let (error, at) = worst(
            f,
            reference,
            (0..=u32::MAX).step_by(stride).map(f32::from_bits),
        );
        println!("{f:?}: at most {error} ulps over every {stride}th f32 (worst at {at:e})");
        assert!(
            error <= bound,
            "{f:?}({at:e}) is {error} ulps off, more than {bound}"
        );
    }
}

#[test]
fn within_bound_densely_where_the_formulas_meet() {
    // Around 1 for ln (where the result crosses 0), around the hand-over at 0.625 for tanh,
    // around 0 for exp and sigmoid: every 7th float of ±[0.25, 4)
    // (every 97th in a debug build).
    let stride = if cfg!(debug_assertions) { 97 } else { 7 };
    let low = 0.25f32.to_bits();
    let high = 4.0f32.to_bits();
    let positive = (low..high).step_by(stride).map(f32::from_bits);
    for (f, reference, bound) in CASES {
        let (error, at) = worst(f, reference, positive.clone().flat_map(|x| [x, -x]));
        println!("{f:?}: at most {error} ulps on ±[0.25, 4) (worst at {at:e})");
        assert!(
            error <= bound,
            "{f:?}({at:e}) is {error} ulps off, more than {bound}"
        );
    }
}

#[test]
fn special_values_as_in_c() {
    let inf = f32::INFINITY;
    let tiny = f32::from_bits(1); // the smallest subnormal
    let cases: [(Math, f32, f32); 26] = [
        (Math::Exp, 0.0, 1.0),
        (Math::Exp, -0.0, 1.0),
        (Math::Exp, inf, inf),
        (Math::Exp, -inf, 0.0),
        (Math::Exp, 88.8, inf),          // just past ln f32::MAX ≈ 88.72
        (Math::Exp, -104.0, 0.0),        // below ln 2⁻¹⁵⁰
        (Math::Exp, -102.5, 2.0 * tiny), // e^−102.5 ≈ 2.18·2⁻¹⁴⁹: a subnormal, not 0
        (Math::Exp, 1e30, inf),
        (Math::Ln, 1.0, 0.0),
        (Math::Ln, 0.0, -inf),
        (Math::Ln, -0.0, -inf),
        (Math::Ln, inf, inf),
        (Math::Ln, tiny, -103.27893),
        (Math::Tanh, 0.0, 0.0),
        (Math::Tanh, 10.0, 1.0),
        (Math::Tanh, -10.0, -1.0),
        (Math::Tanh, inf, 1.0),
        (Math::Tanh, -inf, -1.0),
        (Math::Tanh, tiny, tiny),
        (Math::Sigmoid, 0.0, 0.5),
        (Math::Sigmoid, inf, 1.0),
        (Math::Sigmoid, -inf, 0.0),
        (Math::Sigmoid, 20.0, 1.0),
        (Math::Sigmoid, -100.0, 27.0 * tiny), // e^−100 ≈ 26.5·2⁻¹⁴⁹, a subnormal
        (Math::Sigmoid, -200.0, 0.0),
        (Math::Exp, f32::MIN_POSITIVE, 1.0),
    ];
    for (f, x, expected) in cases {
        let got = f.scalar(x);
        assert_eq!(
            got.to_bits(),
            expected.to_bits(),
            "{f:?}({x:e}) = {got:e}, expected {expected:e}"
        );
    }
    // Signs of zero and NaNs.
    assert!(tanh(-0.0).is_sign_negative() && tanh(-0.0) == 0.0);
    assert!(tanh(-tiny) == -tiny);
    for f in [Math::Exp, Math::Ln, Math::Tanh, Math::Sigmoid] {
        assert!(f.scalar(f32::NAN).is_nan(), "{f:?}(NaN) is not NaN");
    }
    for x in [-1.0, -tiny, -inf, -1e30] {
        assert!(ln(x).is_nan(), "ln({x:e}) = {} is not NaN", ln(x));
    }
}

#[test]
fn slice_kernels_match_one_call_at_a_time() {
    // Values of every kind, including those that take the selects (NaN, ±∞, 0, subnormals),
    // on lengths that leave a tail after any vector width.
    let specials = [
        0.0,
        -0.0,
        f32::NAN,
        f32::INFINITY,
        -f32::INFINITY,
        1e-40,
        -1e-40,
        90.0,
    ];
    let values: Vec<f32> = (0..1003)
        .map(|i| match i % 11 {
            0 => specials[(i / 11) % specials.len()],
            _ => ((i as f32) * 0.618_034).sin() * (i % 7) as f32 * 12.0,
        })
        .collect();
    for f in [Math::Exp, Math::Ln, Math::Tanh, Math::Sigmoid] {
        for len in (0..=35).chain([63, 64, 65, 1003]) {
            let src = &values[values.len() - len..];
            let mut dst = vec![0.0f32; len];
            apply(f, src, &mut dst);
            for (&x, &y) in src.iter().zip(&dst) {
                let one = f.scalar(x);
                assert_eq!(
                    y.to_bits(),
                    one.to_bits(),
                    "{f:?}({x:e}), length {len}: {y:e} vs {one:e}"
                );
            }
        }
    }
}

#[test]
fn tensor_ops_match_one_call_at_a_time_on_every_layout() {
    use crate::{DType, Tensor};
    // Contiguous, a column block (contiguous runs of 13, as an LSTM's gates), and a transpose
    // (no contiguous runs): each goes through its own loop in `unary::map_math`.
    let mut rng = <rand::rngs::StdRng as rand::SeedableRng>::seed_from_u64(7);
    let full = Tensor::rand_uniform(&[9, 52], -6.0, 6.0, DType::F32, &mut rng);
    type TensorOp = fn(&Tensor) -> Tensor;
    let ops: [(Math, TensorOp); 4] = [
        (Math::Exp, Tensor::exp),
        (Math::Ln, Tensor::log),
        (Math::Tanh, Tensor::tanh),
        (Math::Sigmoid, Tensor::sigmoid),
    ];
    for (f, op) in ops {
        let base = if f == Math::Ln {
            full.abs()
        } else {
            full.clone()
        };
        for x in [base.clone(), base.narrow(1, 13, 13), base.t()] {
            let expected: Vec<u32> = x
                .to_vec::<f32>()
                .iter()
                .map(|&v| f.scalar(v).to_bits())
                .collect();
            let got: Vec<u32> = op(&x).to_vec::<f32>().iter().map(|v| v.to_bits()).collect();
            assert_eq!(
                got,
                expected,
                "{f:?} on {:?} with strides {:?}",
                x.shape(),
                x.strides()
            );
        }
    }
}
