//! MAML++'s inner step (Antoniou, Edwards & Storkey 2019, "How to train your MAML"): learned
//! per-layer, per-step learning rates ("LSLR"). Step s updates each parameter tensor p with its
//! own scalar rate, `pₛ₊₁ = pₛ − lrₛ,ₚ · gₛ,ₚ`, learned as `lslr.<s>.<p>` (through a softplus,
//! below).
//!
//! Between MAML's one rate and Meta-SGD's rate per element: a handful of numbers (steps ×
//! tensors) that let early steps move some layers more than others.
//!
//! Each rate is kept positive as lr = softplus(ρ), and `lslr.<s>.<p>` holds ρ. Learned
//! directly, a rate of 0.01 moved by Adam's fixed-size steps (≈ 10⁻³ each) crossed zero within a
//! few hundred sinusoid iterations, and negative rates step uphill until the inner loop
//! diverges; through softplus a step changes a small rate by a ratio instead.

use autograd::Var;
use nn::Params;
use rand::rngs::StdRng;
use tensor::{DType, Tensor};

use crate::learners::rule::{each_entry, RuleState, Step, UpdateRule};
use crate::learners::rules::softplus_inverse;

/// `θ − lrₛ,ₚ · g`, one learned scalar per step and parameter tensor, all starting at `init`.
#[derive(Clone, Copy, Debug)]
pub struct LayerStepRates {
    pub init: f64,
}

impl UpdateRule for LayerStepRates {
    fn init_learned(&self, theta: &Params, steps: usize, dtype: DType, _: &mut StdRng) -> Params {
        let mut learned = Params::new();
        for s in 0..steps.max(1) {
            let raw = softplus_inverse(self.init);
            let rates = theta.map(|_, _| Var::leaf(Tensor::scalar_of(raw, dtype)));
            learned.extend_prefixed(&format!("lslr.{s}"), &rates);
        }
        learned
    }

    fn step(&self, step: &Step, _state: &mut RuleState) -> Params {
        let count = step.theta.len();
        let sets = step.learned.len() / count;
        let first = count * step.index.min(sets - 1);
        let mut rates = step.learned.iter().skip(first).map(|(_, r)| r);
        each_entry(step, |t, g, _| {
            t.sub_mul(&rates.next().expect("one rate per tensor").softplus(), g)
        })
    }

    fn settings(&self) -> Vec<(String, String)> {
        vec![("inner_lr".into(), self.init.to_string())]
    }
}
