//! Forward values of the newer ops against independent references: values computed with
//! Python's `math` module in f64 (`math.log1p`, `math.expm1`, `math.erf`, …, written out in
//! the tests), or a straightforward loop. By family: `pointwise.rs` (special functions and
//! activations), `reduce.rs` (reductions, scans, rearrangements, masks), `layers.rs`
//! (normalisations, grouped convolution, adaptive pooling).

mod layers;
mod pointwise;
mod reduce;

use autograd::Var;
use tensor::Tensor;

pub fn var(values: &[f64]) -> Var {
    Var::leaf(Tensor::from_slice(values, &[values.len()]).unwrap())
}

/// Element-wise agreement to a relative 1e-14 (absolute below 1e-300).
pub fn assert_close(actual: &Var, expected: &[f64], what: &str) {
    let actual = actual.value().to_vec::<f64>();
    assert_eq!(actual.len(), expected.len(), "{what}: length");
    for (k, (a, e)) in actual.iter().zip(expected).enumerate() {
        assert!(
            (a - e).abs() <= 1e-14 * e.abs() + 1e-300,
            "{what}[{k}]: {a} vs {e}"
        );
    }
}

pub const XS: [f64; 5] = [-3.0, -0.5, 1e-10, 0.7, 2.0];
pub fn matrix(values: &[f64], shape: &[usize]) -> Var {
    Var::leaf(Tensor::from_slice(values, shape).unwrap())
}

/// The 2 × 3 × 4 test tensor, values chosen with zeros and mixed signs.
pub fn block() -> (Vec<f64>, Var) {
    let values: Vec<f64> = (0..24)
        .map(|k| {
            if k % 7 == 3 {
                0.0
            } else {
                0.3 * k as f64 - 3.1
            }
        })
        .collect();
    let v = matrix(&values, &[2, 3, 4]);
    (values, v)
}

/// Element-wise agreement to an absolute tolerance (for sums that may cancel to 0).
pub fn assert_close_abs(actual: &Var, expected: &[f64], tol: f64, what: &str) {
    let actual = actual.value().to_vec::<f64>();
    assert_eq!(actual.len(), expected.len(), "{what}: length");
    for (k, (a, e)) in actual.iter().zip(expected).enumerate() {
        assert!((a - e).abs() <= tol, "{what}[{k}]: {a} vs {e}");
    }
}
