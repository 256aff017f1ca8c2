//! 2-d convolution and max-pooling layers (NCHW).

use autograd::{ConvGrouping, Var};
use tensor::conv::Conv2dParams;

use crate::init::{Init, RELU_GAIN};
use crate::module::{Ctx, Module, ParamSpec};

/// A 2-d convolution with a bias per output channel. Weight `[O, C/groups, kh, kw]`, bias
/// `[O]`. With `dilation` or `groups` other than 1 it runs `Var::conv2d_grouped` (`groups =
/// C` with `O` a multiple of `C` is a depthwise convolution).
#[derive(Clone, Debug)]
pub struct Conv2d {
    pub in_channels: usize,
    pub out_channels: usize,
    pub kernel: (usize, usize),
    pub stride: usize,
    pub padding: usize,
    /// Spacing of the kernel's taps (1: an ordinary convolution).
    pub dilation: usize,
    /// Channel groups; divides both channel counts.
    pub groups: usize,
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
            dilation: 1,
            groups: 1,
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

    pub fn dilation(mut self, dilation: usize) -> Conv2d {
        self.dilation = dilation;
        self
    }

    /// # Panics
    /// If `groups` does not divide both channel counts.
    pub fn groups(mut self, groups: usize) -> Conv2d {
        assert!(
            groups > 0
                && self.in_channels.is_multiple_of(groups)
                && self.out_channels.is_multiple_of(groups),
            "Conv2d: {groups} groups do not divide {} input and {} output channels",
            self.in_channels,
            self.out_channels
        );
        self.groups = groups;
        self
    }

    fn weight_shape(&self) -> [usize; 4] {
        [
            self.out_channels,
            self.in_channels / self.groups,
            self.kernel.0,
            self.kernel.1,
        ]
    }
}

impl Module for Conv2d {
    fn describe(&self) -> String {
        let mut extra = String::new();
        if self.dilation != 1 {
            extra += &format!(", dilation {}", self.dilation);
        }
        if self.groups != 1 {
            extra += &format!(", {} groups", self.groups);
        }
        format!(
            "Conv2d({} → {}, {}×{}, stride {}, padding {}{extra})",
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
        let p = Conv2dParams::new(self.stride, self.padding);
        let y = if (self.dilation, self.groups) == (1, 1) {
            x.conv2d(weight, p)
        } else {
            let grouping = ConvGrouping {
                dilation: (self.dilation, self.dilation),
                groups: self.groups,
            };
            x.conv2d_grouped(weight, p, grouping)
        };
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

/// Average pooling to a fixed output size `(oh, ow)` whatever the input's, over PyTorch's
/// adaptive bins (`Var::adaptive_avg_pool2d`). `(1, 1)` is a global average pool.
#[derive(Clone, Debug)]
pub struct AdaptiveAvgPool2d {
    pub output: (usize, usize),
}

impl AdaptiveAvgPool2d {
    pub fn new(output: (usize, usize)) -> AdaptiveAvgPool2d {
        AdaptiveAvgPool2d { output }
    }
}

impl Module for AdaptiveAvgPool2d {
    fn describe(&self) -> String {
        format!("AdaptiveAvgPool2d({}×{})", self.output.0, self.output.1)
    }

    fn param_specs(&self) -> Vec<ParamSpec> {
        Vec::new()
    }

    fn forward(&self, _: &Ctx, x: &Var) -> Var {
        x.adaptive_avg_pool2d(self.output)
    }
}
