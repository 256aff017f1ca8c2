//! Reductions over any set of axes: sum, mean, max, min, the index of the max, and
//! `sum_to` (the inverse of broadcasting, which autodiff uses to return a gradient to the
//! shape of a broadcast operand).
//!
//! Axes are `isize` (`-1` is the last); an empty list reduces nothing. With `keepdim` the
//! reduced axes stay as size 1, so the result broadcasts against the input.
//!
//! Two loop orders, picked by where the reduced axes sit:
//! - the innermost axis is reduced (a row sum): each output element folds its own run of
//!   inputs, outputs spread over threads when large;
//! - the innermost axis is kept (a column sum, `sum_to` of a bias): the input is walked once
//!   in storage order, each element added into its output, so memory is read sequentially.
//!
//! # Panics
//! On an axis out of range, naming the op, the axis and the shape.

use rayon::prelude::*;
use smallvec::SmallVec;

use crate::binary::BinaryOp;
use crate::element::Element;
use crate::error::{fmt_shape, Result, TensorError};
use crate::layout::{contiguous_strides, normalize_axis, Shape};
use crate::tensor::Tensor;
use crate::unary::PARALLEL_MIN_ELEMENTS;
use crate::view::or_panic;
use crate::walk::Walk;
use crate::with_dtype;

/// How to combine elements.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Fold {
    Sum,
    Max,
    Min,
}

impl Fold {
    #[track_caller]
    fn init<T: Element>(self) -> T {
        match self {
            Fold::Sum => T::ZERO,
            Fold::Max => T::NEG_INFINITY,
            Fold::Min => T::INFINITY,
        }
    }

    // NOTE: max and min propagate NaN (a NaN anywhere makes the result NaN), as NumPy does,
    // so a diverged loss is not hidden by a reduction.
    #[inline(always)]
    #[track_caller]
    fn combine<T: Element>(self, acc: T, v: T) -> T {
        match self {
            Fold::Sum => acc + v,
            // Once NaN, always NaN.
            Fold::Max | Fold::Min if acc.is_nan() => acc,
            Fold::Max if v > acc || v.is_nan() => v,
            Fold::Min if v < acc || v.is_nan() => v,
            Fold::Max | Fold::Min => acc,
        }
    }

    /// Folds `len` elements of `src` starting at `start`, `stride` apart.
    #[track_caller]
    fn run<T: Element>(self, acc: T, src: &[T], start: usize, len: usize, stride: usize) -> T {
        if self == Fold::Sum && stride == 1 {
            return acc + sum_slice(&src[start..start + len]);
        }
        (0..len).fold(acc, |acc, k| self.combine(acc, src[start + k * stride]))
    }
}

/// Sum of a slice with eight running partial sums: the loop vectorises, and summing in eight
/// interleaved chains loses less precision than one long chain.
pub(crate) fn sum_slice<T: Element>(xs: &[T]) -> T {
    sum_zip(xs, xs, |v, _| v)
}

/// `Σ f(xᵢ, yᵢ)` over two slices of the same length, summed as [`sum_slice`] sums: eight
/// running partial sums, combined pairwise, then the tail in order.
#[inline(always)]
pub(crate) fn sum_zip<T: Element>(x: &[T], y: &[T], f: impl Fn(T, T) -> T) -> T {
    let mut lanes = [T::ZERO; 8];
    let (xs, ys) = (x.chunks_exact(8), y.chunks_exact(8));
    let (x_tail, y_tail) = (xs.remainder(), ys.remainder());
    for (xc, yc) in xs.zip(ys) {
        for ((lane, &u), &v) in lanes.iter_mut().zip(xc).zip(yc) {
            *lane += f(u, v);
        }
    }
    let head = ((lanes[0] + lanes[4]) + (lanes[1] + lanes[5]))
        + ((lanes[2] + lanes[6]) + (lanes[3] + lanes[7]));
    x_tail
        .iter()
        .zip(y_tail)
        .fold(head, |acc, (&u, &v)| acc + f(u, v))
}

