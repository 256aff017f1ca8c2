//! `Tensor::matmul` against a naive triple loop summed in f64: 2-d and batched products,
//! broadcast batch axes, transposed and narrowed views, f32 and f64, the exact meta-learning
//! shapes, and bit-identical results on any number of threads. Tolerance as for the GEMM
//! kernel (`gemm.rs`): `|error| ≤ (k + 2)·ε·Σ_p |a_ip·b_pj|`.

mod common;

use common::{dtype, eps, gemm_dim};
use proptest::prelude::*;
use rand::rngs::StdRng;
use rand::SeedableRng;
use tensor::{DType, Tensor};

// ----- Determinism across thread counts -----

#[test]
fn matmul_is_bit_identical_across_thread_counts() {
    let mut rng = StdRng::seed_from_u64(7);
    let a = Tensor::rand_uniform(&[25, 10, 40], -1.0, 1.0, DType::F32, &mut rng);
    let w = Tensor::rand_uniform(&[40, 40], -1.0, 1.0, DType::F32, &mut rng);
    let big = Tensor::rand_uniform(&[3, 200, 300], -1.0, 1.0, DType::F32, &mut rng);
    let run = |threads: usize| {
        common::on_threads(threads, || {
            let small = a.matmul(&w).matmul(&w.t()).to_vec::<f32>();
            let large = big.matmul(&big.transpose(-1, -2)).to_vec::<f32>();
            (small, large)
        })
    };
    let one = run(1);
    let two = run(2);
    let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
    assert_eq!(bits(&one.0), bits(&two.0));
    assert_eq!(bits(&one.1), bits(&two.1));
}

// ----- Tensor::matmul: batches, broadcasting, views -----

/// How a matrix operand of `matmul` is made: its batch shape, and whether the matrix is a
/// transposed view, a narrowed view (padded rows), or plain.
#[derive(Clone, Debug)]
struct TensorOperand {
    batch: Vec<usize>,
    view: u8,
}

fn make_operand(
    spec: &TensorOperand,
    rows: usize,
    cols: usize,
    dtype: DType,
    rng: &mut StdRng,
) -> Tensor {
    let mut shape = spec.batch.clone();
    match spec.view {
        // Transposed: stored as [.., cols, rows].
        1 => {
            shape.extend([cols, rows]);
            Tensor::rand_uniform(&shape, -1.0, 1.0, dtype, rng).transpose(-1, -2)
        }
        // Narrowed: stored with 3 extra columns, starting at column 2.
        2 => {
            shape.extend([rows, cols + 3]);
            Tensor::rand_uniform(&shape, -1.0, 1.0, dtype, rng).narrow(-1, 2, cols)
        }
        // Batch broadcast as a view: one matrix, stride 0 along the batch axes.
        3 => {
            let one = Tensor::rand_uniform(&[rows, cols], -1.0, 1.0, dtype, rng);
            let mut full = spec.batch.clone();
            full.extend([rows, cols]);
            one.broadcast_to(&full)
        }
        _ => {
            shape.extend([rows, cols]);
            Tensor::rand_uniform(&shape, -1.0, 1.0, dtype, rng)
        }
    }
}

/// Batch shapes that broadcast together: a common shape with some axes set to 1 on either
/// side, and possibly some leading axes dropped from one side.
fn batch_pair() -> impl Strategy<Value = (Vec<usize>, Vec<usize>)> {
    prop::collection::vec((1usize..4, 0u8..3), 0..3).prop_flat_map(|axes| {
        let a: Vec<usize> = axes
            .iter()
            .map(|&(size, who)| if who == 1 { 1 } else { size })
            .collect();
        let b: Vec<usize> = axes
            .iter()
            .map(|&(size, who)| if who == 2 { 1 } else { size })
            .collect();
        let len = a.len();
        (Just(a), Just(b), 0..=len, 0..=len).prop_map(|(a, b, drop_a, drop_b)| {
            // Drop leading axes from at most one side.
            if drop_a <= drop_b {
                (a[drop_a..].to_vec(), b)
            } else {
                (a, b[drop_b..].to_vec())
            }
        })
    })
}

