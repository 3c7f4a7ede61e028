"""The Russian report (``loyalty report --lang ru|en|auto``): the language chosen from the client's
files, report.html / report.pdf / report.xlsx in Russian with Russian number format, and a
summary.json whose keys and numbers do not depend on the language.

Three reports are built once for the module: the Russian 1C export ``data/example_client`` with
the default ``auto`` (through the CLI, to see its echo) and again with ``--lang en``, and the UK
client's Excel file with ``auto``. Expected strings are built here from ``summary.json`` with our
own formatting, not taken from the report's code.
"""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from loyalty_lib import nps, report, segments
from loyalty_lib.cli import main as cli
from loyalty_lib.i18n import messages
from loyalty_lib.report import labels
from loyalty_lib.report.build import detect_language
from tests.report.test_deliverables import (
    NEEDS_PDFTOTEXT,
    _leaks,
    _parse,
    _pdftotext,
    _stderr_boxes,
    _summary,
    _visible,
)

pytestmark = pytest.mark.notebooks

ROOT = Path(__file__).resolve().parents[2]
CLIENT = ROOT / "data" / "example_client"
UK = ROOT / "data" / "example_client_uk"
FILES = {k: CLIENT / f"{k}.csv" for k in ("transactions", "survey", "exit_survey", "campaign")}
NAME = "Ромашка (пример)"
#: The English section headings of the template: none may be left in the Russian report.
ENGLISH_TITLES = (
    "Data quality",
    "Net Promoter Score",
    "Customer lifetime value",
    "Expected value of each customer",
    "Segments and what to do",
    "Why customers leave",
    "Did the loyalty campaign work",
    "Recommendations",
    "Appendix: rejected rows",
    "Headline numbers",
)
#: Russian numbers: thousands grouped by a non-breaking or narrow space; a decimal comma.
RU_GROUPED = re.compile(r"\d{1,3}(?:[\u00a0\u202f]\d{3})+")
#: pdftotext writes a non-breaking space as a plain one
PDF_GROUPED = re.compile(r"\d{1,3}(?:[ \u00a0\u202f]\d{3})+(?:[ \u00a0]₽)")
RU_DECIMAL = re.compile(r"(?<![\d,])\d+,\d+(?![\d,])")
RU_MONEY = re.compile(r"\d{1,3}(?:[\u00a0\u202f]\d{3})+[\u00a0\u202f]₽")


def _cli(out: Path, client: str, *args: str) -> list[str]:
    result = CliRunner().invoke(cli, ["report", "--client", client, "--out", str(out), *args])
    assert result.exit_code == 0, result.output
    return result.output.splitlines()


def _files_args() -> list[str]:
    return [a for k, p in FILES.items() for a in (f"--{k.replace('_', '-')}", str(p))]


@pytest.fixture(scope="module")
def ru(tmp_path_factory):
    """The 1C export with the default --lang auto: (folder, the CLI's output lines)."""
    out = tmp_path_factory.mktemp("ru") / "romashka"
    return out, _cli(out, NAME, *_files_args())


@pytest.fixture(scope="module")
def en(tmp_path_factory):
    """The same client with --lang en."""
    out = tmp_path_factory.mktemp("en") / "romashka"
    return out, _cli(out, NAME, *_files_args(), "--lang", "en")


@pytest.fixture(scope="module")
def uk(tmp_path_factory):
    """The UK client's Excel file with --lang auto."""
    out = tmp_path_factory.mktemp("uk") / "uk"
    args = ["--currency", "GBP", "--transactions", str(UK / "transactions.xlsx")]
    return out, _cli(out, "UK gift shop", *args)


def _letters(text: str) -> tuple[int, int]:
    cyrillic = len(re.findall(r"[а-яёА-ЯЁ]", text))
    latin = len(re.findall(r"[A-Za-z]", text))
    return cyrillic, latin


def _cyrillic_majority(text: str) -> bool:
    cyrillic, latin = _letters(text)
    return cyrillic > 2 * latin  # client, file names, NPS, CLV, RFM stay Latin: still a third


