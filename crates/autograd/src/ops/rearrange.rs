//! Rearrangements that move elements to computed places: `flip`, `roll`, `repeat`. Each is a
//! [`take`](Var::take) at indices worked out from the shape alone, so each is a composite:
//! its gradient is `take`'s (a `scatter_add` at the same indices, summing where `repeat`
//! copied an element), to any order.

use tensor::layout::normalize_axis;

use crate::var::Var;

impl Var {
    /// A `take` giving a result of `out_shape` whose element at each multi-index `i` is the
    /// element of `self` at `source(i)` (`source` rewrites the index in place).
    #[track_caller]
    fn take_mapped(&self, out_shape: &[usize], source: impl Fn(&mut [usize])) -> Var {
        let ndim = out_shape.len();
        let mut strides = vec![1; ndim];
        for a in (0..ndim.saturating_sub(1)).rev() {
            strides[a] = strides[a + 1] * self.shape()[a + 1];
        }
        let count: usize = out_shape.iter().product();
        let mut index = vec![0; ndim];
        let mut at = vec![0; ndim];
        let mut flat = Vec::with_capacity(count);
        for _ in 0..count {
            at.copy_from_slice(&index);
            source(&mut at);
            flat.push(at.iter().zip(&strides).map(|(i, s)| i * s).sum());
            // The next multi-index in row-major order.
            for a in (0..ndim).rev() {
                index[a] += 1;
                if index[a] < out_shape[a] {
                    break;
                }
                index[a] = 0;
            }
        }
        self.take(&flat, out_shape)
    }

    /// The elements in reverse order along each of `axes`.
    // A permutation of the elements: its gradient is g flipped back, the same flip.
    ///
    /// # Panics
    /// On an axis out of range.
    #[track_caller]
    pub fn flip(&self, axes: &[isize]) -> Var {
        let shape = self.shape().to_vec();
        // A loop, not a closure: a panic inside a closure would be reported inside the
        // library instead of at the caller's line (`#[track_caller]` does not reach into it).
        let mut normalized = Vec::with_capacity(axes.len());
        for &a in axes {
            normalized.push(tensor::view::or_panic(normalize_axis(
                "flip",
                a,
                shape.len(),
            )));
        }
        let axes = normalized;
        self.take_mapped(&shape, |i| {
            for &a in &axes {
                i[a] = shape[a] - 1 - i[a];
            }
        })
    }

    /// The elements shifted by `shift` places along `axis`, those pushed off one end coming
    /// back at the other: `y[i] = x[(i − shift) mod n]`.
    // A permutation: its gradient is g rolled by −shift.
    ///
    /// # Panics
    /// On an axis out of range.
    #[track_caller]
    pub fn roll(&self, shift: isize, axis: isize) -> Var {
        let shape = self.shape().to_vec();
        let axis = tensor::view::or_panic(normalize_axis("roll", axis, shape.len()));
        let n = shape[axis] as isize;
        if n == 0 {
            return self.take_mapped(&shape, |_| {});
        }
        let back = (-shift).rem_euclid(n) as usize;
        self.take_mapped(&shape, |i| i[axis] = (i[axis] + back) % n as usize)
    }

    /// The tensor tiled `reps[a]` times along each axis `a`, as PyTorch's `Tensor.repeat`:
    /// with more `reps` than axes, size-1 axes are added in front first.
    // Each input element is copied to ∏ reps places: its gradient is the sum of theirs.
    ///
    /// # Panics
    /// If `reps` has fewer entries than the tensor has axes.
    #[track_caller]
    pub fn repeat(&self, reps: &[usize]) -> Var {
        assert!(
            reps.len() >= self.ndim(),
            "repeat: {} repetitions for a tensor of shape {:?} (need one per axis at least)",
            reps.len(),
            self.shape()
        );
        let mut padded = vec![1; reps.len() - self.ndim()];
        padded.extend_from_slice(self.shape());
        let out_shape: Vec<usize> = padded.iter().zip(reps).map(|(n, r)| n * r).collect();
        let x = if padded.len() == self.ndim() {
            self.clone()
        } else {
            self.reshape(&padded)
        };
        x.take_mapped(&out_shape, |i| {
            for (i, &n) in i.iter_mut().zip(&padded) {
                *i %= n.max(1);
            }
        })
    }
}
