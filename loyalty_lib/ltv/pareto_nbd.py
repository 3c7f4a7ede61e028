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
from loyalty_lib.ltv._mle import mean_nll_in_logs
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


def _pair_codes(x: np.ndarray, t: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Distinct (x, t) pairs (x a non-negative integer) and each input's pair index."""
    t_codes, t_values = pd.factorize(t, sort=False)
    n_t = max(t_values.size, 1)
    inverse, keys = pd.factorize(x.astype(np.int64) * n_t + t_codes, sort=False)
    return (keys // n_t).astype(float), np.asarray(t_values, float)[keys % n_t], inverse


class _Rows(RowData):
    """Compressed rows, and the distinct values the likelihood's costly parts depend on.

    The ₂F₁ term of A₀ is a function c(x, t) evaluated at t = t_x and at t = T; both run over
    the distinct (x, t) pairs (for 1M customers in whole days: ~30k pairs for ~300k distinct
    triples), the Gamma functions over the distinct x, and each row only combines them.
    """

    def __init__(self, x: np.ndarray, tx: np.ndarray, big_t: np.ndarray, w: np.ndarray):
        super().__init__(x, tx, big_t, w=w)
        self.x, self.tx, self.T = self.rows
        n = self.x.size
        self.ux, self.xi = np.unique(self.x, return_inverse=True)
        self.wx = np.bincount(self.xi, weights=self.w, minlength=self.ux.size)
        px, pt, inverse = _pair_codes(np.r_[self.x, self.x], np.r_[self.tx, self.T])
        self.px, self.pt = px, pt
        self.i_tx, self.i_t = inverse[:n], inverse[n:]
        self.same = self.tx == self.T  # A₀ = 0: the "died" branch is impossible


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
        head, alive, died = _row_parts(params, d, _log_term_pairs(params, d)[0])
        return head[d.xi] + np.logaddexp(alive, died)

    def _objective(self, log_params: np.ndarray, data: _Rows) -> tuple[float, np.ndarray]:
        return mean_nll_in_logs(_total_and_grad, log_params, data, data.total_weight)

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


# ---------------------------------------------------------------------------------------------
# the likelihood on grouped data, and its gradient
# ---------------------------------------------------------------------------------------------
_HYP_STEP = 1e-6  # relative step of the central differences of ln ₂F₁ in its b and c


def _log_term_pairs(
    params: np.ndarray, d: _Rows, *, derivatives: bool = False
) -> tuple[np.ndarray, np.ndarray | None]:
    """c(x, t) = ln[₂F₁(r+s+x, b; r+s+x+1; z(t)) / (m+t)^(r+s+x)] over the distinct (x, t)
    pairs (the two halves of A₀, see :func:`_log_a0`), and with ``derivatives`` its gradient
    in (r, α, s, β), shape (4, pairs).

    After Euler's transformation, c = ln F − e·ln(1−z) − (r+s+x)·ln(m+t) with
    F = ₂F₁(1, b'; c'; z), c' = r+s+x+1, and for α ≥ β: m = α, b' = r+x, e = s,
    z = (α−β)/(α+t); for α < β: m = β, b' = s+1, e = r+x−1, z = (β−α)/(β+t). The derivative of
    ln F in z is exact, d₂F₁(1, b'; c'; z)/dz = b'/c'·₂F₁(2, b'+1; c'+1; z); in b' and c' it is
    a central difference (relative step 1e-6; ln F is of order 1, so the error is ~1e-10). The
    form is chosen once at the given parameters, so no difference straddles the two forms.
    """
    r, alpha, s, beta = params
    x, t = d.px, d.pt
    rsx = r + s + x
    first = alpha >= beta
    m, b_e, z_exp = (alpha, r + x, s) if first else (beta, s + 1.0, r + x - 1.0)
    mt = m + t
    z = abs(alpha - beta) / mt
    log_1mz = np.log1p(-z)
    hyp = special.hyp2f1(1.0, b_e, rsx + 1.0, z)
    log_f = np.log(hyp)
    c = log_f - z_exp * log_1mz - rsx * np.log(mt)
    if not derivatives:
        return c, None

    def log_f_at(bb: np.ndarray, cc: np.ndarray) -> np.ndarray:
        return np.log(special.hyp2f1(1.0, bb, cc, z))

    hb, hc = _HYP_STEP * b_e, _HYP_STEP * (rsx + 1.0)
    d_b = (log_f_at(b_e + hb, rsx + 1.0) - log_f_at(b_e - hb, rsx + 1.0)) / (2 * hb)
    d_c = (log_f_at(b_e, rsx + 1.0 + hc) - log_f_at(b_e, rsx + 1.0 - hc)) / (2 * hc)
    d_z = b_e / (rsx + 1.0) * special.hyp2f1(2.0, b_e + 1.0, rsx + 2.0, z) / hyp + z_exp / (1 - z)
    log_mt = np.log(mt)
    grad = np.empty((4, x.size))
    if first:  # z = (α−β)/(α+t): ∂z/∂α = (β+t)/(α+t)², ∂z/∂β = −1/(α+t)
        grad[0] = d_b + d_c - log_mt
        grad[1] = d_z * (beta + t) / mt**2 - rsx / mt
        grad[2] = d_c - log_1mz - log_mt
        grad[3] = -d_z / mt
    else:  # z = (β−α)/(β+t): ∂z/∂α = −1/(β+t), ∂z/∂β = (α+t)/(β+t)²
        grad[0] = d_c - log_1mz - log_mt
        grad[1] = -d_z / mt
        grad[2] = d_b + d_c - log_mt
        grad[3] = d_z * (alpha + t) / mt**2 - rsx / mt
    return c, grad


def _row_parts(
    params: np.ndarray, d: _Rows, c: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The three parts of FH eq. (19) in logs: per distinct x the head lnΓ(r+x) − lnΓ(r) +
    r ln α + s ln β, per row the "alive" part −(r+x) ln(α+T) − s ln(β+T) and the "died" part
    ln s − ln(r+s+x) + ln A₀ (−inf where t_x = T)."""
    r, alpha, s, beta = params
    head = special.gammaln(r + d.ux) - special.gammaln(r) + r * np.log(alpha) + s * np.log(beta)
    alive = -(r + d.x) * np.log(alpha + d.T) - s * np.log(beta + d.T)
    c1, c2 = c[d.i_tx], c[d.i_t]
    with np.errstate(divide="ignore"):
        log_a0 = c1 + np.log(-np.expm1(np.minimum(c2 - c1, 0.0)))
    died = (np.log(s) - np.log(r + s + d.ux))[d.xi] + log_a0
    return head, alive, died


def _total_and_grad(params: np.ndarray, d: _Rows) -> tuple[float, np.ndarray]:
    """Σ w·ln L (FH eq. 19) and its gradient in (r, α, s, β), assembled by the chain rule.

    Per row ln L = head(x) + logaddexp(A, K(x) + c₁ + ln(1 − e^(c₂−c₁))) with A the alive part,
    K = ln s − ln(r+s+x), c₁ = c(x, t_x), c₂ = c(x, T). With q = the posterior share of the died
    branch and u = e^(c₂−c₁): ∂/∂A = 1−q, ∂/∂K = q, ∂/∂c₁ = q/(1−u), ∂/∂c₂ = −q·u/(1−u). The
    per-row weights of ∂/∂c are summed onto the (x, t) pairs, and the ₂F₁ derivatives are
    needed there only.
    """
    r, alpha, s, beta = params
    c, dc = _log_term_pairs(params, d, derivatives=True)
    head, alive, died = _row_parts(params, d, c)
    ll = np.logaddexp(alive, died)
    total = float(d.wx @ head + d.w @ ll)
    q = np.exp(died - ll)  # 0 where t_x = T
    wq = d.w * q
    diff = np.minimum(c[d.i_t] - c[d.i_tx], 0.0)
    one_minus_u = -np.expm1(diff)
    with np.errstate(divide="ignore", invalid="ignore"):
        g1 = np.where(one_minus_u > 0, wq / one_minus_u, 0.0)
    g2 = -g1 * np.exp(diff)
    n_pairs = d.px.size
    g_pair = np.bincount(d.i_tx, weights=g1, minlength=n_pairs) + np.bincount(
        d.i_t, weights=g2, minlength=n_pairs
    )
    wa = d.w - wq  # weight of ∂/∂A
    wk = np.bincount(d.xi, weights=wq, minlength=d.ux.size)  # weight of ∂/∂K per x
    ux, wx = d.ux, d.wx
    rsx = r + s + ux
    log_at, log_bt = np.log(alpha + d.T), np.log(beta + d.T)
    grad = dc @ g_pair
    grad[0] += (
        wx @ (special.digamma(r + ux) - special.digamma(r) + np.log(alpha))
        - wa @ log_at
        - wk @ (1 / rsx)
    )
    grad[1] += r / alpha * d.total_weight - (wa * (r + d.x)) @ (1 / (alpha + d.T))
    grad[2] += np.log(beta) * d.total_weight - wa @ log_bt + wk @ (1 / s - 1 / rsx)
    grad[3] += s / beta * d.total_weight - s * (wa @ (1 / (beta + d.T)))
    return total, grad


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
