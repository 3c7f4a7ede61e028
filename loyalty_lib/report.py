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
"""

from __future__ import annotations

import dataclasses
import html
import json
import math
import operator
import shutil
import string
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from loyalty_lib._result import Result, _plain
from loyalty_lib.pipeline import ReportError

__all__ = [
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

#: Input files, in the order they are loaded and listed.
INPUT_KINDS: tuple[str, ...] = ("transactions", "customers", "survey", "exit_survey", "campaign")
#: Analytic sections, in report order, with the title used in skip notes and headlines.
SECTIONS: dict[str, str] = {
    "nps": "NPS",
    "ltv": "LTV and cohorts",
    "clv": "CLV",
    "segments": "Segments",
    "churn": "Churn reasons",
    "campaign": "Campaign",
}
TEMPLATE = "07_consulting_case.ipynb"
#: What ``build_report`` creates inside the report folder (and removes again with ``force``).
ARTIFACTS = ("notebooks", "data", "quarantine", "report.html", "summary.json", "report.log")
DEFAULT_SETTINGS: dict[str, Any] = {
    "confidence": 0.95,
    "gross_margin": 0.35,  # share of revenue left after cost of goods, 0..1 (campaign ROI)
    "program_costs": 300_000.0,  # campaign costs over the post period, currency
    "clv_horizon_months": 12,  # CLV horizon
    "discount_rate_monthly": 0.01,  # CLV discount rate per month
    "churn_months": 12,  # exit-survey window [S6]
    "churn_flag_share": 0.30,  # a churn reason at or above this share is flagged [S6]
    "aspect_threshold": 3.0,  # an exit-survey aspect rated below this is a signal [S6]
    "inactive_days": 90,  # "potentially churning": no purchase for more days [S4]
    "top_n": 10,  # customers listed in the CLV table
}
#: Actions for the labels :data:`loyalty_lib.segments.SEGMENT_ACTIONS` leaves open (the seed names
#: none for one-off buyers); the seed's own actions [S5] are used for every other label.
_EXTRA_ACTIONS: dict[str, str] = {
    "one-off": "a reason to come back: a personal offer soon after the first purchase",
}
_SKIP = {
    "survey": "no survey file given",
    "exit_survey": "no exit-survey file given",
    "campaign": "no campaign file given",
    "transactions": "needs raw transactions; only a per-customer summary was given",
}


# --------------------------------------------------------------------------------------------
# display helpers: objects that render as HTML in a notebook and as text elsewhere
# --------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Skipped(Result):
    """A section that could not run because an input is missing (not an error)."""

    section: str
    reason: str

    def __str__(self) -> str:
        return f"{self.section}: skipped — {self.reason}"

    def _repr_html_(self) -> str:
        return (
            "<p class='loyalty-skipped' style='border-left:4px solid #999;padding:0.4em 0.8em;"
            f"background:#f4f4f4'><b>{html.escape(self.section)}</b>: skipped — "
            f"{html.escape(self.reason)}</p>"
        )


class _Text:
    """A paragraph (or a list) of report prose generated from the numbers."""

    def __init__(
        self,
        text: str | Sequence[str],
        *,
        ordered: bool = False,
        heading: str = "",
        finding: bool = False,
    ) -> None:
        self.items = [text] if isinstance(text, str) else list(text)
        self.ordered, self.heading, self.is_list = ordered, heading, not isinstance(text, str)
        self.finding = finding

    def __repr__(self) -> str:
        head = f"{self.heading}\n" if self.heading else ""
        if not self.is_list:
            return head + self.items[0]
        return head + "\n".join(
            f"{i}. {t}" if self.ordered else f"- {t}" for i, t in enumerate(self.items, 1)
        )

    def _repr_html_(self) -> str:
        head = f"<h3>{html.escape(self.heading)}</h3>" if self.heading else ""
        if not self.is_list:
            style = (
                (
                    " class='loyalty-finding' style='border-left:4px solid #1f77b4;padding:0.4em 0.8em;"
                    "background:#eef4fa'"
                )
                if self.finding
                else ""
            )
            return head + f"<p{style}>{html.escape(self.items[0])}</p>"
        tag = "ol" if self.ordered else "ul"
        return (
            head
            + f"<{tag}>"
            + "".join(f"<li>{html.escape(t)}</li>" for t in self.items)
            + f"</{tag}>"
        )


class _Table:
    """A DataFrame shown without its index, numbers already formatted for a client."""

    def __init__(self, frame: pd.DataFrame, caption: str = "") -> None:
        self.frame, self.caption = frame, caption

    def __repr__(self) -> str:
        body = self.frame.to_string(index=False)
        return f"{self.caption}\n{body}" if self.caption else body

    def _repr_html_(self) -> str:
        cap = f"<p><b>{html.escape(self.caption)}</b></p>" if self.caption else ""
        # Notebook and nbconvert styles right-align every cell; text columns read better left.
        style = (
            "<style>.jp-RenderedHTMLCommon table.loyalty-table td, .jp-RenderedHTMLCommon "
            "table.loyalty-table th, table.loyalty-table td, table.loyalty-table th "
            "{text-align: left;}</style>"
        )
        return (
            style
            + cap
            + self.frame.to_html(
                index=False, border=0, na_rep="—", escape=True, classes="loyalty-table"
            )
        )


def _show(*objects: Any) -> None:
    """Display each object; a Matplotlib Axes is shown as its figure and then closed."""
    from IPython.display import display

    for obj in objects:
        if obj is None:
            continue
        if isinstance(obj, Result) and not isinstance(obj, Skipped):
            obj = _Text(str(obj), finding=True)  # the client reads the sentence, not the field dump
        if hasattr(obj, "figure") and hasattr(obj, "set_title"):  # an Axes from loyalty_lib.plots
            import matplotlib.pyplot as plt

            fig = obj.figure
            fig.tight_layout()
            display(fig)
            plt.close(fig)
        else:
            display(obj)


def _money(x: float, currency: str) -> str:
    return f"{x:,.0f} {currency}"


def _pct(x: float, digits: int = 1) -> str:
    return "—" if x is None or not math.isfinite(x) else f"{100 * x:.{digits}f} %"


def _signed_pct(x: float) -> str:
    return "—" if x is None or not math.isfinite(x) else f"{100 * x:+.1f} %"


# --------------------------------------------------------------------------------------------
# loading
# --------------------------------------------------------------------------------------------


def load_inputs(
    paths: Mapping[str, str | Path | None], *, mapping_file: str | Path | None = None
) -> dict[str, Any]:
    """Load every given file through :mod:`loyalty_lib.data`: kind → ``LoadResult``.

    ``paths`` maps a kind of :data:`INPUT_KINDS` to a file (None = not given); ``mapping_file`` is a
    YAML header mapping with one section per kind (:func:`loyalty_lib.data.read_mapping`).
    File-level problems raise :class:`loyalty_lib.data.LoyaltyDataError`.
    """
    from loyalty_lib import data

    unknown = set(paths) - set(INPUT_KINDS)
    if unknown:
        raise ValueError(f"unknown input kind(s) {sorted(unknown)}; expected {list(INPUT_KINDS)}")
    out = {}
    for kind in INPUT_KINDS:
        if paths.get(kind) is None:
            continue
        columns = data.read_mapping(mapping_file, kind) if mapping_file else None
        out[kind] = data.load(paths[kind], kind, columns=columns or None)
    return out


def quality_record(
    result: Any, *, quarantine: str | None = None, max_rows: int = 200
) -> dict[str, Any]:
    """What the report keeps of a ``LoadResult``: counts, reasons and the first ``max_rows`` rejects."""
    rejected = result.rejected[["line", "column", "value", "reason"]]
    return {
        "file": result.source,
        "kind": result.kind,
        "rows_read": int(result.rows_read),
        "n_accepted": int(result.n_accepted),
        "n_rejected": int(result.n_rejected),
        "encoding": result.encoding,
        "delimiter": result.delimiter,
        "decimal": result.decimal,
        "report": _plain(result.report),
        "rejected": _plain(rejected.head(max_rows)),
        "quarantine": quarantine,
    }


@dataclasses.dataclass
class Case:
    """One client's analysis: validated tables, load reports, settings and the summary so far."""

    client: str
    industry: str
    currency: str
    observation_end: pd.Timestamp
    tables: dict[str, pd.DataFrame]
    quality: dict[str, dict[str, Any]]
    settings: dict[str, Any]
    summary: dict[str, Any] = dataclasses.field(default_factory=dict)
    notes: list[str] = dataclasses.field(default_factory=list)
    _cache: dict[str, Any] = dataclasses.field(default_factory=dict, repr=False)

    def has(self, kind: str) -> bool:
        return kind in self.tables


