//! `meta`: meta-learning on top of `nn` — Meta-SGD, MAML and their first-order variants,
//! task families, the meta-trainer and evaluation.
//!
//! Read the files in this order:
//! 1. [`task`] — support and query sets, stacking tasks along a task axis.
//! 2. [`sinusoid`] — the sine-wave regression family (and [`sine`], the `sin` it uses).
//! 3. [`learner`] — the inner loop of every algorithm, and θ/α as `MetaParams`.
//! 4. [`trainer`] — meta-batches, vectorised or per task, in parallel and deterministic.
//! 5. [`pool`] — running the training loop on the worker threads.
//! 6. [`eval`] — the evaluation protocol and confidence intervals.
//! 7. [`omniglot`] — the Omniglot data: loading, splits, N-way K-shot tasks, Lake's benchmark.
//!
//! The chapters below (`docs/05-meta-sgd.md`, `docs/06-omniglot.md`) derive the algorithm,
//! draw the tape of one meta-step, and take it to Omniglot.
#![doc = include_str!("../../../docs/05-meta-sgd.md")]
#![doc = include_str!("../../../docs/06-omniglot.md")]

pub mod checkpoint;
pub mod eval;
pub mod learner;
pub mod omniglot;
pub mod pool;
pub mod sine;
pub mod sinusoid;
pub mod task;
pub mod trainer;

pub use checkpoint::{read_inner, resume_training, save_training};
pub use eval::{evaluate_tasks, sinusoid_eval_tasks, Estimate};
pub use learner::{adapt, Algorithm, AlphaInit, InnerLoop, MetaParams};
pub use pool::run_on_pool;
pub use sinusoid::{Sinusoid, Wave};
pub use task::{stack, stack_tasks, Batch, Target, Task, TaskSource};
pub use trainer::{task_seed, Execution, MetaTrainer, StepReport, Tasks};
