//! The LSTM cell and the coordinatewise LSTM optimiser: derivatives of orders 1 and 2 against
//! finite differences, the preprocessing's two regimes, and a frozen optimiser that survives a
//! save and load.

use autograd::{check_grads, grad, CheckOptions, Var};
use nn::layers::{LstmCell, LstmState};
use nn::learned::{preprocess, CoordinatewiseLstm, LearnedOptimizer};
use nn::{Checkpoint, Optimizer, Params};
use rand::{rngs::StdRng, SeedableRng};
use tensor::{DType, Tensor};

/// The cell's inputs for a check: x, h, c, w_ih, w_hh, bias (in that order).
fn cell_inputs(cell: LstmCell, n: usize, seed: u64) -> Vec<Tensor> {
    let mut rng = StdRng::seed_from_u64(seed);
    let weights = cell.init(DType::F64, &mut rng);
    let mut inputs = vec![
        Tensor::rand_normal(&[n, cell.input], 0.0, 1.0, DType::F64, &mut rng),
        Tensor::rand_normal(&[n, cell.hidden], 0.0, 0.5, DType::F64, &mut rng),
        Tensor::rand_normal(&[n, cell.hidden], 0.0, 0.5, DType::F64, &mut rng),
    ];
    inputs.extend(weights.tensors());
    inputs
}

/// A scalar of both outputs of one step, weighted so that no two elements weigh the same.
fn cell_objective(cell: LstmCell, v: &[Var]) -> Var {
    let weights: Params = [("w_ih", &v[3]), ("w_hh", &v[4]), ("bias", &v[5])]
        .into_iter()
        .map(|(n, w)| (n, w.clone()))
        .collect();
    let state = LstmState {
        h: v[1].clone(),
        c: v[2].clone(),
    };
    let out = cell.step(&weights, &v[0], &state);
    let n = out.h.numel();
    let ramp = Var::constant(
        Tensor::from_vec(
            (1..=n).map(|k| k as f64 / n as f64).collect(),
            out.h.shape(),
        )
        .unwrap(),
    );
    (&(&out.h * &ramp) + &out.c.square()).sum_all()
}

#[test]
fn lstm_cell_gradients_of_orders_one_and_two_match_finite_differences() {
    let cell = LstmCell::new(2, 3);
    let inputs = cell_inputs(cell, 4, 1);
    let options = CheckOptions {
        atol: 1e-6,
        rtol: 1e-4,
        ..CheckOptions::default()
    };
    check_grads(|v| cell_objective(cell, v), &inputs, 2, &options)
        .unwrap_or_else(|e| panic!("LSTM cell: {e}"));
}

#[test]
fn lstm_cell_forget_gate_starts_open_and_keeps_the_cell() {
    // With zero input and hidden state the gates read only their biases: the forget gate
    // σ(1) ≈ 0.73 keeps most of c, the others are near ½.
    let cell = LstmCell::new(2, 3);
    let mut rng = StdRng::seed_from_u64(2);
    let weights = cell.init(DType::F64, &mut rng);
    let bias = weights.expect("bias").value().to_vec::<f64>();
    assert!(bias[3..6].iter().all(|&b| b == 1.0), "{bias:?}");
    let zero = Var::constant(Tensor::zeros(&[1, 2], DType::F64));
    let mut state = LstmState::zeros(1, 3, DType::F64);
    state.c = Var::constant(Tensor::full(&[1, 3], 1.0, DType::F64));
    let out = cell.step(&weights, &zero, &state);
    for (k, c) in out.c.value().to_vec::<f64>().into_iter().enumerate() {
        let f = 1.0 / (1.0 + (-1.0f64).exp());
        let (i, g) = (1.0 / (1.0 + (-bias[k]).exp()), bias[6 + k].tanh());
        assert!((c - (f + i * g)).abs() < 1e-12, "unit {k}: {c}");
    }
}

#[test]
#[should_panic(expected = "`w_hh` has shape [12, 2], expected [12, 3]")]
fn lstm_cell_names_a_misshapen_weight() {
    let cell = LstmCell::new(2, 3);
    let mut rng = StdRng::seed_from_u64(3);
    let weights = cell.init(DType::F64, &mut rng).map(|name, w| match name {
        "w_hh" => Var::leaf(Tensor::zeros(&[12, 2], DType::F64)),
        _ => w.clone(),
    });
    let x = Var::constant(Tensor::zeros(&[1, 2], DType::F64));
    cell.step(&weights, &x, &LstmState::zeros(1, 3, DType::F64));
}

