"""Meta-training the coordinatewise LSTM optimiser on quadratics in PyTorch (CPU), for
side-by-side throughput.

Same workload as `cargo run --release --example learned_optimizer` (its defaults): batches of
32 random 10-d quadratics f(θ) = Σ_b ‖W_b θ_b − y_b‖² (W, y, θ₀ with N(0, 1) entries, float32),
optimised for 100 steps in truncations of 20; each step preprocesses every gradient
coordinate into (log|g|/p, sign g) or (−1, e^p·g) with p = 10, runs a two-layer LSTM of 20
units over the 320 coordinates as one batch, and adds 0.1 × a linear read-out to θ. The
gradient is a constant of the step (the first-order meta-gradient: no `create_graph`); the
meta-loss is the sum of f over the truncation's steps; after each truncation the gradient
norm is clipped and Adam(3e-3) steps the LSTM's weights. One meta-iteration = one truncation.

    python3 learned_optimizer_torch.py [--iters N] [--threads T]

prints `torch: <X> meta-iters/s` (timed after a warm-up, best of 3 repeats).
"""

import argparse
import math
import sys
import time

import torch

FUNCTIONS, DIM, HIDDEN, STEPS, TRUNCATION, P, SCALE = 32, 10, 20, 100, 20, 10.0, 0.1


def preprocess(g):
    """g [N] ↦ [N, 2] (Andrychowicz et al. 2016, appendix A)."""
    large = g.abs() >= math.exp(-P)
    magnitude = torch.where(large, g.abs().clamp_min(math.exp(-P)).log() / P, -1.0)
    sign = torch.where(large, g.sign(), g * math.exp(P))
    return torch.stack([magnitude, sign], dim=1)


class Optimiser(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.cells = torch.nn.ModuleList(
            [torch.nn.LSTMCell(2, HIDDEN), torch.nn.LSTMCell(HIDDEN, HIDDEN)]
        )
        self.out = torch.nn.Linear(HIDDEN, 1)

    def forward(self, g, state):
        x, next_state = preprocess(g), []
        for cell, (h, c) in zip(self.cells, state):
            h, c = cell(x, (h, c))
            next_state.append((h, c))
            x = h
        return SCALE * self.out(x).squeeze(1), next_state


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--iters", type=int, default=50)
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    optimiser = Optimiser()
    adam = torch.optim.Adam(optimiser.parameters(), lr=3e-3)
    n = FUNCTIONS * DIM
    clip = 10.0 * math.sqrt(sum(p.numel() for p in optimiser.parameters()))
    problem = {}

    def fresh():
        problem["w"] = torch.randn(FUNCTIONS, DIM, DIM)
        problem["y"] = torch.randn(FUNCTIONS, DIM, 1)
        problem["theta"] = torch.randn(FUNCTIONS, DIM)
        problem["state"] = [(torch.zeros(n, HIDDEN), torch.zeros(n, HIDDEN)) for _ in range(2)]
        problem["step"] = 0

    def f(theta):
        return ((problem["w"] @ theta.unsqueeze(-1) - problem["y"]) ** 2).sum()

    def one():
        """One truncation and one Adam step; a fresh problem every STEPS steps."""
        if problem.get("step", STEPS) >= STEPS:
            fresh()
        theta = problem["theta"].detach().requires_grad_()
        state = [(h.detach(), c.detach()) for h, c in problem["state"]]
        loss, meta_loss = f(theta), 0.0
        for _ in range(TRUNCATION):
            (g,) = torch.autograd.grad(loss, theta, retain_graph=True)
            update, state = optimiser(g.reshape(n), state)
            theta = theta + update.reshape(FUNCTIONS, DIM)
            loss = f(theta)
            meta_loss = meta_loss + loss
        adam.zero_grad()
        meta_loss.backward()
        torch.nn.utils.clip_grad_norm_(optimiser.parameters(), clip)
        adam.step()
        problem["theta"], problem["state"] = theta, state
        problem["step"] += TRUNCATION

    for _ in range(args.warmup):
        one()
    best = 0.0
    for _ in range(3):
        start = time.perf_counter()
        for _ in range(args.iters):
            one()
        best = max(best, args.iters / (time.perf_counter() - start))
    print(f"torch: {best:.2f} meta-iters/s")


if __name__ == "__main__":
    sys.exit(main())
