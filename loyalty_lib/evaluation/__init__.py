"""Program-effectiveness evaluation: KPIs, ROI, treatment-vs-control lift, diff-in-diff, retention.

The lesson's question is "did the loyalty program work, and did it pay?" ([E1]–[E6] in the seed
digest). The standard answer compares a randomised **treatment** group with a **control** group
over the same calendar window:

* :func:`campaign_outcomes` turns transactions + the campaign table into one row per campaign
  customer with pre- and post-period orders, net spend and purchase flags;
* :func:`lift` compares the post-period means of the two groups (Welch t for means, a difference of
  proportions for 0/1 flags) and reports the relative lift with Fieller's interval;
* :func:`diff_in_diff` subtracts each customer's own pre-period, which removes a stable **level**
  gap between the groups (not a gap that was growing: that needs parallel trends, checked by
  :func:`pre_trend_check`); it narrows the interval only when the pre/post correlation exceeds
  0.5, and :func:`ancova_effect` (ANCOVA / CUPED) is the efficient estimator — see
  :mod:`loyalty_lib.evaluation.campaign` with :func:`balance_table` and :func:`pre_period_means`;
* :func:`kpis`, :func:`roi`, :func:`program_roi`, :func:`segment_retention`,
  :func:`nps_before_after` and :func:`success_signals` are the KPI dashboard of [E1]/[E2];
* :data:`CASE_STUDIES`, :func:`complaint_metrics`, :func:`too_early_to_judge` carry [E3], [E6],
  [N12] and [E5];
* lesson 06 helpers: :func:`pre_campaign_segments` and :func:`lift_by_segment` (segments fixed
  before the start), :func:`signal_snapshots` (the [E2] signs before/after), :func:`spread_costs`
  and :func:`kpis_by_group`, :func:`evaluation_timing` ([E5]), :func:`compare_with_truth` (the
  planted effect of synthetic data, when there is one), :func:`nps_diff_in_diff` and
  :func:`complaints_from_survey` (an illustrative, simulated complaints log for [E6]).

Conventions: money in the currency of the data (RUB in the samples); shares in 0..1; relative
lifts as fractions (0.123 = +12.3 %); dates are normalised to midnight and windows are whole days.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy import stats

from loyalty_lib._result import Result
from loyalty_lib.i18n import N_, _, fmt_count, fmt_date, get_language, ngettext
from loyalty_lib.program import roi  # one ROI definition for design and evaluation
from loyalty_lib.stats import check_confidence, normal_interval, two_sided_p, z_quantile

__all__ = [
    "SMD_THRESHOLD",
    "ANCOVAResult",
    "BalanceResult",
    "PreTrendResult",
    "ancova_effect",
    "balance_table",
    "pre_period_means",
    "pre_trend_check",
    "show_verdict",
    "CASE_STUDIES",
    "COMPLAINT_URGENCY",
    "EXPECTED_MONTHS_TO_FIRST_EFFECT",
    "RECOMMENDED_STARTING_METHODS",
    "E2_SIGNALS",
    "DiDResult",
    "LiftResult",
    "NPSDiDResult",
    "ROIResult",
    "TimingResult",
    "TruthComparison",
    "campaign_outcomes",
    "compare_with_truth",
    "complaint_metrics",
    "complaints_from_survey",
    "diff_in_diff",
    "evaluation_timing",
    "group_means",
    "kpis",
    "kpis_by_group",
    "lift",
    "lift_by_segment",
    "nps_before_after",
    "nps_diff_in_diff",
    "pre_campaign_segments",
    "program_roi",
    "required_group_size",
    "roi",
    "segment_retention",
    "signal_snapshots",
    "spread_costs",
    "success_signals",
    "too_early_to_judge",
]

GROUPS = ("treatment", "control")
_TX_COLUMNS = ("customer_id", "date", "amount", "is_refund")
_CAMPAIGN_COLUMNS = ("customer_id", "group", "start_date")

#: [E5] "the first changes show after 3–4 months" (seed 002): months from launch, (low, high).
EXPECTED_MONTHS_TO_FIRST_EFFECT: tuple[int, int] = (3, 4)
#: [E5] "start with 2–3 methods" (seed 002): how many loyalty tools to launch first, (low, high).
RECOMMENDED_STARTING_METHODS: tuple[int, int] = (2, 3)


# --------------------------------------------------------------------------------------------
# validation helpers
# --------------------------------------------------------------------------------------------
def _require_frame(df: Any, columns: Iterable[str], name: str) -> None:
    if not isinstance(df, pd.DataFrame):
        raise TypeError(f"{name} must be a pandas DataFrame, got {type(df).__name__}")
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise ValueError(
            f"{name} is missing column(s) {missing}; expected at least {list(columns)} "
            f"(see loyalty_lib/README.md, canonical tables)"
        )
    if df.empty:
        raise ValueError(f"{name} is empty; expected at least one row")


def _dates(values: pd.Series, name: str) -> pd.Series:
    out = pd.to_datetime(values, errors="coerce")
    if out.isna().any():
        bad = values[out.isna()].index[0]
        raise ValueError(f"{name} has a missing or unparseable date at row {bad!r}")
    return out.dt.normalize()


def _timestamp(value: Any, name: str) -> pd.Timestamp:
    try:
        ts = pd.Timestamp(value)
    except (TypeError, ValueError) as exc:
        raise TypeError(
            f"{name} must be a date (str, datetime or Timestamp), got {value!r}"
        ) from exc
    if pd.isna(ts):
        raise ValueError(f"{name} must be a date, got {value!r}")
    return ts.normalize()


def _transactions(transactions: pd.DataFrame) -> pd.DataFrame:
    _require_frame(transactions, _TX_COLUMNS, "transactions")
    tx = transactions.copy()
    tx["date"] = _dates(tx["date"], "transactions.date")
    if not pd.api.types.is_numeric_dtype(tx["amount"]) or tx["amount"].isna().any():
        raise ValueError("transactions.amount must be numeric (currency units) without NaN")
    tx["is_refund"] = tx["is_refund"].astype(bool)
    return tx


def _alpha(confidence: float) -> float:
    return 1 - check_confidence(confidence)


def _loc(text: str) -> str:
    """A number written by Python's format (``1,234.5``) in the reader's marks (``1 234,5``).

    English text stays exactly what the f-strings wrote; Russian swaps the group separator for a
    non-breaking space and the decimal point for a comma (the CLDR marks Babel uses elsewhere)."""
    if get_language() == "en":
        return text
    return text.replace(",", "\u00a0").replace(".", ",")


def _n(x: float, spec: str) -> str:
    """``format(x, spec)`` in the reader's marks (see :func:`_loc`)."""
    return _loc(format(x, spec))


def _unit(unit: str) -> str:
    """`` RUB`` / `` pp`` / `` %`` after a number: English as written, Russian ₽, п. п. and a
    non-breaking space."""
    if get_language() == "en" or not unit:
        return unit
    word = unit.strip()
    word = {"RUB": "₽", "pp": "п.\u00a0п."}.get(word, word)
    return "\u00a0" + word


def _money(x: float, currency: str, spec: str = ",.0f") -> str:
    """``f"{x:,.0f} {currency}"`` in English; ``1 234 ₽`` in Russian."""
    return _n(x, spec) + _unit(f" {currency}")


def _level(confidence: float) -> str:
    """The confidence level as the sentences always wrote it: ``95%`` (Russian ``95 %``)."""
    return _("{value}%").format(value=f"{100 * confidence:.0f}")


def _fmt_p(p: float) -> str:
    if not math.isfinite(p):
        return _("p=n/a")
    return _loc("p<0.001") if p < 0.001 else f"p={_n(p, '.3f')}"


def _pct(x: float) -> str:
    return _("n/a") if not math.isfinite(x) else _n(100 * x, "+.1f") + _unit(" %")


