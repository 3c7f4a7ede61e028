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
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import io
import json
import re
import sys
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from loyalty_lib._result import Result

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
]

KINDS: tuple[str, ...] = ("transactions", "survey", "exit_survey", "campaign", "customers")

# ---------------------------------------------------------------------------------------------
# Header aliases: data, not code. Matching is case-insensitive, trims the header, treats ё as е and
# ignores spaces, underscores and hyphens ("Дата покупки" == "дата_покупки" == "ДАТАПОКУПКИ").
# ---------------------------------------------------------------------------------------------
_CUSTOMER = (
    "customer_id",
    "customer",
    "client",
    "client_id",
    "клиент",
    "id клиента",
    "код клиента",
    "номер клиента",
    "покупатель",
    "id покупателя",
    "код покупателя",
    "номер карты",
    "карта",
)
_DATE = ("date", "дата")

HEADER_ALIASES: dict[str, dict[str, tuple[str, ...]]] = {
    "transactions": {
        "customer_id": _CUSTOMER,
        "date": _DATE
        + (
            "order_date",
            "purchase_date",
            "transaction_date",
            "дата покупки",
            "дата чека",
            "дата заказа",
        ),
        "amount": (
            "amount",
            "sum",
            "total",
            "revenue",
            "сумма",
            "сумма покупки",
            "сумма чека",
            "сумма заказа",
            "выручка",
        ),
        "is_refund": ("is_refund", "refund", "return", "возврат", "признак возврата"),
        "order_id": (
            "order_id",
            "order",
            "receipt",
            "receipt_id",
            "чек",
            "номер чека",
            "заказ",
            "номер заказа",
        ),
        "channel": ("channel", "канал", "канал продаж"),
        "store": ("store", "shop", "магазин", "точка", "точка продаж"),
    },
    "survey": {
        "respondent_id": (
            "respondent_id",
            "respondent",
            "анкета",
            "номер анкеты",
            "id респондента",
            "респондент",
        ),
        "customer_id": _CUSTOMER,
        "date": _DATE + ("response_date", "survey_date", "дата ответа", "дата опроса"),
        "score": ("score", "nps", "nps score", "rating", "оценка", "балл"),
        "comment": ("comment", "feedback", "комментарий", "отзыв"),
    },
    "exit_survey": {
        "customer_id": _CUSTOMER,
        "date": _DATE
        + ("exit_date", "churn_date", "response_date", "дата ответа", "дата опроса", "дата ухода"),
        "reason": ("reason", "churn_reason", "exit_reason", "причина", "причина ухода"),
        "comment": ("comment", "feedback", "комментарий", "отзыв"),
    },
    "campaign": {
        "customer_id": _CUSTOMER,
        "group": ("group", "arm", "группа"),
        "start_date": ("start_date", "start", "campaign_start", "дата начала", "старт", "начало"),
    },
    "customers": {
        "customer_id": _CUSTOMER,
        "frequency": ("frequency", "freq", "частота"),
        "recency": ("recency", "давность"),
        "T": ("T", "age", "возраст", "срок"),
        "monetary": ("monetary", "monetary_value", "средний чек"),
        "first_purchase": ("first_purchase", "первая покупка", "дата первой покупки"),
        "last_purchase": ("last_purchase", "последняя покупка", "дата последней покупки"),
        "orders": ("orders", "n_orders", "число заказов", "количество покупок"),
        "total_spend": ("total_spend", "сумма покупок", "итого"),
    },
}

REQUIRED_COLUMNS: dict[str, tuple[str, ...]] = {
    "transactions": ("customer_id", "date", "amount"),
    "survey": ("date", "score"),
    "exit_survey": ("customer_id", "date", "reason"),
    "campaign": ("customer_id", "group", "start_date"),
    "customers": ("customer_id", "frequency", "recency", "T", "monetary"),
}

# exit_survey: 1-5 aspect ratings. A header is a rating if it is `rating_<aspect>`, `оценка: <аспект>`
# or a bare aspect name below.
RATING_ASPECTS: dict[str, tuple[str, ...]] = {
    "price": ("price", "цена", "стоимость"),
    "quality": ("quality", "качество"),
    "service": ("service", "сервис", "обслуживание"),
    "support_speed": ("support_speed", "скорость поддержки", "скорость ответа"),
    "assortment": ("assortment", "ассортимент"),
    "delivery": ("delivery", "доставка"),
}

EXIT_REASONS: dict[str, tuple[str, ...]] = {
    "price": ("price", "цена", "цены", "дорого", "высокая цена"),
    "quality": ("quality", "качество", "плохое качество"),
    "service": ("service", "сервис", "обслуживание", "плохое обслуживание"),
    "competition": (
        "competition",
        "competitor",
        "competitors",
        "конкуренты",
        "конкурент",
        "конкуренция",
        "ушел к конкуренту",
    ),
    "other": ("other", "другое", "прочее", "иное"),
}

GROUP_VALUES: dict[str, tuple[str, ...]] = {
    "treatment": ("treatment", "test", "тест", "тестовая", "тестовая группа"),
    "control": ("control", "holdout", "контроль", "контрольная", "контрольная группа"),
}

TRUE_WORDS = ("true", "1", "yes", "y", "t", "да", "д", "истина", "x", "+", "возврат")
FALSE_WORDS = ("false", "0", "no", "n", "f", "нет", "н", "ложь", "", "-", "продажа")

_DATE_RE = re.compile(
    r"^(?:(?P<iso>\d{4}-\d{1,2}-\d{1,2})|(?P<dmy4>\d{1,2}\.\d{1,2}\.\d{4})|"
    r"(?P<dmy2>\d{1,2}\.\d{1,2}\.\d{2}))"
    r"(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?$"
)
_DATE_FORMATS = {"iso": "%Y-%m-%d", "dmy4": "%d.%m.%Y", "dmy2": "%d.%m.%y"}
_DUP_SUFFIX = re.compile(r"\s*(?:of line \d+|\(first at line \d+\))$")
_BAD_ROW = "\x00BADROW"


def _norm(text: Any) -> str:
    """Header / value key: casefolded, trimmed, ё→е, without spaces, underscores and hyphens."""
    return re.sub(
        r"[\s_\-]+", "", str(text).strip().replace("\ufeff", "").casefold().replace("ё", "е")
    )


def _lookup(table: Mapping[str, tuple[str, ...]]) -> dict[str, str]:
    return {_norm(alias): key for key, aliases in table.items() for alias in aliases}


_ASPECT_LOOKUP = _lookup(RATING_ASPECTS)
_REASON_LOOKUP = _lookup(EXIT_REASONS)
_GROUP_LOOKUP = _lookup(GROUP_VALUES)
_FLAG_LOOKUP = {**{_norm(w): False for w in FALSE_WORDS}, **{_norm(w): True for w in TRUE_WORDS}}


class LoyaltyDataError(ValueError):
    """A file-level problem: the file cannot be turned into a canonical table at all.

    Attributes ``file`` (path or ``"<DataFrame>"``), ``column`` (canonical column concerned, or
    None) and ``row`` (line number, or None).
    """

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        column: str | None = None,
        row: int | None = None,
    ) -> None:
        super().__init__(message)
        self.file = file
        self.column = column
        self.row = row


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


# ---------------------------------------------------------------------------------------------
# Reading: everything as text, with the source line of each record.
# ---------------------------------------------------------------------------------------------
@dataclass
class _Raw:
    frame: pd.DataFrame  # original headers; columns str, except the typed ones below
    lines: np.ndarray  # int64, source line of each record
    bad_fields: pd.Series | None  # "n fields, expected m" for malformed rows, else NaN
    name: str
    encoding: str | None = None
    delimiter: str | None = None
    # Parquet: headers whose column keeps its type (numbers, bools, dates) instead of text;
    # _typed_text gives the text the text path would have seen.
    typed: frozenset[str] = frozenset()


def _line_numbers(n: int) -> np.ndarray:
    """Lines 2..n+1: record i of a file without embedded newlines or blank lines."""
    return np.arange(2, n + 2, dtype=np.int64)


def _decode(data: bytes, name: str, file: str) -> tuple[str, str]:
    if data.startswith(codecs.BOM_UTF8):
        candidates = ("utf-8-sig",)
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        candidates = ("utf-16",)
    else:
        # cp1251 maps almost every byte, so it must come after the strict UTF-8 attempt.
        candidates = ("utf-8", "cp1251")
    for enc in candidates:
        try:
            text = data.decode(enc)
        except UnicodeDecodeError:
            continue
        if "\x00" in text:
            break
        return text, enc
    raise LoyaltyDataError(
        f"{name}: cannot decode the file as text (tried {', '.join(candidates)}); "
        "expected a CSV in UTF-8 or cp1251 — is it a binary file such as .xlsx renamed to .csv?",
        file=file,
    )


