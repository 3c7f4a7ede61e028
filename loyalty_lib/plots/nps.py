"""NPS plots: score distribution, trend with confidence band, comment themes.

Each helper takes the output of :mod:`loyalty_lib.nps`, draws on ``ax`` (a new figure when None)
and returns the Axes.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.patches import Patch

from loyalty_lib import nps as _nps
from loyalty_lib.i18n import _
from loyalty_lib.plots._style import axes as _axes
from loyalty_lib.plots._style import require_columns, sorted_hbars

__all__ = ["GROUP_COLORS", "nps_distribution", "nps_trend", "theme_bars"]

GROUP_COLORS = {"detractor": "#d62728", "passive": "#bdbdbd", "promoter": "#2ca02c"}


def nps_distribution(
    scores: pd.Series | Sequence[int] | np.ndarray, *, ax: Axes | None = None
) -> Axes:
    """One bar per score 0–10 (respondents), coloured by group; the NPS in the title."""
    values = _nps._as_scores(scores)
    result = _nps.nps(values)
    counts = np.bincount(values, minlength=11)
    groups = _nps.nps_group(np.arange(11))
    ax = _axes(ax)
    ax.bar(np.arange(11), counts, color=[GROUP_COLORS[g] for g in groups], edgecolor="black")
    ax.set_xticks(np.arange(11))
    ax.set_xlabel(_("Score (0 = would not recommend, 10 = would definitely recommend)"))
    ax.set_ylabel(_("Respondents"))
    ax.set_title(
        _("Score distribution: NPS {score} (n={n})").format(
            score=_nps._points(result.score), n=result.n
        )
    )
    ax.legend(
        handles=[
            Patch(color=GROUP_COLORS[g], label=f"{name} ({lo}–{hi})")
            for g, name, lo, hi in (
                ("detractor", _("detractors"), 0, 6),
                ("passive", _("passives"), 7, 8),
                ("promoter", _("promoters"), 9, 10),
            )
        ],
        loc="upper left",
    )
    return ax


def nps_trend(
    trend: pd.DataFrame, *, ax: Axes | None = None, benchmark: float | str | None = None
) -> Axes:
    """NPS per wave (points) with its confidence band, from :func:`loyalty_lib.nps.nps_trend`.

    ``benchmark``: a number of points or an industry key of ``INDUSTRY_BENCHMARKS``
    (e.g. "retail"), drawn as a dashed line.
    """
    require_columns(trend, {"wave", "score", "ci_low", "ci_high"}, "trend")
    if trend.empty:
        raise ValueError("trend table is empty: nothing to plot")
    ax = _axes(ax)
    x = np.arange(len(trend))
    ax.fill_between(
        x,
        trend["ci_low"],
        trend["ci_high"],
        alpha=0.25,
        label=_("{level} CI").format(level=_nps._pct_label(0.95)),
    )
    ax.plot(x, trend["score"], marker="o", label="NPS")
    if benchmark is not None:
        if isinstance(benchmark, str):
            if benchmark not in _nps.INDUSTRY_BENCHMARKS:
                raise ValueError(
                    f"unknown industry {benchmark!r}; known: {', '.join(_nps.INDUSTRY_BENCHMARKS)}"
                )
            info = _nps.INDUSTRY_BENCHMARKS[benchmark]
            value = info["nps"]
            label = _("{industry} benchmark ({value})").format(
                industry=_(info["industry"]), value=f"{info['nps']:.0f}"
            )
        else:
            value = float(benchmark)
            label = _("benchmark ({value})").format(value=f"{value:.0f}")
        ax.axhline(value, linestyle="--", color="black", label=label)
    ax.axhline(0, color="grey", linewidth=0.8)
    # Headroom above the highest line or band so the legend does not cover the data.
    top = max(float(trend["ci_high"].max()), float(value) if benchmark is not None else -100.0)
    bottom = min(float(trend["ci_low"].min()), 0.0)
    ax.set_ylim(bottom - 5, top + 0.35 * (top - bottom) + 5)
    ax.set_xticks(x)
    ax.set_xticklabels(trend["wave"].astype(str), rotation=45, ha="right")
    ax.set_xlabel(_("Wave"))
    ax.set_ylabel(_("NPS (points, −100..100)"))
    ax.set_title(_("NPS by wave"))
    ax.legend(loc="best")
    return ax


def theme_bars(shares: pd.DataFrame, *, ax: Axes | None = None) -> Axes:
    """Horizontal bars: share of comments (%) per primary theme, from ``theme_shares``."""
    require_columns(shares, {"theme", "share_primary"}, "shares")
    ax = sorted_hbars(
        shares, "theme", "share_primary", scale=100, color="#1f77b4",
        xlabel=_("Share of comments (%)"), ylabel=_("Theme"), ax=ax,
    )  # fmt: skip
    n = shares.attrs.get("n_comments")
    groups = shares.attrs.get("groups")
    plural = {"detractor": _("detractors"), "passive": _("passives"), "promoter": _("promoters")}
    title = _("Comment themes")
    if groups:
        title += _(" of {groups}").format(groups=", ".join(plural.get(g, g) for g in groups))
    if n is not None:
        title += _(" (n={n} comments)").format(n=n)
    ax.set_title(title)
    return ax
