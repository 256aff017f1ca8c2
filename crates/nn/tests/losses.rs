//! Losses and metrics: values by hand, cross-entropy at extreme logits in f32, the panics of
//! `nll`, and every loss gradchecked to second order in f64 (they are composites, so this
//! checks the second derivatives of the primitives underneath: sub, square, mean, log-softmax's
//! exp/log/sum, gather).

use autograd::{check_grads, grad, CheckOptions, Var};
use nn::{accuracy, cross_entropy, l2_penalty, mse, nll, Params};
use rand::rngs::StdRng;
use rand::SeedableRng;
use tensor::{DType, Tensor};

fn var(values: &[f64], shape: &[usize]) -> Var {
    Var::leaf(Tensor::from_slice(values, shape).unwrap())
}

fn normal(shape: &[usize], seed: u64) -> Tensor {
    Tensor::rand_normal(
        shape,
        0.0,
        1.0,
        DType::F64,
        &mut StdRng::seed_from_u64(seed),
    )
}

fn close(actual: f64, expected: f64, tol: f64) {
    assert!((actual - expected).abs() <= tol, "{actual} vs {expected}");
}

#[test]
fn mse_by_hand() {
    // ((1 − 1)² + (2 − 0)² + (3 − 5)²)/3 = 8/3; d/dpred = 2(pred − target)/3 = [0, 4/3, −4/3].
    let prediction = var(&[1.0, 2.0, 3.0], &[3]);
    let loss = mse(
        &prediction,
        &Var::constant(Tensor::from_slice(&[1.0, 0.0, 5.0], &[3]).unwrap()),
    );
    close(loss.item(), 8.0 / 3.0, 1e-15);
    let g = grad(&[&loss], &[&prediction], false).unwrap();
    assert_eq!(g[0].value().to_vec::<f64>(), [0.0, 4.0 / 3.0, -4.0 / 3.0]);
}

#[test]
#[should_panic(expected = "mse: prediction shape [3, 1] and target shape [3] differ")]
fn mse_refuses_to_broadcast() {
    mse(&var(&[0.0; 3], &[3, 1]), &var(&[0.0; 3], &[3]));
}

#[test]
fn nll_by_hand() {
    // Rows [−1, −2] and [−0.5, −3] with labels 1 and 0: −(−2 − 0.5)/2 = 1.25.
    let log_probs = var(&[-1.0, -2.0, -0.5, -3.0], &[2, 2]);
    close(nll(&log_probs, &[1, 0]).item(), 1.25, 1e-15);
    // Leading axes are flattened row-major: [2, 1, 2] holds the same two rows.
    close(
        nll(&log_probs.reshape(&[2, 1, 2]), &[1, 0]).item(),
        1.25,
        1e-15,
    );
}

#[test]
#[should_panic(expected = "nll: label 3 (row 1) is out of range for 3 classes")]
fn nll_label_out_of_range() {
    nll(&var(&[0.0; 6], &[2, 3]), &[0, 3]);
}

#[test]
#[should_panic(expected = "nll: 1 labels for 2 rows of log-probabilities [2, 3]")]
fn nll_label_count_mismatch() {
    nll(&var(&[0.0; 6], &[2, 3]), &[0]);
}

#[test]
fn cross_entropy_by_hand() {
    // Row [0, 0], label 0: softmax [½, ½], loss ln 2.
    // Row [ln 3, 0], label 1: softmax [¾, ¼], loss ln 4.  Mean: (ln 2 + ln 4)/2 = 1.5 ln 2.
    let logits = var(&[0.0, 0.0, 3f64.ln(), 0.0], &[2, 2]);
    let loss = cross_entropy(&logits, &[0, 1]);
    close(loss.item(), 1.5 * 2f64.ln(), 1e-15);
    // d/dlogits = (softmax − onehot)/N = [[−¼, ¼], [⅜, −⅜]].
    let g = grad(&[&loss], &[&logits], false).unwrap()[0]
        .value()
        .to_vec::<f64>();
    for (a, e) in g.iter().zip([-0.25, 0.25, 0.375, -0.375]) {
        close(*a, e, 1e-15);
    }
}

