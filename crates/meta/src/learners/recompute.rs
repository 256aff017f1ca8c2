//! Recomputation: the meta-gradient of an unrolled inner loop in memory that does not grow
//! with the number of inner steps — the memory/time trade of Chen et al. 2016, "Training deep
//! nets with sublinear memory cost", with one checkpoint per inner step.
//!
//! The recorded path ([`inner_loop`](super::inner_loop) with a second-order tape) keeps every
//! step's graph until the outer backward pass: the support activations of each step and the
//! recorded backward pass through them, so memory grows linearly with the steps n. Here only
//! the parameters θₛ between steps are kept (a few copies of θ), and each step's graph is
//! rebuilt in a reverse sweep, one at a time:
//!
//! ```text
//! forward    θₛ₊₁ = U(θₛ, φ, ∇L_support(θₛ))     s = 0 … n−2, nothing recorded; keep θₛ
//! sweep      for s = n−1 … 0:
//!              rebuild step s from leaves θₛ, φ (inner gradient recorded if second order)
//!              one VJP of  wₛ·L_query(θₛ₊₁) + ⟨ḡₛ₊₁, θₛ₊₁⟩
//!                gives ḡₛ = ∂/∂θₛ, and adds ∂/∂φ to φ̄
//!              drop the step's graph
//! ```
//!
//! φ is what the rule learns (Meta-SGD's α, MAML++'s rates), wₛ the weight of the query loss
//! after step s (MAML: only the last step, weight 1; MAML++: its multi-step weights), and ḡₛ₊₁
//! the cotangent that the later steps sent back to θₛ₊₁ (none for the last step). By the
//! chain rule the sweep's ḡ₀ and φ̄ are the gradients of Σₛ wₛ·L_query(θₛ₊₁) — the recorded
//! path's meta-gradient, up to rounding (`tests/recompute.rs` compares them in f64).
//!
//! The forward pass stops at θₙ₋₁: the sweep's first rebuild (s = n−1) produces θₙ and scores
//! it in the same graph, so recomputation costs n−1 extra first-order inner steps (none for
//! n = 1). A rule with per-task state (an LSTM's hidden state) has its state checkpointed
//! beside θₛ and gets a cotangent of its own; the state's start, [`UpdateRule::begin`], is
//! differentiated last.
//!
//! The limitation: the result is numbers ([`Objective::Direction`]), not a graph, so nothing
//! can be differentiated through the meta-gradient itself (third order). Given meta-parameters
//! that were themselves computed by recorded operations, [`Unroll::outer`] refuses (panics)
//! rather than silently cut that graph.

use autograd::{grad, grad_with, no_grad, GradOptions, Var};
use nn::{Module, Params};
use tensor::Tensor;

use crate::learners::inner_loop::InnerStep;
use crate::learners::rule::{RuleState, TaskStart, UpdateRule};
use crate::learners::{MetaParams, Objective, Outer, Tape};
use crate::tasks::Batch;

/// One task's (or stack's) inner loop and outer objective, to differentiate by recomputation.
pub struct Unroll<'a> {
    pub model: &'a dyn Module,
    pub rule: &'a dyn UpdateRule,
    pub meta: &'a MetaParams,
    pub support: &'a Batch,
    pub query: &'a Batch,
    /// 0 for one task, or the size of the leading task axis of a stacked pass.
    pub tasks: usize,
    /// [`Tape::SecondOrder`], or [`Tape::FirstOrder`] (inner gradients taken as constants).
    pub tape: Tape,
    /// wₛ, the weight of the query loss after step s, one per inner step (MAML: 0, …, 0, 1).
    /// Their number is the number of steps.
    pub weights: &'a [f64],
}

/// What is kept of step s between the forward pass and the sweep: θₛ and the rule's state,
/// as constants.
struct Checkpoint {
    theta: Params,
    state: Params,
}

/// The cotangents a VJP returns, cut back into the inputs' groups.
struct Cotangents {
    theta: Vec<Var>,
    state: Vec<Var>,
    learned: Vec<Var>,
}

