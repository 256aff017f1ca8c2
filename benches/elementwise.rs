//! Element-wise operations and reductions on the sizes meta-learning uses: a `[10, 40]` layer
//! activation, the `[25, 10, 40]` activations of a vectorised meta-batch, the `[25, 40, 40]`
//! per-task weights, and a large `[1024, 1024]` tensor (multi-threaded above 65,536 elements).
//!
//! Each size runs: a unary op (`exp`), a contiguous binary op (`add`), a broadcast binary op
//! (adding a `[40]`-wide row to every row), a transposed operand (`a + bᵀ`), the fused
//! `sub_mul` (x − a ⊙ b), and the reductions `sum` over the last axis and `sum_to` over the
//! leading ones. Throughput is in elements of the output (or input, for reductions).
//!
//! `batch_norm/…` normalises the first layer's activations of MAML's Omniglot net on a query
//! set (`[75, 64, 14, 14]`): the fused forward and backward kernels, and the composite the
//! forward replaced (mean, centre, square, mean, scale), and two per-channel broadcasts on the
//! same activations (a conv bias `+ b`, and `β − x ⊙ s`) and the per-channel sums of their
//! gradients (`sum_to`, `mul_sum_to` down to `[64, 1, 1]`).
//! `transcendental/…` runs the `f32` functions of `tensor::vmath` (exp, log, tanh, sigmoid) on
//! 1,000 and 64,000 elements, both below the size where a kernel splits across threads.
//! `lstm_gates/…` is the learned optimiser's LSTM on 320 coordinates (`[320, 20]` gates cut
//! out of `[320, 80]` pre-activations): the fused backward kernels of sigmoid and tanh beside
//! the four-op composites they replaced, and the gradients of the four gate slices summed by
//! padding each (the old rule) or by adding each into its block (`add_assign_within`).
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

/// A unary tensor method, such as `Tensor::exp`.
type UnaryOp = fn(&Tensor) -> Tensor;

fn transcendental(c: &mut Criterion) {
    let mut rng = StdRng::seed_from_u64(0);
    let mut group = c.benchmark_group("transcendental");
    group
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(1));
    for n in [1_000, 64_000] {
        // The range an LSTM's gates see; positive for the logarithm.
        let x = Tensor::rand_uniform(&[n], -4.0, 4.0, DType::F32, &mut rng);
        let positive = Tensor::rand_uniform(&[n], 0.01, 10.0, DType::F32, &mut rng);
        group.throughput(Throughput::Elements(n as u64));
        let ops: [(&str, &Tensor, UnaryOp); 4] = [
            ("exp", &x, Tensor::exp),
            ("log", &positive, Tensor::log),
            ("tanh", &x, Tensor::tanh),
            ("sigmoid", &x, Tensor::sigmoid),
        ];
        for (name, input, op) in ops {
            group.bench_with_input(BenchmarkId::new(name, n), input, |bench, input| {
                bench.iter(|| black_box(op(input)))
            });
        }
    }
    group.finish();
}

fn batch_norm(c: &mut Criterion) {
    let mut rng = StdRng::seed_from_u64(0);
    let mut group = c.benchmark_group("batch_norm");
    group
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(1));
    let shape = [75, 64, 14, 14];
    let x = Tensor::rand_normal(&shape, 0.5, 1.0, DType::F32, &mut rng);
    let g = Tensor::rand_normal(&shape, 0.0, 1.0, DType::F32, &mut rng);
    let (_, mean, var) = x.normalize_channels(1e-5);
    let label = format!("{shape:?}");
    group.throughput(Throughput::Elements(x.numel() as u64));
    group.bench_function(BenchmarkId::new("normalize_channels", &label), |bench| {
        bench.iter(|| black_box(x.normalize_channels(1e-5)))
    });
    group.bench_function(
        BenchmarkId::new("normalize_channels_grad", &label),
        |bench| bench.iter(|| black_box(x.normalize_channels_grad(&mean, &var, 1e-5, &g))),
    );
    // A conv layer's bias and batch norm's affine step: per-channel operands broadcast over
    // the activations (short runs of H·W, split across threads in blocks of runs).
    let bias = Tensor::rand_normal(&[64, 1, 1], 0.0, 1.0, DType::F32, &mut rng);
    group.bench_function(BenchmarkId::new("channel add", &label), |bench| {
        bench.iter(|| black_box(x.add(&bias)))
    });
    group.bench_function(BenchmarkId::new("channel sub_mul", &label), |bench| {
        bench.iter(|| black_box(bias.sub_mul(&x, &bias)))
    });
    // The gradients of that bias and of batch norm's scale: sums over images and pixels.
    group.bench_function(BenchmarkId::new("channel sum_to", &label), |bench| {
        bench.iter(|| black_box(g.sum_to(&[64, 1, 1])))
    });
    group.bench_function(BenchmarkId::new("channel mul_sum_to", &label), |bench| {
        bench.iter(|| black_box(g.mul_sum_to(&x, &[64, 1, 1])))
    });
    group.bench_function(BenchmarkId::new("composite forward", &label), |bench| {
        let axes = [0, 2, 3];
        bench.iter(|| {
            let centred = x.sub(&x.mean(&axes, true));
            let var = centred.mul(&centred).mean(&axes, true);
            black_box(centred.div(&var.add_scalar(1e-5).sqrt()))
        })
    });
    group.finish();
}

fn lstm_gates(c: &mut Criterion) {
    let mut rng = StdRng::seed_from_u64(0);
    let mut group = c.benchmark_group("lstm_gates");
    group
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(1));
    let normal =
        |shape: &[usize], rng: &mut StdRng| Tensor::rand_normal(shape, 0.0, 1.0, DType::F32, rng);
    let (g, x) = (normal(&[320, 20], &mut rng), normal(&[320, 20], &mut rng));
    let (y, t) = (x.sigmoid(), x.tanh());
    let one = Tensor::scalar(1.0f32);
    group.throughput(Throughput::Elements(6400));
    group.bench_function("sigmoid backward, composite", |bench| {
        bench.iter(|| black_box(g.mul(&y.mul(&y.neg().add(&one)))))
    });
    group.bench_function("sigmoid backward, fused", |bench| {
        bench.iter(|| black_box(g.sigmoid_backward(&y)))
    });
    group.bench_function("tanh backward, composite", |bench| {
        bench.iter(|| black_box(g.mul(&t.mul(&t).neg().add(&one))))
    });
    group.bench_function("tanh backward, fused", |bench| {
        bench.iter(|| black_box(g.tanh_backward(&t)))
    });
    let gates: Vec<Tensor> = (0..4).map(|_| normal(&[320, 20], &mut rng)).collect();
    let padding = |k: usize| [(0, 0), (20 * k, 60 - 20 * k)];
    group.bench_function("four gate gradients, padded and added", |bench| {
        bench.iter(|| {
            let mut sum = gates[0].pad(&padding(0));
            for (k, gate) in gates.iter().enumerate().skip(1) {
                sum.add_assign(&gate.pad(&padding(k)));
            }
            black_box(sum)
        })
    });
    group.bench_function("four gate gradients, added into their blocks", |bench| {
        bench.iter(|| {
            let mut sum = gates[0].pad(&padding(0));
            for (k, gate) in gates.iter().enumerate().skip(1) {
                sum.add_assign_within(&padding(k), gate);
            }
            black_box(sum)
        })
    });
    group.finish();
}

criterion_group!(benches, elementwise, transcendental, batch_norm, lstm_gates);
criterion_main!(benches);
