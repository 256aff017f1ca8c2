//! Meta-SGD's inner step (Li et al. 2017): a learned rate for every element of θ,
//! `θₛ₊₁ = θₛ − α ⊙ gₛ`, with α a tensor of θ's shapes (`alpha.*`), or one such tensor per
//! inner step (`alpha.<s>.*`).
//!
//! Differentiating the step by α gives `∂L/∂α = −g ⊙ ∂L/∂θ'`: an element of α grows when the
//! support gradient and the query gradient at θ' agree (the step was too short) and shrinks
//! when they disagree.

use nn::Params;
use rand::rngs::StdRng;
use tensor::{DType, Tensor};

use crate::learners::rule::{each_entry, RuleState, Step, UpdateRule};

/// How learned rates start.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum RateInit {
    /// Each element uniform in [low, high) — Meta-SGD's U[0.005, 0.1].
    Uniform { low: f64, high: f64 },
    /// Every element the same.
    Constant(f64),
}

impl RateInit {
    /// A tensor of `shape` drawn from this initialiser.
    pub fn sample(self, shape: &[usize], dtype: DType, rng: &mut StdRng) -> Tensor {
        match self {
            RateInit::Uniform { low, high } => Tensor::rand_uniform(shape, low, high, dtype, rng),
            RateInit::Constant(c) => Tensor::full(shape, c, dtype),
        }
    }
}

/// `θ − α ⊙ g`, α learned.
#[derive(Clone, Copy, Debug)]
pub struct PerParameterRate {
    pub init: RateInit,
    /// A separate α for each inner step instead of one shared by all steps.
    pub per_step: bool,
}

impl PerParameterRate {
    /// How many α sets there are for `steps` inner steps.
    fn sets(&self, steps: usize) -> usize {
        if self.per_step {
            steps.max(1)
        } else {
            1
        }
    }
}

impl UpdateRule for PerParameterRate {
    fn init_learned(&self, theta: &Params, steps: usize, dtype: DType, rng: &mut StdRng) -> Params {
        let sets = self.sets(steps);
        let mut learned = Params::new();
        for s in 0..sets {
            let prefix = if sets == 1 {
                "alpha".to_string()
            } else {
                format!("alpha.{s}")
            };
            let alpha =
                theta.map(|_, p| autograd::Var::leaf(self.init.sample(p.shape(), dtype, rng)));
            learned.extend_prefixed(&prefix, &alpha);
        }
        learned
    }

    fn step(&self, step: &Step, _state: &mut RuleState) -> Params {
        // The α set of this step: sets are stored one after another, in θ's order. A step
        // past the last set reuses the last one (evaluation with more steps than training).
        let count = step.theta.len();
        let sets = step.learned.len() / count;
        let first = count * step.index.min(sets - 1);
        let mut alpha = step.learned.iter().skip(first).map(|(_, a)| a);
        each_entry(step, |t, g, _| {
            t.sub_mul(alpha.next().expect("one α per parameter"), g)
        })
    }

    fn settings(&self) -> Vec<(String, String)> {
        vec![("per_step_alpha".into(), self.per_step.to_string())]
    }
}
