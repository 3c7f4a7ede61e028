"""The client's files besides report.html: report.pdf, report.xlsx and charts/*.png.

PDF: Chromium's print-to-PDF, driven through Playwright. Chosen over WeasyPrint because Chromium
renders report.html exactly as the client's browser does (the same engine the browser suite checks
it with), repeats a table's header row on every page it spans, and prints a header and footer
template (client, date, "page N of M") natively; it is already a system package of this project
(``make browser``), whereas WeasyPrint needs Pango/HarfBuzz system libraries and implements its own
CSS subset, so the PDF could differ from the HTML the client also receives. Without Chromium the
report stops with a :class:`ReportError` saying how to install it; nothing is half-written.

Workbook: one sheet per section with its numbers as numbers (shares formatted as %, money with
thousands separators), a ``headline`` sheet with every number of ``summary.json`` (section,
metric, value; the test reads both) and a ``rejected rows`` sheet from ``quarantine/``.
"""

from __future__ import annotations

import base64
import concurrent.futures
import html
import json
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from loyalty_lib.i18n import _
from loyalty_lib.pipeline import ReportError
from loyalty_lib.report._settings import SECTIONS

CHROMIUM = Path("/usr/bin/chromium")
#: Chromium refuses to start as root without --no-sandbox; the rest keep a headless browser from
#: calling home on a closed network.
_CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
#: Print rules added to the page before printing: tables break between rows with the header row
#: repeated, nothing is cut at the right edge, charts fit the page width, and the first numbered
#: section starts page two (page one is the executive summary).
PRINT_CSS = """
@page { size: A4; margin: 22mm 14mm 18mm 14mm; }
thead { display: table-header-group; }
tr, img, figure { break-inside: avoid; page-break-inside: avoid; }
table { max-width: 100%; }
td, th { overflow-wrap: break-word; }
td:first-child { overflow-wrap: anywhere; min-width: 7em; }
table { font-size: 0.9em; }
img { max-width: 100% !important; height: auto !important; }
pre { white-space: pre-wrap; overflow-wrap: anywhere; }
.jp-OutputArea-output { overflow: visible !important; }
.loyalty-page-break { break-before: page; page-break-before: always; }
"""
_FIRST_SECTION_JS = """() => {
  const h = [...document.querySelectorAll('h2')].find(e => /^\\s*1\\./.test(e.textContent));
  if (h) { (h.closest('.jp-Cell') || h).classList.add('loyalty-page-break'); }
}"""


def _header(client: str, date: str) -> str:
    """The PDF's running header: "<client> — loyalty report" and the date, in the selected
    language (the caller formats the date: 2025-12-31 / 31.12.2025)."""
    style = "font-size:8px;width:100%;padding:0 14mm;font-family:sans-serif;color:#444;"
    title = _("{client} — loyalty report").format(client=client)
    return (
        f'<div style="{style}display:flex;justify-content:space-between;">'
        f"<span>{html.escape(title)}</span><span>{html.escape(date)}</span></div>"
    )


def _footer() -> str:
    """The PDF's running footer: "page N of M" in the selected language."""
    pages = html.escape(_("page {page} of {total}")).format(
        page='<span class="pageNumber"></span>', total='<span class="totalPages"></span>'
    )
    return (
        '<div style="font-size:8px;width:100%;text-align:center;font-family:sans-serif;'
        f'color:#444;">{pages}</div>'
    )


