"""The consultant report as the client sees it: report.html opened from disk in Chromium.

The report is built once for the module with the command a consultant types (``loyalty report``
on ``data/example_client``). The page must work offline (figures inlined, network requests
blocked), show no code, and show the headline numbers of ``summary.json`` formatted the way the
report formats them (``loyalty_lib.report.headlines``: NPS ``+18.9``, money ``14,362``, shares
``34%``, ROI ``-10.4 %``); the expected strings are built here from the JSON, not read from the
page.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.browser

PROJECT_ROOT = Path(__file__).resolve().parents[2]
CLIENT = PROJECT_ROOT / "data" / "example_client"
CLIENT_NAME = "Romashka (example)"


@pytest.fixture(scope="module")
def report_dir(chromium_executable: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``loyalty report`` on the example client, as in the README (through this interpreter)."""
    out = tmp_path_factory.mktemp("client") / "report"
    command = [
        sys.executable, "-m", "loyalty_lib", "report", "--client", CLIENT_NAME, "--out", str(out),
        "--transactions", str(CLIENT / "transactions.csv"), "--survey", str(CLIENT / "survey.csv"),
        "--exit-survey", str(CLIENT / "exit_survey.csv"), "--campaign", str(CLIENT / "campaign.csv"),
        "--lang", "en",  # a Russian export: auto would write the Russian report (tested below)
    ]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, timeout=600, cwd=PROJECT_ROOT)
    assert done.returncode == 0, f"loyalty report failed:\n{done.stdout}\n{done.stderr}"
    assert (out / "report.html").is_file() and (out / "summary.json").is_file(), done.stdout
    return out


@pytest.fixture(scope="module")
def report_page(browser: Any, report_dir: Path) -> Any:
    """report.html opened from disk with every non-file request blocked (a client offline)."""
    context = browser.new_context(viewport={"width": 1200, "height": 900})
    blocked: list[str] = []

    def offline(route: Any) -> None:
        blocked.append(route.request.url)
        route.abort()

    context.route("http*://**/*", offline)
    page = context.new_page()
    page.goto((report_dir / "report.html").as_uri(), wait_until="load")
    page.blocked = blocked  # for the test's message
    yield page
    context.close()


def headline_rows(page: Any) -> dict[str, list[str]]:
    """The 'Headline numbers' table: metric → the other cells of its row, as shown."""
    return page.evaluate(
        """() => {
            const table = Array.from(document.querySelectorAll('table')).find(t =>
                Array.from(t.querySelectorAll('th'), th => th.textContent.trim()).join('|').startsWith('metric|value'));
            if (!table) return {};
            return Object.fromEntries(Array.from(table.querySelectorAll('tbody tr'), tr => {
                const cells = Array.from(tr.querySelectorAll('td'), td => td.textContent.trim());
                return [cells[0], cells.slice(1)];
            }));
        }"""
    )


def _signed_pct(x: float) -> str:
    return "—" if x is None or not math.isfinite(x) else f"{100 * x:+.1f} %"


def expected_headlines(summary: dict[str, Any]) -> dict[str, tuple[str, str]]:
    """Metric label prefix → (value, interval) formatted from summary.json as the report does."""
    cur = summary["currency"]
    nps, ltv, clv = summary["nps"]["result"], summary["ltv"]["result"], summary["clv"]
    churn, camp = summary["churn"], summary["campaign"]
    seg = summary["segments"]
    at_risk = sum(seg["rfm_counts"].get(k, 0) for k in ("At risk", "Can't lose them"))
    aspect = churn["aspects"][0]  # sorted from the lowest mean
    did, roi = camp["spend_did"], camp["roi"]
    return {
        "NPS": (f"{nps['score']:+.1f}", f"{nps['ci_low']:+.1f} to {nps['ci_high']:+.1f}"),
        "LTV": (f"{ltv['ltv']:,.0f}", "—"),
        "CLV": (
            f"{clv['clv_mean']:,.0f}",
            f"{clv['clv_mean_ci_low']:,.0f} to {clv['clv_mean_ci_high']:,.0f}",
        ),
        "Valuable customers at risk": (f"{at_risk:,}", "—"),
        "Top churn reason": (
            f"{churn['top_reason']} {churn['top_share']:.0%}",
            f"{churn['top_share_ci_low']:.0%} to {churn['top_share_ci_high']:.0%}",
        ),
        "Lowest-rated aspect": (
            f"{aspect['aspect'].replace('_', ' ')} {aspect['mean']:.2f}",
            f"{aspect['ci_low']:.2f} to {aspect['ci_high']:.2f}",
        ),
        f"Campaign: extra spend per treated customer (DiD), {cur}": (
            f"{did['estimate']:+,.0f}",
            f"{did['ci_low']:+,.0f} to {did['ci_high']:+,.0f}",
        ),
        "Campaign ROI": (
            _signed_pct(roi["roi"]),
            f"{_signed_pct(roi['roi_ci_low'])} to {_signed_pct(roi['roi_ci_high'])}",
        ),
    }


