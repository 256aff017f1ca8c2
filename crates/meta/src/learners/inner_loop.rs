//! The inner loop every optimisation-based learner runs, for `steps` steps from θ₀ = θ:
//!
//! ```text
//! gₛ   = ∇ L_support(θₛ)                      recorded if the tape is second order
//! θₛ₊₁ = rule(θₛ, gₛ, learned, state, s)       recorded unless the tape is off
//! ```

use autograd::{grad, no_grad, Var};
use nn::{Module, Params};

use crate::learners::rule::{RuleState, Step, TaskStart, UpdateRule};
use crate::learners::{Adapted, MetaParams, Tape};
use crate::tasks::Batch;

/// Adapts `meta.theta` to `support` with `steps` steps of `rule`; `after_step(s, θₛ₊₁)` is
/// called after each step (MAML++ scores every step). Returns θ after the last step.
///
/// With the tape off, each step starts from fresh leaves, so its gradient exists but no graph
/// outlives the step.
#[allow(clippy::too_many_arguments)]
pub fn inner_loop(
    model: &dyn Module,
    rule: &dyn UpdateRule,
    meta: &MetaParams,
    support: &Batch,
    tasks: usize,
    steps: usize,
    tape: Tape,
    after_step: &mut dyn FnMut(usize, &Params),
) -> Adapted {
    let x = Var::constant(support.x.clone());
    let record = tape != Tape::Off;
    let mut theta = if record {
        meta.theta.clone()
    } else {
        meta.theta.to_leaves()
    };
    let start = TaskStart {
        model,
        theta: &theta,
        learned: &meta.learned,
        support,
        tasks,
    };
    let mut state = if record {
        rule.begin(&start)
    } else {
        no_grad(|| rule.begin(&start))
    };
    let inner = InnerStep {
        model,
        rule,
        x: &x,
        support,
        learned: &meta.learned,
        tasks,
    };
    for index in 0..steps {
        theta = inner.step(index, &theta, tape, &mut state);
        if !record {
            theta = theta.to_leaves();
        }
        after_step(index, &theta);
    }
    Adapted {
        params: theta,
        memos: state.memo.into_iter().collect(),
    }
}

/// What every inner step of one task (or stack) shares; [`InnerStep::step`] takes one step.
/// The recorded loop above and the recomputing sweep (`recompute`) both step through it.
pub(crate) struct InnerStep<'a> {
    pub model: &'a dyn Module,
    pub rule: &'a dyn UpdateRule,
    /// The support inputs, as a constant.
    pub x: &'a Var,
    pub support: &'a Batch,
    pub learned: &'a Params,
    pub tasks: usize,
}

impl InnerStep<'_> {
    /// θₛ₊₁ = rule(θₛ, gₛ, learned, state, s) with gₛ = ∇ L_support(θₛ), recorded as `tape`
    /// says: the gradient only for [`Tape::SecondOrder`], the rule's arithmetic for either
    /// recording tape, nothing for [`Tape::Off`] (the gradient is still computed, from the
    /// support loss's own short-lived graph).
    pub fn step(&self, index: usize, theta: &Params, tape: Tape, state: &mut RuleState) -> Params {
        let loss = self
            .support
            .loss(&self.model.apply(theta, self.x), self.tasks);
        let grads = grad(&[&loss], &theta.vars(), tape == Tape::SecondOrder)
            .unwrap_or_else(|e| panic!("inner step {index}: {e}"));
        let grads = theta.gradients(&grads);
        let step = Step {
            index,
            theta,
            grads: &grads,
            learned: self.learned,
            tasks: self.tasks,
        };
        match tape {
            Tape::Off => no_grad(|| self.rule.step(&step, state)),
            Tape::FirstOrder | Tape::SecondOrder => self.rule.step(&step, state),
        }
    }
}
