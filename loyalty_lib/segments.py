"""Per-customer summary, RFM, the seeds' segments and churn reasons (lesson 03).

The summary has one definition, written as SQL in :mod:`loyalty_lib.summary_sql` and run by
DuckDB (default) or Spark; a plain pandas version of the same definition is kept as the reference
the tests and benchmarks compare against. Everything after the summary (RFM, rule segments, churn
flags) works on the summary table, one row per customer.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from loyalty_lib._result import Result
from loyalty_lib.summary import (  # noqa: F401  (re-exported: segments.customer_summary)
    ENGINES,
    ORDER_COUNTS,
    customer_summary,
)
from loyalty_lib.summary.definition import _observation_end

__all__ = [
    "CHURN_REASONS",
    "RFM_SEGMENTS",
    "SEGMENT_ACTIONS",
    "RuleSegments",
    "actions_for",
    "churn_reasons",
    "churn_risk",
    "customer_summary",
    "exit_aspects",
    "inactive_periods",
    "rfm_scores",
    "rfm_segment",
    "rule_coverage",
    "rule_segments",
    "share_of_wallet_band",
    "tenure",
    "vip_regular_difficult",
]


def tenure(summary: pd.DataFrame) -> pd.Series:
    """Length of the relationship [S1]: periods from first purchase to observation end (= ``T``)."""
    _require(summary, ["T"], "summary")
    return summary["T"].rename("tenure")


def inactive_periods(summary: pd.DataFrame) -> pd.Series:
    """Periods since the last purchase, ``T − recency`` (days for a ``freq="D"`` summary)."""
    _require(summary, ["T", "recency"], "summary")
    return (summary["T"] - summary["recency"]).rename("inactive")


def _require(df: Any, cols: Sequence[str], what: str) -> None:
    if not isinstance(df, pd.DataFrame):
        raise TypeError(f"{what} must be a pandas DataFrame, got {type(df).__name__}")
    missing = [c for c in cols if c not in df.columns]
    if missing:
        raise ValueError(f"{what} lacks column(s) {missing}")
    if len(df) == 0:
        raise ValueError(f"{what} is empty")


# --------------------------------------------------------------------------------------------
# RFM
# --------------------------------------------------------------------------------------------


def _balanced_scores(
    values: pd.Series, ids: pd.Series, bins: int, higher_is_better: bool
) -> np.ndarray:
    key = values.to_numpy(dtype="float64")
    if not higher_is_better:
        key = -key
    # rank with method="first" after sorting by (value, customer_id): ties are broken by id so the
    # bins have equal sizes (± 1) and the same data always gives the same scores.
    order = np.lexsort((ids.astype("str").to_numpy(), key))
    rank = np.empty(len(key), dtype="int64")
    rank[order] = np.arange(len(key))
    return rank * bins // len(key) + 1


def rfm_scores(
    summary: pd.DataFrame, *, bins: int = 5, monetary: str | None = None
) -> pd.DataFrame:
    """R, F, M scores 1..``bins`` (``bins`` = 5: quintiles), higher = better.

    R ranks the periods since the last purchase (``T − recency``; fewer is better), F ranks
    ``frequency``, M ranks ``monetary`` (default: ``total_spend`` when present, else
    ``monetary`` — classic RFM's "how much they spend"). Each score is ``rank * bins // n + 1`` with
    ranks 0..n−1 taken after sorting by the value, then by ``customer_id`` (pandas'
    ``rank(method="first")`` on that order), so every score holds n/bins customers (± 1) even when
    many values tie (most customers have frequency 0), at the price of splitting equal values.
    ``FM`` = (F + M) / 2 rounded half up, the axis of :data:`RFM_SEGMENTS`.
    """
    if not isinstance(bins, int | np.integer) or isinstance(bins, bool) or bins < 2:
        raise ValueError(f"bins must be an integer ≥ 2, got {bins!r}")
    m_col = monetary or ("total_spend" if "total_spend" in summary.columns else "monetary")
    _require(summary, ["customer_id", "frequency", "recency", "T", m_col], "summary")
    for col in ("frequency", "recency", "T", m_col):
        if summary[col].isna().any():
            raise ValueError(f"summary[{col!r}] has missing values")
    ids = summary["customer_id"]
    since = summary["T"] - summary["recency"]
    out = pd.DataFrame(
        {
            "customer_id": ids,
            "inactive": since,
            "frequency": summary["frequency"],
            "monetary": summary[m_col],
            "R": _balanced_scores(since, ids, bins, higher_is_better=False),
            "F": _balanced_scores(summary["frequency"], ids, bins, higher_is_better=True),
            "M": _balanced_scores(summary[m_col], ids, bins, higher_is_better=True),
        },
        index=summary.index,
    )
    out["FM"] = (out["F"] + out["M"] + 1) // 2
    out["RFM"] = out["R"].astype(str) + out["F"].astype(str) + out["M"].astype(str)
    return out


# Segment map on the R × FM grid (5 × 5), evaluated in order; the rules are data so a lesson or a
# client can edit them, and `rule_coverage` checks that every cell is covered exactly once.
#   R\FM   1               2                   3                   4          5
#   5      New             Potential loyalist  Potential loyalist  Champions  Champions
#   4      Promising       Potential loyalist  Potential loyalist  Loyal      Loyal
#   3      About to sleep  About to sleep      Needs attention     Loyal      Loyal
#   2      Hibernating     Hibernating         At risk             At risk    Can't lose them
#   1      Lost            Lost                At risk             At risk    Can't lose them
RFM_SEGMENTS = pd.DataFrame(
    [
        ("Champions", 5, 5, 4, 5, "bought recently, buy often and spend the most"),
        ("Loyal", 3, 4, 4, 5, "buy often and spend a lot; responsive to promotions"),
        ("Potential loyalist", 4, 5, 2, 3, "recent customers with average frequency and spend"),
        ("New", 5, 5, 1, 1, "bought most recently, but not often"),
        ("Promising", 4, 4, 1, 1, "recent shoppers who have not spent much yet"),
        ("Needs attention", 3, 3, 3, 3, "above-average recency, frequency and spend"),
        ("About to sleep", 3, 3, 1, 2, "below average; will be lost without reactivation"),
        ("At risk", 1, 2, 3, 4, "spent a lot and often, but long ago"),
        ("Can't lose them", 1, 2, 5, 5, "were among the best, have not come back for long"),
        ("Hibernating", 2, 2, 1, 2, "low spend, low frequency, last purchase long ago"),
        ("Lost", 1, 1, 1, 2, "lowest recency, frequency and spend"),
    ],
    columns=["segment", "r_min", "r_max", "fm_min", "fm_max", "description"],
)


def _rules_frame(rules: pd.DataFrame | Sequence[Sequence[Any]]) -> pd.DataFrame:
    cols = ["segment", "r_min", "r_max", "fm_min", "fm_max"]
    frame = (
        rules
        if isinstance(rules, pd.DataFrame)
        else pd.DataFrame([tuple(r)[:5] for r in rules], columns=cols)
    )
    missing = [c for c in cols if c not in frame.columns]
    if missing:
        raise ValueError(f"rules lack column(s) {missing}; expected {cols}")
    return frame


def rule_coverage(
    rules: pd.DataFrame | Sequence[Sequence[Any]] = RFM_SEGMENTS, *, bins: int = 5
) -> pd.DataFrame:
    """How many rules cover each (R, FM) cell: a bins × bins table (rows R, columns FM).

    A valid segment map has 1 everywhere: no customer unassigned, none matched twice.
    """
    frame = _rules_frame(rules)
    grid = pd.DataFrame(
        0, index=pd.RangeIndex(1, bins + 1, name="R"), columns=pd.RangeIndex(1, bins + 1, name="FM")
    )
    for rule in frame.itertuples(index=False):
        grid.loc[rule.r_min : rule.r_max, rule.fm_min : rule.fm_max] += 1
    return grid


def rfm_segment(
    rfm_df: pd.DataFrame, rules: pd.DataFrame | Sequence[Sequence[Any]] = RFM_SEGMENTS
) -> pd.Series:
    """Named segment per customer from the R and FM scores; the first matching rule wins.

    ``rules``: rows (segment, r_min, r_max, fm_min, fm_max), bounds inclusive. Customers matched
    by no rule get a missing value.
    """
    _require(rfm_df, ["R"], "rfm_df")
    if "FM" in rfm_df.columns:
        fm = rfm_df["FM"]
    else:
        _require(rfm_df, ["F", "M"], "rfm_df")
        fm = (rfm_df["F"] + rfm_df["M"] + 1) // 2
    frame = _rules_frame(rules)
    r = rfm_df["R"].to_numpy()
    fm = fm.to_numpy()
    conditions = [
        (r >= x.r_min) & (r <= x.r_max) & (fm >= x.fm_min) & (fm <= x.fm_max)
        for x in frame.itertuples(index=False)
    ]
    labels = np.select(conditions, frame["segment"].astype(object).to_numpy(), default=None)
    return pd.Series(labels, index=rfm_df.index, name="segment", dtype="str")


# --------------------------------------------------------------------------------------------
# The seeds' segments
# --------------------------------------------------------------------------------------------


def _per_customer(values: pd.Series | None, summary: pd.DataFrame, name: str) -> np.ndarray:
    """Align a per-customer Series (indexed by customer_id) with the summary; missing → 0."""
    if values is None:
        raise ValueError(f"{name} is required")
    if not isinstance(values, pd.Series):
        raise TypeError(f"{name} must be a pandas Series indexed by customer_id")
    aligned = values.reindex(summary["customer_id"].to_numpy())
    return aligned.fillna(0).to_numpy(dtype="float64")


def vip_regular_difficult(
    summary: pd.DataFrame,
    *,
    vip_quantile: float = 0.9,
    vip_orders: float | None = None,
    vip_spend: float | None = None,
    problems: pd.Series | None = None,
    difficult_problems: int = 2,
    new_within: float = 90,
) -> pd.Series:
    """Three segments of [S3] (plus new / one-off buyers), one label per customer.

    * ``difficult`` — many problems (``problems`` ≥ ``difficult_problems``; default problems:
      the summary's ``refunds``, or pass e.g. complaints or negative reviews per customer as a
      Series indexed by customer_id) with decent revenue (``total_spend`` ≥ the median). Checked
      first: a big customer with many problems needs the individual approach.
    * ``VIP`` — buys often *and* a lot: ``orders`` ≥ ``vip_orders`` and ``total_spend`` ≥
      ``vip_spend`` (defaults: the ``vip_quantile`` quantiles of each).
    * ``regular`` — buys periodically: at least one repeat period (``frequency`` ≥ 1).
    * ``new`` — a single purchase period less than ``new_within`` periods ago (``T``; days for a
      daily summary); ``one-off`` — a single purchase period longer ago.

    Customers near a threshold move between segments as thresholds change; the seed suggests
    choosing the criteria that matter (number of purchases, amount spent in a period).
    """
    _require(summary, ["customer_id", "frequency", "T", "orders", "total_spend"], "summary")
    if not 0 < vip_quantile < 1:
        raise ValueError(f"vip_quantile must be in (0, 1), got {vip_quantile}")
    if problems is None:
        if "refunds" not in summary.columns:
            raise ValueError("pass problems= (per customer) or a summary with a 'refunds' column")
        n_problems = summary["refunds"].to_numpy(dtype="float64")
    else:
        n_problems = _per_customer(problems, summary, "problems")
    orders = summary["orders"].to_numpy(dtype="float64")
    spend = summary["total_spend"].to_numpy(dtype="float64")
    vip_orders = np.quantile(orders, vip_quantile) if vip_orders is None else vip_orders
    vip_spend = np.quantile(spend, vip_quantile) if vip_spend is None else vip_spend
    difficult = (n_problems >= difficult_problems) & (spend >= np.median(spend))
    vip = (orders >= vip_orders) & (spend >= vip_spend)
    regular = summary["frequency"].to_numpy() >= 1
    new = summary["T"].to_numpy() < new_within
    labels = np.select(
        [difficult, vip, regular, new], ["difficult", "VIP", "regular", "new"], default="one-off"
    )
    return pd.Series(labels, index=summary.index, name="segment", dtype="str")


def churn_risk(
    summary: pd.DataFrame,
    *,
    inactive_days: float = 90,
    reviews: pd.DataFrame | None = None,
    negative_reviews_gt: int | None = None,
) -> pd.Series:
    """Rule flag "potentially churning" of [S4]: no purchase for more than ``inactive_days``
    (``T − recency`` of a daily summary) or more than ``negative_reviews_gt`` negative reviews
    (``reviews``: DataFrame indexed by customer_id with a ``negative`` count column)."""
    _require(summary, ["customer_id", "T", "recency"], "summary")
    flag = inactive_periods(summary).to_numpy() > inactive_days
    if negative_reviews_gt is not None:
        if reviews is None or "negative" not in reviews.columns:
            raise ValueError("negative_reviews_gt needs reviews= with a 'negative' column")
        flag |= (
            _per_customer(reviews["negative"], summary, "reviews['negative']") > negative_reviews_gt
        )
    return pd.Series(flag, index=summary.index, name="churn_risk")


@dataclass(frozen=True)
class RuleSegments(Result):
    """Rule-based CRM segments of [S4] and the share of customers they categorise."""

    labels: pd.Series  # "VIP", "potentially churning" or "uncategorised" per customer
    n: int
    vip: int
    churning: int
    share_categorised: float  # 0..1
    target: float  # 0..1, the seed's 80 %

    @property
    def meets_target(self) -> bool:
        return self.share_categorised >= self.target

    def __str__(self) -> str:
        verdict = "meets" if self.meets_target else "misses"
        return (
            f"{self.share_categorised:.1%} of {self.n:,} customers categorised "
            f"(VIP {self.vip:,}, potentially churning {self.churning:,}); "
            f"{verdict} the {self.target:.0%} target"
        )


def rule_segments(
    summary: pd.DataFrame,
    *,
    avg_check_gt: float,
    purchases_gt: float,
    inactive_days_gt: float,
    positive_reviews_gt: int | None = None,
    negative_reviews_gt: int | None = None,
    reviews: pd.DataFrame | None = None,
    target: float = 0.8,
) -> RuleSegments:
    """CRM rules of [S4] on a daily summary.

    ``VIP``: average check (``total_spend / orders``, currency) > ``avg_check_gt`` and ``orders`` >
    ``purchases_gt`` (and positive reviews > ``positive_reviews_gt`` when given).
    ``potentially churning``: no purchase for more than ``inactive_days_gt`` days, or negative
    reviews > ``negative_reviews_gt``; it takes precedence over VIP (an inactive VIP is at risk).
    Everyone else is ``uncategorised``; the seed's target is ≥ 80 % categorised within a month.
    ``reviews``: DataFrame indexed by customer_id with ``positive`` / ``negative`` counts.
    """
    _require(summary, ["customer_id", "orders", "total_spend", "T", "recency"], "summary")
    if not 0 < target <= 1:
        raise ValueError(f"target must be a share in (0, 1], got {target}")
    orders = summary["orders"].to_numpy(dtype="float64")
    avg_check = np.divide(
        summary["total_spend"].to_numpy(dtype="float64"),
        orders,
        out=np.zeros_like(orders),
        where=orders > 0,
    )
    vip = (avg_check > avg_check_gt) & (orders > purchases_gt)
    if positive_reviews_gt is not None:
        if reviews is None or "positive" not in reviews.columns:
            raise ValueError("positive_reviews_gt needs reviews= with a 'positive' column")
        vip &= (
            _per_customer(reviews["positive"], summary, "reviews['positive']") > positive_reviews_gt
        )
    churning = churn_risk(
        summary,
        inactive_days=inactive_days_gt,
        reviews=reviews,
        negative_reviews_gt=negative_reviews_gt,
    ).to_numpy()
    labels = np.select([churning, vip], ["potentially churning", "VIP"], default="uncategorised")
    n = len(summary)
    n_churn, n_vip = int(churning.sum()), int((vip & ~churning).sum())
    return RuleSegments(
        labels=pd.Series(labels, index=summary.index, name="segment", dtype="str"),
        n=n,
        vip=n_vip,
        churning=n_churn,
        share_categorised=(n_churn + n_vip) / n,
        target=target,
    )


def share_of_wallet_band(share: float | Iterable[float]) -> str | pd.Series:
    """Band of the company's share of a customer's category spend [S2] (share in 0..1).

    ≥ 0.70 ``loyal`` (the seed: loyal while the share is 70–80 %); < 0.50 ``easily switches`` (accepts
    a competitor's offer easily); in between ``at risk`` (the seed is silent there; we read it as
    the zone where loyalty is eroding). Missing shares stay missing.
    """
    scalar = np.ndim(share) == 0
    values = np.atleast_1d(np.asarray(share, dtype="float64"))
    finite = values[~np.isnan(values)]
    if ((finite < 0) | (finite > 1)).any():
        raise ValueError("share of wallet must be in 0..1 (a share, not a percentage)")
    labels = np.select(
        [values >= 0.7, values >= 0.5, values < 0.5],
        ["loyal", "at risk", "easily switches"],
        default=None,
    )
    if scalar:
        return labels[0]
    index = share.index if isinstance(share, pd.Series) else None
    return pd.Series(labels, index=index, name="share_of_wallet_band", dtype="str")


# Actions per segment [S5] (and the individual approach for "difficult" customers of [S3]).
SEGMENT_ACTIONS: dict[str, str] = {
    "VIP": "exclusive discounts on new products; inform first, individual programs, birthday greetings",
    "potentially churning": "surveys and individual consultations",
    "new": "welcome discount",
    "regular": "early access to new products and sales",
    "difficult": "individual approach: a named manager who resolves their problems",
}


def actions_for(
    segments: pd.Series | Iterable[str],
    actions: Mapping[str, str] = SEGMENT_ACTIONS,
    *,
    default: str | None = None,
) -> pd.Series:
    """The recommended action for each segment label (``default`` where none is defined)."""
    series = segments if isinstance(segments, pd.Series) else pd.Series(list(segments))
    out = series.map(dict(actions)).astype("object")
    out = out.where(out.notna(), default)
    return out.astype("str").rename("action") if default is not None else out.rename("action")


# --------------------------------------------------------------------------------------------
# Churn reasons [S6]
# --------------------------------------------------------------------------------------------

CHURN_REASONS: tuple[str, ...] = ("price", "quality", "service", "competition", "other")


def churn_reasons(
    exit_survey: pd.DataFrame,
    *,
    months: int = 12,
    end: str | pd.Timestamp | None = None,
    flag_share: float = 0.30,
) -> pd.DataFrame:
    """Share of each churn reason among lost customers of the last ``months`` months [S6].

    The window is (end − months, end], ``end`` defaulting to the latest exit date. Returns
    ``reason, count, share (0..1), flagged`` (share ≥ ``flag_share``: the seed reads price at 35 %
    as a call for a pricing review), most frequent first; all five standard reasons are listed,
    with 0 when absent.
    """
    _require(exit_survey, ["date", "reason"], "exit_survey")
    if not pd.api.types.is_datetime64_any_dtype(exit_survey["date"]):
        raise TypeError("exit_survey['date'] must be datetime64")
    if not isinstance(months, int | np.integer) or months < 1:
        raise ValueError(f"months must be a positive integer, got {months!r}")
    end_ts = _observation_end(end) if end is not None else exit_survey["date"].max().normalize()
    start = end_ts - pd.DateOffset(months=months)
    day = exit_survey["date"].dt.normalize()
    window = exit_survey.loc[(day > start) & (day <= end_ts), "reason"].dropna()
    if window.empty:
        raise ValueError(f"no exit-survey answers between {start.date()} and {end_ts.date()}")
    counts = window.astype("str").value_counts()
    reasons = list(CHURN_REASONS) + sorted(set(counts.index) - set(CHURN_REASONS))
    counts = counts.reindex(reasons, fill_value=0)
    out = pd.DataFrame({"reason": reasons, "count": counts.to_numpy(dtype="int64")})
    out["share"] = out["count"] / out["count"].sum()
    out["flagged"] = out["share"] >= flag_share
    order = np.lexsort((np.arange(len(out)), -out["count"].to_numpy()))
    return out.iloc[order].reset_index(drop=True)


def exit_aspects(
    exit_survey: pd.DataFrame, *, threshold: float = 3.0, confidence: float = 0.95
) -> pd.DataFrame:
    """Mean 1–5 rating of each aspect (columns ``rating_<aspect>``) with a t-interval [S6].

    Returns ``aspect, mean, n, ci_low, ci_high, flagged`` (mean < ``threshold``: the seed's signal,
    e.g. support response speed), lowest mean first. ``ci_high < threshold`` tells whether the low
    mean is more than sampling noise.
    """
    if not isinstance(exit_survey, pd.DataFrame):
        raise TypeError(f"exit_survey must be a pandas DataFrame, got {type(exit_survey).__name__}")
    cols = [c for c in exit_survey.columns if str(c).startswith("rating_")]
    if not cols:
        raise ValueError("exit_survey has no rating_<aspect> columns")
    rows = []
    for col in cols:
        x = pd.to_numeric(exit_survey[col], errors="raise").dropna().to_numpy(dtype="float64")
        if ((x < 1) | (x > 5)).any():
            raise ValueError(f"{col} must hold ratings on the 1–5 scale")
        n = len(x)
        mean = x.mean() if n else np.nan
        if n >= 2:
            half = stats.t.ppf(0.5 + confidence / 2, n - 1) * x.std(ddof=1) / np.sqrt(n)
        else:
            half = np.nan
        rows.append((col.removeprefix("rating_"), mean, n, mean - half, mean + half))
    out = pd.DataFrame(rows, columns=["aspect", "mean", "n", "ci_low", "ci_high"])
    out["flagged"] = out["mean"] < threshold
    return out.sort_values(["mean", "aspect"], kind="stable").reset_index(drop=True)
