//! The coordinatewise LSTM optimiser (Andrychowicz et al. 2016): one small LSTM, with one set
//! of weights, reads the gradient history of every parameter coordinate separately and
//! outputs that coordinate's update.
//!
//! ```text
//! xₜ        = preprocess(gₜ)                      [N, 2]  (see `preprocess`)
//! h¹, c¹    = LSTM₁(xₜ, state¹)                   [N, H]
//! h², c²    = LSTM₂(h¹, state²)                   [N, H]
//! θₜ₊₁      = θₜ + s · (h² · wᵀ + b)              s = 0.1, the output scale
//! ```
//!
//! Coordinatewise means the N coordinates are N independent sequences of one batch: the
//! optimiser has a few thousand weights whatever the size of the model it trains, serves a
//! model of any size, and sees every coordinate's own history in its hidden state. What it
//! cannot do is look across coordinates (no curvature between parameters), which the paper
//! accepts as the price of sharing.

use autograd::Var;
use rand::rngs::StdRng;
use tensor::DType;

use crate::init::Init;
use crate::layers::{LstmCell, LstmState};
use crate::learned::preprocess;
use crate::params::Params;

/// The shape of the optimiser: its sizes, the preprocessing constant and the output scale.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CoordinatewiseLstm {
    /// Units per LSTM layer (20 in the paper).
    pub hidden: usize,
    /// Stacked LSTM layers (2 in the paper).
    pub layers: usize,
    /// p of the preprocessing (10).
    pub p: f64,
    /// The factor on the LSTM's output (0.1).
    pub output_scale: f64,
}

impl Default for CoordinatewiseLstm {
    fn default() -> CoordinatewiseLstm {
        CoordinatewiseLstm {
            hidden: 20,
            layers: 2,
            p: 10.0,
            output_scale: 0.1,
        }
    }
}

impl CoordinatewiseLstm {
    /// The cells, bottom first: the first reads the 2 preprocessed inputs.
    fn cells(&self) -> Vec<LstmCell> {
        (0..self.layers)
            .map(|k| LstmCell::new(if k == 0 { 2 } else { self.hidden }, self.hidden))
            .collect()
    }

    /// Fresh weights: `<layer>.w_ih`, `<layer>.w_hh`, `<layer>.bias` for each layer, then the
    /// linear read-out `out.weight [1, H]`, `out.bias [1]`.
    pub fn init(&self, dtype: DType, rng: &mut StdRng) -> Params {
        let mut weights = Params::new();
        for (k, cell) in self.cells().iter().enumerate() {
            weights.extend_prefixed(&k.to_string(), &cell.init(dtype, rng));
        }
        // NOTE: the read-out starts small (±0.1/√H), so the first updates are small steps and
        // an untrained optimiser does not throw the optimisee far before it has learned.
        let bound = 0.1 / (self.hidden as f64).sqrt();
        let small = Init::Uniform {
            low: -bound,
            high: bound,
        };
        weights.insert(
            "out.weight",
            Var::leaf(small.sample(&[1, self.hidden], dtype, rng)),
        );
        weights.insert("out.bias", Var::leaf(small.sample(&[1], dtype, rng)));
        weights
    }

    /// The zero state of `n` coordinates.
    pub fn zero_state(&self, n: usize, dtype: DType) -> Vec<LstmState> {
        (0..self.layers)
            .map(|_| LstmState::zeros(n, self.hidden, dtype))
            .collect()
    }

    /// The update of each coordinate of the flat gradient `g [N]`, and the state after it.
    ///
    /// # Panics
    /// If the state does not have one `[N, H]` pair per layer, or a weight is missing or
    /// misshapen; the messages name the shapes.
    pub fn update(&self, weights: &Params, g: &Var, state: &[LstmState]) -> (Var, Vec<LstmState>) {
        assert_eq!(
            state.len(),
            self.layers,
            "coordinatewise LSTM: {} layer states for {} layers",
            state.len(),
            self.layers
        );
        let mut x = preprocess(g, self.p);
        let mut next = Vec::with_capacity(self.layers);
        for (k, (cell, s)) in self.cells().iter().zip(state).enumerate() {
            let out = cell.step(&weights.scoped(&k.to_string()), &x, s);
            x = out.h.clone();
            next.push(out);
        }
        let out = x
            .linear(
                weights.expect("out.weight"),
                Some(weights.expect("out.bias")),
            )
            .reshape(&[g.numel()]);
        (out.mul_scalar(self.output_scale), next)
    }

    /// One optimiser step on a whole parameter collection: every coordinate of every tensor
    /// is one row of the batch (in `theta`'s order), `θ′ = θ + update(g)`.
    ///
    /// # Panics
    /// If `grads` does not match `theta` tensor by tensor, or the state is not for
    /// `theta.numel()` coordinates.
    pub fn step(
        &self,
        weights: &Params,
        theta: &Params,
        grads: &Params,
        state: &[LstmState],
    ) -> (Params, Vec<LstmState>) {
        let n = theta.numel();
        if let Some(s) = state.first() {
            assert_eq!(
                s.h.shape()[0],
                n,
                "coordinatewise LSTM: a state for {} coordinates, parameters with {n}",
                s.h.shape()[0]
            );
        }
        let (update, state) = self.update(weights, &flatten(grads), state);
        let mut offset = 0;
        let next = theta.zip(grads, |t, g| {
            assert_eq!(
                t.shape(),
                g.shape(),
                "coordinatewise LSTM: parameter {:?} with gradient {:?}",
                t.shape(),
                g.shape()
            );
            let len = t.numel();
            let u = update.narrow(0, offset, len).reshape(t.shape());
            offset += len;
            t + &u
        });
        (next, state)
    }
}

/// Every entry of `params` flattened and joined, in order: `[Σ numel]`.
pub fn flatten(params: &Params) -> Var {
    let flat: Vec<Var> = params
        .iter()
        .map(|(_, v)| v.reshape(&[v.numel()]))
        .collect();
    Var::concat(&flat.iter().collect::<Vec<_>>(), 0)
}

/// The layer states as named `Var`s (`h.<layer>`, `c.<layer>`), for a rule's per-task state or
/// an optimiser's saved state.
pub fn state_to_params(state: &[LstmState]) -> Params {
    let mut params = Params::new();
    for (k, s) in state.iter().enumerate() {
        params.insert(format!("h.{k}"), s.h.clone());
        params.insert(format!("c.{k}"), s.c.clone());
    }
    params
}

/// The inverse of [`state_to_params`]; None if a layer's `h` or `c` is missing.
pub fn state_from_params(params: &Params, layers: usize) -> Option<Vec<LstmState>> {
    (0..layers)
        .map(|k| {
            Some(LstmState {
                h: params.get(&format!("h.{k}"))?.clone(),
                c: params.get(&format!("c.{k}"))?.clone(),
            })
        })
        .collect()
}
