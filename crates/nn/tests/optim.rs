//! Optimisers against steps computed by hand, Adam against a plain-loop reference over twenty
//! steps, schedules, gradient clipping, and saving/restoring optimiser state.
//!
//! The running example: p = [1, 2], g₁ = [0.5, −1], g₂ = [1, 1], learning rate η = 0.1.

use autograd::{grad, Var};
use nn::optim::{clip_grad_norm, Constant, Cosine, Momentum, Schedule, StepDecay};
use nn::{Adam, Checkpoint, NnError, Optimizer, Params, Sgd};
use tensor::{DType, Tensor};

fn params(values: &[f64]) -> Params {
    Params::from_iter([(
        "p",
        Var::leaf(Tensor::from_slice(values, &[values.len()]).unwrap()),
    )])
}

const P: [f64; 2] = [1.0, 2.0];
const G1: [f64; 2] = [0.5, -1.0];
const G2: [f64; 2] = [1.0, 1.0];

/// The values after steps along `G1`, then `G2` (as many as `grads` lists).
fn run(optimizer: &mut dyn Optimizer, grads: &[[f64; 2]]) -> Vec<f64> {
    let mut p = params(&P);
    for g in grads {
        p = optimizer.step(&p, &params(g));
    }
    p.expect("p").value().to_vec::<f64>()
}

fn assert_close(actual: &[f64], expected: &[f64], tol: f64) {
    assert_eq!(actual.len(), expected.len());
    for (a, e) in actual.iter().zip(expected) {
        assert!((a - e).abs() <= tol, "{actual:?} vs {expected:?}");
    }
}

#[test]
fn sgd_plain() {
    // p − η·g = [1 − 0.05, 2 + 0.1].
    assert_close(&run(&mut Sgd::new(0.1), &[G1]), &[0.95, 2.1], 1e-15);
}

#[test]
fn sgd_weight_decay() {
    // g + λ·p with λ = 0.1: [0.6, −0.8]; p − η·(g + λp) = [0.94, 2.08].
    let mut sgd = Sgd::new(0.1).with_weight_decay(0.1);
    assert_close(&run(&mut sgd, &[G1]), &[0.94, 2.08], 1e-15);
}

#[test]
fn sgd_classic_momentum_over_two_steps() {
    // μ = 0.9. Step 1: v = g₁ = [0.5, −1], p = [0.95, 2.1].
    // Step 2: v = 0.9·[0.5, −1] + [1, 1] = [1.45, 0.1], p = [0.95 − 0.145, 2.1 − 0.01].
    let mut sgd = Sgd::new(0.1).with_momentum(Momentum::Classic(0.9));
    assert_close(&run(&mut sgd, &[G1, G2]), &[0.805, 2.09], 1e-15);
}

#[test]
fn sgd_damped_momentum() {
    // β = 0.9, v starts at 0. Step 1: v = 0.1·g₁ = [0.05, −0.1], p = [0.995, 2.01].
    // Step 2: v = 0.9·[0.05, −0.1] + 0.1·[1, 1] = [0.145, 0.01], p = [0.9805, 2.009].
    let mut sgd = Sgd::new(0.1).with_momentum(Momentum::Damped(0.9));
    assert_close(&run(&mut sgd, &[G1, G2]), &[0.9805, 2.009], 1e-15);
}

#[test]
fn sgd_nesterov() {
    // μ = 0.9. Step 1: v = g₁; p − η·(g₁ + μ·v) = p − 0.19·g₁ = [0.905, 2.19].
    // Step 2: v = [1.45, 0.1]; g₂ + μ·v = [2.305, 1.09]; p = [0.905 − 0.2305, 2.19 − 0.109].
    let mut sgd = Sgd::new(0.1).with_momentum(Momentum::Nesterov(0.9));
    assert_close(&run(&mut sgd, &[G1, G2]), &[0.6745, 2.081], 1e-15);
}

#[test]
fn adam_first_step_is_minus_lr_times_sign() {
    // m̂ = g and v̂ = g² after one step, so the step is η·g/(|g| + ε) ≈ η·sign(g).
    let mut adam = Adam::new(0.01);
    assert_close(&run(&mut adam, &[G1]), &[0.99, 2.01], 1e-9);
    assert_eq!(adam.steps(), 1);
}

#[test]
fn adamw_decays_the_weights_directly() {
    // p − η·λ·p − η·sign(g) with η = 0.01, λ = 0.1: [1 − 0.001 − 0.01, 2 − 0.002 + 0.01].
    let mut adamw = Adam::adamw(0.01, 0.1);
    assert_close(&run(&mut adamw, &[G1]), &[0.989, 2.008], 1e-9);
}

