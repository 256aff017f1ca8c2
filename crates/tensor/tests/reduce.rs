//! Reductions against a naive reference: every input element, read with `get`, is folded into
//! the output position its index maps to (reduced axes set to 0), in f64.
//!
//! Tolerance for sums: `n · ε · Σ|x|` over the `n` reduced elements (the textbook bound of
//! recursive summation, which the kernel's partial sums only improve on); max/min/argmax are
//! exact. Both loop orders of `reduce.rs` are forced by dedicated tests: reducing the
//! innermost axis, and reducing only outer axes.

mod common;

use common::*;
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use tensor::{DType, Tensor};

/// The reductions of `x` over the axes flagged in `reduced`, computed plainly.
struct Naive {
    /// The output shape with reduced axes kept as 1.
    kept_shape: Vec<usize>,
    reduced: Vec<bool>,
    /// Elements folded into each output.
    count: usize,
    sum: Vec<f64>,
    /// Σ|x| per output, the scale of the rounding error of its sum.
    magnitude: Vec<f64>,
    max: Vec<f64>,
    min: Vec<f64>,
    /// The index of the first largest element per output (row-major order).
    argmax: Vec<Vec<usize>>,
}

impl Naive {
    fn new(x: &Tensor, reduced: &[bool]) -> Naive {
        let kept_shape: Vec<usize> = (0..x.ndim())
            .map(|k| if reduced[k] { 1 } else { x.shape()[k] })
            .collect();
        let outputs: usize = kept_shape.iter().product();
        let mut naive = Naive {
            count: (0..x.ndim())
                .filter(|&k| reduced[k])
                .map(|k| x.shape()[k])
                .product(),
            reduced: reduced.to_vec(),
            sum: vec![0.0; outputs],
            magnitude: vec![0.0; outputs],
            max: vec![f64::NEG_INFINITY; outputs],
            min: vec![f64::INFINITY; outputs],
            argmax: vec![vec![]; outputs],
            kept_shape,
        };
        for i in all_indices(x.shape()) {
            let kept: Vec<usize> = (0..x.ndim())
                .map(|k| if reduced[k] { 0 } else { i[k] })
                .collect();
            let o = flat_index(&kept, &naive.kept_shape);
            let v = x.get(&i);
            naive.sum[o] += v;
            naive.magnitude[o] += v.abs();
            naive.min[o] = naive.min[o].min(v);
            if naive.argmax[o].is_empty() || v > naive.max[o] {
                naive.max[o] = v;
                naive.argmax[o] = i;
            }
        }
        naive
    }

    fn out_shape(&self, keepdim: bool) -> Vec<usize> {
        let kept = self.kept_shape.iter().zip(&self.reduced);
        kept.filter(|(_, &r)| keepdim || !r)
            .map(|(&s, _)| s)
            .collect()
    }

    /// Tolerance of each sum for `dtype`, divided by `divisor` (the count, for a mean).
    fn sum_tolerance(&self, dtype: DType, extra_roundings: usize, divisor: f64) -> Vec<f64> {
        let rounding = (self.count + extra_roundings) as f64 * eps(dtype);
        self.magnitude
            .iter()
            .map(|m| rounding * m / divisor)
            .collect()
    }
}

/// A list of axes from bit masks: which axes, which written negative, in shuffled order.
fn axes_from(ndim: usize, mask: u8, negative: u8, rotate: usize) -> Vec<isize> {
    let mut axes: Vec<isize> = (0..ndim)
        .filter(|&k| mask >> k & 1 == 1)
        .map(|k| {
            if negative >> k & 1 == 1 {
                k as isize - ndim as isize
            } else {
                k as isize
            }
        })
        .collect();
    if !axes.is_empty() {
        let n = axes.len();
        axes.rotate_left(rotate % n);
    }
    axes
}

