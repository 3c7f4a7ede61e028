"""Sections the template calls; each displays its part of the report and records it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd

from loyalty_lib._result import _plain
from loyalty_lib.report._settings import _EXTRA_ACTIONS, INPUT_KINDS, SECTIONS
from loyalty_lib.report.case import Case
from loyalty_lib.report.compute import _benchmark_industry, _clv, _section
from loyalty_lib.report.display import (
    Skipped,
    _money,
    _show,
    _signed_pct,
    _Table,
    _Text,
    noting_warnings,
)
from loyalty_lib.report.rules import findings, recommendations

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
        text += f" No industry benchmark is stored for {case.industry!r}."
    _show(
        value["result"],
        _Text(text),
        plots.nps_trend(value["trend"], benchmark=_benchmark_industry(case)),
        plots.theme_bars(value["themes"]),
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


@noting_warnings
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


@noting_warnings
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
