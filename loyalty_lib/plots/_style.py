"""What the plot modules share: the Axes to draw on, the input check, sorted horizontal bars."""

from __future__ import annotations

from collections.abc import Iterable

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.axes import Axes


def axes(ax: Axes | None) -> Axes:
    """``ax``, or the Axes of a new figure when None (one figure per notebook cell)."""
    if ax is None:
        _, ax = plt.subplots()
    return ax


def require_columns(table: pd.DataFrame, columns: Iterable[str], what: str) -> None:
    """ValueError naming the missing columns, e.g. "shares table is missing column(s) [...]"."""
    missing = set(columns) - set(table.columns)
    if missing:
        raise ValueError(f"{what} table is missing column(s) {sorted(missing)}")


def sorted_hbars(
    table: pd.DataFrame,
    label: str,
    value: str,
    *,
    scale: float = 1.0,
    color: str,
    xlabel: str,
    ylabel: str,
    ax: Axes | None = None,
) -> Axes:
    """Horizontal bars of ``scale × table[value]`` per ``table[label]``, largest at the top."""
    ordered = table.sort_values(value)
    ax = axes(ax)
    widths = ordered[value] if scale == 1 else scale * ordered[value]
    ax.barh(ordered[label].astype(str), widths, color=color)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    return ax
