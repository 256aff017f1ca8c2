//! The primitives, by family. In every file each primitive appears once: its `Var` method
//! (the forward pass: a `tensor` kernel plus [`Var::record`](crate::Var)) directly above its
//! backward rule ([`Primitive::vjp`](crate::Primitive::vjp)), with the derivative in a comment.
//!
//! Every primitive, with the rule its VJP applies to `g = ∂L/∂y` (inputs `x`, `a`, `b`, output
//! `y`). Each rule is written with the primitives of this table, so it can be differentiated
//! again. The property suite checks that every name here is exercised by its table and that
//! every node it records is named here (`tests/property/coverage.rs`).
//!
//! | primitive | family | VJP |
//! |---|---|---|
//! | `neg` | [`unary`] | −g |
//! | `exp` | [`unary`] | g·y |
//! | `log` | [`unary`] | g/x |
//! | `sin` | [`unary`] | g·cos x |
//! | `cos` | [`unary`] | −g·sin x |
//! | `tanh` | [`unary`] | tanh_backward(g, y) = g·(1 − y²) |
//! | `sigmoid` | [`unary`] | sigmoid_backward(g, y) = g·y·(1 − y) |
//! | `relu` | [`unary`] | relu_backward(g, x) = g·𝟙(x > 0) |
//! | `powf` | [`unary`] | g·p·xᵖ⁻¹ |
//! | `add_scalar` | [`unary`] | g |
//! | `mul_scalar` | [`unary`] | c·g |
//! | `log1p` | [`special`] | g/(1 + x) |
//! | `expm1` | [`special`] | g·(y + 1) |
//! | `softplus` | [`special`] | g·σ(x) |
//! | `erf` | [`special`] | g·(2/√π)·e^{−x²} |
//! | `add` | [`binary`] | g, g (each summed to its input's shape by the engine) |
//! | `sub` | [`binary`] | g, −g |
//! | `mul` | [`binary`] | g·b, g·a |
//! | `div` | [`binary`] | g/b, −g·y/b |
//! | `select` | [`binary`] | select(mask, g, 0), select(mask, 0, g) |
//! | `sum` | [`reduce`] | g broadcast back over the summed axes |
//! | `cumsum` | [`reduce`] | flip(cumsum(flip(g))): running sums of g from the far end |
//! | `reshape` | [`movement`] | g reshaped back (also unsqueeze, squeeze, flatten) |
//! | `permute` | [`movement`] | g permuted by the inverse permutation |
//! | `broadcast_to` | [`movement`] | g (the engine sums it to the input's shape) |
//! | `sum_to` | [`movement`] | broadcast_to(g) |
//! | `narrow` | [`movement`] | pad(g) with the cut-away sizes |
//! | `pad` | [`movement`] | narrow(g) to the original elements |
//! | `concat` | [`movement`] | one narrow(g) per input |
//! | `take` | [`index`] | scatter_add(g) at the same indices |
//! | `scatter_add` | [`index`] | take(g) at the same indices |
//! | `matmul` | [`linalg`] | G·Bᵀ, Aᵀ·G (as matmul_nt, matmul_tn) |
//! | `matmul_nt` | [`linalg`] | G·B, Gᵀ·A (y = A·Bᵀ) |
//! | `matmul_tn` | [`linalg`] | B·Gᵀ, A·G (y = Aᵀ·B) |
//! | `matmul_tt` | [`linalg`] | Bᵀ·Gᵀ, Gᵀ·Aᵀ (y = Aᵀ·Bᵀ), each one product with flags |
//! | `linear` | [`linalg`] | G·W, Gᵀ·x, G summed over its rows (y = x·Wᵀ + b) |
//! | `conv2d` | [`conv`] | conv2d_input_grad(g, w), conv2d_weight_grad(g, x) |
//! | `conv2d_input_grad` | [`conv`] | conv2d(g, w), conv2d_weight_grad(h, g) |
//! | `conv2d_weight_grad` | [`conv`] | conv2d(x, g), conv2d_input_grad(h, g) |
//! | `avg_pool2d` | [`conv`] | avg_pool2d_backward(g) |
//! | `avg_pool2d_backward` | [`conv`] | avg_pool2d(g) |
//! | `normalize_channels` | [`norm`] | normalize_channels_grad(x, g) = s·P(g) |
//! | `normalize_channels_grad` | [`norm`] | normalize_channels_grad(x, a) in g; a composite of both in x |
//! | `sub_mul` | [`fused`] | g, sub_mul(0, g, b), sub_mul(0, g, a) (y = x − a·b) |
//! | `mul_sum_to` | [`fused`] | g·b, g·a at the product's shape |
//! | `relu_backward` | [`fused`] | relu_backward(g, x) |
//! | `sigmoid_backward` | [`fused`] | sigmoid_backward(ḡ, y), ḡ·g·(1 − 2y) (out = g·y·(1 − y)) |
//! | `tanh_backward` | [`fused`] | tanh_backward(ḡ, y), −2·ḡ·g·y (out = g·(1 − y²)) |
//!
//! Everything else is a composite, written with these and needing no backward rule of its
//! own: sub-views, `max`, `max_pool2d`, `gather` (takes); `softmax`, `log_softmax`,
//! `logsumexp`, `sqrt`, `abs`, `clamp`, `clamp_between`, `maximum`, `leaky_relu` and the
//! masks `where_mask`, `masked_fill` ([`composite`]); `silu`, `elu`, `gelu`, `gelu_tanh`
//! ([`activation`]); `mean`, `prod`, `var`, `std`, `norm` ([`reduce`]); `flip`, `roll`,
//! `repeat` ([`rearrange`]); `layer_norm`, `group_norm` ([`normalization`]);
//! `conv2d_grouped` (dilation, groups) and `adaptive_avg_pool2d` ([`conv_grouped`]); and the
//! losses and layers of `nn`.

pub mod activation;
pub mod binary;
pub mod composite;
pub mod conv;
pub mod conv_grouped;
pub mod fused;
pub mod index;
pub mod linalg;
pub mod movement;
pub mod norm;
pub mod normalization;
pub mod overload;
pub mod rearrange;
pub mod reduce;
pub mod special;
pub mod unary;

use smallvec::smallvec;

use crate::primitive::Grads;
use crate::var::Var;

/// The gradient list of a one-input primitive.
pub(crate) fn only(g: Var) -> Grads {
    smallvec![Some(g)]
}
