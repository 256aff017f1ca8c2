//! Tasks: a support set to adapt on and a query set to be judged on, and the task families.
//!
//! - this file — [`Task`], [`Batch`], [`TaskSource`] and stacking;
//! - [`sinusoid`] — sine-wave regression (with [`fast_sin`], the `sin` its targets use);
//! - [`omniglot`] — handwritten characters: loading, splits, N-way K-shot tasks, Lake's runs.
//!
//! A [`Batch`] is inputs plus targets: real values (regression, MSE loss) or class labels
//! (classification, cross-entropy loss). Batches of several tasks of the same size can be
//! [stacked](stack) along a new leading *task axis*, so one pass of the model — with one
//! parameter set per task — serves them all.

pub mod fast_sin;
pub mod omniglot;
pub mod sinusoid;

use autograd::Var;
use rand::rngs::StdRng;
use tensor::Tensor;

/// What a batch's outputs are compared with.
#[derive(Clone, Debug)]
pub enum Target {
    /// Regression targets, the shape of the model's output.
    Values(Tensor),
    /// Class labels, one per input row (row-major over leading axes).
    Labels(Vec<usize>),
}

/// Inputs and their targets.
#[derive(Clone, Debug)]
pub struct Batch {
    pub x: Tensor,
    pub y: Target,
}

/// One learning problem: adapt on `support`, evaluate on `query`.
#[derive(Clone, Debug)]
pub struct Task {
    pub support: Batch,
    pub query: Batch,
}

/// A distribution over tasks.
pub trait TaskSource: Send + Sync {
    /// Draws a task.
    fn sample(&self, rng: &mut StdRng) -> Task;

    /// Draws one task from each generator of `rngs`, in order, exactly as [`sample`]
    /// would, and returns them stacked for a vectorised pass: `(support, query)`, each
    /// [`stack`]ed along a task axis. The default does just that; a source may override it
    /// to write its draws straight into the stacked tensors (the sinusoid does: per task it
    /// saves a dozen small allocations and the copy into the stack).
    ///
    /// [`sample`]: TaskSource::sample
    fn sample_stacked(&self, rngs: &mut [StdRng]) -> (Batch, Batch) {
        let tasks: Vec<Task> = rngs.iter_mut().map(|rng| self.sample(rng)).collect();
        stack_tasks(&tasks)
    }
}

/// The support batches of `tasks` stacked, and their query batches stacked.
///
/// # Panics
/// As [`stack`], or if `tasks` is empty.
pub fn stack_tasks(tasks: &[Task]) -> (Batch, Batch) {
    let supports: Vec<&Batch> = tasks.iter().map(|t| &t.support).collect();
    let queries: Vec<&Batch> = tasks.iter().map(|t| &t.query).collect();
    (stack(&supports), stack(&queries))
}

impl Batch {
    /// Number of examples along the leading axis (per task, for an unstacked batch).
    pub fn len(&self) -> usize {
        self.x.shape().first().copied().unwrap_or(0)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The loss of `prediction` against the targets, *summed over tasks* when the batch is
    /// stacked (`tasks > 0`): each task's mean loss, added up. Summing (not averaging) keeps
    /// each task's gradient independent of how many tasks share the pass.
    pub fn loss(&self, prediction: &Var, tasks: usize) -> Var {
        match &self.y {
            Target::Values(y) => {
                let squared = (prediction - &Var::constant(y.clone())).square();
                if tasks == 0 {
                    squared.mean_all()
                } else {
                    let axes: Vec<isize> = (1..squared.ndim() as isize).collect();
                    squared.mean(&axes, false).sum_all()
                }
            }
            Target::Labels(labels) => {
                nn::cross_entropy(prediction, labels).mul_scalar(tasks.max(1) as f64)
            }
        }
    }
}

impl Batch {
    /// How many of `prediction`'s rows (logits) pick their label; 0 for regression.
    pub fn correct(&self, prediction: &Var) -> usize {
        match &self.y {
            Target::Labels(labels) => {
                let predicted = prediction.value().argmax(-1);
                predicted.iter().zip(labels).filter(|(p, l)| p == l).count()
            }
            Target::Values(_) => 0,
        }
    }

    /// The number of labelled examples (0 for regression targets).
    pub fn labelled(&self) -> usize {
        match &self.y {
            Target::Labels(labels) => labels.len(),
            Target::Values(_) => 0,
        }
    }
}

/// The batches stacked along a new task axis 0: inputs `[B, …]`, value targets `[B, …]`,
/// labels concatenated task by task.
///
/// # Panics
/// If the batches differ in shape or kind of target.
pub fn stack(batches: &[&Batch]) -> Batch {
    let xs: Vec<&Tensor> = batches.iter().map(|b| &b.x).collect();
    let y = match &batches[0].y {
        Target::Values(_) => {
            let ys: Vec<&Tensor> = batches
                .iter()
                .map(|b| match &b.y {
                    Target::Values(y) => y,
                    Target::Labels(_) => {
                        panic!("stack: mixed regression and classification batches")
                    }
                })
                .collect();
            Target::Values(Tensor::stack(&ys, 0))
        }
        Target::Labels(_) => Target::Labels(
            batches
                .iter()
                .flat_map(|b| match &b.y {
                    Target::Labels(l) => l.clone(),
                    Target::Values(_) => {
                        panic!("stack: mixed regression and classification batches")
                    }
                })
                .collect(),
        ),
    };
    Batch {
        x: Tensor::stack(&xs, 0),
        y,
    }
}
