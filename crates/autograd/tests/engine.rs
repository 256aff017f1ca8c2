//! The engine's contract: seeds, unused inputs, `backward`, `no_grad`, `detach`, and memory.

use autograd::{grad, grad_with, no_grad, GradError, GradOptions, Unused, Var};
use tensor::{DType, Tensor};

fn leaf(values: &[f64]) -> Var {
    Var::leaf(Tensor::from_slice(values, &[values.len()]).unwrap())
}

#[test]
fn non_scalar_output_needs_a_seed() {
    let x = leaf(&[1.0, 2.0]);
    let y = x.exp();
    let err = grad(&[&y], &[&x], false).unwrap_err();
    assert_eq!(
        err,
        GradError::NonScalarOutput {
            output: 0,
            shape: vec![2]
        }
    );
    assert!(err.to_string().contains("needs an explicit seed"));
    // With a seed it is a vector–Jacobian product: uᵀ·diag(eˣ).
    let u = Var::constant(Tensor::from_slice(&[1.0, 0.5], &[2]).unwrap());
    let g = grad_with(&[&y], &[&u], &[&x], GradOptions::default()).unwrap();
    assert_eq!(g[0].value().to_vec::<f64>(), [1f64.exp(), 0.5 * 2f64.exp()]);
}

#[test]
fn seed_shape_is_checked() {
    let x = leaf(&[1.0, 2.0]);
    let y = x.exp();
    let u = Var::constant(Tensor::ones(&[3], DType::F64));
    let err = grad_with(&[&y], &[&u], &[&x], GradOptions::default()).unwrap_err();
    assert!(matches!(err, GradError::SeedShape { .. }), "{err}");
}

#[test]
fn unused_input_gives_zeros_or_error() {
    let (x, z) = (leaf(&[1.0, 2.0]), leaf(&[3.0, 4.0, 5.0]));
    let y = x.sum_all();
    let g = grad(&[&y], &[&x, &z], false).unwrap();
    assert_eq!(g[1].value().to_vec::<f64>(), [0.0, 0.0, 0.0]);
    let strict = GradOptions {
        unused: Unused::Error,
        ..GradOptions::default()
    };
    let err = grad_with(&[&y], &[], &[&x, &z], strict).unwrap_err();
    assert_eq!(
        err,
        GradError::Unused {
            input: 1,
            shape: vec![3]
        }
    );
}

#[test]
fn an_input_listed_twice_gets_its_gradient_both_times() {
    // Regression: the second occurrence used to get zeros. y = Σ x², ∂y/∂x = 2x — for each
    // name of x, as for a weight tied to two places in a parameter list.
    let x = leaf(&[1.0, 2.0, 3.0]);
    let y = (&x * &x).sum_all();
    let g = grad(&[&y], &[&x, &x], false).unwrap();
    assert_eq!(g[0].value().to_vec::<f64>(), [2.0, 4.0, 6.0]);
    assert_eq!(g[1].value().to_vec::<f64>(), [2.0, 4.0, 6.0]);
    // Between other inputs, with a recorded graph, and differentiated again: d²y/dx² = 2.
    let z = leaf(&[5.0]);
    let y = &(&x * &x).sum_all() + &z.sum_all();
    let g = grad(&[&y], &[&x, &z, &x], true).unwrap();
    assert_eq!(g[2].value().to_vec::<f64>(), [2.0, 4.0, 6.0]);
    assert_eq!(g[1].value().to_vec::<f64>(), [1.0]);
    let h = grad(&[&g[2].sum_all()], &[&x, &x], false).unwrap();
    assert_eq!(h[1].value().to_vec::<f64>(), [2.0, 2.0, 2.0]);
    // An unused input listed twice is unused both times.
    let strict = GradOptions {
        unused: Unused::Error,
        ..GradOptions::default()
    };
    let w = leaf(&[0.0]);
    let err = grad_with(&[&y], &[], &[&x, &w, &w], strict).unwrap_err();
    assert_eq!(
        err,
        GradError::Unused {
            input: 1,
            shape: vec![1]
        }
    );
    let zeros = grad(&[&y], &[&w, &w], false).unwrap();
    assert_eq!(zeros[1].value().to_vec::<f64>(), [0.0]);
}

