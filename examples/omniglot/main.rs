//! Few-shot classification on Omniglot with Meta-SGD, MAML or first-order MAML, and Lake's
//! one-shot benchmark.
//!
//! ```text
//! cargo run --release --example omniglot -- train --ways 5 --shots 1 --iters 2000
//! cargo run --release --example omniglot -- eval --checkpoint runs/omniglot/checkpoint.safetensors
//! cargo run --release --example omniglot -- lake --runs all_runs --checkpoint runs/omniglot-20way/checkpoint.safetensors
//! ```
//!
//! Data: `--data` (repeatable) points at Omniglot folders in the standard layout; by default
//! the two minimal background splits in `../shared/data/omniglot`. Training uses the MAML conv
//! net (4 × [conv 3×3 stride 2, batch norm, ReLU], linear head) and the second-order
//! meta-gradient through conv, batch norm and ReLU unless `--first-order` is given.

mod evaluate;
mod setup;
mod train;

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Parser, Debug)]
#[command(
    version,
    about = "Meta-learning on Omniglot: train, evaluate, and Lake's one-shot benchmark"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Meta-train on the training alphabets; checkpoints and validation along the way.
    Train(TrainArgs),
    /// Accuracy of a checkpoint on new tasks from the test alphabets.
    Eval(EvalArgs),
    /// Lake's 20-way one-shot benchmark on a folder of runs.
    Lake(LakeArgs),
}

/// The episode: N-way K-shot with Q queries per class.
#[derive(Args, Debug, Clone)]
pub struct EpisodeArgs {
    /// Classes per task (N).
    #[arg(long, default_value_t = 5, value_parser = positive::<usize>)]
    pub ways: usize,
    /// Support images per class (K).
    #[arg(long, default_value_t = 1, value_parser = positive::<usize>)]
    pub shots: usize,
    /// Query images per class (Q).
    #[arg(long, default_value_t = 15, value_parser = positive::<usize>)]
    pub queries: usize,
}

/// Where the images are and how alphabets are split.
#[derive(Args, Debug, Clone)]
pub struct DataArgs {
    /// An Omniglot folder (`<Alphabet>/characterNN/*.png`); repeat for several. Default: the two
    /// minimal background splits in ../shared/data/omniglot.
    #[arg(long)]
    pub data: Vec<PathBuf>,
    /// Alphabets held out for testing, comma-separated.
    #[arg(long, default_value = "Early_Aramaic,Tagalog", value_delimiter = ',')]
    pub test_alphabets: Vec<String>,
}

#[derive(Args, Debug)]
pub struct TrainArgs {
    #[command(flatten)]
    pub episode: EpisodeArgs,
    #[command(flatten)]
    pub data: DataArgs,
    /// Meta-learning algorithm.
    #[arg(long, value_enum, default_value_t = Algo::Metasgd)]
    pub algo: Algo,
    /// Drop the second-order term (first-order MAML / first-order Meta-SGD); `--algo fomaml`
    /// and `--algo fometasgd` say the same.
    #[arg(long)]
    pub first_order: bool,
    /// Tasks per meta-iteration.
    #[arg(long, default_value_t = 32, value_parser = positive::<usize>)]
    pub meta_batch: usize,
    /// Inner gradient steps during meta-training.
    #[arg(long, default_value_t = 1, value_parser = positive::<usize>)]
    pub inner_steps: usize,
    /// Inner step size: MAML's fixed α, Meta-SGD's initial α. Default 0.4 up to 5 ways, else 0.1.
    #[arg(long)]
    pub inner_lr: Option<f64>,
    /// Outer (Adam) learning rate.
    #[arg(long, default_value_t = 1e-3)]
    pub outer_lr: f64,
    /// Meta-iterations in total (a resumed run continues up to this number).
    #[arg(long, default_value_t = 2000)]
    pub iters: u64,
    /// Filters per convolution.
    #[arg(long, default_value_t = 64, value_parser = positive::<usize>)]
    pub hidden: usize,
    /// Worker threads (default: one per core). Results do not depend on it.
    #[arg(long, value_parser = positive::<usize>)]
    pub threads: Option<usize>,
    /// Seed of the initialisation, the validation split and the training tasks.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Output folder: checkpoint, learning curve, image cache.
    #[arg(long, default_value = "runs/omniglot")]
    pub out: PathBuf,
    /// Validate every this many iterations (0: only at the end).
    #[arg(long, default_value_t = 200)]
    pub eval_every: u64,
    /// Tasks per validation.
    #[arg(long, default_value_t = 100, value_parser = positive::<usize>)]
    pub eval_tasks: usize,
    /// Save a checkpoint every this many iterations (and always at the end).
    #[arg(long, default_value_t = 200, value_parser = positive::<u64>)]
    pub checkpoint_every: u64,
    /// Continue from this checkpoint (θ, α, optimiser state and iteration).
    #[arg(long)]
    pub resume: Option<PathBuf>,
}

