"""Confidence intervals used by the analysis tables.

* :func:`wilson_interval` — 95% Wilson score interval of a proportion
  (statsmodels ``proportion_confint(method="wilson")``).
* :func:`median_ci` — distribution-free (order-statistic, binomial) confidence
  interval of a median; no bootstrap, deterministic.
* :func:`ratio_summary` — the distribution of slowdown ratios as every slowdown table reports it.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np
from scipy.stats import binom
from statsmodels.stats.proportion import proportion_confint

NAN = float("nan")


def wilson_interval(k: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score interval of ``k`` successes out of ``n``.

    Contract: ``0 <= k <= n``; returns ``(lo, hi)`` with ``0 <= lo <= k/n <= hi <= 1``;
    ``n == 0`` gives ``(nan, nan)`` (no data, no interval).
    """
    if n < 0 or k < 0 or k > n:
        raise ValueError(f"need 0 <= k <= n, got k={k}, n={n}")
    if n == 0:
        return (NAN, NAN)
    lo, hi = proportion_confint(int(k), int(n), alpha=1 - confidence, method="wilson")
    lo = 0.0 if k == 0 else max(0.0, float(lo))  # exact bounds at the edges (no 1e-17 noise)
    hi = 1.0 if k == n else min(1.0, float(hi))
    return (lo, hi)


def share(k: int, n: int) -> float:
    """``k / n``, or nan when ``n == 0``."""
    return k / n if n else NAN


def median_ci(values: Iterable[float], confidence: float = 0.95) -> tuple[float, float]:
    """Distribution-free confidence interval of the median of ``values``.

    Uses the order statistics ``x_(l) <= median <= x_(n-l+1)`` with ``l`` the
    smallest index whose binomial(n, 1/2) tail keeps the coverage at least
    ``confidence``. Valid for any continuous distribution (no bootstrap). NaNs
    are dropped. Returns ``(nan, nan)`` when there are too few values for the
    requested coverage (n < 6 at 95%).
    """
    x = np.sort(np.asarray([v for v in values if v is not None and not math.isnan(v)], dtype=float))
    n = len(x)
    if n == 0:
        return (NAN, NAN)
    tail = (1 - confidence) / 2
    lo = int(binom.ppf(tail, n, 0.5))  # smallest k with P(B <= k) >= tail, so P(B <= lo-1) < tail
    if lo < 1:
        return (NAN, NAN)
    hi = n - lo + 1
    return (float(x[lo - 1]), float(x[hi - 1]))


def geometric_mean(values: Iterable[float]) -> float:
    """Geometric mean of positive values; nan when empty or any value is not positive."""
    x = np.asarray(list(values), dtype=float)
    if len(x) == 0 or np.any(~(x > 0)):
        return NAN
    return float(np.exp(np.mean(np.log(x))))


def ratio_summary(ratios: Iterable[float]) -> dict[str, float | int]:
    """Slowdown ratios (target / baseline, one per function or model) summarised: median with its
    :func:`median_ci`, p90, max, geometric mean, and how many are below 1 (faster on the target) with
    their share and :func:`wilson_interval`. ``ratios`` must not be empty."""
    values = np.asarray(list(ratios), dtype=float)
    n, faster = len(values), int((values < 1).sum())
    lo, hi = median_ci(values)
    f_lo, f_hi = wilson_interval(faster, n)
    return {
        "median": float(np.median(values)), "median_lo": lo, "median_hi": hi,
        "p90": float(np.percentile(values, 90)), "max": float(values.max()), "geomean": geometric_mean(values),
        "faster_n": faster, "faster_share": share(faster, n), "faster_lo": f_lo, "faster_hi": f_hi,
    }
