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
from loyalty_lib.i18n import _
from loyalty_lib.ltv._mle import (
    FittedModelDisplay,
    minimize_log_params,
    numerical_hessian,
    standard_errors,
    wald_summary,
)
from loyalty_lib.ltv.bgnbd import BetaGeo, _as_1d, _wrap, validate_rft

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


class _Data:
    """Repeat customers arranged so that one likelihood pass is cheap.

    Everything that does not depend on (p, q, γ) is summed once here: the Gamma-function terms
    depend on x alone (summed once per distinct x, with the weight of the customers sharing it),
    and ln(x·m_x), ln m_x enter only through weighted totals. What is left per customer is
    ln(1 + γ/(x·m_x)) and 1/(γ + x·m_x).
    """

    def __init__(self, x: np.ndarray, m: np.ndarray, w: np.ndarray):
        ux, inverse = np.unique(x, return_inverse=True)
        self.ux = ux
        self.wx = np.bincount(inverse, weights=w, minlength=ux.size)
        self.total_weight = float(w.sum())
        xm = x * m
        self.inv_xm = 1.0 / xm
        self.w, self.w_x = w, w * x
        self.s_log_xm = _wsum(w, np.log(xm))
        self.s_log_m = _wsum(w, np.log(m))
        # work buffers, allocated once: fresh temporaries on every pass cost page faults
        self.buf = (np.empty(x.size), np.empty(x.size), np.empty(x.size))


def _wsum(w: np.ndarray, values: np.ndarray, out: np.ndarray | None = None) -> float:
    """Σ w·values without BLAS: a BLAS dot on long vectors wakes OpenBLAS's worker threads, and
    their busy-waiting cost more CPU than the arithmetic of this fit (profiled at 1M rows)."""
    return float(np.multiply(w, values, out=out).sum())


def _loglik_and_grad(params: np.ndarray, d: _Data) -> tuple[float, np.ndarray]:
    """Σ w·ln f(m_x | p, q, γ, x) and its gradient; the note's marginal density of m_x:

    f = Γ(px+q)/(Γ(px)Γ(q)) · γ^q · m_x^(px−1) · x^(px) / (γ + m_x·x)^(px+q)

    Per customer, with ln(γ + x·m_x) = ln(x·m_x) + ln(1 + γ/(x·m_x)):
    ln f = lnΓ(px+q) − lnΓ(px) − lnΓ(q) + q·(ln γ − ln(x·m_x)) − ln m_x − (px+q)·ln(1 + γ/(x·m_x)).
    """
    p, q, v = params
    ux, wx, total = d.ux, d.wx, d.total_weight
    pux = p * ux
    psi = special.digamma(pux + q)
    log_v = np.log(v)
    # per customer: ln(1 + γ/(x·m_x)) and 1/(γ + x·m_x) = (1/(x·m_x)) / (1 + γ/(x·m_x))
    log_term, inv_term, tmp = d.buf
    np.multiply(d.inv_xm, v, out=log_term)
    np.add(log_term, 1.0, out=inv_term)
    np.divide(d.inv_xm, inv_term, out=inv_term)
    np.log1p(log_term, out=log_term)
    a_sum, b_sum = _wsum(d.w_x, log_term, tmp), _wsum(d.w, log_term, tmp)
    c_sum, d_sum = _wsum(d.w_x, inv_term, tmp), _wsum(d.w, inv_term, tmp)
    ll = (
        float(wx @ (special.gammaln(pux + q) - special.gammaln(pux)))
        - total * special.gammaln(q)
        + q * (total * log_v - d.s_log_xm)
        - d.s_log_m
        - p * a_sum
        - q * b_sum
    )
    g_p = float((wx * ux) @ (psi - special.digamma(pux))) - a_sum
    g_q = float(wx @ psi) - total * special.digamma(q) + total * log_v - d.s_log_xm - b_sum
    g_v = q * total / v - p * c_sum - q * d_sum
    return float(ll), np.array([g_p, g_q, g_v])