#[test]
fn an_input_that_does_not_require_grad_is_an_error_not_zeros() {
    // Regression: d mean(g)/dg = 1/n whatever g was computed from, but a gradient that
    // requires no gradient itself (relu's rule masks with a constant) used to get zeros.
    let x = leaf(&[1.0, -2.0, 3.0, 4.0]);
    let g = grad(&[&x.relu().mean_all()], &[&x], true)
        .unwrap()
        .remove(0);
    assert!(!g.requires_grad());
    let err = grad(&[&g.mean_all()], &[&g], false).unwrap_err();
    assert_eq!(
        err,
        GradError::NotDifferentiable {
            input: 0,
            shape: vec![4]
        }
    );
    assert!(err.to_string().contains("input 0"), "{err}");
    assert!(err.to_string().contains("Var::leaf"), "{err}");
    // As the message says: made a leaf, it is a point to differentiate at.
    let g = Var::leaf(g.value().clone());
    let d = grad(&[&g.mean_all()], &[&g], false).unwrap();
    assert_eq!(d[0].value().to_vec::<f64>(), [0.25; 4]);
    // Also when the outputs were recorded through the constant (y = Σ x·c, ∂y/∂c = x would
    // be computable, but a constant is refused consistently), and whatever `unused` says,
    // naming the offending input by its position.
    let c = Var::constant(Tensor::ones(&[4], DType::F64));
    let y = (&x * &c).sum_all();
    for unused in [Unused::Zeros, Unused::Error] {
        let options = GradOptions {
            unused,
            ..GradOptions::default()
        };
        let err = grad_with(&[&y], &[], &[&x, &c], options).unwrap_err();
        assert_eq!(
            err,
            GradError::NotDifferentiable {
                input: 1,
                shape: vec![4]
            }
        );
    }
    // A detached value is a constant too.
    let d = x.exp().detach();
    assert!(grad(&[&d.sum_all()], &[&d], false).is_err());
}

#[test]
fn gradient_with_respect_to_an_intermediate() {
    // h = 2x, y = Σ h²: ∂y/∂h = 2h = 4x; ∂y/∂x = 8x. Both asked for at once.
    let x = leaf(&[1.0, -1.0]);
    let h = x.mul_scalar(2.0);
    let y = h.square().sum_all();
    let g = grad(&[&y], &[&h, &x], false).unwrap();
    assert_eq!(g[0].value().to_vec::<f64>(), [4.0, -4.0]);
    assert_eq!(g[1].value().to_vec::<f64>(), [8.0, -8.0]);
}

#[test]
fn a_broadcast_gives_per_copy_gradients_when_asked_and_their_sum_otherwise() {
    // One weight shared by two tasks through a broadcast_to node, as the meta-trainer does.
    // Asked for the broadcast itself, the engine must stop there and give one gradient per
    // task (each task's own inner gradient); asked for the weight, it looks through the node
    // and the linear rule folds the sum over tasks into one product. Both against plain sums.
    let tensor = |values: Vec<f64>, shape: &[usize]| Tensor::from_vec(values, shape).unwrap();
    let x = Var::constant(tensor(
        (0..12).map(|k| k as f64 * 0.5 - 2.0).collect(),
        &[2, 2, 3],
    ));
    let w = Var::leaf(tensor(
        (0..6).map(|k| k as f64 * 0.25 - 0.5).collect(),
        &[2, 3],
    ));
    let shared = w.broadcast_to(&[2, 2, 3]);
    let y = x.linear(&shared, None).square().sum_all();
    let both = grad(&[&y], &[&shared, &w], false).unwrap();
    assert_eq!(both[0].shape(), [2, 2, 3]);
    assert_eq!(both[1].shape(), [2, 3]);
    let per_task = both[0].value().to_vec::<f64>();
    let summed = both[1].value().to_vec::<f64>();
    // Task t's gradient is 2·(x_t·Wᵀ)ᵀ·x_t, written out by hand.
    let (xv, wv) = (x.value().to_vec::<f64>(), w.value().to_vec::<f64>());
    for t in 0..2 {
        for o in 0..2 {
            for i in 0..3 {
                let expected: f64 = (0..2)
                    .map(|r| {
                        let row = &xv[(t * 2 + r) * 3..][..3];
                        let out: f64 = (0..3).map(|k| row[k] * wv[o * 3 + k]).sum();
                        2.0 * out * row[i]
                    })
                    .sum();
                let got = per_task[(t * 2 + o) * 3 + i];
                assert!(
                    (got - expected).abs() < 1e-12,
                    "task {t} [{o}, {i}]: {got} vs {expected}"
                );
            }
        }
    }
    for k in 0..6 {
        let expected = per_task[k] + per_task[6 + k];
        assert!(
            (summed[k] - expected).abs() < 1e-12,
            "W[{k}]: {} vs {expected}",
            summed[k]
        );
    }
    // Alone, the weight's gradient is the same sum.
    let alone = grad(&[&y], &[&w], false).unwrap();
    assert_eq!(alone[0].value().to_vec::<f64>(), summed);
}

#[test]
fn backward_accumulates_into_leaves() {
    // y = Σ 3x: ∂y/∂x = 3 each time; two backward passes accumulate to 6.
    let x = leaf(&[1.0, 2.0]);
    let y = x.mul_scalar(3.0).sum_all();
    y.backward();
    assert_eq!(x.grad().unwrap().to_vec::<f64>(), [3.0, 3.0]);
    y.backward();
    assert_eq!(x.grad().unwrap().to_vec::<f64>(), [6.0, 6.0]);
    x.zero_grad();
    assert!(x.grad().is_none());
    assert!(x.exp().try_backward().is_err());
}

