//! Every learner's meta-gradient, checked: against central finite differences in f64 through
//! two inner steps; between the two ways of running a meta-batch; for the first-order variants,
//! against the exact term they drop; MAML++ reduced to MAML; Reptile's direction by hand.

mod meta_fd;

use autograd::{hvp, Var};
use meta::learners::rules::FixedRate;
use meta::learners::{Reptile, Tape};
use meta::{
    registry, Execution, Learner, MetaParams, MetaTrainer, Settings, Sinusoid, Task, TaskSource,
};
use meta_fd::{flat_values, problem, settings};
use nn::Params;
use rand::rngs::StdRng;
use rand::SeedableRng;
use tensor::{DType, Tensor};

fn assert_close(analytic: &[f64], numeric: &[f64], what: &str) {
    assert_eq!(analytic.len(), numeric.len(), "{what}");
    for (k, (a, n)) in analytic.iter().zip(numeric).enumerate() {
        assert!(
            (a - n).abs() <= 1e-6 + 1e-4 * n.abs(),
            "{what}: element {k}: analytic {a}, numeric {n}"
        );
    }
}

/// The learners whose outer step follows a loss, so it has a gradient to check.
const DIFFERENTIATED: [&str; 7] = [
    "metasgd",
    "lstm",
    "maml",
    "mamlpp",
    "similarity",
    "similarity-metasgd",
    "fometasgd",
];

#[test]
fn every_learners_meta_gradient_matches_finite_differences_through_two_steps() {
    for name in DIFFERENTIATED {
        for execution in [
            Execution::Vectorised { chunk: 2 },
            Execution::PerTask { chunk: 1 },
        ] {
            // First order drops every Hessian term; with one step none touches α's gradient.
            let steps = if name == "fometasgd" { 1 } else { 2 };
            let (mut trainer, tasks) = problem(name, &settings(steps), execution);
            // Halfway through MAML++'s multi-step annealing, so both steps are scored.
            trainer.iteration = 50;
            let report = trainer.meta_gradient(&tasks);
            let analytic = flat_values(&report.grads);
            if name == "fometasgd" {
                // First order is not the gradient of the meta-loss, but with one step its
                // α-gradient is: ∂L/∂α = −g ⊙ ∂L/∂θ' needs no Hessian.
                let alpha = flat_values(&report.grads.scoped("alpha"));
                let numeric = meta_fd::finite_differences(&mut trainer, &tasks);
                let from = analytic.len() - alpha.len();
                assert_close(&alpha, &numeric[from..], "fometasgd α");
                continue;
            }
            let numeric = meta_fd::finite_differences(&mut trainer, &tasks);
            assert_close(&analytic, &numeric, &format!("{name}, {execution:?}"));
        }
    }
}

#[test]
fn per_step_alpha_gradient_matches_finite_differences() {
    // Two inner steps, each with its own α: both α sets get their own gradient.
    let settings = Settings {
        per_step_alpha: true,
        ..settings(2)
    };
    let (mut trainer, tasks) = problem("metasgd", &settings, Execution::Vectorised { chunk: 2 });
    assert_eq!(trainer.meta.learned.len(), 2 * trainer.meta.theta.len());
    let grads = trainer.meta_gradient(&tasks).grads;
    assert!(grads.names().any(|n| n.starts_with("alpha.1.")));
    assert_close(
        &flat_values(&grads),
        &meta_fd::finite_differences(&mut trainer, &tasks),
        "per-step α",
    );
}

#[test]
fn vectorised_and_per_task_agree_for_every_learner() {
    for entry in registry::LEARNERS {
        // The learners that make their own classifier (metric and parameter-generating) take
        // one classification task per graph (their conv nets run per task): these are stacked
        // regression tasks, which they do not take. `tests/metric_learners.rs`, `tests/pgn.rs`.
        let learner = registry::build(entry.name, &Settings::default()).unwrap();
        if !learner.uses_model_head() {
            continue;
        }
        let (vectorised, tasks) =
            problem(entry.name, &settings(2), Execution::Vectorised { chunk: 2 });
        let (per_task, _) = problem(entry.name, &settings(2), Execution::PerTask { chunk: 1 });
        let (a, b) = (
            vectorised.meta_gradient(&tasks),
            per_task.meta_gradient(&tasks),
        );
        assert!(
            (a.meta_loss - b.meta_loss).abs() < 1e-12,
            "{}: {} vs {}",
            entry.name,
            a.meta_loss,
            b.meta_loss
        );
        assert_close(&flat_values(&a.grads), &flat_values(&b.grads), entry.name);
    }
}

