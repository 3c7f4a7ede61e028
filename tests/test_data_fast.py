"""The loader's fast paths return exactly what its simple text paths return.

Fast paths (loyalty_lib/data.py) and the reference each is checked against:

* typed Parquet (numbers, bools and dates validated as typed, no text round trip) vs the text
  path: ``pd.read_parquet`` → every column as text (``_frame_to_text``) → text validation, which
  is what the loader does when ``_parquet_columns`` declines a file;
* UTF-8 CSV read by Arrow straight from the file (``_read_utf8_fast``) vs decoding the file and
  handing Arrow the re-encoded text (the path for cp1251 files, and for any file it declines);
* the pieces: ``_numeric`` vs ``pd.to_numeric``, ``_repeats`` vs ``DataFrame.duplicated`` +
  ``groupby(...).transform("first")``, ``_strip`` vs ``.str.strip()``, ``_factorize_text`` vs
  ``pd.factorize``, ``_surely_distinct`` vs a set.

Equality is exact: same tables (floats compared bit for bit, so -0.0 vs 0.0 counts), same
rejected lines, columns, values, reasons and raw records.
"""

from __future__ import annotations

import datetime as dt
import string
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from loyalty_lib import data
from loyalty_lib.data import LoadResult, load

CORPUS = Path(__file__).parent / "bad_files"
sys.path.insert(0, str(CORPUS))
import make_corpus  # noqa: E402

if not all((CORPUS / name).exists() for name in make_corpus.TEXT_FILES):
    make_corpus.build(CORPUS)


# ------------------------------------------------------------------------------------------------
# Helpers: the reference paths and an exact comparison
# ------------------------------------------------------------------------------------------------
def assert_same(fast: LoadResult, ref: LoadResult) -> None:
    for name in (
        "kind",
        "source",
        "rows_read",
        "encoding",
        "delimiter",
        "decimal",
        "column_map",
    ):
        assert getattr(fast, name) == getattr(ref, name), name
    pd.testing.assert_frame_equal(fast.accepted, ref.accepted, check_exact=True)
    pd.testing.assert_frame_equal(fast.rejected, ref.rejected, check_exact=True)
    for col in fast.accepted.columns:  # bit for bit: -0.0 and 0.0 differ here
        a, b = fast.accepted[col].to_numpy(), ref.accepted[col].to_numpy()
        if a.dtype.kind == "f":
            assert a.tobytes() == b.tobytes(), col


def text_path(monkeypatch: pytest.MonkeyPatch, source: Path, kind: str, **kw) -> LoadResult:
    """The loader with its fast readers switched off (Parquet and UTF-8 CSV via text)."""
    with monkeypatch.context() as m:
        m.setattr(data, "_parquet_columns", lambda table: None)
        m.setattr(data, "_read_utf8_fast", lambda path, name: None)
        return load(source, kind, **kw)


def both(monkeypatch: pytest.MonkeyPatch, source: Path, kind: str, **kw) -> LoadResult:
    fast = load(source, kind, **kw)
    assert_same(fast, text_path(monkeypatch, source, kind, **kw))
    return fast


def write_parquet(frame: pd.DataFrame | pa.Table, path: Path) -> Path:
    table = frame if isinstance(frame, pa.Table) else pa.Table.from_pandas(frame)
    pq.write_table(table, path)
    return path


# ------------------------------------------------------------------------------------------------
# Typed Parquet vs the text path
# ------------------------------------------------------------------------------------------------
def test_typed_parquet_bad_values_match_the_text_path(tmp_path, monkeypatch):
    # One problem per row, typed the way a client's Parquet export types them.
    table = pa.table(
        {
            "customer_id": pa.array(["C1", " C2 ", "", None, "C5", "C6", "C7", "C8", "C1"]),
            "date": pa.array(
                [
                    dt.date(2025, 3, 1),
                    dt.date(2025, 3, 2),
                    dt.date(2025, 3, 3),
                    dt.date(2025, 3, 4),
                    None,  # empty date
                    dt.date(2025, 3, 6),
                    dt.date(2025, 3, 7),
                    dt.date(1500, 1, 1),  # outside datetime64[ns]: unparseable
                    dt.date(2025, 3, 9),
                ],
                pa.date32(),
            ),
            "amount": pa.array([10.5, 2.0, 3.0, 4.0, 5.0, float("nan"), float("inf"), 8.0, 9.25]),
            "is_refund": pa.array([False, False, None, False, False, False, False, False, True]),
            "order_id": pa.array(["O1", "O2", "O3", "O4", "O5", "O6", "O7", "O8", "O1"]),
            "store": pa.array([1, 2, 3, 4, 5, 6, 7, 8, 9], pa.int64()),  # a number as text
        }
    )
    r = both(monkeypatch, write_parquet(table, tmp_path / "tx.parquet"), "transactions")
    rejected = r.rejected.set_index("line")
    assert rejected.loc[4, "reason"] == "empty customer_id"
    assert rejected.loc[5, "reason"] == "empty customer_id"  # null id
    assert rejected.loc[6, ["column", "value", "reason"]].tolist() == ["date", "", "empty date"]
    assert rejected.loc[7, ["value", "reason"]].tolist() == ["", "empty amount"]  # NaN
    assert rejected.loc[8, ["value", "reason"]].tolist() == ["inf", "amount not a number"]
    assert rejected.loc[9, "reason"] == "unparseable date"
    assert r.accepted["amount"].tolist() == [10.5, 2.0, -9.25]  # the refund flag makes it negative
    assert r.accepted["customer_id"].tolist() == ["C1", "C2", "C1"]
    assert r.accepted["store"].tolist() == ["1", "2", "9"]


