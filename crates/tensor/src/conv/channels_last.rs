//! The three convolutions lowered channels-last: a patch is a few runs of `C` channels.
//!
//! [`super::im2col`] builds each of its `C·kh·kw` rows from one input plane, an element at
//! a time: on MAML's Omniglot net (64-channel maps of 14×14, 7×7 and 4×4, stride 2) no run
//! of those rows is longer than a 7-wide output row, and the copy cost about a third of the
//! GEMM's own time. With the images stored channels-last (NHWC), the window of output
//! position `(i, j)` at kernel offset `(u, v)` is the channel vector of one input pixel, and
//! the `kw` pixels of a window row lie side by side: a patch is `kh` runs of `kw·C` values.
//! So here, per chunk of `nb` images, with `L = Ho·Wo` and `K = kh·kw·C` ordered `(u, v, c)`:
//!
//! ```text
//! xt[b, h, w, c]             = x[b, c, h, w]                         a transpose per image
//! rows[(b, i, j), (u, v, c)] = xt[b, i·s_h + u − p_h, j·s_w + v − p_w, c]   (0 in the padding)
//! W'[o, (u, v, c)]           = w[o, c, u, v]                         once per call
//!
//! conv2d:             Y[O, nb·L]     = W'[O, K] · rowsᵀ
//! conv2d_input_grad:  rows̄[nb·L, K] = Gᵀ · W'[O, K],   then x̄ = the adjoint of the copies
//! conv2d_weight_grad: W̄'[O, K]       = Σ_chunks G[O, nb·L] · rows[nb·L, K]
//! ```
//!
//! (`G` is the output gradient in the GEMM order of [`super::lowering`], `[O, nb·L]`.) The
//! GEMM reads `rowsᵀ` and `Gᵀ` through swapped strides, so neither is transposed in memory:
//! its packing copies `Gᵀ`'s contiguous columns as they are, and turns `rows` around with
//! register block transposes.
//!
//! The price is the transpose of the input to channels-last (`C·H·W` values per image,
//! against `kh·kw·C·Ho·Wo` in the patches) and, for the input gradient, one back. With few
//! channels the runs are too short to pay for that, so only inputs of at least
//! [`CHANNELS_LAST_MIN`] channels come here.
//!
//! Sums over `K` run in the order `(u, v, c)` here and `(c, u, v)` in the channels-first
//! lowering: the two round differently, but which one runs depends on the shapes only.

use std::ops::Range;

use super::im2col::{valid_outputs, Nchw};
use super::lowering::{
    for_each_chunk, from_channels_outer, grad_matrix, prefix, sum_partials, Chunks, Scratch,
};
use super::Geometry;
use crate::element::Element;
use crate::matmul::{gemm, transpose_into, MatMut, MatRef};
use crate::tensor::Tensor;

/// From this many input channels on, the convolutions take this path (a patch run is then
/// at least two AVX2 vectors of `f32`).
pub const CHANNELS_LAST_MIN: usize = 16;

/// Whether the convolutions of `g` are lowered channels-last.
pub(super) fn applies(g: &Geometry) -> bool {
    g.in_channels >= CHANNELS_LAST_MIN
}

/// Copies images `0..images` of `x` into `dst` as a contiguous `[images, H, W, C]` block.
fn to_channels_last<T: Element>(x: Nchw<T>, images: usize, g: &Geometry, dst: &mut [T]) {
    let (channels, plane, in_w) = (g.in_channels, g.in_plane(), g.in_hw.1);
    if channels * plane == 0 {
        return;
    }
    let planes_contiguous = x.strides[3] == 1 && x.strides[2] == in_w;
    for (b, image) in dst
        .chunks_exact_mut(channels * plane)
        .take(images)
        .enumerate()
    {
        if planes_contiguous {
            // The image is the matrix [C, H·W] with rows `strides[1]` apart: its transpose.
            let start = x.row_start(b, 0, 0);
            transpose_into(&x.data[start..], x.strides[1], channels, plane, image);
            continue;
        }
        for (pixel, run) in image.chunks_exact_mut(channels).enumerate() {
            let start = x.row_start(b, 0, pixel / in_w) + (pixel % in_w) * x.strides[3];
            for (c, slot) in run.iter_mut().enumerate() {
                *slot = x.data[start + c * x.strides[1]];
            }
        }
    }
}

