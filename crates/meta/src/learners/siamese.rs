//! Siamese networks (Koch, Zemel & Salakhutdinov 2015, "Siamese Neural Networks for One-shot
//! Image Recognition"): one network embeds both images of a pair (the twins share θ), and a
//! learned weighting of the componentwise distance says whether they show the same class.
//!
//! ```text
//! h      = the model's features            (the conv trunk, no head)
//! z(a,b) = Σ_j w_j · |h(a)_j − h(b)_j| + b  ("same class" logit; p = σ(z))
//! loss   = binary cross-entropy of σ(z) on same / different pairs, the two kinds weighted
//!          to count equally
//! ```
//!
//! Fitted to episodes: every query image is paired with every support image — for an N-way
//! K-shot task, K pairs of the same class and (N − 1)·K of others per query, all from the
//! episode's classes (the training classes, in meta-training). The loss weights the same and
//! the different pairs so each kind contributes half, as Koch et al. train on balanced pairs.
//!
//! Classifying: a query's score for class k is its mean logit against the K support images
//! of k — for one shot, exactly its score against the one image; the answer is the class of
//! highest score, the support image judged most likely "same".
//!
//! `w` and `b` are learned beside θ, as `siamese.weight` `[d]` and `siamese.bias` `[]`.

use autograd::Var;
use nn::{Module, Params};
use rand::rngs::StdRng;
use tensor::{DType, Tensor};

use crate::learners::metric::{class_average, class_labels, embed, one_task};
use crate::learners::{Adapted, Learner, MetaParams, Objective, Outer, Progress, Tape};
use crate::tasks::Batch;

const WEIGHT: &str = "siamese.weight";
const BIAS: &str = "siamese.bias";
/// The support embeddings `[n, d]` in [`Adapted::params`].
const SUPPORT: &str = "support";
/// The constant class-averaging matrix `[ways, n]` in [`Adapted::params`].
const AVERAGE: &str = "average";

/// Siamese networks: a learned weighted L1 distance between embeddings, through a sigmoid.
#[derive(Clone, Copy, Debug, Default)]
pub struct Siamese;

/// The "same class" logits `[m, n]` of every query embedding `[m, d]` against every support
/// embedding `[n, d]`: `Σ_j w_j |q_j − s_j| + b`.
pub fn pair_logits(queries: &Var, support: &Var, weight: &Var, bias: &Var) -> Var {
    assert_eq!(
        queries.shape().last(),
        support.shape().last(),
        "siamese: queries {:?} and support {:?} differ in embedding size",
        queries.shape(),
        support.shape()
    );
    let distance = (&queries.unsqueeze(1) - &support.unsqueeze(0)).abs(); // [m, n, d]
    &(&distance * weight).sum(&[-1], false) + bias
}

/// The pairs of every query with every support example: targets `[m, n]` (1 where the labels
/// agree) and weights `[m, n]` that give the same pairs, together, weight ½ and the different
/// ones ½ (the weights sum to 1).
///
/// # Panics
/// If there are no same pairs or no different pairs (a 1-way task).
pub fn pair_targets(query: &[usize], support: &[usize]) -> (Tensor, Tensor) {
    let same: Vec<bool> = query
        .iter()
        .flat_map(|q| support.iter().map(move |s| q == s))
        .collect();
    let positives = same.iter().filter(|&&s| s).count();
    let negatives = same.len() - positives;
    assert!(
        positives > 0 && negatives > 0,
        "siamese: {positives} same and {negatives} different pairs; both kinds are needed"
    );
    let targets = same.iter().map(|&s| if s { 1.0 } else { 0.0 }).collect();
    let weights = same
        .iter()
        .map(|&s| 0.5 / if s { positives } else { negatives } as f64)
        .collect();
    let shape = [query.len(), support.len()];
    (
        Tensor::from_vec::<f64>(targets, &shape).expect("m × n"),
        Tensor::from_vec::<f64>(weights, &shape).expect("m × n"),
    )
}

