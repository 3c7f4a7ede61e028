"""The client's deliverables of ``loyalty report`` (issue #19): report.html, report.pdf and
report.xlsx on the shipped example clients and on a run with a single input, checked for what a
client must (and must never) see; warnings turned into plain notes; every setting reaching the
analysis.

Each report is built once per module (module-scoped fixtures; a build runs the template notebook).
Expected values come from ``summary.json`` read independently of the exporters (our own walk of
its numbers), from the library called directly on the loaders' accepted rows, or from the text
that ``pdftotext`` (poppler-utils) extracts from the PDF.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest
from click.testing import CliRunner

from loyalty_lib import data, nps, pipeline, report
from loyalty_lib.cli import main as cli

pytestmark = pytest.mark.notebooks

ROOT = Path(__file__).resolve().parents[2]
CLIENT = ROOT / "data" / "example_client"
UK = ROOT / "data" / "example_client_uk"
FILES = {k: CLIENT / f"{k}.csv" for k in ("transactions", "survey", "exit_survey", "campaign")}
ROMASHKA, GIFT_SHOP, SOLO = "Romashka (example)", "UK gift shop", "Solo Traders"
#: What a client's page must never show: Python's warning and error furniture, code, and paths
#: of the machine that built the report.
FORBIDDEN = ("Warning", "Traceback", "UserWarning", ".py:", "loyalty_lib.", "import ", "/work/")
NEEDS_PDFTOTEXT = pytest.mark.skipif(
    shutil.which("pdftotext") is None,
    reason="pdftotext missing: apt-get install poppler-utils (make browser installs it)",
)


#: The English report: data/example_client is a Russian export, which ``lang="auto"`` would
#: report in Russian (tests/report/test_russian_report.py covers that one).
EN = {"lang": "en"}


def _build(out: Path, client: str, **kwargs) -> Path:
    kwargs.setdefault("parameters", EN)
    report.build_report(client=client, out_dir=out, echo=lambda _: None, **kwargs)
    return out


@pytest.fixture(scope="module")
def romashka(tmp_path_factory):
    return _build(tmp_path_factory.mktemp("deliv") / "romashka", ROMASHKA, **FILES)


@pytest.fixture(scope="module")
def gift_shop(tmp_path_factory):
    """The second example client through the CLI: one Excel file, GBP."""
    out = tmp_path_factory.mktemp("deliv") / "uk"
    args = ["report", "--client", GIFT_SHOP, "--currency", "GBP", "--out", str(out)]
    result = CliRunner().invoke(cli, [*args, "--transactions", str(UK / "transactions.xlsx")])
    assert result.exit_code == 0, result.output
    return out


@pytest.fixture(scope="module")
def solo(tmp_path_factory):
    """Every input missing but one: only the example's transactions."""
    return _build(
        tmp_path_factory.mktemp("deliv") / "solo", SOLO, transactions=FILES["transactions"]
    )


@pytest.fixture(scope="module", params=["romashka", "gift_shop", "solo"])
def built(request):
    """(report folder, client name) for each of the three reports."""
    client = {"romashka": ROMASHKA, "gift_shop": GIFT_SHOP, "solo": SOLO}[request.param]
    return request.getfixturevalue(request.param), client


