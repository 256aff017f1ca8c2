//! Outer-loop optimisers. An optimiser takes the current parameters and their gradients and
//! returns updated parameters (fresh leaves); it keeps its own state (momentum, moment
//! estimates) by parameter name, so it can be saved with a checkpoint and restored.
//!
//! The updates are element-wise loops over the raw buffers: they are not differentiated, and
//! one fused pass per tensor is much cheaper than a dozen tensor operations. They compute in
//! the parameters' own element type (f32 parameters get f32 arithmetic, as in PyTorch).

mod adam;
mod clip;
mod rmsprop;
mod schedule;
mod sgd;
mod state_check;

pub use adam::Adam;
pub use clip::clip_grad_norm;
pub use rmsprop::RmsProp;
pub use schedule::{Constant, Cosine, Schedule, StepDecay};
pub use sgd::{Momentum, Sgd};
pub use state_check::check_state_against;

use autograd::Var;
use tensor::{with_dtype, Element, Tensor};

use crate::error::NnError;
use crate::params::Params;

/// A first-order optimiser.
pub trait Optimizer: Send + Sync {
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

/// An element-wise update rule with `N` state buffers per parameter (momentum: 1; Adam's two
/// moments: 2).
pub(crate) trait Rule<const N: usize> {
    /// The new parameter values from the old ones, their gradients and their state buffers
    /// (updated in place); all slices have the same length. Written as one zipped loop, which
    /// the compiler vectorises.
    fn update<T: Element>(&self, params: &[T], grads: &[T], state: [&mut [T]; N]) -> Vec<T>;
}

/// Applies `rule` to every element of `param`, whose state buffers are `slots` (updated in
/// place). One tight loop per tensor, in the parameters' own element type.
pub(crate) fn update_elements<const N: usize>(
    name: &str,
    param: &Var,
    grad: &Var,
    slots: [&mut Tensor; N],
    rule: &impl Rule<N>,
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
        let out = rule.update(&p, &g, slots.map(|s| s.make_mut_slice::<T>()));
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
