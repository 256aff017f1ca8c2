//! Normalising each channel by its own statistics (the core of batch norm), and the adjoint.
//!
//! For `x` of shape `[N, C, …]`, channel `c` holds the `m = N · (H·W·…)` entries with index
//! `c` on axis 1. With its mean `μ_c`, biased variance `σ²_c` and `s_c = 1 / √(σ²_c + ε)`:
//!
//! ```text
//! normalize_channels:       x̂ = (x − μ) · s
//! normalize_channels_grad:  x̄ = s · (g − mean(g) − x̂ · mean(g ⊙ x̂))      (means per channel)
//! ```
//!
//! The second is the vector–Jacobian product of the first: the gradient `x̄` of
//! `⟨x̂(x), g⟩`. (With `P(v) = v − mean(v) − x̂ · mean(x̂ ⊙ v)`, the projection that removes
//! a channel's mean and its component along `x̂`, `dx̂ = s · P(dx)`; `P` is self-adjoint.)
//!
//! As a composition of element-wise ops and reductions, batch norm makes a dozen passes over
//! its input in the forward pass and more in the backward pass, each reading or writing a
//! tensor the size of the activations. These kernels make two passes to gather the
//! statistics and one to write, in each direction.
//!
//! Sums run per channel over the images in order, eight running partial sums per
//! contiguous run (`reduce::sum_zip`, as every reduction sums): results do not depend on the
//! number of threads.

use rayon::prelude::*;

use crate::element::Element;
use crate::error::{fmt_shape, Result, TensorError};
use crate::reduce::sum_zip;
use crate::tensor::Tensor;
use crate::unary::PARALLEL_MIN_ELEMENTS;
use crate::view::or_panic;
use crate::with_dtype;

/// `[N, C, R]`: images, channels, and entries per channel per image.
#[derive(Clone, Copy)]
struct Dims {
    images: usize,
    channels: usize,
    run: usize,
}

impl Dims {
    fn of(op: &'static str, x: &Tensor) -> Result<Dims> {
        if x.ndim() < 2 {
            return Err(TensorError::shape(
                op,
                format!(
                    "input {} must have a channel axis: [N, C, …]",
                    fmt_shape(x.shape())
                ),
            ));
        }
        Ok(Dims {
            images: x.shape()[0],
            channels: x.shape()[1],
            run: x.shape()[2..].iter().product(),
        })
    }

    /// Entries per channel.
    #[track_caller]
    fn count(&self) -> usize {
        self.images * self.run
    }

    /// The run of image `n`, channel `c`.
    #[track_caller]
    fn run_of<'a, T>(&self, data: &'a [T], n: usize, c: usize) -> &'a [T] {
        &data[(n * self.channels + c) * self.run..][..self.run]
    }
}

// NOTE: the kernels below take `per_channel(c)`, which returns the element function of
// channel `c` with its constants captured by value. Indexing per-channel vectors inside the
// element loop instead kept it from vectorising (each index re-read the vector's length, in
// case a store had changed it).

/// Channels per job of [`channel_means`].
const CHANNEL_BLOCK: usize = 8;

/// Per channel `c`, the mean of `f_c(x, y)` over its runs in `x` and `y` (same shape), where
/// `f_c = per_channel(c)`; on rayon threads when large.
///
/// Each job takes a block of channels and walks the images in order, summing the block's runs
/// of each image (neighbours in memory) into one total per channel. A channel's total is the
/// same sum in the same order as walking that channel alone, but the memory is read as one
/// stream per image instead of one run per page: channel by channel, an activation of
/// `[300, 64, 14, 14]` touches a new page every 784 bytes, and the TLB misses cost more than
/// the additions.
fn channel_means<T: Element, F: Fn(T, T) -> T>(
    d: Dims,
    x: &[T],
    y: &[T],
    per_channel: impl Fn(usize) -> F + Sync,
) -> Vec<T> {
    let count = T::from_f64(d.count() as f64);
    let block = |first: usize, means: &mut [T]| {
        let fs: Vec<F> = (first..first + means.len()).map(&per_channel).collect();
        means.fill(T::ZERO);
        for n in 0..d.images {
            for ((k, mean), f) in means.iter_mut().enumerate().zip(&fs) {
                let c = first + k;
                *mean += sum_zip(d.run_of(x, n, c), d.run_of(y, n, c), f);
            }
        }
        for mean in means.iter_mut() {
            *mean = *mean / count;
        }
    };
    let mut means = vec![T::ZERO; d.channels];
    if crate::parallel::split(x.len() >= PARALLEL_MIN_ELEMENTS && d.channels > 1) {
        means
            .par_chunks_mut(CHANNEL_BLOCK)
            .enumerate()
            .for_each(|(b, means)| block(b * CHANNEL_BLOCK, means));
    } else {
        means
            .chunks_mut(CHANNEL_BLOCK)
            .enumerate()
            .for_each(|(b, means)| block(b * CHANNEL_BLOCK, means));
    }
    means
}

