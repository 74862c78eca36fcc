"""The noise in an evaluation of a few dozen rows, as pure functions.

- `clopper_pearson`: the exact binomial 95% interval for a share of rows
  right (exact match), never narrower than the truth (Clopper & Pearson 1934).
- `bootstrap`: a seeded percentile bootstrap over rows for a mean of
  per-row scores that are not 0/1 (token F1, JSON fields).
- `sign_test`: the exact two-sided sign test on the rows where two models
  differ; on 0/1 scores it is the exact McNemar test.

No scipy: the binomial tail is summed exactly and its inverse found by
bisection, which is quick for the few hundred rows an evaluation has.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Sequence

LEVEL = 0.95
BOOTSTRAP_SAMPLES = 2000
BOOTSTRAP_SEED = 0


def binom_cdf(k: int, n: int, p: float) -> float:
    """P(X <= k) for X ~ Binomial(n, p)."""
    if k < 0:
        return 0.0
    if k >= n:
        return 1.0
    if p <= 0.0:
        return 1.0
    if p >= 1.0:
        return 0.0
    logp, logq = math.log(p), math.log1p(-p)
    total = 0.0
    for i in range(k + 1):
        log_term = math.lgamma(n + 1) - math.lgamma(i + 1) - math.lgamma(n - i + 1)
        total += math.exp(log_term + i * logp + (n - i) * logq)
    return min(1.0, total)


def _root(f: Callable[[float], float], target: float) -> float:
    """The p in [0, 1] where the increasing function f(p) reaches target."""
    lo, hi = 0.0, 1.0
    for _ in range(60):
        mid = (lo + hi) / 2
        if f(mid) < target:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2


def clopper_pearson(k: int, n: int, level: float = LEVEL) -> tuple[float, float]:
    """The exact interval for k successes of n trials."""
    if n <= 0:
        return (0.0, 1.0)
    if not 0 <= k <= n:
        raise ValueError(f"k={k} is not within 0..{n}")
    tail = (1 - level) / 2
    # lower: the p where P(X >= k) = tail; upper: the p where P(X <= k) = tail.
    lo = 0.0 if k == 0 else _root(lambda p: 1 - binom_cdf(k - 1, n, p), tail)
    hi = 1.0 if k == n else _root(lambda p: 1 - binom_cdf(k, n, p), 1 - tail)
    return (lo, hi)


def bootstrap(
    values: Sequence[float],
    level: float = LEVEL,
    samples: int = BOOTSTRAP_SAMPLES,
    seed: int = BOOTSTRAP_SEED,
) -> tuple[float, float]:
    """Percentile interval of the mean, resampling rows with a fixed seed (the
    same rows give the same interval on every machine)."""
    n = len(values)
    if n == 0:
        return (0.0, 1.0)
    rng = random.Random(seed)
    means = sorted(sum(rng.choices(values, k=n)) / n for _ in range(samples))
    tail = (1 - level) / 2
    lo = means[int(math.floor(tail * (samples - 1)))]
    hi = means[int(math.ceil((1 - tail) * (samples - 1)))]
    return (lo, hi)


def is_binary(values: Sequence[float]) -> bool:
    return all(v in (0.0, 1.0) for v in values)


def interval(values: Sequence[float], level: float = LEVEL) -> tuple[float, float]:
    """Clopper-Pearson for 0/1 scores, else the seeded bootstrap."""
    if is_binary(values):
        return clopper_pearson(int(sum(values)), len(values), level)
    return bootstrap(values, level)


def method(values: Sequence[float]) -> str:
    return "exact binomial (Clopper-Pearson)" if is_binary(values) else "bootstrap over rows"


def sign_test(better: int, worse: int) -> float:
    """Two-sided exact p-value that `better` and `worse` (rows where the run
    scored above / below its parent; ties dropped) differ by more than chance."""
    n = better + worse
    if n == 0:
        return 1.0
    return min(1.0, 2 * binom_cdf(min(better, worse), n, 0.5))
