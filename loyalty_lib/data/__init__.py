"""Loaders for client data: header aliases, row-level validation and a quarantine of rejected rows.

Every loader returns a :class:`LoadResult`: the canonical table (``accepted``, columns and dtypes as
in ``loyalty_lib/README.md``, plus a trailing ``line`` column pointing back to the source), the
rows that failed validation (``rejected``, one row per rejected source record, with the reason in
plain English) and what was detected about the file (encoding, delimiter, decimal separator, which
header became which canonical column).

Two kinds of problems, two behaviours:

* **File-level** problems (file missing or unreadable, bytes that are neither UTF-8 nor cp1251,
  no header or no data rows, a required column missing, two headers matching one canonical column,
  an unknown ``kind``) raise :class:`LoyaltyDataError` — a ``ValueError`` whose message names the
  file, the column and the headers that were found.
* **Row-level** problems (unparseable date, amount not a number, NPS score outside 0-10, duplicate
  response, ...) never raise and never drop a row silently: the row goes to ``rejected`` with its
  line number, the canonical column, the original value and a reason.

Conventions
-----------
* ``line`` is the physical line number where the record starts in the file, counting the header as
  line 1 (a quoted field containing a newline makes the next record start further down; blank
  lines are counted as lines but are not records). For Excel and Parquet files and DataFrames it is
  the 0-based row position + 2, i.e. the line the row would have in a CSV written from it.
* One rejected row = one line in ``rejected``: when a row has several problems only the first one
  is recorded, checking columns in canonical order (ids, dates, numbers, cross-column rules) and
  duplicates last. Hence ``n_accepted + n_rejected == rows_read`` always.
* Duplicates are judged among the rows that passed every other check; the first occurrence is kept
  and the later ones are rejected as ``"duplicate ... of line N"``.
* ``rejected.column`` holds the canonical column name (``amount``), the original header is in
  ``column_map`` and the whole original record is in ``rejected.raw`` (JSON, original headers).
* Values are read as text first (so checks see the original text), ids and text are stripped of
  surrounding spaces, dates are normalised to midnight, money is in the file's currency units.
  Typed Parquet columns (numbers, bools, dates) are checked as typed, without a text round trip,
  with the outcome and the reported ``value`` text the text path gives (tests/test_data_fast.py).
* Columns of the file that match no canonical column are not carried into ``accepted``.

Decisions documented here because the course relies on them
------------------------------------------------------------
* transactions: a zero amount is accepted (a free purchase or a fully discounted order is still a
  visit). A refund flag that is true makes the amount negative (``-abs(amount)``), so the README's
  "refunds negative" holds whichever sign the export used; a negative amount without a true refund
  flag is rejected. Duplicate orders are judged on (customer_id, order_id, is_refund): a refund
  sharing the order number of the purchase it reverses is not a duplicate.
* survey: when there is no respondent column the customer id is the respondent id; when a row has
  neither, the respondent id is ``"line-<N>"`` (its line number), so such rows are never
  duplicates. Duplicate response = same respondent_id and same date.
* exit_survey: reasons are mapped to ``price``, ``quality``, ``service``, ``competition``,
  ``other`` (English or Russian words); an unrecognised reason becomes ``other`` and is kept as
  written in ``reason_raw`` (not a rejection). An empty reason is rejected. Empty ratings are
  ``NaN`` (not every respondent rates every aspect); ratings must be within 1-5.
* customers: with frequency 0, monetary and recency must be 0 (BG/NBD and Gamma-Gamma convention).
* transactions, line-item exports (quantity × unit price, or a line amount): each order becomes
  one row with ``n_lines``; cancellations (order id prefix ``C``, negative quantity, a status
  «Возврат» / "Return" / "Refund") are refunds; lines without a customer are rejected as anonymous
  purchases, a zero or negative price is rejected; ``rows_read`` counts lines. The full list of
  decisions is in :mod:`loyalty_lib.data.orders`.
* Ids written as whole-number floats ("13607.0": a CSV saved from a column with gaps, or an
  Excel number cell) come back as written in the source system ("13607"), when every value of
  the column is such an integer.
* Headers are matched by alias first; second-rank rules (Shopify's "Name" = order when its line
  columns are there, an e-mail column as the customer, WooCommerce's order number) and, for
  surveys, the question wording (the NPS question: "How likely are you to recommend…",
  «Насколько вероятно, что вы порекомендуете…») apply only to columns no alias matched.
  SurveyMonkey's second header row is part of the header. Slash dates (3/15/2025) are month
  first unless a first number above 12 in the column says day first.
"""

