//! Few-shot classification on Omniglot with any learner of the registry (Meta-SGD, MAML,
//! MAML++, Reptile, …), and Lake's one-shot benchmark.
//!
//! ```text
//! cargo run --release --example omniglot -- train --ways 5 --shots 1 --iters 2000
//! cargo run --release --example omniglot -- eval --checkpoint runs/omniglot/checkpoint.safetensors
//! cargo run --release --example omniglot -- lake --runs all_runs --checkpoint runs/omniglot-20way/checkpoint.safetensors
//! cargo run --release --example omniglot -- train --algo protonet --ways 60 --queries 5 --meta-batch 1
//! cargo run --release --example omniglot -- train --algo protonet --ways 60 --queries 5 --meta-batch 1 --augment --lr-schedule step --lr-decay-every 2000
//! cargo run --release --example omniglot -- train --algo pgn --ways 5 --out runs/omniglot-pgn
//! cargo run --release --example omniglot -- eval --ways 20 --checkpoint runs/omniglot-pgn/checkpoint.safetensors
//! ```
//!
//! Data: `--data` (repeatable) points at Omniglot folders in the standard layout; by default
//! the two minimal background splits, looked for in `shared/data/omniglot` beside the
//! repository. Training uses the MAML conv
//! net (4 × [conv 3×3 stride 2, batch norm, ReLU], linear head) and the second-order
//! meta-gradient through conv, batch norm and ReLU unless `--first-order` is given.

mod evaluate;
mod processes;
mod setup;
mod train;

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use metagrad::cli::{at_least_two, finite_positive, positive, thread_count, LearnerArgs, RunArgs};
use metagrad::schedule::{LrSchedule, StepDecayArgs};

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
    /// (Boxed: its flags are most of the enum's size.)
    Train(Box<TrainArgs>),
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
    /// minimal background splits in `shared/data/omniglot` beside the repository.
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
    #[command(flatten)]
    pub learner: LearnerArgs,
    /// Drop the second-order term of `--algo maml` or `metasgd` (the same as `--algo fomaml`
    /// or `fometasgd`).
    #[arg(long)]
    pub first_order: bool,
    /// Tasks per meta-iteration.
    #[arg(long, default_value_t = 32, value_parser = positive::<usize>)]
    pub meta_batch: usize,
    /// Outer learning rate (the starting rate under a decaying schedule).
    #[arg(long, default_value_t = 1e-3, value_parser = finite_positive)]
    pub outer_lr: f64,
    /// Outer learning-rate schedule: constant, step decay (`--lr-decay` every
    /// `--lr-decay-every` iterations, as Snell et al. halve theirs every 2,000 episodes), or
    /// cosine decay to zero over `--iters`.
    #[arg(long, value_enum, default_value_t = LrSchedule::Constant)]
    pub lr_schedule: LrSchedule,
    #[command(flatten)]
    pub lr_decay: StepDecayArgs,
    /// Meta-iterations in total (a resumed run continues up to this number).
    #[arg(long, default_value_t = 2000, value_parser = clap::value_parser!(u64).range(..=meta::MAX_ITERATION))]
    pub iters: u64,
    /// Filters per convolution.
    #[arg(long, default_value_t = 64, value_parser = positive::<usize>)]
    pub hidden: usize,
    /// Worker threads (default: one per core; at most 256). Results do not depend on it.
    #[arg(long, value_parser = thread_count)]
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
    /// Classes per validation task (default: --ways). A metric learner (protonet, siamese) may
    /// train with more ways than it is validated and tested with; a learner with a head may not.
    #[arg(long, value_parser = positive::<usize>)]
    pub validation_ways: Option<usize>,
    /// Distort every training image with a random affine map (Koch et al.: rotation ±10°,
    /// shear ±0.3, scale 0.8–1.2, shift ±2 px), drawn from the task's seed.
    #[arg(long)]
    pub augment: bool,
    /// Save a checkpoint every this many iterations (and always at the end).
    #[arg(long, default_value_t = 200, value_parser = positive::<u64>)]
    pub checkpoint_every: u64,
    #[command(flatten)]
    pub run: RunArgs,
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
    #[arg(long, default_value_t = 600, value_parser = at_least_two::<usize>)]
    pub tasks: usize,
    /// Seed of the evaluation tasks.
    #[arg(long, default_value_t = 20_15)]
    pub seed: u64,
    #[arg(long, value_parser = thread_count)]
    pub threads: Option<usize>,
}

#[derive(Args, Debug)]
pub struct LakeArgs {
    /// Folder holding run01 … run20 (python/one-shot-classification/all_runs.zip of the dataset).
    #[arg(long)]
    pub runs: PathBuf,
    /// A 20-way checkpoint written by `train --ways 20` (any checkpoint of a learner that
    /// generates its classifier from the support set, such as `pgn`).
    #[arg(long)]
    pub checkpoint: PathBuf,
    /// Inner steps when adapting (default: the number used in training).
    #[arg(long, value_parser = positive::<usize>)]
    pub inner_steps: Option<usize>,
    #[arg(long, value_parser = thread_count)]
    pub threads: Option<usize>,
}

fn main() {
    let cli = Cli::parse();
    // One process, or one rank of an MPI job (`mpirun`, built with `--features mpi`).
    let session = distributed::join().unwrap_or_else(|message| {
        eprintln!("error: {message}");
        std::process::exit(1)
    });
    let cluster = session.cluster();
    // Each subcommand runs on the worker threads, so a meta-step starts its first task on
    // the thread that runs the loop (`meta::training::threads`).
    let result = processes::agree(cluster, &cli.command).and_then(|()| {
        match &cli.command {
            Command::Train(args) => meta::run_on_pool(args.threads, || train::run(args, cluster)),
            Command::Eval(args) => {
                meta::run_on_pool(args.threads, || evaluate::eval(args, cluster))
            }
            Command::Lake(args) => {
                meta::run_on_pool(args.threads, || evaluate::lake(args, cluster))
            }
        }
        .and_then(|result| result)
    });
    if let Err(message) = result {
        session.fail(&message);
    }
}
