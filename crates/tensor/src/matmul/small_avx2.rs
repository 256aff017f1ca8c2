//! The direct path's AVX2 + FMA kernels: register-blocked tiles read straight from the
//! strided operands (no packing), for the two layouts of B that allow vector loads.
//!
//! - *Rows form*, when B's rows are contiguous (`B[p, j..j+W]` is one vector load): tiles
//!   of up to 6 rows × 2 registers of C, like the packed micro-kernel
//!   ([`super::kernel_avx2`]), except that A is read through its strides (one broadcast
//!   per entry, so any layout of A costs the same) and B row by row. At the right edge,
//!   tiles one register wide, the last one masked to the columns left.
//! - *Dots form*, when B's columns and A's rows are contiguous (a transposed weight, as in
//!   the backward pass `dX = dY·Wᵀ`): `C[i, j] = A[i, :] · B[:, j]`, a 2 × 4 tile of such
//!   dot products at a time, each summed `LANES` products at a time in one register, the
//!   last `k mod LANES` through a masked load, then across the register ([`Vector::sum`]).
//!   The rows form reuses each load of B across 6 rows and each broadcast of A across 2
//!   registers; the dots form reuses nothing across its 2 × 4 tile but its loads, and ends
//!   every dot product with a horizontal sum. So unless C has very few rows, copying B into
//!   row-major order first (`k·n` moves, against `m·k·n` multiply-adds; transposed in
//!   registers by [`super::transpose_avx2`]) and taking the rows form is faster: about
//!   twice for a weight shared by a batch of tasks (`[25·10, 40]·[40, 40]ᵀ`), and still
//!   ≈ 1.4× for one task's `[10, 40]·[40, 40]ᵀ`. Below 6 rows the copy costs more than it
//!   saves (measured at 1–10 rows).
//!
//! Other layouts (B with no unit stride, e.g. a broadcast) fall back to the portable loops
//! of [`super::small`].

#![deny(unsafe_op_in_unsafe_fn)]

use super::gemm::{MatMut, MatRef};
use super::simd_avx2::{F32x8, F64x4, Vector};
use super::transpose_avx2::transpose;
use crate::element::{DType, Element};

/// Rows of a rows-form tile (as in the packed kernel: 12 accumulators).
const MR: usize = 6;

/// From this many rows of C and columns of B on, a B stored column by column is copied into
/// row-major order so that the rows form runs instead of the dots form. (`[13, m, 40]` by
/// per-task `[40, 40]ᵀ`, µs: m = 4: 4.8 with the copy, 4.1 without; m = 6: 5.6 and 6.3;
/// m = 10: 7.7 and 8.8.)
const TRANSPOSE_MIN_ROWS: usize = 6;
const TRANSPOSE_MIN_COLS: usize = 8;

/// A strided matrix as a pointer to its first entry and its strides.
#[derive(Clone, Copy)]
struct Strided<E> {
    ptr: *const E,
    row_stride: usize,
    col_stride: usize,
}

impl<E> Strided<E> {
    /// Entry `(i, j)`: a pointer, computed without dereferencing.
    #[inline(always)]
    fn at(self, i: usize, j: usize) -> *const E {
        self.ptr
            .wrapping_add(i * self.row_stride + j * self.col_stride)
    }
}

