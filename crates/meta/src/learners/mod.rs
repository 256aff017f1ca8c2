//! Learners: how a task adapts what meta-training learned, and what the outer step follows.
//!
//! Read in this order:
//! 1. [`MetaParams`] — θ, and everything else learned, in one named collection.
//! 2. [`Learner`] — the trait every meta-learner implements: adapt, predict, outer objective.
//! 3. [`UpdateRule`] and [`inner_loop`] — the inner step under every optimisation-based
//!    learner, and the loop that runs it.
//! 4. [`rules`] — MAML's fixed rate, Meta-SGD's per-parameter rates, MAML++'s per-layer
//!    per-step rates, the similarity-scaled step, the learned LSTM optimiser.
//! 5. [`GradientLearner`], [`MamlPlusPlus`], [`Reptile`] — the learners built on them;
//!    [`Unroll`] — their meta-gradient by recomputation, in memory that does not grow with
//!    the inner steps (`--recompute`).
//! 6. [`metric`], [`Prototypical`], [`Siamese`] — the metric-based learners: no inner loop,
//!    a class is known by where its support embeddings lie.
//! 7. [`Cnp`], [`Pgn`] — model-based learners: a network reads the support set and gives the
//!    task's predictor directly, with no inner steps.
//! 8. [`registry`] — the learners by name, as the examples' `--algo` reads them.
//!
//! The chapter `docs/07-learners.md` builds a new rule from scratch; `docs/09-metric-learning.md`
//! derives the metric learners.

mod cnp;
mod gradient;
mod inner_loop;
mod learner;
mod maml_plus_plus;
mod meta_params;
pub mod metric;
mod pgn;
pub mod prototypical;
mod recompute;
mod recorded;
pub mod registry;
mod reptile;
mod rule;
pub mod rules;
pub mod siamese;

pub use cnp::{gaussian_nll, Cnp, Predictive, SIGMA_MIN};
pub use gradient::GradientLearner;
pub use inner_loop::inner_loop;
pub use learner::{outer_by_adapting, Adapted, Learner, Objective, Outer, Progress, Tape};
pub use maml_plus_plus::MamlPlusPlus;
pub use meta_params::MetaParams;
pub use pgn::Pgn;
pub use prototypical::Prototypical;
pub use recompute::Unroll;
pub use registry::Settings;
pub use reptile::Reptile;
pub use rule::{each_entry, RuleState, Step, TaskStart, UpdateRule};
pub use siamese::Siamese;
