//! The gradient checker must be able to fail: a primitive with a wrong backward rule is
//! caught at the order where it is wrong, and the report says where.

use autograd::{check_grads, gradcheck, gradgradcheck, CheckOptions, Grads, Primitive, Var};
use smallvec::smallvec;
use tensor::Tensor;

/// y = x³ with a correct first derivative (3x²) whose own derivative is wrong: the rule uses
/// x² held constant times 3, so d/dx of the gradient is 0 instead of 6x.
struct CubeWithDetachedRule;
impl Primitive for CubeWithDetachedRule {
    fn name(&self) -> &'static str {
        "bad_cube"
    }
    fn vjp(&self, x: &[Var], _: &Var, g: &Var, _: &[bool]) -> Grads {
        let slope = Var::constant(x[0].value().square().mul_scalar(3.0));
        smallvec![Some(g * &slope)]
    }
}

fn bad_cube(x: &Var) -> Var {
    Var::record(x.value().powf(3.0), CubeWithDetachedRule, &[x])
}

/// y = x³ with a wrong first derivative (2x² instead of 3x²).
struct CubeWithWrongSlope;
impl Primitive for CubeWithWrongSlope {
    fn name(&self) -> &'static str {
        "wrong_cube"
    }
    fn vjp(&self, x: &[Var], _: &Var, g: &Var, _: &[bool]) -> Grads {
        smallvec![Some(g * &x[0].square().mul_scalar(2.0))]
    }
}

fn input() -> Tensor {
    Tensor::from_vec(vec![0.5f64, -1.5, 2.0], &[3]).unwrap()
}

#[test]
fn wrong_first_derivative_fails_gradcheck() {
    let f = |x: &[Var]| Var::record(x[0].value().powf(3.0), CubeWithWrongSlope, &[&x[0]]);
    let err = gradcheck(f, &[input()]).unwrap_err();
    assert_eq!((err.order, err.input), (1, 0));
    // Worst element: x = 2 (numeric 3·4 = 12, analytic 2·4 = 8).
    assert!(
        (err.numeric - 12.0).abs() < 1e-6 && (err.analytic - 8.0).abs() < 1e-12,
        "{err}"
    );
    assert!(err.to_string().contains("input element [2]"), "{err}");
}

#[test]
fn wrong_second_derivative_passes_order_one_and_fails_order_two() {
    let f = |x: &[Var]| bad_cube(&x[0]);
    gradcheck(f, &[input()]).unwrap();
    let err = gradgradcheck(f, &[input()], &CheckOptions::default()).unwrap_err();
    assert_eq!(err.order, 2);
    let err = check_grads(f, &[input()], 3, &CheckOptions::default()).unwrap_err();
    assert_eq!(err.order, 2);
}

#[test]
fn projections_catch_errors_in_large_inputs() {
    // 100 inputs × 100 outputs is over the full-Jacobian limit: random projections are used.
    let x = Tensor::linspace(-2.0, 2.0, 100, tensor::DType::F64);
    let f = |x: &[Var]| Var::record(x[0].value().powf(3.0), CubeWithWrongSlope, &[&x[0]]);
    let err = gradcheck(f, std::slice::from_ref(&x)).unwrap_err();
    assert!(err.location.contains("projection"), "{err}");
    gradcheck(|x: &[Var]| x[0].powf(3.0), &[x]).unwrap();
}
