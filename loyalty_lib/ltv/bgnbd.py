"""BG/NBD model of repeat purchasing ("buy till you die") for non-contractual customers.

Reference: Fader, P. S., Hardie, B. G. S. & Lee, K. L. (2005), "'Counting Your Customers' the Easy
Way: An Alternative to the Pareto/NBD Model", *Marketing Science* 24(2), 275–284 (below "FHL").
P(alive) comes from the companion note Fader, Hardie & Lee (2008), "Computing P(alive) Using the
BG/NBD Model" (brucehardie.com/notes/021).

Conventions (the lifetimes / BTYD convention, see ``loyalty_lib.segments.customer_summary``):

* ``frequency`` x — number of *repeat* purchase periods (distinct purchase periods minus one);
* ``recency`` t_x — time from the first to the last purchase (0 when x = 0);
* ``T`` — time from the first purchase to the end of observation;

all in the model's time unit ``freq`` (days by default). The likelihood is written in log space
(``logaddexp``/``expit``) so that customers with many purchases or long histories cannot overflow,
which lifetimes' BetaGeoFitter does silently.

Why the fit is hand-written rather than delegated to a generic optimiser wrapper: the speed target
(1M customers) needs three things a black-box wrapper does not give — identical (x, t_x, T) rows
compressed into weights, the terms that depend on x alone summed once per distinct x, and an
analytic gradient for L-BFGS-B on log-parameters.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import numpy as np
import pandas as pd
from scipy import optimize, special

from loyalty_lib.ltv._identify import warn_if_unidentified
from loyalty_lib.ltv._mle import (
    FittedModelDisplay,
    minimize_log_params,
    numerical_hessian,
    standard_errors,
    wald_summary,
)

PARAM_NAMES = ("r", "alpha", "a", "b")


# ---------------------------------------------------------------------------------------------
# input handling
# ---------------------------------------------------------------------------------------------
def _as_1d(name: str, values: Any) -> np.ndarray:
    try:
        arr = np.asarray(values, dtype=float)
    except (TypeError, ValueError) as exc:
        raise TypeError(
            f"{name} must be numeric (array, Series or scalar); got {type(values).__name__}"
        ) from exc
    return np.atleast_1d(arr).ravel()


def _index_of(*values: Any) -> pd.Index | None:
    for v in values:
        if isinstance(v, pd.Series):
            return v.index
    return None


def _wrap(result: np.ndarray, like: tuple[Any, ...], name: str) -> Any:
    """Return a Series when an input was a Series, a float for all-scalar input, else an array."""
    index = _index_of(*like)
    if index is not None and len(index) == result.size:
        return pd.Series(result, index=index, name=name)
    if all(np.ndim(v) == 0 for v in like):
        return float(result.reshape(-1)[0])
    return result


def _example(mask: np.ndarray, values: np.ndarray) -> str:
    i = int(np.flatnonzero(mask)[0])
    return f"e.g. row {i}: {values[i]:g}"


def validate_rft(frequency: Any, recency: Any, T: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Check and broadcast (frequency, recency, T); raise ValueError naming the bad-row counts.

    Rules: no NaN; frequency a non-negative integer; T ≥ 0; 0 ≤ recency ≤ T; recency = 0 when
    frequency = 0. T = 0 is allowed because a daily summary gives it to customers whose first
    purchase is on the observation-end day; they carry no information (log-likelihood term 0).
    """
    x, tx, big_t = _as_1d("frequency", frequency), _as_1d("recency", recency), _as_1d("T", T)
    try:
        x, tx, big_t = np.broadcast_arrays(x, tx, big_t)
    except ValueError as exc:
        raise ValueError(
            f"frequency, recency and T must have the same length; got {x.size}, {tx.size}, {big_t.size}"
        ) from exc
    if x.size == 0:
        raise ValueError("frequency, recency and T are empty; expected at least one customer")
    problems = []
    nan = np.isnan(x) | np.isnan(tx) | np.isnan(big_t)
    if nan.any():
        problems.append(f"{int(nan.sum())} rows with NaN ({_example(nan, x)})")
    ok = ~nan
    checks = [
        ("frequency is not a non-negative integer", ok & ((x < 0) | (x != np.floor(x))), x),
        ("T is negative", ok & (big_t < 0), big_t),
        ("recency is negative", ok & (tx < 0), tx),
        ("recency is larger than T", ok & (tx > big_t), tx),
        ("recency is not 0 although frequency is 0", ok & (x == 0) & (tx != 0), tx),
    ]
    for message, mask, values in checks:
        if mask.any():
            problems.append(f"{int(mask.sum())} rows where {message} ({_example(mask, values)})")
    if problems:
        raise ValueError(
            "BG/NBD input expects frequency ≥ 0 integer, 0 ≤ recency ≤ T and recency = 0 "
            "when frequency = 0; found " + "; ".join(problems)
        )
    return x.astype(float), tx.astype(float), big_t.astype(float)