def write_pdf(html_path: Path, pdf_path: Path, *, client: str, date: str) -> Path:
    """Print ``html_path`` to an A4 PDF with the client's name and ``date`` in the header and
    page numbers in the footer. Raises ReportError when Playwright or Chromium is missing."""
    try:
        from playwright.sync_api import Error as PlaywrightError
        from playwright.sync_api import sync_playwright
    except ImportError as exc:  # a dependency since the PDF deliverable; an old venv lacks it
        raise ReportError(
            "report.pdf needs the playwright package: `make run` installs it (or `pip install playwright`)"
        ) from exc
    if not CHROMIUM.is_file():
        raise ReportError(
            f"report.pdf needs Chromium at {CHROMIUM}: run `make browser` "
            "(apt-get install chromium), then the report again"
        )
    header, footer = _header(client, date), _footer()

    def print_pdf() -> None:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=_CHROMIUM_ARGS)
            try:
                page = browser.new_page()
                page.goto(html_path.resolve().as_uri(), wait_until="load")
                page.add_style_tag(content=PRINT_CSS)
                page.evaluate(_FIRST_SECTION_JS)
                page.emulate_media(media="print")
                page.pdf(
                    path=str(pdf_path),
                    format="A4",
                    print_background=True,
                    display_header_footer=True,
                    header_template=header,
                    footer_template=footer,
                    margin={"top": "22mm", "bottom": "18mm", "left": "14mm", "right": "14mm"},
                    prefer_css_page_size=True,
                )
            finally:
                browser.close()

    # Playwright's sync API refuses to start in a thread whose asyncio loop is marked running,
    # and a Jupyter kernel client run earlier in the same process (papermill, nbclient with
    # nest_asyncio) can leave it so: a fresh thread has no loop.
    try:
        with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
            pool.submit(print_pdf).result()
    except PlaywrightError as exc:
        raise ReportError(f"printing report.pdf with Chromium failed: {exc}") from exc
    return pdf_path


# ------------------------------------------------------------------------------------ charts


_IMG = re.compile(r'<img[^>]+src="data:image/png;base64,([^"]+)"')


#: Russian letters in Latin (the common passport-style scheme), so that chart file names stay
#: ASCII in every language: "Качество данных" → "kachestvo-dannykh".
_TRANSLIT = dict(
    zip(
        "абвгдеёжзийклмнопрстуфхцчшщъыьэюя",
        [
            "a",
            "b",
            "v",
            "g",
            "d",
            "e",
            "e",
            "zh",
            "z",
            "i",
            "y",
            "k",
            "l",
            "m",
            "n",
            "o",
            "p",
            "r",
            "s",
            "t",
            "u",
            "f",
            "kh",
            "ts",
            "ch",
            "sh",
            "shch",
            "",
            "y",
            "",
            "e",
            "yu",
            "ya",
        ],
        strict=True,
    )
)


def _ascii(text: str) -> str:
    return "".join(_TRANSLIT.get(c, c) for c in text)


def write_charts(executed_notebook: Path, charts_dir: Path) -> list[Path]:
    """Save every chart of the executed template as ``charts/NN-<section>.png`` (report order)."""
    nb = json.loads(executed_notebook.read_text(encoding="utf-8"))
    charts_dir.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    section = "summary"
    for cell in nb["cells"]:
        if cell["cell_type"] == "markdown":
            heading = re.match(r"#+\s*(?:\d+\.\s*)?(.+)", "".join(cell["source"]).strip())
            if heading and "course-only" not in cell.get("metadata", {}).get("tags", []):
                slug = _ascii(heading.group(1).lower())
                section = re.sub(r"[^a-z0-9]+", "-", slug).strip("-")[:40]
            continue
        for output in cell.get("outputs", []):
            bundle = output.get("data", {})
            images = []
            if "image/png" in bundle:
                images.append(bundle["image/png"])
            images += _IMG.findall("".join(bundle.get("text/html", "")))
            for b64 in images:
                path = charts_dir / f"{len(written) + 1:02d}-{section}.png"
                path.write_bytes(base64.b64decode("".join(b64)))
                written.append(path)
    return written


# ---------------------------------------------------------------------------------- workbook