/// Which axes a reduction removes, and the shapes around it.
struct Plan {
    reduced: SmallVec<[bool; 4]>,
    /// The output shape with reduced axes kept as size 1.
    kept_shape: Shape,
}

impl Plan {
    fn new(op: &'static str, shape: &[usize], axes: &[isize]) -> Result<Plan> {
        let mut reduced: SmallVec<[bool; 4]> = smallvec::smallvec![false; shape.len()];
        for &axis in axes {
            reduced[normalize_axis(op, axis, shape.len())?] = true;
        }
        let kept_shape = shape
            .iter()
            .zip(&reduced)
            .map(|(&size, &r)| if r { 1 } else { size })
            .collect();
        Ok(Plan {
            reduced,
            kept_shape,
        })
    }

    #[track_caller]
    fn out_shape(&self, keepdim: bool) -> Shape {
        if keepdim {
            return self.kept_shape.clone();
        }
        self.kept_shape
            .iter()
            .zip(&self.reduced)
            .filter(|(_, &r)| !r)
            .map(|(&size, _)| size)
            .collect()
    }

    /// Sizes and strides restricted to the reduced (`want = true`) or the kept axes.
    #[track_caller]
    fn split(&self, shape: &[usize], strides: &[usize], want: bool) -> (Shape, Shape) {
        let picked = (0..shape.len()).filter(|&k| self.reduced[k] == want);
        picked.map(|k| (shape[k], strides[k])).unzip()
    }

    /// Strides that map an input index to its output (contiguous over the kept shape, 0 on
    /// the reduced axes), for walking the input once.
    #[track_caller]
    fn output_strides(&self) -> crate::layout::Strides {
        let mut strides = contiguous_strides(&self.kept_shape);
        for (stride, &r) in strides.iter_mut().zip(&self.reduced) {
            if r {
                *stride = 0;
            }
        }
        strides
    }

    /// For each output position, the offset (under `strides`, from `offset`) of the first
    /// element folded into it.
    #[track_caller]
    fn output_bases(&self, shape: &[usize], strides: &[usize], offset: usize) -> Vec<usize> {
        let (kept_sizes, kept_strides) = self.split(shape, strides, false);
        let mut bases = Vec::with_capacity(kept_sizes.iter().product());
        let walk = Walk::new(&kept_sizes, [&kept_strides]);
        let (len, step) = (walk.run_len(), walk.run_stride(0));
        walk.for_each_run([offset], |[start]| {
            bases.extend((0..len).map(|k| start + k * step));
        });
        bases
    }
}

/// The shape a reduction of `shape` over `axes` produces (reduced axes kept as 1 with
/// `keepdim`, removed without), without computing anything.
///
/// ```
/// use tensor::reduce::reduced_shape;
/// assert_eq!(reduced_shape("sum", &[2, 3, 4], &[-1, 0], true)?.as_slice(), &[1, 3, 1]);
/// assert_eq!(reduced_shape("sum", &[2, 3, 4], &[1], false)?.as_slice(), &[2, 4]);
/// # Ok::<(), tensor::TensorError>(())
/// ```
#[track_caller]
pub fn reduced_shape(
    op: &'static str,
    shape: &[usize],
    axes: &[isize],
    keepdim: bool,
) -> Result<Shape> {
    Ok(Plan::new(op, shape, axes)?.out_shape(keepdim))
}

/// Outputs per job of [`fold_each`].
const BASE_BLOCK: usize = 8;

