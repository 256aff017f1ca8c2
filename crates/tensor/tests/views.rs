//! Views against a naive reference: each view's element at `i` must be the source's element
//! at the index the view maps `i` to, read with `get`. Views share storage and copy nothing;
//! only `reshape` of a non-contiguous tensor copies.

mod common;

use common::*;
use proptest::prelude::*;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use tensor::{DType, Tensor};

/// A random permutation of `0..n`.
fn permutation(n: usize, seed: u64) -> Vec<usize> {
    let mut perm: Vec<usize> = (0..n).collect();
    perm.shuffle(&mut StdRng::seed_from_u64(seed));
    perm
}

/// A view shares the storage of its source (so it copied nothing).
fn assert_view_of(view: &Tensor, source: &Tensor) {
    assert!(view.shares_storage(source), "expected a view, got a copy");
    assert_eq!(view.storage().len(), source.storage().len());
}

proptest! {
    #[test]
    fn to_vec_and_get_agree_with_the_layout(spec in spec()) {
        let x = spec.build();
        // `to_vec` walks runs of the layout; `get` computes each offset on its own.
        prop_assert_eq!(x.to_vec::<f64>(), naive_values(&x));
        let other = match x.dtype() { DType::F32 => DType::F64, DType::F64 => DType::F32 };
        let converted: Vec<f64> = naive_values(&x).iter().map(|&v| match other {
            DType::F32 => v as f32 as f64,
            DType::F64 => v,
        }).collect();
        prop_assert_eq!(x.to_dtype(other).to_vec::<f64>(), converted);
        let narrowed: Vec<f32> = naive_values(&x).iter().map(|&v| v as f32).collect();
        prop_assert_eq!(x.to_vec::<f32>(), narrowed);
    }

    #[test]
    fn contiguous_copies_only_when_needed(spec in spec()) {
        let x = spec.build();
        let c = x.contiguous();
        prop_assert!(c.is_contiguous());
        prop_assert_eq!(c.shape(), x.shape());
        prop_assert_eq!(naive_values(&c), naive_values(&x));
        prop_assert_eq!(c.shares_storage(&x), x.is_contiguous());
    }

    #[test]
    fn reshape_keeps_row_major_order(spec in spec(), seed in any::<u64>()) {
        let x = spec.build();
        // Same element count: the sizes shuffled, with size-1 axes inserted.
        let mut rng = StdRng::seed_from_u64(seed);
        let mut shape = x.shape().to_vec();
        shape.shuffle(&mut rng);
        for _ in 0..rng.random_range(0..3) {
            let at = rng.random_range(0..=shape.len());
            shape.insert(at, 1);
        }
        let y = x.reshape(&shape);
        prop_assert_eq!(y.shape(), &shape[..]);
        prop_assert_eq!(naive_values(&y), naive_values(&x));
        // A view when the source is contiguous, else one copy.
        prop_assert_eq!(y.shares_storage(&x), x.is_contiguous());
        prop_assert!(y.is_contiguous());
    }

    #[test]
    fn reshape_to_a_wrong_count_is_an_error(spec in spec(), extra in 1usize..4) {
        let x = spec.build();
        let shape = [x.numel() + extra];
        let err = x.try_reshape(&shape).unwrap_err().to_string();
        prop_assert_eq!(err, format!(
            "reshape: cannot view {:?} ({} elements) as {:?} ({} elements)",
            x.shape(), x.numel(), shape, shape[0]
        ));
    }

    #[test]
    fn flatten_from_merges_trailing_axes(spec in spec(), start in 0usize..6) {
        let x = spec.build();
        let y = x.flatten_from(start);
        let start = start.min(x.ndim());
        let mut shape = x.shape()[..start].to_vec();
        shape.push(x.shape()[start..].iter().product());
        prop_assert_eq!(y.shape(), &shape[..]);
        prop_assert_eq!(naive_values(&y), naive_values(&x));
    }

    #[test]
    fn permute_reorders_axes(spec in spec(), seed in any::<u64>()) {
        let x = spec.build();
        let perm = permutation(x.ndim(), seed);
        let y = x.permute(&perm);
        assert_view_of(&y, &x);
        for i in all_indices(y.shape()) {
            // y[i] = x[j] with j[perm[k]] = i[k].
            let mut j = vec![0; x.ndim()];
            for k in 0..x.ndim() {
                j[perm[k]] = i[k];
            }
            prop_assert_eq!(y.get(&i), x.get(&j));
        }
    }

    #[test]
    fn transpose_swaps_two_axes(spec in spec(), a in -4isize..4, b in -4isize..4) {
        let x = spec.build();
        prop_assume!(x.ndim() > 0);
        let n = x.ndim() as isize;
        let (a, b) = (a.rem_euclid(2 * n) - n, b.rem_euclid(2 * n) - n); // in -n..n
        let y = x.transpose(a, b);
        assert_view_of(&y, &x);
        let (ua, ub) = (a.rem_euclid(n) as usize, b.rem_euclid(n) as usize);
        for i in all_indices(y.shape()) {
            let mut j = i.clone();
            j.swap(ua, ub);
            prop_assert_eq!(y.get(&i), x.get(&j));
        }
        if x.ndim() >= 2 {
            let t = x.t();
            let last = x.ndim() - 1;
            for i in all_indices(t.shape()) {
                let mut j = i.clone();
                j.swap(last - 1, last);
                prop_assert_eq!(t.get(&i), x.get(&j));
            }
        }
    }

    #[test]
    fn broadcast_to_repeats_size_one_axes(
        spec in spec(),
        lead in shape(2),
        sizes in prop::collection::vec(1usize..4, 4),
    ) {
        let x = spec.build();
        // New leading axes, and each size-1 axis expanded to a random size.
        let mut target = lead.clone();
        target.extend(x.shape().iter().zip(&sizes).map(|(&s, &n)| if s == 1 { n } else { s }));
        let y = x.broadcast_to(&target);
        assert_view_of(&y, &x);
        prop_assert_eq!(y.shape(), &target[..]);
        for i in all_indices(&target) {
            prop_assert_eq!(y.get(&i), x.get(&broadcast_index(&i, x.shape())));
        }
    }

    #[test]
    fn broadcast_to_an_incompatible_shape_is_an_error(spec in spec()) {
        let x = spec.build();
        prop_assume!(x.shape().iter().any(|&s| s != 1));
        let target: Vec<usize> =
            x.shape().iter().map(|&s| if s == 1 { 1 } else { s + 1 }).collect();
        let err = x.try_broadcast_to(&target).unwrap_err().to_string();
        let expected = format!("broadcast_to: cannot broadcast {:?} to {:?}", x.shape(), target);
        prop_assert_eq!(err, expected);
    }

    #[test]
    fn narrow_keeps_a_range(spec in spec(), axis in 0usize..4, a in 0usize..8, b in 0usize..8) {
        let x = spec.build();
        prop_assume!(x.ndim() > 0);
        let axis = axis % x.ndim();
        let size = x.shape()[axis];
        let (start, end) = (a % (size + 1), b % (size + 1));
        let (start, len) = (start.min(end), start.max(end) - start.min(end));
        let y = x.narrow(axis as isize - x.ndim() as isize, start, len);
        assert_view_of(&y, &x);
        for i in all_indices(y.shape()) {
            let mut j = i.clone();
            j[axis] += start;
            prop_assert_eq!(y.get(&i), x.get(&j));
        }
    }

    #[test]
    fn unsqueeze_and_squeeze_are_inverse(spec in spec(), axis in -5isize..5) {
        let x = spec.build();
        let n = x.ndim() as isize + 1;
        let axis = axis.rem_euclid(2 * n) - n; // in -n..n
        let y = x.unsqueeze(axis);
        assert_view_of(&y, &x);
        let at = axis.rem_euclid(n) as usize;
        let mut shape = x.shape().to_vec();
        shape.insert(at, 1);
        prop_assert_eq!(y.shape(), &shape[..]);
        prop_assert_eq!(naive_values(&y), naive_values(&x));
        let z = y.squeeze(at as isize);
        assert_view_of(&z, &x);
        prop_assert_eq!(z.shape(), x.shape());
        prop_assert_eq!(naive_values(&z), naive_values(&x));
    }
}

