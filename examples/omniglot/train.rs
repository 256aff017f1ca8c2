//! `omniglot train`: meta-training with progress, periodic validation and checkpoints.

use std::fs::OpenOptions;
use std::io::{IsTerminal, Write};
use std::time::Instant;

use indicatif::{ProgressBar, ProgressStyle};
use meta::omniglot::{Distortion, Sampler};
use meta::{registry, task_seed, Cluster, Estimate, Execution, MetaTrainer, TaskSource, Tasks};
use rand::rngs::StdRng;
use rand::SeedableRng;
use tensor::DType;

use crate::setup;
use crate::{EpisodeArgs, TrainArgs};

/// Trains as one process, or as one rank of `cluster`: every rank takes the same steps, rank 0
/// alone writes files (its standard output is the only one shown).
pub fn run(args: &TrainArgs, cluster: &dyn Cluster) -> Result<(), String> {
    let out = &args.out;
    std::fs::create_dir_all(out)
        .map_err(|e| format!("cannot create output folder {}: {e}", out.display()))?;
    let data = setup::load_in_turn(&args.data, out, cluster)?;
    let setup::Classes {
        train: train_classes,
        validation: validation_classes,
        test: test_classes,
    } = setup::classes(&data, &args.data, args.seed)?;
    println!(
        "classes: {} for training (with rotations), {} for validation, {} for testing ({})",
        train_classes.len(),
        validation_classes.len(),
        test_classes.len(),
        args.data.test_alphabets.join(", ")
    );
    let mut train_tasks = setup::sampler(&data, train_classes, &args.episode, "training")?;
    if args.augment {
        train_tasks = train_tasks.with_distortion(Distortion::koch());
    }
    let ways = args.episode.ways;
    let validation_episode = EpisodeArgs {
        ways: args.validation_ways.unwrap_or(ways),
        ..args.episode.clone()
    };
    let validation_tasks =
        setup::sampler(&data, validation_classes, &validation_episode, "validation")?;

    let algo = match (args.learner.algo.as_str(), args.first_order) {
        (name, false) => name,
        ("maml" | "fomaml", true) => "fomaml",
        ("metasgd" | "fometasgd", true) => "fometasgd",
        (name, true) => {
            return Err(format!(
                "--first-order applies to maml and metasgd, not to `{name}`"
            ))
        }
    };
    let settings = args
        .learner
        .settings(setup::defaults(algo, ways, args.iters));
    let learner = registry::build(algo, &settings)?;
    if learner.uses_model_head() && validation_episode.ways != ways {
        return Err(format!(
            "`{algo}` classifies through a {ways}-way head: it cannot validate on {}-way tasks",
            validation_episode.ways
        ));
    }
    let mut trainer = MetaTrainer::new(
        Box::new(setup::network(args.hidden, ways)),
        learner,
        args.learner.optimizer(args.outer_lr),
        Execution::PerTask { chunk: 1 },
        DType::F32,
        &mut StdRng::seed_from_u64(args.seed),
    );
    println!(
        "model: {} parameters (θ); learner {} learns {} more",
        trainer.meta.theta.numel(),
        trainer.learner.name(),
        trainer.meta.learned.numel()
    );
    let mut start = 0;
    if let Some(path) = &args.resume {
        let (iteration, _) =
            meta::resume_training(path, &mut trainer).map_err(|e| e.to_string())?;
        println!("resumed from {} at iteration {iteration}", path.display());
        start = iteration;
    }

    let checkpoint_path = out.join("checkpoint.safetensors");
    let curve_path = out.join("curve.csv");
    let root = cluster.rank() == 0;
    let mut curve: Box<dyn Write> = match root {
        true => Box::new(
            OpenOptions::new()
                .create(true)
                .append(start > 0)
                .write(true)
                .truncate(start == 0)
                .open(&curve_path)
                .map_err(|e| format!("{}: {e}", curve_path.display()))?,
        ),
        false => Box::new(std::io::sink()),
    };
    if start == 0 {
        writeln!(curve, "iteration,meta_loss,query_accuracy").map_err(|e| e.to_string())?;
    }
    let metadata = || {
        vec![
            ("ways", ways.to_string()),
            ("shots", args.episode.shots.to_string()),
            ("queries", args.episode.queries.to_string()),
            ("hidden", args.hidden.to_string()),
            ("seed", args.seed.to_string()),
            ("test_alphabets", args.data.test_alphabets.join(",")),
            ("augment", args.augment.to_string()),
        ]
    };

    let progress = Progress::new(start, args.iters);
    let started = Instant::now();
    let (mut recent_loss, mut recent_accuracy) = (f64::NAN, f64::NAN);
    // Time spent in meta-steps alone (validation and checkpoints excluded), for the throughput.
    let mut stepping = std::time::Duration::ZERO;
    // Of which exchanging chunk gradients with the other ranks, and the bytes this rank sent.
    let (mut exchange, mut sent) = (std::time::Duration::ZERO, 0);
    for iteration in start + 1..=args.iters {
        let step_started = Instant::now();
        let exchanged = (cluster.exchange_time(), cluster.bytes_sent());
        let tasks = Tasks::Drawn {
            source: &train_tasks,
            count: args.meta_batch,
            seed: task_seed(args.seed, iteration as usize),
        };
        let report = trainer.step_among(tasks, cluster);
        stepping += step_started.elapsed();
        exchange += cluster.exchange_time() - exchanged.0;
        sent += cluster.bytes_sent() - exchanged.1;
        let accuracy = report.query_accuracy.unwrap_or(f64::NAN);
        writeln!(curve, "{iteration},{:.6},{accuracy:.4}", report.meta_loss)
            .map_err(|e| e.to_string())?;
        // Moving averages over ~20 iterations, for display.
        let blend = |old: f64, new: f64| {
            if old.is_nan() {
                new
            } else {
                0.95 * old + 0.05 * new
            }
        };
        (recent_loss, recent_accuracy) = (
            blend(recent_loss, report.meta_loss),
            blend(recent_accuracy, accuracy),
        );
        progress.update(iteration, recent_loss, recent_accuracy, started);

        let last = iteration == args.iters;
        if root && (last || iteration.is_multiple_of(args.checkpoint_every)) {
            meta::save_training(&checkpoint_path, &trainer, iteration, &metadata())
                .map_err(|e| e.to_string())?;
        }
        if last || (args.eval_every > 0 && iteration.is_multiple_of(args.eval_every)) {
            let accuracy = validate(&trainer, &validation_tasks, args.eval_tasks, cluster);
            progress.println(format!(
                "iteration {iteration}: validation accuracy {:.1}% ± {:.1}% ({} tasks)",
                100.0 * accuracy.mean,
                100.0 * accuracy.ci95,
                accuracy.count
            ));
        }
    }
    let done = args.iters.saturating_sub(start);
    let seconds = started.elapsed().as_secs_f64();
    progress.finish();
    println!(
        "trained {done} meta-iterations in {seconds:.1} s; checkpoint: {}",
        checkpoint_path.display()
    );
    println!(
        "throughput: {:.3} meta-iters/s (meta-steps only)",
        done as f64 / stepping.as_secs_f64()
    );
    if let Some(line) = distributed::communication(cluster, exchange, sent, done) {
        println!("{line}");
    }
    Ok(())
}