#[test]
fn preprocessing_has_a_log_regime_and_a_linear_regime() {
    let p = 10.0;
    let small = 1e-6; // below e^−10 ≈ 4.5e-5
    let g = Var::leaf(Tensor::from_vec(vec![2.0f64, -0.01, small, 0.0], &[4]).unwrap());
    let x = preprocess(&g, p).value().to_vec::<f64>();
    let expect = [
        (2f64.ln() / p, 1.0),
        (0.01f64.ln() / p, -1.0),
        (-1.0, p.exp() * small),
        (-1.0, 0.0),
    ];
    for (k, (a, b)) in expect.into_iter().enumerate() {
        assert!(
            (x[2 * k] - a).abs() < 1e-12 && (x[2 * k + 1] - b).abs() < 1e-12,
            "{k}: {x:?}"
        );
    }
    // Differentiable everywhere it is used, including at g = 0 (no NaN from log 0).
    let d = grad(&[&preprocess(&g, p).sum_all()], &[&g], false).unwrap();
    let d = d[0].value().to_vec::<f64>();
    assert!((d[0] - 1.0 / (p * 2.0)).abs() < 1e-12, "{d:?}");
    assert!(
        (d[2] - p.exp()).abs() < 1e-6 && (d[3] - p.exp()).abs() < 1e-6,
        "{d:?}"
    );
}

#[test]
fn coordinatewise_update_is_the_same_lstm_for_every_coordinate() {
    // Coordinates are independent sequences: a coordinate's update does not depend on its
    // neighbours, or on where in the batch it sits.
    let lstm = CoordinatewiseLstm::default();
    let mut rng = StdRng::seed_from_u64(4);
    let weights = lstm.init(DType::F64, &mut rng);
    let run = |g: Vec<f64>| {
        let n = g.len();
        let g = Var::constant(Tensor::from_vec(g, &[n]).unwrap());
        let (u, state) = lstm.update(&weights, &g, &lstm.zero_state(n, DType::F64));
        let (u2, _) = lstm.update(&weights, &g.mul_scalar(0.5), &state);
        (u.value().to_vec::<f64>(), u2.value().to_vec::<f64>())
    };
    let (a, a2) = run(vec![0.3, -2.0, 1e-7]);
    let (b, b2) = run(vec![5.0, 1e-7, 0.3]);
    assert_eq!((a[0], a2[0]), (b[2], b2[2]));
    assert_eq!((a[2], a2[2]), (b[1], b2[1]));
    assert_ne!(a[0], a[1]);
}

/// A trajectory of `steps` optimiser steps on f(θ) = Σ (θ − 1)² · k (k = 1…n).
fn trajectory(optimizer: &mut dyn Optimizer, steps: usize) -> Vec<f64> {
    let n = 5;
    let mut theta: Params = [(
        "theta",
        Var::leaf(Tensor::from_vec(vec![0.5f64, -1.0, 2.0, 0.0, 3.0], &[n]).unwrap()),
    )]
    .into_iter()
    .collect();
    let scale = Var::constant(Tensor::from_vec((1..=n).map(|k| k as f64).collect(), &[n]).unwrap());
    let mut out = Vec::new();
    for _ in 0..steps {
        let t = theta.expect("theta");
        let loss = (&(t - 1.0).square() * &scale).sum_all();
        let g = grad(&[&loss], &[t], false).unwrap();
        theta = optimizer.step(&theta, &theta.gradients(&g));
        out.extend(theta.expect("theta").value().to_vec::<f64>());
    }
    out
}

#[test]
fn a_frozen_learned_optimizer_reloaded_from_its_checkpoint_gives_the_same_trajectory() {
    let lstm = CoordinatewiseLstm::default();
    let mut rng = StdRng::seed_from_u64(5);
    let mut original = LearnedOptimizer::new(lstm, &lstm.init(DType::F64, &mut rng));
    let dir = std::env::temp_dir().join(format!("nn-learned-opt-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("lstm.safetensors");
    original.to_checkpoint().save(&path).unwrap();
    let mut reloaded =
        LearnedOptimizer::from_checkpoint(&Checkpoint::load(&path).unwrap()).unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    assert_eq!(reloaded.lstm, lstm);
    let first = trajectory(&mut original, 6);
    assert_eq!(first, trajectory(&mut reloaded, 6));
    // The state carries over: a reset optimiser repeats the trajectory, a continuing one not.
    let continued = trajectory(&mut original, 6);
    assert_ne!(first, continued);
    original.reset();
    assert_eq!(first, trajectory(&mut original, 6));
    // Its state survives `state`/`load_state` too.
    let saved = reloaded.state();
    let a = trajectory(&mut reloaded, 2);
    reloaded.load_state(&saved).unwrap();
    assert_eq!(a, trajectory(&mut reloaded, 2));
}

#[test]
fn a_checkpoint_without_a_learned_optimizer_is_refused_by_name() {
    let mut checkpoint = Checkpoint::new();
    checkpoint.add_tensor("theta.w", Tensor::zeros(&[2], DType::F32));
    let err = LearnedOptimizer::from_checkpoint(&checkpoint)
        .unwrap_err()
        .to_string();
    assert!(err.contains("not a learned optimiser"), "{err}");
}
