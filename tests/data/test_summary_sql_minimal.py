"""`loyalty summary-sql` on the usual warehouse table: only customer, date and amount columns.

Issue #16: the printed query referenced an ``is_refund`` column the table did not have (DuckDB:
Binder Error). Without a flag, a negative amount is a refund. The expected summaries are worked
out by hand below from the eight rows of ``_table``.
"""

from __future__ import annotations

import datetime as dt
import warnings

import duckdb
import pandas as pd
import pytest
from click.testing import CliRunner

from loyalty_lib.cli import main


def _table() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": ["A", "A", "A", "A", "B", "C", "D", "A"],
            "date": pd.to_datetime(
                [
                    "2025-01-01",
                    "2025-01-01",
                    "2025-01-11",
                    "2025-01-12",
                    "2025-01-20",
                    "2025-01-05",
                    "2025-02-05",
                    "2025-02-10",
                ]
            ).date,
            "amount": [10.0, 5.0, 20.0, -5.0, 7.0, -3.0, 4.0, 100.0],
        }
    )


# By hand, observation end 2025-01-31 (rows after it are dropped: D's only row and A's last):
# A buys on Jan 1 (10 + 5) and Jan 11 (20), refunds 5 on Jan 12; B buys 7 on Jan 20; C only
# refunds (no purchase: not in the summary).
# Days: A frequency 1, recency 10, T 30, monetary 20 (the repeat day), orders 3 rows,
# total 35 - 5 = 30, 1 refund; B 0, 0, T 11, 0, 1 order, total 7.
# ISO weeks (Monday starts): Jan 1 is in the week of Dec 30, Jan 11 in the week of Jan 6,
# Jan 20 in its own week, Jan 31 in the week of Jan 27: A recency 1, T 4; B T 1.
EXPECTED = {
    "D": {"A": (1, 10.0, 30.0, 20.0, 3, 30.0, 1), "B": (0, 0.0, 11.0, 0.0, 1, 7.0, 0)},
    "W": {"A": (1, 1.0, 4.0, 20.0, 3, 30.0, 1), "B": (0, 0.0, 1.0, 0.0, 1, 7.0, 0)},
}
FIELDS = ["frequency", "recency", "T", "monetary", "orders", "total_spend", "refunds"]


def _printed_sql(dialect: str, freq: str, *extra: str) -> str:
    result = CliRunner().invoke(
        main,
        [
            "summary-sql",
            "--dialect",
            dialect,
            "--table",
            "t",
            "--observation-end",
            "2025-01-31",
            "--freq",
            freq,
            *extra,
        ],
    )
    assert result.exit_code == 0, result.output
    return result.output


def _as_expected(df: pd.DataFrame) -> dict[str, tuple]:
    return {
        r["customer_id"]: tuple(
            float(r[f]) if isinstance(EXPECTED["D"]["A"][i], float) else int(r[f])
            for i, f in enumerate(FIELDS)
        )
        for r in df.to_dict("records")
    }


@pytest.mark.parametrize("freq", ["D", "W"])
def test_duckdb_runs_on_three_columns(freq: str) -> None:
    con = duckdb.connect()
    con.register("t", _table())
    got = con.execute(_printed_sql("duckdb", freq)).df()
    assert _as_expected(got) == EXPECTED[freq]
    assert got["first_purchase"].dt.date.tolist() == [dt.date(2025, 1, 1), dt.date(2025, 1, 20)]
    con.close()


def test_duckdb_with_a_refund_flag_column() -> None:
    # The same rows with a flag: the refund row is flagged, amounts stay signed as before.
    df = _table().assign(returned=lambda d: d["amount"] < 0)
    con = duckdb.connect()
    con.register("t", df)
    got = con.execute(_printed_sql("duckdb", "D", "--refund-column", "returned")).df()
    assert _as_expected(got) == EXPECTED["D"]
    con.close()


@pytest.mark.spark
def test_spark_runs_on_three_columns() -> None:
    pyspark_sql = pytest.importorskip("pyspark.sql", reason="pip install -e '.[spark]'")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        spark = (
            pyspark_sql.SparkSession.builder.master("local[1]")
            .appName("summary-sql-minimal")
            .config("spark.ui.enabled", "false")
            .config("spark.sql.shuffle.partitions", "2")
            .config("spark.sql.session.timeZone", "UTC")
            .getOrCreate()
        )
    spark.createDataFrame(_table()).createOrReplaceTempView("t")
    for freq in ("D", "W"):
        got = spark.sql(_printed_sql("spark", freq)).toPandas()
        assert _as_expected(got) == EXPECTED[freq]
