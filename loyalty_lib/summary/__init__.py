"""The per-customer summary: one definition (:mod:`.definition`), run by DuckDB, Spark or pandas
(:mod:`.engines`), written once as SQL and transpiled per warehouse (:mod:`.sql`).

``loyalty_lib.segments.customer_summary`` and ``loyalty_lib.summary_sql`` re-export from here.
"""

from loyalty_lib.summary.definition import ENGINES, ORDER_COUNTS, customer_summary
from loyalty_lib.summary.sql import (
    CANONICAL_COLUMNS,
    DIALECTS,
    FREQS,
    SUMMARY_COLUMNS,
    summary_sql,
)

__all__ = [
    "CANONICAL_COLUMNS",
    "DIALECTS",
    "ENGINES",
    "FREQS",
    "ORDER_COUNTS",
    "SUMMARY_COLUMNS",
    "customer_summary",
    "summary_sql",
]