/// Every reduction of `x` over `axes` against the reference.
fn check_reductions(x: &Tensor, axes: &[isize], keepdim: bool) -> Result<(), TestCaseError> {
    let ndim = x.ndim() as isize;
    let reduced: Vec<bool> = (0..ndim)
        .map(|k| axes.iter().any(|&a| a.rem_euclid(ndim) == k))
        .collect();
    let naive = Naive::new(x, &reduced);
    let shape = naive.out_shape(keepdim);

    let sum = x.sum(axes, keepdim);
    prop_assert_eq!(sum.shape(), &shape[..]);
    assert_close(
        &sum.to_vec::<f64>(),
        &naive.sum,
        &naive.sum_tolerance(x.dtype(), 0, 1.0),
        "sum",
    );

    let mean = x.mean(axes, keepdim);
    prop_assert_eq!(mean.shape(), &shape[..]);
    let count = naive.count as f64;
    let expected: Vec<f64> = naive.sum.iter().map(|s| s / count).collect();
    // Two more roundings: 1/count, and the product.
    let tolerance = naive.sum_tolerance(x.dtype(), 2, count);
    assert_close(&mean.to_vec::<f64>(), &expected, &tolerance, "mean");

    if x.numel() > 0 {
        let (max, min) = (x.max(axes, keepdim), x.min(axes, keepdim));
        prop_assert_eq!(max.shape(), &shape[..]);
        prop_assert_eq!(min.shape(), &shape[..]);
        prop_assert_eq!(max.to_vec::<f64>(), naive.max.clone());
        prop_assert_eq!(min.to_vec::<f64>(), naive.min.clone());

        let (values, flat) = x.max_with_indices(axes, keepdim);
        prop_assert_eq!(values.shape(), &shape[..]);
        prop_assert_eq!(values.to_vec::<f64>(), naive.max.clone());
        let expected: Vec<usize> = naive
            .argmax
            .iter()
            .map(|i| flat_index(i, x.shape()))
            .collect();
        prop_assert_eq!(flat, expected);
    }
    Ok(())
}

/// A random view whose innermost axis has size ≥ 2, so it decides the loop order.
fn spec_with_long_last_axis() -> impl Strategy<Value = Spec> {
    (shape(3), 2usize..5).prop_flat_map(|(mut shape, last)| {
        shape.push(last);
        spec_of(shape)
    })
}

proptest! {
    #[test]
    fn reductions_over_random_axes(
        spec in spec(),
        (mask, negative, rotate) in (any::<u8>(), any::<u8>(), 0usize..4),
        keepdim in any::<bool>(),
    ) {
        let x = spec.build();
        check_reductions(&x, &axes_from(x.ndim(), mask, negative, rotate), keepdim)?;
    }

    #[test]
    fn reductions_over_the_innermost_axis(
        spec in spec_with_long_last_axis(),
        (mask, negative) in (any::<u8>(), any::<u8>()),
        keepdim in any::<bool>(),
    ) {
        // Row sums: each output folds its own runs.
        let x = spec.build();
        let last = x.ndim() - 1;
        check_reductions(&x, &axes_from(x.ndim(), mask | 1 << last, negative, 0), keepdim)?;
    }

    #[test]
    fn reductions_over_outer_axes_only(
        spec in spec_with_long_last_axis(),
        (mask, negative) in (any::<u8>(), any::<u8>()),
        keepdim in any::<bool>(),
    ) {
        // Column sums: the input is walked once, each element added into its output.
        let x = spec.build();
        let last = x.ndim() - 1;
        check_reductions(&x, &axes_from(x.ndim(), mask & !(1 << last), negative, 0), keepdim)?;
    }

    #[test]
    fn argmax_gives_the_first_largest_along_an_axis(spec in spec(), axis in 0usize..4) {
        let x = spec.build();
        prop_assume!(x.ndim() > 0 && x.numel() > 0);
        let axis = axis % x.ndim();
        let mut reduced = vec![false; x.ndim()];
        reduced[axis] = true;
        let naive = Naive::new(&x, &reduced);
        let expected: Vec<usize> = naive.argmax.iter().map(|i| i[axis]).collect();
        prop_assert_eq!(x.argmax(axis as isize), expected.clone());
        prop_assert_eq!(x.argmax(axis as isize - x.ndim() as isize), expected);
    }

    #[test]
    fn sum_all_and_mean_all(spec in spec()) {
        let x = spec.build();
        let values = naive_values(&x);
        let n = values.len();
        let sum: f64 = values.iter().sum();
        let magnitude: f64 = values.iter().map(|v| v.abs()).sum();
        let (total, mean) = (x.sum_all(), x.mean_all());
        prop_assert_eq!(total.shape(), &[] as &[usize]);
        prop_assert_eq!(mean.shape(), &[] as &[usize]);
        let tolerance = n as f64 * eps(x.dtype()) * magnitude;
        assert_close(&[total.item()], &[sum], &[tolerance], "sum_all");
        let tolerance = (n + 2) as f64 * eps(x.dtype()) * magnitude / n as f64;
        assert_close(&[mean.item()], &[sum / n as f64], &[tolerance], "mean_all");
    }

    #[test]
    fn sum_to_undoes_a_broadcast(
        spec in spec(),
        lead in shape(2),
        sizes in prop::collection::vec(1usize..4, 4),
    ) {
        // sum_to(broadcast_to(x, s), shape(x)) = x · (how many copies of each element s holds).
        let x = spec.build();
        let mut target = lead.clone();
        target.extend(x.shape().iter().zip(&sizes).map(|(&s, &n)| if s == 1 { n } else { s }));
        let copies = target.iter().product::<usize>() as f64 / x.numel().max(1) as f64;
        let copies = if x.numel() == 0 { 0.0 } else { copies };
        let back = x.broadcast_to(&target).sum_to(x.shape());
        prop_assert_eq!(back.shape(), x.shape());
        let expected: Vec<f64> = naive_values(&x).iter().map(|v| v * copies).collect();
        let tolerance: Vec<f64> =
            expected.iter().map(|v| copies * eps(x.dtype()) * v.abs()).collect();
        assert_close(&back.to_vec::<f64>(), &expected, &tolerance, "sum_to");
    }

    #[test]
    fn sum_to_sums_the_broadcast_axes(spec in spec(), mask in any::<u8>(), lead in 0usize..3) {
        // Any target that broadcasts to shape(x): summed over the axes it lacks or has as 1.
        let x = spec.build();
        let ndim = x.ndim();
        let lead = lead.min(ndim);
        let target = ones_at(x.shape(), mask)[lead..].to_vec();
        let reduced: Vec<bool> = (0..ndim)
            .map(|k| k < lead || (target[k - lead] == 1 && x.shape()[k] != 1))
            .collect();
        let naive = Naive::new(&x, &reduced);
        let out = x.sum_to(&target);
        prop_assert_eq!(out.shape(), &target[..]);
        let tolerance = naive.sum_tolerance(x.dtype(), 0, 1.0);
        assert_close(&out.to_vec::<f64>(), &naive.sum, &tolerance, "sum_to");
    }
}

