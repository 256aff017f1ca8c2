//! The meta-gradient's reference, shared by the meta-gradient tests: central differences of
//! the meta-loss in f64, one meta-parameter element at a time; and the small f64 sinusoid
//! problem the learner tests run it on.

#![allow(dead_code)] // each test binary uses a part

use autograd::Var;
use meta::{registry, Execution, MetaTrainer, RateInit, Settings, Sinusoid, Task, TaskSource};
use nn::{mlp, Activation, Adam, Params};
use rand::rngs::StdRng;
use rand::SeedableRng;
use tensor::{DType, Tensor};

/// ∂(meta-loss)/∂(each meta-parameter element) by central differences, re-running the whole
/// pipeline (inner steps included) for each perturbation.
pub fn finite_differences(trainer: &mut MetaTrainer, tasks: &[Task]) -> Vec<f64> {
    let original = trainer.meta.clone();
    let flat = original.flatten();
    let eps = 1e-6;
    let mut out = Vec::new();
    for (name, var) in flat.iter() {
        for j in 0..var.numel() {
            let mut value_at = |delta: f64| {
                let moved = flat.map(|n, v| {
                    let mut data = v.value().to_vec::<f64>();
                    if n == name {
                        data[j] += delta;
                    }
                    Var::leaf(Tensor::from_vec(data, v.shape()).unwrap())
                });
                trainer.meta = original.unflatten(&moved);
                trainer.meta_gradient(tasks).meta_loss
            };
            out.push((value_at(eps) - value_at(-eps)) / (2.0 * eps));
        }
    }
    trainer.meta = original;
    out
}

/// Settings for a small f64 problem: two inner steps, every learned quantity switched on.
pub fn settings(steps: usize) -> Settings {
    Settings {
        inner_steps: steps,
        inner_lr: 0.05,
        alpha_init: RateInit::Uniform {
            low: 0.02,
            high: 0.1,
        },
        multi_step_iters: 100,
        // A small learned optimiser keeps the finite differences quick; its output scale of
        // 1 makes its steps large enough for the second-order terms to matter.
        lstm_hidden: 3,
        lstm_output_scale: 1.0,
        ..Settings::default()
    }
}

/// A 1-6-1 tanh network, two sinusoid tasks of 5 points, in f64 (the same for any settings,
/// so two trainers built from one name start from the same θ and φ).
pub fn problem(name: &str, settings: &Settings, execution: Execution) -> (MetaTrainer, Vec<Task>) {
    let mut rng = StdRng::seed_from_u64(7);
    let trainer = MetaTrainer::new(
        Box::new(mlp(&[1, 6, 1], Activation::Tanh)),
        registry::build(name, settings).unwrap(),
        Box::new(Adam::new(1e-3)),
        execution,
        DType::F64,
        &mut rng,
    );
    let mut family = Sinusoid::maml(5);
    family.dtype = DType::F64;
    let tasks = (0..2).map(|_| family.sample(&mut rng)).collect();
    (trainer, tasks)
}

pub fn flat_values(params: &Params) -> Vec<f64> {
    params
        .iter()
        .flat_map(|(_, v)| v.value().to_vec::<f64>())
        .collect()
}
