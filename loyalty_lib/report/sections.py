"""Sections the template calls; each displays its part of the report and records it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd

from loyalty_lib._result import _plain
from loyalty_lib.i18n import _, ngettext
from loyalty_lib.report._settings import _EXTRA_ACTIONS, INPUT_KINDS, SECTIONS
from loyalty_lib.report.case import Case
from loyalty_lib.report.compute import _benchmark_industry, _clv, _section
from loyalty_lib.report.display import (
    Skipped,
    _count,
    _interval,
    _level,
    _money,
    _num,
    _share,
    _show,
    _signed,
    _signed_pct,
    _Table,
    _Text,
    noting_warnings,
)
from loyalty_lib.report.labels import data_reason, kind_label, label
from loyalty_lib.report.rules import findings, recommendations

# --------------------------------------------------------------------------------------------
# sections (what the template calls; each displays its part of the report)
# --------------------------------------------------------------------------------------------


def title_block(case: Case) -> _Text:
    """The report's heading lines: client, data period, inputs."""
    from loyalty_lib import nps

    files = ", ".join(
        f"{kind_label(k)} ({case.quality[k]['file']})" for k in INPUT_KINDS if k in case.quality
    )
    bench = _benchmark_industry(case)
    industry = (
        _(nps.INDUSTRY_BENCHMARKS[bench]["industry"])
        if bench
        else _("{industry} (no NPS benchmark for this industry)").format(industry=case.industry)
    )
    return _Text(
        _(
            "Client: {client}. Data up to {end} (observation end). Industry: {industry}. "
            "Currency: {currency}. Files: {files}."
        ).format(
            client=case.client,
            end=case.observation_end.strftime("%d.%m.%Y"),
            industry=industry,
            currency=case.currency,
            files=files,
        )
    )


def data_quality(case: Case) -> _Table:
    """One row per file: rows read, accepted, rejected and the main problems."""
    rows = []
    for kind in INPUT_KINDS:
        if kind not in case.quality:
            continue
        q = case.quality[kind]
        problems = "; ".join(
            f"{_count(r['rows'])} × {data_reason(r['reason'])}" for r in q["report"][:3]
        ) or _("none")
        whole = q["n_accepted"] + q["n_rejected"] == q["rows_read"]
        rows.append(
            {
                _("file"): q["file"],
                _("contents"): kind_label(kind),
                _("rows read"): _count(q["rows_read"]),
                _("accepted"): _count(q["n_accepted"]),
                _("rejected"): _count(q["n_rejected"]),
                _("main problems"): problems,
                _("nothing lost"): _("yes") if whole else _("NO"),
            }
        )
    return _Table(
        pd.DataFrame(rows),
        _(
            "Rows read, accepted and rejected per file "
            "(rejected rows are listed in the appendix and in quarantine/<file>.csv)"
        ),
    )


def _labelled(frame: pd.DataFrame, column: str) -> pd.DataFrame:
    """``frame`` with the codes of ``column`` as the reader sees them (a chart's category axis:
    ``support_speed`` → ``support speed`` / ``скорость поддержки``); its attrs are kept."""
    out = frame.assign(**{column: frame[column].map(label)})
    out.attrs = dict(frame.attrs)
    return out


@noting_warnings
def nps_section(case: Case) -> None:
    """NPS with its interval, band and benchmark [N3][N6][N7], trend [N8], detractor themes [N4]."""
    from loyalty_lib import plots

    value = _section(case, "nps")
    if isinstance(value, Skipped):
        return _show(value)
    verdict = value["verdict"]
    text = str(verdict)
    if verdict.industry is None:
        text += " " + _("No industry benchmark is stored for {industry!r}.").format(
            industry=case.industry
        )
    _show(
        value["result"],
        _Text(text),
        plots.nps_trend(value["trend"], benchmark=_benchmark_industry(case)),
        plots.theme_bars(_labelled(value["themes"], "theme")),
    )


@noting_warnings
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


