#!/usr/bin/env bash
# Meta-SGD Omniglot training throughput (5-way 1-shot, 15 queries, meta-batch 32, MAML's conv
# net, second order), ours against PyTorch, side by side.
#
#   bash benches/peers/omniglot_compare.sh [--rounds R] [threads...]     (default: 3 rounds, threads 1 2)
#
# The machine is shared and noisy, so the two take turns for R rounds and each keeps its best
# figure; a burst of load then hits both alike. Each run is pinned to the first T cores with
# taskset and its peak resident memory read with /usr/bin/time. Ratios are ours / PyTorch
# (above 1: we are faster). Ours reads the Omniglot images from $OMNIGLOT (default
# ../shared/data/omniglot beside the checkout); PyTorch's uses random images of the same size.
set -euo pipefail
cd "$(dirname "$0")/../.."
rounds=3
if [ "${1:-}" = "--rounds" ]; then rounds=$2; shift 2; fi
threads_list=("$@")
[ ${#threads_list[@]} -eq 0 ] && threads_list=(1 2)
data=${OMNIGLOT:-../shared/data/omniglot}
data=$(cd "$data" && pwd)
cargo build --release --quiet --example omniglot
ours_bin=target/release/examples/omniglot
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

declare -A names=([ours]="metagrad (Rust)" [torch]="PyTorch")
source benches/peers/side_by_side.sh

impls=(ours torch)
run_one() {
    local impl=$1 t=$2 cores=$3
    if [ "$impl" = ours ]; then
        # The image cache is written to --out on the first run; later runs reuse it.
        measure "$cores" 'throughput: [0-9.]+' "$ours_bin" train \
            --iters 8 --eval-every 0 --eval-tasks 2 --threads "$t" --out "$out/run" \
            --data "$data/images_background_small1" --data "$data/images_background_small2"
        rm -f "$out/run/checkpoint.safetensors"
    else
        measure "$cores" 'torch: [0-9.]+' python3 benches/peers/omniglot_torch.py \
            --iters 3 --warmup 1 --threads "$t"
    fi
}

alternate "$rounds" "${threads_list[@]}"
print_table .3f "ours/torch" "${threads_list[@]}"
echo "(best of $rounds alternating rounds; Meta-SGD 5-way 1-shot, 15 queries, meta-batch 32, second order, Adam)"
