//! The second-order meta-gradient through convolutions, batch norm and ReLU — the path MAML
//! and Meta-SGD take on Omniglot — against finite differences through the whole inner step.

mod meta_fd;

use meta::{registry, Batch, Execution, MetaTrainer, RateInit, Settings, Target, Task};
use nn::{conv_net, Adam, Downsample};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use tensor::{DType, Tensor};

/// A 2-way task of 8×8 images: 1 support and 1 query image per class.
fn task(rng: &mut StdRng) -> Task {
    let images = |rng: &mut StdRng| {
        let data: Vec<f64> = (0..2 * 64).map(|_| rng.random_range(0.0..1.0)).collect();
        Tensor::from_vec(data, &[2, 1, 8, 8]).unwrap()
    };
    Task {
        support: Batch {
            x: images(rng),
            y: Target::Labels(vec![0, 1]),
        },
        query: Batch {
            x: images(rng),
            y: Target::Labels(vec![1, 0]),
        },
    }
}

#[test]
fn conv_net_meta_gradient_matches_finite_differences() {
    let settings = Settings {
        alpha_init: RateInit::Uniform {
            low: 0.2,
            high: 0.6,
        },
        ..Settings::default()
    };
    // MAML's network shape, tiny: 2 filters, 8×8 inputs, 2 classes.
    let model = conv_net(1, 2, 2, 8, Downsample::Stride2);
    let mut rng = StdRng::seed_from_u64(3);
    let mut trainer = MetaTrainer::new(
        Box::new(model),
        registry::build("metasgd", &settings).unwrap(),
        Box::new(Adam::new(1e-3)),
        Execution::PerTask { chunk: 1 },
        DType::F64,
        &mut rng,
    );
    let tasks = vec![task(&mut rng), task(&mut rng)];
    let analytic: Vec<f64> = trainer
        .meta_gradient(&tasks)
        .grads
        .iter()
        .flat_map(|(_, g)| g.value().to_vec::<f64>())
        .collect();

    // (finite_differences puts the meta-parameters back when it is done.)
    let numeric = meta_fd::finite_differences(&mut trainer, &tasks);
    assert_eq!(analytic.len(), numeric.len());
    for (k, (a, n)) in analytic.iter().zip(&numeric).enumerate() {
        assert!(
            (a - n).abs() <= 1e-5 + 1e-3 * n.abs(),
            "element {k}: analytic {a}, numeric {n}"
        );
    }
    // The second-order term is really there: first-order Meta-SGD gives another θ-gradient.
    trainer.learner = registry::build("fometasgd", &settings).unwrap();
    let first_order: Vec<f64> = trainer
        .meta_gradient(&tasks)
        .grads
        .iter()
        .flat_map(|(_, g)| g.value().to_vec::<f64>())
        .collect();
    let differs = analytic
        .iter()
        .zip(&first_order)
        .any(|(a, b)| (a - b).abs() > 1e-4);
    assert!(
        differs,
        "second- and first-order meta-gradients should differ"
    );
}