fn check_matmul(
    (m, k, n): (usize, usize, usize),
    (a_batch, b_batch): (Vec<usize>, Vec<usize>),
    views: (u8, u8),
    dtype: DType,
    seed: u64,
) -> Result<(), TestCaseError> {
    let mut rng = StdRng::seed_from_u64(seed);
    let a_spec = TensorOperand {
        batch: a_batch,
        view: views.0,
    };
    let b_spec = TensorOperand {
        batch: b_batch,
        view: views.1,
    };
    let a = make_operand(&a_spec, m, k, dtype, &mut rng);
    let b = make_operand(&b_spec, k, n, dtype, &mut rng);
    let c = a.matmul(&b);

    // The broadcast batch shape, aligned on the right.
    let rank = a_spec.batch.len().max(b_spec.batch.len());
    let pad = |s: &[usize]| {
        let mut v = vec![1; rank - s.len()];
        v.extend_from_slice(s);
        v
    };
    let (a_b, b_b) = (pad(&a_spec.batch), pad(&b_spec.batch));
    let batch: Vec<usize> = a_b.iter().zip(&b_b).map(|(&x, &y)| x.max(y)).collect();
    let mut want_shape = batch.clone();
    want_shape.extend([m, n]);
    prop_assert_eq!(c.shape(), &want_shape[..]);
    prop_assert_eq!(c.dtype(), dtype);

    let eps = eps(dtype);
    // All entries in row-major order, as f64 (`to_vec` reads through the views' strides).
    let (a_vals, b_vals, c_vals) = (a.to_vec::<f64>(), b.to_vec::<f64>(), c.to_vec::<f64>());
    let count: usize = batch.iter().product();
    for flat in 0..count {
        // Batch index of C, and the matching (broadcast) batch index of each operand.
        let mut index = vec![0; rank];
        let mut rest = flat;
        for axis in (0..rank).rev() {
            index[axis] = rest % batch[axis];
            rest /= batch[axis];
        }
        // Row-major position of an operand's matrix: its own batch axes, broadcast ones at 0.
        let matrix = |dims: &[usize]| -> usize {
            let own = &index[rank - dims.len()..];
            own.iter()
                .zip(dims)
                .fold(0, |flat, (&i, &d)| flat * d + if d == 1 { 0 } else { i })
        };
        let a_vals = &a_vals[matrix(&a_spec.batch) * m * k..][..m * k];
        let b_vals = &b_vals[matrix(&b_spec.batch) * k * n..][..k * n];
        let c_vals = &c_vals[flat * m * n..][..m * n];
        for i in 0..m {
            for j in 0..n {
                let (mut want, mut magnitude) = (0.0, 0.0);
                for p in 0..k {
                    let product = a_vals[i * k + p] * b_vals[p * n + j];
                    want += product;
                    magnitude += product.abs();
                }
                let got = c_vals[i * n + j];
                let tolerance = (k + 2) as f64 * eps * magnitude;
                prop_assert!(
                    (got - want).abs() <= tolerance,
                    "{:?}[{}, {}] = {} but the naive sum is {}",
                    index,
                    i,
                    j,
                    got,
                    want
                );
            }
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn matmul_batched_small(m in gemm_dim(), k in gemm_dim(), n in gemm_dim(),
                            batches in batch_pair(), views in (0u8..4, 0u8..4),
                            dtype in dtype(), seed: u64) {
        check_matmul((m, k, n), batches, views, dtype, seed)?;
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(12))]

    #[test]
    fn matmul_batched_large(m in 100usize..160, k in 200usize..300, n in 100usize..160,
                            batches in batch_pair(), views in (0u8..4, 0u8..4),
                            dtype in dtype(), seed: u64) {
        check_matmul((m, k, n), batches, views, dtype, seed)?;
    }
}

// ----- The meta-learning shapes, exactly -----

#[test]
fn meta_learning_shapes() {
    // Forward and backward of a 1 → 40 → 40 → 1 network on 10 points, batched over 25 tasks.
    let shapes = [
        (10, 1, 40),
        (10, 40, 40),
        (10, 40, 1),
        (40, 10, 40),
        (1, 10, 40),
        (40, 10, 1),
    ];
    for (index, &(m, k, n)) in shapes.iter().enumerate() {
        for (views, dtype) in [
            ((0, 0), DType::F32),
            ((1, 0), DType::F64),
            ((0, 1), DType::F32),
        ] {
            for batches in [(vec![], vec![]), (vec![25], vec![]), (vec![25], vec![25])] {
                check_matmul((m, k, n), batches, views, dtype, index as u64).unwrap();
            }
        }
    }
}

/// A batch multiplied by one shared matrix (a broadcast weight, plain or transposed) gives
/// exactly the per-batch products, whether or not the batch's rows can be read as one matrix.
#[test]
fn shared_right_operand_matches_per_batch_products() {
    let a = Tensor::arange(0.0, 3.0 * 4.0 * 5.0, 1.0, DType::F64)
        .reshape(&[3, 4, 5])
        .mul_scalar(0.1);
    let w = Tensor::arange(0.0, 10.0, 1.0, DType::F64)
        .reshape(&[2, 5])
        .add_scalar(-4.0);
    let per_batch = |a: &Tensor, b: &Tensor| {
        let parts: Vec<Tensor> = (0..a.shape()[0])
            .map(|i| a.narrow(0, i, 1).squeeze(0).matmul(b))
            .collect();
        Tensor::stack(&parts.iter().collect::<Vec<_>>(), 0)
    };
    let wt = w.t(); // [5, 2], transposed storage
    let broadcast = wt.unsqueeze(0).broadcast_to(&[3, 5, 2]); // stride 0 over the batch
    for b in [&wt, &broadcast] {
        let expected = per_batch(&a, &wt);
        assert_eq!(a.matmul(b).to_vec::<f64>(), expected.to_vec::<f64>());
        // Batches that do not follow one another (a permuted batch axis) take the other path.
        let scattered = a.permute(&[1, 0, 2]).contiguous().permute(&[1, 0, 2]);
        assert!(!scattered.is_contiguous());
        assert_eq!(
            scattered.matmul(b).to_vec::<f64>(),
            expected.to_vec::<f64>()
        );
    }
}

/// Products are written into recycled buffers without zeroing them first (`buffer::scratch`):
/// a buffer of the same size left full of NaN by an earlier tensor must not leak into the
/// result, on the direct path, the shared-B path, the per-batch path or the blocked path.
#[test]
fn products_in_recycled_buffers_overwrite_every_element() {
    let mut rng = StdRng::seed_from_u64(11);
    for (batch, m, k, n) in [(13, 10, 40, 40), (1, 200, 150, 300), (4, 7, 3, 90)] {
        let a = Tensor::rand_uniform(&[batch, m, k], -1.0, 1.0, DType::F32, &mut rng);
        let b = Tensor::rand_uniform(&[batch, k, n], -1.0, 1.0, DType::F32, &mut rng);
        let shared = b.narrow(0, 0, 1).squeeze(0);
        for rhs in [&b, &shared] {
            let clean = a.matmul(rhs).to_vec::<f32>();
            // Leave NaN in a freed output buffer of the same size (a product of NaN), then
            // multiply again: the new product takes that buffer.
            let poisoned = a.mul_scalar(f64::NAN).matmul(rhs);
            assert!(poisoned.to_vec::<f32>().iter().all(|v| v.is_nan()));
            drop(poisoned);
            let reused = a.matmul(rhs).to_vec::<f32>();
            assert_eq!(reused, clean, "[{batch}, {m}, {k}] · [{k}, {n}]");
        }
    }
}
