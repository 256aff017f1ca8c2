//! Shared helpers for the property tests.
//!
//! - Strategies: random shapes (0–4 axes, including size-0 and size-1 axes), random data, and
//!   random *views* of that data (permuted, narrowed, broadcast, unsqueezed, in any
//!   combination), in `f32` and `f64`. A [`Spec`] is the recipe; [`Spec::build`] makes the
//!   tensor, so proptest shrinks the recipe (fewer view steps, smaller shapes).
//! - Naive references: every expected value is read one element at a time with
//!   [`Tensor::get`] in plain index loops ([`all_indices`], [`naive_values`]).
//! - Comparisons with honest tolerances ([`assert_close`]).
//! - [`on_threads`]: run a computation on a rayon pool of a given size, for the tests that
//!   results do not depend on the thread count.
#![allow(dead_code)]

use proptest::prelude::*;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use tensor::{DType, Tensor};

/// One axis size: mostly 2–4, often 1 (broadcasting, squeezing), sometimes 0 (empty).
pub fn axis_size() -> impl Strategy<Value = usize> {
    prop_oneof![1 => Just(0usize), 4 => Just(1usize), 10 => 2usize..=4]
}

/// A shape of 0 to `max_ndim` axes.
pub fn shape(max_ndim: usize) -> impl Strategy<Value = Vec<usize>> {
    prop::collection::vec(axis_size(), 0..=max_ndim)
}

pub fn dtype() -> impl Strategy<Value = DType> {
    prop_oneof![Just(DType::F32), Just(DType::F64)]
}

/// Which numbers fill a tensor.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Values {
    /// Integers in -3..=3: exact sums, and ties for max/argmax.
    Integers,
    /// Reals in [-4, 4).
    Reals,
}

pub fn values() -> impl Strategy<Value = Values> {
    prop_oneof![Just(Values::Integers), Just(Values::Reals)]
}

/// One view applied on top of the tensor built by the steps before it. The numbers are
/// interpreted modulo what fits the shape at that point (see [`build_view`]).
#[derive(Clone, Debug)]
pub enum Step {
    /// Permute the axes (by a permutation drawn from this seed).
    Permute(u64),
    /// Narrow `axis` of a tensor `before + after` longer.
    Narrow {
        axis: usize,
        before: usize,
        after: usize,
    },
    /// Broadcast from a tensor with the axes in the bit mask `ones` set to 1 and `lead`
    /// leading axes missing.
    Broadcast { ones: u8, lead: usize },
    /// Unsqueeze one of the size-1 axes.
    Unsqueeze(usize),
}

pub fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        any::<u64>().prop_map(Step::Permute),
        (0..4usize, 0..3usize, 0..3usize).prop_map(|(axis, before, after)| Step::Narrow {
            axis,
            before,
            after
        }),
        (any::<u8>(), 0..3usize).prop_map(|(ones, lead)| Step::Broadcast { ones, lead }),
        (0..4usize).prop_map(Step::Unsqueeze),
    ]
}

/// The recipe of a random tensor: its shape, type, values, and the views that produce it.
#[derive(Clone, Debug)]
pub struct Spec {
    pub shape: Vec<usize>,
    pub dtype: DType,
    pub values: Values,
    pub steps: Vec<Step>,
    pub seed: u64,
}

impl Spec {
    /// The tensor: `shape`, reached through `steps` from random contiguous data.
    pub fn build(&self) -> Tensor {
        let mut rng = StdRng::seed_from_u64(self.seed);
        let t = build_view(&self.shape, &self.steps, self.dtype, self.values, &mut rng);
        assert_eq!(
            t.shape(),
            &self.shape[..],
            "the view recipe {self:?} is wrong"
        );
        t
    }
}

/// A random tensor of the given shape and type (any values, any view).
pub fn spec_with(shape: Vec<usize>, dtype: DType) -> impl Strategy<Value = Spec> {
    (values(), prop::collection::vec(step(), 0..4), any::<u64>()).prop_map(
        move |(values, steps, seed)| Spec {
            shape: shape.clone(),
            dtype,
            values,
            steps,
            seed,
        },
    )
}

