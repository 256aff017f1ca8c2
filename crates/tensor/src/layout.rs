//! Shape, strides and offset: how an n-d index maps into a flat buffer.
//!
//! Element `[i0, i1, …, in]` of a tensor lives at `offset + Σ ik · strides[k]` in its storage.
//! A fresh tensor is *contiguous* (row-major): the last axis has stride 1 and each earlier
//! stride is the product of the later sizes. Every view is a new `Layout` over the same
//! storage:
//!
//! | view | what changes |
//! |---|---|
//! | permute / transpose | shape and strides are reordered |
//! | broadcast (expand) | a size-1 (or missing) axis gets the new size and stride 0 |
//! | narrow (slice) | one size shrinks, offset moves by `start · stride` |
//! | unsqueeze / squeeze | a size-1 axis is inserted / removed (its stride is irrelevant) |
//! | reshape | only when the data is contiguous: new contiguous strides |

use smallvec::SmallVec;

use crate::error::{fmt_shape, Result, TensorError};

/// Sizes of the axes. Four axes fit inline (the conv net's NCHW), more spill to the heap.
pub type Shape = SmallVec<[usize; 4]>;
/// Steps in elements between neighbours along each axis (0 on broadcast axes).
pub type Strides = SmallVec<[usize; 4]>;

/// How a tensor's elements are laid out in its storage.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Layout {
    pub shape: Shape,
    pub strides: Strides,
    pub offset: usize,
}

/// Row-major strides for `shape`: `[3, 4, 5]` → `[20, 5, 1]`.
#[track_caller]
pub fn contiguous_strides(shape: &[usize]) -> Strides {
    let mut strides: Strides = smallvec::smallvec![0; shape.len()];
    let mut step = 1;
    for (stride, &size) in strides.iter_mut().zip(shape).rev() {
        *stride = step;
        step *= size;
    }
    strides
}

/// The shape two operands broadcast to, NumPy rules: align on the right; each pair of sizes
/// must be equal or one of them 1.
#[track_caller]
pub fn broadcast_shapes(op: &'static str, a: &[usize], b: &[usize]) -> Result<Shape> {
    let ndim = a.len().max(b.len());
    let mut out: Shape = smallvec::smallvec![0; ndim];
    for k in 0..ndim {
        let da = if k + a.len() >= ndim {
            a[k + a.len() - ndim]
        } else {
            1
        };
        let db = if k + b.len() >= ndim {
            b[k + b.len() - ndim]
        } else {
            1
        };
        out[k] = match (da, db) {
            (x, y) if x == y => x,
            (1, y) => y,
            (x, 1) => x,
            _ => {
                return Err(TensorError::shape(
                    op,
                    format!(
                        "cannot broadcast {} with {}: axis {k} has sizes {da} and {db}",
                        fmt_shape(a),
                        fmt_shape(b)
                    ),
                ))
            }
        };
    }
    Ok(out)
}

/// Normalises a possibly negative axis (`-1` is the last) against `ndim`.
#[track_caller]
pub fn normalize_axis(op: &'static str, axis: isize, ndim: usize) -> Result<usize> {
    let resolved = if axis < 0 { axis + ndim as isize } else { axis };
    if resolved < 0 || resolved as usize >= ndim {
        return Err(TensorError::index(
            op,
            format!("axis {axis} is out of range for a tensor with {ndim} axes"),
        ));
    }
    Ok(resolved as usize)
}

impl Layout {
    /// A contiguous layout for `shape` at offset 0.
    #[track_caller]
    pub fn contiguous(shape: &[usize]) -> Self {
        Layout {
            shape: shape.into(),
            strides: contiguous_strides(shape),
            offset: 0,
        }
    }

    #[track_caller]
    pub fn ndim(&self) -> usize {
        self.shape.len()
    }

    /// Number of elements (1 for a scalar, 0 if any axis is 0).
    #[track_caller]
    pub fn numel(&self) -> usize {
        self.shape.iter().product()
    }

    /// True when the elements are in row-major order with no gaps, so the tensor is the slice
    /// `storage[offset .. offset + numel]`. Axes of size 1 may have any stride.
    #[track_caller]
    pub fn is_contiguous(&self) -> bool {
        let mut expected = 1;
        for (&size, &stride) in self.shape.iter().zip(&self.strides).rev() {
            if size != 1 && stride != expected {
                return false;
            }
            expected *= size;
        }
        true
    }

