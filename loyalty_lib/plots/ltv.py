"""LTV / CLV plots: cohort heat map, retention curve, P(alive) matrix, holdout check, CLV histogram.

Each helper draws the output of :mod:`loyalty_lib.ltv` on one Axes (a new figure when None) and
returns it.
"""

from __future__ import annotations

from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes

from loyalty_lib.i18n import N_, _, fmt_money, fmt_share
from loyalty_lib.plots._style import axes as _axes

__all__ = [
    "calibration_holdout",
    "clv_distribution",
    "cohort_heatmap",
    "holdout_plot",
    "ltv_churn_curve",
    "ltv_sensitivity",
    "p_alive_matrix",
    "retention_curve",
]

_METRIC_LABELS = {
    "retention": N_("share of cohort active"),
    "customers": N_("active customers"),
    "revenue": N_("net revenue, RUB"),
}
_FREQ_WORDS = {"D": "days", "W": "weeks", "M": "months", "Q": "quarters", "Y": "years"}


def cohort_heatmap(
    table: pd.DataFrame, *, ax: Axes | None = None, annotate: bool | None = None
) -> Axes:
    """Heat map of a :func:`loyalty_lib.ltv.cohorts.cohort_table` (rows cohorts, columns age)."""
    if not isinstance(table, pd.DataFrame) or table.empty:
        raise ValueError("table must be a non-empty DataFrame from cohort_table()")
    ax = _axes(ax)
    metric = table.attrs.get("metric", "retention")
    unit = _FREQ_WORDS.get(str(table.attrs.get("freq", "")), "periods")
    values = table.to_numpy(dtype=float)
    masked = np.ma.masked_invalid(values)
    image = ax.imshow(
        masked,
        aspect="auto",
        cmap="YlGnBu",
        vmin=0,
        vmax=1 if metric == "retention" else None,
        interpolation="nearest",
    )
    ax.figure.colorbar(image, ax=ax, label=_(_METRIC_LABELS.get(metric, metric)))
    ax.set_xticks(range(table.shape[1]), [str(c) for c in table.columns])
    ax.set_yticks(range(table.shape[0]), [str(i) for i in table.index])
    if annotate is None:
        annotate = table.size <= 300
    if annotate:
        fmt = "{:.0%}" if metric == "retention" else "{:,.0f}"
        for (i, j), v in np.ndenumerate(values):
            if np.isfinite(v):
                ax.text(
                    j,
                    i,
                    fmt.format(v),
                    ha="center",
                    va="center",
                    fontsize=7,
                    color="white" if masked.max() and v > 0.6 * masked.max() else "black",
                )
    ax.set_xlabel(f"{unit} since first purchase")
    ax.set_ylabel(_("acquisition cohort (first purchase)"))
    ax.set_title(_("Cohorts: {what}").format(what=_(_METRIC_LABELS.get(metric, metric))))
    return ax


def retention_curve(curve: pd.Series, *, ax: Axes | None = None, label: str | None = None) -> Axes:
    """Line of :func:`loyalty_lib.ltv.cohorts.retention_curve` (share active by age)."""
    if not isinstance(curve, pd.Series) or curve.empty:
        raise ValueError("curve must be a non-empty Series from retention_curve()")
    ax = _axes(ax)
    ax.plot(curve.index, curve.to_numpy(dtype=float), marker="o", label=label)
    ax.set_ylim(0, 1.05)
    ax.yaxis.set_major_formatter(plt.FuncFormatter(lambda v, _pos: f"{v:.0%}"))
    ax.set_xlabel(_("periods since first purchase"))
    ax.set_ylabel(_("share of customers active"))
    ax.set_title(_("Retention curve (customer-weighted over cohorts)"))
    ax.grid(alpha=0.3)
    if label:
        ax.legend()
    return ax


