"""Tests for loyalty_lib.data: formats, header aliases, row-level quarantine, file-level errors.

Every expected line number, reason and value below was counted by hand from the literal file text
in tests/bad_files/make_corpus.py (line 1 = header). Nothing is copied from the loader's output.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from loyalty_lib.data import (
    LoadResult,
    LoyaltyDataError,
    load,
    load_campaign,
    load_customers,
    load_exit_survey,
    load_survey,
    load_transactions,
    read_mapping,
)

CORPUS = Path(__file__).parent / "bad_files"
sys.path.insert(0, str(CORPUS))
import make_corpus  # noqa: E402

if not all((CORPUS / name).exists() for name in make_corpus.TEXT_FILES):
    make_corpus.build(CORPUS)


def reconciled(r: LoadResult) -> None:
    assert r.n_accepted + r.n_rejected == r.rows_read
    assert r.rejected["line"].is_unique  # one line per rejected row
    assert not set(r.accepted["line"]) & set(r.rejected["line"])


# ------------------------------------------------------------------------------------------------
# Row-level problems: (file, kind, rows_read, n_accepted, [(line, column, reason), ...])
# ------------------------------------------------------------------------------------------------
ROW_CASES = [
    (
        "tx_negative_amount.csv",
        "transactions",
        3,
        2,
        [(3, "amount", "negative amount not marked as refund")],
    ),
    (
        "tx_bad_date.csv",
        "transactions",
        4,
        1,
        [
            (2, "date", "unparseable date"),  # 31.02 does not exist
            (3, "date", "unparseable date"),  # "yesterday"
            (5, "date", "empty date"),
        ],
    ),
    (
        "tx_amount_text.csv",
        "transactions",
        4,
        1,
        [
            (2, "amount", "amount not a number"),
            (3, "amount", "empty amount"),
            (5, "amount", "amount not a number"),
        ],
    ),  # "inf" is not an amount
    ("tx_empty_customer.csv", "transactions", 2, 1, [(3, "customer_id", "empty customer_id")]),
    # line 4 is the refund of O1 (not a duplicate), line 5 is O1 of another customer
    (
        "tx_duplicate_order.csv",
        "transactions",
        4,
        3,
        [(3, "order_id", "duplicate order of line 2")],
    ),
    (
        "tx_refund_flag_bad.csv",
        "transactions",
        3,
        2,
        [(2, "is_refund", "unrecognised refund flag")],
    ),
    ("tx_extra_field.csv", "transactions", 3, 2, [(3, "", "wrong number of fields")]),
    # 4, 5, 6 and 7 fields; line 4's record spans lines 4-5; "C5,...,10," (trailing empty field)
    # is tolerated
    (
        "tx_ragged.csv",
        "transactions",
        5,
        1,
        [
            (2, "", "wrong number of fields"),
            (3, "", "wrong number of fields"),
            (4, "", "wrong number of fields"),
            (6, "", "wrong number of fields"),
        ],
    ),
    # the first record spans lines 2-3 (quoted newline), so the bad one starts on line 4
    ("tx_quoted_newline.csv", "transactions", 2, 1, [(4, "amount", "amount not a number")]),
    # blank lines 3 and 5 are lines but not records
    ("tx_blank_lines.csv", "transactions", 2, 1, [(4, "date", "unparseable date")]),
    (
        "tx_cp1251_bad.csv",
        "transactions",
        3,
        1,
        [(3, "amount", "amount not a number"), (4, "date", "unparseable date")],
    ),
    (
        "typed_tx.xlsx",
        "transactions",
        4,
        2,
        [
            (3, "amount", "negative amount not marked as refund"),
            (5, "customer_id", "empty customer_id"),
        ],
    ),
    (
        "typed_tx.parquet",
        "transactions",
        4,
        2,
        [
            (3, "amount", "negative amount not marked as refund"),
            (5, "customer_id", "empty customer_id"),
        ],
    ),
    (
        "survey_bad_scores.csv",
        "survey",
        6,
        1,
        [
            (2, "score", "score outside 0-10"),
            (3, "score", "score outside 0-10"),
            (4, "score", "score not a whole number"),
            (5, "score", "score not a number"),
            (6, "score", "empty score"),
        ],
    ),
    # 01.02.2025 is the same day as 2025-02-01
    (
        "survey_duplicate.csv",
        "survey",
        4,
        3,
        [(4, "respondent_id", "duplicate response of line 2")],
    ),
    ("survey_bad_date.csv", "survey", 2, 1, [(2, "date", "unparseable date")]),
    (
        "exit_bad_rating.csv",
        "exit_survey",
        4,
        1,
        [
            (2, "rating_price", "rating outside 1-5"),
            (3, "rating_service", "rating outside 1-5"),
            (4, "rating_service", "rating_service not a number"),
        ],
    ),
    ("exit_empty_reason.csv", "exit_survey", 2, 1, [(2, "reason", "empty reason")]),
    ("campaign_bad_group.csv", "campaign", 3, 2, [(3, "group", "group not treatment/control")]),
    (
        "campaign_both_groups.csv",
        "campaign",
        4,
        2,
        [
            (4, "customer_id", "customer in both groups (first at line 2)"),
            (5, "customer_id", "duplicate customer of line 3"),
        ],
    ),  # контроль == control
    ("campaign_bad_start.csv", "campaign", 2, 1, [(2, "start_date", "unparseable date")]),
    (
        "customers_bad.csv",
        "customers",
        11,
        2,
        [
            (3, "frequency", "negative frequency"),
            (4, "recency", "recency greater than T"),
            (5, "monetary", "monetary not 0 when frequency is 0"),
            (6, "recency", "negative recency"),
            (7, "T", "negative T"),  # T checked before recency > T
            (8, "monetary", "negative monetary"),
            (9, "frequency", "frequency not a number"),
            (10, "customer_id", "duplicate customer of line 2"),
            (11, "frequency", "frequency not a whole number"),
        ],
    ),
]


@pytest.mark.parametrize(
    ("name", "kind", "rows", "n_ok", "expected"), ROW_CASES, ids=[c[0] for c in ROW_CASES]
)
def test_row_level_corpus(name, kind, rows, n_ok, expected):
    r = load(CORPUS / name, kind)
    assert (r.rows_read, r.n_accepted, r.n_rejected) == (rows, n_ok, len(expected))
    got = list(r.rejected[["line", "column", "reason"]].itertuples(index=False, name=None))
    assert got == expected
    reconciled(r)


def test_rejected_value_and_raw_keep_the_original_text():
    r = load_transactions(CORPUS / "tx_cp1251_bad.csv")
    row = r.rejected.iloc[0]
    assert row["value"] == "сто"
    assert json.loads(row["raw"]) == {"Клиент": "К2", "Дата": "01.03.2025", "Сумма": "сто"}
    extra = load_transactions(CORPUS / "tx_extra_field.csv").rejected.iloc[0]
    assert extra["value"] == "4 fields, expected 3"
    assert json.loads(extra["raw"]) == ["C2", "2025-03-01", "1", "50"]


def test_refund_flag_makes_amount_negative_and_zero_is_accepted():
    r = load_transactions(CORPUS / "tx_refund_flag_bad.csv")
    # line 3: -10 flagged true stays -10; line 4: 10 flagged "да" becomes -10
    assert r.accepted["amount"].tolist() == [-10.0, -10.0]
    assert r.accepted["is_refund"].tolist() == [True, True]
    assert load_transactions(CORPUS / "good_tx_utf8.csv").accepted["amount"].tolist() == [
        100.5,
        0.0,
        1234.5,
    ]


def test_quoted_newline_value_survives():
    r = load_transactions(CORPUS / "tx_quoted_newline.csv")
    assert r.accepted["store"].tolist() == ["Main\nstreet"]
    assert r.accepted["line"].tolist() == [2]


# ------------------------------------------------------------------------------------------------
# Good files: encodings, delimiters, decimal comma, Cyrillic headers, Excel, Parquet
# ------------------------------------------------------------------------------------------------
def test_utf8_iso_dates_with_time_normalised():
    r = load_transactions(CORPUS / "good_tx_utf8.csv")
    assert (r.encoding, r.delimiter, r.decimal) == ("utf-8", ",", ".")
    assert r.accepted["date"].tolist() == list(
        pd.to_datetime(["2025-03-01", "2025-03-02", "2025-03-05"])
    )  # 14:30 dropped to midnight
    assert r.accepted["order_id"].tolist() == ["O1", "O2", "O3"]
    assert r.accepted["line"].tolist() == [2, 3, 4]
    assert list(r.accepted.columns) == [
        "customer_id",
        "date",
        "amount",
        "is_refund",
        "order_id",
        "line",
    ]
    assert r.accepted["date"].dtype == "datetime64[ns]"
    assert r.accepted["amount"].dtype == "float64"
    assert pd.api.types.is_string_dtype(r.accepted["customer_id"])
    assert r.accepted.index.equals(pd.RangeIndex(3))


def test_bom_and_russian_headers():
    r = load_transactions(CORPUS / "good_tx_bom.csv")
    assert r.encoding == "utf-8-sig"
    assert r.column_map == {"customer_id": "Клиент", "date": "Дата", "amount": "Сумма"}
    assert r.accepted["amount"].tolist() == [50.0, 75.25]


def test_cp1251_semicolon_decimal_comma():
    r = load_transactions(CORPUS / "good_tx_cp1251.csv")
    assert (r.encoding, r.delimiter, r.decimal) == ("cp1251", ";", ",")
    assert r.column_map["store"] == "Магазин" and r.column_map["is_refund"] == "Возврат"
    # "1 234,50" → 1234.5; "-1 000,00" (NBSP) flagged да → refund -1000
    assert r.accepted["amount"].tolist() == [1234.5, 99.9, -1000.0, 15.0]
    assert r.accepted["is_refund"].tolist() == [False, False, True, False]
    assert r.accepted["date"].tolist() == list(
        pd.to_datetime(["2025-03-01", "2025-03-02", "2025-03-05", "2025-03-06"])
    )  # 02.03.25 is 2025
    assert r.accepted["customer_id"].tolist() == ["К-001", "К-002", "К-001", "К-003"]
    reconciled(r)


def test_tab_delimited():
    r = load_transactions(CORPUS / "good_tx_tab.tsv")
    assert r.delimiter == "\t"
    assert r.accepted["amount"].tolist() == [10.5, 20.0]


def test_excel_and_parquet_report_no_csv_settings():
    for name in ("typed_tx.xlsx", "typed_tx.parquet"):
        r = load_transactions(CORPUS / name)
        assert (r.encoding, r.delimiter, r.decimal) == (None, None, None)
        assert r.accepted["amount"].tolist() == [10.5, 7.0]
        assert r.accepted["date"].tolist() == list(pd.to_datetime(["2025-03-01", "2025-03-03"]))


def test_survey_russian_cp1251_quoted_delimiter_in_comment():
    r = load_survey(CORPUS / "good_survey_ru.csv")
    assert r.accepted["score"].tolist() == [10, 0, 7]
    assert r.accepted["score"].dtype == "int64"
    assert r.accepted["comment"].tolist() == ["Отлично", "", "Нормально; но дорого"]
    assert r.accepted["respondent_id"].tolist() == ["R1", "R2", "R3"]
    assert r.accepted["customer_id"].isna().all()


def test_survey_falls_back_to_customer_id_then_line_number():
    r = load_survey(CORPUS / "survey_bad_date.csv")
    assert r.accepted["respondent_id"].tolist() == ["C2"]
    df = pd.DataFrame({"date": ["2025-01-01", "2025-01-01"], "score": [9, 9]})
    r = load_survey(df)
    # no id columns: the respondent is the line number, so equal rows are not duplicates
    assert r.accepted["respondent_id"].tolist() == ["line-2", "line-3"]
    assert r.source == "<DataFrame>"


def test_exit_survey_ratings_and_reasons():
    r = load_exit_survey(CORPUS / "good_exit_ru.csv")
    assert r.column_map["rating_price"] == "Оценка: цена"
    assert r.column_map["rating_quality"] == "Оценка: качество"
    assert r.accepted["reason"].tolist() == ["price", "competition", "other"]
    assert r.accepted["reason_raw"].tolist() == ["Цена", "конкуренты", "переехал"]
    assert r.accepted["rating_price"].tolist() == [2.0, 5.0, 3.0]
    assert np.isnan(r.accepted["rating_delivery"].iloc[0])


def test_campaign_russian_groups():
    r = load_campaign(CORPUS / "good_campaign_ru.csv")
    assert r.accepted["group"].tolist() == ["treatment", "control", "treatment"]
    assert (r.accepted["start_date"] == pd.Timestamp("2025-07-01")).all()


def test_customers_dtypes_and_optional_columns():
    df = pd.DataFrame(
        {
            "customer_id": ["A", "B"],
            "frequency": ["2", "0"],
            "recency": ["10.5", "0"],
            "T": ["30", "20"],
            "monetary": ["12,5", "0"],
            "orders": ["3", "1"],
            "first_purchase": ["01.01.2025", "2025-01-05"],
        }
    )
    r = load_customers(df)
    assert r.accepted["frequency"].dtype == "int64" and r.accepted["orders"].dtype == "int64"
    assert r.accepted["monetary"].tolist() == [12.5, 0.0]  # a lone decimal comma
    assert r.accepted["first_purchase"].tolist() == list(
        pd.to_datetime(["2025-01-01", "2025-01-05"])
    )
    assert list(r.accepted.columns)[-1] == "line"


def test_dataframe_input_line_is_position_plus_two():
    df = pd.DataFrame(
        {"customer_id": ["A", "B", "C"], "date": ["2025-01-01"] * 3, "amount": [1.0, np.nan, -2.0]}
    )
    r = load_transactions(df)
    assert r.rejected[["line", "reason"]].values.tolist() == [
        [3, "empty amount"],
        [4, "negative amount not marked as refund"],
    ]


# ------------------------------------------------------------------------------------------------
# Mapping files and explicit columns
# ------------------------------------------------------------------------------------------------
def test_custom_headers_need_mapping_and_read_mapping_formats():
    with pytest.raises(LoyaltyDataError, match="required column 'customer_id' not found"):
        load_transactions(CORPUS / "good_tx_custom_headers.csv")
    mapping = read_mapping(CORPUS / "mapping.yaml", "transactions")
    assert mapping == {"customer_id": "Buyer No", "date": "When", "amount": "Paid RUB"}
    assert read_mapping(CORPUS / "mapping.yaml", "survey") == {"score": "Оценка NPS"}
    assert read_mapping(CORPUS / "mapping.yaml", "campaign") == {}
    assert read_mapping(CORPUS / "mapping_flat.yaml", "transactions") == {
        "customer_id": "Buyer No",
        "amount": "Paid RUB",
    }
    r = load_transactions(CORPUS / "good_tx_custom_headers.csv", columns=mapping)
    assert r.accepted["amount"].tolist() == [500.0, 250.5]
    assert r.column_map == mapping


def test_explicit_mapping_resolves_ambiguity_and_bad_mappings_fail():
    r = load_transactions(CORPUS / "err_ambiguous.csv", columns={"amount": "Выручка"})
    assert r.column_map["amount"] == "Выручка"
    with pytest.raises(LoyaltyDataError, match="'money' is not a transactions column"):
        read_mapping(CORPUS / "mapping_bad.yaml", "transactions")
    with pytest.raises(LoyaltyDataError, match="header 'Nope', which is not in the file") as e:
        load_transactions(CORPUS / "good_tx_utf8.csv", columns={"amount": "Nope"})
    assert e.value.column == "amount"


# ------------------------------------------------------------------------------------------------
# File-level problems
# ------------------------------------------------------------------------------------------------
FILE_ERRORS = [
    (
        "err_missing_column.csv",
        "amount",
        [
            "err_missing_column.csv: required column 'amount' not found",
            "looked for: amount, sum, total",
            "сумма",
            "headers found: 'Клиент', 'Дата'",
        ],
    ),
    (
        "err_ambiguous.csv",
        "amount",
        ["column 'amount' is ambiguous", "'Сумма', 'Выручка'", "columns={'amount'"],
    ),
    ("err_empty.csv", None, ["err_empty.csv: file is empty"]),
    ("err_header_only.csv", None, ["no data rows", "'customer_id', 'date', 'amount'"]),
    ("err_unclosed_quote.csv", None, ["malformed CSV", "EOF inside string"]),
    ("err_undecodable.csv", None, ["cannot decode", "utf-8, cp1251"]),
    ("err_binary.csv", None, ["cannot decode"]),
    ("does_not_exist.csv", None, ["does_not_exist.csv: file not found"]),
]


@pytest.mark.parametrize(("name", "column", "parts"), FILE_ERRORS, ids=[c[0] for c in FILE_ERRORS])
def test_file_level_errors(name, column, parts):
    with pytest.raises(LoyaltyDataError) as e:
        load_transactions(CORPUS / name)
    for part in parts:
        assert part in str(e.value)
    assert e.value.column == column
    assert e.value.file == str(CORPUS / name)
    assert isinstance(e.value, ValueError)


def test_unknown_kind_and_bad_source_type():
    with pytest.raises(LoyaltyDataError, match="unknown kind 'orders'"):
        load(CORPUS / "good_tx_utf8.csv", "orders")
    with pytest.raises(TypeError, match="path .* or a pandas DataFrame"):
        load_transactions(42)


# ------------------------------------------------------------------------------------------------
# Result object: sentence, report, quarantine file
# ------------------------------------------------------------------------------------------------
def test_str_report_and_to_dict():
    r = load_transactions(CORPUS / "tx_bad_date.csv")
    assert str(r) == (
        "tx_bad_date.csv: 4 rows read, 1 accepted, 3 rejected "
        "(2 × unparseable date, 1 × empty date)"
    )
    assert r.report.values.tolist() == [["unparseable date", "date", 2], ["empty date", "date", 1]]
    d = r.to_dict()
    assert (d["rows_read"], d["n_accepted"], d["n_rejected"]) == (4, 1, 3)
    assert str(load_transactions(CORPUS / "good_tx_tab.tsv")) == (
        "good_tx_tab.tsv: 2 rows read, 2 accepted, 0 rejected"
    )
    # duplicates are grouped without their "of line N"
    camp = load_campaign(CORPUS / "campaign_both_groups.csv")
    assert set(camp.report["reason"]) == {"customer in both groups", "duplicate customer"}


def test_write_quarantine_and_quarantine_argument(tmp_path):
    out = tmp_path / "q" / "rejected.csv"
    r = load_survey(CORPUS / "survey_bad_scores.csv", quarantine=out)
    back = pd.read_csv(out, dtype=str, keep_default_na=False, encoding="utf-8")
    assert list(back.columns) == ["line", "column", "value", "reason", "raw"]
    assert back["line"].tolist() == ["2", "3", "4", "5", "6"]
    assert back["value"].tolist() == ["11", "-1", "7.5", "десять", ""]
    again = r.write_quarantine(tmp_path / "again.csv")
    assert again == tmp_path / "again.csv" and again.read_text("utf-8") == out.read_text("utf-8")
    assert not (tmp_path / "none.csv").exists()
    load_survey(CORPUS / "good_survey_ru.csv")  # no quarantine argument → nothing written
    assert not (tmp_path / "none.csv").exists()


# ------------------------------------------------------------------------------------------------
# Hypothesis: any mixture of good and bad rows reconciles, each bad row on its own line
# ------------------------------------------------------------------------------------------------
GOOD = ("C{i},2025-03-{d:02d},{a}.50", None)
BAD = {
    "bad_date": ("C{i},2025-02-30,{a}", "unparseable date"),
    "bad_amount": ("C{i},2025-03-01,{a}x", "amount not a number"),
    "no_customer": (",2025-03-01,{a}", "empty customer_id"),
    "negative": ("C{i},2025-03-01,-{a}", "negative amount not marked as refund"),
    "extra_field": ("C{i},2025-03-01,{a},9", "wrong number of fields"),
}
ROW = st.sampled_from([GOOD, *BAD.values()])


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    rows=st.lists(st.tuples(ROW, st.booleans(), st.booleans()), min_size=1, max_size=30),
    sep=st.sampled_from([",", ";"]),
    encoding=st.sampled_from(["utf-8", "utf-8-sig", "cp1251"]),
)
def test_random_mixtures_reconcile(tmp_path, rows, sep, encoding):
    # Each row may be preceded by a blank line and may carry a quoted two-line note; the expected
    # line of each record is counted here while writing, independently of the loader.
    text = ["Клиент,дата,сумма,note"]
    line = 2
    expected_bad = {}
    n_good = 0
    for i, ((template, reason), blank, multiline) in enumerate(rows):
        if blank:
            text.append("")
            line += 1
        rec = template.format(i=i, d=i % 28 + 1, a=i + 1)
        # the note is the 4th field; extra_field rows get it too, so they have 5 fields
        note = '"two\nlines"' if multiline else "n"
        text.append(rec + "," + note)
        if reason:
            expected_bad[line] = reason
        else:
            n_good += 1
        line += 2 if multiline else 1
    data = "\n".join(text).replace(",", sep) + "\n"
    path = tmp_path / f"mix_{len(rows)}.csv"
    path.write_bytes(data.encode(encoding))
    r = load_transactions(path)
    assert r.rows_read == len(rows)
    assert r.n_accepted == n_good
    assert dict(zip(r.rejected["line"], r.rejected["reason"], strict=True)) == expected_bad
    reconciled(r)


def test_repr_is_the_sentence():
    r = load_transactions(CORPUS / "tx_negative_amount.csv")
    assert (
        repr(r)
        == str(r)
        == (
            "tx_negative_amount.csv: 3 rows read, 2 accepted, 1 rejected "
            "(1 × negative amount not marked as refund)"
        )
    )
