//! A transposing copy with AVX2: the direct path's way to turn a transposed weight into a
//! row-major one (see [`super::small_avx2`], "dots form").
//!
//! Element by element, a transpose reads one operand with a stride and is bound by that:
//! about half a nanosecond per element, as much as the product it is meant to speed up
//! when C has few rows. Here `LANES × LANES` blocks are loaded as rows, transposed in
//! registers ([`Vector::transpose_block`]: 24 shuffles for 64 `f32`) and stored as rows, so
//! the copy costs a small fraction of the product even for one task's `[10, 40]·[40, 40]ᵀ`.

#![deny(unsafe_op_in_unsafe_fn)]

use super::simd_avx2::Vector;

/// `dst[p·n + j] = src[j·ld + p]` for `j < n`, `p < k`: the `n × k` matrix at `src` (rows
/// `ld` apart, entries contiguous) copied transposed into the row-major `k × n` matrix at
/// `dst`. Whole blocks go through registers; the ragged edges element by element.
///
/// # Safety
/// `src[j·ld + p]` must be readable and `dst[p·n + j]` writable for all `j < n`, `p < k`,
/// the two must not overlap, and the CPU must have AVX2 and FMA.
#[target_feature(enable = "avx2,fma")]
pub(crate) unsafe fn transpose<V: Vector>(
    src: *const V::Elem,
    ld: usize,
    n: usize,
    k: usize,
    dst: *mut V::Elem,
) {
    let lanes = V::LANES;
    let (n_whole, k_whole) = (n - n % lanes, k - k % lanes);
    // SAFETY: every index below is `j·ld + p` into `src` and `p·n + j` into `dst` with
    // `j < n`, `p < k` (a block at `(j, p)` spans `j .. j + LANES ≤ n_whole` and
    // `p .. p + LANES ≤ k_whole`): the caller's.
    unsafe {
        for j in (0..n_whole).step_by(lanes) {
            for p in (0..k_whole).step_by(lanes) {
                V::transpose_block(src.add(j * ld + p), ld, dst.add(p * n + j), n);
            }
            for p in k_whole..k {
                for j in j..j + lanes {
                    *dst.add(p * n + j) = *src.add(j * ld + p);
                }
            }
        }
        for j in n_whole..n {
            for p in 0..k {
                *dst.add(p * n + j) = *src.add(j * ld + p);
            }
        }
    }
}

// Tested through its checked wrapper, `super::transpose::transpose_into` (both element types,
// ragged edges, gapped and overlapping rows).