/// `c (+)= a·b` by the AVX2 direct kernels, if B's layout allows one; `false` (and `c`
/// untouched) if not. `m`, `n`, `k` must be at least 1 and the CPU must have AVX2 and FMA
/// (the caller checks both).
pub(crate) fn direct<T: Element>(
    a: MatRef<T>,
    b: MatRef<T>,
    c: &mut MatMut<T>,
    accumulate: bool,
) -> bool {
    let (m, k, n) = (a.rows, a.cols, b.cols);
    let dots = a.col_stride == 1 && b.row_stride == 1 && (b.col_stride != 1 || n == 1);
    if dots && m >= TRANSPOSE_MIN_ROWS && n >= TRANSPOSE_MIN_COLS {
        // Copy B into row-major order and take the rows form (see the module docs). B's
        // columns are contiguous: it is the transpose of an `n × k` row-major matrix whose
        // rows are `b.col_stride` apart.
        assert!(b.fits());
        let mut rows_of_b = crate::buffer::scratch::<T>(k * n);
        let (src, dst) = (b.data.as_ptr(), rows_of_b.as_mut_ptr());
        // SAFETY: B fits its slice (asserted), so entry `(p, j)` at `j·col_stride + p` is
        // readable for `p < k`, `j < n`; the scratch holds `k·n` entries and is not B; the
        // element type is the one matched; the caller checked the CPU.
        unsafe {
            match T::DTYPE {
                DType::F32 => transpose::<F32x8>(src.cast(), b.col_stride, n, k, dst.cast()),
                DType::F64 => transpose::<F64x4>(src.cast(), b.col_stride, n, k, dst.cast()),
            }
        }
        let b_rows = MatRef::new(&rows_of_b, k, n, n, 1);
        let done = direct(a, b_rows, c, accumulate);
        crate::buffer::give_back(rows_of_b);
        return done;
    }
    if !dots && b.col_stride != 1 {
        return false;
    }
    // Every entry the kernels read or write lies in the slices.
    assert!(a.fits() && b.fits() && c.fits() && (m == 1 || c.row_stride >= n));
    let a = Strided {
        ptr: a.data.as_ptr(),
        row_stride: a.row_stride,
        col_stride: a.col_stride,
    };
    let b = Strided {
        ptr: b.data.as_ptr(),
        row_stride: b.row_stride,
        col_stride: b.col_stride,
    };
    let (c_ptr, rs_c) = (c.data.as_mut_ptr(), c.row_stride);
    let run: FormFn<T> = match (T::DTYPE, dots) {
        (DType::F32, false) => rows_as::<T, F32x8>,
        (DType::F64, false) => rows_as::<T, F64x4>,
        (DType::F32, true) => dots_as::<T, F32x8>,
        (DType::F64, true) => dots_as::<T, F64x4>,
    };
    // SAFETY: all entries of A, B and C in the loops are in bounds (asserted above), the
    // rows of C do not overlap, `T` is the kernel's element type (matched on `T::DTYPE`),
    // and the caller checked the CPU.
    unsafe { run(m, n, k, a, b, c_ptr, rs_c, accumulate) };
    true
}

/// The whole product by one form, on raw operands.
type FormFn<T> = unsafe fn(usize, usize, usize, Strided<T>, Strided<T>, *mut T, usize, bool);

/// [`rows`] for `T = V::Elem`.
///
/// # Safety
/// As for [`rows`]; `T` must be `V::Elem`.
#[allow(clippy::too_many_arguments)]
unsafe fn rows_as<T, V: Vector>(
    m: usize,
    n: usize,
    k: usize,
    a: Strided<T>,
    b: Strided<T>,
    c: *mut T,
    rs_c: usize,
    accumulate: bool,
) {
    let (a, b) = (cast::<T, V::Elem>(a), cast::<T, V::Elem>(b));
    // SAFETY: the same pointers, retyped to the type they hold; the rest is the caller's.
    unsafe { rows::<V>(m, n, k, a, b, c.cast(), rs_c, accumulate) }
}

/// [`dots`] for `T = V::Elem`.
///
/// # Safety
/// As for [`dots`]; `T` must be `V::Elem`.
#[allow(clippy::too_many_arguments)]
unsafe fn dots_as<T, V: Vector>(
    m: usize,
    n: usize,
    k: usize,
    a: Strided<T>,
    b: Strided<T>,
    c: *mut T,
    rs_c: usize,
    accumulate: bool,
) {
    let (a, b) = (cast::<T, V::Elem>(a), cast::<T, V::Elem>(b));
    // SAFETY: the same pointers, retyped to the type they hold; the rest is the caller's.
    unsafe { dots::<V>(m, n, k, a, b, c.cast(), rs_c, accumulate) }
}

