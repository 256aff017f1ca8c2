//! `nn`: functional modules, layers, losses, optimisers and checkpoints.
//!
//! A model here is a *description* plus a pure function of explicit parameters: the same
//! module runs with θ and with an adapted θ' (or with one parameter set per task), which is
//! what meta-learning needs.
//!
//! Read the files in this order:
//! 1. [`params`] — `Params`, the named parameter collection that is mapped and zipped.
//! 2. [`module`] — the `Module` trait and the forward context `Ctx`.
//! 3. [`init`], [`layers`], [`models`] — initialisers, layers, ready-made networks.
//! 4. [`loss`] — mse, L1, Huber, cross-entropy, binary cross-entropy with logits, KL
//!    divergence, accuracy.
//! 5. [`optim`] — SGD, RMSprop, Adam(W), schedules, clipping.
//! 6. [`checkpoint`] — saving and loading safetensors files.
//! 7. [`learned`] — the coordinatewise LSTM optimiser (a learned optimiser), on the LSTM
//!    cell of [`layers`].
//!
//! The chapter below (`docs/04-nn.md`) shows why meta-learning wants functional modules and
//! trains a small regression in a few lines.
#![doc = include_str!("../../../docs/04-nn.md")]

pub mod atomic_file;
pub mod checkpoint;
pub mod error;
pub mod init;
pub mod layers;
pub mod learned;
pub mod loss;
pub mod models;
pub mod module;
pub mod optim;
pub mod params;
mod safetensors_write;

pub use checkpoint::Checkpoint;
pub use error::NnError;
pub use init::Init;
pub use loss::{accuracy, bce_with_logits, cross_entropy, huber, kl_div, l1, l2_penalty, mse, nll};
pub use models::{conv_net, mlp, Activation, Downsample};
pub use module::{Ctx, Module, ParamSpec, State};
pub use optim::{Adam, Optimizer, Sgd};
pub use params::Params;
