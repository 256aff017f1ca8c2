//! Matrix multiplication: `[…, m, k] × […, k, n] → […, m, n]`, leading (batch) axes
//! broadcast as in element-wise ops.
//!
//! Operands may be any strided view: a transposed matrix is just swapped strides, and the
//! GEMM reads it through those strides, so `a.matmul(&b.t())` copies nothing up front.
//!
//! - [`gemm`] is the kernel on one pair of matrices (blocked, packed, SIMD).
//! - This file maps batched tensors onto it.

pub mod gemm;

pub use gemm::{gemm, MatMut, MatRef};

use rayon::prelude::*;
use smallvec::{smallvec, SmallVec};

use crate::element::Element;
use crate::error::{fmt_shape, Result, TensorError};
use crate::layout::{broadcast_shapes, contiguous_strides, Shape};
use crate::tensor::Tensor;
use crate::view::or_panic;
use crate::with_dtype;

/// Below this many multiply-adds in a whole batched product, run batches on one thread.
const PARALLEL_BATCH_MIN_FLOPS: usize = 1 << 18;

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

/// Storage offsets of each batch's matrix in `x`, for the broadcast batch shape.
fn batch_offsets(x: &Tensor, batch: &[usize]) -> SmallVec<[usize; 1]> {
    // Two plain matrices, the usual case in a small model: one offset, no allocation.
    if batch.is_empty() {
        return smallvec![x.layout().offset];
    }
    let nb = x.ndim() - 2;
    let mut shape: Shape = batch.into();
    shape.extend_from_slice(&x.shape()[nb..]);
    let layout = x
        .layout()
        .broadcast_to(&shape)
        .expect("batch shape checked");
    let count: usize = batch.iter().product();
    let index_strides = contiguous_strides(batch);
    (0..count)
        .map(|flat| {
            let mut offset = layout.offset;
            for (axis, &step) in index_strides.iter().enumerate() {
                offset += (flat / step) % batch[axis] * layout.strides[axis];
            }
            offset
        })
        .collect()
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
    let mut out = vec![T::ZERO; count * m * n];
    if m * n == 0 {
        return Tensor::from_parts(out, &shape);
    }
    let (a_offsets, b_offsets) = (batch_offsets(a, batch), batch_offsets(b, batch));
    let (a_data, b_data) = (a.storage_slice::<T>(), b.storage_slice::<T>());
    let [a_rs, a_cs] = [a.strides()[a.ndim() - 2], a.strides()[a.ndim() - 1]];
    let [b_rs, b_cs] = [b.strides()[b.ndim() - 2], b.strides()[b.ndim() - 1]];
    let one = |(i, c): (usize, &mut [T])| {
        let lhs = MatRef::new(&a_data[a_offsets[i]..], m, k, a_rs, a_cs);
        let rhs = MatRef::new(&b_data[b_offsets[i]..], k, n, b_rs, b_cs);
        gemm(lhs, rhs, MatMut::new(c, m, n, n), false);
    };
    // Each batch writes its own slice of the output, so the split is deterministic.
    if count > 1 && count * m * n * k >= PARALLEL_BATCH_MIN_FLOPS {
        out.par_chunks_mut(m * n).enumerate().for_each(one);
    } else {
        out.chunks_mut(m * n).enumerate().for_each(one);
    }
    Tensor::from_parts(out, &shape)
}
