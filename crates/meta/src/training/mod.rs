//! Meta-training and evaluation, for any learner and any task family.
//!
//! - [`trainer`] — meta-batches, vectorised or per task, in parallel and deterministic;
//! - [`threads`] — running the training loop on the worker threads;
//! - [`checkpoint`] — saving, restoring and resuming, with the learner recorded;
//! - [`eval`] — the evaluation protocol and confidence intervals.

pub mod checkpoint;
pub mod eval;
pub mod threads;
pub mod trainer;
