//! The metric-based learners: prototypes and distances against a hand computation, their
//! meta-gradients against finite differences through a tiny conv net in f64, the Siamese
//! pairs, and both learners on Lake's benchmark through a checkpoint.

mod meta_fd;
mod omniglot_common;

use std::path::Path;
use std::sync::Arc;

use autograd::Var;
use meta::learners::prototypical::{negative_squared_distances, prototypes};
use meta::learners::siamese::{pair_logits, pair_targets};
use meta::omniglot::lake::{predict, read_runs, score, WAYS};
use meta::omniglot::{Class, Episode, Omniglot, Sampler};
use meta::{registry, Batch, Execution, MetaTrainer, Settings, Target, Task};
use nn::{conv_net, Adam, Downsample};
use omniglot_common::{drawing, scratch, write_dataset, write_ink, SIDE};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use tensor::{DType, Tensor};

fn var(values: &[f64], shape: &[usize]) -> Var {
    Var::leaf(Tensor::from_vec(values.to_vec(), shape).unwrap())
}

#[test]
fn prototypes_and_distances_match_a_hand_computation() {
    // Four 2-d embeddings, classes 0, 1, 0, 1 (a class's rows need not be adjacent).
    let embeddings = var(&[1.0, 2.0, 0.0, 4.0, 3.0, 0.0, 2.0, -2.0], &[4, 2]);
    let centres = prototypes(&embeddings, &[0, 1, 0, 1], 2);
    // Class 0: mean of (1, 2) and (3, 0) = (2, 1); class 1: mean of (0, 4) and (2, −2) = (1, 1).
    assert_eq!(centres.shape(), &[2, 2]);
    assert_eq!(centres.value().to_vec::<f64>(), [2.0, 1.0, 1.0, 1.0]);

    // Query (0, 0): ‖·‖² = 4 + 1 = 5 and 1 + 1 = 2; query (2, 3): 0 + 4 = 4 and 1 + 4 = 5.
    let queries = var(&[0.0, 0.0, 2.0, 3.0], &[2, 2]);
    let logits = negative_squared_distances(&queries, &centres);
    assert_eq!(logits.value().to_vec::<f64>(), [-5.0, -2.0, -4.0, -5.0]);

    // Three shots of one class and one of another: the weights are 1/3 and 1.
    let embeddings = var(&[3.0, 6.0, 9.0, 7.0], &[4, 1]);
    let centres = prototypes(&embeddings, &[0, 0, 0, 1], 2);
    assert_eq!(centres.value().to_vec::<f64>(), [6.0, 7.0]);
}

#[test]
fn pair_logits_match_a_hand_computation() {
    let queries = var(&[1.0, 2.0], &[1, 2]);
    let support = var(&[1.0, 2.0, 3.0, -1.0], &[2, 2]);
    let weight = var(&[-1.0, -0.5], &[2]);
    let bias = var(&[0.25], &[]);
    // Against itself: 0 + 0.25; against (3, −1): −1·2 − 0.5·3 + 0.25 = −3.25.
    let logits = pair_logits(&queries, &support, &weight, &bias);
    assert_eq!(logits.value().to_vec::<f64>(), [0.25, -3.25]);
}

/// A 2-way task of 8×8 images: `shots` support and 2 query images per class.
fn task(rng: &mut StdRng, shots: usize) -> Task {
    let images = |rng: &mut StdRng, n: usize| {
        let data: Vec<f64> = (0..n * 64).map(|_| rng.random_range(0.0..1.0)).collect();
        Tensor::from_vec(data, &[n, 1, 8, 8]).unwrap()
    };
    let support_labels: Vec<usize> = (0..2 * shots).map(|i| i % 2).collect();
    Task {
        support: Batch {
            x: images(rng, 2 * shots),
            y: Target::Labels(support_labels),
        },
        query: Batch {
            x: images(rng, 4),
            y: Target::Labels(vec![1, 0, 0, 1]),
        },
    }
}

/// The meta-gradient of learner `name` on a tiny conv net against central differences.
fn gradient_matches_finite_differences(name: &str) {
    // MAML's network shape, tiny: 3 filters, 8×8 inputs, a 2-way head that goes unused.
    let model = conv_net(1, 3, 2, 8, Downsample::Stride2);
    let mut rng = StdRng::seed_from_u64(5);
    let mut trainer = MetaTrainer::new(
        Box::new(model),
        registry::build(name, &Settings::default()).unwrap(),
        Box::new(Adam::new(1e-3)),
        Execution::PerTask { chunk: 1 },
        DType::F64,
        &mut rng,
    );
    let tasks = vec![task(&mut rng, 2), task(&mut rng, 1)];
    let report = trainer.meta_gradient(&tasks);
    let analytic: Vec<f64> = report
        .grads
        .iter()
        .flat_map(|(_, g)| g.value().to_vec::<f64>())
        .collect();
    let numeric = meta_fd::finite_differences(&mut trainer, &tasks);
    assert_eq!(analytic.len(), numeric.len());
    for (k, (a, n)) in analytic.iter().zip(&numeric).enumerate() {
        assert!(
            (a - n).abs() <= 1e-5 + 1e-3 * n.abs(),
            "{name}: element {k}: analytic {a}, numeric {n}"
        );
    }
    // The gradient is not trivially zero: the trunk's first convolution moves the loss.
    let first = report
        .grads
        .expect("theta.0.weight")
        .value()
        .to_vec::<f64>();
    assert!(first.iter().any(|g| g.abs() > 1e-6), "{name}: {first:?}");
}

#[test]
fn prototypical_loss_gradient_matches_finite_differences() {
    gradient_matches_finite_differences("protonet");
}