from __future__ import annotations

from loyalty_lib.data.columns import (  # noqa: F401
    _check_kind,
    _quote_list,
    _rating_key,
    _resolve_columns,
    _valid_canonical,
    is_line_items,
    missing_columns,
    read_mapping,
    suggest_columns,
    write_mapping,
)
from loyalty_lib.data.load import (  # noqa: F401
    _INT_COLUMNS,
    LoadResult,
    _assemble,
    _text_rows,
    load,
    load_campaign,
    load_customers,
    load_exit_survey,
    load_survey,
    load_transactions,
)
from loyalty_lib.data.parse import (  # noqa: F401
    _PLAIN_NUMBER,
    _SPACES,
    _clean_number_text,
    _dates_at_midnight,
    _detect_decimal,
    _factorize_text,
    _map_words,
    _numeric,
    _parse_dates_unique,
    _to_date,
    _to_date_coded,
    _to_number,
    _to_number_slow,
    _word_key,
)
from loyalty_lib.data.read import (  # noqa: F401
    _ASCII_SPACE,
    _DATE_MAX_DAYS,
    _DATE_MIN_DAYS,
    _MAX_EXACT_INT,
    _decode,
    _dedupe,
    _drop_blank_lines,
    _frame_to_text,
    _has_newline,
    _line_numbers,
    _marker,
    _parquet_columns,
    _parse_csv_arrow,
    _Raw,
    _read,
    _read_csv_fast,
    _read_csv_text,
    _read_parquet,
    _read_utf8_fast,
    _record_lines,
    _release_arrow_memory,
    _scan_utf8,
    _sniff_delimiter,
    _string_chunks,
    _text_end,
    _typed_text,
    _Utf8Scan,
    release_memory,
)
from loyalty_lib.data.rules import (  # noqa: F401
    _DATE_COLUMNS,
    _NUMBER_COLUMNS,
    _WORD_MASKS,
    _Columns,
    _date_checks,
    _is_number_column,
    _keeps_type,
    _number_checks,
    _refund_flags,
    _Rejections,
    _repeats,
    _strip,
    _surely_distinct,
    _typed_date,
    _typed_number,
    _validate,
    _words_at,
)
from loyalty_lib.data.schema import (  # noqa: F401
    _ASPECT_LOOKUP,
    _BAD_ROW,
    _CUSTOMER,
    _DATE,
    _DATE_FORMATS,
    _DATE_RE,
    _DUP_SUFFIX,
    _FLAG_LOOKUP,
    _GROUP_LOOKUP,
    _REASON_LOOKUP,
    EXIT_REASONS,
    FALSE_WORDS,
    GROUP_VALUES,
    HEADER_ALIASES,
    KINDS,
    RATING_ASPECTS,
    REQUIRED_COLUMNS,
    TRUE_WORDS,
    LoyaltyDataError,
    _lookup,
    _norm,
)

__all__ = [
    "HEADER_ALIASES",
    "KINDS",
    "REQUIRED_COLUMNS",
    "LoadResult",
    "LoyaltyDataError",
    "load",
    "load_campaign",
    "load_customers",
    "load_exit_survey",
    "load_survey",
    "load_transactions",
    "read_mapping",
    "suggest_columns",
    "write_mapping",
]
