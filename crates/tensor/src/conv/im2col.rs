//! im2col and col2im: a convolution turned into a matrix product.
//!
//! For a chunk of `nb` images, im2col copies every input value each output position reads
//! into one matrix with `K = C·kh·kw` rows and `nb·Ho·Wo` columns (row-major):
//!
//! ```text
//! cols[(c, u, v), (b, i, j)] = x[b, c, i·s_h + u − p_h, j·s_w + v − p_w]     (0 in the padding)
//! ```
//!
//! so that, with the weight seen as the matrix `W[o, (c, u, v)]` (a reshape: no copy),
//! `y[b, o, i, j] = Σ_k W[o, k] · cols[k, (b, i, j)]`, one GEMM `W · cols`.
//!
//! col2im is the adjoint of im2col: every entry of `cols` is added back to the input position
//! it would have been copied from. Windows overlap when the kernel is larger than the stride,
//! so a position receives several contributions: the sum is the transposed convolution.
//!
//! Both walk a row of `cols` (one `(c, u, v)`) image by image, in one of two ways:
//!
//! - *Segments* (stride 1 along the width, output rows of at least `SEGMENT_MIN_WIDTH`):
//!   output row by output row; the input columns of an output row are consecutive, so the
//!   innermost loop is a `memcpy`. The output positions whose input falls in the padding
//!   form a range at each end of the row (`valid_outputs`): they are filled with zeros up
//!   front instead of testing every element.
//! - *Taps* (otherwise: strided, or small maps such as MAML's 7×7, 4×4 and 2×2): a table
//!   (`Taps`) gives, for each kernel offset `(u, v)` and output position `l`, the storage
//!   offset within an input plane that `l` reads, or a marker for the padding. A row of one
//!   image is then a single loop of `Ho·Wo` table lookups, with no per-output-row set-up,
//!   which for 2-wide output rows was most of the work.

use std::ops::Range;

use crate::conv::Geometry;
use crate::element::Element;
use crate::tensor::Tensor;

/// Read access to a strided NCHW tensor: element `[n, c, h, w]` is
/// `data[offset + n·strides[0] + c·strides[1] + h·strides[2] + w·strides[3]]`.
///
/// Kernels read their inputs through this, so permuted, narrowed or broadcast views need no
/// copy first.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Nchw<'a, T> {
    pub data: &'a [T],
    pub offset: usize,
    pub strides: [usize; 4],
}

impl<'a, T: Element> Nchw<'a, T> {
    /// The view of a 4-d tensor (the caller has checked that it is 4-d).
    #[track_caller]
    pub fn of(t: &'a Tensor) -> Self {
        Nchw {
            data: t.storage_slice::<T>(),
            offset: t.layout().offset,
            strides: t.strides().try_into().expect("a 4-d tensor"),
        }
    }

    /// The same view with its first `n` images skipped (image `n` becomes image 0).
    #[track_caller]
    pub fn skip_images(self, n: usize) -> Self {
        Nchw {
            offset: self.offset + n * self.strides[0],
            ..self
        }
    }

    /// The storage offset of `[n, c, h, 0]`.
    #[inline]
    #[track_caller]
    pub fn row_start(&self, n: usize, c: usize, h: usize) -> usize {
        self.offset + n * self.strides[0] + c * self.strides[1] + h * self.strides[2]
    }
}

/// The output positions `o` in `0..out` whose input position `o·stride + k − pad` lies in
/// `0..size`, for kernel offset `k`. A range, since the input position grows with `o`.
pub(crate) fn valid_outputs(
    k: usize,
    pad: usize,
    stride: usize,
    size: usize,
    out: usize,
) -> Range<usize> {
    // o·stride + k − pad ≥ 0        ⇔  o ≥ ⌈(pad − k) / stride⌉
    let lo = if k >= pad {
        0
    } else {
        (pad - k).div_ceil(stride)
    };
    // o·stride + k − pad ≤ size − 1  ⇔  o ≤ ⌊(size − 1 + pad − k) / stride⌋
    let hi = if size + pad > k {
        ((size - 1 + pad - k) / stride + 1).min(out)
    } else {
        0
    };
    lo.min(hi)..hi
}

