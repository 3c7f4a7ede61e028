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
import csv
import io
import json
import re
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
    frame: pd.DataFrame  # all columns str, original headers
    lines: np.ndarray  # int64, source line of each record
    bad_fields: pd.Series | None  # "n fields, expected m" for malformed rows, else NaN
    name: str
    encoding: str | None = None
    delimiter: str | None = None


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


def _read_csv_fast(text: str, delimiter: str) -> pd.DataFrame | None:
    """Arrow's multithreaded reader (~10x pandas' C parser for text columns) for regular files.

    Returns None unless record i is certainly on line i + 2: every row has the header's field
    count, no field or header holds a newline and no blank line was skipped. Anything else goes
    to the slower pandas path, which tracks line numbers.
    """
    try:
        frame = pd.read_csv(
            io.BytesIO(text.encode("utf-8")),
            sep=delimiter,
            dtype=str,
            keep_default_na=False,
            engine="pyarrow",
        )
    except Exception:  # any irregularity: let the careful path report it
        return None
    if any("\n" in str(h) for h in frame.columns):
        return None
    if text.rstrip().count("\n") + 1 != len(frame) + 1:
        return None
    if '"' in text and any(frame[c].str.contains("\n", regex=False).any() for c in frame.columns):
        return None
    return frame


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
        out[str(col)] = text
    return pd.DataFrame(out, index=pd.RangeIndex(len(df)))


def _read(source: str | Path | pd.DataFrame) -> _Raw:
    if isinstance(source, pd.DataFrame):
        name = "<DataFrame>"
        if source.shape[1] == 0:
            raise LoyaltyDataError(f"{name}: no columns", file=name)
        frame = _frame_to_text(source)
        return _Raw(frame, np.arange(len(frame), dtype=np.int64) + 2, None, name)
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
            frame = _frame_to_text(pd.read_parquet(path))
            return _Raw(frame, np.arange(len(frame), dtype=np.int64) + 2, None, name)
        if suffix in (".xlsx", ".xlsm", ".xls"):
            frame = pd.read_excel(path, sheet_name=0, dtype=str, keep_default_na=False)
            frame = frame.astype("str")
            return _Raw(frame, np.arange(len(frame), dtype=np.int64) + 2, None, name)
        data = path.read_bytes()
    except LoyaltyDataError:
        raise
    except Exception as exc:  # unreadable / corrupt: report it as a file-level problem
        raise LoyaltyDataError(
            f"{name}: cannot read the file ({type(exc).__name__}: {exc})", file=file
        ) from exc
    text, encoding = _decode(data, name, file)
    if not text.strip():
        raise LoyaltyDataError(f"{name}: file is empty (no header row)", file=file)
    delimiter = _sniff_delimiter(text.split("\n", 1)[0])
    frame = _read_csv_fast(text, delimiter)
    if frame is not None:
        return _Raw(
            frame, np.arange(len(frame), dtype=np.int64) + 2, None, name, encoding, delimiter
        )
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


def _to_number(s: pd.Series, decimal: str) -> pd.Series:
    """Text → float64 (NaN where it is not a number), by the file's decimal separator.

    Spaces / NBSP / apostrophes are thousands separators. With decimal "," a "." is a thousands
    separator unless the value has no "," and is not grouped like "1.234" ("1234.50" still reads
    as 1234.5); with decimal "." a lone "," is a decimal comma unless grouped like "1,234".
    """
    t = s.str.strip()
    # Fast path: plain numbers go straight to the C parser; only the rest is cleaned.
    if decimal == ",":
        plain = ~t.str.contains(".", regex=False)
        num = pd.to_numeric(t.str.replace(",", ".", regex=False).where(plain, ""), errors="coerce")
    else:
        num = pd.to_numeric(t, errors="coerce")
    num = num.astype("float64").where(np.isfinite(num))
    slow = (num.isna() & (t != "")).to_numpy()
    if slow.any():
        num[slow] = _to_number_slow(t[slow], decimal).to_numpy()
    return num


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
            result[got] = parsed.astype("datetime64[ns]")
    return result