#[derive(Args, Debug)]
pub struct EvalArgs {
    #[command(flatten)]
    pub episode: EpisodeArgs,
    #[command(flatten)]
    pub data: DataArgs,
    /// Checkpoint written by `train`.
    #[arg(long)]
    pub checkpoint: PathBuf,
    /// Inner steps when adapting (default: the number used in training).
    #[arg(long, value_parser = positive::<usize>)]
    pub inner_steps: Option<usize>,
    /// Tasks to evaluate.
    #[arg(long, default_value_t = 600, value_parser = at_least_two)]
    pub tasks: usize,
    /// Seed of the evaluation tasks.
    #[arg(long, default_value_t = 20_15)]
    pub seed: u64,
    #[arg(long, value_parser = positive::<usize>)]
    pub threads: Option<usize>,
}

#[derive(Args, Debug)]
pub struct LakeArgs {
    /// Folder holding run01 … run20 (python/one-shot-classification/all_runs.zip of the dataset).
    #[arg(long)]
    pub runs: PathBuf,
    /// A 20-way checkpoint written by `train --ways 20`.
    #[arg(long)]
    pub checkpoint: PathBuf,
    /// Inner steps when adapting (default: the number used in training).
    #[arg(long, value_parser = positive::<usize>)]
    pub inner_steps: Option<usize>,
    #[arg(long, value_parser = positive::<usize>)]
    pub threads: Option<usize>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Algo {
    Metasgd,
    Maml,
    /// First-order MAML: the same as `--algo maml --first-order`.
    Fomaml,
    /// First-order Meta-SGD: the same as `--algo metasgd --first-order`.
    Fometasgd,
}

/// A whole number ≥ 1 (clap turns the error into exit code 2).
fn positive<T: std::str::FromStr + PartialOrd + From<u8>>(text: &str) -> Result<T, String> {
    match text.parse::<T>() {
        Ok(n) if n >= T::from(1) => Ok(n),
        _ => Err(format!(
            "expected a whole number of at least 1, got `{text}`"
        )),
    }
}

/// A whole number ≥ 2 (a confidence interval needs two samples).
fn at_least_two(text: &str) -> Result<usize, String> {
    match text.parse::<usize>() {
        Ok(n) if n >= 2 => Ok(n),
        _ => Err(format!(
            "expected a whole number of at least 2, got `{text}`"
        )),
    }
}

fn main() {
    // Each subcommand runs on the worker threads, so a meta-step starts its first task on
    // the thread that runs the loop (`meta::pool`).
    let result = match Cli::parse().command {
        Command::Train(args) => meta::run_on_pool(args.threads, || train::run(&args)),
        Command::Eval(args) => meta::run_on_pool(args.threads, || evaluate::eval(&args)),
        Command::Lake(args) => meta::run_on_pool(args.threads, || evaluate::lake(&args)),
    }
    .and_then(|result| result);
    if let Err(message) = result {
        eprintln!("error: {message}");
        std::process::exit(1);
    }
}
