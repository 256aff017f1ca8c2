//! 2-d convolution (NCHW, one group, zero padding, no bias) and its two adjoints.
//!
//! With input `x: [N, C, H, W]`, weight `w: [O, C, kh, kw]`, stride `s` and padding `p`
//! (per axis), the output `y: [N, O, Ho, Wo]` is
//!
//! ```text
//! y[n, o, i, j] = Σ_{c, u, v} x[n, c, i·s_h + u − p_h, j·s_w + v − p_w] · w[o, c, u, v]
//! Ho = ⌊(H + 2·p_h − kh) / s_h⌋ + 1        (x is zero outside [0, H) × [0, W))
//! ```
//!
//! `y` is linear in `x` and in `w` separately, so each has an adjoint (a transpose), defined
//! by `⟨conv2d(x, w), g⟩ = ⟨x, conv2d_input_grad(g, w)⟩ = ⟨w, conv2d_weight_grad(g, x)⟩`:
//!
//! | op | result | vector–Jacobian products (cotangent `a` of the result) |
//! |---|---|---|
//! | `conv2d(x, w)` | `[N, O, Ho, Wo]` | `x̄ = conv2d_input_grad(a, w)`, `w̄ = conv2d_weight_grad(a, x)` |
//! | `conv2d_input_grad(g, w)` | `[N, C, H, W]` | `ḡ = conv2d(a, w)`, `w̄ = conv2d_weight_grad(g, a)` |
//! | `conv2d_weight_grad(g, x)` | `[O, C, kh, kw]` | `ḡ = conv2d(x, a)`, `x̄ = conv2d_input_grad(g, a)` |
//!
//! So the three ops are closed under differentiation: an autodiff engine can make each a
//! primitive whose backward is again these ops, to any order. (Each row follows from the
//! identity above: e.g. `⟨conv2d_input_grad(g, w), a⟩ = ⟨conv2d(a, w), g⟩`, which is linear
//! in `g` with adjoint `conv2d(a, w)` and linear in `w` with adjoint
//! `conv2d_weight_grad(g, a)`.)
//!
//! The two adjoints need the size the third operand had: `conv2d_input_grad` the input's
//! `H, W` (with stride > 1, several input sizes give the same output size: the last rows and
//! columns that no window reaches get zero gradient), `conv2d_weight_grad` the kernel's.
//!
//! All three are computed as im2col + GEMM: see [`im2col`] for the lowering and
//! [`lowering`] for how images are batched into GEMMs and spread over threads. Inputs with
//! many channels build their patches channels-last instead ([`channels_last`]), as block
//! copies rather than element lookups.

pub mod channels_last;
pub mod im2col;
pub mod lowering;

use crate::error::{fmt_shape, Result, TensorError};
use crate::tensor::Tensor;
use crate::view::or_panic;
use crate::with_dtype;

/// Stride and zero padding of a convolution, per axis as `(height, width)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Conv2dParams {
    pub stride: (usize, usize),
    pub padding: (usize, usize),
}

impl Conv2dParams {
    /// The same `stride` and `padding` along both axes.
    ///
    /// ```
    /// use tensor::conv::Conv2dParams;
    /// let p = Conv2dParams::new(2, 1);
    /// assert_eq!((p.stride, p.padding), ((2, 2), (1, 1)));
    /// assert_eq!(Conv2dParams::default(), Conv2dParams::new(1, 0));
    /// ```
    #[track_caller]
    pub fn new(stride: usize, padding: usize) -> Self {
        Conv2dParams {
            stride: (stride, stride),
            padding: (padding, padding),
        }
    }
}

impl Default for Conv2dParams {
    /// Stride 1, no padding.
    fn default() -> Self {
        Conv2dParams::new(1, 0)
    }
}

/// Every size a convolution kernel needs, checked against each other.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Geometry {
    pub batch: usize,
    pub in_channels: usize,
    pub out_channels: usize,
    pub in_hw: (usize, usize),
    pub kernel_hw: (usize, usize),
    pub out_hw: (usize, usize),
    pub stride: (usize, usize),
    pub padding: (usize, usize),
}

