//! Training, evaluation and output files.

use std::fs::File;
use std::io::{BufWriter, IsTerminal, Write};
use std::path::Path;
use std::time::Instant;

use autograd::Var;
use indicatif::{ProgressBar, ProgressStyle};
use meta::{
    adapt, sinusoid_eval_tasks, task_seed, Algorithm, AlphaInit, Estimate, Execution, InnerLoop,
    MetaParams, MetaTrainer, Sinusoid, Tasks,
};
use nn::optim::{Constant, Cosine, Schedule};
use nn::{mlp, Activation, Adam, Checkpoint, Module, Optimizer};
use rand::rngs::StdRng;
use rand::SeedableRng;
use tensor::DType;

use crate::svg::{render, Panel};
use crate::{Algo, Args, Family, LrSchedule};

fn algorithm(algo: Algo) -> Algorithm {
    match algo {
        Algo::Metasgd => Algorithm::MetaSgd,
        Algo::Maml => Algorithm::Maml,
        Algo::Fomaml => Algorithm::FoMaml,
        Algo::Fometasgd => Algorithm::FoMetaSgd,
    }
}

fn family(args: &Args) -> Sinusoid {
    match args.family {
        Family::Maml => Sinusoid::maml(args.shots as usize),
        Family::Metasgd => Sinusoid::meta_sgd(args.shots as usize),
    }
}

/// Creates `dir` and checks it is writable, before any training time is spent.
fn prepare_output(dir: &Path) -> Result<(), String> {
    let fail = |e: std::io::Error| format!("cannot write to output folder {}: {e}", dir.display());
    std::fs::create_dir_all(dir).map_err(fail)?;
    let probe = dir.join(".write-test");
    File::create(&probe).map_err(fail)?;
    std::fs::remove_file(&probe).map_err(fail)
}

pub fn run(args: &Args) -> Result<(), String> {
    let model = mlp(&[1, 40, 40, 1], Activation::Relu);
    let tasks = family(args);
    let (meta, inner, throughput) = if args.eval_only {
        let path = args
            .checkpoint
            .as_ref()
            .expect("clap requires --checkpoint with --eval-only");
        let (meta, inner) = load(path, &model, args)?;
        (meta, inner, None)
    } else {
        prepare_output(&args.out)?;
        let (meta, inner, throughput) = train(args, &model, &tasks)?;
        (meta, inner, Some(throughput))
    };

    let eval_tasks = sinusoid_eval_tasks(&tasks, args.eval_tasks as usize, args.eval_seed);
    let before = meta::evaluate_tasks(&model, &meta, &inner, 0, &eval_tasks);
    let after = meta::evaluate_tasks(&model, &meta, &inner, inner.steps, &eval_tasks);
    let (before, after) = (Estimate::of(&before), Estimate::of(&after));
    println!(
        "eval mse before adaptation: {:.3} ± {:.3}",
        before.mean, before.ci95
    );
    if !args.eval_only {
        let figure = args.out.join("tasks.svg");
        std::fs::write(
            &figure,
            figure_svg(
                &model,
                &meta,
                &inner,
                &eval_tasks[..eval_tasks.len().min(3)],
                args,
            ),
        )
        .map_err(|e| format!("{}: {e}", figure.display()))?;
        println!("figure: {}", figure.display());
    }
    if let Some(throughput) = throughput {
        println!("throughput: {throughput:.0} meta-iters/s");
    }
    println!(
        "eval mse: {:.3} ± {:.3} ({} tasks, K={})",
        after.mean, after.ci95, after.count, args.shots
    );
    Ok(())
}

fn train(
    args: &Args,
    model: &dyn Module,
    tasks: &Sinusoid,
) -> Result<(MetaParams, InnerLoop, f64), String> {
    let inner = InnerLoop {
        algorithm: algorithm(args.algo),
        steps: args.inner_steps as usize,
        lr: args.inner_lr,
        per_step_alpha: args.per_step_alpha,
    };
    let mut init_rng = StdRng::seed_from_u64(args.seed);
    let alpha_init = AlphaInit::Uniform {
        low: 0.005,
        high: 0.1,
    };
    let meta = MetaParams::init(model, &inner, alpha_init, DType::F32, &mut init_rng);
    let mut trainer = MetaTrainer {
        model: Box::new(mlp(&[1, 40, 40, 1], Activation::Relu)),
        meta,
        inner,
        optimizer: Adam::new(args.outer_lr),
        execution: Execution::Vectorised {
            chunk: args.chunk as usize,
        },
    };
    let curve_path = args.out.join("curve.csv");
    let curve = File::create(&curve_path).map_err(|e| format!("{}: {e}", curve_path.display()))?;
    let mut curve = BufWriter::new(curve);
    writeln!(curve, "iteration,meta_loss").map_err(|e| e.to_string())?;

    let iters = args.iters as usize;
    let schedule: Box<dyn Schedule> = match args.lr_schedule {
        LrSchedule::Constant => Box::new(Constant(args.outer_lr)),
        LrSchedule::Cosine => Box::new(Cosine {
            base: args.outer_lr,
            min: 0.0,
            total: iters,
        }),
    };
    let progress = Progress::new(iters);
    let started = Instant::now();
    let mut recent = 0.0;
    for iteration in 1..=iters {
        trainer
            .optimizer
            .set_learning_rate(schedule.learning_rate(iteration - 1));
        // Each iteration's tasks come from their own seed, drawn inside the parallel jobs.
        let loss = trainer
            .step_on(Tasks::Drawn {
                source: tasks,
                count: args.meta_batch as usize,
                seed: task_seed(args.seed, iteration),
            })
            .meta_loss;
        writeln!(curve, "{iteration},{loss:.6}").map_err(|e| e.to_string())?;
        // Exponential moving average over ~100 iterations, for display.
        recent = if iteration == 1 {
            loss
        } else {
            0.99 * recent + 0.01 * loss
        };
        progress.update(iteration, recent, started);
    }
    let seconds = started.elapsed().as_secs_f64();
    progress.finish();
    curve.flush().map_err(|e| e.to_string())?;
    let throughput = iters as f64 / seconds;
    println!(
        "trained {iters} meta-iterations in {seconds:.1} s; learning curve: {}",
        curve_path.display()
    );

    let checkpoint_path = args.out.join("checkpoint.safetensors");
    save(&checkpoint_path, &trainer.meta, &inner, args).map_err(|e| e.to_string())?;
    println!("checkpoint: {}", checkpoint_path.display());
    Ok((trainer.meta, inner, throughput))
}

