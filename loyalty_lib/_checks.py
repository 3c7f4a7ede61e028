"""The "is this a canonical table" checks, written once (summary engines, ltv, report, ...)."""

from __future__ import annotations

from typing import Any

import pandas as pd

__all__ = ["canonical_transactions", "require_columns"]


def require_columns(df: Any, columns: tuple[str, ...] | list[str], what: str) -> pd.DataFrame:
    """``df`` itself if it is a DataFrame with every name in ``columns``, else TypeError/ValueError.

    ``what`` names the table in the message ("transactions", "summary", ...).
    """
    if not isinstance(df, pd.DataFrame):
        raise TypeError(f"{what} must be a pandas DataFrame, got {type(df).__name__}")
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise ValueError(f"{what} lacks column(s) {missing}; present: {list(df.columns)}")
    return df


def canonical_transactions(df: Any) -> pd.DataFrame:
    """``df`` itself if it is a canonical transactions frame (README), else TypeError/ValueError.

    Required: customer_id, date (datetime64, tz-naive), amount (numeric, no missing values,
    currency units); is_refund, when present, bool without missing values.
    """
    if not isinstance(df, pd.DataFrame):
        raise TypeError(f"transactions must be a pandas DataFrame, got {type(df).__name__}")
    missing = [c for c in ("customer_id", "date", "amount") if c not in df.columns]
    if missing:
        raise ValueError(
            f"transactions lacks column(s) {missing}; expected the canonical "
            "customer_id, date, amount, is_refund (see loyalty_lib/README.md)"
        )
    if not pd.api.types.is_datetime64_any_dtype(df["date"]):
        raise TypeError(
            f"transactions['date'] must be datetime64 (parse the dates first), got {df['date'].dtype}"
        )
    if isinstance(df["date"].dtype, pd.DatetimeTZDtype):
        raise TypeError(
            "transactions['date'] must be timezone-naive local dates, got a tz-aware column"
        )
    if not pd.api.types.is_numeric_dtype(df["amount"]) or pd.api.types.is_bool_dtype(df["amount"]):
        raise TypeError(
            f"transactions['amount'] must be numeric (currency units), got {df['amount'].dtype}"
        )
    if df["amount"].isna().any():
        raise ValueError(
            f"transactions['amount'] has {int(df['amount'].isna().sum())} missing value(s)"
        )
    if "is_refund" in df.columns and not pd.api.types.is_bool_dtype(df["is_refund"]):
        raise TypeError(f"transactions['is_refund'] must be bool, got {df['is_refund'].dtype}")
    if "is_refund" in df.columns and df["is_refund"].isna().any():
        raise ValueError("transactions['is_refund'] has missing values")
    return df