def test_typed_parquet_duplicates_negatives_and_odd_types(tmp_path, monkeypatch):
    table = pa.table(
        {
            "Клиент": pa.array(["A", "A", "B", "B", "C", "D", "E", "F"]),
            "Дата": pa.array(
                np.array(
                    [
                        "2025-01-01T10:00",
                        "2025-01-01T23:59:59",
                        "2025-01-02",
                        "2025-01-02",
                        "2025-01-03",
                        "2025-01-04",
                        "NaT",
                        "2025-01-06",
                    ],
                    dtype="datetime64[us]",
                )
            ).cast(pa.timestamp("us", tz="Europe/Moscow")),
            "Сумма": pa.array([1, -2, 3, None, 5, 6, 7, 2**60], pa.int64()),
            "Чек": pa.array(["X", "X", "Y", "Z", "Y", "W", "V", "U"]),
            "extra": pa.array([1.5, None, 2.5, 3.5, 4.5, 5.5, 6.5, 7.5], pa.float32()),
        }
    )
    r = both(monkeypatch, write_parquet(table, tmp_path / "odd.parquet"), "transactions")
    assert "negative amount not marked as refund" in set(r.rejected["reason"])
    assert "empty amount" in set(r.rejected["reason"])


@pytest.mark.parametrize("kind", ["survey", "exit_survey", "customers", "campaign"])
def test_typed_parquet_other_kinds(tmp_path, monkeypatch, kind):
    n = 8
    dates = pa.array([dt.date(2025, 1, 1 + i % 3) if i != 5 else None for i in range(n)])
    if kind == "survey":
        table = pa.table(
            {
                "respondent": pa.array(["R1", "R2", "R3", "R4", "R5", "R6", "R1", "R8"]),
                "date": dates,
                "score": pa.array([10, -1, 11, None, 7, 5, 10, 3], pa.int64()),  # null: float64
                "comment": pa.array(["ok", None, "", "x", "y", "z", "ok", " w "]),
            }
        )
    elif kind == "exit_survey":
        table = pa.table(
            {
                "customer_id": pa.array([f"C{i % 6}" for i in range(n)]),
                "date": dates,
                "reason": pa.array(["price", "цена", "", "переехал", None, "quality", "x", "y"]),
                "rating_price": pa.array([1.0, 5.0, 0.0, float("nan"), 6.0, 2.5, 3.0, 4.0]),
                "rating_service": pa.array([1, 2, 3, 4, 5, 1, 2, 7], pa.int8()),
            }
        )
    elif kind == "customers":
        table = pa.table(
            {
                "customer_id": pa.array([f"C{i % 7}" for i in range(n)]),
                "frequency": pa.array([0, 1, 2, 3, -1, 2, 1, 1], pa.int32()),
                "recency": pa.array([0.0, 1.5, 2.0, 9.0, 1.0, -0.0, 3.0, 1.0]),  # -0.0: via text
                "T": pa.array([1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 0.5]),
                "monetary": pa.array([0.0, 10.0, 20.0, 5.0, 1.0, 2.0, 3.0, 4.0]),
                "first_purchase": dates,
            }
        )
    else:
        table = pa.table(
            {
                "customer_id": pa.array(["A", "B", "A", "C", "D", "B", "E", "F"]),
                "group": pa.array(
                    ["treatment", "control", "treatment", "x", "test", "test", "", "контроль"]
                ),
                "start_date": dates,
            }
        )
    both(monkeypatch, write_parquet(table, tmp_path / f"{kind}.parquet"), kind)