def _to_date(s: pd.Series) -> pd.Series:
    """Text → datetime64[ns] at midnight; ISO, dd.mm.yyyy, dd.mm.yy, optional time; NaT if not."""
    if len(s) == 0:
        return pd.Series(pd.NaT, index=s.index, dtype="datetime64[ns]")
    codes, uniques = pd.factorize(s)
    parsed = _parse_dates_unique(pd.Series(uniques, dtype="str")).to_numpy()
    out = parsed.take(codes)  # factorize gives no -1 codes: the text has no missing values
    return pd.Series(out, index=s.index, dtype="datetime64[ns]").dt.normalize()


def _map_words(s: pd.Series, lookup: Mapping[str, Any]) -> pd.Series:
    """Distinct values → normalised key → lookup; NaN where the word is unknown."""
    if len(s) == 0:
        return pd.Series([], index=s.index, dtype=object)
    codes, uniques = pd.factorize(s)
    mapped = np.array(
        [lookup.get(_norm(re.sub(r"[.!]+$", "", u)), np.nan) for u in uniques], dtype=object
    )
    return pd.Series(mapped.take(codes), index=s.index, dtype=object)


# ---------------------------------------------------------------------------------------------
# Validation: the first problem of each row wins.
# ---------------------------------------------------------------------------------------------
class _Rejections:
    def __init__(self, raw: _Raw, canon: pd.DataFrame) -> None:
        n = len(canon)
        self.reason = np.full(n, None, dtype=object)
        self.column = np.full(n, None, dtype=object)
        self.value = np.full(n, None, dtype=object)
        self.canon = canon
        if raw.bad_fields is not None:
            marked = raw.bad_fields.notna().to_numpy()
            self._set(marked, "", "wrong number of fields", raw.bad_fields.to_numpy())

    @property
    def ok(self) -> np.ndarray:
        return pd.isna(self.reason)

    def _set(self, mask: np.ndarray, column: str, reason: Any, value: Any) -> None:
        new = np.asarray(mask, dtype=bool) & self.ok
        if not new.any():
            return
        self.reason[new] = reason[new] if isinstance(reason, np.ndarray) else reason
        self.column[new] = column
        self.value[new] = value[new] if isinstance(value, np.ndarray) else value

    def add(self, mask: Any, column: str, reason: Any) -> None:
        """Reject rows where ``mask`` holds (unless already rejected); value = original text."""
        mask = np.asarray(mask, dtype=bool)
        if mask.any():
            self._set(mask, column, reason, self.canon[column].to_numpy(dtype=object))

    def empty(self, column: str) -> np.ndarray:
        e = (self.canon[column].str.strip() == "").to_numpy()
        self.add(e, column, f"empty {column}")
        return e

    def duplicates(
        self,
        keys: list[str],
        column: str,
        label: str,
        lines: np.ndarray,
        values: pd.DataFrame,
        extra: pd.Series | None = None,
    ) -> None:
        """Among rows still accepted, reject repeats of ``keys`` as "duplicate <label> of line N"."""
        ok = self.ok
        if extra is not None:
            ok = ok & extra.to_numpy(dtype=bool)
        if not ok.any():
            return
        sub = values.loc[ok, keys].copy()
        sub["__line"] = lines[ok]
        dup = sub.duplicated(keys, keep="first").to_numpy()
        if not dup.any():
            return
        first = sub.groupby(keys, sort=False, dropna=False)["__line"].transform("first").to_numpy()
        reason = np.full(len(ok), None, dtype=object)
        mask = np.zeros(len(ok), dtype=bool)
        pos = np.flatnonzero(ok)[dup]
        mask[pos] = True
        reason[pos] = [f"duplicate {label} of line {n}" for n in first[dup]]
        self._set(mask, column, reason, self.canon[column].to_numpy(dtype=object))