/// Accuracy on `count` validation tasks (always the same ones), adapting as in training.
fn validate(
    trainer: &MetaTrainer,
    tasks: &Sampler,
    count: usize,
    cluster: &dyn Cluster,
) -> Estimate {
    let tasks: Vec<_> = (0..count)
        .map(|k| tasks.sample(&mut StdRng::seed_from_u64(task_seed(0xE7A1, k))))
        .collect();
    Estimate::of(&meta::evaluate_tasks_among(
        cluster,
        trainer.model.as_ref(),
        trainer.learner.as_ref(),
        &trainer.meta,
        trainer.learner.inner_steps(),
        &tasks,
    ))
}

/// A progress bar with ETA, loss and accuracy on a terminal; plain lines otherwise.
struct Progress {
    bar: Option<ProgressBar>,
    start: u64,
    total: u64,
}

impl Progress {
    fn new(start: u64, total: u64) -> Progress {
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = ProgressBar::new(total);
            bar.set_position(start);
            bar.set_style(
                ProgressStyle::with_template(
                    "{bar:30} {pos}/{len} [{elapsed_precise} < {eta_precise}] {msg}",
                )
                .expect("valid template"),
            );
            bar
        });
        Progress { bar, start, total }
    }

    fn update(&self, iteration: u64, loss: f64, accuracy: f64, started: Instant) {
        let message = format!(
            "meta-loss {loss:.3}, query accuracy {:.1}%",
            100.0 * accuracy
        );
        match &self.bar {
            Some(bar) => {
                bar.set_position(iteration);
                bar.set_message(message);
            }
            None if iteration.is_multiple_of(((self.total - self.start) / 20).max(1)) => {
                let rate = (iteration - self.start) as f64 / started.elapsed().as_secs_f64();
                println!(
                    "iteration {iteration}/{}: {message} ({rate:.2} it/s)",
                    self.total
                );
            }
            None => {}
        }
    }

    fn println(&self, line: String) {
        match &self.bar {
            Some(bar) => bar.println(line),
            None => println!("{line}"),
        }
    }

    fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
