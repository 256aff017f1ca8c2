//! Meta-training the coordinatewise LSTM: optimise a fresh problem for T steps, cut into
//! truncations; after each truncation, one Adam step on the LSTM's weights along the gradient
//! of that truncation's summed losses (`meta::unroll`).
//!
//! # Shards
//!
//! A batch of quadratics is B independent functions, and the LSTM is coordinatewise, so the
//! meta-gradient is a sum of per-function terms. With `shards` = S > 1 the batch is cut into S
//! groups of consecutive functions, each unrolled on its own tape and thread
//! (`meta::unroll::unroll_shards`): the same meta-gradient up to the order of the float sums,
//! with bits that depend on S and never on the thread count.

use indicatif::{ProgressBar, ProgressStyle};
use meta::unroll::{unroll_shards, ShardState};
use meta::Tape;
use nn::learned::CoordinatewiseLstm;
use nn::optim::clip_grad_norm;
use nn::{Adam, Optimizer, Params};
use rand::rngs::StdRng;

use crate::optimisee::Problem;

/// How to meta-train.
pub struct Schedule {
    /// Optimisations (fresh problems) to train on.
    pub runs: usize,
    /// Steps of each optimisation (T).
    pub steps: usize,
    /// Steps per truncation.
    pub truncation: usize,
    /// Adam's learning rate on the LSTM's weights.
    pub lr: f64,
    pub tape: Tape,
    /// Independent groups of functions each problem is cut into (see the module docs); 1 for
    /// problems that cannot be cut.
    pub shards: usize,
}

/// Meta-trains `weights` in place; returns the number of truncations trained on (one Adam
/// step each: the meta-iterations of the throughput).
pub fn meta_train<'a>(
    lstm: &CoordinatewiseLstm,
    weights: &mut Params,
    schedule: &Schedule,
    sample: &mut dyn FnMut(&mut StdRng) -> Box<dyn Problem + 'a>,
    rng: &mut StdRng,
) -> usize {
    let mut adam = Adam::new(schedule.lr);
    let bar = ProgressBar::new(schedule.runs as u64);
    bar.set_style(
        ProgressStyle::with_template(
            "{bar:40} {pos}/{len} [{elapsed_precise} < {eta_precise}] {msg}",
        )
        .expect("valid template"),
    );
    let mut finals = Vec::with_capacity(schedule.runs);
    let mut truncations = 0;
    for _ in 0..schedule.runs {
        let problem = sample(rng);
        let shards: Vec<Box<dyn Problem + 'a>> = if schedule.shards == 1 {
            vec![problem]
        } else {
            let parts = problem
                .split(schedule.shards)
                .expect("only problems that can be cut are sharded");
            parts
                .into_iter()
                .map(|p| p as Box<dyn Problem + 'a>)
                .collect()
        };
        let mut runs: Vec<ShardState> = shards
            .iter()
            .map(|p| {
                let theta = p.theta();
                let state = lstm.zero_state(theta.numel(), crate::optimisee::DTYPE);
                ShardState { theta, state }
            })
            .collect();
        for piece in 0..schedule.steps.div_ceil(schedule.truncation) {
            let start = piece * schedule.truncation;
            let len = schedule.truncation.min(schedule.steps - start);
            let out = unroll_shards(lstm, weights, &runs, len, schedule.tape, &|k, t, th| {
                shards[k].loss(start + t, th)
            });
            meta::training::threads::keep_awake();
            // NOTE: a diverged truncation (an untrained LSTM can throw θ far) gives no useful
            // direction; skip its update and restart the optimisation from the next problem.
            let Some(g) = out.gradient else {
                break;
            };
            runs = out.ends;
            // Clipping keeps one steep truncation from undoing what was learned.
            let (g, _) = clip_grad_norm(
                &weights.gradients(&g),
                10.0 * (weights.numel() as f64).sqrt(),
            );
            *weights = adam.step(weights, &g);
            truncations += 1;
        }
        // The mean final loss over all functions of the problem.
        let total: usize = shards.iter().map(|p| p.functions()).sum();
        let last = shards
            .iter()
            .zip(&runs)
            .map(|(p, run)| p.report(&run.theta) * p.functions() as f64)
            .sum::<f64>()
            / total as f64;
        finals.push(last);
        let recent = &finals[finals.len().saturating_sub(20)..];
        bar.set_message(format!(
            "final loss (mean of last {}) {:.4}",
            recent.len(),
            recent.iter().sum::<f64>() / recent.len() as f64
        ));
        bar.inc(1);
    }
    bar.finish();
    truncations
}
