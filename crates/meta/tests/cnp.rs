//! The conditional neural process: its Gaussian-NLL meta-gradient against central finite
//! differences in f64, the permutation invariance of its set encoder, and the prior it
//! predicts from no support points.

mod meta_fd;

use autograd::{no_grad, Var};
use meta::learners::Cnp;
use meta::{registry, Batch, Execution, Learner, MetaTrainer, Settings, Sinusoid, Tape, Target};
use meta::{Task, TaskSource};
use nn::{mlp, Activation, Adam, Params};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::SeedableRng;
use tensor::{DType, Tensor};

fn trainer(width: usize, execution: Execution, seed: u64) -> MetaTrainer {
    let settings = Settings {
        cnp_width: width,
        ..Settings::default()
    };
    MetaTrainer::new(
        Box::new(mlp(&[1, 4, 1], Activation::Tanh)),
        registry::build("cnp", &settings).unwrap(),
        Box::new(Adam::new(1e-3)),
        execution,
        DType::F64,
        &mut StdRng::seed_from_u64(seed),
    )
}

fn sinusoid_tasks(count: usize, shots: usize, seed: u64) -> Vec<Task> {
    let mut family = Sinusoid::maml(shots);
    family.dtype = DType::F64;
    let mut rng = StdRng::seed_from_u64(seed);
    (0..count).map(|_| family.sample(&mut rng)).collect()
}

fn flat(params: &Params) -> Vec<f64> {
    params
        .iter()
        .flat_map(|(_, v)| v.value().to_vec::<f64>())
        .collect()
}

#[test]
fn cnp_nll_gradient_matches_finite_differences() {
    let tasks = sinusoid_tasks(3, 5, 11);
    // The meta-training prefix sizes of these tasks: at least one task must use some pairs,
    // or the encoder would get no gradient to check.
    let used: Vec<usize> = tasks
        .iter()
        .map(|t| {
            let values = [t.support.x.to_vec::<f64>(), values(&t.support)].concat();
            Cnp::context_size(&values, 5)
        })
        .collect();
    assert!(used.iter().any(|&n| n > 0), "prefix sizes {used:?}");
    for execution in [
        Execution::Vectorised { chunk: 2 },
        Execution::PerTask { chunk: 1 },
    ] {
        let mut trainer = trainer(3, execution, 5);
        let report = trainer.meta_gradient(&tasks);
        let analytic = flat(&report.grads);
        let numeric = meta_fd::finite_differences(&mut trainer, &tasks);
        assert_eq!(analytic.len(), numeric.len());
        for (k, (a, n)) in analytic.iter().zip(&numeric).enumerate() {
            assert!(
                (a - n).abs() <= 1e-6 + 1e-4 * n.abs(),
                "{execution:?}: element {k}: analytic {a}, numeric {n}"
            );
        }
        // θ (the unused regressor) gets nothing; the encoder and decoder do.
        assert!(flat(&report.grads.scoped("theta"))
            .iter()
            .all(|g| *g == 0.0));
        for part in ["cnp.encoder", "cnp.decoder"] {
            let g = flat(&report.grads.scoped(part));
            assert!(g.iter().any(|g| g.abs() > 1e-8), "{part}: no gradient");
        }
    }
}

fn values(batch: &Batch) -> Vec<f64> {
    match &batch.y {
        Target::Values(y) => y.to_vec::<f64>(),
        Target::Labels(_) => unreachable!("sinusoid tasks are regression"),
    }
}

/// `batch`'s rows in the order `order`.
fn reordered(batch: &Batch, order: &[usize]) -> Batch {
    let pick = |t: &Tensor| {
        let v = t.to_vec::<f64>();
        let picked: Vec<f64> = order.iter().map(|&i| v[i]).collect();
        Tensor::from_vec(picked, t.shape()).unwrap()
    };
    Batch {
        x: pick(&batch.x),
        y: Target::Values(pick(
            &Tensor::from_vec(values(batch), batch.x.shape()).unwrap(),
        )),
    }
}

#[test]
fn shuffling_the_support_set_leaves_r_and_the_prediction_unchanged() {
    let trainer = trainer(16, Execution::PerTask { chunk: 1 }, 2);
    let (model, learner, meta) = (
        trainer.model.as_ref(),
        trainer.learner.as_ref(),
        &trainer.meta,
    );
    let task = &sinusoid_tasks(1, 10, 4)[0];
    let mut order: Vec<usize> = (0..10).collect();
    order.shuffle(&mut StdRng::seed_from_u64(9));
    assert_ne!(order, (0..10).collect::<Vec<_>>());
    let shuffled = reordered(&task.support, &order);
    let x = Var::constant(task.query.x.clone());
    let run = |support: &Batch| {
        no_grad(|| {
            let adapted = learner.adapt(model, meta, support, 0, 0, Tape::Off);
            let mean = learner.predict(model, meta, &adapted, &x);
            let sigma = learner.predictive_std(model, meta, &adapted, &x).unwrap();
            (
                flat(&adapted.params),
                flat(&Params::from_iter([("m", mean), ("s", sigma)])),
            )
        })
    };
    let (r, out) = run(&task.support);
    let (r_shuffled, out_shuffled) = run(&shuffled);
    // Sums in another order: equal up to rounding, not bit for bit.
    for (a, b) in r
        .iter()
        .zip(&r_shuffled)
        .chain(out.iter().zip(&out_shuffled))
    {
        assert!((a - b).abs() <= 1e-12 * (1.0 + a.abs()), "{a} vs {b}");
    }
    // And the representation does depend on the pairs themselves.
    let mut other = task.support.clone();
    other.y = Target::Values(Tensor::from_vec(vec![0.0; 10], &[10, 1]).unwrap());
    let (r_other, _) = run(&other);
    assert!(r.iter().zip(&r_other).any(|(a, b)| (a - b).abs() > 1e-6));
}

