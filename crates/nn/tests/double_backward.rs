//! Second derivatives through the layers, with the layer's parameters AND its input as inputs
//! of the checked function: these are the paths MAML takes when it differentiates the query
//! loss through an inner gradient step (∂²L/∂θ² for the step itself, ∂²L/∂θ∂x through the
//! data). Each check is `check_grads(f, inputs, 2, ..)` in f64: the gradient against finite
//! differences of the loss, then a random projection of the recorded gradient against finite
//! differences of itself.
//!
//! The scalar at the end is a mean squared error against a fixed random target (or the
//! cross-entropy for the full network), so no second derivative vanishes by construction.

use autograd::{check_grads, CheckOptions, Var};
use nn::layers::{AdaptiveAvgPool2d, BatchNorm, Conv2d, GroupNorm, LayerNorm, Linear, MaxPool2d};
use nn::{conv_net, cross_entropy, mse, Downsample, Module, Params};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::SeedableRng;
use tensor::{DType, Tensor};

fn normal(shape: &[usize], std: f64, seed: u64) -> Tensor {
    Tensor::rand_normal(
        shape,
        0.0,
        std,
        DType::F64,
        &mut StdRng::seed_from_u64(seed),
    )
}

/// The module's parameters (in `param_specs` order) drawn at a generic point — not the
/// initialiser's, which puts batch norm at γ = 1, β = 0 — followed by the module's input.
fn inputs(module: &dyn Module, x: Tensor, seed: u64) -> Vec<Tensor> {
    let mut all: Vec<Tensor> = module
        .param_specs()
        .iter()
        .enumerate()
        .map(|(k, spec)| normal(&spec.shape, 0.5, seed + k as u64))
        .collect();
    all.push(x);
    all
}

/// Maps a flat list of `Var`s (as the checker passes them) back to the module's named
/// parameters and its input.
fn split<'a>(module: &dyn Module, xs: &'a [Var]) -> (Params, &'a Var) {
    let (input, params) = xs.split_last().expect("at least the input");
    let names = module.param_specs().into_iter().map(|spec| spec.name);
    assert_eq!(names.len(), params.len());
    (
        names.zip(params).map(|(n, v)| (n, v.clone())).collect(),
        input,
    )
}

/// Checks `(θ, x) ↦ mse(module(θ, x), target)` to second order.
fn check_module(module: &dyn Module, x: Tensor, seed: u64) {
    let inputs = inputs(module, x, seed);
    let output_shape = {
        let leaves: Vec<Var> = inputs.iter().cloned().map(Var::leaf).collect();
        let (params, x) = split(module, &leaves);
        module.apply(&params, x).shape().to_vec()
    };
    let target = Var::constant(normal(&output_shape, 1.0, seed + 100));
    let f = |xs: &[Var]| {
        let (params, x) = split(module, xs);
        mse(&module.apply(&params, x), &target)
    };
    check_grads(f, &inputs, 2, &CheckOptions::default())
        .unwrap_or_else(|e| panic!("{}: {e}", module.describe()));
}

#[test]
fn linear() {
    check_module(&Linear::new(4, 3), normal(&[5, 4], 1.0, 1), 10);
}

#[test]
fn linear_with_task_axes() {
    // Per-task parameters [B, out, in], [B, out] and inputs [B, K, in]: the batched inner
    // loop of Meta-SGD.
    let layer = Linear::new(4, 3);
    let weight = normal(&[2, 3, 4], 0.5, 2);
    let bias = normal(&[2, 3], 0.5, 3);
    let x = normal(&[2, 5, 4], 1.0, 4);
    let target = Var::constant(normal(&[2, 5, 3], 1.0, 5));
    let f = |xs: &[Var]| {
        let (params, x) = split(&layer, xs);
        mse(&layer.apply(&params, x), &target)
    };
    check_grads(f, &[weight, bias, x], 2, &CheckOptions::default())
        .unwrap_or_else(|e| panic!("{e}"));
}

#[test]
fn conv2d_strides_and_paddings() {
    for (k, (stride, padding)) in [(1, 0), (1, 1), (2, 0), (2, 1)].into_iter().enumerate() {
        let layer = Conv2d::new(2, 3, 3).stride(stride).padding(padding);
        check_module(
            &layer,
            normal(&[2, 2, 5, 5], 1.0, 20 + k as u64),
            30 + k as u64,
        );
    }
}

#[test]
fn conv2d_dilated_grouped_and_depthwise() {
    let dilated = Conv2d::new(2, 3, 2).dilation(2).padding(1);
    check_module(&dilated, normal(&[1, 2, 5, 5], 1.0, 24), 34);
    let grouped = Conv2d::new(4, 2, 3).groups(2).stride(2);
    check_module(&grouped, normal(&[2, 4, 5, 5], 1.0, 25), 35);
    let depthwise = Conv2d::new(3, 6, 3).groups(3).padding(1).dilation(2);
    check_module(&depthwise, normal(&[1, 3, 4, 4], 1.0, 26), 36);
}

