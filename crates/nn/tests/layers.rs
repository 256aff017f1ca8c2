//! Each layer's forward pass against a value by hand or a plain reference: Linear (also with
//! per-task parameter sets), Conv2d, MaxPool2d, BatchNorm (batch and running statistics),
//! Dropout, the activations and the reshaping layers. (LayerNorm, GroupNorm, grouped and
//! dilated Conv2d and AdaptiveAvgPool2d: `layers_norm_conv.rs`.)

use std::sync::Mutex;

use autograd::{grad, Var};
use nn::layers::{
    BatchNorm, Conv2d, Dropout, Flatten, LeakyRelu, Linear, MaxPool2d, Relu, Sigmoid, SpatialMean,
    Tanh,
};
use nn::{Ctx, Module, Params, State};
use rand::rngs::StdRng;
use rand::SeedableRng;
use tensor::conv::Conv2dParams;
use tensor::{DType, Tensor};

fn tensor(values: &[f64], shape: &[usize]) -> Tensor {
    Tensor::from_slice(values, shape).unwrap()
}

fn normal(shape: &[usize], mean: f64, std: f64, seed: u64) -> Tensor {
    Tensor::rand_normal(
        shape,
        mean,
        std,
        DType::F64,
        &mut StdRng::seed_from_u64(seed),
    )
}

fn assert_close(actual: &[f64], expected: &[f64], tol: f64) {
    assert_eq!(actual.len(), expected.len());
    for (i, (a, e)) in actual.iter().zip(expected).enumerate() {
        assert!((a - e).abs() <= tol, "element {i}: {a} vs {e}");
    }
}

#[test]
fn linear_by_hand() {
    // W = [[1, 2], [3, 4]], b = [0.5, −0.5], x = [1, −1]:
    // x·Wᵀ + b = [1 − 2 + 0.5, 3 − 4 − 0.5] = [−0.5, −1.5].
    let params = Params::from_iter([
        ("weight", Var::leaf(tensor(&[1.0, 2.0, 3.0, 4.0], &[2, 2]))),
        ("bias", Var::leaf(tensor(&[0.5, -0.5], &[2]))),
    ]);
    let y = Linear::new(2, 2).apply(&params, &Var::constant(tensor(&[1.0, -1.0], &[1, 2])));
    assert_eq!(y.value().to_vec::<f64>(), [-0.5, -1.5]);
}

#[test]
fn linear_with_task_axes_equals_each_task_alone() {
    // B = 3 tasks, K = 4 points each, 2 → 5 features. Parameters [B, out, in] and [B, out].
    let (tasks, points, inp, out) = (3, 4, 2, 5);
    let layer = Linear::new(inp, out);
    let batched = Params::from_iter([
        ("weight", Var::leaf(normal(&[tasks, out, inp], 0.0, 1.0, 1))),
        ("bias", Var::leaf(normal(&[tasks, out], 0.0, 1.0, 2))),
    ]);
    let x = Var::constant(normal(&[tasks, points, inp], 0.0, 1.0, 3));
    let together = layer.apply(&batched, &x);
    assert_eq!(together.shape(), [tasks, points, out]);
    for task in 0..tasks {
        let own = batched.map(|_, p| p.narrow(0, task, 1).squeeze(0));
        let alone = layer.apply(&own, &x.narrow(0, task, 1).squeeze(0));
        let slice = together.narrow(0, task, 1).squeeze(0);
        assert_close(
            &slice.value().to_vec::<f64>(),
            &alone.value().to_vec::<f64>(),
            1e-12,
        );
    }
}

/// The convolution by plain loops (cross-correlation with zero padding) plus the bias.
fn conv_reference(x: &Tensor, w: &Tensor, b: &Tensor, stride: usize, pad: usize) -> Vec<f64> {
    let (n, c, h, wd) = (x.shape()[0], x.shape()[1], x.shape()[2], x.shape()[3]);
    let (o, k) = (w.shape()[0], w.shape()[2]);
    let (oh, ow) = (
        (h + 2 * pad - k) / stride + 1,
        (wd + 2 * pad - k) / stride + 1,
    );
    let mut out = Vec::new();
    for ni in 0..n {
        for oi in 0..o {
            for r in 0..oh {
                for s in 0..ow {
                    let mut sum = b.get(&[oi]);
                    for ci in 0..c {
                        for i in 0..k {
                            for j in 0..k {
                                let (y, z) = (r * stride + i, s * stride + j);
                                if y >= pad && z >= pad && y - pad < h && z - pad < wd {
                                    sum +=
                                        x.get(&[ni, ci, y - pad, z - pad]) * w.get(&[oi, ci, i, j]);
                                }
                            }
                        }
                    }
                    out.push(sum);
                }
            }
        }
    }
    out
}

