"""Train and evaluate sinusoid meta-learning in JAX with this project's protocol, as an
independent check of the Rust results (docs/results.md).

    python3 sinusoid_accuracy_jax.py --algo {metasgd,maml,fomaml} --shots K [--iters N] [--seed S]

Setup: MLP 1-40-40-1 (ReLU), MAML's sinusoid family (A ~ U[0.1, 5], phase ~ U[0, pi],
x ~ U[-5, 5]), K support and K query points, meta-batch 25, one inner step (MAML/FOMAML
alpha = 0.01; Meta-SGD alpha ~ U[0.005, 0.1] learned), Adam(1e-3). Evaluation: 600 new tasks,
adapt on K random points, MSE on 100 equally spaced points in [-5, 5], mean +- 1.96 s/sqrt(600).
Prints `eval mse: <m> +- <ci> (600 tasks, K=<K>)` and the unadapted MSE.
"""
import argparse
import math
import os

os.environ.setdefault("XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1")
import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

SIZES = [1, 40, 40, 1]


def forward(params, x):
    for i in range(0, len(params), 2):
        x = x @ params[i] + params[i + 1]
        if i + 2 < len(params):
            x = jax.nn.relu(x)
    return x


def loss(params, x, y):
    return jnp.mean((forward(params, x) - y) ** 2)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--algo", choices=["metasgd", "maml", "fomaml"], default="metasgd")
    parser.add_argument("--shots", type=int, default=10)
    parser.add_argument("--iters", type=int, default=60000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    k, batch = args.shots, 25
    rng = np.random.default_rng(args.seed)

    params = []
    for n_in, n_out in zip(SIZES[:-1], SIZES[1:]):
        bound = 1.0 / math.sqrt(n_in)
        params.append(jnp.asarray(rng.uniform(-bound, bound, (n_in, n_out)), jnp.float32))
        params.append(jnp.asarray(rng.uniform(-bound, bound, (n_out,)), jnp.float32))
    if args.algo == "metasgd":
        alpha = [jnp.asarray(rng.uniform(0.005, 0.1, p.shape), jnp.float32) for p in params]
    else:
        alpha = [jnp.full(p.shape, 0.01, jnp.float32) for p in params]

    def adapt(params, alpha, xs, ys):
        g = jax.grad(loss)(params, xs, ys)
        if args.algo == "fomaml":
            g = jax.lax.stop_gradient(g)
        return [p - a * gi for p, a, gi in zip(params, alpha, g)]

    def task_loss(meta, xs, ys, xq, yq):
        params, alpha = meta
        if args.algo != "metasgd":
            alpha = jax.lax.stop_gradient(alpha)
        return loss(adapt(params, alpha, xs, ys), xq, yq)

    def meta_loss(meta, xs, ys, xq, yq):
        return jnp.mean(jax.vmap(task_loss, in_axes=(None, 0, 0, 0, 0))(meta, xs, ys, xq, yq))

    @jax.jit
    def step(meta, m, v, t, xs, ys, xq, yq):
        value, grads = jax.value_and_grad(meta_loss)(meta, xs, ys, xq, yq)
        b1, b2, lr, eps = 0.9, 0.999, 1e-3, 1e-8
        m = jax.tree_util.tree_map(lambda m, g: b1 * m + (1 - b1) * g, m, grads)
        v = jax.tree_util.tree_map(lambda v, g: b2 * v + (1 - b2) * g * g, v, grads)
        meta = jax.tree_util.tree_map(lambda p, m, v: p - lr * (m / (1 - b1**t)) / (jnp.sqrt(v / (1 - b2**t)) + eps), meta, m, v)
        return meta, m, v, value

    def tasks(count, x_query=None):
        amplitude = rng.uniform(0.1, 5.0, (count, 1, 1))
        phase = rng.uniform(0.0, math.pi, (count, 1, 1))
        xs = rng.uniform(-5.0, 5.0, (count, k, 1))
        xq = rng.uniform(-5.0, 5.0, (count, k, 1)) if x_query is None else np.broadcast_to(x_query, (count, len(x_query), 1))
        f = lambda x: amplitude * np.sin(x - phase)
        return [jnp.asarray(a, jnp.float32) for a in (xs, f(xs), xq, f(xq))]

    meta = (params, alpha)
    m = jax.tree_util.tree_map(jnp.zeros_like, meta)
    v = m
    for t in range(1, args.iters + 1):
        meta, m, v, value = step(meta, m, v, float(t), *tasks(batch))
        if t % 10000 == 0:
            print(f"iteration {t}: meta-loss {float(value):.3f}", flush=True)

    grid = np.linspace(-5.0, 5.0, 100).reshape(100, 1)
    xs, ys, xq, yq = tasks(600, grid)
    params, alpha = meta
    per_task = jax.vmap(lambda xs, ys, xq, yq: loss(adapt(params, alpha, xs, ys), xq, yq))(xs, ys, xq, yq)
    unadapted = jax.vmap(lambda xq, yq: loss(params, xq, yq))(xq, yq)
    for name, values in [("eval mse before adaptation", unadapted), ("eval mse", per_task)]:
        values = np.asarray(values)
        ci = 1.96 * values.std(ddof=1) / math.sqrt(len(values))
        print(f"{name}: {values.mean():.3f} +- {ci:.3f} (600 tasks, K={k})")


if __name__ == "__main__":
    main()
