//! Ready-made models from the meta-learning literature.

use crate::layers::{
    BatchNorm, Conv2d, Flatten, Linear, MaxPool2d, Relu, Sequential, SpatialMean, Tanh,
};

/// Hidden-layer nonlinearity of an [`mlp`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Activation {
    Relu,
    Tanh,
}

/// A multilayer perceptron: `Linear` layers of the given sizes with `activation` between them
/// (none after the last). `mlp(&[1, 40, 40, 1], Activation::Relu)` is the sinusoid network of
/// MAML and Meta-SGD; its linear layers are children `0`, `2` and `4`.
///
/// # Panics
/// If fewer than two sizes are given.
pub fn mlp(sizes: &[usize], activation: Activation) -> Sequential {
    assert!(
        sizes.len() >= 2,
        "mlp: needs at least input and output sizes, got {sizes:?}"
    );
    let mut net = Sequential::new();
    for (k, pair) in sizes.windows(2).enumerate() {
        net = net.push(Linear::new(pair[0], pair[1]));
        if k + 2 < sizes.len() {
            net = match activation {
                Activation::Relu => net.push(Relu),
                Activation::Tanh => net.push(Tanh),
            };
        }
    }
    net
}

/// How each block of the conv net halves the image.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Downsample {
    /// 3×3 convolution with stride 2 (MAML's Omniglot network).
    Stride2,
    /// 3×3 convolution with stride 1, then 2×2 max-pooling (MAML's MiniImagenet network).
    MaxPool,
}

/// The four-block convolutional network of MAML (Finn et al. 2017) and Meta-SGD:
/// 4 × [conv 3×3 (`hidden` filters, padding 1), batch norm, ReLU, downsample], then a linear
/// head to `ways` classes. With `Stride2` the last feature map is averaged over space (as
/// MAML's code does for Omniglot); with `MaxPool` it is flattened.
///
/// Children: blocks at `0`–`15` (conv, norm, relu, optional pool); the head last.
pub fn conv_net(
    in_channels: usize,
    hidden: usize,
    ways: usize,
    image_size: usize,
    downsample: Downsample,
) -> Sequential {
    let mut net = Sequential::new();
    let mut size = image_size;
    for block in 0..4 {
        let channels = if block == 0 { in_channels } else { hidden };
        let stride = if downsample == Downsample::Stride2 {
            2
        } else {
            1
        };
        net = net
            .push(Conv2d::new(channels, hidden, 3).stride(stride).padding(1))
            .push(BatchNorm::new(hidden))
            .push(Relu);
        match downsample {
            // (size + 2·1 − 3)/2 + 1 = ⌈size/2⌉
            Downsample::Stride2 => size = size.div_ceil(2),
            Downsample::MaxPool => {
                net = net.push(MaxPool2d::new(2));
                size /= 2;
            }
        }
    }
    match downsample {
        Downsample::Stride2 => net.push(SpatialMean).push(Linear::new(hidden, ways)),
        Downsample::MaxPool => net
            .push(Flatten { start: 1 })
            .push(Linear::new(hidden * size * size, ways)),
    }
}
