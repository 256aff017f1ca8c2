//! The conditional neural process (Garnelo et al. 2018, "Conditional Neural Processes"): a
//! model-based learner. A network reads the support set and directly gives the task's
//! predictive distribution; there are no inner gradient steps.
//!
//! ```text
//! eᵢ      = encoder([xᵢ, yᵢ])                 each support pair, width w
//! r       = (1/K) Σᵢ eᵢ                       the task representation (r = 0 for K = 0)
//! [μ, s]  = decoder([x*, r])                  for each query input x*
//! σ       = σ_min + softplus(s)
//! loss    = mean over query points of  ½ ln 2π + ln σ + (y − μ)² / (2σ²)
//! ```
//!
//! The mean over the set makes r the same for every order of the support pairs, and defined
//! for any K, so one trained model serves every K. Meta-training draws, per task, how many of
//! the support points the encoder sees (a prefix of 0 to K of them, see [`Cnp::context_size`]):
//! the decoder then learns the prior at r = 0 and the posterior at every K in between.
//!
//! Where the weights live: the encoder and decoder are ordinary `nn` MLPs whose parameters sit
//! in [`MetaParams::learned`] under `cnp.encoder.*` and `cnp.decoder.*`, applied functionally.
//! The example's model (θ) is not used: its gradient is zero and it keeps its initial values.

use autograd::Var;
use nn::layers::Sequential;
use nn::{mlp, Activation, Module, Params};
use rand::rngs::StdRng;
use tensor::{DType, Tensor};

use crate::learners::{Adapted, Learner, MetaParams, Objective, Outer, Progress, Tape};
use crate::tasks::{Batch, Target};

/// The smallest predictive standard deviation.
///
/// NOTE: sinusoid targets carry no noise, so without a floor the likelihood of a well-fitted
/// point grows without bound as σ → 0 and the NLL's gradient (∝ 1/σ³) explodes.
pub const SIGMA_MIN: f64 = 0.01;

/// A conditional neural process for regression with 1-d inputs and targets; encoder and decoder
/// are ReLU MLPs of `width` hidden units, and r has `width` entries.
#[derive(Clone, Debug)]
pub struct Cnp {
    pub width: usize,
}

/// The predictive distribution at some inputs: a Gaussian per point.
pub struct Predictive {
    pub mean: Var,
    pub sigma: Var,
}

impl Cnp {
    /// `[x, y]` ↦ eᵢ: 2 → w → w → w.
    pub fn encoder(&self) -> Sequential {
        mlp(&[2, self.width, self.width, self.width], Activation::Relu)
    }

    /// `[x*, r]` ↦ `[μ, s]`: 1 + w → w → w → 2.
    pub fn decoder(&self) -> Sequential {
        mlp(
            &[1 + self.width, self.width, self.width, 2],
            Activation::Relu,
        )
    }

    /// r for each task of a stack: `x`, `y` are `[T, K, 1]`; `weights` `[T, K, 1]` holds each
    /// pair's weight in the mean (1/Kₜ for the pairs a task uses, 0 for the others). `[T, w]`.
    fn represent(&self, meta: &MetaParams, x: &Var, y: &Var, weights: &Tensor) -> Var {
        let (tasks, k) = (x.shape()[0], x.shape()[1]);
        if k == 0 {
            // No pairs: the sum over an empty set.
            return Var::constant(Tensor::zeros(&[tasks, self.width], x.dtype()));
        }
        let pairs = Var::concat(&[x, y], -1).reshape(&[tasks * k, 2]);
        let e = self
            .encoder()
            .apply(&meta.learned.scoped("cnp.encoder"), &pairs)
            .reshape(&[tasks, k, self.width]);
        (&e * &Var::constant(weights.clone())).sum(&[1], false)
    }

    /// The predictive Gaussian at inputs `x` (`[T, Q, 1]`) given r (`[T, w]`): μ and σ, each
    /// `[T, Q, 1]`.
    fn decode(&self, meta: &MetaParams, r: &Var, x: &Var) -> Predictive {
        let (tasks, q) = (x.shape()[0], x.shape()[1]);
        let r = r.unsqueeze(1).broadcast_to(&[tasks, q, self.width]);
        let input = Var::concat(&[x, &r], -1).reshape(&[tasks * q, 1 + self.width]);
        let out = self
            .decoder()
            .apply(&meta.learned.scoped("cnp.decoder"), &input)
            .reshape(&[tasks, q, 2]);
        Predictive {
            mean: out.narrow(-1, 0, 1),
            sigma: out.narrow(-1, 1, 1).softplus().add_scalar(SIGMA_MIN),
        }
    }

    /// The predictive distribution of an adapted task at `x` (`[Q, 1]` for one task or
    /// `[T, Q, 1]` for a stack), in the shape of `x`.
    pub fn predictive(&self, meta: &MetaParams, adapted: &Adapted, x: &Var) -> Predictive {
        let r = adapted.params.expect("cnp.r");
        let single = x.ndim() == 2;
        let x = if single { x.unsqueeze(0) } else { x.clone() };
        let p = self.decode(meta, r, &x);
        if single {
            let shape = p.mean.shape()[1..].to_vec(); // [Q, 1]
            Predictive {
                mean: p.mean.reshape(&shape),
                sigma: p.sigma.reshape(&shape),
            }
        } else {
            p
        }
    }

