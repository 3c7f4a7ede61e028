"""The summary's engines: DuckDB (default), Spark and the pandas reference."""

from __future__ import annotations

import contextlib
import os
import tempfile
import uuid
import warnings
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from loyalty_lib._checks import canonical_transactions as _check_transactions
from loyalty_lib.summary.sql import SUMMARY_COLUMNS, summary_sql

_SUMMARY_DTYPES: dict[str, str] = {
    "frequency": "int64",
    "recency": "float64",
    "T": "float64",
    "monetary": "float64",
    "first_purchase": "datetime64[ns]",
    "last_purchase": "datetime64[ns]",
    "orders": "int64",
    "total_spend": "float64",
    "refunds": "int64",
}


_DUCKDB_VIEW = "loyalty_transactions"


# DuckDB's own cap on its buffers: the hash tables of 10M rows would take ~1.7 GB, and above the
# cap they spill to a temporary folder. One capped pass on 10M rows: ~1 GB peak for the process,
# where the earlier passes over customer-id ranges re-read a CSV input once per pass (2× slower).
_DUCKDB_MEMORY_LIMIT = "800MB"


def _columns_for(names: Iterable[str], distinct: bool) -> tuple[dict[str, str] | None, bool]:
    """Mapping for summary_sql (None = canonical) and whether to count distinct order ids."""
    names = set(names)
    count_ids = distinct and "order_id" in names
    if "is_refund" in names:
        return None, count_ids
    # No refund flag: a mapping without is_refund makes the SQL treat negative amounts as refunds.
    mapping = {c: c for c in ("customer_id", "date", "amount", "order_id") if c in names}
    return mapping, count_ids


def _finish(out: pd.DataFrame) -> pd.DataFrame:
    """Exact output dtypes, whatever the engine returned."""
    # Only the columns whose dtype differs are converted (copy-on-write: the rest are not
    # copied; a 1M-customer summary is ~100 MB per full copy).
    out = out.loc[:, list(SUMMARY_COLUMNS)]
    if out["customer_id"].dtype != "str":
        out["customer_id"] = out["customer_id"].astype("str")
    for col, dtype in _SUMMARY_DTYPES.items():
        if out[col].dtype == dtype:
            continue
        if dtype.startswith("datetime"):
            out[col] = pd.to_datetime(out[col]).astype(dtype)
        else:
            out[col] = out[col].astype(dtype)
    return out.reset_index(drop=True)


# Canonical columns the DuckDB CSV reader types itself (every other column stays text, so ids
# keep their leading zeros).
_CSV_TYPES = {"date": "DATE", "amount": "DOUBLE", "is_refund": "BOOLEAN"}


def _file_sources(con: Any, path: Path) -> tuple[list[str], list[str]]:
    """DuckDB table functions reading ``path``, to try in order, and the file's column names."""
    if not path.is_file():
        raise FileNotFoundError(f"no transactions file at {path}")
    literal = "'" + str(path).replace("'", "''") + "'"
    suffix = path.suffix.lower()
    is_csv = suffix in (".csv", ".txt", ".gz")
    if suffix in (".parquet", ".pq"):
        source = f"read_parquet({literal})"
    elif is_csv:
        # All text; the query's CASTs type the columns ('True'/'False' become booleans).
        source = f"read_csv({literal}, header = true, all_varchar = true)"
    else:
        raise ValueError(f"transactions path must be .parquet or .csv, got {path.name}")
    names = [r[0] for r in con.execute(f"DESCRIBE SELECT * FROM {source}").fetchall()]
    missing = [c for c in ("customer_id", "date", "amount") if c not in names]
    if missing:
        raise ValueError(f"{path.name} lacks column(s) {missing}; expected canonical names")
    if not is_csv:
        return [source], names
    # Tried first: the reader parses ISO dates, amounts and flags as it splits the lines, ~20 %
    # less CPU than casting text on a 10M-row file. A value it cannot parse sends the query back
    # to the all-text source, whose CASTs accept it or raise the usual error.
    types = ", ".join(f"'{c}': '{t}'" for c, t in _CSV_TYPES.items() if c in names)
    typed = source[:-1] + f", dateformat = '%Y-%m-%d', types = {{{types}}})"
    return [typed, source], names


