//! Learned optimisers: a coordinatewise LSTM that reads each parameter's gradient history and
//! outputs its update (Andrychowicz et al. 2016).
//!
//! 1. [`preprocess`](preprocess()) — each gradient coordinate as (log-magnitude, sign).
//! 2. [`CoordinatewiseLstm`] — the two-layer LSTM shared by all coordinates, in `Var`
//!    operations, so it is meta-trained by differentiating through an unrolled optimisation.
//! 3. [`LearnedOptimizer`] — the trained LSTM, frozen, as an [`Optimizer`](crate::Optimizer).
//!
//! The meta-training loop and the update rule for the meta-learners are in `meta`; the
//! chapter `docs/08-learned-optimizers.md` tells the whole story.

mod coordinatewise;
mod optimizer;
mod preprocess;

pub use coordinatewise::{flatten, state_from_params, state_to_params, CoordinatewiseLstm};
pub use optimizer::LearnedOptimizer;
pub use preprocess::preprocess;
