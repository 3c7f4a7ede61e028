"""One measurement per process: ``python bench/measure.py TASK [ARG ...]`` prints one JSON line.

``summary_duckdb``, ``sql_duckdb`` and ``summary_pandas`` take ``PATH [ORDERS]``: ORDERS is
customer_summary's ``orders`` mode, ``distinct`` (default) or ``rows``.

Run by :mod:`bench.run` in a fresh subprocess per measurement, so the peak memory it records is
this task's alone. Imports and input preparation happen before the timer starts; ``seconds`` is
wall time of the measured call, ``cpu_seconds`` the process CPU time over the same span (threads
summed), so a CPU/wall ratio near the core count means the call used every core.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
LIFETIMES = BENCH / ".venv" / "lifetimes"  # pip --target install, only on sys.path here
OBSERVATION_END = "2025-12-31"


def _timed(fn: Callable[[], Any]) -> tuple[Any, dict[str, float]]:
    t0, c0 = time.perf_counter(), time.process_time()
    out = fn()
    return out, {"seconds": time.perf_counter() - t0, "cpu_seconds": time.process_time() - c0}


def _digest(summary: Any) -> dict[str, float]:
    """A few sums that two correct summaries of the same data must share (checked by run.py).

    ``orders`` only when the summary has it (lifetimes' has not).
    """
    digest = {
        "customers": int(len(summary)),
        "frequency": float(summary["frequency"].sum()),
        "recency": float(summary["recency"].sum()),
        "T": float(summary["T"].sum()),
        "monetary": round(float(summary["monetary"].sum()), 2),
    }
    if "orders" in summary.columns:
        digest["orders"] = int(summary["orders"].sum())
    return digest


ORDER_MODES = ("distinct", "rows")


def _orders_mode(orders: str) -> str:
    if orders not in ORDER_MODES:
        raise SystemExit(f"orders must be one of {', '.join(ORDER_MODES)}; got {orders!r}")
    return orders


# The per-customer summary written by hand for DuckDB, the way an analyst would: one pass to
# days, one to customers, one for orders/refunds. Same columns and definition as the library;
# {orders} is the orders count of customer_summary's ``orders`` mode (HAND_ORDERS).
HAND_SQL = """
WITH t AS (
    SELECT customer_id, CAST("date" AS DATE) AS d, amount, CAST(is_refund AS BOOLEAN) AS is_refund, order_id
    FROM {source}
    WHERE CAST("date" AS DATE) <= DATE '{end}'
),
days AS (
    SELECT customer_id, d, SUM(amount) AS spend, MIN(d) AS d0
    FROM t WHERE NOT is_refund GROUP BY customer_id, d
),
per_customer AS (
    SELECT customer_id, COUNT(*) - 1 AS frequency,
           DATE_DIFF('day', MIN(d), MAX(d))::DOUBLE AS recency,
           DATE_DIFF('day', MIN(d), DATE '{end}')::DOUBLE AS "T",
           CASE WHEN COUNT(*) > 1 THEN (SUM(spend) - ARG_MIN(spend, d)) / (COUNT(*) - 1) ELSE 0.0 END
               AS monetary,
           MIN(d) AS first_purchase, MAX(d) AS last_purchase
    FROM days GROUP BY customer_id
),
other AS (
    SELECT customer_id,
           {orders} AS orders,
           SUM(amount) AS total_spend,
           COUNT(*) FILTER (WHERE is_refund) AS refunds
    FROM t GROUP BY customer_id
)
SELECT p.*, o.orders, o.total_spend, o.refunds
FROM per_customer AS p JOIN other AS o USING (customer_id)
ORDER BY customer_id
"""
HAND_ORDERS = {
    "distinct": "COUNT(DISTINCT order_id) FILTER (WHERE NOT is_refund)",  # an order may span rows
    "rows": "COUNT(*) FILTER (WHERE NOT is_refund)",  # one row per order
}


def _duckdb_source(path: str) -> str:
    literal = "'" + path.replace("'", "''") + "'"
    return (
        f"read_parquet({literal})"
        if path.endswith(".parquet")
        else f"read_csv({literal}, header = true)"
    )


def sql_duckdb(path: str, orders: str = "distinct") -> dict[str, Any]:
    """Hand-written DuckDB SQL → pandas (same columns as customer_summary with ``orders``)."""
    import duckdb

    sql = HAND_SQL.format(
        source=_duckdb_source(path), end=OBSERVATION_END, orders=HAND_ORDERS[_orders_mode(orders)]
    )

    def run() -> Any:
        con = duckdb.connect(":memory:")
        try:
            return con.execute(sql).df()
        finally:
            con.close()

    out, timing = _timed(run)
    return {**timing, "check": _digest(out)}


def summary_duckdb(path: str, orders: str = "distinct") -> dict[str, Any]:
    """loyalty_lib.segments.customer_summary, DuckDB engine, on a Parquet or CSV path."""
    from loyalty_lib import segments

    orders = _orders_mode(orders)
    out, timing = _timed(
        lambda: segments.customer_summary(path, observation_end=OBSERVATION_END, orders=orders)
    )
    return {**timing, "check": _digest(out)}


def _read_parquet(path: str) -> Any:
    import pandas as pd

    return pd.read_parquet(path).assign(
        date=lambda d: pd.to_datetime(d["date"]).astype("datetime64[ns]")
    )


def summary_pandas(path: str, orders: str = "distinct") -> dict[str, Any]:
    """The pandas reference path (customer_summary(engine="pandas")) on a frame already in memory.

    ``load_seconds`` / ``load_cpu_seconds``: reading the Parquet file into that frame.
    """
    from loyalty_lib import segments

    orders = _orders_mode(orders)
    tx, load = _timed(lambda: _read_parquet(path))
    out, timing = _timed(
        lambda: segments.customer_summary(
            tx, observation_end=OBSERVATION_END, engine="pandas", orders=orders
        )
    )
    return {
        **timing,
        "load_seconds": load["seconds"],
        "load_cpu_seconds": load["cpu_seconds"],
        "check": _digest(out),
    }


def summary_lifetimes(path: str) -> dict[str, Any]:
    """lifetimes.utils.summary_data_from_transaction_data on the purchase rows (refunds dropped).

    It counts no orders, so one measurement serves both ``orders`` modes of customer_summary.
    """
    sys.path.insert(0, str(LIFETIMES))
    from lifetimes.utils import summary_data_from_transaction_data

    tx, load = _timed(lambda: _read_parquet(path))
    purchases = tx.loc[~tx["is_refund"], ["customer_id", "date", "amount"]]
    del tx
    out, timing = _timed(
        lambda: summary_data_from_transaction_data(
            purchases,
            "customer_id",
            "date",
            monetary_value_col="amount",
            observation_period_end=OBSERVATION_END,
        )
    )
    out = out.rename(columns={"monetary_value": "monetary"})
    return {
        **timing,
        "load_seconds": load["seconds"],
        "load_cpu_seconds": load["cpu_seconds"],
        "check": _digest(out),
    }


def read_csv_pandas(path: str) -> dict[str, Any]:
    """The straightforward way to get the CSV into pandas before a groupby: ``pd.read_csv`` with
    the date parsed and the ids kept as text. Its time is what the competitors pay on the CSV
    lines of the ≥ 5× comparison (their own steps read the Parquet copy)."""
    import pandas as pd

    out, timing = _timed(
        lambda: pd.read_csv(
            path, parse_dates=["date"], dtype={"customer_id": "str", "order_id": "str"}
        )
    )
    return {**timing, "rows": len(out)}


def summary_spark(path: str) -> dict[str, Any]:
    """customer_summary(engine="spark") on local[2]; session start outside the timer.

    Each process times the first query (cold JVM: class loading, JIT) and a second identical one.
    """
    from pyspark.sql import SparkSession

    from loyalty_lib import segments

    memory = os.environ.get("BENCH_SPARK_DRIVER_MEMORY", "4g")
    spark, start = _timed(
        lambda: (
            SparkSession.builder.master("local[2]")
            .appName("loyalty-bench")
            .config("spark.driver.memory", memory)
            .config("spark.sql.execution.arrow.pyspark.enabled", "true")
            .config("spark.sql.session.timeZone", "UTC")
            .config("spark.ui.enabled", "false")
            .config("spark.ui.showConsoleProgress", "false")
            .getOrCreate()
        )
    )
    spark.sparkContext.setLogLevel("ERROR")
    try:
        out, first = _timed(
            lambda: segments.customer_summary(path, observation_end=OBSERVATION_END, engine="spark")
        )
        second = {"seconds": None}
        if first["seconds"] < 120:  # a warm repeat says little more when the first took minutes
            _, second = _timed(
                lambda: segments.customer_summary(
                    path, observation_end=OBSERVATION_END, engine="spark"
                )
            )
    finally:
        spark.stop()
    return {
        **first,
        "second_seconds": second["seconds"],
        "session_seconds": start["seconds"],
        "driver_memory": memory,
        "check": _digest(out),
    }


def load_transactions(path: str) -> dict[str, Any]:
    """loyalty_lib.data.load_transactions (read + validate every row) on a CSV or Parquet path."""
    from loyalty_lib import data

    out, timing = _timed(lambda: data.load_transactions(path))
    return {**timing, "accepted": int(out.n_accepted), "rejected": int(out.n_rejected)}


def bgnbd_ours(npz: str) -> dict[str, Any]:
    """loyalty_lib.ltv.BetaGeo().fit on the (frequency, recency, T) arrays in ``npz``."""
    import numpy as np

    from loyalty_lib.ltv.bgnbd import BetaGeo

    d = np.load(npz)
    f, r, T = d["frequency"], d["recency"], d["T"]
    m, timing = _timed(lambda: BetaGeo().fit(f, r, T))
    return {
        **timing,
        "params": m.params,
        "log_likelihood": m.log_likelihood,
        "n_unique": m.n_unique,
        "converged": m.converged,
    }


def bgnbd_lifetimes(npz: str) -> dict[str, Any]:
    """lifetimes.BetaGeoFitter().fit (defaults) on the same arrays."""
    sys.path.insert(0, str(LIFETIMES))
    import numpy as np
    import pandas as pd
    from lifetimes import BetaGeoFitter

    d = np.load(npz)
    f, r, T = pd.Series(d["frequency"]), pd.Series(d["recency"]), pd.Series(d["T"])
    m, timing = _timed(lambda: BetaGeoFitter().fit(f, r, T))
    # lifetimes' fit includes its autograd Hessian (for standard errors); ours defers that to first use.
    return {**timing, "params": {k: float(v) for k, v in m.params_.items()}}


def prepare_bgnbd(simulated: str, days: str) -> dict[str, Any]:
    """Write the two 1M-customer (frequency, recency, T) inputs of the BG/NBD comparison, if absent.

    Both are drawn from the BG/NBD story (FHL 2005), so the maximum-likelihood estimates are
    well defined and two correct fitters must agree. ``simulated``: continuous times in weeks
    (r 0.25, α 4, a 0.8, b 2.5; T uniform 1–78 weeks): no two rows alike. ``days``: the same
    story in days (α 28) over up to two years, recency and T rounded down to whole days as a
    daily customer summary reports them: many identical rows, which our fit compresses.

    (The daily summary of the synthetic transactions is not used: its customers lapse with time,
    not after a purchase, so the BG/NBD MLE runs off to a, b → ∞ and neither fitter has a finite
    answer to compare — lifetimes raises ConvergenceError on it.)
    """
    import numpy as np

    from loyalty_lib.ltv.bgnbd import simulate

    rng = np.random.default_rng(20240101)
    if not Path(simulated).is_file():
        sim = simulate(
            {"r": 0.25, "alpha": 4.0, "a": 0.8, "b": 2.5},
            rng.uniform(1.0, 78.0, 1_000_000),
            seed=20240101,
        )
        np.savez(
            simulated,
            frequency=sim["frequency"].to_numpy(float),
            recency=sim["recency"].to_numpy(float),
            T=sim["T"].to_numpy(float),
        )
    if not Path(days).is_file():
        sim = simulate(
            {"r": 0.25, "alpha": 28.0, "a": 0.8, "b": 2.5},
            rng.integers(1, 731, 1_000_000).astype(float),
            seed=20240102,
        )
        np.savez(
            days,
            frequency=sim["frequency"].to_numpy(float),
            recency=np.floor(sim["recency"].to_numpy(float)),
            T=sim["T"].to_numpy(float),
        )
    return {}


TASKS: dict[str, Callable[..., dict[str, Any]]] = {
    f.__name__: f
    for f in (
        sql_duckdb,
        summary_duckdb,
        summary_pandas,
        summary_lifetimes,
        read_csv_pandas,
        summary_spark,
        load_transactions,
        bgnbd_ours,
        bgnbd_lifetimes,
        prepare_bgnbd,
    )
}

if __name__ == "__main__":
    task, *args = sys.argv[1:]
    result = TASKS[task](*args)
    print("BENCH-RESULT " + json.dumps(result), flush=True)
