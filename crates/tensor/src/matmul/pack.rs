//! Packing: copying a block of A or B into the order the micro-kernel reads it.
//!
//! The micro-kernel ([`super::kernel`]) wants, for each step `p` of the inner dimension,
//! `MR` consecutive entries of a column of A and `NR` consecutive entries of a row of B.
//! Packing lays a block out exactly so, in *panels*:
//!
//! ```text
//! A block (mc × kc) → ⌈mc / MR⌉ panels; panel r, step p: A[r·MR + i, p]   for i < MR
//! B block (kc × nc) → ⌈nc / NR⌉ panels; panel s, step p: B[p, s·NR + j]   for j < NR
//! ```
//!
//! A B panel is an A panel of Bᵀ, so one routine, [`pack`], does both: it packs the rows of
//! a matrix `src` (`rows × depth`) in groups of `width`, each group stored column by
//! column. Entries past the last row are zero, so an edge panel runs through the same
//! kernel as the others and its padding contributes nothing.
//!
//! Packing reads the source through its strides once, so any layout — row-major,
//! transposed, a narrowed view, a broadcast — costs the same as a contiguous one; after it,
//! the kernel streams through memory in order. Its cost is `O(mc·kc + kc·nc)` copies per
//! block against `O(mc·kc·nc)` multiply-adds.

use std::any::Any;
use std::cell::RefCell;

use rayon::prelude::*;

use super::gemm::MatRef;
use crate::element::Element;

/// Cache line size in bytes: packed buffers start on a line, so each 64-byte row of a B̂
/// panel (16 f32 or 8 f64) is exactly one line.
const CACHE_LINE: usize = 64;

/// Scratch space for packed panels, starting on a cache-line boundary.
///
/// Buffers are recycled through a small per-thread pool: a fresh allocation of a few
/// hundred KiB is served by `mmap` and costs a page fault per 4 KiB on first touch, which
/// for mid-sized products (n ≈ 256) is as slow as the packing itself.
pub(crate) struct PackBuffer<T: Element> {
    storage: Vec<T>,
    start: usize,
    len: usize,
}

/// At most this many buffers wait in a thread's pool (the GEMM's two, and the convolution
/// lowering's two scratch matrices, for a few nested calls)...
const POOL_BUFFERS: usize = 12;
/// ...each at most this many bytes (larger ones are freed).
const POOL_MAX_BYTES: usize = 16 << 20;

thread_local! {
    /// Spare buffers of this thread, each a `Vec<f32>` or `Vec<f64>`.
    static POOL: RefCell<Vec<Box<dyn Any>>> = const { RefCell::new(Vec::new()) };
}

impl<T: Element> PackBuffer<T> {
    /// A buffer of `len` elements (of unspecified values: packing overwrites them all).
    pub fn new(len: usize) -> Self {
        let slack = CACHE_LINE / std::mem::size_of::<T>();
        let mut storage = POOL
            .with_borrow_mut(|pool| {
                let found = pool.iter().position(|spare| {
                    spare
                        .downcast_ref::<Vec<T>>()
                        .is_some_and(|v| v.len() >= len + slack)
                })?;
                pool.swap_remove(found).downcast::<Vec<T>>().ok()
            })
            .map_or_else(Vec::new, |spare| *spare);
        if storage.len() < len + slack {
            storage = vec![T::ZERO; len + slack];
        }
        let start = storage.as_ptr().align_offset(CACHE_LINE).min(slack);
        PackBuffer {
            storage,
            start,
            len,
        }
    }

    pub fn as_mut_slice(&mut self) -> &mut [T] {
        &mut self.storage[self.start..self.start + self.len]
    }
}

impl<T: Element> Drop for PackBuffer<T> {
    fn drop(&mut self) {
        let storage = std::mem::take(&mut self.storage);
        if storage.len() * std::mem::size_of::<T>() > POOL_MAX_BYTES {
            return;
        }
        // `try_with`: during thread teardown the pool may already be gone.
        let _ = POOL.try_with(|pool| {
            let mut pool = pool.borrow_mut();
            if pool.len() < POOL_BUFFERS {
                pool.push(Box::new(storage));
            }
        });
    }
}

/// Packs the rows of `src` (`rows × depth`) into panels of `width` rows each, in `dst`
/// (at least `⌈rows / width⌉ · width · depth` long); panels are packed in parallel when
/// `parallel`.
pub(crate) fn pack<T: Element>(src: MatRef<T>, width: usize, dst: &mut [T], parallel: bool) {
    let panel_len = width * src.cols;
    let panels = src.rows.div_ceil(width);
    let pack_one = |(index, panel): (usize, &mut [T])| {
        let row = index * width;
        let height = width.min(src.rows - row);
        pack_panel(src.submatrix(row, 0, height, src.cols), width, panel);
    };
    let dst = &mut dst[..panels * panel_len];
    if parallel {
        dst.par_chunks_mut(panel_len).enumerate().for_each(pack_one);
    } else {
        dst.chunks_mut(panel_len).enumerate().for_each(pack_one);
    }
}

/// One panel: `dst[p·width + i] = src[i, p]` for `i < src.rows ≤ width`, zero for the rows
/// past `src.rows`. Whole panels of the kernels' widths take a copy loop specialised to the
/// width, which the compiler unrolls into a few vector moves per step.
fn pack_panel<T: Element>(src: MatRef<T>, width: usize, dst: &mut [T]) {
    let dst = &mut dst[..width * src.cols];
    if src.rows == width {
        match width {
            16 => return pack_whole::<T, 16>(src, dst),
            8 => return pack_whole::<T, 8>(src, dst),
            6 => return pack_whole::<T, 6>(src, dst),
            4 => return pack_whole::<T, 4>(src, dst),
            _ => {}
        }
    }
    for (p, column) in dst.chunks_exact_mut(width).enumerate() {
        for (i, slot) in column.iter_mut().enumerate() {
            *slot = if i < src.rows { src.at(i, p) } else { T::ZERO };
        }
    }
}

/// [`pack_panel`] for a whole panel of `W` rows.
#[inline(always)]
fn pack_whole<T: Element, const W: usize>(src: MatRef<T>, dst: &mut [T]) {
    let depth = src.cols;
    let columns = dst.chunks_exact_mut(W).take(depth);
    if src.row_stride == 1 {
        // Each column of the panel is contiguous in the source: one `W`-element copy.
        for (p, column) in columns.enumerate() {
            let start = p * src.col_stride;
            let column: &mut [T; W] = column.try_into().expect("W entries");
            *column = src.data[start..start + W].try_into().expect("W entries");
        }
    } else if src.col_stride == 1 && W.is_multiple_of(8) {
        // Each row is contiguous and the panel is the transpose of the `W × depth` block:
        // register block transposes (8 × 8 for f32, 4 × 4 for f64). Element by element, this
        // is a gather of `W` streams; B's panels take it when B is stored by columns, as
        // the channels-last convolution stores its patches.
        super::transpose_into(src.data, src.row_stride, W, depth, dst);
    } else if src.col_stride == 1 {
        // Each row is contiguous: step through the `W` rows side by side.
        let rows: [&[T]; W] = std::array::from_fn(|i| {
            let start = i * src.row_stride;
            &src.data[start..start + depth]
        });
        for (p, column) in columns.enumerate() {
            for (slot, row) in column.iter_mut().zip(&rows) {
                *slot = row[p];
            }
        }
    } else {
        for (p, column) in columns.enumerate() {
            for (i, slot) in column.iter_mut().enumerate() {
                *slot = src.at(i, p);
            }
        }
    }
}
