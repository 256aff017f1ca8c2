//! The LSTM cell (Hochreiter & Schmidhuber 1997, with the forget gate of Gers et al. 2000), as a
//! pure function of its weights: one step of a batch of independent sequences.
//!
//! ```text
//! z  = x·W_ihᵀ + h·W_hhᵀ + b                      [N, 4H], gates in the order i, f, g, o
//! i  = σ(z_i)   f = σ(z_f)   g = tanh(z_g)   o = σ(z_o)
//! c′ = f ⊙ c + i ⊙ g                               the cell: a gated running sum
//! h′ = o ⊙ tanh(c′)
//! ```
//!
//! Everything is `Var` operations, so the cell is differentiable to any order: a learned
//! optimiser built from it is meta-trained by differentiating through many of its steps.
//! The weights live in a [`Params`] (`w_ih [4H, I]`, `w_hh [4H, H]`, `bias [4H]`, PyTorch's
//! layout with its two biases folded into one).

use autograd::Var;
use rand::rngs::StdRng;
use tensor::{DType, Tensor};

use crate::init::Init;
use crate::params::Params;

/// The sizes of an LSTM cell.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LstmCell {
    pub input: usize,
    pub hidden: usize,
}

/// A batch of LSTM states: hidden `h [N, H]` and cell `c [N, H]`.
#[derive(Clone, Debug)]
pub struct LstmState {
    pub h: Var,
    pub c: Var,
}

impl LstmState {
    /// The zero state of `n` sequences of `hidden` units, as constants.
    pub fn zeros(n: usize, hidden: usize, dtype: DType) -> LstmState {
        let zeros = Var::constant(Tensor::zeros(&[n, hidden], dtype));
        LstmState {
            h: zeros.clone(),
            c: zeros,
        }
    }

    /// The same values, cut from any graph.
    pub fn detach(&self) -> LstmState {
        LstmState {
            h: self.h.detach(),
            c: self.c.detach(),
        }
    }
}

impl LstmCell {
    pub fn new(input: usize, hidden: usize) -> LstmCell {
        LstmCell { input, hidden }
    }

    /// Weights uniform in ±1/√H (PyTorch's default), except the forget gate's bias, which
    /// starts at 1 so that the cell remembers by default (Jozefowicz et al. 2015).
    pub fn init(&self, dtype: DType, rng: &mut StdRng) -> Params {
        let (i, h) = (self.input, self.hidden);
        let bound = 1.0 / (h as f64).sqrt();
        let uniform = Init::Uniform {
            low: -bound,
            high: bound,
        };
        let mut bias = uniform.sample(&[4 * h], dtype, rng).to_vec::<f64>();
        bias[h..2 * h].iter_mut().for_each(|b| *b = 1.0);
        let bias = Tensor::from_vec(bias, &[4 * h])
            .expect("4H values")
            .to_dtype(dtype);
        let mut params = Params::new();
        params.insert("w_ih", Var::leaf(uniform.sample(&[4 * h, i], dtype, rng)));
        params.insert("w_hh", Var::leaf(uniform.sample(&[4 * h, h], dtype, rng)));
        params.insert("bias", Var::leaf(bias));
        params
    }

    /// One step: the state after reading `x [N, I]` from `state`, with `weights` as made by
    /// [`LstmCell::init`].
    ///
    /// # Panics
    /// If a weight is missing or has the wrong shape, or `x` or the state do not fit; the
    /// message names the shapes.
    pub fn step(&self, weights: &Params, x: &Var, state: &LstmState) -> LstmState {
        let (i, h) = (self.input, self.hidden);
        let weight = |name: &str, shape: &[usize]| {
            let w = weights.expect(name);
            assert_eq!(
                w.shape(),
                shape,
                "LstmCell({i} → {h}): `{name}` has shape {:?}, expected {shape:?}",
                w.shape()
            );
            w
        };
        let (w_ih, w_hh, bias) = (
            weight("w_ih", &[4 * h, i]),
            weight("w_hh", &[4 * h, h]),
            weight("bias", &[4 * h]),
        );
        let n = x.shape()[0];
        assert!(
            x.shape() == [n, i] && state.h.shape() == [n, h] && state.c.shape() == [n, h],
            "LstmCell({i} → {h}): input {:?}, hidden {:?}, cell {:?}; expected [N, {i}], [N, {h}], [N, {h}]",
            x.shape(),
            state.h.shape(),
            state.c.shape()
        );
        let z = &x.linear(w_ih, Some(bias)) + &state.h.matmul_nt(w_hh);
        let gate = |k: usize| z.narrow(1, k * h, h);
        let (input_gate, forget, candidate, output) = (
            gate(0).sigmoid(),
            gate(1).sigmoid(),
            gate(2).tanh(),
            gate(3).sigmoid(),
        );
        let c = &(&forget * &state.c) + &(&input_gate * &candidate);
        let h = &output * &c.tanh();
        LstmState { h, c }
    }
}