def _check_settings(settings: Mapping[str, Any]) -> dict[str, Any]:
    unknown = set(settings) - set(DEFAULT_SETTINGS)
    if unknown:
        raise ValueError(f"unknown setting(s) {sorted(unknown)}; known: {sorted(DEFAULT_SETTINGS)}")
    out = {**DEFAULT_SETTINGS, **{k: v for k, v in settings.items() if v is not None}}
    checks = {
        "confidence": (0 < out["confidence"] < 1, "a share in (0, 1), e.g. 0.95"),
        "gross_margin": (0 < out["gross_margin"] <= 1, "a share in (0, 1], e.g. 0.35"),
        "program_costs": (out["program_costs"] > 0, "a positive amount of money"),
        "clv_horizon_months": (
            int(out["clv_horizon_months"]) == out["clv_horizon_months"] >= 1,
            "a whole number of months ≥ 1",
        ),
        "discount_rate_monthly": (
            0 <= out["discount_rate_monthly"] < 1,
            "a monthly rate in [0, 1)",
        ),
        "churn_months": (int(out["churn_months"]) == out["churn_months"] >= 1, "whole months ≥ 1"),
        "churn_flag_share": (0 < out["churn_flag_share"] <= 1, "a share in (0, 1]"),
        "aspect_threshold": (1 < out["aspect_threshold"] <= 5, "a rating in (1, 5]"),
        "inactive_days": (out["inactive_days"] > 0, "a positive number of days"),
        "top_n": (int(out["top_n"]) == out["top_n"] >= 1, "a whole number ≥ 1"),
    }
    for name, (ok, expected) in checks.items():
        if isinstance(out[name], bool) or not ok:
            raise ValueError(f"{name} must be {expected}; got {out[name]!r}")
    return out


def _implied_end(summary: pd.DataFrame) -> pd.Timestamp:
    """Observation end of a daily customer summary: first_purchase + T days (one value)."""
    if "first_purchase" not in summary.columns:
        raise ValueError(
            "the customer summary has no first_purchase column, so it does not say when it "
            "was observed: pass observation_end (loyalty report --observation-end YYYY-MM-DD)"
        )
    ends = (
        (summary["first_purchase"] + pd.to_timedelta(summary["T"], unit="D"))
        .dt.normalize()
        .unique()
    )
    if len(ends) != 1:
        raise ValueError(
            f"the customer summary implies {len(ends)} different observation ends "
            f"(first_purchase + T, e.g. {pd.Timestamp(ends[0]).date()} and "
            f"{pd.Timestamp(ends[1]).date()}): pass observation_end"
        )
    return pd.Timestamp(ends[0])


def _extra_refunds(path: Path, accepted: pd.DataFrame) -> pd.Series | None:
    """The optional ``refunds`` column of a customer-summary file, aligned with ``accepted``.

    The data layer keeps only canonical columns and ``refunds`` is not (yet) one of them; it is
    read here, by source line, from the same parsed text the loader used.
    """
    from loyalty_lib import data

    raw = data._read(path)
    wanted = {data._norm(w) for w in ("refunds", "возвраты", "число возвратов")}
    header = next((h for h in raw.frame.columns if data._norm(h) in wanted), None)
    if header is None:
        return None
    values = pd.to_numeric(
        pd.Series(raw.frame[header].to_numpy(), index=raw.lines), errors="coerce"
    )
    values = values.where(values >= 0)
    return pd.Series(
        values.reindex(accepted["line"].to_numpy()).fillna(0).to_numpy(dtype="int64"),
        index=accepted.index,
        name="refunds",
    )


def _read_validated(path: Path, kind: str) -> pd.DataFrame:
    """A table the pipeline validated and wrote as Parquet, read lean: Arrow may free each column
    as pandas takes it over, and transactions leave out the source ``line`` numbers, which only
    the quarantine needs (80 MB per 10M rows; opening the 10M-row case peaked at 1.29 GB instead
    of 1.37 GB)."""
    import pyarrow.parquet as pq

    table = pq.read_table(path)
    if kind == "transactions" and "line" in table.column_names:
        table = table.drop_columns(["line"])
    return table.to_pandas(self_destruct=True, split_blocks=True)