#[test]
#[should_panic(expected = "squeeze: axis 0 of shape [2, 1] does not have size 1")]
fn squeeze_of_a_longer_axis_panics() {
    Tensor::zeros(&[2, 1], DType::F32).squeeze(0);
}

#[test]
#[should_panic(expected = "permute: [0, 0] is not a permutation of the 2 axes of [2, 3]")]
fn permute_with_a_repeated_axis_panics() {
    Tensor::zeros(&[2, 3], DType::F32).permute(&[0, 0]);
}

#[test]
#[should_panic(expected = "narrow: range 2..4 of axis 1 is outside shape [2, 3]")]
fn narrow_past_the_end_panics() {
    Tensor::zeros(&[2, 3], DType::F32).narrow(1, 2, 2);
}

#[test]
#[should_panic(expected = "transpose: axis 2 is out of range for a tensor with 2 axes")]
fn transpose_of_a_missing_axis_panics() {
    Tensor::zeros(&[2, 3], DType::F32).transpose(0, 2);
}

/// The generator itself: it must produce the layouts these tests are about, not only
/// contiguous tensors.
#[test]
fn the_view_strategy_produces_strided_broadcast_and_offset_views() {
    use proptest::strategy::ValueTree;
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let (mut strided, mut broadcast, mut offset) = (0, 0, 0);
    for _ in 0..500 {
        let x = spec().new_tree(&mut runner).unwrap().current().build();
        let nontrivial = x
            .shape()
            .iter()
            .zip(x.strides())
            .filter(|(&size, _)| size > 1);
        strided += usize::from(!x.is_contiguous());
        broadcast += usize::from(nontrivial.clone().any(|(_, &stride)| stride == 0));
        offset += usize::from(x.layout().offset > 0);
    }
    assert!(
        strided > 100 && broadcast > 50 && offset > 50,
        "{strided} {broadcast} {offset}"
    );
}
