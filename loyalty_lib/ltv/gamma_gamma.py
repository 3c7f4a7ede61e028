"""Gamma-Gamma model of average transaction value, and CLV with BG/NBD.

References: Fader, P. S. & Hardie, B. G. S. (2013), "The Gamma-Gamma Model of Monetary Value"
(brucehardie.com/notes/025); Colombo, R. & Jiang, W. (1999), "A stochastic RFM model", *Journal of
Interactive Marketing* 13(3), 2–12.

Story: a customer's transaction values are Gamma(p, ν) around a personal mean p/ν; across
customers ν ~ Gamma(q, γ) (``v`` below is the note's γ). Fitted on repeat customers only
(frequency x > 0) with their mean repeat-transaction value m_x > 0. The model assumes value and
frequency are independent: check with :func:`frequency_monetary_correlation`.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import optimize, special, stats

from loyalty_lib._result import Result
from loyalty_lib.ltv._mle import (
    FittedModelDisplay,
    numerical_hessian,
    standard_errors,
    wald_summary,
)
from loyalty_lib.ltv.bgnbd import BetaGeo, _as_1d, _wrap

PARAM_NAMES = ("p", "q", "v")
# Months → model time units, lifetimes' convention (a month is 30 days, 4.345 weeks).
_UNITS_PER_MONTH = {"D": 30.0, "W": 4.345, "M": 1.0}


def _validate_fm(frequency: Any, monetary: Any) -> tuple[np.ndarray, np.ndarray]:
    x, m = _as_1d("frequency", frequency), _as_1d("monetary", monetary)
    if x.size != m.size:
        raise ValueError(
            f"frequency and monetary must have the same length; got {x.size} and {m.size}"
        )
    if x.size == 0:
        raise ValueError("frequency and monetary are empty")
    problems = []
    nan = np.isnan(x) | np.isnan(m)
    if nan.any():
        problems.append(f"{int(nan.sum())} rows with NaN")
    bad_x = ~nan & ((x < 0) | (x != np.floor(x)))
    if bad_x.any():
        problems.append(f"{int(bad_x.sum())} rows where frequency is not a non-negative integer")
    bad_m = ~nan & (x > 0) & (m <= 0)
    if bad_m.any():
        problems.append(
            f"{int(bad_m.sum())} repeat customers with monetary ≤ 0 (net refunds?) — "
            "the model needs positive average values; drop them or use gross spend"
        )
    if problems:
        raise ValueError("Gamma-Gamma input: " + "; ".join(problems))
    return x, m


def _loglik_and_grad(
    params: np.ndarray, x: np.ndarray, m: np.ndarray, w: np.ndarray
) -> tuple[float, np.ndarray]:
    """Σ w·ln f(m_x | p, q, γ, x) and its gradient; the note's marginal density of m_x:

    f = Γ(px+q)/(Γ(px)Γ(q)) · γ^q · m_x^(px−1) · x^(px) / (γ + m_x·x)^(px+q)
    """
    p, q, v = params
    px = p * x
    log_xm = np.log(x * m)
    log_vxm = np.log(v + x * m)
    ll = (
        special.gammaln(px + q)
        - special.gammaln(px)
        - special.gammaln(q)
        + q * np.log(v)
        + px * log_xm
        - np.log(m)
        - (px + q) * log_vxm
    )
    psi = special.digamma(px + q)
    g_p = x * (psi - special.digamma(px) + log_xm - log_vxm)
    g_q = psi - special.digamma(q) + np.log(v) - log_vxm
    g_v = q / v - (px + q) / (v + x * m)
    return float(w @ ll), np.array([w @ g_p, w @ g_q, w @ g_v])


def _objective(
    log_params: np.ndarray, x: np.ndarray, m: np.ndarray, w: np.ndarray, penalizer: float
) -> tuple[float, np.ndarray]:
    params = np.exp(log_params)
    ll, grad = _loglik_and_grad(params, x, m, w)
    total = w.sum()
    value = -ll / total + penalizer * np.sum(params**2)
    return value, (-grad / total + 2 * penalizer * params) * params


class GammaGamma(FittedModelDisplay):
    """Gamma-Gamma model of a customer's average transaction value (Fader & Hardie 2013)."""

    def __init__(self) -> None:
        self.params: dict[str, float] = {}
        self.log_likelihood = float("nan")
        self.n_customers = 0
        self.converged = False
        self.standard_errors: dict[str, float] = {}

    def fit(
        self,
        frequency: Any,
        monetary: Any,
        *,
        weights: Any = None,
        initial: dict[str, float] | None = None,
        penalizer: float = 0.0,
    ) -> GammaGamma:
        """Maximum likelihood on customers with frequency > 0 (rows with x = 0 are skipped).

        ``monetary`` — mean value of the customer's repeat purchases (currency units, > 0).
        ``weights`` — customers each row stands for. L-BFGS-B on log(p, q, γ), analytic gradient.
        """
        x, m = _validate_fm(frequency, monetary)
        w = (
            np.ones_like(x)
            if weights is None
            else np.broadcast_to(_as_1d("weights", weights), x.shape).astype(float)
        )
        if np.isnan(w).any() or (w < 0).any():
            raise ValueError("weights must be non-negative numbers")
        keep = (x > 0) & (w > 0)
        if keep.sum() < 3:
            raise ValueError(
                f"Gamma-Gamma needs repeat customers (frequency > 0); got {int(keep.sum())}"
            )
        x, m, w = x[keep], m[keep], w[keep]
        start = np.log([float(initial[k]) for k in PARAM_NAMES]) if initial else np.zeros(3)
        result = optimize.minimize(
            _objective,
            start,
            args=(x, m, w, penalizer),
            jac=True,
            method="L-BFGS-B",
            bounds=[(-30.0, 30.0)] * 3,
            options={"maxiter": 2000, "ftol": 1e-15, "gtol": 1e-10},
        )
        params = np.exp(result.x)
        self.params = dict(zip(PARAM_NAMES, map(float, params), strict=True))
        self.log_likelihood, _ = _loglik_and_grad(params, x, m, w)
        self.n_customers = int(round(w.sum()))
        self.converged = bool(result.success or np.max(np.abs(result.jac)) < 1e-6)
        hess = numerical_hessian(lambda p: _loglik_and_grad(p, x, m, w)[1], params)
        self.standard_errors = dict(
            zip(PARAM_NAMES, map(float, standard_errors(hess)), strict=True)
        )
        return self

    def _require_fit(self) -> tuple[float, float, float]:
        if not self.params:
            raise ValueError("GammaGamma is not fitted yet; call .fit(frequency, monetary) first")
        return self.params["p"], self.params["q"], self.params["v"]

    @property
    def summary(self) -> pd.DataFrame:
        """Estimates with standard errors (inverse numerical Hessian) and 95 % Wald limits."""
        self._require_fit()
        return wald_summary(PARAM_NAMES, self.params, self.standard_errors)

    @property
    def population_mean(self) -> float:
        """E[Z] = pγ/(q−1), the mean transaction value of a random customer (needs q > 1)."""
        p, q, v = self._require_fit()
        if q <= 1:
            raise ValueError(f"q = {q:.3g} ≤ 1: the population mean value is infinite")
        return p * v / (q - 1)

    def expected_average_value(self, frequency: Any, monetary: Any) -> Any:
        """E[Z | x, m_x] (Fader & Hardie 2013, conditional expectation):

            (q−1)/(px+q−1) · pγ/(q−1) + px/(px+q−1) · m_x = (pγ + p·x·m_x) / (px + q − 1),

        a weighted average of the population mean and the customer's own mean. For x = 0 it is
        the population mean pγ/(q−1). Currency units.
        """
        p, q, v = self._require_fit()
        x, m = _as_1d("frequency", frequency), _as_1d("monetary", monetary)
        x, m = np.broadcast_arrays(x, m)
        if np.isnan(x).any() or np.isnan(m).any() or (x < 0).any():
            raise ValueError("frequency must be ≥ 0 and monetary not NaN")
        if q <= 1:
            raise ValueError(f"q = {q:.3g} ≤ 1: the conditional expectation is not finite")
        m = np.where(x > 0, m, 0.0)
        out = (p * v + p * x * m) / (p * x + q - 1)
        return _wrap(out, (frequency, monetary), "expected_average_value")

    def clv(
        self,
        bgnbd_model: BetaGeo,
        frequency: Any,
        recency: Any,
        T: Any,
        monetary: Any,
        *,
        horizon_months: int = 12,
        discount_rate_monthly: float = 0.01,
        freq: str | None = None,
    ) -> Any:
        """Discounted CLV per customer over ``horizon_months``, the lifetimes way.

        CLV = Σ_{i=1}^{H} (E[Y(i·u)] − E[Y((i−1)·u)]) · E[Z | x, m_x] / (1 + d)^i,

        with E[Y(·)] from the BG/NBD conditional expectation (FHL eq. 10), E[Z|…] from
        :meth:`expected_average_value`, and u = model time units per month: 30 for days, 4.345
        for weeks, 1 for months (``freq`` defaults to the BG/NBD model's ``freq``). Currency
        units; revenue, not margin — multiply by the gross margin for profit.
        """
        unit = freq or getattr(bgnbd_model, "freq", "D")
        if unit not in _UNITS_PER_MONTH:
            raise ValueError(f"freq must be one of {sorted(_UNITS_PER_MONTH)}; got {unit!r}")
        if int(horizon_months) != horizon_months or horizon_months < 1:
            raise ValueError(f"horizon_months must be a positive integer; got {horizon_months!r}")
        if not discount_rate_monthly > -1:
            raise ValueError(f"discount_rate_monthly must be > −1; got {discount_rate_monthly}")
        u = _UNITS_PER_MONTH[unit]
        value = np.asarray(self.expected_average_value(frequency, monetary), dtype=float)
        prev = np.zeros(np.broadcast(_as_1d("frequency", frequency), value).shape)
        total = np.zeros_like(prev)
        for i in range(1, int(horizon_months) + 1):
            cum = np.asarray(
                bgnbd_model.expected_purchases(i * u, frequency, recency, T), dtype=float
            )
            total += (cum - prev) * value / (1 + discount_rate_monthly) ** i
            prev = cum
        return _wrap(total, (frequency, recency, T, monetary), "clv")

    def __str__(self) -> str:
        if not self.params:
            return "Gamma-Gamma model (not fitted)"
        p = self.params
        mean = f"; population mean value {self.population_mean:,.2f}" if p["q"] > 1 else ""
        return (
            f"Gamma-Gamma fitted on {self.n_customers:,} repeat customers: p = {p['p']:.3f}, "
            f"q = {p['q']:.3f}, v = {p['v']:.3f}{mean} (log-likelihood {self.log_likelihood:,.1f})"
        )


