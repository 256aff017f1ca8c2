//! Meta-training and evaluation, for any learner and any task family.
//!
//! - [`trainer`] — meta-batches, vectorised or per task, in parallel and deterministic;
//! - [`threads`] — running the training loop on the worker threads;
//! - [`cluster`] — sharing a meta-batch among processes, bit for bit as one process
//!   (and [`wire`], the bytes they exchange);
//! - [`tree_sum`] — the fixed order in which chunk results are added, so that processes can
//!   exchange partial sums and still agree with one process bit for bit;
//! - [`checkpoint`] — saving, restoring and resuming, with the learner recorded;
//! - [`eval`] — the evaluation protocol and confidence intervals.

pub mod checkpoint;
pub mod cluster;
pub mod eval;
pub mod threads;
pub mod trainer;
pub mod tree_sum;
pub mod wire;
