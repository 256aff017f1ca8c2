//! Max pooling, the indices of its maxima, and the two index-driven ops its derivatives need.
//!
//! `y[n, c, i, j] = max of x[n, c, h, w]` over window `(i, j)`. Away from ties each output is
//! locally just its winning element, so the Jacobian is a 0/1 selection by the winners' flat
//! indices: the VJP scatter-adds the cotangent into the winners (`max_pool2d_backward`), the
//! adjoint of that scatter is the gather of those elements (`max_pool2d_gather`), and the
//! adjoint of the gather is the scatter again. Neither of the two looks at the windows, only
//! at `indices` and the plane sizes (`plane_pool`).

use rayon::prelude::*;

use super::{describe, for_each_plane, Pool};
use crate::conv::dims4;
use crate::conv::im2col::Nchw;
use crate::element::Element;
use crate::error::{fmt_shape, Result, TensorError};
use crate::tensor::Tensor;
use crate::view::or_panic;
use crate::with_dtype;

fn max_with_indices<T: Element>(x: &Tensor, pool: &Pool) -> (Tensor, Vec<usize>) {
    let plane_len = pool.out_plane();
    let mut out = crate::buffer::zeros::<T>(pool.planes() * plane_len);
    let mut indices = vec![0; out.len()];
    let x = Nchw::<T>::of(x);
    let (in_w, out_w) = (pool.in_hw.1, pool.out_hw.1);
    let body = |p: usize, (values, argmax): (&mut [T], &mut [usize])| {
        let (n, c) = (p / pool.channels, p % pool.channels);
        let base = p * pool.in_plane(); // flat index of [n, c, 0, 0] in a contiguous input
        let at = |h: usize, w: usize| x.data[x.row_start(n, c, h) + w * x.strides[3]];
        let outputs = values
            .chunks_exact_mut(out_w)
            .zip(argmax.chunks_exact_mut(out_w));
        for (i, (values, argmax)) in outputs.enumerate() {
            let rows = pool.rows(i);
            for (j, (value, index)) in values.iter_mut().zip(argmax.iter_mut()).enumerate() {
                let cols = pool.cols(j);
                // Two passes over the window, neither with a data-dependent branch (on real
                // data `v > best` is a coin toss, and a mispredicted branch per element costs
                // more than the comparisons): the maximum, then the first position holding
                // it, scanning backwards so the first match is the one kept. Starting from a
                // real element means padding never wins, not even against −∞.
                let mut best = at(rows.start, cols.start);
                let mut nan = false;
                for h in rows.clone() {
                    for w in cols.clone() {
                        let v = at(h, w);
                        best = if v > best { v } else { best };
                        nan |= v.is_nan();
                    }
                }
                let mut best_at = rows.start * in_w + cols.start;
                for h in rows.clone().rev() {
                    for w in cols.clone().rev() {
                        best_at = if at(h, w) == best {
                            h * in_w + w
                        } else {
                            best_at
                        };
                    }
                }
                // NOTE: NaN propagates, with the index of the window's first NaN (rare, so
                // found by a plain search).
                if nan {
                    let first_nan = rows
                        .clone()
                        .flat_map(|h| cols.clone().map(move |w| (h, w)))
                        .find(|&(h, w)| at(h, w).is_nan())
                        .expect("the window holds a NaN");
                    best = at(first_nan.0, first_nan.1);
                    best_at = first_nan.0 * in_w + first_nan.1;
                }
                *value = best;
                *index = base + best_at;
            }
        }
    };
    if plane_len > 0 && pool.parallel() {
        let planes = out
            .par_chunks_mut(plane_len)
            .zip(indices.par_chunks_mut(plane_len));
        planes.enumerate().for_each(|(p, pair)| body(p, pair));
    } else if plane_len > 0 {
        let planes = out.chunks_mut(plane_len).zip(indices.chunks_mut(plane_len));
        planes.enumerate().for_each(|(p, pair)| body(p, pair));
    }
    (Tensor::from_parts(out, &pool.out_shape()), indices)
}

