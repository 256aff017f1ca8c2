//! Learning to learn by gradient descent by gradient descent (Andrychowicz et al. 2016): a
//! coordinatewise two-layer LSTM meta-trained to optimise random quadratics or a small MLP on
//! the 8×8 digits, against SGD, Nesterov momentum, RMSprop and Adam with tuned learning rates.
//!
//! ```text
//! cargo run --release --example learned_optimizer                       # quadratics, a few minutes
//! cargo run --release --example learned_optimizer -- --optimisee digits --steps 200
//! cargo run --release --example learned_optimizer -- --optimisee digits-relu \
//!     --load runs/learned_optimizer/digits/lstm.safetensors --steps 200
//! ```
//!
//! It meta-trains the LSTM (T = 100 steps in truncations of 20, Adam on its weights) on
//! fresh training problems, grid-searches each baseline's learning rate on other training
//! problems, then runs every optimiser on held-out problems for `--steps` steps and writes
//! `losses.csv`, `losses.svg` and `lstm.safetensors` to `--out`. The last lines, one per
//! optimiser, read `step <T> <optimisee> <optimiser>: <mean loss>`.

mod baselines;
mod metatrain;
mod optimisee;
mod plot;

use std::path::PathBuf;

use clap::{Parser, ValueEnum};
use meta::Tape;
use metagrad::cli::positive;
use nn::learned::{CoordinatewiseLstm, LearnedOptimizer};
use nn::{Checkpoint, Optimizer};
use rand::rngs::StdRng;
use rand::SeedableRng;

use crate::baselines::{grid_search, mean, trajectory, BASELINES};
use crate::metatrain::{meta_train, Schedule};
use crate::optimisee::{Digits, DigitsRun, Network, Problem, Quadratics, DTYPE};

/// What is optimised.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Optimisee {
    /// Random 10-d quadratics ‖Wθ − y‖².
    Quadratic,
    /// MLP 64-20-10, sigmoid, on the digits (minibatches of 128).
    Digits,
    /// The same MLP with ReLU (the LSTM is meta-trained on sigmoid).
    DigitsRelu,
    /// The MLP with 40 hidden units (the LSTM is meta-trained on 20).
    #[value(name = "digits-40")]
    Digits40,
}

impl Optimisee {
    fn name(self) -> &'static str {
        match self {
            Optimisee::Quadratic => "quadratic",
            Optimisee::Digits => "digits",
            Optimisee::DigitsRelu => "digits-relu",
            Optimisee::Digits40 => "digits-40",
        }
    }

    /// The network, for the digits optimisees.
    fn network(self) -> Network {
        match self {
            Optimisee::Digits40 => Network {
                hidden: 40,
                relu: false,
            },
            Optimisee::DigitsRelu => Network {
                hidden: 20,
                relu: true,
            },
            _ => Network {
                hidden: 20,
                relu: false,
            },
        }
    }
}

/// Meta-train a coordinatewise LSTM optimiser and compare it with tuned baselines.
#[derive(Parser, Debug)]
#[command(version, about)]
struct Args {
    /// What to optimise when evaluating; the digits variants use an LSTM meta-trained on
    /// `digits` (sigmoid, 20 hidden units).
    #[arg(long, value_enum, default_value_t = Optimisee::Quadratic)]
    optimisee: Optimisee,
    /// Steps of each evaluation run (the LSTM is meta-trained on --train-steps).
    #[arg(long, default_value_t = 100, value_parser = positive::<usize>)]
    steps: usize,
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Output folder.
    #[arg(long, default_value = "runs/learned_optimizer")]
    out: PathBuf,
    /// The digits CSV (UCI "Optical Recognition of Handwritten Digits", scikit-learn's copy).
    #[arg(long, default_value = "../shared/data/digits/digits.csv")]
    data: PathBuf,
    /// Use the LSTM saved in this checkpoint instead of meta-training one.
    #[arg(long)]
    load: Option<PathBuf>,
    /// Optimisations to meta-train on (default: 300 quadratic batches, 100 digits runs).
    #[arg(long, value_parser = positive::<usize>)]
    meta_runs: Option<usize>,
    /// Steps of each meta-training optimisation (T).
    #[arg(long, default_value_t = 100, value_parser = positive::<usize>)]
    train_steps: usize,
    /// Steps per truncation.
    #[arg(long, default_value_t = 20, value_parser = positive::<usize>)]
    truncation: usize,
    /// Adam's learning rate on the LSTM weights.
    #[arg(long, default_value_t = 3e-3, value_parser = metagrad::cli::finite_positive)]
    meta_lr: f64,
    /// Differentiate through the optimisee's gradient too (the full meta-gradient) instead of
    /// treating it as a constant.
    #[arg(long)]
    second_order: bool,
    /// Quadratics per batch (meta-training, grid search, evaluation).
    #[arg(long, default_value_t = 32, value_parser = positive::<usize>)]
    functions: usize,
    /// Held-out problems evaluated (quadratic batches or digits runs).
    #[arg(long, default_value_t = 4, value_parser = positive::<usize>)]
    eval_runs: usize,
    /// Worker threads.
    #[arg(long, default_value_t = 1)]
    threads: u64,
    /// Meta-train on each batch of quadratics as this many groups of functions, each on its
    /// own tape and thread (default: --threads, or 1 with --threads 0). The sum of the
    /// groups' meta-gradients is the batch's up to rounding; a fixed value gives the same bits
    /// for any --threads. The digits optimisees are one network each and take 1.
    #[arg(long, value_parser = positive::<usize>)]
    shards: Option<usize>,
}