/// `out[n, c, r] = f_c(x[n, c, r], y[n, c, r])` with `f_c = per_channel(c)`, image by image
/// (on rayon threads when large).
fn channel_map<T: Element, F: Fn(T, T) -> T>(
    d: Dims,
    x: &[T],
    y: &[T],
    per_channel: impl Fn(usize) -> F + Sync,
) -> Vec<T> {
    let mut out = crate::buffer::scratch::<T>(x.len());
    let image = d.channels * d.run;
    let fill = |(n, dst): (usize, &mut [T])| {
        for (c, dst) in dst.chunks_exact_mut(d.run.max(1)).enumerate() {
            let (xs, ys, f) = (d.run_of(x, n, c), d.run_of(y, n, c), per_channel(c));
            for ((slot, &u), &v) in dst.iter_mut().zip(xs).zip(ys) {
                *slot = f(u, v);
            }
        }
    };
    if image == 0 {
        return out;
    }
    if crate::parallel::split(x.len() >= PARALLEL_MIN_ELEMENTS && d.images > 1) {
        out.par_chunks_mut(image).enumerate().for_each(fill);
    } else {
        out.chunks_mut(image).enumerate().for_each(fill);
    }
    out
}

/// `1 / √(σ² + ε)` per channel.
fn inv_std<T: Element>(var: &[T], eps: f64) -> Vec<T> {
    let eps = T::from_f64(eps);
    var.iter().map(|&v| T::ONE / (v + eps).sqrt()).collect()
}

fn normalize<T: Element>(x: &Tensor, d: Dims, eps: f64) -> (Tensor, Tensor, Tensor) {
    let data = x.to_contiguous_cow::<T>();
    // Two passes for the statistics: the mean, then the squared deviations from it (more
    // accurate than E[x²] − E[x]², which cancels when the mean is large).
    let mean: Vec<T> = channel_means(d, &data, &data, |_| |u, _| u);
    let var: Vec<T> = channel_means(d, &data, &data, |c| {
        let m = mean[c];
        move |u, _| (u - m) * (u - m)
    });
    let s = inv_std(&var, eps);
    let x_hat = channel_map(d, &data, &data, |c| {
        let (m, s) = (mean[c], s[c]);
        move |u, _| (u - m) * s
    });
    let stats = |v: Vec<T>| Tensor::from_parts(v, &[d.channels]);
    (
        Tensor::from_parts(x_hat, x.shape()),
        stats(mean),
        stats(var),
    )
}

fn normalize_grad<T: Element>(
    x: &Tensor,
    mean: &Tensor,
    var: &Tensor,
    eps: f64,
    grad: &Tensor,
    d: Dims,
) -> Tensor {
    let (data, g) = (x.to_contiguous_cow::<T>(), grad.to_contiguous_cow::<T>());
    let (mean, s) = (mean.to_vec::<T>(), inv_std(&var.to_vec::<T>(), eps));
    // The two means the rule needs: mean(g) and mean(g ⊙ x̂).
    let g_mean: Vec<T> = channel_means(d, &g, &g, |_| |v, _| v);
    let gx_mean: Vec<T> = channel_means(d, &data, &g, |c| {
        let (m, s) = (mean[c], s[c]);
        move |u, v| v * ((u - m) * s)
    });
    // s · (g − mean(g) − x̂ · mean(g ⊙ x̂)), x̂ = (x − μ) · s.
    let out = channel_map(d, &data, &g, |c| {
        let (m, s, g_mean, gx_mean) = (mean[c], s[c], g_mean[c], gx_mean[c]);
        move |u, v| s * (v - g_mean - (u - m) * s * gx_mean)
    });
    Tensor::from_parts(out, x.shape())
}

