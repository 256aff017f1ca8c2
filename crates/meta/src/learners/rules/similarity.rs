//! A step size set by how similar a task is to the tasks seen in meta-training.
//!
//! A task t gets an embedding φ(t) of unit length, and its similarity to an earlier task t′ is
//! the kernel K(t, t′) = φ(t)ᵀφ(t′). The rule keeps the embeddings of the last M meta-training
//! tasks (detached, oldest dropped first) and, for a new task, looks up its closest one:
//!
//! ```text
//! α*  = max(0, max over t′ in memory of K(t, t′))        (1 while the memory is empty)
//! η_t = c / (√α* + d)
//! θ′  = θ − η_t · g              (base "plain", with MAML)
//! θ′  = θ − η_t · α ⊙ g          (base "per-parameter", with Meta-SGD's α)
//! ```
//!
//! A familiar task (α* ≈ 1) takes the step c / (1 + d); an unfamiliar one (α* ≈ 0) a larger
//! step c / d, since what the initialisation knows serves it less. c and d are positive:
//! `similarity.c` and `similarity.d` hold their softplus-inverse, learned by differentiating
//! through the inner step, or fixed.
//!
//! The embedding φ: the support set run through the network without its head (the
//! penultimate features f(x), [`Module::features`](nn::Module::features)), and
//!
//! ```text
//! φ(t) ∝ mean_k (y_k − ȳ) · (f(x_k) − f̄)        regression (y a scalar target)
//! φ(t) ∝ mean_k f(x_k)                          classification
//! ```
//!
//! For regression, the covariance of the targets with the features: it says how the task's
//! outputs depend on its inputs. The mean features alone would not do: sine-wave tasks all draw
//! their inputs from the same range, so their mean features agree to a few percent whatever the
//! wave (a first version that put them in φ found every task 90–97% similar to memory). Being
//! L2-normalised, φ ignores the targets' scale: a wave and the same wave at twice the amplitude
//! have the same embedding. (Class labels are arbitrary within a task, so for classification
//! only the inputs count.) φ is computed with the current θ and detached: the rule learns c and
//! d, not the embedding.

use std::collections::VecDeque;

use autograd::{no_grad, Var};
use nn::Params;
use rand::rngs::StdRng;
use tensor::{DType, Tensor};

use crate::learners::rule::{each_entry, RuleState, Step, TaskStart, UpdateRule};
use crate::learners::rules::{softplus_inverse, PerParameterRate};
use crate::tasks::Target;

/// The step the similarity scales.
#[derive(Clone, Copy, Debug)]
pub enum Base {
    /// `θ − η g` (MAML with the step size η).
    Plain,
    /// `θ − η α ⊙ g` (Meta-SGD's learned α).
    PerParameter(PerParameterRate),
}

/// The similarity-scaled step.
#[derive(Clone, Debug)]
pub struct SimilarityScaled {
    pub base: Base,
    /// M: how many meta-training task embeddings are kept.
    pub capacity: usize,
    /// Initial c and d.
    pub c: f64,
    pub d: f64,
    /// Whether c and d are learned (else fixed at their initial values).
    pub learn_constants: bool,
    /// Embeddings of the last `capacity` training tasks, oldest first.
    memory: VecDeque<Vec<f64>>,
}

impl SimilarityScaled {
    pub fn new(base: Base, capacity: usize, c: f64, d: f64, learn_constants: bool) -> Self {
        SimilarityScaled {
            base,
            capacity,
            c,
            d,
            learn_constants,
            memory: VecDeque::new(),
        }
    }

    /// How many embeddings the memory holds.
    pub fn remembered(&self) -> usize {
        self.memory.len()
    }

    /// The entries of `learned` that belong to the base rule (all but c and d).
    fn base_part(&self, learned: &Params) -> Params {
        learned
            .iter()
            .filter(|(name, _)| !name.starts_with("similarity."))
            .map(|(name, var)| (name, var.clone()))
            .collect()
    }

