"""Segmentation and churn plots: RFM grid, segment sizes, churn-reason shares, exit-survey ratings.

Each helper draws the output of :mod:`loyalty_lib.segments` on one Axes (a new figure when None)
and returns it.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes

from loyalty_lib.i18n import _, fmt_count, fmt_number, fmt_percent

__all__ = ["aspect_ratings", "churn_reason_bars", "rfm_heatmap", "segment_sizes"]


def _axes(ax: Axes | None) -> Axes:
    if ax is None:
        _fig, ax = plt.subplots()
    return ax


def _frame(df: object, cols: list[str], what: str) -> pd.DataFrame:
    if not isinstance(df, pd.DataFrame) or df.empty:
        raise ValueError(f"{what} must be a non-empty DataFrame")
    missing = [c for c in cols if c not in df.columns]
    if missing:
        raise ValueError(f"{what} lacks column(s) {missing}")
    return df


def rfm_heatmap(
    rfm_df: pd.DataFrame, *, ax: Axes | None = None, value: str = "count", y: str = "F"
) -> Axes:
    """R × F grid (or R × FM with ``y="FM"``) of :func:`~loyalty_lib.segments.rfm_scores`.

    ``value="count"``: customers per cell; ``value="monetary"``: mean of the M column (RUB).
    """
    if value not in ("count", "monetary"):
        raise ValueError(f"value must be 'count' or 'monetary', got {value!r}")
    rfm_df = _frame(rfm_df, ["R", y] + (["monetary"] if value == "monetary" else []), "rfm_df")
    ax = _axes(ax)
    bins = int(max(rfm_df["R"].max(), rfm_df[y].max()))
    levels = range(1, bins + 1)
    if value == "count":
        grid = pd.crosstab(rfm_df[y], rfm_df["R"]).reindex(
            index=levels, columns=levels, fill_value=0
        )
        label = _("customers")
    else:
        grid = rfm_df.pivot_table(index=y, columns="R", values="monetary", aggfunc="mean").reindex(
            index=levels, columns=levels
        )
        label = _("mean spend, RUB")
    values = grid.to_numpy(dtype=float)
    image = ax.imshow(
        np.ma.masked_invalid(values),
        origin="lower",
        cmap="YlGnBu",
        aspect="auto",
        extent=(0.5, bins + 0.5, 0.5, bins + 0.5),
    )
    finite = values[np.isfinite(values)]
    middle = (finite.min() + finite.max()) / 2 if finite.size else 0.0
    for (i, j), v in np.ndenumerate(values):
        if np.isfinite(v):
            ax.text(
                j + 1,
                i + 1,
                fmt_number(v, decimals=0),
                ha="center",
                va="center",
                fontsize=8,
                color="white" if v > middle else "black",
            )
    ax.figure.colorbar(image, ax=ax, label=label)
    ax.set_xticks(list(levels))
    ax.set_yticks(list(levels))
    ax.set_xlabel(_("R score (5 = bought most recently)"))
    ax.set_ylabel(_("{score} score (5 = highest)").format(score=y))
    ax.set_title(_("RFM grid: {what} per cell").format(what=label))
    return ax


def segment_sizes(segments: pd.Series, *, ax: Axes | None = None) -> Axes:
    """Horizontal bars: customers per segment label (count and share of all customers)."""
    if not isinstance(segments, pd.Series) or segments.empty:
        raise ValueError("segments must be a non-empty Series of labels")
    ax = _axes(ax)
    counts = segments.value_counts(dropna=False).sort_values()
    total = counts.sum()
    labels = [str(k) for k in counts.index]
    ax.barh(labels, counts.to_numpy(), color="tab:blue")
    for y, n in enumerate(counts.to_numpy()):
        share = _("{value}%").format(value=fmt_number(float(f"{n / total:.0%}"[:-1]), decimals=0))
        ax.text(n, y, f" {fmt_count(n)} ({share})", va="center", fontsize=8)
    ax.set_xlabel(_("customers"))
    ax.set_xlim(0, counts.max() * 1.25)
    ax.set_title(_("Segment sizes ({n} customers)").format(n=fmt_count(total)))
    return ax


def churn_reason_bars(reasons_df: pd.DataFrame, *, ax: Axes | None = None) -> Axes:
    """Share of each churn reason from :func:`~loyalty_lib.segments.churn_reasons`; flagged in red."""
    reasons_df = _frame(reasons_df, ["reason", "share", "count"], "reasons_df")
    ax = _axes(ax)
    df = reasons_df.iloc[::-1]
    flagged = df["flagged"] if "flagged" in df.columns else pd.Series(False, index=df.index)
    colors = ["tab:red" if f else "tab:gray" for f in flagged]
    ax.barh(df["reason"].astype(str), df["share"] * 100, color=colors)
    for y, (share, n) in enumerate(zip(df["share"], df["count"], strict=True)):
        ax.text(
            share * 100,
            y,
            f" {fmt_percent(share, decimals=0)} (n={fmt_count(n)})",
            va="center",
            fontsize=8,
        )
    ax.set_xlabel(_("share of lost customers, %"))
    ax.set_xlim(0, max(df["share"].max() * 100 * 1.3, 1))
    ax.set_title(
        _("Churn reasons ({n} lost customers); red = flagged").format(
            n=fmt_count(int(df["count"].sum()))
        )
    )
    return ax


def aspect_ratings(
    aspects_df: pd.DataFrame, *, ax: Axes | None = None, threshold: float = 3
) -> Axes:
    """Mean exit-survey rating per aspect with its CI (:func:`~loyalty_lib.segments.exit_aspects`)."""
    aspects_df = _frame(aspects_df, ["aspect", "mean"], "aspects_df")
    ax = _axes(ax)
    df = aspects_df.iloc[::-1]
    means = df["mean"].to_numpy(dtype=float)
    colors = ["tab:red" if m < threshold else "tab:blue" for m in means]
    ypos = np.arange(len(df))
    ax.scatter(means, ypos, color=colors, zorder=3)
    if {"ci_low", "ci_high"} <= set(df.columns):
        err = np.vstack(
            [
                means - df["ci_low"].to_numpy(dtype=float),
                df["ci_high"].to_numpy(dtype=float) - means,
            ]
        )
        ax.errorbar(means, ypos, xerr=np.nan_to_num(err), fmt="none", ecolor="gray", capsize=3)
    ax.axvline(
        threshold,
        color="tab:red",
        linestyle="--",
        linewidth=1,
        label=_("signal: mean < {threshold}").format(threshold=fmt_number(threshold)),
    )
    ax.set_yticks(ypos, df["aspect"].astype(str))
    ax.set_xlim(1, 5)
    ax.set_xlabel(_("mean rating, 1–5 points (95% CI)"))
    ax.set_title(_("Exit survey: ratings by aspect"))
    ax.legend(loc="lower right", fontsize=8)
    return ax
