//! GEMM: `C = A·B` (or `C += A·B`) on one pair of strided matrices — the interface, and
//! the choice between the two ways of computing it.
//!
//! - Small products (few multiply-adds), and thin ones (a few rows or columns), take the
//!   direct path (`small.rs`): register-blocked loops straight over the operands,
//!   nothing to allocate or pack.
//! - Everything else takes the blocked path (`driver.rs`), BLIS style: blocks of A
//!   and B are packed (`pack.rs`) into the order a register-blocked micro-kernel
//!   reads them (`kernel.rs`, with AVX2+FMA versions in `kernel_avx2.rs`).
//!   Above [`PARALLEL_MIN_MUL_ADDS`] it splits the rows of C among rayon threads.
//!
//! Both paths sum over `k` in increasing order for every entry, and neither splits that sum
//! among threads, so results do not depend on the number of threads.

use super::driver::blocked;
use super::kernel::MicroKernel;
use super::small::direct;
use crate::element::Element;

/// Up to this many multiply-adds (`m·n·k`), products take the direct path.
///
/// Measured on a 2-core Zen 3, timing both paths on f32 squares: the direct kernels run
/// near the single-core peak (≈ 95 GFLOP/s) from n ≈ 32 to n ≈ 192, while the blocked
/// path pays ≈ 0.5 µs to set up, and on two threads another 10–30 µs to start and join its
/// tasks, so it only pulls ahead past n ≈ 128 (2²¹ multiply-adds), where those costs are
/// a small part of the work.
pub const DIRECT_MAX_MUL_ADDS: usize = 128 * 128 * 128;

/// From this many multiply-adds on, the blocked path splits C among rayon threads.
pub const PARALLEL_MIN_MUL_ADDS: usize = DIRECT_MAX_MUL_ADDS;

/// A read-only strided matrix: element `(i, j)` is `data[i·row_stride + j·col_stride]`.
#[derive(Clone, Copy, Debug)]
pub struct MatRef<'a, T> {
    pub data: &'a [T],
    pub rows: usize,
    pub cols: usize,
    pub row_stride: usize,
    pub col_stride: usize,
}

impl<'a, T: Element> MatRef<'a, T> {
    #[track_caller]
    pub fn new(
        data: &'a [T],
        rows: usize,
        cols: usize,
        row_stride: usize,
        col_stride: usize,
    ) -> Self {
        MatRef {
            data,
            rows,
            cols,
            row_stride,
            col_stride,
        }
    }

    #[inline(always)]
    pub fn at(&self, i: usize, j: usize) -> T {
        self.data[i * self.row_stride + j * self.col_stride]
    }

    /// The `rows × cols` block whose top-left entry is `(row, col)`, as a view.
    ///
    /// # Panics
    /// If the block does not fit in `self`.
    #[track_caller]
    pub fn submatrix(self, row: usize, col: usize, rows: usize, cols: usize) -> Self {
        assert!(
            row + rows <= self.rows && col + cols <= self.cols,
            "submatrix: [{rows}, {cols}] at ({row}, {col}) of [{}, {}]",
            self.rows,
            self.cols
        );
        let start = if rows == 0 || cols == 0 {
            0
        } else {
            row * self.row_stride + col * self.col_stride
        };
        MatRef::new(
            &self.data[start..],
            rows,
            cols,
            self.row_stride,
            self.col_stride,
        )
    }

    /// Whether every entry's index `i·row_stride + j·col_stride` lies inside `data` (and is
    /// computed without overflow).
    #[track_caller]
    pub fn fits(&self) -> bool {
        span(self.rows, self.cols, self.row_stride, self.col_stride)
            .is_some_and(|len| len <= self.data.len())
    }

    /// The transpose, as a view (strides swapped).
    #[track_caller]
    pub fn t(self) -> Self {
        MatRef::new(
            self.data,
            self.cols,
            self.rows,
            self.col_stride,
            self.row_stride,
        )
    }
}

/// A writable matrix with unit column stride: element `(i, j)` is `data[i·row_stride + j]`.
#[derive(Debug)]
pub struct MatMut<'a, T> {
    pub data: &'a mut [T],
    pub rows: usize,
    pub cols: usize,
    pub row_stride: usize,
}

