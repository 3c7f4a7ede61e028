"""Loading: LoadResult and the public loaders (read → map headers → validate → assemble)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from loyalty_lib._result import Result
from loyalty_lib.data.columns import _check_kind, _quote_list, _resolve_columns
from loyalty_lib.data.parse import _detect_decimal
from loyalty_lib.data.read import _Raw, _read, _typed_text
from loyalty_lib.data.rules import _validate
from loyalty_lib.data.schema import _BAD_ROW, _DUP_SUFFIX, LoyaltyDataError


@dataclass(frozen=True, eq=False, repr=False)
class LoadResult(Result):
    """What a loader read: the canonical table, the rejected rows and what was detected.

    ``rejected`` has columns ``line`` (int, see module docstring), ``column`` (canonical name, ""
    for whole-row problems), ``value`` (original text), ``reason`` (plain English) and ``raw``
    (the original record as JSON). ``encoding``/``delimiter``/``decimal`` are None for Parquet,
    Excel and DataFrame input.
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

    @property
    def n_accepted(self) -> int:
        return len(self.accepted)

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
        }

    def __str__(self) -> str:
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

    bad = ~ok
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
    rejected = pd.DataFrame(
        {
            "line": pd.Series(raw.lines[bad], dtype="int64"),
            "column": pd.Series(column, dtype="str"),
            "value": pd.Series(value, dtype="str"),
            "reason": pd.Series(reason, dtype="str"),
            "raw": pd.Series(raw_json, dtype="str"),
        }
    )
    return LoadResult(
        kind=kind,
        source=raw.name,
        rows_read=len(raw.frame),
        accepted=accepted,
        rejected=rejected,
        encoding=raw.encoding,
        delimiter=raw.delimiter,
        decimal=reported_decimal,
        column_map=dict(mapping),
    )


# ---------------------------------------------------------------------------------------------
# Public loaders
# ---------------------------------------------------------------------------------------------
def load(
    source: str | Path | pd.DataFrame,
    kind: str,
    *,
    columns: Mapping[str, str] | None = None,
    quarantine: str | Path | None = None,
) -> LoadResult:
    """Load ``source`` (CSV / Parquet / Excel path, or a DataFrame) as a canonical ``kind`` table.

    ``columns`` maps canonical name → client header and overrides the aliases; ``quarantine`` is a
    CSV path the rejected rows are written to (only when given). File-level problems raise
    :class:`LoyaltyDataError`; row-level problems go to ``result.rejected``.
    """
    file = "<DataFrame>" if isinstance(source, pd.DataFrame) else str(source)
    _check_kind(kind, file)
    raw = _read(source)
    headers = [str(h) for h in raw.frame.columns]
    if len(raw.frame) == 0:
        raise LoyaltyDataError(
            f"{raw.name}: no data rows below the header; headers found: {_quote_list(headers)}",
            file=file,
        )
    mapping = _resolve_columns(headers, kind, columns, raw.name, file)
    numeric = [
        h
        for c, h in mapping.items()
        if c in ("amount", "frequency", "recency", "T", "monetary", "total_spend")
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
    result = _assemble(kind, raw, mapping, decimal, decimal if is_csv else None)
    if quarantine is not None:
        result.write_quarantine(quarantine)
    return result


def load_transactions(
    source: str | Path | pd.DataFrame,
    *,
    columns: Mapping[str, str] | None = None,
    quarantine: str | Path | None = None,
) -> LoadResult:
    """Transactions: customer_id, date, amount (currency units, refunds negative), is_refund, ..."""
    return load(source, "transactions", columns=columns, quarantine=quarantine)


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