@noting_warnings
def clv_section(case: Case) -> None:
    """CLV from the purchase model chosen on a holdout (BG/NBD, MBG/NBD or Pareto/NBD) and
    Gamma-Gamma: the model and why, the distribution, P(alive), the most valuable customers."""
    from loyalty_lib import plots
    from loyalty_lib.i18n import _, fmt_count, fmt_number, fmt_share

    value = _section(case, "clv")
    rec, cur = value["record"], case.currency
    conf = fmt_share(case.settings["confidence"], decimals=0)
    top = value["top"].assign(
        clv=lambda d: d["clv"].map(lambda x: _money(x, cur)),
        p_alive=lambda d: d["p_alive"].map(lambda x: fmt_share(x, decimals=0)),
        days_since_last=lambda d: d["days_since_last"].map(fmt_count),
    )
    if "total_spend" in top.columns:
        top["total_spend"] = top["total_spend"].map(lambda x: _money(x, cur))
    top = top.rename(
        columns={
            "customer_id": _("customer"),
            "clv": _("CLV, next {months} months").format(months=rec["horizon_months"]),
            "p_alive": "P(alive)",
            "frequency": _("repeat purchases"),
            "days_since_last": _("days since last purchase"),
            "total_spend": _("spend so far"),
        }
    )
    if rec["clv_interval"] == "none":
        interval = _("no interval: the model's parameters are not pinned down by these data")
    else:
        interval = _(
            "{level} interval {low} to {high}, from the uncertainty of the model's parameters"
        ).format(
            level=conf,
            low=_money(rec["clv_mean_ci_low"], cur),
            high=_money(rec["clv_mean_ci_high"], cur),
        )
    headline = _(
        "Expected value of the next {months} months ({model} + Gamma-Gamma, from {source}): "
        "{total} in total over {n} customers, {mean} per customer on average ({interval}), median "
        "{median}. {share} of customers are more likely gone than active (P(alive) < 50 %)."
    ).format(
        months=rec["horizon_months"],
        model=rec["model_name"],
        source=_(rec["source"]),
        total=_money(rec["clv_total"], cur),
        n=fmt_count(rec["n_customers"]),
        mean=_money(rec["clv_mean"], cur),
        interval=interval,
        median=_money(rec["clv_median"], cur),
        share=fmt_share(rec["share_p_alive_below_half"], decimals=0),
    )
    shown: list[Any] = [
        _Text(headline),
        _Text(rec["model_reason"]),
    ]
    comparison = value["choice"].comparison
    if comparison is not None:
        compared = comparison.table.assign(
            log_likelihood=lambda d: d["log_likelihood"].map(lambda x: fmt_number(x, decimals=1)),
            bic=lambda d: d["bic"].map(lambda x: fmt_number(x, decimals=1)),
            mae=lambda d: d["mae"].map(lambda x: fmt_number(x, decimals=3)),
            total_error=lambda d: d["total_error"].map(lambda x: fmt_share(x, signed=True)),
            identified=lambda d: d["identified"].map(lambda x: _("yes") if x else _("no")),
        )[["model", "log_likelihood", "bic", "mae", "total_error", "identified"]]
        compared = compared.rename(
            columns={
                "model": _("model"),
                "log_likelihood": _("log-likelihood"),
                "bic": "BIC",
                "mae": _("holdout error per customer (MAE)"),
                "total_error": _("holdout total, off by"),
                "identified": _("identified"),
            }
        )
        shown += [
            _Table(
                compared,
                _(
                    "The models fitted on the history up to {start} and checked on the purchases "
                    "after it"
                ).format(start=_day(comparison.calibration_end)),
            ),
            plots.calibration_holdout(comparison),
        ]
    shown += [
        plots.clv_distribution(value["table"]["clv"], currency=cur),
        _Table(top, _("The {n} customers with the highest expected value").format(n=len(top))),
    ]
    _show(*shown)


