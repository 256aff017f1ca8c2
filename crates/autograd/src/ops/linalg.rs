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
    fn vjp(&self, x: &[Var], _: &Var, g: &Var, needs: &[bool]) -> Grads {
        let (a, b) = (&x[0], &x[1]);
        smallvec![
            when(needs[0], || g.matmul(&b.t())),
            when(needs[1], || a.t().matmul(g)),
        ]
    }
}
