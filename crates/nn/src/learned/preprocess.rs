//! The gradient preprocessing of Andrychowicz et al. (2016, appendix A).
//!
//! Gradients of different parameters differ by many orders of magnitude, and one LSTM with
//! shared weights must read them all. Each coordinate g becomes two inputs, its magnitude on a
//! log scale and its sign, with a linear regime for tiny gradients where log|g| would blow up:
//!
//! ```text
//!            ⎧ (log|g| / p,  sign g)    if |g| ≥ e^−p
//! g  ↦       ⎨
//!            ⎩ (−1,          e^p · g)   otherwise            (p = 10)
//! ```
//!
//! Both components stay in [−1, 1] for |g| ≤ e^p and are continuous in |g| at the threshold.

use autograd::Var;
use tensor::Tensor;

/// `g [N]` ↦ `[N, 2]`, the two preprocessed inputs of each coordinate.
///
/// Written in `Var` operations, so the full (second-order) meta-gradient flows through it:
/// d/dg of the first component is 1/(p·g) above the threshold and 0 below, of the second 0
/// above (the sign is a constant of the step) and e^p below.
///
/// # Panics
/// If `g` is not one-dimensional.
pub fn preprocess(g: &Var, p: f64) -> Var {
    assert_eq!(
        g.ndim(),
        1,
        "preprocess: expected a flat gradient [N], got {:?}",
        g.shape()
    );
    let dtype = g.dtype();
    let threshold = (-p).exp();
    // NOTE: log|g| is taken of |g| clamped at e^−p, never of |g| itself: below the threshold
    // the clamp gives log(e^−p)/p = −1, exactly the small-gradient value, and the clamped
    // elements are constants, so no 1/|g| = ∞ (or ∞·0 = NaN) reaches the backward pass at g = 0.
    let magnitude = g
        .abs()
        .clamp(threshold, f64::INFINITY)
        .log()
        .mul_scalar(1.0 / p);
    let large = g
        .value()
        .abs()
        .ge_mask(&Tensor::scalar_of(threshold, dtype));
    let sign = Var::select(
        &large,
        &Var::constant(g.value().sign()),
        &g.mul_scalar(p.exp()),
    );
    Var::stack(&[&magnitude, &sign], 1)
}
