#!/usr/bin/env bash
# Peak memory and time of second-order meta-training with n inner steps: ours recorded, ours
# recomputed (`--recompute`), and PyTorch (functional MAML, create_graph=True), on the same
# workload — MAML's conv4 on 20-way 5-shot tasks of random 28×28 images, 5 queries per class,
# meta-batch 16, one task's graph at a time, Adam.
#
#   bash benches/peers/memory_compare.sh [--algo maml|metasgd] [--iters I] [--warmup W] [steps...]
#                                            (default: maml, 1 timed after 1 warm-up, steps 1 5 10)
#
# For each n the three run in turn, one thread each, pinned to core 0, each under a limit of
# 8 GiB of address space beyond what it maps at start (`ulimit -v`): a run that would exceed it
# fails and is printed as `over`. Peak RSS is the process's own (VmHWM / getrusage), in MiB;
# time is the mean seconds per timed meta-iteration. Ratios are against the recorded run
# (time) and against PyTorch (memory).
set -euo pipefail
cd "$(dirname "$0")/../.."
algo=maml iters=1 warmup=1
while [ $# -gt 0 ]; do
    case $1 in
        --algo) algo=$2; shift 2 ;;
        --iters) iters=$2; shift 2 ;;
        --warmup) warmup=$2; shift 2 ;;
        *) break ;;
    esac
done
steps_list=("$@")
[ ${#steps_list[@]} -eq 0 ] && steps_list=(1 5 10)
cargo build --release --quiet --example unroll_memory
ours=target/release/examples/unroll_memory
common=(--ways 20 --shots 5 --queries 5 --meta-batch 16 --iters "$iters" --warmup "$warmup" --threads 1)
# Virtual memory is not resident memory: torch and rayon reserve address space they never
# touch, so the cap is generous (16 GiB of address space) and the peak RSS is what is reported.
cap_kib=$((16 * 1024 * 1024))

# run NAME COMMAND…: prints "<s/iter> <peak MiB>", or "over over" if the run failed.
run() {
    local name=$1 log
    shift
    log=$(mktemp)
    if (ulimit -v $cap_kib; taskset -c 0 "$@") > "$log" 2>&1; then
        grep -oE 'mean [0-9.]+ s/iter, peak RSS [0-9]+' "$log" | tail -1 |
            awk '{print $2, $6}'
    else
        echo "$name:" >&2
        tail -3 "$log" >&2
        echo "over over"
    fi
    rm -f "$log"
}

printf '%-6s %-22s %10s %10s %14s %16s\n' steps run "s/iter" "peak MiB" "time/recorded" "memory/PyTorch"
for n in "${steps_list[@]}"; do
    read -r rec_t rec_m < <(run recorded "$ours" --algo "$algo" --steps "$n" "${common[@]}")
    read -r re_t re_m < <(run recompute "$ours" --algo "$algo" --steps "$n" --recompute "${common[@]}")
    read -r pt_t pt_m < <(run torch python3 benches/peers/unroll_memory_torch.py --algo "$algo" --steps "$n" "${common[@]}")
    ratio() { python3 -c "print(f'{$1 / $2:.2f}')" 2>/dev/null || echo n/a; }
    printf '%-6s %-22s %10s %10s %14s %16s\n' "$n" "ours, recorded" "$rec_t" "$rec_m" 1.00 "$(ratio "$rec_m" "$pt_m")"
    printf '%-6s %-22s %10s %10s %14s %16s\n' "$n" "ours, --recompute" "$re_t" "$re_m" "$(ratio "$re_t" "$rec_t")" "$(ratio "$re_m" "$pt_m")"
    printf '%-6s %-22s %10s %10s %14s %16s\n' "$n" "PyTorch" "$pt_t" "$pt_m" "$(ratio "$pt_t" "$rec_t")" 1.00
done
echo "($algo, 20-way 5-shot, 5 queries per class, meta-batch 16, one thread; $iters timed after $warmup warm-up)"
