//! GEMM and `Tensor::matmul` against a naive triple loop summed in f64.
//!
//! Shapes cover empty and single rows/columns, sizes either side of the micro-tile (6 rows,
//! 8 or 16 columns) and of the `k` block (256), small products (direct path) and large
//! ones (packed, parallel path). Operands are row-major, transposed, padded (narrowed
//! views), strided both ways, or broadcast (stride 0); padding holds NaN, so reading it
//! would show. Tolerance: the standard bound for a sum of `k` products in floating point,
//! `|error| ≤ (k + 2)·ε·(|c₀| + Σ_p |a_ip·b_pj|)`, with ε the type's machine epsilon.

use proptest::prelude::*;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use tensor::matmul::{gemm, MatMut, MatRef};
use tensor::{DType, Element, Tensor};

/// How an operand's entries sit in memory.
#[derive(Clone, Copy, Debug)]
enum Layout {
    RowMajor,
    /// Stored transposed: `(i, j)` at `j·rows + i`.
    ColMajor,
    /// Row-major inside a wider matrix (a narrowed view): rows `pad` entries apart more.
    PaddedRows(usize),
    /// Column-major inside a taller matrix.
    PaddedCols(usize),
    /// Neither stride is 1: every other entry of every other row.
    Strided,
    /// One row repeated (row stride 0), as a broadcast operand.
    BroadcastRow,
}

fn layouts() -> impl Strategy<Value = Layout> {
    prop_oneof![
        3 => Just(Layout::RowMajor),
        3 => Just(Layout::ColMajor),
        1 => (1usize..5).prop_map(Layout::PaddedRows),
        1 => (1usize..5).prop_map(Layout::PaddedCols),
        1 => Just(Layout::Strided),
        1 => Just(Layout::BroadcastRow),
    ]
}

/// A `rows × cols` operand with random entries in `[-1, 1)`, laid out as `layout`; entries
/// not part of the matrix are NaN.
struct Operand<T> {
    data: Vec<T>,
    rows: usize,
    cols: usize,
    row_stride: usize,
    col_stride: usize,
}

impl<T: Element> Operand<T> {
    fn random(rows: usize, cols: usize, layout: Layout, rng: &mut StdRng) -> Self {
        let (row_stride, col_stride, len) = match layout {
            Layout::RowMajor => (cols, 1, rows * cols),
            Layout::ColMajor => (1, rows, rows * cols),
            Layout::PaddedRows(pad) => (cols + pad, 1, rows * (cols + pad)),
            Layout::PaddedCols(pad) => (1, rows + pad, cols * (rows + pad)),
            Layout::Strided => (2 * cols + 1, 2, rows * (2 * cols + 1)),
            Layout::BroadcastRow => (0, 1, cols),
        };
        let mut data = vec![T::from_f64(f64::NAN); len];
        for i in 0..rows {
            for j in 0..cols {
                data[i * row_stride + j * col_stride] = T::from_f64(rng.random_range(-1.0..1.0));
            }
        }
        Operand {
            data,
            rows,
            cols,
            row_stride,
            col_stride,
        }
    }

    fn at(&self, i: usize, j: usize) -> f64 {
        self.data[i * self.row_stride + j * self.col_stride].to_f64()
    }

    fn mat(&self) -> MatRef<'_, T> {
        MatRef::new(
            &self.data,
            self.rows,
            self.cols,
            self.row_stride,
            self.col_stride,
        )
    }
}

/// The machine epsilon of `dtype`.
fn epsilon(dtype: DType) -> f64 {
    match dtype {
        DType::F32 => f32::EPSILON as f64,
        DType::F64 => f64::EPSILON,
    }
}

