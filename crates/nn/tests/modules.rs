//! The `Module` contract: parameter names and shapes, seeded initialisation, `check`, the
//! panics of `Ctx::param`, and the shapes the ready-made networks produce.

use autograd::Var;
use nn::layers::{Linear, Relu, Sequential};
use nn::{conv_net, mlp, Activation, Ctx, Downsample, Module, NnError, Params, State};
use rand::rngs::StdRng;
use rand::SeedableRng;
use tensor::{DType, Tensor};

fn init(model: &dyn Module, seed: u64) -> Params {
    model.init(&mut StdRng::seed_from_u64(seed), DType::F64)
}

fn names(model: &dyn Module) -> Vec<String> {
    model.param_specs().into_iter().map(|s| s.name).collect()
}

#[test]
fn mlp_names_its_linear_layers_by_position() {
    // Linear, ReLU, Linear, ReLU, Linear: the linear layers are children 0, 2 and 4.
    let net = mlp(&[1, 40, 40, 1], Activation::Relu);
    assert_eq!(
        names(&net),
        ["0.weight", "0.bias", "2.weight", "2.bias", "4.weight", "4.bias"]
    );
    let shapes: Vec<Vec<usize>> = net.param_specs().into_iter().map(|s| s.shape).collect();
    assert_eq!(
        shapes,
        [
            vec![40, 1],
            vec![40],
            vec![40, 40],
            vec![40],
            vec![1, 40],
            vec![1]
        ]
    );
    // 40 + 40 + 1600 + 40 + 40 + 1: the 1 761 parameters of MAML's sinusoid network.
    assert_eq!(init(&net, 0).numel(), 1761);
    assert_eq!(net.layers().len(), 5);
    assert_eq!(
        net.describe(),
        "Sequential[Linear(1 → 40), ReLU, Linear(40 → 40), ReLU, Linear(40 → 1)]"
    );
}

#[test]
#[should_panic(expected = "mlp: needs at least input and output sizes, got [3]")]
fn mlp_needs_two_sizes() {
    mlp(&[3], Activation::Tanh);
}

#[test]
fn conv_net_names_and_parameter_count() {
    // Stride2 blocks are [conv, norm, relu]: convs at 0, 3, 6, 9, norms at 1, 4, 7, 10,
    // then SpatialMean (12) and the head (13).
    let omniglot = conv_net(1, 64, 5, 28, Downsample::Stride2);
    let expected: Vec<String> = [0, 3, 6, 9]
        .iter()
        .flat_map(|&c| {
            [
                format!("{c}.weight"),
                format!("{c}.bias"),
                format!("{}.weight", c + 1),
                format!("{}.bias", c + 1),
            ]
        })
        .chain(["13.weight".to_string(), "13.bias".to_string()])
        .collect();
    assert_eq!(names(&omniglot), expected);
    // conv 1→64: 64·9 + 64 = 640; conv 64→64: 64·64·9 + 64 = 36 928 (three of them);
    // norms: 4 · 2·64 = 512; head 64 → 5: 325. Total 640 + 110 784 + 512 + 325 = 112 261.
    assert_eq!(init(&omniglot, 0).numel(), 112_261);

    // MaxPool blocks are [conv, norm, relu, pool]: convs at 0, 4, 8, 12, then Flatten (16)
    // and the head (17), which sees hidden·5·5 features for 84×84 images (84→42→21→10→5).
    let mini = conv_net(3, 32, 5, 84, Downsample::MaxPool);
    let specs = mini.param_specs();
    let head = specs.iter().find(|s| s.name == "17.weight").unwrap();
    assert_eq!(head.shape, [5, 32 * 5 * 5]);
    let first = specs.iter().find(|s| s.name == "0.weight").unwrap();
    assert_eq!(first.shape, [32, 3, 3, 3]);
    assert!(specs.iter().any(|s| s.name == "13.bias"));
}

#[test]
fn conv_net_forward_shapes_on_28_by_28() {
    for downsample in [Downsample::Stride2, Downsample::MaxPool] {
        let net = conv_net(1, 8, 5, 28, downsample);
        let params = init(&net, 1);
        net.check(&params).unwrap();
        let mut rng = StdRng::seed_from_u64(2);
        let images = Var::constant(Tensor::rand_normal(
            &[3, 1, 28, 28],
            0.0,
            1.0,
            DType::F64,
            &mut rng,
        ));
        let logits = net.apply(&params, &images);
        assert_eq!(logits.shape(), [3, 5], "{downsample:?}");
    }
    // With max-pooling 28 → 14 → 7 → 3 → 1, so the head sees hidden·1·1 features.
    let specs = conv_net(1, 8, 5, 28, Downsample::MaxPool).param_specs();
    assert_eq!(specs.last().unwrap().name, "17.bias");
    assert_eq!(specs[specs.len() - 2].shape, [5, 8]);
}

#[test]
fn conv_net_keeps_running_statistics_under_full_names() {
    // The norms are children 1, 4, 7, 10; each keeps a running mean and variance.
    let net = conv_net(1, 4, 2, 8, Downsample::Stride2);
    let params = init(&net, 3);
    let state = State::new();
    let images = Var::constant(Tensor::ones(&[2, 1, 8, 8], DType::F64));
    net.forward(&Ctx::new(&params).with_state(&state), &images);
    let names: Vec<String> = state.to_params().names().map(String::from).collect();
    let expected: Vec<String> = [1, 4, 7, 10]
        .iter()
        .flat_map(|c| [format!("{c}.running_mean"), format!("{c}.running_var")])
        .collect();
    assert_eq!(names, expected);
    assert_eq!(state.get("7.running_var").unwrap().shape(), [4]);
}