/// The inverse of [`to_channels_last`] between contiguous blocks: `src` is
/// `[images, H, W, C]`, `dst` is `[images, C, H, W]`.
fn from_channels_last<T: Element>(src: &[T], g: &Geometry, dst: &mut [T]) {
    let (channels, plane) = (g.in_channels, g.in_plane());
    if channels * plane == 0 {
        return;
    }
    let images = src.chunks_exact(channels * plane);
    for (image, out) in images.zip(dst.chunks_exact_mut(channels * plane)) {
        transpose_into(image, channels, plane, channels, out);
    }
}

/// One window row (kernel row `u`) of one output position: the part of the patch row that
/// a run of the input fills (the rest of the `kw·C` values from `u·kw·C` on is padding),
/// and where that run starts in a channels-last image.
struct WindowRow {
    inside: Range<usize>,
    input: usize,
}

/// The window rows of the output positions of one image, position by position and `u` by
/// `u` within each: `Ho·Wo·kh` entries, the same for every image.
///
/// Output position `(i, j)`, kernel offset `(u, v)` reads input pixel
/// `(i·s_h + u − p_h, j·s_w + v − p_w)`; for fixed `(i, j, u)` the `v` that land inside the
/// image form a range, whose pixels are consecutive in a row: one run of channels-last data.
fn window_rows(g: &Geometry) -> Vec<WindowRow> {
    let ((kh, kw), (out_h, out_w), (in_h, in_w)) = (g.kernel_hw, g.out_hw, g.in_hw);
    let ((s_h, s_w), (p_h, p_w)) = (g.stride, g.padding);
    let channels = g.in_channels;
    let mut table = Vec::with_capacity(out_h * out_w * kh);
    for i in 0..out_h {
        for j in 0..out_w {
            // The kernel columns v with 0 ≤ j·s_w + v − p_w < W.
            let columns = valid_outputs(j * s_w, p_w, 1, in_w, kw);
            for u in 0..kh {
                let row_start = u * kw * channels;
                let rows = valid_outputs(u, p_h, s_h, in_h, out_h);
                if !rows.contains(&i) || columns.is_empty() {
                    let nothing = row_start..row_start;
                    table.push(WindowRow {
                        inside: nothing,
                        input: 0,
                    });
                    continue;
                }
                let (h, w) = (i * s_h + u - p_h, j * s_w + columns.start - p_w);
                table.push(WindowRow {
                    inside: row_start + columns.start * channels
                        ..row_start + columns.end * channels,
                    input: (h * in_w + w) * channels,
                });
            }
        }
    }
    table
}

/// Fills `rows` (`[images·Ho·Wo, K]`, row-major) with the patches of `xt`, `images`
/// channels-last images, whose window rows are `table` (from [`window_rows`]). Every element
/// of `rows` is written.
fn im2row<T: Element>(xt: &[T], images: usize, g: &Geometry, table: &[WindowRow], rows: &mut [T]) {
    let (k, image_len) = (g.patch_len(), g.in_channels * g.in_plane());
    let row_len = k / g.kernel_hw.0;
    let mut patches = rows.chunks_exact_mut(k);
    for b in 0..images {
        let image = xt.get(b * image_len..).unwrap_or(&[]);
        for windows in table.chunks_exact(g.kernel_hw.0) {
            let patch = patches.next().expect("one patch row per output position");
            for (u, window) in windows.iter().enumerate() {
                let inside = window.inside.clone();
                patch[u * row_len..inside.start].fill(T::ZERO);
                patch[inside.clone()].copy_from_slice(&image[window.input..][..inside.len()]);
                patch[inside.end..(u + 1) * row_len].fill(T::ZERO);
            }
        }
    }
}

