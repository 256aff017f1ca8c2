//! What the metric-based learners share: embedding a batch with the model's features, and
//! averaging rows by class.
//!
//! A metric learner adapts without an inner loop: the model's trunk maps each image to an
//! embedding (the model's [`features`](nn::Module::features), the output of every layer but
//! the last), and a new class is known by where its few support embeddings lie. The model's
//! output layer is never used, so such a learner classifies any number of classes.

use autograd::{no_grad, Var};
use nn::{Module, Params};
use tensor::Tensor;

use crate::learners::Tape;
use crate::tasks::{Batch, Target};

/// The embeddings `[n, d]` of the inputs `x` under the parameters `theta`. With [`Tape::Off`]
/// nothing is recorded (evaluation); otherwise the graph reaches θ.
pub fn embed(model: &dyn Module, theta: &Params, x: &Tensor, tape: Tape) -> Var {
    let x = Var::constant(x.clone());
    match tape {
        Tape::Off => no_grad(|| model.features(theta, &x)),
        Tape::FirstOrder | Tape::SecondOrder => model.features(theta, &x),
    }
}

/// The class labels of a batch, and the number of classes (the largest label + 1).
///
/// # Panics
/// If the batch has regression targets, or no rows.
pub fn class_labels<'a>(batch: &'a Batch, who: &str) -> (&'a [usize], usize) {
    match &batch.y {
        Target::Labels(labels) => {
            let ways = labels.iter().max().map(|m| m + 1);
            (
                labels,
                ways.unwrap_or_else(|| panic!("{who}: an empty support set")),
            )
        }
        Target::Values(y) => panic!(
            "{who}: classifies, but the batch has regression targets of shape {:?}",
            y.shape()
        ),
    }
}

/// The matrix `M` `[ways, n]` with `M[c, i] = 1/n_c` when row `i` has label `c` (`n_c` rows
/// do) and 0 otherwise, so `M · E` is the mean of the rows of `E` per class.
///
/// # Panics
/// If a class in `0..ways` has no row (its mean would be 0/0).
pub fn class_average(labels: &[usize], ways: usize, who: &str) -> Tensor {
    let mut counts = vec![0usize; ways];
    for &label in labels {
        counts[label] += 1;
    }
    if let Some(empty) = counts.iter().position(|&c| c == 0) {
        panic!("{who}: class {empty} of {ways} has no support example");
    }
    let mut matrix = vec![0.0f64; ways * labels.len()];
    for (i, &label) in labels.iter().enumerate() {
        matrix[label * labels.len() + i] = 1.0 / counts[label] as f64;
    }
    Tensor::from_vec(matrix, &[ways, labels.len()]).expect("ways × n entries")
}

/// Panics unless `tasks` is 0: the metric learners run one task per graph (their models are
/// conv nets, which run per task anyway).
pub fn one_task(tasks: usize, who: &str) {
    assert_eq!(
        tasks, 0,
        "{who}: runs one task per graph (Execution::PerTask), not a stack of {tasks}"
    );
}
