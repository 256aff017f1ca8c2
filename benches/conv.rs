//! Convolution and pooling on the shapes of MAML's Omniglot network (a meta-batch of 80
//! images, 64 channels, 3×3 kernels), forward and both adjoints.
//!
//! - `strided/…`: the network as MAML runs Omniglot: four stride-2, padding-1 convolutions,
//!   28×28 → 14 → 7 → 4 → 2.
//! - `maxpool/…`: the max-pool variant: stride-1, padding-1 convolutions each followed by a
//!   2×2 max-pool, 28 → 14 → 7 → 3 → 1.
//!
//! Throughput is reported in multiply-adds ×2 (FLOPs) for the convolutions, in input elements
//! for pooling. Run with `cargo bench --bench conv`.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use std::hint::black_box;
use std::time::Duration;
use tensor::rand::{rngs::StdRng, SeedableRng};
use tensor::{Conv2dParams, DType, Tensor};

const BATCH: usize = 80;
const CHANNELS: usize = 64;

/// The input sizes `(C, H)` of the four convolutions of a network with these input sides.
fn layers(sides: [usize; 4]) -> Vec<(usize, usize)> {
    sides
        .iter()
        .enumerate()
        .map(|(k, &side)| (if k == 0 { 1 } else { CHANNELS }, side))
        .collect()
}

fn bench_convs(c: &mut Criterion, group_name: &str, sides: [usize; 4], p: Conv2dParams) {
    let mut group = c.benchmark_group(group_name);
    group
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    let mut rng = StdRng::seed_from_u64(0);
    for (channels, side) in layers(sides) {
        let x = Tensor::rand_normal(
            &[BATCH, channels, side, side],
            0.0,
            1.0,
            DType::F32,
            &mut rng,
        );
        let w = Tensor::rand_normal(&[CHANNELS, channels, 3, 3], 0.0, 0.1, DType::F32, &mut rng);
        let y = x.conv2d(&w, p);
        let g = Tensor::rand_normal(y.shape(), 0.0, 1.0, DType::F32, &mut rng);
        let flops = 2 * y.numel() * channels * 9;
        group.throughput(Throughput::Elements(flops as u64));
        let id = format!("{BATCH}x{channels}x{side}x{side}");
        group.bench_function(BenchmarkId::new("forward", &id), |b| {
            b.iter(|| black_box(x.conv2d(&w, p)))
        });
        group.bench_function(BenchmarkId::new("input_grad", &id), |b| {
            b.iter(|| black_box(Tensor::conv2d_input_grad(&g, &w, (side, side), p)))
        });
        group.bench_function(BenchmarkId::new("weight_grad", &id), |b| {
            b.iter(|| black_box(Tensor::conv2d_weight_grad(&g, &x, (3, 3), p)))
        });
    }
    group.finish();
}

fn strided(c: &mut Criterion) {
    bench_convs(c, "strided", [28, 14, 7, 4], Conv2dParams::new(2, 1));
}

fn maxpool(c: &mut Criterion) {
    bench_convs(c, "maxpool", [28, 14, 7, 3], Conv2dParams::new(1, 1));
    // The 2×2 pooling after each convolution, forward (with indices) and backward.
    let mut group = c.benchmark_group("maxpool");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    let mut rng = StdRng::seed_from_u64(1);
    for side in [28, 14, 7, 3] {
        let shape = [BATCH, CHANNELS, side, side];
        let y = Tensor::rand_normal(&shape, 0.0, 1.0, DType::F32, &mut rng);
        let (pooled, indices) = y.max_pool2d_with_indices((2, 2), (2, 2), (0, 0));
        let g = Tensor::rand_normal(pooled.shape(), 0.0, 1.0, DType::F32, &mut rng);
        group.throughput(Throughput::Elements(y.numel() as u64));
        let id = format!("{BATCH}x{CHANNELS}x{side}x{side}");
        group.bench_function(BenchmarkId::new("pool_forward", &id), |b| {
            b.iter(|| black_box(y.max_pool2d_with_indices((2, 2), (2, 2), (0, 0))))
        });
        group.bench_function(BenchmarkId::new("pool_backward", &id), |b| {
            b.iter(|| black_box(Tensor::max_pool2d_backward(&g, &indices, &shape)))
        });
    }
    group.finish();
}

criterion_group!(benches, strided, maxpool);
criterion_main!(benches);
