//! Printing a tensor the way a reader wants to see it: a header with shape and type, then the
//! values nested by axis, with the middle of long axes elided.
//!
//! ```
//! use tensor::{DType, Tensor};
//! let t = Tensor::arange(0.0, 6.0, 1.0, DType::F32).reshape(&[2, 3]);
//! assert_eq!(t.to_string(), "Tensor[2, 3] f32\n[[0, 1, 2],\n [3, 4, 5]]");
//! ```

use std::fmt;

use crate::element::Element;
use crate::tensor::Tensor;
use crate::with_dtype;

/// Axes longer than this show their first and last `EDGE_ITEMS` entries around `…`.
const ELIDE_ABOVE: usize = 10;
const EDGE_ITEMS: usize = 3;

impl fmt::Display for Tensor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "Tensor{:?} {}", self.shape(), self.dtype())?;
        let mut index = vec![0; self.ndim()];
        write_axis(self, f, &mut index, 0)
    }
}

impl fmt::Debug for Tensor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// The positions shown along an axis of `size`: all of them, or both edges with a gap.
fn shown(size: usize) -> Vec<Option<usize>> {
    if size <= ELIDE_ABOVE {
        (0..size).map(Some).collect()
    } else {
        let head = (0..EDGE_ITEMS).map(Some);
        let tail = (size - EDGE_ITEMS..size).map(Some);
        head.chain(std::iter::once(None)).chain(tail).collect()
    }
}

fn write_axis(
    t: &Tensor,
    f: &mut fmt::Formatter<'_>,
    index: &mut [usize],
    axis: usize,
) -> fmt::Result {
    if axis == t.ndim() {
        // In the tensor's own type, so an f32 0.1 prints as 0.1, not as its f64 widening
        // 0.10000000149011612.
        return with_dtype!(t.dtype(), T => write!(f, "{}", T::from_f64(t.get(index))));
    }
    f.write_str("[")?;
    let positions = shown(t.shape()[axis]);
    for (n, position) in positions.iter().enumerate() {
        if n > 0 {
            // Inner-most axis: values on one line; outer axes: one row per line, indented.
            if axis + 1 == t.ndim() {
                f.write_str(", ")?;
            } else {
                write!(f, ",\n{}", " ".repeat(axis + 1))?;
            }
        }
        match position {
            Some(i) => {
                index[axis] = *i;
                write_axis(t, f, index, axis + 1)?;
            }
            None => f.write_str("…")?,
        }
    }
    f.write_str("]")
}