def test_typed_parquet_text_numbers_with_decimal_comma(tmp_path, monkeypatch):
    # A text column with decimal commas makes the file's decimal ",": typed numbers must then
    # read as the text path reads their text ("1.234" → 1234), not as their values.
    table = pa.table(
        {
            "customer_id": pa.array(["A", "B", "C"]),
            "frequency": pa.array([1, 2, 3]),
            "recency": pa.array([1.234, 2.0, 1.5]),
            "T": pa.array([2000.0, 3.0, 4.0]),
            "monetary": pa.array(["1,5", "2,25", "3,75"]),
        }
    )
    r = both(monkeypatch, write_parquet(table, tmp_path / "comma.parquet"), "customers")
    assert r.accepted["monetary"].tolist() == [1.5, 2.25, 3.75]


def test_parquet_the_fast_path_declines_goes_through_text(tmp_path, monkeypatch):
    # A stored pandas index, a dictionary column, a decimal column: the text path decides.
    frame = pd.DataFrame(
        {"customer_id": ["A", "B"], "date": ["2025-01-01", "2025-01-02"], "amount": [1.0, 2.0]},
        index=pd.Index([10, 11], name="row"),
    )
    both(monkeypatch, write_parquet(frame, tmp_path / "indexed.parquet"), "transactions")
    table = pa.table(
        {
            "customer_id": pa.array(["A", "B", "A"]).dictionary_encode(),
            "date": pa.array([dt.date(2025, 1, 1)] * 3),
            "amount": pa.array([1, 2, 3], pa.decimal128(10, 2)),
        }
    )
    assert data._parquet_columns(table) is None
    both(monkeypatch, write_parquet(table, tmp_path / "dict.parquet"), "transactions")


def test_corpus_parquet_file_and_bench_like_file(tmp_path, monkeypatch):
    both(monkeypatch, CORPUS / "typed_tx.parquet", "transactions")
    rng = np.random.default_rng(7)
    n = 3000
    frame = pd.DataFrame(
        {
            "customer_id": [f"C{i:07d}" for i in rng.integers(0, 400, n)],
            "date": pd.to_datetime("2024-01-01") + pd.to_timedelta(rng.integers(0, 700, n), "D"),
            "amount": np.round(rng.gamma(2.0, 1000.0, n), 2),
            "is_refund": rng.random(n) < 0.05,
            "order_id": [f"O{i:09d}" for i in rng.integers(0, 2800, n)],  # some repeats
        }
    )
    frame["date"] = frame["date"].dt.date  # date32 like the benchmark files
    r = both(monkeypatch, write_parquet(frame, tmp_path / "bench_like.parquet"), "transactions")
    assert r.n_rejected > 0  # repeated orders of one customer


_ids = st.sampled_from(["C1", "C2", " C3", "C4 ", "", "Ж5"]) | st.none()
_amounts = (
    st.floats(allow_nan=True, allow_infinity=True, width=64)
    | st.sampled_from([0.0, -0.0, -1.5, 1e16, 2.5])
    | st.none()
)
_days = st.integers(-800_000, 3_000_000) | st.none()  # date32, a few outside datetime.date


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    rows=st.lists(
        st.tuples(_ids, st.integers(19_000, 19_010) | _days, _amounts, st.booleans() | st.none()),
        min_size=1,
        max_size=12,
    ),
    order_ids=st.lists(st.sampled_from(["O1", "O2", "O3", " O1", ""]), min_size=12, max_size=12),
    amount_type=st.sampled_from(["float64", "int64", "float32"]),
)
def test_random_typed_parquet_matches_text_path(
    tmp_path, monkeypatch, rows, order_ids, amount_type
):
    ids, days, amounts, refunds = zip(*rows, strict=True)
    if amount_type == "int64":
        amounts = [
            None if a is None or not np.isfinite(a) else int(max(min(a, 2**62), -(2**62)))
            for a in amounts
        ]
    table = pa.table(
        {
            "customer_id": pa.array(ids, pa.string()),
            "date": pa.array(days, pa.int32()).cast(pa.date32()),
            "amount": pa.array(amounts, pa.float64()).cast(amount_type, safe=False)
            if amount_type != "int64"
            else pa.array(amounts, pa.int64()),
            "is_refund": pa.array(refunds, pa.bool_()),
            "order_id": pa.array(order_ids[: len(rows)]),
        }
    )
    path = write_parquet(table, tmp_path / "random.parquet")
    try:
        ref = text_path(monkeypatch, path, "transactions")
    except Exception as exc:  # the text path fails on this file: so must the fast one
        with pytest.raises(type(exc)):
            load(path, "transactions")
        return
    assert_same(load(path, "transactions"), ref)