/// The adjoint of [`im2row`]: adds every non-padding entry of `rows` into the channels-last
/// position it was copied from, in `dst` (`[images, H, W, C]`, zeroed by the caller).
fn row2im<T: Element>(rows: &[T], images: usize, g: &Geometry, table: &[WindowRow], dst: &mut [T]) {
    let (k, image_len) = (g.patch_len(), g.in_channels * g.in_plane());
    let mut patches = rows.chunks_exact(k);
    for b in 0..images {
        let image = dst.get_mut(b * image_len..).unwrap_or(&mut []);
        for windows in table.chunks_exact(g.kernel_hw.0) {
            let patch = patches.next().expect("one patch row per output position");
            for window in windows {
                let values = &patch[window.inside.clone()];
                let target = &mut image[window.input..][..values.len()];
                for (t, &v) in target.iter_mut().zip(values) {
                    *t += v;
                }
            }
        }
    }
}

/// The weight `[O, C, kh, kw]` with each output channel's `[C, kh·kw]` block transposed to
/// `[kh·kw, C]`: the matrix `W'[O, K]` with `K` ordered `(u, v, c)`.
fn weight_by_taps<T: Element>(w: &Tensor, g: &Geometry) -> Vec<T> {
    let w = w.to_contiguous_cow::<T>();
    let mut out = crate::buffer::scratch::<T>(w.len());
    let taps = g.kernel_hw.0 * g.kernel_hw.1;
    transpose_each(&w, (g.in_channels, taps), &mut out);
    out
}

/// Transposes `src`, a stack of `[rows, cols]` matrices (one per output channel), into
/// `dst` as the stack of their `[cols, rows]` transposes.
fn transpose_each<T: Element>(src: &[T], (rows, cols): (usize, usize), dst: &mut [T]) {
    let len = rows * cols;
    for (src, dst) in src.chunks_exact(len).zip(dst.chunks_exact_mut(len)) {
        transpose_into(src, cols, rows, cols, dst);
    }
}

/// `conv2d`: `[N, C, H, W]` ⋆ `[O, C, kh, kw]` → `[N, O, Ho, Wo]`. The caller has returned
/// early for an empty output or patch.
pub(super) fn forward<T: Element>(x: &Tensor, w: &Tensor, g: &Geometry) -> Tensor {
    let (out_ch, k, plane) = (g.out_channels, g.patch_len(), g.out_plane());
    let image_len = g.in_channels * g.in_plane();
    let mut out = crate::buffer::scratch::<T>(g.batch * out_ch * plane);
    let weight = weight_by_taps::<T>(w, g);
    let weight = MatRef::new(&weight, out_ch, k, k, 1);
    let x = Nchw::<T>::of(x);
    let (plan, windows) = (Chunks::new(g), window_rows(g));
    for_each_chunk(
        &mut out,
        plan.images * out_ch * plane,
        plan,
        |scratch, (index, dst)| {
            let images = dst.len() / (out_ch * plane);
            let width = images * plane;
            let xt = prefix(&mut scratch.channels_last, images * image_len);
            to_channels_last(x.skip_images(index * plan.images), images, g, xt);
            let rows = prefix(&mut scratch.cols, width * k);
            im2row(xt, images, g, &windows, rows);
            let rows_t = MatRef::new(rows, width, k, k, 1).t();
            if images == 1 {
                gemm(
                    weight,
                    rows_t,
                    MatMut::new(dst, out_ch, width, width),
                    false,
                );
            } else {
                let y = prefix(&mut scratch.reordered, out_ch * width);
                gemm(weight, rows_t, MatMut::new(y, out_ch, width, width), false);
                from_channels_outer(y, images, g, dst);
            }
        },
    );
    Tensor::from_parts(out, &[g.batch, out_ch, g.out_hw.0, g.out_hw.1])
}

