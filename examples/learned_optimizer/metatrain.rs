//! Meta-training the coordinatewise LSTM: optimise a fresh problem for T steps, cut into
//! truncations; after each truncation, one Adam step on the LSTM's weights along the gradient
//! of that truncation's summed losses (`meta::unroll`).

use autograd::grad;
use indicatif::{ProgressBar, ProgressStyle};
use meta::unroll::unroll;
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
        let mut theta = problem.theta();
        let mut state = lstm.zero_state(theta.numel(), crate::optimisee::DTYPE);
        for piece in 0..schedule.steps.div_ceil(schedule.truncation) {
            let start = piece * schedule.truncation;
            let len = schedule.truncation.min(schedule.steps - start);
            let out = unroll(
                lstm,
                weights,
                &theta,
                &state,
                len,
                schedule.tape,
                &mut |t, th| problem.loss(start + t, th),
            );
            // NOTE: a diverged truncation (an untrained LSTM can throw θ far) gives no useful
            // direction; skip its update and restart the optimisation from the next problem.
            if !out.meta_loss.item().is_finite() {
                break;
            }
            let g = grad(&[&out.meta_loss], &weights.vars(), false).expect("weights are leaves");
            // Clipping keeps one steep truncation from undoing what was learned.
            let (g, _) = clip_grad_norm(
                &weights.gradients(&g),
                10.0 * (weights.numel() as f64).sqrt(),
            );
            *weights = adam.step(weights, &g);
            truncations += 1;
            theta = out.theta;
            state = out.state;
        }
        let last = problem.report(&theta);
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
