//! The two element types, `f32` and `f64`, behind one trait so each kernel is written once.
//!
//! A [`Tensor`](crate::Tensor) carries its element type at run time ([`DType`]); kernels are
//! generic over [`Element`] and the [`with_dtype!`](crate::with_dtype) macro picks the
//! instantiation. Two types are all a meta-learning framework needs: `f32` for speed and
//! `f64` for gradient checks.

use std::fmt::{Debug, Display};
use std::iter::Sum;
use std::ops::{Add, AddAssign, Div, Mul, MulAssign, Neg, Sub, SubAssign};

use crate::storage::Storage;
use crate::vmath::{self, Math};

/// The element type of a tensor, known at run time.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DType {
    F32,
    F64,
}

impl DType {
    /// Bytes per element.
    pub fn size(self) -> usize {
        match self {
            DType::F32 => 4,
            DType::F64 => 8,
        }
    }
}

impl Display for DType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            DType::F32 => "f32",
            DType::F64 => "f64",
        })
    }
}

/// Runs `$body` with the type alias `$T` bound to the Rust type of `$dtype` (`f32` or `f64`).
///
/// ```
/// use tensor::{with_dtype, DType, Element};
/// let bytes = with_dtype!(DType::F64, T => std::mem::size_of::<T>());
/// assert_eq!(bytes, 8);
/// ```
#[macro_export]
macro_rules! with_dtype {
    ($dtype:expr, $T:ident => $body:expr) => {
        match $dtype {
            $crate::DType::F32 => {
                #[allow(dead_code)]
                type $T = f32;
                $body
            }
            $crate::DType::F64 => {
                #[allow(dead_code)]
                type $T = f64;
                $body
            }
        }
    };
}

/// What a kernel may do with an element: arithmetic, the math functions, conversion to and
/// from `f64`, and moving a `Vec` of them in and out of [`Storage`].
pub trait Element:
    Copy
    + Send
    + Sync
    + Default
    + Debug
    + Display
    + PartialOrd
    + Sum
    + Add<Output = Self>
    + Sub<Output = Self>
    + Mul<Output = Self>
    + Div<Output = Self>
    + Neg<Output = Self>
    + AddAssign
    + SubAssign
    + MulAssign
    + 'static
{
    const DTYPE: DType;
    const ZERO: Self;
    const ONE: Self;
    const INFINITY: Self;
    const NEG_INFINITY: Self;

    fn from_f64(v: f64) -> Self;
    fn to_f64(self) -> f64;
    fn exp(self) -> Self;
    fn ln(self) -> Self;
    fn sqrt(self) -> Self;
    fn sin(self) -> Self;
    fn cos(self) -> Self;
    fn tanh(self) -> Self;
    /// The logistic sigmoid `1 / (1 + e^{−x})`.
    fn sigmoid(self) -> Self;
    /// `dst[i] = f(src[i])`: for `f32` the vectorised kernels of [`crate::vmath`], for `f64`
    /// the scalar functions above.
    fn map_math(f: Math, src: &[Self], dst: &mut [Self]);
    /// `ln(1 + x)`, accurate for `x` near 0.
    fn ln_1p(self) -> Self;
    /// `eˣ − 1`, accurate for `x` near 0.
    fn exp_m1(self) -> Self;
    /// The error function (see [`crate::special::erf`]).
    fn erf_fn(self) -> Self;
    fn abs(self) -> Self;
    fn powf(self, p: Self) -> Self;
    fn max(self, other: Self) -> Self;
    fn min(self, other: Self) -> Self;
    fn is_nan(self) -> bool;
    fn mul_add(self, a: Self, b: Self) -> Self;

    /// Borrows the elements of `storage`, or `None` if it holds the other type.
    fn slice(storage: &Storage) -> Option<&[Self]>;
    /// Mutably borrows the elements of `storage`, or `None` if it holds the other type.
    fn slice_mut(storage: &mut Storage) -> Option<&mut [Self]>;
    /// Wraps a vector of elements as storage.
    fn into_storage(data: Vec<Self>) -> Storage;

    /// Picks this type's list out of the buffer recycler's two lists (see [`crate::buffer`]).
    fn free_list<'a>(
        f32s: &'a mut crate::buffer::Shelf<f32>,
        f64s: &'a mut crate::buffer::Shelf<f64>,
    ) -> &'a mut crate::buffer::Shelf<Self>;
}

impl Element for f32 {
    const DTYPE: DType = DType::F32;
    const ZERO: Self = 0.0;
    const ONE: Self = 1.0;
    const INFINITY: Self = f32::INFINITY;
    const NEG_INFINITY: Self = f32::NEG_INFINITY;