fn max_backward<T: Element>(g: &Tensor, indices: &[usize], pool: &Pool) -> Tensor {
    let (in_plane, out_plane) = (pool.in_plane(), pool.out_plane());
    let mut out = crate::buffer::zeros::<T>(pool.planes() * in_plane);
    let grad = g.to_contiguous_cow::<T>();
    // Each plane's outputs scatter into that plane only (checked), in a fixed order.
    for_each_plane(&mut out, in_plane, pool.parallel(), |p, dst| {
        let range = p * out_plane..(p + 1) * out_plane;
        for (&index, &value) in indices[range.clone()].iter().zip(&grad[range]) {
            dst[index - p * in_plane] += value;
        }
    });
    Tensor::from_parts(out, &pool.in_shape())
}

fn max_gather<T: Element>(x: &Tensor, indices: &[usize], pool: &Pool) -> Tensor {
    let x = Nchw::<T>::of(x);
    let (in_w, in_plane) = (pool.in_hw.1, pool.in_plane());
    let out = indices
        .iter()
        .map(|&index| {
            let (p, r) = (index / in_plane, index % in_plane);
            let (n, c) = (p / pool.channels, p % pool.channels);
            x.data[x.row_start(n, c, r / in_w) + (r % in_w) * x.strides[3]]
        })
        .collect();
    Tensor::from_parts(out, &pool.out_shape())
}

impl Tensor {
    /// Max pooling of an `[N, C, H, W]` tensor over `kernel`-sized windows: see the
    /// [module docs](crate::pool) for sizes, padding and NaN handling.
    ///
    /// ```
    /// use tensor::Tensor;
    /// let x = Tensor::from_vec((1..=16).map(|v| v as f32).collect(), &[1, 1, 4, 4])?;
    /// let y = x.max_pool2d((2, 2), (2, 2), (0, 0));
    /// assert_eq!(y.to_vec::<f32>(), [6.0, 8.0, 14.0, 16.0]);
    /// # Ok::<(), tensor::TensorError>(())
    /// ```
    ///
    /// # Panics
    /// If the input is not 4-d, a kernel size or stride is 0, the kernel is larger than the
    /// padded input or the padding is not smaller than the kernel;
    /// [`Tensor::try_max_pool2d`] returns the error.
    #[track_caller]
    pub fn max_pool2d(
        &self,
        kernel: (usize, usize),
        stride: (usize, usize),
        padding: (usize, usize),
    ) -> Tensor {
        or_panic(self.try_max_pool2d(kernel, stride, padding))
    }

    /// [`Tensor::max_pool2d`] returning an error instead of panicking.
    ///
    /// ```
    /// use tensor::{DType, Tensor};
    /// let x = Tensor::zeros(&[1, 1, 4, 4], DType::F32);
    /// assert_eq!(
    ///     x.try_max_pool2d((2, 2), (2, 2), (2, 2)).unwrap_err().to_string(),
    ///     "max_pool2d: input [1, 1, 4, 4] with kernel (2, 2), stride (2, 2), padding (2, 2): \
    ///      padding (2, 2) must be smaller than the kernel (2, 2), so that every window holds \
    ///      an input element"
    /// );
    /// ```
    #[track_caller]
    pub fn try_max_pool2d(
        &self,
        kernel: (usize, usize),
        stride: (usize, usize),
        padding: (usize, usize),
    ) -> Result<Tensor> {
        Ok(self.try_max_pool2d_with_indices(kernel, stride, padding)?.0)
    }

