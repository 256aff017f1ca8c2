//! The three convolutions as GEMMs over chunks of images.
//!
//! Inputs of at least [`CHANNELS_LAST_MIN`](super::channels_last::CHANNELS_LAST_MIN)
//! channels take the channels-last lowering ([`super::channels_last`]), which shares the
//! chunks, scratch buffers and partial sums defined here. The others:
//!
//! With `K = C·kh·kw` and `L = Ho·Wo`, and `cols` the im2col matrix ([`super::im2col`]):
//!
//! ```text
//! conv2d:              Y[O, L]    = W[O, K] · cols[K, L]
//! conv2d_input_grad:   cols̄[K, L] = Wᵀ[K, O] · G[O, L],   then x̄ = col2im(cols̄)
//! conv2d_weight_grad:  W̄ᵀ[K, O]   = Σ_n cols_n[K, L] · G_nᵀ[L, O]
//! ```
//!
//! (The weight gradient is computed transposed so that both GEMM operands are row-major:
//! `Gᵀ` costs nothing extra, since `G` is copied into GEMM order anyway, while `colsᵀ` as a
//! strided view would step through memory `nb·L` apart — a power of two for some shapes,
//! which a simple GEMM pays for in cache conflicts.)
//!
//! # Layout: images side by side in the columns
//!
//! Per image these are GEMMs with `L` columns. MAML's Omniglot net has tiny maps (28×28 →
//! 14 → 7 → 4 → 2), so at the last layers `L` is 16 or 4: a `[64, 576] × [576, 4]` product
//! per image is all overhead (the GEMM packs the whole weight to do 4 columns of work). So
//! a chunk of `nb` images goes into one GEMM: `cols` is `[K, nb·L]` with columns ordered
//! (image, row, column), and `G` likewise `[O, nb·L]` (transposed for the weight gradient,
//! see above). The price is a copy between this "channels outer" order `[O, (b, l)]` and
//! NCHW's `[b, O, l]` — `O·nb·L` moves against `O·K·nb·L` multiply-adds. When `L` alone is
//! wide enough, `nb = 1` and the copy is skipped: the GEMM writes straight into the output
//! (and reads a contiguous `grad_out` in place).
//!
//! A chunk has the fewest images whose columns reach `GEMM_MIN_COLS` (256), evened out over
//! the chunks; this bounds the scratch (`K × nb·L` per thread) while keeping each GEMM wide.
//!
//! # Threads and determinism
//!
//! Chunks depend on the shapes only, never on the number of threads. In the forward and the
//! input gradient each chunk writes its own images of the output, so chunks run on rayon
//! threads freely. The weight gradient sums over all images: each chunk's `[K, O]` partial is
//! computed on its own, and the partials are added in chunk order, the same arithmetic
//! whether the chunks ran on one thread or many.

use rayon::prelude::*;

use super::channels_last;
use super::im2col::{col2im, im2col, Nchw};
use super::Geometry;
use crate::element::Element;
use crate::matmul::{gemm, MatMut, MatRef, PackBuffer};
use crate::tensor::Tensor;

/// A chunk of images has at least this many GEMM columns (`nb·Ho·Wo`), unless the whole
/// batch has fewer.
const GEMM_MIN_COLS: usize = 256;

/// Below this many multiply-adds in a whole convolution, chunks run on the calling thread.
const PARALLEL_MIN_FLOPS: usize = 1 << 18;

/// How the batch is cut into chunks of consecutive images.
#[derive(Clone, Copy, Debug)]
pub(super) struct Chunks {
    /// Images per chunk (the last chunk may have fewer).
    pub images: usize,
    pub count: usize,
    /// Whether to spread the chunks over rayon threads.
    pub parallel: bool,
}

impl Chunks {
    #[track_caller]
    pub fn new(g: &Geometry) -> Chunks {
        let batch = g.batch.max(1);
        let fewest = GEMM_MIN_COLS.div_ceil(g.out_plane().max(1)).min(batch);
        // Even out: as many chunks as `fewest` needs, with the images shared evenly.
        let images = batch.div_ceil(batch.div_ceil(fewest));
        let flops = g.batch * g.out_plane() * g.out_channels * g.patch_len();
        let count = g.batch.div_ceil(images);
        Chunks {
            images,
            count,
            parallel: crate::parallel::split(count > 1 && flops >= PARALLEL_MIN_FLOPS),
        }
    }
}