#[test]
fn no_grad_and_detach_record_nothing() {
    let x = leaf(&[1.0]);
    let y = no_grad(|| x.exp());
    assert!(!y.requires_grad() && y.is_leaf());
    assert!(autograd::is_grad_enabled());
    let z = x.exp().detach();
    assert!(!z.requires_grad());
    // Gradients stop at a detached value.
    let w = (&x * &z).sum_all();
    assert_eq!(grad(&[&w], &[&x], false).unwrap()[0].item(), 1f64.exp());
}

#[test]
fn first_order_gradients_are_constants() {
    // Without create_graph the gradient has no graph; with it, it does.
    let x = leaf(&[2.0]);
    let y = x.powf(3.0).sum_all();
    assert!(!grad(&[&y], &[&x], false).unwrap()[0].requires_grad());
    assert!(grad(&[&y], &[&x], true).unwrap()[0].requires_grad());
}

#[test]
fn graph_is_freed_when_last_var_drops() {
    let x = leaf(&[1.0, 2.0]);
    let h = x.exp();
    let weak_h = h.downgrade();
    let y = h.sin().sum_all();
    drop(h);
    assert!(weak_h.is_alive(), "y still refers to h");
    let g = grad(&[&y], &[&x], true).unwrap();
    drop(y);
    // The recorded gradient refers back into the forward graph (d sin(eˣ)/dx uses eˣ).
    assert!(weak_h.is_alive());
    drop(g);
    assert!(!weak_h.is_alive(), "no cycle keeps the graph alive");
}

#[test]
fn a_very_long_chain_drops_without_overflowing_the_stack() {
    let x = leaf(&[1.0]);
    let mut y = x.clone();
    for _ in 0..200_000 {
        y = y.add_scalar(1e-6);
    }
    let weak = y.downgrade();
    drop(y);
    assert!(!weak.is_alive());
}

#[test]
fn graphs_build_on_many_threads_at_once() {
    use rayon::prelude::*;
    let x = leaf(&[0.5, 1.5]);
    // Each thread builds its own graph off the shared leaf; gradients agree with one thread.
    let grads: Vec<Vec<f64>> = (0..8)
        .into_par_iter()
        .map(|k| {
            let y = x.mul_scalar(k as f64).sin().sum_all();
            grad(&[&y], &[&x], false).unwrap()[0].value().to_vec()
        })
        .collect();
    for (k, g) in grads.iter().enumerate() {
        let k = k as f64;
        assert_eq!(*g, vec![k * (k * 0.5).cos(), k * (k * 1.5).cos()]);
    }
}

/// Slices of one tensor add their gradients into their own blocks of its gradient
/// (`Primitive::add_vjp_into`) when nothing is recorded. The result must be the one the
/// recorded rule (pad, then add) gives, to the bit, and the hand-computed gradient: here four
/// column blocks of `z = x·w`, as an LSTM cuts its gates, two of them overlapping, plus a use
/// of the whole of `z`, with every gradient path reaching `z` in a different order.
#[test]
fn slices_accumulate_in_place_as_the_recorded_rule_does() {
    let x = Var::leaf(Tensor::from_slice(&[0.5, -1.0, 2.0, 0.25, 1.5, -0.75], &[3, 2]).unwrap());
    let w_values: Vec<f64> = (0..16).map(|i| i as f64 * 0.1 - 0.7).collect();
    let w = Var::leaf(Tensor::from_slice(&w_values, &[2, 8]).unwrap());
    let z = x.matmul(&w);
    let blocks = [(0, 2), (2, 2), (4, 2), (3, 5)];
    let mut loss = z.square().sum_all().mul_scalar(0.5);
    for (k, &(start, len)) in blocks.iter().enumerate() {
        let block = z.narrow(1, start, len);
        loss = &loss + &block.mul_scalar(k as f64 + 1.0).sum_all();
    }
    let plain = grad(&[&loss], &[&x, &w], false).unwrap();
    let recorded = grad(&[&loss], &[&x, &w], true).unwrap();
    for (p, r) in plain.iter().zip(&recorded) {
        let bits = |v: &Var| -> Vec<u64> {
            v.value()
                .to_vec::<f64>()
                .iter()
                .map(|e| e.to_bits())
                .collect()
        };
        assert_eq!(bits(p), bits(r));
    }
    // By hand: ∂loss/∂z = z + c, c[j] = Σ of the block weights covering column j.
    let mut c = [0.0; 8];
    for (k, &(start, len)) in blocks.iter().enumerate() {
        c[start..start + len]
            .iter_mut()
            .for_each(|v| *v += k as f64 + 1.0);
    }
    let dz = z.value().add(&Tensor::from_slice(&c, &[8]).unwrap());
    let dw = x.value().t().matmul(&dz);
    let max_error = (plain[1].value().sub(&dw))
        .abs()
        .to_vec::<f64>()
        .into_iter()
        .fold(0.0, f64::max);
    assert!(max_error < 1e-12, "∂/∂w off by {max_error}");
}
