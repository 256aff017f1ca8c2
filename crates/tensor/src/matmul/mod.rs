//! Matrix multiplication: `[…, m, k] × […, k, n] → […, m, n]`, leading (batch) axes
//! broadcast as in element-wise ops.
//!
//! Operands may be any strided view: a transposed matrix is just swapped strides, and the
//! GEMM reads it through those strides, so `a.matmul(&b.t())` copies nothing up front.
//!
//! This file maps batched tensors onto [`gemm()`], the product of one pair of strided
//! matrices. Read the GEMM in this order:
//! 1. `gemm.rs` — the interface, and which path a product takes.
//! 2. `small.rs`, `small_avx2.rs` — the direct path for small products: loops over the
//!    operands as they lie, no packing (but a transposed B may be copied row-major first,
//!    `transpose_avx2.rs`; `transpose.rs` is the same copy for other kernels).
//! 3. `driver.rs` — the blocked path: the BLIS loop nest, cache blocking, threads.
//! 4. `pack.rs` — copying blocks of A and B into the micro-kernel's order.
//! 5. `kernel.rs` — the micro-kernel's contract and the portable kernel;
//!    `kernel_avx2.rs` (over `simd_avx2.rs`) — the AVX2 + FMA kernels, and why their
//!    tile and block sizes.

mod driver;
pub mod gemm;
mod kernel;
#[cfg(target_arch = "x86_64")]
mod kernel_avx2;
mod pack;
#[cfg(target_arch = "x86_64")]
mod simd_avx2;
mod small;
#[cfg(target_arch = "x86_64")]
mod small_avx2;
mod transpose;
#[cfg(target_arch = "x86_64")]
mod transpose_avx2;

pub use gemm::{gemm, MatMut, MatRef, DIRECT_MAX_MUL_ADDS, PARALLEL_MIN_MUL_ADDS};
pub(crate) use pack::PackBuffer;
pub(crate) use transpose::transpose_into;

use rayon::prelude::*;

use crate::element::Element;
use crate::error::{fmt_shape, Result, TensorError};
use crate::layout::{broadcast_shapes, Shape, Strides};
use crate::tensor::Tensor;
use crate::view::or_panic;
use crate::with_dtype;

impl Tensor {
    /// The matrix product, batched over leading axes.
    ///
    /// ```
    /// use tensor::Tensor;
    /// let a = Tensor::from_vec(vec![1.0f32, 2.0, 3.0, 4.0, 5.0, 6.0], &[2, 3])?;
    /// let b = Tensor::from_vec(vec![1.0f32, 0.0, 0.0, 1.0, 1.0, 1.0], &[3, 2])?;
    /// assert_eq!(a.matmul(&b).to_vec::<f32>(), [4.0, 5.0, 10.0, 11.0]);
    /// // Transposed operands are views; a batch of 4 broadcasts against one matrix.
    /// let batch = Tensor::ones(&[4, 2, 3], tensor::DType::F32);
    /// assert_eq!(batch.matmul(&a.t()).shape(), &[4, 2, 2]);
    /// # Ok::<(), tensor::TensorError>(())
    /// ```
    ///
    /// # Panics
    /// If an operand has fewer than 2 axes, the inner dimensions differ, the batch axes do
    /// not broadcast, or the element types differ; [`Tensor::try_matmul`] returns the error.
    #[track_caller]
    pub fn matmul(&self, other: &Tensor) -> Tensor {
        or_panic(self.try_matmul(other))
    }

