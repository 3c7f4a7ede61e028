"""Campaign effects adjusted for the pre-period: balance, parallel pre-trends, ANCOVA / CUPED.

Difference-in-differences (:func:`loyalty_lib.evaluation.diff_in_diff`) removes a **level** gap
between the groups that was already there before the start; it does not remove a gap that was
*growing*. Its identifying assumption is **parallel trends**: without the campaign, both groups'
outcomes would have moved by the same amount. That cannot be tested after the start, but the
pre-period can refute it, so this module adds the checks a reader needs before trusting DiD
(Angrist & Pischke, *Mostly Harmless Econometrics*, ch. 5):

* :func:`balance_table` — pre-period means per group with the standardised mean difference
  (SMD); |SMD| > 0.1 is the usual flag that randomisation (or the selection) left groups unequal;
* :func:`pre_trend_check` — a placebo DiD inside the pre-period (late half − early half): a
  difference there means the lines already diverged, and DiD would attribute that drift to the
  campaign;
* :func:`pre_period_means` — mean per customer per 4-week bin before and after the start, the
  data of the pre-trend chart (``plots.pre_trends``);
* :func:`ancova_effect` — ``y_post = a + τ·treated + β·y_pre`` by OLS, with CUPED
  (``y_post − θ(y_pre − ȳ_pre)``) reported beside it.

Why ANCOVA beside DiD: with equal pre/post variances σ² and pre/post correlation ρ, the variance of
the post-only difference is ∝ σ², of DiD ∝ 2σ²(1 − ρ) and of ANCOVA ∝ σ²(1 − ρ²). DiD is narrower
than the post-only comparison only when ρ > 0.5; ANCOVA is never wider than either (it estimates
the best β instead of fixing it at 0 or 1), which is why it is the efficient estimator for a
randomised campaign (McKenzie 2012, "Beyond baseline and follow-up").

Every result carries ``verdict``: a sentence computed from the numbers, in the reader's language
through :mod:`loyalty_lib.i18n` (numbers and words: the Russian sentences are in ``loyalty.po``).
"""

from __future__ import annotations

import html
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from loyalty_lib._result import Result
from loyalty_lib.i18n import N_, _, fmt_money, fmt_number, fmt_pp, fmt_share
from loyalty_lib.stats import check_confidence

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
]

#: |standardised mean difference| above which a pre-period metric counts as imbalanced (the
#: common rule of thumb, Austin 2009): 0.1 = a tenth of a standard deviation.
SMD_THRESHOLD = 0.1

_SHARES = ("repeat", "repeat2")
_WHAT = {
    "spend": N_("net spend per customer"),
    "orders": N_("orders per customer"),
    "repeat": N_("share buying at least once"),
    "repeat2": N_("share with ≥ 2 purchases"),
}


def _what(metric: str) -> str:
    """The metric's name for a sentence, in the reader's language."""
    return _(_WHAT[metric]) if metric in _WHAT else metric


def _outcome_helpers() -> tuple[Any, Any]:
    # the outcome-table validation lives in the package's __init__ (used by lift and DiD too);
    # imported on call so the package can import this module at its end without a cycle
    from loyalty_lib.evaluation import _check_outcomes, _split

    return _check_outcomes, _split


def _value(metric: str, x: float, currency: str, *, diff: bool = False) -> str:
    """A metric's value for a sentence: money, share / pp, or a plain number."""
    base = metric.removesuffix("_pre").removesuffix("_post")
    if base == "spend":
        text = fmt_money(x, currency, decimals=0)  # whole roubles: cents are noise here
        return ("+" + text) if diff and x > 0 else text
    if base in _SHARES:
        return fmt_pp(x) if diff else fmt_share(x)
    text = fmt_number(x, sig=2, max_decimals=2)
    return ("+" + text) if diff and x > 0 else text