/// Output rows at least this wide, read with unit stride, are copied as segments; others
/// go through a [`Taps`] table.
pub(crate) const SEGMENT_MIN_WIDTH: usize = 16;

/// Whether [`im2col`] and [`col2im`] copy whole output-row segments (else: [`Taps`]).
fn by_segments(g: &Geometry, col_stride: usize) -> bool {
    g.stride.1 * col_stride == 1 && g.out_hw.1 >= SEGMENT_MIN_WIDTH
}

/// The input offsets each output position reads, per kernel offset: entry
/// `(u·kw + v)·Ho·Wo + i·Wo + j` is the storage offset, from the start of an input plane
/// with strides `(row_stride, col_stride)`, of input position
/// `(i·s_h + u − p_h, j·s_w + v − p_w)`, or [`Taps::PADDING`] when that lies outside the
/// input.
pub(crate) struct Taps {
    offsets: Vec<usize>,
    plane: usize,
}

impl Taps {
    /// Marks a position in the zero padding. Being `usize::MAX`, it is out of bounds of any
    /// slice, so `plane.get(offset)` reads it as "nothing there".
    pub const PADDING: usize = usize::MAX;

    #[track_caller]
    pub fn new(g: &Geometry, row_stride: usize, col_stride: usize) -> Taps {
        let ((kh, kw), (out_h, out_w)) = (g.kernel_hw, g.out_hw);
        let ((s_h, s_w), (p_h, p_w)) = (g.stride, g.padding);
        let plane = g.out_plane();
        let mut offsets = vec![Taps::PADDING; kh * kw * plane];
        for u in 0..kh {
            let rows_in = valid_outputs(u, p_h, s_h, g.in_hw.0, out_h);
            for v in 0..kw {
                let cols_in = valid_outputs(v, p_w, s_w, g.in_hw.1, out_w);
                let table = &mut offsets[(u * kw + v) * plane..][..plane];
                for i in rows_in.clone() {
                    let row = (i * s_h + u - p_h) * row_stride;
                    for j in cols_in.clone() {
                        table[i * out_w + j] = row + (j * s_w + v - p_w) * col_stride;
                    }
                }
            }
        }
        Taps { offsets, plane }
    }

    /// The offsets of kernel offset `tap = u·kw + v`, one per output position.
    #[inline]
    #[track_caller]
    pub fn of(&self, tap: usize) -> &[usize] {
        &self.offsets[tap * self.plane..][..self.plane]
    }
}

/// Fills `cols` (`[C·kh·kw, images·Ho·Wo]`, row-major) with the patches of `images` images
/// of `x`, starting at its image 0. Every element of `cols` is written.
pub(crate) fn im2col<T: Element>(x: Nchw<T>, images: usize, g: &Geometry, cols: &mut [T]) {
    let plane = g.out_plane();
    let width = images * plane;
    debug_assert_eq!(cols.len(), g.patch_len() * width);
    if width == 0 {
        return;
    }
    if by_segments(g, x.strides[3]) {
        im2col_segments(x, g, width, cols);
        return;
    }
    let taps = Taps::new(g, x.strides[2], x.strides[3]);
    let kernel_len = g.kernel_hw.0 * g.kernel_hw.1;
    for (row_index, row) in cols.chunks_exact_mut(width).enumerate() {
        let (c, offsets) = (row_index / kernel_len, taps.of(row_index % kernel_len));
        for (b, block) in row.chunks_exact_mut(plane).enumerate() {
            // An empty input plane (H or W is 0) reads as all padding.
            let input = x.data.get(x.row_start(b, c, 0)..).unwrap_or(&[]);
            for (slot, &offset) in block.iter_mut().zip(offsets) {
                *slot = input.get(offset).copied().unwrap_or(T::ZERO);
            }
        }
    }
}

