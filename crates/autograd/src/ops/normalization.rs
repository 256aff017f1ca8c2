//! Layer norm and group norm: normalisations by per-sample statistics, which MAML variants
//! without batch norm use (each task's data is then normalised on its own, whatever the
//! batch holds). Both are composites of `mean`, `sub`, `square`, `powf` and `mul`, so their
//! derivatives of every order — the double backward a meta-gradient takes through an inner
//! step included — come from those primitives.
//!
//! For the `n` entries normalised together, with mean `μ`, biased variance `σ²` and
//! `s = 1/√(σ² + ε)`, `x̂ = (x − μ)·s` has the VJP `s·(g − mean(g) − x̂·mean(x̂ ⊙ g))`, which
//! is what the composite's backward pass amounts to.

use crate::var::Var;

/// `(x − μ) / √(σ² + ε)` over `axes`, with `μ` and the biased `σ²` taken over them.
fn standardize(x: &Var, axes: &[isize], eps: f64) -> Var {
    let centred = x - &x.mean(axes, true);
    let inv_std = centred.square().mean(axes, true).add_scalar(eps).powf(-0.5);
    &centred * &inv_std
}

/// `x̂ ⊙ weight + bias`, either optional.
fn affine(x_hat: Var, weight: Option<&Var>, bias: Option<&Var>) -> Var {
    let scaled = match weight {
        Some(w) => &x_hat * w,
        None => x_hat,
    };
    match bias {
        Some(b) => &scaled + b,
        None => scaled,
    }
}

impl Var {
    /// Layer normalisation: each sample normalised over its trailing axes
    /// `normalized_shape` by its own mean and biased variance, then scaled by `weight` and
    /// shifted by `bias` (each of shape `normalized_shape`, optional), as PyTorch's
    /// `layer_norm`.
    ///
    /// ```
    /// use autograd::Var;
    /// use tensor::Tensor;
    /// let x = Var::leaf(Tensor::from_vec(vec![1.0f64, 3.0, -2.0, 2.0], &[2, 2])?);
    /// // Each row becomes (−1, 1) (up to ε).
    /// let y = x.layer_norm(&[2], None, None, 0.0);
    /// assert_eq!(y.value().to_vec::<f64>(), [-1.0, 1.0, -1.0, 1.0]);
    /// # Ok::<(), tensor::TensorError>(())
    /// ```
    ///
    /// # Panics
    /// If `normalized_shape` is not the input's trailing shape, or `weight` or `bias` is not
    /// of `normalized_shape` (the message names the shapes).
    // ∂L/∂x = s·(ĝ − mean(ĝ) − x̂·mean(x̂ ⊙ ĝ)) per sample with ĝ = g ⊙ weight;
    // ∂L/∂weight = Σ over samples of g ⊙ x̂, ∂L/∂bias = Σ over samples of g.
    #[track_caller]
    pub fn layer_norm(
        &self,
        normalized_shape: &[usize],
        weight: Option<&Var>,
        bias: Option<&Var>,
        eps: f64,
    ) -> Var {
        let k = normalized_shape.len();
        assert!(
            k >= 1 && k <= self.ndim() && self.shape()[self.ndim() - k..] == *normalized_shape,
            "layer_norm: input of shape {:?} does not end with normalized shape {:?}",
            self.shape(),
            normalized_shape
        );
        for (what, p) in [("weight", weight), ("bias", bias)] {
            if let Some(p) = p {
                assert_eq!(
                    p.shape(),
                    normalized_shape,
                    "layer_norm: {what} of shape {:?} for normalized shape {:?}",
                    p.shape(),
                    normalized_shape
                );
            }
        }
        let axes: Vec<isize> = (-(k as isize)..0).collect();
        affine(standardize(self, &axes, eps), weight, bias)
    }

    /// Group normalisation of an `[N, C, …]` input: the `C` channels split into `groups`
    /// consecutive groups, each sample's group normalised over its channels and every
    /// spatial position, then a per-channel `weight` and `bias` (each `[C]`, optional), as
    /// PyTorch's `group_norm`. One group is layer norm over `[C, …]`; `C` groups is
    /// instance norm.
    ///
    /// # Panics
    /// If the input has fewer than 2 axes, `groups` does not divide `C`, or `weight` or
    /// `bias` is not `[C]`.
    // As layer norm's, per sample and group: ∂L/∂x = s·(ĝ − mean(ĝ) − x̂·mean(x̂ ⊙ ĝ)) with
    // ĝ = g ⊙ weight and the means over the group; ∂L/∂weight, ∂L/∂bias: g ⊙ x̂, g summed
    // over everything but the channel axis.
    #[track_caller]
    pub fn group_norm(
        &self,
        groups: usize,
        weight: Option<&Var>,
        bias: Option<&Var>,
        eps: f64,
    ) -> Var {
        assert!(
            self.ndim() >= 2 && groups > 0 && self.shape()[1].is_multiple_of(groups),
            "group_norm: {groups} groups for an input of shape {:?} (expected [N, C, …] with \
             C a multiple of the groups)",
            self.shape()
        );
        let (n, c) = (self.shape()[0], self.shape()[1]);
        let per_group = self.numel() / (n * groups).max(1);
        let x_hat =
            standardize(&self.reshape(&[n, groups, per_group]), &[-1], eps).reshape(self.shape());
        // [C] → [C, 1, …]: broadcast over the spatial axes (and, from the left, the batch).
        let mut channel_shape = vec![1; self.ndim() - 1];
        channel_shape[0] = c;
        let per_channel = |what: &str, p: Option<&Var>| {
            p.map(|p| {
                assert_eq!(
                    p.shape(),
                    [c],
                    "group_norm: {what} of shape {:?} for {c} channels",
                    p.shape()
                );
                p.reshape(&channel_shape)
            })
        };
        let (weight, bias) = (per_channel("weight", weight), per_channel("bias", bias));
        affine(x_hat, weight.as_ref(), bias.as_ref())
    }
}
