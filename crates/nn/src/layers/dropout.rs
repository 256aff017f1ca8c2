//! Dropout (Srivastava et al. 2014): in training, each element is zeroed with probability
//! `p` and the survivors scaled by `1/(1 − p)`, so the expected output equals the input.

use autograd::Var;
use tensor::Tensor;

use crate::module::{Ctx, Module, ParamSpec};

#[derive(Clone, Copy, Debug)]
pub struct Dropout {
    pub p: f64,
}

impl Module for Dropout {
    fn describe(&self) -> String {
        format!("Dropout({})", self.p)
    }
    fn param_specs(&self) -> Vec<ParamSpec> {
        Vec::new()
    }

    /// # Panics
    /// If `p` is outside `[0, 1]`. In training mode with `p > 0` and no generator in the
    /// context (`Ctx::with_rng`): dropout without a seed would make runs irreproducible.
    fn forward(&self, ctx: &Ctx, x: &Var) -> Var {
        assert!(
            (0.0..=1.0).contains(&self.p),
            "{}: p must be in [0, 1]",
            self.describe()
        );
        if !ctx.training() || self.p == 0.0 {
            return x.clone();
        }
        let rng = ctx.rng().expect(
            "Dropout: training mode needs a seeded generator in the context (Ctx::with_rng)",
        );
        let mut rng = rng.lock().expect("rng lock poisoned");
        let draw = Tensor::rand_uniform(x.shape(), 0.0, 1.0, x.dtype(), &mut *rng);
        // Keep where u ≥ p; the kept mask scaled by 1/(1 − p) is a constant factor.
        // NOTE: at p = 1 nothing is kept and 1/(1 − p) is infinite; 0·∞ would be NaN, so the
        // scale is 0 there (the output is all zeros, as the limit suggests).
        let keep = draw.ge_mask(&Tensor::scalar_of(self.p, x.dtype()));
        let scale = if self.p < 1.0 {
            1.0 / (1.0 - self.p)
        } else {
            0.0
        };
        x * &Var::constant(keep.mul_scalar(scale))
    }
}
