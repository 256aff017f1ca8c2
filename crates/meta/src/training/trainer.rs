//! The meta-trainer: for a meta-batch of tasks, ask the learner for each task's outer
//! objective (usually: adapt to the support set, the loss on the query set), and step θ and
//! the learned tensors along the mean of its gradients with any `nn` optimiser.
//!
//! Two ways to run a meta-batch:
//!
//! - [`Execution::Vectorised`]: the tasks of a chunk are stacked along a leading task axis and
//!   θ is broadcast to it, so every matmul of the chunk is one batched matmul. Far fewer,
//!   larger operations: the fast path for small networks.
//! - [`Execution::PerTask`]: one graph per task (needed when a layer has no batched form, such
//!   as the convolutions of the Omniglot network).
//!
//! Either way the meta-batch is cut into chunks of a *fixed* size, chunks run in parallel on
//! rayon's threads, and their gradients are added along a fixed tree over the chunk indices
//! ([`crate::training::tree_sum`]). The partition does not depend on the number of threads, so
//! a seed gives the same run whatever the thread count. Nor on the number of processes:
//! [`MetaTrainer::step_among`] shares the chunks among the processes of a [`Cluster`], each
//! adds the subtrees within its share, and every process completes the same tree
//! ([`crate::training::cluster`]).

use std::borrow::Cow;
use std::ops::Range;

use autograd::{grad, Var};
use nn::{Module, Optimizer, Params};
use rand::rngs::StdRng;
use rand::SeedableRng;
use rayon::prelude::*;
use tensor::{DType, Tensor};

use crate::learners::{Learner, MetaParams, Objective, Outer, Progress};
use crate::tasks::{stack_tasks, Batch, Task, TaskSource};
use crate::training::cluster::{share, tree_sum_among, Cluster, SingleProcess};
use crate::training::tree_sum::{partial_sums, TreeAdd};
use crate::training::wire::Wire;

/// How the tasks of a meta-batch are evaluated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Execution {
    /// Stack up to `chunk` tasks along a task axis and run them as one.
    Vectorised { chunk: usize },
    /// One graph per task, `chunk` tasks per parallel job.
    PerTask { chunk: usize },
}

impl Execution {
    fn chunk(self) -> usize {
        match self {
            Execution::Vectorised { chunk } | Execution::PerTask { chunk } => chunk.max(1),
        }
    }
}

/// What is learned, the learner, the outer optimiser and how a meta-batch is run.
pub struct MetaTrainer {
    pub model: Box<dyn Module>,
    pub meta: MetaParams,
    pub learner: Box<dyn Learner>,
    pub optimizer: Box<dyn Optimizer>,
    pub execution: Execution,
    /// Meta-steps taken (restored on resume); learners whose objective changes over training
    /// read it.
    pub iteration: u64,
}

/// One meta-step's outcome.
#[derive(Clone, Debug)]
pub struct StepReport {
    /// Mean query loss of the adapted models, before the update.
    pub meta_loss: f64,
    /// For classification tasks, the fraction of query examples the adapted models got right.
    pub query_accuracy: Option<f64>,
    /// The gradients of `meta_loss` with respect to [`MetaParams::flatten`] (for a learner
    /// that gives a direction, that direction).
    pub grads: Params,
    /// What the learner asked to remember of the batch's tasks, in task order.
    pub memos: Vec<Tensor>,
}

/// What one parallel job returns.
struct ChunkResult {
    loss: f64,
    /// Query examples classified correctly, out of `scored` (both 0 for regression).
    correct: usize,
    scored: usize,
    grads: Vec<Tensor>,
    memos: Vec<Tensor>,
}

/// A chunk's result travels between processes as its numbers, in field order.
impl Wire for ChunkResult {
    fn write(&self, out: &mut Vec<u8>) {
        self.loss.write(out);
        self.correct.write(out);
        self.scored.write(out);
        self.grads.write(out);
        self.memos.write(out);
    }
    fn read(input: &mut &[u8]) -> ChunkResult {
        ChunkResult {
            loss: f64::read(input),
            correct: usize::read(input),
            scored: usize::read(input),
            grads: Vec::read(input),
            memos: Vec::read(input),
        }
    }
}

/// Chunks are added along the tree of `tree_sum`; memos stay in task order.
impl TreeAdd for ChunkResult {
    fn add(mut self, right: ChunkResult) -> ChunkResult {
        self.loss += right.loss;
        self.correct += right.correct;
        self.scored += right.scored;
        for (sum, g) in self.grads.iter_mut().zip(&right.grads) {
            sum.add_assign(g);
        }
        self.memos.extend(right.memos);
        self
    }
}

