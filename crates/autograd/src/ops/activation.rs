//! Activation functions written with the primitives (composites: their derivatives of every
//! order come from the primitives underneath). The derivative each amounts to is given
//! beside it, for reference.

use std::f64::consts::{FRAC_2_SQRT_PI, SQRT_2};

use tensor::Tensor;

use crate::var::Var;

impl Var {
    /// `x · σ(x)` (SiLU, also called swish).
    // d/dx x·σ(x) = σ(x) + x·σ(x)(1 − σ(x))
    #[track_caller]
    pub fn silu(&self) -> Var {
        self * &self.sigmoid()
    }

    /// `x` where positive, `α(eˣ − 1)` elsewhere (ELU).
    // d/dx elu(x) = 1 for x > 0, α·eˣ elsewhere.
    // NOTE: at x = 0 the derivative taken is the left one, α (1 for the usual α = 1, where
    // ELU is C¹; its second derivative jumps there for any α).
    #[track_caller]
    pub fn elu(&self, alpha: f64) -> Var {
        let positive = self.value().gt_mask(&Tensor::scalar_of(0.0, self.dtype()));
        Var::select(&positive, self, &self.expm1().mul_scalar(alpha))
    }

    /// GELU, `x · Φ(x) = ½ x (1 + erf(x/√2))`, with Φ the standard normal distribution.
    // d/dx x·Φ(x) = Φ(x) + x·φ(x), φ(x) = e^{−x²/2}/√(2π)
    #[track_caller]
    pub fn gelu(&self) -> Var {
        let phi = self.mul_scalar(1.0 / SQRT_2).erf().add_scalar(1.0);
        (self * &phi).mul_scalar(0.5)
    }

    /// GELU's tanh approximation, `½ x (1 + tanh(√(2/π) (x + 0.044715 x³)))` (Hendrycks &
    /// Gimpel, 2016), as BERT and GPT-2 use it.
    // d/dx = ½(1 + t) + ½x(1 − t²)·√(2/π)(1 + 3·0.044715x²), t = tanh(√(2/π)(x + 0.044715x³))
    #[track_caller]
    pub fn gelu_tanh(&self) -> Var {
        let sqrt_2_over_pi = FRAC_2_SQRT_PI / SQRT_2;
        let cubic = self * &self.square().mul_scalar(0.044715).add_scalar(1.0);
        let t = cubic.mul_scalar(sqrt_2_over_pi).tanh().add_scalar(1.0);
        (self * &t).mul_scalar(0.5)
    }
}