impl Geometry {
    /// Rows of the im2col matrix: one per weight of an output channel, `C·kh·kw`.
    #[track_caller]
    pub fn patch_len(&self) -> usize {
        self.in_channels * self.kernel_hw.0 * self.kernel_hw.1
    }

    /// Output positions per image, `Ho·Wo`.
    #[track_caller]
    pub fn out_plane(&self) -> usize {
        self.out_hw.0 * self.out_hw.1
    }

    #[track_caller]
    pub fn in_plane(&self) -> usize {
        self.in_hw.0 * self.in_hw.1
    }
}

/// The output size of a sliding window: `⌊(size + 2·padding − kernel) / stride⌋ + 1`.
///
/// Checks what makes that formula meaningful, with errors for `op` that start with
/// `operands` (how the caller names its arguments): a stride and kernel of at least 1, and a
/// kernel no larger than the padded input.
pub(crate) fn window_output_hw(
    op: &'static str,
    operands: &dyn Fn() -> String,
    in_hw: (usize, usize),
    kernel_hw: (usize, usize),
    stride: (usize, usize),
    padding: (usize, usize),
) -> Result<(usize, usize)> {
    let fail = |what: String| Err(TensorError::shape(op, format!("{}: {what}", operands())));
    if stride.0 == 0 || stride.1 == 0 {
        return fail(format!("stride must be at least 1, got {stride:?}"));
    }
    if kernel_hw.0 == 0 || kernel_hw.1 == 0 {
        return fail(format!("kernel must be at least 1×1, got {kernel_hw:?}"));
    }
    let padded = (in_hw.0 + 2 * padding.0, in_hw.1 + 2 * padding.1);
    if kernel_hw.0 > padded.0 || kernel_hw.1 > padded.1 {
        return fail(format!(
            "kernel {}×{} is larger than the padded input {}×{}",
            kernel_hw.0, kernel_hw.1, padded.0, padded.1
        ));
    }
    Ok((
        (padded.0 - kernel_hw.0) / stride.0 + 1,
        (padded.1 - kernel_hw.1) / stride.1 + 1,
    ))
}

/// The 4 sizes of a shape that must be 4-d, or an error naming `what` and its layout.
pub(crate) fn dims4(
    op: &'static str,
    operands: &dyn Fn() -> String,
    what: &str,
    layout: &str,
    shape: &[usize],
) -> Result<[usize; 4]> {
    <[usize; 4]>::try_from(shape)
        .map_err(|_| TensorError::shape(op, format!("{}: {what} must be 4-d {layout}", operands())))
}

/// Checks an input and weight shape pair (`[N, C, H, W]`, `[O, C, kh, kw]`) and returns the
/// geometry. `operands` names the caller's arguments in messages.
fn geometry(
    op: &'static str,
    operands: &dyn Fn() -> String,
    x: [usize; 4],
    w: [usize; 4],
    p: Conv2dParams,
) -> Result<Geometry> {
    if x[1] != w[1] {
        return Err(TensorError::shape(
            op,
            format!(
                "{}: input has {} channels, weight expects {}",
                operands(),
                x[1],
                w[1]
            ),
        ));
    }
    let (in_hw, kernel_hw) = ((x[2], x[3]), (w[2], w[3]));
    let out_hw = window_output_hw(op, operands, in_hw, kernel_hw, p.stride, p.padding)?;
    Ok(Geometry {
        batch: x[0],
        in_channels: x[1],
        out_channels: w[0],
        in_hw,
        kernel_hw,
        out_hw,
        stride: p.stride,
        padding: p.padding,
    })
}

/// Checks that `grad_out` has the output size the geometry predicts.
fn check_grad_size(
    op: &'static str,
    operands: &dyn Fn() -> String,
    g: &Geometry,
    grad_hw: (usize, usize),
) -> Result<()> {
    if grad_hw != g.out_hw {
        return Err(TensorError::shape(
            op,
            format!(
                "{}: input {}×{} and kernel {}×{} give a {}×{} output, not {}×{}",
                operands(),
                g.in_hw.0,
                g.in_hw.1,
                g.kernel_hw.0,
                g.kernel_hw.1,
                g.out_hw.0,
                g.out_hw.1,
                grad_hw.0,
                grad_hw.1
            ),
        ));
    }
    Ok(())
}

