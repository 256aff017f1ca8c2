//! Matrix multiplication, batched over leading axes, with either factor optionally used
//! transposed.
//!
//! `a.matmul_nt(&w)` is `a.matmul(&w.t())` as one node instead of two. Layers multiply by
//! transposed weights (`y = x·Wᵀ`), and every matmul's backward rule multiplies by transposes
//! (`G·Bᵀ`, `Aᵀ·G`); as separate `permute` nodes those transposes were a quarter of the nodes
//! of a second-order meta-step. Folded into the product they cost nothing: the tensor crate's
//! GEMM reads a transposed operand through its strides.

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
    #[track_caller]
    pub fn matmul(&self, other: &Var) -> Var {
        self.matmul_with(other, false, false)
    }

    /// `self · otherᵀ` (the last two axes of `other` swapped): `[…, m, k] × […, n, k] →
    /// […, m, n]`. A linear layer's `x·Wᵀ` with `W` stored `[out, in]`.
    ///
    /// ```
    /// use autograd::Var;
    /// use tensor::Tensor;
    /// let x = Var::leaf(Tensor::from_vec(vec![1.0f64, 2.0], &[1, 2])?);
    /// let w = Var::leaf(Tensor::from_vec(vec![1.0f64, 0.0, 3.0, 4.0, 5.0, 6.0], &[3, 2])?);
    /// assert_eq!(x.matmul_nt(&w).value().to_vec::<f64>(), [1.0, 11.0, 17.0]);
    /// # Ok::<(), tensor::TensorError>(())
    /// ```
    ///
    /// # Panics
    /// As [`Var::matmul`]; the message gives the shapes as multiplied (after transposing).
    #[track_caller]
    pub fn matmul_nt(&self, other: &Var) -> Var {
        self.matmul_with(other, false, true)
    }

    /// `selfᵀ · other`: `[…, k, m] × […, k, n] → […, m, n]`.
    ///
    /// # Panics
    /// As [`Var::matmul`].
    #[track_caller]
    pub fn matmul_tn(&self, other: &Var) -> Var {
        self.matmul_with(other, true, false)
    }

    /// `selfᵀ · otherᵀ`: `[…, k, m] × […, n, k] → […, m, n]`.
    ///
    /// # Panics
    /// As [`Var::matmul`].
    #[track_caller]
    pub fn matmul_tt(&self, other: &Var) -> Var {
        self.matmul_with(other, true, true)
    }

    /// `op(self) · op(other)`, where `op` transposes the last two axes when its flag is set.
    #[track_caller]
    fn matmul_with(&self, other: &Var, ta: bool, tb: bool) -> Var {
        let view = |x: &Var, t: bool| {
            assert!(
                !t || x.ndim() >= 2,
                "matmul: an operand used transposed needs at least 2 axes, got shape {:?}",
                x.shape()
            );
            if t {
                x.value().t()
            } else {
                x.value().clone()
            }
        };
        let value = view(self, ta).matmul(&view(other, tb));
        Var::record(value, MatMul { ta, tb }, &[self, other])
    }
}

// ----- linear: x·Wᵀ + b -----

