//! Higher-order checks. The derivative of `f` is again a function of `x` built from `Var`
//! operations (the engine's backward pass, recorded with `create_graph`), so it can be
//! checked like any other function: against finite differences of *itself*. No level
//! compares against finite differences of finite differences, so errors do not compound.

use rand::rngs::StdRng;
use rand::SeedableRng;
use tensor::{DType, Tensor};

use super::finite::{eval, to_f64, CheckedFn};
use super::gradcheck::check_level;
use super::{CheckError, CheckOptions};
use crate::engine::{grad_with, GradOptions};
use crate::var::Var;

/// The gradients of `⟨u, f(x)⟩` with respect to `x`, recorded, flattened and joined into one
/// 1-d `Var` (so a derivative is again a single-output function).
fn recorded_vjp(f: &dyn Fn(&[Var]) -> Var, x: &[Var], u: &Var) -> Var {
    let y = f(x);
    let options = GradOptions {
        create_graph: true,
        ..GradOptions::default()
    };
    let inputs: Vec<&Var> = x.iter().collect();
    let grads = grad_with(&[&y], &[u], &inputs, options).unwrap_or_else(|e| panic!("{e}"));
    let flat: Vec<Var> = grads.iter().map(|g| g.reshape(&[g.numel()])).collect();
    Var::concat(&flat.iter().collect::<Vec<_>>(), 0)
}

/// Checks second derivatives: the map `(x, u) ↦ uᵀ·J_f(x)` is checked to first order in both
/// `x` and the cotangent `u` (a random `u` of `f`'s output shape is the extra input).
///
/// ```
/// use autograd::gradgradcheck;
/// use tensor::Tensor;
/// let x = Tensor::from_vec(vec![0.5f64, -0.7], &[2])?;
/// gradgradcheck(|x| x[0].sigmoid().mul(&x[0].sin()), &[x], &Default::default()).unwrap();
/// # Ok::<(), tensor::TensorError>(())
/// ```
pub fn gradgradcheck(
    f: impl Fn(&[Var]) -> Var,
    inputs: &[Tensor],
    options: &CheckOptions,
) -> Result<(), CheckError> {
    let xs = to_f64(inputs);
    let out_shape = f(&xs.iter().map(|x| Var::leaf(x.clone())).collect::<Vec<_>>())
        .shape()
        .to_vec();
    let mut rng = StdRng::seed_from_u64(options.seed ^ 0x5eed);
    let u = Tensor::rand_normal(&out_shape, 0.0, 1.0, DType::F64, &mut rng);
    let n = xs.len();
    let vjp_of_f = |vars: &[Var]| recorded_vjp(&f, &vars[..n], &vars[n]);
    let mut with_u = xs;
    with_u.push(u);
    check_level(&vjp_of_f, &with_u, options, 2)
}

/// Checks derivatives of `f` up to `order` (1 = gradient, 2 = Hessian, 3 = third…), each
/// level against finite differences of the level below.
///
/// ```
/// use autograd::check_grads;
/// use tensor::Tensor;
/// let x = Tensor::from_vec(vec![0.2f64, 1.1, -0.4], &[3])?;
/// check_grads(|x| x[0].exp().mul(&x[0].cos()).sum_all(), &[x], 3, &Default::default()).unwrap();
/// # Ok::<(), tensor::TensorError>(())
/// ```
pub fn check_grads(
    f: impl Fn(&[Var]) -> Var,
    inputs: &[Tensor],
    order: usize,
    options: &CheckOptions,
) -> Result<(), CheckError> {
    let xs = to_f64(inputs);
    let mut rng = StdRng::seed_from_u64(options.seed ^ 0x0de5);
    let mut level: Box<CheckedFn> = Box::new(f);
    for current in 1..=order {
        check_level(&*level, &xs, options, current)?;
        if current == order {
            break;
        }
        // The next level: x ↦ uᵀ·J(x) for a fixed random cotangent u.
        let out_len = eval(&*level, &xs).len();
        let u = Var::constant(Tensor::rand_normal(
            &[out_len],
            0.0,
            1.0,
            DType::F64,
            &mut rng,
        ));
        let previous = level;
        level = Box::new(move |x: &[Var]| {
            let flat = |v: &[Var]| {
                let y = previous(v);
                y.reshape(&[y.numel()])
            };
            recorded_vjp(&flat, x, &u)
        });
    }
    Ok(())
}