def p_alive_matrix(
    model: Any,
    max_frequency: int,
    max_recency: int,
    *,
    ax: Axes | None = None,
    T: float | None = None,
) -> Axes:
    """P(alive) over frequency × recency for a fitted BG/NBD model (customers of age T).

    Like lifetimes' plot_probability_alive_matrix, recency grows upwards: the top rows (last purchase
    recent) are alive, the bottom right (many purchases, the last one long ago) is probably gone.
    """
    matrix = model.p_alive_matrix(max_frequency, max_recency, T=T)
    ax = _axes(ax)
    unit = matrix.attrs.get("unit", "periods")
    image = ax.imshow(
        np.ma.masked_invalid(matrix.to_numpy(dtype=float)),
        origin="lower",
        aspect="auto",
        cmap="RdYlGn",
        vmin=0,
        vmax=1,
        interpolation="nearest",
        extent=(-0.5, max_frequency + 0.5, -0.5, max_recency + 0.5),
    )
    ax.figure.colorbar(image, ax=ax, label=_("probability customer is alive"))
    ax.set_xlabel(_("frequency (repeat purchase periods)"))
    ax.set_ylabel(f"recency (last purchase, {unit} after the first)")
    ax.set_title(f"P(alive) for customers aged {matrix.attrs.get('T', max_recency):g} {unit}")
    return ax


def holdout_plot(check: Any, *, ax: Axes | None = None) -> Axes:
    """Mean predicted vs actual holdout purchases by calibration frequency.

    Takes :func:`loyalty_lib.ltv.holdout.holdout_check`'s result (or its ``table``).
    """
    table = getattr(check, "table", check)
    needed = {"frequency_cal", "actual", "predicted"}
    if not isinstance(table, pd.DataFrame) or not needed <= set(table.columns):
        raise ValueError(f"holdout_plot needs holdout_check() output with columns {sorted(needed)}")
    ax = _axes(ax)
    ax.plot(table["frequency_cal"], table["actual"], marker="o", label=_("actual"))
    ax.plot(
        table["frequency_cal"],
        table["predicted"],
        marker="s",
        linestyle="--",
        label=_("BG/NBD predicted"),
    )
    labels = [str(v) for v in table["frequency_cal"]]
    if table.attrs.get("top_bin_open") and labels:
        labels[-1] += "+"
    ax.set_xticks(table["frequency_cal"], labels)
    ax.set_xlabel(_("repeat purchases in the calibration period"))
    ax.set_ylabel(_("mean purchases per customer in the holdout"))
    ax.set_title(_("Calibration vs holdout: predicted and actual purchases"))
    ax.legend()
    ax.grid(alpha=0.3)
    return ax