    /// c and d as `Var`s: softplus of the learned entries, or constants.
    fn constants(&self, learned: &Params, dtype: DType) -> (Var, Var) {
        match (learned.get("similarity.c"), learned.get("similarity.d")) {
            (Some(c), Some(d)) => (c.softplus(), d.softplus()),
            _ => (Var::scalar(self.c, dtype), Var::scalar(self.d, dtype)),
        }
    }

    /// α* of each embedding (rows of `embeddings`, unit length).
    pub fn closest(&self, embeddings: &[Vec<f64>]) -> Vec<f64> {
        embeddings
            .iter()
            .map(|e| {
                let best = self
                    .memory
                    .iter()
                    .map(|m| m.iter().zip(e).map(|(a, b)| a * b).sum::<f64>())
                    .fold(f64::NEG_INFINITY, f64::max);
                if self.memory.is_empty() {
                    1.0
                } else {
                    best.max(0.0)
                }
            })
            .collect()
    }
}

/// The task embeddings φ of a support set, one unit-length row per task.
fn embed(start: &TaskStart) -> Vec<Vec<f64>> {
    let x = Var::constant(start.support.x.clone());
    let features = start.model.features(start.theta, &x).value().clone();
    // One task → a stack of one: features [B, K, H].
    let features = if start.tasks == 0 {
        features.reshape(&[
            1,
            features.shape()[0],
            features.numel() / features.shape()[0],
        ])
    } else {
        let (b, k) = (features.shape()[0], features.shape()[1]);
        features.reshape(&[b, k, features.numel() / (b * k)])
    };
    let (tasks, points, width) = (
        features.shape()[0],
        features.shape()[1],
        features.shape()[2],
    );
    let f = features.to_vec::<f64>();
    let y = match &start.support.y {
        Target::Values(y) if y.numel() == tasks * points => Some(y.to_vec::<f64>()),
        _ => None,
    };
    (0..tasks)
        .map(|b| {
            let feature = |k: usize, h: usize| f[(b * points + k) * width + h];
            let mut row = vec![0.0; width];
            for (h, slot) in row.iter_mut().enumerate() {
                let mean_f = (0..points).map(|k| feature(k, h)).sum::<f64>() / points as f64;
                *slot = match &y {
                    Some(y) => {
                        let y = &y[b * points..(b + 1) * points];
                        let mean_y = y.iter().sum::<f64>() / points as f64;
                        (0..points)
                            .map(|k| (y[k] - mean_y) * (feature(k, h) - mean_f))
                            .sum::<f64>()
                            / points as f64
                    }
                    None => mean_f,
                };
            }
            let norm = row.iter().map(|v| v * v).sum::<f64>().sqrt().max(1e-12);
            row.iter().map(|v| v / norm).collect()
        })
        .collect()
}

impl UpdateRule for SimilarityScaled {
    fn init_learned(&self, theta: &Params, steps: usize, dtype: DType, rng: &mut StdRng) -> Params {
        let mut learned = match self.base {
            Base::Plain => Params::new(),
            Base::PerParameter(rule) => rule.init_learned(theta, steps, dtype, rng),
        };
        if self.learn_constants {
            for (name, value) in [("similarity.c", self.c), ("similarity.d", self.d)] {
                let raw = Tensor::scalar_of(softplus_inverse(value), dtype);
                learned.insert(name, Var::leaf(raw));
            }
        }
        learned
    }