impl Var {
    /// A linear layer's `x·Wᵀ + b` as one node: `x` `[…, K, in]`, `weight` `[…, out, in]`
    /// (PyTorch's layout), `bias` `[…, out]`, added to every row; batch axes broadcast. With
    /// a leading task axis on `weight` and `bias` this is every task's layer at once.
    ///
    /// The bias is added into the product's buffer, so the forward pass makes no second
    /// tensor, and the graph holds one node where `matmul_nt`, an `unsqueeze` of the bias and
    /// an `add` made three.
    ///
    /// ```
    /// use autograd::Var;
    /// use tensor::Tensor;
    /// let x = Var::leaf(Tensor::from_vec(vec![1.0f64, 2.0], &[1, 2])?);
    /// let w = Var::leaf(Tensor::from_vec(vec![1.0f64, 0.0, 3.0, 4.0], &[2, 2])?);
    /// let b = Var::leaf(Tensor::from_vec(vec![0.5f64, -1.0], &[2])?);
    /// assert_eq!(x.linear(&w, Some(&b)).value().to_vec::<f64>(), [1.5, 10.0]);
    /// # Ok::<(), tensor::TensorError>(())
    /// ```
    ///
    /// # Panics
    /// As [`Var::matmul_nt`], or if the bias is not `[…, out]` (broadcasting against the
    /// product's batch axes); the message names the shapes.
    #[track_caller]
    pub fn linear(&self, weight: &Var, bias: Option<&Var>) -> Var {
        let Some(bias) = bias else {
            return self.matmul_nt(weight);
        };
        let mut value = self.value().matmul(&weight.value().t());
        // [..., out] → [..., 1, out], repeated over the rows of the product.
        let rows = (bias.ndim() >= 1)
            .then(|| bias.value().unsqueeze(-2))
            .and_then(|b| b.try_broadcast_to(value.shape()).ok())
            .unwrap_or_else(|| {
                panic!(
                    "linear: bias of shape {:?} does not fit x {:?} · weight {:?}ᵀ = {:?} \
                 (expected [..., {}])",
                    bias.shape(),
                    self.shape(),
                    weight.shape(),
                    value.shape(),
                    value.shape().last().copied().unwrap_or(0)
                )
            });
        value.add_assign(&rows);
        Var::record(value, Linear, &[self, weight, bias])
    }
}

/// `y = x·Wᵀ + b`.
struct Linear;

impl Primitive for Linear {
    fn name(&self) -> &'static str {
        "linear"
    }
    // ∂L/∂x = G·W, ∂L/∂W = Gᵀ·x (as for matmul_nt), and ∂L/∂b = Σ over the rows of G (each
    // bias entry was added to every row).
    fn vjp(&self, x: &[Var], output: &Var, g: &Var, needs: &[bool]) -> Grads {
        let sums = [x[0].shape(), x[1].shape(), x[2].shape()];
        self.vjp_summed(x, output, g, needs, &sums)
    }
    // A weight and bias shared by a stack of tasks (broadcast over the task axis) have their
    // per-task gradients summed by the engine. Folded in: ∂L/∂W = Σₜ Gₜᵀ·xₜ is one product
    // over the rows of all tasks, and ∂L/∂b one sum over tasks and rows.
    fn vjp_summed(&self, x: &[Var], _: &Var, g: &Var, needs: &[bool], sums: &[&[usize]]) -> Grads {
        let (input, weight) = (&x[0], &x[1]);
        smallvec![
            when(needs[0], || g.matmul(weight)),
            when(needs[1], || {
                summed_over_batch_tn(g, input, sums[1]).unwrap_or_else(|| g.matmul_tn(input))
            }),
            when(needs[2], || match sums[2] {
                // [out]: every axis of G but the last is summed, whatever the batch axes.
                [_] => g.sum_to(sums[2]),
                _ => g.sum(&[-2], false),
            }),
        ]
    }
}

/// `C = op(A)·op(B)`, `op(X)` being `Xᵀ` where the flag is set.
struct MatMul {
    ta: bool,
    tb: bool,
}

