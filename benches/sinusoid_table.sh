#!/usr/bin/env bash
# Every learner on sinusoid regression, K = 5, 10, 20: the table of docs/results.md.
#
#   bash benches/sinusoid_table.sh [learner...]        (default: every learner of the registry)
#
# Each run trains 60,000 meta-iterations with the example's defaults for that learner (seed 0),
# evaluates on 600 new tasks, and on the two shifted families (--shifted-eval). Output: one
# log per run under runs/table/, and a summary line per run on standard output.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet --example metasgd_sinusoid
learners=("$@")
[ ${#learners[@]} -eq 0 ] && learners=(metasgd maml fomaml fometasgd mamlpp reptile similarity similarity-metasgd)
for learner in "${learners[@]}"; do
    for shots in 5 10 20; do
        out=runs/table/$learner-k$shots
        rm -rf "$out" && mkdir -p "$out"
        start=$(date +%s)
        target/release/examples/metasgd_sinusoid --algo "$learner" --shots "$shots" \
            --shifted-eval --out "$out" > "$out/log.txt" 2>&1
        wall=$(( $(date +%s) - start ))
        echo "$learner K=$shots: $(tail -1 "$out/log.txt") [${wall} s]"
        grep "eval mse (" "$out/log.txt" | sed 's/^/    /'
    done
done
