"""Per-customer summary, RFM, the seeds' segments and churn reasons (lesson 03).

The summary has one definition, written as SQL in :mod:`loyalty_lib.summary_sql` and run by
DuckDB (default) or Spark; a plain pandas version of the same definition is kept as the reference
the tests and benchmarks compare against. Everything after the summary (RFM, rule segments, churn
flags) works on the summary table, one row per customer.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import uuid
import warnings
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from loyalty_lib._result import Result
from loyalty_lib.summary_sql import FREQS, SUMMARY_COLUMNS, summary_sql

__all__ = [
    "CHURN_REASONS",
    "RFM_SEGMENTS",
    "SEGMENT_ACTIONS",
    "RuleSegments",
    "actions_for",
    "churn_reasons",
    "churn_risk",
    "customer_summary",
    "exit_aspects",
    "inactive_periods",
    "rfm_scores",
    "rfm_segment",
    "rule_coverage",
    "rule_segments",
    "share_of_wallet_band",
    "tenure",
    "vip_regular_difficult",
]

ENGINES = ("duckdb", "spark", "pandas")
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
ORDER_COUNTS = ("distinct", "rows")
# DuckDB's own cap on its buffers: the hash tables of 10M rows would take ~1.7 GB, and above the
# cap they spill to a temporary folder. One capped pass on 10M rows: ~1 GB peak for the process,
# where the earlier passes over customer-id ranges re-read a CSV input once per pass (2× slower).
_DUCKDB_MEMORY_LIMIT = "800MB"


# --------------------------------------------------------------------------------------------
# The per-customer summary
# --------------------------------------------------------------------------------------------


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


def _check_transactions(df: Any) -> pd.DataFrame:
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


def tenure(summary: pd.DataFrame) -> pd.Series:
    """Length of the relationship [S1]: periods from first purchase to observation end (= ``T``)."""
    _require(summary, ["T"], "summary")
    return summary["T"].rename("tenure")


def inactive_periods(summary: pd.DataFrame) -> pd.Series:
    """Periods since the last purchase, ``T − recency`` (days for a ``freq="D"`` summary)."""
    _require(summary, ["T", "recency"], "summary")
    return (summary["T"] - summary["recency"]).rename("inactive")


def _require(df: Any, cols: Sequence[str], what: str) -> None:
    if not isinstance(df, pd.DataFrame):
        raise TypeError(f"{what} must be a pandas DataFrame, got {type(df).__name__}")
    missing = [c for c in cols if c not in df.columns]
    if missing:
        raise ValueError(f"{what} lacks column(s) {missing}")
    if len(df) == 0:
        raise ValueError(f"{what} is empty")


# --------------------------------------------------------------------------------------------
# RFM
# --------------------------------------------------------------------------------------------


def _balanced_scores(
    values: pd.Series, ids: pd.Series, bins: int, higher_is_better: bool
) -> np.ndarray:
    key = values.to_numpy(dtype="float64")
    if not higher_is_better:
        key = -key
    # rank with method="first" after sorting by (value, customer_id): ties are broken by id so the
    # bins have equal sizes (± 1) and the same data always gives the same scores.
    order = np.lexsort((ids.astype("str").to_numpy(), key))
    rank = np.empty(len(key), dtype="int64")
    rank[order] = np.arange(len(key))
    return rank * bins // len(key) + 1


def rfm_scores(
    summary: pd.DataFrame, *, bins: int = 5, monetary: str | None = None
) -> pd.DataFrame:
    """R, F, M scores 1..``bins`` (``bins`` = 5: quintiles), higher = better.

    R ranks the periods since the last purchase (``T − recency``; fewer is better), F ranks
    ``frequency``, M ranks ``monetary`` (default: ``total_spend`` when present, else
    ``monetary`` — classic RFM's "how much they spend"). Each score is ``rank * bins // n + 1`` with
    ranks 0..n−1 taken after sorting by the value, then by ``customer_id`` (pandas'
    ``rank(method="first")`` on that order), so every score holds n/bins customers (± 1) even when
    many values tie (most customers have frequency 0), at the price of splitting equal values.
    ``FM`` = (F + M) / 2 rounded half up, the axis of :data:`RFM_SEGMENTS`.
    """
    if not isinstance(bins, int | np.integer) or isinstance(bins, bool) or bins < 2:
        raise ValueError(f"bins must be an integer ≥ 2, got {bins!r}")
    m_col = monetary or ("total_spend" if "total_spend" in summary.columns else "monetary")
    _require(summary, ["customer_id", "frequency", "recency", "T", m_col], "summary")
    for col in ("frequency", "recency", "T", m_col):
        if summary[col].isna().any():
            raise ValueError(f"summary[{col!r}] has missing values")
    ids = summary["customer_id"]
    since = summary["T"] - summary["recency"]
    out = pd.DataFrame(
        {
            "customer_id": ids,
            "inactive": since,
            "frequency": summary["frequency"],
            "monetary": summary[m_col],
            "R": _balanced_scores(since, ids, bins, higher_is_better=False),
            "F": _balanced_scores(summary["frequency"], ids, bins, higher_is_better=True),
            "M": _balanced_scores(summary[m_col], ids, bins, higher_is_better=True),
        },
        index=summary.index,
    )
    out["FM"] = (out["F"] + out["M"] + 1) // 2
    out["RFM"] = out["R"].astype(str) + out["F"].astype(str) + out["M"].astype(str)
    return out


# Segment map on the R × FM grid (5 × 5), evaluated in order; the rules are data so a lesson or a
# client can edit them, and `rule_coverage` checks that every cell is covered exactly once.
#   R\FM   1               2                   3                   4          5
#   5      New             Potential loyalist  Potential loyalist  Champions  Champions
#   4      Promising       Potential loyalist  Potential loyalist  Loyal      Loyal
#   3      About to sleep  About to sleep      Needs attention     Loyal      Loyal
#   2      Hibernating     Hibernating         At risk             At risk    Can't lose them
#   1      Lost            Lost                At risk             At risk    Can't lose them
RFM_SEGMENTS = pd.DataFrame(
    [
        ("Champions", 5, 5, 4, 5, "bought recently, buy often and spend the most"),
        ("Loyal", 3, 4, 4, 5, "buy often and spend a lot; responsive to promotions"),
        ("Potential loyalist", 4, 5, 2, 3, "recent customers with average frequency and spend"),
        ("New", 5, 5, 1, 1, "bought most recently, but not often"),
        ("Promising", 4, 4, 1, 1, "recent shoppers who have not spent much yet"),
        ("Needs attention", 3, 3, 3, 3, "above-average recency, frequency and spend"),
        ("About to sleep", 3, 3, 1, 2, "below average; will be lost without reactivation"),
        ("At risk", 1, 2, 3, 4, "spent a lot and often, but long ago"),
        ("Can't lose them", 1, 2, 5, 5, "were among the best, have not come back for long"),
        ("Hibernating", 2, 2, 1, 2, "low spend, low frequency, last purchase long ago"),
        ("Lost", 1, 1, 1, 2, "lowest recency, frequency and spend"),
    ],
    columns=["segment", "r_min", "r_max", "fm_min", "fm_max", "description"],
)


def _rules_frame(rules: pd.DataFrame | Sequence[Sequence[Any]]) -> pd.DataFrame:
    cols = ["segment", "r_min", "r_max", "fm_min", "fm_max"]
    frame = (
        rules
        if isinstance(rules, pd.DataFrame)
        else pd.DataFrame([tuple(r)[:5] for r in rules], columns=cols)
    )
    missing = [c for c in cols if c not in frame.columns]
    if missing:
        raise ValueError(f"rules lack column(s) {missing}; expected {cols}")
    return frame


def rule_coverage(
    rules: pd.DataFrame | Sequence[Sequence[Any]] = RFM_SEGMENTS, *, bins: int = 5
) -> pd.DataFrame:
    """How many rules cover each (R, FM) cell: a bins × bins table (rows R, columns FM).

    A valid segment map has 1 everywhere: no customer unassigned, none matched twice.
    """
    frame = _rules_frame(rules)
    grid = pd.DataFrame(
        0, index=pd.RangeIndex(1, bins + 1, name="R"), columns=pd.RangeIndex(1, bins + 1, name="FM")
    )
    for rule in frame.itertuples(index=False):
        grid.loc[rule.r_min : rule.r_max, rule.fm_min : rule.fm_max] += 1
    return grid


def rfm_segment(
    rfm_df: pd.DataFrame, rules: pd.DataFrame | Sequence[Sequence[Any]] = RFM_SEGMENTS
) -> pd.Series:
    """Named segment per customer from the R and FM scores; the first matching rule wins.

    ``rules``: rows (segment, r_min, r_max, fm_min, fm_max), bounds inclusive. Customers matched
    by no rule get a missing value.
    """
    _require(rfm_df, ["R"], "rfm_df")
    if "FM" in rfm_df.columns:
        fm = rfm_df["FM"]
    else:
        _require(rfm_df, ["F", "M"], "rfm_df")
        fm = (rfm_df["F"] + rfm_df["M"] + 1) // 2
    frame = _rules_frame(rules)
    r = rfm_df["R"].to_numpy()
    fm = fm.to_numpy()
    conditions = [
        (r >= x.r_min) & (r <= x.r_max) & (fm >= x.fm_min) & (fm <= x.fm_max)
        for x in frame.itertuples(index=False)
    ]
    labels = np.select(conditions, frame["segment"].astype(object).to_numpy(), default=None)
    return pd.Series(labels, index=rfm_df.index, name="segment", dtype="str")


# --------------------------------------------------------------------------------------------
# The seeds' segments
# --------------------------------------------------------------------------------------------


def _per_customer(values: pd.Series | None, summary: pd.DataFrame, name: str) -> np.ndarray:
    """Align a per-customer Series (indexed by customer_id) with the summary; missing → 0."""
    if values is None:
        raise ValueError(f"{name} is required")
    if not isinstance(values, pd.Series):
        raise TypeError(f"{name} must be a pandas Series indexed by customer_id")
    aligned = values.reindex(summary["customer_id"].to_numpy())
    return aligned.fillna(0).to_numpy(dtype="float64")


def vip_regular_difficult(
    summary: pd.DataFrame,
    *,
    vip_quantile: float = 0.9,
    vip_orders: float | None = None,
    vip_spend: float | None = None,
    problems: pd.Series | None = None,
    difficult_problems: int = 2,
    new_within: float = 90,
) -> pd.Series:
    """Three segments of [S3] (plus new / one-off buyers), one label per customer.

    * ``difficult`` — many problems (``problems`` ≥ ``difficult_problems``; default problems:
      the summary's ``refunds``, or pass e.g. complaints or negative reviews per customer as a
      Series indexed by customer_id) with decent revenue (``total_spend`` ≥ the median). Checked
      first: a big customer with many problems needs the individual approach.
    * ``VIP`` — buys often *and* a lot: ``orders`` ≥ ``vip_orders`` and ``total_spend`` ≥
      ``vip_spend`` (defaults: the ``vip_quantile`` quantiles of each).
    * ``regular`` — buys periodically: at least one repeat period (``frequency`` ≥ 1).
    * ``new`` — a single purchase period less than ``new_within`` periods ago (``T``; days for a
      daily summary); ``one-off`` — a single purchase period longer ago.

    Customers near a threshold move between segments as thresholds change; the seed suggests
    choosing the criteria that matter (number of purchases, amount spent in a period).
    """
    _require(summary, ["customer_id", "frequency", "T", "orders", "total_spend"], "summary")
    if not 0 < vip_quantile < 1:
        raise ValueError(f"vip_quantile must be in (0, 1), got {vip_quantile}")
    if problems is None:
        if "refunds" not in summary.columns:
            raise ValueError("pass problems= (per customer) or a summary with a 'refunds' column")
        n_problems = summary["refunds"].to_numpy(dtype="float64")
    else:
        n_problems = _per_customer(problems, summary, "problems")
    orders = summary["orders"].to_numpy(dtype="float64")
    spend = summary["total_spend"].to_numpy(dtype="float64")
    vip_orders = np.quantile(orders, vip_quantile) if vip_orders is None else vip_orders
    vip_spend = np.quantile(spend, vip_quantile) if vip_spend is None else vip_spend
    difficult = (n_problems >= difficult_problems) & (spend >= np.median(spend))
    vip = (orders >= vip_orders) & (spend >= vip_spend)
    regular = summary["frequency"].to_numpy() >= 1
    new = summary["T"].to_numpy() < new_within
    labels = np.select(
        [difficult, vip, regular, new], ["difficult", "VIP", "regular", "new"], default="one-off"
    )
    return pd.Series(labels, index=summary.index, name="segment", dtype="str")


def churn_risk(
    summary: pd.DataFrame,
    *,
    inactive_days: float = 90,
    reviews: pd.DataFrame | None = None,
    negative_reviews_gt: int | None = None,
) -> pd.Series:
    """Rule flag "potentially churning" of [S4]: no purchase for more than ``inactive_days``
    (``T − recency`` of a daily summary) or more than ``negative_reviews_gt`` negative reviews
    (``reviews``: DataFrame indexed by customer_id with a ``negative`` count column)."""
    _require(summary, ["customer_id", "T", "recency"], "summary")
    flag = inactive_periods(summary).to_numpy() > inactive_days
    if negative_reviews_gt is not None:
        if reviews is None or "negative" not in reviews.columns:
            raise ValueError("negative_reviews_gt needs reviews= with a 'negative' column")
        flag |= (
            _per_customer(reviews["negative"], summary, "reviews['negative']") > negative_reviews_gt
        )
    return pd.Series(flag, index=summary.index, name="churn_risk")


@dataclass(frozen=True)
class RuleSegments(Result):
    """Rule-based CRM segments of [S4] and the share of customers they categorise."""

    labels: pd.Series  # "VIP", "potentially churning" or "uncategorised" per customer
    n: int
    vip: int
    churning: int
    share_categorised: float  # 0..1
    target: float  # 0..1, the seed's 80 %

    @property
    def meets_target(self) -> bool:
        return self.share_categorised >= self.target

    def __str__(self) -> str:
        verdict = "meets" if self.meets_target else "misses"
        return (
            f"{self.share_categorised:.1%} of {self.n:,} customers categorised "
            f"(VIP {self.vip:,}, potentially churning {self.churning:,}); "
            f"{verdict} the {self.target:.0%} target"
        )


def rule_segments(
    summary: pd.DataFrame,
    *,
    avg_check_gt: float,
    purchases_gt: float,
    inactive_days_gt: float,
    positive_reviews_gt: int | None = None,
    negative_reviews_gt: int | None = None,
    reviews: pd.DataFrame | None = None,
    target: float = 0.8,
) -> RuleSegments:
    """CRM rules of [S4] on a daily summary.

    ``VIP``: average check (``total_spend / orders``, currency) > ``avg_check_gt`` and ``orders`` >
    ``purchases_gt`` (and positive reviews > ``positive_reviews_gt`` when given).
    ``potentially churning``: no purchase for more than ``inactive_days_gt`` days, or negative
    reviews > ``negative_reviews_gt``; it takes precedence over VIP (an inactive VIP is at risk).
    Everyone else is ``uncategorised``; the seed's target is ≥ 80 % categorised within a month.
    ``reviews``: DataFrame indexed by customer_id with ``positive`` / ``negative`` counts.
    """
    _require(summary, ["customer_id", "orders", "total_spend", "T", "recency"], "summary")
    if not 0 < target <= 1:
        raise ValueError(f"target must be a share in (0, 1], got {target}")
    orders = summary["orders"].to_numpy(dtype="float64")
    avg_check = np.divide(
        summary["total_spend"].to_numpy(dtype="float64"),
        orders,
        out=np.zeros_like(orders),
        where=orders > 0,
    )
    vip = (avg_check > avg_check_gt) & (orders > purchases_gt)
    if positive_reviews_gt is not None:
        if reviews is None or "positive" not in reviews.columns:
            raise ValueError("positive_reviews_gt needs reviews= with a 'positive' column")
        vip &= (
            _per_customer(reviews["positive"], summary, "reviews['positive']") > positive_reviews_gt
        )
    churning = churn_risk(
        summary,
        inactive_days=inactive_days_gt,
        reviews=reviews,
        negative_reviews_gt=negative_reviews_gt,
    ).to_numpy()
    labels = np.select([churning, vip], ["potentially churning", "VIP"], default="uncategorised")
    n = len(summary)
    n_churn, n_vip = int(churning.sum()), int((vip & ~churning).sum())
    return RuleSegments(
        labels=pd.Series(labels, index=summary.index, name="segment", dtype="str"),
        n=n,
        vip=n_vip,
        churning=n_churn,
        share_categorised=(n_churn + n_vip) / n,
        target=target,
    )


def share_of_wallet_band(share: float | Iterable[float]) -> str | pd.Series:
    """Band of the company's share of a customer's category spend [S2] (share in 0..1).

    ≥ 0.70 ``loyal`` (the seed: loyal while the share is 70–80 %); < 0.50 ``easily switches`` (accepts
    a competitor's offer easily); in between ``at risk`` (the seed is silent there; we read it as
    the zone where loyalty is eroding). Missing shares stay missing.
    """
    scalar = np.ndim(share) == 0
    values = np.atleast_1d(np.asarray(share, dtype="float64"))
    finite = values[~np.isnan(values)]
    if ((finite < 0) | (finite > 1)).any():
        raise ValueError("share of wallet must be in 0..1 (a share, not a percentage)")
    labels = np.select(
        [values >= 0.7, values >= 0.5, values < 0.5],
        ["loyal", "at risk", "easily switches"],
        default=None,
    )
    if scalar:
        return labels[0]
    index = share.index if isinstance(share, pd.Series) else None
    return pd.Series(labels, index=index, name="share_of_wallet_band", dtype="str")


# Actions per segment [S5] (and the individual approach for "difficult" customers of [S3]).
SEGMENT_ACTIONS: dict[str, str] = {
    "VIP": "exclusive discounts on new products; inform first, individual programs, birthday greetings",
    "potentially churning": "surveys and individual consultations",
    "new": "welcome discount",
    "regular": "early access to new products and sales",
    "difficult": "individual approach: a named manager who resolves their problems",
}


def actions_for(
    segments: pd.Series | Iterable[str],
    actions: Mapping[str, str] = SEGMENT_ACTIONS,
    *,
    default: str | None = None,
) -> pd.Series:
    """The recommended action for each segment label (``default`` where none is defined)."""
    series = segments if isinstance(segments, pd.Series) else pd.Series(list(segments))
    out = series.map(dict(actions)).astype("object")
    out = out.where(out.notna(), default)
    return out.astype("str").rename("action") if default is not None else out.rename("action")


# --------------------------------------------------------------------------------------------
# Churn reasons [S6]
# --------------------------------------------------------------------------------------------

CHURN_REASONS: tuple[str, ...] = ("price", "quality", "service", "competition", "other")


def churn_reasons(
    exit_survey: pd.DataFrame,
    *,
    months: int = 12,
    end: str | pd.Timestamp | None = None,
    flag_share: float = 0.30,
) -> pd.DataFrame:
    """Share of each churn reason among lost customers of the last ``months`` months [S6].

    The window is (end − months, end], ``end`` defaulting to the latest exit date. Returns
    ``reason, count, share (0..1), flagged`` (share ≥ ``flag_share``: the seed reads price at 35 %
    as a call for a pricing review), most frequent first; all five standard reasons are listed,
    with 0 when absent.
    """
    _require(exit_survey, ["date", "reason"], "exit_survey")
    if not pd.api.types.is_datetime64_any_dtype(exit_survey["date"]):
        raise TypeError("exit_survey['date'] must be datetime64")
    if not isinstance(months, int | np.integer) or months < 1:
        raise ValueError(f"months must be a positive integer, got {months!r}")
    end_ts = _observation_end(end) if end is not None else exit_survey["date"].max().normalize()
    start = end_ts - pd.DateOffset(months=months)
    day = exit_survey["date"].dt.normalize()
    window = exit_survey.loc[(day > start) & (day <= end_ts), "reason"].dropna()
    if window.empty:
        raise ValueError(f"no exit-survey answers between {start.date()} and {end_ts.date()}")
    counts = window.astype("str").value_counts()
    reasons = list(CHURN_REASONS) + sorted(set(counts.index) - set(CHURN_REASONS))
    counts = counts.reindex(reasons, fill_value=0)
    out = pd.DataFrame({"reason": reasons, "count": counts.to_numpy(dtype="int64")})
    out["share"] = out["count"] / out["count"].sum()
    out["flagged"] = out["share"] >= flag_share
    order = np.lexsort((np.arange(len(out)), -out["count"].to_numpy()))
    return out.iloc[order].reset_index(drop=True)


def exit_aspects(
    exit_survey: pd.DataFrame, *, threshold: float = 3.0, confidence: float = 0.95
) -> pd.DataFrame:
    """Mean 1–5 rating of each aspect (columns ``rating_<aspect>``) with a t-interval [S6].

    Returns ``aspect, mean, n, ci_low, ci_high, flagged`` (mean < ``threshold``: the seed's signal,
    e.g. support response speed), lowest mean first. ``ci_high < threshold`` tells whether the low
    mean is more than sampling noise.
    """
    if not isinstance(exit_survey, pd.DataFrame):
        raise TypeError(f"exit_survey must be a pandas DataFrame, got {type(exit_survey).__name__}")
    cols = [c for c in exit_survey.columns if str(c).startswith("rating_")]
    if not cols:
        raise ValueError("exit_survey has no rating_<aspect> columns")
    rows = []
    for col in cols:
        x = pd.to_numeric(exit_survey[col], errors="raise").dropna().to_numpy(dtype="float64")
        if ((x < 1) | (x > 5)).any():
            raise ValueError(f"{col} must hold ratings on the 1–5 scale")
        n = len(x)
        mean = x.mean() if n else np.nan
        if n >= 2:
            half = stats.t.ppf(0.5 + confidence / 2, n - 1) * x.std(ddof=1) / np.sqrt(n)
        else:
            half = np.nan
        rows.append((col.removeprefix("rating_"), mean, n, mean - half, mean + half))
    out = pd.DataFrame(rows, columns=["aspect", "mean", "n", "ci_low", "ci_high"])
    out["flagged"] = out["mean"] < threshold
    return out.sort_values(["mean", "aspect"], kind="stable").reset_index(drop=True)
