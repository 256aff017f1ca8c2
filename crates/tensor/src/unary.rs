//! Element-wise functions of one tensor. Each public method is one line: the math on one
//! element, handed to `map`, which owns the loops (contiguous fast path, strided walk,
//! rayon above a size threshold).

use rayon::prelude::*;

use crate::buffer;
use crate::element::Element;
use crate::tensor::Tensor;
use crate::vmath::Math;
use crate::walk::Walk;
use crate::with_dtype;

/// Below this many elements a kernel runs on the calling thread: splitting work across
/// threads costs a few microseconds, more than the work itself for small tensors.
pub(crate) const PARALLEL_MIN_ELEMENTS: usize = 1 << 16;

/// `f` applied to every element of `x`; the result is contiguous, with `x`'s shape.
pub(crate) fn map<T: Element>(x: &Tensor, f: impl Fn(T) -> T + Sync) -> Tensor {
    let out: Vec<T> = match x.contiguous_slice::<T>() {
        Some(src) if crate::parallel::split(src.len() >= PARALLEL_MIN_ELEMENTS) => {
            let mut out = buffer::with_capacity(src.len());
            out.par_extend(src.par_iter().map(|&v| f(v)));
            out
        }
        Some(src) => buffer::collect(src.len(), src.iter().map(|&v| f(v))),
        None => {
            let src = x.storage_slice::<T>();
            let mut out = buffer::with_capacity(x.numel());
            let walk = Walk::new(x.shape(), [x.strides()]);
            let (len, step) = (walk.run_len(), walk.run_stride(0));
            walk.for_each_run([x.layout().offset], |[start]| {
                buffer::extend(&mut out, len, (0..len).map(|i| f(src[start + i * step])));
            });
            out
        }
    };
    Tensor::from_parts(out, x.shape())
}

/// `f` applied to every element of `x` by the slice kernel [`Element::map_math`] (vectorised
/// for `f32`). A strided `x` (a column block cut out of a matrix, such as an LSTM's gates) is
/// first gathered into one contiguous buffer: the kernel's loop runs whole vectors of lanes
/// and leaves the rest to a scalar remainder loop, so runs of a few dozen elements, passed
/// one by one, went mostly through the remainder (a copy costs a fraction of an `exp`).
pub(crate) fn map_math<T: Element>(x: &Tensor, f: Math) -> Tensor {
    let src = x.to_contiguous_cow::<T>();
    let mut out = buffer::scratch::<T>(src.len());
    if crate::parallel::split(src.len() >= PARALLEL_MIN_ELEMENTS) {
        out.par_chunks_mut(MATH_CHUNK)
            .zip(src.par_chunks(MATH_CHUNK))
            .for_each(|(dst, src)| T::map_math(f, src, dst));
    } else {
        T::map_math(f, &src, &mut out);
    }
    if let std::borrow::Cow::Owned(gathered) = src {
        buffer::give_back(gathered);
    }
    Tensor::from_parts(out, x.shape())
}

/// Elements per rayon job in [`map_math`]: a few microseconds of work each.
const MATH_CHUNK: usize = 1 << 13;

impl Tensor {
    #[track_caller]
    pub fn neg(&self) -> Tensor {
        with_dtype!(self.dtype(), T => map::<T>(self, |v| -v))
    }

    #[track_caller]
    pub fn exp(&self) -> Tensor {
        with_dtype!(self.dtype(), T => map_math::<T>(self, Math::Exp))
    }

    /// Natural logarithm.
    #[track_caller]
    pub fn log(&self) -> Tensor {
        with_dtype!(self.dtype(), T => map_math::<T>(self, Math::Ln))
    }

    #[track_caller]
    pub fn sqrt(&self) -> Tensor {
        with_dtype!(self.dtype(), T => map::<T>(self, |v| v.sqrt()))
    }

    #[track_caller]
    pub fn abs(&self) -> Tensor {
        with_dtype!(self.dtype(), T => map::<T>(self, |v| v.abs()))
    }

