//! Training, evaluation and output files.

use std::io::IsTerminal;
use std::time::Instant;

use autograd::Var;
use indicatif::{ProgressBar, ProgressStyle};
use meta::{
    registry, sinusoid_eval_tasks, task_seed, Cluster, Estimate, Execution, Learner, MetaParams,
    MetaTrainer, RateInit, Settings, Sinusoid, Tape, Tasks,
};
use metagrad::nonfinite::{check_meta_loss, detect_anomaly};
use metagrad::run_folder::{self, Curve};
use nn::{mlp, Activation, Module};
use rand::rngs::StdRng;
use rand::SeedableRng;
use tensor::DType;

use crate::svg::{render, Panel};
use crate::{Args, Family};

/// The defaults of this example for learner `algo`: one inner step of 0.01 (MAML's sinusoid
/// setting) and Meta-SGD's α ~ U[0.005, 0.1]; MAML++ and Reptile take five steps, MAML++'s
/// multi-step loss anneals over the first tenth of the run. The conditional neural process
/// has encoder and decoder of 128 hidden units.
fn defaults(algo: &str, iters: u64) -> Settings {
    let base = Settings {
        inner_steps: 1,
        inner_lr: 0.01,
        alpha_init: RateInit::Uniform {
            low: 0.005,
            high: 0.1,
        },
        multi_step_iters: iters / 10,
        ..Settings::default()
    };
    match algo {
        "mamlpp" => Settings {
            inner_steps: 5,
            ..base
        },
        "reptile" => Settings {
            inner_steps: 5,
            inner_lr: 0.02,
            ..base
        },
        _ => base,
    }
}

fn family(args: &Args) -> Sinusoid {
    match args.family {
        Family::Maml => Sinusoid::maml(args.shots as usize),
        Family::Metasgd => Sinusoid::meta_sgd(args.shots as usize),
    }
}

/// The task whose 0-step adaptation is the prediction "before adaptation". An optimisation-based
/// learner with no steps predicts with θ whatever its support set (and a rule may read the
/// support set to plan its steps, so it keeps it). A learner with no inner steps adapts by
/// reading the support set itself, so for it "before" means no support points: the prior.
fn before_adaptation(learner: &dyn Learner, task: &meta::Task) -> meta::Task {
    if learner.inner_steps() > 0 {
        return task.clone();
    }
    let empty = task.support.x.narrow(0, 0, 0);
    meta::Task {
        support: meta::Batch {
            x: empty.clone(),
            y: meta::Target::Values(empty),
        },
        query: task.query.clone(),
    }
}

