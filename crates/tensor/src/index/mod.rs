//! Index ops: elements picked by position, and the adjoint that puts them back.
//!
//! Everything here rests on one closed pair of primitives over *flat* indices (the row-major
//! position of an element as if the tensor were contiguous, whatever its strides):
//!
//! ```text
//! take(x, i)[k]               = x.flat[i[k]]
//! scatter_add(g, i, shape)[j] = Σ_{k : i[k] = j} g.flat[k]
//! ```
//!
//! Each is the other's adjoint, `⟨take(x, i), g⟩ = Σ_k x[i[k]]·g[k] = ⟨x, scatter_add(g, i)⟩`,
//! so the VJP of one is the other and autodiff stays closed under differentiation to any
//! order. [`Tensor::gather`] and [`Tensor::index_select`] are `take` of flat indices computed
//! by [`gather_flat_indices`] and [`index_select_flat_indices`]; autograd calls those helpers
//! once and reuses the indices for the backward scatter.
//!
//! [`join`] holds the ops that assemble a bigger tensor from pieces: concat, stack, pad.

pub mod join;

use rayon::prelude::*;

use crate::element::{DType, Element};
use crate::error::{fmt_shape, Result, TensorError};
use crate::layout::{contiguous_strides, normalize_axis};
use crate::tensor::Tensor;
use crate::unary::PARALLEL_MIN_ELEMENTS;
use crate::view::or_panic;
use crate::walk::Walk;
use crate::with_dtype;

/// Checks that `indices.len()` is the element count of `shape`.
fn check_count(op: &'static str, what: &str, count: usize, shape: &[usize]) -> Result<()> {
    let numel: usize = shape.iter().product();
    if count != numel {
        return Err(TensorError::shape(
            op,
            format!(
                "{count} {what} cannot fill shape {} ({numel} elements)",
                fmt_shape(shape)
            ),
        ));
    }
    Ok(())
}

/// Checks every flat index against the `numel` elements of `shape`.
fn check_flat(op: &'static str, indices: &[usize], shape: &[usize]) -> Result<()> {
    let numel: usize = shape.iter().product();
    match indices.iter().position(|&i| i >= numel) {
        Some(k) => Err(TensorError::index(
            op,
            format!(
                "flat index {} (position {k}) is out of range for {numel} elements of shape {}",
                indices[k],
                fmt_shape(shape)
            ),
        )),
        None => Ok(()),
    }
}

/// Checks every index against the size of `axis` of `shape`.
fn check_along_axis(
    op: &'static str,
    indices: &[usize],
    axis: usize,
    shape: &[usize],
) -> Result<()> {
    let size = shape[axis];
    match indices.iter().position(|&i| i >= size) {
        Some(k) => Err(TensorError::index(
            op,
            format!(
                "index {} (position {k}) is out of range for size {size} of axis {axis} of shape {}",
                indices[k],
                fmt_shape(shape)
            ),
        )),
        None => Ok(()),
    }
}

