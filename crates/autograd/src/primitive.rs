//! The contract every primitive operation fulfils.
//!
//! A primitive is an operation the engine knows how to differentiate. Its forward pass is a
//! `Var` method (computing the value with a `tensor` kernel and recording a node); its
//! backward rule is [`Primitive::vjp`], written right below it in the same file.
//!
//! THE rule of this crate: a VJP is written with `Var` operations, never with raw buffers.
//! When the engine runs with `create_graph`, those operations are recorded like any forward
//! pass, so the gradient is itself differentiable, to any order. Without `create_graph` the
//! same code runs under [`no_grad`](crate::no_grad) and records nothing.

use smallvec::SmallVec;

use crate::var::Var;

/// One gradient per input of a node; `None` where the input needs no gradient (a constant,
/// or a branch that leads to no requested input).
/// Inline up to three, as a node's inputs.
pub type Grads = SmallVec<[Option<Var>; 3]>;

/// A differentiable operation.
pub trait Primitive: Send + Sync + 'static {
    /// Short name, for error messages and graph dumps.
    fn name(&self) -> &'static str;

    /// The vector–Jacobian product: given `grad = ∂L/∂output`, return `∂L/∂input_k` for each
    /// input `k` with `needs[k]`.
    ///
    /// `output` is the node's own output `Var`, so rules like `d/dx eˣ = eˣ` reuse it (and,
    /// under `create_graph`, differentiate through it) instead of recomputing. A returned
    /// gradient may have the output's shape where the input was broadcast: the engine sums it
    /// back to the input's shape (broadcasting is undone in that one place).
    fn vjp(&self, inputs: &[Var], output: &Var, grad: &Var, needs: &[bool]) -> Grads;
}

/// `Some(rule())` if `need`, else `None`: keeps VJPs from computing gradients nobody asked for.
pub fn when(need: bool, rule: impl FnOnce() -> Var) -> Option<Var> {
    need.then(rule)
}