def open_case(
    client: str,
    *,
    data_dir: str | Path = ".",
    transactions: str | Path | None = None,
    customers: str | Path | None = None,
    survey: str | Path | None = None,
    exit_survey: str | Path | None = None,
    campaign: str | Path | None = None,
    quality: str | Path | None = None,
    mapping_file: str | Path | None = None,
    observation_end: Any = None,
    industry: str = "retail",
    currency: str = "RUB",
    **settings: Any,
) -> Case:
    """Open a client's case: read the inputs and settle the observation end and settings.

    File arguments are paths relative to ``data_dir`` (an absolute path ignores it); None means the
    client gave no such file. Without ``quality`` every file is loaded and validated here through
    the data layer (the course). With ``quality`` (the pipeline's ``data/quality.json``) the files
    are the pipeline's already validated Parquet tables and the load reports come from that JSON,
    so nothing is validated twice. ``settings``: see :data:`DEFAULT_SETTINGS`.
    """
    if not isinstance(client, str) or not client.strip():
        raise ValueError("client must be a non-empty name")
    given = {
        "transactions": transactions,
        "customers": customers,
        "survey": survey,
        "exit_survey": exit_survey,
        "campaign": campaign,
    }
    paths = {k: Path(data_dir) / v for k, v in given.items() if v is not None}
    if "transactions" not in paths and "customers" not in paths:
        raise ValueError("give transactions or customers (a per-customer summary), or both")
    checked = _check_settings(settings)
    tables: dict[str, pd.DataFrame] = {}
    records: dict[str, dict[str, Any]] = {}
    if quality is None:
        for kind, result in load_inputs(paths, mapping_file=mapping_file).items():
            tables[kind], records[kind] = result.accepted, quality_record(result)
    else:
        saved = json.loads(Path(quality).read_text(encoding="utf-8"))
        for kind, path in paths.items():
            if kind not in saved:
                raise ValueError(f"{quality} has no load report for {kind}")
            tables[kind], records[kind] = _read_validated(path, kind), saved[kind]
    notes = []
    if "customers" in tables and "refunds" not in tables["customers"].columns and quality is None:
        refunds = _extra_refunds(paths["customers"], tables["customers"])
        if refunds is not None:
            tables["customers"] = tables["customers"].assign(refunds=refunds)
    if observation_end is not None:
        end = pd.Timestamp(observation_end).normalize()
    elif "transactions" in tables:
        end = tables["transactions"]["date"].max().normalize()
    else:
        end = _implied_end(tables["customers"])
    if "transactions" in tables:
        tx = tables["transactions"]
        if not (tx["date"] <= end).any():
            raise ValueError(
                f"no transactions on or before the observation end {end.date()} (the first is "
                f"dated {tx['date'].min().date()}): check observation_end"
            )
        later = int((tx["date"] > end).sum())
        if later:
            notes.append(
                f"{later:,} transactions dated after the observation end {end.date()} are left out"
            )
            tables["transactions"] = tx[tx["date"] <= end].reset_index(drop=True)
    case = Case(
        client=client.strip(),
        industry=industry,
        currency=currency,
        observation_end=end,
        tables=tables,
        quality=records,
        settings=checked,
        notes=notes,
    )
    case.summary.update(
        {
            "client": case.client,
            "industry": industry,
            "currency": currency,
            "observation_end": end.date().isoformat(),
            "inputs": {k: records[k]["file"] for k in INPUT_KINDS if k in records},
            "settings": _plain(checked),
            "data_quality": {
                k: {
                    f: records[k][f]
                    for f in ("file", "rows_read", "n_accepted", "n_rejected", "report")
                }
                for k in INPUT_KINDS
                if k in records
            },
            "notes": notes,
        }
    )
    return case


# --------------------------------------------------------------------------------------------
# computations, cached on the case; each returns a dict of results or a Skipped
# --------------------------------------------------------------------------------------------


def _cached(name: str) -> Callable[[Callable[[Case], Any]], Callable[[Case], Any]]:
    def wrap(fn: Callable[[Case], Any]) -> Callable[[Case], Any]:
        def inner(case: Case) -> Any:
            if name not in case._cache:
                case._cache[name] = fn(case)
            return case._cache[name]

        inner.__doc__ = fn.__doc__
        return inner

    return wrap


def _record(case: Case, section: str, value: dict[str, Any] | Skipped) -> None:
    if isinstance(value, Skipped):
        case.summary[section] = {"status": "skipped", "reason": value.reason, "note": str(value)}
    else:
        case.summary[section] = {"status": "ok", **_plain(value["record"])}


def _benchmark_industry(case: Case) -> str | None:
    from loyalty_lib import nps

    return case.industry if case.industry in nps.INDUSTRY_BENCHMARKS else None


@_cached("nps")
def _nps(case: Case) -> dict[str, Any] | Skipped:
    from loyalty_lib import nps

    if not case.has("survey"):
        return Skipped(SECTIONS["nps"], _SKIP["survey"])
    survey = case.tables["survey"]
    result = nps.nps(survey["score"], confidence=case.settings["confidence"])
    verdict = nps.interpret(result, _benchmark_industry(case))
    trend = nps.nps_trend(survey, freq="Q")
    themes = nps.theme_shares(survey, groups=("detractor",))
    named = themes[(themes["theme"] != "other") & (themes["n_primary"] > 0)]
    top = named.iloc[0] if len(named) else None
    record = {
        "result": result.to_dict(),
        "band": verdict.band,
        "benchmark": verdict.benchmark,
        "benchmark_industry": verdict.industry,
        "gap": verdict.gap,
        "trend": trend[["wave", "score", "ci_low", "ci_high", "n"]],
        "detractor_themes": themes[["theme", "n_primary", "share_primary"]],
        "top_detractor_theme": None if top is None else str(top["theme"]),
        "top_detractor_theme_share": None if top is None else float(top["share_primary"]),
    }
    return {
        "result": result,
        "verdict": verdict,
        "trend": trend,
        "themes": themes,
        "record": record,
    }


@_cached("ltv")
def _ltv(case: Case) -> dict[str, Any] | Skipped:
    from loyalty_lib import ltv

    if not case.has("transactions"):
        return Skipped(SECTIONS["ltv"], _SKIP["transactions"])
    tx = case.tables["transactions"]
    result = ltv.ltv_from_transactions(
        tx, period="Q", end=case.observation_end, currency=case.currency
    )
    cohorts = ltv.cohort_table(tx, freq="Q", metric="retention")
    curve = ltv.retention_curve(cohorts)
    record = {
        "result": result.to_dict(),
        "retention_curve_quarters": {str(k): float(v) for k, v in curve.items()},
    }
    return {"result": result, "cohorts": cohorts, "curve": curve, "record": record}


@_cached("summary_table")
def _summary_table(case: Case) -> tuple[pd.DataFrame, str]:
    """The per-customer summary for the summary sections and where it came from."""
    from loyalty_lib import segments

    if case.has("customers"):
        return case.tables["customers"], "the given customer summary"
    # The case's transactions come through loyalty_lib.data, which rejects a repeated order id:
    # one row is one order, so orders are counted as rows (the distinct count is the dearest
    # part of the summary on millions of rows). DuckDB gets less working memory than its default
    # because this process already holds the transactions: 10M rows peaked at 1.72 GB with
    # 800MB, and the report's budget is 2 GB with the CLI process beside it.
    table = segments.customer_summary(
        case.tables["transactions"],
        case.observation_end,
        freq="D",
        orders="rows",
        memory_limit="500MB",
    )
    return table, "the transactions (per-customer summary computed from them)"


