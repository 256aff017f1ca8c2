//! The primitives, by family. In every file each primitive appears once: its `Var` method
//! (the forward pass: a `tensor` kernel plus [`Var::record`](crate::Var)) directly above its
//! backward rule ([`Primitive::vjp`](crate::Primitive::vjp)), with the derivative in a comment.
//!
//! | family | primitives |
//! |---|---|
//! | [`unary`] | neg, exp, log, sin, cos, tanh, sigmoid, relu, powf, add_scalar, mul_scalar |
//! | [`binary`] | add, sub, mul, div, select (where) |
//! | [`reduce`] | sum |
//! | [`movement`] | reshape, permute, broadcast_to, sum_to, narrow, pad, concat |
//! | [`index`] | take, scatter_add |
//! | [`linalg`] | matmul |
//! | [`conv`] | conv2d, conv2d_input_grad, conv2d_weight_grad, avg_pool2d, avg_pool2d_backward |
//! | [`fused`] | sub_mul (x − a ⊙ b), mul_sum_to (Σ a ⊙ b over broadcast axes), relu_backward — one pass where a composite takes several |
//!
//! Everything else — sub-views, max, max-pool, gather, softmax, log-softmax, and the losses
//! and normalisations in `nn` — is a [`composite`]: written with these, so it needs no
//! backward rule of its own.

pub mod binary;
pub mod composite;
pub mod conv;
pub mod fused;
pub mod index;
pub mod linalg;
pub mod movement;
pub mod norm;
pub mod overload;
pub mod reduce;
pub mod unary;

use smallvec::smallvec;

use crate::primitive::Grads;
use crate::var::Var;

/// The gradient list of a one-input primitive.
pub(crate) fn only(g: Var) -> Grads {
    smallvec![Some(g)]
}
