//! Element-wise functions of two (or three) tensors, with NumPy broadcasting: shapes are
//! aligned on the right and size-1 axes repeat (see [`crate::layout::broadcast_shapes`]).
//!
//! Comparisons return *masks*: tensors of the operands' type holding `1` where the relation
//! holds and `0` elsewhere, ready to multiply with.
//!
//! # Panics
//! The methods panic when the shapes do not broadcast or the element types differ, naming
//! the op and both shapes; [`Tensor::try_zip`] returns that error instead.

use rayon::prelude::*;

use crate::buffer;
use crate::buffer::write_run;
use crate::element::Element;
use crate::error::Result;
use crate::layout::{broadcast_shapes, Shape};
use crate::tensor::Tensor;
use crate::unary::PARALLEL_MIN_ELEMENTS;
use crate::view::or_panic;
use crate::walk::{collect_runs, Walk};
use crate::with_dtype;

/// The binary element-wise operations, by name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BinaryOp {
    Add,
    Sub,
    Mul,
    Div,
    Maximum,
    Minimum,
    Pow,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl BinaryOp {
    #[track_caller]
    pub fn name(self) -> &'static str {
        match self {
            BinaryOp::Add => "add",
            BinaryOp::Sub => "sub",
            BinaryOp::Mul => "mul",
            BinaryOp::Div => "div",
            BinaryOp::Maximum => "maximum",
            BinaryOp::Minimum => "minimum",
            BinaryOp::Pow => "pow",
            BinaryOp::Eq => "eq",
            BinaryOp::Ne => "ne",
            BinaryOp::Lt => "lt",
            BinaryOp::Le => "le",
            BinaryOp::Gt => "gt",
            BinaryOp::Ge => "ge",
        }
    }
}

/// `1` if `holds`, else `0`.
fn mask<T: Element>(holds: bool) -> T {
    if holds {
        T::ONE
    } else {
        T::ZERO
    }
}

/// `f(a, b)` element by element over the broadcast shape of `a` and `b`.
fn zip_map<T: Element>(
    op: &'static str,
    a: &Tensor,
    b: &Tensor,
    f: impl Fn(T, T) -> T + Sync,
) -> Result<Tensor> {
    // Fast path: same shape, both contiguous (the common case inside a model).
    if a.shape() == b.shape() {
        if let (Some(x), Some(y)) = (a.contiguous_slice::<T>(), b.contiguous_slice::<T>()) {
            let out: Vec<T> = if crate::parallel::split(x.len() >= PARALLEL_MIN_ELEMENTS) {
                let mut out = buffer::with_capacity(x.len());
                out.par_extend(x.par_iter().zip(y).map(|(&u, &v)| f(u, v)));
                out
            } else {
                buffer::collect(x.len(), x.iter().zip(y).map(|(&u, &v)| f(u, v)))
            };
            return Ok(Tensor::from_parts(out, a.shape()));
        }
    }
    let shape = broadcast_shapes(op, a.shape(), b.shape())?;
    let (la, lb) = (
        a.layout().broadcast_to(&shape)?,
        b.layout().broadcast_to(&shape)?,
    );
    let (x, y) = (a.storage_slice::<T>(), b.storage_slice::<T>());
    let walk = Walk::new(&shape, [&la.strides, &lb.strides]);
    let (numel, start) = (shape.iter().product(), [la.offset, lb.offset]);
    let out = match walk.run_strides() {
        // Specialised inner loops for the usual stride patterns, so they vectorise.
        [1, 1] => collect_runs(&walk, start, numel, |[i, j], dst| {
            let len = dst.len();
            let runs = x[i..i + len].iter().zip(&y[j..j + len]);
            write_run(dst, runs.map(|(&u, &v)| f(u, v)));
        }),
        [1, 0] => collect_runs(&walk, start, numel, |[i, j], dst| {
            let len = dst.len();
            let v = y[j];
            write_run(dst, x[i..i + len].iter().map(|&u| f(u, v)));
        }),
        [0, 1] => collect_runs(&walk, start, numel, |[i, j], dst| {
            let len = dst.len();
            let u = x[i];
            write_run(dst, y[j..j + len].iter().map(|&v| f(u, v)));
        }),
        [sa, sb] => collect_runs(&walk, start, numel, |[i, j], dst| {
            let len = dst.len();
            write_run(dst, (0..len).map(|k| f(x[i + k * sa], y[j + k * sb])));
        }),
    };
    Ok(Tensor::from_parts(out, &shape))
}

