//! The direct path for small products: loops straight over the strided
//! operands, with no packing and no allocation.
//!
//! Meta-learning multiplies many tiny matrices (a 10 × 40 batch of activations by a 40 × 40
//! weight: 16 000 multiply-adds, a microsecond). At that size the blocked path's fixed
//! costs — allocating and filling packed buffers, padding edge tiles out to 6 × 16 — are as
//! large as the arithmetic, so [`gemm()`](super::gemm()) sends such products here.
//!
//! Two loop orders, picked by the layout of B:
//! - *rows*: `C[i, :] += A[i, p] · B[p, :]` for each `p` — unit-stride over a row of B and
//!   of C, which the compiler vectorises. Used when B's rows are contiguous, and as the
//!   fallback for any layout.
//! - *dots*: `C[i, j] = A[i, :] · B[:, j]` — used when B is stored column by column (a
//!   transposed weight, as in the backward pass `dX = dY·Wᵀ`) and A by rows, so both
//!   factors of each dot product are contiguous.
//!
//! These loops are the portable version. On x86_64 with AVX2 and FMA the same two forms run
//! as register-blocked SIMD kernels ([`super::small_avx2`]) whenever B has a unit stride.
//!
//! NOTE: the direct path does not round exactly like the blocked one (different order of
//! the partial sums, and FMA or not), but which path runs depends only on the shapes,
//! never on the thread count.

use super::gemm::{MatMut, MatRef};
use crate::element::Element;

/// Partial sums per dot product in the dots form.
const LANES: usize = 8;

/// `c (+)= a·b` by direct loops. `m`, `n`, `k` must be at least 1.
pub(crate) fn direct<T: Element>(a: MatRef<T>, b: MatRef<T>, mut c: MatMut<T>, accumulate: bool) {
    let (m, n) = (a.rows, b.cols);
    if n == 1 && m > 1 && c.row_stride == 1 && a.row_stride == 1 {
        // A matrix-vector product with A stored by columns (a transposed activation, as in
        // `dW = Xᵀ·dY` for a single output): c = A·b is cᵀ = bᵀ·Aᵀ, a row vector times a
        // matrix with contiguous rows, which the rows form handles at full vector width.
        let c_row = MatMut::new(c.data, 1, m, m);
        return direct(b.t(), a.t(), c_row, accumulate);
    }
    #[cfg(target_arch = "x86_64")]
    if super::kernel::has_avx2_fma() && super::small_avx2::direct(a, b, &mut c, accumulate) {
        return;
    }
    portable(a, b, c, accumulate);
}

/// The portable loops: the dots form when its layout fits, else the rows form.
fn portable<T: Element>(a: MatRef<T>, b: MatRef<T>, c: MatMut<T>, accumulate: bool) {
    if b.col_stride != 1 && b.row_stride == 1 && a.col_stride == 1 {
        dots(a, b, c, accumulate);
    } else {
        rows(a, b, c, accumulate);
    }
}

/// `C[i, :] (+)= Σ_p A[i, p] · B[p, :]`, one row of C at a time.
fn rows<T: Element>(a: MatRef<T>, b: MatRef<T>, c: MatMut<T>, accumulate: bool) {
    let (k, n) = (a.cols, b.cols);
    for i in 0..a.rows {
        let c_row = &mut c.data[i * c.row_stride..i * c.row_stride + n];
        if !accumulate {
            c_row.fill(T::ZERO);
        }
        for p in 0..k {
            let a_ip = a.at(i, p);
            if b.col_stride == 1 {
                let b_row = &b.data[p * b.row_stride..p * b.row_stride + n];
                for (c_ij, &b_pj) in c_row.iter_mut().zip(b_row) {
                    *c_ij += a_ip * b_pj;
                }
            } else {
                for (j, c_ij) in c_row.iter_mut().enumerate() {
                    *c_ij += a_ip * b.at(p, j);
                }
            }
        }
    }
}

/// `C[i, j] (+)= A[i, :] · B[:, j]`, for A with contiguous rows and B with contiguous
/// columns.
fn dots<T: Element>(a: MatRef<T>, b: MatRef<T>, c: MatMut<T>, accumulate: bool) {
    let (k, n) = (a.cols, b.cols);
    for i in 0..a.rows {
        let a_row = &a.data[i * a.row_stride..i * a.row_stride + k];
        let c_row = &mut c.data[i * c.row_stride..i * c.row_stride + n];
        for (j, c_ij) in c_row.iter_mut().enumerate() {
            let b_col = &b.data[j * b.col_stride..j * b.col_stride + k];
            let sum = dot(a_row, b_col);
            *c_ij = if accumulate { *c_ij + sum } else { sum };
        }
    }
}

/// `x · y` with [`LANES`] partial sums, so the additions pipeline (and vectorise), added
/// pairwise at the end.
fn dot<T: Element>(x: &[T], y: &[T]) -> T {
    let mut lanes = [T::ZERO; LANES];
    let (x_chunks, y_chunks) = (x.chunks_exact(LANES), y.chunks_exact(LANES));
    let (x_tail, y_tail) = (x_chunks.remainder(), y_chunks.remainder());
    for (xs, ys) in x_chunks.zip(y_chunks) {
        for ((lane, &x), &y) in lanes.iter_mut().zip(xs).zip(ys) {
            *lane += x * y;
        }
    }
    for ((lane, &x), &y) in lanes.iter_mut().zip(x_tail).zip(y_tail) {
        *lane += x * y;
    }
    let [l0, l1, l2, l3, l4, l5, l6, l7] = lanes;
    ((l0 + l4) + (l1 + l5)) + ((l2 + l6) + (l3 + l7))
}

#[cfg(test)]
mod tests {
    use super::super::testing::check;
    use super::*;

    const SHAPES: [(usize, usize, usize); 5] =
        [(1, 1, 1), (3, 7, 5), (10, 40, 40), (10, 40, 1), (17, 9, 33)];

    /// The portable loops, which a CPU with AVX2 passes over for the SIMD kernels.
    #[test]
    fn portable_loops_match_naive() {
        for shape in SHAPES {
            for b_transposed in [false, true] {
                check::<f32>(shape, b_transposed, |a, b, c| portable(a, b, c, false));
                check::<f64>(shape, b_transposed, |a, b, c| portable(a, b, c, false));
            }
        }
    }
}