/// The seed of task `index` of a meta-batch whose seed is `batch_seed`: a SplitMix64 step
/// (Steele et al. 2014) over both, so neighbouring indices and seeds give unrelated streams.
pub fn task_seed(batch_seed: u64, index: usize) -> u64 {
    let mut z = batch_seed ^ (index as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Where a meta-batch's tasks come from.
#[derive(Clone, Copy)]
pub enum Tasks<'a> {
    /// Tasks already drawn.
    Given(&'a [Task]),
    /// `count` tasks to draw from `source`, task `k` with its own generator seeded by
    /// [`task_seed`]`(seed, k)`: each parallel job draws its own tasks, and the batch is the
    /// same whatever the number of threads.
    Drawn {
        source: &'a dyn TaskSource,
        count: usize,
        seed: u64,
    },
}

impl Tasks<'_> {
    fn len(&self) -> usize {
        match self {
            Tasks::Given(tasks) => tasks.len(),
            Tasks::Drawn { count, .. } => *count,
        }
    }

    /// Tasks `range` of the batch.
    fn slice(&self, range: Range<usize>) -> Cow<'_, [Task]> {
        match self {
            Tasks::Given(tasks) => Cow::Borrowed(&tasks[range]),
            Tasks::Drawn { source, seed, .. } => Cow::Owned(
                range
                    .map(|k| source.sample(&mut StdRng::seed_from_u64(task_seed(*seed, k))))
                    .collect(),
            ),
        }
    }

    /// Tasks `range` of the batch, stacked: `(support, query)`. The same tasks as
    /// [`Tasks::slice`]; drawn ones go through [`TaskSource::sample_stacked`].
    fn stacked(&self, range: Range<usize>) -> (Batch, Batch) {
        match self {
            Tasks::Given(tasks) => stack_tasks(&tasks[range]),
            Tasks::Drawn { source, seed, .. } => {
                let mut rngs: Vec<StdRng> = range
                    .map(|k| StdRng::seed_from_u64(task_seed(*seed, k)))
                    .collect();
                source.sample_stacked(&mut rngs)
            }
        }
    }
}

impl MetaTrainer {
    /// A trainer at iteration 0: θ from the model's initialisers and the learner's learned
    /// tensors, drawn from `rng`.
    pub fn new(
        model: Box<dyn Module>,
        learner: Box<dyn Learner>,
        optimizer: Box<dyn Optimizer>,
        execution: Execution,
        dtype: DType,
        rng: &mut StdRng,
    ) -> MetaTrainer {
        let meta = learner.init(model.as_ref(), dtype, rng);
        MetaTrainer {
            model,
            meta,
            learner,
            optimizer,
            execution,
            iteration: 0,
        }
    }

    /// The mean outer loss over `tasks` and its gradient with respect to θ and the learned
    /// tensors.
    pub fn meta_gradient(&self, tasks: &[Task]) -> StepReport {
        self.meta_gradient_of(Tasks::Given(tasks))
    }

    /// [`MetaTrainer::meta_gradient`] of tasks given or to be drawn.
    pub fn meta_gradient_of(&self, tasks: Tasks) -> StepReport {
        self.meta_gradient_among(tasks, &SingleProcess)
    }

    /// [`MetaTrainer::meta_gradient_of`] with the chunks shared among the processes of
    /// `cluster`: this process computes a contiguous range of them, and receives the others'.
    /// Every process gets the same report, bit for bit the report of a single process.
    /// Collective: every process calls it with the same tasks.
    pub fn meta_gradient_among(&self, tasks: Tasks, cluster: &dyn Cluster) -> StepReport {
        let count = tasks.len();
        assert!(
            count > 0,
            "meta_gradient: a meta-batch needs at least one task"
        );
        let chunk = self.execution.chunk();
        let ranges: Vec<_> = (0..count)
            .step_by(chunk)
            .map(|start| start..(start + chunk).min(count))
            .collect();
        // This process's chunks (all of them when it is alone).
        let ranges_total = ranges.len();
        let ours = share(ranges_total, cluster.rank(), cluster.size());
        let ranges = &ranges[ours.clone()];
        // With a chunk per thread or more, the chunks alone keep every thread busy, so the
        // kernels inside them need not split their work too (`tensor::parallel`: same results).
        let saturated = ranges.len() >= rayon::current_num_threads();
        let per_chunk: Vec<ChunkResult> = ranges
            .par_iter()
            .cloned()
            .map(|range| {
                tensor::parallel::serial_if(saturated, || self.chunk_gradient(&tasks, range))
            })
            .collect();
        // The rest of the step runs on this thread alone: keep the others from falling
        // asleep before the next step's chunks (see `threads`).
        crate::training::threads::keep_awake();
        // Sum along the fixed tree over chunk indices (`tree_sum`): this process adds the
        // subtrees within its own chunks, the processes exchange those partial sums, and each
        // completes the tree: the same bits as one process, whatever thread or process
        // computed what.
        let nodes = partial_sums(ranges_total, ours, per_chunk);
        let ChunkResult {
            loss,
            correct,
            scored,
            grads: sums,
            memos,
        } = tree_sum_among(cluster, ranges_total, nodes);
        let scale = 1.0 / count as f64;
        let flat = self.meta.flatten();
        let grads = flat.gradients(
            &sums
                .iter()
                .map(|g| Var::constant(g.mul_scalar(scale)))
                .collect::<Vec<_>>(),
        );
        StepReport {
            meta_loss: loss * scale,
            query_accuracy: (scored > 0).then(|| correct as f64 / scored as f64),
            grads,
            memos,
        }
    }

