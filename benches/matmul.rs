//! Matrix multiply benchmarks (criterion): square f32 products from 16 to 1024, and the
//! shapes meta-learning runs (a 1 → 40 → 40 → 1 network on 10 points, forward and backward,
//! one task or a batch of 25).
//!
//! ```text
//! cargo bench --bench matmul                 # all
//! cargo bench --bench matmul -- square/512   # one
//! ```
//!
//! Throughput is reported as `Elements(2·m·n·k)` per product, i.e. floating-point
//! operations (a multiply-add counts 2): criterion's "elem/s" figure reads as FLOP/s,
//! so "95.2 Gelem/s" is 95.2 GFLOP/s.

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use rand::rngs::StdRng;
use rand::SeedableRng;
use tensor::{DType, Tensor};

fn random(shape: &[usize], rng: &mut StdRng) -> Tensor {
    Tensor::rand_uniform(shape, -1.0, 1.0, DType::F32, rng)
}

fn square(c: &mut Criterion) {
    let mut group = c.benchmark_group("square");
    group.measurement_time(Duration::from_secs(3));
    let mut rng = StdRng::seed_from_u64(0);
    for n in [16, 32, 64, 128, 256, 512, 1024] {
        let (a, b) = (random(&[n, n], &mut rng), random(&[n, n], &mut rng));
        group.throughput(Throughput::Elements(2 * (n * n * n) as u64));
        if n >= 512 {
            group.sample_size(20);
        }
        group.bench_function(BenchmarkId::from_parameter(n), |bench| {
            bench.iter(|| black_box(a.matmul(&b)))
        });
    }
    group.finish();
}

/// One product of the meta-learning workload: `[batch.., m, k] × [k, n]` (or with B's
/// batch axes too), B optionally a transposed view, as the backward pass uses it.
struct Shape {
    name: &'static str,
    a: &'static [usize],
    b: &'static [usize],
    /// Multiply `a` by `bᵀ` (so `b` is given as `[n, k]`).
    b_transposed: bool,
    /// Multiply `aᵀ` by `b` (so `a` is given as `[k, m]`).
    a_transposed: bool,
}

const META_SHAPES: &[Shape] = &[
    // Forward: x·W1, h·W2, h·W3 for 10 points.
    Shape {
        name: "10x1x40",
        a: &[10, 1],
        b: &[1, 40],
        a_transposed: false,
        b_transposed: false,
    },
    Shape {
        name: "10x40x40",
        a: &[10, 40],
        b: &[40, 40],
        a_transposed: false,
        b_transposed: false,
    },
    Shape {
        name: "10x40x1",
        a: &[10, 40],
        b: &[40, 1],
        a_transposed: false,
        b_transposed: false,
    },
    // Backward: dH = dY·Wᵀ, and dW = Hᵀ·dY ([40, 10] × [10, 40]).
    Shape {
        name: "10x40x40_bt",
        a: &[10, 40],
        b: &[40, 40],
        a_transposed: false,
        b_transposed: true,
    },
    Shape {
        name: "40x10x40_at",
        a: &[10, 40],
        b: &[10, 40],
        a_transposed: true,
        b_transposed: false,
    },
    Shape {
        name: "40x10x1_at",
        a: &[10, 40],
        b: &[10, 1],
        a_transposed: true,
        b_transposed: false,
    },
    // The same, batched over a meta-batch of 25 tasks (per-task weights).
    Shape {
        name: "25x10x40x40",
        a: &[25, 10, 40],
        b: &[25, 40, 40],
        a_transposed: false,
        b_transposed: false,
    },
    Shape {
        name: "25x10x40x40_bt",
        a: &[25, 10, 40],
        b: &[25, 40, 40],
        a_transposed: false,
        b_transposed: true,
    },
    // A shared weight (θ broadcast over the tasks): one product of 25·10 rows.
    Shape {
        name: "25x10x40x40_shared_bt",
        a: &[25, 10, 40],
        b: &[40, 40],
        a_transposed: false,
        b_transposed: true,
    },
    Shape {
        name: "25x40x10x40_at",
        a: &[25, 10, 40],
        b: &[25, 10, 40],
        a_transposed: true,
        b_transposed: false,
    },
    Shape {
        name: "25x10x40x1",
        a: &[25, 10, 40],
        b: &[25, 40, 1],
        a_transposed: false,
        b_transposed: false,
    },
];

fn meta_learning(c: &mut Criterion) {
    let mut group = c.benchmark_group("meta");
    group.measurement_time(Duration::from_secs(2));
    let mut rng = StdRng::seed_from_u64(1);
    for shape in META_SHAPES {
        let mut a = random(shape.a, &mut rng);
        let mut b = random(shape.b, &mut rng);
        if shape.a_transposed {
            a = a.transpose(-1, -2);
        }
        if shape.b_transposed {
            b = b.transpose(-1, -2);
        }
        let out = a.matmul(&b);
        let (m, n) = (out.shape()[out.ndim() - 2], out.shape()[out.ndim() - 1]);
        let k = a.shape()[a.ndim() - 1];
        let batch: usize = out.shape()[..out.ndim() - 2].iter().product();
        group.throughput(Throughput::Elements(2 * (batch * m * n * k) as u64));
        group.bench_function(shape.name, |bench| bench.iter(|| black_box(a.matmul(&b))));
    }
    group.finish();
}

criterion_group!(benches, square, meta_learning);
criterion_main!(benches);