/// A random tensor of the given shape, either type.
pub fn spec_of(shape: Vec<usize>) -> impl Strategy<Value = Spec> {
    dtype().prop_flat_map(move |dtype| spec_with(shape.clone(), dtype))
}

/// A random tensor of a random shape with up to 4 axes.
pub fn spec() -> impl Strategy<Value = Spec> {
    shape(4).prop_flat_map(spec_of)
}

/// `shape` with the axes in the bit mask set to 1.
pub fn ones_at(shape: &[usize], mask: u8) -> Vec<usize> {
    (0..shape.len())
        .map(|k| if mask >> k & 1 == 1 { 1 } else { shape[k] })
        .collect()
}

/// Two shapes that broadcast together: both derived from one full shape by setting random
/// axes to 1, one of them also missing random leading axes (on either side).
pub fn broadcast_pair() -> impl Strategy<Value = (Vec<usize>, Vec<usize>)> {
    (shape(4), any::<u8>(), any::<u8>(), 0..3usize, any::<bool>()).prop_map(
        |(full, mask_a, mask_b, lead, swap)| {
            let a = ones_at(&full, mask_a);
            let b = ones_at(&full, mask_b)[lead.min(full.len())..].to_vec();
            if swap {
                (b, a)
            } else {
                (a, b)
            }
        },
    )
}

/// A contiguous tensor of `shape` with random values.
pub fn random_contiguous(
    shape: &[usize],
    dtype: DType,
    values: Values,
    rng: &mut StdRng,
) -> Tensor {
    let numel: usize = shape.iter().product();
    let data: Vec<f64> = (0..numel)
        .map(|_| match values {
            Values::Integers => rng.random_range(-3..=3) as f64,
            Values::Reals => rng.random_range(-4.0..4.0),
        })
        .collect();
    Tensor::from_vec(data, shape).unwrap().to_dtype(dtype)
}

/// A tensor of `shape` made by the last of `steps` from a tensor made (recursively) by the
/// others. A step that cannot apply to `shape` (a permutation of < 2 axes, an unsqueeze with
/// no size-1 axis, …) is skipped.
pub fn build_view(
    shape: &[usize],
    steps: &[Step],
    dtype: DType,
    values: Values,
    rng: &mut StdRng,
) -> Tensor {
    let Some((step, rest)) = steps.split_last() else {
        return random_contiguous(shape, dtype, values, rng);
    };
    let ndim = shape.len();
    let mut below = |base: &[usize]| build_view(base, rest, dtype, values, rng);
    match *step {
        Step::Permute(seed) if ndim > 1 => {
            let mut perm: Vec<usize> = (0..ndim).collect();
            perm.shuffle(&mut StdRng::seed_from_u64(seed));
            // Axis k of the result is axis perm[k] of the base.
            let mut base = vec![0; ndim];
            for k in 0..ndim {
                base[perm[k]] = shape[k];
            }
            below(&base).permute(&perm)
        }
        Step::Narrow {
            axis,
            before,
            after,
        } if ndim > 0 => {
            let axis = axis % ndim;
            let mut base = shape.to_vec();
            base[axis] += before + after;
            below(&base).narrow(axis as isize, before, shape[axis])
        }
        Step::Broadcast { ones, lead } => {
            let base = ones_at(shape, ones)[lead.min(ndim)..].to_vec();
            below(&base).broadcast_to(shape)
        }
        Step::Unsqueeze(pick) if shape.contains(&1) => {
            let ones: Vec<usize> = (0..ndim).filter(|&k| shape[k] == 1).collect();
            let axis = ones[pick % ones.len()];
            let mut base = shape.to_vec();
            base.remove(axis);
            below(&base).unsqueeze(axis as isize)
        }
        _ => below(shape),
    }
}

/// Every index of `shape`, in row-major order (one empty index for a 0-d shape).
pub fn all_indices(shape: &[usize]) -> Vec<Vec<usize>> {
    let mut out = vec![vec![]];
    for &size in shape {
        out = out
            .into_iter()
            .flat_map(|prefix| {
                (0..size).map(move |i| {
                    let mut index = prefix.clone();
                    index.push(i);
                    index
                })
            })
            .collect();
    }
    out
}

