//! `autograd`: reverse-mode automatic differentiation to any order.
//!
//! A [`Var`] is a tensor plus the node that made it. Operations on `Var`s record nodes;
//! [`grad`] walks them backwards. Every backward rule is written with `Var` operations, so
//! with `create_graph` the backward pass is recorded too and can be differentiated again —
//! which is all that Meta-SGD and MAML need to differentiate through an inner gradient step.
//!
//! Read the files in this order:
//! 1. [`var`] — `Var`, leaves and constants, how a graph is held and freed.
//! 2. [`primitive`] — the contract of a differentiable operation.
//! 3. [`ops`] — the primitives, each forward pass beside its backward rule, then the
//!    composites built from them.
//! 4. [`engine`] — the reverse sweep: `grad`, `grad_with`, `backward`.
//! 5. [`mode`] — `no_grad`; [`functional`] — `vjp`, `jvp`, `hvp`.
//! 6. [`check`] — `gradcheck`, `gradgradcheck`, `check_grads` of any order.
//! 7. [`anomaly`] — anomaly mode: the op where a NaN or an infinity starts.
//!
//! The two chapters below (`docs/02-autograd.md`, `docs/03-higher-order.md`) explain how it
//! works, with examples that run as tests.
#![doc = include_str!("../../../docs/02-autograd.md")]
#![doc = include_str!("../../../docs/03-higher-order.md")]

pub mod anomaly;
pub mod check;
pub mod engine;
pub mod functional;
pub mod mode;
pub mod ops;
pub mod primitive;
pub mod var;

pub use check::{check_grads, gradcheck, gradcheck_with, gradgradcheck, CheckError, CheckOptions};
pub use engine::{grad, grad_with, GradError, GradOptions, Unused};
pub use functional::{hvp, jvp, vjp};
pub use mode::{is_grad_enabled, no_grad, with_grad_mode};
pub use ops::conv_grouped::ConvGrouping;
pub use primitive::{Grads, Primitive};
pub use var::{Var, WeakVar};
