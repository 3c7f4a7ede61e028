"""The pipeline behind ``loyalty report``: files → validated tables → notebook → report folder."""

from __future__ import annotations

import dataclasses
import json
import shutil
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from loyalty_lib._result import Result
from loyalty_lib.i18n import _, fmt_date, using_language
from loyalty_lib.pipeline import ReportError
from loyalty_lib.report._settings import (
    ARTIFACTS,
    INPUT_KINDS,
    SECTIONS,
    TEMPLATE,
    check_settings,
)
from loyalty_lib.report.case import _extra_refunds, quality_record

# --------------------------------------------------------------------------------------------
# the report's language
# --------------------------------------------------------------------------------------------

#: How much of each file the language check reads: the header and the first rows are enough to
#: see which language the client's system writes, and a 10-million-row export costs no more.
_SAMPLE_BYTES = 65536


def _decoded(raw: bytes, path: Path) -> str | None:
    """The first bytes of a CSV as text, decoded as the loader decodes (BOM, UTF-8, then cp1251);
    None when the loader would reject the file (it reports the reason when it loads it)."""
    from loyalty_lib.data.read import _decode
    from loyalty_lib.data.schema import LoyaltyDataError

    try:
        return _decode(raw, path.name, str(path))[0]
    except LoyaltyDataError:
        return None


def _sample_text(path: Path) -> tuple[str, str]:
    """(header, first values) of a client's file as text, read cheaply: the first 64 KB of a
    CSV (UTF-8 or cp1251, as the loader decodes), the first 50 rows of an Excel sheet, the column
    names of a Parquet file. Unreadable files give empty text (their loader reports them)."""
    suffix = path.suffix.lower()
    try:
        if suffix in {".parquet", ".pq"}:
            import pyarrow.parquet as pq

            return " ".join(pq.read_schema(path).names), ""
        if suffix in {".xlsx", ".xlsm", ".xls", ".xlsb", ".ods"}:
            frame = pd.read_excel(path, header=None, nrows=50, dtype=str, engine="openpyxl")
            rows = [" ".join(str(v) for v in row if isinstance(v, str)) for row in frame.values]
            return (rows[0] if rows else ""), " ".join(rows[1:])
        raw = path.read_bytes()[:_SAMPLE_BYTES]
    except Exception:  # noqa: BLE001 - the language check never fails a report; loading will
        return "", ""
    text = _decoded(raw, path)
    if text is None:
        return "", ""
    header, _sep, rest = text.partition("\n")
    return header, rest


def _letters(text: str) -> tuple[int, int]:
    """(Cyrillic, Latin) letters in ``text``."""
    cyrillic = sum(1 for c in text if "\u0400" <= c <= "\u04ff")
    latin = sum(1 for c in text if c.isascii() and c.isalpha())
    return cyrillic, latin


def detect_language(files: Mapping[str, Path]) -> tuple[str, str]:
    """The report's language for ``lang="auto"`` and why: ``("ru", reason)`` when the client's
    files are Russian, else ``("en", reason)``.

    The signal is the script of the files' own headers: most of their letters Cyrillic (a 1C
    export's «Клиент;Дата;Сумма») means a Russian client. Headers because they are what the
    client's system writes in its own language whatever the values hold (ids, codes, English
    product names), and because they are read before anything runs, from every format, in
    microseconds, without depending on which header names the loader happens to recognise (a
    Russian file mapped with ``--columns`` is still Russian). Only when the headers have no
    letters of either script do the first rows' values decide the same way.
    """
    heads, values = [0, 0], [0, 0]
    for path in files.values():
        header, rest = _sample_text(path)
        for total, text in ((heads, header), (values, rest)):
            c, latin = _letters(text)
            total[0] += c
            total[1] += latin
    names = ", ".join(p.name for p in files.values())
    for (cyrillic, latin), where in ((heads, "headers"), (values, "first rows")):
        if cyrillic + latin:
            share = cyrillic / (cyrillic + latin)
            lang = "ru" if cyrillic > latin else "en"
            return lang, f"{share:.0%} of the letters in the {where} of {names} are Cyrillic"
    return "en", f"no letters in the headers or first rows of {names}"