@dataclass(frozen=True, repr=False)
class CorrelationResult(Result):
    """Pearson correlation between repeat frequency and average value (Gamma-Gamma assumption)."""

    r: float
    p_value: float
    n: int
    threshold: float
    independent_enough: bool

    def __str__(self) -> str:
        verdict = (
            "small enough for the Gamma-Gamma independence assumption"
            if self.independent_enough
            else "too strong: the Gamma-Gamma independence assumption is doubtful"
        )
        return (
            f"Correlation of frequency and average value r = {self.r:+.3f} "
            f"(p = {self.p_value:.3g}, n = {self.n:,} repeat customers): {verdict} (threshold |r| ≤ {self.threshold})"
        )


def frequency_monetary_correlation(
    frequency: Any, monetary: Any, *, threshold: float = 0.3
) -> CorrelationResult:
    """Pearson r between frequency and monetary over repeat customers (frequency > 0).

    Gamma-Gamma assumes the two are independent; warns (UserWarning) when |r| > ``threshold``.
    """
    x, m = _validate_fm(frequency, monetary)
    keep = x > 0
    if keep.sum() < 3:
        raise ValueError(
            "need at least 3 repeat customers (frequency > 0) to compute a correlation"
        )
    if np.ptp(x[keep]) == 0 or np.ptp(m[keep]) == 0:
        raise ValueError(
            "frequency or monetary is constant among repeat customers; correlation undefined"
        )
    res = stats.pearsonr(x[keep], m[keep])
    r = float(res.statistic)
    ok = abs(r) <= threshold
    if not ok:
        warnings.warn(
            f"frequency and monetary correlate (r = {r:+.2f}, |r| > {threshold}); "
            "Gamma-Gamma assumes independence",
            UserWarning,
            stacklevel=2,
        )
    return CorrelationResult(
        r=r,
        p_value=float(res.pvalue),
        n=int(keep.sum()),
        threshold=threshold,
        independent_enough=ok,
    )
