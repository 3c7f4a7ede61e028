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
    ax.set_xlabel("Score (0 = would not recommend, 10 = would definitely recommend)")
    ax.set_ylabel("Respondents")
    ax.set_title(f"Score distribution: NPS {result.score:+.1f} (n={result.n})")
    ax.legend(
        handles=[
            Patch(color=GROUP_COLORS[g], label=f"{g}s ({lo}–{hi})")
            for g, lo, hi in (("detractor", 0, 6), ("passive", 7, 8), ("promoter", 9, 10))
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
    ax.fill_between(x, trend["ci_low"], trend["ci_high"], alpha=0.25, label="95% CI")
    ax.plot(x, trend["score"], marker="o", label="NPS")
    if benchmark is not None:
        if isinstance(benchmark, str):
            if benchmark not in _nps.INDUSTRY_BENCHMARKS:
                raise ValueError(
                    f"unknown industry {benchmark!r}; known: {', '.join(_nps.INDUSTRY_BENCHMARKS)}"
                )
            info = _nps.INDUSTRY_BENCHMARKS[benchmark]
            value, label = info["nps"], f"{info['industry']} benchmark ({info['nps']:.0f})"
        else:
            value, label = float(benchmark), f"benchmark ({float(benchmark):.0f})"
        ax.axhline(value, linestyle="--", color="black", label=label)
    ax.axhline(0, color="grey", linewidth=0.8)
    # Headroom above the highest line or band so the legend does not cover the data.
    top = max(float(trend["ci_high"].max()), float(value) if benchmark is not None else -100.0)
    bottom = min(float(trend["ci_low"].min()), 0.0)
    ax.set_ylim(bottom - 5, top + 0.35 * (top - bottom) + 5)
    ax.set_xticks(x)
    ax.set_xticklabels(trend["wave"].astype(str), rotation=45, ha="right")
    ax.set_xlabel("Wave")
    ax.set_ylabel("NPS (points, −100..100)")
    ax.set_title("NPS by wave")
    ax.legend(loc="best")
    return ax


def theme_bars(shares: pd.DataFrame, *, ax: Axes | None = None) -> Axes:
    """Horizontal bars: share of comments (%) per primary theme, from ``theme_shares``."""
    require_columns(shares, {"theme", "share_primary"}, "shares")
    ax = sorted_hbars(
        shares, "theme", "share_primary", scale=100, color="#1f77b4",
        xlabel="Share of comments (%)", ylabel="Theme", ax=ax,
    )  # fmt: skip
    n = shares.attrs.get("n_comments")
    groups = shares.attrs.get("groups")
    title = "Comment themes"
    if groups:
        title += f" of {', '.join(f'{g}s' for g in groups)}"
    if n is not None:
        title += f" (n={n} comments)"
    ax.set_title(title)
    return ax
