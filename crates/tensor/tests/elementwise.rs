//! Element-wise ops against a naive reference: each output element is the f64 math of the
//! input elements read with `get` (at the broadcast index for binary ops), on random views.
//! Tolerance: a few ulps of the tensor's type, relative to the result (`f32` kernels round in
//! `f32`; the reference computes in `f64` from the same `f32` inputs).

mod common;

use common::*;
use proptest::prelude::*;
use rand::rngs::StdRng;
use rand::SeedableRng;
use tensor::{BinaryOp, DType, Tensor};

type UnaryCase = (&'static str, fn(&Tensor) -> Tensor, fn(f64) -> f64);

/// Every op of `unary.rs`, with its math on one element.
const UNARY: &[UnaryCase] = &[
    ("neg", Tensor::neg, |v| -v),
    ("exp", Tensor::exp, f64::exp),
    ("log", Tensor::log, f64::ln),
    ("sqrt", Tensor::sqrt, f64::sqrt),
    ("abs", Tensor::abs, f64::abs),
    ("relu", Tensor::relu, |v| if v > 0.0 { v } else { 0.0 }),
    ("sin", Tensor::sin, f64::sin),
    ("cos", Tensor::cos, f64::cos),
    ("tanh", Tensor::tanh, f64::tanh),
    ("sigmoid", Tensor::sigmoid, |v| 1.0 / (1.0 + (-v).exp())),
    ("powf(3)", |t| t.powf(3.0), |v| v.powf(3.0)),
    ("powf(0.5)", |t| t.powf(0.5), |v| v.powf(0.5)),
    ("powf(-2)", |t| t.powf(-2.0), |v| v.powf(-2.0)),
    ("square", Tensor::square, |v| v * v),
    ("recip", Tensor::recip, |v| 1.0 / v),
    ("sign", Tensor::sign, |v| {
        if v == 0.0 {
            0.0
        } else {
            v.signum()
        }
    }),
    ("add_scalar", |t| t.add_scalar(-1.25), |v| v - 1.25),
    ("mul_scalar", |t| t.mul_scalar(0.75), |v| v * 0.75),
    ("clamp", |t| t.clamp(-1.5, 2.0), |v| v.clamp(-1.5, 2.0)),
    ("positive_mask", Tensor::positive_mask, |v| mask(v > 0.0)),
];

type BinaryCase = (
    BinaryOp,
    fn(&Tensor, &Tensor) -> Tensor,
    fn(f64, f64) -> f64,
);

/// Every [`BinaryOp`], with its named method and its math on one pair of elements.
const BINARY: &[BinaryCase] = &[
    (BinaryOp::Add, Tensor::add, |u, v| u + v),
    (BinaryOp::Sub, Tensor::sub, |u, v| u - v),
    (BinaryOp::Mul, Tensor::mul, |u, v| u * v),
    (BinaryOp::Div, Tensor::div, |u, v| u / v),
    (BinaryOp::Maximum, Tensor::maximum, f64::max),
    (BinaryOp::Minimum, Tensor::minimum, f64::min),
    (BinaryOp::Pow, Tensor::pow, f64::powf),
    (BinaryOp::Eq, Tensor::eq_mask, |u, v| mask(u == v)),
    (BinaryOp::Ne, Tensor::ne_mask, |u, v| mask(u != v)),
    (BinaryOp::Lt, Tensor::lt_mask, |u, v| mask(u < v)),
    (BinaryOp::Le, Tensor::le_mask, |u, v| mask(u <= v)),
    (BinaryOp::Gt, Tensor::gt_mask, |u, v| mask(u > v)),
    (BinaryOp::Ge, Tensor::ge_mask, |u, v| mask(u >= v)),
];

fn mask(holds: bool) -> f64 {
    if holds {
        1.0
    } else {
        0.0
    }
}

/// Two random views of one type whose shapes broadcast together.
fn broadcast_operands() -> impl Strategy<Value = (Spec, Spec)> {
    (broadcast_pair(), dtype())
        .prop_flat_map(|((a, b), dtype)| (spec_with(a, dtype), spec_with(b, dtype)))
}

/// Three random views of one type whose shapes broadcast together.
fn select_operands() -> impl Strategy<Value = (Spec, Spec, Spec)> {
    (shape(4), any::<[u8; 3]>(), 0..3usize, 0..3usize, dtype()).prop_flat_map(
        |(full, masks, operand, lead, dtype)| {
            let mut shapes = masks.map(|m| ones_at(&full, m));
            shapes[operand] = shapes[operand][lead.min(full.len())..].to_vec();
            let [m, t, f] = shapes;
            (
                spec_with(m, dtype),
                spec_with(t, dtype),
                spec_with(f, dtype),
            )
        },
    )
}

/// The f64 reference of `f` over the broadcast of `a` and `b`.
fn naive_zip(a: &Tensor, b: &Tensor, f: fn(f64, f64) -> f64) -> (Vec<usize>, Vec<f64>) {
    let shape = broadcast_shape(a.shape(), b.shape());
    let values = all_indices(&shape)
        .iter()
        .map(|i| {
            f(
                a.get(&broadcast_index(i, a.shape())),
                b.get(&broadcast_index(i, b.shape())),
            )
        })
        .collect();
    (shape, values)
}

proptest! {
    #[test]
    fn unary_ops_match_the_math(spec in spec()) {
        let x = spec.build();
        for &(name, op, f) in UNARY {
            let y = op(&x);
            prop_assert_eq!(y.shape(), x.shape(), "{}", name);
            prop_assert_eq!(y.dtype(), x.dtype(), "{}", name);
            prop_assert!(y.is_contiguous(), "{}", name);
            // NOTE: for f32, round the reference's output through f32 first, so an f64
            // result outside f32's range compares as the infinity the kernel produced.
            let expected: Vec<f64> = naive_values(&x)
                .iter()
                .map(|&v| match x.dtype() {
                    DType::F32 => f(v) as f32 as f64,
                    DType::F64 => f(v),
                })
                .collect();
            assert_close_ulps(&y.to_vec::<f64>(), &expected, x.dtype(), name);
        }
    }

    #[test]
    fn binary_ops_broadcast_and_match_the_math((a, b) in broadcast_operands()) {
        let (a, b) = (a.build(), b.build());
        for &(op, method, f) in BINARY {
            let out = a.zip(op, &b);
            let (shape, expected) = naive_zip(&a, &b, f);
            prop_assert_eq!(out.shape(), &shape[..], "{}", op.name());
            let expected: Vec<f64> = match a.dtype() {
                DType::F32 => expected.iter().map(|&v| v as f32 as f64).collect(),
                DType::F64 => expected,
            };
            assert_close_ulps(&out.to_vec::<f64>(), &expected, a.dtype(), op.name());
            // The named method is the same op.
            prop_assert!(identical(&method(&a, &b), &out), "{}", op.name());
        }
    }

    #[test]
    fn operators_call_the_named_methods((a, b) in broadcast_operands()) {
        let (a, b) = (a.build(), b.build());
        let same = |x: Tensor, y: Tensor| identical(&x, &y);
        prop_assert!(same(&a + &b, a.add(&b)));
        prop_assert!(same(&a - &b, a.sub(&b)));
        prop_assert!(same(&a * &b, a.mul(&b)));
        prop_assert!(same(&a / &b, a.div(&b)));
        prop_assert!(same(-&a, a.neg()));
        prop_assert!(same(&a + 1.5, a.add_scalar(1.5)));
        prop_assert!(same(&a - 1.5, a.add_scalar(-1.5)));
        prop_assert!(same(&a * 0.5, a.mul_scalar(0.5)));
        prop_assert!(same(&a / 4.0, a.mul_scalar(0.25)));
    }

    #[test]
    fn select_picks_by_the_mask((m, t, f) in select_operands()) {
        let (m, t, f) = (m.build(), t.build(), f.build());
        let out = m.select(&t, &f);
        let shape = broadcast_shape(&broadcast_shape(m.shape(), t.shape()), f.shape());
        prop_assert_eq!(out.shape(), &shape[..]);
        for i in all_indices(&shape) {
            let chosen = if m.get(&broadcast_index(&i, m.shape())) != 0.0 { &t } else { &f };
            prop_assert_eq!(out.get(&i), chosen.get(&broadcast_index(&i, chosen.shape())));
        }
    }

    #[test]
    fn sub_mul_matches_the_math((x, a, b) in select_operands()) {
        let (x, a, b) = (x.build(), a.build(), b.build());
        let out = x.sub_mul(&a, &b);
        let shape = broadcast_shape(&broadcast_shape(x.shape(), a.shape()), b.shape());
        prop_assert_eq!(out.shape(), &shape[..]);
        for i in all_indices(&shape) {
            let [u, v, w] = [&x, &a, &b].map(|t| t.get(&broadcast_index(&i, t.shape())));
            // In the element type, as the kernel computes it: one product, one difference.
            let expected = match x.dtype() {
                DType::F32 => (u as f32 - v as f32 * w as f32) as f64,
                DType::F64 => u - v * w,
            };
            prop_assert_eq!(out.get(&i), expected);
        }
    }

    #[test]
    fn incompatible_shapes_are_named_in_the_error(
        full in prop::collection::vec(1usize..4, 1..4),
        axis in 0usize..4,
        size in 2usize..4,
        dtype in dtype(),
    ) {
        // Equal shapes but for one axis, where the sizes are n ≥ 2 and n + 1.
        let axis = axis % full.len();
        let (mut a, mut b) = (full.clone(), full);
        a[axis] = size;
        b[axis] = size + 1;
        let (x, y) = (Tensor::zeros(&a, dtype), Tensor::zeros(&b, dtype));
        let sizes = format!("axis {axis} has sizes {} and {}", a[axis], b[axis]);
        for &(op, _, _) in BINARY {
            let err = x.try_zip(op, &y).unwrap_err().to_string();
            let expected = format!("{}: cannot broadcast {a:?} with {b:?}: {sizes}", op.name());
            prop_assert_eq!(err, expected);
        }
        let err = x.try_select(&x, &y).unwrap_err().to_string();
        prop_assert_eq!(err, format!("select: cannot broadcast {:?} with {:?}: {}", a, b, sizes));
    }
}

#[test]
fn mixed_element_types_are_an_error() {
    let (a, b) = (
        Tensor::ones(&[2], DType::F32),
        Tensor::ones(&[2], DType::F64),
    );
    let err = a.try_zip(BinaryOp::Mul, &b).unwrap_err().to_string();
    assert_eq!(err, "mul: element types differ: f32 and f64");
    let err = a.try_select(&a, &b).unwrap_err().to_string();
    assert_eq!(err, "select: element types differ: f32 and f64");
}

#[test]
#[should_panic(expected = "sub: cannot broadcast [2, 3] with [4]: axis 1 has sizes 3 and 4")]
fn a_failed_broadcast_panics_with_the_shapes() {
    let _ = &Tensor::zeros(&[2, 3], DType::F64) - &Tensor::zeros(&[4], DType::F64);
}

#[test]
fn sigmoid_saturates_without_overflow() {
    // NOTE: 1 / (1 + e^{-x}) overflows e^{-x} to inf for x = -1000; the kernel must not.
    let x = Tensor::from_vec(vec![-1000.0f32, 0.0, 1000.0], &[3]).unwrap();
    assert_eq!(x.sigmoid().to_vec::<f32>(), [0.0, 0.5, 1.0]);
}

/// A shape and a random order in which to store its axes.
fn shape_and_order() -> impl Strategy<Value = (Vec<usize>, Vec<usize>)> {
    shape(4).prop_flat_map(|full| {
        let order = Just((0..full.len()).collect::<Vec<usize>>()).prop_shuffle();
        (Just(full), order)
    })
}

/// A dense tensor of `full`'s shape whose buffer stores the axes in `order` (as gradients that
/// went through a transpose are stored), owning that buffer alone.
fn stored_in_order(full: &[usize], order: &[usize], dtype: DType, rng: &mut StdRng) -> Tensor {
    let stored: Vec<usize> = order.iter().map(|&k| full[k]).collect();
    let base = random_contiguous(&stored, dtype, Values::Reals, rng);
    let mut inverse = vec![0; order.len()];
    for (position, &axis) in order.iter().enumerate() {
        inverse[axis] = position;
    }
    base.permute(&inverse)
}

proptest! {
    #[test]
    fn add_assign_equals_add_for_any_layouts(
        (full, order) in shape_and_order(),
        mask in any::<u8>(),
        transpose_other in any::<bool>(),
        dtype in dtype(),
        seed in any::<u64>(),
    ) {
        let mut rng = StdRng::seed_from_u64(seed);
        // `other` broadcasts to the target (some axes of size 1), maybe stored transposed.
        let other = random_contiguous(&ones_at(&full, mask), dtype, Values::Reals, &mut rng);
        let other = if transpose_other && other.ndim() >= 2 { other.t().contiguous().t() } else { other };

        // Owned alone: the sum is written in place, in the target's own memory order.
        let mut owned = stored_in_order(&full, &order, dtype, &mut rng);
        let expected = owned.add(&other);
        owned.add_assign(&other);
        prop_assert!(identical(&owned, &expected));

        // Shared with another tensor: the other tensor must not see the addition.
        let mut shared = stored_in_order(&full, &order, dtype, &mut rng);
        let witness = shared.clone();
        let before = witness.to_vec::<f64>();
        let expected = shared.add(&other);
        shared.add_assign(&other);
        prop_assert!(identical(&shared, &expected));
        prop_assert_eq!(witness.to_vec::<f64>(), before);
    }
}

/// Large element-wise ops split their output across threads (`walk::collect_runs`): blocks of
/// short runs, or pieces of long runs. Every pattern must give the serial result bit for bit,
/// and the serial result must match the element-by-element reference.
#[test]
fn split_element_wise_kernels_match_the_serial_ones() {
    let mut rng = StdRng::seed_from_u64(11);
    let normal =
        |shape: &[usize], rng: &mut StdRng| Tensor::rand_normal(shape, 0.0, 1.0, DType::F32, rng);
    // [N, C, H, W] activations against per-channel vectors (short runs of H·W), against
    // themselves transposed (stride ≠ 1), and a contiguous pair of a length that 2^14 does
    // not divide (one long run, cut into pieces with a short last piece).
    let x = normal(&[7, 64, 13, 11], &mut rng);
    let channel = normal(&[64, 1, 1], &mut rng);
    let scale = normal(&[1, 64, 1, 1], &mut rng);
    let plane = normal(&[13, 11], &mut rng);
    let long_a = normal(&[100_003], &mut rng);
    let long_b = normal(&[100_003], &mut rng);
    let square = normal(&[300, 301], &mut rng);
    let square_t = normal(&[301, 300], &mut rng).t();
    let cases = || {
        vec![
            x.add(&channel),
            channel.sub(&x),
            x.mul(&plane),
            x.sub_mul(&scale, &channel),
            channel.sub_mul(&x, &scale),
            x.sub_mul(&x, &plane),
            long_a.sub_mul(&long_b, &long_a),
            long_a.add(&long_b.reshape(&[100_003])),
            square.mul(&square_t),
            square_t.sub_mul(&square, &square_t),
            x.gt_mask(&channel).select(&x, &scale),
        ]
        .into_iter()
        .map(|t| (t.shape().to_vec(), t.to_vec::<f32>()))
        .collect::<Vec<_>>()
    };
    let serial = on_threads(3, || tensor::parallel::serial(cases));
    for threads in [2, 3] {
        assert!(
            on_threads(threads, cases) == serial,
            "split results differ from the serial ones on {threads} threads"
        );
    }
    // The serial results are the element-wise math (checked here for two of the patterns).
    let (shape, values) = &serial[0];
    assert_eq!(shape, &[7, 64, 13, 11]);
    let (xs, cs) = (x.to_vec::<f32>(), channel.to_vec::<f32>());
    for (i, &v) in values.iter().enumerate() {
        assert_eq!(v, xs[i] + cs[(i / (13 * 11)) % 64], "add at {i}");
    }
    let (a, b) = (long_a.to_vec::<f32>(), long_b.to_vec::<f32>());
    for (i, &v) in serial[6].1.iter().enumerate() {
        assert_eq!(v, a[i] - b[i] * a[i], "sub_mul at {i}");
    }
}

/// The fused backward kernels of sigmoid and tanh give the composite's values to the bit
/// (the autograd rules switched to them without changing any result), also strided and
/// broadcast, in both element types, with values from saturated to zero.
#[test]
fn sigmoid_and_tanh_backward_match_their_composites_bit_for_bit() {
    let mut rng = StdRng::seed_from_u64(5);
    for dtype in [DType::F32, DType::F64] {
        let x = Tensor::rand_normal(&[7, 40], 0.0, 4.0, dtype, &mut rng);
        let g = Tensor::rand_normal(&[7, 40], 0.0, 1.0, dtype, &mut rng);
        let (s, t) = (x.sigmoid(), x.tanh());
        let one = Tensor::scalar(1.0).to_dtype(dtype);
        for (g, s, t) in [
            (g.clone(), s.clone(), t.clone()),
            // Column blocks, as an LSTM's gates are, and a gradient broadcast along rows.
            (g.narrow(1, 8, 13), s.narrow(1, 3, 13), t.narrow(1, 20, 13)),
            (g.narrow(0, 2, 1), s.clone(), t.clone()),
        ] {
            let sigmoid_composite = g.mul(&s.mul(&s.neg().add(&one)));
            let tanh_composite = g.mul(&t.mul(&t).neg().add(&one));
            assert!(identical(&g.sigmoid_backward(&s), &sigmoid_composite));
            assert!(identical(&g.tanh_backward(&t), &tanh_composite));
        }
    }
}

proptest! {
    /// `add_assign_within` is `add_assign` of the padded tensor, whatever the target's layout
    /// and whether it owns its buffer (in place) or shares it (a fresh sum, the other user
    /// unchanged).
    #[test]
    fn add_assign_within_equals_adding_the_padded_tensor(
        (full, order) in shape_and_order(),
        cuts in proptest::collection::vec((0usize..3, 0usize..3), 4),
        dtype in dtype(),
        shared in any::<bool>(),
        seed in any::<u64>(),
    ) {
        let mut rng = StdRng::seed_from_u64(seed);
        // The padding: before + after never more than the axis holds.
        let padding: Vec<(usize, usize)> = full
            .iter()
            .zip(&cuts)
            .map(|(&size, &(before, after))| (before.min(size), after.min(size - before.min(size))))
            .collect();
        let inner: Vec<usize> =
            full.iter().zip(&padding).map(|(&size, &(b, a))| size - b - a).collect();
        let other = random_contiguous(&inner, dtype, Values::Reals, &mut rng);
        let mut target = stored_in_order(&full, &order, dtype, &mut rng);
        let witness = shared.then(|| target.clone());
        let before = target.to_vec::<f64>();
        let mut expected = target.clone();
        expected.add_assign(&other.pad(&padding));
        target.add_assign_within(&padding, &other);
        prop_assert!(identical(&target, &expected));
        if let Some(witness) = witness {
            prop_assert_eq!(witness.to_vec::<f64>(), before);
        }
    }
}

#[test]
#[should_panic(
    expected = "add_assign_within: [2, 2] padded by [(0, 0), (1, 0)] does not make [2, 4]"
)]
fn add_assign_within_names_the_shapes_that_do_not_fit() {
    let mut sum = Tensor::zeros(&[2, 4], DType::F32);
    sum.add_assign_within(&[(0, 0), (1, 0)], &Tensor::zeros(&[2, 2], DType::F32));
}
