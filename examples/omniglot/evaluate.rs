//! `omniglot eval` and `omniglot lake`: a trained checkpoint on new tasks.

use meta::omniglot::lake;
use meta::{task_seed, Cluster, Estimate, TaskSource};
use rand::rngs::StdRng;
use rand::SeedableRng;
use std::time::Instant;

use crate::setup;
use crate::{EvalArgs, LakeArgs};

/// Evaluates as one process, or shares the tasks among the ranks of `cluster` (each prints the
/// same numbers; only rank 0's output is shown).
pub fn eval(args: &EvalArgs, cluster: &dyn Cluster) -> Result<(), String> {
    let (learner, meta, model, trained_ways) = setup::from_checkpoint(&args.checkpoint)?;
    // A learner that makes its own classifier from the support set serves any N.
    if learner.uses_model_head() && trained_ways != args.episode.ways {
        return Err(format!(
            "{}: the model has a {trained_ways}-way head; evaluate it with --ways {trained_ways}",
            args.checkpoint.display()
        ));
    }
    // The image cache goes beside the checkpoint when that folder is writable; a read-only
    // folder (a shared or archived run) is only read: the images are decoded without a cache.
    let folder = match args.checkpoint.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => std::path::Path::new("."),
    };
    let cache = metagrad::run_folder::prepare(folder)
        .is_ok()
        .then_some(folder);
    let data = setup::load_in_turn(&args.data, cache, cluster)?;
    let test_classes = setup::classes(&data, &args.data, 0)?.test;
    let tasks = setup::sampler(&data, test_classes, &args.episode, "test")?;
    let tasks: Vec<_> = (0..args.tasks)
        .map(|k| tasks.sample(&mut StdRng::seed_from_u64(task_seed(args.seed, k))))
        .collect();
    let steps = args.inner_steps.unwrap_or(learner.inner_steps());
    let learner = learner.as_ref();
    let clock = Instant::now();
    let accuracy = meta::evaluate_tasks_among(cluster, &model, learner, &meta, steps, &tasks);
    let seconds = clock.elapsed().as_secs_f64();
    let accuracy = Estimate::of(&accuracy);
    match steps {
        0 => println!("adapted by {} (no inner steps)", learner.name()),
        _ => println!("adapted with {steps} inner step(s) of {}", learner.name()),
    }
    println!(
        "accuracy: {:.2}% ± {:.2}% ({} tasks, {}-way {}-shot)",
        100.0 * accuracy.mean,
        100.0 * accuracy.ci95,
        accuracy.count,
        args.episode.ways,
        args.episode.shots
    );
    println!("{}", speed(tasks.len(), "tasks", seconds));
    Ok(())
}

/// Lake's benchmark, the runs shared among the ranks of `cluster` as in [`eval`].
pub fn lake(args: &LakeArgs, cluster: &dyn Cluster) -> Result<(), String> {
    let (learner, meta, model, ways) = setup::from_checkpoint(&args.checkpoint)?;
    if learner.uses_model_head() && ways != lake::WAYS {
        return Err(format!(
            "{}: the benchmark is 20-way but this model has a {ways}-way head; train one with --ways 20",
            args.checkpoint.display()
        ));
    }
    let runs = lake::read_runs(&args.runs).map_err(|e| e.to_string())?;
    let steps = args.inner_steps.unwrap_or(learner.inner_steps());
    // Each run is one 20-way 1-shot task: adapt on its 20 training images, classify its tests.
    let clock = Instant::now();
    let predictions = meta::map_shared(cluster, &runs, |ours| {
        lake::predict(&model, learner.as_ref(), &meta, steps, ours)
    });
    let seconds = clock.elapsed().as_secs_f64();
    let score = lake::score(&runs, &predictions);
    let baseline = lake::score(&runs, &lake::nearest_neighbour(&runs));
    for (run, (error, nn_error)) in runs.iter().zip(score.per_run.iter().zip(&baseline.per_run)) {
        println!(
            "{}: error {error:.1}% (nearest neighbour {nn_error:.1}%)",
            run.name
        );
    }
    println!(
        "nearest-neighbour baseline error: {:.1}% ({} runs)",
        baseline.overall,
        runs.len()
    );
    println!("lake error: {:.1}% ({} runs)", score.overall, runs.len());
    println!("{}", speed(runs.len(), "runs", seconds));
    Ok(())
}

/// `evaluation speed: 600 tasks in 4.2 s (143.6 tasks/s)`: adapting and scoring only (data
/// loading and sampling excluded), on every rank together when the work is shared.
fn speed(count: usize, what: &str, seconds: f64) -> String {
    format!(
        "evaluation speed: {count} {what} in {seconds:.1} s ({:.1} {what}/s)",
        count as f64 / seconds.max(1e-9)
    )
}
