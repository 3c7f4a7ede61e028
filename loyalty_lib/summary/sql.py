"""The per-customer summary written once, in SQL, and transpiled to each warehouse with SQLGlot.

One query defines ``frequency``, ``recency``, ``T``, ``monetary`` and the bookkeeping columns
(conventions of the BG/NBD literature and of lifetimes' ``summary_data_from_transaction_data``;
the full definition is in :func:`loyalty_lib.segments.customer_summary`). DuckDB runs it on a
laptop, Spark SQL on a cluster, and the text printed by ``loyalty summary-sql --dialect ...`` runs
in the client's warehouse, so a number in the report means the same thing everywhere.

Why it is written this way:

* **Source dialect DuckDB.** It is the engine we execute by default and test against, so the
  source text is itself the reference; SQLGlot reads it and writes Spark SQL, PostgreSQL,
  ClickHouse and BigQuery. Every output is parsed back by the tests.
* **Periods as 32-bit integers, computed once per row.** ``D``: days since 1970-01-01 (``DATE_DIFF('day',
  DATE '1970-01-01', d)``), which SQLGlot rewrites per engine: Spark ``DATEDIFF(DAY, start, end)``,
  BigQuery ``DATE_DIFF(end, start, DAY)`` (argument order differs), PostgreSQL ``end - start``.
  ``W``: ISO weeks, Monday to Sunday: ``FLOOR((days + 3) / 7)`` (1970-01-01 was a Thursday).
  ``M``: calendar months, ``YEAR(d) * 12 + MONTH(d) - 1``, plain arithmetic that every engine
  agrees on (no month-diff function, whose rounding differs between engines). Recency and T are
  differences of these indices, so they are whole periods, as in lifetimes' Period arithmetic.
* **First-period spend with ARG_MIN.** ``monetary`` is the mean spend of the repeat periods:
  (spend of all periods − spend of the first) / frequency. ``ARG_MIN(spend, period)`` picks the
  first period's spend in the same aggregation pass; a window function would cost a second sort
  of every (customer, period) row (about twice the run time on 10M rows in DuckDB). SQLGlot maps
  it to ``MIN_BY`` (Spark, BigQuery) and ``argMin`` (ClickHouse); PostgreSQL has no such
  aggregate, so for it we rewrite the node to ``(ARRAY_AGG(spend ORDER BY period))[1]``.
* **Daily dates from periods.** With ``freq="D"`` a period is a day, so the first and last
  purchase dates are the epoch plus the first and last period (a ``DATE_ADD`` node that SQLGlot
  writes per engine); the per-(customer, day) step keeps no MIN/MAX of the date (~20 % faster).
* **Refunds** are not purchases (no period, no order); their negative amounts only reduce the net
  ``total_spend`` and they are counted in ``refunds``.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Mapping

import sqlglot
from sqlglot import exp

DIALECTS: tuple[str, ...] = ("spark", "duckdb", "postgres", "clickhouse", "bigquery")
FREQS: tuple[str, ...] = ("D", "W", "M")
CANONICAL_COLUMNS: tuple[str, ...] = ("customer_id", "date", "amount", "is_refund", "order_id")

# Output columns, in order (the pandas and Spark paths return exactly these).
SUMMARY_COLUMNS: tuple[str, ...] = (
    "customer_id",
    "frequency",
    "recency",
    "T",
    "monetary",
    "first_purchase",
    "last_purchase",
    "orders",
    "total_spend",
    "refunds",
)

_DAYS = "DATE_DIFF('day', DATE '1970-01-01', {d})"
# 32-bit period indices: they are half the (customer, period) hash key of the dearest
# aggregation, and a narrower key made the 10M-row query ~5 % faster than BIGINT in DuckDB.
_PERIOD = {
    "D": "CAST(" + _DAYS + " AS INT)",
    "W": "CAST(FLOOR((" + _DAYS + " + 3) / 7) AS INT)",
    "M": "CAST(YEAR({d}) * 12 + MONTH({d}) - 1 AS INT)",
}

# The definition. Source dialect: DuckDB. Placeholders in braces are filled with quoted
# identifiers or literals by `summary_sql`; nothing else changes between clients.
_TEMPLATE = """
WITH src AS (
    SELECT
        CAST({customer_id} AS VARCHAR) AS customer_id,
        CAST({date} AS DATE) AS d,
        CAST({amount} AS DOUBLE) AS amount,
        {is_refund} AS is_refund{order_id_col}
    FROM {table}
),
kept AS (
    SELECT customer_id, d, amount, is_refund{order_id_ref}, {period_d} AS p
    FROM src
    WHERE d <= {obs_end} AND customer_id IS NOT NULL
),
by_period AS (
    SELECT customer_id, p, SUM(amount) AS spend, COUNT(*) AS n_rows{period_dates}
    FROM kept
    WHERE NOT is_refund
    GROUP BY customer_id, p
),
purchases AS (
    SELECT
        customer_id,
        COUNT(*) AS n_periods,
        MIN(p) AS first_p,
        MAX(p) AS last_p,
{first_last}        SUM(n_rows) AS purchase_rows,
        SUM(spend) AS gross,
        ARG_MIN(spend, p) AS first_spend
    FROM by_period
    GROUP BY customer_id
),{orders_cte}
refunds AS (
    SELECT customer_id, SUM(amount) AS refund_amount, COUNT(*) AS refunds
    FROM kept
    WHERE is_refund
    GROUP BY customer_id
)
SELECT
    pu.customer_id AS customer_id,
    CAST(pu.n_periods - 1 AS BIGINT) AS frequency,
    CAST(pu.last_p - pu.first_p AS DOUBLE) AS recency,
    CAST({period_end} - pu.first_p AS DOUBLE) AS "T",
    CASE WHEN pu.n_periods > 1
        THEN (pu.gross - pu.first_spend) / (pu.n_periods - 1)
        ELSE 0.0 END AS monetary,
    {first_purchase} AS first_purchase,
    {last_purchase} AS last_purchase,
    CAST({orders} AS BIGINT) AS orders,
    pu.gross + COALESCE(r.refund_amount, 0.0) AS total_spend,
    CAST(COALESCE(r.refunds, 0) AS BIGINT) AS refunds