/// Trains and evaluates as one process, or as one rank of `cluster`: every rank takes the same
/// steps and evaluates its share of the tasks; rank 0 alone writes files (and its standard
/// output is the only one shown).
pub fn run(args: &Args, cluster: &dyn Cluster) -> Result<(), String> {
    let model = mlp(&[1, 40, 40, 1], Activation::Relu);
    let tasks = family(args);
    let defaults = defaults(&args.learner.algo, args.iters);
    let (learner, meta, throughput) = if args.eval_only {
        let path = args
            .checkpoint
            .as_ref()
            .expect("clap requires --checkpoint with --eval-only");
        let (learner, meta, _) =
            meta::restore(path, &model, &defaults).map_err(|e| e.to_string())?;
        (learner, meta, None)
    } else {
        // Before anything slow: the folder is writable, and no checkpoint in it is replaced
        // unless the user said so.
        if cluster.rank() == 0 {
            run_folder::prepare(&args.out)?;
            run_folder::refuse_to_replace(
                &args.out,
                args.run.resume.is_some(),
                args.run.overwrite,
            )?;
            run_folder::remove_stale_temporaries(&args.out)?;
        }
        detect_anomaly(args.run.detect_anomaly);
        train(args, &defaults, &tasks, cluster)?
    };
    let learner = learner.as_ref();
    let steps = learner.inner_steps();

    let eval_tasks = sinusoid_eval_tasks(&tasks, args.eval_tasks as usize, args.eval_seed);
    let prior_tasks: Vec<meta::Task> = eval_tasks
        .iter()
        .map(|t| before_adaptation(learner, t))
        .collect();
    let before = meta::evaluate_tasks_among(cluster, &model, learner, &meta, 0, &prior_tasks);
    let clock = std::time::Instant::now();
    let after = meta::evaluate_tasks_among(cluster, &model, learner, &meta, steps, &eval_tasks);
    let eval_seconds = clock.elapsed().as_secs_f64();
    let (before, after) = (Estimate::of(&before), Estimate::of(&after));
    println!(
        "eval mse before adaptation: {:.3} ± {:.3}",
        before.mean, before.ci95
    );
    if let Some(scores) =
        meta::evaluate_uncertainty_among(cluster, &model, learner, &meta, &eval_tasks)
    {
        let nll = Estimate::of(&scores.iter().map(|s| s.nll).collect::<Vec<_>>());
        let inside = Estimate::of(&scores.iter().map(|s| s.inside_2sigma).collect::<Vec<_>>());
        println!(
            "eval nll: {:.3} ± {:.3}; query points within ±2σ: {:.1}% ± {:.1}%",
            nll.mean,
            nll.ci95,
            100.0 * inside.mean,
            100.0 * inside.ci95
        );
    }
    if !args.eval_only && cluster.rank() == 0 {
        let figure = args.out.join("tasks.svg");
        std::fs::write(
            &figure,
            figure_svg(
                &model,
                learner,
                &meta,
                &eval_tasks[..eval_tasks.len().min(3)],
                args,
            ),
        )
        .map_err(|e| format!("{}: {e}", figure.display()))?;
        println!("figure: {}", figure.display());
    }
    if args.shifted_eval {
        shifted_eval(args, &model, learner, &meta, &eval_tasks, cluster);
    }
    if let Some(throughput) = throughput {
        println!("throughput: {throughput:.0} meta-iters/s");
    }
    // Adapting to and scoring the evaluation tasks only (no graph is recorded there).
    println!(
        "evaluation speed: {} tasks in {eval_seconds:.2} s ({:.0} tasks/s)",
        eval_tasks.len(),
        eval_tasks.len() as f64 / eval_seconds.max(1e-9)
    );
    println!(
        "eval mse: {:.3} ± {:.3} ({} tasks, K={})",
        after.mean, after.ci95, after.count, args.shots
    );
    Ok(())
}

/// What defines a run: recorded in its checkpoints, compared on resume. The cosine schedule
/// depends on the run's length, so `--iters` is part of it there.
fn run_settings(args: &Args) -> Vec<(&'static str, String)> {
    let mut settings = vec![
        ("shots", args.shots.to_string()),
        ("seed", args.seed.to_string()),
        ("family", format!("{:?}", args.family).to_lowercase()),
        ("meta_batch", args.meta_batch.to_string()),
        ("outer_lr", args.outer_lr.to_string()),
        (
            "outer_optimizer",
            format!("{:?}", args.learner.outer_optimizer).to_lowercase(),
        ),
    ];
    settings.extend(args.lr_schedule.settings(args.iters, &args.lr_decay));
    settings
}

