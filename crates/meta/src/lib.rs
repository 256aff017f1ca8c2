//! `meta`: meta-learning on top of `nn` — an open family of learners, task families, the
//! meta-trainer and evaluation.
//!
//! The crate has three parts, each its own module tree:
//! 1. [`tasks`] — support and query sets, stacking tasks along a task axis, and the task
//!    families: [`sinusoid`](tasks::sinusoid) regression and [`omniglot`] classification.
//! 2. [`learners`] — what a meta-learner is ([`Learner`]), the inner update rule under the
//!    optimisation-based ones ([`UpdateRule`]), MAML, Meta-SGD, MAML++, Reptile, the
//!    similarity-scaled step, a learned LSTM optimiser, prototypical and Siamese networks, the
//!    model-based conditional neural process and parameter-generating network, and the
//!    [registry](learners::registry) of names.
//! 3. [`training`] — the meta-trainer, its worker threads, sharing it among processes,
//!    checkpoints, evaluation.
//! 4. [`unroll`] — meta-training a learned optimiser by unrolling it on an optimisee.
//!
//! The chapters below derive Meta-SGD and draw the tape of one meta-step
//! (`docs/05-meta-sgd.md`), take it to Omniglot (`docs/06-omniglot.md`), and show how a
//! learner is put together and how to write a new update rule (`docs/07-learners.md`), and
//! learn the update rule itself with an LSTM (`docs/08-learned-optimizers.md`), derive the
//! metric-based learners, prototypical and Siamese networks (`docs/09-metric-learning.md`), and
//! set the model-based learners beside the other families (`docs/10-model-based.md`).
#![doc = include_str!("../../../docs/05-meta-sgd.md")]
#![doc = include_str!("../../../docs/06-omniglot.md")]
#![doc = include_str!("../../../docs/07-learners.md")]
#![doc = include_str!("../../../docs/08-learned-optimizers.md")]
#![doc = include_str!("../../../docs/09-metric-learning.md")]
#![doc = include_str!("../../../docs/10-model-based.md")]

pub mod learners;
pub mod tasks;
pub mod training;
pub mod unroll;

pub use learners::rules::RateInit;
pub use learners::{registry, Learner, MetaParams, Settings, Tape, UpdateRule};
pub use tasks::omniglot;
pub use tasks::sinusoid::{Sinusoid, Wave};
pub use tasks::{stack, stack_tasks, Batch, Target, Task, TaskSource};
pub use training::checkpoint::{
    read_iteration, restore, restore_from, resume_training, resume_training_with, run_differences,
    save_training, MAX_ITERATION,
};
pub use training::cluster::{map_shared, share, Cluster, SingleProcess};
pub use training::eval::{
    evaluate_tasks, evaluate_tasks_among, evaluate_uncertainty, evaluate_uncertainty_among,
    sinusoid_eval_tasks, Estimate, Uncertainty,
};
pub use training::threads::run_on_pool;
pub use training::trainer::{task_seed, Execution, MetaTrainer, StepReport, Tasks};