/// For one task and one step, the second-order and first-order θ-gradients differ by exactly
/// the Hessian term: with v = ∂L/∂θ' (what first order returns) and H the support loss's
/// Hessian at θ,
///   MAML:      ∂L/∂θ = v − lr·H·v
///   Meta-SGD:  ∂L/∂θ = v − H·(α ⊙ v),   and ∂L/∂α is the same in both: −g ⊙ v.
#[test]
fn first_order_variants_drop_exactly_the_hessian_term() {
    for (full, first) in [("maml", "fomaml"), ("metasgd", "fometasgd")] {
        let (second_order, tasks) = problem(full, &settings(1), Execution::PerTask { chunk: 1 });
        let (mut first_order, _) = problem(first, &settings(1), Execution::PerTask { chunk: 1 });
        first_order.meta = second_order.meta.clone();
        let task = &tasks[..1];
        let exact = second_order.meta_gradient(task).grads;
        let approx = first_order.meta_gradient(task).grads;

        // H·(step ⊙ v) of the support loss, by reverse over reverse.
        let theta = &second_order.meta.theta;
        let v: Vec<Tensor> = approx.scoped("theta").tensors();
        let scaled: Vec<Tensor> = if full == "maml" {
            v.iter().map(|t| t.mul_scalar(0.05)).collect()
        } else {
            let alpha = second_order.meta.learned.tensors();
            v.iter().zip(alpha).map(|(t, a)| t.mul(&a)).collect()
        };
        let model = &second_order.model;
        let names: Vec<String> = theta.names().map(String::from).collect();
        let support_loss = |vars: &[Var]| {
            let params: Params = names.iter().cloned().zip(vars.iter().cloned()).collect();
            task[0].support.loss(
                &model.apply(&params, &Var::constant(task[0].support.x.clone())),
                0,
            )
        };
        let hv = hvp(support_loss, &theta.tensors(), &scaled).unwrap();

        let exact_theta = flat_values(&exact.scoped("theta"));
        let predicted: Vec<f64> = v
            .iter()
            .zip(&hv)
            .flat_map(|(v, h)| v.sub(h).to_vec::<f64>())
            .collect();
        assert_close(&exact_theta, &predicted, &format!("{full} vs {first}: θ"));
        assert!(
            exact_theta
                .iter()
                .zip(flat_values(&approx.scoped("theta")))
                .any(|(a, b)| (a - b).abs() > 1e-4),
            "the dropped term should not vanish here"
        );
        if full == "metasgd" {
            assert_close(
                &flat_values(&exact.scoped("alpha")),
                &flat_values(&approx.scoped("alpha")),
                "α",
            );
        }
    }
}

#[test]
fn maml_plus_plus_with_equal_rates_last_step_loss_and_second_order_is_maml() {
    let plain = Settings {
        multi_step_iters: 0,
        first_order_iters: 0,
        ..settings(2)
    };
    for execution in [
        Execution::Vectorised { chunk: 2 },
        Execution::PerTask { chunk: 1 },
    ] {
        let (maml, tasks) = problem("maml", &plain, execution);
        let (mut plus, _) = problem("mamlpp", &plain, execution);
        plus.meta.theta = maml.meta.theta.clone();
        let (a, b) = (maml.meta_gradient(&tasks), plus.meta_gradient(&tasks));
        // The same up to the rounding of the rates, stored as softplus⁻¹(0.05).
        let (a_theta, b_theta) = (
            flat_values(&a.grads.scoped("theta")),
            flat_values(&b.grads.scoped("theta")),
        );
        assert!(
            (a.meta_loss - b.meta_loss).abs() <= 1e-14 * a.meta_loss.abs(),
            "{} vs {}",
            a.meta_loss,
            b.meta_loss
        );
        for (x, y) in a_theta.iter().zip(&b_theta) {
            assert!(
                (x - y).abs() <= 1e-12 * x.abs().max(1e-3),
                "{execution:?}: {x} vs {y}"
            );
        }
        // And it has a gradient for each of its 2 × 4 rates.
        assert_eq!(b.grads.scoped("lslr").len(), 8);
    }
    // Derivative-order annealing: first order before `first_order_iters`, then second.
    let annealed = Settings {
        first_order_iters: 10,
        ..plain
    };
    let (fomaml, tasks) = problem("fomaml", &plain, Execution::PerTask { chunk: 1 });
    let (mut plus, _) = problem("mamlpp", &annealed, Execution::PerTask { chunk: 1 });
    plus.meta.theta = fomaml.meta.theta.clone();
    let early = plus.meta_gradient(&tasks).grads.scoped("theta");
    let first_order = fomaml.meta_gradient(&tasks).grads.scoped("theta");
    for (x, y) in flat_values(&early).iter().zip(flat_values(&first_order)) {
        assert!((x - y).abs() <= 1e-12 * x.abs().max(1e-3), "{x} vs {y}");
    }
    plus.iteration = 10;
    let late = plus.meta_gradient(&tasks).grads.scoped("theta");
    assert_ne!(flat_values(&early), flat_values(&late));
}

