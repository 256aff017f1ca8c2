//! Layers: each a small description implementing [`Module`](crate::Module).
//!
//! | layer | parameters |
//! |---|---|
//! | [`Linear`] | `weight [out, in]`, `bias [out]` |
//! | [`Conv2d`] | `weight [O, C/groups, kh, kw]`, `bias [O]` |
//! | [`BatchNorm`] | `weight [C]` (γ), `bias [C]` (β) |
//! | [`LayerNorm`] | `weight`, `bias` of its normalised shape |
//! | [`GroupNorm`] | `weight [C]` (γ), `bias [C]` (β) |
//! | [`MaxPool2d`], [`AdaptiveAvgPool2d`], [`Flatten`], [`SpatialMean`], [`Dropout`], activations | none |
//! | [`LstmCell`] (functional, no `Module`) | `w_ih [4H, I]`, `w_hh [4H, H]`, `bias [4H]` |
//! | [`Sequential`] | its children's, named `0.…`, `1.…` |

mod activation;
mod batchnorm;
mod conv;
mod dropout;
mod groupnorm;
mod linear;
mod lstm;
mod reshape;
mod sequential;

pub use activation::{LeakyRelu, Relu, Sigmoid, Tanh};
pub use batchnorm::BatchNorm;
pub use conv::{AdaptiveAvgPool2d, Conv2d, MaxPool2d};
pub use dropout::Dropout;
pub use groupnorm::{GroupNorm, LayerNorm};
pub use linear::Linear;
pub use lstm::{LstmCell, LstmState};
pub use reshape::{Flatten, SpatialMean};
pub use sequential::Sequential;
