//! Constructors and printing: `from_vec` errors, constant fills, ranges, the identity, seeded
//! random tensors (reproducible, inside their bounds, with the right mean and spread), and
//! the `Display` format.

mod common;

use common::*;
use proptest::prelude::*;
use rand::rngs::StdRng;
use rand::SeedableRng;
use tensor::{DType, Tensor, TensorError};

/// Sample mean and standard deviation.
fn mean_std(values: &[f64]) -> (f64, f64) {
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0);
    (mean, var.sqrt())
}

proptest! {
    #[test]
    fn from_vec_needs_exactly_the_element_count(
        shape in shape(4),
        extra in 1usize..3,
        fewer in any::<bool>(),
    ) {
        let numel: usize = shape.iter().product();
        let len = if fewer && numel >= extra { numel - extra } else { numel + extra };
        let err = Tensor::from_vec(vec![0.0f32; len], &shape).unwrap_err();
        let is_shape_error = matches!(err, TensorError::Shape { op: "from_vec", .. });
        prop_assert!(is_shape_error);
        prop_assert_eq!(
            err.to_string(),
            format!("from_vec: {len} elements cannot fill shape {shape:?} ({numel} elements)")
        );
        let t = Tensor::from_vec((0..numel).map(|v| v as f64).collect(), &shape).unwrap();
        prop_assert_eq!(t.shape(), &shape[..]);
        prop_assert!(t.is_contiguous());
        prop_assert_eq!(naive_values(&t), (0..numel).map(|v| v as f64).collect::<Vec<_>>());
    }

    #[test]
    fn fills_hold_one_value(shape in shape(4), value in -8i32..8, dtype in dtype()) {
        let value = value as f64 / 4.0;
        let numel: usize = shape.iter().product();
        for (t, v) in [
            (Tensor::full(&shape, value, dtype), value),
            (Tensor::zeros(&shape, dtype), 0.0),
            (Tensor::ones(&shape, dtype), 1.0),
        ] {
            prop_assert_eq!(t.shape(), &shape[..]);
            prop_assert_eq!(t.dtype(), dtype);
            prop_assert_eq!(naive_values(&t), vec![v; numel]);
        }
        let base = Tensor::full(&shape, value, dtype);
        let likes = [
            (base.zeros_like(), 0.0),
            (base.ones_like(), 1.0),
            (base.full_like(-value), -value),
        ];
        for (t, v) in likes {
            prop_assert_eq!(t.shape(), &shape[..]);
            prop_assert_eq!(t.dtype(), dtype);
            prop_assert_eq!(naive_values(&t), vec![v; numel]);
        }
    }

    #[test]
    fn arange_excludes_the_end(
        start in -20i32..20,
        step in prop::sample::select(vec![-3.0, -0.5, -0.25, 0.25, 1.0, 2.0]),
        count in 0usize..12,
        dtype in dtype(),
    ) {
        // Quarters are exact in both types, so every value and count below is exact.
        let start = start as f64 / 4.0;
        let values: Vec<f64> = (0..count).map(|i| start + i as f64 * step).collect();
        let exact_end = Tensor::arange(start, start + count as f64 * step, step, dtype);
        let halfway_end = Tensor::arange(start, start + (count as f64 - 0.5) * step, step, dtype);
        prop_assert_eq!(exact_end.dtype(), dtype);
        prop_assert_eq!(exact_end.to_vec::<f64>(), values.clone());
        if count > 0 {
            prop_assert_eq!(halfway_end.to_vec::<f64>(), values);
        }
        // An end on the wrong side of the start: nothing.
        prop_assert_eq!(Tensor::arange(start, start - step, step, dtype).numel(), 0);
    }

    #[test]
    fn linspace_spans_both_ends_evenly(
        start in -10.0f64..10.0,
        end in -10.0f64..10.0,
        count in 0usize..20,
    ) {
        let t = Tensor::linspace(start, end, count, DType::F64).to_vec::<f64>();
        prop_assert_eq!(t.len(), count);
        if count >= 1 {
            prop_assert_eq!(t[0], start);
        }
        if count >= 2 {
            prop_assert_eq!(t[count - 1], end);
            let step = (end - start) / (count - 1) as f64;
            for (i, &v) in t.iter().enumerate() {
                prop_assert!((v - (start + i as f64 * step)).abs() <= 1e-13, "{} at {}", v, i);
            }
        }
    }

    #[test]
    fn eye_is_one_on_the_diagonal(n in 0usize..6, dtype in dtype()) {
        let t = Tensor::eye(n, dtype);
        prop_assert_eq!(t.shape(), &[n, n]);
        for i in all_indices(t.shape()) {
            prop_assert_eq!(t.get(&i), if i[0] == i[1] { 1.0 } else { 0.0 });
        }
    }

    #[test]
    fn seeded_random_tensors_are_reproducible_and_bounded(
        seed in any::<u64>(),
        shape in shape(3),
        (low, width) in (-5.0f64..5.0, 0.5f64..4.0),
        dtype in dtype(),
    ) {
        let high = low + width;
        let rng = StdRng::seed_from_u64;
        let uniform = |seed| Tensor::rand_uniform(&shape, low, high, dtype, &mut rng(seed));
        let normal = |seed| Tensor::rand_normal(&shape, low, width, dtype, &mut rng(seed));
        let (u, n) = (uniform(seed), normal(seed));
        prop_assert_eq!(u.shape(), &shape[..]);
        prop_assert_eq!(n.shape(), &shape[..]);
        prop_assert_eq!(u.dtype(), dtype);
        prop_assert!(identical(&u, &uniform(seed)));
        prop_assert!(identical(&n, &normal(seed)));
        // The bounds as the element type holds them: [low, high).
        let round = |v: f64| Tensor::scalar_of(v, dtype).item();
        for v in u.to_vec::<f64>() {
            prop_assert!(round(low) <= v && v < round(high), "{} outside [{}, {})", v, low, high);
        }
        prop_assert!(n.to_vec::<f64>().iter().all(|v| v.is_finite()));
    }
}

