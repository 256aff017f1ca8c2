//! Meta-SGD in miniature: a two-parameter model, one (or two) inner steps, and the
//! meta-gradient with respect to both the initialisation θ and the learning rates α.
//!
//! Model: f(x; θ) = θ₁ · tanh(θ₀ · x). Loss: mean squared error.
//! Inner step: θ' = θ − α ⊙ ∇θ L_support(θ). Outer loss: L_query(θ').

use autograd::{check_grads, grad, CheckOptions, Var};
use tensor::Tensor;

const SUPPORT_X: [f64; 4] = [-1.5, -0.3, 0.4, 1.2];
const SUPPORT_Y: [f64; 4] = [-0.9, -0.2, 0.5, 0.8];
const QUERY_X: [f64; 3] = [-0.8, 0.1, 1.7];
const QUERY_Y: [f64; 3] = [-0.6, 0.0, 1.1];

fn column(values: &[f64]) -> Var {
    Var::constant(Tensor::from_slice(values, &[values.len()]).unwrap())
}

/// L(θ) = mean((θ₁ tanh(θ₀ x) − y)²), with θ a 2-vector `Var`.
fn loss(theta: &Var, x: &[f64], y: &[f64]) -> Var {
    let (w, a) = (theta.narrow(0, 0, 1), theta.narrow(0, 1, 1));
    let prediction = &a * &(&w * &column(x)).tanh();
    (&prediction - &column(y)).square().mean_all()
}

/// The recorded inner step θ' = θ − α ⊙ ∇θ L_support(θ) and the outer loss L_query(θ').
fn meta_loss(theta: &Var, alpha: &Var, steps: usize) -> (Var, Var) {
    let mut adapted = theta.clone();
    for _ in 0..steps {
        let g = &grad(
            &[&loss(&adapted, &SUPPORT_X, &SUPPORT_Y)],
            &[&adapted],
            true,
        )
        .unwrap()[0];
        adapted = &adapted - &(alpha * g);
    }
    (loss(&adapted, &QUERY_X, &QUERY_Y), adapted)
}

// ----- the same computation in plain f64, with the inner gradient in closed form -----

/// ∇θ L for L = mean(r²), r = θ₁ tanh(θ₀ x) − y:
/// ∂L/∂θ₀ = mean(2r · θ₁ · x · (1 − tanh²(θ₀x))),  ∂L/∂θ₁ = mean(2r · tanh(θ₀x)).
fn plain_grad(theta: [f64; 2], x: &[f64], y: &[f64]) -> [f64; 2] {
    let n = x.len() as f64;
    let mut g = [0.0; 2];
    for (&xi, &yi) in x.iter().zip(y) {
        let t = (theta[0] * xi).tanh();
        let r = theta[1] * t - yi;
        g[0] += 2.0 * r * theta[1] * xi * (1.0 - t * t) / n;
        g[1] += 2.0 * r * t / n;
    }
    g
}

fn plain_loss(theta: [f64; 2], x: &[f64], y: &[f64]) -> f64 {
    let n = x.len() as f64;
    x.iter()
        .zip(y)
        .map(|(&xi, &yi)| (theta[1] * (theta[0] * xi).tanh() - yi).powi(2) / n)
        .sum()
}

fn plain_meta_loss(theta: [f64; 2], alpha: [f64; 2]) -> f64 {
    let g = plain_grad(theta, &SUPPORT_X, &SUPPORT_Y);
    let adapted = [theta[0] - alpha[0] * g[0], theta[1] - alpha[1] * g[1]];
    plain_loss(adapted, &QUERY_X, &QUERY_Y)
}

const THETA: [f64; 2] = [0.7, 0.9];
const ALPHA: [f64; 2] = [0.3, 0.5];

fn vars() -> (Var, Var) {
    let theta = Var::leaf(Tensor::from_slice(&THETA, &[2]).unwrap());
    let alpha = Var::leaf(Tensor::from_slice(&ALPHA, &[2]).unwrap());
    (theta, alpha)
}

#[test]
fn meta_gradient_matches_finite_differences_through_the_inner_step() {
    let (theta, alpha) = vars();
    let (outer, _) = meta_loss(&theta, &alpha, 1);
    assert!((outer.item() - plain_meta_loss(THETA, ALPHA)).abs() < 1e-14);
    let g = grad(&[&outer], &[&theta, &alpha], false).unwrap();
    let (d_theta, d_alpha) = (g[0].value().to_vec::<f64>(), g[1].value().to_vec::<f64>());
    // Central differences of the plain-f64 pipeline (no autodiff anywhere in it).
    let eps = 1e-6;
    for k in 0..2 {
        let nudge = |base: [f64; 2], h: f64| {
            let mut moved = base;
            moved[k] += h;
            moved
        };
        let fd_theta = (plain_meta_loss(nudge(THETA, eps), ALPHA)
            - plain_meta_loss(nudge(THETA, -eps), ALPHA))
            / (2.0 * eps);
        let fd_alpha = (plain_meta_loss(THETA, nudge(ALPHA, eps))
            - plain_meta_loss(THETA, nudge(ALPHA, -eps)))
            / (2.0 * eps);
        assert!(
            (d_theta[k] - fd_theta).abs() < 1e-8,
            "θ{k}: {} vs {fd_theta}",
            d_theta[k]
        );
        assert!(
            (d_alpha[k] - fd_alpha).abs() < 1e-8,
            "α{k}: {} vs {fd_alpha}",
            d_alpha[k]
        );
    }
}

#[test]
fn alpha_gradient_has_the_closed_form() {
    // θ' = θ − α ⊙ g  ⇒  ∂L/∂α = ∂L/∂θ' ⊙ ∂θ'/∂α = −g ⊙ ∂L/∂θ'.
    let (theta, alpha) = vars();
    let (outer, adapted) = meta_loss(&theta, &alpha, 1);
    let g = grad(&[&outer], &[&alpha, &adapted], false).unwrap();
    let (d_alpha, d_adapted) = (g[0].value().to_vec::<f64>(), g[1].value().to_vec::<f64>());
    let inner = plain_grad(THETA, &SUPPORT_X, &SUPPORT_Y);
    for k in 0..2 {
        let closed_form = -inner[k] * d_adapted[k];
        assert!(
            (d_alpha[k] - closed_form).abs() < 1e-14,
            "{} vs {closed_form}",
            d_alpha[k]
        );
    }
}

#[test]
fn second_order_term_is_present() {
    // ∂L/∂θ = (I − diag(α)·H) ∂L/∂θ', where H is the support loss's Hessian. Dropping H (the
    // first-order approximation) must change the answer for this model.
    let (theta, alpha) = vars();
    let (outer, adapted) = meta_loss(&theta, &alpha, 1);
    let g = grad(&[&outer], &[&theta, &adapted], false).unwrap();
    let (full, first_order) = (g[0].value().to_vec::<f64>(), g[1].value().to_vec::<f64>());
    assert!(
        (full[0] - first_order[0]).abs() > 1e-3,
        "{full:?} vs {first_order:?}"
    );
}

#[test]
fn meta_gradient_of_two_inner_steps_passes_gradcheck() {
    // Differentiating through two recorded inner steps; checked to second order as well
    // (the Hessian of the meta-loss needs third derivatives of the support loss).
    let f = |v: &[Var]| meta_loss(&v[0], &v[1], 2).0;
    let inputs = [
        Tensor::from_slice(&THETA, &[2]).unwrap(),
        Tensor::from_slice(&ALPHA, &[2]).unwrap(),
    ];
    check_grads(f, &inputs, 2, &CheckOptions::default()).unwrap();
}
