//! Matrix multiplication, batched over leading axes.

use smallvec::smallvec;

use crate::primitive::{when, Grads, Primitive};
use crate::var::Var;

impl Var {
    /// `[…, m, k] × […, k, n] → […, m, n]`, batch axes broadcast.
    ///
    /// # Panics
    /// On mismatched inner dimensions, batch axes that do not broadcast, or fewer than two
    /// axes; the message names both shapes, e.g.
    /// `matmul: [3, 4] × [5, 2]: inner dimensions 4 and 5 differ`.
    pub fn matmul(&self, other: &Var) -> Var {
        Var::record(self.value().matmul(other.value()), MatMul, &[self, other])
    }
}

struct MatMul;
impl Primitive for MatMul {
    fn name(&self) -> &'static str {
        "matmul"
    }
    // Y = A·B  ⇒  ∂L/∂A = G·Bᵀ, ∂L/∂B = Aᵀ·G. The transposes are views. If A or B was
    // broadcast over batch axes, the engine sums these over them.
    //
    // Each gradient is made in its input's memory order. For an input that is a transposed
    // view (a weight used as `w.t()`) the same numbers are computed as a transpose,
    // ∂L/∂B = (Gᵀ·A)ᵀ (and ∂L/∂A = (B·Gᵀ)ᵀ): then the transpose in `permute`'s rule hands `w` a row-major
    // gradient, and whatever is done with it next (an optimiser step, the squares and sums
    // of a second-order objective) runs on unit strides instead of striding across rows.
    fn vjp(&self, x: &[Var], _: &Var, g: &Var, needs: &[bool]) -> Grads {
        let (a, b) = (&x[0], &x[1]);
        smallvec![
            when(needs[0], || if is_transposed(a) {
                b.matmul(&g.t()).t()
            } else {
                g.matmul(&b.t())
            }),
            when(needs[1], || if is_transposed(b) {
                g.t().matmul(a).t()
            } else {
                a.t().matmul(g)
            }),
        ]
    }
}

/// True if the matrices of `x` are stored column by column: a transposed view.
fn is_transposed(x: &Var) -> bool {
    let (value, n) = (x.value(), x.ndim());
    !value.is_contiguous() && value.strides()[n - 2] == 1
}
