//! Index ops against naive loops over `get`, on random views, plus the adjoint identities
//! autodiff relies on: ⟨take(x, i), g⟩ = ⟨x, scatter_add(g, i)⟩ and
//! ⟨narrow(x), g⟩ = ⟨x, pad(g)⟩.

mod common;

use common::*;
use proptest::prelude::*;
use tensor::index::{gather_flat_indices, index_select_flat_indices};
use tensor::{DType, Tensor};

/// `raw` reduced into `0..size` (empty when `size` is 0, as no index fits).
fn indices_below(raw: &[usize], count: usize, size: usize) -> Vec<usize> {
    if size == 0 {
        return vec![];
    }
    raw[..count].iter().map(|r| r % size).collect()
}

/// ⟨a, b⟩ in f64 over the row-major elements.
fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(u, v)| u * v).sum()
}

/// Up to 256 raw numbers to turn into indices.
fn raw_indices() -> impl Strategy<Value = Vec<usize>> {
    prop::collection::vec(any::<usize>(), 256)
}

/// Random views of one type whose shapes agree except on `axis` (at least one axis).
fn concat_operands() -> impl Strategy<Value = (Vec<Spec>, usize)> {
    let base = prop::collection::vec(axis_size(), 1..=4);
    let sizes = prop::collection::vec(0usize..4, 1..4);
    (base, 0usize..4, sizes, dtype()).prop_flat_map(|(base, axis, sizes, dtype)| {
        let axis = axis % base.len();
        let specs: Vec<_> = sizes
            .iter()
            .map(|&size| {
                let mut shape = base.clone();
                shape[axis] = size;
                spec_with(shape, dtype)
            })
            .collect();
        (specs, Just(axis))
    })
}

/// 1 to 3 random views of one shape and type.
fn stack_operands() -> impl Strategy<Value = Vec<Spec>> {
    (shape(3), 1usize..4, dtype()).prop_flat_map(|(shape, count, dtype)| {
        prop::collection::vec(spec_with(shape, dtype), count)
    })
}