def _arrow_to_pandas(table: Any) -> pd.DataFrame:
    """A DuckDB result fetched as Arrow, as pandas: ids as ``str``, dates as datetime64."""
    import pyarrow as pa

    # DuckDB's .df() built a Python string per customer id (0.5–0.7 s for 1M customers, about
    # twice this route); from Arrow the ids arrive as one buffer, and split blocks skip pandas'
    # column consolidation.
    as_str = pd.StringDtype(na_value=np.nan)  # pandas' "str" dtype
    return table.to_pandas(
        split_blocks=True,
        self_destruct=True,
        date_as_object=False,
        types_mapper={pa.string(): as_str, pa.large_string(): as_str}.get,
    )


def _summary_duckdb(
    transactions: Any,
    obs_end: pd.Timestamp | None,
    freq: str,
    distinct: bool,
    memory_limit: str | None = None,
) -> pd.DataFrame:
    import duckdb

    # A fresh in-memory connection per call: no state shared between threads or notebooks.
    # The SQL ends with ORDER BY, so insertion order need not be kept (saves memory).
    con = duckdb.connect(
        ":memory:",
        config={
            "threads": max(1, os.cpu_count() or 1),
            "preserve_insertion_order": False,
            "memory_limit": memory_limit or _DUCKDB_MEMORY_LIMIT,
            "temp_directory": tempfile.gettempdir(),
        },
    )
    try:
        # DuckDB draws a progress bar on the terminal for queries over ~2 s; a notebook would
        # store it in its outputs.
        con.execute("SET enable_progress_bar = false")
        if isinstance(transactions, str | os.PathLike):
            sources, names = _file_sources(con, Path(transactions))
        else:
            df = _check_transactions(transactions)
            con.register(_DUCKDB_VIEW, df)
            sources, names = [], list(df.columns)
        columns, count_ids = _columns_for(names, distinct)
        sql = summary_sql(
            "duckdb",
            table=_DUCKDB_VIEW,
            columns=columns,
            observation_end=obs_end,
            freq=freq,
            order_id=count_ids,
            pretty=False,
        )
        attempts: list[str | None] = [*sources] or [None]  # None: the frame registered above
        for i, source in enumerate(attempts):
            if source is not None:
                con.execute(f"CREATE OR REPLACE VIEW {_DUCKDB_VIEW} AS SELECT * FROM {source}")
            try:
                table = con.sql(sql).to_arrow_table()
                break
            except duckdb.ConversionException:
                if i == len(attempts) - 1:
                    raise
    finally:
        con.close()
    return _finish(_arrow_to_pandas(table))


def _summary_spark(
    transactions: Any, obs_end: pd.Timestamp | None, freq: str, to_pandas: bool, distinct: bool
) -> Any:
    try:
        from pyspark.sql import DataFrame as SparkDataFrame
        from pyspark.sql import SparkSession
    except ImportError as exc:  # pragma: no cover - exercised only without the extra
        raise ImportError("engine='spark' needs pyspark: pip install -e '.[spark]'") from exc

    if isinstance(transactions, SparkDataFrame):
        sdf = transactions
        spark = sdf.sparkSession
    else:
        spark = SparkSession.getActiveSession() or SparkSession.builder.getOrCreate()
        if isinstance(transactions, str | os.PathLike):
            sdf = spark.read.parquet(str(transactions))
        elif isinstance(transactions, pd.DataFrame):
            import pyarrow as pa

            with _quiet_pyspark():
                sdf = spark.createDataFrame(
                    pa.Table.from_pandas(_check_transactions(transactions), preserve_index=False)
                )
        else:
            raise TypeError(
                "engine='spark' takes a Spark DataFrame, a pandas DataFrame or a "
                f"Parquet path, got {type(transactions).__name__}"
            )
    view = f"loyalty_transactions_{uuid.uuid4().hex}"
    sdf.createOrReplaceTempView(view)
    columns, count_ids = _columns_for(sdf.columns, distinct)
    sql = summary_sql(
        "spark",
        table=view,
        columns=columns,
        observation_end=obs_end,
        freq=freq,
        order_id=count_ids,
    )
    result = spark.sql(sql)
    if not to_pandas:
        return result
    try:
        with _quiet_pyspark():
            out = result.toPandas()
    finally:
        spark.catalog.dropTempView(view)
    return _finish(out)


