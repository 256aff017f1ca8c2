#!/usr/bin/env bash
# Learners side by side on Omniglot's held-out alphabets (Early_Aramaic, Tagalog) at an equal,
# reduced budget: the Omniglot table of docs/results.md.
#
#   bash benches/omniglot_table.sh WAYS ITERS [learner...]
#
# WAYS 20: 20-way 1-shot, 1 query per class, meta-batch 16; WAYS 5: 5-way 1-shot, 5 queries
# per class, meta-batch 16. Each learner trains ITERS meta-iterations with the example's
# defaults for it (seed 0), then is evaluated on 600 test tasks with 15 queries per class.
# Logs and checkpoints go to runs/omniglot-table/; one summary line per learner is printed.
set -euo pipefail
cd "$(dirname "$0")/.."
ways=$1 iters=$2
shift 2
learners=("$@")
[ ${#learners[@]} -eq 0 ] && learners=(metasgd maml fomaml fometasgd mamlpp reptile similarity-metasgd)
if [ "$ways" = 20 ]; then queries=1; else queries=5; fi
cargo build --release --quiet --example omniglot
bin=target/release/examples/omniglot
mkdir -p runs/omniglot-table
for learner in "${learners[@]}"; do
    out=runs/omniglot-table/${ways}way-$learner
    rm -rf "$out"
    start=$(date +%s)
    "$bin" train --algo "$learner" --ways "$ways" --shots 1 --queries "$queries" --meta-batch 16 \
        --iters "$iters" --eval-every 0 --eval-tasks 100 --checkpoint-every "$iters" \
        --out "$out" > "$out.train.log" 2>&1
    trained=$(( $(date +%s) - start ))
    "$bin" eval --ways "$ways" --shots 1 --queries 15 --tasks 600 \
        --checkpoint "$out/checkpoint.safetensors" > "$out.eval.log" 2>&1
    echo "$ways-way 1-shot $learner ($iters iterations, ${trained} s): $(grep -o 'validation accuracy.*' "$out.train.log" | tail -1); test $(grep -o 'accuracy: .*' "$out.eval.log")"
done