/// A progress bar on a terminal; plain lines (twenty per run) otherwise.
struct Progress {
    bar: Option<ProgressBar>,
    total: usize,
}

impl Progress {
    fn new(total: usize) -> Progress {
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = ProgressBar::new(total as u64);
            bar.set_style(
                ProgressStyle::with_template(
                    "{bar:40} {pos}/{len} [{elapsed_precise} < {eta_precise}] {msg}",
                )
                .expect("valid template"),
            );
            bar
        });
        Progress { bar, total }
    }

    fn update(&self, iteration: usize, loss: f64, started: Instant) {
        match &self.bar {
            Some(bar) => {
                bar.set_position(iteration as u64);
                if iteration.is_multiple_of(50) {
                    bar.set_message(format!("meta-loss {loss:.3}"));
                }
            }
            None if iteration.is_multiple_of((self.total / 20).max(1)) => {
                let rate = iteration as f64 / started.elapsed().as_secs_f64();
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

fn save(path: &Path, meta: &MetaParams, inner: &InnerLoop, args: &Args) -> Result<(), nn::NnError> {
    let mut checkpoint = Checkpoint::new();
    checkpoint.add_params("meta", &meta.flatten());
    checkpoint.set_metadata("algorithm", inner.algorithm.name());
    checkpoint.set_metadata("inner_steps", inner.steps.to_string());
    checkpoint.set_metadata("inner_lr", inner.lr.to_string());
    checkpoint.set_metadata("per_step_alpha", inner.per_step_alpha.to_string());
    checkpoint.set_metadata("shots", args.shots.to_string());
    checkpoint.set_metadata("iterations", args.iters.to_string());
    checkpoint.set_metadata("seed", args.seed.to_string());
    checkpoint.save(path)
}

/// θ, α and the inner loop from a checkpoint written by this example.
fn load(path: &Path, model: &dyn Module, args: &Args) -> Result<(MetaParams, InnerLoop), String> {
    let checkpoint = Checkpoint::load(path).map_err(|e| e.to_string())?;
    let field = |key: &str| {
        checkpoint.metadata(key).ok_or_else(|| {
            format!(
                "{}: not a sinusoid checkpoint (no `{key}` in its metadata)",
                path.display()
            )
        })
    };
    let algorithm = Algorithm::parse(field("algorithm")?)
        .ok_or_else(|| format!("{}: unknown algorithm", path.display()))?;
    let number = |key: &str| {
        field(key)?
            .parse::<f64>()
            .map_err(|e| format!("{}: metadata `{key}`: {e}", path.display()))
    };
    let inner = InnerLoop {
        algorithm,
        steps: number("inner_steps")? as usize,
        lr: number("inner_lr")?,
        per_step_alpha: field("per_step_alpha")? == "true",
    };
    let template = MetaParams::init(
        model,
        &inner,
        AlphaInit::Constant(0.0),
        DType::F32,
        &mut StdRng::seed_from_u64(0),
    );
    let flat = checkpoint
        .params_like("meta", &template.flatten())
        .map_err(|e| e.to_string())?;
    let _ = args;
    Ok((template.unflatten(&flat), inner))
}

/// The figure: three evaluation tasks, before and after adaptation.
fn figure_svg(
    model: &dyn Module,
    meta: &MetaParams,
    inner: &InnerLoop,
    tasks: &[meta::Task],
    args: &Args,
) -> String {
    let panels = tasks
        .iter()
        .map(|task| {
            let predict = |params: &nn::Params| {
                model
                    .apply(params, &Var::constant(task.query.x.clone()))
                    .value()
                    .to_vec::<f64>()
            };
            let adapted = adapt(model, meta, inner, &task.support, 0, false);
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
                before: predict(&meta.theta),
                after: predict(&adapted),
                support,
            }
        })
        .collect::<Vec<_>>();
    let title = format!(
        "{} sinusoid, K = {}, {} inner step(s)",
        args.algo_name(),
        args.shots,
        inner.steps
    );
    render(&panels, &title)
}

impl Args {
    fn algo_name(&self) -> &'static str {
        algorithm(self.algo).name()
    }
}