def compress(
    x: np.ndarray, tx: np.ndarray, big_t: np.ndarray, weights: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Collapse identical (x, t_x, T) rows into one row with summed weight.

    Real summaries are in whole days/weeks, so 1M customers usually collapse to a few hundred
    thousand distinct rows or fewer. pandas' hash group-by is ~10× faster than ``np.unique(axis=0)``.
    """
    w = np.ones_like(x) if weights is None else weights
    # With continuous times nearly every row is distinct and hashing 1M rows would cost more than
    # it saves; distinct T values bound the compression ratio, so look at a sample of T first.
    sample = (
        big_t
        if big_t.size <= 50_000
        else np.random.default_rng(0).choice(big_t, 50_000, replace=False)
    )
    if pd.unique(sample).size > 0.5 * sample.size:
        return x, tx, big_t, w
    frame = pd.DataFrame({"x": x, "tx": tx, "T": big_t, "w": w})
    grouped = frame.groupby(["x", "tx", "T"], sort=False)["w"].sum()
    keys = grouped.index
    return (
        keys.get_level_values(0).to_numpy(float),
        keys.get_level_values(1).to_numpy(float),
        keys.get_level_values(2).to_numpy(float),
        grouped.to_numpy(float),
    )


def _distinct_pairs(
    x: np.ndarray, big_t: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """Distinct (x, T) pairs and each row's pair index, or None when they would not pay.

    x is a non-negative integer; T is hashed once and the pair becomes one int64 key. None for
    small inputs and when most pairs are distinct (continuous T), as in :func:`compress`.
    """
    if x.size < 1000:
        return None
    sample = (
        big_t
        if big_t.size <= 50_000
        else np.random.default_rng(0).choice(big_t, 50_000, replace=False)
    )
    if pd.unique(sample).size > 0.5 * sample.size:
        return None
    t_codes, t_values = pd.factorize(big_t)
    if float(x.max()) * t_values.size >= 2.0**62:
        return None
    key = x.astype(np.int64) * t_values.size + t_codes
    inverse, keys = pd.factorize(key)
    if keys.size > 0.5 * x.size:
        return None
    return (keys // t_values.size).astype(float), t_values[keys % t_values.size], inverse


# ---------------------------------------------------------------------------------------------
# log-likelihood, FHL eq. (6), and its gradient
# ---------------------------------------------------------------------------------------------
class _Data:
    """Compressed data split the way the likelihood is cheapest to evaluate.

    Work buffers are allocated once: at 1M rows, allocating fresh temporaries on every likelihood
    evaluation costs more (page faults) than the arithmetic itself.
    """

    def __init__(self, x: np.ndarray, tx: np.ndarray, big_t: np.ndarray, w: np.ndarray):
        # Terms that depend on x only (gamma/beta functions) are summed once per distinct x.
        ux, inverse = np.unique(x, return_inverse=True)
        self.ux = ux
        self.wx = np.bincount(inverse, weights=w, minlength=ux.size)
        zero = x == 0
        # x = 0 rows only need T (their likelihood has no "dropped out after t_x" branch).
        self.t0, self.w0 = big_t[zero], w[zero]
        pos = ~zero
        self.x, self.tx, self.T, self.w = x[pos], tx[pos], big_t[pos], w[pos]
        self.total_weight = float(w.sum())
        self.unit_weights = bool(np.all(self.w == 1.0))
        self.allocate()

    def allocate(self) -> None:
        self.buf = [np.empty(self.x.size) for _ in range(10)]
        self.buf0 = [np.empty(self.t0.size) for _ in range(2)]


def _loglik_and_grad(params: np.ndarray, d: _Data) -> tuple[float, np.ndarray]:
    """Total weighted log-likelihood and its gradient in (r, alpha, a, b).

    Per customer (FHL eq. 6, written in logs):
        ll = A1 + A2 + log(exp(A3) + [x>0] exp(A4))
        A1 = lnΓ(r+x) − lnΓ(r) + r ln α
        A2 = ln B(a, b+x) − ln B(a, b)
        A3 = −(r+x) ln(α+T)
        A4 = ln a − ln(b+x−1) − (r+x) ln(α+t_x)
    With D = A4 − A3, log(e^A3 + e^A4) = A3 + softplus(D), and the posterior share of the second
    branch ("dropped out right after t_x") is expit(D) = 1 − P(alive); the gradient is assembled
    from those shares.
    """
    r, alpha, a, b = params
    ux, wx = d.ux, d.wx
    ll = float(
        wx
        @ (
            special.gammaln(r + ux)
            - special.gammaln(r)
            + r * np.log(alpha)
            + special.betaln(a, b + ux)
            - special.betaln(a, b)
        )
    )
    psi_ab = special.digamma(a + b)
    psi_abx = special.digamma(a + b + ux)
    g_r = float(wx @ (special.digamma(r + ux) - special.digamma(r) + np.log(alpha)))
    g_alpha = r / alpha * d.total_weight
    g_a = float(wx @ (psi_ab - psi_abx))
    g_b = float(wx @ (psi_ab + special.digamma(b + ux) - special.digamma(b) - psi_abx))

    # customers with no repeat purchase: ll = A1 + A2 − r ln(α+T)
    if d.t0.size:
        at0, log_at0 = d.buf0
        np.add(d.t0, alpha, out=at0)
        np.log(at0, out=log_at0)
        s_log0 = float(np.multiply(d.w0, log_at0, out=log_at0).sum())
        ll -= r * s_log0
        g_r -= s_log0
        g_alpha -= r * float(np.divide(d.w0, at0, out=at0).sum())

    if d.x.size:
        x = d.x
        at, atx, log_at, lr, rx, bx1, big_d, e, q, tmp = d.buf

        def wsum(values: np.ndarray) -> float:
            if d.unit_weights:
                return float(values.sum())
            return float(np.multiply(d.w, values, out=tmp).sum())

        np.add(d.T, alpha, out=at)
        np.add(d.tx, alpha, out=atx)
        np.log(at, out=log_at)
        np.divide(at, atx, out=lr)
        np.log(lr, out=lr)  # ln((α+T)/(α+t_x)) ≥ 0
        np.add(x, r, out=rx)
        np.add(x, b - 1.0, out=bx1)
        # A3 = −(r+x) ln(α+T)
        ll -= wsum(np.multiply(rx, log_at, out=big_d))
        g_r -= wsum(log_at)
        # D = A4 − A3 = ln a − ln(b+x−1) + (r+x)·ln((α+T)/(α+t_x))
        np.log(bx1, out=e)
        np.multiply(rx, lr, out=big_d)
        big_d += np.log(a)
        big_d -= e
        # softplus(D) = max(D, 0) + log1p(exp(−|D|)); expit(D) from the same exp, no overflow
        np.abs(big_d, out=e)
        np.negative(e, out=e)
        np.exp(e, out=e)
        np.add(e, 1.0, out=q)
        np.reciprocal(q, out=q)  # 1/(1+e^−|D|) = expit(|D|)
        np.log1p(e, out=e)
        ll += wsum(e)
        ll += wsum(np.maximum(big_d, 0.0, out=e))
        np.subtract(1.0, q, out=q, where=big_d < 0)  # q is now p4 = expit(D) = 1 − P(alive)
        p4 = q
        g_r += wsum(np.multiply(p4, lr, out=e))
        # ∂/∂α: −(r+x)·[(1−p4)/(α+T) + p4/(α+t_x)] = −(r+x)·[1/(α+T) + p4·(1/(α+t_x) − 1/(α+T))]
        np.reciprocal(at, out=at)
        np.reciprocal(atx, out=atx)
        np.subtract(atx, at, out=atx)
        np.multiply(atx, p4, out=atx)
        np.add(atx, at, out=atx)
        np.multiply(atx, rx, out=atx)
        g_alpha -= wsum(atx)
        g_a += wsum(p4) / a
        g_b -= wsum(np.divide(p4, bx1, out=e))
    return float(ll), np.array([g_r, g_alpha, g_a, g_b])


def _objective(log_params: np.ndarray, d: _Data, penalizer: float) -> tuple[float, np.ndarray]:
    """Mean negative log-likelihood (+ L2 penalty, lifetimes' convention), gradient in log-params."""
    params = np.exp(log_params)
    ll, grad = _loglik_and_grad(params, d)
    value = -ll / d.total_weight + penalizer * np.sum(params**2)
    grad_params = -grad / d.total_weight + 2.0 * penalizer * params
    return value, grad_params * params  # chain rule: d/d log θ = θ · d/dθ


_WARM_START_ROWS = 50_000


def _minimize(
    start: np.ndarray, data: _Data, penalizer: float, gtol: float
) -> optimize.OptimizeResult:
    return minimize_log_params(_objective, start, (data, penalizer), gtol=gtol, maxcor=20)


# ---------------------------------------------------------------------------------------------
# the model
# ---------------------------------------------------------------------------------------------
# The shared check (loyalty_lib.ltv._identify); BG/NBD mixes the drop-out probability p over
# Beta(a, b) and the purchase rate λ over Gamma(r, α).
_BETA_PAIRS = (("a", "b", "the drop-out probability after a purchase"),)
_GAMMA_PAIRS = (("r", "alpha", "purchase rates"),)


def _warn_if_unidentified(params: dict[str, float]) -> None:
    """Warn when a, b or r drifted off to infinity: say what the data lack and what still holds."""
    warn_if_unidentified(
        "BG/NBD", params, beta_pairs=_BETA_PAIRS, gamma_pairs=_GAMMA_PAIRS, stacklevel=4
    )


class BetaGeo(FittedModelDisplay):
    """BG/NBD model (Fader, Hardie & Lee 2005).

    Each alive customer buys as a Poisson process with rate λ ~ Gamma(r, α); after every repeat
    purchase the customer drops out with probability p ~ Beta(a, b). ``freq`` names the time unit
    of recency/T ("D" days, "W" weeks, "M" months) and is used in sentences and by CLV.

    >>> model = BetaGeo(freq="W").fit(summary["frequency"], summary["recency"], summary["T"])
    >>> model.params   # {'r': 0.243, 'alpha': 4.41, 'a': 0.793, 'b': 2.43} on CDNOW
    """

    _UNITS = {"D": "days", "W": "weeks", "M": "months", "Q": "quarters", "Y": "years"}

    def __init__(self, freq: str = "D"):
        if freq not in self._UNITS:
            raise ValueError(
                f"freq must be one of {sorted(self._UNITS)} (time unit of recency/T); got {freq!r}"
            )
        self.freq = freq
        self.params: dict[str, float] = {}
        self.log_likelihood: float = float("nan")
        self.n_customers: int = 0
        self.n_unique: int = 0
        self.converged: bool = False
        self.penalizer: float = 0.0
        self._standard_errors: dict[str, float] | None = None
        self._data: _Data | None = None
        self._optimizer_result: optimize.OptimizeResult | None = None

    # -- fitting ---------------------------------------------------------------------------
    def fit(
        self,
        frequency: Any,
        recency: Any,
        T: Any,
        *,
        weights: Any = None,
        initial: dict[str, float] | None = None,
        penalizer: float = 0.0,
    ) -> BetaGeo:
        """Maximum-likelihood fit (FHL eq. 6 summed over customers), L-BFGS-B on log-parameters.

        ``weights`` — number of customers each row stands for (for data already compressed);
        identical rows are compressed here anyway. ``initial`` — starting {r, alpha, a, b}.
        ``penalizer`` — L2 penalty on the parameters added to the *mean* negative log-likelihood
        (lifetimes' convention); 0 gives the plain MLE.
        Warns (UserWarning) when a, b or r drift off towards infinity, as when no customer in the
        data drops out: those parameters are then not identified, only a ratio of them is.
        """
        x, tx, big_t = validate_rft(frequency, recency, T)
        w = None
        if weights is not None:
            w = np.broadcast_to(_as_1d("weights", weights), x.shape).astype(float)
            if np.isnan(w).any() or (w < 0).any():
                raise ValueError(
                    f"weights must be non-negative numbers; {int((np.isnan(w) | (w < 0)).sum())} bad rows"
                )
            if w.sum() <= 0:
                raise ValueError("weights sum to 0; expected at least one customer")
        if penalizer < 0:
            raise ValueError(f"penalizer must be ≥ 0; got {penalizer}")
        cx, ctx, ct, cw = compress(x, tx, big_t, w)
        keep = cw > 0
        data = _Data(cx[keep], ctx[keep], ct[keep], cw[keep])

        start = np.log(self._initial(initial, data))
        n_rows = cx[keep].size
        if initial is None and n_rows > 4 * _WARM_START_ROWS:
            # Most L-BFGS iterations are spent far from the optimum; take them on a random
            # subsample (same weights) so the full-data passes only polish the estimate.
            pick = np.random.default_rng(0).choice(n_rows, _WARM_START_ROWS, replace=False)
            sub = _Data(cx[keep][pick], ctx[keep][pick], ct[keep][pick], cw[keep][pick])
            start = _minimize(start, sub, penalizer, gtol=1e-6).x
        result = _minimize(start, data, penalizer, gtol=1e-10)
        params = np.exp(result.x)
        self._optimizer_result = result
        self.params = dict(zip(PARAM_NAMES, map(float, params), strict=True))
        self.log_likelihood, _ = _loglik_and_grad(params, data)
        self.n_customers = int(round(data.total_weight))
        self.n_unique = int(cx[keep].size)
        self.penalizer = float(penalizer)
        grad_norm = float(np.max(np.abs(result.jac)))
        self.converged = bool(result.success or grad_norm < 1e-6)
        _warn_if_unidentified(self.params)
        # Standard errors cost 8 more likelihood passes; computed on first use (``summary``).
        data.buf, data.buf0 = [], []
        self._data = data
        self._standard_errors = None
        return self

    @property
    def standard_errors(self) -> dict[str, float]:
        """Asymptotic standard errors: sqrt(diag(H⁻¹)), H = numerical Hessian of the total NLL."""
        self._require_fit()
        if self._data is None:  # parameters set by hand, not estimated: no likelihood to curve
            return dict.fromkeys(PARAM_NAMES, float("nan"))
        if self._standard_errors is None:
            self._data.allocate()
            data = self._data
            hess = numerical_hessian(
                lambda p: _loglik_and_grad(p, data)[1],
                np.array([self.params[k] for k in PARAM_NAMES]),
            )
            self._data.buf, self._data.buf0 = [], []
            self._standard_errors = dict(
                zip(PARAM_NAMES, map(float, standard_errors(hess)), strict=True)
            )
        return self._standard_errors

    @staticmethod
    def _initial(initial: dict[str, float] | None, data: _Data) -> np.ndarray:
        if initial is None:
            # A rough moment start: mean repeat rate per unit time sets r/α; a, b start at a
            # moderate dropout (mean p = 1/3). L-BFGS-B is not sensitive to this on real data.
            rate = np.dot(data.wx, data.ux) / max(
                np.dot(data.w0, data.t0) + np.dot(data.w, data.T), 1e-12
            )
            r0 = 1.0
            return np.array([r0, r0 / max(rate, 1e-6), 1.0, 2.0])
        missing = set(PARAM_NAMES) - set(initial)
        if missing:
            raise ValueError(f"initial must give {PARAM_NAMES}; missing {sorted(missing)}")
        start = np.array([float(initial[k]) for k in PARAM_NAMES])
        if not np.all(np.isfinite(start) & (start > 0)):
            raise ValueError(f"initial parameters must be positive numbers; got {initial}")
        return start

    def _require_fit(self) -> tuple[float, float, float, float]:
        if not self.params:
            raise ValueError("BetaGeo is not fitted yet; call .fit(frequency, recency, T) first")
        return tuple(self.params[k] for k in PARAM_NAMES)  # type: ignore[return-value]

    @property
    def summary(self) -> pd.DataFrame:
        """Estimates with standard errors from the inverse numerical Hessian and 95 % Wald limits."""
        self._require_fit()
        return wald_summary(PARAM_NAMES, self.params, self.standard_errors)

    # -- predictions -------------------------------------------------------------------------
    def p_alive(self, frequency: Any, recency: Any, T: Any) -> Any:
        """P(alive at T | x, t_x, T) from Fader, Hardie & Lee's (2008) P(alive) note:

            1 / (1 + [x>0] · a/(b+x−1) · ((α+T)/(α+t_x))^(r+x)),

        evaluated as expit(−log-odds) so large x or T cannot overflow. Equals 1 when x = 0.
        """
        x, tx, big_t = validate_rft(frequency, recency, T)
        return _wrap(self._p_alive_raw(x, tx, big_t), (frequency, recency, T), "p_alive")

    def expected_purchases(self, t: Any, frequency: Any, recency: Any, T: Any) -> Any:
        """E[Y(t) | x, t_x, T]: expected repeat purchases in the next ``t`` units (FHL eq. 10).

            (a+b+x−1)/(a−1) · [1 − ((α+T)/(α+T+t))^(r+x) ₂F₁(r+x, b+x; a+b+x−1; z)] · P(alive)

        with z = t/(α+T+t). The hypergeometric term is evaluated after Euler's transformation,
        ((α+T)/(α+T+t))^(a−1) ₂F₁(a+b−1−r, a−1; a+b+x−1; z), whose first two arguments do not
        grow with x, so it stays finite for heavy buyers (lifetimes falls back to it only on inf).
        """
        self._require_fit()
        x, tx, big_t = validate_rft(frequency, recency, T)
        tt = _as_1d("t", t)
        if np.isnan(tt).any() or (tt < 0).any():
            raise ValueError("t must be ≥ 0 (time units ahead)")
        if tt.size == 1:
            out = next(self._expected_purchases_at([float(tt[0])], x, tx, big_t))
        else:
            tt, x, tx, big_t = np.broadcast_arrays(tt, x, tx, big_t)
            out = self._scale_bracket(
                x, self._bracket(tt, x, big_t), self._p_alive_raw(x, tx, big_t)
            )
        return _wrap(out, (t, frequency, recency, T), "expected_purchases")

    def _bracket(self, tt: np.ndarray, x: np.ndarray, big_t: np.ndarray) -> np.ndarray:
        """1 − ((α+T)/(α+T+t))^(r+x) ₂F₁(…), the factor of FHL eq. 10 that needs ₂F₁.

        It depends on (t, x, T) only, not on recency: :meth:`_expected_purchases_at` evaluates
        it once per distinct (x, T).
        """
        r, alpha, a, b = self._require_fit()
        c = a + b + x - 1
        z = tt / (alpha + big_t + tt)
        log_1mz = np.log(alpha + big_t) - np.log(alpha + big_t + tt)
        hyp = special.hyp2f1(a + b - 1 - r, a - 1, c, z)
        with np.errstate(divide="ignore", invalid="ignore"):
            # expm1 keeps precision for small t, where the bracket is a difference of near-ones
            return np.where(
                hyp > 0,
                -np.expm1((a - 1) * log_1mz + np.log(np.abs(hyp))),
                1 - np.exp((a - 1) * log_1mz) * hyp,
            )

    def _scale_bracket(self, x: np.ndarray, bracket: np.ndarray, p_alive: np.ndarray) -> np.ndarray:
        """(a+b+x−1)/(a−1) · bracket · P(alive), floored at 0: the rest of FHL eq. 10."""
        a, b = self.params["a"], self.params["b"]
        return np.maximum((a + b + x - 1) / (a - 1) * bracket * p_alive, 0.0)

    def _expected_purchases_at(
        self, ts: Iterable[float], x: np.ndarray, tx: np.ndarray, big_t: np.ndarray
    ) -> Iterator[np.ndarray]:
        """E[Y(t) | x, t_x, T] for each scalar t ≥ 0 of ``ts``, on validated arrays.

        P(alive) is computed once for all t, and ₂F₁ (nearly all of the cost) once per distinct
        (x, T) pair: a daily summary of a million customers holds a few tens of thousands.
        Elementwise arithmetic, so the values are those of evaluating every customer.
        """
        self._require_fit()
        x, tx, big_t = np.broadcast_arrays(x, tx, big_t)
        p_alive = self._p_alive_raw(x, tx, big_t)
        groups = _distinct_pairs(x, big_t)
        for t in ts:
            if groups is None:
                tt = np.broadcast_to(float(t), x.shape)
                yield self._scale_bracket(x, self._bracket(tt, x, big_t), p_alive)
            else:
                ux, ut, inverse = groups
                tt = np.broadcast_to(float(t), ux.shape)
                yield self._scale_bracket(x, self._bracket(tt, ux, ut)[inverse], p_alive)

    def _p_alive_raw(self, x: np.ndarray, tx: np.ndarray, big_t: np.ndarray) -> np.ndarray:
        r, alpha, a, b = self._require_fit()
        with np.errstate(divide="ignore", invalid="ignore"):
            log_odds = (
                np.log(a)
                - np.log(b + np.maximum(x, 1) - 1)
                + (r + x) * (np.log(alpha + big_t) - np.log(alpha + tx))
            )
        return np.where(x == 0, 1.0, special.expit(-log_odds))

    def expected_purchases_new(self, t: Any) -> Any:
        """E[X(t)]: expected repeat purchases in (0, t] for a customer who bought at 0 (FHL eq. 9).

        (a+b−1)/(a−1) · [1 − (α/(α+t))^r ₂F₁(r, b; a+b−1; t/(α+t))]
        """
        r, alpha, a, b = self._require_fit()
        tt = _as_1d("t", t)
        if np.isnan(tt).any() or (tt < 0).any():
            raise ValueError("t must be ≥ 0 (time units since the first purchase)")
        hyp = special.hyp2f1(r, b, a + b - 1, tt / (alpha + tt))
        out = (a + b - 1) / (a - 1) * (1 - np.exp(r * (np.log(alpha) - np.log(alpha + tt))) * hyp)
        return _wrap(np.maximum(out, 0.0), (t,), "expected_purchases_new")

    def p_alive_matrix(
        self, max_frequency: int, max_recency: int, T: float | None = None
    ) -> pd.DataFrame:
        """P(alive) on the grid frequency 0..max_frequency × recency 0..max_recency, at T.

        ``T`` defaults to ``max_recency`` (lifetimes' plot_probability_alive_matrix convention).
        Cells with frequency = 0 and recency > 0 are impossible and left NaN.
        Rows = recency, columns = frequency.
        """
        if int(max_frequency) < 0 or int(max_recency) < 0:
            raise ValueError("max_frequency and max_recency must be ≥ 0")
        big_t = float(max_recency if T is None else T)
        if big_t <= 0 or big_t < max_recency:
            raise ValueError(
                f"T must be > 0 and ≥ max_recency; got T={big_t}, max_recency={max_recency}"
            )
        freqs = np.arange(int(max_frequency) + 1)
        recs = np.arange(int(max_recency) + 1)
        xx, rr = np.meshgrid(freqs, recs)
        valid = ~((xx == 0) & (rr > 0))
        values = np.full(xx.shape, np.nan)
        values[valid] = self._p_alive_raw(
            xx[valid].astype(float), rr[valid].astype(float), np.full(valid.sum(), big_t)
        )
        frame = pd.DataFrame(
            values, index=pd.Index(recs, name="recency"), columns=pd.Index(freqs, name="frequency")
        )
        frame.attrs["T"] = big_t
        frame.attrs["unit"] = self._UNITS[self.freq]
        return frame

    # -- text --------------------------------------------------------------------------------
    def __str__(self) -> str:
        if not self.params:
            return f"BG/NBD model (not fitted; time unit {self._UNITS[self.freq]})"
        p = self.params
        if self._data is None:
            return (
                f"BG/NBD with given parameters (time unit {self._UNITS[self.freq]}): r = {p['r']:.3f}, "
                f"alpha = {p['alpha']:.3f}, a = {p['a']:.3f}, b = {p['b']:.3f}"
            )
        status = "converged" if self.converged else "NOT converged"
        return (
            f"BG/NBD fitted on {self.n_customers:,} customers (time unit {self._UNITS[self.freq]}): "
            f"r = {p['r']:.3f}, alpha = {p['alpha']:.3f}, a = {p['a']:.3f}, b = {p['b']:.3f}; "
            f"log-likelihood {self.log_likelihood:,.1f} ({status})"
        )


def simulate(params: dict[str, float], T: Any, *, seed: int | None = None) -> pd.DataFrame:
    """Draw (frequency, recency, T) for customers following the BG/NBD story (FHL section 2).

    λ ~ Gamma(r, rate α), p ~ Beta(a, b); purchases arrive at rate λ from the first purchase at 0;
    after each *repeat* purchase the customer drops out with probability p. ``T`` is one
    observation length per customer (array) — its length sets the number of customers. Used for
    teaching, for tests (a second method for the formulas) and for the 1M-customer benchmark.
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
    p = rng.beta(params["a"], params["b"], n)
    now = np.zeros(n)
    freq = np.zeros(n, dtype=np.int64)
    last = np.zeros(n)
    active = np.flatnonzero(lam > 0)
    while active.size:
        now[active] += rng.exponential(1.0, active.size) / lam[active]
        inside = now[active] <= big_t[active]
        active = active[inside]
        freq[active] += 1
        last[active] = now[active]
        active = active[rng.random(active.size) >= p[active]]  # survives this repeat purchase
    return pd.DataFrame({"frequency": freq, "recency": last, "T": big_t})