@_cached("clv")
def _clv(case: Case) -> dict[str, Any]:
    from loyalty_lib import ltv

    s, source = _summary_table(case)
    f, r, t, m = (s[c].to_numpy(dtype="float64") for c in ("frequency", "recency", "T", "monetary"))
    bad_m = (f > 0) & (m <= 0)
    if bad_m.any():
        case.notes.append(
            f"{int(bad_m.sum()):,} repeat customers with average value ≤ 0 are left out "
            "of the Gamma-Gamma fit"
        )
    bg = ltv.BetaGeo(freq="D").fit(f, r, t)
    gg = ltv.GammaGamma().fit(f[~bad_m], m[~bad_m])
    horizon = int(case.settings["clv_horizon_months"])
    clv = np.asarray(
        gg.clv(
            bg,
            f,
            r,
            t,
            np.where(bad_m, 0.0, m),
            horizon_months=horizon,
            discount_rate_monthly=case.settings["discount_rate_monthly"],
        ),
        dtype=float,
    )
    p_alive = np.asarray(bg.p_alive(f, r, t), dtype=float)
    table = pd.DataFrame(
        {
            "customer_id": s["customer_id"].to_numpy(),
            "frequency": f.astype(int),
            "days_since_last": t - r,
            "p_alive": p_alive,
            "clv": clv,
        }
    )
    if "total_spend" in s.columns:
        table["total_spend"] = s["total_spend"].to_numpy(dtype=float)
    n = len(clv)
    from scipy import stats

    half = (
        stats.t.ppf(0.5 + case.settings["confidence"] / 2, n - 1) * clv.std(ddof=1) / math.sqrt(n)
    )
    top = table.sort_values(["clv", "customer_id"], ascending=[False, True]).head(
        int(case.settings["top_n"])
    )
    record = {
        "source": source,
        "n_customers": n,
        "horizon_months": horizon,
        "discount_rate_monthly": case.settings["discount_rate_monthly"],
        "bgnbd": dict(bg.params),
        "gamma_gamma": dict(gg.params),
        "clv_total": float(clv.sum()),
        "clv_mean": float(clv.mean()),
        "clv_mean_ci_low": float(clv.mean() - half),
        "clv_mean_ci_high": float(clv.mean() + half),
        "clv_median": float(np.median(clv)),
        "p_alive_mean": float(p_alive.mean()),
        "share_p_alive_below_half": float((p_alive < 0.5).mean()),
        "top": top[["customer_id", "clv", "p_alive", "frequency"]],
        "top_with_p_alive_below_half": int((top["p_alive"] < 0.5).sum()),
    }
    return {"bg": bg, "gg": gg, "table": table, "top": top, "record": record}


@_cached("segments")
def _segments(case: Case) -> dict[str, Any]:
    from loyalty_lib import segments

    s, source = _summary_table(case)
    rfm = segments.rfm_scores(s)
    rfm["segment"] = segments.rfm_segment(rfm)
    counts = rfm["segment"].value_counts()
    rules = segments.RFM_SEGMENTS
    rfm_table = pd.DataFrame(
        {
            "segment": rules["segment"],
            "customers": counts.reindex(rules["segment"]).fillna(0).astype(int).to_numpy(),
            "description": rules["description"],
        }
    )
    rfm_table = rfm_table[rfm_table["customers"] > 0]
    seed, seed_note = None, None
    if {"orders", "total_spend"} <= set(s.columns):
        if "refunds" in s.columns:
            seed = segments.vip_regular_difficult(s)
        else:
            seed = segments.vip_regular_difficult(s, problems=pd.Series(0, index=s["customer_id"]))
            seed_note = (
                "the summary has no refunds (or other problem count) per customer, so the "
                "'difficult' segment cannot be identified"
            )
    else:
        seed_note = (
            "the customer summary has no orders and total_spend columns, which the segments need"
        )
    churning = segments.churn_risk(s, inactive_days=case.settings["inactive_days"])
    record: dict[str, Any] = {
        "source": source,
        "n_customers": len(s),
        "rfm_counts": {str(k): int(v) for k, v in counts.items()},
        "seed_counts": None
        if seed is None
        else {str(k): int(v) for k, v in seed.value_counts().items()},
        "seed_note": seed_note,
        "potentially_churning": int(churning.sum()),
        "inactive_days": case.settings["inactive_days"],
    }
    return {
        "rfm": rfm,
        "rfm_table": rfm_table,
        "seed": seed,
        "summary": s,
        "seed_note": seed_note,
        "churning": churning,
        "record": record,
    }


@_cached("churn")
def _churn(case: Case) -> dict[str, Any] | Skipped:
    from loyalty_lib import churn, segments

    if not case.has("exit_survey"):
        return Skipped(SECTIONS["churn"], _SKIP["exit_survey"])
    exits = case.tables["exit_survey"]
    conf = case.settings["confidence"]
    # churn_reasons + Wilson intervals; the lesson's cause/action columns stay out of the report's
    # table (its actions are REASON_ACTIONS below)
    reasons = churn.reason_shares(
        exits,
        months=int(case.settings["churn_months"]),
        flag_share=case.settings["churn_flag_share"],
        confidence=conf,
    ).drop(columns=["clearly_flagged", "cause", "action"])
    n = int(reasons["count"].sum())
    has_ratings = any(str(c).startswith("rating_") for c in exits.columns)
    aspects = (
        segments.exit_aspects(exits, threshold=case.settings["aspect_threshold"], confidence=conf)
        if has_ratings
        else None
    )
    top = reasons.iloc[0]
    low = (
        []
        if aspects is None
        else [
            {"aspect": str(a.aspect), "mean": float(a.mean), "ci_high": float(a.ci_high)}
            for a in aspects.itertuples()
            if a.flagged
        ]
    )
    record = {
        "n_exits": n,
        "months": int(case.settings["churn_months"]),
        "reasons": reasons,
        "top_reason": str(top["reason"]),
        "top_share": float(top["share"]),
        "top_share_ci_low": float(top["ci_low"]),
        "top_share_ci_high": float(top["ci_high"]),
        "aspects": aspects,
        "aspect_threshold": case.settings["aspect_threshold"],
        "low_aspects": low,
    }
    return {"reasons": reasons, "aspects": aspects, "record": record}


@_cached("campaign")
def _campaign(case: Case) -> dict[str, Any] | Skipped:
    from loyalty_lib import evaluation

    if not case.has("campaign"):
        return Skipped(SECTIONS["campaign"], _SKIP["campaign"])
    if not case.has("transactions"):
        return Skipped(SECTIONS["campaign"], _SKIP["transactions"])
    conf, cur = case.settings["confidence"], case.currency
    camp = case.tables["campaign"]
    outcomes = evaluation.campaign_outcomes(
        case.tables["transactions"], camp, end=case.observation_end
    )
    orders = evaluation.lift(outcomes, "orders_post", confidence=conf, currency=cur)
    did = evaluation.diff_in_diff(outcomes, "spend", confidence=conf, currency=cur)
    roi = evaluation.program_roi(
        did, case.settings["gross_margin"], case.settings["program_costs"], currency=cur
    )
    timing = evaluation.evaluation_timing(camp["start_date"].min(), case.observation_end)
    record = {
        "orders_lift": orders.to_dict(),
        "spend_did": did.to_dict(),
        "roi": roi.to_dict(),
        "timing": timing.to_dict(),
        "assumptions": {
            "gross_margin": case.settings["gross_margin"],
            "program_costs": case.settings["program_costs"],
        },
    }
    return {
        "outcomes": outcomes,
        "orders": orders,
        "did": did,
        "roi": roi,
        "timing": timing,
        "record": record,
    }


