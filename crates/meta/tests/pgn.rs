//! The parameter-generating network: its meta-gradient (generator and trunk) against central
//! finite differences in f64, invariance to the order of the support set, tasks of any number
//! of classes with one model, and the dot-product classifier it starts as.

mod meta_fd;

use autograd::{no_grad, Var};
use meta::{registry, Batch, Execution, MetaTrainer, Settings, Tape, Target, Task};
use nn::{conv_net, Adam, Downsample, Params};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use tensor::{DType, Tensor};

const SIDE: usize = 8;

/// A conv4 trunk of 3 filters on 8×8 images with a 5-way head (which the learner ignores).
fn trainer() -> MetaTrainer {
    MetaTrainer::new(
        Box::new(conv_net(1, 3, 5, SIDE, Downsample::Stride2)),
        registry::build("pgn", &Settings::default()).unwrap(),
        Box::new(Adam::new(1e-3)),
        Execution::PerTask { chunk: 1 },
        DType::F64,
        &mut StdRng::seed_from_u64(1),
    )
}

/// Random images, `per_class` of each of `ways` classes, labels in a shuffled order.
fn images(ways: usize, per_class: usize, rng: &mut StdRng) -> Batch {
    let mut labels: Vec<usize> = (0..ways).flat_map(|c| vec![c; per_class]).collect();
    labels.shuffle(rng);
    let pixels: Vec<f64> = (0..labels.len() * SIDE * SIDE)
        .map(|_| rng.random_range(0.0..1.0))
        .collect();
    Batch {
        x: Tensor::from_vec(pixels, &[labels.len(), 1, SIDE, SIDE]).unwrap(),
        y: Target::Labels(labels),
    }
}

fn task(ways: usize, seed: u64) -> Task {
    let mut rng = StdRng::seed_from_u64(seed);
    Task {
        support: images(ways, 2, &mut rng),
        query: images(ways, 2, &mut rng),
    }
}

fn flat(params: &Params) -> Vec<f64> {
    params
        .iter()
        .flat_map(|(_, v)| v.value().to_vec::<f64>())
        .collect()
}

fn logits(trainer: &MetaTrainer, task: &Task) -> Tensor {
    let (model, learner) = (trainer.model.as_ref(), trainer.learner.as_ref());
    no_grad(|| {
        let adapted = learner.adapt(model, &trainer.meta, &task.support, 0, 0, Tape::Off);
        let x = Var::constant(task.query.x.clone());
        learner
            .predict(model, &trainer.meta, &adapted, &x)
            .value()
            .clone()
    })
}

#[test]
fn pgn_meta_gradient_matches_finite_differences() {
    let mut trainer = trainer();
    // Move the generator off its identity start, so every entry of it matters.
    let mut rng = StdRng::seed_from_u64(2);
    trainer.meta.learned = trainer.meta.learned.map(|_, v| {
        let moved: Vec<f64> = v
            .value()
            .to_vec::<f64>()
            .iter()
            .map(|x| x + rng.random_range(-0.3..0.3))
            .collect();
        Var::leaf(Tensor::from_vec(moved, v.shape()).unwrap())
    });
    let tasks = [task(3, 3), task(3, 4)];
    let report = trainer.meta_gradient(&tasks);
    let analytic = flat(&report.grads);
    let numeric = meta_fd::finite_differences(&mut trainer, &tasks);
    assert_eq!(analytic.len(), numeric.len());
    for (k, (a, n)) in analytic.iter().zip(&numeric).enumerate() {
        assert!(
            (a - n).abs() <= 1e-6 + 1e-4 * n.abs(),
            "element {k}: analytic {a}, numeric {n}"
        );
    }
    let generator = flat(&report.grads.scoped("pgn.generator"));
    assert!(generator.iter().any(|g| g.abs() > 1e-6), "{generator:?}");
    // The model's own head is not used.
    let head = trainer
        .meta
        .theta
        .names()
        .last()
        .unwrap()
        .rsplit_once('.')
        .unwrap()
        .0;
    let head_grads = flat(&report.grads.scoped(&format!("theta.{head}")));
    assert!(!head_grads.is_empty() && head_grads.iter().all(|g| *g == 0.0));
}