def _day(value: Any) -> str:
    """A timestamp's day in the selected language's format."""
    from loyalty_lib.i18n import fmt_date

    return fmt_date(pd.Timestamp(value).date())


@noting_warnings
def segments_section(case: Case) -> None:
    """RFM map and segments, the seed's VIP / regular / difficult segments [S3] with actions [S5]."""
    from loyalty_lib import plots, segments

    value = _section(case, "segments")
    rfm = value["rfm_table"]
    rfm_table = pd.DataFrame(
        {
            _("segment"): rfm["segment"].map(label).to_numpy(),
            _("customers"): rfm["customers"].map(_count).to_numpy(),
            _("share"): (rfm["customers"] / rfm["customers"].sum()).map(_share).to_numpy(),
            _("description"): rfm["description"].map(_).to_numpy(),
        }
    )
    shown: list[Any] = [
        plots.rfm_heatmap(value["rfm"]),
        _Table(rfm_table, _("RFM segments")),
    ]
    seed = value["seed"]
    if seed is not None:
        s = value["summary"]
        spend = pd.Series(s["total_spend"].to_numpy(dtype=float), index=seed.index)
        counts = seed.value_counts()
        clv = _clv(case)["table"]["clv"].set_axis(seed.index)
        actions = segments.actions_for(
            counts.index.to_series(), {**segments.SEGMENT_ACTIONS, **_EXTRA_ACTIONS}, default="—"
        )
        table = pd.DataFrame(
            {
                _("segment"): [label(k) for k in counts.index],
                _("customers"): counts.map(_count).to_numpy(),
                _("share of customers"): (counts / len(seed)).map(_share).to_numpy(),
                _("share of spend"): (spend.groupby(seed).sum() / spend.sum())
                .reindex(counts.index)
                .map(_share)
                .to_numpy(),
                _("mean CLV, {currency}").format(currency=case.currency): clv.groupby(seed)
                .mean()
                .reindex(counts.index)
                .map(lambda x: _num(x, 0))
                .to_numpy(),
                _("action"): [_(a) for a in actions.to_numpy()],
            }
        )
        shown.append(
            _Table(table, _("VIP, regular and difficult customers, and what to do with each"))
        )
    if value["seed_note"]:
        shown.append(_Text(_("Seed segments: {note}.").format(note=_(value["seed_note"]))))
    churning = int(value["churning"].sum())
    shown.append(
        _Text(
            ngettext(
                "{n} customer ({share}) has not bought for more than {days} days: potentially "
                "churning.",
                "{n} customers ({share}) have not bought for more than {days} days: potentially "
                "churning.",
                churning,
            ).format(
                n=_count(churning),
                share=_share(value["churning"].mean()),
                days=_num(case.settings["inactive_days"], 0),
            )
        )
    )
    _show(*shown)


@noting_warnings
def churn_section(case: Case) -> None:
    """Churn reasons of the last 12 months with intervals and aspect ratings below 3 [S6]."""
    from loyalty_lib import plots

    value = _section(case, "churn")
    if isinstance(value, Skipped):
        return _show(value)
    rec = value["record"]
    low = ", ".join(f"{label(a['aspect'])} ({_num(a['mean'], 2)})" for a in rec["low_aspects"])
    text = ngettext(
        "{n} lost customer answered the exit survey in the last {months} months.",
        "{n} lost customers answered the exit survey in the last {months} months.",
        rec["n_exits"],
    ).format(n=_count(rec["n_exits"]), months=rec["months"])
    text += " " + _("The top reason is {reason} at {share} ({level} {interval}).").format(
        reason=label(rec["top_reason"]),
        share=_share(rec["top_share"]),
        level=_level(case.settings["confidence"]),
        interval=_interval(_share(rec["top_share_ci_low"]), _share(rec["top_share_ci_high"])),
    )
    threshold = _num(rec["aspect_threshold"], 1 if rec["aspect_threshold"] % 1 else 0)
    text += " " + (
        _("Aspects rated below {threshold} of 5: {aspects}.").format(
            threshold=threshold, aspects=low
        )
        if low
        else _("No aspect averages below {threshold} of 5.").format(threshold=threshold)
    )
    shown: list[Any] = [_Text(text), plots.churn_reason_bars(_labelled(value["reasons"], "reason"))]
    if value["aspects"] is not None:
        aspects = _labelled(value["aspects"], "aspect")
        shown.append(plots.aspect_ratings(aspects, threshold=rec["aspect_threshold"]))
    _show(*shown)