/// Every output of a reduction whose innermost axis is reduced: output `i` folds, from `init`,
/// the runs of the reduced axes starting at `bases[i]`, in the order of `inner` (a walk over
/// the reduced axes, relative to a base), with `fold_run(acc, start)` folding the run at
/// `start`.
///
/// A block of outputs is folded in lockstep, run by run: for `[N, C, H, W]` summed to
/// `[1, C, 1, 1]` (a bias's gradient) that reads image after image, each image's block of
/// channels as one stream, instead of one `H·W` run per page for each channel in turn. Each
/// output still folds its own runs in the same order, so the values are the same either way
/// and on any number of threads (blocks go to rayon's threads when the input, `numel`
/// elements, is large).
fn fold_each<T: Element>(
    bases: &[usize],
    numel: usize,
    inner: &Walk<1>,
    init: T,
    fold_run: impl Fn(T, usize) -> T + Sync,
) -> Vec<T> {
    let fold_block = |bases: &[usize], out: &mut [T]| {
        out.fill(init);
        inner.for_each_run([0], |[at]| {
            for (acc, &base) in out.iter_mut().zip(bases) {
                *acc = fold_run(*acc, base + at);
            }
        });
    };
    // Every block starts with `fill(init)`, so the buffer's old contents are never read.
    let mut out = crate::buffer::scratch::<T>(bases.len());
    if crate::parallel::split(numel >= PARALLEL_MIN_ELEMENTS && bases.len() > 1) {
        out.par_chunks_mut(BASE_BLOCK)
            .zip(bases.par_chunks(BASE_BLOCK))
            .for_each(|(out, bases)| fold_block(bases, out));
    } else {
        for (out, bases) in out.chunks_mut(BASE_BLOCK).zip(bases.chunks(BASE_BLOCK)) {
            fold_block(bases, out);
        }
    }
    out
}

/// The axes `sum_to` sums to take `from` down to `to`: the leading axes `to` lacks, and those
/// where `to` has 1 and `from` does not.
fn sum_to_axes(op: &'static str, from: &[usize], to: &[usize]) -> Result<SmallVec<[isize; 4]>> {
    let ndim = from.len();
    let lead = ndim.checked_sub(to.len());
    let fits = lead.is_some_and(|lead| {
        to.iter()
            .enumerate()
            .all(|(k, &s)| s == from[lead + k] || s == 1)
    });
    let Some(lead) = lead.filter(|_| fits) else {
        return Err(TensorError::shape(
            op,
            format!(
                "cannot sum {} down to {}: {} does not broadcast to {}",
                fmt_shape(from),
                fmt_shape(to),
                fmt_shape(to),
                fmt_shape(from)
            ),
        ));
    };
    Ok((0..ndim)
        .filter(|&k| k < lead || (to[k - lead] == 1 && from[k] != 1))
        .map(|k| k as isize)
        .collect())
}

fn reduce<T: Element>(x: &Tensor, plan: &Plan, fold: Fold) -> Vec<T> {
    let src = x.storage_slice::<T>();
    let innermost_reduced = (0..x.ndim())
        .rev()
        .find(|&k| x.shape()[k] > 1)
        .is_none_or(|k| plan.reduced[k]);
    if innermost_reduced {
        // Each output folds its own runs.
        let (red_sizes, red_strides) = plan.split(x.shape(), x.strides(), true);
        let inner = Walk::new(&red_sizes, [&red_strides]);
        let (len, step) = (inner.run_len(), inner.run_stride(0));
        let bases = plan.output_bases(x.shape(), x.strides(), x.layout().offset);
        fold_each(&bases, x.numel(), &inner, fold.init::<T>(), |acc, start| {
            fold.run(acc, src, start, len, step)
        })
    } else {
        // Walk the input once; each element lands in its output (stride 0 on reduced axes).
        let len: usize = plan.kept_shape.iter().product();
        let mut out = crate::buffer::with_capacity(len);
        out.resize(len, fold.init::<T>());
        let out_strides = plan.output_strides();
        let walk = Walk::new(x.shape(), [x.strides(), &out_strides]);
        let (len, [si, so]) = (walk.run_len(), walk.run_strides());
        if fold == Fold::Sum && si == 1 && so == 1 {
            // A column sum of row-major data (the gradient of a broadcast bias): each run is
            // a whole row, added into the outputs as slices so the loop vectorises. Each
            // output still receives its inputs in the same order.
            walk.for_each_run([x.layout().offset, 0], |[i, o]| {
                for (slot, &v) in out[o..o + len].iter_mut().zip(&src[i..i + len]) {
                    *slot += v;
                }
            });
            return out;
        }
        walk.for_each_run([x.layout().offset, 0], |[i, o]| {
            for k in 0..len {
                let slot = &mut out[o + k * so];
                *slot = fold.combine(*slot, src[i + k * si]);
            }
        });
        out
    }
}