impl Tensor {
    /// 2-d convolution (cross-correlation, as in every deep-learning library) of this
    /// `[N, C, H, W]` input with a `[O, C, kh, kw]` weight: a `[N, O, Ho, Wo]` tensor with
    /// `Ho = ⌊(H + 2·p_h − kh) / s_h⌋ + 1` (and likewise `Wo`). Zero padding, no bias (add
    /// one with a broadcast add). See the [module docs](crate::conv) for the formula.
    ///
    /// ```
    /// use tensor::{conv::Conv2dParams, Tensor};
    /// // A 3×3 image of 1..9 and a 2×2 kernel that sums its window.
    /// let x = Tensor::from_vec((1..=9).map(|v| v as f64).collect(), &[1, 1, 3, 3])?;
    /// let w = Tensor::from_vec(vec![1.0f64; 4], &[1, 1, 2, 2])?;
    /// let y = x.conv2d(&w, Conv2dParams::default());
    /// assert_eq!(y.shape(), &[1, 1, 2, 2]);
    /// assert_eq!(y.to_vec::<f64>(), [12.0, 16.0, 24.0, 28.0]); // 1+2+4+5, 2+3+5+6, …
    /// // Padding 1, stride 2: windows start at rows and columns −1 and 1, so they overlap
    /// // the zero border: the first sees only x[0, 0] = 1, the last 5 + 6 + 8 + 9.
    /// let y = x.conv2d(&w, Conv2dParams::new(2, 1));
    /// assert_eq!(y.to_vec::<f64>(), [1.0, 5.0, 11.0, 28.0]);
    /// # Ok::<(), tensor::TensorError>(())
    /// ```
    ///
    /// # Panics
    /// If an operand is not 4-d, the channel counts differ, a stride or kernel size is 0,
    /// the kernel is larger than the padded input, or the element types differ;
    /// [`Tensor::try_conv2d`] returns the error.
    #[track_caller]
    pub fn conv2d(&self, weight: &Tensor, p: Conv2dParams) -> Tensor {
        or_panic(self.try_conv2d(weight, p))
    }

    /// [`Tensor::conv2d`] returning an error instead of panicking.
    ///
    /// ```
    /// use tensor::{conv::Conv2dParams, DType, Tensor};
    /// let x = Tensor::zeros(&[2, 3, 8, 8], DType::F32);
    /// let w = Tensor::zeros(&[4, 2, 3, 3], DType::F32);
    /// assert_eq!(
    ///     x.try_conv2d(&w, Conv2dParams::default()).unwrap_err().to_string(),
    ///     "conv2d: input [2, 3, 8, 8] and weight [4, 2, 3, 3]: input has 3 channels, weight expects 2"
    /// );
    /// ```
    #[track_caller]
    pub fn try_conv2d(&self, weight: &Tensor, p: Conv2dParams) -> Result<Tensor> {
        const OP: &str = "conv2d";
        let operands = || {
            format!(
                "input {} and weight {}",
                fmt_shape(self.shape()),
                fmt_shape(weight.shape())
            )
        };
        self.same_dtype(OP, weight)?;
        let x = dims4(OP, &operands, "input", "[N, C, H, W]", self.shape())?;
        let w = dims4(OP, &operands, "weight", "[O, C, kh, kw]", weight.shape())?;
        let g = geometry(OP, &operands, x, w, p)?;
        Ok(with_dtype!(self.dtype(), T => lowering::forward::<T>(self, weight, &g)))
    }

