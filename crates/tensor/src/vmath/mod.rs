//! Vectorisable `f32` exponential, logarithm, `tanh` and sigmoid.
//!
//! C's `expf`, `logf` and `tanhf` are scalar calls, one element at a time; in an LSTM applied
//! to every coordinate (the learned optimiser) they took over a third of meta-training. The
//! functions here are polynomials after a range reduction, with no branches, table lookups or
//! calls, so a loop applying one to a slice compiles to SIMD code: 8 lanes with AVX2 (chosen
//! at run time, as the matrix multiply does), else 4 with the SSE2 every x86-64 has.
//! One file per function gives its math: [`exp()`], [`ln()`], [`tanh()`], [`sigmoid()`];
//! `fit.py` computes their coefficients.
//!
//! Accuracy, measured against the `f64` function rounded to `f32` over every 61st bit
//! pattern of the whole `f32` range and every 3rd float of `±[0.25, 4)` (`tests.rs` runs
//! sparser sweeps): `exp`, `ln` and `tanh` within 1 ulp, `sigmoid` within 2. Special values
//! are those of C's functions: overflow to `∞`, underflow through the subnormals to 0,
//! `ln 0 = −∞`, `ln` of a negative number is NaN, `tanh` is ±1 from `|x| ≈ 9`, and NaN in
//! gives NaN out.
//!
//! The results do not depend on the lane width or the CPU: no fused multiply-add is used
//! (Rust never fuses `a * b + c` by itself), so the SSE2 loop, the AVX2 loop and a single
//! call give the same bits.
//!
//! Only `f32` uses these. `f64` keeps the standard library: it is the type of the
//! finite-difference gradient checks, where the last bits matter more than speed.
//! `exp_m1`, `ln_1p`, `sin` and `cos` also stay on the standard library for `f32`.

mod exp;
mod ln;
mod sigmoid;
mod tanh;
#[cfg(test)]
mod tests;

pub use exp::exp;
pub use ln::ln;
pub use sigmoid::sigmoid;
pub use tanh::tanh;

use crate::element::Element;

/// The element-wise functions with a vectorised `f32` kernel.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Math {
    Exp,
    Ln,
    Tanh,
    Sigmoid,
}

impl Math {
    /// The function on one element, through [`Element`] (so `f64` gets the standard library).
    #[inline(always)]
    pub fn scalar<T: Element>(self, v: T) -> T {
        match self {
            Math::Exp => v.exp(),
            Math::Ln => v.ln(),
            Math::Tanh => v.tanh(),
            Math::Sigmoid => v.sigmoid(),
        }
    }
}

/// `dst[i] = f(src[i])` with the `f32` function of `f`; the slices have equal lengths.
pub fn apply(f: Math, src: &[f32], dst: &mut [f32]) {
    assert_eq!(
        src.len(),
        dst.len(),
        "vmath::apply({f:?}): source of {} elements, destination of {}",
        src.len(),
        dst.len()
    );
    match f {
        Math::Exp => each(src, dst, exp),
        Math::Ln => each(src, dst, ln),
        Math::Tanh => each(src, dst, tanh),
        Math::Sigmoid => each(src, dst, sigmoid),
    }
}

/// The loop, compiled for AVX2 when the CPU has it (8 lanes instead of 4).
#[inline(always)]
fn each(src: &[f32], dst: &mut [f32], f: impl Fn(f32) -> f32 + Copy) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU has AVX2, all that `each_avx2` needs.
        unsafe { each_avx2(src, dst, f) };
        return;
    }
    each_portable(src, dst, f)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn each_avx2(src: &[f32], dst: &mut [f32], f: impl Fn(f32) -> f32 + Copy) {
    each_portable(src, dst, f)
}

#[inline(always)]
fn each_portable(src: &[f32], dst: &mut [f32], f: impl Fn(f32) -> f32 + Copy) {
    for (out, &v) in dst.iter_mut().zip(src) {
        *out = f(v);
    }
}
