//! Stochastic gradient descent, with optional momentum.
//!
//! | variant | velocity | step |
//! |---|---|---|
//! | plain | — | p ← p − η·g |
//! | classic momentum (PyTorch) | v ← μ·v + g | p ← p − η·v |
//! | damped momentum (an EMA) | v ← β·v + (1 − β)·g | p ← p − η·v |
//! | Nesterov | v ← μ·v + g | p ← p − η·(g + μ·v) |
//!
//! Weight decay, if set, adds `λ·p` to the gradient first (L2 regularisation).

use autograd::Var;
use tensor::Tensor;

use super::{assert_matching, check_state, slot, update_elements, Optimizer};
use crate::error::NnError;
use crate::params::Params;

/// Which momentum rule, if any.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Momentum {
    None,
    Classic(f64),
    Damped(f64),
    Nesterov(f64),
}

#[derive(Clone, Debug)]
pub struct Sgd {
    pub lr: f64,
    pub momentum: Momentum,
    pub weight_decay: f64,
    velocity: Vec<(String, Tensor)>,
}

impl Sgd {
    pub fn new(lr: f64) -> Sgd {
        Sgd {
            lr,
            momentum: Momentum::None,
            weight_decay: 0.0,
            velocity: Vec::new(),
        }
    }

    pub fn with_momentum(mut self, momentum: Momentum) -> Sgd {
        self.momentum = momentum;
        self
    }

    pub fn with_weight_decay(mut self, weight_decay: f64) -> Sgd {
        self.weight_decay = weight_decay;
        self
    }
}

impl Optimizer for Sgd {
    fn step(&mut self, params: &Params, grads: &Params) -> Params {
        assert_matching("Sgd::step", params, grads);
        let (lr, wd, momentum) = (self.lr, self.weight_decay, self.momentum);
        let mut updated = Params::new();
        for ((name, p), (_, g)) in params.iter().zip(grads.iter()) {
            let next = if momentum == Momentum::None {
                update_elements(name, p, g, [], |p, g, _| p - lr * (g + wd * p))
            } else {
                let velocity = slot(&mut self.velocity, name, p.value());
                update_elements(name, p, g, [velocity], |p, g, v| {
                    let g = g + wd * p;
                    match momentum {
                        Momentum::Classic(mu) => {
                            v[0] = mu * v[0] + g;
                            p - lr * v[0]
                        }
                        Momentum::Damped(beta) => {
                            v[0] = beta * v[0] + (1.0 - beta) * g;
                            p - lr * v[0]
                        }
                        Momentum::Nesterov(mu) => {
                            v[0] = mu * v[0] + g;
                            p - lr * (g + mu * v[0])
                        }
                        Momentum::None => unreachable!("handled above"),
                    }
                })
            };
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
        self.velocity
            .iter()
            .map(|(n, t)| (format!("velocity.{n}"), Var::constant(t.clone())))
            .collect()
    }

    fn load_state(&mut self, state: &Params) -> Result<(), NnError> {
        check_state(state, &["velocity."])?;
        self.velocity = state
            .iter()
            .map(|(n, v)| (n["velocity.".len()..].to_string(), v.value().clone()))
            .collect();
        Ok(())
    }
}