#[test]
fn cross_entropy_is_stable_at_huge_logits_in_f32() {
    // Row 0: [1e4, −1e4, 0], label 0 — certain and right, loss 0.
    // Row 1: [−1e4, 1e4, 0], label 2 — loss = logsumexp − 0 = 1e4 + ln(1 + e^{−1e4} + …) = 1e4.
    // Mean 5000 (exact in f32). Naively e^{1e4} overflows to ∞ and ∞/∞ = NaN.
    let logits =
        Var::leaf(Tensor::from_vec(vec![1e4f32, -1e4, 0.0, -1e4, 1e4, 0.0], &[2, 3]).unwrap());
    let loss = cross_entropy(&logits, &[0, 2]);
    assert_eq!(loss.dtype(), DType::F32);
    assert_eq!(loss.item(), 5000.0);
    // (softmax − onehot)/2: row 0 is [1, 0, 0] − [1, 0, 0] = 0; row 1 is [0, 1, 0] − [0, 0, 1].
    let g = grad(&[&loss], &[&logits], false).unwrap()[0]
        .value()
        .to_vec::<f32>();
    assert!(g.iter().all(|v| v.is_finite()), "{g:?}");
    assert_eq!(g, [0.0, 0.0, 0.0, 0.0, 0.5, -0.5]);
}

#[test]
fn accuracy_counts_rows_whose_argmax_is_the_label() {
    // argmax per row: 1, 0, 0 (a tie goes to the first); labels 1, 0, 1: two right of three.
    let logits = var(&[1.0, 2.0, 3.0, 0.0, 0.0, 0.0], &[3, 2]);
    close(accuracy(&logits, &[1, 0, 1]), 2.0 / 3.0, 1e-15);
    assert_eq!(accuracy(&logits, &[1, 0, 0]), 1.0);
}

#[test]
#[should_panic(expected = "accuracy: 3 predictions for 2 labels")]
fn accuracy_label_count_mismatch() {
    accuracy(&var(&[0.0; 6], &[3, 2]), &[0, 1]);
}

#[test]
fn l2_penalty_by_hand() {
    // 0.5 · (1² + 2² + 3²) = 7; d/dp = 2 · 0.5 · p = p.
    let params = Params::from_iter([("w", var(&[1.0, 2.0], &[2])), ("b", var(&[3.0], &[1]))]);
    let penalty = l2_penalty(&params, 0.5);
    close(penalty.item(), 7.0, 1e-15);
    let g = grad(&[&penalty], &params.vars(), false).unwrap();
    assert_eq!(g[0].value().to_vec::<f64>(), [1.0, 2.0]);
    assert_eq!(g[1].value().to_vec::<f64>(), [3.0]);
}

#[test]
#[should_panic(expected = "l2_penalty: no parameters")]
fn l2_penalty_of_nothing_panics() {
    l2_penalty(&Params::new(), 1.0);
}

// ----- second order, in f64 -----

fn second_order(f: impl Fn(&[Var]) -> Var, inputs: &[Tensor]) {
    check_grads(f, inputs, 2, &CheckOptions::default()).unwrap_or_else(|e| panic!("{e}"));
}

#[test]
fn mse_to_second_order() {
    second_order(
        |x| mse(&x[0], &x[1]),
        &[normal(&[3, 2], 1), normal(&[3, 2], 2)],
    );
}

#[test]
fn nll_to_second_order() {
    // nll is linear in its input; the check still runs the VJP of gather (a scatter) again.
    second_order(|x| nll(&x[0], &[2, 0, 1]), &[normal(&[3, 4], 3)]);
}

#[test]
fn cross_entropy_to_second_order() {
    second_order(
        |x| cross_entropy(&x[0], &[2, 0, 1, 1]),
        &[normal(&[4, 3], 4)],
    );
    // Logits spread over ±15: saturated rows, where the softmax Hessian is nearly singular.
    let wide = normal(&[4, 3], 5).mul_scalar(5.0);
    second_order(|x| cross_entropy(&x[0], &[0, 1, 2, 0]), &[wide]);
}

#[test]
fn l2_penalty_to_second_order() {
    second_order(
        |x| {
            l2_penalty(
                &Params::from_iter([("w", x[0].clone()), ("b", x[1].clone())]),
                0.3,
            )
        },
        &[normal(&[2, 3], 6), normal(&[3], 7)],
    );
}
