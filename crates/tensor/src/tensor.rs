//! [`Tensor`]: a [`Layout`] over shared [`Storage`].
//!
//! Cloning a tensor clones an `Arc`, never the data, and every view shares the storage of the
//! tensor it came from. Tensors are immutable: operations return new tensors. (The one
//! exception is [`Tensor::make_mut_slice`], used by optimisers to update a buffer they own.)

use std::sync::Arc;

use smallvec::SmallVec;

use crate::element::{DType, Element};
use crate::error::{fmt_shape, Result, TensorError};
use crate::layout::Layout;
use crate::storage::Storage;
use crate::walk::Walk;
use crate::with_dtype;

/// An n-dimensional array of `f32` or `f64`.
#[derive(Clone)]
pub struct Tensor {
    storage: Arc<Storage>,
    layout: Layout,
}

impl Tensor {
    /// A tensor of `shape` holding `data` in row-major order.
    ///
    /// # Errors
    /// If `data.len()` is not the product of `shape`.
    ///
    /// ```
    /// use tensor::Tensor;
    /// let t = Tensor::from_vec(vec![1.0f32, 2.0, 3.0, 4.0, 5.0, 6.0], &[2, 3])?;
    /// assert_eq!(t.shape(), &[2, 3]);
    /// assert!(Tensor::from_vec(vec![1.0f32, 2.0], &[3]).is_err());
    /// # Ok::<(), tensor::TensorError>(())
    /// ```
    #[track_caller]
    pub fn from_vec<T: Element>(data: Vec<T>, shape: &[usize]) -> Result<Tensor> {
        let numel: usize = shape.iter().product();
        if data.len() != numel {
            return Err(TensorError::shape(
                "from_vec",
                format!(
                    "{} elements cannot fill shape {} ({numel} elements)",
                    data.len(),
                    fmt_shape(shape)
                ),
            ));
        }
        Ok(Tensor::from_storage(T::into_storage(data), shape))
    }

    /// Like [`Tensor::from_vec`], copying from a slice.
    #[track_caller]
    pub fn from_slice<T: Element>(data: &[T], shape: &[usize]) -> Result<Tensor> {
        Tensor::from_vec(data.to_vec(), shape)
    }

    /// A 0-d tensor holding `value`.
    #[track_caller]
    pub fn scalar<T: Element>(value: T) -> Tensor {
        Tensor::from_storage(T::into_storage(vec![value]), &[])
    }

    /// A 0-d tensor of `dtype` holding `value` (rounded to `f32` if need be).
    #[track_caller]
    pub fn scalar_of(value: f64, dtype: DType) -> Tensor {
        with_dtype!(dtype, T => Tensor::scalar(T::from_f64(value)))
    }

    /// A contiguous tensor over `storage`, whose length the caller guarantees is `shape`'s.
    pub(crate) fn from_storage(storage: Storage, shape: &[usize]) -> Tensor {
        debug_assert_eq!(storage.len(), shape.iter().product::<usize>());
        Tensor {
            storage: Arc::new(storage),
            layout: Layout::contiguous(shape),
        }
    }

    /// A contiguous tensor from a vector whose length the kernel guarantees.
    pub(crate) fn from_parts<T: Element>(data: Vec<T>, shape: &[usize]) -> Tensor {
        Tensor::from_storage(T::into_storage(data), shape)
    }

    /// The same storage seen through another layout (the layout must stay inside the storage).
    #[track_caller]
    pub(crate) fn with_layout(&self, layout: Layout) -> Tensor {
        Tensor {
            storage: Arc::clone(&self.storage),
            layout,
        }
    }

    #[track_caller]
    pub fn shape(&self) -> &[usize] {
        &self.layout.shape
    }

    #[track_caller]
    pub fn strides(&self) -> &[usize] {
        &self.layout.strides
    }

    #[track_caller]
    pub fn layout(&self) -> &Layout {
        &self.layout
    }

    #[track_caller]
    pub fn ndim(&self) -> usize {
        self.layout.ndim()
    }

    #[track_caller]
    pub fn numel(&self) -> usize {
        self.layout.numel()
    }

    #[track_caller]
    pub fn dtype(&self) -> DType {
        self.storage.dtype()
    }

    #[track_caller]
    pub fn storage(&self) -> &Storage {
        &self.storage
    }

    /// True when both tensors view the same storage (so one is a view of the other).
    #[track_caller]
    pub fn shares_storage(&self, other: &Tensor) -> bool {
        Arc::ptr_eq(&self.storage, &other.storage)
    }

    #[track_caller]
    pub fn is_contiguous(&self) -> bool {
        self.layout.is_contiguous()
    }

    /// The whole storage as `&[T]`; index it with the layout's offsets.
    ///
    /// # Panics
    /// If `T` is not this tensor's element type.
    #[track_caller]
    pub fn storage_slice<T: Element>(&self) -> &[T] {
        self.storage.as_slice()
    }

    /// The elements as one slice in row-major order, if the layout is contiguous.
    #[track_caller]
    pub fn contiguous_slice<T: Element>(&self) -> Option<&[T]> {
        if self.is_contiguous() {
            let start = self.layout.offset;
            Some(&self.storage.as_slice::<T>()[start..start + self.numel()])
        } else {
            None
        }
    }

