//! Derivatives worked out by hand, with the derivation beside each assertion.

use autograd::{grad, Var};
use tensor::{DType, Tensor};

fn scalar(v: f64) -> Var {
    Var::leaf(Tensor::scalar(v))
}

fn vector(values: &[f64]) -> Var {
    Var::leaf(Tensor::from_slice(values, &[values.len()]).unwrap())
}

/// d/dx of a scalar-valued `y`, recorded so it can be differentiated again.
fn d(y: &Var, x: &Var) -> Var {
    grad(&[y], &[x], true).unwrap().remove(0)
}

fn close(actual: f64, expected: f64) {
    assert!(
        (actual - expected).abs() <= 1e-12 * expected.abs().max(1.0),
        "{actual} != {expected}"
    );
}

#[test]
fn cube_to_third_order() {
    // y = x³: dy/dx = 3x², d²y/dx² = 6x, d³y/dx³ = 6, d⁴y/dx⁴ = 0. At x = 2: 12, 12, 6, 0.
    let x = scalar(2.0);
    let y = &(&x * &x) * &x;
    let d1 = d(&y, &x);
    let d2 = d(&d1, &x);
    let d3 = d(&d2, &x);
    let d4 = d(&d3, &x);
    close(d1.item(), 12.0);
    close(d2.item(), 12.0);
    close(d3.item(), 6.0);
    close(d4.item(), 0.0);
}

#[test]
fn sin_cycles_through_its_derivatives() {
    // d/dx sin = cos, d² = −sin, d³ = −cos, d⁴ = sin.
    let x0 = 0.7f64;
    let x = scalar(x0);
    let mut current = x.sin();
    let expected = [x0.cos(), -x0.sin(), -x0.cos(), x0.sin()];
    for want in expected {
        current = d(&current, &x);
        close(current.item(), want);
    }
}

#[test]
fn exp_log_chain() {
    // y = log(1 + eˣ) (softplus): dy/dx = eˣ/(1 + eˣ) = σ(x), d²y/dx² = σ(x)(1 − σ(x)).
    let x0 = -0.3f64;
    let x = scalar(x0);
    let y = x.exp().add_scalar(1.0).log();
    let s = 1.0 / (1.0 + (-x0).exp());
    let d1 = d(&y, &x);
    close(d1.item(), s);
    close(d(&d1, &x).item(), s * (1.0 - s));
}

#[test]
fn tanh_and_sigmoid_second_derivatives() {
    // tanh' = 1 − t², tanh'' = −2t(1 − t²).   σ' = s(1 − s), σ'' = s(1 − s)(1 − 2s).
    let x0 = 0.4f64;
    let x = scalar(x0);
    let (t, s) = (x0.tanh(), 1.0 / (1.0 + (-x0).exp()));
    let dt = d(&x.tanh(), &x);
    close(dt.item(), 1.0 - t * t);
    close(d(&dt, &x).item(), -2.0 * t * (1.0 - t * t));
    let ds = d(&x.sigmoid(), &x);
    close(ds.item(), s * (1.0 - s));
    close(d(&ds, &x).item(), s * (1.0 - s) * (1.0 - 2.0 * s));
}

#[test]
fn division_and_powers() {
    // y = a/b: ∂y/∂a = 1/b, ∂y/∂b = −a/b², ∂²y/∂b² = 2a/b³. At a = 3, b = 2: 0.5, −0.75, 0.75.
    let (a, b) = (scalar(3.0), scalar(2.0));
    let y = &a / &b;
    let g = grad(&[&y], &[&a, &b], true).unwrap();
    close(g[0].item(), 0.5);
    close(g[1].item(), -0.75);
    close(d(&g[1], &b).item(), 0.75);
    // y = x^2.5: y' = 2.5 x^1.5, y'' = 3.75 x^0.5. At x = 4: 20, 7.5.
    let x = scalar(4.0);
    let d1 = d(&x.powf(2.5), &x);
    close(d1.item(), 20.0);
    close(d(&d1, &x).item(), 7.5);
}

#[test]
fn reuse_accumulates() {
    // y = x·x + x: dy/dx = 2x + 1 = 7 at x = 3 (three uses of x, three contributions).
    let x = scalar(3.0);
    let y = &(&x * &x) + &x;
    close(d(&y, &x).item(), 7.0);
}

