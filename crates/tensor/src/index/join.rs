//! A bigger tensor assembled from pieces: `concat` (along an existing axis), `stack` (along a
//! new one) and `pad` (the tensor framed by zeros).
//!
//! `pad` is the adjoint of `narrow`: narrowing keeps a box of `x`, padding puts `g` back into
//! that box of a zero tensor, so ⟨narrow(x), g⟩ = ⟨x, pad(g)⟩ and each is the other's VJP.
//! Likewise the VJP of `concat` is a `narrow` per piece.

use crate::element::Element;
use crate::error::{fmt_shape, Result, TensorError};
use crate::layout::{contiguous_strides, normalize_axis};
use crate::tensor::Tensor;
use crate::view::or_panic;
use crate::walk::Walk;
use crate::with_dtype;

/// Copies the pieces (same shape but for `axis`) into one row-major buffer. Seen as
/// `[outer, block]` with `outer` the product of the sizes before `axis`, the output row `o` is
/// row `o` of each piece in turn.
fn concat_kernel<T: Element>(pieces: &[&Tensor], axis: usize, shape: &[usize]) -> Tensor {
    let outer: usize = shape[..axis].iter().product();
    let sources: Vec<_> = pieces.iter().map(|t| t.to_contiguous_cow::<T>()).collect();
    let blocks: Vec<usize> = pieces
        .iter()
        .map(|t| t.shape()[axis..].iter().product())
        .collect();
    let mut out = crate::buffer::with_capacity(shape.iter().product());
    for o in 0..outer {
        for (src, &block) in sources.iter().zip(&blocks) {
            out.extend_from_slice(&src[o * block..(o + 1) * block]);
        }
    }
    Tensor::from_parts(out, shape)
}

fn pad_kernel<T: Element>(x: &Tensor, padding: &[(usize, usize)], shape: &[usize]) -> Tensor {
    let mut out = crate::buffer::zeros::<T>(shape.iter().product());
    let out_strides = contiguous_strides(shape);
    // x lands in the box starting at `before` on each axis of the output.
    let start: usize = padding
        .iter()
        .zip(&out_strides)
        .map(|(&(before, _), &stride)| before * stride)
        .sum();
    let src = x.storage_slice::<T>();
    let walk = Walk::new(x.shape(), [x.strides(), &out_strides]);
    let (len, [si, so]) = (walk.run_len(), walk.run_strides());
    walk.for_each_run([x.layout().offset, start], |[i, o]| {
        if si == 1 && so == 1 {
            out[o..o + len].copy_from_slice(&src[i..i + len]);
        } else {
            for k in 0..len {
                out[o + k * so] = src[i + k * si];
            }
        }
    });
    Tensor::from_parts(out, shape)
}

impl Tensor {
    /// The tensors joined along `axis`; their sizes must agree on every other axis.
    ///
    /// ```
    /// use tensor::{DType, Tensor};
    /// let a = Tensor::ones(&[2, 1], DType::F32);
    /// let b = Tensor::zeros(&[2, 2], DType::F32);
    /// let c = Tensor::concat(&[&a, &b], -1);
    /// assert_eq!(c.to_vec::<f32>(), [1.0, 0.0, 0.0, 1.0, 0.0, 0.0]);
    /// ```
    ///
    /// # Panics
    /// If the list is empty, the axis is out of range, the element types differ, or a tensor's
    /// shape does not fit; [`Tensor::try_concat`] returns the error.
    #[track_caller]
    pub fn concat(tensors: &[&Tensor], axis: isize) -> Tensor {
        or_panic(Tensor::try_concat(tensors, axis))
    }

    /// [`Tensor::concat`] returning an error instead of panicking.
    ///
    /// ```
    /// use tensor::{DType, Tensor};
    /// let a = Tensor::ones(&[2, 3], DType::F32);
    /// let b = Tensor::ones(&[3, 3], DType::F32);
    /// let err = Tensor::try_concat(&[&a, &a, &b], 1).unwrap_err();
    /// assert_eq!(
    ///     err.to_string(),
    ///     "concat: tensor 2 has shape [3, 3] but tensor 0 has shape [2, 3]; \
    ///      they may differ only on axis 1"
    /// );
    /// ```
    #[track_caller]
    pub fn try_concat(tensors: &[&Tensor], axis: isize) -> Result<Tensor> {
        let Some(first) = tensors.first() else {
            return Err(TensorError::shape(
                "concat",
                "needs at least one tensor, got none",
            ));
        };
        let axis = normalize_axis("concat", axis, first.ndim())?;
        let mut shape = first.shape().to_vec();
        for (i, t) in tensors.iter().enumerate().skip(1) {
            first.same_dtype("concat", t)?;
            let fits = t.ndim() == first.ndim()
                && (0..t.ndim()).all(|d| d == axis || t.shape()[d] == first.shape()[d]);
            if !fits {
                return Err(TensorError::shape(
                    "concat",
                    format!(
                        "tensor {i} has shape {} but tensor 0 has shape {}; \
                         they may differ only on axis {axis}",
                        fmt_shape(t.shape()),
                        fmt_shape(first.shape())
                    ),
                ));
            }
            shape[axis] += t.shape()[axis];
        }
        Ok(with_dtype!(first.dtype(), T => concat_kernel::<T>(tensors, axis, &shape)))
    }