def clv_distribution(
    clv: Any, *, ax: Axes | None = None, bins: int = 50, currency: str = "RUB"
) -> Axes:
    """Histogram of per-customer CLV with mean and median marked.

    CLV is heavily skewed (a few customers worth a hundred times the median), and a linear axis
    to the largest customer squeezes everyone else into the first bar. When the largest value is
    more than three times the 99th percentile, the axis stops at the 99th percentile and the
    title says how many customers lie beyond and what share of the total they carry. Values of
    10,000 and more are shown in thousands of ``currency``. When the 99th percentile is more than
    ten times the median (orders of magnitude apart, as customer value usually is) and at least
    95 % of the values are positive, the axis is logarithmic with log-spaced bins instead.
    """
    from loyalty_lib.i18n import fmt_count, fmt_share

    values = np.asarray(clv, dtype=float).ravel()
    values = values[np.isfinite(values)]
    if values.size == 0:
        raise ValueError("clv has no finite values to plot")
    ax = _axes(ax)
    cap = float(np.quantile(values, 0.99))
    median_all = float(np.median(values))
    positive = values[values > 0]
    # Orders of magnitude between the typical customer and the top percent (customer value
    # usually is): a log axis shows the whole shape; the few non-positive values go in the title.
    log_axis = median_all > 0 and cap / median_all > 10 and positive.size >= 0.95 * values.size
    clipped = not log_axis and values.max() > 3 * cap > 0
    shown = values[values <= cap] if clipped else values
    if log_axis:
        edges = np.geomspace(float(positive.min()), float(positive.max()), bins + 1)
        ax.hist(positive, bins=edges, color="tab:blue", alpha=0.8)
        ax.set_xscale("log")
    else:
        ax.hist(shown, bins=bins, color="tab:blue", alpha=0.8)
    mean, median = float(values.mean()), float(np.median(values))
    ax.axvline(
        mean,
        color="tab:red",
        label=_("mean {value}").format(value=fmt_money(mean, currency, decimals=0)),
    )
    ax.axvline(
        median,
        color="black",
        linestyle="--",
        label=_("median {value}").format(value=fmt_money(median, currency, decimals=0)),
    )
    thousands = float(shown.max()) >= 10_000
    if log_axis:
        from loyalty_lib.i18n import fmt_number

        ax.xaxis.set_major_formatter(  # the currency is in the axis label
            plt.FuncFormatter(lambda v, _pos: fmt_number(v, decimals=0 if v >= 1 else 2))
        )
        ax.set_xlabel(
            _("customer lifetime value, {currency} (log scale)").format(currency=currency)
        )
    elif thousands:
        ax.xaxis.set_major_formatter(plt.FuncFormatter(lambda v, _pos: f"{v / 1000:,.0f}"))
        ax.set_xlabel(_("customer lifetime value, thousand {currency}").format(currency=currency))
    else:
        ax.set_xlabel(_("customer lifetime value, {currency}").format(currency=currency))
    ax.set_ylabel(_("customers"))
    title = _("CLV distribution")
    if log_axis and positive.size < values.size:
        title += "\n" + _("{n} customers with no positive value not shown").format(
            n=fmt_count(values.size - positive.size)
        )
    if clipped:
        tail = values[values > cap]
        title += "\n" + _("{n} customers above {cap} not shown: {share} of the total value").format(
            n=fmt_count(tail.size),
            cap=fmt_money(cap, currency),
            share=fmt_share(tail.sum() / values.sum(), decimals=0),
        )
    ax.set_title(title)
    ax.legend()
    return ax


def ltv_sensitivity(
    base: dict[str, float], *, change: float = 0.1, ax: Axes | None = None, currency: str = "RUB"
) -> Axes:
    """Tornado of LTV = m × a × t when each factor moves ±``change`` (share) from ``base``.

    ``base`` = {"avg_check": m, "purchases_per_period": a, "lifetime_periods": t}, e.g.
    ``LTVResult.to_dict()``. The product is linear in each factor, so every bar is ±change × LTV:
    the picture teaches that the three levers are worth the same in relative terms.
    """
    from loyalty_lib.ltv.simple import ltv

    keys = ("avg_check", "purchases_per_period", "lifetime_periods")
    missing = [k for k in keys if k not in base]
    if missing:
        raise ValueError(f"base needs {keys}; missing {missing}")
    if not 0 < change < 1:
        raise ValueError(f"change must be a share in (0, 1); got {change}")
    ax = _axes(ax)
    values = [float(base[k]) for k in keys]
    centre = ltv(*values)
    names = {
        "avg_check": "average check m",
        "purchases_per_period": "purchases per period a",
        "lifetime_periods": "lifetime t",
    }
    for i in range(len(keys)):
        lo, hi = list(values), list(values)
        lo[i] *= 1 - change
        hi[i] *= 1 + change
        low, high = ltv(*lo), ltv(*hi)
        ax.barh(i, high - centre, left=centre, color="tab:green")
        ax.barh(i, low - centre, left=centre, color="tab:red")
    ax.axvline(centre, color="black", linewidth=1)
    ax.set_yticks(range(len(keys)), [names[k] for k in keys])
    ax.set_xlabel(
        _("LTV, {currency} (factor ±{change})").format(
            currency=currency, change=fmt_share(change, decimals=0)
        )
    )
    ax.set_title(
        _("LTV sensitivity around {value}").format(value=fmt_money(centre, currency, decimals=0))
    )
    return ax


