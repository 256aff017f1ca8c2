//! Inner learners: how a task adapts the initialisation θ, and which parts of that adaptation
//! the meta-gradient sees.
//!
//! Every algorithm runs the same loop, for `steps` steps from θ₀ = θ:
//!
//! ```text
//! gₛ   = ∇ L_support(θₛ)
//! θₛ₊₁ = θₛ − αₛ ⊙ gₛ
//! ```
//!
//! | algorithm | αₛ | gₛ recorded (second order) | learns α |
//! |---|---|---|---|
//! | Meta-SGD (Li et al. 2017) | a tensor per parameter, learned | yes | yes |
//! | MAML (Finn et al. 2017) | one fixed scalar | yes | no |
//! | first-order MAML | one fixed scalar | no: gₛ is a constant | no |
//! | first-order Meta-SGD | learned tensors | no | yes: ∂L/∂α = −g ⊙ ∂L/∂θ' needs no Hessian |
//!
//! "Recorded" means the inner gradient is computed with `create_graph`, so the outer
//! gradient differentiates through it (the Hessian-vector products of MAML).

use autograd::{grad, no_grad, Var};
use nn::{Module, Params};
use rand::rngs::StdRng;
use tensor::{DType, Tensor};

use crate::task::Batch;

/// Which meta-learning algorithm.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Algorithm {
    MetaSgd,
    Maml,
    FoMaml,
    FoMetaSgd,
}

impl Algorithm {
    /// True if α is a learned tensor per parameter.
    pub fn learns_alpha(self) -> bool {
        matches!(self, Algorithm::MetaSgd | Algorithm::FoMetaSgd)
    }

    /// True if the inner gradient is differentiated (second-order meta-gradient).
    pub fn second_order(self) -> bool {
        matches!(self, Algorithm::MetaSgd | Algorithm::Maml)
    }

    pub fn name(self) -> &'static str {
        match self {
            Algorithm::MetaSgd => "metasgd",
            Algorithm::Maml => "maml",
            Algorithm::FoMaml => "fomaml",
            Algorithm::FoMetaSgd => "fometasgd",
        }
    }

    /// Parses a name as printed by [`Algorithm::name`].
    pub fn parse(name: &str) -> Option<Algorithm> {
        [
            Algorithm::MetaSgd,
            Algorithm::Maml,
            Algorithm::FoMaml,
            Algorithm::FoMetaSgd,
        ]
        .into_iter()
        .find(|a| a.name() == name)
    }
}

/// How the learned learning rates α start.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum AlphaInit {
    /// Each element uniform in [low, high) — Meta-SGD's U[0.005, 0.1].
    Uniform { low: f64, high: f64 },
    /// Every element the same.
    Constant(f64),
}

/// The inner loop's settings.
#[derive(Clone, Copy, Debug)]
pub struct InnerLoop {
    pub algorithm: Algorithm,
    pub steps: usize,
    /// The fixed step size of MAML and first-order MAML.
    pub lr: f64,
    /// Meta-SGD only: a separate α for each inner step instead of one shared α.
    pub per_step_alpha: bool,
}

/// What meta-training learns: the initialisation θ and, for Meta-SGD, the learning rates α
/// (one `Params` of θ's shapes, or one per inner step).
#[derive(Clone, Debug)]
pub struct MetaParams {
    pub theta: Params,
    pub alpha: Vec<Params>,
}

impl MetaParams {
    /// θ from the model's initialisers; α drawn from `alpha_init` if the algorithm learns it.
    pub fn init(
        model: &dyn Module,
        inner: &InnerLoop,
        alpha_init: AlphaInit,
        dtype: DType,
        rng: &mut StdRng,
    ) -> MetaParams {
        let theta = model.init(rng, dtype);
        let sets = match (inner.algorithm.learns_alpha(), inner.per_step_alpha) {
            (false, _) => 0,
            (true, false) => 1,
            (true, true) => inner.steps.max(1),
        };
        let alpha = (0..sets)
            .map(|_| {
                theta.map(|_, p| {
                    Var::leaf(match alpha_init {
                        AlphaInit::Uniform { low, high } => {
                            Tensor::rand_uniform(p.shape(), low, high, dtype, rng)
                        }
                        AlphaInit::Constant(c) => p.value().full_like(c),
                    })
                })
            })
            .collect();
        MetaParams { theta, alpha }
    }

    /// All learned tensors as one collection: `theta.*`, then `alpha.*` (or `alpha.<s>.*`).
    pub fn flatten(&self) -> Params {
        let mut all = Params::new();
        all.extend_prefixed("theta", &self.theta);
        match self.alpha.len() {
            0 => {}
            1 => all.extend_prefixed("alpha", &self.alpha[0]),
            _ => {
                for (s, alpha) in self.alpha.iter().enumerate() {
                    all.extend_prefixed(&format!("alpha.{s}"), alpha);
                }
            }
        }
        all
    }

