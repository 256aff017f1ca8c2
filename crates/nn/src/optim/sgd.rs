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
use tensor::{Element, Tensor};

use super::{assert_matching, check_state, slot, update_elements, Optimizer, Rule};
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
            let rule = SgdRule { lr, wd, momentum };
            let next = if momentum == Momentum::None {
                update_elements(name, p, g, [], &rule)
            } else {
                let velocity = slot(&mut self.velocity, name, p.value());
                update_elements(name, p, g, [velocity], &rule)
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

/// One SGD update of one element (the table at the top of this file).
struct SgdRule {
    lr: f64,
    wd: f64,
    momentum: Momentum,
}

impl Rule<0> for SgdRule {
    fn update<T: Element>(&self, params: &[T], grads: &[T], _: [&mut [T]; 0]) -> Vec<T> {
        let (lr, wd) = (T::from_f64(self.lr), T::from_f64(self.wd));
        params
            .iter()
            .zip(grads)
            .map(|(&p, &g)| p - lr * (g + wd * p))
            .collect()
    }
}

impl Rule<1> for SgdRule {
    fn update<T: Element>(&self, params: &[T], grads: &[T], [velocity]: [&mut [T]; 1]) -> Vec<T> {
        let c = |x: f64| T::from_f64(x);
        let (lr, wd) = (c(self.lr), c(self.wd));
        // v ← decay·v + scale·g, then p ← p − η·(v + look_ahead·… ) per the table above.
        let (decay, scale, nesterov) = match self.momentum {
            Momentum::Classic(mu) => (mu, 1.0, false),
            Momentum::Damped(beta) => (beta, 1.0 - beta, false),
            Momentum::Nesterov(mu) => (mu, 1.0, true),
            Momentum::None => (0.0, 1.0, false),
        };
        let (decay, scale) = (c(decay), c(scale));
        params
            .iter()
            .zip(grads)
            .zip(velocity.iter_mut())
            .map(|((&p, &g), v)| {
                let g = g + wd * p;
                *v = decay * *v + scale * g;
                if nesterov {
                    p - lr * (g + decay * *v)
                } else {
                    p - lr * *v
                }
            })
            .collect()
    }
}