def _sniff_delimiter(header_line: str) -> str:
    counts = {d: header_line.count(d) for d in (",", ";", "\t")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def _read_csv_text(
    text: str, name: str, file: str, delimiter: str
) -> tuple[pd.DataFrame, pd.Series | None]:
    try:
        header = next(csv.reader(io.StringIO(text), delimiter=delimiter))
    except (csv.Error, StopIteration) as exc:
        raise LoyaltyDataError(f"{name}: malformed CSV header ({exc})", file=file) from exc
    n_header = len(header)
    # header=None + names: the header line is read as row 0. Otherwise pandas would take a first
    # data row with extra fields as an implicit index and silently drop a field.
    opts: dict[str, Any] = dict(
        sep=delimiter,
        dtype=str,
        keep_default_na=False,
        header=None,
        names=list(range(n_header)),
        skip_blank_lines=False,
        index_col=False,
    )
    frame: pd.DataFrame | None = None
    width = n_header
    for _ in range(3):
        try:
            frame = pd.read_csv(io.StringIO(text), **{**opts, "names": list(range(width))})
            break
        except pd.errors.EmptyDataError as exc:
            raise LoyaltyDataError(f"{name}: file is empty (no header row)", file=file) from exc
        except pd.errors.ParserError as exc:
            found = re.search(r"Expected \d+ fields in line \d+, saw (\d+)", str(exc))
            if not found:
                raise LoyaltyDataError(f"{name}: malformed CSV ({exc})", file=file) from exc
            # Rows with more fields than the header: re-read wide enough to keep them in place
            # (line numbers stay right) and reject them as "wrong number of fields".
            width = max(int(found.group(1)), width + 1)
    if frame is None:  # still irregular after widening: the slow python engine, row by row

        def keep_marked(fields: list[str]) -> list[str]:
            if not any(fields[n_header:]):  # only trailing empty fields: tolerated, as above
                return fields[:n_header]
            return [_marker(fields)]

        try:
            frame = pd.read_csv(
                io.StringIO(text), engine="python", on_bad_lines=keep_marked, **opts
            )
        except pd.errors.ParserError as exc:
            raise LoyaltyDataError(f"{name}: malformed CSV ({exc})", file=file) from exc
        frame = frame.fillna("")
    elif width > n_header:
        # Trailing empty fields ("a,b,c,") are tolerated; non-empty extra fields are not.
        nonempty = frame.iloc[:, n_header:].ne("").to_numpy()
        for r in np.flatnonzero(nonempty.any(axis=1)):
            n_fields = n_header + int(np.flatnonzero(nonempty[r])[-1]) + 1
            frame.iat[r, 0] = _marker([str(v) for v in frame.iloc[r, :n_fields]])
        frame = frame.iloc[:, :n_header]
    bad: pd.Series | None = None
    first = frame.iloc[:, 0]
    marked = first.str.startswith(_BAD_ROW)
    if marked.any():
        bad = pd.Series(np.nan, index=frame.index, dtype=object)
        bad[marked] = (
            first[marked].str.slice(len(_BAD_ROW)).str.split("|", n=1).str[0]
            + f" fields, expected {n_header}"
        )
        bad = bad.iloc[1:].reset_index(drop=True)
    frame = frame.iloc[1:].reset_index(drop=True)
    frame.columns = _dedupe(header)
    return frame, bad


def _marker(fields: list[str]) -> str:
    """A malformed record squeezed into its first field: field count, newlines, the fields."""
    newlines = sum(f.count("\n") for f in fields)
    return f"{_BAD_ROW}{len(fields)}|{newlines}|{json.dumps(fields, ensure_ascii=False)}"


def _dedupe(headers: list[str]) -> list[str]:
    """Repeated headers get ".1", ".2" like pandas does, so every column stays addressable."""
    seen: dict[str, int] = {}
    out = []
    for h in headers:
        n = seen.get(h, 0)
        seen[h] = n + 1
        out.append(h if n == 0 else f"{h}.{n}")
    return out


def _parse_csv_arrow(source: Any, delimiter: str) -> pd.DataFrame | None:
    """``pd.read_csv`` with Arrow's multithreaded reader, all text; None if Arrow refuses."""
    try:
        return pd.read_csv(
            source, sep=delimiter, dtype=str, keep_default_na=False, engine="pyarrow"
        )
    except Exception:  # any irregularity: let the careful path report it
        return None


def _read_csv_fast(text: str, delimiter: str) -> pd.DataFrame | None:
    """Arrow's multithreaded reader (~10x pandas' C parser for text columns) for regular files.

    Returns None unless record i is certainly on line i + 2: every row has the header's field
    count, no field or header holds a newline and no blank line was skipped. Anything else goes
    to the slower pandas path, which tracks line numbers.
    """
    frame = _parse_csv_arrow(io.BytesIO(text.encode("utf-8")), delimiter)
    if frame is None:
        return None
    if any("\n" in str(h) for h in frame.columns):
        return None
    if text.rstrip().count("\n") + 1 != len(frame) + 1:
        return None
    if '"' in text and any(frame[c].str.contains("\n", regex=False).any() for c in frame.columns):
        return None
    return frame


# The characters str.strip() removes that are ASCII (it also removes \x1c-\x1f; bytes.strip doesn't).
_ASCII_SPACE = b" \t\n\r\x0b\x0c\x1c\x1d\x1e\x1f"


def _text_end(data: bytes) -> int | None:
    """Byte length of ``data.decode("utf-8").rstrip()`` (UTF-8 ``data``); None when in doubt."""
    end = len(data)
    while end and data[end - 1] in _ASCII_SPACE:
        end -= 1
    if end and data[end - 1] >= 0x80:  # ends in a multi-byte character: is it a Unicode space?
        start = end - 1
        while start > max(end - 4, 0) and 0x80 <= data[start] < 0xC0:
            start -= 1
        try:
            if data[start:end].decode("utf-8").isspace():
                return None  # e.g. a trailing NBSP: the text path decides
        except UnicodeDecodeError:
            return None
    return end


@dataclass
class _Utf8Scan:
    """What ``_read_csv_fast`` checks in the text, found in one pass over a UTF-8 file's bytes."""

    encoding: str  # "utf-8-sig" (BOM) or "utf-8", as _decode would pick
    header: str  # the first line, without the BOM
    newlines: int  # "\n" in the text without its trailing whitespace
    quoted: bool  # a '"' after the first line (only then can a field hold a newline)


def _scan_utf8(path: Path, block: int = 1 << 24) -> _Utf8Scan | None:
    """Scan the file in blocks if it is UTF-8 without NUL and not blank, else None.

    A 10M-row file is ~450 MB: reading it block by block, instead of holding its bytes, its
    decoded text and a re-encoding of it, keeps ~1.3 GB out of the peak.
    """
    decoder = codecs.getincrementaldecoder("utf-8")()
    newlines = size = 0
    header: bytes | None = None
    head = b""
    quoted = False
    # The last block with something besides ASCII whitespace, where that ends (as in
    # text.rstrip()) and the absolute offset of that end; newlines after it.
    content, content_end, end_at, trailing = b"", 0, 0, 0
    try:
        with open(path, "rb") as f:
            while chunk := f.read(block):
                if b"\x00" in chunk:
                    return None  # _decode refuses NUL characters
                if not chunk.isascii() or decoder.getstate()[0]:
                    decoder.decode(chunk)
                newlines += chunk.count(b"\n")
                if header is None:
                    cut = chunk.find(b"\n")
                    if cut < 0:
                        head += chunk
                    else:
                        header = head + chunk[:cut]
                        quoted = b'"' in chunk[cut:]
                else:
                    quoted = quoted or b'"' in chunk
                end = len(chunk)
                while end and chunk[end - 1] in _ASCII_SPACE:
                    end -= 1
                if end:
                    content, content_end, end_at = chunk, end, size + end
                    trailing = chunk.count(b"\n", end)
                else:
                    trailing += chunk.count(b"\n")
                size += len(chunk)
            decoder.decode(b"", final=True)
    except (OSError, UnicodeDecodeError):
        return None
    if header is None:
        header = head
    if _text_end(content[:content_end]) != content_end:
        return None  # ends in a Unicode space (or a character split across blocks): unsure
    newlines -= trailing
    encoding = "utf-8"
    if header.startswith(codecs.BOM_UTF8):
        encoding, header = "utf-8-sig", header[len(codecs.BOM_UTF8) :]
        if header.startswith(codecs.BOM_UTF8):
            return None  # a second BOM is text to the text path
    if end_at <= (3 if encoding == "utf-8-sig" else 0):
        return None  # empty: the text path reports it
    return _Utf8Scan(encoding, header.decode("utf-8"), newlines, quoted)


def _has_newline(s: pd.Series) -> bool:
    """Whether any value of the text column holds "\\n" (a byte scan of Arrow's buffers)."""
    chunks = _string_chunks(s)
    if chunks is None:
        return bool(s.str.contains("\n", regex=False).any())
    return any(bool((data[at[0] : at[-1]] == 10).any()) for data, at in chunks)


def _read_utf8_fast(path: Path, name: str) -> _Raw | None:
    """A regular UTF-8 CSV read by Arrow straight from the file, or None for the text path.

    The same frame as decoding the file and handing Arrow the re-encoded text (that path's
    checks are made on the bytes by ``_scan_utf8``), without holding the file in memory.
    """
    scan = _scan_utf8(path)
    if scan is None:
        return None
    delimiter = _sniff_delimiter(scan.header)
    frame = _parse_csv_arrow(path, delimiter)
    if frame is None or any("\n" in str(h) for h in frame.columns):
        return None
    if scan.newlines != len(frame):
        return None
    if scan.quoted and any(_has_newline(frame[c]) for c in frame.columns):
        return None
    lines = _line_numbers(len(frame))
    _release_arrow_memory()
    return _Raw(frame, lines, None, name, scan.encoding, delimiter)


def _record_lines(frame: pd.DataFrame, text: str, bad: pd.Series | None) -> np.ndarray:
    """Physical start line of each record (header = line 1)."""
    header_lines = 1 + sum(str(h).count("\n") for h in frame.columns)
    n = len(frame)
    physical = text.count("\n") + (0 if text.endswith("\n") else 1)
    if '"' in text and physical != header_lines + n:
        # Embedded newlines survive only inside quoted fields and are kept in the values.
        extra = np.zeros(n, dtype=np.int64)
        for col in frame.columns:
            extra += frame[col].str.count("\n").to_numpy(dtype=np.int64)
        if bad is not None:
            marked = bad.notna().to_numpy()
            if marked.any():
                nl = frame.iloc[:, 0][marked].str.split("|", n=2).str[1].astype(int)
                extra[marked] = nl.to_numpy()
    else:
        extra = np.zeros(n, dtype=np.int64)
    span = 1 + extra
    return header_lines + 1 + np.concatenate(([0], np.cumsum(span)[:-1])).astype(np.int64)


def _drop_blank_lines(frame: pd.DataFrame, lines: np.ndarray, text: str) -> np.ndarray:
    """Boolean mask of records that are really blank lines (with skip_blank_lines=False)."""
    idx = frame.index
    for col in frame.columns:
        if not len(idx):
            break
        idx = idx[frame.loc[idx, col].eq("").to_numpy()]
    blank = np.zeros(len(frame), dtype=bool)
    if len(idx):
        physical = text.split("\n")
        for i in idx:
            pos = frame.index.get_loc(i)
            ln = lines[pos]
            blank[pos] = ln - 1 < len(physical) and physical[ln - 1].strip() == ""
    return blank


def _frame_to_text(df: pd.DataFrame) -> pd.DataFrame:
    """A typed DataFrame (Parquet, user input) as text, missing values as ""."""
    import pyarrow as pa

    out = {}
    for col in df.columns:
        s = df[col]
        missing = s.isna().to_numpy()
        if isinstance(s.dtype, pd.DatetimeTZDtype) or pd.api.types.is_datetime64_any_dtype(s):
            text = s.dt.strftime("%Y-%m-%d %H:%M:%S")
        else:
            # Arrow's cast runs in C++; Series.astype(str) formats row by row in Python (~5x
            # slower: 20 s of a 10M-row Parquet load). Numbers may print differently ("2337"
            # vs "2337.0", "false" vs "False") but parse back to the same values.
            try:
                text = pd.Series(
                    pa.Array.from_pandas(s).cast(pa.string()), dtype="str", index=s.index
                )
            except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
                text = s.astype(str)  # mixed objects, lists, ...: Python's str() per value
        text = text.astype("str").mask(missing, "")
        # By position: a frame with another index (a filtered one) must not align to NaN.
        out[str(col)] = text.reset_index(drop=True)
    return pd.DataFrame(out, index=pd.RangeIndex(len(df)))


_MAX_EXACT_INT = 2**53  # integers up to this size are exact in float64
# datetime.date's range (years 1-9999) in days since 1970-01-01, Arrow's date32 unit.
_DATE_MIN_DAYS, _DATE_MAX_DAYS = -719_162, 2_932_896


def _parquet_columns(table: Any) -> dict[str, pd.Series] | None:
    """The Parquet table as pandas columns: text columns str, the rest typed; None if unsure.

    Text columns (Arrow strings, null → "") are what the text path makes of them. Numbers and
    bools without nulls are what ``pd.read_parquet`` gives (NumPy), ints with nulls float64 as
    there; dates, timestamps and bools with nulls stay Arrow-backed (``pd.read_parquet`` would
    box every value into a Python object). None sends the file to the text path: a stored pandas
    index, repeated or renamed columns, types outside these, dates outside Python's range.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    meta = table.schema.pandas_metadata or {}
    if any(not isinstance(i, dict) for i in meta.get("index_columns", [])):
        return None
    if len(meta.get("column_indexes", [])) > 1:
        return None
    names = table.column_names
    if not names or len(set(names)) != len(names):
        return None
    for col in meta.get("columns", []):
        if col.get("field_name") in names and str(col.get("name")) != col.get("field_name"):
            return None
    index = pd.RangeIndex(table.num_rows)
    out: dict[str, pd.Series] = {}
    for name, col in zip(names, table.columns, strict=True):
        t = col.type
        if pa.types.is_string(t) or pa.types.is_large_string(t):
            col = col.cast(pa.large_string())
            if col.null_count:
                col = col.fill_null("")
            s = col.to_pandas()
            if s.dtype != "str":
                return None
        elif pa.types.is_integer(t) and col.null_count:
            low_high = pc.min_max(col).values()
            if any(v.as_py() is not None and abs(v.as_py()) > _MAX_EXACT_INT for v in low_high):
                return None  # pandas makes it float64 (or Int64 from pandas metadata): unsure
            s = pd.Series(col.to_numpy(zero_copy_only=False).astype(np.float64), copy=False)
        elif pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_boolean(t):
            if pa.types.is_boolean(t) and col.null_count:
                s = pd.Series(pd.arrays.ArrowExtensionArray(col), copy=False)
            else:
                s = pd.Series(col.to_numpy(zero_copy_only=False), copy=False)
        elif pa.types.is_date(t) or pa.types.is_timestamp(t):
            if pa.types.is_date(t):
                low, high = pc.min_max(col.cast(pa.date32())).values()
                if low.is_valid and (low.value < _DATE_MIN_DAYS or high.value > _DATE_MAX_DAYS):
                    return None  # outside datetime.date's years 1-9999: let pandas raise
            s = pd.Series(pd.arrays.ArrowExtensionArray(col), copy=False)
        else:
            return None
        out[name] = s.set_axis(index)
    return out


def _typed_text(s: pd.Series) -> pd.Series:
    """Text of typed Parquet values, as the text path gets it (pd.read_parquet, _frame_to_text)."""
    if isinstance(s.dtype, pd.ArrowDtype):
        import pyarrow as pa

        values = pa.table({"v": pa.array(s.array)}).to_pandas()["v"]
    else:
        values = s.reset_index(drop=True)
    return _frame_to_text(pd.DataFrame({"v": values}))["v"].set_axis(s.index)


def _release_arrow_memory() -> None:
    """Hand memory Arrow freed back to the system (its allocator keeps freed blocks for reuse,
    which NumPy's allocations can't use): ~100 MB of the peak per 6M rows read."""
    import pyarrow as pa

    pa.default_memory_pool().release_unused()


def release_memory() -> None:
    """Hand all memory freed since loading back to the operating system (call after dropping a
    big LoadResult, before another process needs the room).

    Freed blocks otherwise stay with the allocators, glibc's malloc for NumPy and pandas and
    Arrow's own pool for its strings: after loading 10M rows, ``loyalty report`` kept ~2 GB
    resident while its notebook's kernel, a second process, loaded the validated tables again.
    """
    import ctypes
    import ctypes.util
    import gc

    gc.collect()
    _release_arrow_memory()
    libc = ctypes.util.find_library("c")
    if libc and sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):  # not glibc (e.g. musl): nothing to do
            ctypes.CDLL(libc).malloc_trim(0)


def _read_parquet(path: Path, name: str) -> _Raw:
    import pyarrow.parquet as pq

    table = pq.read_table(path)
    columns = _parquet_columns(table)
    n = table.num_rows
    del table
    _release_arrow_memory()
    lines = _line_numbers(n)
    if columns is None:
        frame = _frame_to_text(pd.read_parquet(path))
        return _Raw(frame, lines, None, name)
    typed = frozenset(h for h, s in columns.items() if s.dtype != "str")
    frame = pd.DataFrame(columns, index=pd.RangeIndex(n), copy=False)
    return _Raw(frame, lines, None, name, typed=typed)


def _read(source: str | Path | pd.DataFrame) -> _Raw:
    if isinstance(source, pd.DataFrame):
        name = "<DataFrame>"
        if source.shape[1] == 0:
            raise LoyaltyDataError(f"{name}: no columns", file=name)
        frame = _frame_to_text(source)
        return _Raw(frame, _line_numbers(len(frame)), None, name)
    if not isinstance(source, str | Path):
        raise TypeError(
            f"source must be a path (str or Path) or a pandas DataFrame, "
            f"got {type(source).__name__}"
        )
    path = Path(source)
    name, file = path.name, str(path)
    if not path.exists():
        raise LoyaltyDataError(f"{name}: file not found ({file})", file=file)
    if not path.is_file():
        raise LoyaltyDataError(f"{name}: not a file ({file})", file=file)
    suffix = path.suffix.lower()
    try:
        if suffix in (".parquet", ".pq"):
            return _read_parquet(path, name)
        if suffix in (".xlsx", ".xlsm", ".xls"):
            frame = pd.read_excel(path, sheet_name=0, dtype=str, keep_default_na=False)
            frame = frame.astype("str")
            return _Raw(frame, _line_numbers(len(frame)), None, name)
        fast = _read_utf8_fast(path, name)
        if fast is not None:
            return fast
        data = path.read_bytes()
    except LoyaltyDataError:
        raise
    except Exception as exc:  # unreadable / corrupt: report it as a file-level problem
        raise LoyaltyDataError(
            f"{name}: cannot read the file ({type(exc).__name__}: {exc})", file=file
        ) from exc
    text, encoding = _decode(data, name, file)
    del data
    if not text.strip():
        raise LoyaltyDataError(f"{name}: file is empty (no header row)", file=file)
    delimiter = _sniff_delimiter(text.split("\n", 1)[0])
    frame = _read_csv_fast(text, delimiter)
    if frame is not None:
        return _Raw(frame, _line_numbers(len(frame)), None, name, encoding, delimiter)
    frame, bad = _read_csv_text(text, name, file, delimiter)
    lines = _record_lines(frame, text, bad)
    blank = _drop_blank_lines(frame, lines, text)
    if blank.any():
        keep = ~blank
        frame = frame.loc[keep].reset_index(drop=True)
        lines = lines[keep]
        bad = None if bad is None else bad.loc[keep].reset_index(drop=True)
    return _Raw(frame, lines, bad, name, encoding, delimiter)


# ---------------------------------------------------------------------------------------------
# Header mapping
# ---------------------------------------------------------------------------------------------
def _rating_key(header: str) -> str | None:
    h = str(header).strip().casefold().replace("ё", "е")
    m = re.fullmatch(r"(rating|оценка)\s*[:_\-–(]?\s*(.+?)\)?", h)
    aspect = m.group(2) if m else h
    key = _ASPECT_LOOKUP.get(_norm(aspect))
    if key:
        return f"rating_{key}"
    if m and m.group(1) == "rating":
        slug = re.sub(r"[\s\-]+", "_", aspect).strip("_")
        if re.fullmatch(r"[a-z0-9_]+", slug):
            return f"rating_{slug}"
    return None


def _quote_list(items: list[str]) -> str:
    return ", ".join(f"'{h}'" for h in items) if items else "(none)"


def _check_kind(kind: str, file: str | None = None) -> None:
    if kind not in KINDS:
        raise LoyaltyDataError(
            f"unknown kind {kind!r}; expected one of: {', '.join(KINDS)}", file=file
        )


def _valid_canonical(kind: str, name: str) -> bool:
    return name in HEADER_ALIASES[kind] or (
        kind == "exit_survey" and re.fullmatch(r"rating_[a-z0-9_]+", name) is not None
    )


def _resolve_columns(
    headers: list[str], kind: str, explicit: Mapping[str, str] | None, name: str, file: str
) -> dict[str, str]:
    found = _quote_list(headers)
    mapping: dict[str, str] = {}
    for canon, header in (explicit or {}).items():
        if not _valid_canonical(kind, canon):
            raise LoyaltyDataError(
                f"{name}: column mapping names {canon!r}, which is not a {kind} column; expected "
                f"one of: {', '.join(HEADER_ALIASES[kind])}"
                + (", rating_<aspect>" if kind == "exit_survey" else ""),
                file=file,
                column=canon,
            )
        matches = [h for h in headers if h == header] or [
            h for h in headers if _norm(h) == _norm(header)
        ]
        if len(matches) != 1:
            raise LoyaltyDataError(
                f"{name}: column mapping says {canon!r} is header {header!r}, which "
                f"{'is not in the file' if not matches else 'matches several headers'}; "
                f"headers found: {found}",
                file=file,
                column=canon,
            )
        mapping[canon] = matches[0]
    used = set(mapping.values())
    for canon, aliases in HEADER_ALIASES[kind].items():
        if canon in mapping:
            continue
        keys = {_norm(a) for a in aliases}
        matches = [h for h in headers if h not in used and _norm(h) in keys]
        if len(matches) > 1:
            raise LoyaltyDataError(
                f"{name}: column {canon!r} is ambiguous: headers {_quote_list(matches)} all match; "
                f"pass columns={{'{canon}': <header>}} to choose",
                file=file,
                column=canon,
            )
        if matches:
            mapping[canon] = matches[0]
            used.add(matches[0])
    if kind == "exit_survey":
        ratings: dict[str, list[str]] = {}
        for h in headers:
            key = None if h in used else _rating_key(h)
            if key and key not in mapping:
                ratings.setdefault(key, []).append(h)
        for key, hs in ratings.items():
            if len(hs) > 1:
                raise LoyaltyDataError(
                    f"{name}: column {key!r} is ambiguous: headers {_quote_list(hs)} all match; "
                    f"pass columns={{'{key}': <header>}} to choose",
                    file=file,
                    column=key,
                )
            mapping[key] = hs[0]
    for canon in REQUIRED_COLUMNS[kind]:
        if canon not in mapping:
            if kind == "survey" and canon == "respondent_id":
                continue
            looked = ", ".join(HEADER_ALIASES[kind][canon])
            raise LoyaltyDataError(
                f"{name}: required column {canon!r} not found (looked for: {looked}); "
                f"headers found: {found}",
                file=file,
                column=canon,
            )
    return mapping


# ---------------------------------------------------------------------------------------------
# Vectorised parsers (text Series → typed Series, NaN/NaT where the text does not parse)
# ---------------------------------------------------------------------------------------------
_SPACES = r"[\s\u00a0\u202f'’]"


def _clean_number_text(s: pd.Series) -> pd.Series:
    # Literal replaces run in Arrow; a regex character class here costs ~20x more per row.
    for ch in (" ", "\u00a0", "\u202f", "\t", "'", "’"):
        s = s.str.replace(ch, "", regex=False)
    s = s.str.replace("−", "-", regex=False)
    currency = s.str.contains("₽", regex=False) | s.str.contains("р", regex=False)
    if currency.any():
        s = s.mask(currency, s.str.replace(r"(?:₽|руб\.?|р\.)$", "", regex=True))
    return s


def _detect_decimal(columns: list[pd.Series], sample: int = 100_000) -> str:
    """ "," if the numbers use a decimal comma, else "." (ambiguous "1,234" counts for neither)."""
    comma = dot = 0
    for s in columns:
        t = _clean_number_text(s.iloc[:sample])
        has_c = t.str.contains(",", regex=False)
        has_d = t.str.contains(".", regex=False)
        both = (has_c & has_d).to_numpy()
        comma += int((has_c & ~has_d & ~t.str.fullmatch(r"[+-]?\d{1,3}(,\d{3})+")).sum())
        dot += int((has_d & ~has_c & ~t.str.fullmatch(r"[+-]?\d{1,3}(\.\d{3})+")).sum())
        if both.any():  # "1.234,50" / "1,234.50": the last separator is the decimal one
            tb = t[both]
            last_comma = int((tb.str.rfind(",") > tb.str.rfind(".")).sum())
            comma += last_comma
            dot += int(both.sum()) - last_comma
    return "," if comma > dot else "."


def _to_number(s: pd.Series, decimal: str, *, stripped: bool = False) -> pd.Series:
    """Text → float64 (NaN where it is not a number), by the file's decimal separator.

    Spaces / NBSP / apostrophes are thousands separators. With decimal "," a "." is a thousands
    separator unless the value has no "," and is not grouped like "1.234" ("1234.50" still reads
    as 1234.5); with decimal "." a lone "," is a decimal comma unless grouped like "1,234".
    ``stripped``: ``s`` has no surrounding spaces already.
    """
    t = s if stripped else s.str.strip()
    # Fast path: plain numbers go straight to a C parser; only the rest is cleaned.
    if decimal == ",":
        plain = ~t.str.contains(".", regex=False)
        num = _numeric(t.str.replace(",", ".", regex=False).where(plain, ""))
    else:
        num = _numeric(t)
    finite = np.isfinite(num.to_numpy())
    if finite.all():
        return num
    num = num.where(finite)
    slow = ~finite & (t != "").to_numpy()
    if slow.any():
        num[slow] = _to_number_slow(t[slow], decimal).to_numpy()
    return num


# Plain decimal / scientific notation: Arrow's parser and pd.to_numeric read it to the same float.
_PLAIN_NUMBER = r"^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$"


def _numeric(t: pd.Series) -> pd.Series:
    """``pd.to_numeric(t, errors="coerce")`` as float64, ~6x faster and without Python objects.

    Arrow parses the text; values in other notations ("inf", "1,5", words) go to
    ``pd.to_numeric``. pd.to_numeric reads an all-integer column as int64 first, which turns
    "-0" into 0.0 and rounds integers above 2**53 its own way: a column with either is
    handed to pd.to_numeric whole.
    """

    def reference() -> pd.Series:
        return pd.to_numeric(t, errors="coerce").astype("float64")

    import pyarrow as pa
    import pyarrow.compute as pc

    try:
        arr = pa.array(t.array)
        if not (pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type)):
            return reference()
        try:
            values = pc.cast(arr, pa.float64()).to_numpy(zero_copy_only=False)
            rest = None
        except pa.ArrowInvalid:  # some values are not plain numbers
            plain = pc.fill_null(pc.match_substring_regex(arr, _PLAIN_NUMBER), False)
            parsed = pc.cast(pc.if_else(plain, arr, pa.scalar(None, arr.type)), pa.float64())
            values = parsed.to_numpy(zero_copy_only=False)
            rest = ~plain.to_numpy(zero_copy_only=False)
    except (TypeError, ValueError, pa.ArrowException):
        return reference()
    if not values.flags.writeable:
        values = values.copy()
    if rest is not None and rest.any():
        values[rest] = pd.to_numeric(t[rest], errors="coerce").astype("float64").to_numpy()
    zeros = values == 0
    if zeros.any() and np.signbit(values[zeros]).any():
        return reference()
    del zeros
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN: nothing big
        big = len(values) and (
            np.nanmax(values) > _MAX_EXACT_INT or np.nanmin(values) < -_MAX_EXACT_INT
        )
    if big:
        finite = np.isfinite(values)  # infinities are fine: only big finite values count
        if np.any(np.abs(values[finite]) > _MAX_EXACT_INT):
            return reference()
    return pd.Series(values, index=t.index, copy=False)


def _to_number_slow(s: pd.Series, decimal: str) -> pd.Series:
    t = _clean_number_text(s)
    if decimal == ",":
        conv = t.str.contains(",", regex=False) | t.str.fullmatch(r"[+-]?\d{1,3}(\.\d{3})+")
        t = t.mask(conv, t.str.replace(".", "", regex=False).str.replace(",", ".", regex=False))
    else:
        only_comma = t.str.contains(",", regex=False) & ~t.str.contains(".", regex=False)
        thousands = t.str.fullmatch(r"[+-]?\d{1,3}(,\d{3})+")
        t = t.mask(only_comma & ~thousands, t.str.replace(",", ".", regex=False))
        t = t.str.replace(",", "", regex=False)
    # Only plain decimal notation: to_numeric alone would also accept "inf" and "nan".
    t = t.where(t.str.fullmatch(r"[+-]?(\d+\.?\d*|\.\d+)"), "")
    return pd.to_numeric(t, errors="coerce").astype("float64")


def _parse_dates_unique(u: pd.Series) -> pd.Series:
    parts = u.str.strip().str.extract(_DATE_RE)
    result = pd.Series(pd.NaT, index=u.index, dtype="datetime64[ns]")
    for group, fmt in _DATE_FORMATS.items():
        got = parts[group].notna()
        if got.any():
            parsed = pd.to_datetime(parts.loc[got, group], format=fmt, errors="coerce")
            # Days outside datetime64[ns] (years 1677-2262) are unparseable, not a crash.
            parsed = parsed.where((parsed >= pd.Timestamp.min) & (parsed <= pd.Timestamp.max))
            result[got] = parsed.astype("datetime64[ns]")
    return result


def _to_date(s: pd.Series) -> pd.Series:
    """Text → datetime64[ns] at midnight; ISO, dd.mm.yyyy, dd.mm.yy, optional time; NaT if not."""
    return _to_date_coded(s)[0]


def _factorize_text(s: pd.Series) -> tuple[np.ndarray, Any]:
    """``pd.factorize(s)`` for a text column without missing values, with int32 codes.

    Arrow's dictionary encoding directly: pandas would widen its codes to int64 (80 MB more
    at 10M rows).
    """
    import pyarrow as pa

    arr = pa.array(s.array) if len(s) else None
    if not isinstance(arr, pa.ChunkedArray) or arr.null_count or arr.num_chunks == 0:
        return pd.factorize(s)
    encoded = arr.dictionary_encode()
    # A chunked array's chunks share one memo table: each chunk's dictionary extends the last.
    dictionary = encoded.chunk(encoded.num_chunks - 1).dictionary
    codes = np.concatenate([c.indices.to_numpy(zero_copy_only=False) for c in encoded.chunks])
    return codes, pd.Index(dictionary.to_pandas(), dtype="str")


def _to_date_coded(s: pd.Series) -> tuple[pd.Series, np.ndarray, Any]:
    """``_to_date`` and the factorization of ``s`` it parsed (codes, distinct texts)."""
    if len(s) == 0:
        return pd.Series(pd.NaT, index=s.index, dtype="datetime64[ns]"), np.zeros(0, int), []
    codes, uniques = _factorize_text(s)
    parsed = _dates_at_midnight(pd.Series(uniques, dtype="str"))
    out = parsed.take(codes)  # factorize gives no -1 codes: the text has no missing values
    return pd.Series(out, index=s.index, dtype="datetime64[ns]"), codes, uniques


def _dates_at_midnight(u: pd.Series) -> np.ndarray:
    """Distinct date texts → datetime64[ns] at midnight (normalised here, not after the take)."""
    return _parse_dates_unique(u).dt.normalize().to_numpy(dtype="datetime64[ns]")


def _word_key(word: str) -> str:
    """A value word's lookup key: ``_norm`` without trailing "." or "!" ("Да!" → "да")."""
    return _norm(re.sub(r"[.!]+$", "", word))


