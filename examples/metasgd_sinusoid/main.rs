//! Meta-SGD (or any other learner) on sinusoid regression — the project's main example.
//!
//! ```text
//! cargo run --release --example metasgd_sinusoid                 # Meta-SGD, K = 10
//! cargo run --release --example metasgd_sinusoid -- --algo maml --shots 5
//! cargo run --release --example metasgd_sinusoid -- --algo mamlpp --inner-steps 5
//! cargo run --release --example metasgd_sinusoid -- --eval-only --checkpoint runs/sinusoid/checkpoint.safetensors
//! ```
//!
//! Trains θ (and whatever else the learner learns) on a stream of random sine waves, saves the
//! checkpoint, the learning curve and a figure to `--out`, then evaluates on 600 new waves.
//! An `--out` that already holds a checkpoint is refused unless `--resume` (continue it) or
//! `--overwrite` (replace it) is given. The
//! last three lines printed are `throughput: <X> meta-iters/s`,
//! `evaluation speed: 600 tasks in <s> s (<Y> tasks/s)` and
//! `eval mse: <m> ± <ci> (600 tasks, K=<K>)`.

mod run;
mod svg;

use std::path::PathBuf;

use clap::{Parser, ValueEnum};
use metagrad::cli::{at_least_two, finite_positive, positive, thread_count, LearnerArgs, RunArgs};
use metagrad::schedule::{LrSchedule, StepDecayArgs};

/// Meta-learn to regress sine waves from K points, with any learner of the registry.
#[derive(Parser, Debug)]
#[command(version, about)]
pub struct Args {
    #[command(flatten)]
    pub learner: LearnerArgs,
    #[command(flatten)]
    pub run: RunArgs,
    /// Support points per task (K); query sets have K points too during training.
    #[arg(long, default_value_t = 10, value_parser = positive::<u64>)]
    pub shots: u64,
    /// Meta-iterations (outer steps) in total (a resumed run continues up to this number).
    #[arg(long, default_value_t = 60_000, value_parser = clap::value_parser!(u64).range(..=meta::MAX_ITERATION))]
    pub iters: u64,
    /// Save a checkpoint every this many iterations (and always at the end).
    #[arg(long, default_value_t = 5_000, value_parser = positive::<u64>)]
    pub checkpoint_every: u64,
    /// Tasks per meta-iteration.
    #[arg(long, default_value_t = 25, value_parser = positive::<u64>)]
    pub meta_batch: u64,
    /// Worker threads (default: one per core; at most 256). Results do not depend on it.
    #[arg(long, value_parser = thread_count)]
    pub threads: Option<usize>,
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
    /// Outer learning rate (the starting rate under the cosine schedule).
    #[arg(long, default_value_t = 2e-3, value_parser = finite_positive)]
    pub outer_lr: f64,
    /// Outer learning-rate schedule: cosine decay from `--outer-lr` to zero over `--iters`
    /// (Loshchilov & Hutter 2017), constant, or step decay.
    #[arg(long, value_enum, default_value_t = LrSchedule::Cosine)]
    pub lr_schedule: LrSchedule,
    #[command(flatten)]
    pub lr_decay: StepDecayArgs,
    /// Tasks in the final evaluation.
    #[arg(long, default_value_t = 600, value_parser = at_least_two::<u64>)]
    pub eval_tasks: u64,
    /// Seed of the evaluation tasks (the same for every run, so runs are comparable).
    #[arg(long, default_value_t = 20_17)]
    pub eval_seed: u64,
    /// Tasks per vectorised chunk; chunks run in parallel.
    #[arg(long, default_value_t = 13, value_parser = positive::<u64>)]
    pub chunk: u64,
    /// Also evaluate on two families the learner never saw: amplitudes in [5, 10], and phases
    /// in [π, 2π]; learners that choose a step per task report it there.
    #[arg(long)]
    pub shifted_eval: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Family {
    Maml,
    Metasgd,
}

fn main() {
    let args = Args::parse();
    // One process, or one rank of an MPI job (`mpirun`, built with `--features mpi`); the
    // ranks first check that they were all given the same flags.
    let session = distributed::join().unwrap_or_else(|message| {
        eprintln!("error: {message}");
        std::process::exit(1)
    });
    let cluster = session.cluster();
    // The whole run goes on the worker threads, so a meta-step starts its first chunk on the
    // thread that runs the loop (`meta::training::threads`).
    let result = distributed::agree(cluster, &format!("{args:#?}"), &[])
        .and_then(|()| meta::run_on_pool(args.threads, || run::run(&args, cluster)))
        .and_then(|r| r);
    if let Err(message) = result {
        session.fail(&message);
    }
}