#[test]
fn broadcasting_is_summed_back() {
    // y = Σᵢⱼ (aᵢⱼ · bⱼ) with a [2, 3], b [3]: ∂y/∂b = Σᵢ aᵢⱼ (column sums), ∂y/∂a = b per row.
    let a = Var::leaf(Tensor::from_vec(vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0], &[2, 3]).unwrap());
    let b = vector(&[10.0, 20.0, 30.0]);
    let y = (&a * &b).sum_all();
    let g = grad(&[&y], &[&a, &b], false).unwrap();
    assert_eq!(g[1].shape(), &[3]);
    assert_eq!(g[1].value().to_vec::<f64>(), [5.0, 7.0, 9.0]);
    assert_eq!(
        g[0].value().to_vec::<f64>(),
        [10.0, 20.0, 30.0, 10.0, 20.0, 30.0]
    );
}

#[test]
fn gradients_through_views() {
    // y = Σ (xᵀ)[0:2, :] · w  with x [3, 2]: the narrow keeps rows 0..2 of xᵀ (all of x), so
    // ∂y/∂x = wᵀ placed back through the transpose.
    let x = Var::leaf(Tensor::from_vec(vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0], &[3, 2]).unwrap());
    let w = Var::constant(Tensor::from_vec(vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0], &[2, 3]).unwrap());
    let y = (&x.t().narrow(0, 0, 2) * &w).sum_all();
    let g = &grad(&[&y], &[&x], false).unwrap()[0];
    assert_eq!(g.value().to_vec::<f64>(), [1.0, 4.0, 2.0, 5.0, 3.0, 6.0]);
    // Narrowing away a row: its gradient is zero.
    let y = x.narrow(0, 1, 1).sum_all();
    let g = &grad(&[&y], &[&x], false).unwrap()[0];
    assert_eq!(g.value().to_vec::<f64>(), [0.0, 0.0, 1.0, 1.0, 0.0, 0.0]);
    // Broadcast then sum: each element counted 4 times.
    let y = x.broadcast_to(&[4, 3, 2]).sum_all();
    let g = &grad(&[&y], &[&x], false).unwrap()[0];
    assert_eq!(g.value().to_vec::<f64>(), [4.0; 6]);
}

#[test]
fn matmul_gradients() {
    // y = Σ (A·B): ∂y/∂A = 1·Bᵀ (row sums of B per column of A), ∂y/∂B = Aᵀ·1.
    let a = Var::leaf(Tensor::from_vec(vec![1.0, 2.0, 3.0, 4.0], &[2, 2]).unwrap());
    let b = Var::leaf(Tensor::from_vec(vec![5.0, 6.0, 7.0, 8.0], &[2, 2]).unwrap());
    let y = a.matmul(&b).sum_all();
    let g = grad(&[&y], &[&a, &b], false).unwrap();
    assert_eq!(g[0].value().to_vec::<f64>(), [11.0, 15.0, 11.0, 15.0]);
    assert_eq!(g[1].value().to_vec::<f64>(), [4.0, 4.0, 6.0, 6.0]);
}