@noting_warnings
def campaign_section(case: Case) -> None:
    """Treatment vs control: pre-period balance, diff-in-diff in orders and spend (ANCOVA beside
    it), the post-only lift for comparison and ROI with intervals [E1][E5]."""
    from loyalty_lib import plots

    value = _section(case, "campaign")
    if isinstance(value, Skipped):
        return _show(value)
    from loyalty_lib.i18n import _, fmt_share

    s = case.settings
    balance = value["balance"]
    _show(
        value["timing"],
        _Text(balance.verdict),
        _Table(balance.display_table(), _("Before the start: treatment and control compared")),
        value["orders_did"],
        plots.did_plot(value["outcomes"], "orders"),
        _Text(
            _(
                "For comparison, after the start alone: {post_only}. That comparison ignores where "
                "the groups started; the difference-in-differences above does not."
            ).format(post_only=str(value["orders"]))
        ),
        value["did"],
        plots.did_plot(value["outcomes"], "spend"),
        _Text(value["ancova"].verdict),
        _Text(
            _(
                "ROI assumes a gross margin of {margin} and program costs of {costs} (report "
                "settings)."
            ).format(
                margin=fmt_share(s["gross_margin"], decimals=0),
                costs=_money(s["program_costs"], case.currency),
            )
        ),
        value["roi"],
    )


