//! Square single-precision matrix multiply speed: `C = A·B` for `n × n` matrices.
//!
//! ```text
//! cargo run --release --example matmul_bench -- 256 512 1024
//! matmul 256: 98.1 GFLOP/s
//! ```
//!
//! One line per size: `2·n³` floating-point operations divided by the best of several
//! runs' wall time (the machine may be shared, and the best run is the least disturbed).
//! `benches/peers/matmul_compare.sh` puts these figures beside NumPy's and PyTorch's.

use std::process::ExitCode;
use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::SeedableRng;
use tensor::{DType, Tensor};

const DEFAULT_SIZES: [usize; 5] = [64, 128, 256, 512, 1024];
/// Every size runs at least this many times and for at least [`MIN_TIME`]; the best counts.
const MIN_RUNS: usize = 10;
const MIN_TIME: Duration = Duration::from_secs(1);

fn main() -> ExitCode {
    let sizes = match parse_sizes(std::env::args().skip(1)) {
        Ok(sizes) => sizes,
        Err(message) => {
            eprintln!("matmul_bench: {message}");
            eprintln!(
                "usage: matmul_bench [SIZE ...]   (positive integers; default 64 128 256 512 1024)"
            );
            return ExitCode::from(2);
        }
    };
    let mut rng = StdRng::seed_from_u64(0);
    for n in sizes {
        let a = Tensor::rand_uniform(&[n, n], -1.0, 1.0, DType::F32, &mut rng);
        let b = Tensor::rand_uniform(&[n, n], -1.0, 1.0, DType::F32, &mut rng);
        let best = best_time(|| {
            std::hint::black_box(a.matmul(&b));
        });
        let gflops = 2.0 * (n as f64).powi(3) / best.as_secs_f64() / 1e9;
        println!("matmul {n}: {gflops:.1} GFLOP/s");
    }
    ExitCode::SUCCESS
}

/// The sizes given on the command line, or the defaults when there are none.
fn parse_sizes(args: impl Iterator<Item = String>) -> Result<Vec<usize>, String> {
    let sizes = args
        .map(|arg| match arg.parse::<usize>() {
            Ok(n) if n > 0 => Ok(n),
            _ => Err(format!("bad size {arg:?}: expected a positive integer")),
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(if sizes.is_empty() {
        DEFAULT_SIZES.to_vec()
    } else {
        sizes
    })
}

/// The shortest of at least [`MIN_RUNS`] runs of `f` lasting at least [`MIN_TIME`] in all
/// (after one warm-up run).
fn best_time(mut f: impl FnMut()) -> Duration {
    f();
    let (start, mut best, mut runs) = (Instant::now(), Duration::MAX, 0);
    while runs < MIN_RUNS || start.elapsed() < MIN_TIME {
        let t = Instant::now();
        f();
        best = best.min(t.elapsed());
        runs += 1;
    }
    best
}
