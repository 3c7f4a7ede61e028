"""Moved to :mod:`loyalty_lib.summary.sql`; this module keeps the old import path."""

from loyalty_lib.summary.sql import (  # noqa: F401
    CANONICAL_COLUMNS,
    DIALECTS,
    FREQS,
    SUMMARY_COLUMNS,
    _render,
    summary_sql,
)

__all__ = ["CANONICAL_COLUMNS", "DIALECTS", "FREQS", "SUMMARY_COLUMNS", "summary_sql"]