    /// The adjoint of [`Tensor::conv2d`] with respect to its input (a transposed
    /// convolution): given `grad_out: [N, O, Ho, Wo]` and the weight `[O, C, kh, kw]`, the
    /// `[N, C, H, W]` tensor `x̄` with `⟨conv2d(x, w), grad_out⟩ = ⟨x, x̄⟩` for every `x`,
    /// i.e. the gradient of `⟨conv2d(x, w), grad_out⟩` with respect to `x`:
    ///
    /// ```text
    /// x̄[n, c, h, w] = Σ_{o, i, j, u, v : i·s_h + u − p_h = h, j·s_w + v − p_w = w} g[n, o, i, j] · w[o, c, u, v]
    /// ```
    ///
    /// An associated function: call it as `Tensor::conv2d_input_grad(&g, &w, (h, w), p)`.
    /// `input_hw` is the input's `(H, W)`, needed because with stride > 1 several input
    /// sizes give the same output size.
    ///
    /// ```
    /// use tensor::{conv::Conv2dParams, Tensor};
    /// // One output pixel, a 2×2 kernel: the gradient is the kernel, placed on its window.
    /// let g = Tensor::from_vec(vec![1.0f64], &[1, 1, 1, 1])?;
    /// let w = Tensor::from_vec(vec![1.0f64, 2.0, 3.0, 4.0], &[1, 1, 2, 2])?;
    /// let gx = Tensor::conv2d_input_grad(&g, &w, (3, 3), Conv2dParams::new(2, 0));
    /// assert_eq!(gx.to_vec::<f64>(), [1.0, 2.0, 0.0, 3.0, 4.0, 0.0, 0.0, 0.0, 0.0]);
    /// # Ok::<(), tensor::TensorError>(())
    /// ```
    ///
    /// # Panics
    /// If an operand is not 4-d, `grad_out`'s channels are not the weight's output channels,
    /// the sizes do not match a convolution of a `input_hw` input (see [`Tensor::conv2d`]),
    /// or the element types differ; [`Tensor::try_conv2d_input_grad`] returns the error.
    #[track_caller]
    pub fn conv2d_input_grad(
        grad_out: &Tensor,
        weight: &Tensor,
        input_hw: (usize, usize),
        p: Conv2dParams,
    ) -> Tensor {
        or_panic(Tensor::try_conv2d_input_grad(grad_out, weight, input_hw, p))
    }

    /// [`Tensor::conv2d_input_grad`] returning an error instead of panicking.
    ///
    /// ```
    /// use tensor::{conv::Conv2dParams, DType, Tensor};
    /// let g = Tensor::zeros(&[2, 4, 3, 3], DType::F32);
    /// let w = Tensor::zeros(&[4, 2, 3, 3], DType::F32);
    /// let err = Tensor::try_conv2d_input_grad(&g, &w, (8, 8), Conv2dParams::new(1, 0));
    /// assert_eq!(
    ///     err.unwrap_err().to_string(),
    ///     "conv2d_input_grad: grad_out [2, 4, 3, 3] and weight [4, 2, 3, 3] (input 8×8): \
    ///      input 8×8 and kernel 3×3 give a 6×6 output, not 3×3"
    /// );
    /// ```
    #[track_caller]
    pub fn try_conv2d_input_grad(
        grad_out: &Tensor,
        weight: &Tensor,
        input_hw: (usize, usize),
        p: Conv2dParams,
    ) -> Result<Tensor> {
        const OP: &str = "conv2d_input_grad";
        let operands = || {
            format!(
                "grad_out {} and weight {} (input {}×{})",
                fmt_shape(grad_out.shape()),
                fmt_shape(weight.shape()),
                input_hw.0,
                input_hw.1
            )
        };
        grad_out.same_dtype(OP, weight)?;
        let gy = dims4(
            OP,
            &operands,
            "grad_out",
            "[N, O, Ho, Wo]",
            grad_out.shape(),
        )?;
        let w = dims4(OP, &operands, "weight", "[O, C, kh, kw]", weight.shape())?;
        if gy[1] != w[0] {
            return Err(TensorError::shape(
                OP,
                format!(
                    "{}: grad_out has {} channels, weight has {} output channels",
                    operands(),
                    gy[1],
                    w[0]
                ),
            ));
        }
        let x = [gy[0], w[1], input_hw.0, input_hw.1];
        let g = geometry(OP, &operands, x, w, p)?;
        check_grad_size(OP, &operands, &g, (gy[2], gy[3]))?;
        Ok(with_dtype!(grad_out.dtype(), T => lowering::input_grad::<T>(grad_out, weight, &g)))
    }

