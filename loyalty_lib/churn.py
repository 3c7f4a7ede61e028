"""Churn: causes, retention against a benchmark, forced vs voluntary loyalty, checks (lesson 04).

Builds on :mod:`loyalty_lib.segments` (``churn_reasons``, ``exit_aspects``, ``churn_risk``) and
adds what the churn lesson needs around them:

* :func:`reason_shares` — churn-reason shares [S6] with Wilson intervals, mapped to the causes of
  churn of [L3] (:data:`REASON_CAUSES`) and to the action each reason calls for
  (:data:`REASON_ACTIONS`, :func:`action_for_reason`).
* :func:`retention_vs_benchmark` — 12-month repeat rate from transactions against an industry
  figure the consultant supplies [S6].
* :func:`review_counts` — positive / negative "reviews" per customer from the NPS survey, the
  input of the "negative reviews > M" half of the potentially-churning rule [S4].
* :func:`gap_quantiles` — how long customers normally wait between purchases (to choose N days).
* :func:`loyalty_matrix` — behaviour (repeat purchase) × attitude (NPS group): loyal, forced,
  latent, at risk [S7, S8] (Dick & Basu, 1994).
* :func:`compare_flags`, :func:`truth_check`, :func:`churn_by_cohort` — how far two churn flags
  agree, the rule against the samples' ground truth, and flagged shares by acquisition cohort.

Conventions: shares in 0..1, durations in days, dates at midnight.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from loyalty_lib._result import Result, sentence_html
from loyalty_lib.i18n import N_, _, fmt_count, fmt_percent
from loyalty_lib.nps import nps_group
from loyalty_lib.segments import CHURN_REASONS, churn_reasons
from loyalty_lib.stats import check_confidence, wilson_interval

__all__ = [
    "LOYALTY_KINDS",
    "REASON_ACTIONS",
    "REASON_CAUSES",
    "FlagAgreement",
    "LoyaltyMatrix",
    "RetentionBenchmark",
    "TruthCheck",
    "action_for_reason",
    "churn_by_cohort",
    "compare_flags",
    "gap_quantiles",
    "loyalty_matrix",
    "reason_shares",
    "retention_vs_benchmark",
    "review_counts",
    "truth_check",
    "wilson_interval",
]

# Exit reasons [S6] → causes of churn [L3]. Price and competition are both "weak
# competitiveness" (a rival offers a better deal); "other" is where moving and changed interests
# land, the natural causes no programme removes.
REASON_CAUSES: dict[str, str] = {
    "price": "weak competitiveness",
    "competition": "weak competitiveness",
    "quality": "low product quality",
    "service": "poor customer service",
    "other": "natural causes (moving, changed interests)",
}

# What a reason that dominates the exit survey calls for (the seed: price at 35 % → a pricing
# review). The values are the fixed answer set of the churn assignment.
REASON_ACTIONS: dict[str, str] = {
    "price": "pricing review",
    "quality": "product quality review",
    "service": "service and support improvement",
    "competition": "competitor benchmarking",
    "other": "no targeted fix: monitor",
}

# Behaviour × attitude [S7, S8]; Dick & Basu (1994) call them true, spurious, latent and no loyalty.
LOYALTY_KINDS: dict[str, str] = {
    "loyal": "buys again and would recommend: forced and voluntary loyalty together",
    "forced": "buys again but is a detractor: held by switching costs, habit or sunk cost",
    "latent": "would recommend but does not buy again: voluntary loyalty without the purchases",
    "at risk": "neither buys again nor would recommend",
    "passive": "a passive (7–8): attitude undecided, whatever the behaviour",
}


# Names of the flags the lesson compares, translated when a sentence shows them.
FLAG_NAMES = (N_("rule"), N_("reference"), N_("truth"))


# --------------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------------


def _nan_percent(value: float) -> str:
    """A share with no decimals as ``f"{value:.0%}"`` wrote it (``nan%`` when undefined)."""
    return "nan%" if value != value else fmt_percent(value, decimals=0)


def _frame(df: Any, cols: Iterable[str], what: str, *, allow_empty: bool = False) -> pd.DataFrame:
    """``df`` when it is a DataFrame with the columns ``cols`` (and rows, unless allow_empty)."""
    if not isinstance(df, pd.DataFrame):
        raise TypeError(f"{what} must be a pandas DataFrame, got {type(df).__name__}")
    missing = [c for c in cols if c not in df.columns]
    if missing:
        raise ValueError(f"{what} lacks column(s) {missing}")
    if df.empty and not allow_empty:
        raise ValueError(f"{what} is empty")
    return df


def _date(value: Any, what: str) -> pd.Timestamp:
    try:
        stamp = pd.Timestamp(value)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{what} must be a date or 'YYYY-MM-DD', got {value!r}") from exc
    if pd.isna(stamp):
        raise ValueError(f"{what} must be a date, got a missing value")
    return stamp.normalize()


def _share(value: float, what: str) -> float:
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float | np.number)
        or not 0 <= value <= 1
    ):
        raise ValueError(f"{what} must be a share in 0..1 (0.35, not 35), got {value!r}")
    return float(value)


def _purchases(transactions: Any) -> pd.DataFrame:
    tx = _frame(transactions, ["customer_id", "date"], "transactions")
    if not pd.api.types.is_datetime64_any_dtype(tx["date"]):
        raise TypeError("transactions['date'] must be datetime64 (load it with loyalty_lib.data)")
    if "is_refund" in tx.columns:
        tx = tx[~tx["is_refund"].astype(bool)]
    elif "amount" in tx.columns:
        tx = tx[tx["amount"] >= 0]
    return tx.loc[tx["customer_id"].notna() & tx["date"].notna(), ["customer_id", "date"]]


# --------------------------------------------------------------------------------------------
# churn reasons → causes and actions  [S6, L3]
# --------------------------------------------------------------------------------------------


def reason_shares(
    exit_survey: pd.DataFrame,
    *,
    months: int = 12,
    end: str | pd.Timestamp | None = None,
    flag_share: float = 0.30,
    confidence: float = 0.95,
) -> pd.DataFrame:
    """Churn-reason shares of the last ``months`` months with Wilson intervals, causes and actions.

    :func:`loyalty_lib.segments.churn_reasons` (window (end − months, end], share ≥ ``flag_share``
    flagged) plus ``ci_low``/``ci_high`` (0..1), ``clearly_flagged`` (the whole interval is at or
    above ``flag_share``: more than sampling noise), ``cause`` ([L3], :data:`REASON_CAUSES`) and
    ``action`` (:data:`REASON_ACTIONS`). Most frequent reason first.
    """
    _share(flag_share, "flag_share")
    confidence = check_confidence(confidence)
    out = churn_reasons(exit_survey, months=months, end=end, flag_share=flag_share)
    n = int(out["count"].sum())
    bounds = [wilson_interval(int(k), n, confidence) for k in out["count"]]
    out["ci_low"] = [lo for lo, _ in bounds]
    out["ci_high"] = [hi for _, hi in bounds]
    out["clearly_flagged"] = out["ci_low"] >= flag_share
    out["cause"] = out["reason"].map(REASON_CAUSES).fillna("unmapped reason").astype("str")
    out["action"] = out["reason"].map(REASON_ACTIONS).fillna("read the comments").astype("str")
    return out


def action_for_reason(reason: str) -> str:
    """The action a dominant churn reason calls for (one of :data:`REASON_ACTIONS`' values)."""
    if not isinstance(reason, str) or reason not in REASON_ACTIONS:
        raise ValueError(f"reason must be one of {list(CHURN_REASONS)}, got {reason!r}")
    return REASON_ACTIONS[reason]


# --------------------------------------------------------------------------------------------
# retention against a benchmark  [S6]
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, repr=False)
class RetentionBenchmark(Result):
    """Repeat rate over two consecutive windows, compared with an industry benchmark."""

    retention: float  # 0..1: share of the base who bought again in the later window
    ci_low: float
    ci_high: float
    base: int  # customers with a purchase in the earlier window
    retained: int  # of them, customers with a purchase in the later window
    months: int
    benchmark: float  # 0..1, supplied by the consultant
    verdict: str  # "above", "below" or "in line with"

    def __str__(self) -> str:
        templates = {
            "above": _(
                "{months}-month retention {retention} (95% CI {low} to {high}; {retained} of "
                "{base} customers bought again); above the benchmark of {benchmark}"
            ),
            "below": _(
                "{months}-month retention {retention} (95% CI {low} to {high}; {retained} of "
                "{base} customers bought again); below the benchmark of {benchmark}"
            ),
            "in line with": _(
                "{months}-month retention {retention} (95% CI {low} to {high}; {retained} of "
                "{base} customers bought again); in line with the benchmark of {benchmark}"
            ),
        }
        return templates[self.verdict].format(
            months=self.months,
            retention=fmt_percent(self.retention),
            low=fmt_percent(self.ci_low),
            high=fmt_percent(self.ci_high),
            retained=fmt_count(self.retained),
            base=fmt_count(self.base),
            benchmark=fmt_percent(self.benchmark, decimals=0),
        )


