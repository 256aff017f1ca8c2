//! Dilated and grouped convolution and adaptive average pooling, as composites over the
//! convolution family and `matmul`: their derivatives of every order come from `conv2d`,
//! its two adjoints, and the movement primitives.
//!
//! - Dilation spreads the kernel's taps `d` apart: the kernel is dilated first (each tap
//!   followed by `d − 1` zeros: an `unsqueeze`, a `pad`, a `reshape` and a `narrow`), then
//!   convolved as usual. Its gradient comes back through the same moves in reverse, so the
//!   inserted zeros never receive any.
//! - Groups split the channels: group `k` of the input is convolved with group `k` of the
//!   output channels' kernels (a `narrow` of each), and the results are concatenated.
//!   `groups = C` with one kernel per channel is a depthwise convolution.
//! - Adaptive average pooling to `(oh, ow)` averages PyTorch's bins (row `i` covers
//!   `⌊i·H/oh⌋ .. ⌈(i+1)·H/oh⌉`), which is the linear map `y = P_h · x · P_wᵀ` with constant
//!   averaging matrices: two broadcast matmuls.

use tensor::conv::Conv2dParams;
use tensor::Tensor;

use crate::var::Var;

/// Dilation and groups of [`Var::conv2d_grouped`], beside `Conv2dParams`' stride and
/// padding.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConvGrouping {
    /// Spacing of the kernel's taps `(along H, along W)`; 1 is an ordinary convolution.
    pub dilation: (usize, usize),
    /// Number of channel groups; must divide both the input and the output channels.
    pub groups: usize,
}

impl Default for ConvGrouping {
    /// No dilation, one group: an ordinary convolution.
    fn default() -> Self {
        ConvGrouping {
            dilation: (1, 1),
            groups: 1,
        }
    }
}

impl Var {
    /// A kernel `[O, C, kh, kw]` with its taps spread `dilation` apart:
    /// `[O, C, (kh − 1)·dh + 1, (kw − 1)·dw + 1]`, zeros between the taps.
    #[track_caller]
    fn dilate_kernel(&self, (dh, dw): (usize, usize)) -> Var {
        if (dh, dw) == (1, 1) {
            return self.clone();
        }
        let s = self.shape();
        let (o, c, kh, kw) = (s[0], s[1], s[2], s[3]);
        // [O, C, kh, 1, kw, 1] padded to [O, C, kh, dh, kw, dw]: each tap then d − 1 zeros.
        let spread = self
            .reshape(&[o, c, kh, 1, kw, 1])
            .pad(&[(0, 0), (0, 0), (0, 0), (0, dh - 1), (0, 0), (0, dw - 1)])
            .reshape(&[o, c, kh * dh, kw * dw]);
        // The zeros after the last tap are not part of the kernel.
        spread
            .narrow(2, 0, (kh - 1) * dh + 1)
            .narrow(3, 0, (kw - 1) * dw + 1)
    }