fn main() {
    let args = Args::parse();
    // Its meta-training is one unrolled optimisation at a time, not a meta-batch to share: as
    // several ranks of an MPI job each would run the whole thing and write the same files.
    if let Some(launch) = distributed::launcher::launched_by_mpi().filter(|l| l.size > 1) {
        eprintln!(
            "error: learned_optimizer runs as one process, but {} started it as rank {} of {} \
             ({}); run it without mpirun",
            launch.launcher, launch.rank, launch.size, launch.variable
        );
        std::process::exit(2);
    }
    if let Err(message) =
        meta::run_on_pool(Some(args.threads as usize), || run(&args)).and_then(|r| r)
    {
        eprintln!("error: {message}");
        std::process::exit(1);
    }
}

/// Problems of one kind, drawn from a generator.
struct Source<'a> {
    optimisee: Optimisee,
    digits: Option<&'a Digits>,
    functions: usize,
}

impl<'a> Source<'a> {
    /// A fresh problem of `optimisee`'s kind with `steps` minibatches.
    fn sample(
        &self,
        optimisee: Optimisee,
        steps: usize,
        rng: &mut StdRng,
    ) -> Box<dyn Problem + 'a> {
        match (optimisee, self.digits) {
            (Optimisee::Quadratic, _) => Box::new(Quadratics::sample(self.functions, rng)),
            (o, Some(data)) => Box::new(DigitsRun::sample(data, o.network(), steps, rng)),
            (_, None) => unreachable!("digits are loaded for the digits optimisees"),
        }
    }

    /// The kind the LSTM is meta-trained on.
    fn training_kind(&self) -> Optimisee {
        match self.optimisee {
            Optimisee::Quadratic => Optimisee::Quadratic,
            _ => Optimisee::Digits,
        }
    }
}

/// How many groups each meta-training problem is cut into (`--shards`, default `--threads`
/// for quadratics), or an error naming the flag: the digits optimisees cannot be cut, and a
/// batch not into more groups than it has functions.
fn shards(args: &Args) -> Result<usize, String> {
    let quadratic = args.optimisee == Optimisee::Quadratic;
    match args.shards {
        None if quadratic => Ok((args.threads.max(1) as usize).min(args.functions)),
        None | Some(1) => Ok(1),
        Some(shards) if !quadratic => Err(format!(
            "--shards {shards}: the {} optimisee is one network whose coordinates share one \
             loss, so it cannot be cut into groups; leave --shards out",
            args.optimisee.name()
        )),
        Some(shards) if shards > args.functions => Err(format!(
            "--shards {shards}: cannot cut a batch of {} functions (--functions) into more \
             groups than functions",
            args.functions
        )),
        Some(shards) => Ok(shards),
    }
}