# --------------------------------------------------------------------------------------------
# the language: chosen from the files, said in the log
# --------------------------------------------------------------------------------------------


def test_auto_reports_the_1c_export_in_russian_and_says_why(ru):
    out, echoed = ru
    summary = _summary(out)
    assert summary["language"] == "ru" and summary["settings"]["lang"] == "ru"
    log = (out / "report.log").read_text(encoding="utf-8").splitlines()
    for lines in (log, echoed):
        said = [ln for ln in lines if ln.startswith("language:")]
        assert len(said) == 1, lines[:3]
        assert said[0].startswith("language: ru (Russian; auto: ")
        assert "Cyrillic" in said[0] and "transactions.csv" in said[0]
    assert '<html lang="ru">' in (out / "report.html").read_text(encoding="utf-8")


def test_auto_reports_the_uk_client_in_english(uk):
    out, echoed = uk
    summary = _summary(out)
    assert summary["language"] == "en" and summary["settings"]["lang"] == "en"
    said = [ln for ln in echoed if ln.startswith("language:")]
    assert said and said[0].startswith("language: en (English; auto: 0% of the letters")
    assert '<html lang="en">' in (out / "report.html").read_text(encoding="utf-8")
    assert "1. Data quality" in _visible(out / "report.html")


def test_explicit_lang_wins_and_is_logged(en):
    out, echoed = en
    assert _summary(out)["language"] == "en"
    assert "language: en (English; --lang en)" in echoed


def test_detection_reads_headers_of_every_format(tmp_path):
    ru_csv = tmp_path / "ru.csv"
    ru_csv.write_bytes("Клиент;Дата;Сумма\nC1;01.01.2025;10,5\n".encode("cp1251"))
    en_csv = tmp_path / "en.csv"
    # English headers win over Russian values: the client's system speaks English
    en_csv.write_text("customer_id,date,amount,city\nC1,2025-01-01,10.5,Екатеринбург\n")
    ru_parquet = tmp_path / "ru.parquet"
    pd.DataFrame({"Клиент": ["C1"], "Сумма": [1.0]}).to_parquet(ru_parquet)
    assert detect_language({"transactions": ru_csv})[0] == "ru"
    assert detect_language({"transactions": en_csv})[0] == "en"
    assert detect_language({"transactions": ru_parquet})[0] == "ru"
    assert detect_language({"transactions": UK / "transactions.xlsx"})[0] == "en"
    lang, why = detect_language({"transactions": ru_csv, "survey": en_csv})
    assert (lang, why.split("%")[0]) == ("en", "38")  # 15 Cyrillic of 39 letters in the headers


# --------------------------------------------------------------------------------------------
# report.html, report.pdf, report.xlsx in Russian
# --------------------------------------------------------------------------------------------


def test_html_is_russian_with_russian_numbers(ru):
    out, _ = ru
    text = _visible(out / "report.html")
    raw_text = " ".join(_parse(out / "report.html").parts)  # (split() would eat the NBSPs)
    assert _cyrillic_majority(text), _letters(text)
    summary = _summary(out)
    for title in (
        "Качество данных",
        "Главные цифры",
        "Рекомендации",
        "Приложение: отклонённые строки",
    ):
        assert title in text, title
    left = [t for t in ENGLISH_TITLES if t in text]
    assert left == []
    assert RU_GROUPED.search(raw_text), "no number like 13 106 034 on the page"
    assert RU_MONEY.search(raw_text), "no amount like 8 737 ₽ on the page"
    assert RU_DECIMAL.search(text), "no number like 18,9 on the page"
    # the headline NPS and its interval as a Russian reader writes them
    r = summary["nps"]["result"]

    def signed(x: float) -> str:
        return f"{x:+.1f}".replace(".", ",").replace("-", "−")

    assert f"от {signed(r['ci_low'])} до {signed(r['ci_high'])}" in text
    n = f"{summary['clv']['n_customers']:,}".replace(",", "\u00a0")
    assert f"{n} клиентов" in raw_text
    assert "31.12.2025" in text  # the observation end in dd.mm.yyyy
    assert _stderr_boxes(out / "report.html") == set()
    assert _leaks(text, out) == []