/// Buffers a thread reuses from chunk to chunk.
///
/// They come from the GEMM's per-thread pool of packing buffers, which keeps their stale
/// contents: every user overwrites what it takes, so a buffer is neither zeroed nor, once
/// the pool is warm, freshly mapped (a new allocation of this size is an `mmap` whose pages
/// each fault in on first touch).
pub(super) struct Scratch<T: Element> {
    /// The patch matrix (`cols`, or the channels-last path's `rows`).
    pub cols: Option<PackBuffer<T>>,
    /// `G` or `Y` reordered between NCHW and GEMM order.
    pub reordered: Option<PackBuffer<T>>,
    /// Images of the chunk stored channels-last (only that path uses it).
    pub channels_last: Option<PackBuffer<T>>,
}

impl<T: Element> Scratch<T> {
    fn new() -> Self {
        Scratch {
            cols: None,
            reordered: None,
            channels_last: None,
        }
    }
}

/// `len` elements of `buffer` (of unspecified values), taken from the pool if it has none
/// or too few. Callers overwrite them.
pub(super) fn prefix<T: Element>(buffer: &mut Option<PackBuffer<T>>, len: usize) -> &mut [T] {
    if buffer.as_mut().is_none_or(|b| b.as_mut_slice().len() < len) {
        *buffer = None; // back to the pool first, so that it can be taken again
        *buffer = Some(PackBuffer::new(len));
    }
    let buffer = buffer.as_mut().expect("just filled");
    &mut buffer.as_mut_slice()[..len]
}

/// Copies images `0..images` of `y` (an `[N, O, Ho, Wo]` view) into `dst` as the
/// channels-outer matrix `[O, images·Ho·Wo]`.
pub(super) fn to_channels_outer<T: Element>(
    y: Nchw<T>,
    images: usize,
    g: &Geometry,
    dst: &mut [T],
) {
    let (plane, out_w) = (g.out_plane(), g.out_hw.1);
    let width = images * plane;
    let planes_contiguous = y.strides[3] == 1 && y.strides[2] == out_w;
    for (o, row) in dst.chunks_exact_mut(width).enumerate() {
        for (b, block) in row.chunks_exact_mut(plane).enumerate() {
            if planes_contiguous {
                // A plane is one run of `Ho·Wo` values: a copy, not an element loop.
                let start = y.row_start(b, o, 0);
                block.copy_from_slice(&y.data[start..start + plane]);
                continue;
            }
            for (i, segment) in block.chunks_exact_mut(out_w).enumerate() {
                let start = y.row_start(b, o, i);
                for (j, slot) in segment.iter_mut().enumerate() {
                    *slot = y.data[start + j * y.strides[3]];
                }
            }
        }
    }
}

/// Copies images `0..images` of `y` (an `[N, O, Ho, Wo]` view) into `dst` as the
/// transposed matrix `[images·Ho·Wo, O]`.
fn to_channels_inner<T: Element>(y: Nchw<T>, images: usize, g: &Geometry, dst: &mut [T]) {
    let (out_ch, out_w, plane) = (g.out_channels, g.out_hw.1, g.out_plane());
    debug_assert_eq!(dst.len(), images * plane * out_ch);
    if y.strides[3] == 1 && y.strides[2] == out_w {
        // Each image is the matrix [O, Ho·Wo] with rows `strides[1]` apart; its transpose
        // is this image's block of `dst`. Element by element, that copy reads with a stride
        // and cost ≈ 5% of the convolutions; the block transpose does it in registers.
        for (b, block) in dst.chunks_exact_mut(plane * out_ch).enumerate() {
            let start = y.row_start(b, 0, 0);
            crate::matmul::transpose_into(&y.data[start..], y.strides[1], out_ch, plane, block);
        }
        return;
    }
    for (position, row) in dst.chunks_exact_mut(out_ch).enumerate() {
        let (b, l) = (position / g.out_plane(), position % g.out_plane());
        let start = y.row_start(b, 0, l / out_w) + (l % out_w) * y.strides[3];
        for (o, slot) in row.iter_mut().enumerate() {
            *slot = y.data[start + o * y.strides[1]];
        }
    }
}

/// The inverse of [`to_channels_outer`] into a contiguous block: `src` is
/// `[O, images·L]`, `dst` is `[images, O, L]`.
pub(super) fn from_channels_outer<T: Element>(
    src: &[T],
    images: usize,
    g: &Geometry,
    dst: &mut [T],
) {
    let plane = g.out_plane();
    let width = images * plane;
    for (b, image) in dst.chunks_exact_mut(g.out_channels * plane).enumerate() {
        for (o, channel) in image.chunks_exact_mut(plane).enumerate() {
            channel.copy_from_slice(&src[o * width + b * plane..][..plane]);
        }
    }
}