#[test]
fn conv2d_is_the_tensor_convolution_plus_bias() {
    for (stride, padding) in [(1, 0), (1, 1), (2, 0), (2, 1)] {
        let layer = Conv2d::new(2, 3, 3).stride(stride).padding(padding);
        let (x, w, b) = (
            normal(&[2, 2, 7, 6], 0.0, 1.0, 4),
            normal(&[3, 2, 3, 3], 0.0, 1.0, 5),
            tensor(&[0.5, -1.0, 2.0], &[3]),
        );
        let params = Params::from_iter([
            ("weight", Var::leaf(w.clone())),
            ("bias", Var::leaf(b.clone())),
        ]);
        let y = layer.apply(&params, &Var::constant(x.clone()));
        // The same through the tensor kernel directly, bias added by broadcasting.
        let direct = &x.conv2d(&w, Conv2dParams::new(stride, padding)) + &b.reshape(&[1, 3, 1, 1]);
        assert_eq!(y.shape(), direct.shape());
        let reference = conv_reference(&x, &w, &b, stride, padding);
        assert_close(&y.value().to_vec::<f64>(), &reference, 1e-12);
        assert_close(&direct.to_vec::<f64>(), &reference, 1e-12);
    }
}

#[test]
#[should_panic(expected = "per-task (batched) convolution weights are not supported")]
fn conv2d_rejects_batched_weights() {
    let layer = Conv2d::new(1, 1, 1);
    let params = Params::from_iter([
        (
            "weight",
            Var::leaf(Tensor::ones(&[2, 1, 1, 1, 1], DType::F64)),
        ),
        ("bias", Var::leaf(Tensor::zeros(&[1], DType::F64))),
    ]);
    layer.apply(
        &params,
        &Var::constant(Tensor::ones(&[1, 1, 2, 2], DType::F64)),
    );
}

#[test]
fn max_pool_by_hand() {
    // One 4×4 map, 2×2 windows: the maximum of each quadrant.
    let x = tensor(
        &[
            1.0, 5.0, 2.0, 0.0, //
            3.0, 4.0, 8.0, 1.0, //
            0.0, 0.0, 6.0, 7.0, //
            9.0, 2.0, 5.0, 3.0,
        ],
        &[1, 1, 4, 4],
    );
    let y = MaxPool2d::new(2).apply(&Params::new(), &Var::constant(x));
    assert_eq!(y.shape(), [1, 1, 2, 2]);
    assert_eq!(y.value().to_vec::<f64>(), [5.0, 8.0, 9.0, 7.0]);
}

/// Per-channel mean and biased variance of a [N, C, H, W] tensor.
fn channel_moments(x: &Tensor) -> Vec<(f64, f64)> {
    let (n, c, h, w) = (x.shape()[0], x.shape()[1], x.shape()[2], x.shape()[3]);
    (0..c)
        .map(|ci| {
            let mut values = Vec::new();
            for ni in 0..n {
                for i in 0..h {
                    for j in 0..w {
                        values.push(x.get(&[ni, ci, i, j]));
                    }
                }
            }
            let mean = values.iter().sum::<f64>() / values.len() as f64;
            let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / values.len() as f64;
            (mean, var)
        })
        .collect()
}

