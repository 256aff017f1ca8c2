//! The logistic sigmoid `σ(x) = 1/(1 + e^{−x})` for `f32`.
//!
//! With `e = e^{−|x|}` (never above 1, so never overflowing):
//! `σ(x) = 1/(1 + e)` for `x ≥ 0` and `σ(x) = e/(1 + e)` for `x < 0` (multiply the top and
//! bottom of `1/(1 + e^{−x})` by `eˣ`). Both share the denominator, so only the numerator is
//! selected and one division serves either sign. For very negative `x` the result is `e`
//! itself to within rounding, so it falls through the subnormals to 0 as `eˣ` does, rather
//! than jumping to 0 where `e^{−x}` would overflow.

use super::exp::exp;

/// `σ(x)`, within 2 ulps of the correctly rounded result (measured: see `vmath/tests.rs`).
#[inline(always)]
pub fn sigmoid(x: f32) -> f32 {
    let e = exp(-x.abs());
    let numerator = if x < 0.0 { e } else { 1.0 };
    numerator / (1.0 + e)
}