#[test]
fn zero_support_points_predict_the_prior() {
    let trainer = trainer(16, Execution::PerTask { chunk: 1 }, 3);
    let (model, learner, meta) = (
        trainer.model.as_ref(),
        trainer.learner.as_ref(),
        &trainer.meta,
    );
    let tasks = sinusoid_tasks(2, 5, 6);
    let prior = |task: &Task| {
        let empty = Batch {
            x: task.support.x.narrow(0, 0, 0),
            y: Target::Values(task.support.x.narrow(0, 0, 0)),
        };
        no_grad(|| {
            let adapted = learner.adapt(model, meta, &empty, 0, 0, Tape::Off);
            let x = Var::constant(task.query.x.clone());
            let mean = learner.predict(model, meta, &adapted, &x);
            let sigma = learner.predictive_std(model, meta, &adapted, &x).unwrap();
            assert_eq!(mean.shape(), task.query.x.shape());
            (mean.value().to_vec::<f64>(), sigma.value().to_vec::<f64>())
        })
    };
    let (mean, sigma) = prior(&tasks[0]);
    assert!(mean.iter().all(|m| m.is_finite()));
    assert!(sigma
        .iter()
        .all(|s| s.is_finite() && *s >= meta::learners::SIGMA_MIN));
    // The prior is the decoder at r = 0: the same function of x for every task.
    let mut second = tasks[1].clone();
    second.query.x = tasks[0].query.x.clone();
    assert_eq!(prior(&second), (mean, sigma));
    // Meta-training with empty support sets runs too (every prefix is then empty).
    let empty_tasks: Vec<Task> = tasks
        .iter()
        .map(|t| Task {
            support: Batch {
                x: t.support.x.narrow(0, 0, 0),
                y: Target::Values(t.support.x.narrow(0, 0, 0)),
            },
            query: t.query.clone(),
        })
        .collect();
    let report = trainer.meta_gradient(&empty_tasks);
    assert!(report.meta_loss.is_finite());
    assert!(flat(&report.grads.scoped("cnp.encoder"))
        .iter()
        .all(|g| *g == 0.0));
}

#[test]
fn the_training_prefix_covers_every_size_from_zero_to_k() {
    let mut seen = [0usize; 6];
    for task in sinusoid_tasks(300, 5, 8) {
        let values = [task.support.x.to_vec::<f64>(), values(&task.support)].concat();
        seen[Cnp::context_size(&values, 5)] += 1;
    }
    // 300 draws over 6 sizes: about 50 each.
    assert!(seen.iter().all(|&n| (25..=80).contains(&n)), "{seen:?}");
}

#[test]
#[should_panic(
    expected = "cnp: regression tasks only, but a batch of inputs [2, 1] has class labels"
)]
fn class_labels_are_refused_with_the_shape() {
    let trainer = trainer(4, Execution::PerTask { chunk: 1 }, 0);
    let labels = Batch {
        x: Tensor::zeros(&[2, 1], DType::F64),
        y: Target::Labels(vec![0, 1]),
    };
    let learner: &dyn Learner = trainer.learner.as_ref();
    learner.adapt(
        trainer.model.as_ref(),
        &trainer.meta,
        &labels,
        0,
        0,
        Tape::Off,
    );
}

#[test]
fn a_checkpoint_restores_the_cnp_with_its_width() {
    // Checkpoints restore in f32.
    let trainer = MetaTrainer::new(
        Box::new(mlp(&[1, 4, 1], Activation::Tanh)),
        registry::build(
            "cnp",
            &Settings {
                cnp_width: 8,
                ..Settings::default()
            },
        )
        .unwrap(),
        Box::new(Adam::new(1e-3)),
        Execution::PerTask { chunk: 1 },
        DType::F32,
        &mut StdRng::seed_from_u64(1),
    );
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("cnp-checkpoint");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("checkpoint.safetensors");
    meta::save_training(&path, &trainer, 3, &[]).unwrap();
    // The defaults say width 128: the recorded 8 must win, or the shapes would not match.
    let model = mlp(&[1, 4, 1], Activation::Tanh);
    let (learner, restored, _) = meta::restore(&path, &model, &Settings::default()).unwrap();
    assert_eq!(learner.name(), "cnp");
    assert!(learner
        .settings()
        .contains(&("cnp_width".to_string(), "8".to_string())));
    let as_f64 = |p: &Params| -> Vec<f64> {
        p.iter()
            .flat_map(|(_, v)| v.value().to_dtype(DType::F64).to_vec::<f64>())
            .collect()
    };
    let (saved, loaded) = (as_f64(&trainer.meta.learned), as_f64(&restored.learned));
    assert_eq!(saved.len(), loaded.len());
    assert_eq!(saved, loaded);
}