/// [`im2col`] by output-row segments, for unit steps along the width.
fn im2col_segments<T: Element>(x: Nchw<T>, g: &Geometry, width: usize, cols: &mut [T]) {
    let ((kh, kw), (out_h, out_w)) = (g.kernel_hw, g.out_hw);
    let ((s_h, s_w), (p_h, p_w)) = (g.stride, g.padding);
    let plane = g.out_plane();
    for (row_index, row) in cols.chunks_exact_mut(width).enumerate() {
        let (c, u, v) = (row_index / (kh * kw), row_index / kw % kh, row_index % kw);
        let (rows_in, cols_in) = (
            valid_outputs(u, p_h, s_h, g.in_hw.0, out_h),
            valid_outputs(v, p_w, s_w, g.in_hw.1, out_w),
        );
        for (b, block) in row.chunks_exact_mut(plane).enumerate() {
            for (i, segment) in block.chunks_exact_mut(out_w).enumerate() {
                if !rows_in.contains(&i) || cols_in.is_empty() {
                    segment.fill(T::ZERO);
                    continue;
                }
                segment[..cols_in.start].fill(T::ZERO);
                segment[cols_in.end..].fill(T::ZERO);
                // Input row i·s_h + u − p_h, starting at column cols_in.start·s_w + v − p_w.
                let first_in = cols_in.start * s_w + v - p_w;
                let start = x.row_start(b, c, i * s_h + u - p_h) + first_in * x.strides[3];
                let inside = &mut segment[cols_in.clone()];
                inside.copy_from_slice(&x.data[start..start + inside.len()]);
            }
        }
    }
}

/// The adjoint of [`im2col`]: adds every entry of `cols` (`[C·kh·kw, images·Ho·Wo]`) into
/// the input position it came from, in `dst`, a contiguous `[images, C, H, W]` block (the
/// caller zeroes it first; padding entries are dropped).
///
/// Each input position receives its contributions in the order of the rows of `cols`
/// (kernel offsets in order), whichever of the two ways runs: within a row, distinct output
/// positions read distinct input positions.
pub(crate) fn col2im<T: Element>(cols: &[T], images: usize, g: &Geometry, dst: &mut [T]) {
    let plane = g.out_plane();
    let width = images * plane;
    debug_assert_eq!(cols.len(), g.patch_len() * width);
    debug_assert_eq!(dst.len(), images * g.in_channels * g.in_plane());
    if width == 0 {
        return;
    }
    if by_segments(g, 1) {
        col2im_segments(cols, g, width, dst);
        return;
    }
    // dst is contiguous: strides [C·H·W, H·W, W, 1].
    let taps = Taps::new(g, g.in_hw.1, 1);
    let (in_plane, kernel_len) = (g.in_plane(), g.kernel_hw.0 * g.kernel_hw.1);
    for (row_index, row) in cols.chunks_exact(width).enumerate() {
        let (c, offsets) = (row_index / kernel_len, taps.of(row_index % kernel_len));
        for (b, block) in row.chunks_exact(plane).enumerate() {
            let image = &mut dst[(b * g.in_channels + c) * in_plane..][..in_plane];
            for (&value, &offset) in block.iter().zip(offsets) {
                if let Some(slot) = image.get_mut(offset) {
                    *slot += value;
                }
            }
        }
    }
}

/// [`col2im`] by output-row segments, for unit stride along the width.
fn col2im_segments<T: Element>(cols: &[T], g: &Geometry, width: usize, dst: &mut [T]) {
    let ((kh, kw), (out_h, out_w)) = (g.kernel_hw, g.out_hw);
    let ((s_h, s_w), (p_h, p_w)) = (g.stride, g.padding);
    let (plane, in_w) = (g.out_plane(), g.in_hw.1);
    let (image_stride, channel_stride) = (g.in_channels * g.in_plane(), g.in_plane());
    for (row_index, row) in cols.chunks_exact(width).enumerate() {
        let (c, u, v) = (row_index / (kh * kw), row_index / kw % kh, row_index % kw);
        let (rows_in, cols_in) = (
            valid_outputs(u, p_h, s_h, g.in_hw.0, out_h),
            valid_outputs(v, p_w, s_w, in_w, out_w),
        );
        if cols_in.is_empty() {
            continue;
        }
        for (b, block) in row.chunks_exact(plane).enumerate() {
            for i in rows_in.clone() {
                let segment = &block[i * out_w..(i + 1) * out_w];
                let first_in = cols_in.start * s_w + v - p_w;
                let start =
                    b * image_stride + c * channel_stride + (i * s_h + u - p_h) * in_w + first_in;
                for (k, &value) in segment[cols_in.clone()].iter().enumerate() {
                    dst[start + k * s_w] += value;
                }
            }
        }
    }
}
