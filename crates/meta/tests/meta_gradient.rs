//! The meta-gradient, checked three ways: against finite differences through the whole inner
//! loop; between the two ways of running a meta-batch; and, for the first-order variants,
//! against the exact term they drop.

mod meta_fd;

use autograd::{hvp, Var};
use meta::{
    Algorithm, AlphaInit, Execution, InnerLoop, MetaParams, MetaTrainer, Sinusoid, Task, TaskSource,
};
use nn::{mlp, Activation, Adam, Params};
use rand::rngs::StdRng;
use rand::SeedableRng;
use tensor::{DType, Tensor};

/// A small f64 problem: a 1-6-1 tanh network, two sinusoid tasks of 5 points.
fn problem(algorithm: Algorithm, steps: usize, execution: Execution) -> (MetaTrainer, Vec<Task>) {
    problem_with(algorithm, steps, false, execution)
}

fn problem_with(
    algorithm: Algorithm,
    steps: usize,
    per_step_alpha: bool,
    execution: Execution,
) -> (MetaTrainer, Vec<Task>) {
    let inner = InnerLoop {
        algorithm,
        steps,
        lr: 0.05,
        per_step_alpha,
    };
    let model = mlp(&[1, 6, 1], Activation::Tanh);
    let mut rng = StdRng::seed_from_u64(7);
    let meta = MetaParams::init(
        &model,
        &inner,
        AlphaInit::Uniform {
            low: 0.02,
            high: 0.1,
        },
        DType::F64,
        &mut rng,
    );
    let mut family = Sinusoid::maml(5);
    family.dtype = DType::F64;
    let tasks = (0..2).map(|_| family.sample(&mut rng)).collect();
    let trainer = MetaTrainer {
        model: Box::new(model),
        meta,
        inner,
        optimizer: Adam::new(1e-3),
        execution,
    };
    (trainer, tasks)
}

fn flat_values(params: &Params) -> Vec<f64> {
    params
        .iter()
        .flat_map(|(_, v)| v.value().to_vec::<f64>())
        .collect()
}

fn assert_close(analytic: &[f64], numeric: &[f64], what: &str) {
    assert_eq!(analytic.len(), numeric.len());
    for (k, (a, n)) in analytic.iter().zip(numeric).enumerate() {
        assert!(
            (a - n).abs() <= 1e-6 + 1e-4 * n.abs(),
            "{what}: element {k}: analytic {a}, numeric {n}"
        );
    }
}

#[test]
fn meta_sgd_gradient_matches_finite_differences_for_one_and_two_steps() {
    for steps in [1, 2] {
        for execution in [
            Execution::Vectorised { chunk: 2 },
            Execution::PerTask { chunk: 1 },
        ] {
            let (mut trainer, tasks) = problem(Algorithm::MetaSgd, steps, execution);
            let analytic = flat_values(&trainer.meta_gradient(&tasks).grads);
            let numeric = meta_fd::finite_differences(&mut trainer, &tasks);
            assert_close(
                &analytic,
                &numeric,
                &format!("Meta-SGD, {steps} step(s), {execution:?}"),
            );
        }
    }
}

#[test]
fn per_step_alpha_gradient_matches_finite_differences() {
    // Two inner steps, each with its own α: both α sets get their own gradient.
    let (mut trainer, tasks) = problem_with(
        Algorithm::MetaSgd,
        2,
        true,
        Execution::Vectorised { chunk: 2 },
    );
    assert_eq!(trainer.meta.alpha.len(), 2);
    let grads = trainer.meta_gradient(&tasks).grads;
    assert!(grads.names().any(|n| n.starts_with("alpha.1.")));
    assert_close(
        &flat_values(&grads),
        &meta_fd::finite_differences(&mut trainer, &tasks),
        "per-step α",
    );
}