proptest! {
    #[test]
    fn take_reads_flat_positions(spec in spec(), out_shape in shape(3), raw in raw_indices()) {
        let x = spec.build();
        let out_shape = if x.numel() == 0 { vec![0] } else { out_shape };
        let count = out_shape.iter().product();
        let flat = indices_below(&raw, count, x.numel());
        let out = x.take(&flat, &out_shape);
        prop_assert_eq!(out.shape(), &out_shape[..]);
        let source = naive_values(&x);
        let expected: Vec<f64> = flat.iter().map(|&i| source[i]).collect();
        prop_assert_eq!(naive_values(&out), expected);
    }

    #[test]
    fn scatter_add_accumulates_repeated_positions(
        spec in spec(),
        target in shape(3),
        raw in raw_indices(),
    ) {
        let g = spec.build();
        let target = if target.iter().product::<usize>() == 0 { vec![2] } else { target };
        let flat = indices_below(&raw, g.numel(), target.iter().product());
        let out = g.scatter_add(&flat, &target);
        prop_assert_eq!(out.shape(), &target[..]);
        let numel = target.iter().product();
        let (mut expected, mut magnitude) = (vec![0.0; numel], vec![0.0; numel]);
        let mut hits = vec![0usize; numel];
        for (&i, v) in flat.iter().zip(naive_values(&g)) {
            expected[i] += v;
            magnitude[i] += v.abs();
            hits[i] += 1;
        }
        let tolerance: Vec<f64> = hits
            .iter()
            .zip(&magnitude)
            .map(|(&n, m)| n as f64 * eps(g.dtype()) * m)
            .collect();
        assert_close(&out.to_vec::<f64>(), &expected, &tolerance, "scatter_add");
    }

    #[test]
    fn scatter_add_is_the_adjoint_of_take(
        (x, g) in (shape(3), shape(3), dtype())
            .prop_flat_map(|(a, b, dtype)| (spec_with(a, dtype), spec_with(b, dtype))),
        raw in raw_indices(),
    ) {
        // ⟨take(x, i), g⟩ = Σ_k x[i_k] g_k = ⟨x, scatter_add(g, i)⟩.
        let (x, g) = (x.build(), g.build());
        prop_assume!(x.numel() > 0 || g.numel() == 0);
        let flat = indices_below(&raw, g.numel(), x.numel());
        let taken = x.take(&flat, g.shape());
        let scattered = g.scatter_add(&flat, x.shape());
        let (xs, gs) = (naive_values(&x), naive_values(&g));
        let left = dot(&taken.to_vec::<f64>(), &gs);
        let right = dot(&xs, &scattered.to_vec::<f64>());
        let magnitude: f64 = flat.iter().zip(&gs).map(|(&i, v)| (xs[i] * v).abs()).sum();
        let tolerance = (flat.len() + 2) as f64 * eps(x.dtype()) * magnitude;
        assert_close(&[left], &[right], &[tolerance], "adjoint");
    }

    #[test]
    fn gather_follows_torch_semantics(
        spec in prop::collection::vec(axis_size(), 1..=4).prop_flat_map(spec_of),
        axis in 0usize..4,
        sizes in prop::collection::vec(any::<usize>(), 4),
        raw in raw_indices(),
    ) {
        let x = spec.build();
        let axis = axis % x.ndim();
        // No larger than x on the other axes; 0 to 3 long on `axis` (0 if x is empty there).
        let index_shape: Vec<usize> = (0..x.ndim())
            .map(|d| match (d == axis, x.shape()[d]) {
                (true, 0) => 0,
                (true, _) => sizes[d] % 4,
                (false, size) => sizes[d] % (size + 1),
            })
            .collect();
        let index = indices_below(&raw, index_shape.iter().product(), x.shape()[axis]);
        let out = x.gather(axis as isize - x.ndim() as isize, &index, &index_shape);
        prop_assert_eq!(out.shape(), &index_shape[..]);
        let flat = gather_flat_indices(x.shape(), axis, &index, &index_shape).unwrap();
        for (k, p) in all_indices(&index_shape).into_iter().enumerate() {
            // out[p] = x[p with its `axis` coordinate replaced by index[p]].
            let mut source = p.clone();
            source[axis] = index[k];
            prop_assert_eq!(out.get(&p), x.get(&source));
            prop_assert_eq!(flat[k], flat_index(&source, x.shape()));
        }
    }

    #[test]
    fn index_select_picks_slices(
        spec in prop::collection::vec(axis_size(), 1..=4).prop_flat_map(spec_of),
        axis in 0usize..4,
        count in 0usize..5,
        raw in raw_indices(),
    ) {
        let x = spec.build();
        let axis = axis % x.ndim();
        let indices = indices_below(&raw, count, x.shape()[axis]);
        let out = x.index_select(axis as isize, &indices);
        let mut shape = x.shape().to_vec();
        shape[axis] = indices.len();
        prop_assert_eq!(out.shape(), &shape[..]);
        let flat = index_select_flat_indices(x.shape(), axis, &indices).unwrap();
        for (k, i) in all_indices(&shape).into_iter().enumerate() {
            let mut source = i.clone();
            source[axis] = indices[i[axis]];
            prop_assert_eq!(out.get(&i), x.get(&source));
            prop_assert_eq!(flat[k], flat_index(&source, x.shape()));
        }
    }

    #[test]
    fn one_hot_marks_each_label(
        classes in 1usize..6,
        raw in prop::collection::vec(any::<usize>(), 0..6),
        dtype in dtype(),
    ) {
        let labels: Vec<usize> = raw.iter().map(|r| r % classes).collect();
        let t = Tensor::one_hot(&labels, classes, dtype);
        prop_assert_eq!(t.shape(), &[labels.len(), classes]);
        prop_assert_eq!(t.dtype(), dtype);
        for i in all_indices(t.shape()) {
            prop_assert_eq!(t.get(&i), if labels[i[0]] == i[1] { 1.0 } else { 0.0 });
        }
    }

    #[test]
    fn concat_joins_along_an_axis((specs, axis) in concat_operands(), negative in any::<bool>()) {
        let pieces: Vec<Tensor> = specs.iter().map(Spec::build).collect();
        let refs: Vec<&Tensor> = pieces.iter().collect();
        let ndim = pieces[0].ndim();
        let written = if negative { axis as isize - ndim as isize } else { axis as isize };
        let out = Tensor::concat(&refs, written);
        let mut shape = pieces[0].shape().to_vec();
        shape[axis] = pieces.iter().map(|p| p.shape()[axis]).sum();
        prop_assert_eq!(out.shape(), &shape[..]);
        for i in all_indices(&shape) {
            // Walk past whole pieces to the one holding position i[axis].
            let (mut piece, mut at) = (0, i[axis]);
            while at >= pieces[piece].shape()[axis] {
                at -= pieces[piece].shape()[axis];
                piece += 1;
            }
            let mut source = i.clone();
            source[axis] = at;
            prop_assert_eq!(out.get(&i), pieces[piece].get(&source));
        }
    }

    #[test]
    fn stack_joins_along_a_new_axis(specs in stack_operands(), axis in -4isize..4) {
        let pieces: Vec<Tensor> = specs.iter().map(Spec::build).collect();
        let refs: Vec<&Tensor> = pieces.iter().collect();
        let n = pieces[0].ndim() as isize + 1;
        let axis = axis.rem_euclid(2 * n) - n; // in -n..n
        let out = Tensor::stack(&refs, axis);
        let at = axis.rem_euclid(n) as usize;
        let mut shape = pieces[0].shape().to_vec();
        shape.insert(at, pieces.len());
        prop_assert_eq!(out.shape(), &shape[..]);
        for i in all_indices(&shape) {
            let mut source = i.clone();
            let piece = source.remove(at);
            prop_assert_eq!(out.get(&i), pieces[piece].get(&source));
        }
    }

    #[test]
    fn pad_frames_with_zeros(
        spec in spec(),
        raw in prop::collection::vec((0usize..3, 0usize..3), 4),
    ) {
        let x = spec.build();
        let padding = &raw[..x.ndim()];
        let out = x.pad(padding);
        let shape: Vec<usize> =
            x.shape().iter().zip(padding).map(|(&s, &(b, a))| b + s + a).collect();
        prop_assert_eq!(out.shape(), &shape[..]);
        for i in all_indices(&shape) {
            let inside = (0..x.ndim())
                .all(|d| i[d] >= padding[d].0 && i[d] < padding[d].0 + x.shape()[d]);
            let expected = if inside {
                x.get(&(0..x.ndim()).map(|d| i[d] - padding[d].0).collect::<Vec<_>>())
            } else {
                0.0
            };
            prop_assert_eq!(out.get(&i), expected);
        }
    }

    #[test]
    fn pad_is_the_adjoint_of_narrow(
        (x, g, box_) in (shape(4), dtype(), prop::collection::vec(any::<(usize, usize)>(), 4))
            .prop_flat_map(|(shape, dtype, raw)| {
                // A box (start, len) inside each axis; g has the box's shape.
                let box_: Vec<(usize, usize)> = shape.iter().zip(&raw).map(|(&s, &(a, b))| {
                    let start = a % (s + 1);
                    (start, b % (s - start + 1))
                }).collect();
                let lens = box_.iter().map(|&(_, len)| len).collect();
                (spec_with(shape, dtype), spec_with(lens, dtype), Just(box_))
            }),
    ) {
        let (x, g) = (x.build(), g.build());
        let mut narrowed = x.clone();
        for (d, &(start, len)) in box_.iter().enumerate() {
            narrowed = narrowed.narrow(d as isize, start, len);
        }
        let padding: Vec<(usize, usize)> = box_
            .iter()
            .zip(x.shape())
            .map(|(&(start, len), &s)| (start, s - start - len))
            .collect();
        let padded = g.pad(&padding);
        prop_assert_eq!(padded.shape(), x.shape());
        // NOTE: exact: both sums add the same products in the same (row-major) order; the
        // padded sum only adds zeros in between.
        prop_assert_eq!(
            dot(&naive_values(&narrowed), &naive_values(&g)),
            dot(&naive_values(&x), &naive_values(&padded))
        );
    }
}