/// Adam in plain f64 on L(p) = ½ Σ aᵢ(pᵢ − cᵢ)², whose gradient is a ⊙ (p − c).
fn reference_adam(steps: usize, lr: f64, wd: f64, decoupled: bool) -> Vec<f64> {
    let (a, c) = ([1.0, 10.0, 0.1], [0.5, -1.0, 3.0]);
    let (b1, b2, eps) = (0.9, 0.999, 1e-8);
    let mut p = [1.0, 2.0, -1.0];
    let (mut m, mut v) = ([0.0; 3], [0.0; 3]);
    for t in 1..=steps {
        for i in 0..3 {
            let mut g = a[i] * (p[i] - c[i]);
            if decoupled {
                p[i] -= lr * wd * p[i];
            } else {
                g += wd * p[i];
            }
            m[i] = b1 * m[i] + (1.0 - b1) * g;
            v[i] = b2 * v[i] + (1.0 - b2) * g * g;
            let m_hat = m[i] / (1.0 - b1.powi(t as i32));
            let v_hat = v[i] / (1.0 - b2.powi(t as i32));
            p[i] -= lr * m_hat / (v_hat.sqrt() + eps);
        }
    }
    p.to_vec()
}

/// The same run through the crate: the gradient by autograd, the step by `Adam`.
fn crate_adam(steps: usize, mut adam: Adam) -> Vec<f64> {
    let column = |v: &[f64]| Var::constant(Tensor::from_slice(v, &[3]).unwrap());
    let (a, c) = (column(&[1.0, 10.0, 0.1]), column(&[0.5, -1.0, 3.0]));
    let mut theta = Params::from_iter([(
        "p",
        Var::leaf(Tensor::from_slice(&[1.0, 2.0, -1.0], &[3]).unwrap()),
    )]);
    for _ in 0..steps {
        let p = theta.expect("p");
        let loss = (&a * &(p - &c).square()).sum_all().mul_scalar(0.5);
        let g = theta.gradients(&grad(&[&loss], &theta.vars(), false).unwrap());
        theta = adam.step(&theta, &g);
    }
    theta.expect("p").value().to_vec::<f64>()
}

#[test]
fn adam_follows_the_reference_trajectory() {
    assert_close(
        &crate_adam(20, Adam::new(0.1)),
        &reference_adam(20, 0.1, 0.0, false),
        1e-12,
    );
    let mut l2 = Adam::new(0.1);
    l2.weight_decay = 0.05;
    assert_close(
        &crate_adam(20, l2),
        &reference_adam(20, 0.1, 0.05, false),
        1e-12,
    );
    assert_close(
        &crate_adam(20, Adam::adamw(0.1, 0.05)),
        &reference_adam(20, 0.1, 0.05, true),
        1e-12,
    );
    // L2 and decoupled decay are different algorithms: the trajectories part.
    let (coupled, decoupled) = (
        reference_adam(20, 0.1, 0.05, false),
        reference_adam(20, 0.1, 0.05, true),
    );
    assert!((coupled[2] - decoupled[2]).abs() > 1e-3);
}

#[test]
fn updates_keep_dtype_and_return_fresh_leaves() {
    let p32 = params(&P).to_dtype(DType::F32);
    let g32 = params(&G1).to_dtype(DType::F32);
    let next = Adam::new(0.01).step(&p32, &g32);
    let p = next.expect("p");
    assert_eq!(p.dtype(), DType::F32);
    assert!(p.is_leaf() && p.requires_grad());
    // The step is computed in f32 (the parameters' type), so it may differ from the exact
    // values 0.99 and 2.01 by f32 rounding, and by no more.
    for (got, want) in p.value().to_vec::<f32>().iter().zip([0.99f32, 2.01]) {
        assert!(
            (got - want).abs() <= 2.0 * f32::EPSILON * want.abs(),
            "{got} vs {want}"
        );
    }
}

#[test]
#[should_panic(expected = "Sgd::step: parameters [w, b] but gradients [w]")]
fn step_with_missing_gradients_panics() {
    let two = Params::from_iter([
        ("w", Var::leaf(Tensor::ones(&[2], DType::F64))),
        ("b", Var::leaf(Tensor::ones(&[1], DType::F64))),
    ]);
    let one = Params::from_iter([("w", Var::leaf(Tensor::ones(&[2], DType::F64)))]);
    Sgd::new(0.1).step(&two, &one);
}

#[test]
#[should_panic(expected = "optimizer: parameter `p` has shape [2] but its gradient [3]")]
fn step_with_wrong_gradient_shape_panics() {
    Adam::new(0.1).step(&params(&P), &params(&[1.0, 2.0, 3.0]));
}

