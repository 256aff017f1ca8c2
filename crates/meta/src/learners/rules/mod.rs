//! The update rules, one per file.

mod fixed_rate;
mod layer_step;
mod per_parameter;
mod similarity;

pub use fixed_rate::FixedRate;
pub use layer_step::LayerStepRates;
pub use per_parameter::{PerParameterRate, RateInit};
pub use similarity::{Base, SimilarityScaled};

use autograd::Var;

/// softplus(x) = log(1 + eˣ): how rules keep a learned quantity positive. For very negative x
/// it is ≈ eˣ, so an optimiser's fixed-size steps on x change the quantity by a fixed ratio.
///
/// NOTE: written as the plain composite; it overflows for x ≳ 88 in f32, far above the range
/// of the rates and constants kept this way (below 10).
pub(crate) fn softplus(x: &Var) -> Var {
    x.exp().add_scalar(1.0).log()
}

/// The x with softplus(x) = y (y > 0).
pub(crate) fn softplus_inverse(y: f64) -> f64 {
    y.exp_m1().ln()
}
