"""The consultant report: a client's files → validated tables → the capstone notebook → one HTML page.

Two halves share this module:

* **Sections** (used by ``notebooks/07_consulting_case.ipynb``, the report template). The notebook
  opens a :class:`Case` with :func:`open_case` and calls one function per section
  (:func:`nps_section`, :func:`ltv_section`, ...). Each section computes through the topic modules,
  displays its numbers, charts and tables, and records plain values in ``case.summary``. A section
  whose input is missing displays a :class:`Skipped` note with its reason ("NPS: skipped — no
  survey file given") and records ``{"status": "skipped", "reason": ...}``: the decision lives
  here, not in ``if``/``else`` cells. :func:`write_summary` writes ``case.summary`` as JSON.
* **The pipeline** (:func:`build_report`, behind ``loyalty report``): loads and validates every
  file once through :mod:`loyalty_lib.data`, writes ``quarantine/<kind>.csv`` (every rejected row)
  and the accepted tables as ``data/<kind>.parquet`` plus ``data/quality.json`` (the load
  reports), executes the template with papermill on those validated tables
  (:func:`loyalty_lib.pipeline.execute_notebook`), exports ``report.html`` without code and without
  the cells tagged ``course-only`` (:func:`loyalty_lib.pipeline.export_html`), and leaves
  ``summary.json`` (headline metrics, machine-readable) and ``report.log``.

Decisions (documented for the consultant):

* **Observation end**: ``observation_end`` when given; otherwise the last transaction date; with only
  a customer summary, the end the summary implies (``first_purchase + T`` days, which
  :func:`loyalty_lib.segments.customer_summary` output carries). A summary without
  ``first_purchase`` needs ``observation_end`` (a :class:`ReportError` / ValueError says so).
  Transactions after the observation end are left out of every section.
* **Customer summary** (``customers``): a daily summary (``frequency``, ``recency``, ``T`` in days,
  ``monetary``), validated by :func:`loyalty_lib.data.load_customers`. With a summary alone, the
  summary sections run (RFM, seed segments, BG/NBD + Gamma-Gamma CLV); the sections that need raw
  transactions (LTV m × a × t, cohorts, campaign) are skipped with a reason. With both files, the
  transactions feed the transaction sections and the given summary the summary sections.
* **"Difficult" customers** need a problem count per customer: the summary's ``refunds`` column
  (present in :func:`~loyalty_lib.segments.customer_summary` output). Without it the segment is
  empty and the report says why.
* **Surveys** are used whole (they are not cut at the observation end): they describe the period
  the client surveyed.
* Money is in ``currency`` units; shares 0..1 in ``summary.json``; NPS in points.
* **Language** (``lang``: ``en``, ``ru`` or ``auto``): ``build_report`` settles ``auto`` before
  anything runs from the script of the files' headers (:func:`~loyalty_lib.report.build.detect_language`:
  a 1C export's Cyrillic headers mean Russian) and says so in ``report.log``; ``ru`` runs
  ``notebooks/ru/07_consulting_case.ipynb``. Every text shown to the client goes through the
  catalogue (:mod:`loyalty_lib.i18n`) and every number through its formatters. ``summary.json`` has
  the same keys and numbers in both languages; codes (statuses, bands, segment and reason names,
  a skipped section's ``reason``) stay English; only the sentences (``recommendations``,
  ``notes``, a skipped section's ``note``) are in the report's language.
"""

from __future__ import annotations

from loyalty_lib.pipeline import ReportError
from loyalty_lib.report._settings import (
    ARTIFACTS,
    DEFAULT_SETTINGS,
    INPUT_KINDS,
    SECTIONS,
    SETTINGS,
    TEMPLATE,
    Setting,
    check_settings,
    parameters_cell,
    settings_from,
)

# The section library (pandas, numpy, the models) loads on first use, so that the CLI can read
# the settings table for its options without paying for it (`loyalty --help` stays light).
_LAZY = {
    "Case": "case",
    "_check_settings": "case",
    "_implied_end": "case",
    "load_inputs": "case",
    "open_case": "case",
    "quality_record": "case",
    "ReportInputError": "build",
    "ReportOutcome": "build",
    "_prepare_out_dir": "build",
    "build_report": "build",
    "check_inputs": "build",
    "Skipped": "display",
    "ASPECT_ACTIONS": "rules",
    "REASON_ACTIONS": "rules",
    "RULES": "rules",
    "findings": "rules",
    "recommendations": "rules",
    "recommendations_section": "rules",
    "rules_table": "rules",
    "campaign_section": "sections",
    "churn_section": "sections",
    "clv_section": "sections",
    "data_quality": "sections",
    "headlines": "sections",
    "ltv_section": "sections",
    "nps_section": "sections",
    "quality_appendix": "sections",
    "segments_section": "sections",
    "title_block": "sections",
    "write_summary": "sections",
}


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(f"loyalty_lib.report.{_LAZY[name]}"), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'loyalty_lib.report' has no attribute {name!r}")


__all__ = [
    "SETTINGS",
    "ReportInputError",
    "Setting",
    "check_inputs",
    "check_settings",
    "parameters_cell",
    "settings_from",
    "ARTIFACTS",
    "DEFAULT_SETTINGS",
    "TEMPLATE",
    "ASPECT_ACTIONS",
    "INPUT_KINDS",
    "REASON_ACTIONS",
    "RULES",
    "SECTIONS",
    "Case",
    "ReportError",
    "ReportOutcome",
    "Skipped",
    "build_report",
    "campaign_section",
    "churn_section",
    "clv_section",
    "data_quality",
    "findings",
    "headlines",
    "load_inputs",
    "ltv_section",
    "nps_section",
    "open_case",
    "quality_appendix",
    "quality_record",
    "recommendations",
    "recommendations_section",
    "rules_table",
    "segments_section",
    "title_block",
    "write_summary",
]
