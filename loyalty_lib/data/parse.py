"""Vectorised parsers: text Series → typed Series (NaN/NaT where the text does not parse)."""

from __future__ import annotations

import re
import warnings
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from loyalty_lib.data.read import _MAX_EXACT_INT
from loyalty_lib.data.schema import _DATE_FORMATS, _DATE_RE, _norm

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
        if group == "slash" and got.any():
            first = parts.loc[got, group].str.split("/").str[0].astype(int)
            if (first > 12).any():
                fmt = "%d/%m/%Y"
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


def _integral_ids(s: pd.Series) -> pd.Series:
    """Ids written as whole floats ("13607.0", a CSV saved from a column with gaps) as written
    in the source system ("13607"); only when every non-empty value of the column is an integer
    or such a float, so "A1.0" or a column with "2.5" stays as it is."""
    if len(s) == 0 or not s.str.contains(".", regex=False).any():
        return s
    floats = s.str.fullmatch(r"-?\d+\.0+")
    fine = floats | s.str.fullmatch(r"-?\d+") | (s == "")
    if not bool(fine.all()):
        return s
    return s.str.replace(r"\.0+$", "", regex=True).astype("str")


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
