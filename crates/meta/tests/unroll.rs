//! The learned optimiser's meta-gradient through a short unroll (3 steps on a 2-d quadratic),
//! against central finite differences in f64: the full meta-gradient against the meta-loss
//! itself, the first-order one against the meta-loss with the optimisee's gradients frozen.

use autograd::{grad, Var};
use meta::unroll::unroll;
use meta::Tape;
use nn::learned::CoordinatewiseLstm;
use nn::Params;
use rand::{rngs::StdRng, SeedableRng};
use tensor::{DType, Tensor};

const STEPS: usize = 3;

fn lstm() -> CoordinatewiseLstm {
    // Steps of order 1 (scale 1): the Hessian term is then far from negligible.
    CoordinatewiseLstm {
        hidden: 4,
        output_scale: 1.0,
        ..CoordinatewiseLstm::default()
    }
}

/// f(θ) = ‖Wθ − y‖² for a fixed 2×2 W and y.
fn quadratic(theta: &Params) -> Var {
    let w = Var::constant(Tensor::from_vec(vec![1.2f64, -0.4, 0.3, 0.8], &[2, 2]).unwrap());
    let y = Var::constant(Tensor::from_vec(vec![0.5f64, -1.0], &[2, 1]).unwrap());
    let t = theta.expect("theta").reshape(&[2, 1]);
    (&w.matmul(&t) - &y).square().sum_all()
}

fn theta0() -> Params {
    [(
        "theta",
        Var::leaf(Tensor::from_vec(vec![0.7f64, -0.2], &[2]).unwrap()),
    )]
    .into_iter()
    .collect()
}

fn weights() -> Params {
    let mut rng = StdRng::seed_from_u64(11);
    // A read-out 30 times its initial size: steps of order 1.
    lstm().init(DType::F64, &mut rng).map(|name, w| match name {
        "out.weight" => Var::leaf(w.value().mul_scalar(30.0)),
        _ => w.clone(),
    })
}

/// The meta-loss of a 3-step unroll with `weights`, and its meta-gradient under `tape`.
fn meta_loss_and_grad(weights: &Params, tape: Tape) -> (f64, Vec<f64>, Vec<Vec<f64>>) {
    let lstm = lstm();
    let out = unroll(
        &lstm,
        weights,
        &theta0(),
        &lstm.zero_state(2, DType::F64),
        STEPS,
        tape,
        &mut |_, theta| quadratic(theta),
    );
    let g = grad(&[&out.meta_loss], &weights.vars(), false).unwrap();
    let flat = g.iter().flat_map(|g| g.value().to_vec::<f64>()).collect();
    // The optimisee's gradient at each step, for the first-order replay.
    let mut theta = theta0();
    let mut state = lstm.zero_state(2, DType::F64);
    let mut grads = Vec::new();
    for _ in 0..STEPS {
        let leaves = theta.to_leaves();
        let g = grad(&[&quadratic(&leaves)], &leaves.vars(), false).unwrap();
        let g = leaves.gradients(&g);
        grads.push(g.expect("theta").value().to_vec::<f64>());
        (theta, state) = lstm.step(weights, &leaves.detach(), &g, &state);
    }
    (out.meta_loss.item(), flat, grads)
}

/// The meta-loss with `weights`; with `frozen` gradients, step t reads `frozen[t]` instead of
/// ∇f(θₜ) (the function whose gradient the first-order meta-gradient is).
fn meta_loss(weights: &Params, frozen: Option<&[Vec<f64>]>) -> f64 {
    let lstm = lstm();
    let mut theta = theta0().detach();
    let mut state = lstm.zero_state(2, DType::F64);
    let mut total = 0.0;
    for t in 0..STEPS {
        let g = match frozen {
            Some(gs) => Var::constant(Tensor::from_vec(gs[t].clone(), &[2]).unwrap()),
            None => {
                let leaves = theta.to_leaves();
                grad(&[&quadratic(&leaves)], &leaves.vars(), false).unwrap()[0].detach()
            }
        };
        let g: Params = [("theta", g)].into_iter().collect();
        (theta, state) = lstm.step(weights, &theta, &g, &state);
        total += quadratic(&theta).item();
    }
    total
}

/// Central differences of `f` in every element of `weights`.
fn finite_differences(weights: &Params, f: &dyn Fn(&Params) -> f64) -> Vec<f64> {
    let eps = 1e-6;
    let flat: Vec<Vec<f64>> = weights.iter().map(|(_, v)| v.value().to_vec()).collect();
    let mut out = Vec::new();
    for (k, (name, v)) in weights.iter().enumerate() {
        for i in 0..flat[k].len() {
            let shifted = |delta: f64| {
                let mut values = flat[k].clone();
                values[i] += delta;
                weights.map(|n, w| {
                    if n == name {
                        Var::leaf(Tensor::from_vec(values.clone(), v.shape()).unwrap())
                    } else {
                        w.clone()
                    }
                })
            };
            out.push((f(&shifted(eps)) - f(&shifted(-eps))) / (2.0 * eps));
        }
    }
    out
}

fn assert_close(analytic: &[f64], numeric: &[f64], what: &str) {
    assert_eq!(analytic.len(), numeric.len());
    for (k, (a, n)) in analytic.iter().zip(numeric).enumerate() {
        assert!(
            (a - n).abs() <= 1e-6 + 1e-4 * n.abs(),
            "{what}: element {k}: analytic {a}, numeric {n}"
        );
    }
}

#[test]
fn full_meta_gradient_matches_finite_differences_of_the_meta_loss() {
    let weights = weights();
    let (loss, analytic, _) = meta_loss_and_grad(&weights, Tape::SecondOrder);
    assert!((loss - meta_loss(&weights, None)).abs() < 1e-12);
    let numeric = finite_differences(&weights, &|w| meta_loss(w, None));
    assert_close(&analytic, &numeric, "second order");
}

#[test]
fn first_order_meta_gradient_is_that_of_the_meta_loss_with_frozen_gradients() {
    let weights = weights();
    let (_, first, frozen) = meta_loss_and_grad(&weights, Tape::FirstOrder);
    let numeric = finite_differences(&weights, &|w| meta_loss(w, Some(&frozen)));
    assert_close(&first, &numeric, "first order");
    // And it is not the full meta-gradient: the Hessian term it drops is visible here.
    let (_, full, _) = meta_loss_and_grad(&weights, Tape::SecondOrder);
    let gap = first
        .iter()
        .zip(&full)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f64::max);
    assert!(gap > 1e-3, "first and second order agree to {gap}");
}
