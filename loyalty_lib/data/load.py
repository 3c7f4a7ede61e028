"""Loading: LoadResult and the public loaders (read → map headers → validate → assemble)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from loyalty_lib._result import Result
from loyalty_lib.data.columns import _check_kind, _quote_list, _resolve_columns, is_line_items
from loyalty_lib.data.orders import line_item_rules
from loyalty_lib.data.parse import _detect_decimal, _word_key
from loyalty_lib.data.read import _Raw, _read, _typed_text
from loyalty_lib.data.rules import _Columns, _Rejections, _validate
from loyalty_lib.data.schema import (
    _BAD_ROW,
    _DUP_SUFFIX,
    CANCEL_PREFIX,
    SURVEYMONKEY_SUBHEADERS,
    LoyaltyDataError,
)


@dataclass(frozen=True, eq=False, repr=False)
class LoadResult(Result):
    """What a loader read: the canonical table, the rejected rows and what was detected.

    ``rejected`` has columns ``line`` (int, see module docstring), ``column`` (canonical name, ""
    for whole-row problems), ``value`` (original text), ``reason`` (plain English) and ``raw``
    (the original record as JSON). ``encoding``/``delimiter``/``decimal`` are None for Parquet,
    Excel and DataFrame input.

    ``line_items``: the file was a line-item export (:mod:`loyalty_lib.data.orders`); then
    ``accepted`` has one row per order with ``n_lines``, ``rows_read`` counts lines and
    ``n_accepted`` the accepted lines (Σ ``n_lines``), so accepted + rejected = lines read still
    holds; ``n_orders`` is the number of rows of ``accepted``.
    """

    kind: str
    source: str
    rows_read: int
    accepted: pd.DataFrame
    rejected: pd.DataFrame
    encoding: str | None = None
    delimiter: str | None = None
    decimal: str | None = None
    column_map: dict[str, str] = field(default_factory=dict)
    line_items: bool = False

    @property
    def n_accepted(self) -> int:
        """Accepted source rows (lines of a line-item export)."""
        if self.line_items:
            return int(self.accepted["n_lines"].sum())
        return len(self.accepted)

    @property
    def n_orders(self) -> int:
        """Rows of ``accepted``: orders for a line-item export, else accepted rows."""
        return len(self.accepted)

    def first_rejected(self, n: int = 10) -> pd.DataFrame:
        """The first ``n`` rejected lines: line, column, value, reason (what validate prints)."""
        return self.rejected.loc[:, ["line", "column", "value", "reason"]].head(n)

    @property
    def n_rejected(self) -> int:
        """Number of rejected source rows (unique lines)."""
        return int(self.rejected["line"].nunique())

    @property
    def report(self) -> pd.DataFrame:
        """Rejections counted by ``reason`` (without the "of line N" detail) and ``column``."""
        cols = ["reason", "column", "rows"]
        if self.rejected.empty:
            return pd.DataFrame(
                {c: pd.Series(dtype="int64" if c == "rows" else "str") for c in cols}
            )
        reason = self.rejected["reason"].str.replace(_DUP_SUFFIX, "", regex=True)
        out = (
            pd.DataFrame({"reason": reason, "column": self.rejected["column"]})
            .groupby(["reason", "column"], sort=False)
            .size()
            .rename("rows")
            .reset_index()
        )
        return out.sort_values("rows", ascending=False, kind="stable").reset_index(drop=True)

    def write_quarantine(self, path: str | Path) -> Path:
        """Write ``rejected`` to a UTF-8 CSV (header always written) and return the path."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        self.rejected.to_csv(path, index=False, encoding="utf-8")
        return path

    def to_dict(self) -> dict[str, Any]:
        # The tables can hold millions of rows: summary.json gets the counts and the report.
        return {
            "kind": self.kind,
            "source": self.source,
            "rows_read": self.rows_read,
            "n_accepted": self.n_accepted,
            "n_rejected": self.n_rejected,
            "encoding": self.encoding,
            "delimiter": self.delimiter,
            "decimal": self.decimal,
            "column_map": dict(self.column_map),
            "report": self.report.to_dict(orient="records"),
            **({"n_orders": self.n_orders} if self.line_items else {}),
        }

    def __str__(self) -> str:
        if self.line_items and "order_id" not in self.column_map:
            text = (
                f"{self.source}: {self.rows_read:,} lines read (no order id: one row per line), "
                f"{self.n_accepted:,} accepted, {self.n_rejected:,} rejected"
            )
        elif self.line_items:
            text = (
                f"{self.source}: {self.rows_read:,} lines → {self.n_orders:,} orders; "
                f"{self.n_accepted:,} lines accepted, {self.n_rejected:,} rejected"
            )
        else:
            text = (
                f"{self.source}: {self.rows_read:,} rows read, {self.n_accepted:,} accepted, "
                f"{self.n_rejected:,} rejected"
            )
        if self.n_rejected:
            by_reason = self.report.groupby("reason", sort=False)["rows"].sum()
            by_reason = by_reason.sort_values(ascending=False, kind="stable")
            text += " (" + ", ".join(f"{n:,} × {r}" for r, n in by_reason.items()) + ")"
        return text