# ------------------------------------------------------------------------------------------------
# UTF-8 CSV straight from the file vs decode + re-encode
# ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "name", sorted(n for n in make_corpus.TEXT_FILES if n.endswith((".csv", ".tsv")))
)
def test_corpus_csv_fast_reader_matches_text_reader(monkeypatch, name):
    kind = (
        "survey"
        if "survey" in name and "exit" not in name
        else "exit_survey"
        if "exit" in name
        else "campaign"
        if "campaign" in name
        else "customers"
        if "customers" in name
        else "transactions"
    )
    kw = {"columns": data.read_mapping(CORPUS / "mapping.yaml", kind)} if "custom" in name else {}
    try:
        ref = text_path(monkeypatch, CORPUS / name, kind, **kw)
    except data.LoyaltyDataError as exc:
        with pytest.raises(data.LoyaltyDataError) as got:
            load(CORPUS / name, kind, **kw)
        assert str(got.value) == str(exc)
        return
    assert_same(load(CORPUS / name, kind, **kw), ref)


_cell = st.sampled_from(
    ["C1", "C2", " C1 ", "", '"C,1"', '"a\nb"', "2025-03-01", "01.03.2025", "x", "1\u00a0000,5"]
    + ["100.5", "-3", "1,5", "inf", "да", "нет", "true", "false", "O1", "O2"]
)


@settings(
    max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    rows=st.lists(st.lists(_cell, min_size=5, max_size=5), min_size=1, max_size=8),
    sep=st.sampled_from([",", ";"]),
    bom=st.booleans(),
    newline=st.sampled_from(["\n", "\r\n"]),
    tail=st.sampled_from(["", "\n", "\n\n", "  \n", "\n\u00a0", "\u3000"]),
    blank=st.booleans(),
)
def test_random_csv_fast_reader_matches_text_reader(
    tmp_path, monkeypatch, rows, sep, bom, newline, tail, blank
):
    lines = [sep.join(["customer_id", "date", "amount", "is_refund", "order_id"])]
    lines += [sep.join(r) for r in rows]
    if blank and len(lines) > 2:
        lines.insert(2, "")
    text = newline.join(lines) + tail
    path = tmp_path / "random.csv"
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8"))
    try:
        ref = text_path(monkeypatch, path, "transactions")
    except data.LoyaltyDataError as exc:
        with pytest.raises(data.LoyaltyDataError) as got:
            load(path, "transactions")
        assert str(got.value) == str(exc)
        return
    assert_same(load(path, "transactions"), ref)


def test_dates_outside_datetime64_are_rejected_not_a_crash(tmp_path, monkeypatch):
    # Before, "1500-01-01" raised OutOfBoundsDatetime out of load() (text and Parquet alike).
    path = tmp_path / "old.csv"
    path.write_text("customer_id,date,amount\nC1,1500-01-01,1\nC2,01.01.2300,2\nC3,2025-01-01,3\n")
    r = both(monkeypatch, path, "transactions")
    assert r.rejected[["line", "reason"]].values.tolist() == [
        [2, "unparseable date"],
        [3, "unparseable date"],
    ]


def test_dataframe_with_another_index_loads_like_its_reset():
    # Before, a filtered frame (index 10, 11) aligned to NaN and load() raised IndexError.
    df = pd.DataFrame(
        {"customer_id": ["A", "B"], "date": ["2025-01-01", "x"], "amount": [1.0, 2.0]},
        index=[10, 11],
    )
    assert_same(load(df, "transactions"), load(df.reset_index(drop=True), "transactions"))


def test_scan_utf8_declines_what_it_cannot_judge(tmp_path):
    cases = {
        "nul.csv": b"a,b\n1,\x002\n",
        "cp1251.csv": "a;b\nж;1\n".encode("cp1251"),
        "empty.csv": b"",
        "blank.csv": b" \n\t\n",
        "bom_only.csv": b"\xef\xbb\xbf",
        "two_boms.csv": b"\xef\xbb\xbf\xef\xbb\xbfa,b\n1,2\n",
        "nbsp_tail.csv": "a,b\n1,2\n\u00a0".encode(),
    }
    for name, raw in cases.items():
        (tmp_path / name).write_bytes(raw)
        assert data._scan_utf8(tmp_path / name) is None, name
    (tmp_path / "ok.csv").write_bytes('\ufeffa;b\n1;"x"\n2;ж\n\n'.encode())
    scan = data._scan_utf8(tmp_path / "ok.csv", block=3)  # tiny blocks: boundaries everywhere
    assert scan == data._Utf8Scan("utf-8-sig", "a;b", 2, True)