def _map_words(s: pd.Series, lookup: Mapping[str, Any]) -> pd.Series:
    """Distinct values → normalised key → lookup; NaN where the word is unknown."""
    if len(s) == 0:
        return pd.Series([], index=s.index, dtype=object)
    codes, uniques = pd.factorize(s)
    mapped = np.array([lookup.get(_word_key(u), np.nan) for u in uniques], dtype=object)
    return pd.Series(mapped.take(codes), index=s.index, dtype=object)


# ---------------------------------------------------------------------------------------------
# Validation: the first problem of each row wins.
# ---------------------------------------------------------------------------------------------
_DATE_COLUMNS = frozenset({"date", "start_date", "first_purchase", "last_purchase"})
_NUMBER_COLUMNS = frozenset(
    {"amount", "score", "frequency", "recency", "T", "monetary", "orders", "total_spend"}
)


def _is_number_column(canon: str) -> bool:
    return canon in _NUMBER_COLUMNS or canon.startswith("rating_")


def _keeps_type(canon: str, s: pd.Series, decimal: str) -> bool:
    """Whether a typed Parquet column is validated as typed (else as its text) for ``canon``.

    Only where the typed checks give what parsing the column's text gives: dates for date
    columns, float64 / integers for numbers (with "." as decimal separator, no -0.0, integers
    exact in float64), bools for the refund flag.
    """
    if canon in _DATE_COLUMNS:
        if not isinstance(s.dtype, pd.ArrowDtype):
            return False
        import pyarrow as pa

        return pa.types.is_date(s.dtype.pyarrow_dtype) or pa.types.is_timestamp(
            s.dtype.pyarrow_dtype
        )
    if _is_number_column(canon):
        if decimal != "." or isinstance(s.dtype, pd.ArrowDtype):
            return False
        values = s.to_numpy()
        if values.dtype == np.float64:
            # "-0" parses as 0.0 or -0.0 depending on the rest of the column: keep the text path.
            return not bool(np.any((values == 0) & np.signbit(values)))
        if values.dtype.kind in "iu":
            return len(values) == 0 or (
                int(values.min()) >= -_MAX_EXACT_INT and int(values.max()) <= _MAX_EXACT_INT
            )
        return False
    if canon == "is_refund":
        return s.dtype == bool or (
            isinstance(s.dtype, pd.ArrowDtype) and str(s.dtype.pyarrow_dtype) == "bool"
        )
    return False