    /// The tensors, all of one shape, joined along a new axis at `axis` (`-1` appends it).
    ///
    /// ```
    /// use tensor::{DType, Tensor};
    /// let a = Tensor::ones(&[3], DType::F64);
    /// let b = Tensor::zeros(&[3], DType::F64);
    /// assert_eq!(Tensor::stack(&[&a, &b], 0).shape(), &[2, 3]);
    /// assert_eq!(Tensor::stack(&[&a, &b], -1).to_vec::<f64>(), [1.0, 0.0, 1.0, 0.0, 1.0, 0.0]);
    /// ```
    ///
    /// # Panics
    /// If the list is empty, the axis is out of range, the element types differ, or the
    /// shapes differ; [`Tensor::try_stack`] returns the error.
    #[track_caller]
    pub fn stack(tensors: &[&Tensor], axis: isize) -> Tensor {
        or_panic(Tensor::try_stack(tensors, axis))
    }

    /// [`Tensor::stack`] returning an error instead of panicking.
    ///
    /// ```
    /// use tensor::{DType, Tensor};
    /// let a = Tensor::ones(&[3], DType::F64);
    /// let err = Tensor::try_stack(&[&a, &Tensor::ones(&[4], DType::F64)], 0).unwrap_err();
    /// assert_eq!(
    ///     err.to_string(),
    ///     "stack: tensor 1 has shape [4] but tensor 0 has shape [3]; \
    ///      stacked tensors need equal shapes"
    /// );
    /// ```
    #[track_caller]
    pub fn try_stack(tensors: &[&Tensor], axis: isize) -> Result<Tensor> {
        let Some(first) = tensors.first() else {
            return Err(TensorError::shape(
                "stack",
                "needs at least one tensor, got none",
            ));
        };
        let axis = normalize_axis("stack", axis, first.ndim() + 1)?;
        for (i, t) in tensors.iter().enumerate().skip(1) {
            first.same_dtype("stack", t)?;
            if t.shape() != first.shape() {
                return Err(TensorError::shape(
                    "stack",
                    format!(
                        "tensor {i} has shape {} but tensor 0 has shape {}; \
                         stacked tensors need equal shapes",
                        fmt_shape(t.shape()),
                        fmt_shape(first.shape())
                    ),
                ));
            }
        }
        // A new size-1 axis on each (a view), then concat along it.
        let unsqueezed: Vec<Tensor> = tensors.iter().map(|t| t.unsqueeze(axis as isize)).collect();
        let refs: Vec<&Tensor> = unsqueezed.iter().collect();
        Tensor::try_concat(&refs, axis as isize)
    }

    /// The tensor framed by zeros: `padding[d] = (before, after)` zeros on axis `d`.
    ///
    /// ```
    /// use tensor::Tensor;
    /// let x = Tensor::from_vec(vec![1.0f32, 2.0], &[1, 2])?;
    /// let p = x.pad(&[(1, 0), (0, 1)]);
    /// assert_eq!(p.shape(), &[2, 3]);
    /// assert_eq!(p.to_vec::<f32>(), [0.0, 0.0, 0.0, 1.0, 2.0, 0.0]);
    /// # Ok::<(), tensor::TensorError>(())
    /// ```
    ///
    /// # Panics
    /// If `padding` does not have one pair per axis; [`Tensor::try_pad`] returns the error.
    #[track_caller]
    pub fn pad(&self, padding: &[(usize, usize)]) -> Tensor {
        or_panic(self.try_pad(padding))
    }

    /// [`Tensor::pad`] returning an error instead of panicking.
    #[track_caller]
    pub fn try_pad(&self, padding: &[(usize, usize)]) -> Result<Tensor> {
        if padding.len() != self.ndim() {
            return Err(TensorError::shape(
                "pad",
                format!(
                    "{} (before, after) pairs for shape {}, which has {} axes",
                    padding.len(),
                    fmt_shape(self.shape()),
                    self.ndim()
                ),
            ));
        }
        let shape: Vec<usize> = self
            .shape()
            .iter()
            .zip(padding)
            .map(|(&size, &(before, after))| before + size + after)
            .collect();
        Ok(with_dtype!(self.dtype(), T => pad_kernel::<T>(self, padding, &shape)))
    }
}