/// `conv2d_input_grad`: `[N, O, Ho, Wo]` and `[O, C, kh, kw]` → `[N, C, H, W]`. The caller
/// has returned early for an empty result or no output channels.
pub(super) fn input_grad<T: Element>(gy: &Tensor, w: &Tensor, g: &Geometry) -> Tensor {
    let (out_ch, k, plane) = (g.out_channels, g.patch_len(), g.out_plane());
    let image_len = g.in_channels * g.in_plane();
    // Each chunk overwrites its images (the transpose back from channels-last).
    let mut out = crate::buffer::scratch::<T>(g.batch * image_len);
    let weight = weight_by_taps::<T>(w, g);
    let weight = MatRef::new(&weight, out_ch, k, k, 1);
    let contiguous_grad = gy.contiguous_slice::<T>();
    let grad = Nchw::<T>::of(gy);
    let (plan, windows) = (Chunks::new(g), window_rows(g));
    for_each_chunk(
        &mut out,
        plan.images * image_len,
        plan,
        |scratch, (index, dst)| {
            let images = dst.len() / image_len;
            let (first, width) = (index * plan.images, images * plane);
            let grad_matrix = grad_matrix(
                contiguous_grad,
                grad,
                (first, images),
                g,
                &mut scratch.reordered,
            );
            let grad_t = MatRef::new(grad_matrix, out_ch, width, width, 1).t();
            let rows = prefix(&mut scratch.cols, width * k);
            gemm(grad_t, weight, MatMut::new(rows, width, k, k), false);
            let xt = prefix(&mut scratch.channels_last, images * image_len);
            xt.fill(T::ZERO);
            row2im(rows, images, g, &windows, xt);
            from_channels_last(xt, g, dst);
        },
    );
    Tensor::from_parts(out, &[g.batch, g.in_channels, g.in_hw.0, g.in_hw.1])
}

/// `conv2d_weight_grad`: `[N, O, Ho, Wo]` and `[N, C, H, W]` → `[O, C, kh, kw]`. The caller
/// has returned early for an empty result or batch.
pub(super) fn weight_grad<T: Element>(gy: &Tensor, x: &Tensor, g: &Geometry) -> Tensor {
    let (out_ch, k, plane) = (g.out_channels, g.patch_len(), g.out_plane());
    let image_len = g.in_channels * g.in_plane();
    let contiguous_grad = gy.contiguous_slice::<T>();
    let (grad, x) = (Nchw::<T>::of(gy), Nchw::<T>::of(x));
    let (plan, windows) = (Chunks::new(g), window_rows(g));
    // The partial W̄' of chunk `index`: G[O, nb·L] · rows[nb·L, K], into `dst`.
    let partial = |scratch: &mut Scratch<T>, index: usize, dst: &mut [T]| {
        let first = index * plan.images;
        let images = plan.images.min(g.batch - first);
        let width = images * plane;
        let xt = prefix(&mut scratch.channels_last, images * image_len);
        to_channels_last(x.skip_images(first), images, g, xt);
        let rows = prefix(&mut scratch.cols, width * k);
        im2row(xt, images, g, &windows, rows);
        let grad_matrix = grad_matrix(
            contiguous_grad,
            grad,
            (first, images),
            g,
            &mut scratch.reordered,
        );
        let lhs = MatRef::new(grad_matrix, out_ch, width, width, 1);
        let rhs = MatRef::new(rows, width, k, k, 1);
        gemm(lhs, rhs, MatMut::new(dst, out_ch, k, k), false);
    };
    let by_taps = sum_partials(plan, out_ch * k, partial);
    // Back from W̄'[o, (u, v, c)] to [o, (c, u, v)]: the inverse of `weight_by_taps`.
    let mut total = crate::buffer::scratch::<T>(out_ch * k);
    let taps = g.kernel_hw.0 * g.kernel_hw.1;
    transpose_each(&by_taps, (taps, g.in_channels), &mut total);
    crate::buffer::give_back(by_taps);
    Tensor::from_parts(
        total,
        &[out_ch, g.in_channels, g.kernel_hw.0, g.kernel_hw.1],
    )
}
