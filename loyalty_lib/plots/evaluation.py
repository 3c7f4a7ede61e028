"""Plots for program evaluation: lift bars, diff-in-diff lines, retention by segment, KPI trends.

Each helper draws the output of :mod:`loyalty_lib.evaluation` on one Axes and returns it.
"""

from __future__ import annotations

import pandas as pd
from matplotlib.axes import Axes

from loyalty_lib.evaluation import group_means, pre_period_means
from loyalty_lib.plots._style import axes as _axes

__all__ = ["did_plot", "kpi_trend", "lift_chart", "pre_trends", "segment_retention_plot"]

_COLORS = {"treatment": "tab:orange", "control": "tab:blue"}
_LABELS = {
    "spend": "net spend per customer, RUB",
    "orders": "orders per customer",
    "repeat": "share with ≥ 1 purchase",
    "repeat2": "share with ≥ 2 purchases",
}
_KPI_UNITS = {
    "members": "customers",
    "participants": "customers",
    "activity": "share of members",
    "orders": "orders",
    "average_check": "RUB",
    "repeat_rate": "share of participants",
    "returning_rate": "share of participants",
    "revenue": "RUB",
    "program_costs": "RUB",
    "cost_per_participant": "RUB",
}


def _label(metric: str) -> str:
    base = metric.removesuffix("_pre").removesuffix("_post")
    return _LABELS.get(base, metric)


def lift_chart(
    outcomes: pd.DataFrame, metric: str = "spend_post", *, ax: Axes | None = None
) -> Axes:
    """Treatment vs control mean of ``metric`` as bars with 95 % CI error bars."""
    table = group_means(outcomes, metric)
    ax = _axes(ax)
    err = [table["mean"] - table["ci_low"], table["ci_high"] - table["mean"]]
    ax.bar(
        table["group"],
        table["mean"],
        yerr=err,
        capsize=6,
        color=[_COLORS[g] for g in table["group"]],
    )
    # labels above the upper end of the error bar, so the cap does not cross the text
    for x, (mean, high, n) in enumerate(
        zip(table["mean"], table["ci_high"], table["n"], strict=True)
    ):
        ax.annotate(
            f"{mean:,.3g}\nn={n:,}",
            (x, max(mean, high)),
            xytext=(0, 4),
            textcoords="offset points",
            ha="center",
            va="bottom",
            fontsize=8,
        )
    ax.margins(y=0.15)  # headroom for the labels above the error bars
    ax.yaxis.grid(True, alpha=0.3)  # helps read off where the error bars end
    ax.set_axisbelow(True)
    ax.set_ylabel(_label(metric))
    ax.set_xlabel("group")
    ax.set_title(f"Treatment vs control: {metric} (mean, 95% CI)")
    return ax


def did_plot(outcomes: pd.DataFrame, metric: str = "spend", *, ax: Axes | None = None) -> Axes:
    """Pre → post mean of ``metric`` per group (two lines); diff-in-diff = gap in the slopes."""
    ax = _axes(ax)
    pre = group_means(outcomes, f"{metric}_pre").set_index("group")
    post = group_means(outcomes, f"{metric}_post").set_index("group")
    # a small horizontal offset keeps the two groups' error bars apart
    for g, shift in (("treatment", -0.02), ("control", 0.02)):
        means = [pre.loc[g, "mean"], post.loc[g, "mean"]]
        lows = [pre.loc[g, "ci_low"], post.loc[g, "ci_low"]]
        highs = [pre.loc[g, "ci_high"], post.loc[g, "ci_high"]]
        err = [
            [m - lo for m, lo in zip(means, lows, strict=True)],
            [h - m for m, h in zip(means, highs, strict=True)],
        ]
        ax.errorbar(
            [shift, 1 + shift], means, yerr=err, marker="o", capsize=4, color=_COLORS[g], label=g
        )
    ax.set_xticks([0, 1], ["pre period", "post period"])
    ax.set_ylabel(_label(metric))
    ax.set_title(f"Difference in differences: {metric} (mean, 95% CI)")
    ax.legend()
    return ax


def segment_retention_plot(table: pd.DataFrame, *, ax: Axes | None = None) -> Axes:
    """Share of each segment active per period after start (output of ``segment_retention``)."""
    ax = _axes(ax)
    for segment, part in table.groupby("segment", sort=True):
        ax.plot(part["period"], part["share"], marker="o", label=str(segment))
    ax.set_xlabel("period after campaign start")
    ax.set_ylabel("share of segment's customers who bought")
    ax.set_ylim(0, 1)
    ax.set_title("Retention by segment after the campaign start")
    ax.legend(title="segment")
    return ax


def kpi_trend(
    kpis_df: pd.DataFrame, kpi: str, *, start: object = None, ax: Axes | None = None
) -> Axes:
    """One KPI column of ``evaluation.kpis`` over time.

    A table from ``evaluation.kpis_by_group`` (with a ``group`` column) draws one line per group;
    ``start`` (a date) marks the campaign start with a vertical line.
    """
    if kpi not in kpis_df.columns:
        raise ValueError(f"kpi must be a column of the KPI table, got {kpi!r}")
    ax = _axes(ax)
    if "group" in kpis_df.columns:
        for g, part in kpis_df.groupby("group", sort=False):
            ax.plot(
                part["period_start"], part[kpi], marker="o", label=str(g), color=_COLORS.get(str(g))
            )
    else:
        ax.plot(kpis_df["period_start"], kpis_df[kpi], marker="o")
    if start is not None:
        ax.axvline(pd.Timestamp(start), color="grey", linestyle="--", label="campaign start")
    if "group" in kpis_df.columns or start is not None:
        ax.legend()
    ax.set_xlabel("period start")
    ax.set_ylabel(f"{kpi.replace('_', ' ')}, {_KPI_UNITS.get(kpi, 'value')}")
    ax.set_title(f"KPI trend: {kpi.replace('_', ' ')}")
    ax.figure.autofmt_xdate()
    return ax


def pre_trends(
    transactions: pd.DataFrame,
    campaign: pd.DataFrame,
    metric: str = "spend",
    *,
    bin_days: int = 28,
    currency: str = "RUB",
    ax: Axes | None = None,
) -> Axes:
    """Mean ``metric`` per customer per ``bin_days`` bin for each group, before and after the start.

    The chart behind parallel trends: before the dashed line the two lines should move together
    (a constant gap is fine, DiD removes it; a gap that widens is not). Data from
    :func:`loyalty_lib.evaluation.pre_period_means`; x = days from each customer's start.
    """
    table = pre_period_means(transactions, campaign, metric, bin_days=bin_days)
    ax = _axes(ax)
    for g, part in table.groupby("group", sort=False):
        ax.plot(part["days_from_start"], part["mean"], marker="o", label=str(g), color=_COLORS[g])
    ax.axvline(0, color="grey", linestyle="--", label="campaign start")
    unit = f"net spend per customer, {currency}" if metric == "spend" else "orders per customer"
    ax.set_xlabel(f"days from the campaign start ({bin_days}-day bins)")
    ax.set_ylabel(f"{unit} per {bin_days} days")
    what = "Net spend" if metric == "spend" else "Orders"
    ax.set_title(f"{what} before and after the start: do the lines run parallel?")
    ax.legend()
    return ax
