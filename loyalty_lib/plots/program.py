"""Loyalty-program plots: yearly cash flow, break-even curve, ROI grid, reported loyalty factors.

Each helper takes the output of :mod:`loyalty_lib.program`, draws on ``ax`` (a new figure when
None) and returns the Axes.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from matplotlib.axes import Axes

from loyalty_lib.i18n import N_, _, fmt_money, fmt_number, fmt_percent, get_language
from loyalty_lib.plots._style import axes as _axes
from loyalty_lib.plots._style import require_columns, sorted_hbars
from loyalty_lib.program import ProgramEconomics

__all__ = ["break_even", "factor_bars", "program_cashflow", "roi_heatmap"]

# axis names of the scenario grids roi_heatmap draws (translated when shown)
_AXIS_NAMES = (N_("member uplift"), N_("redemption rate"))


def _money_axis(ax: Axes, values: Sequence[float], currency: str = "RUB") -> None:
    """Y tick labels as money in thousands or millions (``1.2 M RUB``), never matplotlib's ``1e6``."""
    from matplotlib.ticker import FuncFormatter

    scale = "M" if max((abs(float(v)) for v in values), default=0) >= 1e6 else "k"
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: fmt_money(v, "", scale=scale)))
    unit = {"k": _("thousand"), "M": _("million")}[scale]
    sign = "₽" if currency == "RUB" and get_language() == "ru" else currency
    ax.set_ylabel(f"{ax.get_ylabel()}, {unit} {sign}")


def program_cashflow(economics: ProgramEconomics, *, ax: Axes | None = None) -> Axes:
    """Bars in RUB/yr: incremental margin (+), reward cost (−), fixed costs (−), net benefit."""
    if not isinstance(economics, ProgramEconomics):
        raise TypeError(f"expected a ProgramEconomics, got {type(economics).__name__}")
    if economics.n_scenarios != 1:
        raise ValueError(
            f"program_cashflow draws one scenario; got {economics.n_scenarios}. "
            "Pick one row, or plot the scenarios table instead."
        )
    labels = [
        _(x)
        for x in (N_("incremental margin"), N_("reward cost"), N_("fixed costs"), N_("net benefit"))
    ]
    net = float(economics.net_benefit)
    values = [
        float(economics.incremental_margin),
        -float(economics.reward_cost),
        -float(economics.fixed_costs),
        net,
    ]
    colors = ["#2ca02c", "#d62728", "#ff7f0e", "#1f77b4" if net >= 0 else "#7f0000"]
    ax = _axes(ax)
    ax.bar(labels, values, color=colors, edgecolor="black")
    ax.axhline(0, color="black", linewidth=0.8)
    ax.set_ylabel(_("per year"))
    _money_axis(ax, values)
    sign = "+" if net > 0 else ""
    ax.set_title(_("Program cash flow: net {net} a year").format(net=sign + fmt_money(net, "RUB")))
    return ax


def break_even(
    uplifts: Sequence[float] | np.ndarray,
    net_benefits: Sequence[float] | np.ndarray,
    *,
    ax: Axes | None = None,
    break_even_at: float | None = None,
    reported_range: tuple[float, float] | None = None,
) -> Axes:
    """Net benefit (RUB/yr) against member uplift (%); optional vertical line at the break-even.

    ``reported_range`` (shares, e.g. ``program.MEMBER_UPLIFT_RANGE``) shades the uplift the
    sources report for members, so the reader sees whether the break-even falls inside it.
    """
    u = np.asarray(uplifts, dtype=float)
    v = np.asarray(net_benefits, dtype=float)
    if u.shape != v.shape or u.ndim != 1 or len(u) == 0:
        raise ValueError("uplifts and net_benefits must be 1-D arrays of the same, non-zero length")
    ax = _axes(ax)
    if reported_range is not None:
        low, high = (100 * float(x) for x in reported_range)
        ax.axvspan(low, high, color="#2ca02c", alpha=0.15,
                   label=_("reported member uplift {low}–{high}%").format(
                       low=fmt_number(low, decimals=0), high=fmt_number(high, decimals=0)))  # fmt: skip
    ax.plot(100 * u, v, marker=".", label=_("net benefit"))
    ax.axhline(0, color="black", linewidth=0.8)
    if break_even_at is not None and np.isfinite(break_even_at):
        ax.axvline(
            100 * break_even_at,
            linestyle="--",
            color="grey",
            label=_("break-even {value}%").format(
                value=fmt_number(100 * break_even_at, decimals=1)
            ),
        )
    ax.set_xlabel(_("Extra spend of members (member uplift, %)"))
    ax.set_ylabel(_("Net benefit per year"))
    _money_axis(ax, v)
    ax.set_title(_("Break-even member uplift"))
    ax.legend(loc="best")
    return ax


def factor_bars(factors: pd.DataFrame, *, ax: Axes | None = None) -> Axes:
    """Horizontal bars of the reported influence (%) of each loyalty factor."""
    require_columns(factors, {"factor", "influence_pct"}, "factors")
    ax = sorted_hbars(
        factors, "factor", "influence_pct", color="#9467bd",
        xlabel=_("Stated influence on loyalty (%)"), ylabel=_("Factor"), ax=ax,
    )  # fmt: skip
    ax.set_title(_("Factors of loyalty (reported figures, not measured)"))
    return ax


def roi_heatmap(
    scenarios: pd.DataFrame,
    *,
    rows: str = "redemption_rate",
    columns: str = "member_uplift",
    ax: Axes | None = None,
) -> Axes:
    """ROI (%) of a grid of scenarios (output of ``program.simulate_scenarios``), one cell each.

    ``rows`` and ``columns`` name two share-valued inputs of the grid; red cells lose money, green
    ones earn it, and each cell is labelled with its ROI in %.
    """
    require_columns(scenarios, {rows, columns, "roi"}, "scenarios")
    table = scenarios.pivot_table(index=rows, columns=columns, values="roi", aggfunc="first")
    values = 100 * table.to_numpy(dtype=float)
    # Symmetric colour scale around 0 so the sign of ROI reads off the colour.
    limit = float(np.nanmax(np.abs(values))) if np.isfinite(values).any() else 1.0
    ax = _axes(ax)
    image = ax.imshow(values, cmap="RdYlGn", vmin=-limit, vmax=limit, aspect="auto",
                      origin="lower")  # fmt: skip
    for (i, j), value in np.ndenumerate(values):
        text = (
            _("n/a")
            if np.isnan(value)
            else ("+" if value >= 0.5 else "") + fmt_percent(value / 100, decimals=0)
        )
        ax.text(j, i, text, ha="center", va="center",
                fontsize=9)  # fmt: skip
    ax.set_xticks(range(len(table.columns)), [fmt_percent(c, decimals=0) for c in table.columns])
    ax.set_yticks(range(len(table.index)), [fmt_percent(r, decimals=0) for r in table.index])
    ax.set_xlabel(_(columns.replace("_", " ")) + " (%)")
    ax.set_ylabel(_(rows.replace("_", " ")) + " (%)")
    ax.set_title(_("ROI of the program by scenario (%)"))
    ax.figure.colorbar(image, ax=ax, label="ROI (%)")
    return ax
