//! Batch normalisation over axis 1 (channels) of `[N, C, …]` inputs.
//!
//! y = (x − μ) / √(σ² + ε) · γ + β, with μ and σ² the mean and (biased) variance over every
//! axis but the channel axis.
//!
//! MAML normalises with the statistics of the current batch both when meta-training and when
//! adapting at test time (each task's support set is its own batch); that is the default here.
//! With a [`State`](crate::State) in the context, training passes also keep running averages
//! (as PyTorch does), and evaluation passes (`Ctx::eval`) then use them.

use autograd::{no_grad, Var};
use tensor::Tensor;

use crate::init::Init;
use crate::module::{Ctx, Module, ParamSpec};

#[derive(Clone, Debug)]
pub struct BatchNorm {
    pub channels: usize,
    /// Added to the variance before the square root.
    pub eps: f64,
    /// Weight of the new batch in the running averages.
    pub momentum: f64,
    /// Learn γ and β.
    pub affine: bool,
}

impl BatchNorm {
    pub fn new(channels: usize) -> BatchNorm {
        BatchNorm {
            channels,
            eps: 1e-5,
            momentum: 0.1,
            affine: true,
        }
    }

    /// Shape `[1, C, 1, …]` to broadcast a per-channel vector over an input of `ndim` axes.
    fn channel_shape(&self, ndim: usize) -> Vec<usize> {
        let mut shape = vec![1; ndim];
        shape[1] = self.channels;
        shape
    }

    /// Updates the running mean and unbiased variance in the context's state, if any.
    fn track(&self, ctx: &Ctx, mean: &Tensor, biased_var: &Tensor, count: usize) {
        let Some(state) = ctx.state() else { return };
        let m = self.momentum;
        let unbiased = biased_var.mul_scalar(count as f64 / (count.max(2) - 1) as f64);
        let blend = |name: &str, batch: &Tensor, initial: f64| {
            let key = ctx.full_name(name);
            let old = state.get(&key).unwrap_or_else(|| batch.full_like(initial));
            state.set(&key, &old.mul_scalar(1.0 - m) + &batch.mul_scalar(m));
        };
        blend("running_mean", &mean.reshape(&[self.channels]), 0.0);
        blend("running_var", &unbiased.reshape(&[self.channels]), 1.0);
    }
}

impl Module for BatchNorm {
    fn describe(&self) -> String {
        format!("BatchNorm({})", self.channels)
    }

    fn param_specs(&self) -> Vec<ParamSpec> {
        if !self.affine {
            return Vec::new();
        }
        vec![
            ParamSpec::new("weight", &[self.channels], Init::Constant(1.0)),
            ParamSpec::new("bias", &[self.channels], Init::Constant(0.0)),
        ]
    }

    fn forward(&self, ctx: &Ctx, x: &Var) -> Var {
        assert!(
            x.ndim() >= 2 && x.shape()[1] == self.channels,
            "{}: input has shape {:?}, expected [N, {}, …]",
            self.describe(),
            x.shape(),
            self.channels
        );
        let shape = self.channel_shape(x.ndim());
        let running = |name: &str| ctx.state().and_then(|s| s.get(&ctx.full_name(name)));
        // y = β + γ ⊙ (x − μ) / √(σ² + ε). `normalised` is x − μ, or already x̂; `std` is
        // the per-channel √(σ² + ε) still to divide by, kept on C numbers (folded into γ
        // below), so the full-size work is one pass here and one sub_mul.
        let (normalised, std) = match (
            ctx.training(),
            running("running_mean"),
            running("running_var"),
        ) {
            (false, Some(mean), Some(var)) => {
                // Fixed statistics: x − μ, and a constant √(σ² + ε).
                let std = var.add_scalar(self.eps).sqrt().reshape(&shape);
                let centred = x - &Var::constant(mean.reshape(&shape));
                (centred, Some(Var::constant(std)))
            }
            _ => {
                // Batch statistics: one primitive with a fused backward kernel (the
                // composite made a dozen passes over x in each direction).
                let (x_hat, mean, var) = x.normalize_channels_with_stats(self.eps);
                if ctx.training() {
                    let count = x.numel() / self.channels;
                    no_grad(|| self.track(ctx, &mean, &var, count));
                }
                (x_hat, None)
            }
        };
        if !self.affine {
            return match std {
                Some(std) => &normalised * &std.powf(-1.0),
                None => normalised,
            };
        }
        let gamma = ctx.param(self, "weight", &[self.channels]).reshape(&shape);
        let gamma = match std {
            Some(std) => &gamma / &std,
            None => gamma,
        };
        let beta = ctx.param(self, "bias", &[self.channels]).reshape(&shape);
        // β − (x − μ) ⊙ (−γ / √(σ² + ε)), one pass.
        beta.sub_mul(&normalised, &gamma.neg())
    }
}