    /// [`Tensor::matmul`] returning an error instead of panicking.
    ///
    /// ```
    /// use tensor::{DType, Tensor};
    /// let err = Tensor::ones(&[3, 4], DType::F32).try_matmul(&Tensor::ones(&[5, 2], DType::F32));
    /// assert_eq!(err.unwrap_err().to_string(), "matmul: [3, 4] × [5, 2]: inner dimensions 4 and 5 differ");
    /// ```
    #[track_caller]
    pub fn try_matmul(&self, other: &Tensor) -> Result<Tensor> {
        self.same_dtype("matmul", other)?;
        let (a, b) = (self, other);
        let pair = || format!("{} × {}", fmt_shape(a.shape()), fmt_shape(b.shape()));
        if a.ndim() < 2 || b.ndim() < 2 {
            return Err(TensorError::shape(
                "matmul",
                format!("{}: both operands need at least 2 axes", pair()),
            ));
        }
        let (m, k) = (a.shape()[a.ndim() - 2], a.shape()[a.ndim() - 1]);
        let (k2, n) = (b.shape()[b.ndim() - 2], b.shape()[b.ndim() - 1]);
        if k != k2 {
            return Err(TensorError::shape(
                "matmul",
                format!("{}: inner dimensions {k} and {k2} differ", pair()),
            ));
        }
        let batch = broadcast_shapes(
            "matmul",
            &a.shape()[..a.ndim() - 2],
            &b.shape()[..b.ndim() - 2],
        )
        .map_err(|_| {
            TensorError::shape("matmul", format!("{}: batch axes do not broadcast", pair()))
        })?;
        Ok(with_dtype!(a.dtype(), T => batched::<T>(a, b, &batch, m, k, n)))
    }
}

/// Where each batch's matrix of an operand starts in its storage.
struct BatchOffsets<'a> {
    offset: usize,
    /// The broadcast batch shape, and the operand's stride along each of its axes (0 where
    /// the operand has no such axis or has size 1 there: it repeats).
    batch: &'a [usize],
    strides: Strides,
}

impl<'a> BatchOffsets<'a> {
    fn new(x: &Tensor, batch: &'a [usize]) -> Self {
        let own = x.ndim() - 2;
        let missing = batch.len() - own;
        let strides = (0..batch.len())
            .map(|axis| match axis.checked_sub(missing) {
                Some(own_axis) if x.shape()[own_axis] > 1 => x.strides()[own_axis],
                _ => 0,
            })
            .collect();
        BatchOffsets {
            offset: x.layout().offset,
            batch,
            strides,
        }
    }

    /// True when every batch reads the same matrix (a broadcast operand).
    #[track_caller]
    fn shared(&self) -> bool {
        self.strides.iter().all(|&stride| stride == 0)
    }

    /// True when the batches' matrices of `rows` rows, `row_stride` apart, follow one another
    /// at that same stride: the whole batch then reads as one matrix of `count · rows` rows.
    #[track_caller]
    fn stacks_rows(&self, rows: usize, row_stride: usize) -> bool {
        let mut expected = rows * row_stride;
        for (&size, &stride) in self.batch.iter().zip(&self.strides).rev() {
            if size == 1 {
                continue;
            }
            if stride != expected {
                return false;
            }
            expected *= size;
        }
        true
    }

    /// The storage offset of batch number `flat` (row-major over the batch shape).
    #[track_caller]
    fn at(&self, flat: usize) -> usize {
        let (mut offset, mut rest) = (self.offset, flat);
        for (&size, &stride) in self.batch.iter().zip(&self.strides).rev() {
            offset += rest % size * stride;
            rest /= size;
        }
        offset
    }
}