#[test]
fn init_draws_every_spec_with_its_shape_and_dtype() {
    let net = mlp(&[3, 4, 2], Activation::Tanh);
    let params = net.init(&mut StdRng::seed_from_u64(0), DType::F32);
    for (spec, (name, var)) in net.param_specs().iter().zip(params.iter()) {
        assert_eq!(spec.name, name);
        assert_eq!(spec.shape, var.shape());
        assert_eq!(var.dtype(), DType::F32);
        assert!(var.is_leaf() && var.requires_grad());
    }
    // Linear(3 → 4) draws from U(−1/√3, 1/√3).
    let bound = 1.0 / 3f64.sqrt();
    for v in params.expect("0.weight").value().to_vec::<f64>() {
        assert!(v.abs() < bound, "{v}");
    }
}

#[test]
fn init_is_reproducible_from_the_seed() {
    let net = mlp(&[2, 8, 1], Activation::Relu);
    let (a, b, c) = (init(&net, 7), init(&net, 7), init(&net, 8));
    for ((name, x), (_, y)) in a.iter().zip(b.iter()) {
        assert_eq!(
            x.value().to_vec::<f64>(),
            y.value().to_vec::<f64>(),
            "{name}"
        );
    }
    assert_ne!(
        a.expect("0.weight").value().to_vec::<f64>(),
        c.expect("0.weight").value().to_vec::<f64>()
    );
}

#[test]
fn check_accepts_exactly_the_specs() {
    let net = mlp(&[2, 3, 1], Activation::Relu);
    let params = init(&net, 0);
    assert!(net.check(&params).is_ok());

    // Missing: everything but `2.bias`.
    let missing: Params = params
        .iter()
        .filter(|(n, _)| *n != "2.bias")
        .map(|(n, v)| (n, v.clone()))
        .collect();
    let err = net.check(&missing).unwrap_err();
    assert!(matches!(&err, NnError::MissingParam { name, .. } if name == "2.bias"));
    assert_eq!(
        err.to_string(),
        "Sequential[Linear(2 → 3), ReLU, Linear(3 → 1)]: missing parameter `2.bias`"
    );

    // Unexpected: one extra entry.
    let mut extra = params.clone();
    extra.insert("1.weight", Var::leaf(Tensor::zeros(&[1], DType::F64)));
    let err = net.check(&extra).unwrap_err();
    assert!(
        err.to_string().ends_with("unexpected parameter `1.weight`"),
        "{err}"
    );

    // Wrong shape: `0.weight` transposed.
    let wrong = params.map(|n, v| if n == "0.weight" { v.t() } else { v.clone() });
    let err = net.check(&wrong).unwrap_err();
    assert_eq!(
        err.to_string(),
        "parameter `0.weight` has shape [2, 3], expected [3, 2]"
    );
}

#[test]
fn check_rejects_task_axes_that_forward_accepts() {
    // `check` wants the exact shapes; per-task parameter sets are for `forward` only.
    let layer = Linear::new(2, 3);
    let batched = init(&layer, 0).map(|_, v| Var::leaf(v.value().unsqueeze(0)));
    assert!(matches!(
        layer.check(&batched),
        Err(NnError::ParamShape { .. })
    ));
}

#[test]
#[should_panic(expected = "Linear(2 → 3): missing parameter `bias` (have: weight)")]
fn ctx_param_names_the_missing_parameter() {
    let layer = Linear::new(2, 3);
    let params = Params::from_iter([("weight", Var::leaf(Tensor::zeros(&[3, 2], DType::F64)))]);
    layer.apply(&params, &Var::constant(Tensor::zeros(&[1, 2], DType::F64)));
}

#[test]
#[should_panic(
    expected = "Linear(2 → 3): parameter `1.weight` has shape [2, 3], expected [3, 2] (optionally with leading task axes)"
)]
fn ctx_param_names_both_shapes() {
    // Inside a Sequential the full name carries the child's position.
    let net = Sequential::new().push(Relu).push(Linear::new(2, 3));
    let params = Params::from_iter([
        ("1.weight", Var::leaf(Tensor::zeros(&[2, 3], DType::F64))),
        ("1.bias", Var::leaf(Tensor::zeros(&[3], DType::F64))),
    ]);
    net.apply(&params, &Var::constant(Tensor::zeros(&[1, 2], DType::F64)));
}

#[test]
fn ctx_modes_and_child_names() {
    let params = Params::new();
    let ctx = Ctx::new(&params);
    assert!(ctx.training());
    assert!(ctx.state().is_none() && ctx.rng().is_none());
    let block = ctx.child("3").child("1");
    assert_eq!(block.full_name("weight"), "3.1.weight");
    assert!(!ctx.eval().training());
}

#[test]
fn the_same_module_runs_with_theta_and_theta_prime() {
    // f(x) = w·x + b with w = 2, b = 1 at x = 3 gives 7; with θ' = (w − 1, b + 1) it gives
    // 1·3 + 2 = 5. Nothing in the module changed.
    let layer = Linear::new(1, 1);
    let theta = Params::from_iter([
        ("weight", Var::leaf(Tensor::full(&[1, 1], 2.0, DType::F64))),
        ("bias", Var::leaf(Tensor::full(&[1], 1.0, DType::F64))),
    ]);
    let shift = Params::from_iter([
        (
            "weight",
            Var::constant(Tensor::full(&[1, 1], -1.0, DType::F64)),
        ),
        ("bias", Var::constant(Tensor::full(&[1], 1.0, DType::F64))),
    ]);
    let adapted = theta.zip(&shift, |t, s| t + s);
    let x = Var::constant(Tensor::full(&[1, 1], 3.0, DType::F64));
    assert_eq!(layer.apply(&theta, &x).item(), 7.0);
    assert_eq!(layer.apply(&adapted, &x).item(), 5.0);
}
