//! Anomaly mode and the non-finite edge cases it exists for. The switch is process-wide, so
//! the tests of this file take turns (`SERIAL`): a test making infinities while another has
//! the mode on would be reported as that test's anomaly.

use autograd::anomaly::{self, Phase};
use autograd::{grad, Var};
use tensor::Tensor;

static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn vector(values: &[f64]) -> Var {
    Var::leaf(Tensor::from_vec(values.to_vec(), &[values.len()]).unwrap())
}

#[test]
fn anomaly_mode_names_the_first_op_that_goes_non_finite() {
    let _turn = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    // Forward: exp(x) is finite, −x·… finite, log of the 0 made by `mul` is −inf: `log` starts it.
    anomaly::set_detect_anomaly(true);
    let x = vector(&[1.0, 2.0]);
    let zero = x.mul_scalar(0.0);
    let y = zero.log().exp().sum(&[0], false);
    let found = anomaly::take_anomaly().expect("log(0) is reported");
    assert_eq!(found.phase, Phase::Forward);
    assert_eq!(found.op, "log");
    assert_eq!(found.input_shapes, vec![vec![2]]);
    assert_eq!(found.value, f64::NEG_INFINITY);
    assert_eq!(found.chain.len(), 1, "{found}");
    // Only the first is kept: `exp` of −inf is 0, `sum` finite — nothing else reported.
    assert_eq!(anomaly::take_anomaly(), None);
    drop(y);

    // Backward: sqrt(0) = 0 is finite, its derivative 1/(2·sqrt 0) is not.
    let x = vector(&[0.0, 4.0]);
    let y = x.sqrt().sum(&[0], false);
    assert_eq!(anomaly::take_anomaly(), None, "the forward pass is finite");
    let g = grad(&[&y], &[&x], false).unwrap();
    assert!(g[0].value().to_vec::<f64>()[0].is_infinite());
    let found = anomaly::take_anomaly().expect("the gradient of sqrt at 0 is reported");
    assert_eq!(found.phase, Phase::Backward);
    // `sqrt` is the composite x^0.5: the primitive whose rule gives the infinity is `powf`.
    assert_eq!(found.op, "powf");
    assert_eq!(found.input, Some(0));
    let message = found.to_string();
    assert!(message.contains("backward of `powf`"), "{message}");
    assert!(message.contains("[2]"), "{message}");

    // Off: nothing is checked, nothing is recorded.
    anomaly::set_detect_anomaly(false);
    let _ = vector(&[0.0]).log();
    assert_eq!(anomaly::take_anomaly(), None);
}

#[test]
fn logsumexp_of_all_minus_infinity_is_minus_infinity() {
    let _turn = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    // PyTorch: torch.logsumexp(torch.tensor([-inf, -inf]), 0) = -inf (not NaN).
    let x = vector(&[f64::NEG_INFINITY, f64::NEG_INFINITY]);
    assert_eq!(x.logsumexp(&[0], false).item(), f64::NEG_INFINITY);
    // And +inf anywhere gives +inf; finite rows are untouched by the fix.
    let x = vector(&[f64::INFINITY, 0.0]);
    assert_eq!(x.logsumexp(&[0], false).item(), f64::INFINITY);
    let x = vector(&[0.0, 0.0]);
    assert!((x.logsumexp(&[0], false).item() - 2f64.ln()).abs() < 1e-15);
    // Rows of a matrix are shifted separately: one all −inf row, one ordinary row.
    let m = Var::leaf(
        Tensor::from_vec(
            vec![f64::NEG_INFINITY, f64::NEG_INFINITY, 1.0, 1.0],
            &[2, 2],
        )
        .unwrap(),
    );
    let rows = m.logsumexp(&[1], false).value().to_vec::<f64>();
    assert_eq!(rows[0], f64::NEG_INFINITY);
    assert!((rows[1] - (1.0 + 2f64.ln())).abs() < 1e-15);
}
