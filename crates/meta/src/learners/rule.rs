//! The inner update rule: one step from θₛ to θₛ₊₁.
//!
//! Under every optimisation-based learner sits the same loop ([`inner_loop`]), and the one
//! thing that differs between MAML, Meta-SGD, MAML++, a learned optimiser or a
//! similarity-scaled step is how one step is taken:
//!
//! ```text
//! θₛ₊₁ = rule(θₛ, gₛ = ∇L_support(θₛ), learned, per-task state, s)
//! ```
//!
//! A rule is written in `Var` operations, so the meta-gradient reaches whatever it learned
//! (`learned` is part of the tape). Whether gₛ itself is differentiated — second order — is not
//! the rule's business: the learner decides that when it runs the loop.
//!
//! [`inner_loop`]: super::inner_loop

use autograd::Var;
use nn::{Module, Params};
use rand::rngs::StdRng;
use tensor::{DType, Tensor};

use crate::tasks::Batch;

/// What one inner step sees.
pub struct Step<'a> {
    /// Which step this is, from 0.
    pub index: usize,
    /// θₛ (with a leading task axis when `tasks > 0`).
    pub theta: &'a Params,
    /// ∇L_support(θₛ), under θ's names and shapes.
    pub grads: &'a Params,
    /// Everything learned besides θ ([`MetaParams::learned`](super::MetaParams)).
    pub learned: &'a Params,
    /// 0 for one task, or the size of the leading task axis of a stacked pass.
    pub tasks: usize,
}

/// What a rule sees before a task's first step.
pub struct TaskStart<'a> {
    pub model: &'a dyn Module,
    /// θ₀.
    pub theta: &'a Params,
    pub learned: &'a Params,
    pub support: &'a Batch,
    pub tasks: usize,
}

/// A task's own state, carried from one step to the next: an LSTM's hidden state, or a step
/// size chosen for the task. Held as named `Var`s, so it stays on the tape.
#[derive(Clone, Default)]
pub struct RuleState {
    pub vars: Params,
    /// A constant summary of the task that the rule wants to remember after a training step
    /// (the similarity rule's task embedding), one row per task; see [`UpdateRule::remember`].
    pub memo: Option<Tensor>,
}

/// One inner step of an optimisation-based learner.
pub trait UpdateRule: Send + Sync {
    /// What the rule learns for parameters `theta` and `steps` inner steps, each entry named
    /// under the rule's own prefix (`alpha.0.weight`). Nothing by default.
    fn init_learned(
        &self,
        _theta: &Params,
        _steps: usize,
        _dtype: DType,
        _rng: &mut StdRng,
    ) -> Params {
        Params::new()
    }

    /// The task's state before its first step. Empty by default.
    fn begin(&self, _start: &TaskStart) -> RuleState {
        RuleState::default()
    }

    /// θₛ₊₁, under θ's names.
    fn step(&self, step: &Step, state: &mut RuleState) -> Params;

    /// Numbers that describe how the rule treats one task (the similarity rule's α* and η),
    /// for reports. None by default.
    fn summary(&self, _start: &TaskStart) -> Vec<(&'static str, f64)> {
        Vec::new()
    }

    /// The rule's settings, as checkpoint metadata.
    fn settings(&self) -> Vec<(String, String)> {
        Vec::new()
    }

    /// After a training step: the memos of its tasks ([`RuleState::memo`]), in task order.
    fn remember(&mut self, _memos: &[Tensor]) {}

    /// State the rule keeps that is not learned by gradient (the similarity rule's memory),
    /// for checkpoints.
    fn buffers(&self) -> Params {
        Params::new()
    }

    /// Restores [`UpdateRule::buffers`]; on error nothing changes.
    fn load_buffers(&mut self, buffers: &Params) -> Result<(), String> {
        match buffers.names().next() {
            None => Ok(()),
            Some(name) => Err(format!("unexpected buffer `{name}`")),
        }
    }
}

/// `theta`'s entries updated by `f(θ entry, gradient entry, k)`, k the entry's position: the
/// shape of every rule's step, without building new names.
pub fn each_entry(step: &Step, mut f: impl FnMut(&Var, &Var, usize) -> Var) -> Params {
    let mut grads = step.grads.iter().map(|(_, g)| g);
    let mut k = 0;
    step.theta.map(|_, t| {
        let g = grads.next().expect("one gradient per parameter");
        let out = f(t, g, k);
        k += 1;
        out
    })
}
