//! Operations written with the primitives, needing no backward rule of their own: their
//! gradients, of every order, come from the primitives they are made of.

use tensor::reduce::reduced_shape;
use tensor::Tensor;

use crate::var::Var;

impl Var {
    /// `x²`.
    pub fn square(&self) -> Var {
        self * self
    }

    /// `√x`, as `x^½`.
    // NOTE: its derivative ½x^{−½} is infinite at 0; keep arguments positive (add an ε, as
    // normalisations do) on paths that are differentiated.
    pub fn sqrt(&self) -> Var {
        self.powf(0.5)
    }

    /// `|x|`, as `x · sign(x)` with the sign held constant (so `d|x|/dx = sign x`, and 0 at 0).
    pub fn abs(&self) -> Var {
        self * &Var::constant(self.value().sign())
    }

    /// The larger of `self` and `other` element by element (ties pick `self`).
    pub fn maximum(&self, other: &Var) -> Var {
        Var::select(&self.value().ge_mask(other.value()), self, other)
    }

    /// The smaller of `self` and `other` element by element (ties pick `self`).
    pub fn minimum(&self, other: &Var) -> Var {
        Var::select(&self.value().le_mask(other.value()), self, other)
    }

    /// Each element limited to `[low, high]`; clamped elements are constants.
    pub fn clamp(&self, low: f64, high: f64) -> Var {
        let x = self.value();
        let inside = x
            .ge_mask(&Tensor::scalar_of(low, x.dtype()))
            .mul(&x.le_mask(&Tensor::scalar_of(high, x.dtype())));
        Var::select(&inside, self, &Var::constant(x.clamp(low, high)))
    }

    /// `x` where positive, `slope · x` elsewhere.
    pub fn leaky_relu(&self, slope: f64) -> Var {
        let positive = self.value().gt_mask(&Tensor::scalar_of(0.0, self.dtype()));
        Var::select(&positive, self, &self.mul_scalar(slope))
    }

    /// `log Σ exp(x)` over `axes`, computed stably.
    // NOTE: exp overflows for x ≳ 89 (f32) / 709 (f64). Shifting by the maximum m first,
    // log Σ exp(x) = m + log Σ exp(x − m), keeps every exponent ≤ 0. The shift is held constant
    // (detached): the expression does not depend on m, so neither does any derivative.
    pub fn logsumexp(&self, axes: &[isize], keepdim: bool) -> Var {
        let shift = Var::constant(self.value().max(axes, true));
        let summed = (self - &shift).exp().sum(axes, true).log();
        let result = &summed + &shift;
        if keepdim {
            result
        } else {
            let shape = reduced_shape("logsumexp", self.shape(), axes, false);
            result.reshape(&shape.unwrap_or_else(|e| panic!("{e}")))
        }
    }

    /// `log softmax(x)` along `axis`: `x − logsumexp(x)`, stable for logits of any size.
    pub fn log_softmax(&self, axis: isize) -> Var {
        self - &self.logsumexp(&[axis], true)
    }

    /// `softmax(x)` along `axis`: `exp(x − logsumexp(x))`.
    pub fn softmax(&self, axis: isize) -> Var {
        self.log_softmax(axis).exp()
    }
}