#[test]
fn batch_norm_normalises_each_channel_with_batch_statistics() {
    // Inputs with mean 5 and std 3: after normalisation each channel has mean 0 and
    // variance σ²/(σ² + ε) ≈ 1 − 1e-5/9.
    let norm = BatchNorm::new(3);
    let x = normal(&[4, 3, 5, 5], 5.0, 3.0, 6);
    let identity = Params::from_iter([
        ("weight", Var::leaf(Tensor::ones(&[3], DType::F64))),
        ("bias", Var::leaf(Tensor::zeros(&[3], DType::F64))),
    ]);
    let y = norm.apply(&identity, &Var::constant(x.clone()));
    for (mean, var) in channel_moments(y.value()) {
        assert!(mean.abs() < 1e-12, "{mean}");
        assert!((var - 1.0).abs() < 1e-5, "{var}");
    }
    // With γ = [1, 2, 3] and β = [0, −1, 4] channel c has mean β_c and variance γ_c².
    let affine = Params::from_iter([
        ("weight", Var::leaf(tensor(&[1.0, 2.0, 3.0], &[3]))),
        ("bias", Var::leaf(tensor(&[0.0, -1.0, 4.0], &[3]))),
    ]);
    let y = norm.apply(&affine, &Var::constant(x));
    for ((mean, var), (beta, gamma)) in
        channel_moments(y.value())
            .into_iter()
            .zip([(0.0, 1.0), (-1.0, 2.0), (4.0, 3.0)])
    {
        assert!((mean - beta).abs() < 1e-12, "{mean}");
        assert!((var - gamma * gamma).abs() < 1e-4, "{var}");
    }
    // Without affine parameters the layer has none, and still normalises.
    let bare = BatchNorm {
        affine: false,
        ..BatchNorm::new(3)
    };
    assert!(bare.param_specs().is_empty());
}

#[test]
fn batch_norm_tracks_running_statistics_and_uses_them_in_eval() {
    let norm = BatchNorm::new(2);
    let params = norm.init(&mut StdRng::seed_from_u64(0), DType::F64);
    let x = normal(&[3, 2, 2, 2], 2.0, 1.5, 7);
    let moments = channel_moments(&x);
    let state = State::new();
    let training = Ctx::new(&params).with_state(&state);

    // Two training passes over the same batch, momentum m = 0.1, count = 3·2·2 = 12:
    // running_mean: 0 → 0.1μ → 0.9·0.1μ + 0.1μ = 0.19μ;
    // running_var: 1 → 0.9 + 0.1s² → 0.9·(0.9 + 0.1s²) + 0.1s² = 0.81 + 0.19s²,
    // with s² = 12/11 · (biased variance), the unbiased variance.
    let first = norm.forward(&training, &Var::constant(x.clone()));
    norm.forward(&training, &Var::constant(x.clone()));
    let running_mean = state.get("running_mean").unwrap().to_vec::<f64>();
    let running_var = state.get("running_var").unwrap().to_vec::<f64>();
    for c in 0..2 {
        let (mu, biased) = moments[c];
        assert!((running_mean[c] - 0.19 * mu).abs() < 1e-12);
        assert!((running_var[c] - (0.81 + 0.19 * biased * 12.0 / 11.0)).abs() < 1e-12);
    }
    // Training passes with a state still normalise with the batch statistics.
    let plain = norm.apply(&params, &Var::constant(x.clone()));
    assert_eq!(first.value().to_vec::<f64>(), plain.value().to_vec::<f64>());

    // In eval mode: y = (x − running_mean)/√(running_var + ε) (γ = 1, β = 0).
    let y = norm.forward(
        &Ctx::new(&params).with_state(&state).eval(),
        &Var::constant(x.clone()),
    );
    let mut expected = Vec::new();
    for n in 0..3 {
        for c in 0..2 {
            for i in 0..4 {
                let v = x.get(&[n, c, i / 2, i % 2]);
                expected.push((v - running_mean[c]) / (running_var[c] + 1e-5).sqrt());
            }
        }
    }
    assert_close(&y.value().to_vec::<f64>(), &expected, 1e-12);
    // Eval passes do not update the statistics.
    assert_eq!(
        state.get("running_mean").unwrap().to_vec::<f64>(),
        running_mean
    );
    // The state lists both buffers, for checkpoints.
    let saved = state.to_params();
    assert_eq!(
        saved.names().collect::<Vec<_>>(),
        ["running_mean", "running_var"]
    );

    // Eval without any running statistics falls back to the batch's (MAML's convention).
    let fallback = norm.forward(&Ctx::new(&params).eval(), &Var::constant(x));
    assert_eq!(
        fallback.value().to_vec::<f64>(),
        plain.value().to_vec::<f64>()
    );
}

#[test]
#[should_panic(expected = "BatchNorm(3): input has shape [2, 4, 5], expected [N, 3, …]")]
fn batch_norm_checks_channels() {
    BatchNorm::new(3).apply(
        &BatchNorm::new(3).init(&mut StdRng::seed_from_u64(0), DType::F64),
        &Var::constant(Tensor::zeros(&[2, 4, 5], DType::F64)),
    );
}

