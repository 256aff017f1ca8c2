//! Outer-loop optimisers. An optimiser takes the current parameters and their gradients and
//! returns updated parameters (fresh leaves); it keeps its own state (momentum, moment
//! estimates) by parameter name, so it can be saved with a checkpoint and restored.
//!
//! The updates are element-wise loops over the raw buffers: they are not differentiated, and
//! one fused pass per tensor is much cheaper than a dozen tensor operations.

mod adam;
mod clip;
mod schedule;
mod sgd;

pub use adam::Adam;
pub use clip::clip_grad_norm;
pub use schedule::{Constant, Cosine, Schedule, StepDecay};
pub use sgd::{Momentum, Sgd};

use autograd::Var;
use tensor::{with_dtype, Element, Tensor};

use crate::error::NnError;
use crate::params::Params;

/// A first-order optimiser.
pub trait Optimizer: Send {
    /// The parameters after one step along `grads` (same names, same order).
    ///
    /// # Panics
    /// If `grads` does not have exactly the names of `params` in the same order, or a
    /// gradient or state buffer does not have its parameter's shape.
    fn step(&mut self, params: &Params, grads: &Params) -> Params;

    fn learning_rate(&self) -> f64;

    fn set_learning_rate(&mut self, lr: f64);

    /// The optimiser's state as named tensors (for checkpoints).
    fn state(&self) -> Params;

    /// Restores a state saved by [`Optimizer::state`]; on error nothing changes.
    fn load_state(&mut self, state: &Params) -> Result<(), NnError>;
}

/// Panics unless `grads` names exactly the parameters of `params`, in the same order: zipping
/// them blindly would drop the parameters a short `grads` lacks, or pair a gradient with the
/// wrong tensor.
pub(crate) fn assert_matching(optimizer: &str, params: &Params, grads: &Params) {
    let same =
        params.len() == grads.len() && params.names().zip(grads.names()).all(|(a, b)| a == b);
    let list = |p: &Params| p.names().collect::<Vec<_>>().join(", ");
    assert!(
        same,
        "{optimizer}: parameters [{}] but gradients [{}]",
        list(params),
        list(grads)
    );
}

/// Applies `update(param, grad, slots…) → new param` element by element, where `slots` are the
/// optimiser's per-element state buffers for parameter `name` (updated in place).
///
/// # Panics
/// If the gradient or a state buffer does not have the parameter's shape (and, for the
/// buffers, dtype) — e.g. a state loaded from another model.
///
/// `N` (the number of slots) is a constant, so the per-element state lives in a small array
/// on the stack and the closure is inlined into one tight loop per tensor.
pub(crate) fn update_elements<const N: usize>(
    name: &str,
    param: &Var,
    grad: &Var,
    slots: [&mut Tensor; N],
    update: impl Fn(f64, f64, &mut [f64; N]) -> f64,
) -> Var {
    let (p, g) = (param.value(), grad.value());
    assert_eq!(
        p.shape(),
        g.shape(),
        "optimizer: parameter `{name}` has shape {:?} but its gradient {:?}",
        p.shape(),
        g.shape()
    );
    let dtype = p.dtype();
    for slot in slots.iter() {
        assert!(
            slot.shape() == p.shape() && slot.dtype() == dtype,
            "optimizer: the state of `{name}` is {:?} {} but the parameter is {:?} {dtype}",
            slot.shape(),
            slot.dtype(),
            p.shape()
        );
    }
    let updated = with_dtype!(dtype, T => {
        let (p, g) = (p.to_contiguous_cow::<T>(), g.to_contiguous_cow::<T>());
        let mut buffers: [&mut [T]; N] = slots.map(|s| s.make_mut_slice::<T>());
        let out: Vec<T> = (0..p.len())
            .map(|i| {
                let mut state: [f64; N] = std::array::from_fn(|k| buffers[k][i].to_f64());
                let next = update(p[i].to_f64(), g[i].to_f64(), &mut state);
                for (buffer, value) in buffers.iter_mut().zip(state) {
                    buffer[i] = T::from_f64(value);
                }
                T::from_f64(next)
            })
            .collect();
        Tensor::from_vec(out, param.shape()).expect("same shape")
    });
    Var::leaf(updated)
}

/// Looks up (or creates as zeros) the state buffer `kind` of parameter `name`.
pub(crate) fn slot<'a>(
    slots: &'a mut Vec<(String, Tensor)>,
    name: &str,
    like: &Tensor,
) -> &'a mut Tensor {
    let position = match slots.iter().position(|(n, _)| n == name) {
        Some(p) => p,
        None => {
            slots.push((name.to_string(), like.zeros_like()));
            slots.len() - 1
        }
    };
    &mut slots[position].1
}

/// Checks a saved state against what this optimiser expects, before anything is changed.
/// `names` are exact names (`step`) or prefixes ending in a dot (`velocity.`).
pub(crate) fn check_state(state: &Params, names: &[&str]) -> Result<(), NnError> {
    for name in state.names() {
        let known = names.iter().any(|pattern| {
            if pattern.ends_with('.') {
                name.starts_with(pattern)
            } else {
                name == *pattern
            }
        });
        if !known {
            return Err(NnError::UnexpectedParam {
                name: name.to_string(),
                model: "optimizer state".into(),
            });
        }
    }
    Ok(())
}
