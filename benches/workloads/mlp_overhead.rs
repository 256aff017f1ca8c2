//! The workload of the autograd-overhead benchmark, shared by `benches/autograd_overhead.rs`
//! (criterion) and `examples/autograd_overhead.rs` (plain timing, comparable with PyTorch).
//!
//! A 1-40-40-1 ReLU MLP in f32 on a batch of 10 inputs: the tensors are so small (10×40
//! activations) that the time goes into per-operation bookkeeping, not arithmetic. That is
//! the regime of meta-learning on small nets, and `benches/peers/autograd_overhead_torch.py`
//! runs the same two workloads in PyTorch eager.

use autograd::{grad, Var};
use rand::rngs::StdRng;
use rand::SeedableRng;
use tensor::{DType, Tensor};

/// The batch size and layer widths.
pub const BATCH: usize = 10;
pub const HIDDEN: usize = 40;

/// Parameters `[w1, b1, w2, b2, w3, b3]` (PyTorch's `nn.Linear` layout: `w` is
/// `[out, in]`), inputs `x` and targets `y`, all seeded.
pub struct Mlp {
    pub params: Vec<Var>,
    pub x: Var,
    pub y: Var,
}

impl Mlp {
    pub fn new(seed: u64) -> Mlp {
        let mut rng = StdRng::seed_from_u64(seed);
        let mut uniform = |shape: &[usize], fan_in: usize| {
            let bound = 1.0 / (fan_in as f64).sqrt();
            Tensor::rand_uniform(shape, -bound, bound, DType::F32, &mut rng)
        };
        let params = vec![
            uniform(&[HIDDEN, 1], 1),
            uniform(&[HIDDEN], 1),
            uniform(&[HIDDEN, HIDDEN], HIDDEN),
            uniform(&[HIDDEN], HIDDEN),
            uniform(&[1, HIDDEN], HIDDEN),
            uniform(&[1], HIDDEN),
        ];
        let x = Tensor::linspace(-5.0, 5.0, BATCH, DType::F32).reshape(&[BATCH, 1]);
        let y = x.sin();
        Mlp {
            params: params.into_iter().map(Var::leaf).collect(),
            x: Var::constant(x),
            y: Var::constant(y),
        }
    }

    fn param_refs(&self) -> Vec<&Var> {
        self.params.iter().collect()
    }

    /// The mean squared error of the MLP on `(x, y)`, written with plain `Var` ops.
    pub fn loss(&self) -> Var {
        let p = &self.params;
        let linear = |h: &Var, w: &Var, b: &Var| &h.matmul(&w.t()) + b;
        let h1 = linear(&self.x, &p[0], &p[1]).relu();
        let h2 = linear(&h1, &p[2], &p[3]).relu();
        let out = linear(&h2, &p[4], &p[5]);
        (&out - &self.y).square().mean_all()
    }

    /// (a) Forward and first-order backward: `∂loss/∂params`, no graph kept.
    pub fn first_order(&self) -> Vec<Var> {
        let loss = self.loss();
        grad(&[&loss], &self.param_refs(), false).expect("loss is a scalar")
    }

    /// (b) Forward, backward with `create_graph`, then the gradient of `Σ‖∂loss/∂θ‖²` with
    /// respect to the parameters: the second-order path MAML takes.
    pub fn second_order(&self) -> Vec<Var> {
        let params = self.param_refs();
        let loss = self.loss();
        let grads = grad(&[&loss], &params, true).expect("loss is a scalar");
        let squared_norm = grads
            .iter()
            .map(|g| g.square().sum_all())
            .reduce(|a, b| &a + &b)
            .expect("six parameters");
        grad(&[&squared_norm], &params, false).expect("a scalar")
    }
}