/// The elements in row-major order, read one by one with `get`.
pub fn naive_values(t: &Tensor) -> Vec<f64> {
    all_indices(t.shape()).iter().map(|i| t.get(i)).collect()
}

/// The row-major (flat) position of `index` in `shape`.
pub fn flat_index(index: &[usize], shape: &[usize]) -> usize {
    index
        .iter()
        .zip(shape)
        .fold(0, |flat, (&i, &size)| flat * size + i)
}

/// The index of an operand of `shape` read at `index` of the broadcast output: shapes align
/// on the right and a size-1 axis always reads position 0.
pub fn broadcast_index(index: &[usize], shape: &[usize]) -> Vec<usize> {
    let lead = index.len() - shape.len();
    (0..shape.len())
        .map(|k| if shape[k] == 1 { 0 } else { index[lead + k] })
        .collect()
}

/// The broadcast shape of two compatible shapes, written plainly.
pub fn broadcast_shape(a: &[usize], b: &[usize]) -> Vec<usize> {
    let ndim = a.len().max(b.len());
    let size = |s: &[usize], k: usize| {
        if k + s.len() >= ndim {
            s[k + s.len() - ndim]
        } else {
            1
        }
    };
    (0..ndim)
        .map(|k| match (size(a, k), size(b, k)) {
            (1, y) => y,
            (x, _) => x,
        })
        .collect()
}

/// Machine epsilon of `dtype`.
pub fn eps(dtype: DType) -> f64 {
    match dtype {
        DType::F32 => f32::EPSILON as f64,
        DType::F64 => f64::EPSILON,
    }
}

/// `actual` equals `expected` within `tolerance[k]` at each position; NaN matches NaN and an
/// infinity only itself.
pub fn assert_close(actual: &[f64], expected: &[f64], tolerance: &[f64], what: &str) {
    assert_eq!(actual.len(), expected.len(), "{what}: lengths differ");
    for (k, ((&a, &e), &tol)) in actual.iter().zip(expected).zip(tolerance).enumerate() {
        let ok = if e.is_nan() {
            a.is_nan()
        } else if e.is_infinite() {
            a == e
        } else {
            (a - e).abs() <= tol
        };
        assert!(
            ok,
            "{what}: at {k}, got {a}, expected {e} (tolerance {tol:e})\n actual   {actual:?}\n expected {expected:?}"
        );
    }
}

/// [`assert_close`] for results rounded once or a few times: a few ulps of `dtype`, relative.
pub fn assert_close_ulps(actual: &[f64], expected: &[f64], dtype: DType, what: &str) {
    let tolerance: Vec<f64> = expected
        .iter()
        .map(|e| 8.0 * eps(dtype) * e.abs().max(f64::MIN_POSITIVE))
        .collect();
    assert_close(actual, expected, &tolerance, what);
}

/// The same shape and bit-identical elements (so NaN equals NaN).
pub fn identical(a: &Tensor, b: &Tensor) -> bool {
    let bits = |t: &Tensor| -> Vec<u64> { t.to_vec::<f64>().iter().map(|v| v.to_bits()).collect() };
    a.shape() == b.shape() && a.dtype() == b.dtype() && bits(a) == bits(b)
}

/// Matrix dimensions around the edges that matter to the GEMM: 0, 1, the micro-tile (6 × 8 or 6 × 16) ± 1.
pub fn gemm_dim() -> impl Strategy<Value = usize> {
    prop_oneof![
        Just(0usize),
        Just(1),
        2usize..9,
        Just(15),
        Just(16),
        Just(17),
        10usize..48,
    ]
}

/// `f()` run on a fresh rayon pool of `threads` threads (kernels split their work among the
/// threads of the pool they run on).
pub fn on_threads<R: Send>(threads: usize, f: impl FnOnce() -> R + Send) -> R {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .expect("a thread pool")
        .install(f)
}