impl Primitive for MatMul {
    fn name(&self) -> &'static str {
        match (self.ta, self.tb) {
            (false, false) => "matmul",
            (false, true) => "matmul_nt",
            (true, false) => "matmul_tn",
            (true, true) => "matmul_tt",
        }
    }
    // With G = ∂L/∂C:  ∂L/∂op(A) = G·op(B)ᵀ  and  ∂L/∂op(B) = op(A)ᵀ·G.
    // Where an operand was used transposed, its own gradient is the transpose of that, and
    // (XY)ᵀ = YᵀXᵀ turns it back into a single product:
    //
    //   ∂L/∂A = G·op(B)ᵀ          (ta = false)     ∂L/∂B = op(A)ᵀ·G          (tb = false)
    //   ∂L/∂A = op(B)·Gᵀ          (ta = true)      ∂L/∂B = Gᵀ·op(A)          (tb = true)
    //
    // and op(B)ᵀ, op(A)ᵀ, Gᵀ are flags of the same primitive, never separate nodes. Each
    // gradient comes out of the GEMM row-major in its input's own shape. If A or B was
    // broadcast over batch axes, the engine sums these over them.
    //
    // A plain `matmul` whose operand is a transposed view (`x.matmul(&w.t())`) gets its
    // gradient in the view's memory order, ∂L/∂B = (Gᵀ·A)ᵀ (and ∂L/∂A = (B·Gᵀ)ᵀ): then the
    // transpose in `permute`'s rule hands `w` a row-major gradient, and whatever is done with it
    // next (an optimiser step, a second-order objective) runs on unit strides.
    fn vjp(&self, x: &[Var], output: &Var, g: &Var, needs: &[bool]) -> Grads {
        self.vjp_summed(x, output, g, needs, &[x[0].shape(), x[1].shape()])
    }
    // If B is shared by the batch (a weight broadcast over a task axis) and A is not used
    // transposed, the engine's sum over the batch folds into one product over all rows:
    // Σₜ Aₜᵀ·Gₜ (and Σₜ Gₜᵀ·Aₜ when B is used transposed). ∂L/∂A contracts over columns,
    // which do not merge across the batch, so it is never folded.
    fn vjp_summed(&self, x: &[Var], _: &Var, g: &Var, needs: &[bool], sums: &[&[usize]]) -> Grads {
        let (a, b, ta, tb) = (&x[0], &x[1], self.ta, self.tb);
        let folded_b = || match (ta, tb) {
            (false, false) => summed_over_batch_tn(a, g, sums[1]),
            (false, true) => summed_over_batch_tn(g, a, sums[1]),
            (true, _) => None,
        };
        smallvec![
            when(needs[0], || match (ta, tb) {
                (false, false) if is_transposed(a) => b.matmul_with(g, false, true).t(),
                (false, _) => g.matmul_with(b, false, !tb),
                (true, _) => b.matmul_with(g, tb, true),
            }),
            when(needs[1], || {
                folded_b().unwrap_or_else(|| match (ta, tb) {
                    (false, false) if is_transposed(b) => g.matmul_with(a, true, false).t(),
                    (_, false) => a.matmul_with(g, !ta, false),
                    (_, true) => g.matmul_with(a, true, ta),
                })
            }),
        ]
    }
}

/// `Σ over the batch of pₜᵀ·qₜ`, for `p` `[…, r, i]` and `q` `[…, r, j]` with the same batch
/// axes, as one product `[R, i]ᵀ·[R, j]` over all `R` rows of the batch — if `sum` (the shape
/// the engine will sum the gradient to) is `[i, j]`, so that the batch is summed away, and
/// both are contiguous, so that merging the batch into the rows is a view. Else `None`.
fn summed_over_batch_tn(p: &Var, q: &Var, sum: &[usize]) -> Option<Var> {
    let n = p.ndim();
    let (i, j) = (*p.shape().last()?, *q.shape().last()?);
    let folds = n >= 3
        && q.ndim() == n
        && p.shape()[..n - 1] == q.shape()[..n - 1]
        && sum == [i, j]
        && p.value().is_contiguous()
        && q.value().is_contiguous();
    folds.then(|| {
        let rows = p.numel() / i.max(1);
        p.reshape(&[rows, i]).matmul_tn(&q.reshape(&[rows, j]))
    })
}

/// True if the matrices of `x` are stored column by column: a transposed view.
fn is_transposed(x: &Var) -> bool {
    let (value, n) = (x.value(), x.ndim());
    !value.is_contiguous() && value.strides()[n - 2] == 1
}
