"""A client's case: loading the inputs, settling the observation end and the settings."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from loyalty_lib._result import _plain
from loyalty_lib.i18n import fmt_count, fmt_date, ngettext
from loyalty_lib.i18n.format import get_language, set_language
from loyalty_lib.report._settings import (
    INPUT_KINDS,
    check_settings,
)

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
    return check_settings(settings)


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


def _report_language(setting: str, records: Mapping[str, dict[str, Any]]) -> str:
    """The report's language: ``setting`` itself, or for ``auto`` the language already selected
    (a lesson's ``set_language``; English by default). ``build_report`` resolves ``auto`` from the
    client's files before the template runs, so a report never reaches here with ``auto``."""
    if setting != "auto":
        return setting
    return get_language()


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
    # first: the notes written below are already in the report's language
    language = _report_language(checked["lang"], {})
    set_language(language)
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
    elif checked["freq"] != "D":
        raise ValueError(
            f"a customer summary in periods of {checked['freq']} does not say exactly when it was "
            "observed: pass observation_end (loyalty report --observation-end YYYY-MM-DD)"
        )
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
                ngettext(
                    "{n} transaction dated after the observation end {end} is left out",
                    "{n} transactions dated after the observation end {end} are left out",
                    later,
                ).format(n=fmt_count(later), end=fmt_date(end))
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
            "language": language,
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
