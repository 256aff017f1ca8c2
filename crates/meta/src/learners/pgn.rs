//! The parameter-generating network (Qiao, Liu, Shen & Yuille 2018, "Few-shot image recognition
//! by predicting parameters from activations"; a hypernetwork in the sense of Ha, Dai & Le
//! 2017): a model-based classifier. The model's trunk embeds images; a learned generator turns
//! each class's mean support embedding into that class's classifier weights; the queries are
//! classified with them. No inner gradient steps.
//!
//! ```text
//! eᵢ          = trunk(θ, xᵢ)                       `Module::features`: the input of the head
//! ē_c         = mean of eᵢ over class c's support images
//! [w_c; b_c]  = G ē_c + g                          G: (D + 1) × D, g: D + 1 (`pgn.generator.*`)
//! logit_c(x)  = w_c · trunk(θ, x) + b_c
//! ```
//!
//! G starts as [I; 0] and g at 0, so before meta-training the classifier scores a query by its
//! dot product with each class mean. The model's own head (the last layer, of N outputs) is not
//! used: one checkpoint classifies any number of classes ([`Learner::uses_model_head`]).

use autograd::Var;
use nn::layers::Linear;
use nn::{Module, Params};
use rand::rngs::StdRng;
use tensor::{DType, Tensor};

use crate::learners::{Adapted, Learner, MetaParams, Tape};
use crate::tasks::{Batch, Target};

/// A parameter-generating network over the model's trunk.
#[derive(Clone, Debug, Default)]
pub struct Pgn;

impl Pgn {
    /// The generator D → D + 1 for embeddings of size `features`.
    fn generator(features: usize) -> Linear {
        Linear::new(features, features + 1)
    }

    /// The size D of the trunk's output: the input size of the model's last layer, the second
    /// axis of the last 2-d weight in θ (`[N, D]` for a linear head).
    fn feature_size(theta: &Params) -> usize {
        let head = theta.iter().filter(|(_, v)| v.ndim() == 2).last();
        match head {
            Some((_, v)) => v.shape()[1],
            None => panic!(
                "pgn: the model needs a linear head (a 2-d weight) to size the generator; θ has {}",
                theta.names().collect::<Vec<_>>().join(", ")
            ),
        }
    }

    /// Per-class weights `[N, D]` and biases `[N]` from support embeddings `e` (`[S, D]`) and
    /// their labels.
    pub fn generate(meta: &MetaParams, e: &Var, labels: &[usize]) -> (Var, Var) {
        let (s, d) = (e.shape()[0], e.shape()[1]);
        let classes = labels.iter().max().map_or(0, |&m| m + 1);
        // ē = A e with A[c, i] = 1/|c| when image i is of class c: the class means as a matmul.
        let mut counts = vec![0usize; classes];
        for &l in labels {
            counts[l] += 1;
        }
        let mut a = vec![0.0; classes * s];
        for (i, &l) in labels.iter().enumerate() {
            a[l * s + i] = 1.0 / counts[l] as f64;
        }
        let a = Tensor::from_vec(a, &[classes, s])
            .expect("one weight per image and class")
            .to_dtype(e.dtype());
        let means = Var::constant(a).matmul(e);
        let generated = Pgn::generator(d).apply(&meta.learned.scoped("pgn.generator"), &means);
        (
            generated.narrow(-1, 0, d),
            generated.narrow(-1, d, 1).reshape(&[classes]),
        )
    }
}

fn labels(batch: &Batch) -> &[usize] {
    match &batch.y {
        Target::Labels(labels) => labels,
        Target::Values(_) => panic!(
            "pgn: classification tasks only, but a batch of inputs {:?} has real-valued targets",
            batch.x.shape()
        ),
    }
}

impl Learner for Pgn {
    fn name(&self) -> &'static str {
        "pgn"
    }

    fn settings(&self) -> Vec<(String, String)> {
        Vec::new()
    }

    /// G = [I; 0] (D + 1 rows), g = 0: at the start, w_c = ē_c and b_c = 0.
    fn init_learned(&self, theta: &Params, dtype: DType, _rng: &mut StdRng) -> Params {
        let d = Pgn::feature_size(theta);
        let eye: Vec<f64> = (0..(d + 1) * d)
            .map(|k| if k / d == k % d { 1.0 } else { 0.0 })
            .collect();
        let eye = Tensor::from_vec(eye, &[d + 1, d])
            .expect("(D + 1) × D")
            .to_dtype(dtype);
        let generator = Params::from_iter([
            ("weight", Var::leaf(eye)),
            ("bias", Var::leaf(Tensor::zeros(&[d + 1], dtype))),
        ]);
        let mut learned = Params::new();
        learned.extend_prefixed("pgn.generator", &generator);
        learned
    }

    fn inner_steps(&self) -> usize {
        0
    }

    fn uses_model_head(&self) -> bool {
        false
    }

    /// The generated classifier of `support` (`steps` and `tape` do not apply).
    fn adapt(
        &self,
        model: &dyn Module,
        meta: &MetaParams,
        support: &Batch,
        tasks: usize,
        _steps: usize,
        _tape: Tape,
    ) -> Adapted {
        assert!(
            tasks == 0,
            "pgn: one task at a time (per-task execution), got a stack of {tasks} tasks with inputs {:?}",
            support.x.shape()
        );
        let e = model.features(&meta.theta, &Var::constant(support.x.clone()));
        let (weight, bias) = Pgn::generate(meta, &e, labels(support));
        Adapted {
            params: Params::from_iter([("pgn.weight", weight), ("pgn.bias", bias)]),
            memos: Vec::new(),
        }
    }

    /// Logits `[Q, N]`: each query's embedding against the generated weights.
    fn predict(&self, model: &dyn Module, meta: &MetaParams, adapted: &Adapted, x: &Var) -> Var {
        let e = model.features(&meta.theta, x);
        e.linear(
            adapted.params.expect("pgn.weight"),
            Some(adapted.params.expect("pgn.bias")),
        )
    }
}
