#!/usr/bin/env bash
# Meta-SGD sinusoid training throughput, ours against JAX and PyTorch, side by side.
#
#   bash benches/peers/sinusoid_compare.sh [--rounds R] [threads...]     (default: 3 rounds, threads 1 2)
#
# The machine is shared and noisy, so the implementations take turns for R rounds and each
# keeps its best figure; a burst of load then hits all of them alike. Each run is pinned to the
# first T cores with taskset and its peak resident memory read with /usr/bin/time.
# Ratios are ours / peer (above 1: we are faster).
set -euo pipefail
cd "$(dirname "$0")/../.."
rounds=3
if [ "${1:-}" = "--rounds" ]; then rounds=$2; shift 2; fi
threads_list=("$@")
[ ${#threads_list[@]} -eq 0 ] && threads_list=(1 2)
cargo build --release --quiet --example metasgd_sinusoid
ours_bin=target/release/examples/metasgd_sinusoid
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

declare -A names=([ours]="metagrad (Rust)")
source benches/peers/side_by_side.sh

impls=(ours jax torch-vmap torch-loop)
run_one() {
    local impl=$1 t=$2 cores=$3 iters
    if [ "$impl" = ours ]; then
        measure "$cores" 'throughput: [0-9.]+' "$ours_bin" --iters 6000 --eval-tasks 2 --threads "$t" --overwrite --out "$out/run"
    else
        iters=600; [ "$impl" = torch-vmap ] && iters=200; [ "$impl" = torch-loop ] && iters=40
        measure "$cores" "$impl: [0-9.]+" python3 benches/peers/sinusoid_peers.py "$impl" --iters "$iters" --threads "$t"
    fi
}

alternate "$rounds" "${threads_list[@]}"
print_table .0f "ours/peer" "${threads_list[@]}"
echo "(best of $rounds alternating rounds; Meta-SGD, K=10, meta-batch 25, second order, Adam)"