/// Reptile on y = w·x with one task, two SGD steps of size η on the support loss
/// L(w) = mean_k (w·x_k − y_k)², whose gradient is 2·mean_k x_k(w·x_k − y_k):
///   w₁ = w₀ − η·L'(w₀),  w₂ = w₁ − η·L'(w₁),  direction = w₀ − w₂.
#[test]
fn reptile_direction_matches_a_hand_computation_on_a_linear_model() {
    let model = nn::layers::Linear {
        bias: false,
        ..nn::layers::Linear::new(1, 1)
    };
    let learner = Reptile {
        rule: FixedRate { lr: 0.1 },
        steps: 2,
    };
    let w0 = 0.5;
    let meta = MetaParams {
        theta: Params::from_iter([(
            "weight",
            Var::leaf(Tensor::from_vec(vec![w0], &[1, 1]).unwrap()),
        )]),
        learned: Params::new(),
    };
    let (xs, ys) = ([1.0, -2.0, 3.0], [2.0, 1.0, -1.0]);
    let batch = |xs: &[f64], ys: &[f64]| meta::Batch {
        x: Tensor::from_vec(xs.to_vec(), &[xs.len(), 1]).unwrap(),
        y: meta::Target::Values(Tensor::from_vec(ys.to_vec(), &[ys.len(), 1]).unwrap()),
    };
    let support = batch(&xs, &ys);
    let slope = |w: f64| {
        2.0 * xs
            .iter()
            .zip(&ys)
            .map(|(x, y)| x * (w * x - y))
            .sum::<f64>()
            / xs.len() as f64
    };
    let w1 = w0 - 0.1 * slope(w0);
    let w2 = w1 - 0.1 * slope(w1);
    let outer = learner.outer(&model, &meta, &support, &support, 0, Default::default());
    let meta::learners::Objective::Direction { grads, .. } = outer.objective else {
        panic!("Reptile gives a direction");
    };
    let direction = grads[0].to_vec::<f64>()[0];
    assert!(
        (direction - (w0 - w2)).abs() < 1e-12,
        "{direction} vs {}",
        w0 - w2
    );

    // Through the trainer with plain SGD of rate ε: θ ← θ + ε·(θ′ − θ), averaged over tasks.
    let mut trainer = MetaTrainer {
        model: Box::new(model),
        meta,
        learner: Box::new(learner),
        optimizer: Box::new(nn::Sgd::new(0.5)),
        execution: Execution::PerTask { chunk: 1 },
        iteration: 0,
    };
    let task = Task {
        support: batch(&xs, &ys),
        query: batch(&xs, &ys),
    };
    trainer.step(&[task.clone(), task]);
    let moved = trainer.meta.theta.expect("weight").value().to_vec::<f64>()[0];
    assert!((moved - (w0 + 0.5 * (w2 - w0))).abs() < 1e-12, "{moved}");
}

#[test]
fn reptile_trains_without_recording_the_inner_loop() {
    let (mut trainer, tasks) = problem("reptile", &settings(3), Execution::Vectorised { chunk: 2 });
    let before = flat_values(&trainer.meta.theta);
    let report = trainer.step_on(meta::Tasks::Given(&tasks));
    assert!(report.meta_loss.is_finite());
    assert_ne!(flat_values(&trainer.meta.theta), before);
}