    /// Storage offset of the element at `index`.
    #[track_caller]
    pub fn offset_of(&self, index: &[usize]) -> usize {
        self.offset
            + index
                .iter()
                .zip(&self.strides)
                .map(|(i, s)| i * s)
                .sum::<usize>()
    }

    /// The layout with axes reordered: axis `k` of the result is axis `perm[k]` of `self`.
    #[track_caller]
    pub fn permute(&self, perm: &[usize]) -> Result<Layout> {
        let ndim = self.ndim();
        let mut seen: SmallVec<[bool; 4]> = smallvec::smallvec![false; ndim];
        let valid = perm.len() == ndim
            && perm
                .iter()
                .all(|&p| p < ndim && !std::mem::replace(&mut seen[p], true));
        if !valid {
            return Err(TensorError::shape(
                "permute",
                format!(
                    "{perm:?} is not a permutation of the {ndim} axes of {}",
                    fmt_shape(&self.shape)
                ),
            ));
        }
        Ok(Layout {
            shape: perm.iter().map(|&p| self.shape[p]).collect(),
            strides: perm.iter().map(|&p| self.strides[p]).collect(),
            offset: self.offset,
        })
    }

    /// The layout seen as `shape` by broadcasting: new leading axes and size-1 axes repeat with
    /// stride 0, so no element is copied.
    #[track_caller]
    pub fn broadcast_to(&self, shape: &[usize]) -> Result<Layout> {
        let err = || {
            TensorError::shape(
                "broadcast_to",
                format!(
                    "cannot broadcast {} to {}",
                    fmt_shape(&self.shape),
                    fmt_shape(shape)
                ),
            )
        };
        if shape.len() < self.ndim() {
            return Err(err());
        }
        let lead = shape.len() - self.ndim();
        let mut strides: Strides = smallvec::smallvec![0; shape.len()];
        for k in 0..self.ndim() {
            let (from, to) = (self.shape[k], shape[lead + k]);
            strides[lead + k] = if from == to {
                self.strides[k]
            } else if from == 1 {
                0
            } else {
                return Err(err());
            };
        }
        Ok(Layout {
            shape: shape.into(),
            strides,
            offset: self.offset,
        })
    }

    /// The sub-range `start .. start + len` of `axis`.
    #[track_caller]
    pub fn narrow(&self, axis: usize, start: usize, len: usize) -> Result<Layout> {
        if axis >= self.ndim() || start + len > self.shape[axis] {
            return Err(TensorError::index(
                "narrow",
                format!(
                    "range {start}..{} of axis {axis} is outside shape {}",
                    start + len,
                    fmt_shape(&self.shape)
                ),
            ));
        }
        let mut out = self.clone();
        out.shape[axis] = len;
        if len > 0 {
            out.offset += start * self.strides[axis];
        }
        Ok(out)
    }

    /// Inserts an axis of size 1 at `axis` (which may equal `ndim`, to append).
    #[track_caller]
    pub fn unsqueeze(&self, axis: usize) -> Result<Layout> {
        if axis > self.ndim() {
            return Err(TensorError::index(
                "unsqueeze",
                format!(
                    "axis {axis} is out of range for shape {}",
                    fmt_shape(&self.shape)
                ),
            ));
        }
        let mut out = self.clone();
        // The stride of a size-1 axis is never used to step; any value is valid.
        let stride = if axis < self.ndim() {
            self.strides[axis] * self.shape[axis]
        } else {
            1
        };
        out.shape.insert(axis, 1);
        out.strides.insert(axis, stride);
        Ok(out)
    }

    /// Removes `axis`, which must have size 1.
    #[track_caller]
    pub fn squeeze(&self, axis: usize) -> Result<Layout> {
        if axis >= self.ndim() || self.shape[axis] != 1 {
            return Err(TensorError::shape(
                "squeeze",
                format!(
                    "axis {axis} of shape {} does not have size 1",
                    fmt_shape(&self.shape)
                ),
            ));
        }
        let mut out = self.clone();
        out.shape.remove(axis);
        out.strides.remove(axis);
        Ok(out)
    }
}
