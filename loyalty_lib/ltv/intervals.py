"""Model-based intervals for CLV, expected purchases and P(alive): the parameters' sampling
distribution propagated to every prediction.

Method: **parametric bootstrap from the MLE's asymptotic covariance**. Draws of the
log-parameters come from N(log θ̂, Σ_log), Σ_log the inverse negative Hessian of the
log-likelihood in log-parameters (lognormal on the natural scale, so every draw is positive and
the skew of shape parameters near 0 is kept); each draw's predictions are computed and the
interval is the (1−level)/2 and (1+level)/2 percentiles over draws. Why not a customer
bootstrap: it refits the model once per draw (200 fits of a Pareto/NBD on 100k customers take
minutes), while this needs only predictions, and with thousands of customers the likelihood is
close enough to quadratic in log-parameters for the Wald approximation to hold (the coverage
test in ``tests/ltv/test_intervals.py`` measures it).

What the interval covers: the uncertainty of the *expected* value given the fitted model class,
not the customer-level randomness of future purchases. With Gamma-Gamma monetary values the CLV
draws also draw (p, q, γ) from the Gamma-Gamma fit's covariance, independently of the count
model's (the two likelihoods are separate).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from loyalty_lib._result import Result
from loyalty_lib.ltv import gamma_gamma as _gg
from loyalty_lib.ltv._base import CountModel
from loyalty_lib.ltv._mle import numerical_hessian
from loyalty_lib.ltv.bgbb import BetaGeoBetaBinom, validate_discrete
from loyalty_lib.ltv.bgnbd import PARAM_NAMES as _BG_NAMES
from loyalty_lib.ltv.bgnbd import BetaGeo, _as_1d, _loglik_and_grad, validate_rft
from loyalty_lib.ltv.pareto_nbd import ParetoNBD
from loyalty_lib.retailer import SAMPLE_RETAILER

_UNITS_PER_MONTH = {"D": 30.0, "W": 4.345, "M": 1.0}


def _names(model: Any) -> tuple[str, ...]:
    return _BG_NAMES if isinstance(model, BetaGeo) else model.PARAM_NAMES


def _cov_log(model: Any) -> np.ndarray:
    """Covariance of the log-parameters of a fitted BetaGeo or CountModel."""
    if isinstance(model, CountModel):
        return model.covariance_log
    if isinstance(model, BetaGeo):
        if model._data is None:
            raise ValueError("the BG/NBD model has no data (parameters set by hand): no covariance")
        theta = np.array([model.params[k] for k in _BG_NAMES])
        model._data.allocate()
        data = model._data
        hess = numerical_hessian(lambda p: _loglik_and_grad(p, data)[1], theta)
        data.buf, data.buf0 = [], []
        return np.linalg.inv(hess) / np.outer(theta, theta)
    raise TypeError(
        f"model must be a fitted BetaGeo, ModifiedBetaGeo or ParetoNBD; got {type(model).__name__}"
    )


def _with_params(model: Any, params: dict[str, float]) -> Any:
    if isinstance(model, CountModel):
        return model.with_params(params)
    clone = BetaGeo(freq=model.freq)
    clone.params = dict(params)
    return clone


def _cumulative(
    model: Any, ts: list[float], x, tx, big_t, p_alive: np.ndarray | None = None
) -> list[np.ndarray]:
    """E[Y(t) | x, t_x, T] for each t of ``ts``, P(alive) computed once (or passed in)."""
    if isinstance(model, BetaGeo):
        return list(model._expected_purchases_at(ts, x, tx, big_t))
    if p_alive is None:
        p_alive = model._p_alive_raw(x, tx, big_t)
    out = []
    for t in ts:
        tt = np.full(x.shape, float(t))
        if isinstance(model, ParetoNBD | BetaGeoBetaBinom):  # BG/BB: big_t is n_periods
            out.append(model._expected_raw(tt, x, tx, big_t, p_alive))
        else:
            out.append(model._expected_raw(tt, x, big_t) * p_alive)
    return out


@dataclass(frozen=True, repr=False)
class ModelIntervals(Result):
    """Point estimates and model-based intervals, per customer and for the whole base."""

    customers: pd.DataFrame  # per customer: <quantity>, <quantity>_low, <quantity>_high
    totals: pd.DataFrame  # quantity, estimate, lower, upper
    level: float
    n_draws: int
    horizon: float  # model time units for expected purchases
    method: str

    def __str__(self) -> str:
        parts = []
        for row in self.totals.itertuples():
            parts.append(
                f"{row.quantity} {row.estimate:,.4g} ({row.lower:,.4g} to {row.upper:,.4g})"
            )
        return (
            f"Model-based {self.level:.0%} intervals ({self.method}, {self.n_draws} draws, "
            f"{len(self.customers):,} customers): " + "; ".join(parts)
        )


def model_intervals(
    model: Any,
    frequency: Any,
    recency: Any,
    T: Any,
    *,
    t: float,
    monetary: Any = None,
    gamma_gamma: _gg.GammaGamma | None = None,
    horizon_months: int = 12,
    discount_rate_monthly: float = SAMPLE_RETAILER.discount_rate_monthly,
    n_draws: int = 200,
    level: float = 0.95,
    seed: int = 0,
    per_customer: bool = True,
) -> ModelIntervals:
    """Expected purchases in the next ``t`` model time units, P(alive) and (with ``monetary``
    and a fitted ``gamma_gamma``) discounted CLV over ``horizon_months`` (revenue, currency
    units; the lifetimes convention of :meth:`GammaGamma.clv`), each with a ``level`` interval
    from ``n_draws`` parameter draws (parametric bootstrap, see the module docstring).

    Totals: sum of expected purchases, mean P(alive), mean and total CLV.

    ``per_customer=False`` computes the totals only (``customers`` is then empty): each draw's
    totals are sums over the distinct (x, t_x, T) rows weighted by their customer counts (and, for
    CLV, their summed monetary values: the Gamma-Gamma value is linear in m within a row), so
    memory stays at a few arrays of the distinct rows instead of draws × customers (200 draws of
    1M customers would hold 2.4 GB).
    """
    if not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1); got {level}")
    if n_draws < 20:
        raise ValueError(f"n_draws must be ≥ 20 for percentile limits; got {n_draws}")
    if not model.params:
        raise ValueError("model is not fitted")
    if isinstance(model, BetaGeoBetaBinom):  # T is n_periods, t a number of opportunities
        x, tx, big_t = validate_discrete(frequency, recency, T)
    else:
        x, tx, big_t = validate_rft(frequency, recency, T)
    names = _names(model)
    theta = np.log([model.params[k] for k in names])
    cov = _cov_log(model)
    if not np.all(np.isfinite(cov)):
        raise ValueError("the model's covariance is not finite (parameters not identified?)")
    rng = np.random.default_rng(seed)
    draws = np.exp(rng.multivariate_normal(theta, cov, size=n_draws))

    want_clv = monetary is not None or gamma_gamma is not None
    if want_clv:
        if monetary is None or gamma_gamma is None:
            raise ValueError("CLV needs both monetary and a fitted gamma_gamma")
        m = np.broadcast_to(_as_1d("monetary", monetary), x.shape)
        gg_theta, gg_cov = _gamma_gamma_cov(gamma_gamma, x, m)
        gg_draws = np.exp(rng.multivariate_normal(gg_theta, gg_cov, size=n_draws))
        u = _UNITS_PER_MONTH.get(model.freq)
        if u is None:
            raise ValueError(f"CLV needs a model in days, weeks or months; got freq {model.freq!r}")
        months = list(range(1, int(horizon_months) + 1))
        discount = (1 + discount_rate_monthly) ** -np.arange(1, len(months) + 1)

    # Every count-model prediction depends on (x, t_x, T) only: compute it once per distinct
    # row (a daily summary of 100k customers has a few tens of thousands; a BG/BB summary a few
    # hundred) and spread it back to the customers. CLV also depends on each customer's
    # monetary value, so only its count part is computed per distinct row.
    rep, inverse = _distinct_rows(x, tx, big_t)
    counts = np.bincount(inverse, minlength=rep.size).astype(float)
    dx, dtx, dt = x[rep], tx[rep], big_t[rep]

    def predict(params: np.ndarray, gg_params: np.ndarray | None) -> tuple[np.ndarray, ...]:
        draw = _with_params(model, dict(zip(names, map(float, params), strict=True)))
        p_alive = draw._p_alive_raw(dx, dtx, dt)
        expected = _cumulative(draw, [float(t)], dx, dtx, dt, p_alive)[0]
        if gg_params is None:
            return expected, p_alive
        p, q, v = gg_params
        value = (p * v + p * x * np.where(x > 0, m, 0.0)) / (p * x + q - 1)
        cums = _cumulative(draw, [i * u for i in months], dx, dtx, dt, p_alive)
        steps = np.diff(np.vstack([np.zeros(rep.size), *cums]), axis=0)
        return expected, p_alive, (discount @ steps)[inverse] * value

    if not per_customer:
        return _totals_only(
            model,
            names,
            theta,
            draws,
            gg_theta if want_clv else None,
            gg_draws if want_clv else None,
            (dx, dtx, dt, counts),
            np.bincount(inverse, weights=np.where(x > 0, m, 0.0), minlength=rep.size)
            if want_clv
            else None,
            float(t),
            (months, u, discount) if want_clv else None,
            level,
        )
    point = predict(np.exp(theta), np.exp(gg_theta) if want_clv else None)
    samples = [np.empty((n_draws, est.size), dtype=np.float32) for est in point]
    for i in range(n_draws):
        for store, values in zip(
            samples, predict(draws[i], gg_draws[i] if want_clv else None), strict=True
        ):
            store[i] = values
    lo_q, hi_q = (1 - level) / 2, (1 + level) / 2
    labels = ["expected_purchases", "p_alive", "clv"][: len(point)]
    index = frequency.index if isinstance(frequency, pd.Series) else None
    columns: dict[str, np.ndarray] = {}
    rows = []
    names_of = {
        "expected_purchases": "total expected purchases",
        "p_alive": "mean P(alive)",
        "clv": "mean CLV",
    }
    n = float(x.size)
    for label, est, store in zip(labels, point, samples, strict=True):
        lo, hi = np.quantile(store, [lo_q, hi_q], axis=0)
        per_customer = label == "clv"  # the other two are per distinct row
        weight = np.ones(x.size) if per_customer else counts
        if not per_customer:
            est, lo, hi = est[inverse], lo[inverse], hi[inverse]
        columns[label], columns[f"{label}_low"], columns[f"{label}_high"] = est, lo, hi
        per_draw_total = store.astype(float) @ weight
        total = float(est.sum())
        scale = 1.0 if label == "expected_purchases" else 1.0 / n  # sum or mean
        rows.append(
            (names_of[label], total * scale, *np.quantile(per_draw_total * scale, [lo_q, hi_q]))
        )
        if label == "clv":
            rows.append(("total CLV", total, *np.quantile(per_draw_total, [lo_q, hi_q])))
    return ModelIntervals(
        customers=pd.DataFrame(columns, index=index),
        totals=pd.DataFrame(rows, columns=["quantity", "estimate", "lower", "upper"]),
        level=level,
        n_draws=n_draws,
        horizon=float(t),
        method="parametric bootstrap from the MLE covariance",
    )


def _totals_only(
    model: Any,
    names: tuple[str, ...],
    theta: np.ndarray,
    draws: np.ndarray,
    gg_theta: np.ndarray | None,
    gg_draws: np.ndarray | None,
    rows: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    m_sum: np.ndarray | None,
    t: float,
    clv: tuple[list[int], float, np.ndarray] | None,
    level: float,
) -> ModelIntervals:
    """The totals of :func:`model_intervals` from the distinct rows alone (``per_customer=False``)."""
    dx, dtx, dt, counts = rows
    n = float(counts.sum())

    def totals(params: np.ndarray, gg_params: np.ndarray | None) -> list[float]:
        draw = _with_params(model, dict(zip(names, map(float, params), strict=True)))
        p_alive = draw._p_alive_raw(dx, dtx, dt)
        expected = _cumulative(draw, [t], dx, dtx, dt, p_alive)[0]
        out = [float(expected @ counts), float(p_alive @ counts) / n]
        if clv is not None and gg_params is not None and m_sum is not None:
            months, u, discount = clv
            p, q, v = gg_params
            # Σ over a row's customers of (p v + p x m) / (p x + q − 1): x is the row's own
            value_sum = (counts * p * v + p * dx * m_sum) / (p * dx + q - 1)
            cums = _cumulative(draw, [i * u for i in months], dx, dtx, dt, p_alive)
            steps = np.diff(np.vstack([np.zeros(dx.size), *cums]), axis=0)
            total_clv = float((discount @ steps) @ value_sum)
            out += [total_clv / n, total_clv]
        return out

    point = totals(np.exp(theta), None if gg_theta is None else np.exp(gg_theta))
    per_draw = np.array(
        [totals(draws[i], None if gg_draws is None else gg_draws[i]) for i in range(len(draws))]
    )
    lo_q, hi_q = (1 - level) / 2, (1 + level) / 2
    labels = ["total expected purchases", "mean P(alive)", "mean CLV", "total CLV"]
    table = [
        (label, est, *np.quantile(per_draw[:, j], [lo_q, hi_q]))
        for j, (label, est) in enumerate(zip(labels, point, strict=False))
    ]
    return ModelIntervals(
        customers=pd.DataFrame(),
        totals=pd.DataFrame(table, columns=["quantity", "estimate", "lower", "upper"]),
        level=level,
        n_draws=len(draws),
        horizon=t,
        method="parametric bootstrap from the MLE covariance",
    )


def _distinct_rows(
    x: np.ndarray, tx: np.ndarray, big_t: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """One representative row index per distinct (x, t_x, T), and each row's distinct index."""
    code = np.zeros(x.size, dtype=np.int64)
    for column in (x, tx, big_t):
        values, _ = pd.factorize(column)
        code, _ = pd.factorize(code * (int(values.max()) + 1) + values)
    rep = np.empty(int(code.max()) + 1, dtype=np.int64)
    rep[code] = np.arange(x.size)
    return rep, code


def _gamma_gamma_cov(
    gg: _gg.GammaGamma, x: np.ndarray, m: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Log-parameters of a fitted Gamma-Gamma and their covariance, from its likelihood's
    Hessian on the repeat customers passed here (the data it was fitted on)."""
    if not gg.params:
        raise ValueError("gamma_gamma is not fitted")
    keep = x > 0
    if keep.sum() < 3:
        raise ValueError("CLV intervals need repeat customers (frequency > 0)")
    theta = np.array([gg.params[k] for k in _gg.PARAM_NAMES])
    data = _gg._Data(x[keep], m[keep], np.ones(int(keep.sum())))
    hess = numerical_hessian(lambda p: _gg._loglik_and_grad(p, data)[1], theta)
    return np.log(theta), np.linalg.inv(hess) / np.outer(theta, theta)
