//! Gradient-norm clipping: if the global norm ‖g‖ = √(Σ over all tensors of Σ g²) exceeds
//! `max_norm`, every gradient is scaled by `max_norm / ‖g‖`, keeping its direction.

use autograd::Var;

use crate::params::Params;

/// The clipped gradients and the norm before clipping.
pub fn clip_grad_norm(grads: &Params, max_norm: f64) -> (Params, f64) {
    let squares: f64 = grads
        .iter()
        .map(|(_, g)| g.value().to_vec::<f64>().iter().map(|v| v * v).sum::<f64>())
        .sum();
    let norm = squares.sqrt();
    if norm <= max_norm || norm == 0.0 {
        return (grads.clone(), norm);
    }
    let scale = max_norm / norm;
    (
        grads.map(|_, g| Var::constant(g.value().mul_scalar(scale))),
        norm,
    )
}