/// The embedding size: the input size of the model's last layer, read from the last matrix of
/// θ (a linear layer's weight, stored `[out, in]`).
fn embedding_size(theta: &Params) -> usize {
    theta
        .iter()
        .filter(|(_, v)| v.ndim() == 2)
        .last()
        .map(|(_, v)| v.shape()[1])
        .unwrap_or_else(|| {
            panic!(
                "siamese: the model has no linear head to read the embedding size from (θ: {})",
                theta.names().collect::<Vec<_>>().join(", ")
            )
        })
}

impl Siamese {
    /// The pair logits `[m, n]` of the inputs `x` against the adapted support set.
    fn pairs(&self, model: &dyn Module, meta: &MetaParams, adapted: &Adapted, x: &Var) -> Var {
        let queries = model.features(&meta.theta, x);
        pair_logits(
            &queries,
            adapted.params.expect(SUPPORT),
            meta.learned.expect(WEIGHT),
            meta.learned.expect(BIAS),
        )
    }
}

impl Learner for Siamese {
    fn name(&self) -> &'static str {
        "siamese"
    }

    fn settings(&self) -> Vec<(String, String)> {
        Vec::new()
    }

    /// `w = −1/d` (a nearer pair starts more likely "same"), `b = 0`.
    fn init_learned(&self, theta: &Params, dtype: DType, _: &mut StdRng) -> Params {
        let d = embedding_size(theta);
        let mut learned = Params::new();
        learned.insert(
            WEIGHT,
            Var::leaf(Tensor::full(&[d], -1.0 / d as f64, dtype)),
        );
        learned.insert(BIAS, Var::leaf(Tensor::scalar_of(0.0, dtype)));
        learned
    }

    fn inner_steps(&self) -> usize {
        0
    }

    fn uses_model_head(&self) -> bool {
        false
    }

    /// The support embeddings and how to average them per class (no steps are taken).
    fn adapt(
        &self,
        model: &dyn Module,
        meta: &MetaParams,
        support: &Batch,
        tasks: usize,
        _steps: usize,
        tape: Tape,
    ) -> Adapted {
        one_task(tasks, "siamese");
        let (labels, ways) = class_labels(support, "siamese");
        let embeddings = embed(model, &meta.theta, &support.x, tape);
        let average = class_average(labels, ways, "siamese").to_dtype(embeddings.dtype());
        let mut params = Params::new();
        params.insert(SUPPORT, embeddings);
        params.insert(AVERAGE, Var::constant(average));
        Adapted {
            params,
            memos: Vec::new(),
        }
    }

    /// Class scores `[m, ways]`: each query's mean pair logit against the class's support.
    fn predict(&self, model: &dyn Module, meta: &MetaParams, adapted: &Adapted, x: &Var) -> Var {
        self.pairs(model, meta, adapted, x)
            .matmul_nt(adapted.params.expect(AVERAGE))
    }

    /// Balanced binary cross-entropy over every (query, support) pair of the task.
    fn outer(
        &self,
        model: &dyn Module,
        meta: &MetaParams,
        support: &Batch,
        query: &Batch,
        tasks: usize,
        progress: Progress,
    ) -> Outer {
        let adapted = self.adapt(model, meta, support, tasks, 0, self.training_tape(progress));
        let logits = self.pairs(model, meta, &adapted, &Var::constant(query.x.clone()));
        let (support_labels, _) = class_labels(support, "siamese");
        let (query_labels, _) = class_labels(query, "siamese");
        let (targets, weights) = pair_targets(query_labels, support_labels);
        let dtype = logits.dtype();
        let (targets, weights) = (
            Var::constant(targets.to_dtype(dtype)),
            Var::constant(weights.to_dtype(dtype)),
        );
        // −[y log σ(z) + (1 − y) log(1 − σ(z))] = softplus(z) − y·z, as nn::bce_with_logits,
        // with a weight per pair instead of the plain mean.
        let per_pair = &logits.softplus() - &(&targets * &logits);
        let loss = (&per_pair * &weights).sum_all();
        Outer {
            objective: Objective::Loss(loss),
            prediction: logits.matmul_nt(adapted.params.expect(AVERAGE)),
            memos: Vec::new(),
        }
    }
}
