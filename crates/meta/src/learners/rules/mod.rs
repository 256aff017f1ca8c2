//! The update rules, one per file.

mod fixed_rate;
mod layer_step;
mod per_parameter;
mod similarity;

pub use fixed_rate::FixedRate;
pub use layer_step::LayerStepRates;
pub use per_parameter::{PerParameterRate, RateInit};
pub use similarity::{Base, SimilarityScaled};
