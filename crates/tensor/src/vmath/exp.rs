//! `eˣ` for `f32`.
//!
//! Range reduction: `x = k·ln2 + r` with `k = round(x / ln2)` and `|r| ≤ ln2/2 ≈ 0.347`, so
//! `eˣ = 2ᵏ · eʳ`. The rounding is the shift trick: adding `1.5·2²³` to `x·log₂e` leaves
//! no bits below the units, so the sum is `k + 1.5·2²³` rounded to nearest, and the integer
//! `k` is the difference of the two bit patterns (no float-to-int conversion, which does not
//! vectorise cheaply). `r = x − k·ln2` is computed in two steps (Cody and Waite): `ln2_hi` has
//! 16 significant bits, so `k·ln2_hi` is exact for `|k| ≤ 2⁸` and so is `x − k·ln2_hi`
//! (the two are within a factor of 2 of each other); `ln2_lo = ln2 − ln2_hi` then adds the
//! rest with one rounding.
//!
//! `eʳ ≈ 1 + r + r²·q(r)`, `q` of degree 4 (degree 6 overall), interpolated at Chebyshev
//! nodes of `[−ln2/2, ln2/2]` by `fit.py` in this folder: relative error 1.0·10⁻⁹ before
//! rounding, well under an f32 ulp (6·10⁻⁸).
//!
//! `2ᵏ` is built from its bit pattern, as two factors `2^⌊k/2⌋ · 2^(k−⌊k/2⌋)` so that each
//! stays a normal number for every `k` in `[−150, 128]`: the product then overflows to `∞`
//! and underflows through the subnormals to `0` exactly where `eˣ` does, rounding once.
//!
//! NOTE: `x` is first clamped to `[−104, 89]`, just past where `eˣ` underflows to 0
//! (`ln 2⁻¹⁵⁰ ≈ −103.97`) and overflows to `∞` (`ln f32::MAX ≈ 88.72`), so `±∞` give `∞` and
//! `0` like every other input beyond those points. The clamps are comparisons, which are false
//! for NaN, so NaN passes through to the polynomial and comes out NaN.

/// `log₂e`.
const LOG2_E: f32 = std::f32::consts::LOG2_E;
/// `1.5·2²³`: adding it rounds a float below 2²² in magnitude to an integer.
pub(super) const ROUND: f32 = 12_582_912.0;
/// `ln2` rounded to 16 significant bits (45426 / 2¹⁶ = 0.693145751953125 exactly), and the
/// remainder `ln2 − LN2_HI`.
pub(super) const LN2_HI: f32 = 0.693_145_75;
pub(super) const LN2_LO: f32 = 1.428_606_8e-6;
/// `q(r) ≈ (eʳ − 1 − r)/r²`, lowest degree first (from `fit.py`).
const Q: [f32; 5] = [
    0.5,
    0.166_665_78,
    0.041_666_556,
    0.008_363_173,
    0.001_392_617_6,
];

/// `eˣ`, within 1 ulp of the correctly rounded result (measured: see `vmath/tests.rs`).
#[inline(always)]
pub fn exp(x: f32) -> f32 {
    let x = if x > 89.0 { 89.0 } else { x };
    let x = if x < -104.0 { -104.0 } else { x };
    let shifted = x * LOG2_E + ROUND;
    let k = shifted - ROUND;
    let k_int = (shifted.to_bits() as i32).wrapping_sub(ROUND.to_bits() as i32);
    let r = (x - k * LN2_HI) - k * LN2_LO;
    let q = Q[0] + r * (Q[1] + r * (Q[2] + r * (Q[3] + r * Q[4])));
    let e_r = 1.0 + (r + r * r * q);
    let half = k_int >> 1;
    e_r * pow2(half) * pow2(k_int.wrapping_sub(half))
}

/// `2ᵏ` for `k` in the normal range `[−126, 127]`, from its bit pattern.
#[inline(always)]
fn pow2(k: i32) -> f32 {
    f32::from_bits((k.wrapping_add(127) as u32) << 23)
}