#[test]
fn different_seeds_give_different_samples() {
    let sample =
        |seed| Tensor::rand_normal(&[8], 0.0, 1.0, DType::F64, &mut StdRng::seed_from_u64(seed));
    assert_ne!(sample(1).to_vec::<f64>(), sample(2).to_vec::<f64>());
}

#[test]
fn sample_statistics_match_the_distributions() {
    // n = 10,000: the standard error of the mean is σ/100 and that of the standard deviation
    // about σ/141, so 5 standard errors is loose, yet a wrong scale or shift fails it.
    let n = 10_000;
    for dtype in [DType::F32, DType::F64] {
        let mut rng = StdRng::seed_from_u64(7);
        let (low, high) = (-1.0, 3.0);
        let sigma = (high - low) / 12f64.sqrt();
        let u = Tensor::rand_uniform(&[n], low, high, dtype, &mut rng).to_vec::<f64>();
        let (mean, std) = mean_std(&u);
        assert!(
            (mean - 1.0).abs() < 5.0 * sigma / 100.0,
            "uniform {dtype} mean {mean}"
        );
        assert!(
            (std - sigma).abs() < 5.0 * sigma / 141.0,
            "uniform {dtype} std {std}"
        );

        let z = Tensor::rand_normal(&[n], 2.0, 0.5, dtype, &mut rng).to_vec::<f64>();
        let (mean, std) = mean_std(&z);
        assert!(
            (mean - 2.0).abs() < 5.0 * 0.5 / 100.0,
            "normal {dtype} mean {mean}"
        );
        assert!(
            (std - 0.5).abs() < 5.0 * 0.5 / 141.0,
            "normal {dtype} std {std}"
        );
        // About 95.4% of normal samples lie within 2σ.
        let inside = z.iter().filter(|v| (*v - 2.0).abs() < 1.0).count() as f64 / n as f64;
        assert!(
            (inside - 0.9545).abs() < 0.01,
            "normal {dtype}: {inside} within 2σ"
        );
    }
}