/// Runs `gemm` on random operands of the given shapes and layouts into a C with `c_pad`
/// spare entries per row, and checks every entry against the naive sum and the padding
/// for changes.
#[allow(clippy::too_many_arguments)]
fn check_gemm<T: Element>(
    (m, k, n): (usize, usize, usize),
    a_layout: Layout,
    b_layout: Layout,
    c_pad: usize,
    accumulate: bool,
    seed: u64,
) -> Result<(), TestCaseError> {
    let mut rng = StdRng::seed_from_u64(seed);
    let a = Operand::<T>::random(m, k, a_layout, &mut rng);
    let b = Operand::<T>::random(k, n, b_layout, &mut rng);
    let rs_c = n + c_pad;
    let sentinel = T::from_f64(1234.5);
    let mut c: Vec<T> = (0..m * rs_c)
        .map(|idx| {
            if idx % rs_c < n {
                T::from_f64(rng.random_range(-1.0..1.0))
            } else {
                sentinel
            }
        })
        .collect();
    let c0: Vec<f64> = c.iter().map(|v| v.to_f64()).collect();
    gemm(
        a.mat(),
        b.mat(),
        MatMut::new(&mut c, m, n, rs_c),
        accumulate,
    );

    let eps = epsilon(T::DTYPE);
    for i in 0..m {
        for j in 0..rs_c {
            let got = c[i * rs_c + j].to_f64();
            if j >= n {
                prop_assert_eq!(
                    got,
                    sentinel.to_f64(),
                    "padding of C changed at ({}, {})",
                    i,
                    j
                );
                continue;
            }
            let start = if accumulate { c0[i * rs_c + j] } else { 0.0 };
            let (mut want, mut magnitude) = (start, start.abs());
            for p in 0..k {
                want += a.at(i, p) * b.at(p, j);
                magnitude += (a.at(i, p) * b.at(p, j)).abs();
            }
            let tolerance = (k + 2) as f64 * eps * magnitude;
            prop_assert!(
                (got - want).abs() <= tolerance,
                "C[{}, {}] = {} but the naive sum is {} (tolerance {:e}; m, k, n = {}, {}, {})",
                i,
                j,
                got,
                want,
                tolerance,
                m,
                k,
                n
            );
        }
    }
    Ok(())
}

/// Dimensions around the edges that matter: 0, 1, the micro-tile (6 × 8 or 6 × 16) ± 1.
fn small_dim() -> impl Strategy<Value = usize> {
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

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn gemm_small_f32(m in small_dim(), k in small_dim(), n in small_dim(), a in layouts(),
                      b in layouts(), c_pad in 0usize..3, acc: bool, seed: u64) {
        check_gemm::<f32>((m, k, n), a, b, c_pad, acc, seed)?;
    }

    #[test]
    fn gemm_small_f64(m in small_dim(), k in small_dim(), n in small_dim(), a in layouts(),
                      b in layouts(), c_pad in 0usize..3, acc: bool, seed: u64) {
        check_gemm::<f64>((m, k, n), a, b, c_pad, acc, seed)?;
    }
}

