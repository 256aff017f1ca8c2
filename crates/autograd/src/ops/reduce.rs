//! The reduction primitive `sum`, the scan primitive `cumsum`, and the reductions composed
//! from them: mean, prod, var, std, norm.
//!
//! `max` is not here: it picks elements, so it is a `take` (see [`crate::ops::index`]).

use smallvec::SmallVec;
use tensor::reduce::reduced_shape;

use tensor::layout::normalize_axis;
use tensor::Tensor;

use crate::ops::only;
use crate::primitive::{Grads, Primitive};
use crate::var::Var;

// ----- sum -----

impl Var {
    /// Sum over `axes` (negative counts from the end); `keepdim` keeps them as size 1.
    ///
    /// # Panics
    /// On an axis out of range.
    #[track_caller]
    pub fn sum(&self, axes: &[isize], keepdim: bool) -> Var {
        let value = self.value().sum(axes, keepdim);
        // Remember the shape with reduced axes kept, to undo a `keepdim = false`.
        let kept = reduced_shape("sum", self.shape(), axes, true).expect("axes checked by sum");
        Var::record(value, Sum { kept }, &[self])
    }
}

struct Sum {
    kept: SmallVec<[usize; 4]>,
}
impl Primitive for Sum {
    fn name(&self) -> &'static str {
        "sum"
    }
    // ∂(Σᵢ xᵢ)/∂xⱼ = 1: every input element receives the gradient of its sum, i.e. g is
    // broadcast back over the reduced axes.
    fn vjp(&self, x: &[Var], _: &Var, g: &Var, _: &[bool]) -> Grads {
        only(g.reshape(&self.kept).broadcast_to(x[0].shape()))
    }
}

// ----- composites -----

impl Var {
    /// The sum of all elements, as a 0-d `Var`.
    #[track_caller]
    pub fn sum_all(&self) -> Var {
        let axes: SmallVec<[isize; 4]> = (0..self.ndim() as isize).collect();
        self.sum(&axes, false)
    }

    /// Mean over `axes`: the sum divided by the number of elements summed.
    #[track_caller]
    pub fn mean(&self, axes: &[isize], keepdim: bool) -> Var {
        let summed = self.sum(axes, keepdim);
        let count = self.numel() / summed.numel().max(1);
        summed.mul_scalar(1.0 / count as f64)
    }

    /// The mean of all elements, as a 0-d `Var`.
    #[track_caller]
    pub fn mean_all(&self) -> Var {
        self.sum_all().mul_scalar(1.0 / self.numel() as f64)
    }
}

// ----- cumsum -----

impl Var {
    /// Running sums along `axis`: `y[…, i, …] = Σ_{j ≤ i} x[…, j, …]`.
    ///
    /// # Panics
    /// On an axis out of range.
    #[track_caller]
    pub fn cumsum(&self, axis: isize) -> Var {
        let value = self.value().cumsum(axis);
        let axis = normalize_axis("cumsum", axis, self.ndim()).expect("checked by cumsum");
        Var::record(value, Cumsum(axis as isize), &[self])
    }
}

struct Cumsum(isize);
impl Primitive for Cumsum {
    fn name(&self) -> &'static str {
        "cumsum"
    }
    // ∂yᵢ/∂xⱼ = [j ≤ i], so ∂L/∂xⱼ = Σ_{i ≥ j} gᵢ: the running sum of g from the far end,
    // flip(cumsum(flip(g))) (flip is a `take`, so this stays differentiable).
    fn vjp(&self, _: &[Var], _: &Var, g: &Var, _: &[bool]) -> Grads {
        let axis = [self.0];
        only(g.flip(&axis).cumsum(self.0).flip(&axis))
    }
}

// ----- prod, var, std, norm (composites) -----

/// The axes of a `shape.len()`-axis tensor named by `axes`, resolved, sorted, each once.
/// A loop, not a closure, so that a bad axis is reported at the caller's line.
#[track_caller]
fn resolve_axes(op: &'static str, axes: &[isize], ndim: usize) -> Vec<usize> {
    let mut resolved = Vec::with_capacity(axes.len());
    for &a in axes {
        resolved.push(tensor::view::or_panic(normalize_axis(op, a, ndim)));
    }
    resolved.sort_unstable();
    resolved.dedup();
    resolved
}

