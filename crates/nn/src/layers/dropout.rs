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
    /// In training mode with `p > 0` and no generator in the context (`Ctx::with_rng`):
    /// dropout without a seed would make runs irreproducible.
    fn forward(&self, ctx: &Ctx, x: &Var) -> Var {
        if !ctx.training() || self.p == 0.0 {
            return x.clone();
        }
        let rng = ctx.rng().expect(
            "Dropout: training mode needs a seeded generator in the context (Ctx::with_rng)",
        );
        let mut rng = rng.lock().expect("rng lock poisoned");
        let draw = Tensor::rand_uniform(x.shape(), 0.0, 1.0, x.dtype(), &mut *rng);
        // Keep where u ≥ p; the kept mask scaled by 1/(1 − p) is a constant factor.
        let keep = draw.ge_mask(&Tensor::scalar_of(self.p, x.dtype()));
        x * &Var::constant(keep.mul_scalar(1.0 / (1.0 - self.p)))
    }
}