def _number_checks(
    rej: _Rejections, s: pd.Series, column: str, decimal: str, required: bool = True
) -> pd.Series:
    if required:
        rej.empty(column)
    num = _to_number(s, decimal)
    present = (s.str.strip() != "").to_numpy()
    rej.add(present & num.isna().to_numpy(), column, f"{column} not a number")
    return num


def _date_checks(rej: _Rejections, s: pd.Series, column: str) -> pd.Series:
    rej.empty(column)
    d = _to_date(s.str.strip())
    rej.add(d.isna().to_numpy(), column, "unparseable date")
    return d


def _validate(
    kind: str, raw: _Raw, mapping: dict[str, str], decimal: str
) -> tuple[dict[str, pd.Series], _Rejections]:
    frame = raw.frame
    canon = pd.DataFrame({c: frame[h] for c, h in mapping.items()}, index=frame.index)
    rej = _Rejections(raw, canon)
    lines = raw.lines
    out: dict[str, pd.Series] = {}
    strip = {c: canon[c].str.strip() for c in canon.columns}

    if kind == "transactions":
        rej.empty("customer_id")
        out["customer_id"] = strip["customer_id"]
        out["date"] = _date_checks(rej, canon["date"], "date")
        amount = _number_checks(rej, canon["amount"], "amount", decimal)
        if "is_refund" in canon:
            flag = _map_words(strip["is_refund"], _FLAG_LOOKUP)
            rej.add(flag.isna().to_numpy(), "is_refund", "unrecognised refund flag")
            refund = flag.fillna(False).astype(bool)
        else:
            refund = pd.Series(False, index=canon.index)
        rej.add(
            ((amount < 0) & ~refund).to_numpy(), "amount", "negative amount not marked as refund"
        )
        out["amount"] = amount.where(~refund, -amount.abs())
        out["is_refund"] = refund
        for opt in ("order_id", "channel", "store"):
            if opt in canon:
                out[opt] = strip[opt]
        if "order_id" in canon:
            keyed = pd.DataFrame(
                {
                    "customer_id": strip["customer_id"],
                    "order_id": strip["order_id"],
                    "is_refund": refund,
                }
            )
            rej.duplicates(
                ["customer_id", "order_id", "is_refund"],
                "order_id",
                "order",
                lines,
                keyed,
                extra=strip["order_id"] != "",
            )

    elif kind == "survey":
        if "respondent_id" in canon:
            rej.empty("respondent_id")
            respondent = strip["respondent_id"]
        else:
            line_ids = pd.Series(lines, index=canon.index).map("line-{}".format).astype("str")
            if "customer_id" in canon:
                respondent = strip["customer_id"].where(strip["customer_id"] != "", line_ids)
            else:
                respondent = line_ids
        out["respondent_id"] = respondent
        cust = (
            strip["customer_id"]
            if "customer_id" in canon
            else pd.Series("", index=canon.index, dtype="str")
        )
        out["customer_id"] = cust.mask(cust == "")
        out["date"] = _date_checks(rej, canon["date"], "date")
        score = _number_checks(rej, canon["score"], "score", decimal)
        rej.add(
            (score != score.round()).to_numpy() & score.notna().to_numpy(),
            "score",
            "score not a whole number",
        )
        rej.add(((score < 0) | (score > 10)).to_numpy(), "score", "score outside 0-10")
        out["score"] = score
        out["comment"] = (
            strip["comment"]
            if "comment" in canon
            else pd.Series("", index=canon.index, dtype="str")
        )
        keyed = pd.DataFrame({"respondent_id": respondent, "date": out["date"]})
        rej.duplicates(
            ["respondent_id", "date"],
            "respondent_id"
            if "respondent_id" in canon
            else "customer_id"
            if "customer_id" in canon
            else "date",
            "response",
            lines,
            keyed,
        )

    elif kind == "exit_survey":
        rej.empty("customer_id")
        out["customer_id"] = strip["customer_id"]
        out["date"] = _date_checks(rej, canon["date"], "date")
        rej.empty("reason")
        mapped = _map_words(strip["reason"], _REASON_LOOKUP)
        out["reason"] = mapped.fillna("other").astype("str")
        out["reason_raw"] = strip["reason"]
        out["comment"] = (
            strip["comment"]
            if "comment" in canon
            else pd.Series("", index=canon.index, dtype="str")
        )
        for col in [c for c in canon.columns if c.startswith("rating_")]:
            r = _number_checks(rej, canon[col], col, decimal, required=False)
            rej.add(((r < 1) | (r > 5)).to_numpy(), col, "rating outside 1-5")
            out[col] = r
        keyed = pd.DataFrame({"customer_id": strip["customer_id"], "date": out["date"]})
        rej.duplicates(["customer_id", "date"], "customer_id", "response", lines, keyed)

    elif kind == "campaign":
        rej.empty("customer_id")
        out["customer_id"] = strip["customer_id"]
        rej.empty("group")
        group = _map_words(strip["group"], _GROUP_LOOKUP)
        rej.add(group.isna().to_numpy(), "group", "group not treatment/control")
        out["group"] = group.astype("str")
        out["start_date"] = _date_checks(rej, canon["start_date"], "start_date")
        ok = rej.ok
        if ok.any():
            sub = pd.DataFrame({"c": strip["customer_id"][ok], "g": group[ok], "line": lines[ok]})
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
                rej._set(mask, "customer_id", full, canon["customer_id"].to_numpy(dtype=object))

    elif kind == "customers":
        rej.empty("customer_id")
        out["customer_id"] = strip["customer_id"]
        nums = {
            c: _number_checks(rej, canon[c], c, decimal)
            for c in ("frequency", "recency", "T", "monetary")
        }
        for c in ("first_purchase", "last_purchase"):
            if c in canon:
                out[c] = _date_checks(rej, canon[c], c)
        for c in ("orders", "total_spend"):
            if c in canon:
                nums[c] = _number_checks(rej, canon[c], c, decimal)
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
        keyed = pd.DataFrame({"customer_id": strip["customer_id"]})
        rej.duplicates(["customer_id"], "customer_id", "customer", lines, keyed)
        out = {
            "customer_id": out["customer_id"],
            **{c: nums[c] for c in ("frequency", "recency", "T", "monetary")},
            **{c: out[c] for c in ("first_purchase", "last_purchase") if c in out},
            **{c: nums[c] for c in ("orders", "total_spend") if c in nums},
        }
    return out, rej


_INT_COLUMNS = {"score", "frequency", "orders"}


def _assemble(
    kind: str, raw: _Raw, mapping: dict[str, str], decimal: str, reported_decimal: str | None
) -> LoadResult:
    out, rej = _validate(kind, raw, mapping, decimal)
    ok = rej.ok
    accepted = pd.DataFrame({c: s[ok] for c, s in out.items()})
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
            accepted[c] = accepted[c].astype("str")
        elif c == "is_refund":
            accepted[c] = accepted[c].astype(bool)
    accepted["line"] = raw.lines[ok]
    accepted = accepted.reset_index(drop=True)

    bad = ~ok
    raw_rows = raw.frame.loc[bad]
    if len(raw_rows):
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
            "column": pd.Series(rej.column[bad], dtype="str"),
            "value": pd.Series(rej.value[bad], dtype="str"),
            "reason": pd.Series(rej.reason[bad], dtype="str"),
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
        raw.frame[h]
        for c, h in mapping.items()
        if c in ("amount", "frequency", "recency", "T", "monetary", "total_spend")
        or c.startswith("rating_")
    ]
    decimal = _detect_decimal(numeric) if numeric else "."
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