/// The output gradient of images `first .. first + images` as the GEMM matrix
/// `[O, images·Ho·Wo]`: read in place when it is one image of a contiguous tensor
/// (`contiguous`), else copied channels-outer into `buffer`.
pub(super) fn grad_matrix<'a, T: Element>(
    contiguous: Option<&'a [T]>,
    grad: Nchw<'a, T>,
    (first, images): (usize, usize),
    g: &Geometry,
    buffer: &'a mut Option<PackBuffer<T>>,
) -> &'a [T] {
    let len = g.out_channels * g.out_plane();
    match contiguous {
        // One contiguous image is already the matrix [O, Ho·Wo].
        Some(all) if images == 1 => &all[first * len..][..len],
        _ => {
            let buffer = prefix(buffer, images * len);
            to_channels_outer(grad.skip_images(first), images, g, buffer);
            buffer
        }
    }
}

/// Runs `body(scratch, (chunk index, chunk of out))` over the chunks of `out`, each of
/// `per_chunk` elements, in parallel when the plan says so.
pub(super) fn for_each_chunk<T: Element>(
    out: &mut [T],
    per_chunk: usize,
    plan: Chunks,
    body: impl Fn(&mut Scratch<T>, (usize, &mut [T])) + Sync + Send,
) {
    if plan.parallel {
        out.par_chunks_mut(per_chunk)
            .enumerate()
            .for_each_init(Scratch::new, body);
    } else {
        let mut scratch = Scratch::new();
        out.chunks_mut(per_chunk)
            .enumerate()
            .for_each(|item| body(&mut scratch, item));
    }
}

/// `conv2d`: `[N, C, H, W]` ⋆ `[O, C, kh, kw]` → `[N, O, Ho, Wo]`.
pub(crate) fn forward<T: Element>(x: &Tensor, w: &Tensor, g: &Geometry) -> Tensor {
    let (out_ch, k, plane) = (g.out_channels, g.patch_len(), g.out_plane());
    let shape = [g.batch, out_ch, g.out_hw.0, g.out_hw.1];
    if g.batch * out_ch * plane == 0 || k == 0 {
        return Tensor::from_parts(crate::buffer::zeros::<T>(g.batch * out_ch * plane), &shape);
    }
    if channels_last::applies(g) {
        return channels_last::forward::<T>(x, w, g);
    }
    // Each chunk overwrites its slice (a GEMM without accumulation, or a reordering copy),
    // so the buffer need not be zeroed first.
    let mut out = crate::buffer::scratch::<T>(g.batch * out_ch * plane);
    let weight = w.to_contiguous_cow::<T>();
    let weight = MatRef::new(&weight, out_ch, k, k, 1);
    let x = Nchw::<T>::of(x);
    let plan = Chunks::new(g);
    for_each_chunk(
        &mut out,
        plan.images * out_ch * plane,
        plan,
        |scratch, (index, dst)| {
            let images = dst.len() / (out_ch * plane);
            let width = images * plane;
            let cols = prefix(&mut scratch.cols, k * width);
            im2col(x.skip_images(index * plan.images), images, g, cols);
            let cols = MatRef::new(cols, k, width, width, 1);
            if images == 1 {
                gemm(weight, cols, MatMut::new(dst, out_ch, width, width), false);
            } else {
                let y = prefix(&mut scratch.reordered, out_ch * width);
                gemm(weight, cols, MatMut::new(y, out_ch, width, width), false);
                from_channels_outer(y, images, g, dst);
            }
        },
    );
    Tensor::from_parts(out, &shape)
}

/// `conv2d_input_grad`: `[N, O, Ho, Wo]` and `[O, C, kh, kw]` → `[N, C, H, W]`.
pub(crate) fn input_grad<T: Element>(gy: &Tensor, w: &Tensor, g: &Geometry) -> Tensor {
    let (out_ch, k, plane) = (g.out_channels, g.patch_len(), g.out_plane());
    let shape = [g.batch, g.in_channels, g.in_hw.0, g.in_hw.1];
    let image_len = g.in_channels * g.in_plane();
    if g.batch * image_len == 0 || out_ch == 0 {
        return Tensor::from_parts(crate::buffer::zeros::<T>(g.batch * image_len), &shape);
    }
    if channels_last::applies(g) {
        return channels_last::input_grad::<T>(gy, w, g);
    }
    let mut out = crate::buffer::zeros::<T>(g.batch * image_len);
    let weight = w.to_contiguous_cow::<T>();
    let weight_t = MatRef::new(&weight, out_ch, k, k, 1).t();
    let contiguous_grad = gy.contiguous_slice::<T>();
    let grad = Nchw::<T>::of(gy);
    let plan = Chunks::new(g);
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
            let grad_matrix = MatRef::new(grad_matrix, out_ch, width, width, 1);
            let cols = prefix(&mut scratch.cols, k * width);
            gemm(
                weight_t,
                grad_matrix,
                MatMut::new(cols, k, width, width),
                false,
            );
            col2im(cols, images, g, dst);
        },
    );
    Tensor::from_parts(out, &shape)
}

