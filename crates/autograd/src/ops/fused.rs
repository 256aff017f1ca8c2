//! Fused primitives: one kernel where the composite would make two or three passes over
//! memory. Each rule is again written with fused primitives, so the set stays closed and the
//! saving carries over to every order of differentiation.

use smallvec::smallvec;
use tensor::Tensor;

use crate::ops::only;
use crate::primitive::{when, Grads, Primitive};
use crate::var::Var;

// ----- sub_mul: x − a ⊙ b -----

impl Var {
    /// `self − a ⊙ b`, all broadcast: the inner step `θ − α ⊙ g` of Meta-SGD in one pass (the
    /// composite `self − &(a * b)` makes two, and three more in its backward pass).
    ///
    /// # Panics
    /// If the shapes do not broadcast or the element types differ.
    pub fn sub_mul(&self, a: &Var, b: &Var) -> Var {
        let value = self.value().sub_mul(a.value(), b.value());
        Var::record(value, SubMul, &[self, a, b])
    }
}

struct SubMul;
impl Primitive for SubMul {
    fn name(&self) -> &'static str {
        "sub_mul"
    }
    // ∂/∂x = 1, ∂/∂a = −b, ∂/∂b = −a. The last two are 0 − g⊙b and 0 − g⊙a: sub_mul again.
    fn vjp(&self, x: &[Var], _: &Var, g: &Var, needs: &[bool]) -> Grads {
        let zero = Var::scalar(0.0, g.dtype());
        smallvec![
            when(needs[0], || g.clone()),
            when(needs[1], || zero.sub_mul(g, &x[2])),
            when(needs[2], || zero.sub_mul(g, &x[1])),
        ]
    }
}

// ----- relu_backward: g ⊙ [x > 0] -----

impl Var {
    /// `self ⊙ [x > 0]` with the mask held constant: ReLU's backward pass as one kernel.
    pub fn relu_backward(&self, x: &Tensor) -> Var {
        let value = self.value().relu_backward(x);
        Var::record(value, ReluBackward(x.clone()), &[self])
    }
}

/// Remembers the ReLU input whose sign pattern is the mask.
struct ReluBackward(Tensor);
impl Primitive for ReluBackward {
    fn name(&self) -> &'static str {
        "relu_backward"
    }
    // Linear in g with a constant mask: its own VJP masks the same way.
    fn vjp(&self, _: &[Var], _: &Var, g: &Var, _: &[bool]) -> Grads {
        only(g.relu_backward(&self.0))
    }
}
