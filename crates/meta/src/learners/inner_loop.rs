//! The inner loop every optimisation-based learner runs, for `steps` steps from θ₀ = θ:
//!
//! ```text
//! gₛ   = ∇ L_support(θₛ)                      recorded if the tape is second order
//! θₛ₊₁ = rule(θₛ, gₛ, learned, state, s)       recorded unless the tape is off
//! ```

use autograd::{grad, no_grad, Var};
use nn::{Module, Params};

use crate::learners::rule::{Step, TaskStart, UpdateRule};
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
    for index in 0..steps {
        let loss = support.loss(&model.apply(&theta, &x), tasks);
        let grads = grad(&[&loss], &theta.vars(), tape == Tape::SecondOrder)
            .unwrap_or_else(|e| panic!("inner step {index}: {e}"));
        let grads = theta.gradients(&grads);
        let step = Step {
            index,
            theta: &theta,
            grads: &grads,
            learned: &meta.learned,
            tasks,
        };
        theta = if record {
            rule.step(&step, &mut state)
        } else {
            no_grad(|| rule.step(&step, &mut state)).to_leaves()
        };
        after_step(index, &theta);
    }
    Adapted {
        params: theta,
        memos: state.memo.into_iter().collect(),
    }
}