    /// The elements as one slice in row-major order, copying only if the layout is not
    /// contiguous.
    #[track_caller]
    pub fn to_contiguous_cow<T: Element>(&self) -> std::borrow::Cow<'_, [T]> {
        match self.contiguous_slice() {
            Some(slice) => std::borrow::Cow::Borrowed(slice),
            None => std::borrow::Cow::Owned(self.gather_elements()),
        }
    }

    /// A contiguous tensor with the same elements: `self` (a cheap clone) if already
    /// contiguous, else a copy.
    #[track_caller]
    pub fn contiguous(&self) -> Tensor {
        if self.is_contiguous() {
            return self.clone();
        }
        with_dtype!(self.dtype(), T => Tensor::from_parts(self.gather_elements::<T>(), self.shape()))
    }

    /// Copies the elements out in row-major order.
    #[track_caller]
    fn gather_elements<T: Element>(&self) -> Vec<T> {
        let src = self.storage.as_slice::<T>();
        let mut out = crate::buffer::with_capacity(self.numel());
        let walk = Walk::new(self.shape(), [self.strides()]);
        let (len, step) = (walk.run_len(), walk.run_stride(0));
        walk.for_each_run([self.layout.offset], |[start]| {
            if step == 1 {
                // A contiguous run (a column block of a matrix): one block copy.
                out.extend_from_slice(&src[start..start + len]);
            } else {
                crate::buffer::extend(&mut out, len, (0..len).map(|i| src[start + i * step]));
            }
        });
        out
    }

    /// The elements in row-major order, converted to `T` if the tensor holds the other type.
    ///
    /// ```
    /// use tensor::Tensor;
    /// let t = Tensor::from_vec(vec![1.0f32, 2.0, 3.0, 4.0], &[2, 2])?;
    /// assert_eq!(t.t().to_vec::<f32>(), vec![1.0, 3.0, 2.0, 4.0]);
    /// assert_eq!(t.to_vec::<f64>(), vec![1.0, 2.0, 3.0, 4.0]);
    /// # Ok::<(), tensor::TensorError>(())
    /// ```
    #[track_caller]
    pub fn to_vec<T: Element>(&self) -> Vec<T> {
        if self.dtype() == T::DTYPE {
            self.to_contiguous_cow::<T>().into_owned()
        } else {
            with_dtype!(self.dtype(), S => self
                .to_contiguous_cow::<S>()
                .iter()
                .map(|&v| T::from_f64(v.to_f64()))
                .collect())
        }
    }

    /// The single element of a one-element tensor, as `f64`.
    ///
    /// # Panics
    /// If the tensor does not have exactly one element.
    #[track_caller]
    pub fn item(&self) -> f64 {
        assert_eq!(
            self.numel(),
            1,
            "item: tensor of shape {} has {} elements, not 1",
            fmt_shape(self.shape()),
            self.numel()
        );
        with_dtype!(self.dtype(), T => self.storage.as_slice::<T>()[self.layout.offset].to_f64())
    }

    /// The element at `index`, as `f64`.
    ///
    /// # Panics
    /// If `index` has the wrong length or is out of range.
    #[track_caller]
    pub fn get(&self, index: &[usize]) -> f64 {
        assert!(
            index.len() == self.ndim() && index.iter().zip(self.shape()).all(|(i, s)| i < s),
            "get: index {index:?} is outside shape {}",
            fmt_shape(self.shape())
        );
        let offset = self.layout.offset_of(index);
        with_dtype!(self.dtype(), T => self.storage.as_slice::<T>()[offset].to_f64())
    }

    /// The tensor converted to `dtype` (a cheap clone if it already has it).
    #[track_caller]
    pub fn to_dtype(&self, dtype: DType) -> Tensor {
        if dtype == self.dtype() {
            return self.clone();
        }
        with_dtype!(dtype, T => Tensor::from_parts(self.to_vec::<T>(), self.shape()))
    }

    /// Mutable access to the elements, for in-place updates by an owner (optimisers).
    /// Copies first if the storage is shared or the layout is not plain contiguous, so no
    /// other tensor ever sees the change.
    #[track_caller]
    pub fn make_mut_slice<T: Element>(&mut self) -> &mut [T] {
        assert_eq!(
            self.dtype(),
            T::DTYPE,
            "make_mut_slice: tensor holds {} but was written as {}",
            self.dtype(),
            T::DTYPE
        );
        let plain =
            self.is_contiguous() && self.layout.offset == 0 && self.storage.len() == self.numel();
        if !plain {
            *self = Tensor::from_parts(self.to_vec::<T>(), self.shape());
        }
        T::slice_mut(Arc::make_mut(&mut self.storage)).expect("element type checked above")
    }

    /// The whole storage, mutably, if this tensor is its only user and its elements fill it
    /// exactly (any axis order, no gaps, no repeats): then every storage element is exactly one
    /// tensor element, and updating them in storage order is safe.
    pub(crate) fn dense_storage_mut<T: Element>(&mut self) -> Option<&mut [T]> {
        let mut axes: SmallVec<[(usize, usize); 6]> = self
            .shape()
            .iter()
            .zip(self.strides())
            .filter(|(&size, _)| size != 1)
            .map(|(&size, &stride)| (stride, size))
            .collect();
        axes.sort_unstable();
        let mut expected = 1;
        for (stride, size) in axes {
            if stride != expected {
                return None;
            }
            expected *= size;
        }
        let fills = self.layout.offset == 0 && self.storage.len() == self.numel();
        if !fills || self.dtype() != T::DTYPE {
            return None;
        }
        Arc::get_mut(&mut self.storage).and_then(T::slice_mut)
    }

    /// Checks that `other` has this tensor's element type.
    #[track_caller]
    pub(crate) fn same_dtype(&self, op: &'static str, other: &Tensor) -> Result<()> {
        if self.dtype() != other.dtype() {
            return Err(TensorError::DType {
                op,
                left: self.dtype(),
                right: other.dtype(),
            });
        }
        Ok(())
    }
}
