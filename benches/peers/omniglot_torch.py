"""The Meta-SGD Omniglot meta-iteration in PyTorch (CPU), for side-by-side throughput.

Same workload as `cargo run --release --example omniglot -- train`: 5-way 1-shot tasks with
15 queries per class, meta-batch 32, MAML's conv net (4 × [conv 3×3 stride 2 padding 1 with
bias, batch norm with the batch's statistics and learned γ, β, ReLU], spatial mean, linear
head), one inner step recorded with `create_graph=True` (second-order meta-gradient), a
learned α per parameter element (initialised to 0.4), and Adam(1e-3) on θ and α.

The images are random 28×28 tensors drawn every iteration: the arithmetic, and so the
throughput, does not depend on the pixel values.

    python3 omniglot_torch.py [--iters N] [--threads T]

prints `torch: <X> meta-iters/s` (timed after a warm-up, best of 3 repeats).
"""

import argparse
import math
import sys
import time

import torch
import torch.nn.functional as F

WAYS, SHOTS, QUERIES, META_BATCH, HIDDEN, SIZE, ALPHA = 5, 1, 15, 32, 64, 28, 0.4


def init_params(generator):
    """Conv weights [O, C, 3, 3] (He-normal), zero conv biases, γ = 1, β = 0, then the head."""
    params = []
    channels = 1
    for _ in range(4):
        std = math.sqrt(2.0 / (channels * 9))
        params.append(torch.randn(HIDDEN, channels, 3, 3, generator=generator) * std)
        params.append(torch.zeros(HIDDEN))
        params.append(torch.ones(HIDDEN))
        params.append(torch.zeros(HIDDEN))
        channels = HIDDEN
    bound = 1.0 / math.sqrt(HIDDEN)
    params.append((torch.rand(WAYS, HIDDEN, generator=generator) * 2 - 1) * bound)
    params.append(torch.zeros(WAYS))
    return params


def forward(params, x):
    for block in range(4):
        w, b, gamma, beta = params[4 * block : 4 * block + 4]
        x = F.conv2d(x, w, b, stride=2, padding=1)
        x = F.batch_norm(x, None, None, gamma, beta, training=True, eps=1e-5)
        x = F.relu(x)
    return F.linear(x.mean(dim=(2, 3)), params[16], params[17])


def sample_tasks(generator):
    """Support [B, N·K, 1, 28, 28] and query [B, N·Q, 1, 28, 28] images and their labels."""
    support = torch.rand(META_BATCH, WAYS * SHOTS, 1, SIZE, SIZE, generator=generator)
    query = torch.rand(META_BATCH, WAYS * QUERIES, 1, SIZE, SIZE, generator=generator)
    support_labels = torch.arange(WAYS).repeat_interleave(SHOTS)
    query_labels = torch.arange(WAYS).repeat_interleave(QUERIES)
    return support, support_labels, query, query_labels


def time_loop(one, iters, warmup):
    """Meta-iterations per second: warm up, then the best of three timed runs."""
    for _ in range(warmup):
        one()
    best = 0.0
    for _ in range(3):
        start = time.perf_counter()
        for _ in range(iters):
            one()
        best = max(best, iters / (time.perf_counter() - start))
    return best


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--iters", type=int, default=5)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    generator = torch.Generator().manual_seed(0)
    params = [p.requires_grad_() for p in init_params(generator)]
    alpha = [torch.full_like(p, ALPHA).requires_grad_() for p in params]
    optimizer = torch.optim.Adam(params + alpha, lr=1e-3)

    def one():
        xs, ys, xq, yq = sample_tasks(generator)
        optimizer.zero_grad()
        total = 0.0
        for task in range(META_BATCH):
            support = F.cross_entropy(forward(params, xs[task]), ys)
            grads = torch.autograd.grad(support, params, create_graph=True)
            adapted = [p - a * g for p, a, g in zip(params, alpha, grads)]
            total = total + F.cross_entropy(forward(adapted, xq[task]), yq)
        (total / META_BATCH).backward()
        optimizer.step()

    rate = time_loop(one, args.iters, args.warmup)
    print(f"torch: {rate:.3f} meta-iters/s")


if __name__ == "__main__":
    sys.exit(main())