class _Outputs(HTMLParser):
    """The visible text inside the page's HTML output areas (what the library displayed)."""

    VOID = {"img", "br", "hr", "meta", "link", "input", "col", "area", "base", "wbr", "source"}

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._stack: list[tuple[bool, bool]] = []  # (inside an output, hidden)

    def handle_starttag(self, tag, attrs):
        if tag in self.VOID:
            return
        inside = bool(self._stack and self._stack[-1][0]) or (
            dict(attrs).get("data-mime-type") == "text/html"
        )
        hidden = bool(self._stack and self._stack[-1][1]) or tag in {"style", "script"}
        self._stack.append((inside, hidden))

    def handle_endtag(self, tag):
        if tag not in self.VOID and self._stack:
            self._stack.pop()

    def handle_data(self, text):
        if self._stack and self._stack[-1][0] and not self._stack[-1][1]:
            self.parts.append(text)


def test_html_outputs_are_russian_too(ru):
    # the part the library writes (tables, sentences, notes), whatever the template's prose
    parser = _Outputs()
    parser.feed((ru[0] / "report.html").read_text(encoding="utf-8"))
    text = " ".join(" ".join(parser.parts).split())
    assert len(text) > 2000 and _cyrillic_majority(text), _letters(text)
    # (the CLV and campaign sections and the LTV sentence are translated elsewhere)
    for english in ("skipped", "rejected rows", "Headline numbers", "Notes", "RFM segments"):
        assert english not in text, english


@NEEDS_PDFTOTEXT
def test_pdf_is_russian_and_opens_on_the_russian_summary(ru):
    out, _ = ru
    pdf = out / "report.pdf"
    text = _pdftotext(pdf)
    assert _cyrillic_majority(text), _letters(text)
    assert [t for t in ENGLISH_TITLES if t in text] == []
    assert PDF_GROUPED.search(text) and RU_DECIMAL.search(text)
    pages = text.count("\f")
    first = _pdftotext(pdf, 1)
    assert NAME in first and "Сводка" in first and "Главные цифры" in first
    assert "отчёт о лояльности" in first  # the running header
    assert "31.12.2025" in first  # the header's date in the Russian format
    assert f"страница 1 из {pages}" in first  # the footer
    assert "1. Качество данных" not in first
    assert _leaks(text, out) == []


def test_workbook_is_russian_with_numbers_as_numbers(ru):
    from openpyxl import load_workbook

    out, _ = ru
    wb = load_workbook(out / "report.xlsx")
    assert wb.sheetnames[0] == "сводка" and wb.sheetnames[-1] == "отклонённые строки"
    assert "Сегменты" in wb.sheetnames and "Причины оттока" in wb.sheetnames
    head = wb["сводка"]
    labels_ = [head.cell(r, 1).value for r in range(1, 4)]
    assert labels_ == ["клиент", "конец периода наблюдения", "валюта"]
    # every label a reader reads (sheet names, the first column's words) is Russian; the
    # metric column holds summary.json's keys, the same in every language
    words = " ".join(wb.sheetnames) + " ".join(str(x) for x in labels_)
    assert _cyrillic_majority(words)
    summary = _summary(out)
    values = {
        (row[0].value, row[1].value): row[2].value
        for row in head.iter_rows(min_row=6)
        if row[1].value is not None
    }
    assert values[("clv", "clv_mean")] == pytest.approx(summary["clv"]["clv_mean"], rel=1e-12)
    assert isinstance(values[("nps", "result.score")], float)
    text = "\n".join(str(c.value) for ws in wb for row in ws.iter_rows() for c in row if c.value)
    assert _leaks(text, out) == []


def test_chart_files_keep_ascii_names(ru):
    names = [p.name for p in sorted((ru[0] / "charts").glob("*.png"))]
    assert names and all(re.fullmatch(r"\d\d-[a-z0-9-]+\.png", n) for n in names), names
    assert any("kachestvo" in n or "nps" in n for n in names), names


# --------------------------------------------------------------------------------------------
# summary.json: the same keys and numbers in both languages
# --------------------------------------------------------------------------------------------


