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

# Runs "$@" pinned to $cores; prints "<rate> <peak MiB>" parsed from its output.
measure() {
    local cores=$1 pattern=$2; shift 2
    local log="$out/log" mem="$out/mem"
    if ! taskset -c "$cores" /usr/bin/time -f "%M" -o "$mem" "$@" > "$log" 2>&1; then
        cat "$log" >&2
        echo "nan nan"
        return
    fi
    local rate
    rate=$(grep -oE "$pattern" "$log" | tail -1 | grep -oE '[0-9]+(\.[0-9]+)?' | tail -1)
    echo "$rate $(( $(tail -1 "$mem") / 1024 ))"
}

declare -A best mem
impls=(ours jax torch-vmap torch-loop)
for t in "${threads_list[@]}"; do
    cores="0-$((t - 1))"
    for ((r = 1; r <= rounds; r++)); do
        for impl in "${impls[@]}"; do
            if [ "$impl" = ours ]; then
                read -r rate m < <(measure "$cores" 'throughput: [0-9.]+' "$ours_bin" --iters 6000 --eval-tasks 2 --threads "$t" --out "$out/run")
            else
                iters=600; [ "$impl" = torch-vmap ] && iters=200; [ "$impl" = torch-loop ] && iters=40
                read -r rate m < <(measure "$cores" "$impl: [0-9.]+" python3 benches/peers/sinusoid_peers.py "$impl" --iters "$iters" --threads "$t")
            fi
            key="$t/$impl"
            if [ -z "${best[$key]:-}" ] || python3 -c "import sys; sys.exit(0 if $rate > ${best[$key]} else 1)" 2>/dev/null; then
                best[$key]=$rate; mem[$key]=$m
            fi
        done
    done
done

printf '%-8s %-28s %14s %10s %12s\n' threads implementation "meta-iters/s" "peak MiB" "ours/peer"
for t in "${threads_list[@]}"; do
    ours=${best[$t/ours]}
    for impl in "${impls[@]}"; do
        rate=${best[$t/$impl]}
        ratio=$(python3 -c "print(f'{$ours / $rate:.2f}')" 2>/dev/null || echo n/a)
        name=$impl; [ "$impl" = ours ] && name="metagrad (Rust)"
        printf '%-8s %-28s %14.0f %10s %12s\n' "$t" "$name" "$rate" "${mem[$t/$impl]}" "$ratio"
    done
done
echo "(best of $rounds alternating rounds; Meta-SGD, K=10, meta-batch 25, second order, Adam)"
