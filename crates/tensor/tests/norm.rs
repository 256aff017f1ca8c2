//! normalize_channels and its VJP against plain f64 loops and against finite differences, on
//! random shapes and layouts; thread-count independence; the error messages.

mod common;

use common::on_threads;
use proptest::prelude::*;
use tensor::rand::{rngs::StdRng, SeedableRng};
use tensor::{DType, Tensor};

/// `[N, C, R]` sizes of a shape: images, channels, entries per channel per image.
fn dims(shape: &[usize]) -> (usize, usize, usize) {
    (shape[0], shape[1], shape[2..].iter().product())
}

/// Per channel, the entries of `x` (row-major `[N, C, …]` values) and their flat indices.
fn channel_entries(shape: &[usize], c: usize) -> Vec<usize> {
    let (n, channels, r) = dims(shape);
    (0..n)
        .flat_map(|i| (0..r).map(move |k| (i * channels + c) * r + k))
        .collect()
}

/// x̂, mean and biased variance by the definition, in f64.
fn normalize_naive(shape: &[usize], x: &[f64], eps: f64) -> (Vec<f64>, Vec<f64>, Vec<f64>) {
    let channels = shape[1];
    let mut out = vec![0.0; x.len()];
    let (mut means, mut vars) = (vec![], vec![]);
    for c in 0..channels {
        let idx = channel_entries(shape, c);
        let m = idx.len() as f64;
        let mean = idx.iter().map(|&i| x[i]).sum::<f64>() / m;
        let var = idx.iter().map(|&i| (x[i] - mean).powi(2)).sum::<f64>() / m;
        for &i in &idx {
            out[i] = (x[i] - mean) / (var + eps).sqrt();
        }
        means.push(mean);
        vars.push(var);
    }
    (out, means, vars)
}

/// s · (g − mean(g) − x̂ · mean(g ⊙ x̂)) per channel, in f64.
fn grad_naive(shape: &[usize], x: &[f64], g: &[f64], eps: f64) -> Vec<f64> {
    let (x_hat, _, vars) = normalize_naive(shape, x, eps);
    let mut out = vec![0.0; x.len()];
    for (c, var) in vars.iter().enumerate() {
        let idx = channel_entries(shape, c);
        let m = idx.len() as f64;
        let g_mean = idx.iter().map(|&i| g[i]).sum::<f64>() / m;
        let gx_mean = idx.iter().map(|&i| g[i] * x_hat[i]).sum::<f64>() / m;
        for &i in &idx {
            out[i] = (g[i] - g_mean - x_hat[i] * gx_mean) / (var + eps).sqrt();
        }
    }
    out
}

fn assert_close(what: &str, got: &[f64], want: &[f64], tol: f64) {
    assert_eq!(got.len(), want.len(), "{what}: lengths");
    for (k, (g, w)) in got.iter().zip(want).enumerate() {
        assert!(
            (g - w).abs() <= tol * (1.0 + w.abs()),
            "{what}[{k}]: got {g}, want {w}"
        );
    }
}

