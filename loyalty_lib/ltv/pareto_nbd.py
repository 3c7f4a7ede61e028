"""Pareto/NBD model of repeat purchasing for non-contractual customers.

References: Schmittlein, D. C., Morrison, D. G. & Colombo, R. (1987), "Counting Your Customers:
Who Are They and What Will They Do Next?", *Management Science* 33(1), 1–24; the likelihood,
P(alive) and conditional expectation as written in Fader, P. S. & Hardie, B. G. S. (2005), "A Note
on Deriving the Pareto/NBD Model and Related Expressions" (brucehardie.com/notes/009, below
"FH note"), equations (11)–(22) there.

Story: while alive a customer buys as a Poisson process with rate λ ~ Gamma(r, α); the lifetime
is exponential with rate μ ~ Gamma(s, β). Same (frequency, recency, T) convention and time unit
``freq`` as :class:`~loyalty_lib.ltv.bgnbd.BetaGeo`.

Numerics: the likelihood's ₂F₁(r+s+x, s+1; r+s+x+1; z) grows with x; it is evaluated after
Euler's transformation, (1−z)^(−s)·₂F₁(1, r+x; r+s+x+1; z) (for α ≥ β; the mirror form for
α < β), a series of positive terms whose first parameter is 1, and combined in log space
(``logaddexp``, ``log1p``), so heavy buyers and long histories neither overflow nor cancel.
Rows with identical (x, t_x, T) are fitted once with their count as weight.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from scipy import integrate, special

from loyalty_lib.ltv._base import CountModel, RowData, check_weights
from loyalty_lib.ltv.bgnbd import _as_1d, _wrap, compress, validate_rft

PARAM_NAMES = ("r", "alpha", "s", "beta")


def _log_a0(
    r: float, alpha: float, s: float, beta: float, x: np.ndarray, tx: np.ndarray, big_t: np.ndarray
) -> np.ndarray:
    """log A₀ of the FH note (eq. 17/18): the "died between t_x and T" part of the likelihood,

    A₀ = [₂F₁(r+s+x, b; r+s+x+1; z(t_x)) / (m+t_x)^(r+s+x) − same at T] with
    m, b, z(t) = α, s+1, (α−β)/(α+t) when α ≥ β, and β, r+x, (β−α)/(β+t) otherwise.
    −inf where t_x = T (the bracket is exactly 0).
    """
    rsx = r + s + x
    if alpha >= beta:
        m, b_euler, z_exp = alpha, r + x, s  # ₂F₁(1, c−b; c; z)·(1−z)^(c−1−b) with b = s+1
        diff = alpha - beta
    else:
        m, b_euler, z_exp = beta, s + 1, r + x - 1
        diff = beta - alpha

    def log_term(t: np.ndarray) -> np.ndarray:
        z = diff / (m + t)
        # Euler: ₂F₁(rsx, b; rsx+1; z) = (1−z)^(1−b) ₂F₁(1, rsx+1−b; rsx+1; z)
        log_hyp = np.log(special.hyp2f1(1.0, b_euler, rsx + 1.0, z)) - z_exp * np.log1p(-z)
        return log_hyp - rsx * np.log(m + t)

    c1, c2 = log_term(tx), log_term(big_t)
    with np.errstate(divide="ignore"):
        return c1 + np.log(-np.expm1(np.minimum(c2 - c1, 0.0)))


class _Rows(RowData):
    def __init__(self, x: np.ndarray, tx: np.ndarray, big_t: np.ndarray, w: np.ndarray):
        super().__init__(x, tx, big_t, w=w)
        self.x, self.tx, self.T = self.rows


class ParetoNBD(CountModel):
    """Pareto/NBD (Schmittlein, Morrison & Colombo 1987), parameters ``r, alpha, s, beta``.

    >>> model = ParetoNBD(freq="W").fit(summary["frequency"], summary["recency"], summary["T"])
    >>> model.params   # {'r': 0.553, 'alpha': 10.58, 's': 0.606, 'beta': 11.66} on CDNOW
    """

    PARAM_NAMES = PARAM_NAMES
    LABEL = "Pareto/NBD"
    GAMMA_PAIRS = (("r", "alpha", "purchase rates"), ("s", "beta", "drop-out rates"))

    def fit(
        self,
        frequency: Any,
        recency: Any,
        T: Any,
        *,
        weights: Any = None,
        initial: dict[str, float] | None = None,
    ) -> ParetoNBD:
        """Maximum likelihood, FH note eq. (19) summed over customers (weighted), on log-params.

        Warns (UserWarning) when r or s drift towards infinity (no spread of purchase or
        drop-out rates across customers): only r/α or s/β is then estimated.
        """
        x, tx, big_t = validate_rft(frequency, recency, T)
        w = check_weights(weights, x.shape)
        cx, ctx, ct, cw = compress(x, tx, big_t, w)
        self._fit_rows(cx, ctx, ct, weights=cw, initial=initial)
        return self

    def _prepare(self, x, tx, big_t, w) -> _Rows:  # type: ignore[override]
        return _Rows(x, tx, big_t, w)

    def _initial(self, data: _Rows) -> np.ndarray:
        rate = float(data.w @ data.x) / max(float(data.w @ data.T), 1e-12)
        return np.array(
            [1.0, 1.0 / max(rate, 1e-6), 1.0, float(np.average(data.T, weights=data.w))]
        )

    def _ll_rows(self, params: np.ndarray, d: _Rows) -> np.ndarray:
        """Per row, FH note eq. (19) in logs:

        ln L = lnΓ(r+x) − lnΓ(r) + r ln α + s ln β
               + ln[ (α+T)^−(r+x) (β+T)^−s + s/(r+s+x) · A₀ ].
        """
        r, alpha, s, beta = params
        x, tx, big_t = d.x, d.tx, d.T
        head = special.gammaln(r + x) - special.gammaln(r) + r * np.log(alpha) + s * np.log(beta)
        alive = -(r + x) * np.log(alpha + big_t) - s * np.log(beta + big_t)
        died = np.log(s) - np.log(r + s + x) + _log_a0(r, alpha, s, beta, x, tx, big_t)
        return head + np.logaddexp(alive, died)

    # -- predictions ---------------------------------------------------------------------
    def _log_odds_dead(self, x: np.ndarray, tx: np.ndarray, big_t: np.ndarray) -> np.ndarray:
        r, alpha, s, beta = self._require_fit()
        with np.errstate(divide="ignore", invalid="ignore"):
            return (
                np.log(s)
                - np.log(r + s + x)
                + (r + x) * np.log(alpha + big_t)
                + s * np.log(beta + big_t)
                + _log_a0(r, alpha, s, beta, x, tx, big_t)
            )

    def _p_alive_raw(self, x: np.ndarray, tx: np.ndarray, big_t: np.ndarray) -> np.ndarray:
        return special.expit(-self._log_odds_dead(x, tx, big_t))

    def p_alive(self, frequency: Any, recency: Any, T: Any) -> Any:
        """P(alive at T | x, t_x, T), FH note eq. (20):

        1 / (1 + s/(r+s+x) · (α+T)^(r+x) (β+T)^s · A₀), as expit of the log-odds.
        """
        x, tx, big_t = validate_rft(frequency, recency, T)
        return _wrap(self._p_alive_raw(x, tx, big_t), (frequency, recency, T), "p_alive")

    def expected_purchases(self, t: Any, frequency: Any, recency: Any, T: Any) -> Any:
        """E[Y(t) | x, t_x, T]: expected purchases in the next ``t`` units, FH note eq. (22):

        (r+x)(β+T) / ((α+T)(s−1)) · [1 − ((β+T)/(β+T+t))^(s−1)] · P(alive),

        with the s → 1 limit (r+x)/(α+T) · (β+T) · ln(1 + t/(β+T)) · P(alive).
        """
        r, alpha, s, beta = self._require_fit()
        x, tx, big_t = validate_rft(frequency, recency, T)
        tt = _as_1d("t", t)
        if np.isnan(tt).any() or (tt < 0).any():
            raise ValueError("t must be ≥ 0 (time units ahead)")
        tt, x, tx, big_t = np.broadcast_arrays(tt, x, tx, big_t)
        out = self._expected_raw(tt, x, tx, big_t, self._p_alive_raw(x, tx, big_t))
        return _wrap(out, (t, frequency, recency, T), "expected_purchases")

    def _expected_raw(self, tt, x, tx, big_t, p_alive) -> np.ndarray:
        r, alpha, s, beta = self._require_fit()
        log_ratio = np.log1p(tt / (beta + big_t))  # ln((β+T+t)/(β+T))
        # s = 1 is the removable singularity of (1 - ratio^(1-s)) / (s - 1): its limit is ln(ratio)
        bracket = log_ratio if abs(s - 1) < 1e-8 else -np.expm1(-(s - 1) * log_ratio) / (s - 1)
        return (r + x) / (alpha + big_t) * (beta + big_t) * bracket * p_alive

    def expected_purchases_new(self, t: Any) -> Any:
        """E[X(t)] for a customer who made the first purchase at 0, FH note eq. (21):

        rβ / (α(s−1)) · [1 − (β/(β+t))^(s−1)].
        """
        r, alpha, s, beta = self._require_fit()
        tt = _as_1d("t", t)
        if np.isnan(tt).any() or (tt < 0).any():
            raise ValueError("t must be ≥ 0")
        zero = np.zeros_like(tt)
        out = self._expected_raw(tt, zero, zero, zero, np.ones_like(tt))
        return _wrap(out, (t,), "expected_purchases_new")

    def probability_of_n_purchases(self, t: float, n: Any) -> Any:
        """P(X(t) = n): chance that a customer makes exactly n repeat purchases in (0, t].

        Computed from the model's story rather than the long closed form of Fader, Hardie &
        Lee's P(X(t)=x) note: the lifetime τ has the Lomax (Pareto II) density s/β·(1+τ/β)^−(s+1),
        and given τ the count is NBD(r, α) over min(τ, t), so
        P = P(τ > t)·NBD(n; t) + ∫₀ᵗ f(τ)·NBD(n; τ) dτ, by adaptive quadrature (tolerance 1e-10).
        """
        r, alpha, s, beta = self._require_fit()
        if not np.isfinite(t) or t < 0:
            raise ValueError("t must be ≥ 0")
        ns = _as_1d("n", n)
        if (ns < 0).any() or (ns != np.floor(ns)).any():
            raise ValueError("n must be non-negative integers")

        def nbd(k: float, length: float) -> float:
            if length == 0:
                return 1.0 if k == 0 else 0.0
            return float(
                np.exp(
                    special.gammaln(r + k)
                    - special.gammaln(r)
                    - special.gammaln(k + 1)
                    + r * np.log(alpha / (alpha + length))
                    + k * np.log(length / (alpha + length))
                )
            )

        out = np.empty(ns.size)
        survive_t = (beta / (beta + t)) ** s
        for i, k in enumerate(ns):
            inner, _ = integrate.quad(
                lambda tau, k=k: s / beta * (1 + tau / beta) ** (-(s + 1)) * nbd(k, tau),
                0.0,
                t,
                epsabs=1e-12,
                epsrel=1e-10,
                limit=200,
            )
            out[i] = survive_t * nbd(k, t) + inner
        return _wrap(out, (n,), "probability")


def simulate(params: dict[str, float], T: Any, *, seed: int | None = None) -> pd.DataFrame:
    """Draw (frequency, recency, T) from the Pareto/NBD story, for tests and the benchmark.

    λ ~ Gamma(r, rate α), μ ~ Gamma(s, rate β), lifetime τ ~ Exp(μ); the repeat purchases are a
    Poisson(λ) process on (0, min(τ, T)]; given their number n, the last one is at
    min(τ, T)·U^(1/n) (the maximum of n uniforms).
    """
    missing = set(PARAM_NAMES) - set(params)
    if missing:
        raise ValueError(f"params must give {PARAM_NAMES}; missing {sorted(missing)}")
    big_t = _as_1d("T", T)
    if np.isnan(big_t).any() or (big_t <= 0).any():
        raise ValueError("T must be > 0 for every customer")
    rng = np.random.default_rng(seed)
    n = big_t.size
    lam = rng.gamma(params["r"], 1.0 / params["alpha"], n)
    mu = rng.gamma(params["s"], 1.0 / params["beta"], n)
    tau = rng.exponential(1.0, n) / mu
    span = np.minimum(tau, big_t)
    freq = rng.poisson(lam * span)
    with np.errstate(divide="ignore"):
        last = np.where(freq > 0, span * rng.random(n) ** (1.0 / np.maximum(freq, 1)), 0.0)
    return pd.DataFrame({"frequency": freq.astype(np.int64), "recency": last, "T": big_t})
