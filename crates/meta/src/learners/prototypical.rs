//! Prototypical networks (Snell, Swersky & Zemel 2017, "Prototypical Networks for Few-shot
//! Learning"): a class is the mean of its support embeddings, and a query is classified by
//! its squared Euclidean distance to each such prototype.
//!
//! ```text
//! f_θ(x)  = the model's features of x                      (the conv trunk, no head)
//! c_k     = 1/|S_k| · Σ_{x ∈ S_k} f_θ(x)                   (prototype of class k)
//! logit_k = −‖f_θ(x) − c_k‖²
//! p(y = k | x) = softmax_k(logit_k)
//! ```
//!
//! Adapting is computing the prototypes: a closed-form "inner loop" with no steps, so
//! [`Learner::inner_steps`] is 0. The outer objective is the query cross-entropy (the trait's
//! default): its gradient reaches θ through the query embeddings and through the prototypes.
//!
//! Why the squared Euclidean distance: it is a Bregman divergence, and for those the point
//! that minimises the summed divergence to a cluster is the cluster's mean, so the prototype
//! as a mean is the right summary; the softmax over −distances is then a mixture density
//! estimate with an exponential-family component per class, and the classifier is linear in
//! the embedding (see `docs/09-metric-learning.md`).

use autograd::Var;
use nn::{Module, Params};
use rand::rngs::StdRng;
use tensor::DType;

use crate::learners::metric::{class_average, class_labels, embed, one_task};
use crate::learners::{Adapted, Learner, MetaParams, Tape};
use crate::tasks::Batch;

/// The name of the prototypes `[ways, d]` in [`Adapted::params`].
pub const PROTOTYPES: &str = "prototypes";

/// Prototypical networks: prototypes from the support set, −squared distances as logits.
#[derive(Clone, Copy, Debug, Default)]
pub struct Prototypical;

/// The prototypes `[ways, d]` of the embeddings `[n, d]` with their labels: row `k` is the
/// mean of the embeddings labelled `k`.
pub fn prototypes(embeddings: &Var, labels: &[usize], ways: usize) -> Var {
    let average = class_average(labels, ways, "prototypes").to_dtype(embeddings.dtype());
    Var::constant(average).matmul(embeddings)
}

/// `−‖q_i − c_k‖²` for the queries `[m, d]` and prototypes `[ways, d]`: logits `[m, ways]`.
// NOTE: computed as the sum of squared differences, not as ‖q‖² − 2q·c + ‖c‖². The expanded
// form is one matmul, but it subtracts large nearly equal numbers when a query lies near a
// prototype (in f32 the distance can come out negative); the direct form is exact to
// rounding and never negative. Its cost, m·ways·d, is small beside the conv trunk's.
pub fn negative_squared_distances(queries: &Var, prototypes: &Var) -> Var {
    assert_eq!(
        queries.shape().last(),
        prototypes.shape().last(),
        "distances: queries {:?} and prototypes {:?} differ in embedding size",
        queries.shape(),
        prototypes.shape()
    );
    let difference = &queries.unsqueeze(1) - &prototypes.unsqueeze(0); // [m, ways, d]
    difference.square().sum(&[-1], false).neg()
}

impl Learner for Prototypical {
    fn name(&self) -> &'static str {
        "protonet"
    }

    fn settings(&self) -> Vec<(String, String)> {
        Vec::new()
    }

    fn init_learned(&self, _: &Params, _: DType, _: &mut StdRng) -> Params {
        Params::new()
    }

    fn inner_steps(&self) -> usize {
        0
    }

    fn uses_model_head(&self) -> bool {
        false
    }

    /// The prototypes of the support set (no steps are taken, whatever `steps` says).
    fn adapt(
        &self,
        model: &dyn Module,
        meta: &MetaParams,
        support: &Batch,
        tasks: usize,
        _steps: usize,
        tape: Tape,
    ) -> Adapted {
        one_task(tasks, "protonet");
        let (labels, ways) = class_labels(support, "protonet");
        let embeddings = embed(model, &meta.theta, &support.x, tape);
        let mut params = Params::new();
        params.insert(PROTOTYPES, prototypes(&embeddings, labels, ways));
        Adapted {
            params,
            memos: Vec::new(),
        }
    }

    fn predict(&self, model: &dyn Module, meta: &MetaParams, adapted: &Adapted, x: &Var) -> Var {
        let queries = model.features(&meta.theta, x);
        negative_squared_distances(&queries, adapted.params.expect(PROTOTYPES))
    }
}