_INT_COLUMNS = {"score", "frequency", "orders"}


def _text_rows(raw: _Raw, mask: np.ndarray) -> pd.DataFrame:
    """The rows in ``mask`` as text, original headers (what ``rejected.raw`` shows)."""
    rows = raw.frame.loc[mask]
    if not raw.typed:
        return rows
    return pd.DataFrame(
        {h: _typed_text(rows[h]) if h in raw.typed else rows[h] for h in rows.columns},
        index=rows.index,
    )


def _rejected_frame(raw: _Raw, rej: _Rejections) -> pd.DataFrame:
    """The rejected rows of ``raw`` as the ``rejected`` table (line, column, value, reason, raw)."""
    bad = ~rej.ok
    pos, column, value, reason = rej.table()
    if bad.any():
        raw_rows = _text_rows(raw, bad)
        raw_json = raw_rows.to_json(orient="records", lines=True, force_ascii=False)
        raw_json = raw_json.rstrip("\n").split("\n")
        if raw.bad_fields is not None:
            # marker rows: report the original fields, not the marker
            first = raw_rows.iloc[:, 0]
            marked = first.str.startswith(_BAD_ROW).to_numpy()
            for i in np.flatnonzero(marked):
                raw_json[i] = first.iloc[i].split("|", 2)[2]
    else:
        raw_json = []
    return pd.DataFrame(
        {
            "line": pd.Series(raw.lines[bad], dtype="int64"),
            "column": pd.Series(column, dtype="str"),
            "value": pd.Series(value, dtype="str"),
            "reason": pd.Series(reason, dtype="str"),
            "raw": pd.Series(raw_json, dtype="str"),
        }
    )


def _assemble(
    kind: str, raw: _Raw, mapping: dict[str, str], decimal: str, reported_decimal: str | None
) -> LoadResult:
    out, rej = _validate(kind, raw, mapping, decimal)
    ok = rej.ok
    every = bool(ok.all())  # the usual case: no row copies
    accepted = pd.DataFrame({c: s if every else s[ok] for c, s in out.items()}, copy=False)
    del out
    for c in accepted.columns:
        if c in _INT_COLUMNS:
            accepted[c] = accepted[c].astype("int64")
        elif c in (
            "customer_id",
            "respondent_id",
            "order_id",
            "channel",
            "store",
            "comment",
            "reason",
            "reason_raw",
            "group",
        ):
            if accepted[c].dtype != "str":
                accepted[c] = accepted[c].astype("str")
        elif c == "is_refund":
            accepted[c] = accepted[c].astype(bool)
    accepted["line"] = raw.lines if every else raw.lines[ok]
    accepted = accepted.reset_index(drop=True)
    return LoadResult(
        kind=kind,
        source=raw.name,
        rows_read=len(raw.frame),
        accepted=accepted,
        rejected=_rejected_frame(raw, rej),
        encoding=raw.encoding,
        delimiter=raw.delimiter,
        decimal=reported_decimal,
        column_map=dict(mapping),
    )


def _assemble_lines(
    raw: _Raw,
    mapping: dict[str, str],
    decimal: str,
    reported_decimal: str | None,
    cancel_prefix: str,
) -> LoadResult:
    cols = _Columns(raw, mapping, decimal)
    rej = _Rejections(raw, cols)
    accepted = line_item_rules(cols, rej, raw.lines, decimal, cancel_prefix)
    return LoadResult(
        kind="transactions",
        source=raw.name,
        rows_read=len(raw.frame),
        accepted=accepted.reset_index(drop=True),
        rejected=_rejected_frame(raw, rej),
        encoding=raw.encoding,
        delimiter=raw.delimiter,
        decimal=reported_decimal,
        column_map=dict(mapping),
        line_items=True,
    )


_SUBHEADERS = frozenset(_word_key(w) for w in SURVEYMONKEY_SUBHEADERS)


def _drop_subheader(raw: _Raw) -> _Raw:
    """SurveyMonkey's second header row ("Response", "Open-Ended Response" under the questions)
    is part of the header: dropped, so the first record is on line 3."""
    if len(raw.frame) == 0 or raw.typed:
        return raw
    first = [str(v).strip() for v in raw.frame.iloc[0].tolist()]
    filled = [v for v in first if v]
    if not filled or any(_word_key(v) not in _SUBHEADERS for v in filled):
        return raw
    frame = raw.frame.iloc[1:].reset_index(drop=True)
    bad = None if raw.bad_fields is None else raw.bad_fields.iloc[1:].reset_index(drop=True)
    return _Raw(frame, raw.lines[1:], bad, raw.name, raw.encoding, raw.delimiter, raw.typed)