fn dropout(p: f64, x: &Var, seed: u64) -> Var {
    let rng = Mutex::new(StdRng::seed_from_u64(seed));
    let params = Params::new();
    Dropout { p }.forward(&Ctx::new(&params).with_rng(&rng), x)
}

#[test]
fn dropout_zeroes_about_p_and_rescales_the_survivors() {
    // 10 000 Bernoulli(0.3) draws: the fraction dropped has std √(0.3·0.7/10⁴) ≈ 0.0046, so
    // 0.02 is more than four standard deviations.
    let x = Var::leaf(Tensor::ones(&[100, 100], DType::F64));
    let y = dropout(0.3, &x, 11);
    let values = y.value().to_vec::<f64>();
    let dropped = values.iter().filter(|&&v| v == 0.0).count() as f64 / 1e4;
    assert!((dropped - 0.3).abs() < 0.02, "{dropped}");
    for v in &values {
        assert!(*v == 0.0 || (v - 1.0 / 0.7).abs() < 1e-12, "{v}");
    }
    // Seeded: the same seed gives the same mask, another seed another one.
    assert_eq!(dropout(0.3, &x, 11).value().to_vec::<f64>(), values);
    assert_ne!(dropout(0.3, &x, 12).value().to_vec::<f64>(), values);
    // The mask is a constant factor: d(Σy)/dx = mask/(1 − p) = y for x = 1.
    let g = grad(&[&y.sum_all()], &[&x], false).unwrap();
    assert_eq!(g[0].value().to_vec::<f64>(), values);
}

#[test]
fn dropout_edge_probabilities_and_eval_mode() {
    let x = Var::leaf(normal(&[50], 0.0, 1.0, 13));
    let original = x.value().to_vec::<f64>();
    // p = 0 and eval mode are the identity (and need no generator).
    let params = Params::new();
    let eval = Dropout { p: 0.5 }.forward(&Ctx::new(&params).eval(), &x);
    assert_eq!(eval.value().to_vec::<f64>(), original);
    assert_eq!(
        Dropout { p: 0.0 }
            .apply(&params, &x)
            .value()
            .to_vec::<f64>(),
        original
    );
    // p = 1 drops everything: zeros, not 0·∞ = NaN.
    let all = dropout(1.0, &x, 14).value().to_vec::<f64>();
    assert!(all.iter().all(|&v| v == 0.0), "{all:?}");
}

#[test]
#[should_panic(expected = "Dropout: training mode needs a seeded generator")]
fn dropout_in_training_needs_a_generator() {
    Dropout { p: 0.5 }.apply(
        &Params::new(),
        &Var::constant(Tensor::ones(&[3], DType::F64)),
    );
}

#[test]
#[should_panic(expected = "Dropout(1.5): p must be in [0, 1]")]
fn dropout_rejects_probabilities_outside_zero_one() {
    dropout(1.5, &Var::constant(Tensor::ones(&[3], DType::F64)), 0);
}

#[test]
fn activations_by_hand() {
    let x = Var::constant(tensor(&[-2.0, 0.0, 3.0], &[3]));
    let p = Params::new();
    let run = |m: &dyn Module| m.apply(&p, &x).value().to_vec::<f64>();
    assert_eq!(run(&Relu), [0.0, 0.0, 3.0]);
    assert_eq!(run(&LeakyRelu { slope: 0.1 }), [-0.2, 0.0, 3.0]);
    assert_close(&run(&Tanh), &[(-2f64).tanh(), 0.0, 3f64.tanh()], 1e-15);
    // σ(x) = 1/(1 + e^{−x}).
    let sigmoid = |v: f64| 1.0 / (1.0 + (-v).exp());
    assert_close(&run(&Sigmoid), &[sigmoid(-2.0), 0.5, sigmoid(3.0)], 1e-15);
}

#[test]
fn flatten_and_spatial_mean() {
    // [1, 2, 2, 2] with channel 0 = 1..4 and channel 1 = 5..8.
    let x = Var::constant(tensor(
        &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0],
        &[1, 2, 2, 2],
    ));
    let p = Params::new();
    let flat = Flatten { start: 1 }.apply(&p, &x);
    assert_eq!(flat.shape(), [1, 8]);
    // Means (1+2+3+4)/4 = 2.5 and (5+6+7+8)/4 = 6.5.
    let mean = SpatialMean.apply(&p, &x);
    assert_eq!(mean.shape(), [1, 2]);
    assert_eq!(mean.value().to_vec::<f64>(), [2.5, 6.5]);
}