    /// [`Tensor::max_pool2d`] and, for each output in row-major order, the flat row-major
    /// index into the input (as if it were contiguous) of the element that won.
    ///
    /// ```
    /// use tensor::Tensor;
    /// let x = Tensor::from_vec(vec![1.0f64, 5.0, 5.0, 2.0, 0.0, 3.0], &[1, 1, 2, 3])?;
    /// // Windows of 2×2 with stride 1: columns 0–1 and 1–2. Ties go to the first.
    /// let (y, indices) = x.max_pool2d_with_indices((2, 2), (1, 1), (0, 0));
    /// assert_eq!(y.to_vec::<f64>(), [5.0, 5.0]);
    /// assert_eq!(indices, [1, 1]);
    /// # Ok::<(), tensor::TensorError>(())
    /// ```
    ///
    /// # Panics
    /// As [`Tensor::max_pool2d`]; [`Tensor::try_max_pool2d_with_indices`] returns the error.
    #[track_caller]
    pub fn max_pool2d_with_indices(
        &self,
        kernel: (usize, usize),
        stride: (usize, usize),
        padding: (usize, usize),
    ) -> (Tensor, Vec<usize>) {
        or_panic(self.try_max_pool2d_with_indices(kernel, stride, padding))
    }

    /// [`Tensor::max_pool2d_with_indices`] returning an error instead of panicking.
    #[track_caller]
    pub fn try_max_pool2d_with_indices(
        &self,
        kernel: (usize, usize),
        stride: (usize, usize),
        padding: (usize, usize),
    ) -> Result<(Tensor, Vec<usize>)> {
        let operands = || describe("input", self.shape(), kernel, stride, padding);
        let pool = Pool::new(
            "max_pool2d",
            &operands,
            self.shape(),
            kernel,
            stride,
            padding,
        )?;
        Ok(with_dtype!(self.dtype(), T => max_with_indices::<T>(self, &pool)))
    }

    /// The adjoint of max pooling: `grad_out` (`[N, C, Ho, Wo]`) scatter-added into zeros of
    /// `input_shape` at `indices` (from [`Tensor::max_pool2d_with_indices`]), so each input
    /// element gets the sum of the gradients of the outputs it was the maximum of.
    ///
    /// ```
    /// use tensor::Tensor;
    /// let x = Tensor::from_vec(vec![1.0f64, 5.0, 5.0, 2.0, 0.0, 3.0], &[1, 1, 2, 3])?;
    /// let (_, indices) = x.max_pool2d_with_indices((2, 2), (1, 1), (0, 0));
    /// let g = Tensor::from_vec(vec![10.0f64, 1.0], &[1, 1, 1, 2])?;
    /// let gx = Tensor::max_pool2d_backward(&g, &indices, x.shape());
    /// assert_eq!(gx.to_vec::<f64>(), [0.0, 11.0, 0.0, 0.0, 0.0, 0.0]);
    /// # Ok::<(), tensor::TensorError>(())
    /// ```
    ///
    /// # Panics
    /// If a shape is not 4-d, their batch or channel sizes differ, there is not one index
    /// per element of `grad_out`, or an index lies outside its output's `(n, c)` plane;
    /// [`Tensor::try_max_pool2d_backward`] returns the error.
    #[track_caller]
    pub fn max_pool2d_backward(
        grad_out: &Tensor,
        indices: &[usize],
        input_shape: &[usize],
    ) -> Tensor {
        or_panic(Tensor::try_max_pool2d_backward(
            grad_out,
            indices,
            input_shape,
        ))
    }

    /// [`Tensor::max_pool2d_backward`] returning an error instead of panicking.
    #[track_caller]
    pub fn try_max_pool2d_backward(
        grad_out: &Tensor,
        indices: &[usize],
        input_shape: &[usize],
    ) -> Result<Tensor> {
        const OP: &str = "max_pool2d_backward";
        let operands = || {
            format!(
                "grad_out {} and input shape {}",
                fmt_shape(grad_out.shape()),
                fmt_shape(input_shape)
            )
        };
        let out = dims4(
            OP,
            &operands,
            "grad_out",
            "[N, C, Ho, Wo]",
            grad_out.shape(),
        )?;
        let input = dims4(OP, &operands, "input shape", "[N, C, H, W]", input_shape)?;
        check_indices(OP, &operands, indices, out, input)?;
        let pool = plane_pool(input, out);
        Ok(with_dtype!(grad_out.dtype(), T => max_backward::<T>(grad_out, indices, &pool)))
    }