fn run(args: &Args) -> Result<(), String> {
    let shards = shards(args)?;
    let dir = args.out.join(args.optimisee.name());
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let digits = match args.optimisee {
        Optimisee::Quadratic => None,
        _ => Some(Digits::load(&args.data)?),
    };
    let source = Source {
        optimisee: args.optimisee,
        digits: digits.as_ref(),
        functions: args.functions,
    };
    // Three independent streams: meta-training, the grid search, the held-out evaluation.
    let mut train_rng = StdRng::seed_from_u64(args.seed);
    let mut grid_rng = StdRng::seed_from_u64(args.seed ^ 0x9e37_79b9);
    let mut eval_rng = StdRng::seed_from_u64(args.seed ^ 0x5151_7e57_0000);

    let lstm_path = dir.join("lstm.safetensors");
    let learned = match &args.load {
        Some(path) => {
            let checkpoint = Checkpoint::load(path).map_err(|e| e.to_string())?;
            LearnedOptimizer::from_checkpoint(&checkpoint).map_err(|e| e.to_string())?
        }
        None => {
            let kind = source.training_kind();
            let lstm = CoordinatewiseLstm::default();
            let mut weights = lstm.init(DTYPE, &mut train_rng);
            let schedule = Schedule {
                runs: args.meta_runs.unwrap_or(match kind {
                    Optimisee::Quadratic => 300,
                    _ => 100,
                }),
                steps: args.train_steps,
                truncation: args.truncation,
                lr: args.meta_lr,
                tape: if args.second_order {
                    Tape::SecondOrder
                } else {
                    Tape::FirstOrder
                },
                shards,
            };
            eprintln!(
                "meta-training on {} ({} runs of {} steps, truncations of {}, {:?}, {} shard{})",
                kind.name(),
                schedule.runs,
                schedule.steps,
                schedule.truncation,
                schedule.tape,
                shards,
                if shards == 1 { "" } else { "s" }
            );
            let started = std::time::Instant::now();
            let train_steps = args.train_steps;
            let truncations = meta_train(
                &lstm,
                &mut weights,
                &schedule,
                &mut |rng| source.sample(kind, train_steps, rng),
                &mut train_rng,
            );
            let seconds = started.elapsed().as_secs_f64();
            eprintln!(
                "meta-training took {seconds:.1} s: {} truncations, throughput: {:.2} meta-iters/s",
                truncations,
                truncations as f64 / seconds
            );
            LearnedOptimizer::new(lstm, &weights)
        }
    };
    learned
        .to_checkpoint()
        .save(&lstm_path)
        .map_err(|e| e.to_string())?;

    // Baselines: each learning rate chosen on training problems of the evaluated kind.
    let grid_problems: Vec<Box<dyn Problem>> = (0..2)
        .map(|_| source.sample(args.optimisee, args.steps, &mut grid_rng))
        .collect();
    let grid_refs: Vec<&dyn Problem> = grid_problems.iter().map(|p| p.as_ref()).collect();
    let tuned: Vec<(&str, f64)> = BASELINES
        .iter()
        .map(|&name| {
            let (lr, loss) = grid_search(name, &grid_refs, args.train_steps.min(args.steps));
            eprintln!("{name}: learning rate {lr} (training loss {loss:.4})");
            (name, lr)
        })
        .collect();

    // Held-out problems, the same ones for every optimiser.
    let held_out: Vec<Box<dyn Problem>> = (0..args.eval_runs)
        .map(|_| source.sample(args.optimisee, args.steps, &mut eval_rng))
        .collect();
    let mut curves: Vec<(String, Vec<f64>)> = Vec::new();
    let mut lstm_runs = Vec::new();
    for problem in &held_out {
        let mut optimizer = learned.clone();
        optimizer.reset();
        lstm_runs.push(trajectory(&mut optimizer, problem.as_ref(), args.steps));
    }
    curves.push(("lstm".into(), mean(&lstm_runs)));
    for (name, lr) in &tuned {
        let runs: Vec<Vec<f64>> = held_out
            .iter()
            .map(|p| {
                let mut optimizer: Box<dyn Optimizer> = baselines::baseline(name, *lr);
                trajectory(optimizer.as_mut(), p.as_ref(), args.steps)
            })
            .collect();
        curves.push((name.to_string(), mean(&runs)));
    }

    plot::write_csv(&dir.join("losses.csv"), &curves)?;
    let title = format!(
        "{}: mean loss over {} held-out runs",
        args.optimisee.name(),
        args.eval_runs
    );
    plot::write_svg(&dir.join("losses.svg"), &title, &curves)?;
    eprintln!(
        "wrote {}, losses.csv and losses.svg in {}",
        lstm_path.display(),
        dir.display()
    );
    for checkpoint in [20, 50, 100, 200] {
        if checkpoint < args.steps {
            let row: Vec<String> = curves
                .iter()
                .map(|(n, c)| format!("{n} {:.4}", c[checkpoint]))
                .collect();
            eprintln!("step {checkpoint}: {}", row.join(", "));
        }
    }
    for (name, curve) in &curves {
        println!(
            "step {} {} {}: {}",
            args.steps,
            args.optimisee.name(),
            name,
            curve[args.steps]
        );
    }
    Ok(())
}