/// `Σ x ⊙ y` over the plan's reduced axes, for contiguous `x`, `y` of one shape: [`reduce`]'s
/// two loop orders with each element replaced by the product of the pair, so the sums are
/// taken in the same order (and the same eight running sums) as `(x ⊙ y).sum(..)`.
fn reduce_product<T: Element>(x: &Tensor, y: &Tensor, plan: &Plan) -> Vec<T> {
    let (xs, ys) = (
        x.contiguous_slice::<T>().expect("contiguous"),
        y.contiguous_slice::<T>().expect("contiguous"),
    );
    let strides = contiguous_strides(x.shape());
    let innermost_reduced = (0..x.ndim())
        .rev()
        .find(|&k| x.shape()[k] > 1)
        .is_none_or(|k| plan.reduced[k]);
    if innermost_reduced {
        let (red_sizes, red_strides) = plan.split(x.shape(), &strides, true);
        let inner = Walk::new(&red_sizes, [&red_strides]);
        let (len, step) = (inner.run_len(), inner.run_stride(0));
        let bases = plan.output_bases(x.shape(), &strides, 0);
        fold_each(&bases, x.numel(), &inner, T::ZERO, |acc, start| {
            if step == 1 {
                let (u, v) = (&xs[start..start + len], &ys[start..start + len]);
                acc + sum_zip(u, v, |a, b| a * b)
            } else {
                (0..len).fold(acc, |acc, k| {
                    acc + xs[start + k * step] * ys[start + k * step]
                })
            }
        })
    } else {
        let len: usize = plan.kept_shape.iter().product();
        let mut out = crate::buffer::zeros::<T>(len);
        let out_strides = plan.output_strides();
        let walk = Walk::new(x.shape(), [&strides, &out_strides]);
        let (len, [si, so]) = (walk.run_len(), walk.run_strides());
        walk.for_each_run([0, 0], |[i, o]| {
            if si == 1 && so == 1 {
                let pairs = xs[i..i + len].iter().zip(&ys[i..i + len]);
                for (slot, (&u, &v)) in out[o..o + len].iter_mut().zip(pairs) {
                    *slot += u * v;
                }
            } else {
                for k in 0..len {
                    out[o + k * so] += xs[i + k * si] * ys[i + k * si];
                }
            }
        });
        out
    }
}

fn reduce_tensor(
    x: &Tensor,
    op: &'static str,
    axes: &[isize],
    keepdim: bool,
    fold: Fold,
) -> Tensor {
    let plan = or_panic(Plan::new(op, x.shape(), axes));
    let shape = plan.out_shape(keepdim);
    if fold != Fold::Sum && x.numel() == 0 {
        panic!(
            "{op}: cannot reduce the empty tensor of shape {}",
            fmt_shape(x.shape())
        );
    }
    with_dtype!(x.dtype(), T => Tensor::from_parts(reduce::<T>(x, &plan, fold), &shape))
}

impl Tensor {
    /// Sum over `axes`.
    ///
    /// ```
    /// use tensor::Tensor;
    /// let t = Tensor::from_vec(vec![1.0f32, 2.0, 3.0, 4.0, 5.0, 6.0], &[2, 3])?;
    /// assert_eq!(t.sum(&[0], false).to_vec::<f32>(), [5.0, 7.0, 9.0]);
    /// assert_eq!(t.sum(&[-1], true).shape(), &[2, 1]);
    /// # Ok::<(), tensor::TensorError>(())
    /// ```
    #[track_caller]
    pub fn sum(&self, axes: &[isize], keepdim: bool) -> Tensor {
        reduce_tensor(self, "sum", axes, keepdim, Fold::Sum)
    }

