//! `omniglot eval` and `omniglot lake`: a trained checkpoint on new tasks.

use meta::omniglot::lake;
use meta::{task_seed, AlphaInit, Estimate, InnerLoop, MetaParams, TaskSource};
use rand::rngs::StdRng;
use rand::SeedableRng;
use tensor::DType;

use crate::setup;
use crate::{EvalArgs, LakeArgs};

/// θ and α of a checkpoint, shaped for its network.
fn restore(
    path: &std::path::Path,
) -> Result<(nn::layers::Sequential, MetaParams, InnerLoop, usize), String> {
    let (checkpoint, model, inner, ways) = setup::from_checkpoint(path)?;
    let template = MetaParams::init(
        &model,
        &inner,
        AlphaInit::Constant(0.0),
        DType::F32,
        &mut StdRng::seed_from_u64(0),
    );
    let flat = checkpoint
        .params_like("meta", &template.flatten())
        .map_err(|e| e.to_string())?;
    Ok((model, template.unflatten(&flat), inner, ways))
}

pub fn eval(args: &EvalArgs) -> Result<(), String> {
    let (model, meta, inner, trained_ways) = restore(&args.checkpoint)?;
    if trained_ways != args.episode.ways {
        return Err(format!(
            "{}: the model has a {trained_ways}-way head; evaluate it with --ways {trained_ways}",
            args.checkpoint.display()
        ));
    }
    let cache = args
        .checkpoint
        .parent()
        .unwrap_or(std::path::Path::new("."));
    let data = setup::load(&args.data, cache)?;
    let test_classes = setup::classes(&data, &args.data, 0)?.test;
    let tasks = setup::sampler(&data, test_classes, &args.episode, "test")?;
    let tasks: Vec<_> = (0..args.tasks)
        .map(|k| tasks.sample(&mut StdRng::seed_from_u64(task_seed(args.seed, k))))
        .collect();
    let steps = args.inner_steps.unwrap_or(inner.steps);
    let accuracy = Estimate::of(&meta::evaluate_tasks(&model, &meta, &inner, steps, &tasks));
    println!(
        "adapted with {steps} inner step(s) of {}",
        inner.algorithm.name()
    );
    println!(
        "accuracy: {:.2}% ± {:.2}% ({} tasks, {}-way {}-shot)",
        100.0 * accuracy.mean,
        100.0 * accuracy.ci95,
        accuracy.count,
        args.episode.ways,
        args.episode.shots
    );
    Ok(())
}

pub fn lake(args: &LakeArgs) -> Result<(), String> {
    let (model, meta, inner, ways) = restore(&args.checkpoint)?;
    if ways != lake::WAYS {
        return Err(format!(
            "{}: the benchmark is 20-way but this model has a {ways}-way head; train one with --ways 20",
            args.checkpoint.display()
        ));
    }
    let runs = lake::read_runs(&args.runs).map_err(|e| e.to_string())?;
    let inner = InnerLoop {
        steps: args.inner_steps.unwrap_or(inner.steps),
        ..inner
    };
    // Each run is one 20-way 1-shot task: adapt on its 20 training images, classify its tests.
    let predictions = lake::predict(&model, &meta, &inner, &runs);
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
    Ok(())
}
