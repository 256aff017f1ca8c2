//! Scans: running sums along an axis.

use crate::element::Element;
use crate::layout::normalize_axis;
use crate::tensor::Tensor;
use crate::view::or_panic;
use crate::with_dtype;

impl Tensor {
    /// Running sums along `axis`: `out[…, i, …] = Σ_{j ≤ i} x[…, j, …]`.
    ///
    /// ```
    /// use tensor::Tensor;
    /// let x = Tensor::from_vec(vec![1.0f64, 2.0, 3.0, 4.0, 5.0, 6.0], &[2, 3])?;
    /// assert_eq!(x.cumsum(1).to_vec::<f64>(), [1.0, 3.0, 6.0, 4.0, 9.0, 15.0]);
    /// assert_eq!(x.cumsum(0).to_vec::<f64>(), [1.0, 2.0, 3.0, 5.0, 7.0, 9.0]);
    /// # Ok::<(), tensor::TensorError>(())
    /// ```
    ///
    /// # Panics
    /// If `axis` is out of range (the message names the op and the shape).
    #[track_caller]
    pub fn cumsum(&self, axis: isize) -> Tensor {
        let axis = or_panic(normalize_axis("cumsum", axis, self.ndim()));
        with_dtype!(self.dtype(), T => cumsum_along::<T>(self, axis))
    }
}

fn cumsum_along<T: Element>(x: &Tensor, axis: usize) -> Tensor {
    let mut data = x.to_vec::<T>();
    let len = x.shape()[axis];
    // Row-major: an axis of `len` entries `inner` apart, repeated for every outer index.
    let inner: usize = x.shape()[axis + 1..].iter().product();
    let block = len * inner;
    if block > 0 {
        for outer in data.chunks_mut(block) {
            for i in 1..len {
                for j in 0..inner {
                    let previous = outer[(i - 1) * inner + j];
                    outer[i * inner + j] += previous;
                }
            }
        }
    }
    Tensor::from_parts(data, x.shape())
}