#[test]
fn transposed_matmuls_are_one_node_with_the_transposes_gradients() {
    // matmul_nt/tn/tt compute op(A)·op(B) as one node; values and gradients must equal those
    // of the explicit transposes (two or three nodes), and each gradient must be row-major
    // in its input's shape.
    let a = Var::leaf(Tensor::from_vec(vec![1.0, -2.0, 3.0, 0.5, 4.0, -1.0], &[2, 3]).unwrap());
    let b = Var::leaf(Tensor::from_vec(vec![2.0, 1.0, -3.0, 0.0, 1.5, -1.0], &[3, 2]).unwrap());
    let c = Var::leaf(Tensor::from_vec(vec![0.5, 1.0, -1.0, 2.0, 3.0, -2.0], &[2, 3]).unwrap());
    type Pair = (fn(&Var, &Var) -> Var, fn(&Var, &Var) -> Var, &'static str);
    let cases: [(Pair, &Var, &Var); 3] = [
        (
            (|x, y| x.matmul_nt(y), |x, y| x.matmul(&y.t()), "matmul_nt"),
            &a,
            &c,
        ),
        (
            (|x, y| x.matmul_tn(y), |x, y| x.t().matmul(y), "matmul_tn"),
            &a,
            &c,
        ),
        (
            (
                |x, y| x.matmul_tt(y),
                |x, y| x.t().matmul(&y.t()),
                "matmul_tt",
            ),
            &b,
            &a,
        ),
    ];
    for ((fused, explicit, name), x, y) in cases {
        let (one, two) = (fused(x, y), explicit(x, y));
        assert_eq!(one.op_name(), Some(name));
        assert_eq!(
            one.value().to_vec::<f64>(),
            two.value().to_vec::<f64>(),
            "{name}"
        );
        // A weighted sum, so that every entry of the gradient differs.
        let weights = Var::constant(
            Tensor::arange(0.0, one.numel() as f64, 1.0, tensor::DType::F64).reshape(one.shape()),
        );
        let loss = |v: &Var| (v * &weights).sum_all();
        let g1 = grad(&[&loss(&one)], &[x, y], false).unwrap();
        let g2 = grad(&[&loss(&two)], &[x, y], false).unwrap();
        for (got, want) in g1.iter().zip(&g2) {
            assert!(
                got.value().is_contiguous(),
                "{name}: gradient not row-major"
            );
            assert_eq!(
                got.value().to_vec::<f64>(),
                want.value().to_vec::<f64>(),
                "{name}"
            );
        }
    }
}

#[test]
fn linear_is_matmul_nt_plus_bias_in_one_node() {
    let x = Var::leaf(Tensor::from_vec(vec![1.0, -2.0, 3.0, 0.5, 4.0, -1.0], &[2, 3]).unwrap());
    let w = Var::leaf(Tensor::from_vec(vec![2.0, 1.0, -3.0, 0.0, 1.5, -1.0], &[2, 3]).unwrap());
    let b = Var::leaf(Tensor::from_vec(vec![0.25, -4.0], &[2]).unwrap());
    let y = x.linear(&w, Some(&b));
    assert_eq!(y.op_name(), Some("linear"));
    let want = &x.matmul_nt(&w) + &b;
    assert_eq!(y.value().to_vec::<f64>(), want.value().to_vec::<f64>());
    // ∂Σy/∂b: each bias entry was added to both rows.
    let g = grad(&[&y.sum_all()], &[&b], false).unwrap();
    assert_eq!(g[0].value().to_vec::<f64>(), [2.0, 2.0]);
}

#[test]
#[should_panic(
    expected = "linear: bias of shape [3] does not fit x [2, 3] · weight [2, 3]ᵀ = [2, 2]"
)]
fn linear_names_the_shapes_of_a_wrong_bias() {
    let x = Var::leaf(Tensor::zeros(&[2, 3], tensor::DType::F64));
    let w = Var::leaf(Tensor::zeros(&[2, 3], tensor::DType::F64));
    let b = Var::leaf(Tensor::zeros(&[3], tensor::DType::F64));
    x.linear(&w, Some(&b));
}

#[test]
fn max_routes_gradient_to_the_winner() {
    // y = max(x) over the last axis: ∂y/∂x is 1 at each row's maximum, 0 elsewhere.
    let x = Var::leaf(Tensor::from_vec(vec![1.0, 5.0, 3.0, 9.0, 2.0, 4.0], &[2, 3]).unwrap());
    let y = x.max(&[-1], false).sum_all();
    let g = &grad(&[&y], &[&x], false).unwrap()[0];
    assert_eq!(g.value().to_vec::<f64>(), [0.0, 1.0, 0.0, 1.0, 0.0, 0.0]);
}

#[test]
fn relu_second_derivative_is_zero() {
    // relu'(x) = [x > 0] is piecewise constant, so relu''(x) = 0 away from 0.
    let x = vector(&[-1.0, 2.0]);
    let d1 = d(&x.relu().sum_all(), &x);
    assert_eq!(d1.value().to_vec::<f64>(), [0.0, 1.0]);
    let d2 = d(&d1.sum_all(), &x);
    assert_eq!(d2.value().to_vec::<f64>(), [0.0, 0.0]);
}

#[test]
fn log_softmax_is_stable_at_huge_logits() {
    // log_softmax([1e4, 0, −1e4]) = [0, −1e4, −2e4] (up to e^{−1e4} ≈ 0); a naive
    // log(exp(x)/Σexp) would give NaN. Its gradient (of the first entry) is e_0 − softmax = [0, 0, 0]
    // up to e^{−1e4}.
    let x = vector(&[1e4, 0.0, -1e4]);
    let y = x.log_softmax(0);
    assert_eq!(y.value().to_vec::<f64>(), [0.0, -1e4, -2e4]);
    let g = d(&y.narrow(0, 0, 1).sum_all(), &x);
    assert_eq!(g.value().to_vec::<f64>(), [0.0, 0.0, 0.0]);
}

#[test]
fn f32_works_like_f64() {
    // y = Σ x² in f32: dy/dx = 2x.
    let x = Var::leaf(Tensor::from_vec(vec![1.5f32, -2.0], &[2]).unwrap());
    let g = &grad(&[&x.square().sum_all()], &[&x], false).unwrap()[0];
    assert_eq!(g.dtype(), DType::F32);
    assert_eq!(g.value().to_vec::<f32>(), [3.0, -4.0]);
}
