#!/usr/bin/env bash
# Square f32 matmul, side by side in one run: our `matmul_bench` example and NumPy /
# PyTorch (benches/peers/matmul_peers.py), then a table of GFLOP/s.
#
#   benches/peers/matmul_compare.sh [--rounds R] [SIZE ...]    (default: 3 rounds,
#                                                                sizes 64 128 256 512 1024)
#
# The machine may be shared and noisy, so the two programs take turns, R rounds of each
# (every figure in a round is already the best of at least 10 runs), and the table shows
# each library's best round: a burst of load from elsewhere then hits both sides alike.
set -euo pipefail

usage() {
    echo "usage: $0 [--rounds R] [SIZE ...]" >&2
    exit 2
}

rounds=3
sizes=()
while [ $# -gt 0 ]; do
    case "$1" in
        --rounds)
            [ $# -ge 2 ] && [[ "$2" =~ ^[1-9][0-9]*$ ]] || usage
            rounds="$2"
            shift 2
            ;;
        *)
            [[ "$1" =~ ^[1-9][0-9]*$ ]] || { echo "$0: bad size '$1'" >&2; usage; }
            sizes+=("$1")
            shift
            ;;
    esac
done
if [ ${#sizes[@]} -eq 0 ]; then
    sizes=(64 128 256 512 1024)
fi

root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
cargo build --release --quiet --example matmul_bench

results=""
for round in $(seq "$rounds"); do
    echo "round $round/$rounds ..." >&2
    results+="$(./target/release/examples/matmul_bench "${sizes[@]}")"$'\n'
    results+="$(python3 benches/peers/matmul_peers.py "${sizes[@]}")"$'\n'
done

# Lines look like `<name> <n>: <x> GFLOP/s`; a skipped library prints a note instead.
printf '%s' "$results" | grep -v 'GFLOP/s$' | sort -u || true
printf '%s' "$results" | awk -v sizes="${sizes[*]}" -v rounds="$rounds" '
    / GFLOP\/s$/ {
        n = $2; sub(":", "", n)
        if ($3 + 0 > best[$1, n] + 0) best[$1, n] = $3
    }
    function cell(x) { return x == "" ? "-" : x }
    END {
        printf "%6s %10s %10s %10s %12s\n", "size", "ours", "numpy", "torch", "ours/numpy"
        count = split(sizes, list, " ")
        for (i = 1; i <= count; i++) {
            n = list[i]
            ours = best["matmul", n]; np = best["numpy", n]; th = best["torch", n]
            ratio = (np == "" || ours == "") ? "-" : sprintf("%.2f", ours / np)
            printf "%6s %10s %10s %10s %12s\n", n, cell(ours), cell(np), cell(th), ratio
        }
        printf "(GFLOP/s, square f32 C = A·B; best of %d rounds, each the best of >= 10 runs)\n", rounds
    }'
