//! Recomputation (`Settings::recompute`, `learners::Unroll`): the meta-gradient of the reverse
//! sweep over inner steps equals the recorded path's up to rounding, in f64, for 1, 2 and 3
//! steps and every optimisation-based learner; and it matches finite differences itself.

mod meta_fd;

use meta::learners::{Objective, Unroll};
use meta::{registry, Batch, Execution, MetaParams, MetaTrainer, RateInit, Settings, Target, Task};
use meta_fd::{flat_values, problem};
use nn::{conv_net, Adam, Downsample};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use tensor::{DType, Tensor};

/// The learners that run an inner loop and follow a loss: each may recompute.
const UNROLLED: [&str; 8] = [
    "maml",
    "metasgd",
    "mamlpp",
    "fomaml",
    "fometasgd",
    "lstm",
    "similarity",
    "similarity-metasgd",
];

/// The shared small problem's settings, recomputing or not.
fn settings(steps: usize, recompute: bool) -> Settings {
    Settings {
        recompute,
        ..meta_fd::settings(steps)
    }
}

/// Equal up to rounding: each element within 1e-10 of the recorded one, relative to the
/// larger of its own size and a millionth of the gradient's largest element (so an element
/// that is zero but for rounding is not held to a relative bound).
fn assert_same(recomputed: &[f64], recorded: &[f64], what: &str) {
    assert_eq!(recomputed.len(), recorded.len(), "{what}");
    let scale = recorded.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    assert!(scale > 0.0, "{what}: an all-zero gradient checks nothing");
    for (k, (a, b)) in recomputed.iter().zip(recorded).enumerate() {
        let bound = 1e-10 * b.abs().max(1e-6 * scale);
        assert!(
            (a - b).abs() <= bound,
            "{what}: element {k}: recomputed {a}, recorded {b} (difference {:e})",
            (a - b).abs()
        );
    }
}

#[test]
fn recomputed_meta_gradient_equals_the_recorded_one_for_every_unrolled_learner() {
    for name in UNROLLED {
        for steps in 1..=3 {
            for execution in [
                Execution::Vectorised { chunk: 2 },
                Execution::PerTask { chunk: 1 },
            ] {
                let what = format!("{name}, {steps} steps, {execution:?}");
                let (mut recorded, tasks) = problem(name, &settings(steps, false), execution);
                let (mut recomputed, _) = problem(name, &settings(steps, true), execution);
                // Halfway through MAML++'s multi-step annealing: every step is scored.
                recorded.iteration = 50;
                recomputed.iteration = 50;
                let (a, b) = (
                    recomputed.meta_gradient(&tasks),
                    recorded.meta_gradient(&tasks),
                );
                assert!(
                    (a.meta_loss - b.meta_loss).abs() <= 1e-12 * b.meta_loss.abs(),
                    "{what}: loss {} vs {}",
                    a.meta_loss,
                    b.meta_loss
                );
                assert_eq!(a.query_accuracy, b.query_accuracy, "{what}");
                assert_eq!(a.memos.len(), b.memos.len(), "{what}");
                assert_same(&flat_values(&a.grads), &flat_values(&b.grads), &what);
            }
        }
    }
}

#[test]
fn per_step_rates_and_first_order_warm_up_recompute_the_same_gradient() {
    let per_step = Settings {
        per_step_alpha: true,
        ..settings(3, false)
    };
    // MAML++ while it is still first order (iteration 0 < 10).
    let warm_up = Settings {
        first_order_iters: 10,
        ..settings(3, false)
    };
    for (name, base) in [("metasgd", per_step), ("mamlpp", warm_up)] {
        let execution = Execution::PerTask { chunk: 1 };
        let (recorded, tasks) = problem(name, &base, execution);
        let recomputing = Settings {
            recompute: true,
            ..base
        };
        let (recomputed, _) = problem(name, &recomputing, execution);
        assert_same(
            &flat_values(&recomputed.meta_gradient(&tasks).grads),
            &flat_values(&recorded.meta_gradient(&tasks).grads),
            name,
        );
    }
}

