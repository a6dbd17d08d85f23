"""Interval estimates and paired tests for success rates, and the quartiles the summaries report."""

from __future__ import annotations

import math

import numpy as np
from scipy.stats import binomtest


def quartiles(values) -> list[float]:
    """The 25th, 50th and 75th percentiles of ``values`` as floats; [] for no values."""
    return [float(q) for q in np.percentile(values, [25, 50, 75])] if len(values) else []


def wilson_interval(successes: int, n: int, z: float = 1.959963984540054) -> tuple[float, float]:
    r"""The Wilson score interval for a binomial proportion (95 % by default):
    :math:`\frac{\hat p + z^2/2n \pm z\sqrt{\hat p(1-\hat p)/n + z^2/4n^2}}{1 + z^2/n}`. It always contains
    :math:`\hat p`, exactly so at 0 and n successes (where rounding alone would leave it a few ulps short)."""
    if n == 0:
        return 0.0, 1.0
    p = successes / n
    centre = p + z * z / (2 * n)
    spread = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    scale = 1 + z * z / n
    return min(p, max(0.0, (centre - spread) / scale)), max(p, min(1.0, (centre + spread) / scale))


def mcnemar_exact(only_first: int, only_second: int) -> float:
    """Two-sided exact McNemar p-value from the discordant pairs: trials where only the first method
    succeeded and trials where only the second did (a binomial test of them against 1/2)."""
    discordant = only_first + only_second
    if discordant == 0:
        return 1.0
    return float(binomtest(min(only_first, only_second), discordant, 0.5).pvalue)


def interval_text(interval) -> str:
    """A rate's interval in percent with one decimal, ``[99.6, 100.0]``: whole percents would print the interval of
    900 successes in 900 as (100–100)."""
    low, high = interval
    return f"[{100 * low:.1f}, {100 * high:.1f}]"


def holm(p_values) -> list[float]:
    r"""Holm's step-down adjustment of a family of p-values (strong control of the family-wise error):
    the i-th smallest of m becomes :math:`\max_{j \le i} \min(1, (m - j + 1)\, p_{(j)})`."""
    p_values = [float(p) for p in p_values]
    m = len(p_values)
    adjusted, running = [0.0] * m, 0.0
    for rank, index in enumerate(sorted(range(m), key=lambda i: p_values[i])):
        running = max(running, min(1.0, (m - rank) * p_values[index]))
        adjusted[index] = running
    return adjusted
