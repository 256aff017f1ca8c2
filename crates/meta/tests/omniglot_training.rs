//! Meta-training on the real Omniglot images for a few seconds: the conv net, second-order
//! Meta-SGD through conv, batch norm and ReLU, one graph per task. (The full runs are in
//! docs/results.md; this keeps the path working in CI.)

mod omniglot_common;

use std::sync::Arc;

use meta::omniglot::{rotated, Episode, Omniglot, Sampler, Split};
use meta::{
    evaluate_tasks, registry, task_seed, Estimate, Execution, MetaTrainer, RateInit, Settings,
    TaskSource, Tasks,
};
use nn::{conv_net, Adam, Downsample};
use rand::rngs::StdRng;
use rand::SeedableRng;
use tensor::DType;

#[test]
fn a_few_meta_sgd_iterations_on_omniglot_learn_something() {
    let Some(roots) = omniglot_common::real_roots() else {
        return;
    };
    let cache = omniglot_common::scratch("training").join("cache.bin");
    let (data, _) = Omniglot::load_cached(&roots, &cache).unwrap();
    let data = Arc::new(data);
    let all: Vec<&str> = data.alphabets();
    let test = ["Early_Aramaic", "Tagalog"];
    let train: Vec<&str> = all.iter().copied().filter(|a| !test.contains(a)).collect();
    let split = Split::by_alphabet_names(&data, &train, &[], &test).unwrap();
    let episode = Episode {
        ways: 5,
        shots: 1,
        queries: 3,
    };
    let train_tasks = Sampler::new(Arc::clone(&data), rotated(&split.train), episode).unwrap();
    let test_tasks = Sampler::new(Arc::clone(&data), split.test, episode).unwrap();

    let settings = Settings {
        inner_lr: 0.4,
        alpha_init: RateInit::Constant(0.4),
        ..Settings::default()
    };
    let mut trainer = MetaTrainer::new(
        Box::new(conv_net(1, 32, 5, 28, Downsample::Stride2)),
        registry::build("metasgd", &settings).unwrap(),
        Box::new(Adam::new(1e-3)),
        Execution::PerTask { chunk: 1 },
        DType::F32,
        &mut StdRng::seed_from_u64(0),
    );
    let mut accuracy = Vec::new();
    for iteration in 0..50 {
        let report = trainer.step_on(Tasks::Drawn {
            source: &train_tasks,
            count: 8,
            seed: task_seed(7, iteration),
        });
        assert!(report.meta_loss.is_finite());
        accuracy.push(report.query_accuracy.unwrap());
    }
    // Chance is 20%, and the first iterations sit near 30%: the last ones must do better.
    let early = accuracy[..10].iter().sum::<f64>() / 10.0;
    let late = accuracy[40..].iter().sum::<f64>() / 10.0;
    println!("query accuracy: first 10 iterations {early:.3}, last 10 {late:.3}");
    assert!(
        late > early + 0.05 && late > 0.35,
        "query accuracy {early} → {late}"
    );

    // New characters from held-out alphabets.
    let tasks: Vec<_> = (0..40)
        .map(|k| test_tasks.sample(&mut StdRng::seed_from_u64(task_seed(1, k))))
        .collect();
    let held_out = Estimate::of(&evaluate_tasks(
        trainer.model.as_ref(),
        trainer.learner.as_ref(),
        &trainer.meta,
        1,
        &tasks,
    ));
    println!("held-out accuracy {held_out:?}");
    assert!(held_out.mean > 0.3, "{held_out:?}");
}