#[test]
fn adaptive_avg_pool() {
    check_module(
        &AdaptiveAvgPool2d::new((2, 3)),
        normal(&[2, 2, 5, 4], 1.0, 27),
        37,
    );
}

#[test]
fn batch_norm_with_batch_statistics() {
    // The mean and variance depend on the input, so ∂²/∂x² has the full coupling of the
    // normalisation (each output depends on every input of its channel).
    check_module(&BatchNorm::new(3), normal(&[4, 3, 2, 2], 2.0, 40), 41);
    // 2-d input [N, C], as after a linear layer.
    check_module(&BatchNorm::new(2), normal(&[5, 2], 1.0, 42), 43);
}

#[test]
fn layer_norm() {
    // Over the last axis of [N, K, features], and over [C, H, W] of an image batch.
    check_module(&LayerNorm::new(&[4]), normal(&[2, 3, 4], 1.5, 44), 45);
    check_module(
        &LayerNorm::new(&[2, 2, 3]),
        normal(&[2, 2, 2, 3], 1.0, 46),
        47,
    );
}

#[test]
fn group_norm() {
    // Two groups of two channels, and instance norm (one channel per group).
    check_module(&GroupNorm::new(2, 4), normal(&[2, 4, 2, 2], 1.5, 48), 49);
    check_module(&GroupNorm::new(3, 3), normal(&[2, 3, 3], 1.0, 58), 59);
}

/// Distinct values 0.1 apart in a random order: no two elements of a window are within the
/// finite-difference step of each other, so no kink of the maximum is crossed.
fn separated(shape: &[usize], seed: u64) -> Tensor {
    let n: usize = shape.iter().product();
    let mut values: Vec<f64> = (0..n).map(|i| 0.1 * i as f64 - 0.05 * n as f64).collect();
    values.shuffle(&mut StdRng::seed_from_u64(seed));
    Tensor::from_vec(values, shape).unwrap()
}

#[test]
fn max_pool() {
    check_module(&MaxPool2d::new(2), separated(&[2, 2, 4, 6], 50), 51);
    // Overlapping, padded windows: an element can be the maximum of several windows, so its
    // gradient is a sum (a scatter-add whose own VJP is a gather).
    let overlapping = MaxPool2d {
        kernel: 3,
        stride: 2,
        padding: 1,
    };
    check_module(&overlapping, separated(&[1, 2, 5, 5], 52), 53);
}

/// The whole MAML network: every parameter and the images as inputs, cross-entropy on top.
fn check_conv_net(net: &dyn Module, images: Tensor, labels: &[usize]) {
    let inputs = inputs(net, images, 60);
    let f = |xs: &[Var]| {
        let (params, x) = split(net, xs);
        cross_entropy(&net.apply(&params, x), labels)
    };
    check_grads(f, &inputs, 2, &CheckOptions::default()).unwrap_or_else(|e| panic!("{e}"));
}

#[test]
fn conv_net_stride2() {
    // 8 → 4 → 2 → 1 → 1, then the spatial mean and the head: 18 parameter tensors.
    let net = conv_net(1, 3, 2, 8, Downsample::Stride2);
    check_conv_net(&net, normal(&[2, 1, 8, 8], 1.0, 61), &[0, 1]);
}

#[test]
fn conv_net_max_pool() {
    // 16 → 8 → 4 → 2 → 1 by max-pooling (continuous random data: ties would need two
    // equal values; zeros from ReLU tie, but then every candidate's gradient is zero too).
    let net = conv_net(1, 3, 2, 16, Downsample::MaxPool);
    check_conv_net(&net, normal(&[2, 1, 16, 16], 1.0, 62), &[1, 0]);
}

#[test]
fn the_harness_notices_a_cut_gradient() {
    // The same check with the weight detached inside the function: the engine says
    // ∂L/∂W = 0 while finite differences see the loss move, so the check must fail.
    let layer = Linear::new(4, 3);
    let inputs = inputs(&layer, normal(&[5, 4], 1.0, 70), 71);
    let target = Var::constant(normal(&[5, 3], 1.0, 72));
    let f = |xs: &[Var]| {
        let (params, x) = split(&layer, xs);
        let cut = params.map(|name, p| {
            if name == "weight" {
                p.detach()
            } else {
                p.clone()
            }
        });
        mse(&layer.apply(&cut, x), &target)
    };
    let error = check_grads(f, &inputs, 2, &CheckOptions::default()).unwrap_err();
    assert_eq!((error.order, error.input), (1, 0));
}
