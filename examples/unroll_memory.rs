//! Peak memory and time of second-order meta-training with several inner steps, recorded or
//! recomputed (`--recompute`): the Omniglot workload of `benches/peers/memory_compare.sh`.
//!
//! ```text
//! cargo run --release --example unroll_memory -- --algo maml --steps 5 --recompute
//! ```
//!
//! MAML's conv4 (64 filters) on N-way K-shot tasks of random 28×28 images (the cost does not
//! depend on the pixels), one graph per task as the Omniglot example trains
//! (`Execution::PerTask { chunk: 1 }`), Adam on θ and the learned tensors. Prints the seconds
//! of each timed meta-iteration (after the warm-up ones), their mean, and the process's peak
//! resident memory (VmHWM).

use std::time::Instant;

use clap::Parser;
use meta::{registry, Execution, MetaTrainer, RateInit, Settings, Task};
use metagrad::omniglot_model::network;
use metagrad::synthetic::random_images;
use nn::Adam;
use rand::rngs::StdRng;
use rand::SeedableRng;
use tensor::DType;

#[derive(Parser, Debug)]
struct Args {
    /// maml, metasgd or mamlpp (any learner with an inner loop).
    #[arg(long, default_value = "maml")]
    algo: String,
    #[arg(long, default_value_t = 20)]
    ways: usize,
    #[arg(long, default_value_t = 5)]
    shots: usize,
    /// Query images per class.
    #[arg(long, default_value_t = 5)]
    queries: usize,
    /// Inner steps, all second order.
    #[arg(long, default_value_t = 1)]
    steps: usize,
    #[arg(long, default_value_t = 16)]
    meta_batch: usize,
    /// Timed meta-iterations.
    #[arg(long, default_value_t = 3)]
    iters: usize,
    /// Meta-iterations run before timing.
    #[arg(long, default_value_t = 1)]
    warmup: usize,
    #[arg(long, default_value_t = 1)]
    threads: usize,
    /// Recompute each inner step in a reverse sweep instead of recording all of them.
    #[arg(long)]
    recompute: bool,
}

/// VmHWM of this process, in MiB.
fn peak_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let kib = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .unwrap_or(f64::NAN);
    kib / 1024.0
}

fn main() -> Result<(), String> {
    let args = Args::parse();
    let lr = 0.1; // the Omniglot example's inner rate above 5 ways
    let settings = Settings {
        inner_steps: args.steps,
        inner_lr: lr,
        alpha_init: RateInit::Constant(lr),
        recompute: args.recompute,
        ..Settings::default()
    };
    let learner = registry::build(&args.algo, &settings)?;
    meta::run_on_pool(Some(args.threads), || {
        let mut rng = StdRng::seed_from_u64(0);
        let mut trainer = MetaTrainer::new(
            Box::new(network(64, args.ways)),
            learner,
            Box::new(Adam::new(1e-3)),
            Execution::PerTask { chunk: 1 },
            DType::F32,
            &mut rng,
        );
        let mut seconds = Vec::new();
        for iteration in 0..args.warmup + args.iters {
            let tasks: Vec<Task> = (0..args.meta_batch)
                .map(|_| Task {
                    support: random_images(&mut rng, args.ways, args.shots),
                    query: random_images(&mut rng, args.ways, args.queries),
                })
                .collect();
            let start = Instant::now();
            let loss = trainer.step(&tasks);
            if iteration >= args.warmup {
                seconds.push(start.elapsed().as_secs_f64());
            }
            println!("iteration {iteration}: meta-loss {loss:.4}");
        }
        let mean = seconds.iter().sum::<f64>() / seconds.len().max(1) as f64;
        let listed: Vec<String> = seconds.iter().map(|s| format!("{s:.2}")).collect();
        println!("seconds per meta-iteration: {}", listed.join(" "));
        println!(
            "{} {} steps, recompute {}: mean {mean:.3} s/iter, peak RSS {:.0} MiB",
            args.algo,
            args.steps,
            args.recompute,
            peak_mib()
        );
    })
}