class _Text(HTMLParser):
    """The visible text of a page: everything but <style> and <script>."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self.mime_types: set[str] = set()  # of the output areas
        self._hidden = 0

    def handle_starttag(self, tag, attrs):
        self._hidden += tag in {"style", "script"}
        self.mime_types |= {v for k, v in attrs if k == "data-mime-type"}

    def handle_endtag(self, tag):
        self._hidden -= tag in {"style", "script"}

    def handle_data(self, text):
        if not self._hidden:
            self.parts.append(text)


def _parse(html_path: Path) -> _Text:
    parser = _Text()
    parser.feed(html_path.read_text(encoding="utf-8"))
    return parser


def _visible(html_path: Path) -> str:
    return " ".join(" ".join(_parse(html_path).parts).split())


def _stderr_boxes(html_path: Path) -> set[str]:
    return {m for m in _parse(html_path).mime_types if "stderr" in m or "error" in m}


def _pdftotext(pdf: Path, *pages: int) -> str:
    span = ["-f", str(pages[0]), "-l", str(pages[-1])] if pages else []
    return subprocess.run(
        ["pdftotext", "-layout", *span, str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout


def _numbers(summary: dict) -> dict[tuple[str, str], float]:
    """Every number of summary.json's settings and section records, by (section, dotted path):
    written here independently of the exporter, to check its headline sheet."""
    out: dict[tuple[str, str], float] = {}

    def walk(section, prefix, value):
        if isinstance(value, dict):
            for k, v in value.items():
                walk(section, f"{prefix}.{k}" if prefix else k, v)
        elif isinstance(value, int | float) and not isinstance(value, bool):
            out[(section, prefix)] = value

    for key in ("settings", *report.SECTIONS):
        walk(key, "", summary[key])
    return out


def _headline_sheet(xlsx: Path) -> tuple[dict[str, object], dict[tuple[str, str], object]]:
    from openpyxl import load_workbook

    ws = load_workbook(xlsx)["headline"]
    rows = [[c for c in row] for row in ws.iter_rows()]
    head = {r[0].value: r[1].value for r in rows[:3]}
    start = next(
        i for i, r in enumerate(rows) if [c.value for c in r[:3]] == ["section", "metric", "value"]
    )
    cells = {(r[0].value, r[1].value): r[2] for r in rows[start + 1 :] if r[0].value is not None}
    return head, cells


def _summary(out: Path) -> dict:
    return json.loads((out / "summary.json").read_text(encoding="utf-8"))


def _leaks(text: str, out: Path) -> list[str]:
    machine = {str(ROOT), str(out), str(out.resolve()), "/tmp/"}
    return [s for s in (*FORBIDDEN, *machine) if s in text]


# --------------------------------------------------------------------------------------------
# 1. the three files, on both example clients and on a single input
# --------------------------------------------------------------------------------------------


def test_the_three_files_and_the_charts_are_written(built):
    out, _ = built
    for name in ("report.html", "report.pdf", "report.xlsx"):
        assert (out / name).stat().st_size > 1000, name
    assert (out / "report.pdf").read_bytes().startswith(b"%PDF-")
    assert any((out / "charts").glob("*.png"))


def test_the_single_input_report_skips_what_it_lacks(solo):
    summary = _summary(solo)
    skipped = {k for k in report.SECTIONS if summary[k]["status"] == "skipped"}
    assert skipped == {"nps", "churn", "campaign"}
    assert summary["ltv"]["status"] == summary["clv"]["status"] == "ok"
    text = _visible(solo / "report.html")
    for reason in ("no survey file given", "no exit-survey file given", "no campaign file given"):
        assert f"skipped — {reason}" in text


@NEEDS_PDFTOTEXT
def test_pdf_names_the_client_and_opens_on_the_executive_summary(built):
    out, client = built
    pdf = out / "report.pdf"
    text = _pdftotext(pdf)
    assert client in text
    pages = text.count("\f")  # pdftotext ends every page with a form feed
    assert pages > 1
    first = _pdftotext(pdf, 1)
    assert client in first and "Summary" in first and "Headline numbers" in first
    # the first numbered section starts page two
    assert "1. Data quality" not in first and "1. Data quality" in _pdftotext(pdf, 2, pages)


def test_headline_sheet_holds_summary_json_numbers_as_numbers(built):
    out, client = built
    summary = _summary(out)
    head, cells = _headline_sheet(out / "report.xlsx")
    assert head["client"] == client and head["observation end"] == summary["observation_end"]
    expected = _numbers(summary)
    assert set(cells) == set(expected)
    for key, cell in cells.items():
        assert cell.data_type == "n" and not isinstance(cell.value, str), key
        assert cell.value == pytest.approx(expected[key], rel=1e-12), key
    # a headline a client reads: CLV's mean, as a number with thousands separators
    mean = cells[("clv", "clv_mean")]
    assert mean.number_format == "#,##0.00"


def test_nothing_leaks_into_the_html(built):
    out, _ = built
    raw = (out / "report.html").read_text(encoding="utf-8")
    assert _stderr_boxes(out / "report.html") == set()  # no stderr or error output box
    assert "text/html" in _parse(out / "report.html").mime_types  # (the scan sees output areas)
    assert _leaks(_visible(out / "report.html"), out) == []
    machine = [p for p in (str(ROOT), str(out.resolve()), "/tmp/", "/work/") if p in raw]
    assert machine == []


@NEEDS_PDFTOTEXT
def test_nothing_leaks_into_the_pdf(built):
    out, _ = built
    assert _leaks(_pdftotext(out / "report.pdf"), out) == []


def test_nothing_leaks_into_the_workbook(built):
    from openpyxl import load_workbook

    out, _ = built
    wb = load_workbook(out / "report.xlsx")
    text = "\n".join(
        str(c.value) for ws in wb.worksheets for row in ws.iter_rows() for c in row if c.value
    )
    assert _leaks(text, out) == []
    assert {"headline", "rejected rows"} <= set(wb.sheetnames)


# --------------------------------------------------------------------------------------------
# 2. a warning inside a section is a plain note
# --------------------------------------------------------------------------------------------

MODEL_NOTE = "the planted fit drifted towards infinity"
CHART_NOTE = "the planted chart clipped 3 points"
#: Inserted after open_case in a copy of the template, tagged remove-cell (export drops it): the
#: CLV computation and its chart each raise a UserWarning, as a model or Matplotlib would.
_PLANT = f"""import warnings
from loyalty_lib import plots
from loyalty_lib.report import compute

