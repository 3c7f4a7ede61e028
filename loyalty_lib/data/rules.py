"""Row validation: the first problem of each row wins; one rule function per kind."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from loyalty_lib.data.parse import (
    _dates_at_midnight,
    _factorize_text,
    _integral_ids,
    _map_words,
    _to_date_coded,
    _to_number,
    _word_key,
)
from loyalty_lib.data.read import (
    _MAX_EXACT_INT,
    _Raw,
    _release_arrow_memory,
    _string_chunks,
    _typed_text,
)
from loyalty_lib.data.schema import (
    _FLAG_LOOKUP,
    _GROUP_LOOKUP,
    _REASON_LOOKUP,
    REFUND_STATUS_WORDS,
    _norm,
)

_REFUND_STATUS = frozenset(_norm(w) for w in REFUND_STATUS_WORDS)

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


def _status_refund(cols: _Columns) -> np.ndarray:
    """Rows whose status / type value is a return word (any other value: a sale)."""
    strip = cols.strip
    codes, uniques = pd.factorize(strip("status"))
    known = np.array([_word_key(u) in _REFUND_STATUS for u in uniques], dtype=bool)
    return known[codes] if len(codes) else np.zeros(0, dtype=bool)


def _transactions_rules(
    cols: _Columns, rej: _Rejections, lines: np.ndarray, decimal: str
) -> dict[str, pd.Series]:
    """The transactions checks, in canonical column order; the validated columns."""
    index = cols.index
    strip = cols.strip
    out: dict[str, pd.Series] = {}
    rej.empty("customer_id")
    out["customer_id"] = _integral_ids(strip("customer_id"))
    out["date"] = _date_checks(rej, cols, "date")
    amount = _number_checks(rej, cols, "amount", decimal)
    has_flag = "is_refund" in cols
    refund = _refund_flags(rej, cols) if has_flag else pd.Series(False, index=index)
    if "status" in cols:  # a status / type column («Возврат», "Refund") marks refunds too
        refund = refund | pd.Series(_status_refund(cols), index=index)
    rej.add(((amount < 0) & ~refund).to_numpy(), "amount", "negative amount not marked as refund")
    flagged = refund.to_numpy()
    if flagged.any():  # amount.where(~refund, -amount.abs()) without three temporary columns
        values = amount.to_numpy(copy=True)
        values[flagged] = -np.abs(values[flagged])
        amount = pd.Series(values, index=index, copy=False)
    out["amount"] = amount
    out["is_refund"] = refund
    for opt in ("order_id", "channel", "store"):
        if opt in cols:
            out[opt] = _integral_ids(strip(opt)) if opt == "order_id" else strip(opt)
    if "order_id" in cols:
        rej.duplicates(
            [strip("order_id"), strip("customer_id"), refund.to_numpy()],
            "order_id",
            "order",
            lines,
            extra=(strip("order_id") != "").to_numpy(),
        )
    return out


def _survey_rules(
    cols: _Columns, rej: _Rejections, lines: np.ndarray, decimal: str
) -> dict[str, pd.Series]:
    """The survey checks, in canonical column order; the validated columns."""
    index = cols.index
    strip = cols.strip
    out: dict[str, pd.Series] = {}
    if "respondent_id" in cols:
        rej.empty("respondent_id")
        respondent = _integral_ids(strip("respondent_id"))
    else:
        line_ids = pd.Series(lines, index=index).map("line-{}".format).astype("str")
        if "customer_id" in cols:
            respondent = strip("customer_id").where(strip("customer_id") != "", line_ids)
        else:
            respondent = line_ids
    out["respondent_id"] = respondent
    cust = (
        _integral_ids(strip("customer_id"))
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
    return out


def _exit_survey_rules(
    cols: _Columns, rej: _Rejections, lines: np.ndarray, decimal: str
) -> dict[str, pd.Series]:
    """The exit_survey checks, in canonical column order; the validated columns."""
    index = cols.index
    strip = cols.strip
    out: dict[str, pd.Series] = {}
    rej.empty("customer_id")
    out["customer_id"] = _integral_ids(strip("customer_id"))
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
    return out


def _campaign_rules(
    cols: _Columns, rej: _Rejections, lines: np.ndarray, decimal: str
) -> dict[str, pd.Series]:
    """The campaign checks, in canonical column order; the validated columns."""
    strip = cols.strip
    out: dict[str, pd.Series] = {}
    rej.empty("customer_id")
    out["customer_id"] = _integral_ids(strip("customer_id"))
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
    return out


def _customers_rules(
    cols: _Columns, rej: _Rejections, lines: np.ndarray, decimal: str
) -> dict[str, pd.Series]:
    """The customers checks, in canonical column order; the validated columns."""
    strip = cols.strip
    out: dict[str, pd.Series] = {}
    rej.empty("customer_id")
    out["customer_id"] = _integral_ids(strip("customer_id"))
    nums = {
        c: _number_checks(rej, cols, c, decimal) for c in ("frequency", "recency", "T", "monetary")
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
    return out


_RULES = {
    "transactions": _transactions_rules,
    "survey": _survey_rules,
    "exit_survey": _exit_survey_rules,
    "campaign": _campaign_rules,
    "customers": _customers_rules,
}


def _validate(
    kind: str, raw: _Raw, mapping: dict[str, str], decimal: str
) -> tuple[dict[str, pd.Series], _Rejections]:
    """Validate the mapped columns of ``raw`` with the rule function of ``kind``."""
    cols = _Columns(raw, mapping, decimal)
    rej = _Rejections(raw, cols)
    return _RULES[kind](cols, rej, raw.lines, decimal), rej
