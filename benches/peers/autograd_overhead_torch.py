"""PyTorch eager reference for `benches/autograd_overhead.rs`: the same two workloads.

A 1-40-40-1 ReLU MLP in float32 on a batch of 10 inputs, written with plain tensor ops
(x @ w.T + b, relu) exactly as `benches/workloads/mlp_overhead.rs` writes it:
  first_order:  forward, then torch.autograd.grad of the MSE loss w.r.t. the 6 parameters;
  second_order: the same with create_graph=True, then the gradient of the sum of squared
                gradients w.r.t. the parameters.

Timing: best over REPEATS of the mean time per iteration of a loop of ITERATIONS calls
(time.perf_counter), after a warm-up; the same protocol as `examples/autograd_overhead.rs`.
Prints one parseable line per workload and thread count:

    torch_threads=1 first_order: 123.45 us/iter

Usage: python3 autograd_overhead_torch.py [ITERATIONS [REPEATS [THREADS ...]]]
"""

import functools
import operator
import sys
import time

import torch

BATCH, HIDDEN = 10, 40


def make_mlp(seed=0):
    g = torch.Generator().manual_seed(seed)

    def uniform(shape, fan_in):
        bound = 1.0 / fan_in**0.5
        t = (torch.rand(shape, generator=g, dtype=torch.float32) * 2 - 1) * bound
        return t.requires_grad_(True)

    params = [
        uniform((HIDDEN, 1), 1),
        uniform((HIDDEN,), 1),
        uniform((HIDDEN, HIDDEN), HIDDEN),
        uniform((HIDDEN,), HIDDEN),
        uniform((1, HIDDEN), HIDDEN),
        uniform((1,), HIDDEN),
    ]
    x = torch.linspace(-5.0, 5.0, BATCH, dtype=torch.float32).reshape(BATCH, 1)
    y = torch.sin(x)
    return params, x, y


def loss_fn(params, x, y):
    w1, b1, w2, b2, w3, b3 = params
    h1 = torch.relu(x.matmul(w1.t()) + b1)
    h2 = torch.relu(h1.matmul(w2.t()) + b2)
    out = h2.matmul(w3.t()) + b3
    return ((out - y) * (out - y)).mean()


def first_order(params, x, y):
    loss = loss_fn(params, x, y)
    return torch.autograd.grad(loss, params)


def second_order(params, x, y):
    loss = loss_fn(params, x, y)
    grads = torch.autograd.grad(loss, params, create_graph=True)
    # reduce, not sum(): sum() would start from 0 and add one more op than the Rust side.
    squared_norm = functools.reduce(operator.add, ((g * g).sum() for g in grads))
    return torch.autograd.grad(squared_norm, params)


def best_us_per_iter(f, iterations, repeats):
    for _ in range(iterations // 10 + 1):
        f()
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(iterations):
            f()
        best = min(best, (time.perf_counter() - start) * 1e6 / iterations)
    return best


def main():
    args = sys.argv[1:]
    iterations = int(args[0]) if len(args) > 0 else 2000
    repeats = int(args[1]) if len(args) > 1 else 7
    threads = [int(t) for t in args[2:]] or [1, 2]
    params, x, y = make_mlp()
    for n in threads:
        torch.set_num_threads(n)
        for name, f in (("first_order", first_order), ("second_order", second_order)):
            us = best_us_per_iter(lambda: f(params, x, y), iterations, repeats)
            print(f"torch_threads={n} {name}: {us:.2f} us/iter", flush=True)


if __name__ == "__main__":
    main()