impl Var {
    /// The product over `axes` (negative counts from the end); `keepdim` keeps them as size 1.
    // ∂/∂xᵢ Πⱼ xⱼ = Πⱼ≠ᵢ xⱼ. Multiplying in a balanced tree of `mul`s (halves of the reduced
    // axis, then halves of those) gives every order of derivative exactly, zeros included,
    // where the textbook rule Π/xᵢ divides by zero; and it is log₂(n) nodes deep.
    ///
    /// # Panics
    /// On an axis out of range.
    #[track_caller]
    pub fn prod(&self, axes: &[isize], keepdim: bool) -> Var {
        let reduced = resolve_axes("prod", axes, self.ndim());
        let out_shape = tensor::view::or_panic(reduced_shape("prod", self.shape(), axes, keepdim));
        let n: usize = reduced.iter().map(|&a| self.shape()[a]).product();
        if n == 0 {
            // The empty product is 1.
            return self.sum(axes, keepdim).mul_scalar(0.0).add_scalar(1.0);
        }
        // The kept axes first, in order, then the reduced ones merged into one of length n.
        let mut perm: Vec<usize> = (0..self.ndim()).filter(|a| !reduced.contains(a)).collect();
        let mut merged: Vec<usize> = perm.iter().map(|&a| self.shape()[a]).collect();
        perm.extend(&reduced);
        merged.push(n);
        let mut x = self.permute(&perm).reshape(&merged);
        let mut len = n;
        while len > 1 {
            let half = len / 2;
            let mut product = &x.narrow(-1, 0, half) * &x.narrow(-1, half, half);
            if len % 2 == 1 {
                product = Var::concat(&[&product, &x.narrow(-1, 2 * half, 1)], -1);
            }
            x = product;
            len = half + len % 2;
        }
        x.reshape(&out_shape)
    }

    /// The variance over `axes`, `Σ (x − mean)² / (n − correction)`: `correction = 1` is the
    /// unbiased sample variance (Bessel's correction), `0` the population variance.
    // ∂/∂xᵢ = 2(xᵢ − mean) / (n − correction) (the mean's own dependence on x cancels, since
    // the deviations sum to 0).
    // NOTE: with n ≤ correction the divisor is not positive and the result is inf or NaN,
    // as in PyTorch.
    ///
    /// # Panics
    /// On an axis out of range.
    #[track_caller]
    pub fn var(&self, axes: &[isize], correction: usize, keepdim: bool) -> Var {
        let centred = self - &self.mean(axes, true);
        let summed = centred.square().sum(axes, keepdim);
        let n = self.numel() / summed.numel().max(1);
        summed.mul_scalar(1.0 / (n as f64 - correction as f64).max(0.0))
    }

    /// The standard deviation over `axes`, `√var(x, correction)`.
    // ∂/∂xᵢ = (xᵢ − mean) / ((n − correction)·std)
    // NOTE: infinite where every element over the axes is equal (std = 0); add an ε to the
    // variance instead (as the normalisations do) on paths that are differentiated there.
    #[track_caller]
    pub fn std(&self, axes: &[isize], correction: usize, keepdim: bool) -> Var {
        self.var(axes, correction, keepdim).sqrt()
    }

    /// The p-norm over `axes` for `p` = 1 (`Σ |x|`), 2 (`√Σ x²`) or `f64::INFINITY`
    /// (`max |x|`).
    // p = 1: ∂/∂xᵢ = sign xᵢ;  p = 2: xᵢ / ‖x‖;  p = ∞: sign xᵢ at the (first) largest |xᵢ|,
    // 0 elsewhere.
    // NOTE: none of the three is differentiable where its argument is 0 (for p = 1, where any
    // xᵢ is); there the subgradient 0 is used: sign(0) = 0 for p = 1 and ∞, and for p = 2 the
    // norm of an all-zero slice is a constant 0 (its square root is taken of a stand-in 1,
    // so no 0/0 = NaN appears in the gradient of any order).
    ///
    /// # Panics
    /// If `p` is not 1, 2 or ∞, or on an axis out of range.
    #[track_caller]
    pub fn norm(&self, p: f64, axes: &[isize], keepdim: bool) -> Var {
        if p == 1.0 {
            self.abs().sum(axes, keepdim)
        } else if p == 2.0 {
            let squares = self.square().sum(axes, keepdim);
            let positive = squares
                .value()
                .gt_mask(&Tensor::scalar_of(0.0, self.dtype()));
            let one = Var::scalar(1.0, self.dtype());
            let root = Var::select(&positive, &squares, &one).sqrt();
            Var::select(&positive, &root, &Var::scalar(0.0, self.dtype()))
        } else if p == f64::INFINITY {
            self.abs().max(axes, keepdim)
        } else {
            panic!(
                "norm: p must be 1, 2 or infinity, got {p} (input shape {:?})",
                self.shape()
            );
        }
    }
}