    /// The summed outer loss of tasks `range`, its gradient (summed over tasks), and how
    /// many query examples the adapted models classified correctly.
    fn chunk_gradient(&self, tasks: &Tasks, range: Range<usize>) -> ChunkResult {
        let leaves = self.meta.to_leaves();
        let (model, learner) = (self.model.as_ref(), self.learner.as_ref());
        let progress = Progress {
            iteration: self.iteration,
        };
        let count = range.len();
        let mut sum = ChunkSum::default();
        match self.execution {
            Execution::Vectorised { .. } => {
                let (support, query) = tasks.stacked(range);
                let stacked = leaves.per_task(count);
                let outer = learner.outer(model, &stacked, &support, &query, count, progress);
                sum.add(outer, &query);
            }
            Execution::PerTask { .. } => {
                for task in tasks.slice(range).iter() {
                    let outer =
                        learner.outer(model, &leaves, &task.support, &task.query, 0, progress);
                    sum.add(outer, &task.query);
                }
            }
        }
        let (loss, grads) = match (sum.loss, sum.direction) {
            (Some(loss), None) => {
                let grads = grad(&[&loss], &leaves.vars(), false)
                    .unwrap_or_else(|e| panic!("meta-gradient: {e}"));
                (
                    loss.item(),
                    grads.into_iter().map(|g| g.value().clone()).collect(),
                )
            }
            (None, Some(direction)) => (sum.reported, direction),
            _ => panic!("meta-gradient: a learner gave both a loss and a direction"),
        };
        ChunkResult {
            loss,
            correct: sum.correct,
            scored: sum.scored,
            grads,
            memos: sum.memos,
        }
    }

    /// One meta-step on `tasks`: compute the meta-gradient and update θ and α. Returns the
    /// meta-loss before the update.
    pub fn step(&mut self, tasks: &[Task]) -> f64 {
        self.step_on(Tasks::Given(tasks)).meta_loss
    }

    /// One meta-step on tasks given or to be drawn; the report describes the step (loss and
    /// accuracy before the update, and the gradient applied).
    pub fn step_on(&mut self, tasks: Tasks) -> StepReport {
        self.step_among(tasks, &SingleProcess)
    }

    /// [`MetaTrainer::step_on`] with the meta-batch shared among the processes of `cluster`
    /// ([`MetaTrainer::meta_gradient_among`]): every process takes the same step. Collective.
    pub fn step_among(&mut self, tasks: Tasks, cluster: &dyn Cluster) -> StepReport {
        let report = self.meta_gradient_among(tasks, cluster);
        let updated = self.optimizer.step(&self.meta.flatten(), &report.grads);
        self.meta = self.meta.unflatten(&updated);
        self.learner.remember(&report.memos);
        self.iteration += 1;
        report
    }
}

/// The outer objectives of a chunk's tasks, added up in task order.
#[derive(Default)]
struct ChunkSum {
    /// The summed losses to differentiate.
    loss: Option<Var>,
    /// The summed directions, and their summed reported losses.
    direction: Option<Vec<Tensor>>,
    reported: f64,
    correct: usize,
    scored: usize,
    memos: Vec<Tensor>,
}

impl ChunkSum {
    fn add(&mut self, outer: Outer, query: &Batch) {
        self.correct += query.correct(&outer.prediction);
        self.scored += query.labelled();
        self.memos.extend(outer.memos);
        match outer.objective {
            Objective::Loss(loss) => {
                self.loss = Some(match self.loss.take() {
                    Some(sum) => &sum + &loss,
                    None => loss,
                });
            }
            Objective::Direction { loss, grads } => {
                self.reported += loss;
                match &mut self.direction {
                    Some(sums) => {
                        for (sum, g) in sums.iter_mut().zip(&grads) {
                            sum.add_assign(g);
                        }
                    }
                    None => self.direction = Some(grads),
                }
            }
        }
    }
}
