#!/usr/bin/env python3
"""Square single-precision matmul speed of NumPy (OpenBLAS) and PyTorch, for comparison
with `examples/matmul_bench.rs`.

    python3 benches/peers/matmul_peers.py 256 512 1024

prints one line per library and size, `numpy <n>: <x> GFLOP/s` (and `torch <n>: ...`),
timed like the Rust example: 2·n³ operations over the best of at least 10 runs lasting at
least a second in all, after a warm-up. PyTorch is skipped, with a note, if not importable.
"""

import sys
import time

DEFAULT_SIZES = [64, 128, 256, 512, 1024]
MIN_RUNS = 10
MIN_TIME = 1.0


def best_time(f):
    f()
    start, best, runs = time.perf_counter(), float("inf"), 0
    while runs < MIN_RUNS or time.perf_counter() - start < MIN_TIME:
        t = time.perf_counter()
        f()
        best = min(best, time.perf_counter() - t)
        runs += 1
    return best


def parse_sizes(args):
    sizes = []
    for arg in args:
        try:
            n = int(arg)
        except ValueError:
            n = 0
        if n <= 0:
            print(f"matmul_peers: bad size {arg!r}: expected a positive integer", file=sys.stderr)
            sys.exit(2)
        sizes.append(n)
    return sizes or DEFAULT_SIZES


def report(name, n, seconds):
    print(f"{name} {n}: {2 * n**3 / seconds / 1e9:.1f} GFLOP/s", flush=True)


def main():
    sizes = parse_sizes(sys.argv[1:])
    import numpy as np

    rng = np.random.default_rng(0)
    for n in sizes:
        a = rng.uniform(-1, 1, (n, n)).astype(np.float32)
        b = rng.uniform(-1, 1, (n, n)).astype(np.float32)
        report("numpy", n, best_time(lambda: a @ b))

    try:
        import torch
    except ImportError:
        print("torch: not importable, skipped", flush=True)
        return
    torch.manual_seed(0)
    for n in sizes:
        a = torch.rand(n, n, dtype=torch.float32) * 2 - 1
        b = torch.rand(n, n, dtype=torch.float32) * 2 - 1
        report("torch", n, best_time(lambda: a @ b))


if __name__ == "__main__":
    main()
