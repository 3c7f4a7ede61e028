"""BG/BB: the beta-geometric/beta-binomial model for discrete-time, non-contractual settings
(yearly donations, event attendance, one chance to buy per period).

Reference: Fader, P. S., Hardie, B. G. S. & Shang, J. (2010), "Customer-Base Analysis in a
Discrete-Time Noncontractual Setting", *Marketing Science* 29(6), 1086–1108 (below "FHS");
likelihood eq. (5), P(X(n) = x) eq. (6)–(7), E[X(n)] eq. (8), P(alive) eq. (11), conditional
expectation eq. (13). The donations data of its section 3 (11,104 first-time donors of 1995,
six yearly opportunities 1996–2001) reproduce its estimates α 1.204, β 0.750, γ 0.657, δ 2.783.

Story: while alive, a customer transacts at each opportunity with probability p ~ Beta(α, β);
before each opportunity an alive customer becomes inactive with probability θ ~ Beta(γ, δ).
Data per customer: ``frequency`` x = transactions in the n opportunities, ``recency`` t_x =
the opportunity (1..n) of the last one (0 when x = 0), ``n_periods`` n.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from scipy import special

from loyalty_lib.ltv._base import CountModel, RowData, check_weights
from loyalty_lib.ltv.bgnbd import _as_1d, _wrap

PARAM_NAMES = ("alpha", "beta", "gamma", "delta")


def validate_discrete(
    frequency: Any, recency: Any, n_periods: Any
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Check and broadcast (x, t_x, n): integers with 0 ≤ x ≤ t_x ≤ n, t_x = 0 iff x = 0."""
    x, tx, n = (
        _as_1d(k, v)
        for k, v in (("frequency", frequency), ("recency", recency), ("n_periods", n_periods))
    )
    try:
        x, tx, n = np.broadcast_arrays(x, tx, n)
    except ValueError as exc:
        raise ValueError(
            f"frequency, recency and n_periods must have the same length; got {x.size}, {tx.size}, {n.size}"
        ) from exc
    if x.size == 0:
        raise ValueError("frequency, recency and n_periods are empty")
    problems = []
    nan = np.isnan(x) | np.isnan(tx) | np.isnan(n)
    if nan.any():
        problems.append(f"{int(nan.sum())} rows with NaN")
    ok = ~nan
    checks = [
        (
            "a value is not a non-negative integer",
            ok
            & (
                (np.minimum(np.minimum(x, tx), n) < 0)
                | (x != np.floor(x))
                | (tx != np.floor(tx))
                | (n != np.floor(n))
            ),
        ),
        ("frequency is larger than recency", ok & (x > tx)),
        ("recency is larger than n_periods", ok & (tx > n)),
        (
            "recency is 0 although frequency is positive, or the reverse",
            ok & ((x == 0) != (tx == 0)),
        ),
    ]
    for message, mask in checks:
        if mask.any():
            i = int(np.flatnonzero(mask)[0])
            problems.append(
                f"{int(mask.sum())} rows where {message} (e.g. row {i}: x={x[i]:g}, t_x={tx[i]:g}, n={n[i]:g})"
            )
    if problems:
        raise ValueError(
            "BG/BB input expects integers 0 ≤ x ≤ t_x ≤ n; found " + "; ".join(problems)
        )
    return x, tx, n


class _Rows(RowData):
    def __init__(self, x: np.ndarray, tx: np.ndarray, n: np.ndarray, w: np.ndarray):
        super().__init__(x, tx, n, w=w)
        self.x, self.tx, self.n = self.rows


def _log_likelihood(params: np.ndarray, x: np.ndarray, tx: np.ndarray, n: np.ndarray) -> np.ndarray:
    """FHS eq. (5), per customer, in logs:

    L = B(α+x, β+n−x)/B(α,β) · B(γ, δ+n)/B(γ,δ)
      + Σ_{i=0}^{n−t_x−1} B(α+x, β+t_x−x+i)/B(α,β) · B(γ+1, δ+t_x+i)/B(γ,δ).
    """
    alpha, beta, gamma, delta = params
    base = -special.betaln(alpha, beta) - special.betaln(gamma, delta)
    terms = [special.betaln(alpha + x, beta + n - x) + special.betaln(gamma, delta + n)]
    for i in range(int(np.max(n - tx)) if x.size else 0):
        live = i < n - tx
        term = special.betaln(alpha + x, beta + tx - x + i) + special.betaln(
            gamma + 1, delta + tx + i
        )
        terms.append(np.where(live, term, -np.inf))
    return base + special.logsumexp(np.vstack(terms), axis=0)


