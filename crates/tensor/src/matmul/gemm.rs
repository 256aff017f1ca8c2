//! GEMM: `C = A·B` (or `C += A·B`) on one pair of strided matrices.
//!
//! This first version is the plain triple loop; it defines the interface the rest of the
//! crate uses. (To be replaced by the packed, blocked SIMD kernel.)

use crate::element::Element;

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

    /// The transpose, as a view (strides swapped).
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
    pub fn new(data: &'a mut [T], rows: usize, cols: usize, row_stride: usize) -> Self {
        MatMut {
            data,
            rows,
            cols,
            row_stride,
        }
    }
}

/// `c = a·b`, or `c += a·b` when `accumulate`.
///
/// # Panics
/// If the dimensions do not agree (`a.cols == b.rows`, `c` is `a.rows × b.cols`).
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
    for i in 0..a.rows {
        let row = &mut c.data[i * c.row_stride..i * c.row_stride + c.cols];
        if !accumulate {
            row.fill(T::ZERO);
        }
        for p in 0..a.cols {
            let aip = a.at(i, p);
            for (j, slot) in row.iter_mut().enumerate() {
                *slot += aip * b.at(p, j);
            }
        }
    }
}