HISTORY_GRACE_DAYS = 14


def retention_vs_benchmark(
    transactions: pd.DataFrame,
    benchmark_retention: float,
    *,
    months: int = 12,
    end: str | pd.Timestamp,
    confidence: float = 0.95,
) -> RetentionBenchmark:
    """Share of customers who bought in (end − 2·months, end − months] and again in (end − months, end].

    This is the period-over-period retention (repeat rate) that industry benchmarks usually
    quote. ``benchmark_retention`` (0..1) is the consultant's figure for the client's industry.
    The verdict is "in line with" when the benchmark lies inside the Wilson interval.
    """
    benchmark = _share(benchmark_retention, "benchmark_retention")
    confidence = check_confidence(confidence)
    if isinstance(months, bool) or not isinstance(months, int | np.integer) or months < 1:
        raise ValueError(f"months must be a positive integer, got {months!r}")
    end_ts = _date(end, "end")
    mid = end_ts - pd.DateOffset(months=months)
    start = end_ts - pd.DateOffset(months=2 * months)
    tx = _purchases(transactions)
    # Exports rarely begin on the window's exact first day (1 January has no sales): allow the
    # history to start up to HISTORY_GRACE_DAYS into the earlier window, no later.
    if tx["date"].min() > start + pd.Timedelta(days=1 + HISTORY_GRACE_DAYS):
        raise ValueError(
            f"the transactions start on {tx['date'].min().date()}, more than "
            f"{HISTORY_GRACE_DAYS} days after the start of the earlier window "
            f"({(start + pd.Timedelta(days=1)).date()}): need {2 * months} months of history"
        )
    before = set(tx.loc[(tx["date"] > start) & (tx["date"] <= mid), "customer_id"])
    after = set(tx.loc[(tx["date"] > mid) & (tx["date"] <= end_ts), "customer_id"])
    if not before:
        raise ValueError(f"no purchases between {start.date()} and {mid.date()}")
    retained = len(before & after)
    rate = retained / len(before)
    lo, hi = wilson_interval(retained, len(before), confidence)
    verdict = "above" if lo > benchmark else "below" if hi < benchmark else "in line with"
    return RetentionBenchmark(rate, lo, hi, len(before), retained, int(months), benchmark, verdict)