#[test]
fn recomputed_meta_gradient_matches_finite_differences_through_three_steps() {
    for name in ["maml", "metasgd", "mamlpp"] {
        let (mut trainer, tasks) =
            problem(name, &settings(3, true), Execution::PerTask { chunk: 1 });
        trainer.iteration = 50;
        let analytic = flat_values(&trainer.meta_gradient(&tasks).grads);
        let numeric = meta_fd::finite_differences(&mut trainer, &tasks);
        assert_eq!(analytic.len(), numeric.len());
        for (k, (a, n)) in analytic.iter().zip(&numeric).enumerate() {
            assert!(
                (a - n).abs() <= 1e-6 + 1e-4 * n.abs(),
                "{name}: element {k}: recomputed {a}, numeric {n}"
            );
        }
    }
}

/// A 2-way task of 8×8 images, 1 support and 1 query image per class.
fn image_task(rng: &mut StdRng) -> Task {
    let mut images = || {
        let data: Vec<f64> = (0..2 * 64).map(|_| rng.random_range(0.0..1.0)).collect();
        Tensor::from_vec(data, &[2, 1, 8, 8]).unwrap()
    };
    let (support, query) = (images(), images());
    Task {
        support: Batch {
            x: support,
            y: Target::Labels(vec![0, 1]),
        },
        query: Batch {
            x: query,
            y: Target::Labels(vec![1, 0]),
        },
    }
}

#[test]
fn recomputation_through_convolutions_and_batch_norm_gives_the_recorded_gradient() {
    // The Omniglot path: conv, batch norm with the batch's statistics, ReLU, pooling.
    for name in ["maml", "metasgd"] {
        let build = |recompute: bool| {
            let settings = Settings {
                inner_steps: 3,
                inner_lr: 0.3,
                alpha_init: RateInit::Uniform {
                    low: 0.2,
                    high: 0.6,
                },
                recompute,
                ..Settings::default()
            };
            MetaTrainer::new(
                Box::new(conv_net(1, 2, 2, 8, Downsample::Stride2)),
                registry::build(name, &settings).unwrap(),
                Box::new(Adam::new(1e-3)),
                Execution::PerTask { chunk: 1 },
                DType::F64,
                &mut StdRng::seed_from_u64(3),
            )
        };
        let mut rng = StdRng::seed_from_u64(4);
        let tasks = vec![image_task(&mut rng), image_task(&mut rng)];
        assert_same(
            &flat_values(&build(true).meta_gradient(&tasks).grads),
            &flat_values(&build(false).meta_gradient(&tasks).grads),
            name,
        );
    }
}

#[test]
#[should_panic(expected = "is the result of `mul")]
fn recomputation_refuses_meta_parameters_it_would_cut_from_their_graph() {
    // θ computed from a leaf (as a hyper-gradient through meta-training would have it): the
    // recomputed meta-gradient is numbers, so it could not carry a gradient back to the leaf.
    let (trainer, tasks) = problem("maml", &settings(2, true), Execution::PerTask { chunk: 1 });
    let meta = trainer.meta.to_leaves();
    let scaled = MetaParams {
        theta: meta.theta.map(|_, v| v.mul_scalar(2.0)),
        learned: meta.learned.clone(),
    };
    let task = &tasks[0];
    let learner = registry::build("maml", &settings(2, true)).unwrap();
    let _ = learner.outer(
        trainer.model.as_ref(),
        &scaled,
        &task.support,
        &task.query,
        0,
        Default::default(),
    );
}

#[test]
fn the_recomputed_objective_is_a_direction_with_one_gradient_per_meta_parameter() {
    let (trainer, tasks) = problem(
        "metasgd",
        &settings(2, true),
        Execution::PerTask { chunk: 1 },
    );
    let task = &tasks[0];
    let meta = trainer.meta.to_leaves();
    let weights = [0.0, 1.0];
    let rule = meta::learners::rules::PerParameterRate {
        init: RateInit::Constant(0.1),
        per_step: false,
    };
    let outer = Unroll {
        model: trainer.model.as_ref(),
        rule: &rule,
        meta: &meta,
        support: &task.support,
        query: &task.query,
        tasks: 0,
        tape: meta::Tape::SecondOrder,
        weights: &weights,
    }
    .outer();
    let Objective::Direction { loss, grads } = outer.objective else {
        panic!("recomputation gives a direction");
    };
    assert!(loss.is_finite() && loss > 0.0);
    let shapes: Vec<&[usize]> = meta.vars().iter().map(|v| v.shape()).collect();
    let got: Vec<&[usize]> = grads.iter().map(|g| g.shape()).collect();
    assert_eq!(got, shapes);
    // The prediction is a constant: no graph outlives the call.
    assert!(!outer.prediction.requires_grad());
}
