"""Simple LTV: the course formula LTV = m × a × t [L1] and its discounted variant.

* m — average check (net revenue per order) in the reporting period, currency units (RUB);
* a — purchases per customer per period;
* t — customer lifetime in periods, t = 1 / churn per period.

Refunds (``is_refund`` rows, negative ``amount``) reduce revenue: m uses **net** revenue divided
by the number of purchase orders (refund rows are not orders). These are arithmetic the course
teaches, so they are written out here rather than taken from a library.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from loyalty_lib._result import Result
from loyalty_lib.i18n import N_, _, fmt_count, fmt_number, fmt_share

#: (per one period, how many periods) words for the LTV sentence, translated when shown
_PERIOD_WORDS = {
    "Y": (N_("year"), N_("years")),
    "Q": (N_("quarter"), N_("quarters")),
    "M": (N_("month"), N_("months")),
}


def _array(
    name: str,
    value: Any,
    *,
    low: float = 0.0,
    low_inclusive: bool = True,
    high: float | None = None,
) -> np.ndarray:
    try:
        arr = np.asarray(value, dtype=float)
    except (TypeError, ValueError) as exc:
        raise TypeError(
            f"{name} must be a number or an array of numbers; got {type(value).__name__}"
        ) from exc
    if np.isnan(arr).any() or np.isinf(arr).any():
        raise ValueError(f"{name} must be finite numbers; got NaN or inf")
    too_low = arr < low if low_inclusive else arr <= low
    if too_low.any():
        sign = "≥" if low_inclusive else ">"
        raise ValueError(f"{name} must be {sign} {low}; got {arr[too_low].ravel()[0]}")
    if high is not None and (arr > high).any():
        raise ValueError(f"{name} must be ≤ {high}; got {arr[arr > high].ravel()[0]}")
    return arr


def _out(value: np.ndarray, *inputs: Any) -> Any:
    if all(np.ndim(v) == 0 for v in inputs):
        return float(value)
    for v in inputs:
        if isinstance(v, pd.Series):
            return pd.Series(np.broadcast_to(value, np.shape(v)), index=v.index, name="ltv")
    return value


def ltv(avg_check: Any, purchases_per_period: Any, lifetime_periods: Any) -> Any:
    """LTV = m × a × t [L1], in the currency of ``avg_check`` (RUB).

    Works on scalars (returns float) or arrays/Series (broadcast elementwise). All inputs ≥ 0.
    """
    m = _array("avg_check", avg_check)
    a = _array("purchases_per_period", purchases_per_period)
    t = _array("lifetime_periods", lifetime_periods)
    return _out(m * a * t, avg_check, purchases_per_period, lifetime_periods)


def lifetime_from_churn(churn_rate_per_period: Any) -> Any:
    """Average customer lifetime t = 1 / churn, in periods (churn in (0, 1] per period).

    With a constant churn c the lifetime is geometric with mean 1/c periods: 20 % churn a quarter
    means 5 quarters on average.
    """
    c = _array(
        "churn_rate_per_period", churn_rate_per_period, low=0.0, low_inclusive=False, high=1.0
    )
    return _out(1.0 / c, churn_rate_per_period)


def discounted_ltv(
    avg_check: Any,
    purchases_per_period: Any,
    retention_rate: Any,
    discount_rate: Any,
    periods: int | None = None,
    gross_margin: float = 1.0,
) -> Any:
    """Discounted LTV: Σ_{k=0}^{N−1} m·a·margin · r^k / (1+d)^k, in currency units.

    The first period (k = 0) is undiscounted and certain; each later period survives with
    retention r and is discounted at d per period. With q = r/(1+d):

    * finite horizon N: m·a·margin · (1 − q^N) / (1 − q)  (N·m·a·margin when q = 1);
    * infinite horizon (``periods=None``): m·a·margin · (1+d) / (1+d−r), needs r < 1 + d.

    With d = 0 and r = 1 − churn, the infinite sum is m·a/churn = m × a × t, the undiscounted
    formula [L1]. ``gross_margin`` in (0, 1] turns revenue into profit.
    """
    m = _array("avg_check", avg_check)
    a = _array("purchases_per_period", purchases_per_period)
    r = _array("retention_rate", retention_rate, high=1.0)
    d = _array("discount_rate", discount_rate)
    margin = _array("gross_margin", gross_margin, low=0.0, low_inclusive=False, high=1.0)
    cash = m * a * margin
    q = r / (1.0 + d)
    if periods is None:
        if np.any(q >= 1.0):
            raise ValueError(
                "infinite-horizon LTV needs retention_rate < 1 + discount_rate "
                "(otherwise the sum diverges); pass periods=N for a finite horizon"
            )
        value = cash * (1.0 + d) / (1.0 + d - r)
    else:
        if int(periods) != periods or periods < 1:
            raise ValueError(f"periods must be a positive integer or None; got {periods!r}")
        with np.errstate(divide="ignore", invalid="ignore"):
            value = np.where(np.isclose(q, 1.0), cash * periods, cash * (1 - q**periods) / (1 - q))
    return _out(
        np.asarray(value, dtype=float),
        avg_check,
        purchases_per_period,
        retention_rate,
        discount_rate,
    )


@dataclass(frozen=True, repr=False)
class LTVResult(Result):
    """LTV = m × a × t estimated from transactions (see :func:`ltv_from_transactions`)."""

    ltv: float  # currency units per customer
    avg_check: float  # m: net revenue per order
    purchases_per_period: float  # a: orders per active customer per period
    churn_per_period: float  # share of a period's active customers not active in the next period
    retention_per_period: float  # 1 − churn
    lifetime_periods: float  # t = 1 / churn
    n_customers: int  # customers with at least one purchase in the window
    n_orders: int
    net_revenue: float
    n_periods: int
    period: str  # "Y", "Q" or "M"
    currency: str = "RUB"

    def __str__(self) -> str:
        one, many = (_(word) for word in _PERIOD_WORDS[self.period])
        return _(
            "LTV ≈ {ltv} {currency} = average check {check} × {purchases} purchases/{one} × "
            "{lifetime} {many} (churn {churn} per {one}; {n} customers, {periods} {many})"
        ).format(
            ltv=fmt_number(self.ltv, decimals=0),
            currency=self.currency,
            check=fmt_number(self.avg_check, decimals=0),
            purchases=fmt_number(self.purchases_per_period, decimals=1),
            one=one,
            lifetime=fmt_number(self.lifetime_periods, decimals=1),
            many=many,
            churn=fmt_share(self.churn_per_period, decimals=0),
            n=fmt_count(self.n_customers),
            periods=self.n_periods,
        )


def _check_transactions(transactions: pd.DataFrame, columns: tuple[str, ...]) -> pd.DataFrame:
    if not isinstance(transactions, pd.DataFrame):
        raise TypeError(f"transactions must be a DataFrame; got {type(transactions).__name__}")
    missing = [c for c in columns if c not in transactions.columns]
    if missing:
        raise ValueError(
            f"transactions is missing columns {missing}; expected at least {list(columns)}"
        )
    if transactions.empty:
        raise ValueError("transactions is empty")
    if transactions[list(columns)].isna().any().any():
        bad = transactions[list(columns)].isna().any(axis=1)
        raise ValueError(
            f"transactions has {int(bad.sum())} rows with missing {list(columns)} "
            f"(first at index {bad.idxmax()!r})"
        )
    # Shallow: with copy-on-write the columns replaced below are new arrays and the caller's frame
    # is untouched, without a deep copy of every column (~0.5 GB for 10M transactions).
    frame = transactions.copy(deep=False)
    frame["date"] = pd.to_datetime(frame["date"])
    if "is_refund" not in frame.columns:
        frame["is_refund"] = frame["amount"] < 0
    frame["is_refund"] = frame["is_refund"].astype(bool)
    return frame


def _codes(values: pd.Series) -> tuple[np.ndarray, int]:
    """Integer codes 0..n−1 of the values (one hashing pass) and n; the group-bys, distinct counts
    and joins downstream run on these instead of on the (string) ids."""
    codes, uniques = pd.factorize(values)
    return codes.astype(np.int64, copy=False), len(uniques)


# Distinct keys through a byte map of all possible keys while it takes at most 16 bytes per key
# (np.unique sorts an 8-byte copy of every key and is ~50x slower at 10M keys); above that
# (e.g. daily periods over years), sorting.
_BITMAP_BYTES_PER_KEY = 16
_BITMAP_MIN_KEYS = 1 << 16  # a byte map this small is always fine


def _distinct_keys(keys: np.ndarray, n_possible: int) -> np.ndarray:
    """Sorted distinct values of non-negative int64 ``keys``, all < ``n_possible``."""
    if n_possible <= max(_BITMAP_BYTES_PER_KEY * keys.size, _BITMAP_MIN_KEYS):
        seen = np.zeros(n_possible, dtype=bool)
        seen[keys] = True
        return np.flatnonzero(seen)
    return np.unique(keys)


_DUCKDB_FROM_ROWS = 100_000  # below this, starting DuckDB costs more than pandas' hashing


def _count_distinct(values: pd.Series, keep: np.ndarray) -> int:
    """Number of distinct non-missing ``values[keep]`` (what ``values[keep].nunique()`` gives).

    Ids in strictly increasing order (exports sorted by order number) are distinct and need no
    hashing; otherwise strings are counted by DuckDB, whose hash aggregate is ~2.5x cheaper than
    pandas' on millions of distinct strings.
    """
    if not values.hasnans and _strictly_increasing(values):
        return int(keep.sum())
    dtype = values.dtype
    big = keep.sum() >= _DUCKDB_FROM_ROWS
    if isinstance(dtype, pd.StringDtype) and dtype.storage == "pyarrow" and big:
        import duckdb

        con = duckdb.connect()
        try:
            con.execute("SET enable_progress_bar = false")
            con.register("t", pd.DataFrame({"v": values.array, "keep": keep}, copy=False))
            (count,) = con.execute("SELECT count(DISTINCT v) FROM t WHERE keep").fetchone()
        finally:
            con.close()
        return int(count)
    return int(values[keep].nunique())


def _strictly_increasing(values: pd.Series) -> bool:
    """True when every value is larger than the one before (hence all distinct); no NA allowed."""
    if len(values) < 2:
        return True
    if isinstance(values.dtype, pd.StringDtype) and values.dtype.storage == "pyarrow":
        import pyarrow.compute as pc

        arr = values.array.__arrow_array__()
        return bool(pc.all(pc.greater(arr[1:], arr[:-1])).as_py())
    if values.dtype.kind in "iuf":
        v = values.to_numpy()
        return bool(np.all(v[1:] > v[:-1]))
    return False


def ltv_from_transactions(
    transactions: pd.DataFrame,
    period: str = "Q",
    start: Any = None,
    end: Any = None,
    *,
    currency: str = "RUB",
) -> LTVResult:
    """Estimate m, a, t and LTV = m × a × t [L1] from a transactions table.

    Window: ``start``..``end`` (inclusive; default the first/last transaction date). Only calendar
    periods (``"Y"``, ``"Q"``, ``"M"``) lying wholly inside the window are used, so a half-observed
    last quarter cannot pass for churn; with the default window the periods of the first and last
    transaction count as whole.

    * m = net revenue (refunds subtracted) / number of purchase orders (refund rows excluded;
      distinct ``order_id`` when present);
    * a = purchase orders / active customer-periods, where active = at least one purchase;
    * churn = 1 − Σ retained / Σ active over consecutive period pairs, retained = active in both;
    * t = 1 / churn, LTV = m × a × t.

    This churn counts a customer who skips a period as lost, which is why non-contractual
    businesses use BG/NBD (``loyalty_lib.ltv.bgnbd``) for a less crude lifetime.
    """
    if period not in _PERIOD_WORDS:
        raise ValueError(f"period must be one of {sorted(_PERIOD_WORDS)}; got {period!r}")
    tx = _check_transactions(transactions, ("customer_id", "date", "amount"))
    first_day = (
        pd.Timestamp(start) if start is not None else tx["date"].min().to_period(period).start_time
    )
    last_day = (
        pd.Timestamp(end)
        if end is not None
        else tx["date"].max().to_period(period).end_time.normalize()
    )
    if last_day < first_day:
        raise ValueError(f"end ({last_day.date()}) is before start ({first_day.date()})")
    periods = pd.period_range(first_day.to_period(period), last_day.to_period(period), freq=period)
    complete = [
        p for p in periods if p.start_time >= first_day and p.end_time.normalize() <= last_day
    ]
    if len(complete) < 2:
        raise ValueError(
            f"need at least two complete {_PERIOD_WORDS[period][1]} between "
            f"{first_day.date()} and {last_day.date()} to estimate churn; got {len(complete)}"
        )
    ordinal = tx["date"].dt.to_period(period).array.asi8
    # the complete periods are consecutive: a window of ordinals [lo, hi]
    lo, hi = complete[0].ordinal, complete[-1].ordinal
    inside = (ordinal >= lo) & (ordinal <= hi)
    bought = inside & ~tx["is_refund"].to_numpy(dtype=bool)
    if not bought.any():
        raise ValueError("no purchases (non-refund rows) in the window")
    n_orders = _count_distinct(tx["order_id"], bought) if "order_id" in tx else int(bought.sum())
    if n_orders == 0:  # purchases, but not one order id among them
        raise ValueError(
            "order_id is missing for every purchase in the window: fill it in, or drop the "
            "column to count each purchase row as an order"
        )
    net_revenue = float(tx["amount"][inside].sum())
    avg_check = net_revenue / n_orders

    # Active customer-periods as sorted distinct keys customer·K + period index; a customer
    # retained from one period to the next is a key followed by key + 1 within the same customer.
    codes, n_codes = _codes(tx["customer_id"])
    n_per = hi - lo + 1
    keys = _distinct_keys(codes[bought] * n_per + (ordinal[bought] - lo), n_codes * n_per)
    last = keys % n_per == n_per - 1
    customer_periods = int(keys.size)
    purchases_per_period = n_orders / customer_periods
    base = int((~last).sum())
    retained = int(((np.diff(keys) == 1) & ~last[:-1]).sum())
    customer = keys // n_per
    n_customers = 1 + int((np.diff(customer) != 0).sum())
    if base == 0:
        raise ValueError("no active customers before the last period; cannot estimate churn")
    retention = retained / base
    churn = 1.0 - retention
    if churn <= 0:
        raise ValueError(
            "every customer bought again in the next period (churn 0): lifetime is unbounded; "
            "use a longer window or discounted_ltv with a finite horizon"
        )
    lifetime = 1.0 / churn
    return LTVResult(
        ltv=avg_check * purchases_per_period * lifetime,
        avg_check=avg_check,
        purchases_per_period=purchases_per_period,
        churn_per_period=churn,
        retention_per_period=retention,
        lifetime_periods=lifetime,
        n_customers=n_customers,
        n_orders=n_orders,
        net_revenue=net_revenue,
        n_periods=len(complete),
        period=period,
        currency=currency,
    )


@dataclass(frozen=True, repr=False)
class RetentionCostResult(Result):
    """Retention cost implied by "retaining is 60–70 % cheaper than acquiring" [L4]."""

    acquisition_cost: float
    retention_cost_low: float
    retention_cost_high: float
    cheaper_low: float  # share, e.g. 0.6
    cheaper_high: float  # share, e.g. 0.7
    currency: str = "RUB"

    def __str__(self) -> str:
        return (
            f"Acquiring a customer costs {self.acquisition_cost:,.0f} {self.currency}; keeping one costs "
            f"about {self.retention_cost_low:,.0f}–{self.retention_cost_high:,.0f} {self.currency} "
            f"({self.cheaper_low:.0%}–{self.cheaper_high:.0%} cheaper)"
        )


def retention_vs_acquisition(
    acquisition_cost: float,
    retention_cost_discount: tuple[float, float] = (0.6, 0.7),
    *,
    currency: str = "RUB",
) -> RetentionCostResult:
    """Retention cost range implied by the [L4] rule of thumb: cost × (1 − 0.7) … cost × (1 − 0.6).

    ``retention_cost_discount`` — how much cheaper retention is, as shares in [0, 1).
    """
    cost = float(_array("acquisition_cost", acquisition_cost))
    if len(retention_cost_discount) != 2:
        raise ValueError(
            "retention_cost_discount must be a (low, high) pair of shares, e.g. (0.6, 0.7)"
        )
    lo, hi = sorted(float(v) for v in retention_cost_discount)
    if lo < 0 or hi >= 1:
        raise ValueError(
            f"retention_cost_discount shares must be in [0, 1); got {retention_cost_discount}"
        )
    return RetentionCostResult(
        acquisition_cost=cost,
        retention_cost_low=cost * (1 - hi),
        retention_cost_high=cost * (1 - lo),
        cheaper_low=lo,
        cheaper_high=hi,
        currency=currency,
    )


def ltv_by_churn(
    avg_check: float, purchases_per_period: float, churn_rates: Any = None
) -> pd.DataFrame:
    """LTV = m × a / churn over a range of churn rates [L1, L2]: how much each point of churn costs.

    ``churn_rates`` — shares per period in (0, 1]; default 5 %, 10 %, …, 100 %. Returns one row per
    rate with ``churn``, ``retention`` (1 − churn), ``lifetime_periods`` (t = 1 / churn) and
    ``ltv`` (currency units), sorted by churn.
    """
    m = float(_array("avg_check", avg_check))
    a = float(_array("purchases_per_period", purchases_per_period))
    rates = np.round(np.arange(1, 21) * 0.05, 2) if churn_rates is None else churn_rates
    churn = np.sort(
        np.atleast_1d(_array("churn_rates", rates, low=0.0, low_inclusive=False, high=1.0)).ravel()
    )
    if churn.size == 0:
        raise ValueError("churn_rates is empty; expected at least one share in (0, 1]")
    lifetime = lifetime_from_churn(churn)
    return pd.DataFrame(
        {
            "churn": churn,
            "retention": 1.0 - churn,
            "lifetime_periods": lifetime,
            "ltv": ltv(m, a, lifetime),
        }
    )


@dataclass(frozen=True, repr=False)
class LTVCACResult(Result):
    """Customer value against the cost of winning a customer [L5] (see :func:`ltv_to_cac`)."""

    ltv: float  # value of a customer as given (revenue unless margin already applied)
    gross_margin: float  # share of ltv kept as gross profit
    margin_ltv: float  # ltv × gross_margin, currency units
    acquisition_cost: float  # CAC: spend to win one new customer, currency units
    ratio: float  # margin_ltv / acquisition_cost
    target_ratio: float  # the ratio the business aims for (3 is a common rule of thumb)
    max_acquisition_cost: float  # margin_ltv / target_ratio: the most a new customer may cost
    meets_target: bool
    currency: str = "RUB"

    def __str__(self) -> str:
        verdict = "meets" if self.meets_target else "is below"
        return (
            f"LTV/CAC = {self.ratio:.1f} (gross-profit LTV {self.margin_ltv:,.0f} {self.currency} ÷ "
            f"acquisition cost {self.acquisition_cost:,.0f} {self.currency}), which {verdict} the "
            f"{self.target_ratio:g}:1 target; at {self.target_ratio:g}:1 a new customer may cost up to "
            f"{self.max_acquisition_cost:,.0f} {self.currency}"
        )


def ltv_to_cac(
    ltv_value: float,
    acquisition_cost: float,
    *,
    gross_margin: float = 1.0,
    target_ratio: float = 3.0,
    currency: str = "RUB",
) -> LTVCACResult:
    """LTV/CAC: gross-profit lifetime value per customer ÷ cost of acquiring one [L5].

    ratio = ltv_value × gross_margin / acquisition_cost. Pass ``gross_margin=1`` when
    ``ltv_value`` is already a profit figure (e.g. :func:`discounted_ltv` with its own margin).
    ``target_ratio`` (> 0) gives the highest acquisition cost the value justifies,
    ltv_value × gross_margin / target_ratio. Money in currency units.
    """
    value = float(_array("ltv_value", ltv_value))
    cost = float(_array("acquisition_cost", acquisition_cost, low=0.0, low_inclusive=False))
    margin = float(_array("gross_margin", gross_margin, low=0.0, low_inclusive=False, high=1.0))
    target = float(_array("target_ratio", target_ratio, low=0.0, low_inclusive=False))
    margin_ltv = value * margin
    ratio = margin_ltv / cost
    return LTVCACResult(
        ltv=value,
        gross_margin=margin,
        margin_ltv=margin_ltv,
        acquisition_cost=cost,
        ratio=ratio,
        target_ratio=target,
        max_acquisition_cost=margin_ltv / target,
        meets_target=bool(ratio >= target),
        currency=currency,
    )


@dataclass(frozen=True, repr=False)
class LTVCheckResult(Result):
    """The formula LTV = m × a × t held against two numbers the data show directly.

    * ``observed_spend`` — net revenue per customer over the observed window (what customers have
      already spent; a lifetime value below it is impossible for customers who are still buying);
    * ``curve_ltv`` — m × a × Σ_k retention_k: the same m and a, but the lifetime taken from the
      cohort retention curve (average periods with a purchase, summed over the observed ages; a
      lower bound, the curve stops at the last age the data reach);
    * ``table`` — by age k: the cohort curve and the geometric curve (1 − churn)^k that
      t = 1 / churn implies (a customer must buy in every period to count as kept).
    """

    formula_ltv: float  # m × a × t, currency units per customer
    observed_spend: float  # net revenue ÷ customers in the window, currency units
    curve_ltv: float  # m × a × Σ retention curve, currency units
    formula_lifetime_periods: float  # t = 1 / churn
    curve_lifetime_periods: float  # Σ_k retention_k over the observed ages
    n_window_periods: int
    compare_age: int  # the oldest age with at least a quarter of the customers observed
    curve_retention: float  # cohort curve at compare_age
    geometric_retention: float  # (1 − churn)^compare_age
    table: pd.DataFrame  # age, curve, geometric
    verdict: str
    period: str = "Q"
    currency: str = "RUB"

    def __str__(self) -> str:
        return self.verdict

    def _repr_html_(self) -> str:
        from loyalty_lib._result import sentence_html

        return sentence_html(self)


def ltv_reality_check(
    result: LTVResult,
    transactions: pd.DataFrame,
    *,
    curve: pd.Series | None = None,
    min_observed_share: float = 0.25,
) -> LTVCheckResult:
    """Hold ``result`` (from :func:`ltv_from_transactions`) against observed spend and the cohort curve.

    ``curve``: retention by age in ``result.period`` units (:func:`~loyalty_lib.ltv.retention_curve`
    of a cohort table with the same period); computed from ``transactions`` when omitted.
    ``compare_age`` is the oldest age at which cohorts holding at least ``min_observed_share`` of
    the customers are observed (older ages rest on a few early cohorts). The verdict says which
    lifetime to trust, computed from the numbers, so it reads right on any data.
    """
    from loyalty_lib.i18n import fmt_money, fmt_number, fmt_share
    from loyalty_lib.ltv.cohorts import cohort_table, retention_curve

    if not isinstance(result, LTVResult):
        raise TypeError(f"result must be an LTVResult; got {type(result).__name__}")
    table_ret = cohort_table(transactions, freq=result.period)
    if curve is None:
        curve = retention_curve(table_ret)
    curve = pd.Series(curve, dtype=float).dropna()
    if curve.empty:
        raise ValueError("the retention curve is empty")
    sizes = table_ret.attrs["cohort_size"].astype(float)
    observed = table_ret.notna().mul(sizes, axis=0).sum() / sizes.sum()
    observed = observed.reindex(curve.index).fillna(0.0)
    eligible = [int(k) for k in curve.index if observed[k] >= min_observed_share]
    compare_age = max(eligible) if eligible else int(curve.index[0])
    ages = np.asarray(curve.index, dtype=int)
    geometric = result.retention_per_period**ages
    m_a = result.avg_check * result.purchases_per_period
    curve_lifetime = float(curve.sum())
    observed_spend = result.net_revenue / result.n_customers
    curve_ltv = m_a * curve_lifetime
    unit = _PERIOD_WORDS[result.period][1]
    cur = result.currency
    geo_at, curve_at = float(geometric[ages == compare_age][0]), float(curve[compare_age])
    verdict = (
        f"m × a × t gives {fmt_money(result.ltv, cur)} per customer; customers have already spent "
        f"{fmt_money(observed_spend, cur)} each in {result.n_periods} {unit}, and the cohort curve's "
        f"lifetime ({fmt_number(curve_lifetime)} {unit} with a purchase, observed ages only) gives "
        f"{fmt_money(curve_ltv, cur)}. "
    )
    if result.ltv < observed_spend:
        verdict += _(
            "The formula is below what customers have already spent, so its lifetime is too short: "
        )
    elif result.ltv < curve_ltv:
        verdict += _("The formula is below the curve-based value: ")
    else:
        verdict += _("The formula is not below the curve-based value here: ")
    verdict += (
        f"t = 1 / churn = {fmt_number(result.lifetime_periods)} {unit} implies "
        f"{fmt_share(geo_at)} still buying at age {compare_age}, the cohorts show {fmt_share(curve_at)}. "
    )
    if curve_at > geo_at:
        verdict += _(
            "Trust the cohort curve (a skipped period is not a lost customer); use m × a × t only "
            "as a pessimistic floor."
        )
    else:
        verdict += _(
            "Here the two curves agree in direction; the formula is a fair first estimate."
        )
    return LTVCheckResult(
        formula_ltv=result.ltv,
        observed_spend=observed_spend,
        curve_ltv=curve_ltv,
        formula_lifetime_periods=result.lifetime_periods,
        curve_lifetime_periods=curve_lifetime,
        n_window_periods=result.n_periods,
        compare_age=compare_age,
        curve_retention=curve_at,
        geometric_retention=geo_at,
        table=pd.DataFrame({"age": ages, "curve": curve.to_numpy(), "geometric": geometric}),
        verdict=verdict,
        period=result.period,
        currency=cur,
    )