    fn from_f64(v: f64) -> Self {
        v as f32
    }
    fn to_f64(self) -> f64 {
        self as f64
    }
    // exp, ln, tanh and sigmoid: vmath's polynomials (within 1–2 ulps of C's), the same
    // function one element at a time as the vectorised kernels run on slices.
    fn exp(self) -> Self {
        vmath::exp(self)
    }
    fn ln(self) -> Self {
        vmath::ln(self)
    }
    fn sqrt(self) -> Self {
        f32::sqrt(self)
    }
    fn sin(self) -> Self {
        f32::sin(self)
    }
    fn cos(self) -> Self {
        f32::cos(self)
    }
    fn tanh(self) -> Self {
        vmath::tanh(self)
    }
    fn sigmoid(self) -> Self {
        vmath::sigmoid(self)
    }
    fn map_math(f: Math, src: &[Self], dst: &mut [Self]) {
        vmath::apply(f, src, dst)
    }
    fn ln_1p(self) -> Self {
        f32::ln_1p(self)
    }
    fn exp_m1(self) -> Self {
        f32::exp_m1(self)
    }
    fn erf_fn(self) -> Self {
        crate::special::erf(self as f64) as f32
    }
    fn abs(self) -> Self {
        f32::abs(self)
    }
    fn powf(self, p: Self) -> Self {
        f32::powf(self, p)
    }
    fn max(self, other: Self) -> Self {
        f32::max(self, other)
    }
    fn min(self, other: Self) -> Self {
        f32::min(self, other)
    }
    fn is_nan(self) -> bool {
        f32::is_nan(self)
    }
    fn mul_add(self, a: Self, b: Self) -> Self {
        f32::mul_add(self, a, b)
    }
    fn slice(storage: &Storage) -> Option<&[Self]> {
        match storage {
            Storage::F32(v) => Some(v),
            Storage::F64(_) => None,
        }
    }
    fn slice_mut(storage: &mut Storage) -> Option<&mut [Self]> {
        match storage {
            Storage::F32(v) => Some(v),
            Storage::F64(_) => None,
        }
    }
    fn into_storage(data: Vec<Self>) -> Storage {
        Storage::F32(data)
    }
    fn free_list<'a>(
        f32s: &'a mut crate::buffer::Shelf<f32>,
        _: &'a mut crate::buffer::Shelf<f64>,
    ) -> &'a mut crate::buffer::Shelf<Self> {
        f32s
    }
}

impl Element for f64 {
    const DTYPE: DType = DType::F64;
    const ZERO: Self = 0.0;
    const ONE: Self = 1.0;
    const INFINITY: Self = f64::INFINITY;
    const NEG_INFINITY: Self = f64::NEG_INFINITY;

    fn from_f64(v: f64) -> Self {
        v
    }
    fn to_f64(self) -> f64 {
        self
    }
    fn exp(self) -> Self {
        f64::exp(self)
    }
    fn ln(self) -> Self {
        f64::ln(self)
    }
    fn sqrt(self) -> Self {
        f64::sqrt(self)
    }
    fn sin(self) -> Self {
        f64::sin(self)
    }
    fn cos(self) -> Self {
        f64::cos(self)
    }
    fn tanh(self) -> Self {
        f64::tanh(self)
    }
    // NOTE: two branches so neither exponential overflows: 1/(1 + e^{−x}) for x ≥ 0 and
    // eˣ/(1 + eˣ) for x < 0.
    fn sigmoid(self) -> Self {
        if self >= 0.0 {
            1.0 / (1.0 + (-self).exp())
        } else {
            let e = self.exp();
            e / (1.0 + e)
        }
    }
    fn map_math(f: Math, src: &[Self], dst: &mut [Self]) {
        for (out, &v) in dst.iter_mut().zip(src) {
            *out = f.scalar(v);
        }
    }
    fn ln_1p(self) -> Self {
        f64::ln_1p(self)
    }
    fn exp_m1(self) -> Self {
        f64::exp_m1(self)
    }
    fn erf_fn(self) -> Self {
        crate::special::erf(self)
    }
    fn abs(self) -> Self {
        f64::abs(self)
    }
    fn powf(self, p: Self) -> Self {
        f64::powf(self, p)
    }
    fn max(self, other: Self) -> Self {
        f64::max(self, other)
    }
    fn min(self, other: Self) -> Self {
        f64::min(self, other)
    }
    fn is_nan(self) -> bool {
        f64::is_nan(self)
    }
    fn mul_add(self, a: Self, b: Self) -> Self {
        f64::mul_add(self, a, b)
    }
    fn slice(storage: &Storage) -> Option<&[Self]> {
        match storage {
            Storage::F64(v) => Some(v),
            Storage::F32(_) => None,
        }
    }
    fn slice_mut(storage: &mut Storage) -> Option<&mut [Self]> {
        match storage {
            Storage::F64(v) => Some(v),
            Storage::F32(_) => None,
        }
    }
    fn into_storage(data: Vec<Self>) -> Storage {
        Storage::F64(data)
    }
    fn free_list<'a>(
        _: &'a mut crate::buffer::Shelf<f32>,
        f64s: &'a mut crate::buffer::Shelf<f64>,
    ) -> &'a mut crate::buffer::Shelf<Self> {
        f64s
    }
}