/// The error message of `result`.
fn message(result: tensor::Result<Tensor>) -> String {
    result.unwrap_err().to_string()
}

#[test]
fn out_of_range_indices_name_the_op_the_index_and_the_size() {
    let x = Tensor::zeros(&[2, 3], DType::F32);
    assert_eq!(
        message(x.try_take(&[0, 6], &[2])),
        "take: flat index 6 (position 1) is out of range for 6 elements of shape [2, 3]"
    );
    assert_eq!(
        message(x.try_take(&[0, 1], &[3])),
        "take: 2 indices cannot fill shape [3] (3 elements)"
    );
    assert_eq!(
        message(x.try_scatter_add(&[0, 1, 2, 3, 4, 5], &[5])),
        "scatter_add: flat index 5 (position 5) is out of range for 5 elements of shape [5]"
    );
    assert_eq!(
        message(x.try_scatter_add(&[0, 1], &[5])),
        "scatter_add: 2 indices cannot fill shape [2, 3] (6 elements)"
    );
    assert_eq!(
        message(x.try_gather(1, &[0, 3], &[2, 1])),
        "gather: index 3 (position 1) is out of range for size 3 of axis 1 of shape [2, 3]"
    );
    assert_eq!(
        message(x.try_gather(1, &[0, 0, 0], &[3, 1])),
        "gather: index shape [3, 1] and input shape [2, 3]: the index is larger on axis 0, which is not the gather axis 1"
    );
    assert_eq!(
        message(x.try_gather(0, &[0], &[1])),
        "gather: index shape [1] and input shape [2, 3]: axis counts differ"
    );
    assert_eq!(
        message(x.try_index_select(-2, &[1, 2])),
        "index_select: index 2 (position 1) is out of range for size 2 of axis 0 of shape [2, 3]"
    );
    assert_eq!(
        message(x.try_index_select(2, &[0])),
        "index_select: axis 2 is out of range for a tensor with 2 axes"
    );
    assert_eq!(
        message(Tensor::try_one_hot(&[0, 4], 4, DType::F64)),
        "one_hot: label 4 (position 1) is out of range for 4 classes"
    );
}

