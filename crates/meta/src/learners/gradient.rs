//! [`GradientLearner`]: an update rule run for a fixed number of inner steps, meta-trained on
//! the query loss after the last step. MAML, Meta-SGD, their first-order variants and the
//! similarity-scaled step are this learner with different rules and tapes:
//!
//! | learner | rule | tape |
//! |---|---|---|
//! | MAML (Finn et al. 2017) | [`FixedRate`](super::rules::FixedRate) | second order |
//! | first-order MAML | `FixedRate` | first order |
//! | Meta-SGD (Li et al. 2017) | [`PerParameterRate`](super::rules::PerParameterRate) | second order |
//! | first-order Meta-SGD | `PerParameterRate` | first order: ∂L/∂α = −g ⊙ ∂L/∂θ' needs no Hessian |
//! | similarity-scaled step | [`SimilarityScaled`](super::rules::SimilarityScaled) | second order |
//!
//! With `recompute`, the outer objective is differentiated by [`Unroll`] (one inner step's
//! graph alive at a time) instead of recording every step: the same meta-gradient up to
//! rounding, in memory that does not grow with `steps`, for n−1 more first-order inner steps.

use nn::{Module, Params};
use rand::rngs::StdRng;
use tensor::{DType, Tensor};

use crate::learners::rule::{TaskStart, UpdateRule};
use crate::learners::{
    inner_loop, outer_by_adapting, Adapted, Learner, MetaParams, Outer, Progress, Tape, Unroll,
};
use crate::tasks::Batch;

/// An optimisation-based learner: `steps` steps of `rule`, differentiated through as `tape`
/// says.
pub struct GradientLearner {
    pub name: &'static str,
    pub rule: Box<dyn UpdateRule>,
    pub steps: usize,
    /// [`Tape::SecondOrder`] or [`Tape::FirstOrder`].
    pub tape: Tape,
    /// Meta-train by recomputing each inner step in a reverse sweep ([`Unroll`]) instead of
    /// recording all of them: memory of one step, not `steps`.
    pub recompute: bool,
}

impl Learner for GradientLearner {
    fn name(&self) -> &'static str {
        self.name
    }

    fn settings(&self) -> Vec<(String, String)> {
        let mut settings = vec![("inner_steps".to_string(), self.steps.to_string())];
        settings.extend(self.rule.settings());
        settings
    }

    fn init_learned(&self, theta: &Params, dtype: DType, rng: &mut StdRng) -> Params {
        self.rule.init_learned(theta, self.steps, dtype, rng)
    }

    fn inner_steps(&self) -> usize {
        self.steps
    }

    fn adapt(
        &self,
        model: &dyn Module,
        meta: &MetaParams,
        support: &Batch,
        tasks: usize,
        steps: usize,
        tape: Tape,
    ) -> Adapted {
        let rule = self.rule.as_ref();
        inner_loop(
            model,
            rule,
            meta,
            support,
            tasks,
            steps,
            tape,
            &mut |_, _| {},
        )
    }

    fn training_tape(&self, _progress: Progress) -> Tape {
        self.tape
    }

    /// The query loss after the last step, recorded ([`outer_by_adapting`]) or recomputed.
    fn outer(
        &self,
        model: &dyn Module,
        meta: &MetaParams,
        support: &Batch,
        query: &Batch,
        tasks: usize,
        progress: Progress,
    ) -> Outer {
        if !self.recompute {
            return outer_by_adapting(self, model, meta, support, query, tasks, progress);
        }
        // Only the last step's query loss counts: weights 0, …, 0, 1.
        let mut weights = vec![0.0; self.steps];
        if let Some(last) = weights.last_mut() {
            *last = 1.0;
        }
        Unroll {
            model,
            rule: self.rule.as_ref(),
            meta,
            support,
            query,
            tasks,
            tape: self.tape,
            weights: &weights,
        }
        .outer()
    }

    fn summary(
        &self,
        model: &dyn Module,
        meta: &MetaParams,
        support: &Batch,
    ) -> Vec<(&'static str, f64)> {
        let start = TaskStart {
            model,
            theta: &meta.theta,
            learned: &meta.learned,
            support,
            tasks: 0,
        };
        self.rule.summary(&start)
    }

    fn remember(&mut self, memos: &[Tensor]) {
        self.rule.remember(memos);
    }

    fn buffers(&self) -> Params {
        self.rule.buffers()
    }

    fn load_buffers(&mut self, buffers: &Params) -> Result<(), String> {
        self.rule.load_buffers(buffers)
    }
}
