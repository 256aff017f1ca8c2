//! The losses added for meta-learners (binary cross-entropy with logits, L1, Huber, KL
//! divergence): values against straightforward loops, and derivatives to third order against
//! finite differences in f64 on random inputs, with respect to both operands.

use autograd::{check_grads, CheckOptions, Var};
use nn::{bce_with_logits, huber, kl_div, l1};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use tensor::Tensor;

fn tensor(values: &[f64], shape: &[usize]) -> Tensor {
    Tensor::from_slice(values, shape).unwrap()
}

fn constant(values: &[f64], shape: &[usize]) -> Var {
    Var::constant(tensor(values, shape))
}

fn close(actual: f64, expected: f64) {
    assert!(
        (actual - expected).abs() <= 1e-13 * expected.abs().max(1.0),
        "{actual} vs {expected}"
    );
}

fn sigmoid(z: f64) -> f64 {
    1.0 / (1.0 + (-z).exp())
}

#[test]
fn bce_with_logits_against_the_definition() {
    let z = [-2.0, -0.3, 0.0, 1.5];
    let y = [0.0, 1.0, 0.25, 1.0];
    let expected: f64 = z
        .iter()
        .zip(&y)
        .map(|(&z, &y)| -y * sigmoid(z).ln() - (1.0 - y) * (1.0 - sigmoid(z)).ln())
        .sum::<f64>()
        / 4.0;
    close(
        bce_with_logits(&constant(&z, &[2, 2]), &constant(&y, &[2, 2])).item(),
        expected,
    );
    // Extreme logits: the definition's σ rounds to 0 or 1 and its log to −inf; the loss and
    // its gradient σ(z) − y stay finite (wrong answers at ±800 cost 800).
    let z = Var::leaf(tensor(&[800.0, -800.0, 800.0, -800.0], &[4]));
    let y = constant(&[1.0, 0.0, 0.0, 1.0], &[4]);
    let loss = bce_with_logits(&z, &y);
    close(loss.item(), 1600.0 / 4.0);
    let g = autograd::grad(&[&loss], &[&z], false).unwrap()[0]
        .value()
        .to_vec::<f64>();
    assert_eq!(g, [0.0, 0.0, 0.25, -0.25]);
}

#[test]
fn l1_and_huber_against_loops() {
    let p = [0.5, -1.0, 3.0, 2.0, 0.1];
    let t = [0.0, 1.0, -1.0, 2.0, 0.3];
    let d: Vec<f64> = p.iter().zip(&t).map(|(a, b)| a - b).collect();
    let l1_expected = d.iter().map(|d| d.abs()).sum::<f64>() / 5.0;
    close(
        l1(&constant(&p, &[5]), &constant(&t, &[5])).item(),
        l1_expected,
    );
    for delta in [0.3, 1.0, 2.5] {
        let h = |d: f64| {
            if d.abs() <= delta {
                0.5 * d * d
            } else {
                delta * (d.abs() - 0.5 * delta)
            }
        };
        let expected = d.iter().map(|&d| h(d)).sum::<f64>() / 5.0;
        close(
            huber(&constant(&p, &[5]), &constant(&t, &[5]), delta).item(),
            expected,
        );
    }
}

#[test]
fn kl_div_against_a_loop_with_zero_probabilities() {
    // Two rows; p has a zero, whose term is 0 (not NaN).
    let q = [0.2, 0.3, 0.5, 0.1, 0.1, 0.8];
    let p = [0.0, 0.5, 0.5, 0.25, 0.25, 0.5];
    let log_q: Vec<f64> = q.iter().map(|q: &f64| q.ln()).collect();
    let expected = p
        .iter()
        .zip(&q)
        .filter(|(p, _)| **p > 0.0)
        .map(|(p, q)| p * (p / q).ln())
        .sum::<f64>()
        / 2.0;
    let p_var = Var::leaf(tensor(&p, &[2, 3]));
    let log_q_var = Var::leaf(tensor(&log_q, &[2, 3]));
    let loss = kl_div(&log_q_var, &p_var);
    close(loss.item(), expected);
    let g = autograd::grad(&[&loss], &[&log_q_var, &p_var], false).unwrap();
    // ∂/∂log q = −p/B; ∂/∂p = (log p + 1 − log q)/B, and the finite stand-in −log q/B
    // where p = 0 (the p·log p term is held at 0 there).
    for (k, (&gq, &gp)) in g[0]
        .value()
        .to_vec::<f64>()
        .iter()
        .zip(&g[1].value().to_vec::<f64>())
        .enumerate()
    {
        close(gq, -p[k] / 2.0);
        let expected = if p[k] > 0.0 {
            (p[k].ln() + 1.0 - log_q[k]) / 2.0
        } else {
            -log_q[k] / 2.0
        };
        close(gp, expected);
    }
}

#[test]
#[should_panic(expected = "huber: prediction shape [3] and target shape [3, 1] differ")]
fn loss_shapes_must_match() {
    huber(
        &constant(&[0.0; 3], &[3]),
        &constant(&[0.0; 3], &[3, 1]),
        1.0,
    );
}

/// Pairs of `[3, 2]` operands: the first in [−3, 3], the second from `second`.
fn pair(second: std::ops::Range<f64>) -> BoxedStrategy<Vec<Tensor>> {
    (
        prop::collection::vec(-3.0..3.0f64, 6),
        prop::collection::vec(second, 6),
    )
        .prop_map(|(a, b)| vec![tensor(&a, &[3, 2]), tensor(&b, &[3, 2])])
        .boxed()
}

fn check_to_third_order(name: &str, inputs: BoxedStrategy<Vec<Tensor>>, f: fn(&[Var]) -> Var) {
    let mut runner = TestRunner::new(Config {
        cases: 8,
        failure_persistence: None,
        ..Config::default()
    });
    let result = runner.run(&inputs, |xs| {
        check_grads(f, &xs, 3, &CheckOptions::default())
            .map_err(|e| TestCaseError::fail(e.to_string()))
    });
    if let Err(e) = result {
        panic!("{name}: {e}");
    }
}

#[test]
fn bce_with_logits_to_third_order() {
    // Logits and soft targets both differentiated.
    check_to_third_order("bce_with_logits", pair(0.0..1.0), |x| {
        bce_with_logits(&x[0], &x[1])
    });
}

#[test]
fn l1_to_third_order() {
    // Differences are almost never within the finite-difference step of the kink at 0.
    check_to_third_order("l1", pair(-3.0..3.0), |x| l1(&x[0].sin(), &x[1]));
}

#[test]
fn huber_to_third_order() {
    check_to_third_order("huber", pair(-3.0..3.0), |x| {
        huber(&x[0].tanh(), &x[1], 0.8)
    });
}

#[test]
fn kl_div_to_third_order() {
    // log q from log_softmax of free logits, p from softmax of others: the usual use, a
    // distillation or a variational term, with both sides differentiated.
    check_to_third_order("kl_div", pair(-3.0..3.0), |x| {
        kl_div(&x[0].log_softmax(-1), &x[1].softmax(-1))
    });
}