    /// 2-d convolution with dilation and channel groups, as PyTorch's `conv2d`: input
    /// `[N, C, H, W]`, weight `[O, C/groups, kh, kw]` → `[N, O, H', W']`.
    ///
    /// ```
    /// use autograd::{ops::conv_grouped::ConvGrouping, Var};
    /// use tensor::{conv::Conv2dParams, Tensor};
    /// // Depthwise: two channels, each with its own 1×2 kernel, taps 2 apart.
    /// let x = Var::leaf(Tensor::from_vec((0..8).map(f64::from).collect(), &[1, 2, 1, 4])?);
    /// let w = Var::leaf(Tensor::from_vec(vec![1.0f64, 1.0, 1.0, -1.0], &[2, 1, 1, 2])?);
    /// let grouping = ConvGrouping { dilation: (1, 2), groups: 2 };
    /// let y = x.conv2d_grouped(&w, Conv2dParams::default(), grouping);
    /// // Channel 0: x0 + x2, x1 + x3; channel 1: x4 − x6, x5 − x7.
    /// assert_eq!(y.value().to_vec::<f64>(), [2.0, 4.0, -2.0, -2.0]);
    /// # Ok::<(), tensor::TensorError>(())
    /// ```
    ///
    /// # Panics
    /// If an operand is not 4-d, `groups` or a dilation is 0, `groups` does not divide the
    /// input and output channels, the weight's channels are not `C/groups`, or the sizes do
    /// not fit (as [`Var::conv2d`]); the message names the op and the shapes.
    // Bilinear: ∂L/∂x = conv2d_input_grad(g, dilated w) per group, and ∂L/∂w the weight
    // gradient per group with the taps between the dilated ones dropped (narrow ↔ pad).
    // NOTE: each group is its own convolution, so a depthwise convolution of many channels
    // makes many small ones; a native grouped kernel would be faster there.
    #[track_caller]
    pub fn conv2d_grouped(&self, weight: &Var, p: Conv2dParams, grouping: ConvGrouping) -> Var {
        let ConvGrouping { dilation, groups } = grouping;
        let (x, w) = (self.shape(), weight.shape());
        let fits = x.len() == 4
            && w.len() == 4
            && groups > 0
            && dilation.0 > 0
            && dilation.1 > 0
            && x[1].is_multiple_of(groups)
            && w[0].is_multiple_of(groups)
            && w[1] * groups == x[1];
        assert!(
            fits,
            "conv2d_grouped: input {x:?} and weight {w:?} with {groups} groups and dilation \
             {dilation:?}: expected input [N, C, H, W] and weight [O, C/groups, kh, kw] with \
             groups dividing C and O, and dilations of at least 1"
        );
        let kernel = weight.dilate_kernel(dilation);
        if groups == 1 {
            return self.conv2d(&kernel, p);
        }
        let (per_in, per_out) = (x[1] / groups, w[0] / groups);
        let parts: Vec<Var> = (0..groups)
            .map(|k| {
                let input = self.narrow(1, k * per_in, per_in);
                input.conv2d(&kernel.narrow(0, k * per_out, per_out), p)
            })
            .collect();
        Var::concat(&parts.iter().collect::<Vec<_>>(), 1)
    }

    /// Average pooling of `[N, C, H, W]` to `[N, C, oh, ow]` over PyTorch's adaptive bins:
    /// output row `i` averages input rows `⌊i·H/oh⌋ .. ⌈(i+1)·H/oh⌉` (bins overlap when
    /// `oh` does not divide `H`), and likewise for columns.
    // Linear: y = P_h·x·P_wᵀ, so the gradient is P_hᵀ·g·P_w (the matmuls' rules).
    ///
    /// # Panics
    /// If the input is not 4-d or an output size is 0 (the message names the shapes).
    #[track_caller]
    pub fn adaptive_avg_pool2d(&self, (oh, ow): (usize, usize)) -> Var {
        assert!(
            self.ndim() == 4 && oh > 0 && ow > 0,
            "adaptive_avg_pool2d: input {:?} to ({oh}, {ow}): expected [N, C, H, W] and output \
             sizes of at least 1",
            self.shape()
        );
        let (h, w) = (self.shape()[2], self.shape()[3]);
        let rows = Var::constant(averaging_matrix(oh, h).to_dtype(self.dtype()));
        let cols = Var::constant(averaging_matrix(ow, w).to_dtype(self.dtype()));
        // [oh, H] · [N, C, H, W] → [N, C, oh, W];  · [ow, W]ᵀ → [N, C, oh, ow].
        rows.matmul(self).matmul_nt(&cols)
    }
}

/// `[out, size]`: row `i` averages entries `⌊i·size/out⌋ .. ⌈(i+1)·size/out⌉`.
fn averaging_matrix(out: usize, size: usize) -> Tensor {
    let mut m = vec![0.0; out * size];
    for i in 0..out {
        let start = i * size / out;
        let end = ((i + 1) * size).div_ceil(out);
        for j in start..end {
            m[i * size + j] = 1.0 / (end - start) as f64;
        }
    }
    Tensor::from_vec(m, &[out, size]).expect("out × size entries")
}
