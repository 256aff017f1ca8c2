"""The Meta-SGD sinusoid training step in JAX and PyTorch, for side-by-side throughput.

Same workload as `cargo run --release --example metasgd_sinusoid`: MLP 1-40-40-1 (ReLU),
MAML's sinusoid family, K = 10 support and 10 query points, meta-batch 25, one inner step,
second-order meta-gradient through the inner step, learned per-parameter α, Adam(1e-3) on
θ and α. Tasks are drawn with numpy every iteration, as a training loop would.

    python3 sinusoid_peers.py {jax,torch-loop,torch-vmap} [--iters N] [--threads T]

prints `<impl>: <X> meta-iters/s` (timed after a warm-up, best of 3 repeats).
"""
import argparse
import math
import os
import sys
import time

import numpy as np

K, META_BATCH, SIZES = 10, 25, [1, 40, 40, 1]


def sample_tasks(rng):
    """Support and query sets of META_BATCH sine tasks: arrays [B, K, 1]."""
    amplitude = rng.uniform(0.1, 5.0, (META_BATCH, 1, 1))
    phase = rng.uniform(0.0, math.pi, (META_BATCH, 1, 1))
    xs = rng.uniform(-5.0, 5.0, (META_BATCH, K, 1))
    xq = rng.uniform(-5.0, 5.0, (META_BATCH, K, 1))
    f = lambda x: amplitude * np.sin(x - phase)
    return [a.astype(np.float32) for a in (xs, f(xs), xq, f(xq))]


def init_params(rng):
    """PyTorch-default uniform(±1/sqrt(fan_in)) weights [in, out] and biases [out]."""
    params = []
    for n_in, n_out in zip(SIZES[:-1], SIZES[1:]):
        bound = 1.0 / math.sqrt(n_in)
        params.append(rng.uniform(-bound, bound, (n_in, n_out)).astype(np.float32))
        params.append(rng.uniform(-bound, bound, (n_out,)).astype(np.float32))
    alpha = [rng.uniform(0.005, 0.1, p.shape).astype(np.float32) for p in params]
    return params, alpha


def run_jax(iters, threads):
    os.environ["XLA_FLAGS"] = f"--xla_cpu_multi_thread_eigen={'true' if threads > 1 else 'false'} intra_op_parallelism_threads={threads}"
    import jax
    import jax.numpy as jnp

    def forward(params, x):
        for i in range(0, len(params), 2):
            x = x @ params[i] + params[i + 1]
            if i + 2 < len(params):
                x = jax.nn.relu(x)
        return x

    def loss(params, x, y):
        return jnp.mean((forward(params, x) - y) ** 2)

    def task_loss(meta, xs, ys, xq, yq):
        params, alpha = meta
        g = jax.grad(loss)(params, xs, ys)
        adapted = [p - a * gi for p, a, gi in zip(params, alpha, g)]
        return loss(adapted, xq, yq)

    def meta_loss(meta, xs, ys, xq, yq):
        return jnp.mean(jax.vmap(task_loss, in_axes=(None, 0, 0, 0, 0))(meta, xs, ys, xq, yq))

    @jax.jit
    def step(meta, m, v, t, xs, ys, xq, yq):
        value, grads = jax.value_and_grad(meta_loss)(meta, xs, ys, xq, yq)
        b1, b2, lr, eps = 0.9, 0.999, 1e-3, 1e-8
        m = jax.tree_util.tree_map(lambda m, g: b1 * m + (1 - b1) * g, m, grads)
        v = jax.tree_util.tree_map(lambda v, g: b2 * v + (1 - b2) * g * g, v, grads)
        meta = jax.tree_util.tree_map(
            lambda p, m, v: p - lr * (m / (1 - b1**t)) / (jnp.sqrt(v / (1 - b2**t)) + eps), meta, m, v
        )
        return meta, m, v, value

    rng = np.random.default_rng(0)
    params, alpha = init_params(rng)
    meta = ([jnp.asarray(p) for p in params], [jnp.asarray(a) for a in alpha])
    zeros = jax.tree_util.tree_map(jnp.zeros_like, meta)
    m, v = zeros, zeros

    def one(t):
        nonlocal meta, m, v
        batch = [jnp.asarray(a) for a in sample_tasks(rng)]
        meta, m, v, value = step(meta, m, v, float(t), *batch)
        return value

    return time_loop(one, iters, block=lambda value: value.block_until_ready())


def torch_setup(threads):
    import torch

    torch.set_num_threads(threads)
    rng = np.random.default_rng(0)
    params, alpha = init_params(rng)
    leaves = [torch.tensor(p, requires_grad=True) for p in params + alpha]
    optimizer = torch.optim.Adam(leaves, lr=1e-3)
    n = len(params)
    return torch, rng, leaves[:n], leaves[n:], optimizer


def forward_torch(torch, params, x):
    for i in range(0, len(params), 2):
        x = x @ params[i] + params[i + 1]
        if i + 2 < len(params):
            x = torch.relu(x)
    return x


def run_torch_loop(iters, threads):
    """The classic way: a Python loop over tasks, autograd.grad(create_graph=True)."""
    torch, rng, params, alpha, optimizer = torch_setup(threads)

    def one(_):
        xs, ys, xq, yq = (torch.from_numpy(a) for a in sample_tasks(rng))
        optimizer.zero_grad()
        total = 0.0
        for b in range(META_BATCH):
            support = torch.mean((forward_torch(torch, params, xs[b]) - ys[b]) ** 2)
            grads = torch.autograd.grad(support, params, create_graph=True)
            adapted = [p - a * g for p, a, g in zip(params, alpha, grads)]
            total = total + torch.mean((forward_torch(torch, adapted, xq[b]) - yq[b]) ** 2)
        (total / META_BATCH).backward()
        optimizer.step()

    return time_loop(one, iters)


def run_torch_vmap(iters, threads):
    """torch.func: grad of the inner loss, vmapped over tasks, differentiated again."""
    torch, rng, params, alpha, optimizer = torch_setup(threads)
    from torch.func import grad, vmap

    def loss(p, x, y):
        return torch.mean((forward_torch(torch, p, x) - y) ** 2)

    def task_loss(p, a, xs, ys, xq, yq):
        g = grad(loss)(p, xs, ys)
        adapted = [pi - ai * gi for pi, ai, gi in zip(p, a, g)]
        return loss(adapted, xq, yq)

    batched = vmap(task_loss, in_dims=(None, None, 0, 0, 0, 0))

    def one(_):
        xs, ys, xq, yq = (torch.from_numpy(a) for a in sample_tasks(rng))
        optimizer.zero_grad()
        batched(params, alpha, xs, ys, xq, yq).mean().backward()
        optimizer.step()

    return time_loop(one, iters)


def time_loop(one, iters, block=lambda value: None):
    """Meta-iterations per second: warm up, then the best of three timed runs."""
    for t in range(1, 21):
        block(one(t))
    best = 0.0
    t = 21
    for _ in range(3):
        start = time.perf_counter()
        value = None
        for _ in range(iters):
            value = one(t)
            t += 1
        block(value)
        best = max(best, iters / (time.perf_counter() - start))
    return best


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("impl", choices=["jax", "torch-loop", "torch-vmap"])
    parser.add_argument("--iters", type=int, default=200)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    run = {"jax": run_jax, "torch-loop": run_torch_loop, "torch-vmap": run_torch_vmap}[args.impl]
    rate = run(args.iters, args.threads)
    print(f"{args.impl}: {rate:.1f} meta-iters/s")


if __name__ == "__main__":
    sys.exit(main())
