//! Element-wise primitives whose composites would lose precision: `log1p`, `expm1`,
//! `softplus`, and `erf`, which has no composite at all. `x` is the input, `y` the output,
//! `g = ∂L/∂y`; each rule is written with `Var` operations, as in [`crate::ops::unary`].

use std::f64::consts::PI;

use crate::ops::only;
use crate::primitive::{Grads, Primitive};
use crate::var::Var;

// ----- log1p, expm1 -----
// Primitives for accuracy: near x = 0, `(1 + x).log()` rounds 1 + x first and `x.exp() − 1`
// cancels, each losing as many digits as x is small.

impl Var {
    /// `ln(1 + x)`, accurate for tiny `x`.
    #[track_caller]
    pub fn log1p(&self) -> Var {
        Var::record(self.value().log1p(), Log1p, &[self])
    }

    /// `eˣ − 1`, accurate for tiny `x`.
    #[track_caller]
    pub fn expm1(&self) -> Var {
        Var::record(self.value().expm1(), Expm1, &[self])
    }
}

struct Log1p;
impl Primitive for Log1p {
    fn name(&self) -> &'static str {
        "log1p"
    }
    // d/dx ln(1 + x) = 1/(1 + x)
    // NOTE: infinite at x = −1, as log's at 0.
    fn vjp(&self, x: &[Var], _: &Var, g: &Var, _: &[bool]) -> Grads {
        only(g / &x[0].add_scalar(1.0))
    }
}

struct Expm1;
impl Primitive for Expm1 {
    fn name(&self) -> &'static str {
        "expm1"
    }
    // d/dx (eˣ − 1) = eˣ = y + 1
    fn vjp(&self, _: &[Var], y: &Var, g: &Var, _: &[bool]) -> Grads {
        only(g * &y.add_scalar(1.0))
    }
}

// ----- softplus -----

impl Var {
    /// `ln(1 + eˣ)`, a smooth relu, stable for inputs of any size.
    // NOTE: computed as max(x, 0) + ln(1 + e^{−|x|}): the exponent is never positive, so
    // nothing overflows (the naive form is inf from x ≈ 710 in f64, 89 in f32), and for very
    // negative x the result is e^{x} to full precision instead of ln(1) = 0.
    #[track_caller]
    pub fn softplus(&self) -> Var {
        let x = self.value();
        let value = x.relu().add(&x.abs().neg().exp().log1p());
        Var::record(value, Softplus, &[self])
    }
}

/// A primitive rather than the composite `relu(x) + log1p(exp(−|x|))`: each half of that has
/// a kink at 0 (relu's and abs's derivatives there are taken to be 0), so the composite's
/// derivative at exactly 0 would be 0 instead of ½.
struct Softplus;
impl Primitive for Softplus {
    fn name(&self) -> &'static str {
        "softplus"
    }
    // d/dx ln(1 + eˣ) = σ(x)
    fn vjp(&self, x: &[Var], _: &Var, g: &Var, _: &[bool]) -> Grads {
        only(g * &x[0].sigmoid())
    }
}

// ----- erf -----

impl Var {
    /// The error function, `2/√π ∫₀ˣ e^{−t²} dt` (`tensor::special::erf`).
    #[track_caller]
    pub fn erf(&self) -> Var {
        Var::record(self.value().erf(), Erf, &[self])
    }
}

struct Erf;
impl Primitive for Erf {
    fn name(&self) -> &'static str {
        "erf"
    }
    // d/dx erf(x) = 2/√π · e^{−x²}
    fn vjp(&self, x: &[Var], _: &Var, g: &Var, _: &[bool]) -> Grads {
        let density = x[0].square().neg().exp().mul_scalar(2.0 / PI.sqrt());
        only(g * &density)
    }
}