/// The flat indices for `gather` along `axis` of a tensor of `shape` (torch.gather):
/// position `p` of `index_shape` reads the element at `p` with its `axis` coordinate replaced
/// by `index[p]`. `index_shape` has the same number of axes as `shape` and is no larger on the
/// other axes.
///
/// ```
/// use tensor::index::gather_flat_indices;
/// // From a [2, 3] tensor, pick column 2 of row 0 and column 0 of row 1.
/// assert_eq!(gather_flat_indices(&[2, 3], 1, &[2, 0], &[2, 1])?, [2, 3]);
/// # Ok::<(), tensor::TensorError>(())
/// ```
///
/// # Errors
/// If the axis counts differ, `index` does not fill `index_shape`, `index_shape` is larger
/// than `shape` on an axis other than `axis`, or an index is not below `shape[axis]`.
#[track_caller]
pub fn gather_flat_indices(
    shape: &[usize],
    axis: usize,
    index: &[usize],
    index_shape: &[usize],
) -> Result<Vec<usize>> {
    let op = "gather";
    let axis = normalize_axis(op, axis as isize, shape.len())?;
    let shapes = || {
        format!(
            "index shape {} and input shape {}",
            fmt_shape(index_shape),
            fmt_shape(shape)
        )
    };
    if index_shape.len() != shape.len() {
        return Err(TensorError::shape(
            op,
            format!("{}: axis counts differ", shapes()),
        ));
    }
    if let Some(d) = (0..shape.len()).find(|&d| d != axis && index_shape[d] > shape[d]) {
        return Err(TensorError::shape(
            op,
            format!(
                "{}: the index is larger on axis {d}, which is not the gather axis {axis}",
                shapes()
            ),
        ));
    }
    check_count(op, "indices", index.len(), index_shape)?;
    check_along_axis(op, index, axis, shape)?;
    // Flat position of p with its `axis` coordinate zeroed: walk `index_shape` with the
    // input's row-major strides, stride 0 on `axis`; then add index[p] · stride[axis].
    let mut strides = contiguous_strides(shape);
    let axis_stride = std::mem::replace(&mut strides[axis], 0);
    let mut flat = Vec::with_capacity(index.len());
    let walk = Walk::new(index_shape, [&strides]);
    let (len, step) = (walk.run_len(), walk.run_stride(0));
    walk.for_each_run([0], |[base]| {
        let at = flat.len();
        flat.extend((0..len).map(|n| base + n * step + index[at + n] * axis_stride));
    });
    Ok(flat)
}

/// The flat indices for `index_select` along `axis` of a tensor of `shape`: the slices at
/// positions `indices` (in that order, repeats allowed) of `axis`. The result has `shape`
/// with `shape[axis]` replaced by `indices.len()`.
///
/// ```
/// use tensor::index::index_select_flat_indices;
/// // Rows 2 and 0 of a [3, 2] tensor.
/// assert_eq!(index_select_flat_indices(&[3, 2], 0, &[2, 0])?, [4, 5, 0, 1]);
/// # Ok::<(), tensor::TensorError>(())
/// ```
///
/// # Errors
/// If `axis` is out of range or an index is not below `shape[axis]`.
#[track_caller]
pub fn index_select_flat_indices(
    shape: &[usize],
    axis: usize,
    indices: &[usize],
) -> Result<Vec<usize>> {
    let op = "index_select";
    let axis = normalize_axis(op, axis as isize, shape.len())?;
    check_along_axis(op, indices, axis, shape)?;
    let size = shape[axis];
    // Row-major: [outer, size, inner] → [outer, indices.len(), inner].
    let outer: usize = shape[..axis].iter().product();
    let inner: usize = shape[axis + 1..].iter().product();
    let mut flat = Vec::with_capacity(outer * indices.len() * inner);
    for o in 0..outer {
        for &i in indices {
            let start = (o * size + i) * inner;
            flat.extend(start..start + inner);
        }
    }
    Ok(flat)
}

fn take_kernel<T: Element>(x: &Tensor, flat_indices: &[usize], shape: &[usize]) -> Tensor {
    let src = x.to_contiguous_cow::<T>();
    let src: &[T] = &src;
    let out: Vec<T> = if crate::parallel::split(flat_indices.len() >= PARALLEL_MIN_ELEMENTS) {
        flat_indices.par_iter().map(|&i| src[i]).collect()
    } else {
        flat_indices.iter().map(|&i| src[i]).collect()
    };
    Tensor::from_parts(out, shape)
}

fn scatter_add_kernel<T: Element>(g: &Tensor, flat_indices: &[usize], shape: &[usize]) -> Tensor {
    let src = g.to_contiguous_cow::<T>();
    let mut out = crate::buffer::zeros::<T>(shape.iter().product());
    // NOTE: sequential on purpose: repeated indices accumulate in position order, so the sum
    // does not depend on the number of threads.
    for (&i, &v) in flat_indices.iter().zip(src.iter()) {
        out[i] += v;
    }
    Tensor::from_parts(out, shape)
}

