"""Reading a source as text with the source line of each record: encodings, CSV, Excel, Parquet."""

from __future__ import annotations

import codecs
import contextlib
import csv
import io
import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from loyalty_lib.data.schema import _BAD_ROW, LoyaltyDataError


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


def _read_excel(path: Path) -> pd.DataFrame:
    """The first sheet as text: python-calamine (Rust) first, openpyxl only if it is missing.

    calamine read a 40k-line export in 0.73 s where openpyxl took 4.2 s (bench/excel.py measures
    1M lines). pandas gives whole-number cells as ints with either engine, so an id Excel stores
    as the number 13607 comes back as "13607", not "13607.0".
    """
    opts: dict[str, Any] = dict(sheet_name=0, dtype=str, keep_default_na=False)
    try:
        import python_calamine  # noqa: F401
    except ImportError:  # an environment without the dependency: slower, same text
        return pd.read_excel(path, engine="openpyxl", **opts).astype("str")
    try:
        frame = pd.read_excel(path, engine="calamine", **opts)
    except Exception as calamine_error:
        if path.suffix.lower() not in (".xlsx", ".xlsm"):
            raise
        try:  # a workbook calamine refuses may still open in openpyxl
            frame = pd.read_excel(path, engine="openpyxl", **opts)
        except Exception:
            raise calamine_error from None
    return frame.astype("str")


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
        if suffix in (".xlsx", ".xlsm", ".xls", ".xlsb", ".ods"):
            frame = _read_excel(path)
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