def test_report_headlines_match_summary_json(report_page, report_dir):
    summary = json.loads((report_dir / "summary.json").read_text(encoding="utf-8"))
    assert all(
        summary[s]["status"] == "ok" for s in ("nps", "ltv", "clv", "segments", "churn", "campaign")
    )
    rows = headline_rows(report_page)
    assert rows, "no 'Headline numbers' table (columns metric, value, ...) on the page"
    for prefix, (value, interval) in expected_headlines(summary).items():
        matches = [cells for metric, cells in rows.items() if metric.startswith(prefix)]
        assert len(matches) == 1, (
            f"one headline row starting {prefix!r} expected; rows: {list(rows)}"
        )
        assert matches[0][:2] == [value, interval], f"{prefix}: page shows {matches[0][:2]}"
    # the client's name and the NPS sentence's numbers are also in the running text
    text = report_page.inner_text("body")
    assert CLIENT_NAME in text
    assert f"{summary['nps']['result']['n']:,} answers" in text


def test_report_shows_every_figure_and_no_code(report_page, page_screenshot):
    widths = report_page.evaluate(
        "() => Promise.all(Array.from(document.images, i => i.decode().then(() => i.naturalWidth, () => 0)))"
    )
    assert widths, "the report shows no figure"
    assert 0 not in widths, f"figures that did not load (naturalWidth 0): {widths}"
    code = report_page.locator(
        ".jp-CodeCell .jp-InputArea, .jp-InputPrompt, .input_area, .highlight, .jp-CodeMirrorEditor"
    )
    assert code.count() == 0, f"{code.count()} code elements on the client's page"
    text = report_page.inner_text("body")
    for fragment in ("import ", "report.open_case(", "Traceback", "_section(case)"):
        assert fragment not in text, f"code or a traceback on the client's page: {fragment!r}"
    errors = report_page.locator('[data-mime-type="application/vnd.jupyter.stderr"]')
    assert errors.count() == 0, errors.all_inner_texts()[:3]
    print(f"requests blocked while offline: {report_page.blocked}")
    page_screenshot(report_page, "report-romashka-example")


def test_pdf_pages_render_as_images_with_the_client_on_page_one(report_dir, tmp_path):
    # The PDF as a client prints it: every page rasterised (pdftoppm, poppler-utils from
    # `make browser`), none blank, and page 1 (the executive summary) names the client.
    import shutil

    from PIL import Image, ImageStat

    pdf = report_dir / "report.pdf"
    if shutil.which("pdftoppm") is None or shutil.which("pdftotext") is None:
        pytest.skip("poppler-utils missing (make browser installs it)")
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True)
    pages = int(next(ln.split()[-1] for ln in info.stdout.splitlines() if ln.startswith("Pages:")))
    subprocess.run(["pdftoppm", "-r", "40", "-png", str(pdf), str(tmp_path / "page")], check=True)
    images = sorted(tmp_path.glob("page*.png"))
    assert pages >= 2 and len(images) == pages
    for image in images:
        with Image.open(image) as im:
            assert im.width < im.height  # A4 portrait
            # a blank page has one colour: no spread in the grey levels
            assert ImageStat.Stat(im.convert("L")).stddev[0] > 5, image.name
    first = subprocess.run(
        ["pdftotext", "-f", "1", "-l", "1", str(pdf), "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert CLIENT_NAME in first


def _at_phone_width(browser, html: Path):
    """Open ``html`` at 390 × 844 px (a phone): (context, page, how many px the page is wider
    than the screen, how many images run past its right edge). The caller closes the context."""
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    page.goto(html.as_uri(), wait_until="load")
    overflow = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
    wide_images = page.evaluate(
        "() => Array.from(document.images).filter(i => i.getBoundingClientRect().right > "
        "window.innerWidth + 1).length"
    )
    return context, page, overflow, wide_images


def test_report_reads_at_a_phone_width(browser, report_dir):
    # 390 px (a phone): the page itself never scrolls sideways; wide tables may scroll inside
    # their own box, and images shrink to the screen.
    context, page, overflow, wide_images = _at_phone_width(browser, report_dir / "report.html")
    context.close()
    assert overflow <= 1, f"the page is {overflow}px wider than a phone screen"
    assert wide_images == 0


@pytest.fixture(scope="module")
def russian_report_dir(chromium_executable: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``loyalty report`` on the example client with the default --lang auto: Russian."""
    out = tmp_path_factory.mktemp("client_ru") / "report"
    command = [
        sys.executable, "-m", "loyalty_lib", "report", "--client", "Ромашка (пример)", "--out", str(out),
        "--transactions", str(CLIENT / "transactions.csv"), "--survey", str(CLIENT / "survey.csv"),
        "--exit-survey", str(CLIENT / "exit_survey.csv"), "--campaign", str(CLIENT / "campaign.csv"),
    ]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, timeout=600, cwd=PROJECT_ROOT)
    assert done.returncode == 0, f"loyalty report failed:\n{done.stdout}\n{done.stderr}"
    assert "language: ru" in done.stdout
    return out


def test_russian_report_reads_at_a_phone_width(browser, russian_report_dir, page_screenshot):
    # the Russian report at 390 px: Russian headings and headline table, no sideways scrolling
    context, page, overflow, wide_images = _at_phone_width(
        browser, russian_report_dir / "report.html"
    )
    lang = page.evaluate("() => document.documentElement.lang")
    text = page.inner_text("body")
    heads = page.evaluate(
        "() => Array.from(document.querySelectorAll('table th'), th => th.textContent.trim())"
    )
    page_screenshot(page, "report-romashka-ru-phone")
    context.close()
    assert lang == "ru"
    assert "Главные цифры" in text and "1. Качество данных" in text
    assert "Headline numbers" not in text and "1. Data quality" not in text
    assert {"показатель", "значение"} <= set(heads)
    assert overflow <= 1, f"the page is {overflow}px wider than a phone screen"
    assert wide_images == 0
