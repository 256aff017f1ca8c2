//! Learning-rate schedules: the learning rate as a function of the step number (from 0).

use std::f64::consts::PI;

pub trait Schedule: Send + Sync {
    fn learning_rate(&self, step: usize) -> f64;
}

/// The same rate throughout.
#[derive(Clone, Copy, Debug)]
pub struct Constant(pub f64);

impl Schedule for Constant {
    fn learning_rate(&self, _: usize) -> f64 {
        self.0
    }
}

/// `base · γ^⌊step / every⌋`: multiplied by `gamma` every `every` steps.
#[derive(Clone, Copy, Debug)]
pub struct StepDecay {
    pub base: f64,
    pub every: usize,
    pub gamma: f64,
}

impl Schedule for StepDecay {
    fn learning_rate(&self, step: usize) -> f64 {
        self.base * self.gamma.powi((step / self.every.max(1)) as i32)
    }
}

/// Cosine annealing from `base` to `min` over `total` steps (Loshchilov & Hutter 2017):
/// `min + (base − min)·(1 + cos(π·step/total))/2`, then `min`.
#[derive(Clone, Copy, Debug)]
pub struct Cosine {
    pub base: f64,
    pub min: f64,
    pub total: usize,
}

impl Schedule for Cosine {
    fn learning_rate(&self, step: usize) -> f64 {
        let progress = (step as f64 / self.total.max(1) as f64).min(1.0);
        self.min + (self.base - self.min) * (1.0 + (PI * progress).cos()) / 2.0
    }
}
