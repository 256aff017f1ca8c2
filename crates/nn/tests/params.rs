//! `Params`: the named, ordered collection every other part of the crate passes around.
//! Map and zip keep names and order; gradients are relabelled; leaves, detached copies and
//! scopes behave as documented; misuse panics with the names involved.

use autograd::{grad, Var};
use nn::Params;
use tensor::{DType, Tensor};

fn leaf(values: &[f64], shape: &[usize]) -> Var {
    Var::leaf(Tensor::from_slice(values, shape).unwrap())
}

/// w = [1, 2, 3] (shape [3]), b = [−1] (shape [1]).
fn theta() -> Params {
    Params::from_iter([
        ("w", leaf(&[1.0, 2.0, 3.0], &[3])),
        ("b", leaf(&[-1.0], &[1])),
    ])
}

fn values(params: &Params, name: &str) -> Vec<f64> {
    params.expect(name).value().to_vec::<f64>()
}

#[test]
fn insertion_order_names_len_and_numel() {
    let p = theta();
    assert_eq!(p.names().collect::<Vec<_>>(), ["w", "b"]);
    assert_eq!(p.len(), 2);
    assert!(!p.is_empty());
    // 3 + 1 scalar elements.
    assert_eq!(p.numel(), 4);
    assert_eq!(p.vars().len(), 2);
    assert_eq!(p.tensors()[0].to_vec::<f64>(), [1.0, 2.0, 3.0]);
    assert!(Params::new().is_empty());
    assert_eq!(Params::new().numel(), 0);
    assert!(p.get("nope").is_none());
}

#[test]
fn map_keeps_names_and_order() {
    let doubled = theta().map(|_, v| v.mul_scalar(2.0));
    assert_eq!(doubled.names().collect::<Vec<_>>(), ["w", "b"]);
    assert_eq!(values(&doubled, "w"), [2.0, 4.0, 6.0]);
    assert_eq!(values(&doubled, "b"), [-2.0]);
    // The closure sees the names too.
    let seen: Vec<String> = {
        let mut seen = Vec::new();
        theta().map(|name, v| {
            seen.push(name.to_string());
            v.clone()
        });
        seen
    };
    assert_eq!(seen, ["w", "b"]);
}

#[test]
fn zip_pairs_entries_by_name() {
    let a = theta();
    let b = theta().map(|_, v| v.mul_scalar(10.0));
    let sum = a.zip(&b, |x, y| x + y);
    // w: [1, 2, 3] + [10, 20, 30]; b: −1 + −10.
    assert_eq!(values(&sum, "w"), [11.0, 22.0, 33.0]);
    assert_eq!(values(&sum, "b"), [-11.0]);
}

#[test]
fn zip3_is_the_meta_sgd_inner_step() {
    // θ' = θ − α ⊙ g with α = 0.5 everywhere and g = ∇θ L for L = Σ w² + Σ b²:
    // g_w = 2w = [2, 4, 6], g_b = 2b = [−2]; so θ' = θ − 0.5·2θ = 0 exactly.
    let theta = theta();
    let alpha = theta.map(|_, p| Var::leaf(p.value().full_like(0.5)));
    let loss = &theta.expect("w").square().sum_all() + &theta.expect("b").square().sum_all();
    let g = theta.gradients(&grad(&[&loss], &theta.vars(), true).unwrap());
    assert_eq!(values(&g, "w"), [2.0, 4.0, 6.0]);
    assert_eq!(values(&g, "b"), [-2.0]);
    let adapted = theta.zip3(&alpha, &g, |t, a, g| t - &(a * g));
    assert_eq!(values(&adapted, "w"), [0.0, 0.0, 0.0]);
    assert_eq!(values(&adapted, "b"), [0.0]);

    // The step was recorded: θ'_w = w − α_w · 2w, so ∂(Σ θ'_w)/∂α_w = −2w = [−2, −4, −6].
    let total = adapted.expect("w").sum_all();
    let d_alpha = grad(&[&total], &[alpha.expect("w")], false).unwrap();
    assert_eq!(d_alpha[0].value().to_vec::<f64>(), [-2.0, -4.0, -6.0]);
}

#[test]
fn gradients_relabel_in_order() {
    let p = theta();
    let grads = [
        Var::constant(Tensor::from_slice(&[0.1, 0.2, 0.3], &[3]).unwrap()),
        Var::constant(Tensor::from_slice(&[0.4], &[1]).unwrap()),
    ];
    let g = p.gradients(&grads);
    assert_eq!(g.names().collect::<Vec<_>>(), ["w", "b"]);
    assert_eq!(values(&g, "b"), [0.4]);
}

#[test]
#[should_panic(expected = "params: 1 gradients for 2 parameters")]
fn gradients_count_must_match() {
    theta().gradients(&[Var::constant(Tensor::scalar(1.0f64))]);
}

