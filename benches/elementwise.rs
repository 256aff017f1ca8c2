//! Element-wise operations and reductions on the sizes meta-learning uses: a `[10, 40]` layer
//! activation, the `[25, 10, 40]` activations of a vectorised meta-batch, the `[25, 40, 40]`
//! per-task weights, and a large `[1024, 1024]` tensor (multi-threaded above 65,536 elements).
//!
//! Each size runs: a unary op (`exp`), a contiguous binary op (`add`), a broadcast binary op
//! (adding a `[40]`-wide row to every row), a transposed operand (`a + bᵀ`), the fused
//! `sub_mul` (x − a ⊙ b), and the reductions `sum` over the last axis and `sum_to` over the
//! leading ones. Throughput is in elements of the output (or input, for reductions).
//! Run with `cargo bench --bench elementwise`.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use std::hint::black_box;
use std::time::Duration;
use tensor::rand::{rngs::StdRng, SeedableRng};
use tensor::{DType, Tensor};

fn elementwise(c: &mut Criterion) {
    let mut rng = StdRng::seed_from_u64(0);
    let mut group = c.benchmark_group("elementwise");
    group
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(1));
    let shapes: [&[usize]; 4] = [&[10, 40], &[25, 10, 40], &[25, 40, 40], &[1024, 1024]];
    for shape in shapes {
        let label = format!("{shape:?}");
        let a = Tensor::rand_uniform(shape, -1.0, 1.0, DType::F32, &mut rng);
        let b = Tensor::rand_uniform(shape, -1.0, 1.0, DType::F32, &mut rng);
        let row = Tensor::rand_uniform(&shape[shape.len() - 1..], -1.0, 1.0, DType::F32, &mut rng);
        let n = a.numel() as u64;
        group.throughput(Throughput::Elements(n));
        group.bench_with_input(BenchmarkId::new("exp", &label), &a, |bench, a| {
            bench.iter(|| black_box(a.exp()))
        });
        group.bench_with_input(BenchmarkId::new("add", &label), &a, |bench, a| {
            bench.iter(|| black_box(a.add(&b)))
        });
        group.bench_with_input(
            BenchmarkId::new("add broadcast row", &label),
            &a,
            |bench, a| bench.iter(|| black_box(a.add(&row))),
        );
        // A square last pair of axes can be added to its own transpose.
        if shape[shape.len() - 1] == shape[shape.len() - 2] {
            let bt = b.t();
            group.bench_with_input(
                BenchmarkId::new("add transposed", &label),
                &a,
                |bench, a| bench.iter(|| black_box(a.add(&bt))),
            );
        }
        group.bench_with_input(BenchmarkId::new("sub_mul", &label), &a, |bench, a| {
            bench.iter(|| black_box(a.sub_mul(&row, &b)))
        });
        group.bench_with_input(BenchmarkId::new("sum last axis", &label), &a, |bench, a| {
            bench.iter(|| black_box(a.sum(&[-1], false)))
        });
        let tail = &shape[shape.len() - 1..];
        group.bench_with_input(
            BenchmarkId::new("sum_to last axis", &label),
            &a,
            |bench, a| bench.iter(|| black_box(a.sum_to(tail))),
        );
    }
    group.finish();
}

criterion_group!(benches, elementwise);
criterion_main!(benches);
