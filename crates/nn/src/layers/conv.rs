//! 2-d convolution and max-pooling layers (NCHW).

use autograd::Var;
use tensor::conv::Conv2dParams;

use crate::init::{Init, RELU_GAIN};
use crate::module::{Ctx, Module, ParamSpec};

/// A 2-d convolution with a bias per output channel. Weight `[O, C, kh, kw]`, bias `[O]`.
#[derive(Clone, Debug)]
pub struct Conv2d {
    pub in_channels: usize,
    pub out_channels: usize,
    pub kernel: (usize, usize),
    pub stride: usize,
    pub padding: usize,
    pub bias: bool,
    pub weight_init: Init,
    pub bias_init: Init,
}

impl Conv2d {
    /// A square `kernel × kernel` convolution, stride 1, no padding, Kaiming-uniform weights
    /// (for ReLU) and zero bias.
    pub fn new(in_channels: usize, out_channels: usize, kernel: usize) -> Conv2d {
        Conv2d {
            in_channels,
            out_channels,
            kernel: (kernel, kernel),
            stride: 1,
            padding: 0,
            bias: true,
            weight_init: Init::KaimingUniform { gain: RELU_GAIN },
            bias_init: Init::Constant(0.0),
        }
    }

    pub fn stride(mut self, stride: usize) -> Conv2d {
        self.stride = stride;
        self
    }

    pub fn padding(mut self, padding: usize) -> Conv2d {
        self.padding = padding;
        self
    }

    fn weight_shape(&self) -> [usize; 4] {
        [
            self.out_channels,
            self.in_channels,
            self.kernel.0,
            self.kernel.1,
        ]
    }
}

impl Module for Conv2d {
    fn describe(&self) -> String {
        format!(
            "Conv2d({} → {}, {}×{}, stride {}, padding {})",
            self.in_channels,
            self.out_channels,
            self.kernel.0,
            self.kernel.1,
            self.stride,
            self.padding
        )
    }

    fn param_specs(&self) -> Vec<ParamSpec> {
        let mut specs = vec![ParamSpec::new(
            "weight",
            &self.weight_shape(),
            self.weight_init,
        )];
        if self.bias {
            specs.push(ParamSpec::new("bias", &[self.out_channels], self.bias_init));
        }
        specs
    }

    fn forward(&self, ctx: &Ctx, x: &Var) -> Var {
        let weight = ctx.param(self, "weight", &self.weight_shape());
        assert!(
            weight.ndim() == 4,
            "{}: per-task (batched) convolution weights are not supported; got {:?}",
            self.describe(),
            weight.shape()
        );
        let y = x.conv2d(weight, Conv2dParams::new(self.stride, self.padding));
        if !self.bias {
            return y;
        }
        let bias = ctx.param(self, "bias", &[self.out_channels]);
        &y + &bias.reshape(&[1, self.out_channels, 1, 1])
    }
}

/// Max-pooling over `kernel × kernel` windows.
#[derive(Clone, Debug)]
pub struct MaxPool2d {
    pub kernel: usize,
    pub stride: usize,
    pub padding: usize,
}

impl MaxPool2d {
    /// Non-overlapping windows: stride = kernel, no padding.
    pub fn new(kernel: usize) -> MaxPool2d {
        MaxPool2d {
            kernel,
            stride: kernel,
            padding: 0,
        }
    }
}

impl Module for MaxPool2d {
    fn describe(&self) -> String {
        format!(
            "MaxPool2d({}×{}, stride {})",
            self.kernel, self.kernel, self.stride
        )
    }

    fn param_specs(&self) -> Vec<ParamSpec> {
        Vec::new()
    }

    fn forward(&self, _: &Ctx, x: &Var) -> Var {
        let square = |n| (n, n);
        x.max_pool2d(
            square(self.kernel),
            square(self.stride),
            square(self.padding),
        )
    }
}
