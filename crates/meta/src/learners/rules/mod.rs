//! The update rules, one per file.

mod fixed_rate;
mod layer_step;
mod lstm;
mod per_parameter;
mod similarity;

pub use fixed_rate::FixedRate;
pub use layer_step::LayerStepRates;
pub use lstm::LstmRule;
pub use per_parameter::{PerParameterRate, RateInit};
pub use similarity::{Base, SimilarityScaled};

/// The x with softplus(x) = y (y > 0): how rules store a learned positive quantity, which they
/// read back as `Var::softplus` of it. For very negative x softplus(x) ≈ eˣ, so an
/// optimiser's fixed-size steps on x change the quantity by a ratio.
pub(crate) fn softplus_inverse(y: f64) -> f64 {
    y.exp_m1().ln()
}