#[test]
fn the_order_of_the_support_set_does_not_matter() {
    let trainer = trainer();
    let original = task(4, 5);
    let Target::Labels(labels) = &original.support.y else {
        unreachable!()
    };
    let mut order: Vec<usize> = (0..labels.len()).collect();
    order.shuffle(&mut StdRng::seed_from_u64(6));
    let pixels = original.support.x.to_vec::<f64>();
    let image = SIDE * SIDE;
    let shuffled_pixels: Vec<f64> = order
        .iter()
        .flat_map(|&i| pixels[i * image..(i + 1) * image].to_vec())
        .collect();
    let shuffled = Task {
        support: Batch {
            x: Tensor::from_vec(shuffled_pixels, original.support.x.shape()).unwrap(),
            y: Target::Labels(order.iter().map(|&i| labels[i]).collect()),
        },
        query: original.query.clone(),
    };
    let (a, b) = (
        logits(&trainer, &original).to_vec::<f64>(),
        logits(&trainer, &shuffled).to_vec::<f64>(),
    );
    for (x, y) in a.iter().zip(&b) {
        assert!((x - y).abs() <= 1e-10 * (1.0 + x.abs()), "{x} vs {y}");
    }
}

#[test]
fn one_model_classifies_any_number_of_classes() {
    let trainer = trainer();
    assert!(!trainer.learner.uses_model_head());
    for ways in [2, 5, 7] {
        let t = task(ways, 10 + ways as u64);
        assert_eq!(logits(&trainer, &t).shape(), [2 * ways, ways]);
    }
}

#[test]
fn the_untrained_generator_scores_by_dot_product_with_the_class_means() {
    let trainer = trainer();
    let t = task(3, 7);
    let model = trainer.model.as_ref();
    let features = |x: &Tensor| {
        no_grad(|| model.features(&trainer.meta.theta, &Var::constant(x.clone())))
            .value()
            .to_vec::<f64>()
    };
    let (support, query) = (features(&t.support.x), features(&t.query.x));
    let d = 3;
    let Target::Labels(labels) = &t.support.y else {
        unreachable!()
    };
    let mut means = vec![0.0; 3 * d];
    for (i, &l) in labels.iter().enumerate() {
        for j in 0..d {
            means[l * d + j] += support[i * d + j] / 2.0; // two images per class
        }
    }
    let got = logits(&trainer, &t).to_vec::<f64>();
    for q in 0..6 {
        for c in 0..3 {
            let expected: f64 = (0..d).map(|j| query[q * d + j] * means[c * d + j]).sum();
            assert!(
                (got[q * 3 + c] - expected).abs() < 1e-12,
                "query {q}, class {c}"
            );
        }
    }
}

#[test]
#[should_panic(expected = "pgn: classification tasks only, but a batch of inputs [2, 1, 8, 8]")]
fn real_valued_targets_are_refused_with_the_shape() {
    let trainer = trainer();
    let x = Tensor::zeros(&[2, 1, SIDE, SIDE], DType::F64);
    let support = Batch {
        x: x.clone(),
        y: Target::Values(x),
    };
    let learner = trainer.learner.as_ref();
    learner.adapt(
        trainer.model.as_ref(),
        &trainer.meta,
        &support,
        0,
        0,
        Tape::Off,
    );
}

#[test]
fn lakes_twenty_way_runs_accept_a_five_way_model() {
    use meta::omniglot::lake;
    // Two synthetic runs of 20 classes, one image each, tested on their own training images:
    // the model's head is 5-way, and Lake's 20-way prediction and scoring run all the same.
    let trainer = trainer();
    let mut rng = StdRng::seed_from_u64(12);
    let runs: Vec<lake::Run> = (0..2)
        .map(|k| {
            let support = images(20, 1, &mut rng);
            let Target::Labels(labels) = support.y.clone() else {
                unreachable!()
            };
            lake::Run {
                name: format!("run{:02}", k + 1),
                test: support.x.clone(),
                labels,
                support,
            }
        })
        .collect();
    let predictions = lake::predict(
        trainer.model.as_ref(),
        trainer.learner.as_ref(),
        &trainer.meta,
        0,
        &runs,
    );
    assert!(predictions
        .iter()
        .all(|p| p.len() == 20 && p.iter().all(|&c| c < 20)));
    let score = lake::score(&runs, &predictions);
    assert!((0.0..=100.0).contains(&score.overall));
}
