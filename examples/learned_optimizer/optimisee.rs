//! The optimisees: what the learned optimiser and the baselines train.
//!
//! - `quadratic`: f(θ) = ‖Wθ − y‖² with W [10, 10] and y [10] drawn N(0, 1) for every function.
//!   A batch of functions is one θ of shape [B, 10] and the loss is the *sum* over functions,
//!   so each function's θ gets exactly its own gradient (a mean would divide it by B).
//! - `digits`: a one-hidden-layer MLP (64 → 20 → 10, sigmoid) on the 8×8 digits, cross-entropy
//!   on minibatches of 128; `digits-relu` and `digits-40` change the activation or the width,
//!   the changes the optimiser was not meta-trained on (Andrychowicz et al. 2016, Figure 5).

use std::path::Path;

use autograd::Var;
use nn::Params;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use tensor::{DType, Tensor};

pub const DTYPE: DType = DType::F32;

/// One optimisation problem: a starting point, a training loss per step, and the loss we
/// report. `Sync` so that the shards of a problem can be unrolled on several threads.
pub trait Problem: Sync {
    /// θ₀.
    fn theta(&self) -> Params;
    /// The loss whose gradient step `t` follows (a minibatch loss for the digits).
    fn loss(&self, t: usize, theta: &Params) -> Var;
    /// The loss reported at each step, per function (the full-data loss for the digits).
    fn report(&self, theta: &Params) -> f64;
    /// How many independent functions the problem holds (the batch of quadratics; 1 for a
    /// network, whose coordinates all feed one loss).
    fn functions(&self) -> usize {
        1
    }
    /// The problem cut into `parts` problems of consecutive functions, whose losses sum to
    /// this one's; None if its coordinates cannot be separated (a network).
    fn split(&self, _parts: usize) -> Option<Vec<Box<dyn Problem>>> {
        None
    }
}

/// A batch of random quadratics.
pub struct Quadratics {
    w: Var,
    y: Var,
    theta: Tensor,
    count: usize,
}

impl Quadratics {
    pub const DIM: usize = 10;

    /// `count` fresh functions, each with its own W, y and starting θ (all N(0, 1)).
    pub fn sample(count: usize, rng: &mut StdRng) -> Quadratics {
        let d = Quadratics::DIM;
        let normal =
            |shape: &[usize], rng: &mut StdRng| Tensor::rand_normal(shape, 0.0, 1.0, DTYPE, rng);
        Quadratics {
            w: Var::constant(normal(&[count, d, d], rng)),
            y: Var::constant(normal(&[count, d, 1], rng)),
            theta: normal(&[count, d], rng),
            count,
        }
    }
}

impl Problem for Quadratics {
    fn theta(&self) -> Params {
        [("theta", Var::leaf(self.theta.clone()))]
            .into_iter()
            .collect()
    }

    /// Σ_b ‖W_b θ_b − y_b‖².
    fn loss(&self, _t: usize, theta: &Params) -> Var {
        let t = theta.expect("theta").unsqueeze(-1); // [B, 10, 1]
        (&self.w.matmul(&t) - &self.y).square().sum_all()
    }

    fn report(&self, theta: &Params) -> f64 {
        autograd::no_grad(|| self.loss(0, theta).item()) / self.count as f64
    }

    fn functions(&self) -> usize {
        self.count
    }

    /// Functions `[k·B/parts, (k+1)·B/parts)` for shard k (sizes differ by at most one).
    fn split(&self, parts: usize) -> Option<Vec<Box<dyn Problem>>> {
        assert!(
            (1..=self.count).contains(&parts),
            "quadratics: cannot cut {} functions into {parts} shards",
            self.count
        );
        let bounds: Vec<usize> = (0..=parts).map(|k| k * self.count / parts).collect();
        let shards = bounds.windows(2).map(|b| {
            let (start, len) = (b[0], b[1] - b[0]);
            Box::new(Quadratics {
                w: self.w.narrow(0, start, len),
                y: self.y.narrow(0, start, len),
                theta: self.theta.narrow(0, start, len),
                count: len,
            }) as Box<dyn Problem>
        });
        Some(shards.collect())
    }
}