    /// η for each task: `eta`, shaped `[B]` (a stack) or `[]` (one task).
    fn begin(&self, start: &TaskStart) -> RuleState {
        let embeddings = no_grad(|| embed(start));
        let closest = self.closest(&embeddings);
        let dtype = start.theta.vars()[0].dtype();
        let root: Vec<f64> = closest.iter().map(|a| a.sqrt()).collect();
        let shape: &[usize] = if start.tasks == 0 {
            &[]
        } else {
            &[closest.len()]
        };
        let root = Var::constant(
            Tensor::from_vec(root, shape)
                .expect("one per task")
                .to_dtype(dtype),
        );
        let (c, d) = self.constants(start.learned, dtype);
        let eta = c.div(&(&root + &d));
        let width = embeddings[0].len();
        let memo = Tensor::from_vec(embeddings.concat(), &[embeddings.len(), width]).expect("rows");
        RuleState {
            vars: Params::from_iter([("eta", eta)]),
            memo: Some(memo),
        }
    }

    /// α* and η of one task.
    fn summary(&self, start: &TaskStart) -> Vec<(&'static str, f64)> {
        let closest = self.closest(&no_grad(|| embed(start)));
        let eta = no_grad(|| self.begin(start))
            .vars
            .expect("eta")
            .value()
            .to_vec::<f64>();
        vec![("alpha_star", closest[0]), ("eta", eta[0])]
    }

    fn step(&self, step: &Step, state: &mut RuleState) -> Params {
        let eta = state.vars.expect("eta");
        let scaled = |t: &Var| -> Var {
            // η over the task axis, broadcast over each parameter's own axes.
            let mut shape = vec![1; t.ndim()];
            if step.tasks > 0 {
                shape[0] = step.tasks;
            }
            eta.reshape(&shape)
        };
        match self.base {
            Base::Plain => each_entry(step, |t, g, _| t.sub_mul(&scaled(t), g)),
            Base::PerParameter(rule) => {
                let base = self.base_part(step.learned);
                let scaled_grads = each_entry(step, |t, g, _| &scaled(t) * g);
                let inner = Step {
                    grads: &scaled_grads,
                    learned: &base,
                    ..*step
                };
                rule.step(&inner, &mut RuleState::default())
            }
        }
    }

    fn settings(&self) -> Vec<(String, String)> {
        let mut settings = vec![
            ("similarity_memory".to_string(), self.capacity.to_string()),
            ("similarity_c".to_string(), self.c.to_string()),
            ("similarity_d".to_string(), self.d.to_string()),
            (
                "learn_similarity".to_string(),
                self.learn_constants.to_string(),
            ),
        ];
        if let Base::PerParameter(rule) = self.base {
            settings.extend(rule.settings());
        }
        settings
    }

    fn remember(&mut self, memos: &[Tensor]) {
        for memo in memos {
            let width = memo.shape()[1];
            for row in memo.to_vec::<f64>().chunks(width) {
                self.memory.push_back(row.to_vec());
            }
        }
        while self.memory.len() > self.capacity {
            self.memory.pop_front();
        }
    }

    fn buffers(&self) -> Params {
        let Some(width) = self.memory.front().map(Vec::len) else {
            return Params::new();
        };
        let rows: Vec<f64> = self.memory.iter().flatten().copied().collect();
        let memory = Tensor::from_vec(rows, &[self.memory.len(), width]).expect("rows");
        Params::from_iter([("similarity.memory", Var::constant(memory))])
    }

    fn load_buffers(&mut self, buffers: &Params) -> Result<(), String> {
        let mut memory = VecDeque::new();
        for (name, var) in buffers.iter() {
            if name != "similarity.memory" || var.ndim() != 2 {
                return Err(format!(
                    "unexpected buffer `{name}` {:?} (expected similarity.memory [rows, width])",
                    var.shape()
                ));
            }
            let width = var.shape()[1];
            memory.extend(
                var.value()
                    .to_vec::<f64>()
                    .chunks(width)
                    .map(<[f64]>::to_vec),
            );
        }
        if memory.len() > self.capacity {
            return Err(format!(
                "the memory holds {} embeddings but --similarity-memory is {}",
                memory.len(),
                self.capacity
            ));
        }
        self.memory = memory;
        Ok(())
    }
}