def _string_chunks(s: pd.Series) -> list[tuple[np.ndarray, np.ndarray]] | None:
    """(UTF-8 bytes, offsets) per Arrow chunk of a text column without nulls, else None.

    Value i of a chunk is ``bytes[offsets[i]:offsets[i + 1]]``; both are views of Arrow's buffers.
    """
    import pyarrow as pa

    try:
        arr = pa.array(s.array)
    except (TypeError, ValueError, pa.ArrowException):
        return None
    out = []
    for chunk in arr.chunks if isinstance(arr, pa.ChunkedArray) else [arr]:
        if chunk.null_count:
            return None
        if pa.types.is_large_string(chunk.type):
            width = np.int64
        elif pa.types.is_string(chunk.type):
            width = np.int32
        else:
            return None
        if len(chunk) == 0:
            continue
        _, offsets, data = chunk.buffers()
        at = np.frombuffer(offsets, dtype=width)[chunk.offset : chunk.offset + len(chunk) + 1]
        values = np.frombuffer(data, dtype=np.uint8) if data is not None else np.zeros(0, np.uint8)
        out.append((values, at.astype(np.int64, copy=False)))
    return out


def _strip(s: pd.Series) -> pd.Series:
    """``s.str.strip()``; ``s`` itself when nothing would be stripped (one copy less in memory)."""
    chunks = _string_chunks(s)
    if chunks is not None:
        edgy = False
        for data, at in chunks:
            start, end = at[:-1], at[1:]
            filled = end > start
            first, last = data[start[filled]], data[end[filled] - 1]
            # A value starting and ending in printable ASCII other than space has nothing to strip
            # (whatever else counts as whitespace is a control or a non-ASCII character).
            if (
                (first < 0x21).any()
                or (first > 0x7E).any()
                or (last < 0x21).any()
                or (last > 0x7E).any()
            ):
                edgy = True
                break
        if not edgy:
            return s
    t = s.str.strip()
    after = _string_chunks(t)
    if chunks is None or after is None:
        return t
    # Stripping only removes characters: the same total length means every value is unchanged.
    size = [sum(int(at[-1] - at[0]) for _, at in cs) for cs in (chunks, after)]
    return s if size[0] == size[1] else t