# ------------------------------------------------------------------------------------------------
# The pieces vs their one-line references
# ------------------------------------------------------------------------------------------------
_number_text = st.sampled_from(
    ["0", "-0", "+0", "1", "-1", "007", "1.", ".5", "-.5", "1e5", "1E-3", "1.5e+3", "inf"]
    + ["-inf", "nan", "NaN", "Infinity", "", " ", "x", "1,5", "1e", "e5", "+", "-", "."]
    + ["9007199254740993", "123456789012345678901", "0.1000000000000000055511151231257827"]
) | st.from_regex(r"\A[+-]?\d{0,20}(\.\d{0,20})?([eE][+-]?\d{1,3})?\Z")


@settings(max_examples=300, deadline=None)
@given(st.lists(_number_text, min_size=1, max_size=20))
def test_numeric_is_pd_to_numeric(values):
    t = pd.Series(values, dtype="str")
    got = data._numeric(t).to_numpy()
    want = pd.to_numeric(t, errors="coerce").astype("float64").to_numpy()
    assert (
        got.tobytes() == want.tobytes()
        or np.array_equal(got, want, equal_nan=True)
        and (np.signbit(got) == np.signbit(want)).all()
    )


def _repeats_reference(keys: list) -> tuple[np.ndarray, np.ndarray]:
    """What _Rejections.duplicates did: DataFrame.duplicated and groupby first."""
    frame = pd.DataFrame({f"k{i}": k for i, k in enumerate(keys)})
    names = list(frame.columns)
    frame["__pos"] = np.arange(len(frame))
    dup = frame.duplicated(names, keep="first").to_numpy()
    first = frame.groupby(names, sort=False, dropna=False)["__pos"].transform("first")
    return dup, first.to_numpy()


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["a", "b", "ab", "abcdefghij", "abcdefghiX", "", "жж", "a" * 20]),
            st.sampled_from(["O1", "O2", "O" + "0" * 12 + "1", "O" + "0" * 12 + "2"]),
            st.booleans(),
        ),
        min_size=1,
        max_size=15,
    )
)
def test_repeats_is_duplicated_plus_groupby_first(rows):
    a, b, c = zip(*rows, strict=True)
    keys = [pd.Series(b, dtype="str"), pd.Series(a, dtype="str"), np.array(c)]
    dup, first = data._repeats(keys)
    want_dup, want_first = _repeats_reference(keys)
    assert dup.tolist() == want_dup.tolist()
    assert first[dup].tolist() == want_first[dup].tolist()


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(alphabet="ab\u00e9 ", max_size=20), min_size=2, max_size=30))
def test_surely_distinct_never_lies(values):
    s = pd.Series(values, dtype="str")
    if data._surely_distinct(s):
        assert len(set(values)) == len(values)


def test_surely_distinct_settles_distinct_ids_and_spans_chunks():
    ids = [f"O{i:09d}" for i in range(5000)] + ["x", "ab", "Ж" * 9]
    chunked = pa.chunked_array(
        [pa.array(ids[:100], pa.large_string()), pa.array(ids[100:], pa.large_string())]
    )
    assert data._surely_distinct(chunked.to_pandas())
    repeated = pa.chunked_array(
        [pa.array(ids[:100], pa.large_string()), pa.array(ids[:1], pa.large_string())]
    )
    assert not data._surely_distinct(repeated.to_pandas())
    # same length, first 8 and last 8 bytes; differing in the middle: "maybe not", not a lie
    assert not data._surely_distinct(pd.Series(["abcdefgh-1-ijklmnop", "abcdefgh-2-ijklmnop"]))


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.text(alphabet=string.ascii_letters[:4] + " \t\u00a0\u3000\x1fж", max_size=6),
        max_size=20,
    )
)
def test_strip_is_str_strip(values):
    s = pd.Series(values, dtype="str")
    assert data._strip(s).tolist() == s.str.strip().tolist()


def test_factorize_text_is_pd_factorize_across_chunks():
    chunked = pa.chunked_array(
        [pa.array(v, pa.large_string()) for v in (["b", "a", "b"], ["c", "a"], ["d"])]
    )
    s = chunked.to_pandas()
    codes, uniques = data._factorize_text(s)
    want_codes, want_uniques = pd.factorize(s)
    assert codes.tolist() == want_codes.tolist()
    assert list(uniques) == list(want_uniques)
