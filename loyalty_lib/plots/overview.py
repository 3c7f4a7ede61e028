"""The first chart of the course: monthly net revenue with the number of active customers."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.ticker import FuncFormatter

from loyalty_lib.i18n import _, fmt_number

__all__ = ["monthly_revenue"]


def monthly_revenue(kpis: pd.DataFrame, *, currency: str = "RUB", ax: Axes | None = None) -> Axes:
    """Bars: net revenue per month (thousands of ``currency``); line on a twin axis: customers
    with at least one purchase that month.

    ``kpis`` is the monthly table of :func:`loyalty_lib.evaluation.kpis` (columns
    ``period_start``, ``revenue``, ``participants``). Returns the revenue Axes.
    """
    missing = {"period_start", "revenue", "participants"} - set(getattr(kpis, "columns", ()))
    if not isinstance(kpis, pd.DataFrame) or missing:
        raise ValueError(
            f"expected the table of evaluation.kpis(); missing columns: {sorted(missing)}"
        )
    if ax is None:
        _fig, ax = plt.subplots(figsize=(8, 3.5))
    months = pd.to_datetime(kpis["period_start"])
    ax.bar(
        months, kpis["revenue"] / 1e3, width=20, color="tab:blue", alpha=0.7, label=_("net revenue")
    )
    ax.set_ylabel(_("net revenue, thousand {currency}").format(currency=currency))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _pos: fmt_number(v, decimals=0)))
    ax.set_xlabel(_("month"))
    twin = ax.twinx()
    twin.plot(
        months,
        kpis["participants"],
        color="tab:orange",
        marker="o",
        markersize=3,
        label=_("active customers"),
    )
    twin.set_ylabel(_("active customers (≥ 1 purchase)"))
    twin.set_ylim(bottom=0)
    handles = ax.get_legend_handles_labels()[0] + twin.get_legend_handles_labels()[0]
    ax.legend(handles, [h.get_label() for h in handles], loc="upper left", frameon=False)
    ax.set_title(_("Revenue and active customers by month"))
    return ax
