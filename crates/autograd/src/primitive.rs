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
use tensor::Tensor;

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

    /// [`Primitive::vjp`], told that the engine will sum the gradient of input `k` down to
    /// `sums[k]` (a shape that broadcasts to the input's). Usually `sums[k]` is the input's
    /// own shape; it is smaller where the input is a broadcast the engine looks through (a
    /// θ shared by a stack of tasks: see `engine`).
    ///
    /// A rule may fold that sum into its own arithmetic and return a gradient of shape
    /// `sums[k]`: for a batched product whose weight is shared, `Σₜ Gₜᵀ·Xₜ` is one GEMM over
    /// all the batch's rows, where the unfolded rule makes a product per batch entry and a
    /// sum of the results. The default ignores the hint.
    fn vjp_summed(
        &self,
        inputs: &[Var],
        output: &Var,
        grad: &Var,
        needs: &[bool],
        sums: &[&[usize]],
    ) -> Grads {
        let _ = sums;
        self.vjp(inputs, output, grad, needs)
    }

    /// A shortcut for plain gradients (nothing recorded): add this node's VJP for its one
    /// input straight into `sum`, the gradient that input has received so far, and return
    /// `true`; or return `false`, with `sum` untouched, and the engine calls
    /// [`Primitive::vjp`] and adds its result. A rule whose VJP is mostly zeros (the gradient
    /// of a slice is the slice's gradient padded with zeros) adds only the part that is not,
    /// instead of building the padded tensor and adding all of it. The values must be those
    /// of `sum + vjp(..)`; recorded sweeps always take `vjp`, so the rule of this crate holds
    /// for every gradient that is itself differentiated. The default has no shortcut.
    fn add_vjp_into(&self, sum: &mut Tensor, grad: &Tensor) -> bool {
        let _ = (sum, grad);
        false
    }

    /// True for a pure broadcast: an operation whose VJP is its gradient summed back to its
    /// input's shape. Unless such a node is itself a requested input, the engine sends
    /// gradients straight through it to its input, each summed on the way, instead of
    /// accumulating them at the broadcast shape and summing once.
    fn is_broadcast(&self) -> bool {
        false
    }
}

/// `Some(rule())` if `need`, else `None`: keeps VJPs from computing gradients nobody asked for.
pub fn when(need: bool, rule: impl FnOnce() -> Var) -> Option<Var> {
    need.then(rule)
}