/// Shapes big enough for the packed and parallel path: rows and columns across several
/// micro-tiles and bands, `k` across one or two 256-blocks.
fn large_shape() -> impl Strategy<Value = (usize, usize, usize)> {
    (
        prop_oneof![Just(1usize), 2usize..12, 100usize..200],
        prop_oneof![Just(255usize), Just(256), Just(257), 130usize..520],
        prop_oneof![Just(1usize), 2usize..20, 100usize..200],
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    #[test]
    fn gemm_large_f32(shape in large_shape(), a in layouts(), b in layouts(),
                      c_pad in 0usize..3, acc: bool, seed: u64) {
        check_gemm::<f32>(shape, a, b, c_pad, acc, seed)?;
    }

    #[test]
    fn gemm_large_f64(shape in large_shape(), a in layouts(), b in layouts(),
                      c_pad in 0usize..3, acc: bool, seed: u64) {
        check_gemm::<f64>(shape, a, b, c_pad, acc, seed)?;
    }
}

// ----- Determinism across thread counts -----

/// `C (+)= A·B` on a rayon pool of `threads` threads.
fn gemm_on_threads<T: Element>(
    threads: usize,
    a: &Operand<T>,
    b: &Operand<T>,
    c0: &[T],
    accumulate: bool,
) -> Vec<T> {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap();
    let mut c = c0.to_vec();
    let (m, n) = (a.rows, b.cols);
    pool.install(|| gemm(a.mat(), b.mat(), MatMut::new(&mut c, m, n, n), accumulate));
    c
}

fn check_thread_independence<T: Element>(m: usize, k: usize, n: usize, layouts: [Layout; 2]) {
    let mut rng = StdRng::seed_from_u64((m * 1_000_000 + k * 1000 + n) as u64);
    let a = Operand::<T>::random(m, k, layouts[0], &mut rng);
    let b = Operand::<T>::random(k, n, layouts[1], &mut rng);
    let c0: Vec<T> = (0..m * n)
        .map(|_| T::from_f64(rng.random_range(-1.0..1.0)))
        .collect();
    for accumulate in [false, true] {
        let one = gemm_on_threads(1, &a, &b, &c0, accumulate);
        for threads in [2, 3, 4] {
            let many = gemm_on_threads(threads, &a, &b, &c0, accumulate);
            let same_bits = one
                .iter()
                .zip(&many)
                .all(|(x, y)| x.to_f64().to_bits() == y.to_f64().to_bits());
            assert!(
                same_bits,
                "{m}×{k}×{n} ({}): 1 and {threads} threads differ",
                T::DTYPE
            );
        }
    }
}

#[test]
fn gemm_is_bit_identical_across_thread_counts() {
    let shapes = [
        (300, 600, 300),
        (257, 513, 199),
        (181, 300, 181),
        (64, 1000, 40),
    ];
    for (m, k, n) in shapes {
        check_thread_independence::<f32>(m, k, n, [Layout::RowMajor, Layout::RowMajor]);
        check_thread_independence::<f64>(m, k, n, [Layout::ColMajor, Layout::RowMajor]);
        check_thread_independence::<f32>(m, k, n, [Layout::RowMajor, Layout::ColMajor]);
    }
}

#[test]
fn matmul_is_bit_identical_across_thread_counts() {
    let mut rng = StdRng::seed_from_u64(7);
    let a = Tensor::rand_uniform(&[25, 10, 40], -1.0, 1.0, DType::F32, &mut rng);
    let w = Tensor::rand_uniform(&[40, 40], -1.0, 1.0, DType::F32, &mut rng);
    let big = Tensor::rand_uniform(&[3, 200, 300], -1.0, 1.0, DType::F32, &mut rng);
    let run = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        pool.install(|| {
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

    let eps = epsilon(dtype);
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

fn dtypes() -> impl Strategy<Value = DType> {
    prop_oneof![Just(DType::F32), Just(DType::F64)]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn matmul_batched_small(m in small_dim(), k in small_dim(), n in small_dim(),
                            batches in batch_pair(), views in (0u8..4, 0u8..4),
                            dtype in dtypes(), seed: u64) {
        check_matmul((m, k, n), batches, views, dtype, seed)?;
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(12))]

    #[test]
    fn matmul_batched_large(m in 100usize..160, k in 200usize..300, n in 100usize..160,
                            batches in batch_pair(), views in (0u8..4, 0u8..4),
                            dtype in dtypes(), seed: u64) {
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

// ----- Errors -----

#[test]
#[should_panic(expected = "gemm: [2, 3] × [4, 2] into [2, 2]")]
fn gemm_rejects_mismatched_shapes() {
    let (a, b, mut c) = ([0.0f32; 6], [0.0f32; 8], [0.0f32; 4]);
    gemm(
        MatRef::new(&a, 2, 3, 3, 1),
        MatRef::new(&b, 4, 2, 2, 1),
        MatMut::new(&mut c, 2, 2, 2),
        false,
    );
}

#[test]
#[should_panic(expected = "gemm: output rows overlap")]
fn gemm_rejects_overlapping_output_rows() {
    let (a, b, mut c) = ([0.0f32; 6], [0.0f32; 6], [0.0f32; 4]);
    gemm(
        MatRef::new(&a, 2, 3, 3, 1),
        MatRef::new(&b, 3, 2, 2, 1),
        MatMut::new(&mut c, 2, 2, 1),
        false,
    );
}

#[test]
#[should_panic(expected = "gemm: an operand's data is too short")]
fn gemm_rejects_short_data() {
    let (a, b, mut c) = ([0.0f32; 5], [0.0f32; 6], [0.0f32; 4]);
    gemm(
        MatRef::new(&a, 2, 3, 3, 1),
        MatRef::new(&b, 3, 2, 2, 1),
        MatMut::new(&mut c, 2, 2, 2),
        false,
    );
}

#[test]
#[should_panic(expected = "gemm: an operand's data is too short")]
fn gemm_rejects_overflowing_strides() {
    let (a, b, mut c) = ([0.0f32; 6], [0.0f32; 6], [0.0f32; 4]);
    gemm(
        MatRef::new(&a, 2, 3, usize::MAX / 2, 1),
        MatRef::new(&b, 3, 2, 2, 1),
        MatMut::new(&mut c, 2, 2, 2),
        false,
    );
}

/// A deep `k` makes the packed B too big for one block of columns: the driver then
/// narrows its column blocks (two for f32, three for f64 here).
#[test]
fn gemm_deep_k_takes_several_column_blocks() {
    for (layouts, accumulate) in [
        ([Layout::RowMajor, Layout::RowMajor], false),
        ([Layout::ColMajor, Layout::ColMajor], true),
    ] {
        check_gemm::<f32>((13, 2100, 1100), layouts[0], layouts[1], 1, accumulate, 3).unwrap();
        check_gemm::<f64>((13, 2100, 1100), layouts[0], layouts[1], 1, accumulate, 4).unwrap();
    }
    check_thread_independence::<f32>(40, 2100, 1100, [Layout::RowMajor, Layout::RowMajor]);
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