#[test]
fn sum_to_a_shape_that_does_not_broadcast_is_an_error() {
    let err = Tensor::ones(&[2, 3], DType::F32)
        .try_sum_to(&[2])
        .unwrap_err()
        .to_string();
    assert_eq!(
        err,
        "sum_to: cannot sum [2, 3] down to [2]: [2] does not broadcast to [2, 3]"
    );
}

#[test]
fn sums_of_empty_tensors_are_zero() {
    let x = Tensor::zeros(&[0, 3], DType::F64);
    assert_eq!(x.sum(&[0], false).to_vec::<f64>(), [0.0; 3]);
    assert_eq!(x.sum_all().item(), 0.0);
    assert!(x
        .mean(&[0], false)
        .to_vec::<f64>()
        .iter()
        .all(|v| v.is_nan()));
}

#[test]
#[should_panic(expected = "max: cannot reduce the empty tensor of shape [0, 3]")]
fn max_of_an_empty_tensor_panics() {
    Tensor::zeros(&[0, 3], DType::F32).max(&[0], false);
}

#[test]
#[should_panic(expected = "sum: axis 2 is out of range for a tensor with 2 axes")]
fn an_axis_out_of_range_panics() {
    Tensor::zeros(&[2, 3], DType::F32).sum(&[2], false);
}

#[test]
fn max_and_min_propagate_nan_wherever_it_sits() {
    for at in 0..3 {
        let mut data = vec![1.0f32, 2.0, 3.0];
        data[at] = f32::NAN;
        let x = Tensor::from_vec(data, &[3]).unwrap();
        // Both loop orders: the reduced axis innermost, and outermost (a kept axis inside).
        let rows = x.reshape(&[1, 3]);
        let columns = x.reshape(&[3, 1]).broadcast_to(&[3, 2]);
        for (t, axis) in [(&rows, 1), (&columns, 0)] {
            for reduced in [t.max(&[axis], false), t.min(&[axis], false)] {
                let values = reduced.to_vec::<f32>();
                assert!(values.iter().all(|v| v.is_nan()), "NaN at {at}: {values:?}");
            }
            let (values, flat) = t.max_with_indices(&[axis], false);
            assert!(values.to_vec::<f32>().iter().all(|v| v.is_nan()));
            assert_eq!(t.argmax(axis), vec![at; flat.len()], "NaN at {at}");
        }
    }
}