_WORD_MASKS = np.array([(1 << (8 * k)) - 1 for k in range(8)] + [2**64 - 1], dtype=np.uint64)


def _words_at(data: np.ndarray, at: np.ndarray) -> np.ndarray:
    """The 8 bytes of ``data`` from each position in ``at`` as little-endian uint64 (0 past the end)."""
    n = len(data)
    cut = max(n - 8, 0)  # positions from here on are read from a zero-padded copy of the tail
    out = np.empty(len(at), dtype=np.uint64)
    inside = at < cut
    if inside.any():
        window = np.ndarray((n - 7,), dtype="<u8", buffer=data, strides=(1,))
        out[inside] = window[at[inside]]
    if not inside.all():
        tail = np.zeros(16, dtype=np.uint8)
        tail[: n - cut] = data[cut:]
        window = np.ndarray((9,), dtype="<u8", buffer=tail, strides=(1,))
        out[~inside] = window[at[~inside] - cut]
    return out


def _surely_distinct(s: pd.Series) -> bool:
    """True if the text values of ``s`` are certainly all different (False: maybe not).

    Hashes each value's length, first 8 and last 8 bytes into 64 bits: different hashes mean
    different values, so a hash column without repeats (one sort, ~0.2 s per 10M) settles it.
    Factorizing 10M distinct strings instead takes ~3 CPU s and ~1 GB.
    """
    chunks = _string_chunks(s)
    if chunks is None or len(s) < 2:
        return False
    hashes = np.empty(len(s), dtype=np.uint64)
    k = 0
    for data, at in chunks:
        start, length = at[:-1], np.diff(at)
        h = _words_at(data, start) & _WORD_MASKS[np.minimum(length, 8)]
        h *= np.uint64(0x9E3779B97F4A7C15)
        long = length >= 8
        last = np.zeros(len(start), dtype=np.uint64)
        last[long] = _words_at(data, at[1:][long] - 8)
        h ^= last * np.uint64(0xC2B2AE3D27D4EB4F) + length.astype(np.uint64)
        hashes[k : k + len(h)] = h
        k += len(h)
    hashes.sort()
    return not bool((hashes[1:] == hashes[:-1]).any())