fn apply<T: Element>(op: BinaryOp, a: &Tensor, b: &Tensor) -> Result<Tensor> {
    let name = op.name();
    match op {
        BinaryOp::Add => zip_map::<T>(name, a, b, |u, v| u + v),
        BinaryOp::Sub => zip_map::<T>(name, a, b, |u, v| u - v),
        BinaryOp::Mul => zip_map::<T>(name, a, b, |u, v| u * v),
        BinaryOp::Div => zip_map::<T>(name, a, b, |u, v| u / v),
        BinaryOp::Maximum => zip_map::<T>(name, a, b, |u, v| if v > u { v } else { u }),
        BinaryOp::Minimum => zip_map::<T>(name, a, b, |u, v| if v < u { v } else { u }),
        BinaryOp::Pow => zip_map::<T>(name, a, b, |u, v| u.powf(v)),
        BinaryOp::Eq => zip_map::<T>(name, a, b, |u, v| mask(u == v)),
        BinaryOp::Ne => zip_map::<T>(name, a, b, |u, v| mask(u != v)),
        BinaryOp::Lt => zip_map::<T>(name, a, b, |u, v| mask(u < v)),
        BinaryOp::Le => zip_map::<T>(name, a, b, |u, v| mask(u <= v)),
        BinaryOp::Gt => zip_map::<T>(name, a, b, |u, v| mask(u > v)),
        BinaryOp::Ge => zip_map::<T>(name, a, b, |u, v| mask(u >= v)),
    }
}

impl Tensor {
    /// `op` applied element by element to `self` and `other`, broadcast.
    ///
    /// ```
    /// use tensor::{BinaryOp, Tensor};
    /// let a = Tensor::from_vec(vec![1.0f32, 2.0, 3.0], &[3, 1])?;
    /// let b = Tensor::from_vec(vec![10.0f32, 20.0], &[2])?;
    /// assert_eq!(a.try_zip(BinaryOp::Add, &b)?.shape(), &[3, 2]);
    /// let err = a.try_zip(BinaryOp::Add, &Tensor::from_vec(vec![0.0f32; 16], &[4, 4])?).unwrap_err();
    /// assert_eq!(err.to_string(), "add: cannot broadcast [3, 1] with [4, 4]: axis 0 has sizes 3 and 4");
    /// # Ok::<(), tensor::TensorError>(())
    /// ```
    #[track_caller]
    pub fn try_zip(&self, op: BinaryOp, other: &Tensor) -> Result<Tensor> {
        self.same_dtype(op.name(), other)?;
        with_dtype!(self.dtype(), T => apply::<T>(op, self, other))
    }

    /// [`Tensor::try_zip`], panicking on a shape or type mismatch.
    #[track_caller]
    pub fn zip(&self, op: BinaryOp, other: &Tensor) -> Tensor {
        or_panic(self.try_zip(op, other))
    }

    #[track_caller]
    pub fn add(&self, other: &Tensor) -> Tensor {
        self.zip(BinaryOp::Add, other)
    }

    #[track_caller]
    pub fn sub(&self, other: &Tensor) -> Tensor {
        self.zip(BinaryOp::Sub, other)
    }

    #[track_caller]
    pub fn mul(&self, other: &Tensor) -> Tensor {
        self.zip(BinaryOp::Mul, other)
    }

    #[track_caller]
    pub fn div(&self, other: &Tensor) -> Tensor {
        self.zip(BinaryOp::Div, other)
    }

    /// The larger of the two elements.
    #[track_caller]
    pub fn maximum(&self, other: &Tensor) -> Tensor {
        self.zip(BinaryOp::Maximum, other)
    }

    /// The smaller of the two elements.
    #[track_caller]
    pub fn minimum(&self, other: &Tensor) -> Tensor {
        self.zip(BinaryOp::Minimum, other)
    }

    /// `self ^ other`, element by element.
    #[track_caller]
    pub fn pow(&self, other: &Tensor) -> Tensor {
        self.zip(BinaryOp::Pow, other)
    }

    /// Mask of `self == other`.
    #[track_caller]
    pub fn eq_mask(&self, other: &Tensor) -> Tensor {
        self.zip(BinaryOp::Eq, other)
    }

    /// Mask of `self != other`.
    #[track_caller]
    pub fn ne_mask(&self, other: &Tensor) -> Tensor {
        self.zip(BinaryOp::Ne, other)
    }

    /// Mask of `self < other`.
    #[track_caller]
    pub fn lt_mask(&self, other: &Tensor) -> Tensor {
        self.zip(BinaryOp::Lt, other)
    }

    /// Mask of `self <= other`.
    #[track_caller]
    pub fn le_mask(&self, other: &Tensor) -> Tensor {
        self.zip(BinaryOp::Le, other)
    }

