//! Meta-SGD on sinusoid regression — the project's main example.
//!
//! ```text
//! cargo run --release --example metasgd_sinusoid                 # Meta-SGD, K = 10
//! cargo run --release --example metasgd_sinusoid -- --algo maml --shots 5
//! cargo run --release --example metasgd_sinusoid -- --eval-only --checkpoint runs/sinusoid/checkpoint.safetensors
//! ```
//!
//! Trains θ (and α) on a stream of random sine waves, saves the checkpoint, the learning curve
//! and a figure to `--out`, then evaluates on 600 new waves. The last two lines printed are
//! `throughput: <X> meta-iters/s` and `eval mse: <m> ± <ci> (600 tasks, K=<K>)`.

mod run;
mod svg;

use std::path::PathBuf;

use clap::{Parser, ValueEnum};

/// Meta-learn to regress sine waves from K points (Meta-SGD, MAML, first-order MAML).
#[derive(Parser, Debug)]
#[command(version, about)]
pub struct Args {
    /// Meta-learning algorithm.
    #[arg(long, value_enum, default_value_t = Algo::Metasgd)]
    pub algo: Algo,
    /// Support points per task (K); query sets have K points too during training.
    #[arg(long, default_value_t = 10, value_parser = positive)]
    pub shots: u64,
    /// Meta-iterations (outer steps).
    #[arg(long, default_value_t = 60_000)]
    pub iters: u64,
    /// Tasks per meta-iteration.
    #[arg(long, default_value_t = 25, value_parser = positive)]
    pub meta_batch: u64,
    /// Inner gradient steps (differentiated through all of them).
    #[arg(long, default_value_t = 1, value_parser = positive)]
    pub inner_steps: u64,
    /// Worker threads (default: one per core). Results do not depend on it.
    #[arg(long, value_parser = positive)]
    pub threads: Option<u64>,
    /// Seed of initialisation and training tasks.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Output folder for the checkpoint, learning curve and figure.
    #[arg(long, default_value = "runs/sinusoid")]
    pub out: PathBuf,
    /// Evaluate the checkpoint given by --checkpoint instead of training.
    #[arg(long, requires = "checkpoint")]
    pub eval_only: bool,
    /// Checkpoint to evaluate (with --eval-only).
    #[arg(long)]
    pub checkpoint: Option<PathBuf>,
    /// Task family: MAML's (frequency 1) or Meta-SGD's (frequency in [0.8, 1.2]).
    #[arg(long, value_enum, default_value_t = Family::Maml)]
    pub family: Family,
    /// Outer (Adam) learning rate (the starting rate under the cosine schedule).
    #[arg(long, default_value_t = 2e-3)]
    pub outer_lr: f64,
    /// Outer learning-rate schedule: cosine decay from `--outer-lr` to zero over `--iters`
    /// (Loshchilov & Hutter 2017), or constant.
    #[arg(long, value_enum, default_value_t = LrSchedule::Cosine)]
    pub lr_schedule: LrSchedule,
    /// Fixed inner step size of MAML and first-order MAML.
    #[arg(long, default_value_t = 0.01)]
    pub inner_lr: f64,
    /// Tasks in the final evaluation.
    #[arg(long, default_value_t = 600, value_parser = at_least_two)]
    pub eval_tasks: u64,
    /// Seed of the evaluation tasks (the same for every run, so runs are comparable).
    #[arg(long, default_value_t = 20_17)]
    pub eval_seed: u64,
    /// Tasks per vectorised chunk; chunks run in parallel.
    #[arg(long, default_value_t = 13, value_parser = positive)]
    pub chunk: u64,
    /// Meta-SGD: a separate learning-rate tensor for each inner step.
    #[arg(long)]
    pub per_step_alpha: bool,
}

/// A whole number ≥ 1, for counts such as `--shots` (clap turns the error into exit code 2).
fn positive(text: &str) -> Result<u64, String> {
    match text.parse::<u64>() {
        Ok(n) if n >= 1 => Ok(n),
        _ => Err(format!(
            "expected a whole number of at least 1, got `{text}`"
        )),
    }
}

/// A whole number ≥ 2 (a confidence interval needs two samples).
fn at_least_two(text: &str) -> Result<u64, String> {
    match text.parse::<u64>() {
        Ok(n) if n >= 2 => Ok(n),
        _ => Err(format!(
            "expected a whole number of at least 2, got `{text}`"
        )),
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Algo {
    Metasgd,
    Maml,
    Fomaml,
    Fometasgd,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum LrSchedule {
    Constant,
    Cosine,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Family {
    Maml,
    Metasgd,
}

fn main() {
    let args = Args::parse();
    // The whole run goes on the worker threads, so a meta-step starts its first chunk on the
    // thread that runs the loop (`meta::pool`).
    let threads = args.threads.map(|t| t as usize);
    if let Err(message) = meta::run_on_pool(threads, || run::run(&args)).and_then(|r| r) {
        eprintln!("error: {message}");
        std::process::exit(1);
    }
}
