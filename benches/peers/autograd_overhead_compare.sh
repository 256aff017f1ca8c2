#!/usr/bin/env bash
# Runs the autograd-overhead workloads in metagrad (examples/autograd_overhead.rs) and in
# PyTorch eager (benches/peers/autograd_overhead_torch.py) back to back, and prints a table of
# microseconds per iteration with the ratio PyTorch time / our time (above 1: we are faster).
#
# On a shared machine the figures wander, so the two programs alternate for ROUNDS rounds and
# each figure is the best over all rounds (each program already takes the best of REPEATS).
#
# Usage: benches/peers/autograd_overhead_compare.sh [ITERATIONS [REPEATS [ROUNDS]]]
set -euo pipefail

iterations=${1:-2000}
repeats=${2:-7}
rounds=${3:-3}
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"

cargo build --quiet --release --example autograd_overhead
ours="$root/target/release/examples/autograd_overhead"
# PyTorch runs fewer iterations: it is slower, and the best of many repeats is what counts.
torch_iterations=$(( iterations / 4 > 100 ? iterations / 4 : 100 ))

results=$(mktemp)
trap 'rm -f "$results"' EXIT
for round in $(seq "$rounds"); do
    echo "round $round/$rounds" >&2
    "$ours" "$iterations" "$repeats" | sed 's/^/metagrad /' >>"$results"
    python3 benches/peers/autograd_overhead_torch.py "$torch_iterations" "$repeats" 1 2 \
        | sed 's/^/torch /' >>"$results"
done

# Lines look like "metagrad first_order: 12.34 us/iter" and
# "torch torch_threads=1 first_order: 123.45 us/iter"; keep the best of each.
awk '
    { us = $(NF-1); key = ($1 == "torch") ? $2 " " $3 : "metagrad " $2
      sub(/:$/, "", key)
      if (!(key in best) || us < best[key]) best[key] = us }
    END {
        printf "%-14s %14s %16s %16s %10s %10s\n", "workload", "metagrad us", "torch(1t) us", "torch(2t) us", "ratio 1t", "ratio 2t"
        n = split("first_order second_order", names, " ")
        for (i = 1; i <= n; i++) {
            w = names[i]; ours = best["metagrad " w]
            t1 = best["torch_threads=1 " w]; t2 = best["torch_threads=2 " w]
            printf "%-14s %14.2f %16.2f %16.2f %9.1fx %9.1fx\n", w, ours, t1, t2, t1 / ours, t2 / ours
        }
    }' "$results"
