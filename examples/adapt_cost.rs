//! What adapting to one new task costs, for learners of each family: the time of
//! `Learner::adapt` plus `Learner::predict` on one task (tape off, as at test time), one thread.
//!
//! ```text
//! cargo run --release --example adapt_cost            # prints one line per learner and problem
//! ```
//!
//! Timing does not depend on what the weights are, so the learners are freshly initialised:
//! sinusoid regression with the 1-40-40-1 network (K = 10, 100 query points), and 5-way 1-shot
//! on 28×28 images with MAML's conv4 (64 filters, 75 query images; random pixels stand in for
//! Omniglot). Each figure is the median, over 5 repeats, of the mean time per task of a loop.

use std::hint::black_box;
use std::time::Instant;

use autograd::{no_grad, Var};
use meta::{registry, sinusoid_eval_tasks, Learner, Settings, Sinusoid, Tape, Task};
use metagrad::synthetic::random_images;
use nn::{conv_net, mlp, Activation, Downsample, Module};
use rand::rngs::StdRng;
use rand::SeedableRng;
use tensor::DType;

/// Median over 5 repeats of the mean milliseconds per task of adapting and predicting.
fn ms_per_task(model: &dyn Module, learner: &dyn Learner, tasks: &[Task], steps: usize) -> f64 {
    let meta = learner.init(model, DType::F32, &mut StdRng::seed_from_u64(0));
    let run = |task: &Task| {
        let adapted = learner.adapt(model, &meta, &task.support, 0, steps, Tape::Off);
        let x = Var::constant(task.query.x.clone());
        no_grad(|| learner.predict(model, &meta, &adapted, &x))
    };
    black_box(run(&tasks[0])); // warm-up
    let mut times: Vec<f64> = (0..5)
        .map(|_| {
            let start = Instant::now();
            for task in tasks {
                black_box(run(task));
            }
            1e3 * start.elapsed().as_secs_f64() / tasks.len() as f64
        })
        .collect();
    times.sort_by(f64::total_cmp);
    times[2]
}

/// A 5-way task of random 28×28 images, `per_class` support and 15 query images per class.
fn image_task(rng: &mut StdRng, per_class: usize) -> Task {
    Task {
        support: random_images(rng, 5, per_class),
        query: random_images(rng, 5, 15),
    }
}

fn main() {
    let pool = rayon::ThreadPoolBuilder::new().num_threads(1).build();
    pool.expect("a one-thread pool").install(|| {
        let regressor = mlp(&[1, 40, 40, 1], Activation::Relu);
        let waves = sinusoid_eval_tasks(&Sinusoid::maml(10), 200, 1);
        println!("sinusoid, K = 10, 100 query points (ms per task)");
        for (name, steps) in [("metasgd", 1), ("maml", 1), ("mamlpp", 5), ("cnp", 0)] {
            let learner = registry::build(name, &Settings::default()).expect("registered");
            let ms = ms_per_task(&regressor, learner.as_ref(), &waves, steps);
            println!("  {name:>8} ({steps} inner steps): {ms:.3}");
        }
        // The CNP's networks are wider than the regressor; at the regressor's width 40:
        let narrow = Settings {
            cnp_width: 40,
            ..Settings::default()
        };
        let learner = registry::build("cnp", &narrow).expect("registered");
        let ms = ms_per_task(&regressor, learner.as_ref(), &waves, 0);
        println!("  {:>8} (0 inner steps, width 40): {ms:.3}", "cnp");

        let conv = conv_net(1, 64, 5, 28, Downsample::Stride2);
        let mut rng = StdRng::seed_from_u64(2);
        let images: Vec<Task> = (0..20).map(|_| image_task(&mut rng, 1)).collect();
        println!("5-way 1-shot, conv4 with 64 filters, 75 query images (ms per task)");
        for (name, steps) in [("metasgd", 1), ("maml", 5), ("pgn", 0)] {
            let learner = registry::build(name, &Settings::default()).expect("registered");
            let ms = ms_per_task(&conv, learner.as_ref(), &images, steps);
            println!("  {name:>8} ({steps} inner steps): {ms:.2}");
        }
    });
}