/// `mul_sum_to` is `(x ⊙ y).sum_to(shape)` bit for bit, on both loop orders (an innermost
/// axis summed: per-channel, `[N, C, H, W] → [1, C, 1, 1]`; only outer axes summed: a step
/// size shared by tasks, `[T, m, n] → [m, n]`), on a strided inner walk, and on the
/// two-step fallbacks (a broadcast operand, a transposed one).
#[test]
fn mul_sum_to_is_the_product_summed_bit_for_bit() {
    use tensor::rand::{rngs::StdRng, SeedableRng};
    let mut rng = StdRng::seed_from_u64(7);
    let cases: [(&[usize], &[usize]); 8] = [
        (&[5, 6, 7, 9], &[1, 6, 1, 1]),
        (&[5, 6, 7, 9], &[6, 1, 1]),
        (&[13, 40, 40], &[40, 40]),
        (&[13, 10, 40], &[13, 1, 40]),
        (&[3, 4, 1, 5], &[4, 1, 1]),
        (&[2, 3, 4], &[1]),
        (&[2, 3, 4], &[]),
        (&[4, 1, 3], &[1, 3]),
    ];
    for dtype in [DType::F32, DType::F64] {
        for (from, to) in cases {
            let x = Tensor::rand_normal(from, 0.0, 1.0, dtype, &mut rng);
            let y = Tensor::rand_normal(from, 0.0, 1.0, dtype, &mut rng);
            let fused = x.mul_sum_to(&y, to);
            let two_step = x.mul(&y).sum_to(to);
            assert_eq!(fused.shape(), to, "{from:?} → {to:?}");
            assert_eq!(
                fused.to_vec::<f64>(),
                two_step.to_vec::<f64>(),
                "{from:?} → {to:?} ({dtype})"
            );
        }
        // Fallbacks: y broadcast, x transposed.
        let x = Tensor::rand_normal(&[4, 5], 0.0, 1.0, dtype, &mut rng);
        let y = Tensor::rand_normal(&[5], 0.0, 1.0, dtype, &mut rng);
        assert_eq!(
            x.mul_sum_to(&y, &[5]).to_vec::<f64>(),
            x.mul(&y).sum_to(&[5]).to_vec::<f64>()
        );
        let xt = Tensor::rand_normal(&[5, 4], 0.0, 1.0, dtype, &mut rng).t();
        assert_eq!(
            xt.mul_sum_to(&x, &[1, 5]).to_vec::<f64>(),
            xt.mul(&x).sum_to(&[1, 5]).to_vec::<f64>()
        );
    }
}

#[test]
fn mul_sum_to_a_shape_that_does_not_broadcast_is_an_error() {
    let x = Tensor::zeros(&[2, 3], DType::F32);
    let err = x.try_mul_sum_to(&x, &[2]).unwrap_err().to_string();
    assert!(
        err.starts_with("mul_sum_to: cannot sum [2, 3] down to [2]"),
        "{err}"
    );
}

/// Large reductions fold blocks of outputs in lockstep on rayon's threads
/// (`reduce::fold_each`); each output must fold its runs in the same order whatever the
/// blocks and threads, and the sums must be the sums.
#[test]
fn blocked_reductions_do_not_depend_on_the_number_of_threads() {
    let mut rng = <rand::rngs::StdRng as rand::SeedableRng>::seed_from_u64(12);
    let x = Tensor::rand_normal(&[9, 64, 13, 11], 0.0, 1.0, DType::F32, &mut rng);
    let g = Tensor::rand_normal(&[9, 64, 13, 11], 0.0, 1.0, DType::F32, &mut rng);
    let cases = || {
        [
            x.sum(&[0, 2, 3], true),
            x.sum_to(&[64, 1, 1]),
            g.mul_sum_to(&x, &[1, 64, 1, 1]),
            x.max(&[0, 2, 3], false),
            x.sum(&[-1], false),
        ]
        .map(|t| t.to_vec::<f32>())
    };
    let serial = common::on_threads(3, || tensor::parallel::serial(cases));
    for threads in [1, 2, 3] {
        assert!(
            common::on_threads(threads, cases) == serial,
            "reductions differ on {threads} threads"
        );
    }
    // Per channel, against an f64 sum.
    let (xs, gs) = (x.to_vec::<f32>(), g.to_vec::<f32>());
    let [sums, sums_to, dots, ..] = &serial;
    for c in 0..64 {
        let (mut sum, mut dot) = (0.0f64, 0.0f64);
        for n in 0..9 {
            for r in 0..13 * 11 {
                let i = (n * 64 + c) * 13 * 11 + r;
                sum += xs[i] as f64;
                dot += xs[i] as f64 * gs[i] as f64;
            }
        }
        assert!((sums[c] as f64 - sum).abs() < 1e-3, "sum of channel {c}");
        assert_eq!(sums[c], sums_to[c], "sum and sum_to of channel {c}");
        assert!(
            (dots[c] as f64 - dot).abs() < 1e-3,
            "mul_sum_to of channel {c}"
        );
    }
}