/// An RNG whose every bit is 1: the largest sample any range can give.
struct AllOnes;

impl rand::RngCore for AllOnes {
    fn next_u32(&mut self) -> u32 {
        u32::MAX
    }
    fn next_u64(&mut self) -> u64 {
        u64::MAX
    }
    fn fill_bytes(&mut self, bytes: &mut [u8]) {
        bytes.fill(0xff);
    }
}

#[test]
fn uniform_f32_samples_stay_below_high() {
    // The largest f64 sample below 1 rounds up to 1 in f32; the interval must stay half-open.
    let u = Tensor::rand_uniform(&[2], 0.0, 1.0, DType::F32, &mut AllOnes).to_vec::<f32>();
    assert!(u.iter().all(|&v| v < 1.0), "{u:?}");
}

#[test]
#[should_panic(expected = "arange: step must be finite and non-zero, got 0")]
fn arange_with_a_zero_step_panics() {
    Tensor::arange(0.0, 1.0, 0.0, DType::F32);
}

#[test]
fn display_of_small_tensors() {
    let m = Tensor::arange(0.0, 6.0, 1.0, DType::F32).reshape(&[2, 3]);
    assert_eq!(m.to_string(), "Tensor[2, 3] f32\n[[0, 1, 2],\n [3, 4, 5]]");
    // A view prints its own (logical) order.
    assert_eq!(
        m.t().to_string(),
        "Tensor[3, 2] f32\n[[0, 3],\n [1, 4],\n [2, 5]]"
    );
    let cube = Tensor::arange(0.0, 8.0, 1.0, DType::F64).reshape(&[2, 2, 2]);
    assert_eq!(
        cube.to_string(),
        "Tensor[2, 2, 2] f64\n[[[0, 1],\n  [2, 3]],\n [[4, 5],\n  [6, 7]]]"
    );
    assert_eq!(Tensor::scalar(1.5f64).to_string(), "Tensor[] f64\n1.5");
    assert_eq!(
        Tensor::zeros(&[2, 0], DType::F32).to_string(),
        "Tensor[2, 0] f32\n[[],\n []]"
    );
    // Each type prints its own shortest form: f32 0.1 is 0.1, not 0.10000000149011612.
    let t = Tensor::from_vec(vec![0.1f32, f32::NAN, f32::NEG_INFINITY, -0.5], &[4]).unwrap();
    assert_eq!(t.to_string(), "Tensor[4] f32\n[0.1, NaN, -inf, -0.5]");
    assert_eq!(
        t.to_dtype(DType::F64).to_string(),
        "Tensor[4] f64\n[0.10000000149011612, NaN, -inf, -0.5]"
    );
    assert_eq!(format!("{t:?}"), t.to_string());
}

#[test]
fn display_elides_the_middle_of_long_axes() {
    let row = Tensor::arange(0.0, 12.0, 1.0, DType::F64);
    assert_eq!(row.to_string(), "Tensor[12] f64\n[0, 1, 2, …, 9, 10, 11]");
    // Ten entries are shown in full; eleven are elided.
    assert_eq!(
        Tensor::zeros(&[10], DType::F32)
            .to_string()
            .matches(", ")
            .count(),
        9
    );
    assert!(Tensor::zeros(&[11], DType::F32).to_string().contains('…'));
    let rows = Tensor::arange(0.0, 24.0, 1.0, DType::F64).reshape(&[12, 2]);
    assert_eq!(
        rows.to_string(),
        "Tensor[12, 2] f64\n[[0, 1],\n [2, 3],\n [4, 5],\n …,\n [18, 19],\n [20, 21],\n [22, 23]]"
    );
}