#[test]
fn to_leaves_cuts_history_and_requires_grad() {
    // A parameter set that came out of a recorded step…
    let theta = theta();
    let stepped = theta.map(|_, v| v.mul_scalar(3.0));
    assert!(!stepped.expect("w").is_leaf());
    // …becomes fresh leaves with the same values: the start of the next training step.
    let leaves = stepped.to_leaves();
    for (name, v) in leaves.iter() {
        assert!(v.is_leaf() && v.requires_grad(), "{name}");
    }
    assert_eq!(values(&leaves, "w"), [3.0, 6.0, 9.0]);
    // Gradients now stop at the new leaves: d(Σ w')/dw' = 1, and θ is not reached (its
    // gradient is the zeros that `grad` gives unused inputs).
    let loss = leaves.expect("w").sum_all();
    let g = grad(&[&loss], &[leaves.expect("w")], false).unwrap();
    assert_eq!(g[0].value().to_vec::<f64>(), [1.0, 1.0, 1.0]);
    let to_theta = grad(&[&loss], &[theta.expect("w")], false).unwrap();
    assert_eq!(to_theta[0].value().to_vec::<f64>(), [0.0, 0.0, 0.0]);
}

#[test]
fn detach_gives_constants() {
    let detached = theta().map(|_, v| v.mul_scalar(2.0)).detach();
    for (name, v) in detached.iter() {
        assert!(!v.requires_grad(), "{name}");
    }
    assert_eq!(values(&detached, "w"), [2.0, 4.0, 6.0]);
}

#[test]
fn to_dtype_converts_and_keeps_requires_grad() {
    let mut mixed = theta();
    mixed.insert("frozen", Var::constant(Tensor::full(&[2], 0.5, DType::F64)));
    let single = mixed.to_dtype(DType::F32);
    for (name, v) in single.iter() {
        assert_eq!(v.dtype(), DType::F32, "{name}");
    }
    assert!(single.expect("w").requires_grad());
    assert!(!single.expect("frozen").requires_grad());
    assert_eq!(single.expect("w").value().to_vec::<f32>(), [1.0, 2.0, 3.0]);
}

#[test]
fn scoped_and_extend_prefixed_are_inverse() {
    let mut model = Params::new();
    model.extend_prefixed("encoder", &theta());
    model.extend_prefixed("head", &theta().map(|_, v| v.mul_scalar(-1.0)));
    assert_eq!(
        model.names().collect::<Vec<_>>(),
        ["encoder.w", "encoder.b", "head.w", "head.b"]
    );
    let head = model.scoped("head");
    assert_eq!(head.names().collect::<Vec<_>>(), ["w", "b"]);
    assert_eq!(values(&head, "w"), [-1.0, -2.0, -3.0]);
    // A prefix matches whole name components only: `1` does not select `10.weight`.
    let layers = Params::from_iter([
        ("1.weight", leaf(&[1.0], &[1])),
        ("10.weight", leaf(&[10.0], &[1])),
    ]);
    assert_eq!(layers.scoped("1").names().collect::<Vec<_>>(), ["weight"]);
    assert_eq!(values(&layers.scoped("1"), "weight"), [1.0]);
    assert!(layers.scoped("2").is_empty());
}

#[test]
fn debug_lists_shapes() {
    let text = format!("{:?}", theta());
    assert!(text.contains("2 tensors, 4 elements"), "{text}");
    assert!(text.contains("w: [3] f64"), "{text}");
}

#[test]
#[should_panic(expected = "params: duplicate parameter name `w`")]
fn duplicate_names_panic() {
    let mut p = theta();
    p.insert("w", leaf(&[0.0], &[1]));
}

#[test]
#[should_panic(expected = "params: duplicate parameter name `encoder.w`")]
fn extend_prefixed_twice_panics() {
    let mut p = Params::new();
    p.extend_prefixed("encoder", &theta());
    p.extend_prefixed("encoder", &theta());
}

#[test]
#[should_panic(expected = "params::zip: names differ: [w, b] vs [b, w]")]
fn zip_with_other_order_panics() {
    let swapped = Params::from_iter([("b", leaf(&[0.0], &[1])), ("w", leaf(&[0.0; 3], &[3]))]);
    theta().zip(&swapped, |a, _| a.clone());
}

#[test]
#[should_panic(expected = "params::zip3: names differ: [w, b] vs [w]")]
fn zip3_with_missing_name_panics() {
    let only_w = Params::from_iter([("w", leaf(&[0.0; 3], &[3]))]);
    theta().zip3(&theta(), &only_w, |a, _, _| a.clone());
}

#[test]
#[should_panic(expected = "params: no parameter `bias` (have: w, b)")]
fn expect_lists_the_names_there_are() {
    theta().expect("bias");
}
