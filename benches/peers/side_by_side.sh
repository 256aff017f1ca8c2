# Shared by the *_compare.sh scripts (sourced, not run): implementations take turns, each keeps
# its best rate, and a table of rates, peak memory and ratios is printed.
#
# The machine is shared and noisy, so the implementations alternate for R rounds and each
# keeps its best figure; a burst of load then hits all of them alike. Each run is pinned to
# the first T cores with taskset and its peak resident memory read with /usr/bin/time.
#
# The sourcing script defines `impls=(ours …)`, a temporary folder `$out`, and
# `run_one IMPL THREADS CORES`, which runs one measurement through `measure` and prints its
# "<rate> <peak MiB>".

declare -A best mem

# measure CORES PATTERN COMMAND…: runs the command pinned to CORES; prints "<rate> <peak MiB>",
# the rate being the last number of the last output line matching PATTERN.
measure() {
    local cores=$1 pattern=$2; shift 2
    local log="$out/log" peak="$out/mem"
    if ! taskset -c "$cores" /usr/bin/time -f "%M" -o "$peak" "$@" > "$log" 2>&1; then
        cat "$log" >&2
        echo "nan nan"
        return
    fi
    local rate
    rate=$(grep -oE "$pattern" "$log" | tail -1 | grep -oE '[0-9]+(\.[0-9]+)?' | tail -1)
    echo "$rate $(( $(tail -1 "$peak") / 1024 ))"
}

# alternate ROUNDS THREADS…: for each thread count, ROUNDS rounds of every implementation in
# turn, keeping each one's best rate (and the peak memory of that run).
alternate() {
    local rounds=$1; shift
    local t r impl rate m key
    for t in "$@"; do
        for ((r = 1; r <= rounds; r++)); do
            for impl in "${impls[@]}"; do
                read -r rate m < <(run_one "$impl" "$t" "0-$((t - 1))")
                key="$t/$impl"
                if [ -z "${best[$key]:-}" ] || python3 -c "import sys; sys.exit(0 if $rate > ${best[$key]} else 1)" 2>/dev/null; then
                    best[$key]=$rate; mem[$key]=$m
                fi
            done
        done
    done
}

# print_table RATE_FORMAT RATIO_HEADER THREADS…: one line per thread count and implementation,
# with the ratio ours / that implementation (above 1: we are faster). Names come from the
# associative array `names` when the script sets it.
print_table() {
    local format=$1 header=$2; shift 2
    local t impl ours rate ratio name
    printf '%-8s %-28s %14s %10s %12s\n' threads implementation "meta-iters/s" "peak MiB" "$header"
    for t in "$@"; do
        ours=${best[$t/ours]}
        for impl in "${impls[@]}"; do
            rate=${best[$t/$impl]}
            ratio=$(python3 -c "print(f'{$ours / $rate:.2f}')" 2>/dev/null || echo n/a)
            name=${names[$impl]:-$impl}
            printf "%-8s %-28s %14${format} %10s %12s\n" "$t" "$name" "$rate" "${mem[$t/$impl]}" "$ratio"
        done
    done
}