impl Tensor {
    /// Each channel (axis 1) of this `[N, C, …]` tensor normalised by its own mean and
    /// biased variance over every other axis: `x̂ = (x − μ) / √(σ² + ε)`. Returns `x̂` and
    /// the statistics `μ` and `σ²` (each `[C]`), which [`Tensor::normalize_channels_grad`]
    /// takes back.
    ///
    /// ```
    /// use tensor::Tensor;
    /// // Two images, two channels, two entries each: channel 0 holds 1, 3, 5, 7.
    /// let x = Tensor::from_vec(vec![1.0f64, 3.0, 0.0, 0.0, 5.0, 7.0, 2.0, 2.0], &[2, 2, 2])?;
    /// let (x_hat, mean, var) = x.normalize_channels(0.0);
    /// assert_eq!(mean.to_vec::<f64>(), [4.0, 1.0]);
    /// assert_eq!(var.to_vec::<f64>(), [5.0, 1.0]);
    /// let r = 5f64.sqrt();
    /// for (got, want) in x_hat.to_vec::<f64>().iter().zip([-3.0 / r, -1.0 / r, -1.0, -1.0]) {
    ///     assert!((got - want).abs() < 1e-15);
    /// }
    /// # Ok::<(), tensor::TensorError>(())
    /// ```
    ///
    /// # Panics
    /// If the tensor has fewer than 2 axes.
    #[track_caller]
    pub fn normalize_channels(&self, eps: f64) -> (Tensor, Tensor, Tensor) {
        let d = or_panic(Dims::of("normalize_channels", self));
        with_dtype!(self.dtype(), T => normalize::<T>(self, d, eps))
    }

    /// The vector–Jacobian product of [`Tensor::normalize_channels`] at this input, for the
    /// cotangent `grad` (same shape), given the `mean` and `var` it returned and the same
    /// `eps`: `s · (g − mean(g) − x̂ · mean(g ⊙ x̂))` per channel, `s = 1 / √(σ² + ε)`.
    ///
    /// # Panics
    /// As [`Tensor::try_normalize_channels_grad`] errs.
    #[track_caller]
    pub fn normalize_channels_grad(
        &self,
        mean: &Tensor,
        var: &Tensor,
        eps: f64,
        grad: &Tensor,
    ) -> Tensor {
        or_panic(self.try_normalize_channels_grad(mean, var, eps, grad))
    }

    /// [`Tensor::normalize_channels_grad`], with an error naming the shapes if `grad` is not
    /// of the input's shape, `mean` or `var` is not `[C]`, or the element types differ.
    #[track_caller]
    pub fn try_normalize_channels_grad(
        &self,
        mean: &Tensor,
        var: &Tensor,
        eps: f64,
        grad: &Tensor,
    ) -> Result<Tensor> {
        const OP: &str = "normalize_channels_grad";
        let d = Dims::of(OP, self)?;
        let fits = grad.shape() == self.shape()
            && mean.shape() == [d.channels]
            && var.shape() == [d.channels];
        if !fits {
            return Err(TensorError::shape(
                OP,
                format!(
                    "input {}, grad {}, mean {} and var {}: grad must match the input, \
                     the statistics must be [{}]",
                    fmt_shape(self.shape()),
                    fmt_shape(grad.shape()),
                    fmt_shape(mean.shape()),
                    fmt_shape(var.shape()),
                    d.channels
                ),
            ));
        }
        for other in [mean, var, grad] {
            self.same_dtype(OP, other)?;
        }
        Ok(with_dtype!(self.dtype(), T => normalize_grad::<T>(self, mean, var, eps, grad, d)))
    }
}