#[test]
fn the_similarity_step_grows_for_unfamiliar_tasks() {
    use meta::learners::rules::{Base, SimilarityScaled};
    use meta::learners::{TaskStart, UpdateRule};

    let (trainer, tasks) = problem("similarity", &settings(1), Execution::PerTask { chunk: 1 });
    let mut rule = SimilarityScaled::new(Base::Plain, 2, 0.2, 1.0, false);
    // c and d fixed by the rule (not learned), so the numbers below are c = 0.2, d = 1.
    static NOTHING_LEARNED: std::sync::LazyLock<Params> = std::sync::LazyLock::new(Params::new);
    fn start<'a>(trainer: &'a MetaTrainer, task: &'a Task) -> TaskStart<'a> {
        TaskStart {
            model: trainer.model.as_ref(),
            theta: &trainer.meta.theta,
            learned: &NOTHING_LEARNED,
            support: &task.support,
            tasks: 0,
        }
    }
    let summary = |rule: &SimilarityScaled, task: &Task| -> (f64, f64) {
        let s = rule.summary(&start(&trainer, task));
        (s[0].1, s[1].1)
    };
    // Empty memory: every task counts as familiar, α* = 1, η = c / (1 + d).
    let (alpha_star, eta) = summary(&rule, &tasks[0]);
    assert_eq!(alpha_star, 1.0);
    assert!((eta - 0.1).abs() < 1e-12, "{eta}");
    // Remember task 0: it is now exactly familiar (α* = 1) and task 1 less so.
    let memo = rule.begin(&start(&trainer, &tasks[0])).memo.unwrap();
    rule.remember(&[memo]);
    assert_eq!(rule.remembered(), 1);
    let (same, _) = summary(&rule, &tasks[0]);
    assert!((same - 1.0).abs() < 1e-12, "{same}");
    let (other, other_eta) = summary(&rule, &tasks[1]);
    assert!((0.0..1.0).contains(&other), "{other}");
    assert!(
        (other_eta - 0.2 / (other.sqrt() + 1.0)).abs() < 1e-12 && other_eta > eta,
        "{other_eta}"
    );
    // The memory keeps the last `capacity` embeddings, and round-trips through its buffers.
    for task in [&tasks[1], &tasks[1], &tasks[0]] {
        let memo = rule.begin(&start(&trainer, task)).memo.unwrap();
        rule.remember(&[memo]);
    }
    assert_eq!(rule.remembered(), 2);
    let mut restored = SimilarityScaled::new(Base::Plain, 2, 0.2, 1.0, false);
    restored.load_buffers(&rule.buffers()).unwrap();
    assert_eq!(summary(&restored, &tasks[1]), summary(&rule, &tasks[1]));
    let mut small = SimilarityScaled::new(Base::Plain, 1, 0.2, 1.0, false);
    assert!(small.load_buffers(&rule.buffers()).is_err());
}

#[test]
fn the_trainer_fills_the_similarity_memory_in_task_order_whatever_the_threads() {
    let run = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        pool.install(|| {
            let (mut trainer, _) = problem(
                "similarity-metasgd",
                &settings(1),
                Execution::Vectorised { chunk: 3 },
            );
            let mut family = Sinusoid::maml(5);
            family.dtype = DType::F64;
            let mut rng = StdRng::seed_from_u64(3);
            for _ in 0..4 {
                let tasks: Vec<Task> = (0..8).map(|_| family.sample(&mut rng)).collect();
                trainer.step(&tasks);
            }
            let memory = flat_values(&trainer.learner.buffers());
            (flat_values(&trainer.meta.flatten()), memory)
        })
    };
    let one = run(1);
    assert_eq!(one.1.len() % 8, 0);
    assert!(!one.1.is_empty());
    assert_eq!(one, run(2));
    assert_eq!(one, run(3));
}

#[test]
fn same_seed_same_result_whatever_the_thread_count() {
    for name in ["metasgd", "mamlpp", "reptile"] {
        let run = |threads: usize| {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            pool.install(|| {
                let (mut trainer, _) =
                    problem(name, &settings(1), Execution::Vectorised { chunk: 3 });
                let mut family = Sinusoid::maml(5);
                family.dtype = DType::F64;
                let mut rng = StdRng::seed_from_u64(3);
                for _ in 0..5 {
                    let tasks: Vec<Task> = (0..8).map(|_| family.sample(&mut rng)).collect();
                    trainer.step(&tasks);
                }
                flat_values(&trainer.meta.flatten())
            })
        };
        let one = run(1);
        assert_eq!(one, run(2), "{name}");
        assert_eq!(one, run(3), "{name}");
    }
}

#[test]
fn evaluation_adapts_with_the_tape_off() {
    // Adapting with the tape off gives the same values as with it on, and leaves no graph.
    let (trainer, tasks) = problem("metasgd", &settings(2), Execution::PerTask { chunk: 1 });
    let learner = trainer.learner.as_ref();
    let model = trainer.model.as_ref();
    let on = learner.adapt(
        model,
        &trainer.meta,
        &tasks[0].support,
        0,
        2,
        Tape::SecondOrder,
    );
    let off = learner.adapt(model, &trainer.meta, &tasks[0].support, 0, 2, Tape::Off);
    assert_eq!(flat_values(&on.params), flat_values(&off.params));
    assert!(off.params.iter().all(|(_, v)| v.is_leaf()));
}