#[test]
fn joins_name_the_offending_tensor_and_both_shapes() {
    let (a, b) = (
        Tensor::zeros(&[2, 3], DType::F32),
        Tensor::zeros(&[2, 4], DType::F32),
    );
    assert_eq!(
        message(Tensor::try_concat(&[&a, &b], 0)),
        "concat: tensor 1 has shape [2, 4] but tensor 0 has shape [2, 3]; they may differ only on axis 0"
    );
    // Differing on the concat axis itself is the point.
    assert_eq!(Tensor::concat(&[&a, &b], -1).shape(), &[2, 7]);
    assert_eq!(
        message(Tensor::try_concat(&[&a, &a.unsqueeze(0)], 0)),
        "concat: tensor 1 has shape [1, 2, 3] but tensor 0 has shape [2, 3]; they may differ only on axis 0"
    );
    assert_eq!(
        message(Tensor::try_concat(&[], 0)),
        "concat: needs at least one tensor, got none"
    );
    assert_eq!(
        message(Tensor::try_stack(&[&a, &a, &b], 0)),
        "stack: tensor 2 has shape [2, 4] but tensor 0 has shape [2, 3]; stacked tensors need equal shapes"
    );
    assert_eq!(
        message(Tensor::try_stack(&[], 0)),
        "stack: needs at least one tensor, got none"
    );
    assert_eq!(
        message(Tensor::try_stack(&[&a], 3)),
        "stack: axis 3 is out of range for a tensor with 3 axes"
    );
    assert_eq!(
        message(Tensor::try_concat(&[&a, &a.to_dtype(DType::F64)], 0)),
        "concat: element types differ: f32 and f64"
    );
    assert_eq!(
        message(a.try_pad(&[(1, 1)])),
        "pad: 1 (before, after) pairs for shape [2, 3], which has 2 axes"
    );
}

#[test]
#[should_panic(expected = "one_hot: label 7 (position 0) is out of range for 3 classes")]
fn one_hot_of_a_label_past_the_classes_panics() {
    Tensor::one_hot(&[7], 3, DType::F32);
}

#[test]
#[should_panic(
    expected = "take: flat index 4 (position 0) is out of range for 4 elements of shape [2, 2]"
)]
fn take_out_of_range_panics() {
    Tensor::zeros(&[2, 2], DType::F32).take(&[4], &[1]);
}