/// Meta-trains (from scratch or from `--resume`) up to `--iters`, writing the learning curve
/// and checkpoints; returns the learner, what it learned and the throughput (none when no
/// iteration was run).
fn train(
    args: &Args,
    defaults: &Settings,
    tasks: &Sinusoid,
    cluster: &dyn Cluster,
) -> Result<Trained, String> {
    let root = cluster.rank() == 0;
    let settings = args.learner.settings(defaults.clone());
    let learner = registry::build(&args.learner.algo, &settings)?;
    let mut trainer = MetaTrainer::new(
        Box::new(mlp(&[1, 40, 40, 1], Activation::Relu)),
        learner,
        args.learner.optimizer(args.outer_lr),
        Execution::Vectorised {
            chunk: args.chunk as usize,
        },
        DType::F32,
        &mut StdRng::seed_from_u64(args.seed),
    );
    let metadata = run_settings(args);
    let checkpoint_path = args.out.join(run_folder::CHECKPOINT);
    // The checkpoint on disk that holds the run so far, if any: kept if the run fails.
    let mut last_saved = run_folder::resume_if_asked(&args.run, &mut trainer, &metadata)?;
    let start = last_saved.as_ref().map_or(0, |(iteration, _)| *iteration);
    if start >= args.iters {
        println!(
            "nothing to train: the run is at iteration {start} and --iters is {}; no checkpoint \
             or learning curve was written",
            args.iters
        );
        return Ok((trainer.learner, trainer.meta, None));
    }
    // Rank 0 alone writes the curve and the checkpoints; the other ranks take the same steps.
    let mut curve = match root {
        true => Some(Curve::open(&args.out, "iteration,meta_loss", start)?),
        false => None,
    };

    let iters = args.iters as usize;
    let schedule = args
        .lr_schedule
        .build(args.outer_lr, args.iters, &args.lr_decay);
    let progress = Progress::new(start as usize, iters);
    let started = Instant::now();
    let mut recent = 0.0;
    for iteration in start as usize + 1..=iters {
        trainer
            .optimizer
            .set_learning_rate(schedule.learning_rate(iteration - 1));
        // Each iteration's tasks come from their own seed, drawn inside the parallel jobs.
        let batch = Tasks::Drawn {
            source: tasks,
            count: args.meta_batch as usize,
            seed: task_seed(args.seed, iteration),
        };
        let loss = trainer.step_among(batch, cluster).meta_loss;
        let saved = last_saved.as_ref().map(|(i, p)| (*i, p.as_path()));
        if let Err(message) = check_meta_loss(iteration as u64, loss, saved) {
            progress.finish();
            curve.as_mut().map(Curve::flush).transpose()?;
            return Err(message);
        }
        if let Some(curve) = curve.as_mut() {
            curve.row(format_args!("{iteration},{loss:.6}"))?;
        }
        // Exponential moving average over ~100 iterations, for display.
        recent = if iteration == start as usize + 1 {
            loss
        } else {
            0.99 * recent + 0.01 * loss
        };
        progress.update(iteration, recent, started);
        let save_now =
            iteration == iters || (iteration as u64).is_multiple_of(args.checkpoint_every);
        if let (true, Some(curve)) = (save_now, curve.as_mut()) {
            curve.flush()?;
            meta::save_training(&checkpoint_path, &trainer, iteration as u64, &metadata)
                .map_err(|e| e.to_string())?;
            last_saved = Some((iteration as u64, checkpoint_path.clone()));
        }
    }
    let seconds = started.elapsed().as_secs_f64();
    progress.finish();
    let done = iters - start as usize;
    let throughput = done as f64 / seconds;
    if let Some(curve) = curve.as_mut() {
        curve.flush()?;
        println!(
            "trained {done} meta-iterations in {seconds:.1} s; learning curve: {}",
            curve.path().display()
        );
    }
    let (exchange, sent) = (cluster.exchange_time(), cluster.bytes_sent());
    if let Some(line) = distributed::communication(cluster, exchange, sent, done as u64) {
        println!("{line}");
    }
    println!(
        "checkpoint (iteration {iters}): {}",
        checkpoint_path.display()
    );
    Ok((trainer.learner, trainer.meta, Some(throughput)))
}

/// The learner, what it learned, and the training throughput (if anything was trained).
type Trained = (Box<dyn Learner>, MetaParams, Option<f64>);

/// A progress bar on a terminal; plain lines (twenty per run) otherwise.
struct Progress {
    bar: Option<ProgressBar>,
    start: usize,
    total: usize,
}

impl Progress {
    fn new(start: usize, total: usize) -> Progress {
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = ProgressBar::new(total as u64);
            bar.set_position(start as u64);
            bar.set_style(
                ProgressStyle::with_template(
                    "{bar:40} {pos}/{len} [{elapsed_precise} < {eta_precise}] {msg}",
                )
                .expect("valid template"),
            );
            bar
        });
        Progress { bar, start, total }
    }

    fn update(&self, iteration: usize, loss: f64, started: Instant) {
        match &self.bar {
            Some(bar) => {
                bar.set_position(iteration as u64);
                if iteration.is_multiple_of(50) {
                    bar.set_message(format!("meta-loss {loss:.3}"));
                }
            }
            None if iteration.is_multiple_of(((self.total - self.start) / 20).max(1)) => {
                let rate = (iteration - self.start) as f64 / started.elapsed().as_secs_f64();
                println!(
                    "iteration {iteration}/{}: meta-loss {loss:.3} ({rate:.0} it/s)",
                    self.total
                );
            }
            None => {}
        }
    }

    fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