# --------------------------------------------------------------------------------------------
# the pipeline behind `loyalty report`
# --------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class ReportOutcome(Result):
    """What ``build_report`` wrote; paths are inside ``out_dir``."""

    client: str
    out_dir: str
    html: str
    pdf: str
    xlsx: str
    summary: str
    notebook: str
    log: str
    sections_ok: tuple[str, ...]
    sections_skipped: tuple[str, ...]
    rows_rejected: int
    language: str = "en"

    def __str__(self) -> str:
        skipped = f", {len(self.sections_skipped)} skipped" if self.sections_skipped else ""
        return (
            f"Report for {self.client} ({LANGUAGE_NAMES[self.language]}) written to {self.html} ({len(self.sections_ok)} sections"
            f"{skipped}), {self.pdf} and {self.xlsx}; {self.rows_rejected:,} rejected rows in {Path(self.out_dir) / 'quarantine'}; "
            f"summary in {self.summary}"
        )


#: The report languages by name, for the log.
LANGUAGE_NAMES = {"en": "English", "ru": "Russian"}


def _mark_language(notebook: Path, lang: str) -> None:
    """Record the report's language in the executed notebook's metadata (``language_code``), for
    the ``<html lang>`` of report.html (see ``resources/offline_report.html.j2``)."""
    nb = json.loads(notebook.read_text(encoding="utf-8"))
    nb.setdefault("metadata", {})["language_code"] = lang
    notebook.write_text(json.dumps(nb, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


def _prepare_out_dir(out_dir: Path, force: bool) -> None:
    if out_dir.exists() and not out_dir.is_dir():
        raise ReportError(f"{out_dir} exists and is not a folder")
    if out_dir.is_dir() and any(out_dir.iterdir()):
        ours = [name for name in ARTIFACTS if (out_dir / name).exists()]
        if not force:
            what = f"a report ({', '.join(ours)})" if ours else "other files"
            raise ReportError(
                f"{out_dir} already holds {what}; refusing to overwrite. "
                "Pass --force (force=True) to replace the report, or choose another --out"
            )
        for name in ours:  # only what a report writes: other files in the folder stay
            target = out_dir / name
            shutil.rmtree(target) if target.is_dir() else target.unlink()
    out_dir.mkdir(parents=True, exist_ok=True)


class ReportInputError(ReportError):
    """An argument or input file that fails the checks made before anything runs (CLI exit 2)."""


def _csv_header(path: Path) -> list[str] | None:
    """The header line of a CSV/TXT file (None for other formats: their loader checks them)."""
    import csv

    if path.suffix.lower() not in {".csv", ".txt", ".tsv"}:
        return None
    text = _decoded(path.read_bytes()[:_SAMPLE_BYTES], path)
    if text is None:
        return None
    first = text.splitlines()[0] if text.strip() else ""
    try:
        dialect = csv.Sniffer().sniff(first, delimiters=",;\t|")
    except csv.Error:
        dialect = csv.excel
    return next(csv.reader([first], dialect))


def check_inputs(
    files: Mapping[str, Path],
    *,
    mapping_file: Path | None,
    observation_end: str | None,
    settings: Mapping[str, Any],
) -> dict[str, Any]:
    """Every check that needs no kernel, made before anything is written or run.

    Raises :class:`ReportInputError` (one line) for: neither transactions nor customers; a file
    that does not exist; an unknown or invalid setting; an observation end that is not a date; a
    customer summary whose observation end cannot be settled (no ``--observation-end``, and the
    summary is not daily or has no ``first_purchase`` column); a mapping that names a header the
    file lacks. Returns the checked settings.
    """
    from loyalty_lib import data

    if "transactions" not in files and "customers" not in files:
        raise ReportInputError("give transactions or customers (a per-customer summary), or both")
    for kind, path in files.items():
        if not path.is_file():
            raise ReportInputError(f"{kind.replace('_', ' ')} file {path} does not exist")
    if mapping_file is not None and not Path(mapping_file).is_file():
        raise ReportInputError(f"column mapping file {mapping_file} does not exist")
    try:
        checked = check_settings(settings)
    except ValueError as exc:
        raise ReportInputError(f"report parameters: {exc}") from exc
    if observation_end is not None:
        try:
            pd.Timestamp(observation_end)
        except (TypeError, ValueError) as exc:
            raise ReportInputError(
                f"observation end must be a date YYYY-MM-DD, got {observation_end!r}"
            ) from exc
    headers = {kind: _csv_header(path) for kind, path in files.items()}
    mappings: dict[str, dict[str, str]] = {}
    for kind in files:
        if mapping_file is not None:
            try:
                mappings[kind] = data.read_mapping(mapping_file, kind) or {}
            except data.LoyaltyDataError as exc:
                raise ReportInputError(str(exc)) from exc
            have = headers[kind]
            if have is not None:
                present = {data._norm(h) for h in have}
                for canonical, header in mappings[kind].items():
                    if data._norm(header) not in present:
                        raise ReportInputError(
                            f"{Path(mapping_file).name} maps {canonical} of {kind.replace('_', ' ')} "
                            f"to the header {header!r}, which {files[kind].name} lacks "
                            f"(its headers: {', '.join(have)})"
                        )
    if "customers" in files and "transactions" not in files and observation_end is None:
        if checked["freq"] != "D":
            raise ReportInputError(
                f"a customer summary in periods of {checked['freq']} needs --observation-end "
                "YYYY-MM-DD (its T does not say the end to the day)"
            )
        have = headers["customers"]
        names = {data._norm(h) for h in have} if have is not None else None
        wanted = {data._norm(mappings.get("customers", {}).get("first_purchase", "first_purchase"))}
        if names is not None and not (names & wanted):
            raise ReportInputError(
                f"{files['customers'].name} has no first_purchase column, so it does not say when "
                "it was observed: pass --observation-end YYYY-MM-DD"
            )
    return checked


def build_report(
    *,
    client: str,
    out_dir: str | Path,
    transactions: str | Path | None = None,
    customers: str | Path | None = None,
    survey: str | Path | None = None,
    exit_survey: str | Path | None = None,
    campaign: str | Path | None = None,
    mapping_file: str | Path | None = None,
    industry: str = "retail",
    currency: str = "RUB",
    observation_end: str | None = None,
    force: bool = False,
    echo: Callable[[str], Any] = print,
    parameters: Mapping[str, Any] | None = None,
    timeout: int | None = None,
) -> ReportOutcome:
    """Validate a client's files, run the capstone template on them and write the report folder.

    Writes ``out_dir``/``quarantine/<kind>.csv``, ``data/<kind>.parquet`` + ``data/quality.json``,
    ``notebooks/07_consulting_case.ipynb`` (executed), ``report.html``, ``summary.json`` and
    ``report.log``. ``parameters`` override other template settings (:data:`DEFAULT_SETTINGS`, e.g.
    ``{"gross_margin": 0.4, "program_costs": 500_000}``). Raises :class:`ReportError` when the folder
    already holds files (unless ``force``), when a file cannot be read at all, or when the notebook
    fails (the message names the cell; the partly executed notebook stays in ``notebooks/``).
    """
    from loyalty_lib import data, pipeline

    out_dir = Path(out_dir)
    given = {
        "transactions": transactions,
        "customers": customers,
        "survey": survey,
        "exit_survey": exit_survey,
        "campaign": campaign,
    }
    files = {k: Path(v) for k, v in given.items() if v is not None}
    extra = dict(parameters or {})
    checked = check_inputs(
        files,
        mapping_file=Path(mapping_file) if mapping_file else None,
        observation_end=observation_end,
        settings=extra,
    )
    if observation_end is not None:
        observation_end = pd.Timestamp(observation_end).date().isoformat()
    # The language is settled here, before anything is written or run: the template, the
    # notebook's texts and the exported files all follow it.
    if checked["lang"] == "auto":
        lang, why = detect_language(files)
        why = f"auto: {why}"
    else:
        lang, why = checked["lang"], f"--lang {checked['lang']}"
    extra["lang"] = lang
    template = pipeline.notebooks_dir() / TEMPLATE if lang == "en" else None
    if template is None:
        template = pipeline.project_root() / "notebooks" / lang / TEMPLATE
        if not template.is_file():
            raise ReportInputError(
                f"the {LANGUAGE_NAMES[lang]} report template notebooks/{lang}/{TEMPLATE} is "
                "missing from this checkout: pass --lang en"
            )
    _prepare_out_dir(out_dir, force)
    log_lines: list[str] = []

    def say(line: str) -> None:
        log_lines.append(line)
        echo(line)

    say(f"language: {lang} ({LANGUAGE_NAMES[lang]}; {why})")

    steps = len(files) + 2
    started = time.monotonic()
    records: dict[str, dict[str, Any]] = {}
    tables: dict[str, Path] = {}
    try:
        for i, kind in enumerate(k for k in INPUT_KINDS if k in files):
            label = kind.replace("_", " ")
            try:
                columns = data.read_mapping(mapping_file, kind) if mapping_file else None
                result = data.load(files[kind], kind, columns=columns or None)
            except (data.LoyaltyDataError, OSError) as exc:
                say(f"{i + 1}/{steps} loading {label} ({files[kind].name}) ... failed")
                raise ReportError(f"{label} file {files[kind]}: {exc}") from exc
            quarantine = out_dir / "quarantine" / f"{kind}.csv"
            result.write_quarantine(quarantine)
            tables[kind] = out_dir / "data" / f"{kind}.parquet"
            tables[kind].parent.mkdir(parents=True, exist_ok=True)
            accepted = result.accepted
            if kind == "customers" and "refunds" not in accepted.columns:
                refunds = _extra_refunds(files[kind], accepted)
                accepted = accepted if refunds is None else accepted.assign(refunds=refunds)
            accepted.to_parquet(tables[kind], index=False)
            records[kind] = quality_record(result, quarantine=f"quarantine/{kind}.csv")
            say(
                f"{i + 1}/{steps} loading {label} ({result.source}) ... ok: {result.rows_read:,} rows read = "
                f"{result.n_accepted:,} accepted + {result.n_rejected:,} rejected → quarantine/{kind}.csv"
            )
        del result, accepted
        data.release_memory()  # the kernel loads the tables again: give the loaders' memory back
        quality = out_dir / "data" / "quality.json"
        quality.parent.mkdir(parents=True, exist_ok=True)
        quality.write_text(json.dumps(records, ensure_ascii=False, indent=2), encoding="utf-8")

        executed = out_dir / "notebooks" / TEMPLATE
        summary = out_dir / "summary.json"
        params = {
            "client": client,
            "data_dir": str(out_dir.resolve()),
            "quality_path": str(quality.resolve()),
            "summary_path": str(summary.resolve()),
            "observation_end": observation_end,
            "industry": industry,
            "currency": currency,
            **{f"{k}_path": str(tables[k].resolve()) if k in tables else None for k in INPUT_KINDS},
            **extra,
        }
        shown = TEMPLATE if lang == "en" else f"{lang}/{TEMPLATE}"
        say(f"{steps - 1}/{steps} executing the analysis notebook ({shown}) ...")
        try:
            pipeline.execute_notebook(
                template, executed, params, cwd=out_dir, timeout=timeout or pipeline.DEFAULT_TIMEOUT
            )
        except pipeline.NotebookExecutionError as exc:
            say(f"{steps - 1}/{steps} executing the analysis notebook ... failed")
            raise ReportError(f"the report notebook failed: {exc}") from exc
        say(f"{steps - 1}/{steps} executing the analysis notebook ... ok")
        if not summary.is_file():
            raise ReportError(
                f"{executed} ran but wrote no summary.json: its last cell must call "
                "report.write_summary(case, summary_path)"
            )
        written = json.loads(summary.read_text(encoding="utf-8"))
        from loyalty_lib.report import export

        with using_language(lang):
            _mark_language(executed, lang)
            html_path = pipeline.export_html(
                executed,
                out_dir / "report.html",
                title=_("{client} — loyalty report").format(client=client),
            )
            charts = export.write_charts(executed, out_dir / "charts")
            xlsx_path = export.write_workbook(
                written, out_dir / "report.xlsx", out_dir / "quarantine"
            )
            end = written.get("observation_end")
            pdf_path = export.write_pdf(
                html_path,
                out_dir / "report.pdf",
                client=client,
                date=fmt_date(end) if end else "",
            )
        say(
            f"{steps}/{steps} writing report.html, report.pdf, report.xlsx and charts/ "
            f"({len(charts)} PNG) ... ok"
        )
        ok = tuple(SECTIONS[k] for k in SECTIONS if written.get(k, {}).get("status") == "ok")
        skipped = tuple(
            f"{SECTIONS[k]} ({written[k]['reason']})"
            for k in SECTIONS
            if written.get(k, {}).get("status") == "skipped"
        )
        for k in SECTIONS:
            if written.get(k, {}).get("status") == "skipped":
                say(f"  {written[k]['note']}")
        say(f"done in {time.monotonic() - started:.0f} s")
        outcome = ReportOutcome(
            client=client,
            out_dir=str(out_dir),
            html=str(html_path),
            pdf=str(pdf_path),
            xlsx=str(xlsx_path),
            summary=str(summary),
            notebook=str(executed),
            log=str(out_dir / "report.log"),
            sections_ok=ok,
            sections_skipped=skipped,
            rows_rejected=sum(r["n_rejected"] for r in records.values()),
            language=lang,
        )
        return outcome
    except ReportError as exc:
        log_lines.append(f"ERROR: {exc}")
        raise
    finally:
        (out_dir / "report.log").write_text("\n".join(log_lines) + "\n", encoding="utf-8")
