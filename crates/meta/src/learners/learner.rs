//! The [`Learner`] trait: the three questions every meta-learner answers.
//!
//! 1. How does it adapt to a support set? ([`Learner::adapt`])
//! 2. How does the adapted thing predict? ([`Learner::predict`])
//! 3. What does the outer step follow? ([`Learner::outer`]): most learners return a query loss
//!    to differentiate; Reptile returns a direction instead.
//!
//! The meta-trainer, evaluation, checkpoints and Lake's benchmark only talk to this trait, so
//! a learner is one file plus a line in the [registry](super::registry).
//!
//! Every method takes `tasks`: 0 for one task, or the size of a leading task axis when the
//! support and query sets are stacked and θ is broadcast over it ([`MetaParams::per_task`]).

use autograd::Var;
use nn::{Module, Params};
use rand::rngs::StdRng;
use tensor::{DType, Tensor};

use crate::learners::MetaParams;
use crate::tasks::Batch;

/// How much of an adaptation the graph keeps.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tape {
    /// Nothing: only the adapted values matter (evaluation).
    Off,
    /// The inner steps are recorded, but each inner gradient is a constant: the
    /// meta-gradient reaches what the steps learned, not the Hessian.
    FirstOrder,
    /// Everything, inner gradients included: the full meta-gradient.
    SecondOrder,
}

/// Where meta-training is, for learners whose objective changes over time (MAML++ anneals).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Progress {
    /// Meta-steps completed before this one.
    pub iteration: u64,
}

/// What adaptation produced: a parameter set for the model (optimisation-based learners) or
/// whatever else a learner predicts with, as named `Var`s.
#[derive(Clone)]
pub struct Adapted {
    pub params: Params,
    /// Constant task summaries a learner remembers after a training step (see
    /// [`Learner::remember`]); empty for most learners.
    pub memos: Vec<Tensor>,
}

/// What the outer step follows for a task (or a stack of tasks).
pub enum Objective {
    /// A loss to differentiate with respect to θ and the learned tensors; summed over tasks.
    Loss(Var),
    /// A step direction given directly, as the gradient the outer optimiser should apply:
    /// one tensor per [`MetaParams::vars`] entry, summed over tasks. `loss` is reported only.
    Direction { loss: f64, grads: Vec<Tensor> },
}

/// The outer objective of a task or stack, with what the trainer reports and remembers.
pub struct Outer {
    pub objective: Objective,
    /// The adapted model's outputs on the query inputs (for the accuracy report).
    pub prediction: Var,
    pub memos: Vec<Tensor>,
}

/// A meta-learner.
pub trait Learner: Send + Sync {
    /// The registry name (`metasgd`).
    fn name(&self) -> &'static str;

    /// The settings that define it, as checkpoint metadata (`inner_steps` → `1`).
    fn settings(&self) -> Vec<(String, String)>;

    /// The tensors it learns besides θ, for the parameters `theta`.
    fn init_learned(&self, theta: &Params, dtype: DType, rng: &mut StdRng) -> Params;

    /// Inner steps it takes to adapt (0 for a learner with no inner loop).
    fn inner_steps(&self) -> usize;

    /// Adapts to `support`, taking `steps` inner steps, keeping as much of the graph as `tape`
    /// says.
    fn adapt(
        &self,
        model: &dyn Module,
        meta: &MetaParams,
        support: &Batch,
        tasks: usize,
        steps: usize,
        tape: Tape,
    ) -> Adapted;

    /// The adapted model's outputs for inputs `x`. By default: the model with the adapted
    /// parameters.
    fn predict(&self, model: &dyn Module, _meta: &MetaParams, adapted: &Adapted, x: &Var) -> Var {
        model.apply(&adapted.params, x)
    }

    /// The standard deviation of the adapted model's predictive distribution at `x`, for
    /// learners that give one (a neural process): each point of `predict`'s output is then the
    /// mean of a Gaussian with this σ. None by default.
    fn predictive_std(
        &self,
        _model: &dyn Module,
        _meta: &MetaParams,
        _adapted: &Adapted,
        _x: &Var,
    ) -> Option<Var> {
        None
    }

    /// Whether `predict` goes through the model's own output layer, so the model's output size
    /// must be the task's (the N of an N-way head). A learner that makes its own classifier
    /// from the support set (a metric learner predicting by distances between embeddings, a
    /// parameter-generating network) says no, and serves any N with one checkpoint.
    fn uses_model_head(&self) -> bool {
        true
    }

    /// The outer objective of meta-training on one task or a stack. By default
    /// [`outer_by_adapting`]: adapt with [`Learner::training_tape`], predict the query set, and
    /// its loss.
    fn outer(
        &self,
        model: &dyn Module,
        meta: &MetaParams,
        support: &Batch,
        query: &Batch,
        tasks: usize,
        progress: Progress,
    ) -> Outer {
        outer_by_adapting(self, model, meta, support, query, tasks, progress)
    }

    /// How much of the adaptation meta-training records (second order by default).
    fn training_tape(&self, _progress: Progress) -> Tape {
        Tape::SecondOrder
    }

    /// Numbers that describe how the learner treats one task (see
    /// [`UpdateRule::summary`](super::UpdateRule::summary)). None by default.
    fn summary(
        &self,
        _model: &dyn Module,
        _meta: &MetaParams,
        _support: &Batch,
    ) -> Vec<(&'static str, f64)> {
        Vec::new()
    }

    /// After a training step: the memos of its tasks, in task order. Nothing by default.
    fn remember(&mut self, _memos: &[Tensor]) {}

    /// State that is not learned by gradient, for checkpoints. None by default.
    fn buffers(&self) -> Params {
        Params::new()
    }

    /// Restores [`Learner::buffers`]; on error nothing changes.
    fn load_buffers(&mut self, buffers: &Params) -> Result<(), String> {
        match buffers.names().next() {
            None => Ok(()),
            Some(name) => Err(format!("unexpected buffer `{name}`")),
        }
    }

    /// θ from the model's initialisers and the learned tensors from [`Learner::init_learned`].
    fn init(&self, model: &dyn Module, dtype: DType, rng: &mut StdRng) -> MetaParams {
        let theta = model.init(rng, dtype);
        let learned = self.init_learned(&theta, dtype, rng);
        MetaParams { theta, learned }
    }
}

/// The default outer objective: adapt with the learner's [`Learner::training_tape`], predict
/// the query set, and its loss (for a learner that overrides [`Learner::outer`] only sometimes).
pub fn outer_by_adapting<L: Learner + ?Sized>(
    learner: &L,
    model: &dyn Module,
    meta: &MetaParams,
    support: &Batch,
    query: &Batch,
    tasks: usize,
    progress: Progress,
) -> Outer {
    let tape = learner.training_tape(progress);
    let adapted = learner.adapt(model, meta, support, tasks, learner.inner_steps(), tape);
    let prediction = learner.predict(model, meta, &adapted, &Var::constant(query.x.clone()));
    Outer {
        objective: Objective::Loss(query.loss(&prediction, tasks)),
        prediction,
        memos: adapted.memos,
    }
}