    /// Mean over `axes` (NaN for an empty selection, as 0/0).
    #[track_caller]
    pub fn mean(&self, axes: &[isize], keepdim: bool) -> Tensor {
        let plan = or_panic(Plan::new("mean", self.shape(), axes));
        let count: usize = (0..self.ndim())
            .filter(|&k| plan.reduced[k])
            .map(|k| self.shape()[k])
            .product();
        self.sum(axes, keepdim).mul_scalar(1.0 / count as f64)
    }

    /// Largest element over `axes`.
    ///
    /// # Panics
    /// Also on an empty tensor, which has no largest element.
    #[track_caller]
    pub fn max(&self, axes: &[isize], keepdim: bool) -> Tensor {
        reduce_tensor(self, "max", axes, keepdim, Fold::Max)
    }

    /// Smallest element over `axes`.
    ///
    /// # Panics
    /// Also on an empty tensor, which has no smallest element.
    #[track_caller]
    pub fn min(&self, axes: &[isize], keepdim: bool) -> Tensor {
        reduce_tensor(self, "min", axes, keepdim, Fold::Min)
    }

    /// The sum of all elements, as a 0-d tensor.
    #[track_caller]
    pub fn sum_all(&self) -> Tensor {
        let axes: SmallVec<[isize; 4]> = (0..self.ndim() as isize).collect();
        self.sum(&axes, false)
    }

    /// The mean of all elements, as a 0-d tensor.
    #[track_caller]
    pub fn mean_all(&self) -> Tensor {
        let axes: SmallVec<[isize; 4]> = (0..self.ndim() as isize).collect();
        self.mean(&axes, false)
    }

    /// The maximum over `axes` and, for each output element, the row-major (flat) index in
    /// `self` of the element that attained it; ties go to the first. Autodiff uses the
    /// indices to route the gradient of a max to the winning element.
    ///
    /// ```
    /// use tensor::Tensor;
    /// let t = Tensor::from_vec(vec![1.0f32, 5.0, 3.0, 9.0, 2.0, 4.0], &[2, 3])?;
    /// let (values, flat) = t.max_with_indices(&[1], false);
    /// assert_eq!(values.to_vec::<f32>(), [5.0, 9.0]);
    /// assert_eq!(flat, [1, 3]);
    /// # Ok::<(), tensor::TensorError>(())
    /// ```
    #[track_caller]
    pub fn max_with_indices(&self, axes: &[isize], keepdim: bool) -> (Tensor, Vec<usize>) {
        let plan = or_panic(Plan::new("max_with_indices", self.shape(), axes));
        assert!(
            self.numel() > 0,
            "max_with_indices: cannot reduce the empty tensor of shape {}",
            fmt_shape(self.shape())
        );
        let shape = plan.out_shape(keepdim);
        // Walk the reduced axes of the storage and of a contiguous index space side by side.
        let flat_strides = contiguous_strides(self.shape());
        let (red_sizes, red_strides) = plan.split(self.shape(), self.strides(), true);
        let (_, red_flat) = plan.split(self.shape(), &flat_strides, true);
        let flat_bases = plan.output_bases(self.shape(), &flat_strides, 0);
        let bases = plan.output_bases(self.shape(), self.strides(), self.layout().offset);
        let inner = Walk::new(&red_sizes, [&red_strides, &red_flat]);
        let (len, [step, flat_step]) = (inner.run_len(), inner.run_strides());
        with_dtype!(self.dtype(), T => {
            let src = self.storage_slice::<T>();
            let mut values = Vec::with_capacity(bases.len());
            let mut indices = Vec::with_capacity(bases.len());
            for (&base, &flat_base) in bases.iter().zip(&flat_bases) {
                let (mut best, mut best_index) = (T::NEG_INFINITY, flat_base);
                let mut first = true;
                inner.for_each_run([base, flat_base], |[start, flat]| {
                    for k in 0..len {
                        let v = src[start + k * step];
                        if first || (!best.is_nan() && (v > best || v.is_nan())) {
                            (best, best_index, first) = (v, flat + k * flat_step, false);
                        }
                    }
                });
                values.push(best);
                indices.push(best_index);
            }
            (Tensor::from_parts(values, &shape), indices)
        })
    }