impl<'a, T: Element> MatMut<'a, T> {
    #[track_caller]
    pub fn new(data: &'a mut [T], rows: usize, cols: usize, row_stride: usize) -> Self {
        MatMut {
            data,
            rows,
            cols,
            row_stride,
        }
    }

    /// Whether every entry's index `i·row_stride + j` lies inside `data` (and is computed
    /// without overflow).
    #[track_caller]
    pub fn fits(&self) -> bool {
        span(self.rows, self.cols, self.row_stride, 1).is_some_and(|len| len <= self.data.len())
    }
}

/// The length of storage a `rows × cols` matrix with these strides spans (one past its
/// last entry), or `None` if that overflows.
fn span(rows: usize, cols: usize, row_stride: usize, col_stride: usize) -> Option<usize> {
    if rows == 0 || cols == 0 {
        return Some(0);
    }
    let last_row = (rows - 1).checked_mul(row_stride)?;
    let last_col = (cols - 1).checked_mul(col_stride)?;
    last_row.checked_add(last_col)?.checked_add(1)
}

/// `c = a·b`, or `c += a·b` when `accumulate`.
///
/// ```
/// use tensor::matmul::{gemm, MatMut, MatRef};
/// let a = [1.0f32, 2.0, 3.0, 4.0, 5.0, 6.0]; // 2 × 3
/// let mut c = [0.0f32; 4];
/// // a·aᵀ: the transpose is the same data read with swapped strides.
/// gemm(MatRef::new(&a, 2, 3, 3, 1), MatRef::new(&a, 2, 3, 3, 1).t(), MatMut::new(&mut c, 2, 2, 2), false);
/// assert_eq!(c, [14.0, 32.0, 32.0, 77.0]);
/// ```
///
/// # Panics
/// If the dimensions do not agree (`a.cols == b.rows`, `c` is `a.rows × b.cols`), if the
/// rows of `c` overlap (`c.row_stride < c.cols` with more than one row), or if an
/// operand's data is too short for its shape and strides.
#[track_caller]
pub fn gemm<T: Element>(a: MatRef<T>, b: MatRef<T>, c: MatMut<T>, accumulate: bool) {
    assert!(
        a.cols == b.rows && c.rows == a.rows && c.cols == b.cols,
        "gemm: [{}, {}] × [{}, {}] into [{}, {}]",
        a.rows,
        a.cols,
        b.rows,
        b.cols,
        c.rows,
        c.cols
    );
    assert!(
        c.rows <= 1 || c.row_stride >= c.cols,
        "gemm: output rows overlap (row stride {} < {} columns)",
        c.row_stride,
        c.cols
    );
    // Every index computed from here on is then below a slice length: no overflow.
    assert!(
        a.fits() && b.fits() && c.fits(),
        "gemm: an operand's data is too short for its shape and strides"
    );
    let (m, k, n) = (a.rows, a.cols, b.cols);
    if m == 0 || n == 0 {
        return;
    }
    if k == 0 {
        // An empty sum: C = 0, or C unchanged.
        if !accumulate {
            for i in 0..m {
                c.data[i * c.row_stride..i * c.row_stride + n].fill(T::ZERO);
            }
        }
        return;
    }
    if use_direct(m, k, n) {
        direct(a, b, c, accumulate);
    } else {
        let kernel = MicroKernel::select();
        if crate::parallel::split(
            m * n * k >= PARALLEL_MIN_MUL_ADDS && rayon::current_num_threads() > 1,
        ) {
            // The driver's parallel loops are cheap to start from a pool thread and costly
            // from outside (each would wake the pool and put this thread to sleep), so the
            // whole driver moves onto a pool thread first (`scope` runs it there).
            rayon::scope(|_| blocked(a, b, c, accumulate, &kernel, true));
        } else {
            blocked(a, b, c, accumulate, &kernel, false);
        }
    }
}

/// Whether an `m × k` by `k × n` product takes the direct path: when it is small, or
/// thinner than a micro-tile (fewer than 6 rows, or at most 8 columns). The blocked path
/// would pad such a product out to whole 6 × 16 tiles, doing up to 16 times the work (a
/// matrix-vector product), and could not split it among threads by rows anyway.
fn use_direct(m: usize, k: usize, n: usize) -> bool {
    m * n * k <= DIRECT_MAX_MUL_ADDS || m < 6 || n <= 8
}
