#!/usr/bin/env bash
# Meta-training throughput of the coordinatewise LSTM optimiser on quadratics (32 functions of
# 10 dimensions, truncations of 20 steps, first-order meta-gradient, Adam), ours against
# PyTorch, side by side. A meta-iteration is one truncation and one Adam step.
#
#   bash benches/peers/learned_optimizer_compare.sh [--rounds R] [threads...]   (default: 3 rounds, threads 1 2)
#
# The two take turns for R rounds and each keeps its best figure (side_by_side.sh). Ours
# meta-trains on 20 runs of 100 steps (100 truncations) and then runs its short grid search
# and evaluation, which the rate does not include.
set -euo pipefail
cd "$(dirname "$0")/../.."
rounds=3
if [ "${1:-}" = "--rounds" ]; then rounds=$2; shift 2; fi
threads_list=("$@")
[ ${#threads_list[@]} -eq 0 ] && threads_list=(1 2)
cargo build --release --quiet --example learned_optimizer
ours_bin=target/release/examples/learned_optimizer
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

declare -A names=([ours]="metagrad (Rust)" [torch]="PyTorch")
source benches/peers/side_by_side.sh

impls=(ours torch)
run_one() {
    local impl=$1 t=$2 cores=$3
    if [ "$impl" = ours ]; then
        measure "$cores" 'throughput: [0-9.]+' "$ours_bin" --meta-runs 20 --steps 20 \
            --eval-runs 1 --threads "$t" --out "$out/run"
    else
        measure "$cores" 'torch: [0-9.]+' python3 benches/peers/learned_optimizer_torch.py \
            --iters 50 --warmup 10 --threads "$t"
    fi
}

alternate "$rounds" "${threads_list[@]}"
print_table .2f "ours/torch" "${threads_list[@]}"
echo "(best of $rounds alternating rounds; truncations/s of the LSTM optimiser on quadratics, first order)"