/// Evaluation on two families the learner never saw, beside the training family's figure:
/// amplitudes in [5, 10] (the training range is [0.1, 5]) and phases in [π, 2π] (training:
/// [0, π]). For learners that choose a step per task (the similarity rule), the mean of what
/// they chose is printed too, on the training family and on each shifted one.
fn shifted_eval(
    args: &Args,
    model: &dyn Module,
    learner: &dyn Learner,
    meta: &MetaParams,
    familiar: &[meta::Task],
    cluster: &dyn Cluster,
) {
    let training = family(args);
    let pi = std::f64::consts::PI;
    let families = [
        (
            "amplitude [5, 10]",
            Sinusoid {
                amplitude: (5.0, 10.0),
                ..training.clone()
            },
        ),
        (
            "phase [π, 2π]",
            Sinusoid {
                phase: (pi, 2.0 * pi),
                ..training.clone()
            },
        ),
    ];
    let report = |label: &str, tasks: &[meta::Task]| {
        let mse = Estimate::of(&meta::evaluate_tasks_among(
            cluster,
            model,
            learner,
            meta,
            learner.inner_steps(),
            tasks,
        ));
        let mut line = format!("eval mse ({label}): {:.3} ± {:.3}", mse.mean, mse.ci95);
        let summaries: Vec<_> = tasks
            .iter()
            .map(|t| learner.summary(model, meta, &t.support))
            .collect();
        if let Some(first) = summaries.first().filter(|s| !s.is_empty()) {
            for (k, (name, _)) in first.iter().enumerate() {
                let mean = summaries.iter().map(|s| s[k].1).sum::<f64>() / tasks.len() as f64;
                line += &format!(", mean {name} {mean:.4}");
            }
        }
        println!("{line}");
    };
    report("training family", familiar);
    for (label, shifted) in &families {
        let tasks = sinusoid_eval_tasks(shifted, args.eval_tasks as usize, args.eval_seed);
        report(label, &tasks);
    }
}

/// The figure: three evaluation tasks, before and after adaptation.
fn figure_svg(
    model: &dyn Module,
    learner: &dyn Learner,
    meta: &MetaParams,
    tasks: &[meta::Task],
    args: &Args,
) -> String {
    let panels = tasks
        .iter()
        .map(|task| {
            let x = Var::constant(task.query.x.clone());
            let values = |v: Var| v.value().to_vec::<f64>();
            let steps = learner.inner_steps();
            let prior = before_adaptation(learner, task).support;
            let prior = learner.adapt(model, meta, &prior, 0, 0, Tape::Off);
            let adapted = learner.adapt(model, meta, &task.support, 0, steps, Tape::Off);
            let (before, after, sigma) = autograd::no_grad(|| {
                (
                    values(learner.predict(model, meta, &prior, &x)),
                    values(learner.predict(model, meta, &adapted, &x)),
                    learner
                        .predictive_std(model, meta, &adapted, &x)
                        .map(values),
                )
            });
            // The ±2σ band around the adapted mean, where the learner gives σ.
            let band = sigma.map(|sigma| {
                after
                    .iter()
                    .zip(&sigma)
                    .map(|(m, s)| (m - 2.0 * s, m + 2.0 * s))
                    .collect()
            });
            let truth = match &task.query.y {
                meta::Target::Values(y) => y.to_vec::<f64>(),
                meta::Target::Labels(_) => unreachable!("sinusoid tasks are regression"),
            };
            let support = match &task.support.y {
                meta::Target::Values(y) => task
                    .support
                    .x
                    .to_vec::<f64>()
                    .into_iter()
                    .zip(y.to_vec::<f64>())
                    .collect(),
                meta::Target::Labels(_) => unreachable!("sinusoid tasks are regression"),
            };
            Panel {
                xs: task.query.x.to_vec::<f64>(),
                truth,
                before,
                after,
                band,
                support,
            }
        })
        .collect::<Vec<_>>();
    let title = format!(
        "{} sinusoid, K = {}, {} inner step(s)",
        learner.name(),
        args.shots,
        learner.inner_steps()
    );
    render(&panels, &title)
}