fn cast<T, E>(x: Strided<T>) -> Strided<E> {
    Strided {
        ptr: x.ptr.cast(),
        row_stride: x.row_stride,
        col_stride: x.col_stride,
    }
}

// ----- Rows form -----

/// `C (+)= A·B` with B's rows contiguous: bands of up to 6 rows, tiles of `2·LANES` columns.
///
/// # Safety
/// Entries `(i < m, p < k)` of `a`, `(p < k, j < n)` of `b` (with unit column stride) and
/// `c[i·rs_c + j]` must be valid; the CPU must have AVX2 and FMA.
#[target_feature(enable = "avx2,fma")]
#[allow(clippy::too_many_arguments)]
unsafe fn rows<V: Vector>(
    m: usize,
    n: usize,
    k: usize,
    a: Strided<V::Elem>,
    b: Strided<V::Elem>,
    c: *mut V::Elem,
    rs_c: usize,
    accumulate: bool,
) {
    for i in (0..m).step_by(MR) {
        let (a_i, c_i) = (a.at(i, 0), c.wrapping_add(i * rs_c));
        let a_i = Strided { ptr: a_i, ..a };
        // SAFETY: rows `i ..` of A and C are the caller's; a band touches `min(6, m − i)`.
        unsafe {
            match m - i {
                1 => rows_band::<V, 1>(k, n, a_i, b, c_i, rs_c, accumulate),
                2 => rows_band::<V, 2>(k, n, a_i, b, c_i, rs_c, accumulate),
                3 => rows_band::<V, 3>(k, n, a_i, b, c_i, rs_c, accumulate),
                4 => rows_band::<V, 4>(k, n, a_i, b, c_i, rs_c, accumulate),
                5 => rows_band::<V, 5>(k, n, a_i, b, c_i, rs_c, accumulate),
                _ => rows_band::<V, MR>(k, n, a_i, b, c_i, rs_c, accumulate),
            }
        }
    }
}

/// `R` rows of C, across all `n` columns: tiles two registers wide, then (at the right
/// edge) one register wide, then one masked register.
///
/// # Safety
/// As for [`rows`], for the `R` rows of the band.
#[inline]
#[target_feature(enable = "avx2,fma")]
#[allow(clippy::too_many_arguments)]
unsafe fn rows_band<V: Vector, const R: usize>(
    k: usize,
    n: usize,
    a: Strided<V::Elem>,
    b: Strided<V::Elem>,
    c: *mut V::Elem,
    rs_c: usize,
    accumulate: bool,
) {
    let lanes = V::LANES;
    let mut j = 0;
    while j < n {
        let b_j = Strided {
            ptr: b.at(0, j),
            ..b
        };
        let c_j = c.wrapping_add(j);
        let cols = n - j;
        // SAFETY: columns `j .. j + cols` of B and C are the caller's; each tile touches
        // at most `cols` of them.
        unsafe {
            if cols >= 2 * lanes {
                rows_tile::<V, R, 2>(k, a, b_j, c_j, rs_c, 2 * lanes, accumulate);
                j += 2 * lanes;
            } else if cols >= lanes {
                rows_tile::<V, R, 1>(k, a, b_j, c_j, rs_c, lanes, accumulate);
                j += lanes;
            } else {
                rows_tile::<V, R, 1>(k, a, b_j, c_j, rs_c, cols, accumulate);
                j = n;
            }
        }
    }
}

