"""Prototypical-network training on Omniglot in PyTorch (CPU), for side-by-side throughput.

Same workload as `omniglot train --algo protonet --ways 60 --shots 1 --queries 5
--meta-batch 1`: one 60-way 1-shot episode with 5 queries per class per step (60 support and
300 query images through the trunk), MAML's conv net without its head as the embedding (4 ×
[conv 3×3 stride 2 padding 1 with bias, batch norm with the batch's statistics and learned γ,
β, ReLU], spatial mean: a 64-d embedding), prototypes = mean support embedding per class,
logits = −squared Euclidean distance to each prototype, cross-entropy on the queries, and
Adam(1e-3) on the trunk. Support and queries go through the trunk as two batches (60 and
300 images), as ours does, so each has its own batch statistics.

The images are random 28×28 tensors drawn every step: the arithmetic, and so the throughput,
does not depend on the pixel values.

    python3 protonet_torch.py [--iters N] [--threads T]

prints `torch: <X> episodes/s` (timed after a warm-up, best of 3 repeats).
"""

import argparse
import math
import sys
import time

import torch
import torch.nn.functional as F

WAYS, SHOTS, QUERIES, HIDDEN, SIZE = 60, 1, 5, 64, 28


def init_trunk(generator):
    """Conv weights [O, C, 3, 3] (He-normal), zero conv biases, γ = 1, β = 0."""
    params = []
    channels = 1
    for _ in range(4):
        std = math.sqrt(2.0 / (channels * 9))
        params.append(torch.randn(HIDDEN, channels, 3, 3, generator=generator) * std)
        params.append(torch.zeros(HIDDEN))
        params.append(torch.ones(HIDDEN))
        params.append(torch.zeros(HIDDEN))
        channels = HIDDEN
    return params


def embed(params, x):
    for block in range(4):
        w, b, gamma, beta = params[4 * block : 4 * block + 4]
        x = F.conv2d(x, w, b, stride=2, padding=1)
        x = F.batch_norm(x, None, None, gamma, beta, training=True, eps=1e-5)
        x = F.relu(x)
    return x.mean(dim=(2, 3))


def time_loop(one, iters, warmup):
    """Episodes per second: warm up, then the best of three timed runs."""
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
    parser.add_argument("--iters", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    generator = torch.Generator().manual_seed(0)
    params = [p.requires_grad_() for p in init_trunk(generator)]
    optimizer = torch.optim.Adam(params, lr=1e-3)
    query_labels = torch.arange(WAYS).repeat_interleave(QUERIES)

    def one():
        support_images = torch.rand(WAYS * SHOTS, 1, SIZE, SIZE, generator=generator)
        query_images = torch.rand(WAYS * QUERIES, 1, SIZE, SIZE, generator=generator)
        optimizer.zero_grad()
        support, query = embed(params, support_images), embed(params, query_images)
        prototypes = support.reshape(WAYS, SHOTS, HIDDEN).mean(dim=1)
        logits = -((query[:, None, :] - prototypes[None, :, :]) ** 2).sum(dim=2)
        F.cross_entropy(logits, query_labels).backward()
        optimizer.step()

    rate = time_loop(one, args.iters, args.warmup)
    print(f"torch: {rate:.3f} episodes/s")


if __name__ == "__main__":
    sys.exit(main())