    /// The adjoint of [`Tensor::conv2d`] with respect to its weight: given
    /// `grad_out: [N, O, Ho, Wo]` and the input `[N, C, H, W]`, the `[O, C, kh, kw]` tensor
    /// `w̄` with `⟨conv2d(x, w), grad_out⟩ = ⟨w, w̄⟩` for every `w`:
    ///
    /// ```text
    /// w̄[o, c, u, v] = Σ_{n, i, j} g[n, o, i, j] · x[n, c, i·s_h + u − p_h, j·s_w + v − p_w]
    /// ```
    ///
    /// An associated function: call it as `Tensor::conv2d_weight_grad(&g, &x, (kh, kw), p)`.
    ///
    /// ```
    /// use tensor::{conv::Conv2dParams, Tensor};
    /// // One output pixel: the weight gradient is the input window it saw.
    /// let x = Tensor::from_vec((1..=9).map(|v| v as f64).collect(), &[1, 1, 3, 3])?;
    /// let g = Tensor::from_vec(vec![2.0f64], &[1, 1, 1, 1])?;
    /// let gw = Tensor::conv2d_weight_grad(&g, &x, (2, 2), Conv2dParams::new(2, 0));
    /// assert_eq!(gw.to_vec::<f64>(), [2.0, 4.0, 8.0, 10.0]);
    /// # Ok::<(), tensor::TensorError>(())
    /// ```
    ///
    /// # Panics
    /// If an operand is not 4-d, the batch sizes differ, the sizes do not match a
    /// convolution with a `kernel_hw` kernel (see [`Tensor::conv2d`]), or the element types
    /// differ; [`Tensor::try_conv2d_weight_grad`] returns the error.
    #[track_caller]
    pub fn conv2d_weight_grad(
        grad_out: &Tensor,
        input: &Tensor,
        kernel_hw: (usize, usize),
        p: Conv2dParams,
    ) -> Tensor {
        or_panic(Tensor::try_conv2d_weight_grad(
            grad_out, input, kernel_hw, p,
        ))
    }

    /// [`Tensor::conv2d_weight_grad`] returning an error instead of panicking.
    ///
    /// ```
    /// use tensor::{conv::Conv2dParams, DType, Tensor};
    /// let g = Tensor::zeros(&[3, 4, 6, 6], DType::F64);
    /// let x = Tensor::zeros(&[2, 3, 8, 8], DType::F64);
    /// let err = Tensor::try_conv2d_weight_grad(&g, &x, (3, 3), Conv2dParams::default());
    /// assert_eq!(
    ///     err.unwrap_err().to_string(),
    ///     "conv2d_weight_grad: grad_out [3, 4, 6, 6] and input [2, 3, 8, 8] (kernel 3×3): \
    ///      batch sizes 3 and 2 differ"
    /// );
    /// ```
    #[track_caller]
    pub fn try_conv2d_weight_grad(
        grad_out: &Tensor,
        input: &Tensor,
        kernel_hw: (usize, usize),
        p: Conv2dParams,
    ) -> Result<Tensor> {
        const OP: &str = "conv2d_weight_grad";
        let operands = || {
            format!(
                "grad_out {} and input {} (kernel {}×{})",
                fmt_shape(grad_out.shape()),
                fmt_shape(input.shape()),
                kernel_hw.0,
                kernel_hw.1
            )
        };
        grad_out.same_dtype(OP, input)?;
        let gy = dims4(
            OP,
            &operands,
            "grad_out",
            "[N, O, Ho, Wo]",
            grad_out.shape(),
        )?;
        let x = dims4(OP, &operands, "input", "[N, C, H, W]", input.shape())?;
        if gy[0] != x[0] {
            return Err(TensorError::shape(
                OP,
                format!("{}: batch sizes {} and {} differ", operands(), gy[0], x[0]),
            ));
        }
        let w = [gy[1], x[1], kernel_hw.0, kernel_hw.1];
        let g = geometry(OP, &operands, x, w, p)?;
        check_grad_size(OP, &operands, &g, (gy[2], gy[3]))?;
        Ok(with_dtype!(grad_out.dtype(), T => lowering::weight_grad::<T>(grad_out, input, &g)))
    }
}