FROM purchases AS pu{orders_join}
LEFT JOIN refunds AS r ON r.customer_id = pu.customer_id
ORDER BY pu.customer_id
"""

# Only when order ids exist: an order may span several rows (one per item), so it needs a
# distinct count over the customer's purchase rows rather than the sum of rows per period.
# Written as DISTINCT pairs, then a count: the same number as COUNT(DISTINCT order_id) per
# customer, but DuckDB aggregates the pairs on every thread (11.8 → 7.4 s wall on 10M rows, 2
# cores), where the per-group distinct set ran mostly on one. COUNT(order_id) skips a missing id
# as COUNT(DISTINCT ...) does, and keeps the customer (0 orders) for the inner join below.
_ORDERS_CTE = """
orders AS (
    SELECT customer_id, COUNT(order_id) AS orders
    FROM (
        SELECT DISTINCT customer_id, order_id
        FROM kept
        WHERE NOT is_refund
    ) AS pairs
    GROUP BY customer_id
),"""


def _ident(name: str) -> str:
    if not isinstance(name, str) or not name:
        raise TypeError(f"column names must be non-empty strings, got {name!r}")
    return exp.to_identifier(name, quoted=True).sql("duckdb")


def _table(table: str) -> str:
    if not isinstance(table, str) or not table.strip():
        raise ValueError(f"table must be a non-empty table name, got {table!r}")
    # "schema.table" and "catalog.schema.table" are split into parts, each quoted.
    parts = table.split(".")
    if any(not p for p in parts) or len(parts) > 3:
        raise ValueError(
            f"table must look like name, schema.name or catalog.schema.name, got {table!r}"
        )
    return ".".join(_ident(p) for p in parts)


def _date_literal(value: object) -> str:
    try:
        day = (
            dt.date.fromisoformat(value)
            if isinstance(value, str)
            else value.date()
            if isinstance(value, dt.datetime)
            else value
            if isinstance(value, dt.date)
            else None
        )
    except ValueError:
        day = None
    if day is None:  # also covers pandas.Timestamp (a datetime subclass) via the branch above
        raise ValueError(f"observation_end must be a date or 'YYYY-MM-DD', got {value!r}")
    return f"DATE '{day.isoformat()}'"


# With daily periods a period is one day, so the first and last purchase dates follow from the
# first and last period: the by_period step then keeps no MIN/MAX(date) per (customer, day) pair
# (~20 % of the query on 10M rows). The marker is written as a function call in the template and
# replaced by a DATE_ADD node, which SQLGlot writes correctly for each engine (its text form with
# an INTERVAL of a column does not survive transpilation to PostgreSQL or BigQuery).
_DAY_TO_DATE = "LOYALTY_DAY_TO_DATE"


def _day_to_date(node: exp.Expression) -> exp.Expression:
    if isinstance(node, exp.Anonymous) and node.name.upper() == _DAY_TO_DATE:
        epoch = exp.cast(exp.Literal.string("1970-01-01"), "DATE")
        days = exp.cast(node.expressions[0], "INT")  # Spark's DATE_ADD takes INT days only
        added = exp.DateAdd(this=epoch, expression=days, unit=exp.var("DAY"))
        return exp.cast(added, "DATE")
    return node


def _postgres_arg_min(node: exp.Expression) -> exp.Expression:
    if isinstance(node, exp.ArgMin):
        value, key = node.this.sql("postgres"), node.expression.sql("postgres")
        return sqlglot.parse_one(f"(ARRAY_AGG({value} ORDER BY {key}))[1]", read="postgres")
    return node


def summary_sql(
    dialect: str = "duckdb",
    table: str = "transactions",
    columns: Mapping[str, str] | None = None,
    observation_end: str | dt.date | None = None,
    freq: str = "D",
    *,
    order_id: bool | None = None,
    pretty: bool = True,
) -> str:
    """The per-customer summary query for ``dialect`` (one of :data:`DIALECTS`).

    Parameters
    ----------
    table : table to read, ``name`` or ``schema.name`` (quoted as given).
    columns : canonical name → the client's column name (e.g. from the YAML mapping of the data
        layer); unmapped canonical names are used as they are. When a mapping is given without
        ``is_refund`` (``{}`` included: the usual warehouse table of customer, date and amount
        only), a row is a refund when its amount is negative; ``None`` reads the canonical
        table's ``is_refund`` flag. ``loyalty summary-sql`` passes a mapping always, so its SQL
        needs no flag column unless ``--refund-column`` names one. Keys other than the
        canonical transaction columns are ignored.
    observation_end : last day observed (inclusive); later rows are dropped. ``None`` → the query
        uses ``MAX(date)`` of the table.
    freq : period for recency, T and frequency: ``"D"`` days, ``"W"`` ISO weeks (Mon–Sun),
        ``"M"`` calendar months.
    order_id : count ``orders`` as distinct order ids (``True``) or as purchase rows (``False``);
        ``None`` → ``True`` exactly when ``columns`` maps ``order_id``.

    Returns the SQL text; it yields one row per customer with at least one purchase on or before
    the observation end, ordered by ``customer_id``, with the columns of :data:`SUMMARY_COLUMNS`.
    """
    if dialect not in DIALECTS:
        raise ValueError(f"dialect must be one of {', '.join(DIALECTS)}; got {dialect!r}")
    if freq not in FREQS:
        raise ValueError(f"freq must be one of 'D' (days), 'W' (weeks), 'M' (months); got {freq!r}")
    if columns is not None and not isinstance(columns, Mapping):
        raise TypeError(
            f"columns must be a mapping canonical name → column name, got {type(columns).__name__}"
        )
    mapping = {k: v for k, v in (columns or {}).items() if k in CANONICAL_COLUMNS and v is not None}
    names = {c: mapping.get(c, c) for c in CANONICAL_COLUMNS}
    if order_id is None:
        order_id = "order_id" in mapping

    end = None if observation_end is None else _date_literal(observation_end)
    return _render(
        dialect,
        _table(table),
        tuple(sorted(names.items())),
        columns is not None and "is_refund" not in mapping,
        end,
        freq,
        bool(order_id),
        pretty,
    )


@functools.lru_cache(maxsize=256)
def _render(
    dialect: str,
    table: str,
    names_items: tuple[tuple[str, str], ...],
    refund_from_amount: bool,
    end: str | None,
    freq: str,
    order_id: bool,
    pretty: bool,
) -> str:
    """Fill the template and transpile (cached: parsing and generating take ~20 ms)."""
    names = dict(names_items)
    cols = {c: _ident(n) for c, n in names.items()}
    if refund_from_amount:
        is_refund = f"(CAST({cols['amount']} AS DOUBLE) < 0)"
    else:
        is_refund = f"CAST({cols['is_refund']} AS BOOLEAN)"
    obs_end = f"(SELECT MAX(CAST({cols['date']} AS DATE)) FROM {table})" if end is None else end
    daily = freq == "D"

    text = _TEMPLATE.format(
        customer_id=cols["customer_id"],
        date=cols["date"],
        amount=cols["amount"],
        is_refund=is_refund,
        order_id_col=f",\n        CAST({cols['order_id']} AS VARCHAR) AS order_id"
        if order_id
        else "",
        order_id_ref=", order_id" if order_id else "",
        orders_cte=_ORDERS_CTE if order_id else "",
        orders_join="\nJOIN orders AS o ON o.customer_id = pu.customer_id" if order_id else "",
        orders="o.orders" if order_id else "pu.purchase_rows",
        table=table,
        period_d=_PERIOD[freq].format(d="d"),
        period_dates="" if daily else ", MIN(d) AS first_d, MAX(d) AS last_d",
        first_last=""
        if daily
        else "        MIN(first_d) AS first_purchase,\n        MAX(last_d) AS last_purchase,\n",
        first_purchase=f"{_DAY_TO_DATE}(pu.first_p)" if daily else "pu.first_purchase",
        last_purchase=f"{_DAY_TO_DATE}(pu.last_p)" if daily else "pu.last_purchase",
        obs_end=obs_end,
        period_end=_PERIOD[freq].format(d=obs_end),
    )
    tree = sqlglot.parse_one(text, read="duckdb").transform(_day_to_date)
    if dialect == "postgres":
        tree = tree.transform(_postgres_arg_min)
    return tree.sql(dialect=dialect, pretty=pretty, unsupported_level=sqlglot.ErrorLevel.RAISE)
