"""Statistical helpers shared by the topic modules: one definition of each interval and test.

* :func:`check_confidence` — the one check of a confidence level (a share in (0, 1)).
* :func:`z_quantile` — the two-sided normal quantile z for a confidence level (1.96 for 0.95).
* :func:`normal_interval` / :func:`two_sided_p` — estimate ± z·SE and the z-test p-value, the
  normal-approximation pair NPS comparisons, lifts and difference-in-differences use.
* :func:`wilson_interval` — the Wilson score interval for a share (scipy's ``binomtest``).

Not to be confused with :mod:`scipy.stats`, which these wrap.
"""

from __future__ import annotations

import math

from scipy import stats as _scipy_stats

__all__ = ["check_confidence", "normal_interval", "two_sided_p", "wilson_interval", "z_quantile"]


def check_confidence(confidence: float) -> float:
    """``confidence`` as a float, or ValueError unless it lies strictly between 0 and 1."""
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be between 0 and 1 (e.g. 0.95), got {confidence!r}")
    return float(confidence)


def z_quantile(confidence: float) -> float:
    """Two-sided standard-normal quantile Φ⁻¹(0.5 + confidence/2): 1.96 for 0.95."""
    return float(_scipy_stats.norm.ppf(0.5 + check_confidence(confidence) / 2))


def normal_interval(estimate: float, se: float, confidence: float) -> tuple[float, float]:
    """estimate ± z·se, the normal-approximation (Wald) interval, in the estimate's units."""
    z = z_quantile(confidence)
    return estimate - z * se, estimate + z * se


def two_sided_p(estimate: float, se: float) -> float:
    """Two-sided z-test p-value 2·(1 − Φ(|estimate| / se)) of H0: the true value is 0.

    With se = 0 the estimate is exact: p = 0 when it differs from 0, else 1.
    """
    if se > 0:
        return float(2 * _scipy_stats.norm.sf(abs(estimate) / se))
    return 0.0 if estimate else 1.0


def wilson_interval(successes: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score interval for a share ``successes / n`` (scipy's ``binomtest``); (nan, nan) if n = 0.

    Preferred to the normal approximation because it stays inside 0..1 for small or extreme shares.
    """
    confidence = check_confidence(confidence)
    if n == 0:
        return (math.nan, math.nan)
    if not 0 <= successes <= n:
        raise ValueError(f"successes must be between 0 and n={n}, got {successes}")
    ci = _scipy_stats.binomtest(int(successes), int(n)).proportion_ci(confidence, method="wilson")
    return (float(ci.low), float(ci.high))