# --------------------------------------------------------------------------------------------
# campaign outcomes
# --------------------------------------------------------------------------------------------
def campaign_outcomes(
    transactions: pd.DataFrame,
    campaign: pd.DataFrame,
    *,
    pre_days: int | None = None,
    post_days: int | None = None,
    end: Any = None,
) -> pd.DataFrame:
    """One row per campaign customer with pre- and post-period outcomes.

    Windows are per customer and in whole days, anchored at the customer's ``start_date``:

    * post = ``[start_date, start_date + post_days)``; by default ``post_days`` runs from
      ``start_date`` to ``end`` inclusive (``end`` defaults to the last transaction date, the
      observation end);
    * pre = the ``pre_days`` days just before ``start_date``; by default the same length as the
      post window, so before/after compare equal spans (needed for diff-in-diff).

    Columns: ``customer_id``, ``group``, ``start_date``, ``pre_start``, ``post_end`` (inclusive),
    ``days_pre``, ``days_post``, ``orders_pre``/``orders_post`` (purchases, refunds excluded;
    distinct ``order_id`` when that column exists), ``spend_pre``/``spend_post`` (net currency:
    refunds subtract in the window they happen), ``repeat_pre``/``repeat_post`` (bool, ≥ 1
    purchase in the window: bought again), ``repeat2_pre``/``repeat2_post`` (bool, ≥ 2 purchases)
    and ``active_before`` (bool, any purchase at all before ``start_date``: an existing customer).
    Campaign customers without transactions get zeros, so nobody silently drops out.
    """
    tx = _transactions(transactions)
    _require_frame(campaign, _CAMPAIGN_COLUMNS, "campaign")
    camp = campaign.loc[:, list(_CAMPAIGN_COLUMNS)].copy()
    if camp["customer_id"].isna().any():
        raise ValueError("campaign.customer_id has missing values")
    dup = camp["customer_id"].duplicated()
    if dup.any():
        raise ValueError(
            f"campaign must have one row per customer; {camp.loc[dup, 'customer_id'].iloc[0]!r} "
            "appears more than once"
        )
    bad_groups = sorted(set(camp["group"].astype(str)) - set(GROUPS))
    if bad_groups:
        raise ValueError(f"campaign.group must be 'treatment' or 'control', found {bad_groups}")
    camp["group"] = camp["group"].astype(str)
    camp["start_date"] = _dates(camp["start_date"], "campaign.start_date")
    end_ts = tx["date"].max() if end is None else _timestamp(end, "end")

    for name, value in (("pre_days", pre_days), ("post_days", post_days)):
        if value is not None and (
            isinstance(value, bool) or not isinstance(value, int | np.integer) or value <= 0
        ):
            raise ValueError(f"{name} must be a positive whole number of days, got {value!r}")

    if post_days is None:
        post_len = (end_ts - camp["start_date"]).dt.days + 1
    else:
        post_len = pd.Series(int(post_days), index=camp.index)
    if (post_len <= 0).any():
        raise ValueError(
            f"every start_date must be on or before the observation end {end_ts.date()}"
        )
    last_day = camp["start_date"] + pd.to_timedelta(post_len - 1, unit="D")
    if (last_day > end_ts).any():
        # a window running past the data would count unobserved days as "no purchase"
        raise ValueError(
            f"post_days={post_days} runs past the observation end {end_ts.date()} for some "
            "customers; shorten post_days or pass a later end"
        )
    pre_len = post_len if pre_days is None else pd.Series(int(pre_days), index=camp.index)
    camp["pre_start"] = camp["start_date"] - pd.to_timedelta(pre_len, unit="D")
    camp["post_end"] = last_day
    camp["days_pre"] = pre_len.astype(int)
    camp["days_post"] = post_len.astype(int)

    m = tx.merge(camp[["customer_id", "start_date", "pre_start", "post_end"]], on="customer_id")
    before = m["date"] < m["start_date"]
    m["period"] = np.select(
        [before & (m["date"] >= m["pre_start"]), ~before & (m["date"] <= m["post_end"])],
        ["pre", "post"],
        default="",
    )
    buys = m.loc[~m["is_refund"] & (m["period"] != "")]
    if "order_id" in buys.columns:
        orders = buys.groupby(["customer_id", "period"])["order_id"].nunique()
    else:
        orders = buys.groupby(["customer_id", "period"]).size()
    spend = m.loc[m["period"] != ""].groupby(["customer_id", "period"])["amount"].sum()
    existing = m.loc[~m["is_refund"] & before, "customer_id"].unique()

    out = camp.set_index("customer_id")
    for label, series, dtype in (("orders", orders, "int64"), ("spend", spend, "float64")):
        wide = series.unstack("period").reindex(columns=["pre", "post"])
        for period in ("pre", "post"):
            out[f"{label}_{period}"] = wide[period].reindex(out.index).fillna(0).astype(dtype)
    for period in ("pre", "post"):
        out[f"repeat_{period}"] = out[f"orders_{period}"] >= 1
        out[f"repeat2_{period}"] = out[f"orders_{period}"] >= 2
    out["active_before"] = out.index.isin(existing)
    return out.reset_index()


def _check_outcomes(outcomes: pd.DataFrame, columns: Iterable[str]) -> np.ndarray:
    """Validate the outcome table; return the boolean treatment mask (numpy)."""
    _require_frame(outcomes, ["group", *columns], "outcomes")
    group = outcomes["group"]
    if not group.isin(GROUPS).all():
        bad = sorted(set(group[~group.isin(GROUPS)].astype(str)))
        raise ValueError(f"outcomes.group must be 'treatment' or 'control', found {bad}")
    for col in columns:
        s = outcomes[col]
        if not (pd.api.types.is_numeric_dtype(s) or pd.api.types.is_bool_dtype(s)):
            raise TypeError(f"outcomes[{col!r}] must be numeric or boolean, got {s.dtype}")
        if s.isna().any():
            raise ValueError(f"outcomes[{col!r}] has NaN; fill or drop those customers first")
    treated = group.eq("treatment").to_numpy(dtype=bool)
    for g, n in (("treatment", int(treated.sum())), ("control", int((~treated).sum()))):
        if n < 2:
            raise ValueError(f"need at least 2 customers in the {g} group, got {n}")
    return treated