/// `C[..R, ..cols] (+)= A[..R, ..k] · B[..k, ..cols]` for `cols ≤ W·LANES`, the tile's
/// sums in `W·R` registers; loads and stores are masked when `cols < W·LANES` (then
/// `W = 1`).
///
/// # Safety
/// As for [`rows`], for this tile.
#[inline]
#[target_feature(enable = "avx2,fma")]
unsafe fn rows_tile<V: Vector, const R: usize, const W: usize>(
    k: usize,
    a: Strided<V::Elem>,
    b: Strided<V::Elem>,
    c: *mut V::Elem,
    rs_c: usize,
    cols: usize,
    accumulate: bool,
) {
    let lanes = V::LANES;
    let full = cols == W * lanes;
    // SAFETY (whole block): reads of A at `(i < R, p < k)`, of B at `(p < k, j < cols)`
    // (a masked load touches only its first `cols` lanes), writes of C at
    // `(i < R, j < cols)`; all the caller's.
    unsafe {
        let mut tile = [[V::zero(); W]; R];
        let mut b_row = [V::zero(); W];
        for p in 0..k {
            if full {
                for (w, b_pw) in b_row.iter_mut().enumerate() {
                    *b_pw = V::load(b.at(p, w * lanes));
                }
            } else {
                b_row[0] = V::load_first(b.at(p, 0), cols);
            }
            for (i, row) in tile.iter_mut().enumerate() {
                let a_ip = V::splat(a.at(i, p));
                for (sum, &b_pw) in row.iter_mut().zip(&b_row) {
                    *sum = a_ip.mul_add(b_pw, *sum);
                }
            }
        }
        for (i, row) in tile.iter().enumerate() {
            for (w, &sum) in row.iter().enumerate() {
                let dst = c.add(i * rs_c + w * lanes);
                if full {
                    let value = if accumulate {
                        V::load(dst).add(sum)
                    } else {
                        sum
                    };
                    value.store(dst);
                } else {
                    let value = if accumulate {
                        V::load_first(dst, cols).add(sum)
                    } else {
                        sum
                    };
                    value.store_first(dst, cols);
                }
            }
        }
    }
}

// ----- Dots form -----

/// `C (+)= A·B` with A's rows and B's columns contiguous: bands of 2 rows, tiles of 4
/// columns, narrower at the edges.
///
/// # Safety
/// Entries `(i < m, p < k)` of `a` (unit column stride), `(p < k, j < n)` of `b` (unit row
/// stride) and `c[i·rs_c + j]` must be valid; the CPU must have AVX2 and FMA.
#[target_feature(enable = "avx2,fma")]
#[allow(clippy::too_many_arguments)]
unsafe fn dots<V: Vector>(
    m: usize,
    n: usize,
    k: usize,
    a: Strided<V::Elem>,
    b: Strided<V::Elem>,
    c: *mut V::Elem,
    rs_c: usize,
    accumulate: bool,
) {
    for i in (0..m).step_by(2) {
        for j in (0..n).step_by(4) {
            let (a_i, b_j, c_ij) = (a.at(i, 0), b.at(0, j), c.wrapping_add(i * rs_c + j));
            let (rs_a, cs_b) = (a.row_stride, b.col_stride);
            // SAFETY: rows `i .. i + 2` (or 1) and columns `j .. j + 4` (or 1..3) are the
            // caller's.
            unsafe {
                match (m - i >= 2, n - j) {
                    (true, 4..) => {
                        dots_tile::<V, 2, 4>(k, a_i, rs_a, b_j, cs_b, c_ij, rs_c, accumulate)
                    }
                    (false, 4..) => {
                        dots_tile::<V, 1, 4>(k, a_i, rs_a, b_j, cs_b, c_ij, rs_c, accumulate)
                    }
                    (true, cols) => {
                        for col in 0..cols {
                            let (b_j, c_ij) =
                                (b_j.wrapping_add(col * cs_b), c_ij.wrapping_add(col));
                            dots_tile::<V, 2, 1>(k, a_i, rs_a, b_j, cs_b, c_ij, rs_c, accumulate);
                        }
                    }
                    (false, cols) => {
                        for col in 0..cols {
                            let (b_j, c_ij) =
                                (b_j.wrapping_add(col * cs_b), c_ij.wrapping_add(col));
                            dots_tile::<V, 1, 1>(k, a_i, rs_a, b_j, cs_b, c_ij, rs_c, accumulate);
                        }
                    }
                }
            }
        }
    }
}