    /// Mask of `self > other`.
    #[track_caller]
    pub fn gt_mask(&self, other: &Tensor) -> Tensor {
        self.zip(BinaryOp::Gt, other)
    }

    /// Mask of `self >= other`.
    #[track_caller]
    pub fn ge_mask(&self, other: &Tensor) -> Tensor {
        self.zip(BinaryOp::Ge, other)
    }

    /// `self` where `x > 0`, else 0: ReLU's backward pass (`self` the gradient, `x` ReLU's
    /// input), in one pass instead of a mask and a product.
    ///
    /// ```
    /// use tensor::Tensor;
    /// let g = Tensor::from_vec(vec![1.0f32, 2.0, 3.0], &[3])?;
    /// let x = Tensor::from_vec(vec![-1.0f32, 0.0, 4.0], &[3])?;
    /// assert_eq!(g.relu_backward(&x).to_vec::<f32>(), [0.0, 0.0, 3.0]);
    /// # Ok::<(), tensor::TensorError>(())
    /// ```
    ///
    /// # Panics
    /// As the other binary operations.
    #[track_caller]
    pub fn relu_backward(&self, x: &Tensor) -> Tensor {
        or_panic(self.same_dtype("relu_backward", x));
        or_panic(
            with_dtype!(self.dtype(), T => zip_map::<T>("relu_backward", self, x, |g, x| {
                if x > T::ZERO { g } else { T::ZERO }
            })),
        )
    }

    /// `self ⊙ y ⊙ (1 − y)`: the sigmoid's backward pass (`self` the gradient, `y = σ(x)` its
    /// output), in one pass instead of four (`1 − y`, two products, and the negation
    /// before). Rounded as the composite `g·(y·(1 − y))` is, so the values are the same.
    ///
    /// ```
    /// use tensor::Tensor;
    /// let g = Tensor::from_vec(vec![2.0f32, 1.0], &[2])?;
    /// let y = Tensor::from_vec(vec![0.5f32, 0.25], &[2])?;
    /// assert_eq!(g.sigmoid_backward(&y).to_vec::<f32>(), [0.5, 0.1875]);
    /// # Ok::<(), tensor::TensorError>(())
    /// ```
    ///
    /// # Panics
    /// As the other binary operations.
    #[track_caller]
    pub fn sigmoid_backward(&self, y: &Tensor) -> Tensor {
        or_panic(self.same_dtype("sigmoid_backward", y));
        or_panic(with_dtype!(self.dtype(), T => zip_map::<T>(
            "sigmoid_backward", self, y, |g, y| g * (y * (T::ONE - y))
        )))
    }

    /// `self ⊙ (1 − y²)`: tanh's backward pass (`self` the gradient, `y = tanh x` its output)
    /// in one pass, rounded as the composite `g·(1 − y·y)` is.
    ///
    /// ```
    /// use tensor::Tensor;
    /// let g = Tensor::from_vec(vec![2.0f32, 1.0], &[2])?;
    /// let y = Tensor::from_vec(vec![0.5f32, -1.0], &[2])?;
    /// assert_eq!(g.tanh_backward(&y).to_vec::<f32>(), [1.5, 0.0]);
    /// # Ok::<(), tensor::TensorError>(())
    /// ```
    ///
    /// # Panics
    /// As the other binary operations.
    #[track_caller]
    pub fn tanh_backward(&self, y: &Tensor) -> Tensor {
        or_panic(self.same_dtype("tanh_backward", y));
        or_panic(with_dtype!(self.dtype(), T => zip_map::<T>(
            "tanh_backward", self, y, |g, y| g * (T::ONE - y * y)
        )))
    }

    /// `self += other`, with `other` broadcast to `self`'s shape. Writes into `self`'s buffer,
    /// in `self`'s own memory order, when `self` is its only user (the usual case for a
    /// gradient being accumulated); otherwise `self` becomes a fresh sum.
    ///
    /// ```
    /// use tensor::Tensor;
    /// let mut sum = Tensor::from_vec(vec![1.0f32, 2.0], &[2])?;
    /// sum.add_assign(&Tensor::from_vec(vec![10.0f32, 20.0], &[2])?);
    /// assert_eq!(sum.to_vec::<f32>(), [11.0, 22.0]);
    /// // Works through views: a transposed sum, a broadcast addend.
    /// let mut t = Tensor::from_vec(vec![1.0f32, 2.0, 3.0, 4.0], &[2, 2])?.t().contiguous().t();
    /// t.add_assign(&Tensor::from_vec(vec![100.0f32, 200.0], &[2])?);
    /// assert_eq!(t.to_vec::<f32>(), [101.0, 202.0, 103.0, 204.0]);
    /// # Ok::<(), tensor::TensorError>(())
    /// ```
    ///
    /// # Panics
    /// If `other` does not broadcast to `self`'s shape or the element types differ.
    #[track_caller]
    pub fn add_assign(&mut self, other: &Tensor) {
        or_panic(self.same_dtype("add_assign", other));
        let other = or_panic(other.try_broadcast_to(self.shape()));
        let (shape, strides) = (Shape::from(self.shape()), Shape::from(self.strides()));
        with_dtype!(self.dtype(), T => {
            let Some(target) = self.dense_storage_mut::<T>() else {
                *self = self.add(&other);
                return;
            };
            add_into(target, 0, &shape, &strides, &other);
        })
    }

