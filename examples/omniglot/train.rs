//! `omniglot train`: meta-training with progress, periodic validation and checkpoints.

use std::io::IsTerminal;
use std::time::Instant;

use indicatif::{ProgressBar, ProgressStyle};
use meta::omniglot::{Distortion, Sampler};
use meta::{registry, task_seed, Cluster, Estimate, Execution, MetaTrainer, TaskSource, Tasks};
use metagrad::nonfinite::{check_meta_loss, detect_anomaly};
use metagrad::run_folder::{self, Curve};
use rand::rngs::StdRng;
use rand::SeedableRng;
use tensor::DType;

use crate::setup;
use crate::{EpisodeArgs, TrainArgs};

/// Trains as one process, or as one rank of `cluster`: every rank takes the same steps, rank 0
/// alone writes files (its standard output is the only one shown).
pub fn run(args: &TrainArgs, cluster: &dyn Cluster) -> Result<(), String> {
    let out = &args.out;
    let root = cluster.rank() == 0;
    // Before anything slow: the folder is writable, and no checkpoint in it is replaced
    // unless the user said so (rank 0 writes; the others read the image cache it leaves).
    if root {
        run_folder::prepare(out)?;
        run_folder::refuse_to_replace(out, args.run.resume.is_some(), args.run.overwrite)?;
        run_folder::remove_stale_temporaries(out)?;
    }
    detect_anomaly(args.run.detect_anomaly);
    let data = setup::load_in_turn(&args.data, Some(out.as_path()), cluster)?;
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
    // What defines the run: recorded in every checkpoint, compared on resume (with the
    // schedule, so a resumed run continues the rates it started with).
    let mut metadata = vec![
        ("ways", ways.to_string()),
        ("shots", args.episode.shots.to_string()),
        ("queries", args.episode.queries.to_string()),
        ("hidden", args.hidden.to_string()),
        ("seed", args.seed.to_string()),
        ("test_alphabets", args.data.test_alphabets.join(",")),
        ("augment", args.augment.to_string()),
        ("outer_lr", args.outer_lr.to_string()),
        (
            "outer_optimizer",
            format!("{:?}", args.learner.outer_optimizer).to_lowercase(),
        ),
    ];
    metadata.extend(args.lr_schedule.settings(args.iters, &args.lr_decay));
    let schedule = args
        .lr_schedule
        .build(args.outer_lr, args.iters, &args.lr_decay);
    let checkpoint_path = out.join(run_folder::CHECKPOINT);
    // The checkpoint on disk that holds the run so far, if any: kept if the run fails.
    let mut last_saved = run_folder::resume_if_asked(&args.run, &mut trainer, &metadata)?;
    let start = last_saved.as_ref().map_or(0, |(iteration, _)| *iteration);
    if start >= args.iters {
        println!(
            "nothing to train: the run is at iteration {start} and --iters is {}; nothing was \
             written",
            args.iters
        );
        return Ok(());
    }
    let mut curve = match root {
        true => Some(Curve::open(
            out,
            "iteration,meta_loss,query_accuracy",
            start,
        )?),
        false => None,
    };

    // Ranks get here at different times (the others load the images only once rank 0 has
    // written their cache): meet first, so that rank 0's first meta-step does not count the
    // wait as stepping and exchange time.
    if cluster.size() > 1 {
        cluster.barrier();
    }
    let progress = Progress::new(start, args.iters);
    let started = Instant::now();
    let (mut recent_loss, mut recent_accuracy) = (f64::NAN, f64::NAN);
    // Time spent in meta-steps alone (validation and checkpoints excluded), for the throughput.
    let mut stepping = std::time::Duration::ZERO;
    // Of which exchanging chunk gradients with the other ranks, and the bytes this rank sent.
    let (mut exchange, mut sent) = (std::time::Duration::ZERO, 0);
    for iteration in start + 1..=args.iters {
        let step_started = Instant::now();
        // Iteration i (from 1) takes the schedule's rate of step i − 1.
        trainer
            .optimizer
            .set_learning_rate(schedule.learning_rate(iteration as usize - 1));
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
        if let Err(message) = check_meta_loss(
            iteration,
            report.meta_loss,
            last_saved.as_ref().map(|(i, p)| (*i, p.as_path())),
        ) {
            progress.finish();
            curve.as_mut().map(Curve::flush).transpose()?;
            return Err(message);
        }
        let accuracy = report.query_accuracy.unwrap_or(f64::NAN);
        if let Some(curve) = curve.as_mut() {
            curve.row(format_args!(
                "{iteration},{:.6},{accuracy:.4}",
                report.meta_loss
            ))?;
        }
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
        let save_now = last || iteration.is_multiple_of(args.checkpoint_every);
        if let (true, Some(curve)) = (save_now, curve.as_mut()) {
            curve.flush()?;
            meta::save_training(&checkpoint_path, &trainer, iteration, &metadata)
                .map_err(|e| e.to_string())?;
            last_saved = Some((iteration, checkpoint_path.clone()));
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
    let done = args.iters - start;
    let seconds = started.elapsed().as_secs_f64();
    progress.finish();
    if let Some(curve) = curve.as_mut() {
        curve.flush()?;
        println!(
            "trained {done} meta-iterations in {seconds:.1} s; checkpoint (iteration {}): {}; \
             learning curve: {}",
            args.iters,
            checkpoint_path.display(),
            curve.path().display()
        );
    }
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