    /// How many support points (a prefix, 0 to K) meta-training shows the encoder for a task
    /// whose support inputs and targets are `values`: drawn uniformly from a hash of the values
    /// themselves, so the draw is the same whatever the threads or the way tasks are stacked.
    pub fn context_size(values: &[f64], k: usize) -> usize {
        // FNV-1a over the bit patterns (Fowler, Noll & Vo).
        let mut hash: u64 = 0xCBF2_9CE4_8422_2325;
        for v in values {
            for byte in v.to_bits().to_le_bytes() {
                hash = (hash ^ byte as u64).wrapping_mul(0x0100_0000_01B3);
            }
        }
        (hash % (k as u64 + 1)) as usize
    }
}

/// A support or query batch as `[T, N, 1]` inputs and targets (a single task gets T = 1).
fn stacked(batch: &Batch, tasks: usize) -> (Var, Var) {
    let y = match &batch.y {
        Target::Values(y) => y,
        Target::Labels(_) => panic!(
            "cnp: regression tasks only, but a batch of inputs {:?} has class labels",
            batch.x.shape()
        ),
    };
    let lift = |t: &Tensor| {
        let v = Var::constant(t.clone());
        if tasks == 0 {
            v.unsqueeze(0)
        } else {
            v
        }
    };
    assert!(
        batch.x.shape().last() == Some(&1) && y.shape() == batch.x.shape(),
        "cnp: expected inputs and targets of shape [.., N, 1], got {:?} and {:?}",
        batch.x.shape(),
        y.shape()
    );
    (lift(&batch.x), lift(y))
}

/// Mean weights `[T, K, 1]`: 1/nₜ for the first nₜ pairs of task t, 0 after them.
fn prefix_weights(counts: &[usize], k: usize, dtype: DType) -> Tensor {
    let mut w = Vec::with_capacity(counts.len() * k);
    for &n in counts {
        w.extend((0..k).map(|i| if i < n { 1.0 / n as f64 } else { 0.0 }));
    }
    Tensor::from_vec(w, &[counts.len(), k, 1])
        .expect("one weight per pair")
        .to_dtype(dtype)
}

impl Learner for Cnp {
    fn name(&self) -> &'static str {
        "cnp"
    }

    fn settings(&self) -> Vec<(String, String)> {
        vec![("cnp_width".to_string(), self.width.to_string())]
    }

    fn init_learned(&self, _theta: &Params, dtype: DType, rng: &mut StdRng) -> Params {
        let mut learned = Params::new();
        learned.extend_prefixed("cnp.encoder", &self.encoder().init(rng, dtype));
        learned.extend_prefixed("cnp.decoder", &self.decoder().init(rng, dtype));
        learned
    }

    fn inner_steps(&self) -> usize {
        0
    }

    /// r from every support pair (`steps` and `tape` do not apply: one forward pass).
    fn adapt(
        &self,
        _model: &dyn Module,
        meta: &MetaParams,
        support: &Batch,
        tasks: usize,
        _steps: usize,
        _tape: Tape,
    ) -> Adapted {
        let (x, y) = stacked(support, tasks);
        let (t, k) = (x.shape()[0], x.shape()[1]);
        let weights = prefix_weights(&vec![k; t], k, x.dtype());
        let r = self.represent(meta, &x, &y, &weights);
        Adapted {
            params: Params::from_iter([("cnp.r", r)]),
            memos: Vec::new(),
        }
    }

    /// The predictive mean.
    fn predict(&self, _model: &dyn Module, meta: &MetaParams, adapted: &Adapted, x: &Var) -> Var {
        self.predictive(meta, adapted, x).mean
    }

    fn predictive_std(
        &self,
        _model: &dyn Module,
        meta: &MetaParams,
        adapted: &Adapted,
        x: &Var,
    ) -> Option<Var> {
        Some(self.predictive(meta, adapted, x).sigma)
    }

    /// The Gaussian NLL of the query set given a random prefix of the support set, per task
    /// the mean over its query points, summed over tasks.
    fn outer(
        &self,
        _model: &dyn Module,
        meta: &MetaParams,
        support: &Batch,
        query: &Batch,
        tasks: usize,
        _progress: Progress,
    ) -> Outer {
        let (x, y) = stacked(support, tasks);
        let (t, k) = (x.shape()[0], x.shape()[1]);
        let (xs, ys) = (x.value().to_vec::<f64>(), y.value().to_vec::<f64>());
        let counts: Vec<usize> = (0..t)
            .map(|i| {
                let task = [&xs[i * k..(i + 1) * k], &ys[i * k..(i + 1) * k]].concat();
                Cnp::context_size(&task, k)
            })
            .collect();
        let r = self.represent(meta, &x, &y, &prefix_weights(&counts, k, x.dtype()));
        let (qx, qy) = stacked(query, tasks);
        let p = self.decode(meta, &r, &qx);
        let nll = gaussian_nll(&p, &qy).mean(&[1, 2], false).sum_all();
        let prediction = if tasks == 0 {
            p.mean.reshape(query.x.shape())
        } else {
            p.mean
        };
        Outer {
            objective: Objective::Loss(nll),
            prediction,
            memos: Vec::new(),
        }
    }
}

/// −ln N(y; μ, σ²) per point: ½ ln 2π + ln σ + (y − μ)² / (2σ²).
pub fn gaussian_nll(p: &Predictive, y: &Var) -> Var {
    let z = (y - &p.mean).div(&p.sigma);
    let half_ln_2pi = 0.5 * (2.0 * std::f64::consts::PI).ln();
    (&p.sigma.log() + &z.square().mul_scalar(0.5)).add_scalar(half_ln_2pi)
}
