"""Survey-tool and shop exports recognised without a mapping; suggestions for unknown headers.

Expected values are read by hand off the corpus text in tests/bad_files/make_corpus.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from loyalty_lib.cli import main
from loyalty_lib.data import LoyaltyDataError, load_survey, load_transactions, read_mapping
from loyalty_lib.data.columns import suggest_columns

CORPUS = Path(__file__).resolve().parents[1] / "bad_files"


def _rejected(r) -> list[tuple[int, str, str, str]]:
    return list(
        r.rejected[["line", "column", "value", "reason"]].itertuples(index=False, name=None)
    )


def _days(r) -> list[str]:
    return r.accepted["date"].dt.strftime("%Y-%m-%d").tolist()


def test_google_forms_russian() -> None:
    r = load_survey(CORPUS / "survey_google_ru.csv")
    assert r.column_map["date"] == "Отметка времени"
    assert r.column_map["score"].startswith("Насколько вероятно, что вы порекомендуете")
    assert r.column_map["comment"] == "Почему вы поставили такую оценку?"
    assert r.column_map["customer_id"] == "Адрес электронной почты"
    assert r.accepted["score"].tolist() == [9, 6, 10]
    assert r.accepted["respondent_id"].tolist() == [
        "anna@example.com",
        "boris@example.com",
        "line-5",
    ]
    assert _days(r) == ["2025-03-01", "2025-03-01", "2025-03-02"]
    assert _rejected(r) == [(4, "score", "11", "score outside 0-10")]


def test_google_forms_english_us_dates() -> None:
    r = load_survey(CORPUS / "survey_google_en.csv")
    assert r.column_map["date"] == "Timestamp"
    assert _days(r) == ["2025-03-15", "2025-03-16"]  # 3/15/2025: month first
    assert r.accepted["comment"].tolist() == ["Great staff", ""]
    assert _rejected(r) == [(4, "score", "", "empty score")]


def test_yandex_forms() -> None:
    r = load_survey(CORPUS / "survey_yandex.csv")
    assert (r.column_map["respondent_id"], r.column_map["date"]) == ("ID", "Время создания")
    assert r.accepted["respondent_id"].tolist() == ["101", "103"]
    assert r.accepted["score"].tolist() == [8, 0]
    assert _rejected(r) == [(3, "score", "десять", "score not a number")]


def test_surveymonkey_two_row_header() -> None:
    r = load_survey(CORPUS / "survey_surveymonkey.csv")
    # line 2 ("Response", "Open-Ended Response") is part of the header: 3 records, lines 3-5
    assert (r.rows_read, r.n_accepted, r.n_rejected) == (3, 2, 1)
    assert r.accepted["line"].tolist() == [3, 4]
    assert r.column_map["date"] == "End Date"
    assert _days(r) == ["2025-03-14", "2025-03-15"]
    assert r.accepted["score"].tolist() == [9, 3]
    assert _rejected(r) == [(5, "respondent_id", "114211111112", "duplicate response of line 4")]


def test_typeform() -> None:
    r = load_survey(CORPUS / "survey_typeform.csv")
    assert r.column_map["respondent_id"] == "#"
    assert r.column_map["date"] == "Submit Date (UTC)"  # not the start date
    assert _days(r) == ["2025-03-01", "2025-03-03"]
    assert r.accepted["comment"].tolist() == ["Love it", "Meh"]


def test_two_nps_like_questions_are_ambiguous() -> None:
    import pandas as pd

    df = pd.DataFrame(
        {
            "Timestamp": ["2025-01-01"],
            "How likely are you to recommend our shop?": ["9"],
            "How likely are you to recommend our app?": ["7"],
        }
    )
    with pytest.raises(LoyaltyDataError, match="ambiguous"):
        load_survey(df)


def test_suggestions_for_unknown_headers() -> None:
    with pytest.raises(LoyaltyDataError) as info:
        load_transactions(CORPUS / "unknown_headers_ru.csv")
    assert info.value.missing == ["customer_id", "date", "amount"]
    got = suggest_columns(info.value.headers, "transactions")
    assert {c: h for c, (h, _) in got.items()} == {
        "customer_id": "Клиентский номер",
        "date": "Время",
        "amount": "Оплачено, руб",
    }


def test_validate_writes_a_mapping_that_loads(tmp_path: Path) -> None:
    runner = CliRunner()
    mapping = tmp_path / "mapping.yml"
    src = str(CORPUS / "unknown_headers_ru.csv")
    result = runner.invoke(
        main, ["validate", src, "--kind", "transactions", "--write-mapping", str(mapping)]
    )
    assert result.exit_code == 1
    assert "customer_id: Клиентский номер" in result.output
    assert read_mapping(mapping, "transactions") == {
        "customer_id": "Клиентский номер",
        "date": "Время",
        "amount": "Оплачено, руб",
    }
    result = runner.invoke(
        main, ["validate", src, "--kind", "transactions", "--columns", str(mapping)]
    )
    assert result.exit_code == 0, result.output
    assert "2 rows read, 2 accepted, 0 rejected" in result.output


def test_validate_prints_the_first_rejected_lines() -> None:
    result = CliRunner().invoke(
        main, ["validate", str(CORPUS / "lines_uci.csv"), "--kind", "transactions", "--show", "2"]
    )
    assert result.exit_code == 0, result.output
    assert "12 lines → 4 orders; 7 lines accepted, 5 rejected" in result.output
    assert "first 2 of 5 rejected lines:" in result.output
    tail = result.output.split("rejected lines:")[1].splitlines()[1:]
    assert tail[0].split() == ["line", "column", "value", "reason"]
    assert tail[1].split() == [
        "5",
        "customer_id",
        "anonymous",
        "purchase",
        "(no",
        "customer",
        "id)",
    ]
    assert tail[2].split() == ["9", "unit_price", "0", "zero", "price"]
    assert len(tail) == 3