class _Columns:
    """The mapped columns by canonical name: text (str, the original text) or typed (Parquet)."""

    def __init__(self, raw: _Raw, mapping: dict[str, str], decimal: str) -> None:
        self.raw = raw
        self.mapping = mapping
        self.index = raw.frame.index
        self.data: dict[str, pd.Series] = {}
        self.typed: set[str] = set()
        for canon, header in mapping.items():
            s = raw.frame[header]
            if header in raw.typed:
                if _keeps_type(canon, s, decimal):
                    self.typed.add(canon)
                else:
                    s = _typed_text(s)
            self.data[canon] = s
        self._stripped: dict[str, pd.Series] = {}
        self._blank: dict[str, np.ndarray] = {}

    def __contains__(self, canon: str) -> bool:
        return canon in self.data

    def __getitem__(self, canon: str) -> pd.Series:
        return self.data[canon]

    def __iter__(self) -> Any:
        return iter(self.data)

    def strip(self, canon: str) -> pd.Series:
        """The text without surrounding spaces (text columns only)."""
        if canon not in self._stripped:
            self._stripped[canon] = _strip(self.data[canon])
        return self._stripped[canon]

    def blank(self, canon: str) -> np.ndarray:
        """Rows where the value is missing: empty text, or a null / NaN typed value."""
        if canon not in self._blank:
            if canon in self.typed:
                self._blank[canon] = self.data[canon].isna().to_numpy()
            else:
                self._blank[canon] = (self.strip(canon) == "").to_numpy()
        return self._blank[canon]

    def shrink(self, canon: str, codes: np.ndarray, uniques: Any) -> None:
        """Hold a parsed text column as categories + codes, which give back the same text.

        ``codes``/``uniques`` factorize the stripped text; used only when stripping changed
        nothing. The text is still needed for rejected rows, but a 10M-row date column takes
        ~20 MB this way instead of ~180 MB.
        """
        header = self.mapping[canon]
        if (
            canon in self.typed
            or self._stripped.get(canon) is not self.data[canon]
            or list(self.mapping.values()).count(header) != 1
        ):
            return
        cat = pd.Categorical.from_codes(codes, categories=pd.Index(uniques, dtype="str"))
        s = pd.Series(cat, index=self.index, copy=False)
        self.raw.frame[header] = s
        self.data[canon] = self._stripped[canon] = s
        _release_arrow_memory()

    def text_at(self, canon: str, mask: np.ndarray) -> np.ndarray:
        """The original text of the rows in ``mask`` (object array of str)."""
        s = self.data[canon][mask]
        if canon in self.typed:
            s = _typed_text(s)
        return s.to_numpy(dtype=object)


