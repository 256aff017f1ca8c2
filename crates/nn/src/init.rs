//! Parameter initialisers, all drawn from a seeded generator.
//!
//! Fan-in and fan-out follow the usual convention: for a linear weight `[out, in]` they are
//! `in` and `out`; for a convolution weight `[O, C, kh, kw]` they are `C·kh·kw` and `O·kh·kw`.
//!
//! | initialiser | distribution |
//! |---|---|
//! | Kaiming/He (He et al. 2015) | std = gain/√fan_in; uniform bound = √3·std; gain √2 for ReLU |
//! | Xavier/Glorot (Glorot & Bengio 2010) | std = gain·√(2/(fan_in + fan_out)); bound = √3·std |
//! | `Uniform(a, b)`, `Normal(μ, σ)`, `Constant(c)` | as named |

use rand::rngs::StdRng;
use tensor::{DType, Tensor};

/// How to draw a parameter's initial value.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Init {
    KaimingUniform { gain: f64 },
    KaimingNormal { gain: f64 },
    XavierUniform { gain: f64 },
    XavierNormal { gain: f64 },
    Uniform { low: f64, high: f64 },
    Normal { mean: f64, std: f64 },
    Constant(f64),
}

/// The gain for ReLU layers, √2: it keeps the variance of activations constant across layers
/// when half of the units are zeroed.
pub const RELU_GAIN: f64 = std::f64::consts::SQRT_2;

/// `(fan_in, fan_out)` of a weight shape: `[out, in]` or `[O, C, kh, kw]` (1-d: both the length).
pub fn fans(shape: &[usize]) -> (usize, usize) {
    match shape {
        [] => (1, 1),
        [n] => (*n, *n),
        [out, inp, rest @ ..] => {
            let receptive: usize = rest.iter().product();
            (inp * receptive, out * receptive)
        }
    }
}

impl Init {
    /// A tensor of `shape` drawn from this initialiser.
    pub fn sample(self, shape: &[usize], dtype: DType, rng: &mut StdRng) -> Tensor {
        let (fan_in, fan_out) = fans(shape);
        let uniform =
            |bound: f64, rng: &mut StdRng| Tensor::rand_uniform(shape, -bound, bound, dtype, rng);
        match self {
            Init::KaimingUniform { gain } => {
                uniform(3f64.sqrt() * gain / (fan_in as f64).sqrt(), rng)
            }
            Init::KaimingNormal { gain } => {
                Tensor::rand_normal(shape, 0.0, gain / (fan_in as f64).sqrt(), dtype, rng)
            }
            Init::XavierUniform { gain } => {
                uniform(gain * (6.0 / (fan_in + fan_out) as f64).sqrt(), rng)
            }
            Init::XavierNormal { gain } => Tensor::rand_normal(
                shape,
                0.0,
                gain * (2.0 / (fan_in + fan_out) as f64).sqrt(),
                dtype,
                rng,
            ),
            Init::Uniform { low, high } => Tensor::rand_uniform(shape, low, high, dtype, rng),
            Init::Normal { mean, std } => Tensor::rand_normal(shape, mean, std, dtype, rng),
            Init::Constant(c) => Tensor::full(shape, c, dtype),
        }
    }
}
