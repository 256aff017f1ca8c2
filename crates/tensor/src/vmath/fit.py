#!/usr/bin/env python3
"""Coefficients of the polynomials in vmath (exp.rs, ln.rs, tanh.rs), by interpolation at
Chebyshev nodes: close to the minimax polynomial of the same degree (within a small factor of
its error), and needs nothing beyond the standard library.

    python3 crates/tensor/src/vmath/fit.py

For each fit it prints the coefficients (rounded to f32, lowest degree first) and the largest
relative error of the resulting function on a fine grid, evaluated in double precision: the
approximation error alone, before f32 rounding adds its share.
"""
import math
import struct


def f32(v):
    return struct.unpack("f", struct.pack("f", v))[0]


def solve(a, b):
    """Gaussian elimination with partial pivoting."""
    n = len(b)
    m = [row[:] + [b[i]] for i, row in enumerate(a)]
    for c in range(n):
        p = max(range(c, n), key=lambda r: abs(m[r][c]))
        m[c], m[p] = m[p], m[c]
        for r in range(c + 1, n):
            k = m[r][c] / m[c][c]
            for j in range(c, n + 1):
                m[r][j] -= k * m[c][j]
    x = [0.0] * n
    for r in reversed(range(n)):
        x[r] = (m[r][n] - sum(m[r][j] * x[j] for j in range(r + 1, n))) / m[r][r]
    return x


def interpolate(g, lo, hi, degree):
    """The polynomial of `degree` through g at the Chebyshev nodes of [lo, hi]."""
    n = degree + 1
    nodes = [(lo + hi) / 2 + (hi - lo) / 2 * math.cos(math.pi * (i + 0.5) / n) for i in range(n)]
    return [f32(c) for c in solve([[u**j for j in range(n)] for u in nodes], [g(u) for u in nodes])]


def horner(c, u):
    s = 0.0
    for a in reversed(c):
        s = s * u + a
    return s


def worst(approx, exact, lo, hi, steps=20001):
    xs = [lo + (hi - lo) * i / (steps - 1) for i in range(steps)]
    return max(abs(approx(x) / exact(x) - 1) for x in xs if exact(x) != 0)


def show(name, c, err):
    print(f"{name}: max relative error {err:.2e} ({err / 2**-24:.3f} half-ulps)")
    for a in c:
        print(f"    {a!r:>24},  // {a.hex()}")


def expm1_minus_x_over_x2(r):
    """(e^r − 1 − r)/r², by its series near 0 where the quotient cancels (one node of an odd
    count sits at 0)."""
    if abs(r) < 1e-3:
        return sum(r**k / math.factorial(k + 2) for k in range(6))
    return (math.expm1(r) - r) / (r * r)


# exp: e^r = 1 + r + r²·q(r) on |r| ≤ ln2/2, q of degree 4 (degree 6 overall).
h = math.log(2) / 2
for d in (3, 4):
    q = interpolate(expm1_minus_x_over_x2, -h, h, d)
    show(f"exp q degree {d}", q, worst(lambda r: 1 + r + r * r * horner(q, r), math.exp, -h, h))

# ln: m = 1 + f in [√½, √2), s = f/(2 + f), u = s²; ln m = 2·atanh(s) = 2s + 2s·u·h(u)
# with h(u) = (atanh(√u)/√u − 1)/u = 1/3 + u/5 + u²/7 + …
s_max = (math.sqrt(2) - 1) / (math.sqrt(2) + 1)
for d in (2, 3):
    c = interpolate(lambda u: (math.atanh(math.sqrt(u)) / math.sqrt(u) - 1) / u, 0, s_max**2, d)

    def ln_m(f, c=c):
        s = f / (2 + f)
        u = s * s
        return f - s * (f - 2 * u * horner(c, u))

    show(f"ln h degree {d}", c, worst(ln_m, math.log1p, math.sqrt(0.5) - 1, math.sqrt(2) - 1))

# tanh for |x| < 0.625: tanh x = x + x·u·g(u), u = x², g(u) = (tanh(√u)/√u − 1)/u.
cut = 0.625
for d in (4, 5):
    g = interpolate(lambda u: (math.tanh(math.sqrt(u)) / math.sqrt(u) - 1) / u, 0, cut**2, d)
    show(f"tanh g degree {d}", g,
         worst(lambda x: x + x * x * x * horner(g, x * x), math.tanh, 1e-3, cut))
