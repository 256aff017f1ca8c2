//! `ln x` for `f32`.
//!
//! Range reduction: `x = 2ᵉ · m` with `m` in `[√½, √2)`, so `ln x = e·ln2 + ln m` and
//! `|ln m| ≤ ln2/2`. Subtracting the bit pattern of `√½` from that of `x` and shifting right
//! by the 23 mantissa bits gives `e` (an arithmetic shift, so it rounds towards −∞); removing
//! `e` from the exponent field leaves `m`. Subnormal `x` is first scaled by `2²³` into the
//! normal range (and `e` corrected by 23).
//!
//! With `f = m − 1` (exact: `m` is within a factor 2 of 1) and `s = f / (2 + f)`,
//! `ln m = 2·atanh s = 2s + 2s·u·h(u)` where `u = s² ≤ 0.0295` and
//! `h(u) = 1/3 + u/5 + u²/7 + …`, here a quadratic interpolated at Chebyshev nodes by `fit.py`
//! (relative error 2.5·10⁻⁹). The sum is arranged as `ln m = f − s·(f − 2u·h)`, using
//! `2s = f − s·f`: the leading term `f` is exact, and the rounding of `s` only touches the
//! correction, which is at most a fifth of the result.
//!
//! `e·ln2` is added in two parts as in `exp.rs`: `e·LN2_HI` is exact for `|e| ≤ 2⁸`.
//!
//! NOTE: special values as in C's `logf`: `ln 0 = −∞` (either sign of zero), `ln x = NaN` for
//! `x < 0` and for NaN, `ln ∞ = ∞`. The arithmetic above gives finite garbage for these, so
//! three selects at the end put the right values in.

use super::exp::{LN2_HI, LN2_LO};

/// Bit pattern of `√½` (rounded down): the lower end of the range of `m`.
const SQRT_HALF_BITS: i32 = 0x3f35_04f3;
/// `2²³`, to lift a subnormal into the normal range.
const TWO_POW_23: f32 = 8_388_608.0;
/// `h(u) ≈ (atanh(√u)/√u − 1)/u`, lowest degree first (from `fit.py`).
const H: [f32; 3] = [0.333_333_43, 0.199_943_9, 0.147_899_75];

/// `ln x`, within 1 ulp of the correctly rounded result (measured: see `vmath/tests.rs`).
#[inline(always)]
pub fn ln(x: f32) -> f32 {
    let subnormal = x < f32::MIN_POSITIVE;
    let scaled = if subnormal { x * TWO_POW_23 } else { x };
    let bits = scaled.to_bits() as i32;
    let e_int = bits.wrapping_sub(SQRT_HALF_BITS) >> 23;
    let m = f32::from_bits(bits.wrapping_sub(e_int << 23) as u32);
    let e = e_int as f32 - if subnormal { 23.0 } else { 0.0 };
    let f = m - 1.0;
    let s = f / (2.0 + f);
    let u = s * s;
    let two_u_h = 2.0 * u * (H[0] + u * (H[1] + u * H[2]));
    let ln_m = f - s * (f - two_u_h);
    let y = e * LN2_HI + (ln_m + e * LN2_LO);
    let y = if x == f32::INFINITY { x } else { y };
    let y = if x == 0.0 { f32::NEG_INFINITY } else { y };
    if x >= 0.0 {
        y
    } else {
        f32::NAN
    }
}
