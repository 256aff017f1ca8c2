//! Primitives that move elements without arithmetic: reshape, permute, broadcast and its
//! inverse sum_to, narrow and its inverse pad, concat. Their rules come in adjoint pairs —
//! broadcast ↔ sum_to, narrow ↔ pad — so the set is closed: the gradient of a gradient never
//! needs an operation outside it.
//!
//! The forward passes are views where the tensor crate can make one (no copy).

use smallvec::{smallvec, SmallVec};
use tensor::Tensor;

use crate::ops::only;
use crate::primitive::{when, Grads, Primitive};
use crate::var::Var;

// ----- reshape (and the views that are reshapes: unsqueeze, squeeze, flatten) -----

impl Var {
    /// The same elements in `shape`, row-major.
    ///
    /// # Panics
    /// If the element counts differ.
    #[track_caller]
    pub fn reshape(&self, shape: &[usize]) -> Var {
        Var::record(self.value().reshape(shape), Reshape, &[self])
    }

    /// A new size-1 axis at `axis`.
    #[track_caller]
    pub fn unsqueeze(&self, axis: isize) -> Var {
        Var::record(self.value().unsqueeze(axis), Reshape, &[self])
    }

    /// `axis` (of size 1) removed.
    #[track_caller]
    pub fn squeeze(&self, axis: isize) -> Var {
        Var::record(self.value().squeeze(axis), Reshape, &[self])
    }

    /// Axes from `start` on merged into one.
    #[track_caller]
    pub fn flatten_from(&self, start: usize) -> Var {
        Var::record(self.value().flatten_from(start), Reshape, &[self])
    }
}

/// Any op that keeps the elements in row-major order and changes only the shape.
struct Reshape;
impl Primitive for Reshape {
    fn name(&self) -> &'static str {
        "reshape"
    }
    // The identity on elements: reshape the gradient back.
    fn vjp(&self, x: &[Var], _: &Var, g: &Var, _: &[bool]) -> Grads {
        only(g.reshape(x[0].shape()))
    }
}

// ----- permute (and transpose) -----

impl Var {
    /// Axes reordered: axis `k` of the result is axis `perm[k]` of `self`.
    #[track_caller]
    pub fn permute(&self, perm: &[usize]) -> Var {
        let value = self.value().permute(perm);
        Var::record(value, Permute(perm.into()), &[self])
    }

    /// Axes `a` and `b` swapped.
    #[track_caller]
    pub fn transpose(&self, a: isize, b: isize) -> Var {
        let ndim = self.ndim() as isize;
        let (a, b) = ((a + ndim) % ndim.max(1), (b + ndim) % ndim.max(1));
        let mut perm: SmallVec<[usize; 4]> = (0..self.ndim()).collect();
        perm.swap(a as usize, b as usize);
        self.permute(&perm)
    }

    /// The last two axes swapped.
    #[track_caller]
    pub fn t(&self) -> Var {
        self.transpose(-2, -1)
    }
}

struct Permute(SmallVec<[usize; 4]>);
impl Primitive for Permute {
    fn name(&self) -> &'static str {
        "permute"
    }
    // A permutation's adjoint is its inverse: axis perm[k] of the input came from axis k.
    fn vjp(&self, _: &[Var], _: &Var, g: &Var, _: &[bool]) -> Grads {
        let mut inverse: SmallVec<[usize; 4]> = smallvec![0; self.0.len()];
        for (k, &p) in self.0.iter().enumerate() {
            inverse[p] = k;
        }
        only(g.permute(&inverse))
    }
}

// ----- broadcast_to ↔ sum_to -----

impl Var {
    /// Repeated along new leading axes and size-1 axes up to `shape` (a view).
    #[track_caller]
    pub fn broadcast_to(&self, shape: &[usize]) -> Var {
        Var::record(self.value().broadcast_to(shape), BroadcastTo, &[self])
    }

    /// Summed down to `shape`, the inverse of broadcasting to `self.shape()`.
    #[track_caller]
    pub fn sum_to(&self, shape: &[usize]) -> Var {
        Var::record(self.value().sum_to(shape), SumTo, &[self])
    }
}

struct BroadcastTo;
impl Primitive for BroadcastTo {
    fn name(&self) -> &'static str {
        "broadcast_to"
    }
    // Each input element was copied to many outputs: its gradient is the sum of theirs.
    // Returning `g` as is lets the engine do that sum (`sum_to`), its one place for it.
    fn vjp(&self, _: &[Var], _: &Var, g: &Var, _: &[bool]) -> Grads {
        only(g.clone())
    }
    fn is_broadcast(&self) -> bool {
        true
    }
}

