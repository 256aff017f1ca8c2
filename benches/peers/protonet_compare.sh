#!/usr/bin/env bash
# Prototypical-network training throughput on Omniglot (60-way 1-shot episodes, 5 queries per
# class, one episode per step, MAML's conv net as the embedding, Adam), ours against PyTorch,
# side by side.
#
#   bash benches/peers/protonet_compare.sh [--rounds R] [threads...]    (default: 3 rounds, threads 1 2)
#
# The two take turns for R rounds and each keeps its best figure (side_by_side.sh). Ours reads
# the Omniglot images from $OMNIGLOT (default ../shared/data/omniglot beside the checkout);
# PyTorch's uses random images of the same size. The rates are episodes per second.
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
        measure "$cores" 'throughput: [0-9.]+' "$ours_bin" train --algo protonet \
            --ways 60 --shots 1 --queries 5 --meta-batch 1 --validation-ways 5 \
            --iters 40 --eval-every 0 --eval-tasks 2 --threads "$t" --out "$out/run" \
            --data "$data/images_background_small1" --data "$data/images_background_small2"
        rm -f "$out/run/checkpoint.safetensors"
    else
        measure "$cores" 'torch: [0-9.]+' python3 benches/peers/protonet_torch.py \
            --iters 10 --warmup 3 --threads "$t"
    fi
}

alternate "$rounds" "${threads_list[@]}"
print_table .2f "ours/torch" "${threads_list[@]}"
echo "(best of $rounds alternating rounds; episodes/s of protonet 60-way 1-shot, 5 queries per class, Adam)"
