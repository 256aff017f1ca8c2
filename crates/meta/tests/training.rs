//! A short seeded training run must make adaptation work: a regression test whose bound could
//! fail (an untrained network adapted in one step is several times worse).

use meta::{
    evaluate_tasks, registry, sinusoid_eval_tasks, stack_tasks, Estimate, Execution, MetaTrainer,
    Settings, Sinusoid, Target, Task, TaskSource,
};
use nn::{mlp, Activation, Adam};
use rand::rngs::StdRng;
use rand::SeedableRng;
use tensor::DType;

#[test]
fn a_few_hundred_meta_sgd_iterations_beat_the_unadapted_model() {
    let model = mlp(&[1, 40, 40, 1], Activation::Relu);
    let mut rng = StdRng::seed_from_u64(0);
    let mut trainer = MetaTrainer::new(
        Box::new(mlp(&[1, 40, 40, 1], Activation::Relu)),
        registry::build("metasgd", &Settings::default()).unwrap(),
        Box::new(Adam::new(1e-3)),
        Execution::Vectorised { chunk: 13 },
        DType::F32,
        &mut rng,
    );
    let learner = registry::build("metasgd", &Settings::default()).unwrap();
    let family = Sinusoid::maml(10);
    let eval = sinusoid_eval_tasks(&family, 100, 99);
    let untrained = Estimate::of(&evaluate_tasks(
        &model,
        learner.as_ref(),
        &trainer.meta,
        1,
        &eval,
    ));

    for _ in 0..400 {
        let tasks: Vec<Task> = (0..25).map(|_| family.sample(&mut rng)).collect();
        trainer.step(&tasks);
    }
    let before = Estimate::of(&evaluate_tasks(
        &model,
        learner.as_ref(),
        &trainer.meta,
        0,
        &eval,
    ));
    let after = Estimate::of(&evaluate_tasks(
        &model,
        learner.as_ref(),
        &trainer.meta,
        1,
        &eval,
    ));
    println!("untrained {untrained:?}\nunadapted {before:?}\nadapted {after:?}");
    assert!(
        after.mean < 0.5 * untrained.mean,
        "adapted {after:?} vs untrained {untrained:?}"
    );
    assert!(
        after.mean < 0.5 * before.mean,
        "adapted {after:?} vs unadapted {before:?}"
    );
    assert!(after.mean < 1.5, "{after:?}");
}

#[test]
fn estimate_is_mean_and_normal_interval() {
    // values 1, 2, 3, 4: mean 2.5, sample std √(5/3), ci = 1.96·√(5/3)/2.
    let e = Estimate::of(&[1.0, 2.0, 3.0, 4.0]);
    assert_eq!(e.mean, 2.5);
    assert!((e.ci95 - 1.96 * (5.0f64 / 3.0).sqrt() / 2.0).abs() < 1e-12);
    assert_eq!(e.count, 4);
}

#[test]
fn sinusoid_families_respect_their_ranges() {
    let mut rng = StdRng::seed_from_u64(1);
    for family in [Sinusoid::maml(5), Sinusoid::meta_sgd(5)] {
        for _ in 0..200 {
            let wave = family.wave(&mut rng);
            assert!((0.1..5.0).contains(&wave.amplitude));
            assert!((0.0..std::f64::consts::PI).contains(&wave.phase));
            assert!((family.frequency.0..=family.frequency.1).contains(&wave.frequency));
            let batch = family.random_points(&wave, 5, &mut rng);
            assert_eq!(batch.x.shape(), &[5, 1]);
            assert!(batch
                .x
                .to_vec::<f64>()
                .iter()
                .all(|x| (-5.0..5.0).contains(x)));
        }
    }
    // The evaluation grid: 100 points from −5 to 5.
    let wave = Sinusoid::maml(5).wave(&mut rng);
    let grid = Sinusoid::maml(5).grid(&wave, 100).x.to_vec::<f64>();
    assert_eq!((grid.len(), grid[0], grid[99]), (100, -5.0, 5.0));
    // Same seed, same evaluation tasks.
    let a = sinusoid_eval_tasks(&Sinusoid::maml(5), 3, 42);
    let b = sinusoid_eval_tasks(&Sinusoid::maml(5), 3, 42);
    assert_eq!(
        a[2].support.x.to_vec::<f32>(),
        b[2].support.x.to_vec::<f32>()
    );
}

#[test]
fn stacked_sinusoid_draws_are_the_stacked_single_draws() {
    // `sample_stacked` writes straight into the stacked tensors; it must draw exactly the
    // tasks that `sample` draws from the same generators, stacked as `stack_tasks` stacks them.
    for (family, queries) in [(Sinusoid::maml(5), 5), (Sinusoid::meta_sgd(3), 7)] {
        let family = Sinusoid { queries, ..family };
        let seeds = [3u64, 1, 4, 1, 5];
        let mut rngs: Vec<StdRng> = seeds.iter().map(|&s| StdRng::seed_from_u64(s)).collect();
        let (support, query) = family.sample_stacked(&mut rngs);
        let tasks: Vec<Task> = seeds
            .iter()
            .map(|&s| family.sample(&mut StdRng::seed_from_u64(s)))
            .collect();
        let (expected_support, expected_query) = stack_tasks(&tasks);
        assert_eq!(support.x.shape(), &[5, family.shots, 1]);
        assert_eq!(query.x.shape(), &[5, queries, 1]);
        for (got, expected) in [(&support, &expected_support), (&query, &expected_query)] {
            assert_eq!(got.x.to_vec::<f32>(), expected.x.to_vec::<f32>());
            let (Target::Values(y), Target::Values(expected_y)) = (&got.y, &expected.y) else {
                panic!("sinusoid targets are values");
            };
            assert_eq!(y.shape(), expected_y.shape());
            assert_eq!(y.to_vec::<f32>(), expected_y.to_vec::<f32>());
        }
    }
}