struct SumTo;
impl Primitive for SumTo {
    fn name(&self) -> &'static str {
        "sum_to"
    }
    // Each output is a sum of inputs: each input receives its output's gradient.
    fn vjp(&self, x: &[Var], _: &Var, g: &Var, _: &[bool]) -> Grads {
        only(g.broadcast_to(x[0].shape()))
    }
}

// ----- narrow ↔ pad -----

impl Var {
    /// Elements `start .. start + len` along `axis`.
    #[track_caller]
    pub fn narrow(&self, axis: isize, start: usize, len: usize) -> Var {
        let value = self.value().narrow(axis, start, len);
        let axis = if axis < 0 {
            axis + self.ndim() as isize
        } else {
            axis
        } as usize;
        let after = self.shape()[axis] - start - len;
        let mut padding: SmallVec<[(usize, usize); 4]> = smallvec![(0, 0); self.ndim()];
        padding[axis] = (start, after);
        Var::record(value, Narrow(padding), &[self])
    }

    /// Zeros added around each axis: `padding[k] = (before, after)`.
    #[track_caller]
    pub fn pad(&self, padding: &[(usize, usize)]) -> Var {
        Var::record(self.value().pad(padding), Pad(padding.into()), &[self])
    }
}

/// Remembers the narrow as the padding that would undo it.
struct Narrow(SmallVec<[(usize, usize); 4]>);
impl Primitive for Narrow {
    fn name(&self) -> &'static str {
        "narrow"
    }
    // The elements cut away get no gradient: pad g back with zeros.
    fn vjp(&self, _: &[Var], _: &Var, g: &Var, _: &[bool]) -> Grads {
        only(g.pad(&self.0))
    }
    // Several slices of one tensor (an LSTM's four gates) each add their block, where the
    // padded copies would each write, and then add, the whole tensor.
    fn add_vjp_into(&self, sum: &mut Tensor, grad: &Tensor) -> bool {
        sum.add_assign_within(&self.0, grad);
        true
    }
}

struct Pad(SmallVec<[(usize, usize); 4]>);
impl Primitive for Pad {
    fn name(&self) -> &'static str {
        "pad"
    }
    // The padding zeros are constants: keep only the gradient of the original elements.
    fn vjp(&self, x: &[Var], _: &Var, g: &Var, _: &[bool]) -> Grads {
        let mut inner = g.clone();
        for (axis, (&(before, _), &size)) in self.0.iter().zip(x[0].shape()).enumerate() {
            if inner.shape()[axis] != size {
                inner = inner.narrow(axis as isize, before, size);
            }
        }
        only(inner)
    }
}

// ----- concat (and stack) -----

impl Var {
    /// The `Var`s joined along `axis`.
    ///
    /// # Panics
    /// If the list is empty or the shapes differ off `axis` (the message names both shapes).
    #[track_caller]
    pub fn concat(vars: &[&Var], axis: isize) -> Var {
        let values: Vec<&tensor::Tensor> = vars.iter().map(|v| v.value()).collect();
        let value = tensor::Tensor::concat(&values, axis);
        let ndim = value.ndim() as isize;
        let axis = if axis < 0 { axis + ndim } else { axis };
        Var::record(value, Concat(axis), vars)
    }

    /// The `Var`s (of one shape) stacked along a new axis.
    #[track_caller]
    pub fn stack(vars: &[&Var], axis: isize) -> Var {
        let ndim = vars.first().map_or(0, |v| v.ndim()) as isize;
        let axis = if axis < 0 { axis + ndim + 1 } else { axis };
        let expanded: Vec<Var> = vars.iter().map(|v| v.unsqueeze(axis)).collect();
        Var::concat(&expanded.iter().collect::<Vec<_>>(), axis)
    }
}

struct Concat(isize);
impl Primitive for Concat {
    fn name(&self) -> &'static str {
        "concat"
    }
    // Each input's gradient is its own stretch of g along the axis.
    fn vjp(&self, x: &[Var], _: &Var, g: &Var, needs: &[bool]) -> Grads {
        let axis = self.0 as usize;
        let mut start = 0;
        let mut grads = Grads::new();
        for (input, &need) in x.iter().zip(needs) {
            let len = input.shape()[axis];
            grads.push(when(need, || g.narrow(self.0, start, len)));
            start += len;
        }
        grads
    }
}