impl Unroll<'_> {
    /// The outer objective as a direction: Σₛ wₛ·L_query(θₛ₊₁) (reported) and its gradient
    /// with respect to θ and the learned tensors (summed over the task axis), in
    /// [`MetaParams::vars`] order.
    ///
    /// # Panics
    /// If a meta-parameter is not a leaf (see the module's limitation), or an inner gradient
    /// fails (the same failures as the recorded path's).
    pub fn outer(&self) -> Outer {
        self.refuse_recorded_meta_params();
        // Fresh leaves of φ, shared by every rebuilt step: differentiating never writes to
        // them, so each step's VJP reads its own contribution.
        let learned = self.meta.learned.to_leaves();
        let (saved, memo) = self.forward(&learned);
        let steps = self.weights.len();
        let mut learned_grads: Vec<Tensor> = learned
            .iter()
            .map(|(_, v)| v.value().zeros_like())
            .collect();
        let mut reported = 0.0;
        let mut prediction = None;
        // ḡₛ₊₁ for θ and for the rule's state; `None` before the last step's sweep.
        let mut theta_cot: Option<Vec<Var>> = None;
        let mut state_cot: Vec<Var> = Vec::new();
        let qx = Var::constant(self.query.x.clone());
        if steps == 0 {
            // No inner step: the query loss at θ₀ is the objective.
            let theta = saved[0].theta.to_leaves();
            let predicted = self.model.apply(&theta, &qx);
            let loss = self.query.loss(&predicted, self.tasks);
            reported = loss.item();
            let g =
                grad(&[&loss], &theta.vars(), false).unwrap_or_else(|e| panic!("recompute: {e}"));
            theta_cot = Some(g);
            prediction = Some(predicted.detach());
        }
        for s in (0..steps).rev() {
            let weight = self.weights[s];
            let theta = saved[s].theta.to_leaves();
            let state_in = saved[s].state.to_leaves();
            let mut state = RuleState {
                vars: state_in.clone(),
                memo: memo.clone(),
            };
            let next = self.rebuild_step(s, &theta, &learned, &mut state);
            // Σ ⟨seed, output⟩ of this step: wₛ·L_query(θₛ₊₁), then ⟨ḡₛ₊₁, θₛ₊₁⟩ and the
            // state's counterpart.
            let mut outputs: Vec<Var> = Vec::new();
            let mut seeds: Vec<Var> = Vec::new();
            let last = s + 1 == steps;
            if weight != 0.0 || last {
                let predicted = self.model.apply(&next, &qx);
                let loss = self.query.loss(&predicted, self.tasks);
                reported += weight * loss.item();
                if last {
                    prediction = Some(predicted.detach());
                }
                if weight != 0.0 {
                    seeds.push(Var::constant(loss.value().ones_like().mul_scalar(weight)));
                    outputs.push(loss);
                }
            }
            if let Some(cot) = theta_cot.take() {
                outputs.extend(next.iter().map(|(_, v)| v.clone()));
                seeds.extend(cot);
            }
            for ((_, v), c) in state.vars.iter().zip(state_cot.drain(..)) {
                // A state entry no step records (a constant) sends nothing back.
                if v.requires_grad() {
                    outputs.push(v.clone());
                    seeds.push(c);
                }
            }
            let got = self.vjp(&outputs, &seeds, &theta, &state_in, &learned);
            for (sum, g) in learned_grads.iter_mut().zip(&got.learned) {
                sum.add_assign(g.value());
            }
            theta_cot = Some(got.theta);
            state_cot = got.state;
            // Dropping `next`, `state` and `outputs` here frees step s's graph.
        }
        let mut theta_cot = theta_cot.expect("the sweep reaches θ₀");
        if !state_cot.is_empty() {
            // State₀ = begin(θ₀, φ): its cotangent reaches θ₀ and φ too.
            let theta = saved[0].theta.to_leaves();
            let start = TaskStart {
                model: self.model,
                theta: &theta,
                learned: &learned,
                support: self.support,
                tasks: self.tasks,
            };
            let begun = self.rule.begin(&start).vars;
            let (outputs, seeds): (Vec<Var>, Vec<Var>) = begun
                .iter()
                .zip(state_cot)
                .filter(|((_, v), _)| v.requires_grad())
                .map(|((_, v), c)| (v.clone(), c))
                .unzip();
            let got = self.vjp(&outputs, &seeds, &theta, &Params::new(), &learned);
            for (sum, g) in theta_cot.iter_mut().zip(&got.theta) {
                *sum = Var::constant(sum.value().add(g.value()));
            }
            for (sum, g) in learned_grads.iter_mut().zip(&got.learned) {
                sum.add_assign(g.value());
            }
        }
        // θ₀ of a stack is θ broadcast over the task axis: its gradient is the sum over it.
        let mut grads: Vec<Tensor> = theta_cot
            .iter()
            .map(|g| match self.tasks {
                0 => g.value().clone(),
                _ => g.value().sum(&[0], false),
            })
            .collect();
        grads.extend(learned_grads);
        Outer {
            objective: Objective::Direction {
                loss: reported,
                grads,
            },
            prediction: prediction.expect("the last step is scored"),
            memos: memo.into_iter().collect(),
        }
    }

    /// θ₀ … θₙ₋₁ and the rule's state before each step, computed without recording (each
    /// step's inner gradient from fresh leaves, its graph gone with the step), and the task's
    /// memo.
    fn forward(&self, learned: &Params) -> (Vec<Checkpoint>, Option<Tensor>) {
        let x = Var::constant(self.support.x.clone());
        let steps = self.weights.len();
        let mut theta = self.meta.theta.to_leaves();
        let start = TaskStart {
            model: self.model,
            theta: &theta,
            learned,
            support: self.support,
            tasks: self.tasks,
        };
        let mut state = no_grad(|| self.rule.begin(&start));
        let memo = state.memo.clone();
        let inner = self.inner(&x, learned);
        let mut saved = Vec::with_capacity(steps.max(1));
        for index in 0..steps.max(1) {
            saved.push(Checkpoint {
                theta: theta.detach(),
                state: state.vars.detach(),
            });
            if index + 1 >= steps {
                break;
            }
            theta = inner.step(index, &theta, Tape::Off, &mut state).to_leaves();
        }
        (saved, memo)
    }

    /// Step s from the leaves `theta` (θₛ) and `learned` (φ), recorded: θₛ₊₁, with `state`
    /// advanced.
    fn rebuild_step(
        &self,
        index: usize,
        theta: &Params,
        learned: &Params,
        state: &mut RuleState,
    ) -> Params {
        let x = Var::constant(self.support.x.clone());
        self.inner(&x, learned).step(index, theta, self.tape, state)
    }

    /// The shared inner step (`inner_loop`'s) for this task, with φ = `learned`.
    fn inner<'b>(&'b self, x: &'b Var, learned: &'b Params) -> InnerStep<'b> {
        InnerStep {
            model: self.model,
            rule: self.rule,
            x,
            support: self.support,
            learned,
            tasks: self.tasks,
        }
    }

    /// Σ ⟨seeds, outputs⟩ differentiated with respect to θ, the state and φ (not recorded).
    fn vjp(
        &self,
        outputs: &[Var],
        seeds: &[Var],
        theta: &Params,
        state: &Params,
        learned: &Params,
    ) -> Cotangents {
        let mut inputs = theta.vars();
        inputs.extend(state.vars());
        inputs.extend(learned.vars());
        let outputs: Vec<&Var> = outputs.iter().collect();
        let seeds: Vec<&Var> = seeds.iter().collect();
        let mut got = if outputs.is_empty() {
            inputs
                .iter()
                .map(|v| Var::constant(v.value().zeros_like()))
                .collect()
        } else {
            grad_with(&outputs, &seeds, &inputs, GradOptions::default())
                .unwrap_or_else(|e| panic!("recompute: the step's vector-Jacobian product: {e}"))
        };
        let learned_part = got.split_off(theta.len() + state.len());
        let state_part = got.split_off(theta.len());
        Cotangents {
            theta: got,
            state: state_part,
            learned: learned_part,
        }
    }

    /// Refuses meta-parameters computed by recorded operations (other than θ broadcast over a
    /// task axis): their graph would be cut, since the meta-gradient here is numbers.
    fn refuse_recorded_meta_params(&self) {
        let theta = self.meta.theta.iter().map(|(n, v)| (n, v, self.tasks > 0));
        let learned = self.meta.learned.iter().map(|(n, v)| (n, v, false));
        for (name, var, broadcast_allowed) in theta.chain(learned) {
            let op = var.op_name();
            let fine = op.is_none() || (broadcast_allowed && op == Some("broadcast_to"));
            assert!(
                fine,
                "recompute: meta-parameter `{name}` (shape {:?}) is the result of `{}`, not a \
                 leaf; the recomputed meta-gradient is not recorded, so nothing (third order) \
                 could be differentiated through it to what made `{name}`: turn recomputation \
                 off to keep the meta-gradient on the tape",
                var.shape(),
                op.unwrap_or("?")
            );
        }
    }
}
