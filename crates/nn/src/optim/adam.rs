//! Adam (Kingma & Ba 2015) and AdamW (Loshchilov & Hutter 2019).
//!
//! ```text
//! t ← t + 1
//! m ← β₁·m + (1 − β₁)·g          first-moment estimate
//! v ← β₂·v + (1 − β₂)·g²         second-moment estimate
//! m̂ = m / (1 − β₁ᵗ),  v̂ = v / (1 − β₂ᵗ)     bias correction (m, v start at 0)
//! p ← p − η·m̂ / (√v̂ + ε)
//! ```
//!
//! Weight decay λ: Adam adds λ·p to g (L2 regularisation, which the moment estimates then
//! rescale); AdamW instead shrinks p by η·λ·p directly ("decoupled"), which is what people
//! usually mean by weight decay.

use autograd::Var;
use tensor::{DType, Element, Tensor};

use super::{assert_matching, check_state, update_elements, Optimizer, Rule};
use crate::error::NnError;
use crate::params::Params;

#[derive(Clone, Debug)]
pub struct Adam {
    pub lr: f64,
    pub beta1: f64,
    pub beta2: f64,
    pub eps: f64,
    pub weight_decay: f64,
    /// AdamW's decoupled weight decay instead of L2.
    pub decoupled: bool,
    step: u64,
    moments: Vec<Moments>,
}

/// The two moment estimates of one parameter tensor.
#[derive(Clone, Debug)]
struct Moments {
    name: String,
    m: Tensor,
    v: Tensor,
}

impl Adam {
    /// Adam with the usual defaults: β = (0.9, 0.999), ε = 1e-8.
    pub fn new(lr: f64) -> Adam {
        Adam {
            lr,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            weight_decay: 0.0,
            decoupled: false,
            step: 0,
            moments: Vec::new(),
        }
    }

    /// AdamW with decoupled weight decay `weight_decay`.
    pub fn adamw(lr: f64, weight_decay: f64) -> Adam {
        Adam {
            weight_decay,
            decoupled: true,
            ..Adam::new(lr)
        }
    }

    /// Steps taken so far.
    pub fn steps(&self) -> u64 {
        self.step
    }
}

impl Optimizer for Adam {
    fn step(&mut self, params: &Params, grads: &Params) -> Params {
        assert_matching("Adam::step", params, grads);
        self.step += 1;
        let t = self.step as i32;
        let (lr, b1, b2, eps, wd, decoupled) = (
            self.lr,
            self.beta1,
            self.beta2,
            self.eps,
            self.weight_decay,
            self.decoupled,
        );
        let rule = AdamRule {
            lr,
            b1,
            b2,
            eps,
            wd,
            decoupled,
            correct1: 1.0 - b1.powi(t),
            correct2: 1.0 - b2.powi(t),
        };
        let mut updated = Params::new();
        for (index, ((name, p), (_, g))) in params.iter().zip(grads.iter()).enumerate() {
            // Parameters come in the same order every step: look where this one was last.
            let known = match self.moments.get(index) {
                Some(entry) if entry.name == name => Some(index),
                _ => self.moments.iter().position(|e| e.name == name),
            };
            let position = match known {
                Some(k) => k,
                None => {
                    let zeros = p.value().zeros_like();
                    self.moments.push(Moments {
                        name: name.to_string(),
                        m: zeros.clone(),
                        v: zeros,
                    });
                    self.moments.len() - 1
                }
            };
            let Moments { m, v, .. } = &mut self.moments[position];
            let next = update_elements(name, p, g, [m, v], &rule);
            updated.insert(name, next);
        }
        updated
    }

    fn learning_rate(&self) -> f64 {
        self.lr
    }

    fn set_learning_rate(&mut self, lr: f64) {
        self.lr = lr;
    }

    fn state(&self) -> Params {
        let mut state = Params::new();
        for entry in &self.moments {
            state.insert(format!("m.{}", entry.name), Var::constant(entry.m.clone()));
            state.insert(format!("v.{}", entry.name), Var::constant(entry.v.clone()));
        }
        state.insert("step", Var::constant(Tensor::scalar(self.step as f64)));
        state
    }

    fn load_state(&mut self, state: &Params) -> Result<(), NnError> {
        check_state(state, &["m.", "v.", "step"])?;
        let step = state.get("step").ok_or_else(|| NnError::MissingParam {
            name: "step".into(),
            model: "Adam state".into(),
        })?;
        let step = step.value().to_dtype(DType::F64).item();
        // Every second moment needs its first (the loop below pairs them from the `m.` side).
        let orphan = state
            .names()
            .filter_map(|n| n.strip_prefix("v."))
            .find(|name| state.get(&format!("m.{name}")).is_none());
        if let Some(name) = orphan {
            return Err(NnError::MissingParam {
                name: format!("m.{name}"),
                model: "Adam state".into(),
            });
        }
        let mut moments = Vec::new();
        for (name, m) in state.iter().filter(|(n, _)| n.starts_with("m.")) {
            let name = &name[2..];
            let v = state
                .get(&format!("v.{name}"))
                .ok_or_else(|| NnError::MissingParam {
                    name: format!("v.{name}"),
                    model: "Adam state".into(),
                })?;
            moments.push(Moments {
                name: name.to_string(),
                m: m.value().clone(),
                v: v.value().clone(),
            });
        }
        self.moments = moments;
        self.step = step as u64;
        Ok(())
    }
}

/// One Adam(W) update of one element; `correct1`, `correct2` are the bias corrections
/// 1 − β₁ᵗ and 1 − β₂ᵗ of this step.
struct AdamRule {
    lr: f64,
    b1: f64,
    b2: f64,
    eps: f64,
    wd: f64,
    decoupled: bool,
    correct1: f64,
    correct2: f64,
}

impl Rule<2> for AdamRule {
    fn update<T: Element>(&self, params: &[T], grads: &[T], [m, v]: [&mut [T]; 2]) -> Vec<T> {
        let c = |x: f64| T::from_f64(x);
        let (b1, b2, eps) = (c(self.b1), c(self.b2), c(self.eps));
        // L2 decay adds λ·p to the gradient; decoupled decay shrinks p by (1 − η·λ) instead.
        let (l2, shrink) = if self.decoupled {
            (0.0, 1.0 - self.lr * self.wd)
        } else {
            (self.wd, 1.0)
        };
        let (l2, shrink) = (c(l2), c(shrink));
        // Bias corrections folded into two constants: η·m̂ = (η / (1 − β₁ᵗ))·m, v̂ = v / (1 − β₂ᵗ).
        let (step, inv_correct2) = (c(self.lr / self.correct1), c(1.0 / self.correct2));
        let moments = m.iter_mut().zip(v.iter_mut());
        let updated = params
            .iter()
            .zip(grads)
            .zip(moments)
            .map(|((&p, &g), (m, v))| {
                let g = g + l2 * p;
                *m = b1 * *m + (T::ONE - b1) * g;
                *v = b2 * *v + (T::ONE - b2) * g * g;
                shrink * p - step * *m / ((*v * inv_correct2).sqrt() + eps)
            });
        tensor::buffer::collect(params.len(), updated)
    }
}