fn batched<T: Element>(
    a: &Tensor,
    b: &Tensor,
    batch: &[usize],
    m: usize,
    k: usize,
    n: usize,
) -> Tensor {
    let mut shape: Shape = batch.into();
    shape.extend_from_slice(&[m, n]);
    let count: usize = batch.iter().product();
    if m * n * k == 0 {
        // Nothing to compute: an empty result, or empty sums (zeros). (A view of an empty
        // operand may also start past the end of its storage.)
        return Tensor::from_parts(crate::buffer::zeros::<T>(count * m * n), &shape);
    }
    // Every GEMM below overwrites its block of C (`accumulate = false`), so the buffer need
    // not be zeroed first.
    let mut out = crate::buffer::scratch::<T>(count * m * n);
    let (a_offsets, b_offsets) = (BatchOffsets::new(a, batch), BatchOffsets::new(b, batch));
    let (a_data, b_data) = (a.storage_slice::<T>(), b.storage_slice::<T>());
    let [a_rs, a_cs] = [a.strides()[a.ndim() - 2], a.strides()[a.ndim() - 1]];
    let [b_rs, b_cs] = [b.strides()[b.ndim() - 2], b.strides()[b.ndim() - 1]];
    if count > 1 && b_offsets.shared() && a_offsets.stacks_rows(m, a_rs) {
        // Every batch multiplies by the same B (a broadcast weight, say) and A's batches lie
        // one after another: one GEMM of count·m rows instead of `count` small ones. Each entry
        // is still the same sum over k in the same order.
        let lhs = MatRef::new(&a_data[a_offsets.at(0)..], count * m, k, a_rs, a_cs);
        let rhs = MatRef::new(&b_data[b_offsets.at(0)..], k, n, b_rs, b_cs);
        gemm(lhs, rhs, MatMut::new(&mut out, count * m, n, n), false);
        return Tensor::from_parts(out, &shape);
    }
    let one = |(i, c): (usize, &mut [T])| {
        let lhs = MatRef::new(&a_data[a_offsets.at(i)..], m, k, a_rs, a_cs);
        let rhs = MatRef::new(&b_data[b_offsets.at(i)..], k, n, b_rs, b_cs);
        gemm(lhs, rhs, MatMut::new(c, m, n, n), false);
    };
    // Each batch writes its own slice of the output, so the split is deterministic.
    if crate::parallel::split(count > 1 && count * m * n * k >= PARALLEL_MIN_MUL_ADDS) {
        out.par_chunks_mut(m * n).enumerate().for_each(one);
    } else {
        out.chunks_mut(m * n).enumerate().for_each(one);
    }
    Tensor::from_parts(out, &shape)
}

/// Helpers for the unit tests of the GEMM paths that the integration tests cannot reach
/// on every machine (the portable kernels, on a CPU with AVX2).
#[cfg(test)]
pub(crate) mod testing {
    use super::{MatMut, MatRef};
    use crate::element::{DType, Element};
    use rand::rngs::StdRng;
    use rand::{Rng, SeedableRng};

    /// `len` random entries in `[-1, 1)`.
    #[track_caller]
    pub fn random<T: Element>(len: usize, seed: u64) -> Vec<T> {
        let mut rng = StdRng::seed_from_u64(seed);
        (0..len)
            .map(|_| T::from_f64(rng.random_range(-1.0..1.0)))
            .collect()
    }

    /// Runs `product` on an `m × k` by `k × n` product, with B row-major or stored
    /// transposed, and checks C (row-major) against the naive sum in f64, to within
    /// `(k + 2)·ε·Σ_p |a_ip·b_pj|`.
    #[track_caller]
    pub fn check<T: Element>(
        (m, k, n): (usize, usize, usize),
        b_transposed: bool,
        product: impl Fn(MatRef<T>, MatRef<T>, MatMut<T>),
    ) {
        let (a, b) = (random::<T>(m * k, 1), random::<T>(k * n, 2));
        let a_mat = MatRef::new(&a, m, k, k, 1);
        let b_mat = if b_transposed {
            MatRef::new(&b, n, k, k, 1).t()
        } else {
            MatRef::new(&b, k, n, n, 1)
        };
        let mut c = vec![T::from_f64(f64::NAN); m * n];
        product(a_mat, b_mat, MatMut::new(&mut c, m, n, n));
        let eps = match T::DTYPE {
            DType::F32 => f32::EPSILON as f64,
            DType::F64 => f64::EPSILON,
        };
        for i in 0..m {
            for j in 0..n {
                let (mut want, mut magnitude) = (0.0, 0.0);
                for p in 0..k {
                    let product = a_mat.at(i, p).to_f64() * b_mat.at(p, j).to_f64();
                    want += product;
                    magnitude += product.abs();
                }
                let got = c[i * n + j].to_f64();
                assert!(
                    (got - want).abs() <= (k + 2) as f64 * eps * magnitude,
                    "{m}×{k}×{n}: C[{i}, {j}] = {got}, naive {want}"
                );
            }
        }
    }
}
