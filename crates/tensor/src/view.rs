//! Views: new shapes over the same storage, no element copied (see [`crate::layout`]).
//!
//! Only `reshape` of a non-contiguous tensor copies, because no strides could express the
//! new shape in general; it copies once, into a contiguous tensor, then views that.
//!
//! # Panics
//! Each view panics, naming the op and the shapes, when its arguments do not fit the
//! tensor; `try_reshape` and `try_broadcast_to` return the same error as a `Result`.

use smallvec::SmallVec;

use crate::error::{fmt_shape, Result, TensorError};
use crate::layout::{normalize_axis, Layout};
use crate::tensor::Tensor;

/// Unwraps a shape result, panicking with its message (the documented behaviour of views).
/// `#[track_caller]`, as every public op that calls it, so the panic names the line of the
/// user's code that made the bad call, not this one.
#[track_caller]
pub fn or_panic<T>(result: Result<T>) -> T {
    match result {
        Ok(value) => value,
        Err(e) => panic!("{e}"),
    }
}

impl Tensor {
    /// The same elements in `shape` (same count), in row-major order.
    ///
    /// ```
    /// use tensor::{DType, Tensor};
    /// let t = Tensor::arange(0.0, 6.0, 1.0, DType::F32);
    /// let m = t.reshape(&[2, 3]);
    /// assert!(m.shares_storage(&t)); // a view: no copy
    /// assert_eq!(m.get(&[1, 0]), 3.0);
    /// ```
    #[track_caller]
    pub fn reshape(&self, shape: &[usize]) -> Tensor {
        or_panic(self.try_reshape(shape))
    }

    /// [`Tensor::reshape`] returning an error instead of panicking.
    #[track_caller]
    pub fn try_reshape(&self, shape: &[usize]) -> Result<Tensor> {
        let numel: usize = shape.iter().product();
        if numel != self.numel() {
            return Err(TensorError::shape(
                "reshape",
                format!(
                    "cannot view {} ({} elements) as {} ({numel} elements)",
                    fmt_shape(self.shape()),
                    self.numel(),
                    fmt_shape(shape)
                ),
            ));
        }
        let source = self.contiguous();
        let mut layout = Layout::contiguous(shape);
        layout.offset = source.layout().offset;
        Ok(source.with_layout(layout))
    }

    /// All axes from `start` on merged into one: `[2, 3, 4].flatten_from(1)` is `[2, 12]`.
    #[track_caller]
    pub fn flatten_from(&self, start: usize) -> Tensor {
        let start = start.min(self.ndim());
        let mut shape: Vec<usize> = self.shape()[..start].to_vec();
        shape.push(self.shape()[start..].iter().product());
        self.reshape(&shape)
    }

    /// Axes reordered: axis `k` of the result is axis `perm[k]` of `self`.
    #[track_caller]
    pub fn permute(&self, perm: &[usize]) -> Tensor {
        self.with_layout(or_panic(self.layout().permute(perm)))
    }

    /// Axes `a` and `b` swapped.
    #[track_caller]
    pub fn transpose(&self, a: isize, b: isize) -> Tensor {
        let ndim = self.ndim();
        let a = or_panic(normalize_axis("transpose", a, ndim));
        let b = or_panic(normalize_axis("transpose", b, ndim));
        let mut perm: SmallVec<[usize; 4]> = (0..ndim).collect();
        perm.swap(a, b);
        self.permute(&perm)
    }

    /// The last two axes swapped (the matrix transpose, batched).
    #[track_caller]
    pub fn t(&self) -> Tensor {
        assert!(
            self.ndim() >= 2,
            "t: needs at least 2 axes, got shape {}",
            fmt_shape(self.shape())
        );
        self.transpose(-2, -1)
    }

    /// The tensor repeated along new leading axes and size-1 axes to `shape`, without copying
    /// (those axes get stride 0).
    #[track_caller]
    pub fn broadcast_to(&self, shape: &[usize]) -> Tensor {
        or_panic(self.try_broadcast_to(shape))
    }

    /// [`Tensor::broadcast_to`] returning an error instead of panicking.
    #[track_caller]
    pub fn try_broadcast_to(&self, shape: &[usize]) -> Result<Tensor> {
        Ok(self.with_layout(self.layout().broadcast_to(shape)?))
    }

    /// Elements `start .. start + len` along `axis`.
    #[track_caller]
    pub fn narrow(&self, axis: isize, start: usize, len: usize) -> Tensor {
        let axis = or_panic(normalize_axis("narrow", axis, self.ndim()));
        self.with_layout(or_panic(self.layout().narrow(axis, start, len)))
    }

    /// A new axis of size 1 at `axis` (`-1` appends one at the end).
    #[track_caller]
    pub fn unsqueeze(&self, axis: isize) -> Tensor {
        let axis = or_panic(normalize_axis("unsqueeze", axis, self.ndim() + 1));
        self.with_layout(or_panic(self.layout().unsqueeze(axis)))
    }

    /// `axis`, which must have size 1, removed.
    #[track_caller]
    pub fn squeeze(&self, axis: isize) -> Tensor {
        let axis = or_panic(normalize_axis("squeeze", axis, self.ndim()));
        self.with_layout(or_panic(self.layout().squeeze(axis)))
    }
}