def _ci_words(low: float, high: float, estimate: float, what: str, fmt: Any) -> str:
    if low > 0 or high < 0:
        template = (
            _(
                "the interval excludes zero: the campaign raised {what} by {estimate} [{low}; {high}]"
            )
            if estimate > 0
            else _(
                "the interval excludes zero: the campaign lowered {what} by {estimate} "
                "[{low}; {high}]"
            )
        )
    else:
        template = _(
            "the interval includes zero: the data cannot tell an effect of {estimate} on {what} "
            "from none [{low}; {high}]"
        )
    return template.format(what=what, estimate=fmt(estimate), low=fmt(low), high=fmt(high))


# --------------------------------------------------------------------------------------------
# balance table
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class BalanceResult(Result):
    """Pre-period balance of treatment vs control: one row per metric (``table``) and a verdict."""

    table: pd.DataFrame  # metric, treatment, control, difference, smd, p_value, balanced
    imbalanced: tuple[str, ...]
    verdict: str
    currency: str = "RUB"

    def __str__(self) -> str:
        return self.verdict

    def display_table(self) -> pd.DataFrame:
        """The table with every number formatted for a reader (what the notebook shows)."""
        rows = []
        for r in self.table.itertuples(index=False):
            rows.append(
                {
                    _("pre-period metric"): _what(r.metric),
                    _("treatment"): _value(r.metric, r.treatment, self.currency),
                    _("control"): _value(r.metric, r.control, self.currency),
                    _("difference"): _value(r.metric, r.difference, self.currency, diff=True),
                    "SMD": fmt_number(r.smd, decimals=2),
                    "p": fmt_number(r.p_value, decimals=3),
                    _("balanced"): _("yes") if r.balanced else _("no"),
                }
            )
        return pd.DataFrame(rows)

    def _repr_html_(self) -> str:
        return f"<p>{html.escape(self.verdict)}</p>" + self.display_table().to_html(index=False)


def balance_table(
    outcomes: pd.DataFrame,
    metrics: tuple[str, ...] = ("orders", "spend", "repeat"),
    *,
    currency: str = "RUB",
) -> BalanceResult:
    """Pre-period means of ``metrics`` (base names; ``{metric}_pre`` columns of
    :func:`~loyalty_lib.evaluation.campaign_outcomes`) per group.

    ``difference`` = treatment − control (currency for spend, share for flags);
    ``smd`` = difference / √((s²_T + s²_C) / 2), the gap in pooled standard deviations; ``p_value``
    from Welch's t-test. A metric is ``balanced`` when |SMD| ≤ :data:`SMD_THRESHOLD`. With a
    random split a large SMD is bad luck, not bias, but a post-only comparison would still count
    it as effect: adjust for the pre-period (DiD or :func:`ancova_effect`).
    """
    check, split = _outcome_helpers()
    cols = [f"{m}_pre" for m in metrics]
    treated = check(outcomes, cols)
    rows = []
    for metric, col in zip(metrics, cols, strict=True):
        t, c = split(outcomes, col, treated)
        sd = math.sqrt((t.var(ddof=1) + c.var(ddof=1)) / 2)
        diff = float(t.mean() - c.mean())
        smd = diff / sd if sd > 0 else 0.0
        p = float(stats.ttest_ind(t, c, equal_var=False).pvalue) if sd > 0 else 1.0
        rows.append(
            {
                "metric": metric,
                "treatment": float(t.mean()),
                "control": float(c.mean()),
                "difference": diff,
                "smd": smd,
                "p_value": p,
                "balanced": abs(smd) <= SMD_THRESHOLD,
            }
        )
    table = pd.DataFrame(rows)
    bad = tuple(table.loc[~table["balanced"], "metric"])
    if bad:
        worst = table.loc[table["smd"].abs().idxmax()]
        rel = worst["difference"] / worst["control"] if worst["control"] else math.nan
        verdict = _(
            "The groups were not alike before the start: {metrics} differ by more than "
            "{threshold} standard deviations (largest: {worst}, treatment {gap} vs control). "
            "A post-only comparison would count this head start as effect; adjust for the "
            "pre-period."
        ).format(
            metrics=", ".join(_what(m) for m in bad),
            threshold=fmt_number(SMD_THRESHOLD),
            worst=_what(worst["metric"]),
            gap=fmt_share(rel, signed=True),
        )
    else:
        verdict = _(
            "The groups were alike before the start: every pre-period metric differs by at most "
            "{threshold} standard deviations."
        ).format(threshold=fmt_number(SMD_THRESHOLD))
    return BalanceResult(table=table, imbalanced=bad, verdict=verdict, currency=currency)