def ltv_churn_curve(
    table: pd.DataFrame,
    *,
    current: tuple[float, float] | None = None,
    ax: Axes | None = None,
    currency: str = "RUB",
) -> Axes:
    """LTV against churn per period, from :func:`loyalty_lib.ltv.simple.ltv_by_churn` [L2].

    ``current`` — an optional (churn, LTV) point to mark, e.g. ``(result.churn_per_period,
    result.ltv)`` of an :class:`~loyalty_lib.ltv.simple.LTVResult`.
    """
    needed = {"churn", "ltv"}
    if not isinstance(table, pd.DataFrame) or table.empty or not needed <= set(table.columns):
        raise ValueError(
            f"table must be a non-empty DataFrame from ltv_by_churn() with columns {sorted(needed)}"
        )
    ax = _axes(ax)
    ax.plot(table["churn"], table["ltv"], marker="o", markersize=3, label=_("LTV = m × a / churn"))
    if current is not None:
        churn, value = (float(v) for v in current)
        ax.scatter(
            [churn],
            [value],
            color="tab:red",
            zorder=3,
            s=60,
            label=f"today: churn {churn:.0%}, LTV {value:,.0f} {currency}",
        )
    ax.xaxis.set_major_formatter(plt.FuncFormatter(lambda v, _pos: f"{v:.0%}"))
    ax.yaxis.set_major_formatter(plt.FuncFormatter(lambda v, _pos: f"{v:,.0f}"))
    ax.set_xlabel(_("churn per period (share of active customers lost)"))
    ax.set_ylabel(_("LTV per customer, {currency}").format(currency=currency))
    ax.set_title(_("Lower churn, longer lifetime, higher LTV"))
    ax.grid(alpha=0.3)
    ax.legend()
    return ax


def calibration_holdout(comparison: Any, *, ax: Axes | None = None) -> Axes:
    """Observed vs predicted mean holdout purchases by calibration frequency, one bar group per
    frequency: observed and each model side by side.

    Takes :func:`loyalty_lib.ltv.compare_models`' result (or its ``by_frequency`` table: columns
    ``frequency_cal``, ``observed`` and one column of predicted means per model key).
    """
    table = getattr(comparison, "by_frequency", comparison)
    if not isinstance(table, pd.DataFrame) or not {"frequency_cal", "observed"} <= set(
        table.columns
    ):
        raise ValueError(
            "calibration_holdout needs compare_models() output (by_frequency with frequency_cal, observed)"
        )
    names = {"bgnbd": "BG/NBD", "mbgnbd": "MBG/NBD", "pareto": "Pareto/NBD"}
    keys = [c for c in table.columns if c in names]
    if not keys:
        raise ValueError("by_frequency has no model columns (bgnbd, mbgnbd, pareto)")
    ax = _axes(ax)
    positions = np.arange(len(table))
    width = 0.8 / (len(keys) + 1)
    ax.bar(
        positions - 0.4 + width / 2, table["observed"], width, color="black", label=_("observed")
    )
    for i, key in enumerate(keys, start=1):
        ax.bar(
            positions - 0.4 + width * (i + 0.5),
            table[key],
            width,
            label=_("{model} predicted").format(model=names[key]),
        )
    labels = [str(v) for v in table["frequency_cal"]]
    if table.attrs.get("top_bin_open") and labels:
        labels[-1] += "+"
    ax.set_xticks(positions, labels)
    ax.set_xlabel(_("repeat purchases in the calibration period"))
    ax.set_ylabel(_("mean purchases per customer in the holdout"))
    ax.set_title(_("Calibration vs holdout by model"))
    ax.legend()
    ax.grid(alpha=0.3, axis="y")
    return ax