/// `C[i, j] (+)= A[i, :] · B[:, j]` for `i < R`, `j < C`: `R·C` registers of partial sums.
///
/// # Safety
/// As for [`dots`], for this tile.
#[inline]
#[target_feature(enable = "avx2,fma")]
#[allow(clippy::too_many_arguments)]
unsafe fn dots_tile<V: Vector, const R: usize, const C: usize>(
    k: usize,
    a: *const V::Elem,
    rs_a: usize,
    b: *const V::Elem,
    cs_b: usize,
    c: *mut V::Elem,
    rs_c: usize,
    accumulate: bool,
) {
    let lanes = V::LANES;
    let whole = k - k % lanes;
    // SAFETY (whole block): reads of A at `(i < R, p < k)` and B at `(p < k, j < C)`
    // (the masked tail reads only the last `k − whole` entries), writes of C at
    // `(i < R, j < C)`; all the caller's.
    unsafe {
        let mut sums = [[V::zero(); C]; R];
        let mut a_chunks = [V::zero(); R];
        for p in (0..whole).step_by(lanes) {
            for (i, chunk) in a_chunks.iter_mut().enumerate() {
                *chunk = V::load(a.add(i * rs_a + p));
            }
            for j in 0..C {
                let b_chunk = V::load(b.add(j * cs_b + p));
                for (row_sums, a_chunk) in sums.iter_mut().zip(&a_chunks) {
                    row_sums[j] = a_chunk.mul_add(b_chunk, row_sums[j]);
                }
            }
        }
        if whole < k {
            let tail = k - whole;
            for (i, chunk) in a_chunks.iter_mut().enumerate() {
                *chunk = V::load_first(a.add(i * rs_a + whole), tail);
            }
            for j in 0..C {
                let b_chunk = V::load_first(b.add(j * cs_b + whole), tail);
                for (row_sums, a_chunk) in sums.iter_mut().zip(&a_chunks) {
                    row_sums[j] = a_chunk.mul_add(b_chunk, row_sums[j]);
                }
            }
        }
        for (i, row_sums) in sums.iter().enumerate() {
            if let Ok(four) = <[V; 4]>::try_from(&row_sums[..]) {
                V::sum4_into(four, c.add(i * rs_c), accumulate);
                continue;
            }
            for (j, lanes) in row_sums.iter().enumerate() {
                let (dst, dot) = (c.add(i * rs_c + j), lanes.sum());
                *dst = if accumulate { *dst + dot } else { dot };
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::check;
    use super::*;

    /// The dots form, the rows form, and the dots form routed through a copy of B
    /// (`m ≥ TRANSPOSE_MIN_ROWS`, `n ≥ TRANSPOSE_MIN_COLS`), with ragged edges in every
    /// dimension (`k`, `n` not multiples of the vector width or of the tile).
    fn direct_matches_naive<T: Element>() {
        let shapes = [
            // Dots form: too few rows, or too few columns, for the copy.
            (TRANSPOSE_MIN_ROWS - 1, 40, 40),
            (3, 13, 11),
            (37, 13, TRANSPOSE_MIN_COLS - 1),
            // Through the copy.
            (10, 40, 40),
            (TRANSPOSE_MIN_ROWS, 40, TRANSPOSE_MIN_COLS),
            (130, 40, 40),
            (37, 13, 11),
            (33, 1, 9),
        ];
        for shape in shapes {
            for b_transposed in [false, true] {
                check::<T>(shape, b_transposed, |a, b, mut c| {
                    assert!(direct(a, b, &mut c, false), "{shape:?}: no direct form");
                });
            }
        }
    }

    #[test]
    fn direct_forms_match_naive() {
        if !super::super::kernel::has_avx2_fma() {
            eprintln!("skipped: this CPU has no AVX2 + FMA");
            return;
        }
        direct_matches_naive::<f32>();
        direct_matches_naive::<f64>();
    }
}
