//! Reptile (Nichol, Achiam & Schulman 2018, "On First-Order Meta-Learning Algorithms"): train
//! on the task for k steps of plain SGD, then move θ towards where that ended:
//!
//! ```text
//! θ′ = k steps of θ ← θ − lr · ∇L_support(θ)          (nothing recorded)
//! θ  ← θ + ε · mean over tasks of (θ′ − θ)
//! ```
//!
//! No second-order term, no graph through the inner loop: the outer "gradient" is the
//! direction θ − θ′ itself, handed to the outer optimiser (the paper's batched version with
//! plain SGD is ε = the optimiser's learning rate; with Adam, Adam's step along it).

use autograd::{no_grad, Var};
use nn::{Module, Params};
use rand::rngs::StdRng;
use tensor::{DType, Tensor};

use crate::learners::rules::FixedRate;
use crate::learners::{inner_loop, Adapted, Learner, MetaParams, Objective, Outer, Progress, Tape};
use crate::tasks::Batch;

/// Reptile with `steps` inner SGD steps of size `rule.lr`.
#[derive(Clone, Debug)]
pub struct Reptile {
    pub rule: FixedRate,
    pub steps: usize,
}

impl Learner for Reptile {
    fn name(&self) -> &'static str {
        "reptile"
    }

    fn settings(&self) -> Vec<(String, String)> {
        vec![
            ("inner_steps".to_string(), self.steps.to_string()),
            ("inner_lr".to_string(), self.rule.lr.to_string()),
        ]
    }

    fn init_learned(&self, _: &Params, _: DType, _: &mut StdRng) -> Params {
        Params::new()
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

    /// The direction θ − θ′, summed over tasks; the query loss of θ′ is reported only.
    fn outer(
        &self,
        model: &dyn Module,
        meta: &MetaParams,
        support: &Batch,
        query: &Batch,
        tasks: usize,
        _progress: Progress,
    ) -> Outer {
        let adapted = self.adapt(model, meta, support, tasks, self.steps, Tape::Off);
        let (prediction, loss) = no_grad(|| {
            let prediction = model.apply(&adapted.params, &Var::constant(query.x.clone()));
            let loss = query.loss(&prediction, tasks).item();
            (prediction, loss)
        });
        let mut grads: Vec<Tensor> = meta
            .theta
            .iter()
            .zip(adapted.params.iter())
            .map(|((_, start), (_, end))| {
                let difference = start.value().sub(end.value());
                if tasks > 0 {
                    difference.sum(&[0], false)
                } else {
                    difference
                }
            })
            .collect();
        grads.extend(meta.learned.iter().map(|(_, v)| v.value().zeros_like()));
        Outer {
            objective: Objective::Direction { loss, grads },
            prediction,
            memos: adapted.memos,
        }
    }
}
