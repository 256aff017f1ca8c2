//! Per-operation overhead of autograd on a small MLP (1-40-40-1, ReLU, f32, batch 10):
//! forward + first-order backward, and the second-order path (`create_graph`, then the
//! gradient of the squared gradient norm). See `benches/workloads/mlp_overhead.rs`.
//!
//! `cargo bench --bench autograd_overhead`; for the comparison with PyTorch eager, run
//! `benches/peers/autograd_overhead_compare.sh`.

use criterion::{black_box, criterion_group, criterion_main, Criterion};

#[path = "workloads/mlp_overhead.rs"]
mod mlp_overhead;

use mlp_overhead::Mlp;

fn bench(c: &mut Criterion) {
    let mlp = Mlp::new(0);
    let mut group = c.benchmark_group("autograd_overhead");
    group.bench_function("first_order", |b| b.iter(|| black_box(mlp.first_order())));
    group.bench_function("second_order", |b| b.iter(|| black_box(mlp.second_order())));
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