# --------------------------------------------------------------------------------------------
# pre-period trends
# --------------------------------------------------------------------------------------------
def _campaign_outcomes(*args: Any, **kwargs: Any) -> pd.DataFrame:
    from loyalty_lib.evaluation import campaign_outcomes

    return campaign_outcomes(*args, **kwargs)


@dataclass(frozen=True)
class PreTrendResult(Result):
    """Placebo DiD inside the pre-period: (late − early half) in treatment minus in control."""

    metric: str
    estimate: float
    ci_low: float
    ci_high: float
    p_value: float
    half_days: int  # length of each half of the pre-period, days
    early_treatment: float
    late_treatment: float
    early_control: float
    late_control: float
    parallel: bool  # True when the placebo interval includes zero
    verdict: str
    confidence: float = 0.95
    currency: str = "RUB"

    def __str__(self) -> str:
        return self.verdict


def pre_trend_check(
    transactions: pd.DataFrame,
    campaign: pd.DataFrame,
    metric: str = "spend",
    *,
    pre_days: int | None = None,
    confidence: float = 0.95,
    currency: str = "RUB",
) -> PreTrendResult:
    """Do the groups' pre-period lines run parallel? A placebo difference-in-differences.

    The ``pre_days`` days before each customer's ``start_date`` (default: the pre-period
    :func:`~loyalty_lib.evaluation.campaign_outcomes` uses, the shortest customer's) are split
    into an early and a late half; the change late − early per customer is compared between the
    groups by Welch's t-test, exactly as DiD compares post − pre. Nothing happened between the
    halves, so a difference means the trends already diverged. ``parallel`` is True when the
    interval includes zero — no evidence against parallel trends, which is not proof of them.
    """
    check_confidence(confidence)
    if pre_days is None:
        pre_days = int(_campaign_outcomes(transactions, campaign)["days_pre"].min())
    half = int(pre_days) // 2
    if half < 1:
        raise ValueError(f"pre_days must be at least 2 days to split in halves, got {pre_days!r}")
    placebo = campaign.copy()
    placebo["start_date"] = pd.to_datetime(placebo["start_date"]).dt.normalize() - pd.Timedelta(
        days=half
    )
    out = _campaign_outcomes(transactions, placebo, pre_days=half, post_days=half)
    check, split = _outcome_helpers()
    pre, post = f"{metric}_pre", f"{metric}_post"
    treated = check(out, [pre, post])
    e_t, e_c = split(out, pre, treated)
    l_t, l_c = split(out, post, treated)
    res = stats.ttest_ind(l_t - e_t, l_c - e_c, equal_var=False)
    ci = res.confidence_interval(confidence_level=confidence)
    est = float((l_t - e_t).mean() - (l_c - e_c).mean())
    lo, hi = float(ci.low), float(ci.high)
    parallel = lo <= 0 <= hi

    def f(x: float) -> str:
        return _value(metric, x, currency, diff=True)

    what = _what(metric)
    if parallel:
        verdict = _(
            "Pre-period trends: between the two halves of the {days} days before the start, "
            "treatment's {what} moved by {estimate} relative to control [{low}; {high}] — the "
            "interval includes zero, so there is no sign that the lines were already diverging; "
            "parallel trends is plausible (not proven)."
        ).format(days=fmt_number(2 * half), what=what, estimate=f(est), low=f(lo), high=f(hi))
    else:
        verdict = _(
            "Pre-period trends: treatment's {what} was already moving away from control's before "
            "the start, by {estimate} between the two halves of the pre-period [{low}; {high}]. "
            "Parallel trends fails: DiD would count this drift as effect."
        ).format(what=what, estimate=f(est), low=f(lo), high=f(hi))
    return PreTrendResult(
        metric=metric,
        estimate=est,
        ci_low=lo,
        ci_high=hi,
        p_value=float(res.pvalue),
        half_days=half,
        early_treatment=float(e_t.mean()),
        late_treatment=float(l_t.mean()),
        early_control=float(e_c.mean()),
        late_control=float(l_c.mean()),
        parallel=parallel,
        verdict=verdict,
        confidence=confidence,
        currency=currency,
    )