/// The digits data set: pixels scaled to [0, 1], and labels.
pub struct Digits {
    pub x: Tensor,
    pub labels: Vec<usize>,
}

impl Digits {
    /// Reads `digits.csv` (columns p0 … p63, then label).
    ///
    /// # Errors
    /// Names the file, and the line that cannot be read.
    pub fn load(path: &Path) -> Result<Digits, String> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            format!(
                "{}: {e} (the 8×8 digits CSV: UCI \"Optical Recognition of Handwritten Digits\", \
                 as scikit-learn ships it; pass its path with --data)",
                path.display()
            )
        })?;
        let table = metagrad::digits::parse(&text, path)?;
        let (pixels, labels) = (table.pixels, table.labels);
        let rows = labels.len();
        let x = Tensor::from_vec(pixels, &[rows, 64]).map_err(|e| e.to_string())?;
        Ok(Digits { x, labels })
    }
}

/// Which digits network.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Network {
    pub hidden: usize,
    pub relu: bool,
}

/// One training run of the digits MLP: its initialisation and its minibatches.
pub struct DigitsRun<'a> {
    data: &'a Digits,
    net: Network,
    theta: Params,
    /// The rows of the minibatch of each step (cycled beyond the last).
    batches: Vec<(Var, Vec<usize>)>,
}

impl<'a> DigitsRun<'a> {
    pub const BATCH: usize = 128;

    /// A fresh network (weights uniform in ±1/√fan_in) and `steps + 1` minibatches.
    pub fn sample(data: &'a Digits, net: Network, steps: usize, rng: &mut StdRng) -> DigitsRun<'a> {
        let uniform = |shape: &[usize], fan_in: usize, rng: &mut StdRng| {
            let b = 1.0 / (fan_in as f64).sqrt();
            Var::leaf(Tensor::rand_uniform(shape, -b, b, DTYPE, rng))
        };
        let h = net.hidden;
        let theta: Params = [
            ("w1", uniform(&[h, 64], 64, rng)),
            ("b1", uniform(&[h], 64, rng)),
            ("w2", uniform(&[10, h], h, rng)),
            ("b2", uniform(&[10], h, rng)),
        ]
        .into_iter()
        .collect();
        let mut rows: Vec<usize> = (0..data.labels.len()).collect();
        let batches = (0..=steps)
            .map(|_| {
                let (chosen, _) = rows.partial_shuffle(rng, DigitsRun::BATCH);
                let chosen = chosen.to_vec();
                let x = Var::constant(data.x.index_select(0, &chosen));
                let labels = chosen.iter().map(|&r| data.labels[r]).collect();
                (x, labels)
            })
            .collect();
        DigitsRun {
            data,
            net,
            theta,
            batches,
        }
    }

    fn logits(&self, theta: &Params, x: &Var) -> Var {
        let hidden = x.linear(theta.expect("w1"), Some(theta.expect("b1")));
        let hidden = if self.net.relu {
            hidden.relu()
        } else {
            hidden.sigmoid()
        };
        hidden.linear(theta.expect("w2"), Some(theta.expect("b2")))
    }
}

impl Problem for DigitsRun<'_> {
    fn theta(&self) -> Params {
        self.theta.to_leaves()
    }

    fn loss(&self, t: usize, theta: &Params) -> Var {
        let (x, labels) = &self.batches[t % self.batches.len()];
        nn::cross_entropy(&self.logits(theta, x), labels)
    }

    fn report(&self, theta: &Params) -> f64 {
        autograd::no_grad(|| {
            let x = Var::constant(self.data.x.clone());
            nn::cross_entropy(&self.logits(theta, &x), &self.data.labels).item()
        })
    }
}