    /// `self += other.pad(padding)` without the padded copy: `other` is added to the block of
    /// `self` left after cutting `padding[k] = (before, after)` elements off each axis `k`,
    /// in `self`'s buffer when `self` is its only user, as [`Tensor::add_assign`] does. This
    /// is how gradients of slices (the four gates cut out of an LSTM's pre-activations) are
    /// summed: each adds its own block, where the padded copy would write the whole tensor
    /// and then add all of it.
    ///
    /// ```
    /// use tensor::Tensor;
    /// let mut sum = Tensor::from_vec(vec![1.0f32, 2.0, 3.0, 4.0], &[2, 2])?;
    /// sum.add_assign_within(&[(0, 0), (1, 0)], &Tensor::from_vec(vec![10.0f32, 20.0], &[2, 1])?);
    /// assert_eq!(sum.to_vec::<f32>(), [1.0, 12.0, 3.0, 24.0]);
    /// # Ok::<(), tensor::TensorError>(())
    /// ```
    ///
    /// # Panics
    /// If `padding` does not name one `(before, after)` per axis, `other`'s shape is not
    /// `self`'s less the padding, or the element types differ.
    #[track_caller]
    pub fn add_assign_within(&mut self, padding: &[(usize, usize)], other: &Tensor) {
        or_panic(self.same_dtype("add_assign_within", other));
        let inner: Option<Shape> = (padding.len() == self.ndim())
            .then(|| {
                (self.shape().iter().zip(padding))
                    .map(|(&size, &(before, after))| size.checked_sub(before + after))
                    .collect()
            })
            .flatten();
        assert!(
            inner.as_deref() == Some(other.shape()),
            "add_assign_within: {:?} padded by {padding:?} does not make {:?}",
            other.shape(),
            self.shape()
        );
        let (shape, strides) = (Shape::from(other.shape()), Shape::from(self.strides()));
        let offset: usize = (padding.iter().zip(&strides))
            .map(|(&(before, _), &stride)| before * stride)
            .sum();
        with_dtype!(self.dtype(), T => {
            let Some(target) = self.dense_storage_mut::<T>() else {
                *self = self.add(&other.pad(padding));
                return;
            };
            add_into(target, offset, &shape, &strides, other);
        })
    }
}

/// `target[offset + Σ iₖ·strides[k]] += other[i]` for every index `i` of `shape` (`other`'s).
///
/// Walks both in the order of the target's memory (axes sorted by its strides), so that when
/// both share a layout — two transposed gradients, say — the loop is one contiguous run.
fn add_into<T: Element>(
    target: &mut [T],
    offset: usize,
    shape: &[usize],
    strides: &[usize],
    other: &Tensor,
) {
    let mut axes: Shape = (0..shape.len()).collect();
    axes.sort_by_key(|&k| std::cmp::Reverse(strides[k]));
    let sorted: Shape = axes.iter().map(|&k| shape[k]).collect();
    let own: Shape = axes.iter().map(|&k| strides[k]).collect();
    let theirs: Shape = axes.iter().map(|&k| other.strides()[k]).collect();
    let source = other.storage_slice::<T>();
    let walk = Walk::new(&sorted, [&own, &theirs]);
    let (len, [step, their_step]) = (walk.run_len(), walk.run_strides());
    // The two usual patterns get loops of their own, which vectorise: a gradient of the same
    // layout, and one broadcast along the run (the gradient of a mean over the spatial axes,
    // say, is one value per run).
    walk.for_each_run([offset, other.layout().offset], |[t, s]| {
        match (step, their_step) {
            (1, 1) => {
                for (slot, &v) in target[t..t + len].iter_mut().zip(&source[s..s + len]) {
                    *slot += v;
                }
            }
            (1, 0) => {
                let v = source[s];
                target[t..t + len].iter_mut().for_each(|slot| *slot += v);
            }
            _ => {
                for k in 0..len {
                    target[t + k * step] += source[s + k * their_step];
                }
            }
        }
    });
}
