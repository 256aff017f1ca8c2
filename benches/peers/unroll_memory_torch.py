"""Second-order MAML / Meta-SGD with several inner steps in PyTorch (CPU): peak memory and
time per meta-iteration, for `memory_compare.sh` beside `cargo run --example unroll_memory`.

The same workload: MAML's conv4 (64 filters; conv 3×3 stride 2 padding 1 with bias, batch norm
with the batch's statistics and learned γ, β, ReLU; spatial mean, linear head), N-way K-shot
tasks of random 28×28 images with Q queries per class, `--steps` inner steps recorded with
`create_graph=True`, Adam(1e-3) on θ (and Meta-SGD's α). Functional MAML, written the
memory-friendly way: each task's query loss is back-propagated before the next task starts
(as ours frees each task's graph), so only one task's graph is alive at a time.

    python3 unroll_memory_torch.py --algo maml --ways 20 --shots 5 --queries 5 --steps 5 \
        --meta-batch 16 --iters 3 --warmup 1 --threads 1

prints the seconds of each timed meta-iteration, and `torch: mean <s> s/iter, peak RSS <MiB>`
(peak RSS from getrusage: the largest resident set of the process).
"""

import argparse
import math
import resource
import sys
import time

import torch
import torch.nn.functional as F

HIDDEN, SIZE, LR = 64, 28, 0.1


def init_params(ways, generator):
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
    params.append((torch.rand(ways, HIDDEN, generator=generator) * 2 - 1) * bound)
    params.append(torch.zeros(ways))
    return params


def forward(params, x):
    for block in range(4):
        w, b, gamma, beta = params[4 * block : 4 * block + 4]
        x = F.conv2d(x, w, b, stride=2, padding=1)
        x = F.batch_norm(x, None, None, gamma, beta, training=True, eps=1e-5)
        x = F.relu(x)
    return F.linear(x.mean(dim=(2, 3)), params[16], params[17])


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--algo", choices=["maml", "metasgd"], default="maml")
    parser.add_argument("--ways", type=int, default=20)
    parser.add_argument("--shots", type=int, default=5)
    parser.add_argument("--queries", type=int, default=5)
    parser.add_argument("--steps", type=int, default=1)
    parser.add_argument("--meta-batch", type=int, default=16)
    parser.add_argument("--iters", type=int, default=3)
    parser.add_argument("--warmup", type=int, default=1)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    generator = torch.Generator().manual_seed(0)
    params = [p.requires_grad_() for p in init_params(args.ways, generator)]
    learned = params
    if args.algo == "metasgd":
        rates = [torch.full_like(p, LR).requires_grad_() for p in params]
        learned = params + rates
    else:
        rates = [LR] * len(params)
    optimizer = torch.optim.Adam(learned, lr=1e-3)
    ys = torch.arange(args.ways).repeat_interleave(args.shots)
    yq = torch.arange(args.ways).repeat_interleave(args.queries)

    def one():
        optimizer.zero_grad()
        total = 0.0
        for _ in range(args.meta_batch):
            xs = torch.rand(args.ways * args.shots, 1, SIZE, SIZE, generator=generator)
            xq = torch.rand(args.ways * args.queries, 1, SIZE, SIZE, generator=generator)
            adapted = params
            for _ in range(args.steps):
                support = F.cross_entropy(forward(adapted, xs), ys)
                grads = torch.autograd.grad(support, adapted, create_graph=True)
                adapted = [p - a * g for p, a, g in zip(adapted, rates, grads)]
            loss = F.cross_entropy(forward(adapted, xq), yq) / args.meta_batch
            loss.backward()
            total += loss.item()
        optimizer.step()
        return total

    seconds = []
    for iteration in range(args.warmup + args.iters):
        start = time.perf_counter()
        loss = one()
        if iteration >= args.warmup:
            seconds.append(time.perf_counter() - start)
        print(f"iteration {iteration}: meta-loss {loss:.4f}", flush=True)
    mean = sum(seconds) / max(1, len(seconds))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print("seconds per meta-iteration: " + " ".join(f"{s:.2f}" for s in seconds))
    print(f"torch: mean {mean:.3f} s/iter, peak RSS {peak:.0f} MiB")


if __name__ == "__main__":
    sys.exit(main())
