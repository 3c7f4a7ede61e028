"""Plots for program evaluation: lift bars, diff-in-diff lines, retention by segment, KPI trends.

Each helper draws the output of :mod:`loyalty_lib.evaluation` on one Axes and returns it.
"""

from __future__ import annotations

import pandas as pd
from matplotlib.axes import Axes
from matplotlib.ticker import ScalarFormatter

from loyalty_lib.evaluation import _loc, _unit, group_means, pre_period_means
from loyalty_lib.i18n import N_, _, get_language
from loyalty_lib.plots._style import axes as _axes

__all__ = ["did_plot", "kpi_trend", "lift_chart", "pre_trends", "segment_retention_plot"]

_COLORS = {"treatment": "tab:orange", "control": "tab:blue"}
_LABELS = {
    "spend": N_("net spend per customer, RUB"),
    "orders": N_("orders per customer"),
    "repeat": N_("share with ≥ 1 purchase"),
    "repeat2": N_("share with ≥ 2 purchases"),
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
#: the KPI axis label and title word of each KPI column (English: built from the column name)
_KPI_LABELS = {
    "members": (N_("members, customers"), N_("KPI trend: members")),
    "participants": (N_("participants, customers"), N_("KPI trend: participants")),
    "activity": (N_("activity, share of members"), N_("KPI trend: activity")),
    "orders": (N_("orders, orders"), N_("KPI trend: orders")),
    "average_check": (N_("average check, RUB"), N_("KPI trend: average check")),
    "repeat_rate": (N_("repeat rate, share of participants"), N_("KPI trend: repeat rate")),
    "returning_rate": (
        N_("returning rate, share of participants"),
        N_("KPI trend: returning rate"),
    ),
    "revenue": (N_("revenue, RUB"), N_("KPI trend: revenue")),
    "program_costs": (N_("program costs, RUB"), N_("KPI trend: program costs")),
    "cost_per_participant": (
        N_("cost per participant, RUB"),
        N_("KPI trend: cost per participant"),
    ),
}
#: the groups and the segments of lesson 06 as a reader sees them
_NAMES = {
    "treatment": N_("treatment"),
    "control": N_("control"),
    "VIP": N_("VIP"),
    "regular": N_("regular"),
    "difficult": N_("difficult"),
    "new": N_("new"),
    "one-off": N_("one-off"),
    "no purchase before start": N_("no purchase before start"),
}
_METRICS = {
    "spend": N_("net spend"),
    "orders": N_("orders per customer"),
    "spend_post": N_("net spend after the start"),
    "orders_post": N_("orders after the start"),
    "repeat_post": N_("share buying after the start"),
    "repeat2_post": N_("share with ≥ 2 purchases after the start"),
}


class _LocaleFormatter(ScalarFormatter):
    """Matplotlib's tick labels with the reader's decimal mark (0,15 in Russian)."""

    def __call__(self, x: float, pos: int | None = None) -> str:
        return _loc(super().__call__(x, pos))


def _locale_ticks(ax: Axes) -> None:
    # English keeps matplotlib's own formatter, so its charts stay exactly as they were
    if get_language() != "en":
        ax.yaxis.set_major_formatter(_LocaleFormatter())


def _name(value: object) -> str:
    text = str(value)
    return _(_NAMES[text]) if text in _NAMES else text


def _metric(metric: str) -> str:
    return _(_METRICS[metric]) if metric in _METRICS else metric


def _label(metric: str) -> str:
    base = metric.removesuffix("_pre").removesuffix("_post")
    return _(_LABELS[base]) if base in _LABELS else metric


def lift_chart(
    outcomes: pd.DataFrame, metric: str = "spend_post", *, ax: Axes | None = None
) -> Axes:
    """Treatment vs control mean of ``metric`` as bars with 95 % CI error bars."""
    table = group_means(outcomes, metric)
    ax = _axes(ax)
    err = [table["mean"] - table["ci_low"], table["ci_high"] - table["mean"]]
    ax.bar(
        [_name(g) for g in table["group"]],
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
            _loc(f"{mean:,.3g}\nn={n:,}"),
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
    ax.set_xlabel(_("group"))
    ax.set_title(
        _("Treatment vs control: {metric} (mean, 95% CI)").format(
            metric=metric, label=_metric(metric)
        )
    )
    _locale_ticks(ax)
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
            [shift, 1 + shift],
            means,
            yerr=err,
            marker="o",
            capsize=4,
            color=_COLORS[g],
            label=_name(g),
        )
    ax.set_xticks([0, 1], [_("pre period"), _("post period")])
    ax.set_ylabel(_label(metric))
    ax.set_title(
        _("Difference in differences: {metric} (mean, 95% CI)").format(
            metric=metric, label=_metric(metric)
        )
    )
    ax.legend()
    _locale_ticks(ax)
    return ax


def segment_retention_plot(table: pd.DataFrame, *, ax: Axes | None = None) -> Axes:
    """Share of each segment active per period after start (output of ``segment_retention``)."""
    ax = _axes(ax)
    for segment, part in table.groupby("segment", sort=True):
        ax.plot(part["period"], part["share"], marker="o", label=_name(segment))
    ax.set_xlabel(_("period after campaign start"))
    ax.set_ylabel(_("share of segment's customers who bought"))
    ax.set_ylim(0, 1)
    ax.set_title(_("Retention by segment after the campaign start"))
    ax.legend(title=_("segment"))
    _locale_ticks(ax)
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
                part["period_start"],
                part[kpi],
                marker="o",
                label=_name(g),
                color=_COLORS.get(str(g)),
            )
    else:
        ax.plot(kpis_df["period_start"], kpis_df[kpi], marker="o")
    if start is not None:
        ax.axvline(pd.Timestamp(start), color="grey", linestyle="--", label=_("campaign start"))
    if "group" in kpis_df.columns or start is not None:
        ax.legend()
    ax.set_xlabel(_("period start"))
    words = kpi.replace("_", " ")
    ylabel, title = _KPI_LABELS.get(
        kpi, (f"{words}, {_KPI_UNITS.get(kpi, 'value')}", f"KPI trend: {words}")
    )
    ax.set_ylabel(_(ylabel))
    ax.set_title(_(title))
    ax.figure.autofmt_xdate()
    _locale_ticks(ax)
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
        ax.plot(part["days_from_start"], part["mean"], marker="o", label=_name(g), color=_COLORS[g])
    ax.axvline(0, color="grey", linestyle="--", label=_("campaign start"))
    ax.set_xlabel(_("days from the campaign start ({days}-day bins)").format(days=bin_days))
    if metric == "spend":
        ylabel = _("net spend per customer, {currency} per {days} days")
        title = _("Net spend before and after the start: do the lines run parallel?")
    else:
        ylabel = _("orders per customer per {days} days")
        title = _("Orders before and after the start: do the lines run parallel?")
    shown = _unit(f" {currency}").strip()  # RUB in English, ₽ in Russian
    ax.set_ylabel(ylabel.format(currency=shown, days=bin_days))
    ax.set_title(title)
    ax.legend()
    _locale_ticks(ax)
    return ax