@contextlib.contextmanager
def _quiet_pyspark() -> Iterator[None]:
    """Silence pyspark's own notes about pandas 3 (its version check and a deprecated ``copy=``
    keyword it passes); the conversions we use are tested against pandas 3."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="PySpark does not yet fully support pandas")
        warnings.filterwarnings("ignore", message="The copy keyword is deprecated")
        yield


def _periods(days: np.ndarray, freq: str) -> np.ndarray:
    """Integer period index of datetime64[D] values, the same arithmetic as the SQL."""
    n = days.astype("int64")  # days since 1970-01-01
    if freq == "D":
        return n
    if freq == "W":
        return (n + 3) // 7  # ISO weeks: 1970-01-01 was a Thursday, +3 moves Monday to 0 mod 7
    return days.astype("datetime64[M]").astype("int64") + 1970 * 12  # year*12 + month − 1


def _summary_pandas(
    tx: pd.DataFrame, obs_end: pd.Timestamp | None, freq: str, distinct: bool
) -> pd.DataFrame:
    """Reference implementation with pandas groupby (same definition as the SQL)."""
    day = tx["date"].to_numpy().astype("datetime64[D]")
    if obs_end is None:
        obs_end = pd.Timestamp(tx["date"].max()).normalize() if len(tx) else pd.Timestamp(0)
    end_day = np.datetime64(obs_end.date(), "D")
    keep = (day <= end_day) & tx["customer_id"].notna().to_numpy() & tx["date"].notna().to_numpy()
    refund = (
        tx["is_refund"].to_numpy(dtype=bool)
        if "is_refund" in tx.columns
        else tx["amount"].to_numpy() < 0
    )
    frame = pd.DataFrame(
        {
            "customer_id": tx["customer_id"].astype("str").to_numpy(),
            "p": _periods(day, freq),
            "day": day.astype("datetime64[ns]"),
            "amount": tx["amount"].to_numpy(dtype="float64"),
            "refund": refund,
        }
    )
    if distinct and "order_id" in tx.columns:
        frame["order_id"] = tx["order_id"].to_numpy()
    frame = frame[keep]
    purchases = frame[~frame["refund"]]

    by_period = (
        purchases.groupby(["customer_id", "p"], sort=True)
        .agg(
            spend=("amount", "sum"),
            n_rows=("amount", "size"),
            first_d=("day", "min"),
            last_d=("day", "max"),
        )
        .reset_index()
    )
    # sorted by (customer, period), so "first" is the first purchase period's spend
    cust = by_period.groupby("customer_id", sort=True).agg(
        n_periods=("p", "size"),
        first_p=("p", "min"),
        last_p=("p", "max"),
        first_purchase=("first_d", "min"),
        last_purchase=("last_d", "max"),
        purchase_rows=("n_rows", "sum"),
        gross=("spend", "sum"),
        first_spend=("spend", "first"),
    )
    refunds = frame[frame["refund"]].groupby("customer_id")["amount"].agg(["sum", "size"])
    refunds = refunds.reindex(cust.index, fill_value=0)
    if "order_id" in purchases.columns:
        orders = purchases.groupby("customer_id")["order_id"].nunique().reindex(cust.index)
    else:
        orders = cust["purchase_rows"]
    frequency = cust["n_periods"] - 1
    end_p = _periods(np.array([end_day]), freq)[0]
    out = pd.DataFrame(
        {
            "customer_id": cust.index.to_numpy(),
            "frequency": frequency.to_numpy(),
            "recency": (cust["last_p"] - cust["first_p"]).to_numpy(),
            "T": (end_p - cust["first_p"]).to_numpy(),
            "monetary": np.where(
                frequency > 0, (cust["gross"] - cust["first_spend"]) / frequency.clip(lower=1), 0.0
            ),
            "first_purchase": cust["first_purchase"].to_numpy(),
            "last_purchase": cust["last_purchase"].to_numpy(),
            "orders": orders.to_numpy(),
            "total_spend": (cust["gross"] + refunds["sum"]).to_numpy(),
            "refunds": refunds["size"].to_numpy(),
        }
    )
    return _finish(out)
