//! The per-sample normalisations (LayerNorm, GroupNorm), Conv2d with dilation and groups, and
//! AdaptiveAvgPool2d: forward passes against plain references.

use autograd::Var;
use nn::layers::{AdaptiveAvgPool2d, Conv2d, GroupNorm, LayerNorm, SpatialMean};
use nn::{Module, Params};
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
fn depthwise_conv2d_convolves_each_channel_with_its_own_kernels() {
    // groups = C = 2, two kernels per channel: weight [4, 1, 2, 2]. Output channel o reads
    // input channel o / 2 only; checked against the plain convolution of that channel.
    let layer = Conv2d::new(2, 4, 2).groups(2).dilation(2).padding(1);
    assert_eq!(layer.param_specs()[0].shape, [4, 1, 2, 2]);
    assert!(
        layer.describe().contains("dilation 2, 2 groups"),
        "{}",
        layer.describe()
    );
    let (x, w) = (
        normal(&[1, 2, 5, 5], 0.0, 1.0, 6),
        normal(&[4, 1, 2, 2], 0.0, 1.0, 7),
    );
    let b = tensor(&[0.0, 1.0, -1.0, 0.5], &[4]);
    let params = Params::from_iter([
        ("weight", Var::leaf(w.clone())),
        ("bias", Var::leaf(b.clone())),
    ]);
    let y = layer
        .apply(&params, &Var::constant(x.clone()))
        .value()
        .clone();
    // A 2×2 kernel dilated by 2 is the 3×3 kernel with zeros between its taps.
    let wv = w.to_vec::<f64>();
    for o in 0..4 {
        let k = &wv[o * 4..][..4];
        let dilated = tensor(
            &[k[0], 0.0, k[1], 0.0, 0.0, 0.0, k[2], 0.0, k[3]],
            &[1, 1, 3, 3],
        );
        let channel = x.narrow(1, o / 2, 1);
        let expected = channel
            .conv2d(&dilated, Conv2dParams::new(1, 1))
            .add_scalar(b.to_vec::<f64>()[o]);
        assert_close(
            &y.narrow(1, o, 1).to_vec::<f64>(),
            &expected.to_vec::<f64>(),
            1e-12,
        );
    }
}

#[test]
fn layer_and_group_norm_standardise_each_sample() {
    let ctx_params = |module: &dyn Module| module.init(&mut StdRng::seed_from_u64(0), DType::F64);
    // γ = 1, β = 0 at initialisation: every normalised slice has mean 0 and variance ≈ 1.
    let x = normal(&[2, 4, 3], 1.0, 3.0, 8);
    let layer = LayerNorm::new(&[4, 3]);
    let y = layer.apply(&ctx_params(&layer), &Var::constant(x.clone()));
    let group = GroupNorm::new(2, 4);
    let z = group.apply(&ctx_params(&group), &Var::constant(x.clone()));
    for (values, slice) in [
        (y.value().to_vec::<f64>(), 12),
        (z.value().to_vec::<f64>(), 6),
    ] {
        for chunk in values.chunks(slice) {
            let mean = chunk.iter().sum::<f64>() / slice as f64;
            let var = chunk.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / slice as f64;
            assert!(
                mean.abs() < 1e-12 && (var - 1.0).abs() < 1e-3,
                "{mean} {var}"
            );
        }
    }
    assert_eq!(group.param_specs()[0].shape, [4]);
    assert_eq!(layer.param_specs()[1].shape, [4, 3]);
}

#[test]
fn adaptive_avg_pool_to_one_is_the_spatial_mean() {
    let x = Var::constant(normal(&[2, 3, 5, 4], 0.0, 1.0, 9));
    let params = Params::default();
    let pooled = AdaptiveAvgPool2d::new((1, 1)).apply(&params, &x);
    let mean = SpatialMean.apply(&params, &x);
    assert_eq!(pooled.shape(), [2, 3, 1, 1]);
    assert_close(
        &pooled.value().to_vec::<f64>(),
        &mean.value().to_vec::<f64>(),
        1e-14,
    );
}