def pre_period_means(
    transactions: pd.DataFrame,
    campaign: pd.DataFrame,
    metric: str = "spend",
    *,
    bin_days: int = 28,
) -> pd.DataFrame:
    """Mean ``metric`` (``spend`` net RUB or ``orders``) per campaign customer per ``bin_days`` bin,
    per group, counted from each customer's ``start_date`` (bin −1 = the last ``bin_days`` days
    before the start, 0 = the first after). Customers with no purchase in a bin count as 0.

    Columns: ``group``, ``bin`` (int), ``days_from_start`` (first day of the bin), ``mean``,
    ``customers``. Only whole bins inside the observed data are kept.
    """
    if metric not in ("spend", "orders"):
        raise ValueError(f"metric must be 'spend' or 'orders', got {metric!r}")
    if isinstance(bin_days, bool) or not isinstance(bin_days, int) or bin_days < 1:
        raise ValueError(f"bin_days must be a positive whole number of days, got {bin_days!r}")
    from loyalty_lib.evaluation import _transactions

    tx = _transactions(transactions)
    camp = campaign.loc[:, ["customer_id", "group", "start_date"]].copy()
    camp["start_date"] = pd.to_datetime(camp["start_date"]).dt.normalize()
    m = tx.merge(camp, on="customer_id")
    offset = (m["date"] - m["start_date"]).dt.days
    m["bin"] = np.floor_divide(offset, bin_days)
    if metric == "orders":
        m = m.loc[~m["is_refund"]]
        m["value"] = 1.0
    else:
        m["value"] = m["amount"]
    per_group = m.groupby(["group", "bin"])["value"].sum()
    n = camp.groupby("group").size()
    # whole bins only: from the earliest start's first full bin to the latest start's last
    first = int(np.ceil((tx["date"].min() - camp["start_date"].min()).days / bin_days))
    last = int((tx["date"].max() - camp["start_date"].max()).days // bin_days) - 1
    rows = []
    for g in ("treatment", "control"):
        for b in range(first, last + 1):
            total = float(per_group.get((g, b), 0.0))
            rows.append(
                {
                    "group": g,
                    "bin": b,
                    "days_from_start": b * bin_days,
                    "mean": total / int(n.get(g, 0)) if n.get(g, 0) else math.nan,
                    "customers": int(n.get(g, 0)),
                }
            )
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------------------------
# ANCOVA / CUPED
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ANCOVAResult(Result):
    """Campaign effect adjusted for the pre-period: ANCOVA (OLS) with CUPED and DiD beside it."""

    metric: str
    estimate: float  # τ of y_post = a + τ·treated + β·y_pre, metric units
    ci_low: float
    ci_high: float
    p_value: float
    se: float
    beta: float  # slope on the pre-period value
    correlation: float  # pre/post correlation ρ, pooled over both groups
    cuped_estimate: float
    cuped_se: float
    did_se: float  # SE of the change-score (DiD) difference, same data
    post_only_se: float  # SE of the post-only difference, same data
    n_treatment: int
    n_control: int
    verdict: str
    confidence: float = 0.95
    currency: str = "RUB"

    def __str__(self) -> str:
        return self.verdict


def ancova_effect(
    outcomes: pd.DataFrame,
    metric: str = "spend",
    *,
    confidence: float = 0.95,
    currency: str = "RUB",
) -> ANCOVAResult:
    """The campaign effect on ``metric`` adjusted for each customer's own pre-period (ANCOVA).

    OLS of ``{metric}_post`` on an intercept, the treatment flag and ``{metric}_pre``; ``estimate``
    is the flag's coefficient with the classical OLS standard error (``n − 3`` degrees of freedom,
    t interval). CUPED (Deng et al. 2013) is the same idea as a transformation:
    ``y_post − θ·(y_pre − mean(y_pre))`` with ``θ = cov(y_pre, y_post) / var(y_pre)`` pooled, then
    a difference of means; it matches ANCOVA up to the within-group slope. The standard errors of
    DiD and of the post-only difference on the same customers are reported so the lesson can show
    the ρ > 0.5 rule on real data.
    """
    check_confidence(confidence)
    check, split = _outcome_helpers()
    pre, post = f"{metric}_pre", f"{metric}_post"
    treated = check(outcomes, [pre, post])
    y = outcomes[post].to_numpy(dtype=float)
    x = outcomes[pre].to_numpy(dtype=float)
    d = treated.astype(float)
    n = len(y)
    design = np.column_stack([np.ones(n), d, x])
    coef, *_rest = np.linalg.lstsq(design, y, rcond=None)
    resid = y - design @ coef
    dof = n - 3
    sigma2 = float(resid @ resid) / dof
    cov = sigma2 * np.linalg.pinv(design.T @ design)
    tau, se = float(coef[1]), float(math.sqrt(cov[1, 1]))
    q = float(stats.t.ppf(0.5 + confidence / 2, dof))
    p = float(2 * stats.t.sf(abs(tau / se), dof)) if se > 0 else math.nan

    rho = float(np.corrcoef(x, y)[0, 1]) if x.std() > 0 and y.std() > 0 else 0.0
    theta = float(np.cov(x, y, ddof=1)[0, 1] / x.var(ddof=1)) if x.var() > 0 else 0.0
    adj = y - theta * (x - x.mean())
    a_t, a_c = adj[treated], adj[~treated]
    cuped = float(a_t.mean() - a_c.mean())
    cuped_se = math.sqrt(a_t.var(ddof=1) / len(a_t) + a_c.var(ddof=1) / len(a_c))
    pre_t, pre_c = split(outcomes, pre, treated)
    post_t, post_c = split(outcomes, post, treated)
    ch_t, ch_c = post_t - pre_t, post_c - pre_c
    did_se = math.sqrt(ch_t.var(ddof=1) / len(ch_t) + ch_c.var(ddof=1) / len(ch_c))
    post_se = math.sqrt(post_t.var(ddof=1) / len(post_t) + post_c.var(ddof=1) / len(post_c))

    lo, hi = tau - q * se, tau + q * se

    def f(v: float) -> str:
        return _value(metric, v, currency, diff=True)

    what = _what(metric)
    rule = (
        _(
            "pre/post correlation ρ = {rho} > 0.5, so DiD is narrower than the post-only "
            "comparison (SE {did_se} vs {post_se}); ANCOVA's SE is {se}"
        )
        if rho > 0.5
        else _(
            "pre/post correlation ρ = {rho} ≤ 0.5, so DiD is wider than the post-only "
            "comparison (SE {did_se} vs {post_se}); ANCOVA's SE is {se}"
        )
    ).format(
        rho=fmt_number(rho, decimals=2),
        did_se=fmt_number(did_se, sig=3),
        post_se=fmt_number(post_se, sig=3),
        se=fmt_number(se, sig=3),
    )
    verdict = _("ANCOVA (adjusted for the pre-period): {words}; {rule}.").format(
        words=_ci_words(lo, hi, tau, what, f), rule=rule
    )
    return ANCOVAResult(
        metric=metric,
        estimate=tau,
        ci_low=lo,
        ci_high=hi,
        p_value=p,
        se=se,
        beta=float(coef[2]),
        correlation=rho,
        cuped_estimate=cuped,
        cuped_se=cuped_se,
        did_se=did_se,
        post_only_se=post_se,
        n_treatment=int(treated.sum()),
        n_control=int((~treated).sum()),
        verdict=verdict,
        confidence=confidence,
        currency=currency,
    )


def show_verdict(result: Any) -> Any:
    """A result's ``verdict`` as Markdown for a notebook (the sentence the lesson points at)."""
    from IPython.display import Markdown

    return Markdown("**" + _("Verdict.") + "** " + result.verdict)
