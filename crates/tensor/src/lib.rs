//! `tensor`: strided n-d arrays of `f32` and `f64`, and the CPU kernels everything else in
//! the workspace runs on. No autodiff here; see the `autograd` crate for that.
//!
//! Read the files in this order:
//! 1. [`element`] — the two element types behind one trait, and run-time dispatch.
//! 2. [`storage`], [`layout`] — a flat buffer, and shape/strides/offset over it.
//! 3. [`tensor`](crate::tensor) — the `Tensor` type; [`create`] — constructors.
//! 4. [`view`] — reshape, permute, broadcast, narrow: no copies.
//! 5. [`walk`] — how kernels step through strided operands.
//! 6. [`unary`], [`binary`], [`reduce`] — element-wise ops and reductions; [`vmath`] — the
//!    vectorised `f32` exp, ln, tanh and sigmoid the unary ops use.
//! 7. [`matmul`] — packed GEMM with a SIMD micro-kernel.
//! 8. [`conv`], [`pool`], [`index`] — convolution, pooling, gather/scatter.
//!
//! The chapter below (from `docs/01-tensors.md`) explains strides, broadcasting and the GEMM.
#![doc = include_str!("../../../docs/01-tensors.md")]

pub mod binary;
pub mod buffer;
pub mod conv;
pub mod create;
pub mod display;
pub mod element;
pub mod error;
pub mod index;
pub mod layout;
pub mod matmul;
pub mod norm;
pub mod ops;
pub mod parallel;
pub mod pool;
pub mod reduce;
pub mod scan;
pub mod special;
pub mod storage;
pub mod tensor;
pub mod ternary;
pub mod unary;
pub mod view;
pub mod vmath;
pub mod walk;

pub use binary::BinaryOp;
pub use conv::Conv2dParams;
pub use element::{DType, Element};
pub use error::{Result, TensorError};
pub use layout::{Layout, Shape};
pub use rand;
pub use storage::Storage;
pub use tensor::Tensor;
