//! The one reduction primitive, `sum`, and the reductions composed from it.
//!
//! `max` is not here: it picks elements, so it is a `take` (see [`crate::ops::index`]).

use smallvec::SmallVec;
use tensor::reduce::reduced_shape;

use crate::ops::only;
use crate::primitive::{Grads, Primitive};
use crate::var::Var;

// ----- sum -----

impl Var {
    /// Sum over `axes` (negative counts from the end); `keepdim` keeps them as size 1.
    ///
    /// # Panics
    /// On an axis out of range.
    pub fn sum(&self, axes: &[isize], keepdim: bool) -> Var {
        let value = self.value().sum(axes, keepdim);
        // Remember the shape with reduced axes kept, to undo a `keepdim = false`.
        let kept = reduced_shape("sum", self.shape(), axes, true).expect("axes checked by sum");
        Var::record(value, Sum { kept }, &[self])
    }
}

struct Sum {
    kept: SmallVec<[usize; 4]>,
}
impl Primitive for Sum {
    fn name(&self) -> &'static str {
        "sum"
    }
    // ∂(Σᵢ xᵢ)/∂xⱼ = 1: every input element receives the gradient of its sum, i.e. g is
    // broadcast back over the reduced axes.
    fn vjp(&self, x: &[Var], _: &Var, g: &Var, _: &[bool]) -> Grads {
        only(g.reshape(&self.kept).broadcast_to(x[0].shape()))
    }
}

// ----- composites -----

impl Var {
    /// The sum of all elements, as a 0-d `Var`.
    pub fn sum_all(&self) -> Var {
        let axes: SmallVec<[isize; 4]> = (0..self.ndim() as isize).collect();
        self.sum(&axes, false)
    }

    /// Mean over `axes`: the sum divided by the number of elements summed.
    pub fn mean(&self, axes: &[isize], keepdim: bool) -> Var {
        let summed = self.sum(axes, keepdim);
        let count = self.numel() / summed.numel().max(1);
        summed.mul_scalar(1.0 / count as f64)
    }

    /// The mean of all elements, as a 0-d `Var`.
    pub fn mean_all(&self) -> Var {
        self.sum_all().mul_scalar(1.0 / self.numel() as f64)
    }
}