_clv, _dist = compute._COMPUTE["clv"], plots.clv_distribution

def _warning_clv(case):
    warnings.warn({MODEL_NOTE!r}, UserWarning)
    return _clv(case)

def _warning_chart(*args, **kwargs):
    warnings.warn({CHART_NOTE!r}, UserWarning)
    return _dist(*args, **kwargs)

compute._COMPUTE["clv"], plots.clv_distribution = _warning_clv, _warning_chart
"""


@pytest.fixture(scope="module")
def warned(tmp_path_factory):
    import nbformat

    folder = tmp_path_factory.mktemp("warned")
    template = nbformat.read(pipeline.notebooks_dir() / report.TEMPLATE, as_version=4)
    at = next(i for i, c in enumerate(template.cells) if "report.open_case(" in "".join(c.source))
    cell = nbformat.v4.new_code_cell(_PLANT, metadata={"tags": ["remove-cell"]})
    template.cells.insert(at + 1, cell)
    (folder / "notebooks").mkdir()
    nbformat.write(template, folder / "notebooks" / report.TEMPLATE)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(pipeline, "notebooks_dir", lambda: folder / "notebooks")
        return _build(folder / "out", SOLO, transactions=FILES["transactions"])


def test_a_section_warning_is_a_plain_note_not_a_stderr_box(warned):
    executed = json.loads((warned / "notebooks" / report.TEMPLATE).read_text(encoding="utf-8"))
    streams = [
        o for c in executed["cells"] for o in c.get("outputs", []) if o.get("name") == "stderr"
    ]
    assert streams == []  # without the notes mechanism both warnings land here, with a path
    raw = (warned / "report.html").read_text(encoding="utf-8")
    text = _visible(warned / "report.html")
    assert _stderr_boxes(warned / "report.html") == set()
    # the model's warning: a note of the CLV section, in the appendix's notes and summary.json
    assert f"CLV: {MODEL_NOTE}" in text and f"<li>CLV: {MODEL_NOTE}</li>" in raw
    assert f"CLV: {MODEL_NOTE}" in _summary(warned)["notes"]
    # the chart's warning: a note right after the CLV section's output
    assert f"<li>{CHART_NOTE}</li>" in raw
    assert text.index(CHART_NOTE) < text.index("5. Segments")
    assert _leaks(text, warned) == []


# --------------------------------------------------------------------------------------------
# 3. every setting reaches the analysis
# --------------------------------------------------------------------------------------------

#: A valid non-default value of every setting.
CUSTOM = {
    "confidence": 0.8,
    "gross_margin": 0.5,
    "program_costs": 250_000.0,
    "clv_horizon_months": 6,
    "discount_rate_monthly": 0.02,
    "churn_months": 18,
    "churn_flag_share": 0.25,
    "aspect_threshold": 3.5,
    "inactive_days": 120,
    "top_n": 5,
    "freq": "W",
    "clv_model": "pareto",
    "lang": "en",
}


def test_custom_values_cover_every_setting_and_differ_from_the_defaults():
    assert set(CUSTOM) == {s.name for s in report.SETTINGS}
    for s in report.SETTINGS:
        assert CUSTOM[s.name] != s.default and s.check(CUSTOM[s.name]), s.name


@pytest.fixture(scope="module")
def custom(tmp_path_factory):
    return _build(tmp_path_factory.mktemp("custom") / "out", ROMASHKA, parameters=CUSTOM, **FILES)


def test_every_setting_is_in_summary_json(custom):
    assert _summary(custom)["settings"] == CUSTOM


def test_every_setting_changes_what_it_governs(custom, romashka):
    got, base = _summary(custom), _summary(romashka)
    # confidence: an 80 % interval of the same NPS is narrower than the 95 % one, and equals the
    # library's on the loader's accepted rows
    scores = data.load(FILES["survey"], "survey").accepted["score"]
    n80, n95 = got["nps"]["result"], base["nps"]["result"]
    assert n80["score"] == pytest.approx(n95["score"])
    assert n80["ci_high"] - n80["ci_low"] < n95["ci_high"] - n95["ci_low"]
    lib = nps.nps(scores, confidence=0.8)
    assert (n80["ci_low"], n80["ci_high"]) == pytest.approx((lib.ci_low, lib.ci_high))
    # campaign: margin and costs in the ROI, (DiD × treated × margin − costs) / costs
    did = got["campaign"]["spend_did"]
    roi = (did["estimate"] * did["n_treatment"] * 0.5 - 250_000) / 250_000
    assert got["campaign"]["roi"]["roi"] == pytest.approx(roi, rel=1e-9)
    assert got["campaign"]["assumptions"] == {"gross_margin": 0.5, "program_costs": 250_000.0}
    # CLV: horizon, discount rate, weekly periods, top list
    clv = got["clv"]
    assert (clv["horizon_months"], clv["discount_rate_monthly"], clv["period"]) == (
        6,
        0.02,
        "weeks",
    )
    assert len(clv["top"]) == 5
    # clv_model: the forced model, not the holdout's choice
    assert (clv["model"], clv["model_choice"]) == ("pareto", "override")
    assert base["clv"]["model_choice"] == "holdout"
    assert clv["clv_mean"] < base["clv"]["clv_mean"]  # half the horizon, dearer money
    # churn: the window of answers, the flag share and the aspect threshold
    assert (got["churn"]["months"], got["churn"]["aspect_threshold"]) == (18, 3.5)
    assert got["churn"]["n_exits"] >= base["churn"]["n_exits"]
    assert {a["aspect"] for a in base["churn"]["low_aspects"]} <= {
        a["aspect"] for a in got["churn"]["low_aspects"]
    }
    # segments: the churn window
    seg = got["segments"]
    assert seg["inactive_days"] == 120
    assert seg["potentially_churning"] >= base["segments"]["potentially_churning"]
    # the HTML says the level it used
    text = _visible(custom / "report.html")
    assert "80% CI" in text and "95% CI" not in text


@pytest.mark.parametrize(
    ("parameters", "message"),
    [
        ({"confidence": 1.2}, "confidence must be"),
        ({"top_n": 0}, "top_n must be"),
        ({"freq": "Y"}, "freq must be"),
        ({"churn_months": 2.5}, "churn_months must be"),
        ({"colour": "red"}, "unknown setting"),
    ],
)
def test_bad_settings_fail_before_any_notebook_runs(tmp_path, monkeypatch, parameters, message):
    def no_kernel(*args, **kwargs):
        raise AssertionError("a notebook was started")

    monkeypatch.setattr(pipeline, "execute_notebook", no_kernel)
    with pytest.raises(report.ReportInputError, match=message):
        report.build_report(
            client="X",
            out_dir=tmp_path / "out",
            transactions=FILES["transactions"],
            parameters=parameters,
            echo=lambda _: None,
        )
    assert not (tmp_path / "out").exists()


def _steady_client(folder):
    """transactions.csv of twenty customers who each buy every fortnight from 2024-01-01 to the
    end of 2025 (customer c always spends 500 + c)."""
    import pandas as pd

    days = pd.date_range("2024-01-01", "2025-12-31", freq="14D")
    tx = pd.DataFrame(
        [
            {"customer_id": f"C{c}", "date": d.date(), "amount": 500.0 + c, "order_id": f"{c}-{i}"}
            for c in range(20)
            for i, d in enumerate(days)
        ]
    )
    tx.to_csv(folder / "transactions.csv", index=False)


def test_ltv_without_any_churn_is_skipped_with_its_reason(tmp_path):
    """Every customer buys every fortnight up to the end: no quarter loses anyone, so
    t = 1 / churn is unbounded; the section says so instead of failing the whole report."""

    from loyalty_lib.report import compute

    _steady_client(tmp_path)
    case = report.open_case("Steady", data_dir=tmp_path, transactions="transactions.csv")
    value = compute._section(case, "ltv")
    assert isinstance(value, report.Skipped) and "churn 0" in value.reason
    assert case.summary["ltv"]["status"] == "skipped"
    assert report.headlines(case).frame.iloc[1]["value"] == "skipped"


def test_clv_of_customers_who_never_drop_out_is_finite_with_plain_notes(tmp_path):
    """Twenty customers buying every fortnight up to the end: no model sees anyone drop out.
    BG/NBD's fit runs to the edge (r, α → ∞, a → 0) and forecasts NaN; the report falls back to
    a model whose limit stays finite, and says in plain words what the data cannot tell. By
    hand: one purchase per 14 days is 365.25 / 14 / 12 ≈ 2.17 purchases a month at each
    customer's own average value, discounted 1 % a month over 12 months."""
    import numpy as np

    from loyalty_lib.report import compute

    _steady_client(tmp_path)
    case = report.open_case("Steady", data_dir=tmp_path, transactions="transactions.csv", lang="en")
    value = compute._section(case, "clv")
    rec = value["record"]
    assert rec["model"] != "bgnbd" and np.isfinite(value["table"]["clv"]).all()
    discount = sum(1.01**-i for i in range(1, 13))
    by_hand = np.mean([(500.0 + c) for c in range(20)]) * 30 / 14 * discount
    assert rec["clv_mean"] == pytest.approx(by_hand, rel=0.03)
    notes = " ".join(case.notes)
    assert "BG/NBD cannot forecast these customers" in notes
    assert "cannot tell active from lapsed customers: use the 180-day rule" in notes