def _objective(log_params: np.ndarray, d: _Data, penalizer: float) -> tuple[float, np.ndarray]:
    """Mean negative log-likelihood (+ L2 penalty), gradient in log-parameters."""
    params = np.exp(log_params)
    ll, grad = _loglik_and_grad(params, d)
    value = -ll / d.total_weight + penalizer * np.sum(params**2)
    return value, (-grad / d.total_weight + 2 * penalizer * params) * params


# Above this many repeat customers the first L-BFGS iterations run on a seeded subsample of
# _WARM_START_ROWS (as BetaGeo.fit does); the full data then only polishes the estimate.
_WARM_START_ABOVE = 200_000
_WARM_START_ROWS = 50_000


def _minimize(
    start: np.ndarray, data: _Data, penalizer: float, gtol: float
) -> optimize.OptimizeResult:
    return minimize_log_params(_objective, start, (data, penalizer), gtol=gtol)


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
        data = _Data(x, m, w)
        start = np.log([float(initial[k]) for k in PARAM_NAMES]) if initial else np.zeros(3)
        if not initial and x.size > _WARM_START_ABOVE:
            pick = np.random.default_rng(0).choice(x.size, _WARM_START_ROWS, replace=False)
            sub = _Data(x[pick], m[pick], w[pick])
            start = _minimize(start, sub, penalizer, gtol=1e-6).x
        result = _minimize(start, data, penalizer, gtol=1e-10)
        params = np.exp(result.x)
        self.params = dict(zip(PARAM_NAMES, map(float, params), strict=True))
        self.log_likelihood, _ = _loglik_and_grad(params, data)
        self.n_customers = int(round(data.total_weight))
        self.converged = bool(result.success or np.max(np.abs(result.jac)) < 1e-6)
        hess = numerical_hessian(lambda p: _loglik_and_grad(p, data)[1], params)
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
        months = range(1, int(horizon_months) + 1)
        x, tx, big_t = validate_rft(frequency, recency, T)
        if not isinstance(bgnbd_model, BetaGeo) and value.ndim == 1 and x.shape == value.shape:
            # The count model's forecast depends on (x, t_x, T) only: compute it once per
            # distinct row (a million customers share a few hundred thousand) and spread it back.
            # (BG/NBD groups inside _expected_purchases_at, in the order the exactness tests of
            # tests/test_ltv_fast.py pin.)
            from loyalty_lib.ltv.intervals import _cumulative, _distinct_rows

            rep, inverse = _distinct_rows(x, tx, big_t)
            cums_rows = _cumulative(
                bgnbd_model, [i * u for i in months], x[rep], tx[rep], big_t[rep]
            )
            discounted = np.zeros(rep.size)
            prev_rows = np.zeros(rep.size)
            for i, cum in zip(months, cums_rows, strict=True):
                cum = np.asarray(cum, dtype=float)
                discounted += (cum - prev_rows) / (1 + discount_rate_monthly) ** i
                prev_rows = cum
            return _wrap(discounted[inverse] * value, (frequency, recency, T, monetary), "clv")
        prev = np.zeros(np.broadcast(_as_1d("frequency", frequency), value).shape)
        total = np.zeros_like(prev)
        if isinstance(bgnbd_model, BetaGeo):
            # one pass for all months: P(alive) and the distinct (x, T) pairs are shared
            cums = bgnbd_model._expected_purchases_at(
                (i * u for i in months), *validate_rft(frequency, recency, T)
            )
        else:
            cums = (bgnbd_model.expected_purchases(i * u, frequency, recency, T) for i in months)
        for i, cum in zip(months, cums, strict=True):
            cum = np.asarray(cum, dtype=float)
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
            _("small enough for the Gamma-Gamma independence assumption")
            if self.independent_enough
            else _("too strong: the Gamma-Gamma independence assumption is doubtful")
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
