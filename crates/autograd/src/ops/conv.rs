//! Convolution and pooling. Three linear maps form a closed family:
//!
//! - `conv2d(x, w)`: the convolution,
//! - `conv2d_input_grad(g, w)`: its adjoint in `x` (a transposed convolution),
//! - `conv2d_weight_grad(g, x)`: its adjoint in `w`.
//!
//! All three are bilinear, and each one's partial adjoints are the other two (derivations at
//! each rule), so gradients of any order stay inside the family. The same holds for
//! `avg_pool2d` ↔ `avg_pool2d_backward`. Max-pooling picks elements, so it is a `take`.

use smallvec::smallvec;
use tensor::conv::Conv2dParams;
use tensor::Tensor;

use crate::ops::only;
use crate::primitive::{when, Grads, Primitive};
use crate::var::Var;

/// The spatial size `(height, width)` of an NCHW or OIHW shape.
fn spatial(shape: &[usize]) -> (usize, usize) {
    (shape[2], shape[3])
}

// ----- conv2d -----

impl Var {
    /// 2-d convolution (cross-correlation, as in every deep-learning framework): input
    /// `[N, C, H, W]`, weight `[O, C, kh, kw]` → `[N, O, H', W']`. No bias: add one after.
    ///
    /// # Panics
    /// On mismatched shapes; the message names the op and both shapes.
    #[track_caller]
    pub fn conv2d(&self, weight: &Var, p: Conv2dParams) -> Var {
        let value = self.value().conv2d(weight.value(), p);
        Var::record(value, Conv2d(p), &[self, weight])
    }

    /// The adjoint of `conv2d` in its input: `grad_out [N, O, H', W']`, weight → `[N, C, H, W]`.
    #[track_caller]
    pub fn conv2d_input_grad(
        grad_out: &Var,
        weight: &Var,
        input_hw: (usize, usize),
        p: Conv2dParams,
    ) -> Var {
        let value = Tensor::conv2d_input_grad(grad_out.value(), weight.value(), input_hw, p);
        Var::record(value, Conv2dInputGrad(p), &[grad_out, weight])
    }

    /// The adjoint of `conv2d` in its weight: `grad_out [N, O, H', W']`, input → `[O, C, kh, kw]`.
    #[track_caller]
    pub fn conv2d_weight_grad(
        grad_out: &Var,
        input: &Var,
        kernel_hw: (usize, usize),
        p: Conv2dParams,
    ) -> Var {
        let value = Tensor::conv2d_weight_grad(grad_out.value(), input.value(), kernel_hw, p);
        Var::record(value, Conv2dWeightGrad(p), &[grad_out, input])
    }
}

struct Conv2d(Conv2dParams);
impl Primitive for Conv2d {
    fn name(&self) -> &'static str {
        "conv2d"
    }
    // y = conv(x, w) is linear in each argument, so ∂L/∂x and ∂L/∂w are its adjoints applied
    // to g: the input gradient and the weight gradient.
    fn vjp(&self, inputs: &[Var], _: &Var, g: &Var, needs: &[bool]) -> Grads {
        let (x, w) = (&inputs[0], &inputs[1]);
        smallvec![
            when(needs[0], || Var::conv2d_input_grad(
                g,
                w,
                spatial(x.shape()),
                self.0
            )),
            when(needs[1], || Var::conv2d_weight_grad(
                g,
                x,
                spatial(w.shape()),
                self.0
            )),
        ]
    }
}