#[test]
fn siamese_loss_gradient_matches_finite_differences() {
    gradient_matches_finite_differences("siamese");
}

#[test]
fn siamese_pairs_are_balanced_and_same_exactly_where_the_classes_agree() {
    // 5-way 1-shot, 3 queries per class: 15 same pairs, 60 different ones.
    let support: Vec<usize> = vec![3, 0, 4, 1, 2];
    let query: Vec<usize> = (0..15).map(|i| i % 5).collect();
    let (targets, weights) = pair_targets(&query, &support);
    assert_eq!(targets.shape(), &[15, 5]);
    let (targets, weights) = (targets.to_vec::<f64>(), weights.to_vec::<f64>());
    let mut same_weight = 0.0;
    let mut different_weight = 0.0;
    for (i, q) in query.iter().enumerate() {
        for (j, s) in support.iter().enumerate() {
            let (target, weight) = (targets[i * 5 + j], weights[i * 5 + j]);
            if q == s {
                assert_eq!(target, 1.0);
                assert!((weight - 0.5 / 15.0).abs() < 1e-15);
                same_weight += weight;
            } else {
                assert_eq!(target, 0.0);
                assert!((weight - 0.5 / 60.0).abs() < 1e-15);
                different_weight += weight;
            }
        }
    }
    assert!((same_weight - 0.5).abs() < 1e-12 && (different_weight - 0.5).abs() < 1e-12);
}

#[test]
fn siamese_pairs_of_sampled_tasks_come_from_the_training_classes() {
    let root = scratch("siamese-pairs");
    write_dataset(&root, &["Train", "Held"], 6, 4);
    let data = Arc::new(Omniglot::load(&[&root]).unwrap());
    let training: Vec<Class> = (0..data.characters().len())
        .filter(|&c| data.characters()[c].alphabet == "Train")
        .map(Class::plain)
        .collect();
    assert_eq!(training.len(), 6);
    let episode = Episode {
        ways: 4,
        shots: 1,
        queries: 2,
    };
    let sampler = Sampler::new(data.clone(), training.clone(), episode).unwrap();
    for seed in 0..20 {
        let (task, by_label) = sampler.draw(&mut StdRng::seed_from_u64(seed));
        let labels = |batch: &Batch| match &batch.y {
            Target::Labels(l) => l.clone(),
            Target::Values(_) => unreachable!(),
        };
        let (support, query) = (labels(&task.support), labels(&task.query));
        let (targets, _) = pair_targets(&query, &support);
        let targets = targets.to_vec::<f64>();
        let same = targets.iter().filter(|&&t| t == 1.0).count();
        assert_eq!(same, 8, "one same pair per query");
        assert_eq!(targets.len() - same, 24, "N − 1 different pairs per query");
        for (i, q) in query.iter().enumerate() {
            for (j, s) in support.iter().enumerate() {
                let (a, b) = (by_label[*q], by_label[*s]);
                assert!(training.contains(&a) && training.contains(&b));
                assert_eq!(targets[i * support.len() + j] == 1.0, a == b);
            }
        }
    }
}

/// Writes Lake-format runs whose test items are their classes' training images, permuted.
fn write_runs(folder: &Path, runs: usize) {
    for r in 0..runs {
        let name = format!("run{:02}", r + 1);
        let run = folder.join(&name);
        let mut labels = String::new();
        for k in 0..WAYS {
            let class_file = run.join("training").join(format!("class{:02}.png", k + 1));
            write_ink(&class_file, SIDE, SIDE, &drawing(k + r, 0));
        }
        for i in 0..WAYS {
            let class = (i * 7 + r * 3) % WAYS;
            let item = run.join("test").join(format!("item{:02}.png", i + 1));
            write_ink(&item, SIDE, SIDE, &drawing(class + r, 0));
            labels += &format!(
                "{name}/test/item{:02}.png {name}/training/class{:02}.png\n",
                i + 1,
                class + 1
            );
        }
        std::fs::write(run.join("class_labels.txt"), labels).unwrap();
    }
}

/// A metric learner saved with a 5-way network (whose head it never uses), restored from the
/// checkpoint and scored on 20-way runs: the test items are the training images themselves,
/// so even an untrained embedding puts each at distance 0 from its class.
fn lake_scores_a_checkpoint(name: &str) {
    let folder = scratch(&format!("lake-{name}"));
    write_runs(&folder, 2);
    let runs = read_runs(&folder).unwrap();
    let network = || conv_net(1, 8, 5, 28, Downsample::Stride2);
    let trainer = MetaTrainer::new(
        Box::new(network()),
        registry::build(name, &Settings::default()).unwrap(),
        Box::new(Adam::new(1e-3)),
        Execution::PerTask { chunk: 1 },
        DType::F32,
        &mut StdRng::seed_from_u64(1),
    );
    let path = folder.join("checkpoint.safetensors");
    meta::save_training(&path, &trainer, 0, &[("ways", "5".to_string())]).unwrap();

    let (learner, meta, _) = meta::restore(&path, &network(), &Settings::default()).unwrap();
    assert_eq!(learner.name(), name);
    assert!(
        !learner.uses_model_head(),
        "{name} takes any number of classes"
    );
    let predictions = predict(&network(), learner.as_ref(), &meta, 0, &runs);
    assert!(predictions.iter().all(|p| p.len() == WAYS));
    let result = score(&runs, &predictions);
    assert_eq!(result.overall, 0.0, "{name}: {result:?}");
}

#[test]
fn lake_scores_a_prototypical_checkpoint() {
    lake_scores_a_checkpoint("protonet");
}

#[test]
fn lake_scores_a_siamese_checkpoint() {
    lake_scores_a_checkpoint("siamese");
}