def headline_rows(summary: Mapping[str, Any]) -> list[tuple[str, str, float]]:
    """Every number of ``summary.json``'s sections as (section, metric, value): the headline
    sheet. Nested records give dotted metric names (``bgnbd.r``); lists of rows are left to the
    section sheets; booleans are not numbers here."""
    rows: list[tuple[str, str, float]] = []

    def walk(section: str, prefix: str, value: Any) -> None:
        if isinstance(value, bool) or value is None:
            return
        if isinstance(value, int | float):
            rows.append((section, prefix, value))
        elif isinstance(value, Mapping):
            for k, v in value.items():
                walk(section, f"{prefix}.{k}" if prefix else str(k), v)

    for key in ("settings", *SECTIONS):
        if isinstance(summary.get(key), Mapping):
            walk(key, "", summary[key])
    return rows


def _number_format(metric: str) -> str:
    name = metric.rsplit(".", 1)[-1]
    if "share" in name or name.startswith("p_") or name in {"confidence", "gross_margin", "roi"}:
        return "0.0%"
    if re.search(r"(^|_)(n|count|rows|customers|months|days)($|_)", name):
        return "#,##0"
    return "#,##0.00"


def _tables(section: Mapping[str, Any]) -> Iterator[tuple[str, list[dict[str, Any]]]]:
    for key, value in section.items():
        if isinstance(value, list) and value and all(isinstance(v, Mapping) for v in value):
            yield key, list(value)


def write_workbook(summary: Mapping[str, Any], xlsx_path: Path, quarantine_dir: Path) -> Path:
    """The workbook: ``headline`` (= the numbers of summary.json), one sheet per section (its
    numbers, then each of its tables), ``rejected rows`` (every quarantined row, by input)."""
    import pandas as pd
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    bold = Font(bold=True)
    head = wb.active
    head.title = _("headline")
    head.append([_("client"), summary.get("client", "")])
    head.append([_("observation end"), summary.get("observation_end", "")])
    head.append([_("currency"), summary.get("currency", "")])
    head.append([])
    head.append([_("section"), _("metric"), _("value")])
    for cell in head[head.max_row]:
        cell.font = bold
    for section, metric, value in headline_rows(summary):
        head.append([section, metric, value])
        head.cell(head.max_row, 3).number_format = _number_format(metric)
    for key, title in SECTIONS.items():
        record = summary.get(key)
        if not isinstance(record, Mapping):
            continue
        ws = wb.create_sheet(_(title)[:31])
        if record.get("status") == "skipped":
            ws.append([_("skipped"), _(record.get("reason", ""))])
            continue
        ws.append([_("metric"), _("value")])
        for cell in ws[1]:
            cell.font = bold
        for _section, metric, value in headline_rows({key: record}):
            ws.append([metric, value])
            ws.cell(ws.max_row, 2).number_format = _number_format(metric)
        for name, rows in _tables(record):
            ws.append([])
            ws.append([_(name.replace("_", " "))])
            ws.cell(ws.max_row, 1).font = bold
            columns = list(dict.fromkeys(c for r in rows for c in r))
            ws.append(columns)
            for r in rows:
                ws.append([_cell(r.get(c)) for c in columns])
                for j, c in enumerate(columns, start=1):
                    if isinstance(r.get(c), float):
                        ws.cell(ws.max_row, j).number_format = _number_format(c)
    rejected = wb.create_sheet(_("rejected rows"))
    frames = []
    for path in sorted(quarantine_dir.glob("*.csv")):
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
        frames.append(frame.assign(input=path.stem))
    if frames:
        table = pd.concat(frames, ignore_index=True)
        columns = ["input", *[c for c in table.columns if c != "input"]]
        rejected.append(columns)
        for row in table[columns].itertuples(index=False):
            rejected.append([_cell(v) for v in row])
    else:
        rejected.append([_("no rejected rows")])
    for ws in wb.worksheets:
        for column in ws.columns:
            width = max(len(str(c.value)) if c.value is not None else 0 for c in column)
            ws.column_dimensions[column[0].column_letter].width = min(max(10, width + 2), 60)
    wb.save(xlsx_path)
    return xlsx_path


def _cell(value: Any) -> Any:
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return json.dumps(value, ensure_ascii=False)