    /// For each position of the other axes, the index along `axis` of the largest element
    /// (ties go to the first), in row-major order of the remaining axes. A classifier's
    /// predicted labels are `logits.argmax(-1)`.
    #[track_caller]
    pub fn argmax(&self, axis: isize) -> Vec<usize> {
        let axis = or_panic(normalize_axis("argmax", axis, self.ndim()));
        let (_, flat) = self.max_with_indices(&[axis as isize], false);
        let stride = contiguous_strides(self.shape())[axis];
        flat.iter()
            .map(|&i| (i / stride) % self.shape()[axis])
            .collect()
    }

    /// Sums `self` down to `shape`, undoing a broadcast from `shape` to `self.shape()`:
    /// extra leading axes are summed away and axes where `shape` has 1 are summed with keepdim.
    ///
    /// ```
    /// use tensor::Tensor;
    /// let g = Tensor::ones(&[4, 2, 3], tensor::DType::F32);
    /// assert_eq!(g.sum_to(&[2, 1]).to_vec::<f32>(), [12.0, 12.0]);
    /// ```
    ///
    /// # Panics
    /// If `shape` does not broadcast to `self.shape()`.
    #[track_caller]
    pub fn sum_to(&self, shape: &[usize]) -> Tensor {
        or_panic(self.try_sum_to(shape))
    }

    /// [`Tensor::sum_to`] returning an error instead of panicking.
    #[track_caller]
    pub fn try_sum_to(&self, shape: &[usize]) -> Result<Tensor> {
        if self.shape() == shape {
            return Ok(self.clone());
        }
        let axes = sum_to_axes("sum_to", self.shape(), shape)?;
        Ok(self.sum(&axes, true).reshape(shape))
    }

    /// `(self ⊙ other).sum_to(shape)` without making the product: the gradient of a factor
    /// that was broadcast in a product (a per-channel scale, a step size shared by tasks),
    /// which the two-step form writes out at full size only to sum it. The result is the
    /// two-step one bit for bit: the products are rounded as `mul` rounds them and summed in
    /// the order `sum_to` sums.
    ///
    /// ```
    /// use tensor::Tensor;
    /// let g = Tensor::from_vec(vec![1.0f32, 2.0, 3.0, 4.0], &[2, 2])?;
    /// let x = Tensor::from_vec(vec![5.0f32, 6.0, 7.0, 8.0], &[2, 2])?;
    /// assert_eq!(g.mul_sum_to(&x, &[2]).to_vec::<f32>(), [26.0, 44.0]);
    /// # Ok::<(), tensor::TensorError>(())
    /// ```
    ///
    /// # Panics
    /// As [`Tensor::mul`] and [`Tensor::sum_to`]; [`Tensor::try_mul_sum_to`] returns the
    /// error instead.
    #[track_caller]
    pub fn mul_sum_to(&self, other: &Tensor, shape: &[usize]) -> Tensor {
        or_panic(self.try_mul_sum_to(other, shape))
    }

    /// [`Tensor::mul_sum_to`] returning an error instead of panicking.
    #[track_caller]
    pub fn try_mul_sum_to(&self, other: &Tensor, shape: &[usize]) -> Result<Tensor> {
        // The fused loops cover two contiguous operands of one shape (what gradients are);
        // anything else takes the two steps.
        let fused = self.shape() == other.shape()
            && self.shape() != shape
            && self.dtype() == other.dtype()
            && self.is_contiguous()
            && other.is_contiguous();
        if !fused {
            return self.try_zip(BinaryOp::Mul, other)?.try_sum_to(shape);
        }
        let axes = sum_to_axes("mul_sum_to", self.shape(), shape)?;
        let plan = Plan::new("mul_sum_to", self.shape(), &axes)?;
        let values = with_dtype!(self.dtype(), T => Tensor::from_parts(
            reduce_product::<T>(self, other, &plan),
            &plan.kept_shape,
        ));
        Ok(values.reshape(shape))
    }
}