/// A random `[N, C, …]` shape with 2 to 4 axes, at least 2 entries per channel.
fn shape() -> impl Strategy<Value = Vec<usize>> {
    (1usize..4, 1usize..4, prop::collection::vec(1usize..5, 0..3))
        .prop_map(|(n, c, rest)| [vec![n + 1, c], rest].concat())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    /// Values, statistics and the VJP match the definitions, for a contiguous input and for
    /// the same values stored transposed (a strided view).
    #[test]
    fn match_the_definitions(
        shape in shape(),
        f64s in any::<bool>(),
        transposed in any::<bool>(),
        offset in -3.0f64..3.0,
        seed in any::<u64>(),
    ) {
        let (dtype, tol) = if f64s { (DType::F64, 1e-12) } else { (DType::F32, 1e-4) };
        let mut rng = StdRng::seed_from_u64(seed);
        let x = Tensor::rand_uniform(&shape, -1.0, 1.0, dtype, &mut rng).add_scalar(offset);
        let g = Tensor::rand_uniform(&shape, -1.0, 1.0, dtype, &mut rng);
        let x = if transposed { x.t().contiguous().t() } else { x };
        let (xv, gv) = (x.to_vec::<f64>(), g.to_vec::<f64>());
        let eps = 1e-3;

        let (x_hat, mean, var) = x.normalize_channels(eps);
        let (want, want_mean, want_var) = normalize_naive(&shape, &xv, eps);
        prop_assert_eq!(x_hat.shape(), &shape[..]);
        prop_assert_eq!(mean.shape(), &[shape[1]]);
        assert_close("x̂", &x_hat.to_vec::<f64>(), &want, tol);
        assert_close("mean", &mean.to_vec::<f64>(), &want_mean, tol);
        assert_close("var", &var.to_vec::<f64>(), &want_var, tol);

        let grad = x.normalize_channels_grad(&mean, &var, eps, &g);
        assert_close("grad", &grad.to_vec::<f64>(), &grad_naive(&shape, &xv, &gv, eps), tol * 10.0);
    }

    /// The VJP is the derivative: ⟨x̄, d⟩ equals the central difference of ⟨x̂(x), g⟩ along
    /// a random direction d, in f64.
    #[test]
    fn grad_is_the_derivative(shape in shape(), seed in any::<u64>()) {
        let mut rng = StdRng::seed_from_u64(seed);
        let x = Tensor::rand_uniform(&shape, -1.0, 1.0, DType::F64, &mut rng);
        let g = Tensor::rand_uniform(&shape, -1.0, 1.0, DType::F64, &mut rng);
        let d = Tensor::rand_uniform(&shape, -1.0, 1.0, DType::F64, &mut rng);
        let eps = 1e-2;
        let dot = |a: &Tensor, b: &Tensor| (a * b).sum_all().item();
        let loss = |x: &Tensor| dot(&x.normalize_channels(eps).0, &g);
        let h = 1e-6;
        let numeric = (loss(&(&x + &d.mul_scalar(h))) - loss(&(&x - &d.mul_scalar(h)))) / (2.0 * h);
        let (_, mean, var) = x.normalize_channels(eps);
        let analytic = dot(&x.normalize_channels_grad(&mean, &var, eps, &g), &d);
        prop_assert!((numeric - analytic).abs() <= 1e-6 * (1.0 + analytic.abs()), "{numeric} vs {analytic}");
    }
}

#[test]
fn results_do_not_depend_on_the_number_of_threads() {
    // Large enough for the kernels to split their work (2^16 entries and more).
    let mut rng = StdRng::seed_from_u64(3);
    let x = Tensor::rand_normal(&[9, 16, 24, 24], 0.5, 2.0, DType::F32, &mut rng);
    let g = Tensor::rand_normal(x.shape(), 0.0, 1.0, DType::F32, &mut rng);
    let run = |threads: usize| {
        on_threads(threads, || {
            let (x_hat, mean, var) = x.normalize_channels(1e-5);
            let grad = x.normalize_channels_grad(&mean, &var, 1e-5, &g);
            [x_hat, mean, var, grad].map(|t| t.to_vec::<f32>())
        })
    };
    let one = run(1);
    for threads in [2, 3] {
        assert!(run(threads) == one, "results differ with {threads} threads");
    }
}

#[test]
fn errors_name_the_shapes() {
    let x = Tensor::zeros(&[4, 3, 2], DType::F32);
    let (_, mean, var) = x.normalize_channels(1e-5);
    let err = |g: &Tensor, mean: &Tensor| {
        x.try_normalize_channels_grad(mean, &var, 1e-5, g)
            .unwrap_err()
            .to_string()
    };
    assert_eq!(
        err(&Tensor::zeros(&[4, 3, 3], DType::F32), &mean),
        "normalize_channels_grad: input [4, 3, 2], grad [4, 3, 3], mean [3] and var [3]: \
         grad must match the input, the statistics must be [3]"
    );
    assert_eq!(
        err(&x, &Tensor::zeros(&[4], DType::F32)),
        "normalize_channels_grad: input [4, 3, 2], grad [4, 3, 2], mean [4] and var [3]: \
         grad must match the input, the statistics must be [3]"
    );
    assert_eq!(
        err(&Tensor::zeros(&[4, 3, 2], DType::F64), &mean),
        "normalize_channels_grad: element types differ: f32 and f64"
    );
}

#[test]
#[should_panic(expected = "normalize_channels: input [5] must have a channel axis: [N, C, …]")]
fn a_vector_has_no_channels() {
    let _ = Tensor::zeros(&[5], DType::F32).normalize_channels(1e-5);
}
