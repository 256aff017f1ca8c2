//! MAML++ (Antoniou, Edwards & Storkey 2019, "How to train your MAML"): MAML with
//!
//! - learned per-layer, per-step inner rates ([`LayerStepRates`], `lslr.<s>.<p>`);
//! - a multi-step loss: the query loss after *every* inner step, weighted, so early steps
//!   get a gradient of their own; the weights anneal towards the last step only;
//! - derivative-order annealing: first-order meta-gradients for the first iterations (cheap,
//!   and stable while θ is far from good), then second order.
//!
//! The multi-step weights here anneal linearly: at progress t = min(1, i / `multi_step_iters`)
//! the N steps weigh `(1 − t)/N` each, and the last one `t` more. (The paper decays the early
//! weights per epoch to a floor of 0.03/N; a linear schedule to zero keeps one number to set.)
//!
//! With equal starting rates, no multi-step loss and second order from the start, MAML++'s
//! θ-gradient is MAML's (up to the rounding of the stored rates; `tests/learners.rs` checks it).
//!
//! Not here: the paper's per-step batch-norm weights and running statistics. The conv net
//! normalises with the batch's own statistics in training and at test (as MAML's does), so
//! there are no running statistics to keep per step.

use autograd::Var;
use nn::{Module, Params};
use rand::rngs::StdRng;
use tensor::DType;

use crate::learners::rules::LayerStepRates;
use crate::learners::{
    inner_loop, Adapted, Learner, MetaParams, Objective, Outer, Progress, Tape, Unroll,
};
use crate::tasks::Batch;

/// MAML++ with `steps` inner steps.
#[derive(Clone, Debug)]
pub struct MamlPlusPlus {
    pub rule: LayerStepRates,
    pub steps: usize,
    /// Iterations over which the multi-step loss anneals to the last step (0: last step only).
    pub multi_step_iters: u64,
    /// Iterations trained with the first-order meta-gradient before switching to second order.
    pub first_order_iters: u64,
    /// Meta-train by recomputing each inner step in a reverse sweep ([`Unroll`]) instead of
    /// recording all of them: the multi-step loss in the memory of one step.
    pub recompute: bool,
}

impl MamlPlusPlus {
    /// The weight of the query loss after each inner step at `progress`; they sum to 1.
    pub fn step_weights(&self, progress: Progress) -> Vec<f64> {
        let n = self.steps.max(1);
        let t = if self.multi_step_iters == 0 {
            1.0
        } else {
            (progress.iteration as f64 / self.multi_step_iters as f64).min(1.0)
        };
        let mut weights = vec![(1.0 - t) / n as f64; n];
        weights[n - 1] += t;
        weights
    }
}

impl Learner for MamlPlusPlus {
    fn name(&self) -> &'static str {
        "mamlpp"
    }

    fn settings(&self) -> Vec<(String, String)> {
        let mut settings = vec![
            ("inner_steps".to_string(), self.steps.to_string()),
            (
                "multi_step_iters".to_string(),
                self.multi_step_iters.to_string(),
            ),
            (
                "first_order_iters".to_string(),
                self.first_order_iters.to_string(),
            ),
        ];
        settings.extend(crate::learners::UpdateRule::settings(&self.rule));
        settings
    }

    fn init_learned(&self, theta: &Params, dtype: DType, rng: &mut StdRng) -> Params {
        crate::learners::UpdateRule::init_learned(&self.rule, theta, self.steps, dtype, rng)
    }

    fn inner_steps(&self) -> usize {
        self.steps
    }

    fn adapt(
        &self,
        model: &dyn Module,
        meta: &MetaParams,
        support: &Batch,
        tasks: usize,
        steps: usize,
        tape: Tape,
    ) -> Adapted {
        inner_loop(
            model,
            &self.rule,
            meta,
            support,
            tasks,
            steps,
            tape,
            &mut |_, _| {},
        )
    }

    fn training_tape(&self, progress: Progress) -> Tape {
        if progress.iteration < self.first_order_iters {
            Tape::FirstOrder
        } else {
            Tape::SecondOrder
        }
    }

    /// Σₛ wₛ · L_query(θₛ₊₁).
    fn outer(
        &self,
        model: &dyn Module,
        meta: &MetaParams,
        support: &Batch,
        query: &Batch,
        tasks: usize,
        progress: Progress,
    ) -> Outer {
        let weights = self.step_weights(progress);
        let tape = self.training_tape(progress);
        if self.recompute {
            // One weight per step taken (`step_weights` has one even for 0 steps).
            return Unroll {
                model,
                rule: &self.rule,
                meta,
                support,
                query,
                tasks,
                tape,
                weights: &weights[..self.steps],
            }
            .outer();
        }
        let x = Var::constant(query.x.clone());
        let mut total: Option<Var> = None;
        let mut last_prediction = None;
        let mut score = |s: usize, theta: &Params| {
            let last = s + 1 == weights.len();
            if weights[s] == 0.0 && !last {
                return;
            }
            let prediction = model.apply(theta, &x);
            let loss = query.loss(&prediction, tasks);
            let weighted = if weights[s] == 1.0 {
                loss
            } else {
                loss.mul_scalar(weights[s])
            };
            total = Some(match total.take() {
                Some(sum) => &sum + &weighted,
                None => weighted,
            });
            if last {
                last_prediction = Some(prediction);
            }
        };
        let adapted = inner_loop(
            model, &self.rule, meta, support, tasks, self.steps, tape, &mut score,
        );
        Outer {
            objective: Objective::Loss(total.expect("at least one inner step")),
            prediction: last_prediction.expect("the last step is scored"),
            memos: adapted.memos,
        }
    }
}