def _shape(value):
    """summary.json without its prose: keys and numbers kept, strings as "<text>" (the
    recommendations, notes and skip notes are sentences in the report's language)."""
    if isinstance(value, dict):
        return {k: _shape(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_shape(v) for v in value]
    return "<text>" if isinstance(value, str) else value


def _without_language(summary: dict) -> dict:
    summary = json.loads(json.dumps(summary))
    summary.pop("language")
    summary["settings"].pop("lang")
    return summary


def _leaves(value, path=""):
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _leaves(v, f"{path}.{k}")
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _leaves(v, f"{path}[{i}]")
    else:
        yield path, value


def test_summary_json_has_the_same_keys_and_numbers_in_both_languages(ru, en):
    got, base = _without_language(_summary(ru[0])), _without_language(_summary(en[0]))
    assert _shape(got).keys() == _shape(base).keys()
    a, b = dict(_leaves(got)), dict(_leaves(base))
    assert a.keys() == b.keys()
    for path, value in b.items():
        if isinstance(value, float):  # two fits of one model agree to ~1e-9, not bit for bit
            assert a[path] == pytest.approx(value, rel=1e-6), path
        elif not isinstance(value, str):
            assert a[path] == value, path
    # the codes a program reads are the same strings too: everything but the prose
    prose = {"recommendations", "notes", "client", "clv"}  # clv: floats compared above
    for key in set(base) - prose:
        assert got[key] == base[key], key
    # the model choice's reason is a sentence in the report's language; every other string of
    # the CLV record is a code (model key, period, interval method)
    assert {k: v for k, v in got["clv"].items() if isinstance(v, str) and k != "model_reason"} == {
        k: v for k, v in base["clv"].items() if isinstance(v, str) and k != "model_reason"
    }
    assert got["clv"]["model_reason"].startswith("Выбрана ")
    assert base["clv"]["model_reason"].startswith("Use ")
    assert len(got["recommendations"]) == len(base["recommendations"])
    for ru_text, en_text in zip(got["recommendations"], base["recommendations"], strict=True):
        assert ru_text.split(" [")[-1] == en_text.split(" [")[-1]  # the same rule's sources
        assert _cyrillic_majority(ru_text) and not _letters(en_text)[0]


# --------------------------------------------------------------------------------------------
# every code the library can show has Russian text
# --------------------------------------------------------------------------------------------


def test_every_label_code_has_russian_text():
    russian = messages.catalogue("ru")
    codes = [
        *segments.RFM_SEGMENTS["segment"],
        *segments.RFM_SEGMENTS["description"],
        *segments.SEGMENT_ACTIONS.values(),
        *segments.CHURN_REASONS,
        *nps.THEMES,
        *report.REASON_ACTIONS.values(),
        *report.ASPECT_ACTIONS.values(),
        *(s for s in report.SECTIONS.values()),
        "support speed",
        "one-off",
    ]
    missing = [c for c in codes if c.replace("_", " ") not in russian]
    assert missing == []
    assert set(labels.RFM_NAMES) == set(segments.RFM_SEGMENTS["segment"])
    assert set(labels.RFM_DESCRIPTIONS) == set(segments.RFM_SEGMENTS["description"])
    assert set(labels.SEGMENT_ACTIONS) == set(segments.SEGMENT_ACTIONS.values())


def test_every_rejected_row_reason_of_the_example_reads_in_russian(ru):
    from loyalty_lib.i18n import using_language

    reasons = {
        r for path in (ru[0] / "quarantine").glob("*.csv") for r in pd.read_csv(path)["reason"]
    }
    assert len(reasons) >= 6
    with using_language("ru"):
        shown = {r: labels.data_reason(r) for r in reasons}
        assert labels.data_reason("duplicate response of line 20") == "повтор ответа из строки 20"
        assert labels.data_reason("empty customer_id") == "пустое поле customer_id"
    assert all(re.search("[а-я]", s) for s in shown.values()), shown
    assert labels.data_reason("duplicate response of line 20") == "duplicate response of line 20"
    text = _visible(ru[0] / "report.html")
    assert all(s in text for s in shown.values() if "строки" not in s)