# --------------------------------------------------------------------------------------------
# inputs of the potentially-churning rule  [S4]
# --------------------------------------------------------------------------------------------


def review_counts(survey: pd.DataFrame, *, end: str | pd.Timestamp | None = None) -> pd.DataFrame:
    """Per-customer survey answers as reviews, up to ``end`` (inclusive; all answers when None).

    The survey stands in for reviews where the client has no review data: a promoter's answer
    (9–10) is a positive review, a detractor's (0–6) a negative one. Index ``customer_id``;
    columns ``answers``, ``positive``, ``negative`` (int) and ``satisfaction`` (mean score, 0–10).
    Anonymous answers (no customer id) are dropped: they cannot be linked to a customer. Pass it
    as ``reviews=`` to :func:`loyalty_lib.segments.churn_risk` or
    :func:`~loyalty_lib.segments.rule_segments`. Also :func:`loyalty_lib.segment_profiles.review_counts`.
    """
    sv = _frame(survey, ["customer_id", "score"], "survey")
    if end is not None:
        _frame(sv, ["date"], "survey")
        sv = sv[sv["date"] <= _date(end, "end")]
    sv = sv[sv["customer_id"].notna()]
    columns = ["answers", "positive", "negative", "satisfaction"]
    if sv.empty:
        out = pd.DataFrame({c: pd.Series(dtype="int64") for c in columns[:3]})
        out["satisfaction"] = pd.Series(dtype="float64")
        return out.rename_axis("customer_id")
    try:
        group = nps_group(sv["score"])
    except ValueError as exc:
        raise ValueError(f"survey['score'] must be on the 0–10 scale: {exc}") from exc
    frame = pd.DataFrame(
        {
            "customer_id": sv["customer_id"].astype("str").to_numpy(),
            "score": sv["score"].to_numpy(dtype="float64"),
            "positive": (group == "promoter").to_numpy(dtype="int64"),
            "negative": (group == "detractor").to_numpy(dtype="int64"),
        }
    )
    out = frame.groupby("customer_id", sort=True).agg(
        answers=("score", "size"),
        positive=("positive", "sum"),
        negative=("negative", "sum"),
        satisfaction=("score", "mean"),
    )
    return out.astype({"answers": "int64", "positive": "int64", "negative": "int64"})[columns]


