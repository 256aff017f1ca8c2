//! `tanh x` for `f32`.
//!
//! Two formulas, both computed and one selected (a branch would stop the loop vectorising):
//!
//! - `|x| < 0.625`: `tanh x = x + x·u·g(u)` with `u = x²` and
//!   `g(u) = (tanh √u / √u − 1)/u = −1/3 + 2u/15 − …`, of degree 5, interpolated at Chebyshev
//!   nodes of `[0, 0.625²]` by `fit.py` (relative error 4·10⁻⁹). Near 0 the correction
//!   vanishes and `tanh x = x` exactly, as it should (also for `−0` and subnormals).
//! - `|x| ≥ 0.625`: `tanh |x| = 1 − 2/(e^{2|x|} + 1)`, with [`exp`](super::exp). The
//!   subtracted term is below 0.45 there, so its rounding errors count at most half in units of
//!   the result. For large `|x|` the exponential overflows to `∞`, the term becomes `0` and the
//!   result saturates to exactly 1, as `tanh` does in f32 from `|x| ≈ 9` on.
//!
//! The sign is put back last (`tanh` is odd). NaN goes through the second formula and stays NaN.

use super::exp::exp;

/// Where the polynomial hands over to the exponential formula.
const CUT: f32 = 0.625;
/// `g(u)`, lowest degree first (from `fit.py`).
const G: [f32; 6] = [
    -0.333_333_34,
    0.133_333_04,
    -0.053_959_258,
    0.021_768_918,
    -0.008_343_945,
    0.002_292_745,
];

/// `tanh x`, within 1 ulp of the correctly rounded result (measured: see `vmath/tests.rs`).
#[inline(always)]
pub fn tanh(x: f32) -> f32 {
    let a = x.abs();
    let u = a * a;
    let g = G[0] + u * (G[1] + u * (G[2] + u * (G[3] + u * (G[4] + u * G[5]))));
    let near_zero = a + a * (u * g);
    let far = 1.0 - 2.0 / (exp(2.0 * a) + 1.0);
    let t = if a < CUT { near_zero } else { far };
    t.copysign(x)
}
