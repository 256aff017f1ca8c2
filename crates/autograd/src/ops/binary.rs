//! Element-wise primitives of two inputs, with broadcasting. `a`, `b` are the inputs, `y` the
//! output, `g = ∂L/∂y` (of the broadcast shape).
//!
//! Rules return gradients of the broadcast shape; the engine sums each back to its input's
//! shape. That is why none of these rules mentions broadcasting.

use smallvec::smallvec;
use tensor::Tensor;

use crate::primitive::{when, Grads, Primitive};
use crate::var::Var;

// ----- add, sub -----

impl Var {
    /// `a + b`, broadcast.
    ///
    /// # Panics
    /// If the shapes do not broadcast or the element types differ (the message names the op
    /// and both shapes).
    #[track_caller]
    pub fn add(&self, other: &Var) -> Var {
        Var::record(self.value().add(other.value()), Add, &[self, other])
    }

    /// `a − b`, broadcast.
    ///
    /// # Panics
    /// As [`Var::add`].
    #[track_caller]
    pub fn sub(&self, other: &Var) -> Var {
        Var::record(self.value().sub(other.value()), Sub, &[self, other])
    }
}

struct Add;
impl Primitive for Add {
    fn name(&self) -> &'static str {
        "add"
    }
    // ∂(a + b)/∂a = 1, ∂(a + b)/∂b = 1
    fn vjp(&self, _: &[Var], _: &Var, g: &Var, needs: &[bool]) -> Grads {
        smallvec![when(needs[0], || g.clone()), when(needs[1], || g.clone())]
    }
}

struct Sub;
impl Primitive for Sub {
    fn name(&self) -> &'static str {
        "sub"
    }
    // ∂(a − b)/∂a = 1, ∂(a − b)/∂b = −1
    fn vjp(&self, _: &[Var], _: &Var, g: &Var, needs: &[bool]) -> Grads {
        smallvec![when(needs[0], || g.clone()), when(needs[1], || g.neg())]
    }
}

// ----- mul, div -----

impl Var {
    /// `a · b` element by element, broadcast.
    ///
    /// # Panics
    /// As [`Var::add`].
    #[track_caller]
    pub fn mul(&self, other: &Var) -> Var {
        Var::record(self.value().mul(other.value()), Mul, &[self, other])
    }

    /// `a / b`, broadcast.
    ///
    /// # Panics
    /// As [`Var::add`].
    #[track_caller]
    pub fn div(&self, other: &Var) -> Var {
        Var::record(self.value().div(other.value()), Div, &[self, other])
    }
}

struct Mul;
impl Primitive for Mul {
    fn name(&self) -> &'static str {
        "mul"
    }
    // ∂(a·b)/∂a = b, ∂(a·b)/∂b = a
    fn vjp(&self, x: &[Var], _: &Var, g: &Var, needs: &[bool]) -> Grads {
        smallvec![when(needs[0], || g * &x[1]), when(needs[1], || g * &x[0])]
    }
}

struct Div;
impl Primitive for Div {
    fn name(&self) -> &'static str {
        "div"
    }
    // ∂(a/b)/∂a = 1/b, ∂(a/b)/∂b = −a/b² = −y/b
    fn vjp(&self, x: &[Var], y: &Var, g: &Var, needs: &[bool]) -> Grads {
        let g_over_b = g / &x[1];
        let grad_b = when(needs[1], || (&g_over_b * y).neg());
        smallvec![when(needs[0], || g_over_b), grad_b]
    }
}

// ----- select (where) -----

impl Var {
    /// `on_true` where `mask` is non-zero, else `on_false` (all three broadcast). The mask is
    /// data, not differentiated.
    ///
    /// ```
    /// use autograd::Var;
    /// use tensor::Tensor;
    /// let x = Var::leaf(Tensor::from_vec(vec![-1.0f64, 2.0], &[2])?);
    /// let mask = x.value().gt_mask(&Tensor::scalar(0.0f64));
    /// let y = Var::select(&mask, &x, &x.mul_scalar(0.1)); // leaky relu
    /// assert_eq!(y.value().to_vec::<f64>(), [-0.1, 2.0]);
    /// # Ok::<(), tensor::TensorError>(())
    /// ```
    #[track_caller]
    pub fn select(mask: &Tensor, on_true: &Var, on_false: &Var) -> Var {
        let value = mask.select(on_true.value(), on_false.value());
        Var::record(value, Select(mask.clone()), &[on_true, on_false])
    }
}

struct Select(Tensor);
impl Primitive for Select {
    fn name(&self) -> &'static str {
        "select"
    }
    // ∂y/∂on_true = mask, ∂y/∂on_false = 1 − mask
    fn vjp(&self, _: &[Var], _: &Var, g: &Var, needs: &[bool]) -> Grads {
        let mask = &self.0;
        let zero = Var::constant(Tensor::scalar_of(0.0, g.dtype()));
        smallvec![
            when(needs[0], || Var::select(mask, g, &zero)),
            when(needs[1], || Var::select(mask, &zero, g)),
        ]
    }
}
