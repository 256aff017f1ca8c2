//! MAML's inner step (Finn et al. 2017): one fixed step size for every parameter,
//! `θₛ₊₁ = θₛ − lr · gₛ`. Nothing is learned besides θ.

use autograd::Var;
use nn::Params;

use crate::learners::rule::{each_entry, RuleState, Step, UpdateRule};

/// `θ − lr · g`.
#[derive(Clone, Copy, Debug)]
pub struct FixedRate {
    pub lr: f64,
}

impl UpdateRule for FixedRate {
    fn step(&self, step: &Step, _state: &mut RuleState) -> Params {
        let dtype = step.theta.vars()[0].dtype();
        let lr = Var::scalar(self.lr, dtype);
        each_entry(step, |t, g, _| t.sub_mul(&lr, g))
    }

    fn settings(&self) -> Vec<(String, String)> {
        vec![("inner_lr".into(), self.lr.to_string())]
    }
}
