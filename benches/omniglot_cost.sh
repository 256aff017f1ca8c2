#!/usr/bin/env bash
# What the second-order term costs on Omniglot: time per meta-iteration and peak resident memory
# of Meta-SGD training (5-way 1-shot, 15 queries, meta-batch 32, MAML's conv net), for first and
# second order and 1, 2 or 3 inner steps.
#
#   bash benches/omniglot_cost.sh [--rounds R] [--iters N] [--threads T] [-- TRAIN FLAGS...]
#
# (default: 2 rounds, 6 iterations, 2 threads). Flags after `--` go to `omniglot train`, e.g.
# `-- --ways 20 --shots 5 --queries 1 --meta-batch 16` for a task with a larger support set.
#
# The configurations take turns for R rounds and each keeps its best rate (the machine is shared
# and noisy); peak memory is /usr/bin/time's maximum resident set size of the whole process
# (image set included: about 60 MiB of it is the decoded Omniglot images).
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=2 iters=6 threads=2
while [ $# -gt 0 ]; do
    case $1 in
        --rounds) rounds=$2; shift 2 ;;
        --iters) iters=$2; shift 2 ;;
        --threads) threads=$2; shift 2 ;;
        --) shift; break ;;
        *) echo "unknown argument $1" >&2; exit 2 ;;
    esac
done
data=${OMNIGLOT:-../shared/data/omniglot}
data=$(cd "$data" && pwd)
cargo build --release --quiet --example omniglot
bin=target/release/examples/omniglot
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

configs=("second 1" "first 1" "second 2" "first 2" "second 3" "first 3")
declare -A best mem
for ((r = 1; r <= rounds; r++)); do
    for config in "${configs[@]}"; do
        read -r order steps <<< "$config"
        flag=(); [ "$order" = first ] && flag=(--first-order)
        if ! /usr/bin/time -f "%M" -o "$out/mem" "$bin" train --iters "$iters" --eval-every 0 \
            --eval-tasks 2 --threads "$threads" --inner-steps "$steps" "${flag[@]}" "$@" --out "$out/run" \
            --data "$data/images_background_small1" --data "$data/images_background_small2" \
            > "$out/log" 2>&1; then
            cat "$out/log" >&2
            exit 1
        fi
        rm -f "$out/run/checkpoint.safetensors"
        rate=$(grep -oE 'throughput: [0-9.]+' "$out/log" | grep -oE '[0-9.]+$')
        if [ -z "${best[$config]:-}" ] || python3 -c "import sys; sys.exit(0 if $rate > ${best[$config]} else 1)"; then
            best[$config]=$rate
        fi
        m=$(( $(tail -1 "$out/mem") / 1024 ))
        if [ -z "${mem[$config]:-}" ] || [ "$m" -gt "${mem[$config]}" ]; then mem[$config]=$m; fi
    done
done

printf '%-8s %-12s %14s %16s %10s\n' order "inner steps" "meta-iters/s" "s per meta-iter" "peak MiB"
for config in "${configs[@]}"; do
    read -r order steps <<< "$config"
    rate=${best[$config]}
    printf '%-8s %-12s %14.3f %16.2f %10s\n' "$order" "$steps" "$rate" \
        "$(python3 -c "print(1 / $rate)")" "${mem[$config]}"
done
echo "(best of $rounds rounds, $iters meta-iterations each, $threads threads; Meta-SGD, task flags: ${*:-5-way 1-shot, 15 queries, meta-batch 32})"