class BetaGeoBetaBinom(CountModel):
    """BG/BB (Fader, Hardie & Shang 2010), parameters ``alpha, beta, gamma, delta``.

    Time is counted in opportunities (``freq`` only names them in sentences, "Y" by default).

    >>> model = BetaGeoBetaBinom().fit(donations["frequency"], donations["recency"], 6,
    ...                                 weights=donations["count"])
    >>> model.params   # {'alpha': 1.204, 'beta': 0.750, 'gamma': 0.657, 'delta': 2.783}
    """

    PARAM_NAMES = PARAM_NAMES
    LABEL = "BG/BB"
    BETA_PAIRS = (
        ("alpha", "beta", "the transaction probability per opportunity"),
        ("gamma", "delta", "the drop-out probability per opportunity"),
    )
    FIT_SIGNATURE = "frequency, recency, n_periods"

    def __init__(self, freq: str = "Y"):
        super().__init__(freq)

    def fit(
        self,
        frequency: Any,
        recency: Any,
        n_periods: Any,
        weights: Any = None,
        *,
        initial: dict[str, float] | None = None,
    ) -> BetaGeoBetaBinom:
        """Maximum likelihood, FHS eq. (5) summed over customers; ``weights`` = customers per row
        (the paper's data come as counts per (x, t_x) pattern). Identical rows are grouped.
        Warns when a Beta shape drifts towards infinity (not identified)."""
        x, tx, n = validate_discrete(frequency, recency, n_periods)
        w = check_weights(weights, x.shape)
        frame = pd.DataFrame({"x": x, "tx": tx, "n": n, "w": w})
        grouped = frame.groupby(["x", "tx", "n"], sort=True)["w"].sum().reset_index()
        self._fit_rows(
            grouped["x"].to_numpy(float),
            grouped["tx"].to_numpy(float),
            grouped["n"].to_numpy(float),
            weights=grouped["w"].to_numpy(float),
            initial=initial,
        )
        return self

    def _prepare(self, x, tx, n, w) -> _Rows:  # type: ignore[override]
        return _Rows(x, tx, n, w)

    def _initial(self, data: _Rows) -> np.ndarray:
        return np.array([1.0, 1.0, 1.0, 1.0])

    def _ll_rows(self, params: np.ndarray, d: _Rows) -> np.ndarray:
        return _log_likelihood(params, d.x, d.tx, d.n)

    # -- predictions ---------------------------------------------------------------------
    def _p_alive_raw(self, x: np.ndarray, tx: np.ndarray, n: np.ndarray) -> np.ndarray:
        alpha, beta, gamma, delta = self._require_fit()
        params = np.array([alpha, beta, gamma, delta])
        log_num = (
            special.betaln(alpha + x, beta + n - x)
            - special.betaln(alpha, beta)
            + special.betaln(gamma, delta + n + 1)
            - special.betaln(gamma, delta)
        )
        return np.exp(log_num - _log_likelihood(params, x, tx, n))

    def p_alive(self, frequency: Any, recency: Any, n_periods: Any) -> Any:
        """P(alive at opportunity n+1 | x, t_x, n), FHS eq. (11):

        B(α+x, β+n−x)/B(α,β) · B(γ, δ+n+1)/B(γ,δ) / L(α, β, γ, δ | x, t_x, n).
        """
        x, tx, n = validate_discrete(frequency, recency, n_periods)
        return _wrap(self._p_alive_raw(x, tx, n), (frequency, recency, n_periods), "p_alive")

    def expected_purchases(self, t: Any, frequency: Any, recency: Any, n_periods: Any) -> Any:
        """E[X(n, n+n*) | x, t_x, n]: expected transactions in the next n* = ``t`` opportunities,
        FHS eq. (13):

        1/L · B(α+x+1, β+n−x)/B(α,β) · δ/(γ−1) · Γ(γ+δ)/Γ(1+δ)
            · [Γ(1+δ+n)/Γ(γ+δ+n) − Γ(1+δ+n+n*)/Γ(γ+δ+n+n*)].

        Written as B(α+x+1, β+n−x)/B(α+x, β+n−x) · P(alive) · Σ_{k=1}^{n*} E[alive at n+k | alive
        at n+1]-style ratios in logs, which stays finite for γ near 1.
        """
        alpha, beta, gamma, delta = self._require_fit()
        x, tx, n = validate_discrete(frequency, recency, n_periods)
        tt = _as_1d("t", t)
        if np.isnan(tt).any() or (tt < 0).any() or (tt != np.floor(tt)).any():
            raise ValueError("t must be a whole number of opportunities ≥ 0")
        tt, x, tx, n = np.broadcast_arrays(tt, x, tx, n)
        out = self._expected_raw(tt, x, tx, n)
        return _wrap(out, (t, frequency, recency, n_periods), "expected_purchases")

    def _expected_raw(self, tt, x, tx, n, p_alive: np.ndarray | None = None) -> np.ndarray:
        alpha, beta, gamma, delta = self._require_fit()
        # P(transact | alive) posterior mean: (α+x)/(α+β+n); survival of an alive customer from
        # opportunity n+1 to n+k: B(γ, δ+n+k)/B(γ, δ+n+1) (FHS eq. 13 summed term by term, which
        # equals the closed form and has no 1/(γ−1)).
        if p_alive is None:
            p_alive = self._p_alive_raw(x, tx, n)
        rate = (alpha + x) / (alpha + beta + n)
        total = np.zeros(np.shape(tt))
        for k in range(1, int(np.max(tt)) + 1 if np.size(tt) else 1):
            surv = np.exp(
                special.betaln(gamma, delta + n + k) - special.betaln(gamma, delta + n + 1)
            )
            total += np.where(k <= tt, surv, 0.0)
        return p_alive * rate * total

    def expected_purchases_new(self, n_periods: Any) -> Any:
        """E[X(n)] for a new customer, FHS eq. (8):

        α/(α+β) · δ/(γ−1) · [1 − Γ(γ+δ)Γ(1+δ+n) / (Γ(γ+δ+n)Γ(1+δ))],

        evaluated as α/(α+β) · Σ_{k=1}^{n} B(γ, δ+k)/B(γ, δ) (the same sum, finite at γ = 1).
        """
        alpha, beta, gamma, delta = self._require_fit()
        nn = _as_1d("n_periods", n_periods)
        if np.isnan(nn).any() or (nn < 0).any() or (nn != np.floor(nn)).any():
            raise ValueError("n_periods must be whole numbers ≥ 0")
        ks = np.arange(1, int(nn.max()) + 1)
        surv = np.exp(special.betaln(gamma, delta + ks) - special.betaln(gamma, delta))
        cum = np.r_[0.0, np.cumsum(surv)]
        out = alpha / (alpha + beta) * cum[nn.astype(int)]
        return _wrap(out, (n_periods,), "expected_purchases_new")

    def probability_of_n_purchases(self, n_periods: int, n: Any) -> Any:
        """P(X(n_periods) = n) for a new customer, FHS eq. (7):

        C(m, n) B(α+n, β+m−n)/B(α,β) · B(γ, δ+m)/B(γ,δ)
          + Σ_{i=n}^{m−1} C(i, n) B(α+n, β+i−n)/B(α,β) · B(γ+1, δ+i)/B(γ,δ),  m = n_periods.
        """
        alpha, beta, gamma, delta = self._require_fit()
        m = int(n_periods)
        if m != n_periods or m < 0:
            raise ValueError("n_periods must be a whole number ≥ 0")
        ks = _as_1d("n", n)
        if (ks < 0).any() or (ks != np.floor(ks)).any():
            raise ValueError("n must be non-negative integers")
        base = -special.betaln(alpha, beta) - special.betaln(gamma, delta)

        def log_choose(a: float, b: float) -> float:
            return special.gammaln(a + 1) - special.gammaln(b + 1) - special.gammaln(a - b + 1)

        out = np.zeros(ks.size)
        for j, k in enumerate(ks):
            if k > m:
                continue
            terms = [
                log_choose(m, k)
                + special.betaln(alpha + k, beta + m - k)
                + special.betaln(gamma, delta + m)
            ]
            for i in range(int(k), m):
                terms.append(
                    log_choose(i, k)
                    + special.betaln(alpha + k, beta + i - k)
                    + special.betaln(gamma + 1, delta + i)
                )
            out[j] = np.exp(base + special.logsumexp(terms))
        return _wrap(out, (n,), "probability")


def simulate(
    params: dict[str, float], n_periods: int, size: int, *, seed: int | None = None
) -> pd.DataFrame:
    """Draw (frequency, recency, n_periods) for ``size`` customers from the BG/BB story."""
    missing = set(PARAM_NAMES) - set(params)
    if missing:
        raise ValueError(f"params must give {PARAM_NAMES}; missing {sorted(missing)}")
    rng = np.random.default_rng(seed)
    p = rng.beta(params["alpha"], params["beta"], size)
    theta = rng.beta(params["gamma"], params["delta"], size)
    alive = np.ones(size, dtype=bool)
    freq = np.zeros(size, dtype=np.int64)
    last = np.zeros(size, dtype=np.int64)
    for t in range(1, int(n_periods) + 1):
        alive &= rng.random(size) >= theta
        buy = alive & (rng.random(size) < p)
        freq += buy
        last[buy] = t
    return pd.DataFrame({"frequency": freq, "recency": last, "n_periods": int(n_periods)})