_COMPUTE: dict[str, Callable[[Case], Any]] = {
    "nps": _nps,
    "ltv": _ltv,
    "clv": _clv,
    "segments": _segments,
    "churn": _churn,
    "campaign": _campaign,
}


def _section(case: Case, name: str) -> dict[str, Any] | Skipped:
    value = _COMPUTE[name](case)
    _record(case, name, value)
    return value


# --------------------------------------------------------------------------------------------
# sections (what the template calls; each displays its part of the report)
# --------------------------------------------------------------------------------------------


def title_block(case: Case) -> _Text:
    """The report's heading lines: client, data period, inputs."""
    files = ", ".join(
        f"{k.replace('_', ' ')} ({case.quality[k]['file']})"
        for k in INPUT_KINDS
        if k in case.quality
    )
    bench = _benchmark_industry(case)
    industry = case.industry if bench else f"{case.industry} (no NPS benchmark for this industry)"
    return _Text(
        f"Client: {case.client}. Data up to {case.observation_end:%d.%m.%Y} (observation end). "
        f"Industry: {industry}. Currency: {case.currency}. Files: {files}."
    )


def data_quality(case: Case) -> _Table:
    """One row per file: rows read, accepted, rejected and the main problems."""
    rows = []
    for kind in INPUT_KINDS:
        if kind not in case.quality:
            continue
        q = case.quality[kind]
        problems = "; ".join(f"{r['rows']} × {r['reason']}" for r in q["report"][:3]) or "none"
        rows.append(
            {
                "file": q["file"],
                "contents": kind.replace("_", " "),
                "rows read": f"{q['rows_read']:,}",
                "accepted": f"{q['n_accepted']:,}",
                "rejected": f"{q['n_rejected']:,}",
                "main problems": problems,
                "nothing lost": "yes"
                if q["n_accepted"] + q["n_rejected"] == q["rows_read"]
                else "NO",
            }
        )
    return _Table(
        pd.DataFrame(rows),
        "Rows read, accepted and rejected per file "
        "(rejected rows are listed in the appendix and in quarantine/<file>.csv)",
    )


def nps_section(case: Case) -> None:
    """NPS with its interval, band and benchmark [N3][N6][N7], trend [N8], detractor themes [N4]."""
    from loyalty_lib import plots

    value = _section(case, "nps")
    if isinstance(value, Skipped):
        return _show(value)
    verdict = value["verdict"]
    text = str(verdict)
    if verdict.industry is None:
        text += f" No industry benchmark is stored for {case.industry!r}."
    _show(
        value["result"],
        _Text(text),
        plots.nps_trend(value["trend"], benchmark=_benchmark_industry(case)),
        plots.theme_bars(value["themes"]),
    )


def ltv_section(case: Case) -> None:
    """LTV = m × a × t from the transactions [L1] and quarterly acquisition cohorts."""
    from loyalty_lib import plots

    value = _section(case, "ltv")
    if isinstance(value, Skipped):
        return _show(value)
    _show(
        value["result"],
        plots.cohort_heatmap(value["cohorts"]),
        plots.retention_curve(value["curve"]),
    )


def clv_section(case: Case) -> None:
    """BG/NBD + Gamma-Gamma CLV: the distribution, P(alive) and the most valuable customers."""
    from loyalty_lib import plots

    value = _section(case, "clv")
    rec, cur = value["record"], case.currency
    conf = f"{100 * case.settings['confidence']:.0f}%"
    top = value["top"].assign(
        clv=lambda d: d["clv"].map(lambda x: _money(x, cur)),
        p_alive=lambda d: d["p_alive"].map(lambda x: f"{x:.0%}"),
        days_since_last=lambda d: d["days_since_last"].map(lambda x: f"{x:,.0f}"),
    )
    if "total_spend" in top.columns:
        top["total_spend"] = top["total_spend"].map(lambda x: _money(x, cur))
    top = top.rename(
        columns={
            "clv": f"CLV, next {rec['horizon_months']} months",
            "p_alive": "P(alive)",
            "frequency": "repeat purchases",
            "days_since_last": "days since last purchase",
            "total_spend": "spend so far",
        }
    )
    _show(
        _Text(
            f"Expected value of the next {rec['horizon_months']} months (BG/NBD + Gamma-Gamma, from "
            f"{rec['source']}): {_money(rec['clv_total'], cur)} in total over {rec['n_customers']:,} "
            f"customers, {_money(rec['clv_mean'], cur)} per customer on average ({conf} CI "
            f"{_money(rec['clv_mean_ci_low'], cur)} to {_money(rec['clv_mean_ci_high'], cur)}), median "
            f"{_money(rec['clv_median'], cur)}. {rec['share_p_alive_below_half']:.0%} of customers are more "
            "likely gone than active (P(alive) < 50 %)."
        ),
        plots.clv_distribution(value["table"]["clv"], currency=cur),
        _Table(top, f"The {len(top)} customers with the highest expected value"),
    )


def segments_section(case: Case) -> None:
    """RFM map and segments, the seed's VIP / regular / difficult segments [S3] with actions [S5]."""
    from loyalty_lib import plots, segments

    value = _section(case, "segments")
    rfm_table = value["rfm_table"].assign(
        share=lambda d: (d["customers"] / d["customers"].sum()).map(lambda x: f"{x:.0%}")
    )
    shown: list[Any] = [
        plots.rfm_heatmap(value["rfm"]),
        _Table(rfm_table[["segment", "customers", "share", "description"]], "RFM segments"),
    ]
    seed = value["seed"]
    if seed is not None:
        s = value["summary"]
        spend = pd.Series(s["total_spend"].to_numpy(dtype=float), index=seed.index)
        table = pd.DataFrame({"customers": seed.value_counts()})
        table["share of customers"] = (table["customers"] / len(seed)).map(lambda x: f"{x:.0%}")
        table["share of spend"] = (
            (spend.groupby(seed).sum() / spend.sum()).reindex(table.index).map(lambda x: f"{x:.0%}")
        )
        clv = _clv(case)["table"]["clv"].set_axis(seed.index)
        table[f"mean CLV, {case.currency}"] = (
            clv.groupby(seed).mean().reindex(table.index).map(lambda x: f"{x:,.0f}")
        )
        table["action"] = segments.actions_for(
            table.index.to_series(), {**segments.SEGMENT_ACTIONS, **_EXTRA_ACTIONS}, default="—"
        ).to_numpy()
        shown.append(
            _Table(
                table.rename_axis("segment").reset_index(),
                "VIP, regular and difficult customers, and what to do with each",
            )
        )
    if value["seed_note"]:
        shown.append(_Text(f"Seed segments: {value['seed_note']}."))
    shown.append(
        _Text(
            f"{int(value['churning'].sum()):,} customers ({value['churning'].mean():.0%}) have not "
            f"bought for more than {case.settings['inactive_days']:g} days: potentially churning."
        )
    )
    _show(*shown)


