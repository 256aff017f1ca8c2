//! Meta-training a learned optimiser: unroll it on an optimisee and differentiate the
//! optimisee's losses with respect to the optimiser's weights φ (Andrychowicz et al. 2016).
//!
//! One truncation of `steps` steps, from θ₀ and the LSTM state h₀:
//!
//! ```text
//! gₜ         = ∇f(θₜ)                         recorded only with the second-order tape
//! θₜ₊₁, hₜ₊₁ = θₜ + s·LSTM_φ(gₜ, hₜ)           recorded
//! meta-loss  = Σₜ₌₁..steps f(θₜ)
//! ```
//!
//! - **First order** (the paper's simplification): gₜ enters as a constant, so
//!   ∂gₜ/∂θₜ = ∇²f is dropped. The meta-gradient still follows θ and the LSTM state through
//!   every step (θₜ₊₁ depends on φ through all earlier updates), and costs one backward pass
//!   over the recorded steps.
//! - **Second order**: gₜ is recorded, so the meta-gradient also carries the Hessian term
//!   (how moving θₜ changes the gradient the optimiser sees next). The tape then holds each
//!   step's backward pass as well, about twice the nodes, and the meta-backward differentiates
//!   through them.
//!
//! Truncation: a long optimisation (T = 100) is cut into pieces of 20; each piece starts from
//! the previous one's θ and state as constants, so the tape never holds more than 20 steps.
//! The meta-gradient is biased (it ignores how φ changed the starting point) but each piece
//! is cheap and φ is updated 5 times per optimisation.
//!
//! Shards: a batch of independent problems (its meta-loss a sum over them) can be cut into
//! groups, each unrolled on its own tape and thread, with the groups' meta-gradients added in
//! a fixed order ([`unroll_shards`]).

use autograd::{grad, Var};
use nn::layers::LstmState;
use nn::learned::CoordinatewiseLstm;
use nn::Params;

use crate::learners::Tape;

/// What one truncation leaves.
pub struct Truncation {
    /// Σ f(θₜ) over the truncation's steps, on the tape (a scalar).
    pub meta_loss: Var,
    /// θ and the LSTM state after the last step, cut from the tape (the next truncation's
    /// start).
    pub theta: Params,
    pub state: Vec<LstmState>,
    /// f(θₜ) for t = 0 … steps (the first is the starting loss), as numbers.
    pub losses: Vec<f64>,
}

/// Runs `steps` steps of the learned optimiser (`lstm` with weights `weights`) on the loss
/// `loss(t, θ)` from `theta` and `state`. `loss` gets the step index (a minibatch index): the
/// gradient of step t is taken on `loss(t, θₜ)`, and the same value, recorded, is the
/// meta-loss term of θₜ.
///
/// # Panics
/// If `tape` is [`Tape::Off`] (nothing would be recorded to meta-train), or a loss is not a
/// scalar.
pub fn unroll(
    lstm: &CoordinatewiseLstm,
    weights: &Params,
    theta: &Params,
    state: &[LstmState],
    steps: usize,
    tape: Tape,
    loss: &mut dyn FnMut(usize, &Params) -> Var,
) -> Truncation {
    assert!(
        tape != Tape::Off,
        "unroll: the tape must record (first or second order)"
    );
    // θ₀ as fresh leaves: the gradient of f needs something to differentiate by, and nothing
    // before this truncation is on the tape.
    let mut theta = theta.to_leaves();
    let mut state: Vec<LstmState> = state.iter().map(LstmState::detach).collect();
    let mut current = loss(0, &theta);
    let mut losses = vec![current.item()];
    let mut meta_loss: Option<Var> = None;
    for t in 0..steps {
        // NOTE: without `create_graph` the gradients are constants: the first-order
        // simplification is exactly "do not record this backward pass".
        let g = grad(&[&current], &theta.vars(), tape == Tape::SecondOrder)
            .unwrap_or_else(|e| panic!("unroll step {t}: {e}"));
        let g = theta.gradients(&g);
        let (next, next_state) = lstm.step(weights, &theta, &g, &state);
        theta = next;
        state = next_state;
        current = loss(t + 1, &theta);
        losses.push(current.item());
        meta_loss = Some(match meta_loss {
            None => current.clone(),
            Some(sum) => &sum + &current,
        });
    }
    Truncation {
        meta_loss: meta_loss.unwrap_or_else(|| Var::scalar(0.0, current.dtype())),
        theta: theta.detach(),
        state: state.iter().map(LstmState::detach).collect(),
        losses,
    }
}

/// Where one shard of a batch of independent problems stands between truncations: its θ and
/// the LSTM state of its coordinates.
pub struct ShardState {
    pub theta: Params,
    pub state: Vec<LstmState>,
}

/// What [`unroll_shards`] leaves: the summed meta-gradient (None if a shard's meta-loss was
/// not finite), and every shard's end state, in shard order.
pub struct ShardedTruncation {
    pub gradient: Option<Vec<Var>>,
    pub ends: Vec<ShardState>,
}

/// One truncation of a batch of independent problems cut into shards, each unrolled on its
/// own tape, on rayon's threads; returns the gradient of Σ (the shards' meta-losses) with
/// respect to `weights`, for the first-order or the full meta-gradient (`tape`).
///
/// When the problems are independent (the meta-loss is a sum over them, and the optimiser is
/// coordinatewise), this is the meta-gradient of the whole batch up to the order of the float
/// sums: each shard's gradient is its own terms', and the shards' are added in shard order,
/// whatever thread ran which shard. So the arithmetic depends on how the batch is cut, never
/// on the number of threads. What it buys: a batch of tiny ops (a `[320, 20]` gate is 6,400
/// numbers) is too small to split op by op across threads, but S shards of a truncation run
/// side by side with no hand-over between ops. Each tape is dropped on the thread that built
/// it, so its memory goes back to that thread's allocator and buffer recycler.
///
/// `loss(k, t, θ)` is shard k's loss at step t.
///
/// # Panics
/// As [`unroll`]; and if there are no shards.
pub fn unroll_shards(
    lstm: &CoordinatewiseLstm,
    weights: &Params,
    shards: &[ShardState],
    steps: usize,
    tape: Tape,
    loss: &(dyn Fn(usize, usize, &Params) -> Var + Sync),
) -> ShardedTruncation {
    use rayon::prelude::*;
    assert!(!shards.is_empty(), "unroll_shards: no shards");
    let results: Vec<(ShardState, Option<Vec<Var>>)> = shards
        .par_iter()
        .enumerate()
        .map(|(k, shard)| {
            let out = unroll(
                lstm,
                weights,
                &shard.theta,
                &shard.state,
                steps,
                tape,
                &mut |t, theta| loss(k, t, theta),
            );
            // NOTE: a diverged shard's gradient is not needed (the caller skips the update).
            let gradient = out.meta_loss.item().is_finite().then(|| {
                grad(&[&out.meta_loss], &weights.vars(), false)
                    .unwrap_or_else(|e| panic!("unroll_shards: shard {k}: {e}"))
            });
            let end = ShardState {
                theta: out.theta,
                state: out.state,
            };
            (end, gradient)
        })
        .collect();
    let (ends, gradients): (Vec<ShardState>, Vec<Option<Vec<Var>>>) = results.into_iter().unzip();
    // None if any shard diverged; else the gradients added in shard order.
    let gradient = gradients
        .into_iter()
        .collect::<Option<Vec<Vec<Var>>>>()
        .and_then(|each| {
            each.into_iter()
                .reduce(|sum, g| sum.iter().zip(&g).map(|(a, b)| a + b).collect())
        });
    ShardedTruncation { gradient, ends }
}
