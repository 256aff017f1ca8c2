//! The meta-gradient's reference, shared by the meta-gradient tests: central differences of
//! the meta-loss in f64, one meta-parameter element at a time.

use autograd::Var;
use meta::{MetaTrainer, Task};
use tensor::Tensor;

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