#[test]
fn schedules_at_chosen_steps() {
    assert_eq!(Constant(0.3).learning_rate(1000), 0.3);
    // 0.1 · 0.5^⌊step/10⌋.
    let decay = StepDecay {
        base: 0.1,
        every: 10,
        gamma: 0.5,
    };
    let rates: Vec<f64> = [0, 9, 10, 25]
        .iter()
        .map(|&s| decay.learning_rate(s))
        .collect();
    assert_eq!(rates, [0.1, 0.1, 0.05, 0.025]);
    // 0.1 + 0.9·(1 + cos(π·step/100))/2: 1 at 0, 0.55 at 50, 0.1 at 100 and after;
    // at 25: 0.1 + 0.45·(1 + √½) ≈ 0.868198.
    let cosine = Cosine {
        base: 1.0,
        min: 0.1,
        total: 100,
    };
    assert_close(
        &[0, 25, 50, 100, 200].map(|s| cosine.learning_rate(s)),
        &[1.0, 0.1 + 0.45 * (1.0 + 0.5f64.sqrt()), 0.55, 0.1, 0.1],
        1e-15,
    );
    // An optimiser follows a schedule through set_learning_rate.
    let mut sgd = Sgd::new(1.0);
    sgd.set_learning_rate(decay.learning_rate(10));
    assert_eq!(sgd.learning_rate(), 0.05);
}

#[test]
fn clip_grad_norm_scales_to_the_threshold() {
    // Global norm √(3² + 0² + 4²) = 5; clipped to 1 the gradients are [0.6, 0] and [0.8].
    let grads = Params::from_iter([
        (
            "w",
            Var::constant(Tensor::from_slice(&[3.0, 0.0], &[2]).unwrap()),
        ),
        (
            "b",
            Var::constant(Tensor::from_slice(&[4.0], &[1]).unwrap()),
        ),
    ]);
    let (clipped, norm) = clip_grad_norm(&grads, 1.0);
    assert_eq!(norm, 5.0);
    assert_close(
        &clipped.expect("w").value().to_vec::<f64>(),
        &[0.6, 0.0],
        1e-15,
    );
    assert_close(&clipped.expect("b").value().to_vec::<f64>(), &[0.8], 1e-15);
    // Below the threshold nothing changes; all-zero gradients stay zero (no 0/0).
    let (same, norm) = clip_grad_norm(&grads, 10.0);
    assert_eq!(norm, 5.0);
    assert_eq!(same.expect("b").value().to_vec::<f64>(), [4.0]);
    let zeros = grads.map(|_, g| Var::constant(g.value().zeros_like()));
    let (still, norm) = clip_grad_norm(&zeros, 1.0);
    assert_eq!(norm, 0.0);
    assert_eq!(still.expect("w").value().to_vec::<f64>(), [0.0, 0.0]);
}

