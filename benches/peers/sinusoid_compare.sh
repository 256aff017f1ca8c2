#!/usr/bin/env bash
# Meta-SGD sinusoid training throughput, ours against JAX and PyTorch, side by side in one run.
#
#   bash benches/peers/sinusoid_compare.sh [threads...]     (default: 1 2)
#
# Each implementation is pinned to the first T cores with taskset and run under /usr/bin/time
# for its peak resident memory. Ratios are ours / peer (above 1: we are faster).
set -euo pipefail
cd "$(dirname "$0")/../.."
threads_list=("${@:-1 2}")
[ $# -eq 0 ] && threads_list=(1 2)
cargo build --release --quiet --example metasgd_sinusoid
ours_bin=target/release/examples/metasgd_sinusoid
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

# Runs "$@" pinned to $cores, prints "<rate> <peak MiB>" parsed from its output.
measure() {
    local cores=$1 pattern=$2; shift 2
    local log="$out/log" mem="$out/mem"
    taskset -c "$cores" /usr/bin/time -f "%M" -o "$mem" "$@" > "$log" 2>&1 || { cat "$log" >&2; echo "nan nan"; return; }
    local rate
    rate=$(grep -oE "$pattern" "$log" | tail -1 | grep -oE '[0-9.]+' | head -1)
    echo "$rate $(( $(cat "$mem") / 1024 ))"
}

printf '%-8s %-34s %14s %10s %12s\n' threads implementation "meta-iters/s" "peak MiB" "ours/peer"
for t in "${threads_list[@]}"; do
    cores="0-$((t - 1))"
    read -r ours ours_mem < <(measure "$cores" 'throughput: [0-9.]+' "$ours_bin" --iters 3000 --eval-tasks 2 --threads "$t" --out "$out/run")
    printf '%-8s %-34s %14.0f %10s %12s\n' "$t" "metagrad (Rust, vectorised)" "$ours" "$ours_mem" "1.00"
    for impl in jax torch-vmap torch-loop; do
        iters=300; [ "$impl" = torch-loop ] && iters=40
        read -r rate mem < <(measure "$cores" "$impl: [0-9.]+" python3 benches/peers/sinusoid_peers.py "$impl" --iters "$iters" --threads "$t")
        ratio=$(python3 -c "print(f'{$ours / $rate:.2f}' if '$rate' != 'nan' else 'n/a')")
        printf '%-8s %-34s %14.1f %10s %12s\n' "$t" "$impl" "$rate" "$mem" "$ratio"
    done
done