def _repeats(keys: list[Any]) -> tuple[np.ndarray, np.ndarray]:
    """Rows whose key tuple appeared on an earlier row, and each row's first row of its key.

    Missing values are equal to each other, as in ``DataFrame.duplicated``. Each key is
    factorized once and the codes combined into one integer per row, so repeated strings are
    hashed once (``DataFrame.duplicated`` plus ``groupby`` hashed them twice).
    """
    n = len(keys[0])
    if any(isinstance(k, pd.Series) and _surely_distinct(k) for k in keys):
        return np.zeros(n, dtype=bool), np.arange(n)
    combined: np.ndarray | None = None
    size = 1
    for key in keys:
        codes, uniques = pd.factorize(key, use_na_sentinel=False)
        if len(uniques) == n:  # this key alone differs on every row: no repeats at all
            return np.zeros(n, dtype=bool), np.arange(n)
        codes = codes.astype(np.int64, copy=False)
        if combined is None:
            combined, size = codes, len(uniques)
            continue
        if size * len(uniques) >= 2**62:
            combined, seen = pd.factorize(combined)
            size = len(seen)
        combined = combined * len(uniques) + codes
        size *= len(uniques)
    assert combined is not None
    if len(keys) > 1:
        combined, _ = pd.factorize(combined)
    # factorize numbers keys by first appearance: a row is first of its key iff its code is new.
    first = np.ones(n, dtype=bool)
    if n > 1:
        first[1:] = combined[1:] > np.maximum.accumulate(combined)[:-1]
    return ~first, np.flatnonzero(first)[combined]


