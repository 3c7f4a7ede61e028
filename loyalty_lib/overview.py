"""A first look at a client's data: what each table holds (the data card of lesson 00).

The monthly revenue / active-customer series comes from :func:`loyalty_lib.evaluation.kpis`
(one definition of "revenue" and "participants" for the whole course); this module only
describes the tables.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

__all__ = ["data_card"]

_DATE_COLUMNS = ("date", "start_date", "first_purchase")


def data_card(tables: Mapping[str, Any]) -> pd.DataFrame:
    """One row per table: ``table``, ``rows``, ``customers`` (distinct non-missing
    ``customer_id``), ``first_date`` / ``last_date`` (of its date column, midnight timestamps; NaT
    when it has none) and ``columns`` (comma-separated names).

    ``tables`` maps a name to a DataFrame or to a loader result (its ``accepted`` table is used).
    """
    if not isinstance(tables, Mapping) or not tables:
        raise ValueError("tables must be a non-empty mapping of name → DataFrame or LoadResult")
    rows = []
    for name, table in tables.items():
        frame = getattr(table, "accepted", table)
        if not isinstance(frame, pd.DataFrame):
            raise TypeError(
                f"{name}: expected a DataFrame or a LoadResult, got {type(table).__name__}"
            )
        date_col = next((c for c in _DATE_COLUMNS if c in frame.columns), None)
        dates = pd.to_datetime(frame[date_col]) if date_col else pd.Series(dtype="datetime64[ns]")
        rows.append(
            {
                "table": str(name),
                "rows": len(frame),
                "customers": int(frame["customer_id"].nunique()) if "customer_id" in frame else 0,
                "first_date": dates.min(),
                "last_date": dates.max(),
                "columns": ", ".join(map(str, frame.columns)),
            }
        )
    return pd.DataFrame(rows)