    /// The `Var`s of [`MetaParams::flatten`], in its order, without building its names.
    pub fn vars(&self) -> Vec<&Var> {
        let alpha = self.alpha.iter().flat_map(|a| a.iter().map(|(_, v)| v));
        self.theta.iter().map(|(_, v)| v).chain(alpha).collect()
    }

    /// The inverse of [`MetaParams::flatten`], for a collection with the same layout as `self`.
    pub fn unflatten(&self, all: &Params) -> MetaParams {
        let alpha = match self.alpha.len() {
            0 => Vec::new(),
            1 => vec![all.scoped("alpha")],
            n => (0..n).map(|s| all.scoped(&format!("alpha.{s}"))).collect(),
        };
        MetaParams {
            theta: all.scoped("theta"),
            alpha,
        }
    }

    /// The same values as fresh leaves (the start of a meta-step).
    pub fn to_leaves(&self) -> MetaParams {
        MetaParams {
            theta: self.theta.to_leaves(),
            alpha: self.alpha.iter().map(Params::to_leaves).collect(),
        }
    }

    /// The same values as constants (for evaluation).
    pub fn detach(&self) -> MetaParams {
        MetaParams {
            theta: self.theta.detach(),
            alpha: self.alpha.iter().map(Params::detach).collect(),
        }
    }

    /// θ given a leading task axis of size `tasks` (a broadcast view): the parameters of a
    /// stacked pass, one set per task, all tied to the same θ. The gradient of the stacked
    /// support loss then has one slice per task: each task's own inner gradient.
    ///
    /// α keeps its shape: the inner step `θ − α ⊙ g` broadcasts it over the task axis of g
    /// by itself, so a view of it would only add nodes to the graph.
    pub fn per_task(&self, tasks: usize) -> MetaParams {
        let theta = self.theta.map(|_, v| {
            // Broadcasting adds the leading axis itself: one view node per tensor.
            let mut shape = vec![tasks];
            shape.extend_from_slice(v.shape());
            v.broadcast_to(&shape)
        });
        MetaParams {
            theta,
            alpha: self.alpha.clone(),
        }
    }
}

/// Adapts `meta.theta` to `support` with the inner loop; returns θ after the last step.
///
/// `tasks` is 0 for a single task, or the size of the task axis when `support` and the
/// parameters are stacked ([`MetaParams::per_task`]). `record` keeps the whole loop
/// differentiable with respect to θ and α: pass `false` when only the adapted values matter
/// (evaluation).
pub fn adapt(
    model: &dyn Module,
    meta: &MetaParams,
    inner: &InnerLoop,
    support: &Batch,
    tasks: usize,
    record: bool,
) -> Params {
    let x = Var::constant(support.x.clone());
    let second_order = record && inner.algorithm.second_order();
    // Unrecorded (evaluation): each step starts from fresh leaves, so the gradient exists but
    // no graph outlives the step.
    let mut theta = if record {
        meta.theta.clone()
    } else {
        meta.theta.to_leaves()
    };
    for step in 0..inner.steps {
        let loss = support.loss(&model.apply(&theta, &x), tasks);
        let grads = grad(&[&loss], &theta.vars(), second_order)
            .unwrap_or_else(|e| panic!("inner step {step}: {e}"));
        let grads = theta.gradients(&grads);
        let update = || {
            if inner.algorithm.learns_alpha() {
                let alpha = &meta.alpha[step.min(meta.alpha.len() - 1)];
                theta.zip3(alpha, &grads, |t, a, g| t.sub_mul(a, g))
            } else {
                let lr = Var::scalar(inner.lr, meta.theta.vars()[0].dtype());
                theta.zip(&grads, |t, g| t.sub_mul(&lr, g))
            }
        };
        theta = if record {
            update()
        } else {
            no_grad(update).to_leaves()
        };
    }
    theta
}

#[cfg(test)]
mod tests {
    use super::*;
    use nn::{mlp, Activation};
    use rand::SeedableRng;

    /// `vars` lists the same `Var`s as `flatten`, in the same order, whether α is absent,
    /// shared by the inner steps or one set per step.
    #[test]
    fn vars_are_flatten_in_order() {
        let model = mlp(&[1, 4, 1], Activation::Relu);
        for (algorithm, per_step_alpha) in [
            (Algorithm::Maml, false),
            (Algorithm::MetaSgd, false),
            (Algorithm::MetaSgd, true),
        ] {
            let inner = InnerLoop {
                algorithm,
                steps: 2,
                lr: 0.1,
                per_step_alpha,
            };
            let mut rng = StdRng::seed_from_u64(0);
            let meta = MetaParams::init(
                &model,
                &inner,
                AlphaInit::Constant(0.1),
                DType::F64,
                &mut rng,
            );
            let flat = meta.flatten();
            let (listed, expected) = (meta.vars(), flat.vars());
            assert_eq!(
                listed.len(),
                expected.len(),
                "{algorithm:?}, per step {per_step_alpha}"
            );
            assert!(listed.iter().zip(&expected).all(|(a, b)| a.same(b)));
        }
    }
}
