"""Section computations, cached on the case; each returns its results or a Skipped."""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from loyalty_lib._result import _plain
from loyalty_lib.i18n import N_, _
from loyalty_lib.report._settings import _SKIP, DAYS_PER_PERIOD, SECTIONS
from loyalty_lib.report.case import Case
from loyalty_lib.report.display import Skipped

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
    """``summary.json``'s record of a section. A skipped one keeps its ``reason`` in English (the
    same in every language, for programs) and its ``note`` as the report shows it."""
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


_UNBOUNDED_LIFETIME = N_(
    "no customer stopped buying from one quarter to the next (churn 0), so the lifetime t and "
    "m × a × t have no finite value; the CLV section below uses a finite horizon"
)


@_cached("ltv")
def _ltv(case: Case) -> dict[str, Any] | Skipped:
    from loyalty_lib import ltv

    if not case.has("transactions"):
        return Skipped(SECTIONS["ltv"], _SKIP["transactions"])
    tx = case.tables["transactions"]
    try:
        result = ltv.ltv_from_transactions(
            tx, period="Q", end=case.observation_end, currency=case.currency
        )
    except ValueError as exc:
        if "churn 0" not in str(exc):
            raise
        # every active customer bought again the next quarter: t = 1 / churn has no finite value
        return Skipped(SECTIONS["ltv"], _UNBOUNDED_LIFETIME)
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
        return case.tables["customers"], N_("the given customer summary")
    freq = case.settings["freq"]
    # The case's transactions come through loyalty_lib.data, which rejects a repeated order id:
    # one row is one order, so orders are counted as rows (the distinct count is the dearest
    # part of the summary on millions of rows). DuckDB gets less working memory than its default
    # because this process already holds the transactions: 10M rows peaked at 1.72 GB with
    # 800MB, and the report's budget is 2 GB with the CLI process beside it.
    table = segments.customer_summary(
        case.tables["transactions"],
        case.observation_end,
        freq=freq,
        orders="rows",
        memory_limit="500MB",
    )
    return table, N_("the transactions (per-customer summary computed from them)")


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
    # The summary's period (days, weeks, months) is the model's; Gamma-Gamma's CLV converts the
    # horizon in months into it, so a weekly and a daily summary of one history agree.
    freq = case.settings["freq"]
    bg = ltv.BetaGeo(freq=freq).fit(f, r, t)
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
            "days_since_last": (t - r) * DAYS_PER_PERIOD[freq],
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
        "period": {"D": "days", "W": "weeks", "M": "months"}[freq],
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
            seed_note = N_(
                "the summary has no refunds (or other problem count) per customer, so the "
                "'difficult' segment cannot be identified"
            )
    else:
        seed_note = N_(
            "the customer summary has no orders and total_spend columns, which the segments need"
        )
    days = DAYS_PER_PERIOD[case.settings["freq"]]  # churn_risk counts T - recency in days
    in_days = s if days == 1 else s.assign(recency=s["recency"] * days, T=s["T"] * days)
    churning = segments.churn_risk(in_days, inactive_days=case.settings["inactive_days"])
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


def _note_warnings(case: Case, title: str, caught: list[warnings.WarningMessage]) -> None:
    """Turn warnings raised while computing a section into plain notes of the report
    (``case.notes``: the appendix's Notes and ``summary.json["notes"]``). Only the message is
    kept, never the file and line the warning came from."""
    for w in caught:
        note = f"{title}: {' '.join(str(w.message).split())}"
        if note not in case.notes:
            case.notes.append(note)


def _section(case: Case, name: str) -> dict[str, Any] | Skipped:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        value = _COMPUTE[name](case)
    _note_warnings(case, _(SECTIONS[name]), caught)
    _record(case, name, value)
    return value
