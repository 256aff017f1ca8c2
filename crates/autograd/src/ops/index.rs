//! Picking elements: the primitive pair `take` ↔ `scatter_add`, and everything built on it.
//!
//! `take` reads elements at *flat* (row-major) indices; `scatter_add` adds values into zeros
//! at flat indices. Each is the other's adjoint, so the pair is closed under
//! differentiation. Every op that selects elements becomes a `take` once its indices are
//! known: `max` (indices of the maxima), `max_pool2d` (of each window's maximum), `gather`
//! and `index_select`. Those indices are computed from values and held fixed, which is the
//! derivative almost everywhere.

use std::sync::Arc;

use crate::ops::only;
use crate::primitive::{Grads, Primitive};
use crate::var::Var;

// ----- take ↔ scatter_add -----

impl Var {
    /// `out.flat[k] = self.flat[indices[k]]`, shaped `shape`.
    ///
    /// # Panics
    /// If an index is out of range or `shape` does not hold `indices.len()` elements.
    #[track_caller]
    pub fn take(&self, indices: &[usize], shape: &[usize]) -> Var {
        self.take_shared(indices.into(), shape)
    }

    #[track_caller]
    fn take_shared(&self, indices: Arc<[usize]>, shape: &[usize]) -> Var {
        let value = self.value().take(&indices, shape);
        Var::record(value, Take(indices), &[self])
    }

    /// Zeros of `shape` with `self.flat[k]` added at `indices[k]` (repeats accumulate).
    ///
    /// # Panics
    /// If an index is out of range or the counts differ.
    #[track_caller]
    pub fn scatter_add(&self, indices: &[usize], shape: &[usize]) -> Var {
        self.scatter_add_shared(indices.into(), shape)
    }

    #[track_caller]
    fn scatter_add_shared(&self, indices: Arc<[usize]>, shape: &[usize]) -> Var {
        let value = self.value().scatter_add(&indices, shape);
        Var::record(value, ScatterAdd(indices), &[self])
    }
}

struct Take(Arc<[usize]>);
impl Primitive for Take {
    fn name(&self) -> &'static str {
        "take"
    }
    // ∂out_k/∂x_i = [i = indices[k]]: each picked element receives its output's gradient,
    // summed where it was picked more than once.
    fn vjp(&self, x: &[Var], _: &Var, g: &Var, _: &[bool]) -> Grads {
        only(g.scatter_add_shared(Arc::clone(&self.0), x[0].shape()))
    }
}

struct ScatterAdd(Arc<[usize]>);
impl Primitive for ScatterAdd {
    fn name(&self) -> &'static str {
        "scatter_add"
    }
    // ∂out_i/∂v_k = [i = indices[k]]: each value reads the gradient of the slot it went to.
    fn vjp(&self, x: &[Var], _: &Var, g: &Var, _: &[bool]) -> Grads {
        only(g.take_shared(Arc::clone(&self.0), x[0].shape()))
    }
}

// ----- composites -----

impl Var {
    /// Largest element over `axes`. The gradient goes to the (first) maximum.
    #[track_caller]
    pub fn max(&self, axes: &[isize], keepdim: bool) -> Var {
        let (value, indices) = self.value().max_with_indices(axes, keepdim);
        self.take_shared(indices.into(), value.shape())
    }

    /// Smallest element over `axes`: `−max(−x)`.
    #[track_caller]
    pub fn min(&self, axes: &[isize], keepdim: bool) -> Var {
        // Checked here, so that a bad axis is reported as an error of `min`, not of `max`.
        tensor::view::or_panic(tensor::reduce::reduced_shape(
            "min",
            self.shape(),
            axes,
            keepdim,
        ));
        self.neg().max(axes, keepdim).neg()
    }

    /// Elements picked along `axis` by `index` (of shape `index_shape`), as `torch.gather`:
    /// for axis 1, `out[i][j] = x[i][index[i][j]]`.
    #[track_caller]
    pub fn gather(&self, axis: isize, index: &[usize], index_shape: &[usize]) -> Var {
        let axis =
            tensor::view::or_panic(tensor::layout::normalize_axis("gather", axis, self.ndim()));
        let flat = tensor::view::or_panic(tensor::index::gather_flat_indices(
            self.shape(),
            axis,
            index,
            index_shape,
        ));
        self.take_shared(flat.into(), index_shape)
    }

    /// The slices at `indices` along `axis` (repeats allowed).
    #[track_caller]
    pub fn index_select(&self, axis: isize, indices: &[usize]) -> Var {
        let value = self.value().index_select(axis, indices);
        let axis = tensor::view::or_panic(tensor::layout::normalize_axis(
            "index_select",
            axis,
            self.ndim(),
        ));
        let flat = tensor::view::or_panic(tensor::index::index_select_flat_indices(
            self.shape(),
            axis,
            indices,
        ));
        self.take_shared(flat.into(), value.shape())
    }
}
