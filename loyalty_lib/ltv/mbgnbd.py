"""MBG/NBD: the modified BG/NBD model, in which a customer can drop out right after the *first*
purchase too.

Reference: Batislam, E. P., Denizel, M. & Filiztekin, A. (2007), "Empirical validation and
comparison of models for customer base analysis", *International Journal of Research in
Marketing* 24(3), 201–209 (below "BDF"); equations as numbered there (likelihood eq. 3, P(alive)
eq. 4, E[X(t)] eq. 5, P(X(t) = x) eq. 6, conditional expectation eq. 7). Same story as BG/NBD
(λ ~ Gamma(r, α), p ~ Beta(a, b)) except that the drop-out coin is tossed at time 0 as well, so
customers with no repeat purchase can be inactive: the usual remedy when BG/NBD puts every
one-time buyer at P(alive) = 1 and its fit drifts to a → 0, b → ∞.

Same (frequency, recency, T) convention and time unit ``freq`` as
:class:`~loyalty_lib.ltv.bgnbd.BetaGeo`; likelihood in log space (``logaddexp``), identical rows
compressed into weights.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from scipy import special

from loyalty_lib.ltv._base import CountModel, RowData, check_weights
from loyalty_lib.ltv._mle import mean_nll_in_logs
from loyalty_lib.ltv.bgnbd import _as_1d, _wrap, compress, validate_rft

PARAM_NAMES = ("r", "alpha", "a", "b")


class _Rows(RowData):
    """Compressed rows; the terms that depend on x alone are evaluated once per distinct x."""

    def __init__(self, x: np.ndarray, tx: np.ndarray, big_t: np.ndarray, w: np.ndarray):
        super().__init__(x, tx, big_t, w=w)
        self.x, self.tx, self.T = self.rows
        self.ux, self.xi = np.unique(self.x, return_inverse=True)
        self.wx = np.bincount(self.xi, weights=self.w, minlength=self.ux.size)


class ModifiedBetaGeo(CountModel):
    """MBG/NBD (Batislam, Denizel & Filiztekin 2007), parameters ``r, alpha, a, b``.

    >>> model = ModifiedBetaGeo(freq="W").fit(summary["frequency"], summary["recency"], summary["T"])
    >>> model.params   # {'r': 0.525, 'alpha': 6.18, 'a': 0.891, 'b': 1.61} on CDNOW
    """

    PARAM_NAMES = PARAM_NAMES
    LABEL = "MBG/NBD"
    BETA_PAIRS = (("a", "b", "the drop-out probability after a purchase"),)
    GAMMA_PAIRS = (("r", "alpha", "purchase rates"),)

    def fit(
        self,
        frequency: Any,
        recency: Any,
        T: Any,
        *,
        weights: Any = None,
        initial: dict[str, float] | None = None,
    ) -> ModifiedBetaGeo:
        """Maximum likelihood (BDF eq. 3 summed over customers, weighted), L-BFGS-B on
        log-parameters. Warns when a, b or r drift towards infinity (not identified)."""
        x, tx, big_t = validate_rft(frequency, recency, T)
        cx, ctx, ct, cw = compress(x, tx, big_t, check_weights(weights, x.shape))
        self._fit_rows(cx, ctx, ct, weights=cw, initial=initial)
        return self

    def _prepare(self, x, tx, big_t, w) -> _Rows:  # type: ignore[override]
        return _Rows(x, tx, big_t, w)

    def _initial(self, data: _Rows) -> np.ndarray:
        rate = float(data.w @ data.x) / max(float(data.w @ data.T), 1e-12)
        return np.array([1.0, 1.0 / max(rate, 1e-6), 1.0, 2.0])

    def _ll_rows(self, params: np.ndarray, d: _Rows) -> np.ndarray:
        """BDF eq. (3) in logs:

        L = B(a, b+x+1)/B(a, b) · Γ(r+x)α^r / (Γ(r)(α+T)^(r+x))
          + B(a+1, b+x)/B(a, b) · Γ(r+x)α^r / (Γ(r)(α+t_x)^(r+x)),

        ln L = A₁ + ln B(a, b+x+1) − ln B(a, b) − (r+x) ln(α+T) + softplus(D),
        D = ln a − ln(b+x) + (r+x) ln((α+T)/(α+t_x)), since B(a+1, b+x)/B(a, b+x+1) = a/(b+x).
        """
        r, alpha, a, b = params
        x, tx, big_t = d.x, d.tx, d.T
        a1 = special.gammaln(r + x) - special.gammaln(r) + r * np.log(alpha)
        a2 = special.betaln(a, b + x + 1) - special.betaln(a, b)
        a3 = -(r + x) * np.log(alpha + big_t)
        big_d = np.log(a) - np.log(b + x) + (r + x) * (np.log(alpha + big_t) - np.log(alpha + tx))
        return a1 + a2 + a3 + np.logaddexp(0.0, big_d)

    def _objective(self, log_params: np.ndarray, data: _Rows) -> tuple[float, np.ndarray]:
        return mean_nll_in_logs(_total_and_grad, log_params, data, data.total_weight)

    # -- predictions ---------------------------------------------------------------------
    def _p_alive_raw(self, x: np.ndarray, tx: np.ndarray, big_t: np.ndarray) -> np.ndarray:
        r, alpha, a, b = self._require_fit()
        log_odds = (
            np.log(a) - np.log(b + x) + (r + x) * (np.log(alpha + big_t) - np.log(alpha + tx))
        )
        return special.expit(-log_odds)

    def p_alive(self, frequency: Any, recency: Any, T: Any) -> Any:
        """P(alive at T | x, t_x, T), BDF eq. (4): 1 / (1 + a/(b+x) · ((α+T)/(α+t_x))^(r+x)).

        Below 1 also for x = 0 (unlike BG/NBD): 1/(1 + a/b · ((α+T)/α)^r).
        """
        x, tx, big_t = validate_rft(frequency, recency, T)
        return _wrap(self._p_alive_raw(x, tx, big_t), (frequency, recency, T), "p_alive")

    def expected_purchases(self, t: Any, frequency: Any, recency: Any, T: Any) -> Any:
        """E[Y(t) | x, t_x, T], BDF eq. (7):

        (a+b+x)/(a−1) · [1 − ((α+T)/(α+T+t))^(r+x) ₂F₁(r+x, b+x+1; a+b+x; z)] · P(alive),

        z = t/(α+T+t). ₂F₁ is evaluated after Euler's transformation,
        ((α+T)/(α+T+t))^(r+x)·₂F₁(…) = (1−z)^(a−1) ₂F₁(a+b−r, a−1; a+b+x; z), whose first two
        parameters do not grow with x.
        """
        r, alpha, a, b = self._require_fit()
        x, tx, big_t = validate_rft(frequency, recency, T)
        tt = _as_1d("t", t)
        if np.isnan(tt).any() or (tt < 0).any():
            raise ValueError("t must be ≥ 0 (time units ahead)")
        tt, x, tx, big_t = np.broadcast_arrays(tt, x, tx, big_t)
        out = self._expected_raw(tt, x, big_t) * self._p_alive_raw(x, tx, big_t)
        return _wrap(out, (t, frequency, recency, T), "expected_purchases")

    def _expected_raw(self, tt: np.ndarray, x: np.ndarray, big_t: np.ndarray) -> np.ndarray:
        """(a+b+x)/(a−1) · [1 − (1−z)^(a−1) ₂F₁(a+b−r, a−1; a+b+x; z)], floored at 0."""
        r, alpha, a, b = self._require_fit()
        z = tt / (alpha + big_t + tt)
        log_1mz = np.log(alpha + big_t) - np.log(alpha + big_t + tt)
        hyp = special.hyp2f1(a + b - r, a - 1, a + b + x, z)
        bracket = 1 - np.exp((a - 1) * log_1mz) * hyp
        return np.maximum((a + b + x) / (a - 1) * bracket, 0.0)

    def expected_purchases_new(self, t: Any) -> Any:
        """E[X(t)], BDF eq. (5): b/(a−1) · [1 − (α/(α+t))^r ₂F₁(r, b+1; a+b; t/(α+t))]."""
        r, alpha, a, b = self._require_fit()
        tt = _as_1d("t", t)
        if np.isnan(tt).any() or (tt < 0).any():
            raise ValueError("t must be ≥ 0")
        hyp = special.hyp2f1(r, b + 1, a + b, tt / (alpha + tt))
        out = b / (a - 1) * (1 - (alpha / (alpha + tt)) ** r * hyp)
        return _wrap(np.maximum(out, 0.0), (t,), "expected_purchases_new")

    def probability_of_n_purchases(self, t: float, n: Any) -> Any:
        """P(X(t) = n) for a customer who bought at 0, BDF eq. (6):

        B(a, b+n+1)/B(a, b) · NBD(n; t) + B(a+1, b+n)/B(a, b) · [1 − Σ_{j=0}^{n−1} NBD(j; t)],

        NBD(j; t) = Γ(r+j)/(Γ(r) j!) · (α/(α+t))^r · (t/(α+t))^j. The second term is "dropped
        out right after the n-th purchase, made by t" (for n = 0: right after the first, at 0).
        """
        r, alpha, a, b = self._require_fit()
        if not np.isfinite(t) or t < 0:
            raise ValueError("t must be ≥ 0")
        ns = _as_1d("n", n)
        if (ns < 0).any() or (ns != np.floor(ns)).any():
            raise ValueError("n must be non-negative integers")
        js = np.arange(int(ns.max()) + 1)
        if t == 0:
            nbd = (js == 0).astype(float)
        else:
            nbd = np.exp(
                special.gammaln(r + js)
                - special.gammaln(r)
                - special.gammaln(js + 1)
                + r * np.log(alpha / (alpha + t))
                + js * np.log(t / (alpha + t))
            )
        cum = np.cumsum(nbd)
        k = ns.astype(int)
        out = np.exp(special.betaln(a, b + k + 1) - special.betaln(a, b)) * nbd[k] + np.exp(
            special.betaln(a + 1, b + k) - special.betaln(a, b)
        ) * np.maximum(1 - (cum[k] - nbd[k]), 0.0)
        return _wrap(out, (n,), "probability")


def _total_and_grad(params: np.ndarray, d: _Rows) -> tuple[float, np.ndarray]:
    """Σ w·ln L of :meth:`ModifiedBetaGeo._ll_rows` and its exact gradient in (r, α, a, b).

    With σ = expit(D) (the posterior weight of "dropped out after the last purchase") and
    L = ln(α+T) − ln(α+t_x), per row:

    ∂/∂r = ψ(r+x) − ψ(r) + ln α − ln(α+T) + σ L,
    ∂/∂α = r/α − (r+x)/(α+T) + σ (r+x) (1/(α+T) − 1/(α+t_x)),
    ∂/∂a = ψ(a+b) − ψ(a+b+x+1) + σ/a,
    ∂/∂b = ψ(b+x+1) − ψ(a+b+x+1) − ψ(b) + ψ(a+b) − σ/(b+x).

    Gamma and digamma functions run over the distinct x only (a few hundred values for 1M
    customers); each row costs two logs, one exp and one log1p.
    """
    r, alpha, a, b = params
    ux, wx, xi, x, w = d.ux, d.wx, d.xi, d.x, d.w
    log_at, log_atx = np.log(alpha + d.T), np.log(alpha + d.tx)
    span = log_at - log_atx
    rx = r + x
    big_d = (np.log(a) - np.log(b + ux))[xi] + rx * span
    # softplus(D) and expit(D) from one exp: for D > 0, D + log1p(e^−D) and 1/(1 + e^−D)
    e = np.exp(-np.abs(big_d))
    softplus = np.maximum(big_d, 0.0) + np.log1p(e)
    sig = np.where(big_d >= 0, 1.0, e) / (1.0 + e)
    ws = w * sig

    per_x = (
        special.gammaln(r + ux)
        - special.gammaln(r)
        + r * np.log(alpha)
        + special.betaln(a, b + ux + 1)
        - special.betaln(a, b)
    )
    total = wx @ per_x + w @ (softplus - rx * log_at)

    inv_at, inv_atx = 1.0 / (alpha + d.T), 1.0 / (alpha + d.tx)
    psi_abx = special.digamma(a + b + ux + 1)
    psi_ab = special.digamma(a + b)
    wsx = np.bincount(xi, weights=ws, minlength=ux.size)
    grad = np.array(
        [
            wx @ (special.digamma(r + ux) - special.digamma(r) + np.log(alpha))
            + ws @ span
            - w @ log_at,
            wx.sum() * r / alpha + (w * rx) @ (sig * (inv_at - inv_atx) - inv_at),
            wx @ (psi_ab - psi_abx) + ws.sum() / a,
            wx @ (special.digamma(b + ux + 1) - psi_abx - special.digamma(b) + psi_ab)
            - wsx @ (1.0 / (b + ux)),
        ]
    )
    return float(total), grad


def simulate(params: dict[str, float], T: Any, *, seed: int | None = None) -> pd.DataFrame:
    """Draw (frequency, recency, T) from the MBG/NBD story (BDF section 2.2): as BG/NBD, but
    the customer may drop out with probability p right after the first purchase (at 0) too."""
    missing = set(PARAM_NAMES) - set(params)
    if missing:
        raise ValueError(f"params must give {PARAM_NAMES}; missing {sorted(missing)}")
    big_t = _as_1d("T", T)
    if np.isnan(big_t).any() or (big_t <= 0).any():
        raise ValueError("T must be > 0 for every customer")
    rng = np.random.default_rng(seed)
    n = big_t.size
    lam = rng.gamma(params["r"], 1.0 / params["alpha"], n)
    p = rng.beta(params["a"], params["b"], n)
    now, last = np.zeros(n), np.zeros(n)
    freq = np.zeros(n, dtype=np.int64)
    active = np.flatnonzero((lam > 0) & (rng.random(n) >= p))  # survives the first purchase
    while active.size:
        now[active] += rng.exponential(1.0, active.size) / lam[active]
        active = active[now[active] <= big_t[active]]
        freq[active] += 1
        last[active] = now[active]
        active = active[rng.random(active.size) >= p[active]]
    return pd.DataFrame({"frequency": freq, "recency": last, "T": big_t})