struct Conv2dInputGrad(Conv2dParams);
impl Primitive for Conv2dInputGrad {
    fn name(&self) -> &'static str {
        "conv2d_input_grad"
    }
    // z = T(h, w) is defined by ⟨T(h, w), u⟩ = ⟨h, conv(u, w)⟩ for all u. With cotangent
    // u = g:  ∂/∂h = conv(g, w);  ∂/∂w ⟨h, conv(g, w)⟩ = weight_grad(h, g).
    fn vjp(&self, inputs: &[Var], _: &Var, g: &Var, needs: &[bool]) -> Grads {
        let (h, w) = (&inputs[0], &inputs[1]);
        smallvec![
            when(needs[0], || g.conv2d(w, self.0)),
            when(needs[1], || Var::conv2d_weight_grad(
                h,
                g,
                spatial(w.shape()),
                self.0
            )),
        ]
    }
}

struct Conv2dWeightGrad(Conv2dParams);
impl Primitive for Conv2dWeightGrad {
    fn name(&self) -> &'static str {
        "conv2d_weight_grad"
    }
    // z = W(h, x) is defined by ⟨W(h, x), v⟩ = ⟨h, conv(x, v)⟩ for all v. With cotangent
    // v = g:  ∂/∂h = conv(x, g);  ∂/∂x ⟨h, conv(x, g)⟩ = input_grad(h, g).
    fn vjp(&self, inputs: &[Var], _: &Var, g: &Var, needs: &[bool]) -> Grads {
        let (h, x) = (&inputs[0], &inputs[1]);
        smallvec![
            when(needs[0], || x.conv2d(g, self.0)),
            when(needs[1], || Var::conv2d_input_grad(
                h,
                g,
                spatial(x.shape()),
                self.0
            )),
        ]
    }
}

// ----- avg_pool2d ↔ avg_pool2d_backward -----

/// Window size, stride and padding of a pooling op.
#[derive(Clone, Copy, Debug)]
struct Window {
    kernel: (usize, usize),
    stride: (usize, usize),
    padding: (usize, usize),
}

impl Var {
    /// Average over `kernel` windows (padding counts as zeros in the average).
    #[track_caller]
    pub fn avg_pool2d(
        &self,
        kernel: (usize, usize),
        stride: (usize, usize),
        padding: (usize, usize),
    ) -> Var {
        let value = self.value().avg_pool2d(kernel, stride, padding);
        let window = Window {
            kernel,
            stride,
            padding,
        };
        Var::record(value, AvgPool2d(window), &[self])
    }

    fn avg_pool2d_backward(grad_out: &Var, input_shape: &[usize], window: Window) -> Var {
        let Window {
            kernel,
            stride,
            padding,
        } = window;
        let value =
            Tensor::avg_pool2d_backward(grad_out.value(), input_shape, kernel, stride, padding);
        Var::record(value, AvgPool2dBackward(window), &[grad_out])
    }

    /// Maximum over `kernel` windows. The gradient goes to each window's (first) maximum: a
    /// `take` at indices found in the forward pass.
    #[track_caller]
    pub fn max_pool2d(
        &self,
        kernel: (usize, usize),
        stride: (usize, usize),
        padding: (usize, usize),
    ) -> Var {
        let (value, indices) = self
            .value()
            .max_pool2d_with_indices(kernel, stride, padding);
        self.take(&indices, value.shape())
    }
}

struct AvgPool2d(Window);
impl Primitive for AvgPool2d {
    fn name(&self) -> &'static str {
        "avg_pool2d"
    }
    // Linear: the gradient is the adjoint, which spreads each g over its window.
    fn vjp(&self, x: &[Var], _: &Var, g: &Var, _: &[bool]) -> Grads {
        only(Var::avg_pool2d_backward(g, x[0].shape(), self.0))
    }
}

struct AvgPool2dBackward(Window);
impl Primitive for AvgPool2dBackward {
    fn name(&self) -> &'static str {
        "avg_pool2d_backward"
    }
    // The adjoint of the adjoint is the average pool itself.
    fn vjp(&self, _: &[Var], _: &Var, g: &Var, _: &[bool]) -> Grads {
        let Window {
            kernel,
            stride,
            padding,
        } = self.0;
        only(g.avg_pool2d(kernel, stride, padding))
    }
}
