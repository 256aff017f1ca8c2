//! Function transforms built on [`grad_with`]: `vjp`, `jvp` and `hvp`, in the style of JAX.
//! Each takes a function of `Var`s and plain tensors, and returns plain tensors.

use tensor::Tensor;

use crate::engine::{grad_with, GradError, GradOptions};
use crate::var::Var;

fn leaves(xs: &[Tensor]) -> Vec<Var> {
    xs.iter().map(|x| Var::leaf(x.clone())).collect()
}

fn refs(vars: &[Var]) -> Vec<&Var> {
    vars.iter().collect()
}

fn values(vars: Vec<Var>) -> Vec<Tensor> {
    vars.into_iter().map(|v| v.value().clone()).collect()
}

/// `f(x)` and the vector–Jacobian product `uᵀ·J_f(x)` (one tensor per input).
pub fn vjp(
    f: impl Fn(&[Var]) -> Var,
    xs: &[Tensor],
    u: &Tensor,
) -> Result<(Tensor, Vec<Tensor>), GradError> {
    let x = leaves(xs);
    let y = f(&x);
    let seed = Var::constant(u.clone());
    let grads = grad_with(&[&y], &[&seed], &refs(&x), GradOptions::default())?;
    Ok((y.value().clone(), values(grads)))
}

/// `f(x)` and the Jacobian–vector product `J_f(x)·v` (`v` has one tensor per input), by the
/// double-VJP trick: `g(u) = uᵀJ` is linear in `u`, so differentiating `⟨g(u), v⟩` with
/// respect to `u` gives `J·v`. Two reverse passes stand in for a forward-mode pass.
///
/// ```
/// use autograd::jvp;
/// use tensor::Tensor;
/// // f(x) = x², J = diag(2x): J·v = 2·x·v.
/// let x = Tensor::from_vec(vec![1.0f64, 2.0, 3.0], &[3])?;
/// let v = Tensor::from_vec(vec![1.0f64, 0.0, -1.0], &[3])?;
/// let (_, jv) = jvp(|x| x[0].square(), &[x], &[v]).unwrap();
/// assert_eq!(jv.to_vec::<f64>(), [2.0, 0.0, -6.0]);
/// # Ok::<(), tensor::TensorError>(())
/// ```
pub fn jvp(
    f: impl Fn(&[Var]) -> Var,
    xs: &[Tensor],
    vs: &[Tensor],
) -> Result<(Tensor, Tensor), GradError> {
    let x = leaves(xs);
    let y = f(&x);
    // The value of the dummy cotangent does not matter: only its derivative is taken.
    let u = Var::leaf(y.value().zeros_like());
    let record = GradOptions {
        create_graph: true,
        ..GradOptions::default()
    };
    let g = grad_with(&[&y], &[&u], &refs(&x), record)?;
    let v: Vec<Var> = vs.iter().map(|v| Var::constant(v.clone())).collect();
    let jv = grad_with(&refs(&g), &refs(&v), &[&u], GradOptions::default())?;
    Ok((y.value().clone(), jv[0].value().clone()))
}

/// The Hessian–vector product `H·v` of a scalar `f` at `x`, by reverse over reverse:
/// `H·v = ∇_x ⟨∇_x f(x), v⟩`. Costs about two gradients; the Hessian is never formed.
///
/// ```
/// use autograd::hvp;
/// use tensor::Tensor;
/// // f(x) = Σ x³, H = diag(6x).
/// let x = Tensor::from_vec(vec![1.0f64, -2.0], &[2])?;
/// let v = Tensor::from_vec(vec![1.0f64, 1.0], &[2])?;
/// let hv = hvp(|x| x[0].powf(3.0).sum_all(), &[x], &[v]).unwrap();
/// assert_eq!(hv[0].to_vec::<f64>(), [6.0, -12.0]);
/// # Ok::<(), tensor::TensorError>(())
/// ```
pub fn hvp(
    f: impl Fn(&[Var]) -> Var,
    xs: &[Tensor],
    vs: &[Tensor],
) -> Result<Vec<Tensor>, GradError> {
    let x = leaves(xs);
    let y = f(&x);
    let record = GradOptions {
        create_graph: true,
        ..GradOptions::default()
    };
    let g = grad_with(&[&y], &[], &refs(&x), record)?;
    let v: Vec<Var> = vs.iter().map(|v| Var::constant(v.clone())).collect();
    let hv = grad_with(&refs(&g), &refs(&v), &refs(&x), GradOptions::default())?;
    Ok(values(hv))
}
