//! Operations written with the primitives, needing no backward rule of their own: their
//! gradients, of every order, come from the primitives they are made of.

use tensor::reduce::reduced_shape;
use tensor::Tensor;

use crate::var::Var;

impl Var {
    /// `x²`.
    #[track_caller]
    pub fn square(&self) -> Var {
        self * self
    }

    /// `√x`, as `x^½`.
    // NOTE: its derivative ½x^{−½} is infinite at 0; keep arguments positive (add an ε, as
    // normalisations do) on paths that are differentiated.
    #[track_caller]
    pub fn sqrt(&self) -> Var {
        self.powf(0.5)
    }

    /// `|x|`, as `x · sign(x)` with the sign held constant (so `d|x|/dx = sign x`, and 0 at 0).
    #[track_caller]
    pub fn abs(&self) -> Var {
        self * &Var::constant(self.value().sign())
    }

    /// The larger of `self` and `other` element by element (ties pick `self`).
    #[track_caller]
    pub fn maximum(&self, other: &Var) -> Var {
        Var::select(&self.value().ge_mask(other.value()), self, other)
    }

    /// The smaller of `self` and `other` element by element (ties pick `self`).
    #[track_caller]
    pub fn minimum(&self, other: &Var) -> Var {
        Var::select(&self.value().le_mask(other.value()), self, other)
    }

    /// Each element limited to `[low, high]`; clamped elements are constants.
    #[track_caller]
    pub fn clamp(&self, low: f64, high: f64) -> Var {
        let x = self.value();
        let inside = x
            .ge_mask(&Tensor::scalar_of(low, x.dtype()))
            .mul(&x.le_mask(&Tensor::scalar_of(high, x.dtype())));
        Var::select(&inside, self, &Var::constant(x.clamp(low, high)))
    }

    /// Each element limited to `[low, high]` taken element by element from two `Var`s (all
    /// three broadcast): `min(max(x, low), high)`. The bounds are differentiated too: each
    /// output element's gradient goes to whichever of `x`, `low`, `high` it equals.
    // ∂/∂x = [low ≤ x ≤ high], ∂/∂low = [x < low] (where low ≤ high), ∂/∂high = [high < max(x, low)]
    // NOTE: ties go to x (at x = low or x = high the gradient is x's); where low > high the
    // result is high, as in PyTorch.
    #[track_caller]
    pub fn clamp_between(&self, low: &Var, high: &Var) -> Var {
        self.maximum(low).minimum(high)
    }

    /// `on_true` where `mask` is true, else `on_false` (all three broadcast; `mask` is
    /// row-major with shape `mask_shape`). The mask is data, not differentiated.
    // ∂y/∂on_true = mask, ∂y/∂on_false = 1 − mask (a `select`).
    ///
    /// # Panics
    /// If `mask` does not have `mask_shape`'s element count, or the shapes do not broadcast.
    #[track_caller]
    pub fn where_mask(mask: &[bool], mask_shape: &[usize], on_true: &Var, on_false: &Var) -> Var {
        Var::select(&bool_mask(mask, mask_shape, on_true), on_true, on_false)
    }

    /// `value` where `mask` is true, `x` elsewhere (`mask` broadcast to `x`'s shape), as
    /// PyTorch's `masked_fill`.
    // ∂y/∂x = 1 − mask: filled elements are constants.
    ///
    /// # Panics
    /// As [`Var::where_mask`].
    #[track_caller]
    pub fn masked_fill(&self, mask: &[bool], mask_shape: &[usize], value: f64) -> Var {
        let fill = Var::scalar(value, self.dtype());
        Var::select(&bool_mask(mask, mask_shape, self), &fill, self)
    }

    /// `x` where positive, `slope · x` elsewhere.
    #[track_caller]
    pub fn leaky_relu(&self, slope: f64) -> Var {
        let positive = self.value().gt_mask(&Tensor::scalar_of(0.0, self.dtype()));
        Var::select(&positive, self, &self.mul_scalar(slope))
    }

    /// `log Σ exp(x)` over `axes`, computed stably.
    // NOTE: exp overflows for x ≳ 89 (f32) / 709 (f64). Shifting by the maximum m first,
    // log Σ exp(x) = m + log Σ exp(x − m), keeps every exponent ≤ 0. The shift is held constant
    // (detached): the expression does not depend on m, so neither does any derivative.
    // NOTE: where m is infinite (every x = −inf, or some x = +inf), x − m would be
    // −inf − (−inf) = NaN; shifting by 0 there instead gives log 0 = −inf and log inf = inf,
    // as PyTorch does.
    #[track_caller]
    pub fn logsumexp(&self, axes: &[isize], keepdim: bool) -> Var {
        let shape = tensor::view::or_panic(reduced_shape("logsumexp", self.shape(), axes, keepdim));
        let max = self.value().max(axes, true);
        let finite = max
            .abs()
            .lt_mask(&Tensor::scalar_of(f64::INFINITY, max.dtype()));
        let shift = Var::constant(finite.select(&max, &max.zeros_like()));
        let summed = (self - &shift).exp().sum(axes, true).log();
        let result = &summed + &shift;
        if keepdim {
            result
        } else {
            result.reshape(&shape)
        }
    }

    /// `log softmax(x)` along `axis`: `x − logsumexp(x)`, stable for logits of any size.
    #[track_caller]
    pub fn log_softmax(&self, axis: isize) -> Var {
        tensor::view::or_panic(reduced_shape("log_softmax", self.shape(), &[axis], true));
        self - &self.logsumexp(&[axis], true)
    }

    /// `softmax(x)` along `axis`: `exp(x − logsumexp(x))`.
    #[track_caller]
    pub fn softmax(&self, axis: isize) -> Var {
        tensor::view::or_panic(reduced_shape("softmax", self.shape(), &[axis], true));
        self.log_softmax(axis).exp()
    }
}

/// A 0/1 mask tensor (of `like`'s element type) from booleans.
fn bool_mask(mask: &[bool], shape: &[usize], like: &Var) -> Tensor {
    let ones: Vec<f64> = mask.iter().map(|&m| if m { 1.0 } else { 0.0 }).collect();
    Tensor::from_vec(ones, shape)
        .unwrap_or_else(|_| {
            panic!(
                "where_mask: {} mask values for mask shape {shape:?}",
                mask.len()
            )
        })
        .to_dtype(like.dtype())
}