def _split(outcomes: pd.DataFrame, col: str, treated: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    values = outcomes[col].to_numpy(dtype=float)
    return values[treated], values[~treated]


# --------------------------------------------------------------------------------------------
# lift
# --------------------------------------------------------------------------------------------
def _fieller(m_t: float, v_t: float, m_c: float, v_c: float, q: float) -> tuple[float, float]:
    """Fieller's interval for the ratio m_t / m_c of two independent means (v = SE²).

    Solves (m_t − ρ·m_c)² = q²·(v_t + ρ²·v_c) for ρ (Fieller 1954). Unlike the delta method it is
    not forced to be symmetric and does not break down for small control means; it is unbounded
    (returned as NaN) when the control mean itself is not significantly different from zero.
    """
    a = m_c**2 - q**2 * v_c
    if not (math.isfinite(a) and a > 0):
        return math.nan, math.nan
    b = -2 * m_t * m_c
    c = m_t**2 - q**2 * v_t
    root = math.sqrt(max(b * b - 4 * a * c, 0.0))
    return (-b - root) / (2 * a), (-b + root) / (2 * a)


@dataclass(frozen=True)
class LiftResult(Result):
    """Treatment vs control on one per-customer metric (post period unless the metric says pre)."""

    metric: str
    kind: str  # "mean" (Welch t) or "proportion" (difference of proportions)
    treatment_mean: float
    control_mean: float
    diff: float  # treatment − control, in the metric's units (share for proportions)
    diff_ci_low: float
    diff_ci_high: float
    rel_lift: float  # treatment / control − 1, as a fraction
    rel_ci_low: float
    rel_ci_high: float
    p_value: float
    n_treatment: int
    n_control: int
    confidence: float = 0.95
    currency: str = "RUB"

    def __str__(self) -> str:
        period = (
            _("over the pre period") if self.metric.endswith("_pre") else _("over the post period")
        )
        d = self.diff
        up = d >= 0
        if self.metric.startswith("spend"):
            template = (
                _("Treatment customers spent {amount} more {period} than control")
                if up
                else _("Treatment customers spent {amount} less {period} than control")
            )
            head = template.format(amount=_money(abs(d), self.currency), period=period)
        elif self.metric.startswith("orders"):
            template = (
                _("Treatment customers made {n} more orders each {period} than control")
                if up
                else _("Treatment customers made {n} fewer orders each {period} than control")
            )
            head = template.format(n=_n(abs(d), ",.2f"), period=period)
        elif self.kind == "proportion":
            base = self.metric.rsplit("_", 1)[0]
            label = {
                "repeat": _("repeat-purchase rate (≥ 1 purchase)"),
                "repeat2": _("rate of ≥ 2 purchases"),
            }.get(base) or _("share with {metric}").format(metric=self.metric)
            template = (
                _(
                    "Treatment customers' {label} {period} was {points} percentage points "
                    "higher than control, {treatment} vs {control}"
                )
                if up
                else _(
                    "Treatment customers' {label} {period} was {points} percentage points "
                    "lower than control, {treatment} vs {control}"
                )
            )
            head = template.format(
                label=label,
                period=period,
                points=_n(100 * abs(d), ".1f"),
                treatment=_n(100 * self.treatment_mean, ".1f") + _unit(" %"),
                control=_n(100 * self.control_mean, ".1f") + _unit(" %"),
            )
        else:
            template = (
                _("Treatment customers' mean {metric} was {value} higher than control")
                if up
                else _("Treatment customers' mean {metric} was {value} lower than control")
            )
            head = template.format(metric=self.metric, value=_n(abs(d), ",.4g"))
        head = head[:1].upper() + head[1:]  # a Russian sentence may open with the label
        return _("{head} ({rel}, {level} CI {low} to {high}, {p}, n={n_t} vs {n_c})").format(
            head=head,
            rel=_pct(self.rel_lift),
            level=_level(self.confidence),
            low=_pct(self.rel_ci_low),
            high=_pct(self.rel_ci_high),
            p=_fmt_p(self.p_value),
            n_t=fmt_count(self.n_treatment),
            n_c=fmt_count(self.n_control),
        )

    @property
    def verdict(self) -> str:
        """The lift in words, computed from the interval of the difference."""
        from loyalty_lib.evaluation.campaign import _ci_words, _value

        base = self.metric.removesuffix("_pre").removesuffix("_post")
        what = {
            "spend": _("net spend per customer"),
            "orders": _("orders per customer"),
            "repeat": _("the share buying at least once"),
            "repeat2": _("the share with ≥ 2 purchases"),
        }.get(base, base)

        def f(x: float) -> str:
            return _value(base, x, self.currency, diff=True)

        if self.metric.endswith("_pre"):
            return _(
                "Before the start treatment and control differed by {diff} in {what} "
                "[{low}; {high}]: a head start, not an effect."
            ).format(
                diff=f(self.diff), what=what, low=f(self.diff_ci_low), high=f(self.diff_ci_high)
            )
        return _("Post-period comparison: {words}.").format(
            words=_ci_words(self.diff_ci_low, self.diff_ci_high, self.diff, what, f)
        )


def lift(
    outcomes: pd.DataFrame,
    metric: str = "spend_post",
    *,
    kind: Literal["auto", "mean", "proportion"] = "auto",
    confidence: float = 0.95,
    currency: str = "RUB",
) -> LiftResult:
    """Treatment − control difference in the mean of ``metric`` with its CI, p-value and relative lift.

    * ``kind="mean"`` (default for numeric columns): Welch's t-test
      (``scipy.stats.ttest_ind(equal_var=False)``) and its confidence interval for the difference.
    * ``kind="proportion"`` (default for boolean columns such as ``repeat_post``): difference of
      proportions with the unpooled normal (Wald) CI; p-value from the pooled two-proportion z-test
      (the textbook pairing: pooled SE under H0, unpooled SE for the interval).
    * Relative lift = treatment mean / control mean − 1 with **Fieller's** interval for the ratio
      (Welch's degrees of freedom for means, the normal quantile for proportions). It is NaN when
      the control mean is not clearly above zero (the ratio is then unbounded).
    """
    alpha = _alpha(confidence)
    if not isinstance(metric, str):
        raise TypeError(f"metric must be a column name (str), got {type(metric).__name__}")
    treated = _check_outcomes(outcomes, [metric])
    if kind == "auto":
        kind = "proportion" if pd.api.types.is_bool_dtype(outcomes[metric]) else "mean"
    if kind not in ("mean", "proportion"):
        raise ValueError(f"kind must be 'auto', 'mean' or 'proportion', got {kind!r}")
    t, c = _split(outcomes, metric, treated)
    n_t, n_c = len(t), len(c)
    m_t, m_c = float(t.mean()), float(c.mean())

    if kind == "mean":
        res = stats.ttest_ind(t, c, equal_var=False)
        ci = res.confidence_interval(confidence_level=confidence)
        lo, hi, p = float(ci.low), float(ci.high), float(res.pvalue)
        v_t, v_c = t.var(ddof=1) / n_t, c.var(ddof=1) / n_c
        q = float(stats.t.ppf(1 - alpha / 2, res.df)) if math.isfinite(res.df) else math.nan
    else:
        if not np.isin(np.concatenate([t, c]), (0.0, 1.0)).all():
            raise ValueError(f"kind='proportion' needs 0/1 values in {metric!r}")
        v_t, v_c = m_t * (1 - m_t) / n_t, m_c * (1 - m_c) / n_c
        q = z_quantile(confidence)
        lo, hi = normal_interval(m_t - m_c, math.sqrt(v_t + v_c), confidence)
        pooled = (t.sum() + c.sum()) / (n_t + n_c)
        se0 = math.sqrt(pooled * (1 - pooled) * (1 / n_t + 1 / n_c))
        # se0 == 0: every customer has the same flag, the difference is 0 and p = 1
        p = two_sided_p(m_t - m_c, se0)
    rel = m_t / m_c - 1 if m_c != 0 else math.nan
    r_lo, r_hi = _fieller(m_t, v_t, m_c, v_c, q) if math.isfinite(q) else (math.nan, math.nan)
    return LiftResult(
        metric=metric,
        kind=kind,
        treatment_mean=m_t,
        control_mean=m_c,
        diff=m_t - m_c,
        diff_ci_low=lo,
        diff_ci_high=hi,
        rel_lift=rel,
        rel_ci_low=float(r_lo - 1),
        rel_ci_high=float(r_hi - 1),
        p_value=p,
        n_treatment=n_t,
        n_control=n_c,
        confidence=confidence,
        currency=currency,
    )


def group_means(outcomes: pd.DataFrame, metric: str, *, confidence: float = 0.95) -> pd.DataFrame:
    """Per-group mean of ``metric`` with a CI (t interval; Wald interval for boolean flags).

    Columns: ``group`` (treatment, control), ``mean``, ``ci_low``, ``ci_high``, ``n``. Used by the
    lift chart and the diff-in-diff plot.
    """
    alpha = _alpha(confidence)
    treated = _check_outcomes(outcomes, [metric])
    binary = pd.api.types.is_bool_dtype(outcomes[metric])
    rows = []
    for g, values in zip(GROUPS, _split(outcomes, metric, treated), strict=True):
        n, mean = len(values), float(values.mean())
        if binary:
            lo, hi = normal_interval(mean, math.sqrt(mean * (1 - mean) / n), confidence)
        else:
            half = stats.t.ppf(1 - alpha / 2, n - 1) * values.std(ddof=1) / math.sqrt(n)
            lo, hi = mean - half, mean + half
        rows.append({"group": g, "mean": mean, "ci_low": lo, "ci_high": hi, "n": n})
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------------------------
# difference in differences
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class DiDResult(Result):
    """(post_T − pre_T) − (post_C − pre_C) on per-customer means, with a Welch CI on change scores."""

    metric: str
    estimate: float
    ci_low: float
    ci_high: float
    p_value: float
    pre_treatment: float
    post_treatment: float
    pre_control: float
    post_control: float
    n_treatment: int
    n_control: int
    confidence: float = 0.95
    currency: str = "RUB"

    def __str__(self) -> str:
        # flags are shown as percentages and their differences in percentage points
        share = self.metric in ("repeat", "repeat2")
        scale, nd = (100.0, 1) if share else (1.0, 0 if self.metric == "spend" else 2)
        unit = _unit(f" {self.currency}" if self.metric == "spend" else " pp" if share else "")
        level = _unit(" %") if share else unit
        what = {
            "spend": _("net spend per customer"),
            "orders": _("orders per customer"),
            "repeat": _("share buying again"),
            "repeat2": _("share with ≥ 2 purchases"),
        }.get(self.metric, f"{self.metric} per customer")

        def v(x: float) -> str:
            return _n(scale * x, f",.{nd}f")

        template = (
            _(
                "Difference-in-differences: treatment {what} changed by {value} more than "
                "control's (treatment {pre_t} → {post_t}, control {pre_c} → {post_c}; "
                "{level} CI {low} to {high}, {p}, n={n_t} vs {n_c})"
            )
            if self.estimate >= 0
            else _(
                "Difference-in-differences: treatment {what} changed by {value} less than "
                "control's (treatment {pre_t} → {post_t}, control {pre_c} → {post_c}; "
                "{level} CI {low} to {high}, {p}, n={n_t} vs {n_c})"
            )
        )
        return template.format(
            what=what,
            value=v(abs(self.estimate)) + unit,
            pre_t=v(self.pre_treatment),
            post_t=v(self.post_treatment) + level,
            pre_c=v(self.pre_control),
            post_c=v(self.post_control) + level,
            level=_level(self.confidence),
            low=_n(scale * self.ci_low, f"+,.{nd}f"),
            high=_n(scale * self.ci_high, f"+,.{nd}f") + unit,
            p=_fmt_p(self.p_value),
            n_t=fmt_count(self.n_treatment),
            n_c=fmt_count(self.n_control),
        )

    @property
    def verdict(self) -> str:
        """The result in words, computed from the interval (the lesson shows this, not a hedge)."""
        from loyalty_lib.evaluation.campaign import _ci_words, _value

        def f(x: float) -> str:
            return _value(self.metric, x, self.currency, diff=True)

        what = {
            "spend": _("net spend per customer"),
            "orders": _("orders per customer"),
            "repeat": _("the share buying again"),
            "repeat2": _("the share with ≥ 2 purchases"),
        }.get(self.metric, self.metric)
        return _("Difference-in-differences: {words}.").format(
            words=_ci_words(self.ci_low, self.ci_high, self.estimate, what, f)
        )


def diff_in_diff(
    outcomes: pd.DataFrame,
    metric: str = "spend",
    *,
    confidence: float = 0.95,
    currency: str = "RUB",
) -> DiDResult:
    """Difference-in-differences of ``metric`` (``spend``, ``orders``, ``repeat``, ``repeat2``).

    Uses ``{metric}_pre`` and ``{metric}_post`` from :func:`campaign_outcomes`. The estimate is the
    mean change (post − pre) in treatment minus the mean change in control, which equals the
    interaction coefficient of the OLS regression ``y ~ treated + post + treated:post`` on the
    stacked customer-period rows. The CI and p-value come from Welch's t-test on the per-customer
    change scores, which accounts for each customer appearing in both periods (a naive OLS on the
    stacked rows would treat the two rows as independent).

    DiD removes a level gap that was there before the start; it is unbiased only under parallel
    trends (check with :func:`pre_trend_check`), and narrower than the post-only comparison only
    when the pre/post correlation exceeds 0.5 (:func:`ancova_effect` reports both SEs).
    """
    check_confidence(confidence)
    if not isinstance(metric, str):
        raise TypeError(f"metric must be a base name such as 'spend' (str), got {metric!r}")
    if metric.endswith(("_pre", "_post")):
        raise ValueError(f"pass the base name (e.g. 'spend'), not {metric!r}")
    pre, post = f"{metric}_pre", f"{metric}_post"
    treated = _check_outcomes(outcomes, [pre, post])
    pre_t, pre_c = _split(outcomes, pre, treated)
    post_t, post_c = _split(outcomes, post, treated)
    t, c = post_t - pre_t, post_c - pre_c  # per-customer change scores
    res = stats.ttest_ind(t, c, equal_var=False)
    ci = res.confidence_interval(confidence_level=confidence)
    return DiDResult(
        metric=metric,
        estimate=float(t.mean() - c.mean()),
        ci_low=float(ci.low),
        ci_high=float(ci.high),
        p_value=float(res.pvalue),
        pre_treatment=float(pre_t.mean()),
        post_treatment=float(post_t.mean()),
        pre_control=float(pre_c.mean()),
        post_control=float(post_c.mean()),
        n_treatment=len(t),
        n_control=len(c),
        confidence=confidence,
        currency=currency,
    )


# --------------------------------------------------------------------------------------------
# KPIs and ROI  [E1]
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ROIResult(Result):
    """Program ROI from incremental revenue, gross margin and program costs (currency units)."""

    incremental_revenue: float
    gross_margin: float  # share 0..1
    incremental_margin: float
    program_costs: float
    net_gain: float  # incremental margin − costs
    roi: float  # fraction
    roi_ci_low: float = math.nan  # from the lift CI when a LiftResult was given
    roi_ci_high: float = math.nan
    confidence: float = 0.95  # of the ROI interval (the lift's confidence)
    currency: str = "RUB"

    def __str__(self) -> str:
        ci = ""
        if math.isfinite(self.roi_ci_low) and math.isfinite(self.roi_ci_high):
            ci = _("; {level} CI {low} to {high}").format(
                level=_level(self.confidence),
                low=_pct(self.roi_ci_low),
                high=_pct(self.roi_ci_high),
            )
        verdict = _("pays for itself") if self.roi >= 0 else _("does not pay for itself")
        if ci and self.roi_ci_low < 0 <= self.roi:
            verdict = _("pays for itself on the point estimate, but the interval includes a loss")
        return _(
            "ROI {roi}: incremental margin {margin} against program costs {costs} "
            "(net {net}{ci}), so the program {verdict}"
        ).format(
            roi=_pct(self.roi),
            margin=_money(self.incremental_margin, self.currency),
            costs=_money(self.program_costs, self.currency),
            net=_money(self.net_gain, self.currency, "+,.0f"),
            ci=ci,
            verdict=verdict,
        )


def program_roi(
    incremental: LiftResult | DiDResult | float,
    gross_margin: float,
    program_costs: float,
    *,
    currency: str | None = None,
) -> ROIResult:
    """ROI = (incremental revenue × gross margin − costs) / costs.

    ``incremental`` is either the incremental revenue in currency units, a :class:`LiftResult`
    on a ``spend_*`` metric, or a :class:`DiDResult` on ``spend``: then incremental revenue =
    per-customer difference (or diff-in-diff estimate) × number of treatment customers (what the
    treated group bought beyond what it would have bought without the program), and the
    estimate's CI carries over to an ROI interval.
    """
    if isinstance(gross_margin, bool) or not isinstance(gross_margin, int | float):
        raise TypeError(f"gross_margin must be a share 0..1, got {gross_margin!r}")
    if not 0 < gross_margin <= 1:
        raise ValueError(f"gross_margin must be a share in (0, 1], got {gross_margin!r}")
    lo = hi = math.nan
    confidence = 0.95
    if isinstance(incremental, LiftResult | DiDResult):
        confidence = incremental.confidence
        if not incremental.metric.startswith("spend"):
            raise ValueError(
                f"program_roi needs a lift on spend (currency), got metric {incremental.metric!r}"
            )
        if isinstance(incremental, LiftResult):
            per_customer = incremental.diff
            per_low, per_high = incremental.diff_ci_low, incremental.diff_ci_high
        else:
            per_customer = incremental.estimate
            per_low, per_high = incremental.ci_low, incremental.ci_high
        n = incremental.n_treatment
        revenue = per_customer * n
        cur = currency or incremental.currency
        lo = roi(per_low * n * gross_margin, program_costs)
        hi = roi(per_high * n * gross_margin, program_costs)
    elif isinstance(incremental, int | float | np.integer | np.floating) and not isinstance(
        incremental, bool
    ):
        revenue = float(incremental)
        cur = currency or "RUB"
    else:
        raise TypeError(
            "incremental must be a LiftResult, a DiDResult or incremental revenue in currency "
            f"units, got {type(incremental).__name__}"
        )
    margin = revenue * gross_margin
    value = roi(margin, program_costs)
    return ROIResult(
        incremental_revenue=revenue,
        gross_margin=float(gross_margin),
        incremental_margin=margin,
        program_costs=float(program_costs),
        net_gain=margin - float(program_costs),
        roi=value,
        roi_ci_low=lo,
        roi_ci_high=hi,
        confidence=confidence,
        currency=cur,
    )


def _period_costs(program_costs: Any, periods: pd.PeriodIndex) -> pd.Series:
    if program_costs is None:
        return pd.Series(math.nan, index=periods)
    if isinstance(program_costs, int | float | np.integer | np.floating) and not isinstance(
        program_costs, bool
    ):
        return pd.Series(float(program_costs), index=periods)
    if isinstance(program_costs, Mapping | pd.Series):
        items = program_costs.items()
        costs = {pd.Period(k, freq=periods.freq): float(v) for k, v in items}
        return pd.Series(costs, dtype=float).reindex(periods)
    raise TypeError(
        "program_costs must be a number (cost per period) or a mapping/Series period → cost, got "
        f"{type(program_costs).__name__}"
    )


def kpis(
    transactions: pd.DataFrame,
    *,
    members: Iterable[str] | None = None,
    program_costs: float | Mapping[Any, float] | pd.Series | None = None,
    period: Literal["M", "Q"] = "M",
    start: Any = None,
    end: Any = None,
) -> pd.DataFrame:
    """The [E1] KPI table, one row per calendar period (month ``"M"`` or quarter ``"Q"``).

    Columns:

    * ``period`` (pandas Period), ``period_start`` (Timestamp);
    * ``members``: number of program members (``members`` argument; default every customer in
      ``transactions``);
    * ``participants``: members with ≥ 1 purchase in the period; ``activity`` = participants /
      members (0..1);
    * ``orders``: purchases (refunds excluded); ``average_check``: mean purchase amount
      (gross, before refunds), currency;
    * ``repeat_rate``: share of participants with ≥ 2 purchases in the period;
      ``returning_rate``: share of participants who had bought in an earlier period (NaN for the
      first period of the data, where nobody can have bought before);
    * ``revenue``: net amount including refunds, currency;
    * ``program_costs`` (a number per period or a period → cost mapping; NaN when not given) and
      ``cost_per_participant``.

    ROI needs *incremental* margin, which a KPI table cannot know: use :func:`lift` and
    :func:`program_roi` (or :func:`roi`) for it.
    """
    if period not in ("M", "Q"):
        raise ValueError(f"period must be 'M' (month) or 'Q' (quarter), got {period!r}")
    tx = _transactions(transactions)
    if members is None:
        member_ids = pd.Index(tx["customer_id"].unique())
    else:
        if isinstance(members, str):
            raise TypeError("members must be a collection of customer ids, not a single string")
        member_ids = pd.Index(pd.unique(pd.Series(list(members))))
        if member_ids.empty:
            raise ValueError("members is empty; expected at least one customer id")
        tx = tx[tx["customer_id"].isin(member_ids)]
    tx = tx.assign(period=tx["date"].dt.to_period(period))
    first_period = tx.loc[~tx["is_refund"]].groupby("customer_id")["period"].min()
    data_first = tx["period"].min() if not tx.empty else None

    lo = _timestamp(start, "start") if start is not None else tx["date"].min()
    hi = _timestamp(end, "end") if end is not None else tx["date"].max()
    if pd.isna(lo) or pd.isna(hi):
        raise ValueError("no transactions for these members; pass start and end")
    if lo > hi:
        raise ValueError(f"start {lo.date()} is after end {hi.date()}")
    periods = pd.period_range(lo, hi, freq=period)
    tx = tx[(tx["date"] >= lo) & (tx["date"] <= hi)]

    buys = tx.loc[~tx["is_refund"]]
    per_cust = buys.groupby(["period", "customer_id"]).size().rename("n").reset_index()
    per_cust["returning"] = per_cust["customer_id"].map(first_period) < per_cust["period"]
    per_cust["repeat"] = per_cust["n"] >= 2
    g = per_cust.groupby("period")
    table = pd.DataFrame(index=periods)
    table["participants"] = g.size().reindex(periods, fill_value=0)
    table["orders"] = buys.groupby("period").size().reindex(periods, fill_value=0)
    table["average_check"] = buys.groupby("period")["amount"].mean().reindex(periods)
    table["repeat_rate"] = g["repeat"].mean().reindex(periods)
    table["returning_rate"] = g["returning"].mean().reindex(periods)
    if data_first is not None:
        table.loc[table.index <= data_first, "returning_rate"] = math.nan
    table["revenue"] = tx.groupby("period")["amount"].sum().reindex(periods, fill_value=0.0)
    table["members"] = len(member_ids)
    table["activity"] = table["participants"] / table["members"]
    table["program_costs"] = _period_costs(program_costs, periods)
    table["cost_per_participant"] = table["program_costs"] / table["participants"].where(
        table["participants"] > 0
    )
    table.index.name = "period"
    table = table.reset_index()
    table.insert(1, "period_start", table["period"].dt.start_time)
    cols = [
        "period",
        "period_start",
        "members",
        "participants",
        "activity",
        "orders",
        "average_check",
        "repeat_rate",
        "returning_rate",
        "revenue",
        "program_costs",
        "cost_per_participant",
    ]
    return table[cols]


# --------------------------------------------------------------------------------------------
# retention by segment  [E1]
# --------------------------------------------------------------------------------------------
_OFFSETS = {"D": "days", "W": "weeks", "M": "months", "Q": "months"}


def segment_retention(
    transactions: pd.DataFrame,
    segments: pd.Series,
    start_date: Any,
    *,
    freq: Literal["D", "W", "M", "Q"] = "M",
    periods: int = 6,
    end: Any = None,
) -> pd.DataFrame:
    """Share of each segment's customers who buy in each period after the campaign start ([E1]).

    ``segments`` maps customer_id (index) → segment label. Period k (1..``periods``) is
    ``[start + (k−1)·freq, start + k·freq)``; a customer is retained in period k if they made
    ≥ 1 purchase in it. Customers with no purchases at all still count in the denominator.

    Returns a tidy table: ``segment``, ``period`` (1..), ``period_start``, ``period_end``
    (inclusive), ``customers``, ``active``, ``share`` (0..1). Periods that end after ``end``
    (default: last transaction date) are not fully observed and get NaN ``active``/``share``.
    """
    tx = _transactions(transactions)
    if not isinstance(segments, pd.Series):
        raise TypeError(
            f"segments must be a pandas Series customer_id → segment, got {type(segments).__name__}"
        )
    if segments.empty or segments.isna().any():
        raise ValueError("segments must be non-empty and have a label for every customer")
    if segments.index.duplicated().any():
        raise ValueError("segments has duplicate customer ids in its index")
    if freq not in _OFFSETS:
        raise ValueError(f"freq must be one of {sorted(_OFFSETS)}, got {freq!r}")
    if isinstance(periods, bool) or not isinstance(periods, int) or periods < 1:
        raise ValueError(f"periods must be a positive integer, got {periods!r}")
    start = _timestamp(start_date, "start_date")
    end_ts = tx["date"].max() if end is None else _timestamp(end, "end")
    step = 3 if freq == "Q" else 1
    edges = pd.DatetimeIndex(
        [start + pd.DateOffset(**{_OFFSETS[freq]: step * k}) for k in range(periods + 1)]
    )
    buys = tx.loc[
        ~tx["is_refund"]
        & tx["customer_id"].isin(segments.index)
        & (tx["date"] >= edges[0])
        & (tx["date"] < edges[-1])
    ]
    k = np.searchsorted(edges.to_numpy(), buys["date"].to_numpy(), side="right")
    hits = pd.DataFrame({"customer_id": buys["customer_id"].to_numpy(), "period": k})
    hits = hits.drop_duplicates()
    hits["segment"] = hits["customer_id"].map(segments)
    active = hits.groupby(["segment", "period"]).size()
    sizes = segments.value_counts()

    labels = sizes.index
    grid = pd.MultiIndex.from_product([labels, range(1, periods + 1)], names=["segment", "period"])
    out = pd.DataFrame(index=grid).reset_index()
    out["period_start"] = edges[out["period"] - 1]
    out["period_end"] = edges[out["period"]] - pd.Timedelta(days=1)
    out["customers"] = out["segment"].map(sizes).astype(int)
    out["active"] = active.reindex(grid, fill_value=0).to_numpy().astype(float)
    out["share"] = out["active"] / out["customers"]
    unobserved = out["period_end"] > end_ts
    out.loc[unobserved, ["active", "share"]] = math.nan
    return out.sort_values(["segment", "period"], ignore_index=True)


# --------------------------------------------------------------------------------------------
# NPS before / after and success signals  [E2]
# --------------------------------------------------------------------------------------------
def nps_before_after(
    survey: pd.DataFrame,
    start_date: Any,
    *,
    customers: Iterable[str] | None = None,
    end: Any = None,
    confidence: float = 0.95,
) -> Any:
    """NPS of responses dated before ``start_date`` vs on/after it (``loyalty_lib.nps.compare``).

    ``customers`` restricts both samples to those customer ids (e.g. the campaign's treatment
    group: ``campaign.loc[campaign.group == "treatment", "customer_id"]``); responses without a
    customer id are then dropped. ``end`` (inclusive) caps the after-sample. Returns
    :class:`loyalty_lib.nps.NPSDifference` (after − before, points). The samples are treated as
    independent; with a panel of the same respondents this is conservative.
    """
    from loyalty_lib import nps as nps_mod  # sibling topic module; imported lazily

    _require_frame(survey, ("date", "score"), "survey")
    start = _timestamp(start_date, "start_date")
    sv = survey.copy()
    sv["date"] = _dates(sv["date"], "survey.date")
    if customers is not None:
        if isinstance(customers, str):
            raise TypeError("customers must be a collection of customer ids, not a single string")
        if "customer_id" not in sv.columns:
            raise ValueError("survey needs a customer_id column to filter by customers")
        sv = sv[sv["customer_id"].isin(list(customers))]
    if end is not None:
        sv = sv[sv["date"] <= _timestamp(end, "end")]
    before = sv.loc[sv["date"] < start, "score"]
    after = sv.loc[sv["date"] >= start, "score"]
    for name, s in (("before", before), ("after", after)):
        if s.empty:
            raise ValueError(f"no survey responses {name} {start.date()} for these customers")
    return nps_mod.compare(before, after, confidence=confidence)


#: [E2] the signs that a loyalty strategy works (seed 002): all four should rise.
E2_SIGNALS = ("repeat_purchases", "average_check", "retention_time", "nps")


def success_signals(
    kpi_before: Mapping[str, float],
    kpi_after: Mapping[str, float],
    *,
    lower_is_better: Iterable[str] = (),
) -> pd.DataFrame:
    """Which KPIs rose and which fell between two snapshots ([E2]).

    [E2]: a working strategy shows rising repeat purchases, average check, retention time and NPS
    (keys ``repeat_purchases``, ``average_check``, ``retention_time``, ``nps``; other keys are
    compared too). For KPIs in ``lower_is_better`` (e.g. ``churn_rate``) a fall is good.

    Columns: ``kpi``, ``before``, ``after``, ``change``, ``change_pct`` (fraction, NaN when before
    is 0), ``direction`` (rose / fell / flat), ``good`` (bool), ``core_sign`` (bool, one of the
    four [E2] signs). [E2] signs missing from either dict are listed with NaN and ``good`` False.
    """
    for name, d in (("kpi_before", kpi_before), ("kpi_after", kpi_after)):
        if not isinstance(d, Mapping):
            raise TypeError(f"{name} must be a dict of KPI name → value, got {type(d).__name__}")
    lower = set(lower_is_better)
    keys = [k for k in kpi_before if k in kpi_after]
    if not keys:
        raise ValueError("kpi_before and kpi_after share no KPI names")
    keys += [k for k in E2_SIGNALS if k not in keys]
    rows = []
    for k in keys:
        b = float(kpi_before.get(k, math.nan))
        a = float(kpi_after.get(k, math.nan))
        change = a - b
        if not math.isfinite(change):
            direction = "missing"
        else:
            direction = "rose" if change > 0 else "fell" if change < 0 else "flat"
        good = direction == ("fell" if k in lower else "rose")
        rows.append(
            {
                "kpi": k,
                "before": b,
                "after": a,
                "change": change,
                "change_pct": change / abs(b) if b != 0 and math.isfinite(b) else math.nan,
                "direction": direction,
                "good": good,
                "core_sign": k in E2_SIGNALS,
            }
        )
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------------------------
# seed facts: case studies [E3], complaints [E6]/[N12], timing [E5]
# --------------------------------------------------------------------------------------------
_CASE_SOURCE = N_("as reported in a business article (no control group): context not evidence")
#: [E3] Case figures as reported in seed 002 (no controls, no method given: illustrations only);
#: read as ``CASE_STUDIES``, whose text follows the selected language (see ``__getattr__``).
_CASE_STUDIES: pd.DataFrame = pd.DataFrame(
    [
        (N_("supermarket app with personal recommendations"), N_("loyalty"), 34.0, 6.0),
        (N_("supermarket app with personal recommendations"), N_("average check"), 12.0, 6.0),
        (N_("music service rewarding activity"), N_("retention"), 28.0, math.nan),
        (N_("music service rewarding activity"), N_("trial-to-paid conversion"), 33.0, math.nan),
        (N_("ALDI: simpler program, better service"), N_("retention"), 27.0, 24.0),
        (
            N_("e-shop cutting support response from 24 h to 2 h"),
            N_("repeat purchases"),
            28.0,
            6.0,
        ),
    ],
    columns=["case", "metric", "change_pct", "period_months"],
).assign(source=_CASE_SOURCE)


def __getattr__(name: str) -> Any:
    """``CASE_STUDIES`` in the selected language: the English table itself, or a copy whose text
    columns (case, metric, source) are translated; the numbers and column names never change."""
    if name == "CASE_STUDIES":
        if get_language() == "en":
            return _CASE_STUDIES
        text = ["case", "metric", "source"]
        return _CASE_STUDIES.assign(**{c: _CASE_STUDIES[c].map(_) for c in text})
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def complaint_metrics(
    complaints: pd.DataFrame,
    *,
    response_target_hours: float = 1.0,
    feedback_window_hours: float = 24.0,
) -> pd.DataFrame:
    """Complaint-handling metrics by urgency class ([E6]) plus the 24-hour feedback rule ([N12]).

    ``complaints`` columns: ``received_at``, ``responded_at``, ``resolved_at`` (datetimes; NaT =
    not yet), ``satisfaction`` (numeric, any scale, NaN = not asked), ``urgency`` (class label).
    One row per urgency class and a final ``all`` row: ``n``, ``median_response_hours``,
    ``share_within_target`` (answered within ``response_target_hours``, [E6] one hour),
    ``share_within_window`` (answered within ``feedback_window_hours``, [N12] 24 h),
    ``median_resolution_hours``, ``share_resolved``, ``mean_satisfaction``. Unanswered complaints
    count as missing the target; medians are over answered / resolved complaints only.
    """
    cols = ("received_at", "responded_at", "resolved_at", "satisfaction", "urgency")
    _require_frame(complaints, cols, "complaints")
    for name, v in (
        ("response_target_hours", response_target_hours),
        ("feedback_window_hours", feedback_window_hours),
    ):
        if isinstance(v, bool) or not isinstance(v, int | float) or not v > 0:
            raise ValueError(f"{name} must be a positive number of hours, got {v!r}")
    received = pd.to_datetime(complaints["received_at"], errors="coerce")
    if received.isna().any():
        raise ValueError("complaints.received_at must be a datetime for every complaint")
    responded = pd.to_datetime(complaints["responded_at"], errors="coerce")
    resolved = pd.to_datetime(complaints["resolved_at"], errors="coerce")
    hours = pd.Timedelta(hours=1)
    df = pd.DataFrame(
        {
            "urgency": complaints["urgency"].astype(str).to_numpy(),
            "response_h": ((responded - received) / hours).to_numpy(),
            "resolution_h": ((resolved - received) / hours).to_numpy(),
            "satisfaction": pd.to_numeric(complaints["satisfaction"], errors="coerce").to_numpy(),
        }
    )
    if (df["response_h"] < 0).any() or (df["resolution_h"] < 0).any():
        raise ValueError("responded_at / resolved_at must not be earlier than received_at")
    df["in_target"] = df["response_h"] <= response_target_hours  # NaN → False: not answered
    df["in_window"] = df["response_h"] <= feedback_window_hours
    df["resolved"] = df["resolution_h"].notna()

    def summarise(part: pd.DataFrame) -> dict[str, float]:
        return {
            "n": len(part),
            "median_response_hours": part["response_h"].median(),
            "share_within_target": part["in_target"].mean(),
            "share_within_window": part["in_window"].mean(),
            "median_resolution_hours": part["resolution_h"].median(),
            "share_resolved": part["resolved"].mean(),
            "mean_satisfaction": part["satisfaction"].mean(),
        }

    rows = [{"urgency": u, **summarise(part)} for u, part in df.groupby("urgency", sort=True)]
    rows.append({"urgency": "all", **summarise(df)})
    return pd.DataFrame(rows)


def too_early_to_judge(start_date: Any, as_of: Any) -> bool:
    """True while fewer than 3 months ([E5] lower bound) have passed since the program start.

    [E5]: first changes show after 3–4 months, so a flat result before then is not evidence that
    the program failed.
    """
    start = _timestamp(start_date, "start_date")
    now = _timestamp(as_of, "as_of")
    if now < start:
        raise ValueError(f"as_of {now.date()} is before the program start {start.date()}")
    return bool(now < start + pd.DateOffset(months=EXPECTED_MONTHS_TO_FIRST_EFFECT[0]))


# --------------------------------------------------------------------------------------------
# power
# --------------------------------------------------------------------------------------------
def required_group_size(
    baseline_rate: float,
    min_detectable_lift: float,
    alpha: float = 0.05,
    power: float = 0.8,
    *,
    relative: bool = True,
) -> int:
    """Customers needed *per group* to detect a change in a rate (e.g. repeat-purchase rate).

    Two-sided two-proportion z-test (Fleiss, *Statistical Methods for Rates and Proportions*,
    eq. 4.14, no continuity correction)::

        n = [z₁₋α/₂·√(2·p̄·(1−p̄)) + z₁₋β·√(p₁(1−p₁) + p₂(1−p₂))]² / (p₂ − p₁)²,  p̄ = (p₁+p₂)/2

    with p₁ = ``baseline_rate`` and p₂ = p₁·(1 + lift) when ``relative`` (default: 0.10 = +10 %)
    or p₁ + lift when not. Written by hand because it is what the lesson teaches.
    """
    for name, v in (("baseline_rate", baseline_rate), ("alpha", alpha), ("power", power)):
        if isinstance(v, bool) or not isinstance(v, int | float) or not 0 < v < 1:
            raise ValueError(f"{name} must be a share strictly between 0 and 1, got {v!r}")
    if isinstance(min_detectable_lift, bool) or not isinstance(min_detectable_lift, int | float):
        raise TypeError(f"min_detectable_lift must be a number, got {min_detectable_lift!r}")
    if min_detectable_lift == 0:
        raise ValueError("min_detectable_lift must be non-zero")
    p1 = float(baseline_rate)
    p2 = p1 * (1 + min_detectable_lift) if relative else p1 + min_detectable_lift
    if not 0 < p2 < 1:
        raise ValueError(f"baseline_rate with this lift gives a rate {p2:.3f} outside (0, 1)")
    z_a = stats.norm.ppf(1 - alpha / 2)
    z_b = stats.norm.ppf(power)
    p_bar = (p1 + p2) / 2
    num = z_a * math.sqrt(2 * p_bar * (1 - p_bar)) + z_b * math.sqrt(p1 * (1 - p1) + p2 * (1 - p2))
    return math.ceil(num**2 / (p2 - p1) ** 2)


# --------------------------------------------------------------------------------------------
# lesson 06 helpers: segments before the start, snapshots, costs, timing, truth, complaints
# --------------------------------------------------------------------------------------------
def pre_campaign_segments(
    transactions: pd.DataFrame,
    start_date: Any,
    *,
    customers: Iterable[str] | None = None,
    scheme: Literal["seed", "rfm"] = "seed",
) -> pd.Series:
    """Segment label per customer from their history *before* ``start_date`` (customer_id index).

    Segments must be fixed before the campaign starts: labels computed afterwards would be moved
    by the campaign itself. ``scheme="seed"`` uses
    :func:`loyalty_lib.segments.vip_regular_difficult` (VIP, regular, difficult, new, one-off);
    ``"rfm"`` uses :func:`~loyalty_lib.segments.rfm_scores` + :func:`~loyalty_lib.segments.rfm_segment`.
    The summary is daily, with observation end the day before ``start_date``. ``customers``
    restricts the result (e.g. the campaign customers); those without a purchase before the start
    get ``"no purchase before start"``.
    """
    from loyalty_lib import segments as seg_mod  # sibling topic module; imported lazily

    if scheme not in ("seed", "rfm"):
        raise ValueError(f"scheme must be 'seed' or 'rfm', got {scheme!r}")
    tx = _transactions(transactions)
    start = _timestamp(start_date, "start_date")
    before = tx[tx["date"] < start]
    if before.empty:
        raise ValueError(f"no transactions before {start.date()}: nothing to segment on")
    summary = seg_mod.customer_summary(before, observation_end=start - pd.Timedelta(days=1))
    if scheme == "seed":
        labels = seg_mod.vip_regular_difficult(summary)
    else:
        labels = seg_mod.rfm_segment(seg_mod.rfm_scores(summary))
    out = pd.Series(
        labels.to_numpy(),
        index=pd.Index(summary["customer_id"], name="customer_id"),
        name="segment",
        dtype="str",
    )
    if customers is not None:
        if isinstance(customers, str):
            raise TypeError("customers must be a collection of customer ids, not a single string")
        ids = pd.Index(pd.unique(pd.Series(list(customers), dtype="str")), name="customer_id")
        out = out.reindex(ids).fillna("no purchase before start")
    return out


def lift_by_segment(
    outcomes: pd.DataFrame,
    segments: pd.Series,
    metric: str = "repeat_post",
    *,
    confidence: float = 0.95,
) -> pd.DataFrame:
    """:func:`lift` within each segment (``segments``: customer_id → label, fixed before the start).

    Columns: ``segment``, ``n_treatment``, ``n_control``, ``treatment_mean``, ``control_mean``,
    ``diff`` (metric units; shares 0..1 for flags), ``diff_ci_low``, ``diff_ci_high``,
    ``p_value``. Segments with fewer than 2 customers in a group are left out (no interval
    exists). The p-values are not corrected for looking at several segments: treat a single
    significant segment among many with caution.
    """
    if not isinstance(segments, pd.Series):
        raise TypeError(
            f"segments must be a pandas Series customer_id → segment, got {type(segments).__name__}"
        )
    _require_frame(outcomes, ["customer_id", "group", metric], "outcomes")
    labels = outcomes["customer_id"].map(segments)
    rows = []
    for label in sorted(labels.dropna().unique()):
        part = outcomes[labels.eq(label).to_numpy()]
        sizes = part["group"].value_counts()
        if min(sizes.get("treatment", 0), sizes.get("control", 0)) < 2:
            continue
        res = lift(part, metric, confidence=confidence)
        rows.append(
            {
                "segment": label,
                "n_treatment": res.n_treatment,
                "n_control": res.n_control,
                "treatment_mean": res.treatment_mean,
                "control_mean": res.control_mean,
                "diff": res.diff,
                "diff_ci_low": res.diff_ci_low,
                "diff_ci_high": res.diff_ci_high,
                "p_value": res.p_value,
            }
        )
    if not rows:
        raise ValueError("no segment has at least 2 customers in each group")
    return pd.DataFrame(rows)


def signal_snapshots(
    transactions: pd.DataFrame,
    survey: pd.DataFrame | None,
    start_date: Any,
    *,
    customers: Iterable[str] | None = None,
    end: Any = None,
) -> tuple[dict[str, float], dict[str, float]]:
    """The four [E2] signs in the window before and the window after ``start_date`` (equal lengths).

    After = ``[start_date, end]`` (``end`` inclusive, default the last transaction date); before =
    the same number of days just before the start. For each window, over the purchases of
    ``customers`` (default everyone):

    * ``repeat_purchases``: share of the window's buyers with ≥ 2 purchases in it (0..1);
    * ``average_check``: mean purchase amount (refunds excluded), currency;
    * ``retention_time``: mean days from a buyer's first to last purchase inside the window (0 for
      a single purchase) — a proxy for how long customers stay active, comparable only between
      windows of equal length;
    * ``nps``: NPS (points) of the survey answers dated in the window (NaN without a survey).

    Returns ``(before, after)`` dicts ready for :func:`success_signals`. A before/after
    comparison also moves with the season and the market: use the control group to tell them apart.
    """
    tx = _transactions(transactions)
    start = _timestamp(start_date, "start_date")
    end_ts = tx["date"].max() if end is None else _timestamp(end, "end")
    if end_ts < start:
        raise ValueError(f"end {end_ts.date()} is before the start {start.date()}")
    days = (end_ts - start).days + 1
    ids: list[str] | None = None
    if customers is not None:
        if isinstance(customers, str):
            raise TypeError("customers must be a collection of customer ids, not a single string")
        ids = list(customers)
        tx = tx[tx["customer_id"].isin(ids)]
    sv = None
    if survey is not None:
        _require_frame(survey, ("date", "score"), "survey")
        sv = survey.assign(date=_dates(survey["date"], "survey.date"))
        if ids is not None:
            if "customer_id" not in sv.columns:
                raise ValueError("survey needs a customer_id column to filter by customers")
            sv = sv[sv["customer_id"].isin(ids)]
    from loyalty_lib import nps as nps_mod  # sibling topic module; imported lazily

    def snapshot(lo: pd.Timestamp, hi: pd.Timestamp) -> dict[str, float]:
        buys = tx[~tx["is_refund"] & (tx["date"] >= lo) & (tx["date"] <= hi)]
        per = buys.groupby("customer_id")["date"].agg(["size", "min", "max"])
        answers = None if sv is None else sv.loc[(sv["date"] >= lo) & (sv["date"] <= hi), "score"]
        return {
            "repeat_purchases": float((per["size"] >= 2).mean()) if len(per) else math.nan,
            "average_check": float(buys["amount"].mean()) if len(buys) else math.nan,
            "retention_time": float((per["max"] - per["min"]).dt.days.mean())
            if len(per)
            else math.nan,
            "nps": nps_mod.nps(answers).score if answers is not None and len(answers) else math.nan,
        }

    before = snapshot(start - pd.Timedelta(days=days), start - pd.Timedelta(days=1))
    return before, snapshot(start, end_ts)


def spread_costs(
    total: float, start: Any, end: Any, *, period: Literal["M", "Q"] = "M"
) -> pd.Series:
    """Split a campaign budget (currency) equally over the calendar periods from start to end.

    Returns a Series period → cost that :func:`kpis` accepts as ``program_costs``. An equal split
    is the usual assumption when only the total is known; pass actual monthly costs when you have
    them.
    """
    if isinstance(total, bool) or not isinstance(total, int | float | np.integer | np.floating):
        raise TypeError(f"total must be a number (currency units), got {total!r}")
    if not (math.isfinite(total) and total >= 0):
        raise ValueError(f"total must be a finite number ≥ 0, got {total!r}")
    if period not in ("M", "Q"):
        raise ValueError(f"period must be 'M' (month) or 'Q' (quarter), got {period!r}")
    lo, hi = _timestamp(start, "start"), _timestamp(end, "end")
    if hi < lo:
        raise ValueError(f"end {hi.date()} is before start {lo.date()}")
    periods = pd.period_range(lo, hi, freq=period)
    return pd.Series(float(total) / len(periods), index=periods, name="program_costs")


def kpis_by_group(
    transactions: pd.DataFrame,
    campaign: pd.DataFrame,
    *,
    program_costs: float | Mapping[Any, float] | pd.Series | None = None,
    period: Literal["M", "Q"] = "M",
    start: Any = None,
    end: Any = None,
) -> pd.DataFrame:
    """:func:`kpis` for the treatment and the control group, stacked with a ``group`` column.

    Members of each group are its campaign customers. ``program_costs`` are the treatment group's
    (the control group costs nothing); everything else as in :func:`kpis`.
    """
    _require_frame(campaign, ("customer_id", "group"), "campaign")
    parts = []
    for g in GROUPS:
        members = campaign.loc[campaign["group"].eq(g), "customer_id"]
        if members.empty:
            raise ValueError(f"campaign has no {g} customers")
        table = kpis(
            transactions,
            members=members,
            program_costs=program_costs if g == "treatment" else None,
            period=period,
            start=start,
            end=end,
        )
        parts.append(table.assign(group=g))
    out = pd.concat(parts, ignore_index=True)
    return out[["group", *[c for c in out.columns if c != "group"]]]


@dataclass(frozen=True)
class TimingResult(Result):
    """How long a program has run, and whether that is long enough to judge it ([E5])."""

    start_date: pd.Timestamp
    as_of: pd.Timestamp
    full_months: int
    too_early: bool
    months_to_first_effect_low: int = EXPECTED_MONTHS_TO_FIRST_EFFECT[0]
    months_to_first_effect_high: int = EXPECTED_MONTHS_TO_FIRST_EFFECT[1]

    def __str__(self) -> str:
        low, high = self.months_to_first_effect_low, self.months_to_first_effect_high
        n = self.full_months
        months = ngettext("{n} full month", "{n} full months", n).format(n=n)
        head = _("{months} observed from the start on {start} through {end}").format(
            months=months,
            start=fmt_date(self.start_date.date()),
            end=fmt_date(self.as_of.date()),
        )
        if self.too_early:
            return _(
                "{head}: too early to judge, the first changes usually show after "
                "{low}–{high} months, so a flat result is not yet evidence of failure"
            ).format(head=head, low=low, high=high)
        return _(
            "{head}: long enough to judge (the first changes usually show after "
            "{low}–{high} months)"
        ).format(head=head, low=low, high=high)


def evaluation_timing(start_date: Any, as_of: Any) -> TimingResult:
    """Full calendar months observed since ``start_date`` and the [E5] verdict.

    ``as_of`` is the last observed day, inclusive (e.g. the observation end): data through
    2025-12-31 cover six full months from 2025-07-01. ``too_early`` is
    :func:`too_early_to_judge` on the day after ``as_of``, so both agree on the boundary.
    """
    start = _timestamp(start_date, "start_date")
    now = _timestamp(as_of, "as_of")
    if now < start:
        raise ValueError(f"as_of {now.date()} is before the program start {start.date()}")
    after = now + pd.Timedelta(days=1)  # the first day not observed
    months = (after.year - start.year) * 12 + after.month - start.month
    if after < start + pd.DateOffset(months=months):
        months -= 1
    return TimingResult(
        start_date=start,
        as_of=now,
        full_months=int(months),
        too_early=too_early_to_judge(start, after),
    )


# --- does the estimate recover the truth? -----------------------------------------------------
#: (result kind, metric) → (truth.json key, scale, what the truth is)
_TRUTH_KEYS: dict[tuple[str, str], tuple[str, str, str]] = {
    ("lift", "orders_post"): (
        "true_uplift_purchase_rate",
        "relative",
        N_("relative uplift in orders per customer"),
    ),
    ("lift", "spend_post"): (
        "expected_extra_revenue_per_treated_rub",
        "absolute",
        N_("extra spend per treated customer (before refunds)"),
    ),
    ("did", "orders"): (
        "expected_extra_orders_per_treated",
        "absolute",
        N_("extra orders per treated customer"),
    ),
    ("did", "spend"): (
        "expected_extra_revenue_per_treated_rub",
        "absolute",
        N_("extra spend per treated customer (before refunds)"),
    ),
}


@dataclass(frozen=True)
class TruthComparison(Result):
    """An estimate and its CI next to the true effect planted in synthetic data (if known)."""

    available: bool
    metric: str
    quantity: str
    estimate: float
    ci_low: float
    ci_high: float
    truth: float = math.nan
    covered: bool | None = None  # truth inside [ci_low, ci_high]; None without a truth
    scale: str = "relative"  # "relative" (fraction) or "absolute" (metric units)
    unit: str = ""  # of absolute values: the currency for spend, "orders" for orders
    note: str = ""
    confidence: float = 0.95

    def _v(self, x: float) -> str:
        if self.scale == "relative":
            return _pct(x)
        if not math.isfinite(x):
            return _("n/a")
        digits = 2 if self.unit == "orders" else 0
        if not self.unit:
            return _n(x, f"+,.{digits}f")
        unit = _("orders") if self.unit == "orders" else self.unit
        return _n(x, f"+,.{digits}f") + _unit(f" {unit}")

    def __str__(self) -> str:
        if not self.available:
            return _(
                "No ground truth available ({note}): judge the estimate {estimate} by its "
                "interval alone"
            ).format(note=self.note, estimate=self._v(self.estimate))
        verdict = (
            _("contains it: the estimate recovers the truth")
            if self.covered
            else _("misses it: this estimate does not recover the truth")
        )
        return _(
            "True {quantity}: {truth}; estimate {estimate} with {level} CI {low} to {high}, "
            "which {verdict} (error {error})"
        ).format(
            quantity=_(self.quantity),
            truth=self._v(self.truth),
            estimate=self._v(self.estimate),
            level=_level(self.confidence),
            low=self._v(self.ci_low),
            high=self._v(self.ci_high),
            verdict=verdict,
            error=self._v(self.estimate - self.truth),
        )


def compare_with_truth(result: LiftResult | DiDResult, truth_path: Any) -> TruthComparison:
    """Compare a lift or diff-in-diff estimate with the true effect in a samples ``truth.json``.

    Synthetic data from :mod:`loyalty_lib.samples` ship a ``truth.json`` with the planted effect;
    client data do not. When the file is absent (or ``truth_path`` is None), or it has no true
    value for this metric, the result says "no ground truth available" instead of failing, so
    one notebook serves both. Known truths (the campaign window from the start to the observation
    end, as :func:`campaign_outcomes` uses by default):

    * lift on ``orders_post``: relative lift vs ``true_uplift_purchase_rate`` (fraction);
    * lift on ``spend_post`` / diff-in-diff on ``spend``: RUB per treated customer vs
      ``expected_extra_revenue_per_treated_rub`` (before refunds, so net spend runs slightly lower);
    * diff-in-diff on ``orders``: orders per treated customer vs ``expected_extra_orders_per_treated``.
    """
    import json
    from pathlib import Path

    if isinstance(result, LiftResult):
        kind, metric = "lift", result.metric
    elif isinstance(result, DiDResult):
        kind, metric = "did", result.metric
    else:
        raise TypeError(f"result must be a LiftResult or DiDResult, got {type(result).__name__}")
    key, scale, quantity = _TRUTH_KEYS.get((kind, metric), ("", "absolute", metric))
    if kind == "lift" and scale == "relative":
        est, lo, hi = result.rel_lift, result.rel_ci_low, result.rel_ci_high
    elif kind == "lift":
        est, lo, hi = result.diff, result.diff_ci_low, result.diff_ci_high
    else:
        est, lo, hi = result.estimate, result.ci_low, result.ci_high
    unit = (
        result.currency
        if metric.startswith("spend")
        else ("orders" if metric.startswith("orders") else "")
    )
    base = {
        "metric": metric,
        "quantity": quantity,
        "estimate": float(est),
        "ci_low": float(lo),
        "ci_high": float(hi),
        "scale": scale,
        "unit": unit,
        "confidence": result.confidence,
    }

    if truth_path is None:
        return TruthComparison(available=False, note=_("no truth file given"), **base)
    if not isinstance(truth_path, str | Path):
        raise TypeError(f"truth_path must be a path (str or Path) or None, got {truth_path!r}")
    path = Path(truth_path)
    if not path.is_file():
        # only the file name: the sentence ends up in stored notebooks, absolute paths must not
        note = _("no {name} beside the data").format(name=path.name)
        return TruthComparison(available=False, note=note, **base)
    truth = json.loads(path.read_text(encoding="utf-8"))
    value = truth.get(key) if key else None
    if not isinstance(value, int | float) or isinstance(value, bool):
        return TruthComparison(
            available=False,
            note=_("{name} has no true value for {kind} on {metric}").format(
                name=path.name, kind=kind, metric=repr(metric)
            ),
            **base,
        )
    value = float(value)
    covered = bool(lo <= value <= hi) if math.isfinite(lo) and math.isfinite(hi) else False
    return TruthComparison(available=True, truth=value, covered=covered, **base)


# --- NPS difference in differences -----------------------------------------------------------
@dataclass(frozen=True)
class NPSDiDResult(Result):
    """(NPS_T,after − NPS_T,before) − (NPS_C,after − NPS_C,before), points, with a normal CI."""

    estimate: float
    ci_low: float
    ci_high: float
    p_value: float
    treatment_before: float
    treatment_after: float
    control_before: float
    control_after: float
    n_answers: int
    confidence: float = 0.95

    def __str__(self) -> str:
        def v(x: float) -> str:
            return _n(x, "+.1f")

        return _(
            "NPS difference-in-differences {estimate} points (treatment {tb} → {ta}, control "
            "{cb} → {ca}; {level} CI {low} to {high}, {p}, {n} answers)"
        ).format(
            estimate=v(self.estimate),
            tb=v(self.treatment_before),
            ta=v(self.treatment_after),
            cb=v(self.control_before),
            ca=v(self.control_after),
            level=_level(self.confidence),
            low=v(self.ci_low),
            high=v(self.ci_high),
            p=_fmt_p(self.p_value),
            n=fmt_count(self.n_answers),
        )


def nps_diff_in_diff(
    survey: pd.DataFrame,
    campaign: pd.DataFrame,
    start_date: Any,
    *,
    end: Any = None,
    confidence: float = 0.95,
) -> NPSDiDResult:
    """How much more the treatment group's NPS rose than the control group's across ``start_date``.

    Four NPS values (group × before/after) from :func:`loyalty_lib.nps.nps`; the SE is
    √(sum of the four squared SEs), treating the four samples as independent (a customer who
    answers in both periods makes this conservative). Answers without a campaign customer id are
    dropped; ``end`` (inclusive) caps the after-period.
    """
    from loyalty_lib import nps as nps_mod  # sibling topic module; imported lazily

    check_confidence(confidence)
    _require_frame(survey, ("customer_id", "date", "score"), "survey")
    _require_frame(campaign, ("customer_id", "group"), "campaign")
    start = _timestamp(start_date, "start_date")
    sv = survey.assign(date=_dates(survey["date"], "survey.date"))
    sv = sv.merge(campaign[["customer_id", "group"]], on="customer_id")
    if end is not None:
        sv = sv[sv["date"] <= _timestamp(end, "end")]
    res = {}
    for g in GROUPS:
        for when, mask in (("before", sv["date"] < start), ("after", sv["date"] >= start)):
            scores = sv.loc[mask & sv["group"].eq(g), "score"]
            if scores.empty:
                raise ValueError(f"no survey answers from the {g} group {when} {start.date()}")
            res[g, when] = nps_mod.nps(scores, confidence=confidence)
    est = (
        res["treatment", "after"].score
        - res["treatment", "before"].score
        - (res["control", "after"].score - res["control", "before"].score)
    )
    se = math.sqrt(sum(r.se**2 for r in res.values()))
    ci_low, ci_high = normal_interval(est, se, confidence)
    return NPSDiDResult(
        estimate=est,
        ci_low=ci_low,
        ci_high=ci_high,
        p_value=two_sided_p(est, se),
        treatment_before=res["treatment", "before"].score,
        treatment_after=res["treatment", "after"].score,
        control_before=res["control", "before"].score,
        control_after=res["control", "after"].score,
        n_answers=sum(r.n for r in res.values()),
        confidence=confidence,
    )


# --- an illustrative complaints log [E6] -----------------------------------------------------
#: [E6] urgency class of a complaint by its theme (our reading; adapt to the client's own rules).
COMPLAINT_URGENCY: dict[str, str] = {
    "quality": "high",
    "staff": "high",
    "service": "high",
    "delivery": "medium",
    "other": "medium",
    "price": "low",
    "assortment": "low",
}
#: Simulated median first-response and resolution times per urgency class, hours.
_HANDLING_HOURS = {"high": (0.6, 10.0), "medium": (1.5, 30.0), "low": (4.0, 60.0)}


def complaints_from_survey(survey: pd.DataFrame, *, seed: int = 0) -> pd.DataFrame:
    """An illustrative complaints log built from the survey's detractor comments ([E6]).

    Every answer scored 0–6 with a non-empty comment becomes a complaint received at a
    working-day hour on the answer date; its ``theme`` comes from
    :func:`loyalty_lib.nps.tag_comments` and its ``urgency`` from :data:`COMPLAINT_URGENCY`. The
    handling is **simulated** (the samples hold no complaint log): response and resolution times
    are log-normal around the medians in ``_HANDLING_HOURS`` (urgent complaints answered faster),
    5 % are not resolved yet, satisfaction (1–5) falls with the response time. Deterministic for
    a given ``seed``. Columns: ``complaint_id``, ``customer_id``, ``theme``, ``urgency``,
    ``received_at``, ``responded_at``, ``resolved_at``, ``satisfaction`` — the input of
    :func:`complaint_metrics`.
    """
    from loyalty_lib import nps as nps_mod  # sibling topic module; imported lazily

    _require_frame(survey, ("date", "score", "comment"), "survey")
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer):
        raise TypeError(f"seed must be an integer, got {seed!r}")
    text = survey["comment"].astype("string").fillna("").str.strip()
    picked = survey[(pd.to_numeric(survey["score"]) <= 6).to_numpy() & text.ne("").to_numpy()]
    if picked.empty:
        raise ValueError("the survey has no detractor (0–6) answers with a comment")
    picked = picked.sort_values("date", kind="stable")
    rng = np.random.default_rng(seed)
    n = len(picked)
    themes = nps_mod.tag_comments(picked["comment"])["theme"].to_numpy(dtype=object)
    urgency = np.array([COMPLAINT_URGENCY.get(t, "medium") for t in themes], dtype=object)
    med_resp = np.array([_HANDLING_HOURS[u][0] for u in urgency])
    med_res = np.array([_HANDLING_HOURS[u][1] for u in urgency])
    received = (
        _dates(picked["date"], "survey.date").to_numpy()
        + pd.to_timedelta(rng.integers(9 * 60, 20 * 60, n), unit="min").to_numpy()
    )
    resp_h = np.round(med_resp * np.exp(rng.normal(0.0, 0.8, n)), 2)
    res_h = np.round(resp_h + med_res * np.exp(rng.normal(0.0, 0.6, n)), 2)
    resolved = rng.random(n) >= 0.05
    sat = np.clip(np.round(4.6 - 0.45 * np.log2(1 + resp_h) + rng.normal(0.0, 0.6, n)), 1, 5)
    hour = pd.Timedelta(hours=1)
    return pd.DataFrame(
        {
            "complaint_id": [f"K{i:05d}" for i in range(1, n + 1)],
            "customer_id": picked["customer_id"].to_numpy()
            if "customer_id" in picked.columns
            else pd.NA,
            "theme": pd.array(themes, dtype="str"),
            "urgency": pd.array(urgency, dtype="str"),
            "received_at": received,
            "responded_at": received + resp_h * hour,
            "resolved_at": pd.Series(received + res_h * hour).where(resolved).to_numpy(),
            "satisfaction": np.where(resolved, sat, np.nan),
        }
    )


# the pre-period adjustments (balance, pre-trends, ANCOVA / CUPED) live in their own module;
# imported last because they reuse the outcome-table checks defined above
from loyalty_lib.evaluation.campaign import (  # noqa: E402
    SMD_THRESHOLD,
    ANCOVAResult,
    BalanceResult,
    PreTrendResult,
    ancova_effect,
    balance_table,
    pre_period_means,
    pre_trend_check,
    show_verdict,
)