def gap_quantiles(
    transactions: pd.DataFrame,
    quantiles: Iterable[float] = (0.5, 0.75, 0.9, 0.95),
) -> pd.Series:
    """Quantiles of the days between a customer's consecutive purchase days (all customers pooled).

    A customer silent for longer than, say, the 90 % quantile is quieter than 9 gaps in 10 of
    customers who did come back: a data-based choice of N for "no activity for N days".
    """
    qs = [float(q) for q in quantiles]
    if not qs or any(not 0 < q < 1 for q in qs):
        raise ValueError(f"quantiles must be shares in (0, 1), got {qs}")
    tx = _purchases(transactions)
    days = (
        tx.assign(date=tx["date"].dt.normalize())
        .drop_duplicates()
        .sort_values(["customer_id", "date"])
    )
    gaps = days.groupby("customer_id")["date"].diff().dt.days.dropna()
    if gaps.empty:
        raise ValueError("no customer bought on two different days: no gaps to measure")
    out = gaps.quantile(qs)
    out.index = [f"{q:.0%}" for q in qs]
    out.index.name = "quantile"
    return out.rename(_("days between purchases"))


# --------------------------------------------------------------------------------------------
# forced vs voluntary loyalty  [S7, S8]
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, repr=False)
class LoyaltyMatrix(Result):
    """Behaviour (repeat purchase) × attitude (NPS group) for surveyed customers."""

    customers: pd.DataFrame  # customer_id, purchase_days, repeat, score, group, kind
    table: pd.DataFrame  # rows repeat / no repeat, columns detractor / passive / promoter
    n: int
    loyal: int
    forced: int
    latent: int
    at_risk: int
    passive: int
    months: int

    def __str__(self) -> str:
        return _(
            "{n} surveyed customers, behaviour over {months} months: loyal {loyal}, forced "
            "{forced}, latent {latent}, at risk {at_risk}, passive {passive}"
        ).format(
            n=fmt_count(self.n),
            months=self.months,
            loyal=fmt_count(self.loyal),
            forced=fmt_count(self.forced),
            latent=fmt_count(self.latent),
            at_risk=fmt_count(self.at_risk),
            passive=fmt_count(self.passive),
        )

    def _repr_html_(self) -> str:
        return sentence_html(self, self.table)