/// `Σ_chunks partial(chunk)`, each partial `len` long, added in chunk order: the same
/// arithmetic whether the chunks ran on one thread or many. `partial(scratch, index, dst)`
/// overwrites every element of `dst`.
pub(super) fn sum_partials<T: Element>(
    plan: Chunks,
    len: usize,
    partial: impl Fn(&mut Scratch<T>, usize, &mut [T]) + Sync + Send,
) -> Vec<T> {
    let mut total = crate::buffer::zeros::<T>(len);
    if len == 0 {
        return total;
    }
    let add = |total: &mut [T], part: &[T]| {
        for (t, &v) in total.iter_mut().zip(part) {
            *t += v;
        }
    };
    if plan.parallel {
        // All partials in one buffer of the calling thread: made on the pool's threads as
        // separate buffers, they would be recycled into this thread's pool when freed here,
        // and the pool's threads would fault in fresh pages for them on every call.
        let mut partials = crate::buffer::scratch::<T>(plan.count * len);
        partials
            .par_chunks_mut(len)
            .enumerate()
            .for_each_init(Scratch::new, |scratch, (index, part)| {
                partial(scratch, index, part)
            });
        for part in partials.chunks_exact(len) {
            add(&mut total, part);
        }
        crate::buffer::give_back(partials);
    } else {
        let (mut scratch, mut part) = (Scratch::new(), crate::buffer::scratch::<T>(len));
        for index in 0..plan.count {
            partial(&mut scratch, index, &mut part);
            add(&mut total, &part);
        }
        crate::buffer::give_back(part);
    }
    total
}

/// `conv2d_weight_grad`: `[N, O, Ho, Wo]` and `[N, C, H, W]` → `[O, C, kh, kw]`.
pub(crate) fn weight_grad<T: Element>(gy: &Tensor, x: &Tensor, g: &Geometry) -> Tensor {
    let (out_ch, k, plane) = (g.out_channels, g.patch_len(), g.out_plane());
    let shape = [out_ch, g.in_channels, g.kernel_hw.0, g.kernel_hw.1];
    if out_ch * k == 0 || g.batch == 0 {
        return Tensor::from_parts(crate::buffer::zeros::<T>(out_ch * k), &shape);
    }
    if channels_last::applies(g) {
        return channels_last::weight_grad::<T>(gy, x, g);
    }
    let (grad, x) = (Nchw::<T>::of(gy), Nchw::<T>::of(x));
    let plan = Chunks::new(g);
    // The partial W̄ᵀ of chunk `index`: cols[K, nb·L] · Gᵀ[nb·L, O], into `dst`.
    let partial = |scratch: &mut Scratch<T>, index: usize, dst: &mut [T]| {
        let first = index * plan.images;
        let images = plan.images.min(g.batch - first);
        let width = images * plane;
        let cols = prefix(&mut scratch.cols, k * width);
        im2col(x.skip_images(first), images, g, cols);
        let grad_t = prefix(&mut scratch.reordered, width * out_ch);
        to_channels_inner(grad.skip_images(first), images, g, grad_t);
        let lhs = MatRef::new(cols, k, width, width, 1);
        let rhs = MatRef::new(grad_t, width, out_ch, out_ch, 1);
        gemm(lhs, rhs, MatMut::new(dst, k, out_ch, out_ch), false);
    };
    // The partials are summed in their own [K, O] layout (contiguous adds), and the sum is
    // transposed once into [O, K] at the end.
    let total_t = sum_partials(plan, k * out_ch, partial);
    // Every element of `total` is written by the transpose.
    let mut total = crate::buffer::scratch::<T>(out_ch * k);
    crate::matmul::transpose_into(&total_t, out_ch, k, out_ch, &mut total);
    crate::buffer::give_back(total_t);
    Tensor::from_parts(total, &shape)
}