class _Rejections:
    """The first problem of each rejected row: its column, original text and reason."""

    def __init__(self, raw: _Raw, cols: _Columns) -> None:
        self._ok = np.ones(len(cols.index), dtype=bool)
        # (row positions, column, reasons, values) per call: three object arrays as long as the
        # file would take 240 MB at 10M rows, for the few rows that are usually rejected.
        self._parts: list[tuple[np.ndarray, str, Any, Any]] = []
        self.cols = cols
        if raw.bad_fields is not None:
            marked = raw.bad_fields.notna().to_numpy()
            self._set(marked, "", "wrong number of fields", raw.bad_fields.to_numpy())

    @property
    def ok(self) -> np.ndarray:
        """Rows not rejected so far (a copy)."""
        return self._ok.copy()

    def _set(self, mask: np.ndarray, column: str, reason: Any, value: Any = None) -> None:
        """Reject rows in ``mask`` not rejected yet; ``value`` None = the column's original text."""
        new = np.asarray(mask, dtype=bool) & self._ok
        if not new.any():
            return
        pos = np.flatnonzero(new)
        if value is None:
            value = self.cols.text_at(column, new)
        elif isinstance(value, np.ndarray):
            value = value[pos]
        self._parts.append(
            (pos, column, reason[pos] if isinstance(reason, np.ndarray) else reason, value)
        )
        self._ok[new] = False

    def table(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Rejected row positions (ascending) and their column, value and reason."""
        n = sum(len(p[0]) for p in self._parts)
        pos = np.empty(n, dtype=np.int64)
        column, value, reason = (np.empty(n, dtype=object) for _ in range(3))
        k = 0
        for at, col, why, val in self._parts:
            sl = slice(k, k + len(at))
            pos[sl], column[sl], reason[sl] = at, col, why
            value[sl] = val
            k += len(at)
        order = np.argsort(pos, kind="stable")
        return pos[order], column[order], value[order], reason[order]

    def add(self, mask: Any, column: str, reason: Any) -> None:
        """Reject rows where ``mask`` holds (unless already rejected); value = original text."""
        self._set(np.asarray(mask, dtype=bool), column, reason)

    def empty(self, column: str) -> np.ndarray:
        e = self.cols.blank(column)
        self.add(e, column, f"empty {column}")
        return e

    def duplicates(
        self,
        keys: list[Any],
        column: str,
        label: str,
        lines: np.ndarray,
        extra: Any = None,
    ) -> None:
        """Among rows still accepted, reject repeats of ``keys`` as "duplicate <label> of line N".

        ``keys`` are row-aligned Series / arrays; the result does not depend on their order (put
        the most selective first: a key that is unique on its own ends the search).
        """
        ok = self._ok
        if extra is not None:
            ok = ok & np.asarray(extra, dtype=bool)
        if not ok.any():
            return
        every = bool(ok.all())
        sub = [k if every else k[ok] for k in keys]
        dup, first = _repeats(sub)
        if not dup.any():
            return
        pos = np.flatnonzero(ok)
        first_line = lines[pos][first[dup]]
        pos = pos[dup]
        reason = np.full(len(ok), None, dtype=object)
        mask = np.zeros(len(ok), dtype=bool)
        mask[pos] = True
        reason[pos] = [f"duplicate {label} of line {n}" for n in first_line]
        self._set(mask, column, reason)


def _typed_number(s: pd.Series) -> pd.Series:
    """A typed number column as ``_to_number`` reads its text: NaN where missing or infinite."""
    x = s.to_numpy(dtype=np.float64)
    with np.errstate(invalid="ignore"):
        finite = np.isfinite(x)
    if finite.all():
        return pd.Series(x, index=s.index, copy=False)
    return pd.Series(np.where(finite, x, np.nan), index=s.index)


def _typed_date(s: pd.Series) -> pd.Series:
    """A typed date / timestamp column as ``_to_date`` reads its text (each distinct value once)."""
    import pyarrow as pa

    kind = s.dtype.pyarrow_dtype
    missing = s.isna().to_numpy()
    if pa.types.is_date32(kind) and not missing.all():
        # Days since 1970 index a table of the distinct days' parsed values: no hashing.
        days = pa.array(s.array).cast(pa.int32()).fill_null(0).to_numpy(zero_copy_only=False)
        low, high = int(days[~missing].min()), int(days[~missing].max())
        days = days - np.int32(low)
        days[missing] = 0
        seen = np.zeros(high - low + 1, dtype=bool)
        seen[days] = True
        distinct = np.flatnonzero(seen).astype(np.int32)
        as_dates = pa.array(distinct + np.int32(low), type=pa.int32()).cast(pa.date32())
        text = _typed_text(pd.Series(pd.arrays.ArrowExtensionArray(as_dates))).str.strip()
        table = np.full(high - low + 1, np.datetime64("NaT"), dtype="datetime64[ns]")
        table[distinct] = _dates_at_midnight(pd.Series(text.to_numpy(), dtype="str"))
        out = table[days]
        out[missing] = np.datetime64("NaT")
        return pd.Series(out, index=s.index, dtype="datetime64[ns]")
    codes, uniques = pd.factorize(s)  # -1 for missing values
    text = _typed_text(pd.Series(uniques)).str.strip()
    parsed = _dates_at_midnight(pd.Series(text.to_numpy(), dtype="str"))
    out = np.append(parsed, np.datetime64("NaT", "ns")).take(codes)
    return pd.Series(out, index=s.index, dtype="datetime64[ns]")


def _number_checks(
    rej: _Rejections, cols: _Columns, column: str, decimal: str, required: bool = True
) -> pd.Series:
    if required:
        rej.empty(column)
    if column in cols.typed:
        num = _typed_number(cols[column])
    else:
        num = _to_number(cols.strip(column), decimal, stripped=True)
    rej.add(~cols.blank(column) & num.isna().to_numpy(), column, f"{column} not a number")
    return num


def _date_checks(rej: _Rejections, cols: _Columns, column: str) -> pd.Series:
    rej.empty(column)
    if column in cols.typed:
        d = _typed_date(cols[column])
    else:
        d, codes, uniques = _to_date_coded(cols.strip(column))
        cols.shrink(column, codes, uniques)
        del codes
    rej.add(d.isna().to_numpy(), column, "unparseable date")
    return d


def _refund_flags(rej: _Rejections, cols: _Columns) -> pd.Series:
    """is_refund as bool; unrecognised words are rejected (and count as False)."""
    if "is_refund" in cols.typed:
        s = cols["is_refund"]
        # A missing bool is "" in the text path, one of FALSE_WORDS.
        return pd.Series(s.fillna(False).to_numpy(dtype=bool), index=cols.index)
    codes, uniques = _factorize_text(cols.strip("is_refund"))
    mapped = [_FLAG_LOOKUP.get(_word_key(u)) for u in uniques]
    known = np.array([m is not None for m in mapped], dtype=bool)
    true = np.array([m is True for m in mapped], dtype=bool)
    cols.shrink("is_refund", codes, uniques)
    rej.add(~known[codes], "is_refund", "unrecognised refund flag")
    return pd.Series(true[codes], index=cols.index)


def _validate(
    kind: str, raw: _Raw, mapping: dict[str, str], decimal: str
) -> tuple[dict[str, pd.Series], _Rejections]:
    cols = _Columns(raw, mapping, decimal)
    rej = _Rejections(raw, cols)
    lines = raw.lines
    index = cols.index
    out: dict[str, pd.Series] = {}
    strip = cols.strip

    if kind == "transactions":
        rej.empty("customer_id")
        out["customer_id"] = strip("customer_id")
        out["date"] = _date_checks(rej, cols, "date")
        amount = _number_checks(rej, cols, "amount", decimal)
        has_flag = "is_refund" in cols
        refund = _refund_flags(rej, cols) if has_flag else pd.Series(False, index=index)
        rej.add(
            ((amount < 0) & ~refund).to_numpy(), "amount", "negative amount not marked as refund"
        )
        flagged = refund.to_numpy()
        if flagged.any():  # amount.where(~refund, -amount.abs()) without three temporary columns
            values = amount.to_numpy(copy=True)
            values[flagged] = -np.abs(values[flagged])
            amount = pd.Series(values, index=index, copy=False)
        out["amount"] = amount
        out["is_refund"] = refund
        for opt in ("order_id", "channel", "store"):
            if opt in cols:
                out[opt] = strip(opt)
        if "order_id" in cols:
            rej.duplicates(
                [strip("order_id"), strip("customer_id"), refund.to_numpy()],
                "order_id",
                "order",
                lines,
                extra=(strip("order_id") != "").to_numpy(),
            )

    elif kind == "survey":
        if "respondent_id" in cols:
            rej.empty("respondent_id")
            respondent = strip("respondent_id")
        else:
            line_ids = pd.Series(lines, index=index).map("line-{}".format).astype("str")
            if "customer_id" in cols:
                respondent = strip("customer_id").where(strip("customer_id") != "", line_ids)
            else:
                respondent = line_ids
        out["respondent_id"] = respondent
        cust = (
            strip("customer_id")
            if "customer_id" in cols
            else pd.Series("", index=index, dtype="str")
        )
        out["customer_id"] = cust.mask(cust == "")
        out["date"] = _date_checks(rej, cols, "date")
        score = _number_checks(rej, cols, "score", decimal)
        rej.add(
            (score != score.round()).to_numpy() & score.notna().to_numpy(),
            "score",
            "score not a whole number",
        )
        rej.add(((score < 0) | (score > 10)).to_numpy(), "score", "score outside 0-10")
        out["score"] = score
        out["comment"] = (
            strip("comment") if "comment" in cols else pd.Series("", index=index, dtype="str")
        )
        rej.duplicates(
            [respondent, out["date"]],
            "respondent_id"
            if "respondent_id" in cols
            else "customer_id"
            if "customer_id" in cols
            else "date",
            "response",
            lines,
        )

    elif kind == "exit_survey":
        rej.empty("customer_id")
        out["customer_id"] = strip("customer_id")
        out["date"] = _date_checks(rej, cols, "date")
        rej.empty("reason")
        mapped = _map_words(strip("reason"), _REASON_LOOKUP)
        out["reason"] = mapped.fillna("other").astype("str")
        out["reason_raw"] = strip("reason")
        out["comment"] = (
            strip("comment") if "comment" in cols else pd.Series("", index=index, dtype="str")
        )
        for col in [c for c in cols if c.startswith("rating_")]:
            r = _number_checks(rej, cols, col, decimal, required=False)
            rej.add(((r < 1) | (r > 5)).to_numpy(), col, "rating outside 1-5")
            out[col] = r
        rej.duplicates([strip("customer_id"), out["date"]], "customer_id", "response", lines)

    elif kind == "campaign":
        rej.empty("customer_id")
        out["customer_id"] = strip("customer_id")
        rej.empty("group")
        group = _map_words(strip("group"), _GROUP_LOOKUP)
        rej.add(group.isna().to_numpy(), "group", "group not treatment/control")
        out["group"] = group.astype("str")
        out["start_date"] = _date_checks(rej, cols, "start_date")
        ok = rej.ok
        if ok.any():
            sub = pd.DataFrame({"c": strip("customer_id")[ok], "g": group[ok], "line": lines[ok]})
            dup = sub.duplicated("c", keep="first").to_numpy()
            if dup.any():
                grp = sub.groupby("c", sort=False)
                first_line = grp["line"].transform("first").to_numpy()
                first_group = grp["g"].transform("first").to_numpy()
                same = first_group == sub["g"].to_numpy()
                reason = np.where(
                    same, "duplicate customer of line ", "customer in both groups (first at line "
                ).astype(object)
                tail = np.where(same, "", ")")
                texts = [
                    f"{r}{n}{t}"
                    for r, n, t in zip(reason[dup], first_line[dup], tail[dup], strict=True)
                ]
                full = np.full(len(ok), None, dtype=object)
                mask = np.zeros(len(ok), dtype=bool)
                pos = np.flatnonzero(ok)[dup]
                full[pos], mask[pos] = texts, True
                rej._set(mask, "customer_id", full)

    elif kind == "customers":
        rej.empty("customer_id")
        out["customer_id"] = strip("customer_id")
        nums = {
            c: _number_checks(rej, cols, c, decimal)
            for c in ("frequency", "recency", "T", "monetary")
        }
        for c in ("first_purchase", "last_purchase"):
            if c in cols:
                out[c] = _date_checks(rej, cols, c)
        for c in ("orders", "total_spend"):
            if c in cols:
                nums[c] = _number_checks(rej, cols, c, decimal)
        f, r, t, m = nums["frequency"], nums["recency"], nums["T"], nums["monetary"]
        rej.add((f < 0).to_numpy(), "frequency", "negative frequency")
        rej.add(
            (f != f.round()).to_numpy() & f.notna().to_numpy(),
            "frequency",
            "frequency not a whole number",
        )
        rej.add((r < 0).to_numpy(), "recency", "negative recency")
        rej.add((t < 0).to_numpy(), "T", "negative T")
        rej.add((r > t).to_numpy(), "recency", "recency greater than T")
        rej.add((m < 0).to_numpy(), "monetary", "negative monetary")
        rej.add(((f == 0) & (m != 0)).to_numpy(), "monetary", "monetary not 0 when frequency is 0")
        rej.add(((f == 0) & (r != 0)).to_numpy(), "recency", "recency not 0 when frequency is 0")
        if "orders" in nums:
            o = nums["orders"]
            rej.add((o < 0).to_numpy(), "orders", "negative orders")
            rej.add(
                (o != o.round()).to_numpy() & o.notna().to_numpy(),
                "orders",
                "orders not a whole number",
            )
        if "total_spend" in nums:
            rej.add((nums["total_spend"] < 0).to_numpy(), "total_spend", "negative total_spend")
        rej.duplicates([strip("customer_id")], "customer_id", "customer", lines)
        out = {
            "customer_id": out["customer_id"],
            **{c: nums[c] for c in ("frequency", "recency", "T", "monetary")},
            **{c: out[c] for c in ("first_purchase", "last_purchase") if c in out},
            **{c: nums[c] for c in ("orders", "total_spend") if c in nums},
        }
    return out, rej


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


def read_mapping(path: str | Path, kind: str) -> dict[str, str]:
    """Read a YAML header mapping for ``kind``: canonical name → client header.

    Two layouts are accepted::

        # flat, for one file           # sections, one per kind (a kind without a section → {})
        customer_id: Клиент            transactions:
        amount: Сумма, руб.              customer_id: Клиент
                                       survey:
                                         score: Оценка NPS
    """
    _check_kind(kind, str(path))
    import yaml  # only needed here

    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8-sig"))
    except FileNotFoundError as exc:
        raise LoyaltyDataError(
            f"{path.name}: mapping file not found ({path})", file=str(path)
        ) from exc
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise LoyaltyDataError(
            f"{path.name}: cannot read the mapping file ({exc})", file=str(path)
        ) from exc
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise LoyaltyDataError(
            f"{path.name}: expected a YAML mapping of canonical column → "
            f"header, got {type(data).__name__}",
            file=str(path),
        )
    if any(isinstance(v, dict) for v in data.values()):
        unknown = [k for k in data if k not in KINDS]
        if unknown:
            raise LoyaltyDataError(
                f"{path.name}: unknown section(s) {_quote_list(unknown)}; "
                f"expected kinds: {', '.join(KINDS)}",
                file=str(path),
            )
        data = data.get(kind) or {}
        if not isinstance(data, dict):
            raise LoyaltyDataError(
                f"{path.name}: section {kind!r} must be a mapping", file=str(path)
            )
    mapping: dict[str, str] = {}
    for canon, header in data.items():
        if not _valid_canonical(kind, str(canon)):
            raise LoyaltyDataError(
                f"{path.name}: {canon!r} is not a {kind} column; expected one of: "
                f"{', '.join(HEADER_ALIASES[kind])}",
                file=str(path),
                column=str(canon),
            )
        if header is None or isinstance(header, dict | list):
            raise LoyaltyDataError(
                f"{path.name}: header for {canon!r} must be a string",
                file=str(path),
                column=str(canon),
            )
        mapping[str(canon)] = str(header)
    return mapping
