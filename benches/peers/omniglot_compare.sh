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
impls=(ours torch)
for t in "${threads_list[@]}"; do
    cores="0-$((t - 1))"
    for ((r = 1; r <= rounds; r++)); do
        for impl in "${impls[@]}"; do
            if [ "$impl" = ours ]; then
                # The image cache is written to --out on the first run; later runs reuse it.
                read -r rate m < <(measure "$cores" 'throughput: [0-9.]+' "$ours_bin" train \
                    --iters 8 --eval-every 0 --eval-tasks 2 --threads "$t" --out "$out/run" \
                    --data "$data/images_background_small1" --data "$data/images_background_small2")
                rm -f "$out/run/checkpoint.safetensors"
            else
                read -r rate m < <(measure "$cores" 'torch: [0-9.]+' python3 benches/peers/omniglot_torch.py \
                    --iters 3 --warmup 1 --threads "$t")
            fi
            key="$t/$impl"
            if [ -z "${best[$key]:-}" ] || python3 -c "import sys; sys.exit(0 if $rate > ${best[$key]} else 1)" 2>/dev/null; then
                best[$key]=$rate; mem[$key]=$m
            fi
        done
    done
done

printf '%-8s %-20s %14s %10s %12s\n' threads implementation "meta-iters/s" "peak MiB" "ours/torch"
for t in "${threads_list[@]}"; do
    ours=${best[$t/ours]}
    for impl in "${impls[@]}"; do
        rate=${best[$t/$impl]}
        ratio=$(python3 -c "print(f'{$ours / $rate:.2f}')" 2>/dev/null || echo n/a)
        name=$impl; [ "$impl" = ours ] && name="metagrad (Rust)"; [ "$impl" = torch ] && name="PyTorch"
        printf '%-8s %-20s %14.3f %10s %12s\n' "$t" "$name" "$rate" "${mem[$t/$impl]}" "$ratio"
    done
done
echo "(best of $rounds alternating rounds; Meta-SGD 5-way 1-shot, 15 queries, meta-batch 32, second order, Adam)"
