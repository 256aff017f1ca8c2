//! Max and average pooling over the last two axes of an NCHW tensor, and their adjoints.
//!
//! A `kh × kw` window slides over each `(n, c)` plane with `stride`, after `padding` rows and
//! columns are added on every side; output `(i, j)` sees input rows
//! `i·s_h − p_h .. i·s_h − p_h + kh` (and likewise columns), so
//! `Ho = ⌊(H + 2·p_h − kh) / s_h⌋ + 1` as for a convolution. Padding must be smaller than the
//! kernel and the planes non-empty, so every window holds at least one input element.
//!
//! - `max_pool2d`: the largest input element of each window (padding never wins; ties go to
//!   the first in row-major order; a NaN in the window gives NaN). `max_pool2d_with_indices`
//!   also returns where each maximum came from, as a flat row-major index into the input
//!   (as if it were contiguous), which is all its backward needs.
//! - `avg_pool2d`: the window sum divided by `kh·kw`, including padding in the count
//!   (PyTorch's `count_include_pad = true`): a window half in the padding averages its real
//!   elements with zeros. This makes it a fixed linear map.
//!
//! Each op's vector–Jacobian product is again an op of this file (cotangent `a` of the
//! result), so an autodiff engine can differentiate them to any order:
//!
//! | op | VJP |
//! |---|---|
//! | `x.max_pool2d_with_indices(..)` → `(y, idx)` | `x̄ = max_pool2d_backward(a, idx, x.shape)` |
//! | `max_pool2d_backward(g, idx, shape)` (scatter-add) | `ḡ = a.max_pool2d_gather(idx, g.shape)` |
//! | `x.max_pool2d_gather(idx, shape)` (gather) | `x̄ = max_pool2d_backward(a, idx, x.shape)` |
//! | `x.avg_pool2d(..)` | `x̄ = avg_pool2d_backward(a, x.shape, ..)` |
//! | `avg_pool2d_backward(g, shape, ..)` | `ḡ = a.avg_pool2d(..)` |
//!
//! Kernels work plane by plane; planes are independent outputs, so above a size threshold
//! they run on rayon threads without changing any result.
//!
//! Files: this one holds what both poolings share: the checked sizes and window geometry
//! (`Pool` and `span`: which input rows and columns output `(i, j)` sees, clipped to the
//! input), the plane-by-plane driver and the wording of error messages. `max.rs` holds max
//! pooling with its indices and the two index-driven ops its derivatives need (scatter-add
//! and gather); `avg.rs` holds average pooling and its adjoint.

mod avg;
mod max;

use std::ops::Range;

use rayon::prelude::*;

use crate::conv::{dims4, window_output_hw};
use crate::element::Element;
use crate::error::{fmt_shape, Result, TensorError};
use crate::unary::PARALLEL_MIN_ELEMENTS;

/// The sizes of one pooling, checked.
#[derive(Clone, Copy, Debug)]
struct Pool {
    batch: usize,
    channels: usize,
    in_hw: (usize, usize),
    out_hw: (usize, usize),
    kernel: (usize, usize),
    stride: (usize, usize),
    padding: (usize, usize),
}

impl Pool {
    /// Checks a pooling of an `input` shape; `operands` names the caller's arguments.
    fn new(
        op: &'static str,
        operands: &dyn Fn() -> String,
        input: &[usize],
        kernel: (usize, usize),
        stride: (usize, usize),
        padding: (usize, usize),
    ) -> Result<Pool> {
        let [batch, channels, h, w] = dims4(op, operands, "input", "[N, C, H, W]", input)?;
        if h == 0 || w == 0 {
            return Err(TensorError::shape(
                op,
                format!("{}: the input plane {h}×{w} is empty", operands()),
            ));
        }
        let out_hw = window_output_hw(op, operands, (h, w), kernel, stride, padding)?;
        if padding.0 >= kernel.0 || padding.1 >= kernel.1 {
            return Err(TensorError::shape(
                op,
                format!(
                    "{}: padding {padding:?} must be smaller than the kernel {kernel:?}, \
                     so that every window holds an input element",
                    operands()
                ),
            ));
        }
        Ok(Pool {
            batch,
            channels,
            in_hw: (h, w),
            out_hw,
            kernel,
            stride,
            padding,
        })
    }

    #[track_caller]
    fn planes(&self) -> usize {
        self.batch * self.channels
    }
    #[track_caller]
    fn in_plane(&self) -> usize {
        self.in_hw.0 * self.in_hw.1
    }
    #[track_caller]
    fn out_plane(&self) -> usize {
        self.out_hw.0 * self.out_hw.1
    }
    #[track_caller]
    fn in_shape(&self) -> [usize; 4] {
        [self.batch, self.channels, self.in_hw.0, self.in_hw.1]
    }
    #[track_caller]
    fn out_shape(&self) -> [usize; 4] {
        [self.batch, self.channels, self.out_hw.0, self.out_hw.1]
    }

    /// The input rows of output row `i`'s window, without the padding (never empty).
    #[track_caller]
    fn rows(&self, i: usize) -> Range<usize> {
        span(
            i,
            self.stride.0,
            self.padding.0,
            self.kernel.0,
            self.in_hw.0,
        )
    }
    #[track_caller]
    fn cols(&self, j: usize) -> Range<usize> {
        span(
            j,
            self.stride.1,
            self.padding.1,
            self.kernel.1,
            self.in_hw.1,
        )
    }

    #[track_caller]
    fn parallel(&self) -> bool {
        crate::parallel::split(
            self.planes() > 1 && self.planes() * self.in_plane() >= PARALLEL_MIN_ELEMENTS,
        )
    }
}

/// Input positions `o·stride − pad .. o·stride − pad + kernel`, clipped to `0..size`.
fn span(o: usize, stride: usize, pad: usize, kernel: usize, size: usize) -> Range<usize> {
    let start = o * stride; // in padded coordinates; kernel > pad keeps the end ≥ 0
    start.saturating_sub(pad)..(start + kernel - pad).min(size)
}

/// Runs `body(plane index, plane of out)` over the planes of `out`, in parallel if `parallel`.
fn for_each_plane<T: Element>(
    out: &mut [T],
    plane_len: usize,
    parallel: bool,
    body: impl Fn(usize, &mut [T]) + Sync,
) {
    if plane_len == 0 {
        return;
    }
    if parallel {
        out.par_chunks_mut(plane_len)
            .enumerate()
            .for_each(|(p, plane)| body(p, plane));
    } else {
        out.chunks_mut(plane_len)
            .enumerate()
            .for_each(|(p, plane)| body(p, plane));
    }
}

/// How messages name a pooling's operands: `input [1, 1, 4, 4] with kernel (2, 2), …`.
fn describe(
    what: &str,
    shape: &[usize],
    kernel: (usize, usize),
    stride: (usize, usize),
    padding: (usize, usize),
) -> String {
    format!(
        "{what} {} with kernel {kernel:?}, stride {stride:?}, padding {padding:?}",
        fmt_shape(shape)
    )
}
