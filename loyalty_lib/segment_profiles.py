"""Loyalty measures per customer, share of wallet, segment profiles and stated-vs-actual loyalty.

Lesson 03 helpers on top of :mod:`loyalty_lib.segments` (which owns the summary, RFM and the
seeds' rules):

* :func:`review_counts` turns NPS answers into per-customer "reviews" (positive = promoter answers,
  negative = detractor answers) in the shape :func:`~loyalty_lib.segments.rule_segments` takes.
* :func:`loyalty_measures` puts the seven loyalty questions of [S1] side by side, one row per
  customer; :func:`measure_availability` says which of them the data can answer.
* :func:`load_share_of_wallet` / :func:`wallet_bands` read share of wallet [S2] when a file has it
  and say so when it does not (client data rarely does: it is a survey question).
* :func:`problem_counts` is the "many problems" signal of [S3] (refunds + negative reviews).
* :func:`categorise_rest` completes the CRM rules of [S4] with more attributes towards the 80 %
  target; :func:`segment_profile` describes any segmentation (size, revenue share, spend, recency).
* :func:`repeat_by_nps_group` compares what customers said with what they did next [S7].
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from loyalty_lib._result import Result

# review_counts has one definition (in churn); lesson 03 calls it from here
from loyalty_lib.churn import _frame, review_counts
from loyalty_lib.i18n import _, fmt_count, fmt_percent
from loyalty_lib.nps import nps_group
from loyalty_lib.segments import RuleSegments, share_of_wallet_band
from loyalty_lib.stats import check_confidence, wilson_interval

__all__ = [
    "LOYALTY_QUESTIONS",
    "CRMCoverage",
    "WalletBands",
    "categorise_rest",
    "load_share_of_wallet",
    "loyalty_measures",
    "measure_availability",
    "problem_counts",
    "repeat_by_nps_group",
    "review_counts",
    "segment_profile",
    "wallet_bands",
]

#: The seven questions that measure loyalty [S1]: column of :func:`loyalty_measures`, question,
#: where the answer comes from.
LOYALTY_QUESTIONS = pd.DataFrame(
    [
        ("satisfaction", "What do customers say? (mean survey score, 0–10)", "survey"),
        ("recency_days", "How long since the last purchase? (days)", "transactions"),
        ("orders", "How often do they buy? (orders)", "transactions"),
        (
            "tenure_days",
            "How long have they been with us? (days since first purchase)",
            "transactions",
        ),
        ("total_spend", "How much do they spend? (net, currency)", "transactions"),
        ("positive_reviews", "What do their reviews say? (promoter answers)", "survey"),
        (
            "share_of_wallet",
            "What share of their category spend is ours? (0..1)",
            "share-of-wallet question",
        ),
    ],
    columns=["measure", "question", "source"],
)


def _require(df: object, cols: Iterable[str], what: str) -> pd.DataFrame:
    return _frame(df, cols, what, allow_empty=True)


# --------------------------------------------------------------------------------------------
# [S1] loyalty measures per customer
# --------------------------------------------------------------------------------------------


def loyalty_measures(
    summary: pd.DataFrame,
    reviews: pd.DataFrame | None = None,
    share_of_wallet: pd.Series | None = None,
) -> pd.DataFrame:
    """The loyalty questions of [S1] answered per customer, one row per summary row.

    ``summary``: a *daily* :func:`~loyalty_lib.segments.customer_summary`. Behaviour columns:
    ``recency_days`` (days since the last purchase, T − recency), ``orders``, ``tenure_days``
    (days since the first purchase, T), ``total_spend`` (net, currency), ``avg_check`` (total
    spend ÷ orders). Stated columns from ``reviews`` (:func:`review_counts`): ``satisfaction``
    (mean score 0–10), ``positive_reviews``, ``negative_reviews`` — missing where a customer never
    answered (0 reviews). ``share_of_wallet`` (0..1, indexed by customer_id) is missing where
    unknown. Absent inputs leave their columns missing rather than dropping them, so the table has
    the same shape on any data.
    """
    _require(summary, ["customer_id", "T", "recency", "orders", "total_spend"], "summary")
    ids = summary["customer_id"].astype("str")
    orders = summary["orders"].to_numpy(dtype="float64")
    out = pd.DataFrame(
        {
            "customer_id": ids,
            "recency_days": summary["T"] - summary["recency"],
            "orders": summary["orders"],
            "tenure_days": summary["T"],
            "total_spend": summary["total_spend"],
            "avg_check": np.divide(
                summary["total_spend"].to_numpy(dtype="float64"),
                orders,
                out=np.full(len(orders), np.nan),
                where=orders > 0,
            ),
        },
        index=summary.index,
    )
    if reviews is None:
        reviews = pd.DataFrame(columns=["satisfaction", "positive", "negative"], dtype="float64")
    _require(reviews, ["satisfaction", "positive", "negative"], "reviews")
    answered = ids.isin(reviews.index.astype("str")).to_numpy()
    for src, dst in (
        ("satisfaction", "satisfaction"),
        ("positive", "positive_reviews"),
        ("negative", "negative_reviews"),
    ):
        values = reviews[src].reindex(ids.to_numpy()).to_numpy(dtype="float64")
        out[dst] = np.where(answered, values, np.nan)
    wallet = share_of_wallet if share_of_wallet is not None else pd.Series(dtype="float64")
    if not isinstance(wallet, pd.Series):
        raise TypeError("share_of_wallet must be a pandas Series indexed by customer_id")
    out["share_of_wallet"] = wallet.reindex(ids.to_numpy()).to_numpy(dtype="float64")
    return out


def measure_availability(measures: pd.DataFrame) -> pd.DataFrame:
    """For each question of :data:`LOYALTY_QUESTIONS`: its source and the share of customers with
    an answer (0..1) in ``measures`` (:func:`loyalty_measures`)."""
    _require(measures, LOYALTY_QUESTIONS["measure"], "measures")
    if measures.empty:
        raise ValueError("measures is empty")
    out = LOYALTY_QUESTIONS.copy()
    known = measures[out["measure"].tolist()].notna()
    out["customers"] = known.sum().to_numpy(dtype="int64")
    out["share_known"] = known.mean().to_numpy(dtype="float64")
    return out


# --------------------------------------------------------------------------------------------
# [S2] share of wallet
# --------------------------------------------------------------------------------------------


def load_share_of_wallet(
    source: str | os.PathLike | pd.DataFrame | None, column: str = "share_of_wallet"
) -> pd.Series:
    """Share of wallet (0..1) per customer from a file or table with ``customer_id`` and ``column``.

    Returns an empty Series when there is nothing to read — no file, no such column, or
    ``source`` None — because client data rarely has it: it comes from a survey question ("what
    share of your spending on home goods is with us?"). Values outside 0..1 raise ValueError.
    """
    if source is None:
        frame = None
    elif isinstance(source, pd.DataFrame):
        frame = source
    elif isinstance(source, str | os.PathLike):
        path = Path(source)
        frame = pd.read_csv(path, dtype={"customer_id": "str"}) if path.is_file() else None
    else:
        raise TypeError(f"source must be a path, a DataFrame or None, got {type(source).__name__}")
    if frame is None or "customer_id" not in frame.columns or column not in frame.columns:
        return pd.Series(
            dtype="float64",
            name="share_of_wallet",
            index=pd.Index([], dtype="str", name="customer_id"),
        )
    values = pd.to_numeric(frame[column], errors="raise").to_numpy(dtype="float64")
    finite = values[np.isfinite(values)]
    if ((finite < 0) | (finite > 1)).any():
        raise ValueError(f"{column} must be a share in 0..1, not a percentage")
    return pd.Series(
        values,
        name="share_of_wallet",
        index=pd.Index(frame["customer_id"].astype("str"), name="customer_id"),
    ).dropna()


@dataclass(frozen=True, repr=False)
class WalletBands(Result):
    """Customers per share-of-wallet band [S2]; ``available`` is False when no shares are known."""

    available: bool
    n: int
    loyal: float  # share of customers with share of wallet ≥ 70 %, 0..1
    at_risk: float  # 50–70 %
    easily_switches: float  # < 50 %
    median_share: float  # 0..1

    def __str__(self) -> str:
        if not self.available:
            return _(
                "Share of wallet is not in this data: ask it as a survey question "
                "('what share of your spending in our category is with us?')"
            )
        return _(
            "Share of wallet known for {n} customers (median {median}): {loyal} loyal (≥ 70 %), "
            "{at_risk} at risk (50–70 %), {easily} easily switch (< 50 %)"
        ).format(
            n=fmt_count(self.n),
            median=fmt_percent(self.median_share, decimals=0),
            loyal=fmt_percent(self.loyal),
            at_risk=fmt_percent(self.at_risk),
            easily=fmt_percent(self.easily_switches),
        )


def wallet_bands(shares: pd.Series) -> WalletBands:
    """Band shares of :func:`~loyalty_lib.segments.share_of_wallet_band` over the known shares."""
    if not isinstance(shares, pd.Series):
        raise TypeError(f"shares must be a pandas Series, got {type(shares).__name__}")
    known = shares.dropna()
    if known.empty:
        return WalletBands(False, 0, np.nan, np.nan, np.nan, np.nan)
    bands = share_of_wallet_band(known)
    n = len(known)
    return WalletBands(
        True,
        n,
        float((bands == "loyal").sum() / n),
        float((bands == "at risk").sum() / n),
        float((bands == "easily switches").sum() / n),
        float(known.median()),
    )


# --------------------------------------------------------------------------------------------
# [S3] / [S4] problems signal and the rest of the CRM rules
# --------------------------------------------------------------------------------------------


def problem_counts(summary: pd.DataFrame, reviews: pd.DataFrame | None = None) -> pd.Series:
    """Problems per customer for the "difficult" segment of [S3]: refunds + negative reviews.

    Indexed by ``customer_id`` (the ``problems=`` argument of
    :func:`~loyalty_lib.segments.vip_regular_difficult`); customers without reviews count refunds.
    """
    _require(summary, ["customer_id", "refunds"], "summary")
    ids = summary["customer_id"].astype("str").to_numpy()
    refunds = summary["refunds"].to_numpy(dtype="float64")
    negative = np.zeros(len(ids))
    if reviews is not None:
        _require(reviews, ["negative"], "reviews")
        negative = reviews["negative"].reindex(ids).fillna(0).to_numpy(dtype="float64")
    return pd.Series(
        (refunds + negative).astype("int64"),
        index=pd.Index(ids, name="customer_id"),
        name="problems",
    )


@dataclass(frozen=True, repr=False)
class CRMCoverage(Result):
    """Labels after completing the CRM rules, with the share categorised against the target [S4]."""

    labels: pd.Series  # one label per customer; "uncategorised" where no rule applies
    n: int
    counts: dict  # label → customers, largest first (uncategorised excluded)
    share_categorised: float  # 0..1
    target: float  # 0..1

    @property
    def meets_target(self) -> bool:
        return self.share_categorised >= self.target

    def __str__(self) -> str:
        parts = ", ".join(f"{k} {fmt_count(v)}" for k, v in self.counts.items())
        template = (
            _("{share} of {n} customers categorised ({parts}); meets the {target} target")
            if self.meets_target
            else _("{share} of {n} customers categorised ({parts}); misses the {target} target")
        )
        return template.format(
            share=fmt_percent(self.share_categorised),
            n=fmt_count(self.n),
            parts=parts,
            target=fmt_percent(self.target, decimals=0),
        )


def categorise_rest(
    rules: RuleSegments,
    other: pd.Series,
    fill: Iterable[str] = ("difficult", "regular", "new"),
) -> CRMCoverage:
    """Give customers the rules left ``uncategorised`` a label from ``other`` when it is in ``fill``.

    [S4] asks for 3–5 key attributes and ≥ 80 % of customers categorised. The two CRM rules
    (VIP, potentially churning) use average check, purchases and inactivity; taking "difficult"
    (problems), "regular" (repeat purchases) and "new" (tenure) from
    :func:`~loyalty_lib.segments.vip_regular_difficult` for the rest adds attributes without
    overriding the rules. ``other`` must have the same index as ``rules.labels``.
    """
    if not isinstance(rules, RuleSegments):
        raise TypeError(
            f"rules must be the RuleSegments of rule_segments(), got {type(rules).__name__}"
        )
    if not isinstance(other, pd.Series) or not other.index.equals(rules.labels.index):
        raise ValueError("other must be a Series of labels with the same index as rules.labels")
    fill = set(fill)
    base = rules.labels.astype("str")
    take = (base == "uncategorised") & other.astype("str").isin(fill)
    labels = base.where(~take, other.astype("str")).rename("segment")
    counts = labels[labels != "uncategorised"].value_counts()
    counts = counts.sort_index().sort_values(ascending=False, kind="stable")
    n = len(labels)
    return CRMCoverage(
        labels=labels,
        n=n,
        counts={str(k): int(v) for k, v in counts.items()},
        share_categorised=float(counts.sum() / n),
        target=rules.target,
    )


# --------------------------------------------------------------------------------------------
# Segment profile
# --------------------------------------------------------------------------------------------


def segment_profile(summary: pd.DataFrame, labels: pd.Series) -> pd.DataFrame:
    """One row per segment: who they are and what they are worth.

    Columns: ``segment``, ``customers``, ``share_customers`` (0..1), ``revenue`` (sum of net
    ``total_spend``, currency), ``share_revenue`` (0..1 of all customers' revenue),
    ``spend_per_customer`` (currency), ``orders_per_customer``, ``avg_repeat_spend`` (mean of the
    summary's ``monetary``: spend per repeat period, the Gamma-Gamma input), ``median_days_inactive``
    (days since the last purchase, daily summary). Largest revenue first. ``labels`` must share
    the summary's index (as every segmentation function returns it).
    """
    _require(summary, ["total_spend", "orders", "monetary", "T", "recency"], "summary")
    if summary.empty:
        raise ValueError("summary is empty")
    if not isinstance(labels, pd.Series) or not labels.index.equals(summary.index):
        raise ValueError("labels must be a Series with the same index as the summary")
    frame = pd.DataFrame(
        {
            "segment": labels.astype("str").fillna("unassigned"),
            "total_spend": summary["total_spend"].to_numpy(dtype="float64"),
            "orders": summary["orders"].to_numpy(dtype="float64"),
            "monetary": summary["monetary"].to_numpy(dtype="float64"),
            "inactive": (summary["T"] - summary["recency"]).to_numpy(dtype="float64"),
        }
    )
    out = (
        frame.groupby("segment", sort=True)
        .agg(
            customers=("total_spend", "size"),
            revenue=("total_spend", "sum"),
            spend_per_customer=("total_spend", "mean"),
            orders_per_customer=("orders", "mean"),
            avg_repeat_spend=("monetary", "mean"),
            median_days_inactive=("inactive", "median"),
        )
        .reset_index()
    )
    out.insert(2, "share_customers", out["customers"] / len(frame))
    total = frame["total_spend"].sum()
    out.insert(4, "share_revenue", out["revenue"] / total if total else np.nan)
    return out.sort_values(["revenue", "segment"], ascending=[False, True]).reset_index(drop=True)


# --------------------------------------------------------------------------------------------
# [S7] stated satisfaction vs repeat purchase
# --------------------------------------------------------------------------------------------


def repeat_by_nps_group(
    survey: pd.DataFrame,
    transactions: pd.DataFrame,
    *,
    within_days: int = 180,
    observation_end: str | pd.Timestamp | None = None,
    confidence: float = 0.95,
) -> pd.DataFrame:
    """Share of respondents who bought again within ``within_days`` days of answering, per NPS group.

    Unit: each customer's first answer dated at least ``within_days`` before ``observation_end``
    (default: the last transaction date), so everyone had the full window to come back (answers
    later than that are censored, not "no repeat") and nobody counts twice. *Bought again*: a
    purchase (not a refund) dated after the answer day and no later than ``within_days`` after it.
    Columns: ``group`` (promoter, passive, detractor), ``respondents``, ``repeated``,
    ``repeat_rate`` (0..1) and its Wilson interval ``ci_low``, ``ci_high``.
    """
    _require(survey, ["customer_id", "date", "score"], "survey")
    _require(transactions, ["customer_id", "date", "is_refund"], "transactions")
    if (
        isinstance(within_days, bool)
        or not isinstance(within_days, int | np.integer)
        or within_days < 1
    ):
        raise ValueError(f"within_days must be a positive integer (days), got {within_days!r}")
    check_confidence(confidence)
    end = (
        pd.Timestamp(observation_end)
        if observation_end is not None
        else pd.Timestamp(transactions["date"].max())
    )
    last_answer_day = end.normalize() - pd.Timedelta(days=within_days)
    answers = survey.loc[survey["customer_id"].notna(), ["customer_id", "date", "score"]].copy()
    answers["customer_id"] = answers["customer_id"].astype("str")
    answers["date"] = pd.to_datetime(answers["date"]).dt.normalize()
    answers = answers[answers["date"] <= last_answer_day]
    first = answers.sort_values(["date", "customer_id"], kind="stable").drop_duplicates(
        "customer_id"
    )
    first = first.assign(group=nps_group(first["score"]).to_numpy())
    buys = transactions.loc[
        ~transactions["is_refund"].to_numpy(dtype=bool), ["customer_id", "date"]
    ]
    buys = pd.DataFrame(
        {
            "customer_id": buys["customer_id"].astype("str"),
            "buy": pd.to_datetime(buys["date"]).dt.normalize(),
        }
    )
    pairs = first.merge(buys, on="customer_id", how="inner")
    gap = (pairs["buy"] - pairs["date"]).dt.days
    came_back = set(pairs.loc[(gap >= 1) & (gap <= within_days), "customer_id"])
    first["repeated"] = first["customer_id"].isin(came_back)
    rows = []
    for group in ("promoter", "passive", "detractor"):
        hits = first.loc[first["group"] == group, "repeated"]
        n, k = len(hits), int(hits.sum())
        low, high = wilson_interval(k, n, confidence)  # (nan, nan) for an empty group
        rows.append((group, n, k, k / n if n else np.nan, low, high))
    return pd.DataFrame(
        rows, columns=["group", "respondents", "repeated", "repeat_rate", "ci_low", "ci_high"]
    )