/// Three steps, a state saved (through a checkpoint file), a fresh optimiser restored from it:
/// both must then take bit-identical steps.
fn assert_state_round_trip(mut original: Box<dyn Optimizer>, mut fresh: Box<dyn Optimizer>) {
    let grads = [G1, G2, [0.3, -0.2], [-1.0, 0.5], [0.1, 0.1]];
    let mut p = params(&P);
    for g in &grads[..3] {
        p = original.step(&p, &params(g));
    }
    let mut checkpoint = Checkpoint::new();
    checkpoint.add_params("optimizer", &original.state());
    let dir = std::env::temp_dir().join(format!("nn-optim-state-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!("{}.safetensors", original.state().len()));
    checkpoint.save(&path).unwrap();
    let loaded = Checkpoint::load(&path).unwrap();
    fresh.load_state(&loaded.params("optimizer")).unwrap();
    let _ = std::fs::remove_file(&path);

    let (mut a, mut b) = (p.clone(), p);
    for g in &grads[3..] {
        a = original.step(&a, &params(g));
        b = fresh.step(&b, &params(g));
        assert_eq!(
            a.expect("p").value().to_vec::<f64>(),
            b.expect("p").value().to_vec::<f64>()
        );
    }
}

#[test]
fn state_round_trip_gives_identical_steps() {
    for momentum in [
        Momentum::Classic(0.9),
        Momentum::Damped(0.8),
        Momentum::Nesterov(0.7),
    ] {
        assert_state_round_trip(
            Box::new(Sgd::new(0.1).with_momentum(momentum)),
            Box::new(Sgd::new(0.1).with_momentum(momentum)),
        );
    }
    assert_state_round_trip(Box::new(Adam::new(0.05)), Box::new(Adam::new(0.05)));
    assert_state_round_trip(
        Box::new(Adam::adamw(0.05, 0.01)),
        Box::new(Adam::adamw(0.05, 0.01)),
    );
}

#[test]
fn adam_state_names() {
    let mut adam = Adam::new(0.1);
    adam.step(&params(&P), &params(&G1));
    let state = adam.state();
    assert_eq!(state.names().collect::<Vec<_>>(), ["m.p", "v.p", "step"]);
    assert_eq!(state.expect("step").item(), 1.0);
    // m = (1 − β₁)·g₁, v = (1 − β₂)·g₁².
    assert_close(
        &state.expect("m.p").value().to_vec::<f64>(),
        &[0.05, -0.1],
        1e-15,
    );
    assert_close(
        &state.expect("v.p").value().to_vec::<f64>(),
        &[0.00025, 0.001],
        1e-15,
    );
}

#[test]
fn load_state_with_a_bad_name_errors_and_changes_nothing() {
    let mut sgd = Sgd::new(0.1).with_momentum(Momentum::Classic(0.9));
    sgd.step(&params(&P), &params(&G1));
    let untouched = sgd.clone();
    let mut bad = sgd.state();
    bad.insert("momentum.p", Var::constant(Tensor::zeros(&[2], DType::F64)));
    let err = sgd.load_state(&bad).unwrap_err();
    assert!(matches!(&err, NnError::UnexpectedParam { name, .. } if name == "momentum.p"));
    assert_eq!(
        err.to_string(),
        "optimizer state: unexpected parameter `momentum.p`"
    );
    let after = |mut o: Sgd| run(&mut o, &[G2]);
    assert_eq!(after(sgd), after(untouched));

    // Adam without its step count.
    let mut adam = Adam::new(0.1);
    adam.step(&params(&P), &params(&G1));
    let without_step: Params = adam
        .state()
        .iter()
        .filter(|(n, _)| *n != "step")
        .map(|(n, v)| (n, v.clone()))
        .collect();
    let err = adam.load_state(&without_step).unwrap_err();
    assert!(
        err.to_string().contains("missing parameter `step`"),
        "{err}"
    );
    assert_eq!(adam.steps(), 1);

    // A name that only begins like a known one, and a second moment without its first.
    let mut stepper = adam.state();
    stepper.insert("steps", Var::constant(Tensor::scalar(3.0f64)));
    let err = adam.load_state(&stepper).unwrap_err();
    assert!(
        err.to_string().ends_with("unexpected parameter `steps`"),
        "{err}"
    );
    let mut orphan = adam.state();
    orphan.insert("v.q", Var::constant(Tensor::zeros(&[1], DType::F64)));
    let err = adam.load_state(&orphan).unwrap_err();
    assert_eq!(err.to_string(), "Adam state: missing parameter `m.q`");
    assert_eq!(adam.steps(), 1);
}

#[test]
#[should_panic(expected = "optimizer: the state of `p` is [3] f64 but the parameter is [2] f64")]
fn state_from_another_model_is_caught_at_the_next_step() {
    let mut sgd = Sgd::new(0.1).with_momentum(Momentum::Classic(0.9));
    sgd.load_state(&Params::from_iter([(
        "velocity.p",
        Var::constant(Tensor::zeros(&[3], DType::F64)),
    )]))
    .unwrap();
    sgd.step(&params(&P), &params(&G1));
}

#[test]
fn rmsprop_follows_its_formula() {
    use nn::optim::RmsProp;
    let mut opt = RmsProp::new(0.1);
    let mut p: nn::Params = [(
        "w",
        autograd::Var::leaf(tensor::Tensor::from_vec(vec![1.0f64, -2.0], &[2]).unwrap()),
    )]
    .into_iter()
    .collect();
    let (mut v, mut expect) = ([0.0f64; 2], [1.0f64, -2.0]);
    for step in 0..3 {
        let g = [0.5 * (step + 1) as f64, -3.0];
        let grads: nn::Params = [(
            "w",
            autograd::Var::constant(tensor::Tensor::from_vec(g.to_vec(), &[2]).unwrap()),
        )]
        .into_iter()
        .collect();
        p = opt.step(&p, &grads);
        for k in 0..2 {
            v[k] = 0.99 * v[k] + 0.01 * g[k] * g[k];
            expect[k] -= 0.1 * g[k] / (v[k].sqrt() + 1e-8);
        }
        let got = p.expect("w").value().to_vec::<f64>();
        for k in 0..2 {
            assert!(
                (got[k] - expect[k]).abs() < 1e-12,
                "step {step}: {got:?} vs {expect:?}"
            );
        }
    }
}