def churn_section(case: Case) -> None:
    """Churn reasons of the last 12 months with intervals and aspect ratings below 3 [S6]."""
    from loyalty_lib import plots

    value = _section(case, "churn")
    if isinstance(value, Skipped):
        return _show(value)
    rec = value["record"]
    conf = f"{100 * case.settings['confidence']:.0f}%"
    low = ", ".join(
        f"{a['aspect'].replace('_', ' ')} ({a['mean']:.2f})" for a in rec["low_aspects"]
    )
    text = (
        f"{rec['n_exits']:,} lost customers answered the exit survey in the last {rec['months']} months. "
        f"The top reason is {rec['top_reason']} at {rec['top_share']:.0%} ({conf} CI "
        f"{rec['top_share_ci_low']:.0%} to {rec['top_share_ci_high']:.0%}). "
    )
    text += (
        f"Aspects rated below {rec['aspect_threshold']:g} of 5: {low}."
        if low
        else f"No aspect averages below {rec['aspect_threshold']:g} of 5."
    )
    shown: list[Any] = [_Text(text), plots.churn_reason_bars(value["reasons"])]
    if value["aspects"] is not None:
        shown.append(plots.aspect_ratings(value["aspects"], threshold=rec["aspect_threshold"]))
    _show(*shown)


def campaign_section(case: Case) -> None:
    """Treatment vs control: lift in orders, diff-in-diff in spend and ROI with intervals [E1][E5]."""
    from loyalty_lib import plots

    value = _section(case, "campaign")
    if isinstance(value, Skipped):
        return _show(value)
    s = case.settings
    _show(
        value["timing"],
        value["orders"],
        plots.lift_chart(value["outcomes"], "orders_post"),
        value["did"],
        plots.did_plot(value["outcomes"], "spend"),
        _Text(
            f"ROI assumes a gross margin of {s['gross_margin']:.0%} and program costs of "
            f"{_money(s['program_costs'], case.currency)} (report settings)."
        ),
        value["roi"],
    )


def headlines(case: Case) -> _Table:
    """The numbers a client reads first, each with its interval and basis; skipped sections say why."""
    cur, conf = case.currency, f"{100 * case.settings['confidence']:.0f}%"
    rows: list[dict[str, str]] = []

    def add(metric: str, value: str, ci: str = "—", basis: str = "") -> None:
        rows.append({"metric": metric, "value": value, f"{conf} CI": ci, "basis": basis})

    def skipped(v: Skipped) -> None:
        add(v.section, "skipped", basis=v.reason)

    n = _section(case, "nps")
    if isinstance(n, Skipped):
        skipped(n)
    else:
        r, v = n["result"], n["verdict"]
        bench = f"; benchmark {v.benchmark:.0f} ({v.gap:+.1f})" if v.benchmark is not None else ""
        add(
            "NPS, points",
            f"{r.score:+.1f}",
            f"{r.ci_low:+.1f} to {r.ci_high:+.1f}",
            f"{r.n:,} answers; {v.band} band{bench}",
        )
    lv = _section(case, "ltv")
    if isinstance(lv, Skipped):
        skipped(lv)
    else:
        r = lv["result"]
        add(
            f"LTV = m × a × t, {cur}",
            f"{r.ltv:,.0f}",
            "—",
            f"check {r.avg_check:,.0f} × {r.purchases_per_period:.2f}/quarter × {r.lifetime_periods:.1f} quarters",
        )
    c = _section(case, "clv")["record"]
    add(
        f"CLV next {c['horizon_months']} months, mean per customer, {cur}",
        f"{c['clv_mean']:,.0f}",
        f"{c['clv_mean_ci_low']:,.0f} to {c['clv_mean_ci_high']:,.0f}",
        f"{c['n_customers']:,} customers; total {c['clv_total']:,.0f}",
    )
    sg = _section(case, "segments")["record"]
    at_risk = sum(sg["rfm_counts"].get(k, 0) for k in ("At risk", "Can't lose them"))
    add(
        "Valuable customers at risk (RFM)",
        f"{at_risk:,}",
        "—",
        f"{at_risk / sg['n_customers']:.0%} of {sg['n_customers']:,} customers",
    )
    ch = _section(case, "churn")
    if isinstance(ch, Skipped):
        skipped(ch)
    else:
        r = ch["record"]
        add(
            "Top churn reason",
            f"{r['top_reason']} {r['top_share']:.0%}",
            f"{r['top_share_ci_low']:.0%} to {r['top_share_ci_high']:.0%}",
            f"{r['n_exits']:,} exit answers, last {r['months']} months",
        )
        if r["aspects"] is not None and len(r["aspects"]):
            a = r["aspects"].iloc[0]
            add(
                "Lowest-rated aspect (1–5)",
                f"{str(a['aspect']).replace('_', ' ')} {a['mean']:.2f}",
                f"{a['ci_low']:.2f} to {a['ci_high']:.2f}",
                f"{int(a['n']):,} ratings",
            )
    cp = _section(case, "campaign")
    if isinstance(cp, Skipped):
        skipped(cp)
    else:
        d, roi = cp["did"], cp["roi"]
        add(
            f"Campaign: extra spend per treated customer (DiD), {cur}",
            f"{d.estimate:+,.0f}",
            f"{d.ci_low:+,.0f} to {d.ci_high:+,.0f}",
            f"{d.n_treatment:,} treated vs {d.n_control:,} control",
        )
        add(
            "Campaign ROI",
            _signed_pct(roi.roi),
            f"{_signed_pct(roi.roi_ci_low)} to {_signed_pct(roi.roi_ci_high)}",
            f"margin {case.settings['gross_margin']:.0%}, costs {roi.program_costs:,.0f}",
        )
    return _Table(pd.DataFrame(rows), "Headline numbers")


# --------------------------------------------------------------------------------------------
# recommendations: rules as data
# --------------------------------------------------------------------------------------------

#: What to do when a churn reason leads [S6] (the seed: price at 35 % signals a pricing review).
#: The client-facing sentence for each reason of :data:`loyalty_lib.churn.REASON_ACTIONS`, whose
#: short labels are the churn assignment's fixed answers; the two tables share their keys (tested).
REASON_ACTIONS: dict[str, str] = {
    "price": "review pricing against competitors for the categories these customers bought",
    "quality": "review product quality and returns with the suppliers of the worst categories",
    "service": "retrain staff and set service standards; check them with mystery shoppers",
    "competition": "compare the offer with the main competitor's, item by item, and answer the gap",
    "other": "read the 'other' comments: the real reasons are hiding there; add them to the survey",
}
#: What to do when an exit-survey aspect averages below the threshold [S6].
ASPECT_ACTIONS: dict[str, str] = {
    "support_speed": "fix response times: answer every request within one hour, every review within 24 hours",
    "price": "make the value visible: personal offers and clear price comparisons",
    "quality": "tighten quality control and make returns easy",
    "service": "retrain front-line staff and measure satisfaction after each contact",
    "assortment": "review the assortment against what leaving customers asked for",
    "delivery": "fix delivery times and tracking with the logistics partner",
}

