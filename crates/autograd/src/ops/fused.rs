//! Fused primitives: one kernel where the composite would make two or three passes over
//! memory. Each rule is again written with fused primitives, so the set stays closed and the
//! saving carries over to every order of differentiation.

use smallvec::smallvec;
use tensor::{Shape, Tensor};

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
    #[track_caller]
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

    // A factor that was broadcast (α shared by a stack of tasks, a per-channel scale) gets
    // −Σ g⊙(other factor) over the broadcast axes: one `mul_sum_to` instead of a full-size
    // product that the engine then sums. Negating the sum is exact, so the values are those
    // of the plain rule.
    fn vjp_summed(&self, x: &[Var], _: &Var, g: &Var, needs: &[bool], sums: &[&[usize]]) -> Grads {
        let factor = |k: usize, other: &Var| {
            when(needs[k], || {
                if sums[k] != g.shape() && other.shape() == g.shape() {
                    g.mul_sum_to(other, sums[k]).neg()
                } else {
                    Var::scalar(0.0, g.dtype()).sub_mul(g, other)
                }
            })
        };
        smallvec![
            when(needs[0], || g.clone()),
            factor(1, &x[2]),
            factor(2, &x[1]),
        ]
    }
}

// ----- mul_sum_to: (x ⊙ y) summed down to a shape -----

impl Var {
    /// `(self ⊙ other).sum_to(shape)` in one pass, without the full-size product: the
    /// gradient of a broadcast factor of a product (`Tensor::mul_sum_to`).
    ///
    /// # Panics
    /// If the shapes do not broadcast or `shape` is not a shape they sum down to.
    #[track_caller]
    pub fn mul_sum_to(&self, other: &Var, shape: &[usize]) -> Var {
        let value = self.value().mul_sum_to(other.value(), shape);
        let product = tensor::layout::broadcast_shapes("mul_sum_to", self.shape(), other.shape())
            .expect("mul_sum_to succeeded, so the shapes broadcast");
        Var::record(value, MulSumTo { product }, &[self, other])
    }
}

/// Remembers the shape of the product that was summed.
struct MulSumTo {
    product: Shape,
}
impl Primitive for MulSumTo {
    fn name(&self) -> &'static str {
        "mul_sum_to"
    }
    // Each output is Σ x⊙y over the copies summed into it, so each entry of x receives its
    // output's gradient times its partner in y: g ⊙ y at the product's shape (which the
    // engine sums down to x's where x was broadcast), and likewise for y.
    fn vjp(&self, x: &[Var], _: &Var, g: &Var, needs: &[bool]) -> Grads {
        let at_product = |v: Var| {
            if v.shape() == self.product.as_slice() {
                v
            } else {
                v.broadcast_to(&self.product)
            }
        };
        smallvec![
            when(needs[0], || at_product(g * &x[1])),
            when(needs[1], || at_product(g * &x[0])),
        ]
    }
}

// ----- relu_backward: g ⊙ [x > 0] -----

impl Var {
    /// `self ⊙ [x > 0]` with the mask held constant: ReLU's backward pass as one kernel.
    #[track_caller]
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

// ----- sigmoid_backward and tanh_backward: g ⊙ σ′ and g ⊙ tanh′ from the outputs -----

impl Var {
    /// `self ⊙ y ⊙ (1 − y)`: the sigmoid's backward pass from its output `y`, one kernel
    /// where the composite makes four passes (`Tensor::sigmoid_backward`).
    #[track_caller]
    pub fn sigmoid_backward(&self, y: &Var) -> Var {
        let value = self.value().sigmoid_backward(y.value());
        Var::record(value, SigmoidBackward, &[self, y])
    }

    /// `self ⊙ (1 − y²)`: tanh's backward pass from its output `y`, in one kernel
    /// (`Tensor::tanh_backward`).
    #[track_caller]
    pub fn tanh_backward(&self, y: &Var) -> Var {
        let value = self.value().tanh_backward(y.value());
        Var::record(value, TanhBackward, &[self, y])
    }
}

struct SigmoidBackward;
impl Primitive for SigmoidBackward {
    fn name(&self) -> &'static str {
        "sigmoid_backward"
    }
    // out = g·y(1 − y). Linear in g: ∂/∂g is the same map applied to ḡ. In y:
    // ∂/∂y = ḡ·g·(1 − 2y).
    fn vjp(&self, x: &[Var], _: &Var, gbar: &Var, needs: &[bool]) -> Grads {
        let (g, y) = (&x[0], &x[1]);
        smallvec![
            when(needs[0], || gbar.sigmoid_backward(y)),
            when(needs[1], || &(gbar * g)
                * &y.mul_scalar(-2.0).add_scalar(1.0)),
        ]
    }
}

struct TanhBackward;
impl Primitive for TanhBackward {
    fn name(&self) -> &'static str {
        "tanh_backward"
    }
    // out = g·(1 − y²). Linear in g: ∂/∂g is the same map applied to ḡ. In y: ∂/∂y = −2ḡ·g·y.
    fn vjp(&self, x: &[Var], _: &Var, gbar: &Var, needs: &[bool]) -> Grads {
        let (g, y) = (&x[0], &x[1]);
        smallvec![
            when(needs[0], || gbar.tanh_backward(y)),
            when(needs[1], || (&(gbar * g) * y).mul_scalar(-2.0)),
        ]
    }
}