# ---------------------------------------------------------------------------------------------
# Public loaders
# ---------------------------------------------------------------------------------------------
def load(
    source: str | Path | pd.DataFrame,
    kind: str,
    *,
    columns: Mapping[str, str] | None = None,
    quarantine: str | Path | None = None,
    cancel_prefix: str = CANCEL_PREFIX,
) -> LoadResult:
    """Load ``source`` (CSV / Parquet / Excel path, or a DataFrame) as a canonical ``kind`` table.

    ``columns`` maps canonical name → client header and overrides the aliases; ``quarantine`` is a
    CSV path the rejected rows are written to (only when given). File-level problems raise
    :class:`LoyaltyDataError`; row-level problems go to ``result.rejected``. A transactions file
    with quantity × unit price (or a line amount) is a line-item export: its lines become orders
    (:mod:`loyalty_lib.data.orders`); ``cancel_prefix`` is the order-id prefix of cancellations
    there ("C", as in UCI Online Retail; "" for none).
    """
    file = "<DataFrame>" if isinstance(source, pd.DataFrame) else str(source)
    _check_kind(kind, file)
    raw = _drop_subheader(_read(source))
    headers = [str(h) for h in raw.frame.columns]
    if len(raw.frame) == 0:
        raise LoyaltyDataError(
            f"{raw.name}: no data rows below the header; headers found: {_quote_list(headers)}",
            file=file,
        )
    mapping = _resolve_columns(headers, kind, columns, raw.name, file)
    line_items = kind == "transactions" and is_line_items(mapping)
    if line_items:
        # The amount column of a line-item export is not used (in Shopify it is the order
        # total on the order's first line only): the lines' values are summed instead.
        mapping.pop("amount", None)
    numeric = [
        h
        for c, h in mapping.items()
        if c
        in (
            "amount",
            "frequency",
            "recency",
            "T",
            "monetary",
            "total_spend",
            "quantity",
            "unit_price",
            "line_amount",
        )
        or c.startswith("rating_")
    ]
    # The text of typed Parquet numbers never has a ",", so only text columns can make it ",".
    decimal = "."
    if any(h not in raw.typed for h in numeric):
        sample = 100_000  # _detect_decimal's sample
        decimal = _detect_decimal(
            [
                _typed_text(raw.frame[h].iloc[:sample]) if h in raw.typed else raw.frame[h]
                for h in numeric
            ],
            sample,
        )
    is_csv = raw.encoding is not None
    if line_items:
        result = _assemble_lines(raw, mapping, decimal, decimal if is_csv else None, cancel_prefix)
    else:
        result = _assemble(kind, raw, mapping, decimal, decimal if is_csv else None)
    if quarantine is not None:
        result.write_quarantine(quarantine)
    return result


def load_transactions(
    source: str | Path | pd.DataFrame,
    *,
    columns: Mapping[str, str] | None = None,
    quarantine: str | Path | None = None,
    cancel_prefix: str = CANCEL_PREFIX,
) -> LoadResult:
    """Transactions: customer_id, date, amount (currency units, refunds negative), is_refund, ...

    Line-item exports (quantity × unit price, or a line amount) give one row per order with
    ``n_lines``; ``cancel_prefix`` marks cancelled orders by their id (see :func:`load`).
    """
    return load(
        source, "transactions", columns=columns, quarantine=quarantine, cancel_prefix=cancel_prefix
    )


def load_survey(
    source: str | Path | pd.DataFrame,
    *,
    columns: Mapping[str, str] | None = None,
    quarantine: str | Path | None = None,
) -> LoadResult:
    """NPS responses: respondent_id, customer_id, date, score (int 0-10), comment."""
    return load(source, "survey", columns=columns, quarantine=quarantine)


def load_exit_survey(
    source: str | Path | pd.DataFrame,
    *,
    columns: Mapping[str, str] | None = None,
    quarantine: str | Path | None = None,
) -> LoadResult:
    """Exit survey: customer_id, date, reason (+ reason_raw), comment, rating_<aspect> (1-5)."""
    return load(source, "exit_survey", columns=columns, quarantine=quarantine)


def load_campaign(
    source: str | Path | pd.DataFrame,
    *,
    columns: Mapping[str, str] | None = None,
    quarantine: str | Path | None = None,
) -> LoadResult:
    """Campaign assignment: customer_id, group (treatment/control), start_date."""
    return load(source, "campaign", columns=columns, quarantine=quarantine)


def load_customers(
    source: str | Path | pd.DataFrame,
    *,
    columns: Mapping[str, str] | None = None,
    quarantine: str | Path | None = None,
) -> LoadResult:
    """Per-customer summary: customer_id, frequency, recency, T (periods), monetary (currency)."""
    return load(source, "customers", columns=columns, quarantine=quarantine)