impl Tensor {
    /// A tensor of `shape` whose element `k` (row-major) is `self`'s element at flat index
    /// `flat_indices[k]`.
    ///
    /// ```
    /// use tensor::{DType, Tensor};
    /// let x = Tensor::arange(10.0, 16.0, 1.0, DType::F32).reshape(&[2, 3]);
    /// let picked = x.take(&[5, 0, 0, 3], &[2, 2]);
    /// assert_eq!(picked.to_vec::<f32>(), [15.0, 10.0, 10.0, 13.0]);
    /// ```
    ///
    /// # Panics
    /// If `flat_indices.len()` is not the element count of `shape`, or an index is not below
    /// `self.numel()`; [`Tensor::try_take`] returns the error.
    #[track_caller]
    pub fn take(&self, flat_indices: &[usize], shape: &[usize]) -> Tensor {
        or_panic(self.try_take(flat_indices, shape))
    }

    /// [`Tensor::take`] returning an error instead of panicking.
    ///
    /// ```
    /// use tensor::{DType, Tensor};
    /// let err = Tensor::zeros(&[2, 3], DType::F32).try_take(&[6], &[1]).unwrap_err();
    /// assert_eq!(
    ///     err.to_string(),
    ///     "take: flat index 6 (position 0) is out of range for 6 elements of shape [2, 3]"
    /// );
    /// ```
    #[track_caller]
    pub fn try_take(&self, flat_indices: &[usize], shape: &[usize]) -> Result<Tensor> {
        check_count("take", "indices", flat_indices.len(), shape)?;
        check_flat("take", flat_indices, self.shape())?;
        Ok(with_dtype!(self.dtype(), T => take_kernel::<T>(self, flat_indices, shape)))
    }

    /// Zeros of `shape` with `self`'s element `k` (row-major) added at flat index
    /// `flat_indices[k]`; repeated indices accumulate. The adjoint of [`Tensor::take`].
    ///
    /// ```
    /// use tensor::Tensor;
    /// let g = Tensor::from_vec(vec![1.0f64, 2.0, 3.0], &[3])?;
    /// let back = g.scatter_add(&[4, 0, 4], &[2, 3]);
    /// assert_eq!(back.to_vec::<f64>(), [2.0, 0.0, 0.0, 0.0, 4.0, 0.0]);
    /// # Ok::<(), tensor::TensorError>(())
    /// ```
    ///
    /// # Panics
    /// If `flat_indices.len()` is not `self.numel()`, or an index is not below the element
    /// count of `shape`; [`Tensor::try_scatter_add`] returns the error.
    #[track_caller]
    pub fn scatter_add(&self, flat_indices: &[usize], shape: &[usize]) -> Tensor {
        or_panic(self.try_scatter_add(flat_indices, shape))
    }

    /// [`Tensor::scatter_add`] returning an error instead of panicking.
    #[track_caller]
    pub fn try_scatter_add(&self, flat_indices: &[usize], shape: &[usize]) -> Result<Tensor> {
        check_count("scatter_add", "indices", flat_indices.len(), self.shape())?;
        check_flat("scatter_add", flat_indices, shape)?;
        Ok(with_dtype!(self.dtype(), T => scatter_add_kernel::<T>(self, flat_indices, shape)))
    }

    /// torch.gather: the result has `index_shape`, and for `axis = 1` of a 3-d tensor
    /// `out[i][j][k] = self[i][index[i][j][k]][k]` (`index` is row-major over `index_shape`).
    ///
    /// ```
    /// use tensor::Tensor;
    /// let x = Tensor::from_vec(vec![1.0f32, 2.0, 3.0, 4.0, 5.0, 6.0], &[2, 3])?;
    /// // Per row, the entries at columns [2, 2] and [0, 1].
    /// let out = x.gather(1, &[2, 2, 0, 1], &[2, 2]);
    /// assert_eq!(out.to_vec::<f32>(), [3.0, 3.0, 4.0, 5.0]);
    /// # Ok::<(), tensor::TensorError>(())
    /// ```
    ///
    /// # Panics
    /// On the errors of [`gather_flat_indices`]; [`Tensor::try_gather`] returns them.
    #[track_caller]
    pub fn gather(&self, axis: isize, index: &[usize], index_shape: &[usize]) -> Tensor {
        or_panic(self.try_gather(axis, index, index_shape))
    }