    /// `max(x, 0)`.
    #[track_caller]
    pub fn relu(&self) -> Tensor {
        with_dtype!(self.dtype(), T => map::<T>(self, |v| if v > T::ZERO { v } else { T::ZERO }))
    }

    /// `ln(1 + x)`, accurate where `x` is tiny (where `log(1 + x)` would round `1 + x`).
    #[track_caller]
    pub fn log1p(&self) -> Tensor {
        with_dtype!(self.dtype(), T => map::<T>(self, |v| v.ln_1p()))
    }

    /// `eˣ − 1`, accurate where `x` is tiny (where `exp(x) − 1` would cancel).
    #[track_caller]
    pub fn expm1(&self) -> Tensor {
        with_dtype!(self.dtype(), T => map::<T>(self, |v| v.exp_m1()))
    }

    /// The error function `erf(x) = 2/√π ∫₀ˣ e^{−t²} dt` ([`crate::special::erf`]).
    #[track_caller]
    pub fn erf(&self) -> Tensor {
        with_dtype!(self.dtype(), T => map::<T>(self, |v| v.erf_fn()))
    }

    #[track_caller]
    pub fn sin(&self) -> Tensor {
        with_dtype!(self.dtype(), T => map::<T>(self, |v| v.sin()))
    }

    #[track_caller]
    pub fn cos(&self) -> Tensor {
        with_dtype!(self.dtype(), T => map::<T>(self, |v| v.cos()))
    }

    #[track_caller]
    pub fn tanh(&self) -> Tensor {
        with_dtype!(self.dtype(), T => map_math::<T>(self, Math::Tanh))
    }

    /// `1 / (1 + e^{-x})`, without overflow for either sign (see [`Element::sigmoid`]).
    #[track_caller]
    pub fn sigmoid(&self) -> Tensor {
        with_dtype!(self.dtype(), T => map_math::<T>(self, Math::Sigmoid))
    }

    /// `x^p` for a constant exponent.
    #[track_caller]
    pub fn powf(&self, p: f64) -> Tensor {
        with_dtype!(self.dtype(), T => {
            let p = T::from_f64(p);
            map::<T>(self, move |v| v.powf(p))
        })
    }

    /// `x²`.
    #[track_caller]
    pub fn square(&self) -> Tensor {
        with_dtype!(self.dtype(), T => map::<T>(self, |v| v * v))
    }

    /// `1 / x`.
    #[track_caller]
    pub fn recip(&self) -> Tensor {
        with_dtype!(self.dtype(), T => map::<T>(self, |v| T::ONE / v))
    }

    /// `-1`, `0` or `1` by the sign of each element.
    #[track_caller]
    pub fn sign(&self) -> Tensor {
        with_dtype!(self.dtype(), T => map::<T>(self, |v| {
            if v > T::ZERO {
                T::ONE
            } else if v < T::ZERO {
                -T::ONE
            } else {
                T::ZERO
            }
        }))
    }

    /// `x + c` for a constant `c`.
    #[track_caller]
    pub fn add_scalar(&self, c: f64) -> Tensor {
        with_dtype!(self.dtype(), T => {
            let c = T::from_f64(c);
            map::<T>(self, move |v| v + c)
        })
    }

    /// `x · c` for a constant `c`.
    #[track_caller]
    pub fn mul_scalar(&self, c: f64) -> Tensor {
        with_dtype!(self.dtype(), T => {
            let c = T::from_f64(c);
            map::<T>(self, move |v| v * c)
        })
    }

    /// Each element limited to `[low, high]`.
    #[track_caller]
    pub fn clamp(&self, low: f64, high: f64) -> Tensor {
        with_dtype!(self.dtype(), T => {
            let (low, high) = (T::from_f64(low), T::from_f64(high));
            map::<T>(self, move |v| v.max(low).min(high))
        })
    }

    /// `1` where the element is positive, else `0` (the derivative of relu, as a mask).
    #[track_caller]
    pub fn positive_mask(&self) -> Tensor {
        with_dtype!(self.dtype(), T => map::<T>(self, |v| if v > T::ZERO { T::ONE } else { T::ZERO }))
    }
}