def headlines(case: Case) -> _Table:
    """The numbers a client reads first, each with its interval and basis; skipped sections say why."""
    cur, level = case.currency, _level(case.settings["confidence"])
    rows: list[dict[str, str]] = []

    def add(metric: str, value: str, ci: str = "—", basis: str = "") -> None:
        rows.append({_("metric"): metric, _("value"): value, level: ci, _("basis"): basis})

    def skipped(v: Skipped) -> None:
        add(_(v.section), _("skipped"), basis=_(v.reason))

    n = _section(case, "nps")
    if isinstance(n, Skipped):
        skipped(n)
    else:
        r, v = n["result"], n["verdict"]
        bench = (
            _("; benchmark {benchmark} ({gap})").format(
                benchmark=_num(v.benchmark, 0), gap=_signed(v.gap, 1)
            )
            if v.benchmark is not None
            else ""
        )
        add(
            _("NPS, points"),
            _signed(r.score, 1),
            _interval(_signed(r.ci_low, 1), _signed(r.ci_high, 1)),
            ngettext(
                "{n} answer; {band} band{bench}", "{n} answers; {band} band{bench}", r.n
            ).format(n=_count(r.n), band=_(v.band), bench=bench),
        )
    lv = _section(case, "ltv")
    if isinstance(lv, Skipped):
        skipped(lv)
    else:
        r = lv["result"]
        add(
            _("LTV = m × a × t, {currency}").format(currency=cur),
            _num(r.ltv, 0),
            "—",
            _("check {check} × {purchases}/quarter × {lifetime} quarters").format(
                check=_num(r.avg_check, 0),
                purchases=_num(r.purchases_per_period, 2),
                lifetime=_num(r.lifetime_periods, 1),
            ),
        )
    c = _section(case, "clv")["record"]
    add(
        _("CLV next {months} months, mean per customer, {currency}").format(
            months=c["horizon_months"], currency=cur
        ),
        _num(c["clv_mean"], 0),
        _interval(_num(c["clv_mean_ci_low"], 0), _num(c["clv_mean_ci_high"], 0))
        if c["clv_interval"] != "none"
        else "—",
        ngettext(
            "{n} customer; total {total}", "{n} customers; total {total}", c["n_customers"]
        ).format(n=_count(c["n_customers"]), total=_num(c["clv_total"], 0)),
    )
    sg = _section(case, "segments")["record"]
    at_risk = sum(sg["rfm_counts"].get(k, 0) for k in ("At risk", "Can't lose them"))
    add(
        _("Valuable customers at risk (RFM)"),
        _count(at_risk),
        "—",
        ngettext("{share} of {n} customer", "{share} of {n} customers", sg["n_customers"]).format(
            share=_share(at_risk / sg["n_customers"]), n=_count(sg["n_customers"])
        ),
    )
    ch = _section(case, "churn")
    if isinstance(ch, Skipped):
        skipped(ch)
    else:
        r = ch["record"]
        add(
            _("Top churn reason"),
            f"{label(r['top_reason'])} {_share(r['top_share'])}",
            _interval(_share(r["top_share_ci_low"]), _share(r["top_share_ci_high"])),
            ngettext(
                "{n} exit answer, last {months} months",
                "{n} exit answers, last {months} months",
                r["n_exits"],
            ).format(n=_count(r["n_exits"]), months=r["months"]),
        )
        if r["aspects"] is not None and len(r["aspects"]):
            a = r["aspects"].iloc[0]
            add(
                _("Lowest-rated aspect (1–5)"),
                f"{label(a['aspect'])} {_num(a['mean'], 2)}",
                _interval(_num(a["ci_low"], 2), _num(a["ci_high"], 2)),
                ngettext("{n} rating", "{n} ratings", int(a["n"])).format(n=_count(a["n"])),
            )
    cp = _section(case, "campaign")
    if isinstance(cp, Skipped):
        skipped(cp)
    else:
        d, roi = cp["did"], cp["roi"]
        add(
            _("Campaign: extra spend per treated customer (DiD), {currency}").format(currency=cur),
            _signed(d.estimate, 0),
            _interval(_signed(d.ci_low, 0), _signed(d.ci_high, 0)),
            _("{treated} treated vs {control} control").format(
                treated=_count(d.n_treatment), control=_count(d.n_control)
            ),
        )
        add(
            _("Campaign ROI"),
            _signed_pct(roi.roi),
            _interval(_signed_pct(roi.roi_ci_low), _signed_pct(roi.roi_ci_high)),
            _("margin {margin}, costs {costs}").format(
                margin=_share(case.settings["gross_margin"]), costs=_num(roi.program_costs, 0)
            ),
        )
    return _Table(pd.DataFrame(rows), _("Headline numbers"))


@noting_warnings
def quality_appendix(case: Case) -> None:
    """Every rejected row (up to 200 per file): line, column, value and reason."""
    shown: list[Any] = []
    for kind in INPUT_KINDS:
        if kind not in case.quality:
            continue
        q = case.quality[kind]
        if not q["n_rejected"]:
            shown.append(_Text(_("{file}: no rejected rows.").format(file=q["file"])))
            continue
        table = pd.DataFrame(q["rejected"], columns=["line", "column", "value", "reason"])
        table["reason"] = table["reason"].map(data_reason)
        table = table.rename(
            columns={
                "line": _("line"),
                "column": _("column"),
                "value": _("value"),
                "reason": _("reason"),
            }
        )
        more = q["n_rejected"] - len(table)
        caption = ngettext(
            "{file}: {n} rejected row", "{file}: {n} rejected rows", q["n_rejected"]
        ).format(file=q["file"], n=_count(q["n_rejected"]))
        if q.get("quarantine"):
            caption += " " + _("(all of them in {path})").format(path=q["quarantine"])
        if more > 0:
            caption += _("; the first {n} are shown").format(n=_count(len(table)))
        shown.append(_Table(table, caption))
    if case.notes:
        shown.append(_Text(case.notes, heading=_("Notes")))
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
