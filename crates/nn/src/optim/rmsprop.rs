//! RMSprop (Tieleman & Hinton 2012): each coordinate's step divided by a running root mean
//! square of its gradients.
//!
//! ```text
//! v ← α·v + (1 − α)·g²
//! p ← p − η·g / (√v + ε)
//! ```
//!
//! α = 0.99 and ε = 1e-8 by default (PyTorch's). No momentum, no centring.

use autograd::Var;
use tensor::Element;

use super::{assert_matching, check_state, slot, update_elements, Optimizer, Rule};
use crate::error::NnError;
use crate::params::Params;

#[derive(Clone, Debug)]
pub struct RmsProp {
    pub lr: f64,
    pub alpha: f64,
    pub eps: f64,
    square_avg: Vec<(String, tensor::Tensor)>,
}

impl RmsProp {
    pub fn new(lr: f64) -> RmsProp {
        RmsProp {
            lr,
            alpha: 0.99,
            eps: 1e-8,
            square_avg: Vec::new(),
        }
    }
}

impl Optimizer for RmsProp {
    fn step(&mut self, params: &Params, grads: &Params) -> Params {
        assert_matching("RmsProp::step", params, grads);
        let rule = RmsRule {
            lr: self.lr,
            alpha: self.alpha,
            eps: self.eps,
        };
        let mut updated = Params::new();
        for ((name, p), (_, g)) in params.iter().zip(grads.iter()) {
            let v = slot(&mut self.square_avg, name, p.value());
            updated.insert(name, update_elements(name, p, g, [v], &rule));
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
        self.square_avg
            .iter()
            .map(|(n, t)| (format!("square_avg.{n}"), Var::constant(t.clone())))
            .collect()
    }

    fn load_state(&mut self, state: &Params) -> Result<(), NnError> {
        check_state(state, &["square_avg."])?;
        self.square_avg = state
            .iter()
            .map(|(n, v)| (n["square_avg.".len()..].to_string(), v.value().clone()))
            .collect();
        Ok(())
    }
}

/// One RMSprop update of one element (the formula at the top of this file).
struct RmsRule {
    lr: f64,
    alpha: f64,
    eps: f64,
}

impl Rule<1> for RmsRule {
    fn update<T: Element>(&self, params: &[T], grads: &[T], [v]: [&mut [T]; 1]) -> Vec<T> {
        let c = |x: f64| T::from_f64(x);
        let (lr, alpha, eps) = (c(self.lr), c(self.alpha), c(self.eps));
        let one = c(1.0);
        params
            .iter()
            .zip(grads)
            .zip(v.iter_mut())
            .map(|((&p, &g), v)| {
                *v = alpha * *v + (one - alpha) * g * g;
                p - lr * g / (v.sqrt() + eps)
            })
            .collect()
    }
}
