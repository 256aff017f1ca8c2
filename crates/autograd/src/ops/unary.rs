//! Element-wise primitives of one input. `x` is the input, `y` the output, `g = ∂L/∂y`.
//!
//! Each rule multiplies `g` by the derivative `dy/dx`, written with `Var` operations on `x`
//! or on `y` itself (whichever is cheaper), so that it can be differentiated again.

use crate::ops::only;
use crate::primitive::{Grads, Primitive};
use crate::var::Var;

// ----- neg -----

impl Var {
    /// `−x`
    #[track_caller]
    pub fn neg(&self) -> Var {
        Var::record(self.value().neg(), Neg, &[self])
    }
}

struct Neg;
impl Primitive for Neg {
    fn name(&self) -> &'static str {
        "neg"
    }
    // d/dx (−x) = −1
    fn vjp(&self, _: &[Var], _: &Var, g: &Var, _: &[bool]) -> Grads {
        only(g.neg())
    }
}

// ----- exp -----

impl Var {
    /// `eˣ`
    #[track_caller]
    pub fn exp(&self) -> Var {
        Var::record(self.value().exp(), Exp, &[self])
    }
}

struct Exp;
impl Primitive for Exp {
    fn name(&self) -> &'static str {
        "exp"
    }
    // d/dx eˣ = eˣ = y
    fn vjp(&self, _: &[Var], y: &Var, g: &Var, _: &[bool]) -> Grads {
        only(g * y)
    }
}

// ----- log -----

impl Var {
    /// Natural logarithm.
    #[track_caller]
    pub fn log(&self) -> Var {
        Var::record(self.value().log(), Log, &[self])
    }
}

struct Log;
impl Primitive for Log {
    fn name(&self) -> &'static str {
        "log"
    }
    // d/dx ln x = 1/x
    // NOTE: infinite at x = 0; callers keep x away from 0 (e.g. log-softmax never takes the
    // log of a probability, only of a sum of exponentials that is ≥ 1).
    fn vjp(&self, x: &[Var], _: &Var, g: &Var, _: &[bool]) -> Grads {
        only(g / &x[0])
    }
}

// ----- sin, cos -----

impl Var {
    #[track_caller]
    pub fn sin(&self) -> Var {
        Var::record(self.value().sin(), Sin, &[self])
    }

    #[track_caller]
    pub fn cos(&self) -> Var {
        Var::record(self.value().cos(), Cos, &[self])
    }
}

struct Sin;
impl Primitive for Sin {
    fn name(&self) -> &'static str {
        "sin"
    }
    // d/dx sin x = cos x
    fn vjp(&self, x: &[Var], _: &Var, g: &Var, _: &[bool]) -> Grads {
        only(g * &x[0].cos())
    }
}

struct Cos;
impl Primitive for Cos {
    fn name(&self) -> &'static str {
        "cos"
    }
    // d/dx cos x = −sin x
    fn vjp(&self, x: &[Var], _: &Var, g: &Var, _: &[bool]) -> Grads {
        only((g * &x[0].sin()).neg())
    }
}

// ----- tanh, sigmoid -----
// Primitives rather than composites of exp: one kernel instead of four, and no overflow of
// e^{-x} for very negative x on the way.

impl Var {
    #[track_caller]
    pub fn tanh(&self) -> Var {
        Var::record(self.value().tanh(), Tanh, &[self])
    }

    /// `1 / (1 + e^{−x})`
    #[track_caller]
    pub fn sigmoid(&self) -> Var {
        Var::record(self.value().sigmoid(), Sigmoid, &[self])
    }
}

struct Tanh;
impl Primitive for Tanh {
    fn name(&self) -> &'static str {
        "tanh"
    }
    // d/dx tanh x = 1 − tanh² x = 1 − y²: g·(1 − y²) as one fused kernel.
    fn vjp(&self, _: &[Var], y: &Var, g: &Var, _: &[bool]) -> Grads {
        only(g.tanh_backward(y))
    }
}

struct Sigmoid;
impl Primitive for Sigmoid {
    fn name(&self) -> &'static str {
        "sigmoid"
    }
    // d/dx σ(x) = σ(x)(1 − σ(x)) = y(1 − y): g·y(1 − y) as one fused kernel.
    fn vjp(&self, _: &[Var], y: &Var, g: &Var, _: &[bool]) -> Grads {
        only(g.sigmoid_backward(y))
    }
}

// ----- relu -----

impl Var {
    /// `max(x, 0)`
    #[track_caller]
    pub fn relu(&self) -> Var {
        Var::record(self.value().relu(), Relu, &[self])
    }
}

struct Relu;
impl Primitive for Relu {
    fn name(&self) -> &'static str {
        "relu"
    }
    // d/dx relu(x) = [x > 0], a constant mask (applied by the fused `relu_backward`).
    // NOTE: at x = 0 we take the derivative to be 0 (as PyTorch does). The mask is piecewise
    // constant, so it is a constant in the graph: relu's second derivative is 0 wherever it
    // exists, which is what MAML's second-order term through ReLU layers relies on.
    fn vjp(&self, x: &[Var], _: &Var, g: &Var, _: &[bool]) -> Grads {
        only(g.relu_backward(x[0].value()))
    }
}

// ----- powf -----

impl Var {
    /// `xᵖ` for a constant `p`.
    #[track_caller]
    pub fn powf(&self, p: f64) -> Var {
        Var::record(self.value().powf(p), Powf(p), &[self])
    }
}

struct Powf(f64);
impl Primitive for Powf {
    fn name(&self) -> &'static str {
        "powf"
    }
    // d/dx xᵖ = p·xᵖ⁻¹
    // NOTE: for p < 1 this is infinite at x = 0 (e.g. √x); for p = 0 the rule gives 0·x⁻¹,
    // which is NaN at 0, so the constant case is answered directly.
    fn vjp(&self, x: &[Var], _: &Var, g: &Var, _: &[bool]) -> Grads {
        let p = self.0;
        if p == 0.0 {
            return only(g.mul_scalar(0.0));
        }
        only(g * &x[0].powf(p - 1.0).mul_scalar(p))
    }
}

// ----- add_scalar, mul_scalar -----

impl Var {
    /// `x + c` for a constant `c`.
    #[track_caller]
    pub fn add_scalar(&self, c: f64) -> Var {
        Var::record(self.value().add_scalar(c), AddScalar, &[self])
    }

    /// `c·x` for a constant `c`.
    #[track_caller]
    pub fn mul_scalar(&self, c: f64) -> Var {
        Var::record(self.value().mul_scalar(c), MulScalar(c), &[self])
    }
}

struct AddScalar;
impl Primitive for AddScalar {
    fn name(&self) -> &'static str {
        "add_scalar"
    }
    // d/dx (x + c) = 1
    fn vjp(&self, _: &[Var], _: &Var, g: &Var, _: &[bool]) -> Grads {
        only(g.clone())
    }
}

struct MulScalar(f64);
impl Primitive for MulScalar {
    fn name(&self) -> &'static str {
        "mul_scalar"
    }
    // d/dx (c·x) = c
    fn vjp(&self, _: &[Var], _: &Var, g: &Var, _: &[bool]) -> Grads {
        only(g.mul_scalar(self.0))
    }
}
