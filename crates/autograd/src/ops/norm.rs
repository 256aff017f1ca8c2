//! Per-channel normalisation, the core of batch norm, as one primitive; its VJP as a second.
//!
//! For `x: [N, C, …]`, per channel `c` over the `m` entries of every other axis, with mean
//! `μ`, biased variance `σ²` and `s = 1 / √(σ² + ε)`:
//!
//! ```text
//! x̂ = normalize(x)      = (x − μ) · s
//! z = norm_grad(x, g)   = s · P(g),      P(v) = v − mean(v) − x̂ · mean(x̂ ⊙ v)
//! ```
//!
//! `z` is the VJP of `normalize` (`dx̂ = s · P(dx)`, and `P` is self-adjoint). Its own VJP,
//! for a cotangent `a`, follows from the differentials of its parts (all means per channel):
//!
//! ```text
//! ds = −s² · mean(x̂ ⊙ dx)          (from dσ² = 2 · mean((x − μ) ⊙ dx))
//! dz = ds · P(g) − s · (dx̂ · mean(x̂ ⊙ g) + x̂ · mean(dx̂ ⊙ g))    for fixed g
//!
//! ⟨a, dz⟩ in terms of dx gives
//!   ∂/∂g:  norm_grad(x, a)                                            (self-adjoint)
//!   ∂/∂x:  −s · ( mean(a ⊙ z) · x̂ + mean(g ⊙ x̂) · norm_grad(x, a) + mean(a ⊙ x̂) · z )
//! ```
//!
//! The second rule uses `x̂`, `z` and `s` as `Var`s of `x`, so gradients of any order follow;
//! `s` is composed of reductions (it is `[1, C, 1, …]`, cheap). In a meta-gradient the first
//! rule is the one that runs on every activation: one fused kernel where the composite
//! batch norm made a dozen passes.

use smallvec::smallvec;
use tensor::Tensor;

use crate::ops::only;
use crate::primitive::{when, Grads, Primitive};
use crate::var::Var;

/// The statistics a forward pass found, kept for the backward kernel.
#[derive(Clone)]
struct Stats {
    eps: f64,
    mean: Tensor,
    var: Tensor,
}

impl Var {
    /// Each channel (axis 1) of this `[N, C, …]` input normalised by its own mean and
    /// biased variance over every other axis: `(x − μ) / √(σ² + ε)`, batch norm without
    /// its affine part. One primitive, with a fused backward kernel.
    ///
    /// # Panics
    /// If the input has fewer than 2 axes.
    #[track_caller]
    pub fn normalize_channels(&self, eps: f64) -> Var {
        self.normalize_channels_with_stats(eps).0
    }

    /// [`Var::normalize_channels`], also returning the statistics it used: the mean and the
    /// biased variance per channel (each `[C]`, constants), for running averages.
    #[track_caller]
    pub fn normalize_channels_with_stats(&self, eps: f64) -> (Var, Tensor, Tensor) {
        let (value, mean, var) = self.value().normalize_channels(eps);
        let stats = Stats {
            eps,
            mean: mean.clone(),
            var: var.clone(),
        };
        (Var::record(value, Normalize(stats), &[self]), mean, var)
    }

    /// `s · P(g)`: the VJP of `normalize_channels` at `x`, with the statistics it found.
    fn normalize_channels_grad(x: &Var, g: &Var, stats: &Stats) -> Var {
        let Stats { eps, mean, var } = stats;
        let value = x
            .value()
            .normalize_channels_grad(mean, var, *eps, g.value());
        Var::record(value, NormalizeGrad(stats.clone()), &[x, g])
    }
}

/// Every axis but the channel axis.
fn other_axes(ndim: usize) -> Vec<isize> {
    (0..ndim as isize).filter(|&a| a != 1).collect()
}

/// `s = 1 / √(σ² + ε)` per channel, `[1, C, 1, …]`, as a function of `x` (for the rules
/// that differentiate through it).
fn inv_std(x: &Var, eps: f64) -> Var {
    let axes = other_axes(x.ndim());
    let centred = x - &x.mean(&axes, true);
    centred
        .square()
        .mean(&axes, true)
        .add_scalar(eps)
        .powf(-0.5)
}

struct Normalize(Stats);
impl Primitive for Normalize {
    fn name(&self) -> &'static str {
        "normalize_channels"
    }
    fn vjp(&self, x: &[Var], _: &Var, g: &Var, _: &[bool]) -> Grads {
        only(Var::normalize_channels_grad(&x[0], g, &self.0))
    }
}

struct NormalizeGrad(Stats);
impl Primitive for NormalizeGrad {
    fn name(&self) -> &'static str {
        "normalize_channels_grad"
    }
    // See the module docs for the derivation.
    fn vjp(&self, inputs: &[Var], z: &Var, a: &Var, needs: &[bool]) -> Grads {
        let (x, g) = (&inputs[0], &inputs[1]);
        let grad_of_a = Var::normalize_channels_grad(x, a, &self.0);
        let x_bar = when(needs[0], || {
            let axes = other_axes(x.ndim());
            let mean = |v: Var| v.mean(&axes, true);
            let x_hat = x.normalize_channels(self.0.eps);
            let sum = &(&mean(a * z) * &x_hat) + &(&mean(g * &x_hat) * &grad_of_a);
            let sum = &sum + &(&mean(a * &x_hat) * z);
            -&(&inv_std(x, self.0.eps) * &sum)
        });
        smallvec![x_bar, when(needs[1], || grad_of_a)]
    }
}
