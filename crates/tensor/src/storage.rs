//! The flat buffer a tensor views. Several tensors share one `Storage` behind an `Arc`;
//! views (reshape, permute, slice, broadcast) never copy it.

use crate::element::{DType, Element};

/// A flat, owned buffer of elements of one type.
#[derive(Clone, Debug, PartialEq)]
pub enum Storage {
    F32(Vec<f32>),
    F64(Vec<f64>),
}

impl Storage {
    pub fn dtype(&self) -> DType {
        match self {
            Storage::F32(_) => DType::F32,
            Storage::F64(_) => DType::F64,
        }
    }

    pub fn len(&self) -> usize {
        match self {
            Storage::F32(v) => v.len(),
            Storage::F64(v) => v.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The elements as `&[T]`.
    ///
    /// # Panics
    /// If `T` is not this storage's element type (a bug in the caller's dispatch).
    pub fn as_slice<T: Element>(&self) -> &[T] {
        T::slice(self).unwrap_or_else(|| {
            panic!(
                "storage holds {} but was read as {}",
                self.dtype(),
                T::DTYPE
            )
        })
    }
}