def loyalty_matrix(
    transactions: pd.DataFrame,
    survey: pd.DataFrame,
    *,
    end: str | pd.Timestamp,
    months: int = 12,
    min_purchase_days: int = 2,
) -> LoyaltyMatrix:
    """Cross behaviour with attitude for every customer who answered the NPS survey by ``end``.

    Behaviour [S7]: ``repeat`` = purchases on at least ``min_purchase_days`` different days in
    (end − months, end]. Attitude: the NPS group of the customer's latest answer up to ``end``
    (ties on the date: the last row). Kinds [S8] (Dick & Basu, 1994, *J. Acad. Mark. Sci.* 22(2)):
    repeat + promoter ``loyal``, repeat + detractor ``forced`` (switching costs, habit, sunk cost
    keep them), no repeat + promoter ``latent`` (voluntary loyalty that does not show in
    purchases), no repeat + detractor ``at risk``; passives (7–8) are ``passive``.
    """
    if (
        isinstance(min_purchase_days, bool)
        or not isinstance(min_purchase_days, int)
        or min_purchase_days < 1
    ):
        raise ValueError(f"min_purchase_days must be a positive integer, got {min_purchase_days!r}")
    if isinstance(months, bool) or not isinstance(months, int | np.integer) or months < 1:
        raise ValueError(f"months must be a positive integer, got {months!r}")
    end_ts = _date(end, "end")
    sv = _frame(survey, ["customer_id", "date", "score"], "survey")
    sv = sv[sv["customer_id"].notna() & (sv["date"] <= end_ts)]
    if sv.empty:
        raise ValueError(f"no survey answers with a customer id on or before {end_ts.date()}")
    score = pd.to_numeric(sv["score"], errors="raise")
    if ((score < 0) | (score > 10)).any():
        raise ValueError("survey['score'] must be on the 0–10 scale")
    latest = (
        pd.DataFrame(
            {
                "customer_id": sv["customer_id"].astype("str").to_numpy(),
                "date": sv["date"].to_numpy(),
                "score": score.to_numpy(dtype="int64"),
                "row": np.arange(len(sv)),
            }
        )
        .sort_values(["customer_id", "date", "row"])
        .groupby("customer_id")
        .tail(1)
        .set_index("customer_id")
    )
    tx = _purchases(transactions)
    start = end_ts - pd.DateOffset(months=months)
    window = tx[(tx["date"] > start) & (tx["date"] <= end_ts)]
    window_days = window.assign(day=window["date"].dt.normalize())[["customer_id", "day"]]
    purchase_days = (
        window_days.drop_duplicates()
        .assign(customer_id=lambda d: d["customer_id"].astype("str"))
        .groupby("customer_id")
        .size()
    )
    out = pd.DataFrame({"customer_id": latest.index.to_numpy()})
    out["purchase_days"] = (
        purchase_days.reindex(out["customer_id"]).fillna(0).to_numpy(dtype="int64")
    )
    out["repeat"] = out["purchase_days"] >= min_purchase_days
    out["score"] = latest["score"].to_numpy()
    out["group"] = nps_group(out["score"]).to_numpy()
    rep, grp = out["repeat"].to_numpy(), out["group"].to_numpy()
    out["kind"] = np.select(
        [
            grp == "passive",
            rep & (grp == "promoter"),
            rep & (grp == "detractor"),
            grp == "promoter",
        ],
        ["passive", "loyal", "forced", "latent"],
        default="at risk",
    )
    out = out.astype({"group": "str", "kind": "str"})
    table = pd.crosstab(np.where(rep, "repeat", "no repeat"), grp).reindex(
        index=["repeat", "no repeat"], columns=["detractor", "passive", "promoter"], fill_value=0
    )
    table.index.name, table.columns.name = "behaviour", "attitude"
    counts = out["kind"].value_counts()
    return LoyaltyMatrix(
        out,
        table,
        len(out),
        *(int(counts.get(k, 0)) for k in ("loyal", "forced", "latent", "at risk", "passive")),
        months=int(months),
    )


