"""The per-customer summary: its definition (``customer_summary``) and the input checks."""

from __future__ import annotations

from typing import Any

import pandas as pd

from loyalty_lib._checks import canonical_transactions as _check_transactions
from loyalty_lib.summary.engines import _summary_duckdb, _summary_pandas, _summary_spark
from loyalty_lib.summary.sql import FREQS

ENGINES = ("duckdb", "spark", "pandas")


ORDER_COUNTS = ("distinct", "rows")


def customer_summary(
    transactions: Any,
    observation_end: str | pd.Timestamp | None = None,
    freq: str = "D",
    *,
    engine: str = "duckdb",
    to_pandas: bool = True,
    orders: str = "distinct",
    memory_limit: str | None = None,
) -> Any:
    """One row per customer: ``frequency``, ``recency``, ``T``, ``monetary`` and bookkeeping.

    Definition (BG/NBD literature; lifetimes' ``summary_data_from_transaction_data``):

    * Rows dated after ``observation_end`` (inclusive last day; default: the latest date in the
      data, refunds included) are dropped, as are rows without customer or date.
    * A *purchase* is a row with ``is_refund`` false (when the input has no ``is_refund``, a
      negative amount marks a refund). Periods: ``freq="D"`` days, ``"W"`` ISO weeks
      (Monday–Sunday), ``"M"`` calendar months; a *purchase period* is a period with a purchase.
    * ``frequency`` = purchase periods − 1 (repeat periods); ``recency`` = last − first purchase
      period, ``T`` = observation-end period − first purchase period (whole periods, float);
      ``monetary`` = mean spend of the repeat periods (all but the first), 0 when frequency is 0.
    * Refunds are not purchases: they add no period and do not enter ``monetary`` (a return in a
      later period would otherwise change, even turn negative, the mean of repeat purchases).
      They reduce ``total_spend`` (net, currency) and are counted in ``refunds``.
    * ``first_purchase`` / ``last_purchase`` dates; ``orders`` = distinct ``order_id`` among the
      purchase rows when the column exists (an order may span one row per item), else purchase
      rows. ``orders="rows"`` counts purchase rows even when ``order_id`` exists: the same number
      when each row is one order, as in a table loaded by :mod:`loyalty_lib.data` (it rejects a
      repeated order id), and it skips the dearest aggregation (~40 % of DuckDB's time on 10M rows).
    * ``memory_limit`` (DuckDB engine): cap on DuckDB's working memory, e.g. ``"500MB"``; above
      it DuckDB spills to a temporary folder. Default ``"800MB"``: 10M rows in ~1 GB for the
      whole process; a lower cap costs some speed (10M rows: ~20 % slower at 500MB).
    * A customer whose first purchase is after ``observation_end`` does not appear.

    Loyalty measures of [S1] read off this table: recency as time since last purchase
    (:func:`inactive_periods` = T − recency), frequency (``frequency``, ``orders``), length of
    the relationship (:func:`tenure` = T), spend (``monetary``, ``total_spend``). What customers
    say, reviews and share of wallet come from surveys, not transactions
    (:func:`share_of_wallet_band`).

    Engines: ``"duckdb"`` runs :func:`~loyalty_lib.summary_sql.summary_sql` on a pandas frame or
    on a Parquet/CSV path with canonical column names (DuckDB scans the file itself);
    ``"spark"`` runs the Spark SQL form on a Spark DataFrame, a pandas frame or a Parquet path and
    returns a Spark DataFrame, or pandas when ``to_pandas``; ``"pandas"`` is the groupby reference.
    Pandas results are sorted by ``customer_id`` with dtypes int64 (frequency, orders, refunds),
    float64 (recency, T, monetary, total_spend) and datetime64[ns] (dates).
    """
    if freq not in FREQS:
        raise ValueError(f"freq must be one of 'D' (days), 'W' (weeks), 'M' (months); got {freq!r}")
    if engine not in ENGINES:
        raise ValueError(f"engine must be one of {', '.join(ENGINES)}; got {engine!r}")
    if orders not in ORDER_COUNTS:
        raise ValueError(
            f"orders must be 'distinct' (distinct order ids) or 'rows' (purchase rows); got {orders!r}"
        )
    obs_end = _observation_end(observation_end)
    distinct = orders == "distinct"
    if engine == "spark":
        return _summary_spark(transactions, obs_end, freq, to_pandas, distinct)
    if engine == "pandas":
        return _summary_pandas(_check_transactions(transactions), obs_end, freq, distinct)
    return _summary_duckdb(transactions, obs_end, freq, distinct, memory_limit)


def _observation_end(value: Any) -> pd.Timestamp | None:
    if value is None:
        return None
    try:
        stamp = pd.Timestamp(value)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"observation_end must be a date or 'YYYY-MM-DD', got {value!r}") from exc
    if pd.isna(stamp):
        raise ValueError("observation_end must be a date, got a missing value")
    return stamp.tz_localize(None).normalize() if stamp.tzinfo else stamp.normalize()
