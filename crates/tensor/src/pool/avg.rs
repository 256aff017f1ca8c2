//! Average pooling and its adjoint.
//!
//! `y[n, c, i, j] = (1 / (kh·kw)) · Σ x[n, c, h, w]` over window `(i, j)`, padding counted as
//! zeros. It is linear in `x` with fixed weights, so its VJP spreads each `g[i, j] / (kh·kw)`
//! back over the window (`avg_pool2d_backward`), and the adjoint of that is `avg_pool2d`.

use super::{describe, for_each_plane, Pool};
use crate::conv::im2col::Nchw;
use crate::element::Element;
use crate::error::{fmt_shape, Result, TensorError};
use crate::tensor::Tensor;
use crate::view::or_panic;
use crate::with_dtype;

fn avg<T: Element>(x: &Tensor, pool: &Pool) -> Tensor {
    let mut out = crate::buffer::zeros::<T>(pool.planes() * pool.out_plane());
    let x = Nchw::<T>::of(x);
    let count = T::from_f64((pool.kernel.0 * pool.kernel.1) as f64);
    for_each_plane(&mut out, pool.out_plane(), pool.parallel(), |p, values| {
        let (n, c) = (p / pool.channels, p % pool.channels);
        for (q, value) in values.iter_mut().enumerate() {
            let (i, j) = (q / pool.out_hw.1, q % pool.out_hw.1);
            let mut sum = T::ZERO;
            for h in pool.rows(i) {
                let row = x.row_start(n, c, h);
                for w in pool.cols(j) {
                    sum += x.data[row + w * x.strides[3]];
                }
            }
            *value = sum / count; // count_include_pad: padding counts as zeros
        }
    });
    Tensor::from_parts(out, &pool.out_shape())
}

fn avg_backward<T: Element>(g: &Tensor, pool: &Pool) -> Tensor {
    let (in_w, out_plane) = (pool.in_hw.1, pool.out_plane());
    let mut out = crate::buffer::zeros::<T>(pool.planes() * pool.in_plane());
    let grad = g.to_contiguous_cow::<T>();
    let count = T::from_f64((pool.kernel.0 * pool.kernel.1) as f64);
    // x̄[h, w] = Σ over the windows (i, j) that contain (h, w) of g[i, j] / (kh·kw).
    for_each_plane(&mut out, pool.in_plane(), pool.parallel(), |p, dst| {
        for (q, &g) in grad[p * out_plane..(p + 1) * out_plane].iter().enumerate() {
            let (i, j) = (q / pool.out_hw.1, q % pool.out_hw.1);
            let share = g / count;
            for h in pool.rows(i) {
                for slot in &mut dst[h * in_w..][pool.cols(j)] {
                    *slot += share;
                }
            }
        }
    });
    Tensor::from_parts(out, &pool.in_shape())
}

impl Tensor {
    /// Average pooling of an `[N, C, H, W]` tensor: each window's sum divided by `kh·kw`,
    /// padding included in the count (`count_include_pad = true`), so border windows that
    /// overlap the padding average in zeros.
    ///
    /// ```
    /// use tensor::Tensor;
    /// let x = Tensor::from_vec((1..=4).map(|v| v as f64).collect(), &[1, 1, 2, 2])?;
    /// assert_eq!(x.avg_pool2d((2, 2), (2, 2), (0, 0)).to_vec::<f64>(), [2.5]);
    /// // With padding 1 the corner windows hold one element and three zeros.
    /// assert_eq!(x.avg_pool2d((2, 2), (2, 2), (1, 1)).to_vec::<f64>(), [0.25, 0.5, 0.75, 1.0]);
    /// # Ok::<(), tensor::TensorError>(())
    /// ```
    ///
    /// # Panics
    /// As [`Tensor::max_pool2d`]; [`Tensor::try_avg_pool2d`] returns the error.
    #[track_caller]
    pub fn avg_pool2d(
        &self,
        kernel: (usize, usize),
        stride: (usize, usize),
        padding: (usize, usize),
    ) -> Tensor {
        or_panic(self.try_avg_pool2d(kernel, stride, padding))
    }

    /// [`Tensor::avg_pool2d`] returning an error instead of panicking.
    #[track_caller]
    pub fn try_avg_pool2d(
        &self,
        kernel: (usize, usize),
        stride: (usize, usize),
        padding: (usize, usize),
    ) -> Result<Tensor> {
        let operands = || describe("input", self.shape(), kernel, stride, padding);
        let pool = Pool::new(
            "avg_pool2d",
            &operands,
            self.shape(),
            kernel,
            stride,
            padding,
        )?;
        Ok(with_dtype!(self.dtype(), T => avg::<T>(self, &pool)))
    }

    /// The adjoint of [`Tensor::avg_pool2d`]: each element of `grad_out` (`[N, C, Ho, Wo]`)
    /// divided by `kh·kw` and added to every input position of its window, into zeros of
    /// `input_shape`.
    ///
    /// ```
    /// use tensor::Tensor;
    /// let g = Tensor::from_vec(vec![4.0f64], &[1, 1, 1, 1])?;
    /// let gx = Tensor::avg_pool2d_backward(&g, &[1, 1, 2, 3], (2, 2), (2, 2), (0, 0));
    /// assert_eq!(gx.to_vec::<f64>(), [1.0, 1.0, 0.0, 1.0, 1.0, 0.0]);
    /// # Ok::<(), tensor::TensorError>(())
    /// ```
    ///
    /// # Panics
    /// As [`Tensor::avg_pool2d`] for `input_shape`, or if `grad_out` is not the shape that
    /// pooling gives; [`Tensor::try_avg_pool2d_backward`] returns the error.
    #[track_caller]
    pub fn avg_pool2d_backward(
        grad_out: &Tensor,
        input_shape: &[usize],
        kernel: (usize, usize),
        stride: (usize, usize),
        padding: (usize, usize),
    ) -> Tensor {
        or_panic(Tensor::try_avg_pool2d_backward(
            grad_out,
            input_shape,
            kernel,
            stride,
            padding,
        ))
    }

    /// [`Tensor::avg_pool2d_backward`] returning an error instead of panicking.
    #[track_caller]
    pub fn try_avg_pool2d_backward(
        grad_out: &Tensor,
        input_shape: &[usize],
        kernel: (usize, usize),
        stride: (usize, usize),
        padding: (usize, usize),
    ) -> Result<Tensor> {
        const OP: &str = "avg_pool2d_backward";
        let operands = || {
            format!(
                "grad_out {} and {}",
                fmt_shape(grad_out.shape()),
                describe("input shape", input_shape, kernel, stride, padding)
            )
        };
        let pool = Pool::new(OP, &operands, input_shape, kernel, stride, padding)?;
        if grad_out.shape() != pool.out_shape() {
            return Err(TensorError::shape(
                OP,
                format!(
                    "{}: pooling gives {}, not grad_out's shape",
                    operands(),
                    fmt_shape(&pool.out_shape())
                ),
            ));
        }
        Ok(with_dtype!(grad_out.dtype(), T => avg_backward::<T>(grad_out, &pool)))
    }
}
