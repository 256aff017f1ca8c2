#!/usr/bin/env bash
# How close the Omniglot meta-iteration runs to this machine's limit.
#
#   bash benches/machine_limit.sh [--rounds R] [--iters N] [--threads T] [--first-order]
#                                 [--ways W] [--shots S] [--queries Q] [--meta-batch B]
#                                 [--inner-steps K]
#
# (defaults: 3 rounds, 6 meta-iterations per round, 2 threads, second order, Meta-SGD on
# 5-way 1-shot, 15 queries per class, meta-batch 32, one inner step, 64 filters.)
#
# The limit is defined from the workload, not from our implementation of it:
#
#   FLOPs per meta-iteration = the multiply-adds (×2) of every convolution and of the linear
#                              head, counted from the layer shapes, for the forward pass, the
#                              backward pass and the double backward pass (below);
#   our GEMM rate            = `matmul_bench 1024` (square f32 n = 1024) with the same threads;
#   machine limit            = GEMM rate / FLOPs = meta-iterations per second if every
#                              convolution ran at our best GEMM rate and all else were free;
#   fraction of the limit    = measured meta-iterations per second / machine limit.
#
# Batch norm, ReLU, the softmax and the optimiser are not counted: they are memory-bound and
# add nothing to the FLOPs, only to the time. A fraction of 100% is thus out of reach; the
# gap to it is what the element-wise work, copies and bookkeeping cost.
#
# Counting, per layer l with per-image cost c_l = 2·C_out·C_in·k²·H_out·W_out (the same for
# the forward product Y = W⋆X, the input gradient dX = Wᵀ⋆dY and the weight gradient
# dW = dY⋆Xᵀ), S support and Q query images per task, and "l ≥ 2" the layers whose input is
# itself computed (the first layer's input is the image, whose gradient nobody needs):
#
#   support forward                                      S · Σ c_l
#   support backward, recorded (weight + input grads)    S · (Σ c_l + Σ_{l≥2} c_l)
#   query forward at θ'                                  Q · Σ c_l
#   query backward (weight + input grads)                Q · (Σ c_l + Σ_{l≥2} c_l)
#   double backward through the support backward:
#     each weight-gradient product dW = dY⋆Xᵀ gives two  S · (Σ c_l + Σ_{l≥2} c_l)
#     each input-gradient product dX = Wᵀ⋆dY gives two   S · 2 Σ_{l≥2} c_l
#   backward through the support forward                 S · (Σ c_l + Σ_{l≥2} c_l)
#
# so second order costs S·(4Σc + 5Σ_{l≥2}c) + Q·(2Σc + Σ_{l≥2}c) per task and inner step
# (the support terms repeat for every inner step); first order drops the two double-backward
# lines and the backward through the support forward.
#
# The two programs take turns for R rounds and each keeps its best figure (the machine is
# shared and noisy).
set -euo pipefail
cd "$(dirname "$0")/.."

rounds=3 iters=6 threads=2 order=second
ways=5 shots=1 queries=15 batch=32 steps=1 hidden=64
while [ $# -gt 0 ]; do
    case $1 in
        --rounds) rounds=$2; shift 2 ;;
        --iters) iters=$2; shift 2 ;;
        --threads) threads=$2; shift 2 ;;
        --first-order) order=first; shift ;;
        --ways) ways=$2; shift 2 ;;
        --shots) shots=$2; shift 2 ;;
        --queries) queries=$2; shift 2 ;;
        --meta-batch) batch=$2; shift 2 ;;
        --inner-steps) steps=$2; shift 2 ;;
        *) echo "$0: unknown argument $1" >&2; exit 2 ;;
    esac
done
for v in "$rounds" "$iters" "$threads" "$ways" "$shots" "$queries" "$batch" "$steps"; do
    [[ "$v" =~ ^[1-9][0-9]*$ ]] || { echo "$0: expected a positive integer, got '$v'" >&2; exit 2; }
done

data=${OMNIGLOT:-../shared/data/omniglot}
[ -d "$data" ] || { echo "$0: no Omniglot data at $data (set OMNIGLOT)" >&2; exit 1; }
data=$(cd "$data" && pwd)
cargo build --release --quiet --example omniglot --example matmul_bench
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

order_flag=()
[ "$order" = first ] && order_flag=(--first-order)
best_gemm=0 best_rate=0
for ((r = 1; r <= rounds; r++)); do
    gemm=$(RAYON_NUM_THREADS=$threads target/release/examples/matmul_bench 1024 |
        grep -oE '[0-9.]+ GFLOP/s' | grep -oE '^[0-9.]+')
    if ! target/release/examples/omniglot train --iters "$iters" --eval-every 0 --eval-tasks 2 \
        --threads "$threads" --ways "$ways" --shots "$shots" --queries "$queries" \
        --meta-batch "$batch" --inner-steps "$steps" "${order_flag[@]}" --overwrite \
        --out "$out/run" --data "$data/images_background_small1" \
        --data "$data/images_background_small2" > "$out/log" 2>&1; then
        cat "$out/log" >&2
        exit 1
    fi
    rate=$(grep -oE 'throughput: [0-9.]+' "$out/log" | grep -oE '[0-9.]+$')
    echo "round $r: sgemm 1024 $gemm GFLOP/s, meta-iteration $rate /s"
    best_gemm=$(python3 -c "print(max($best_gemm, $gemm))")
    best_rate=$(python3 -c "print(max($best_rate, $rate))")
done

python3 - "$order" "$ways" "$shots" "$queries" "$batch" "$steps" "$hidden" "$best_gemm" \
    "$best_rate" "$threads" <<'EOF'
import sys

order = sys.argv[1]
ways, shots, queries, batch, steps, hidden = map(int, sys.argv[2:8])
gemm, rate, threads = float(sys.argv[8]), float(sys.argv[9]), int(sys.argv[10])

# MAML's Omniglot network: four 3×3 convolutions, stride 2, padding 1, on 28×28 images,
# then the spatial mean and a linear head of `ways` outputs.
layers, size, channels = [], 28, 1
for _ in range(4):
    size = (size + 2 - 3) // 2 + 1
    layers.append(2 * hidden * channels * 9 * size * size)
    channels = hidden
layers.append(2 * hidden * ways)
all_c, computed_c = sum(layers), sum(layers[1:])

support, query = ways * shots, ways * queries
if order == "second":
    per_step = support * (4 * all_c + 5 * computed_c)
else:
    per_step = support * (2 * all_c + computed_c)
flops = batch * (steps * per_step + query * (2 * all_c + computed_c))
limit = gemm * 1e9 / flops
print(f"workload: {order} order, {ways}-way {shots}-shot, {queries} queries, "
      f"meta-batch {batch}, {steps} inner step(s), {threads} thread(s)")
print(f"FLOPs per meta-iteration: {flops / 1e9:.2f} G")
print(f"our sgemm n=1024: {gemm:.1f} GFLOP/s (best round)")
print(f"machine limit: {limit:.3f} meta-iters/s")
print(f"measured: {rate:.3f} meta-iters/s = {rate * flops / 1e9:.1f} GFLOP/s "
      f"= {100 * rate / limit:.0f}% of the limit")
EOF
