//! Times the autograd-overhead workloads (see `benches/workloads/mlp_overhead.rs`) without
//! criterion, printing one parseable line per workload:
//!
//! ```text
//! first_order: 12.34 us/iter
//! second_order: 56.78 us/iter
//! ```
//!
//! Each figure is the best, over several repeats, of the mean time per iteration of a timed
//! loop — the same protocol as `benches/peers/autograd_overhead_torch.py`, so the two can be
//! set side by side (`benches/peers/autograd_overhead_compare.sh` does that).
//!
//! `cargo run --release --example autograd_overhead [-- ITERATIONS REPEATS]`

use std::hint::black_box;
use std::time::Instant;

#[path = "../benches/workloads/mlp_overhead.rs"]
mod mlp_overhead;

use mlp_overhead::Mlp;

/// Best over `repeats` of the mean microseconds per call of `f` over `iterations` calls.
fn best_us_per_iter<R>(iterations: usize, repeats: usize, mut f: impl FnMut() -> R) -> f64 {
    for _ in 0..iterations / 10 + 1 {
        black_box(f()); // warm-up: caches, allocator, lazy thread-locals
    }
    (0..repeats)
        .map(|_| {
            let start = Instant::now();
            for _ in 0..iterations {
                black_box(f());
            }
            start.elapsed().as_secs_f64() * 1e6 / iterations as f64
        })
        .fold(f64::INFINITY, f64::min)
}

const USAGE: &str = "usage: autograd_overhead [ITERATIONS [REPEATS]]  (defaults: 2000 7)";

/// `ITERATIONS` and `REPEATS`, each a whole number of at least 1, or their defaults.
fn parse_args(mut args: impl Iterator<Item = String>) -> Result<(usize, usize), String> {
    let mut count = |name: &str, default: usize| match args.next() {
        None => Ok(default),
        Some(text) => match text.parse::<usize>() {
            Ok(n) if n >= 1 => Ok(n),
            _ => Err(format!(
                "{name} must be a whole number of at least 1, got `{text}`"
            )),
        },
    };
    let counts = (count("ITERATIONS", 2000)?, count("REPEATS", 7)?);
    match args.next() {
        None => Ok(counts),
        Some(extra) => Err(format!("unexpected argument `{extra}`")),
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().is_some_and(|a| a == "--help" || a == "-h") {
        println!("{USAGE}");
        return;
    }
    let (iterations, repeats) = parse_args(args.into_iter()).unwrap_or_else(|message| {
        eprintln!("error: {message}\n{USAGE}");
        std::process::exit(2);
    });
    let mlp = Mlp::new(0);
    let first = best_us_per_iter(iterations, repeats, || mlp.first_order());
    println!("first_order: {first:.2} us/iter");
    let second = best_us_per_iter(iterations, repeats, || mlp.second_order());
    println!("second_order: {second:.2} us/iter");
}