#: Recommendation rules, checked in order. ``when``: (finding, operator, value) conditions that must
#: all hold (a missing finding means the rule does not apply; a value that names another finding,
#: like "churn_flag_share", compares with that finding); ``for_each``: a list-valued finding
#: whose items (dicts) add fields, one recommendation per item; ``text``: a format string over the
#: findings; ``source``: the seed-digest ids the rule applies.
RULES: tuple[dict[str, Any], ...] = (
    {
        "id": "churn-top-reason",
        "when": [("top_churn_share", ">=", "churn_flag_share")],
        "text": "{top_churn_reason_label} is the top churn reason at {top_churn_share:.0%} of lost customers "
        "→ {top_churn_action}.",
        "source": "S6",
    },
    {
        "id": "aspect-below-threshold",
        "for_each": "low_aspects",
        "when": [],
        "text": "{aspect_label} rated {mean:.1f} < {aspect_threshold:g} in the exit survey → {aspect_action}.",
        "source": "S6, E6",
    },
    {
        "id": "nps-below-benchmark",
        "when": [("nps_gap", "<", 0)],
        "text": "NPS {nps_score:+.0f} is {nps_gap_abs:.0f} points below the {nps_benchmark_label} benchmark of "
        "{nps_benchmark:.0f} → work on the detractors' top theme ({top_detractor_theme}) first and call "
        "back every detractor within 24 hours.",
        "source": "N4, N7, N12",
    },
    {
        "id": "nps-passives",
        "when": [("share_passives", ">=", 0.25)],
        "text": "{share_passives:.0%} of respondents are passives → a personal offer to passives is the "
        "quickest way to raise NPS; reward the promoters for referrals.",
        "source": "N5",
    },
    {
        "id": "clv-top-fading",
        "when": [("clv_top_fading", ">=", 1)],
        "text": "{clv_top_fading} of the {clv_top_n} customers with the highest expected value are more likely "
        "gone than active (P(alive) < 50 %) → call them personally this week.",
        "source": "S3, S5",
    },
    {
        "id": "segments-at-risk",
        "when": [("at_risk_share", ">=", 0.10)],
        "text": "{at_risk_customers:,} customers ({at_risk_share:.0%}) spent a lot but have not come back "
        "(RFM 'At risk' and 'Can't lose them') → win them back with a short survey and an individual "
        "consultation.",
        "source": "S5",
    },
    {
        "id": "segments-vip",
        "when": [("vip_customers", ">=", 1)],
        "text": "{vip_customers:,} VIP customers bring {vip_spend_share:.0%} of spend → inform them first about "
        "new products, offer exclusive discounts, send birthday greetings.",
        "source": "S3, S5",
    },
    {
        "id": "campaign-too-early",
        "when": [("campaign_too_early", "==", True)],
        "text": "The campaign has run only {campaign_months} full months → too early to judge; measure again "
        "after 3–4 months.",
        "source": "E5",
    },
    {
        "id": "campaign-pays",
        "when": [("roi_ci_low", ">", 0)],
        "text": "The campaign pays even at the low end of its interval (ROI {roi:+.0%}) → keep it and extend "
        "it to more customers.",
        "source": "E1",
    },
    {
        "id": "campaign-uncertain",
        "when": [("roi", ">=", 0), ("roi_ci_low", "<=", 0)],
        "text": "The campaign probably pays (ROI {roi:+.0%}) but its interval includes a loss → keep the control "
        "group and measure again before scaling up.",
        "source": "E1",
    },
    {
        "id": "campaign-loss",
        "when": [("roi", "<", 0), ("did_ci_low", ">", 0)],
        "text": "The campaign changes behaviour (extra spend {did_estimate:+,.0f} {currency} per customer) but does "
        "not pay at the assumed margin and costs (ROI {roi:+.0%}) → cut the costliest rewards and focus "
        "on the segments that respond, then measure again.",
        "source": "E1",
    },
    {
        "id": "campaign-no-effect",
        "when": [("roi", "<", 0), ("did_ci_low", "<=", 0)],
        "text": "The campaign shows no clear effect on spend and does not pay (ROI {roi:+.0%}) → redesign the "
        "offer before spending more.",
        "source": "E1",
    },
)
_OPS: dict[str, Callable[[Any, Any], bool]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
    "==": operator.eq,
    "!=": operator.ne,
}


def findings(case: Case) -> dict[str, Any]:
    """Flat facts the recommendation rules read (absent keys: the section was skipped)."""
    from loyalty_lib import nps as nps_mod

    out: dict[str, Any] = {
        "currency": case.currency,
        "churn_flag_share": case.settings["churn_flag_share"],
        "aspect_threshold": case.settings["aspect_threshold"],
    }
    n = _nps(case)
    if not isinstance(n, Skipped):
        r, v = n["result"], n["verdict"]
        out.update(
            nps_score=r.score,
            share_passives=r.share_passives,
            top_detractor_theme=n["record"]["top_detractor_theme"] or "other",
        )
        if v.benchmark is not None:
            out.update(
                nps_gap=v.gap,
                nps_gap_abs=abs(v.gap),
                nps_benchmark=v.benchmark,
                nps_benchmark_label=nps_mod.INDUSTRY_BENCHMARKS[v.industry]["industry"],
            )
    c = _clv(case)
    out.update(clv_top_fading=c["record"]["top_with_p_alive_below_half"], clv_top_n=len(c["top"]))
    sg = _segments(case)["record"]
    at_risk = sum(sg["rfm_counts"].get(k, 0) for k in ("At risk", "Can't lose them"))
    out.update(at_risk_customers=at_risk, at_risk_share=at_risk / sg["n_customers"])
    seg = _segments(case)
    if seg["seed"] is not None:
        vip = seg["seed"] == "VIP"
        spend = seg["summary"]["total_spend"].to_numpy(dtype=float)
        out.update(
            vip_customers=int(vip.sum()),
            vip_spend_share=float(spend[vip.to_numpy()].sum() / spend.sum())
            if spend.sum()
            else 0.0,
        )
    ch = _churn(case)
    if not isinstance(ch, Skipped):
        rec = ch["record"]
        out.update(
            top_churn_reason=rec["top_reason"],
            top_churn_share=rec["top_share"],
            top_churn_reason_label=rec["top_reason"].capitalize(),
            top_churn_action=REASON_ACTIONS.get(rec["top_reason"], REASON_ACTIONS["other"]),
            low_aspects=[
                {
                    **a,
                    "aspect_label": a["aspect"].replace("_", " ").capitalize(),
                    "aspect_action": ASPECT_ACTIONS.get(
                        a["aspect"], "find out why with the team that owns it"
                    ),
                }
                for a in rec["low_aspects"]
            ],
        )
    cp = _campaign(case)
    if not isinstance(cp, Skipped):
        out.update(
            roi=cp["roi"].roi,
            roi_ci_low=cp["roi"].roi_ci_low,
            roi_ci_high=cp["roi"].roi_ci_high,
            did_estimate=cp["did"].estimate,
            did_ci_low=cp["did"].ci_low,
            campaign_too_early=cp["timing"].too_early,
            campaign_months=cp["timing"].full_months,
        )
    return out


