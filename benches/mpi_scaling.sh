#!/usr/bin/env bash
# Scaling across processes: 1 rank × 1 thread, 2 ranks × 1 thread and 1 rank × 2 threads, taking
# turns for --rounds rounds, on the Omniglot conv meta-iteration (Meta-SGD, second order, 5-way
# 1-shot, 15 queries, meta-batch 32) and on sinusoid Meta-SGD (meta-batch 25, chunks of 13).
# Prints each run's throughput (meta-steps only) and, for two ranks, the communication line.
# Two ranks run twice: as Open MPI places them by default (each bound to its own core) and with
# `--bind-to none` (free to move, as threads are): on a machine shared with other work a bound
# rank cannot leave a core that something else is using.
#
#   cargo build --release --features mpi --example omniglot --example metasgd_sinusoid
#   bash benches/mpi_scaling.sh --rounds 3 --data <omniglot folder> --data <another>
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=3 omniglot_iters=8 sinusoid_iters=4000 data=()
while [ $# -gt 0 ]; do
    case $1 in
        --rounds) rounds=$2; shift 2 ;;
        --omniglot-iters) omniglot_iters=$2; shift 2 ;;
        --sinusoid-iters) sinusoid_iters=$2; shift 2 ;;
        --data) data+=(--data "$2"); shift 2 ;;
        *) echo "unknown argument $1" >&2; exit 2 ;;
    esac
done
bin=target/release/examples
out=${TMPDIR:-/tmp}/mpi-scaling
launch=(mpirun)
if [ "$(id -u)" -eq 0 ]; then launch+=(--allow-run-as-root); fi

omniglot=("$bin/omniglot" train --ways 5 --shots 1 --queries 15 --meta-batch 32 "${data[@]}"
    --iters "$omniglot_iters" --eval-every 0 --eval-tasks 1 --checkpoint-every 1000000
    --overwrite --out "$out/omniglot")
sinusoid=("$bin/metasgd_sinusoid" --iters "$sinusoid_iters" --eval-tasks 2 --overwrite --out "$out/sinusoid")

report() { grep -E "throughput|communication" | tr '\n' ' '; echo; }
for round in $(seq "$rounds"); do
    for workload in omniglot sinusoid; do
        declare -n command=$workload
        echo "round $round, $workload, load $(cut -d' ' -f1 /proc/loadavg)"
        printf '  1 rank  x 1 thread:  '; "${command[@]}" --threads 1 | report
        printf '  2 ranks x 1 thread:  '; "${launch[@]}" -np 2 "${command[@]}" --threads 1 | report
        printf '  2 ranks x 1 thread, unbound: '
        "${launch[@]}" --bind-to none -np 2 "${command[@]}" --threads 1 | report
        printf '  1 rank  x 2 threads: '; "${command[@]}" --threads 2 | report
    done
done