#[test]
fn maml_gradient_matches_finite_differences() {
    let (mut trainer, tasks) = problem(Algorithm::Maml, 2, Execution::Vectorised { chunk: 2 });
    let analytic = flat_values(&trainer.meta_gradient(&tasks).grads);
    assert_close(
        &analytic,
        &meta_fd::finite_differences(&mut trainer, &tasks),
        "MAML, 2 steps",
    );
}

#[test]
fn vectorised_and_per_task_agree() {
    for algorithm in [
        Algorithm::MetaSgd,
        Algorithm::Maml,
        Algorithm::FoMaml,
        Algorithm::FoMetaSgd,
    ] {
        let (vectorised, tasks) = problem(algorithm, 2, Execution::Vectorised { chunk: 2 });
        let (per_task, _) = problem(algorithm, 2, Execution::PerTask { chunk: 1 });
        let (a, b) = (
            vectorised.meta_gradient(&tasks),
            per_task.meta_gradient(&tasks),
        );
        assert!((a.meta_loss - b.meta_loss).abs() < 1e-12);
        assert_close(
            &flat_values(&a.grads),
            &flat_values(&b.grads),
            &format!("{algorithm:?}"),
        );
    }
}

/// For one task and one step, the second-order and first-order θ-gradients differ by exactly
/// the Hessian term: with v = ∂L/∂θ' (what first order returns) and H the support loss's
/// Hessian at θ,
///   MAML:      ∂L/∂θ = v − α·H·v
///   Meta-SGD:  ∂L/∂θ = v − H·(α ⊙ v),   and ∂L/∂α is the same in both: −g ⊙ v.
#[test]
fn first_order_variants_drop_exactly_the_hessian_term() {
    for (full, first) in [
        (Algorithm::Maml, Algorithm::FoMaml),
        (Algorithm::MetaSgd, Algorithm::FoMetaSgd),
    ] {
        let (second_order, tasks) = problem(full, 1, Execution::PerTask { chunk: 1 });
        let (mut first_order, _) = problem(first, 1, Execution::PerTask { chunk: 1 });
        first_order.meta = second_order.meta.clone();
        let task = &tasks[..1];
        let exact = second_order.meta_gradient(task).grads;
        let approx = first_order.meta_gradient(task).grads;

        // H·(step ⊙ v) of the support loss, by reverse over reverse.
        let theta = &second_order.meta.theta;
        let v: Vec<Tensor> = approx.scoped("theta").tensors();
        let scaled: Vec<Tensor> = match full {
            Algorithm::Maml => v
                .iter()
                .map(|t| t.mul_scalar(second_order.inner.lr))
                .collect(),
            _ => v
                .iter()
                .zip(second_order.meta.alpha[0].tensors())
                .map(|(t, a)| t.mul(&a))
                .collect(),
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
        assert_close(
            &exact_theta,
            &predicted,
            &format!("{full:?} vs {first:?}: θ"),
        );
        assert!(
            exact_theta
                .iter()
                .zip(flat_values(&approx.scoped("theta")))
                .any(|(a, b)| (a - b).abs() > 1e-4),
            "the dropped term should not vanish here"
        );
        if full == Algorithm::MetaSgd {
            assert_close(
                &flat_values(&exact.scoped("alpha")),
                &flat_values(&approx.scoped("alpha")),
                "α",
            );
        }
    }
}

#[test]
fn same_seed_same_result_whatever_the_thread_count() {
    let run = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        pool.install(|| {
            let (mut trainer, _) =
                problem(Algorithm::MetaSgd, 1, Execution::Vectorised { chunk: 3 });
            let mut family = Sinusoid::maml(5);
            family.dtype = DType::F64;
            let mut rng = StdRng::seed_from_u64(3);
            for _ in 0..5 {
                let tasks: Vec<Task> = (0..8).map(|_| family.sample(&mut rng)).collect();
                trainer.step(&tasks);
            }
            flat_values(&trainer.meta.flatten().to_dtype(DType::F64))
        })
    };
    let one = run(1);
    assert_eq!(one, run(2));
    assert_eq!(one, run(3));
}