def _holds(condition: Sequence[Any], facts: Mapping[str, Any]) -> bool:
    key, op, value = condition
    if key not in facts or facts[key] is None:
        return False
    if isinstance(value, str) and value in facts and op != "==":  # compare with another finding
        value = facts[value]
    left = facts[key]
    if isinstance(left, float) and not math.isfinite(left):
        return False
    return bool(_OPS[op](left, value))


def recommendations(
    facts: Mapping[str, Any], rules: Sequence[Mapping[str, Any]] = RULES
) -> list[str]:
    """Recommendations generated from ``facts`` (see :func:`findings`) by ``rules`` (:data:`RULES`).

    A rule fires when all its ``when`` conditions hold; a rule with ``for_each`` fires once per item.
    Each recommendation ends with its seed-digest ids, e.g. ``"... → review pricing ... [S6]"``.
    A rule whose text needs a finding that is absent does not fire.
    """
    out: list[str] = []
    for rule in rules:
        unknown = set(rule) - {"id", "when", "for_each", "text", "source"}
        if unknown or "text" not in rule:
            raise ValueError(
                f"rule {rule.get('id')!r}: expected keys id, when, for_each, text, source"
            )
        for cond in rule.get("when", []):
            if cond[1] not in _OPS:
                raise ValueError(
                    f"rule {rule.get('id')!r}: unknown operator {cond[1]!r}; use {sorted(_OPS)}"
                )
        items = facts.get(rule["for_each"], []) if rule.get("for_each") else [{}]
        fields_needed = {f for _, f, _, _ in string.Formatter().parse(rule["text"]) if f}
        for item in items:
            merged = {**facts, **item}
            if not all(_holds(c, merged) for c in rule.get("when", [])):
                continue
            if not fields_needed <= {k for k, v in merged.items() if v is not None}:
                continue
            source = f" [{rule['source']}]" if rule.get("source") else ""
            out.append(rule["text"].format(**merged) + source)
    return out


def rules_table(rules: Sequence[Mapping[str, Any]] = RULES) -> pd.DataFrame:
    """The rules as a table (id, conditions, text, source) for reading and editing."""
    return pd.DataFrame(
        [
            {
                "id": r["id"],
                "when": " and ".join(f"{k} {op} {v}" for k, op, v in r.get("when", []))
                + (f" (for each of {r['for_each']})" if r.get("for_each") else ""),
                "says": r["text"],
                "source": r.get("source", ""),
            }
            for r in rules
        ]
    )


def recommendations_section(case: Case) -> None:
    """The generated recommendations in rule order, each with the seed ids it applies."""
    recs = recommendations(findings(case))
    case.summary["recommendations"] = recs
    _show(_Text(recs or ["No rule fired: none of the findings crosses a threshold."], ordered=True))


def quality_appendix(case: Case) -> None:
    """Every rejected row (up to 200 per file): line, column, value and reason."""
    shown: list[Any] = []
    for kind in INPUT_KINDS:
        if kind not in case.quality:
            continue
        q = case.quality[kind]
        where = f" (all of them in {q['quarantine']})" if q.get("quarantine") else ""
        if not q["n_rejected"]:
            shown.append(_Text(f"{q['file']}: no rejected rows."))
            continue
        table = pd.DataFrame(q["rejected"], columns=["line", "column", "value", "reason"])
        more = q["n_rejected"] - len(table)
        caption = f"{q['file']}: {q['n_rejected']:,} rejected rows{where}"
        if more > 0:
            caption += f"; the first {len(table):,} are shown"
        shown.append(_Table(table, caption))
    if case.notes:
        shown.append(_Text(case.notes, heading="Notes"))
    _show(*shown)


def write_summary(case: Case, path: str | Path | None) -> None:
    """Run every section not run yet, then write ``case.summary`` as JSON to ``path`` (None: skip)."""
    for name in SECTIONS:
        _section(case, name)
    case.summary.setdefault("recommendations", recommendations(findings(case)))
    case.summary["notes"] = list(case.notes)
    if path is None:
        return
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        json.dumps(_plain(case.summary), ensure_ascii=False, indent=2, allow_nan=False) + "\n",
        encoding="utf-8",
    )


# --------------------------------------------------------------------------------------------
# the pipeline behind `loyalty report`
# --------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class ReportOutcome(Result):
    """What ``build_report`` wrote; paths are inside ``out_dir``."""

    client: str
    out_dir: str
    html: str
    summary: str
    notebook: str
    log: str
    sections_ok: tuple[str, ...]
    sections_skipped: tuple[str, ...]
    rows_rejected: int

    def __str__(self) -> str:
        skipped = f", {len(self.sections_skipped)} skipped" if self.sections_skipped else ""
        return (
            f"Report for {self.client} written to {self.html} ({len(self.sections_ok)} sections"
            f"{skipped}); {self.rows_rejected:,} rejected rows in {Path(self.out_dir) / 'quarantine'}; "
            f"summary in {self.summary}"
        )


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
    if "transactions" not in files and "customers" not in files:
        raise ReportError("give transactions or customers (a per-customer summary), or both")
    extra = dict(parameters or {})
    try:  # the notebook checks them too; here a typo fails before anything is written
        _check_settings(extra)
    except ValueError as exc:
        raise ReportError(f"report parameters: {exc}") from exc
    if observation_end is not None:
        try:
            observation_end = pd.Timestamp(observation_end).date().isoformat()
        except (TypeError, ValueError) as exc:
            raise ReportError(
                f"observation end must be a date YYYY-MM-DD, got {observation_end!r}"
            ) from exc
    _prepare_out_dir(out_dir, force)
    log_lines: list[str] = []

    def say(line: str) -> None:
        log_lines.append(line)
        echo(line)

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

        template = pipeline.notebooks_dir() / TEMPLATE
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
        say(f"{steps - 1}/{steps} executing the analysis notebook ({TEMPLATE}) ...")
        try:
            pipeline.execute_notebook(
                template, executed, params, cwd=out_dir, timeout=timeout or pipeline.DEFAULT_TIMEOUT
            )
        except pipeline.NotebookExecutionError as exc:
            say(f"{steps - 1}/{steps} executing the analysis notebook ... failed")
            raise ReportError(f"the report notebook failed: {exc}") from exc
        say(f"{steps - 1}/{steps} executing the analysis notebook ... ok")
        html_path = pipeline.export_html(
            executed, out_dir / "report.html", title=f"{client} — loyalty report"
        )
        if not summary.is_file():
            raise ReportError(
                f"{executed} ran but wrote no summary.json: its last cell must call "
                "report.write_summary(case, summary_path)"
            )
        written = json.loads(summary.read_text(encoding="utf-8"))
        say(f"{steps}/{steps} writing report.html ... ok")
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
            summary=str(summary),
            notebook=str(executed),
            log=str(out_dir / "report.log"),
            sections_ok=ok,
            sections_skipped=skipped,
            rows_rejected=sum(r["n_rejected"] for r in records.values()),
        )
        return outcome
    except ReportError as exc:
        log_lines.append(f"ERROR: {exc}")
        raise
    finally:
        (out_dir / "report.log").write_text("\n".join(log_lines) + "\n", encoding="utf-8")