# --------------------------------------------------------------------------------------------
# checking a churn flag
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, repr=False)
class FlagAgreement(Result):
    """How far a churn flag agrees with a reference flag (another method, or the truth)."""

    table: pd.DataFrame  # 2 × 2 counts: rows the flag, columns the reference
    n: int
    both: int
    flag_only: int
    reference_only: int
    neither: int
    agreement: float  # 0..1, share of customers on which the two agree
    precision: float  # of the flagged, the share the reference also flags
    recall: float  # of the reference's churners, the share the flag catches
    flag_name: str
    reference_name: str

    def __str__(self) -> str:
        flagged, churners = self.both + self.flag_only, self.both + self.reference_only
        return _(
            "{flag} and {reference} agree on {agreement} of {n} customers; of the {flagged} "
            "flagged by {flag}, {precision} are churners by {reference} (precision); {flag} "
            "catches {recall} of the {churners} churners by {reference} (recall)"
        ).format(
            flag=_(self.flag_name),
            reference=_(self.reference_name),
            agreement=fmt_percent(self.agreement),
            n=fmt_count(self.n),
            flagged=fmt_count(flagged),
            precision=_nan_percent(self.precision),
            recall=_nan_percent(self.recall),
            churners=fmt_count(churners),
        )

    def _repr_html_(self) -> str:
        return sentence_html(self, self.table)


def compare_flags(
    flag: Any, reference: Any, *, flag_name: str = "rule", reference_name: str = "reference"
) -> FlagAgreement:
    """2 × 2 agreement of two boolean churn flags for the same customers (same length and order)."""
    a = np.asarray(flag)
    b = np.asarray(reference)
    if a.ndim != 1 or a.shape != b.shape or a.size == 0:
        raise ValueError(
            f"flag and reference must be non-empty 1-d of equal length, got {a.shape} and {b.shape}"
        )
    if a.dtype != bool or b.dtype != bool:
        raise TypeError(f"flag and reference must be boolean, got {a.dtype} and {b.dtype}")
    both, flag_only = int((a & b).sum()), int((a & ~b).sum())
    reference_only, neither = int((~a & b).sum()), int((~a & ~b).sum())
    # rows: the flag; columns: the reference
    table = pd.DataFrame(
        {
            _("{name}: churn").format(name=_(reference_name)): [both, reference_only],
            _("{name}: active").format(name=_(reference_name)): [flag_only, neither],
        },
        index=[
            _("{name}: churn").format(name=_(flag_name)),
            _("{name}: active").format(name=_(flag_name)),
        ],
    )
    n = a.size
    nan = float("nan")
    return FlagAgreement(
        table=table,
        n=n,
        both=both,
        flag_only=flag_only,
        reference_only=reference_only,
        neither=neither,
        agreement=(both + neither) / n,
        precision=both / (both + flag_only) if both + flag_only else nan,
        recall=both / (both + reference_only) if both + reference_only else nan,
        flag_name=flag_name,
        reference_name=reference_name,
    )


@dataclass(frozen=True, repr=False)
class TruthCheck(Result):
    """The churn flag against the ground truth, or a note that there is none."""

    available: bool
    source: str  # file name only (no machine paths in outputs)
    result: FlagAgreement | None
    unmatched: int  # flagged customers missing from the truth file

    def __str__(self) -> str:
        if not self.available or self.result is None:
            return _(
                "no ground truth ({source} not found): real clients do not tell you who "
                "has left, so judge the flag by what the win-back campaign finds"
            ).format(source=self.source)
        return _("against the ground truth in {source}: {result}").format(
            source=self.source, result=self.result
        )

    def _repr_html_(self) -> str:
        return sentence_html(self, None if self.result is None else self.result.table)


