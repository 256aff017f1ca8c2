//! The GEMM kernel (`tensor::matmul::gemm`) against a naive triple loop summed in f64.
//!
//! Shapes cover empty and single rows/columns, sizes either side of the micro-tile (6 rows,
//! 8 or 16 columns) and of the `k` block (256), small products (direct path) and large
//! ones (packed, parallel path). Operands are row-major, transposed, padded (narrowed
//! views), strided both ways, or broadcast (stride 0); padding holds NaN, so reading it
//! would show. Tolerance: the standard bound for a sum of `k` products in floating point,
//! `|error| ≤ (k + 2)·ε·(|c₀| + Σ_p |a_ip·b_pj|)`, with ε the type's machine epsilon.
//! `Tensor::matmul` (batches, broadcasting, views) is tested in `matmul.rs`.

mod common;

use common::{eps, gemm_dim};
use proptest::prelude::*;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use tensor::matmul::{gemm, MatMut, MatRef};
use tensor::Element;

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

    let eps = eps(T::DTYPE);
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

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn gemm_small_f32(m in gemm_dim(), k in gemm_dim(), n in gemm_dim(), a in layouts(),
                      b in layouts(), c_pad in 0usize..3, acc: bool, seed: u64) {
        check_gemm::<f32>((m, k, n), a, b, c_pad, acc, seed)?;
    }

    #[test]
    fn gemm_small_f64(m in gemm_dim(), k in gemm_dim(), n in gemm_dim(), a in layouts(),
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
    let mut c = c0.to_vec();
    let (m, n) = (a.rows, b.cols);
    common::on_threads(threads, || {
        gemm(a.mat(), b.mat(), MatMut::new(&mut c, m, n, n), accumulate)
    });
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
