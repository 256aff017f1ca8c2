//! Gradient checking as a library: compare the engine's derivatives with central finite
//! differences, in `f64`, to any order.
//!
//! - [`gradcheck`]: first derivatives. Small problems compare the full Jacobian element by
//!   element; large ones compare random projections `uᵀ·J·v` (as JAX's `check_grads`).
//! - [`gradgradcheck`]: second derivatives, by checking the VJP `(x, u) ↦ uᵀJ_f(x)` itself
//!   (as PyTorch's `gradgradcheck`: the cotangent is an input too).
//! - [`check_grads`]: any order, recursively: order `n` checks `f`, then the function
//!   `x ↦ uᵀJ_f(x)` (for a fixed random `u`) to order `n − 1`.
//!
//! Defaults follow PyTorch: `eps = 1e-6`, `atol = 1e-5`, `rtol = 1e-3`. An element passes when
//! `|analytic − numeric| ≤ atol + rtol·|numeric|`. A failure names the level, the input, the
//! worst element, both values and the tolerance.

mod finite;
mod gradcheck;
mod higher;

pub use gradcheck::gradcheck_with;
pub use higher::{check_grads, gradgradcheck};

use std::fmt;

use tensor::Tensor;

use crate::var::Var;

/// Settings of a check.
#[derive(Clone, Copy, Debug)]
pub struct CheckOptions {
    /// Finite-difference step.
    pub eps: f64,
    pub atol: f64,
    pub rtol: f64,
    /// Use the full Jacobian when `outputs × inputs` elements is at most this.
    pub full_jacobian_limit: usize,
    /// Number of random projections otherwise.
    pub projections: usize,
    /// Seed of the random directions.
    pub seed: u64,
}

impl Default for CheckOptions {
    fn default() -> Self {
        CheckOptions {
            eps: 1e-6,
            atol: 1e-5,
            rtol: 1e-3,
            full_jacobian_limit: 4096,
            projections: 3,
            seed: 0,
        }
    }
}

/// Where and by how much analytic and numeric derivatives disagree.
#[derive(Clone, Debug, PartialEq)]
pub struct CheckError {
    /// Derivative order being checked (1 = gradient).
    pub order: usize,
    /// Which input.
    pub input: usize,
    /// How the comparison was made, and where: `Jacobian element (output [i], input [j])` or
    /// `projection k`.
    pub location: String,
    pub analytic: f64,
    pub numeric: f64,
    pub tolerance: f64,
}

impl fmt::Display for CheckError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "order-{} derivative check failed for input {} at {}: analytic {:.9e}, numeric \
             {:.9e}, difference {:.3e} > tolerance {:.3e}",
            self.order,
            self.input,
            self.location,
            self.analytic,
            self.numeric,
            (self.analytic - self.numeric).abs(),
            self.tolerance
        )
    }
}

impl std::error::Error for CheckError {}

/// Checks the first derivatives of `f` at `inputs` with the default options. Inputs are
/// converted to `f64`.
///
/// ```
/// use autograd::{gradcheck, Var};
/// use tensor::Tensor;
/// let x = Tensor::from_vec(vec![0.3f64, -1.2, 2.0], &[3])?;
/// gradcheck(|x| x[0].tanh().mul(&x[0]).sum_all(), &[x]).unwrap();
/// # Ok::<(), tensor::TensorError>(())
/// ```
pub fn gradcheck(f: impl Fn(&[Var]) -> Var, inputs: &[Tensor]) -> Result<(), CheckError> {
    gradcheck_with(f, inputs, &CheckOptions::default())
}