    /// The elements of this `[N, C, H, W]` tensor at `indices` (flat row-major indices, as
    /// from [`Tensor::max_pool2d_with_indices`]), in the 4-d `out_shape`. This is the adjoint
    /// of [`Tensor::max_pool2d_backward`], and max pooling itself once the winners are known:
    /// `x.max_pool2d_gather(&indices, y.shape())` is `y`.
    ///
    /// ```
    /// use tensor::Tensor;
    /// let x = Tensor::from_vec((1..=16).map(|v| v as f32).collect(), &[1, 1, 4, 4])?;
    /// let (y, indices) = x.max_pool2d_with_indices((2, 2), (2, 2), (0, 0));
    /// assert_eq!(x.max_pool2d_gather(&indices, y.shape()).to_vec::<f32>(), y.to_vec::<f32>());
    /// # Ok::<(), tensor::TensorError>(())
    /// ```
    ///
    /// # Panics
    /// As [`Tensor::max_pool2d_backward`] (with `self` as the input);
    /// [`Tensor::try_max_pool2d_gather`] returns the error.
    #[track_caller]
    pub fn max_pool2d_gather(&self, indices: &[usize], out_shape: &[usize]) -> Tensor {
        or_panic(self.try_max_pool2d_gather(indices, out_shape))
    }

    /// [`Tensor::max_pool2d_gather`] returning an error instead of panicking.
    #[track_caller]
    pub fn try_max_pool2d_gather(&self, indices: &[usize], out_shape: &[usize]) -> Result<Tensor> {
        const OP: &str = "max_pool2d_gather";
        let operands = || {
            format!(
                "input {} and output shape {}",
                fmt_shape(self.shape()),
                fmt_shape(out_shape)
            )
        };
        let input = dims4(OP, &operands, "input", "[N, C, H, W]", self.shape())?;
        let out = dims4(OP, &operands, "output shape", "[N, C, Ho, Wo]", out_shape)?;
        check_indices(OP, &operands, indices, out, input)?;
        let pool = plane_pool(input, out);
        Ok(with_dtype!(self.dtype(), T => max_gather::<T>(self, indices, &pool)))
    }
}

/// Checks that `indices` has one entry per element of `out_shape` and that each lies in the
/// input plane (of `in_shape`) of its output's plane: what `max_pool2d_with_indices` makes.
fn check_indices(
    op: &'static str,
    operands: &dyn Fn() -> String,
    indices: &[usize],
    out_shape: [usize; 4],
    in_shape: [usize; 4],
) -> Result<()> {
    if out_shape[..2] != in_shape[..2] {
        return Err(TensorError::shape(
            op,
            format!("{}: batch and channel sizes differ", operands()),
        ));
    }
    let (out_plane, in_plane) = (out_shape[2] * out_shape[3], in_shape[2] * in_shape[3]);
    let outputs: usize = out_shape.iter().product();
    if indices.len() != outputs {
        return Err(TensorError::shape(
            op,
            format!(
                "{}: {} indices for {outputs} outputs",
                operands(),
                indices.len()
            ),
        ));
    }
    let stray = indices
        .iter()
        .enumerate()
        .find(|&(k, &index)| index / in_plane.max(1) != k / out_plane || in_plane == 0);
    if let Some((k, &index)) = stray {
        return Err(TensorError::index(
            op,
            format!(
                "{}: index {index} of output {k} lies outside that output's (n, c) plane",
                operands()
            ),
        ));
    }
    Ok(())
}

/// The plane sizes of an index-driven op (scatter or gather), which needs no window.
fn plane_pool(input: [usize; 4], out: [usize; 4]) -> Pool {
    Pool {
        batch: input[0],
        channels: input[1],
        in_hw: (input[2], input[3]),
        out_hw: (out[2], out[3]),
        kernel: (1, 1),
        stride: (1, 1),
        padding: (0, 0),
    }
}
