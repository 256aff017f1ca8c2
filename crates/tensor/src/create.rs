//! Constructors: constant fills, ranges, the identity, and seeded random tensors.
//!
//! Random tensors take the generator as an argument (any `rand::Rng`), so a run is
//! reproduced by seeding one `StdRng` at the top of a program.

use rand::Rng;

use crate::element::{DType, Element};
use crate::tensor::Tensor;
use crate::with_dtype;

impl Tensor {
    /// A tensor of `shape` with every element `value`.
    #[track_caller]
    pub fn full(shape: &[usize], value: f64, dtype: DType) -> Tensor {
        let numel = shape.iter().product();
        with_dtype!(dtype, T => Tensor::from_parts(vec![T::from_f64(value); numel], shape))
    }

    #[track_caller]
    pub fn zeros(shape: &[usize], dtype: DType) -> Tensor {
        Tensor::full(shape, 0.0, dtype)
    }

    #[track_caller]
    pub fn ones(shape: &[usize], dtype: DType) -> Tensor {
        Tensor::full(shape, 1.0, dtype)
    }

    /// Zeros of this tensor's shape and type.
    #[track_caller]
    pub fn zeros_like(&self) -> Tensor {
        Tensor::zeros(self.shape(), self.dtype())
    }

    /// Ones of this tensor's shape and type.
    #[track_caller]
    pub fn ones_like(&self) -> Tensor {
        Tensor::ones(self.shape(), self.dtype())
    }

    /// `value` in this tensor's shape and type.
    #[track_caller]
    pub fn full_like(&self, value: f64) -> Tensor {
        Tensor::full(self.shape(), value, self.dtype())
    }

    /// `start, start + step, …` up to but excluding `end`, as a 1-d tensor.
    ///
    /// ```
    /// use tensor::{DType, Tensor};
    /// assert_eq!(Tensor::arange(0.0, 1.0, 0.25, DType::F64).to_vec::<f64>(), [0.0, 0.25, 0.5, 0.75]);
    /// ```
    ///
    /// # Panics
    /// If `step` is zero or not finite.
    #[track_caller]
    pub fn arange(start: f64, end: f64, step: f64, dtype: DType) -> Tensor {
        assert!(
            step != 0.0 && step.is_finite(),
            "arange: step must be finite and non-zero, got {step}"
        );
        let count = ((end - start) / step).ceil().max(0.0) as usize;
        with_dtype!(dtype, T => Tensor::from_parts(
            (0..count).map(|i| T::from_f64(start + i as f64 * step)).collect(),
            &[count],
        ))
    }

    /// `count` evenly spaced values from `start` to `end` inclusive (just `start` if `count`
    /// is 1).
    ///
    /// ```
    /// use tensor::{DType, Tensor};
    /// assert_eq!(Tensor::linspace(-1.0, 1.0, 5, DType::F32).to_vec::<f32>(), [-1.0, -0.5, 0.0, 0.5, 1.0]);
    /// ```
    #[track_caller]
    pub fn linspace(start: f64, end: f64, count: usize, dtype: DType) -> Tensor {
        let step = if count > 1 {
            (end - start) / (count - 1) as f64
        } else {
            0.0
        };
        // The last value is `end` exactly, not `start + (count-1)·step` with its rounding;
        // a single value is `start` (as in NumPy).
        let value = |i: usize| {
            if i + 1 == count && count > 1 {
                end
            } else {
                start + i as f64 * step
            }
        };
        with_dtype!(dtype, T => Tensor::from_parts(
            (0..count).map(|i| T::from_f64(value(i))).collect(),
            &[count],
        ))
    }

    /// The `n × n` identity matrix.
    #[track_caller]
    pub fn eye(n: usize, dtype: DType) -> Tensor {
        with_dtype!(dtype, T => {
            let mut data = vec![T::ZERO; n * n];
            for i in 0..n {
                data[i * n + i] = T::ONE;
            }
            Tensor::from_parts(data, &[n, n])
        })
    }

    /// Uniform samples from `[low, high)` (the bounds rounded to `dtype`).
    ///
    /// # Panics
    /// If `low < high` does not hold in `dtype`.
    #[track_caller]
    pub fn rand_uniform(
        shape: &[usize],
        low: f64,
        high: f64,
        dtype: DType,
        rng: &mut impl Rng,
    ) -> Tensor {
        let numel = shape.iter().product();
        // NOTE: sampled in `T` itself: an f64 sample just below `high` can round up to `high`
        // in f32, which would break the half-open interval.
        with_dtype!(dtype, T => {
            let (low, high) = (T::from_f64(low), T::from_f64(high));
            Tensor::from_parts((0..numel).map(|_| rng.random_range(low..high)).collect(), shape)
        })
    }

    /// Normal samples with mean `mean` and standard deviation `std`.
    #[track_caller]
    pub fn rand_normal(
        shape: &[usize],
        mean: f64,
        std: f64,
        dtype: DType,
        rng: &mut impl Rng,
    ) -> Tensor {
        let numel = shape.iter().product();
        with_dtype!(dtype, T => Tensor::from_parts(
            (0..numel).map(|_| T::from_f64(mean + std * standard_normal(rng))).collect(),
            shape,
        ))
    }
}

/// One N(0, 1) sample by the Box–Muller transform: if u1, u2 ~ U(0, 1] then
/// √(−2 ln u1) · cos(2π u2) is standard normal. (`rand` itself ships no normal sampler.)
#[track_caller]
pub fn standard_normal(rng: &mut impl Rng) -> f64 {
    // 1 − U[0, 1) lies in (0, 1], so the logarithm is finite.
    let u1: f64 = 1.0 - rng.random::<f64>();
    let u2: f64 = rng.random::<f64>();
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}
