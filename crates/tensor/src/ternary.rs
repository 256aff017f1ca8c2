//! Element-wise functions of three tensors, all broadcast together: `select` (where) and the
//! fused `x − a ⊙ b` of a gradient step.

use crate::buffer::write_run;
use crate::element::Element;
use crate::error::Result;
use crate::layout::broadcast_shapes;
use crate::tensor::Tensor;
use crate::view::or_panic;
use crate::walk::{collect_runs, Walk};
use crate::with_dtype;

/// `f(a, b, c)` element by element over the broadcast shape of the three.
fn zip3_map<T: Element>(
    op: &'static str,
    [a, b, c]: [&Tensor; 3],
    f: impl Fn(T, T, T) -> T + Sync,
) -> Result<Tensor> {
    a.same_dtype(op, b)?;
    a.same_dtype(op, c)?;
    let (x, y, z) = (
        a.storage_slice::<T>(),
        b.storage_slice::<T>(),
        c.storage_slice::<T>(),
    );
    let shape = broadcast_shapes(op, a.shape(), b.shape())?;
    let shape = broadcast_shapes(op, &shape, c.shape())?;
    let layouts = [
        a.layout().broadcast_to(&shape)?,
        b.layout().broadcast_to(&shape)?,
        c.layout().broadcast_to(&shape)?,
    ];
    // One shape, all contiguous: the walk collapses to a single run with unit strides.
    let walk = Walk::new(
        &shape,
        [
            &layouts[0].strides,
            &layouts[1].strides,
            &layouts[2].strides,
        ],
    );
    let [sx, sy, sz] = walk.run_strides();
    let numel = shape.iter().product();
    let starts = [layouts[0].offset, layouts[1].offset, layouts[2].offset];
    let out = match (sx, sy, sz) {
        // Specialised inner loops for unit and repeated (stride 0) operands, so they vectorise.
        (1, 1, 1) => collect_runs(&walk, starts, numel, |[i, j, k], dst| {
            let len = dst.len();
            let runs = x[i..i + len].iter().zip(&y[j..j + len]).zip(&z[k..k + len]);
            write_run(dst, runs.map(|((&u, &v), &w)| f(u, v, w)));
        }),
        (0, 1, 1) => collect_runs(&walk, starts, numel, |[i, j, k], dst| {
            let len = dst.len();
            let u = x[i];
            let runs = y[j..j + len].iter().zip(&z[k..k + len]);
            write_run(dst, runs.map(|(&v, &w)| f(u, v, w)));
        }),
        (1, 0, 1) => collect_runs(&walk, starts, numel, |[i, j, k], dst| {
            let len = dst.len();
            let v = y[j];
            let runs = x[i..i + len].iter().zip(&z[k..k + len]);
            write_run(dst, runs.map(|(&u, &w)| f(u, v, w)));
        }),
        (1, 1, 0) => collect_runs(&walk, starts, numel, |[i, j, k], dst| {
            let len = dst.len();
            let w = z[k];
            let runs = x[i..i + len].iter().zip(&y[j..j + len]);
            write_run(dst, runs.map(|(&u, &v)| f(u, v, w)));
        }),
        // One operand running, two repeated: e.g. β − x ⊙ s with per-channel β and s.
        (1, 0, 0) => collect_runs(&walk, starts, numel, |[i, j, k], dst| {
            let len = dst.len();
            let (v, w) = (y[j], z[k]);
            write_run(dst, x[i..i + len].iter().map(|&u| f(u, v, w)));
        }),
        (0, 1, 0) => collect_runs(&walk, starts, numel, |[i, j, k], dst| {
            let len = dst.len();
            let (u, w) = (x[i], z[k]);
            write_run(dst, y[j..j + len].iter().map(|&v| f(u, v, w)));
        }),
        (0, 0, 1) => collect_runs(&walk, starts, numel, |[i, j, k], dst| {
            let len = dst.len();
            let (u, v) = (x[i], y[j]);
            write_run(dst, z[k..k + len].iter().map(|&w| f(u, v, w)));
        }),
        _ => collect_runs(&walk, starts, numel, |[i, j, k], dst| {
            let len = dst.len();
            let strided = (0..len).map(|n| f(x[i + n * sx], y[j + n * sy], z[k + n * sz]));
            write_run(dst, strided);
        }),
    };
    Ok(Tensor::from_parts(out, &shape))
}

impl Tensor {
    /// `on_true` where `self` (the mask) is non-zero, else `on_false`; all three broadcast.
    ///
    /// ```
    /// use tensor::Tensor;
    /// let mask = Tensor::from_vec(vec![1.0f32, 0.0, 1.0], &[3])?;
    /// let a = Tensor::from_vec(vec![1.0f32, 2.0, 3.0], &[3])?;
    /// let zero = Tensor::scalar(0.0f32);
    /// assert_eq!(mask.select(&a, &zero).to_vec::<f32>(), [1.0, 0.0, 3.0]);
    /// # Ok::<(), tensor::TensorError>(())
    /// ```
    ///
    /// # Panics
    /// If the shapes do not broadcast or the element types differ; [`Tensor::try_select`]
    /// returns the error instead.
    #[track_caller]
    pub fn select(&self, on_true: &Tensor, on_false: &Tensor) -> Tensor {
        or_panic(self.try_select(on_true, on_false))
    }

    /// [`Tensor::select`] returning an error instead of panicking.
    #[track_caller]
    pub fn try_select(&self, on_true: &Tensor, on_false: &Tensor) -> Result<Tensor> {
        with_dtype!(self.dtype(), T => zip3_map::<T>("select", [self, on_true, on_false], |m, t, f| {
            if m != T::ZERO { t } else { f }
        }))
    }

    /// `self − a ⊙ b`, all three broadcast: a gradient step `θ − α ⊙ g` in one pass.
    ///
    /// ```
    /// use tensor::Tensor;
    /// let theta = Tensor::from_vec(vec![1.0f32, 2.0], &[2])?;
    /// let alpha = Tensor::from_vec(vec![0.5f32, 0.1], &[2])?;
    /// let g = Tensor::from_vec(vec![2.0f32, 10.0], &[2])?;
    /// assert_eq!(theta.sub_mul(&alpha, &g).to_vec::<f32>(), [0.0, 1.0]);
    /// # Ok::<(), tensor::TensorError>(())
    /// ```
    ///
    /// # Panics
    /// As [`Tensor::select`]; [`Tensor::try_sub_mul`] returns the error instead.
    #[track_caller]
    pub fn sub_mul(&self, a: &Tensor, b: &Tensor) -> Tensor {
        or_panic(self.try_sub_mul(a, b))
    }

    /// [`Tensor::sub_mul`] returning an error instead of panicking.
    #[track_caller]
    pub fn try_sub_mul(&self, a: &Tensor, b: &Tensor) -> Result<Tensor> {
        with_dtype!(self.dtype(), T => zip3_map::<T>("sub_mul", [self, a, b], |x, a, b| x - a * b))
    }
}