    /// [`Tensor::gather`] returning an error instead of panicking.
    #[track_caller]
    pub fn try_gather(
        &self,
        axis: isize,
        index: &[usize],
        index_shape: &[usize],
    ) -> Result<Tensor> {
        let axis = normalize_axis("gather", axis, self.ndim())?;
        let flat = gather_flat_indices(self.shape(), axis, index, index_shape)?;
        self.try_take(&flat, index_shape)
    }

    /// The slices at positions `indices` of `axis`, in that order (repeats allowed): an
    /// embedding lookup is `table.index_select(0, &token_ids)`.
    ///
    /// ```
    /// use tensor::Tensor;
    /// let x = Tensor::from_vec(vec![1.0f32, 2.0, 3.0, 4.0, 5.0, 6.0], &[3, 2])?;
    /// assert_eq!(x.index_select(0, &[2, 2, 0]).to_vec::<f32>(), [5.0, 6.0, 5.0, 6.0, 1.0, 2.0]);
    /// assert_eq!(x.index_select(-1, &[1]).to_vec::<f32>(), [2.0, 4.0, 6.0]);
    /// # Ok::<(), tensor::TensorError>(())
    /// ```
    ///
    /// # Panics
    /// If `axis` is out of range or an index is not below its size;
    /// [`Tensor::try_index_select`] returns the error.
    #[track_caller]
    pub fn index_select(&self, axis: isize, indices: &[usize]) -> Tensor {
        or_panic(self.try_index_select(axis, indices))
    }

    /// [`Tensor::index_select`] returning an error instead of panicking.
    #[track_caller]
    pub fn try_index_select(&self, axis: isize, indices: &[usize]) -> Result<Tensor> {
        let axis = normalize_axis("index_select", axis, self.ndim())?;
        let flat = index_select_flat_indices(self.shape(), axis, indices)?;
        let mut shape = self.shape().to_vec();
        shape[axis] = indices.len();
        self.try_take(&flat, &shape)
    }

    /// A `[labels.len(), classes]` tensor with a 1 at `[n, labels[n]]` and 0 elsewhere.
    ///
    /// ```
    /// use tensor::{DType, Tensor};
    /// let t = Tensor::one_hot(&[2, 0], 3, DType::F32);
    /// assert_eq!(t.to_vec::<f32>(), [0.0, 0.0, 1.0, 1.0, 0.0, 0.0]);
    /// ```
    ///
    /// # Panics
    /// If a label is not below `classes`, naming the label and the class count;
    /// [`Tensor::try_one_hot`] returns the error.
    #[track_caller]
    pub fn one_hot(labels: &[usize], classes: usize, dtype: DType) -> Tensor {
        or_panic(Tensor::try_one_hot(labels, classes, dtype))
    }

    /// [`Tensor::one_hot`] returning an error instead of panicking.
    ///
    /// ```
    /// use tensor::{DType, Tensor};
    /// let err = Tensor::try_one_hot(&[1, 3], 3, DType::F32).unwrap_err();
    /// assert_eq!(err.to_string(), "one_hot: label 3 (position 1) is out of range for 3 classes");
    /// ```
    #[track_caller]
    pub fn try_one_hot(labels: &[usize], classes: usize, dtype: DType) -> Result<Tensor> {
        if let Some(k) = labels.iter().position(|&l| l >= classes) {
            return Err(TensorError::index(
                "one_hot",
                format!(
                    "label {} (position {k}) is out of range for {classes} classes",
                    labels[k]
                ),
            ));
        }
        Ok(with_dtype!(dtype, T => {
            let mut data = crate::buffer::zeros::<T>(labels.len() * classes);
            for (row, &label) in labels.iter().enumerate() {
                data[row * classes + label] = T::ONE;
            }
            Tensor::from_parts(data, &[labels.len(), classes])
        }))
    }
}
