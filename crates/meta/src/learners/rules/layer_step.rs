//! MAML++'s inner step (Antoniou, Edwards & Storkey 2019, "How to train your MAML"): learned
//! per-layer, per-step learning rates ("LSLR"). Step s updates each parameter tensor p with its
//! own scalar rate, `pₛ₊₁ = pₛ − lrₛ,ₚ · gₛ,ₚ`, learned as `lslr.<s>.<p>`.
//!
//! Between MAML's one rate and Meta-SGD's rate per element: a handful of numbers (steps ×
//! tensors) that let early steps move some layers more than others.

use autograd::Var;
use nn::Params;
use rand::rngs::StdRng;
use tensor::{DType, Tensor};

use crate::learners::rule::{each_entry, RuleState, Step, UpdateRule};

/// `θ − lrₛ,ₚ · g`, one learned scalar per step and parameter tensor, all starting at `init`.
#[derive(Clone, Copy, Debug)]
pub struct LayerStepRates {
    pub init: f64,
}

impl UpdateRule for LayerStepRates {
    fn init_learned(&self, theta: &Params, steps: usize, dtype: DType, _: &mut StdRng) -> Params {
        let mut learned = Params::new();
        for s in 0..steps.max(1) {
            let rates = theta.map(|_, _| Var::leaf(Tensor::scalar_of(self.init, dtype)));
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
            t.sub_mul(rates.next().expect("one rate per tensor"), g)
        })
    }

    fn settings(&self) -> Vec<(String, String)> {
        vec![("inner_lr".into(), self.init.to_string())]
    }
}