def truth_check(
    flag: pd.Series,
    truth_file: str | Path,
    *,
    customer_ids: Any = None,
    observation_end: str | pd.Timestamp | None = None,
    flag_name: str = "rule",
) -> TruthCheck:
    """Compare a churn flag with the samples' truth file, or say there is no ground truth.

    ``flag``: boolean per customer, indexed by customer_id, or aligned with ``customer_ids``
    (e.g. ``summary["customer_id"]``). ``truth_file``: a CSV with ``customer_id`` and
    ``churn_date`` (the day the customer dropped out; empty when still active), such as the
    samples' ``customers_truth.csv``. Truly churned = ``churn_date`` ≤ ``observation_end``
    (default: any churn date). A missing file is not an error: real clients have no truth.
    """
    if not isinstance(flag, pd.Series) or not pd.api.types.is_bool_dtype(flag):
        raise TypeError("flag must be a boolean pandas Series (e.g. segments.churn_risk(...))")
    ids = flag.index if customer_ids is None else pd.Index(np.asarray(customer_ids))
    if len(ids) != len(flag):
        raise ValueError(f"customer_ids has {len(ids)} entries for {len(flag)} flags")
    path = Path(truth_file)
    if not path.is_file():
        return TruthCheck(False, path.name, None, 0)
    truth = pd.read_csv(path, dtype={"customer_id": "str"}, parse_dates=["churn_date"])
    _frame(truth, ["customer_id", "churn_date"], path.name)
    churned = truth["churn_date"].notna()
    if observation_end is not None:
        churned &= truth["churn_date"] <= _date(observation_end, "observation_end")
    truly = pd.Series(churned.to_numpy(), index=truth["customer_id"].astype("str"))
    aligned = truly.reindex(ids.astype("str"))
    known = aligned.notna().to_numpy()
    result = compare_flags(
        flag.to_numpy(dtype=bool)[known],
        aligned[known].to_numpy(dtype=bool),
        flag_name=flag_name,
        reference_name="truth",
    )
    return TruthCheck(True, path.name, result, int((~known).sum()))


def churn_by_cohort(
    summary: pd.DataFrame,
    flag: pd.Series,
    *,
    freq: str = "Q",
    inactive_days: float | None = None,
) -> pd.DataFrame:
    """Share of each acquisition cohort (period of ``first_purchase``) that the flag marks as churned.

    ``flag`` aligned with ``summary`` (same index). ``freq``: "M", "Q" or "Y". With
    ``inactive_days`` (the rule's N), customers whose whole history (``T``, days) is not longer
    than N cannot have been silent for N days yet: they are counted in ``too_new`` and left out of
    the share. Returns ``cohort`` (str), ``customers``, ``too_new``, ``flagged``, ``share`` (0..1;
    NaN when no customer of the cohort can be judged yet), oldest cohort first. Old cohorts have
    had more time to leave, so compare neighbours, not the first row with the last.
    """
    _frame(summary, ["first_purchase", "T"], "summary")
    if freq not in ("M", "Q", "Y"):
        raise ValueError(f"freq must be 'M', 'Q' or 'Y', got {freq!r}")
    if not isinstance(flag, pd.Series) or not flag.index.equals(summary.index):
        raise ValueError(
            "flag must be a Series with the summary's index (e.g. churn_risk(summary))"
        )
    if not pd.api.types.is_bool_dtype(flag):
        raise TypeError(f"flag must be boolean, got {flag.dtype}")
    too_new = (
        summary["T"] <= inactive_days
        if inactive_days is not None
        else pd.Series(False, index=summary.index)
    )
    frame = pd.DataFrame(
        {
            "cohort": summary["first_purchase"].dt.to_period(freq).astype("str"),
            "too_new": too_new.to_numpy(dtype=bool),
            "flagged": flag.to_numpy(dtype=bool) & ~too_new.to_numpy(dtype=bool),
        }
    )
    out = (
        frame.groupby("cohort", sort=True)
        .agg(customers=("flagged", "size"), too_new=("too_new", "sum"), flagged=("flagged", "sum"))
        .reset_index()
        .astype({"too_new": "int64", "flagged": "int64"})
    )
    judged = out["customers"] - out["too_new"]
    out["share"] = (out["flagged"] / judged.where(judged > 0)).astype("float64")
    return out
