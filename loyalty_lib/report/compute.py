"""Section computations, cached on the case; each returns its results or a Skipped."""

from __future__ import annotations

import dataclasses
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


def _clv_choice(case: Case, f: np.ndarray, r: np.ndarray, t: np.ndarray) -> Any:
    """The purchase model behind CLV (``clv_model`` setting): chosen on a holdout of the
    transactions when they are the summary's source, else by BIC on the summary alone."""
    from loyalty_lib import ltv

    freq = case.settings["freq"]
    override = None if case.settings["clv_model"] == "auto" else case.settings["clv_model"]
    if override is None and case.has("transactions") and not case.has("customers"):
        tx = case.tables["transactions"]
        if len(f) > _CHOICE_CUSTOMERS:
            # The holdout comparison fits three models twice and rebuilds two summaries; on a
            # million customers that is minutes and gigabytes, while the choice between models
            # is settled long before: compare on a seeded sample of whole customers (all their
            # transactions), then fit the chosen model on everyone (_clv).
            ids = tx["customer_id"].drop_duplicates()
            keep = ids.sample(n=_CHOICE_CUSTOMERS, random_state=0)
            tx = tx[tx["customer_id"].isin(keep)]
        # refit=False: _clv fits the chosen model on the report's own summary anyway
        return ltv.choose_model(tx, observation_end=case.observation_end, freq=freq, refit=False)
    if override is None:
        return ltv.choose_model_for_summary(f, r, t, freq=freq)
    from loyalty_lib.ltv.compare import forced_choice

    return forced_choice(override)  # fitted on the report's summary in _clv


#: More customers than this and the model comparison runs on a seeded sample of them.
_CHOICE_CUSTOMERS = 50_000
#: More customers than this and the CLV interval is computed on a seeded sample of
#: _INTERVAL_SAMPLE customers and scaled to the whole base (see _clv_interval).
_INTERVAL_CUSTOMERS = 20_000
_INTERVAL_SAMPLE = 10_000


def _clv_interval(
    case: Case, model: Any, gg: Any, f: np.ndarray, r: np.ndarray, t: np.ndarray, m: np.ndarray
) -> tuple[float, float, str]:
    """The model-based interval of mean CLV per customer (parametric bootstrap of both models'
    parameters, :func:`loyalty_lib.ltv.model_intervals`) as (low, high, how).

    Why a sample on large bases: every bootstrap draw recomputes the forecast for each distinct
    (x, t_x, T) row, and a daily summary of a million customers has hundreds of thousands of
    them. Parameter uncertainty moves every customer's forecast together, so the interval of the
    mean is taken from a 10,000-customer sample as a ratio to its own point estimate and applied
    to the whole base's mean (the sample only sets the interval's relative width).
    """
    from loyalty_lib import ltv

    s = case.settings
    kwargs = dict(
        gamma_gamma=gg,
        horizon_months=int(s["clv_horizon_months"]),
        discount_rate_monthly=s["discount_rate_monthly"],
        level=s["confidence"],
        per_customer=False,
        t=1.0,
    )
    basis = "all"
    if len(f) > _INTERVAL_CUSTOMERS:
        pick = np.random.default_rng(0).choice(len(f), size=_INTERVAL_SAMPLE, replace=False)
        f, r, t, m, basis = f[pick], r[pick], t[pick], m[pick], "sample"
    res = ltv.model_intervals(model, f, r, t, monetary=m, **kwargs)
    row = res.totals.set_index("quantity").loc["mean CLV"]
    return row["lower"] / row["estimate"], row["upper"] / row["estimate"], basis


@_cached("clv")
def _clv(case: Case) -> dict[str, Any]:
    from loyalty_lib import ltv
    from loyalty_lib.i18n import _, fmt_number
    from loyalty_lib.ltv.compare import MODELS

    s, source = _summary_table(case)
    f, r, t, m = (s[c].to_numpy(dtype="float64") for c in ("frequency", "recency", "T", "monetary"))
    bad_m = (f > 0) & (m <= 0)
    if bad_m.any():
        case.notes.append(
            _(
                "{n} repeat customers with average value ≤ 0 are left out of the Gamma-Gamma fit"
            ).format(n=fmt_number(int(bad_m.sum())))
        )
    # The summary's period (days, weeks, months) is the model's; Gamma-Gamma's CLV converts the
    # horizon in months into it, so a weekly and a daily summary of one history agree.
    freq = case.settings["freq"]
    choice = _clv_choice(case, f, r, t)
    # The chosen model is fitted here, on the report's own summary (choose_model's counts orders
    # as distinct ids, maybe on a sample) and outside the choice's warning capture, so a "not
    # identified" warning of the final fit becomes a note of the section.
    gg = ltv.GammaGamma().fit(f[~bad_m], m[~bad_m])
    horizon = int(case.settings["clv_horizon_months"])
    m_used = np.where(bad_m, 0.0, m)

    def forecast(key: str) -> tuple[Any, np.ndarray]:
        fitted = MODELS[key][0](freq=freq).fit(f, r, t)
        values = gg.clv(
            fitted,
            f,
            r,
            t,
            m_used,
            horizon_months=horizon,
            discount_rate_monthly=case.settings["discount_rate_monthly"],
        )
        return fitted, np.asarray(values, dtype=float)

    model, clv = forecast(choice.key)
    if not np.isfinite(clv).all():
        # A fit at the edge of its parameter space (nobody seen dropping out: rates → ∞ in
        # BG/NBD's hypergeometric term) can forecast NaN; another model's limit stays finite.
        for key in (k for k in MODELS if k != choice.key):
            other, values = forecast(key)
            if np.isfinite(values).all():
                case.notes.append(
                    _(
                        "{failed} cannot forecast these customers (its parameters ran to the edge of "
                        "their range), so {used} is used instead"
                    ).format(failed=MODELS[choice.key][1], used=MODELS[key][1])
                )
                choice = dataclasses.replace(
                    choice,
                    key=key,
                    name=MODELS[key][1],
                    reason=choice.reason
                    + " "
                    + _("{used} replaces it: {failed} gives no finite forecast here.").format(
                        used=MODELS[key][1], failed=MODELS[choice.key][1]
                    ),
                )
                model, clv = other, values
                break
        else:
            raise ValueError("no purchase model gives a finite CLV forecast for these customers")
    from loyalty_lib.ltv.intervals import _distinct_rows

    rep, inverse = _distinct_rows(f, r, t)  # P(alive) depends on (x, t_x, T) only
    p_alive = np.asarray(model.p_alive(f[rep], r[rep], t[rep]), dtype=float)[inverse]
    if (p_alive > 0.999).all():
        case.notes.append(
            _(
                "The data do not show customers dropping out within the window, so the model "
                "cannot tell active from lapsed customers: use the {days}-day rule of the "
                "segments section instead"
            ).format(days=fmt_number(case.settings["inactive_days"]))
        )
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
    keep = ~bad_m
    try:
        low, high, interval_basis = _clv_interval(
            case, model, gg, f[keep], r[keep], t[keep], m[keep]
        )
        ci_low, ci_high = float(clv.mean() * low), float(clv.mean() * high)
        interval_method = "parametric bootstrap of the model parameters"
    except (ValueError, np.linalg.LinAlgError):
        # no finite covariance (parameters not identified): no interval rather than a false one
        ci_low = ci_high = float("nan")
        interval_basis, interval_method = "none", "none"
        case.notes.append(
            _(
                "The purchase model's parameters are not pinned down by these data, so the mean "
                "CLV is shown without an interval"
            )
        )
    top = table.sort_values(["clv", "customer_id"], ascending=[False, True]).head(
        int(case.settings["top_n"])
    )
    comparison = choice.comparison
    record = {
        "source": source,
        "n_customers": n,
        "horizon_months": horizon,
        "period": {"D": "days", "W": "weeks", "M": "months"}[freq],
        "discount_rate_monthly": case.settings["discount_rate_monthly"],
        "model": choice.key,
        "model_name": choice.name,
        "model_choice": choice.method,
        "model_reason": choice.reason,
        "holdout_mae": choice.holdout_mae,
        "models_compared_on": None if comparison is None else comparison.n_customers,
        "models_compared": None
        if comparison is None
        else comparison.table[
            ["key", "model", "log_likelihood", "bic", "mae", "total_error", "identified"]
        ],
        "model_params": dict(model.params),
        "gamma_gamma": dict(gg.params),
        "clv_total": float(clv.sum()),
        "clv_mean": float(clv.mean()),
        "clv_mean_ci_low": ci_low,
        "clv_mean_ci_high": ci_high,
        "clv_interval": interval_method,
        "clv_interval_basis": interval_basis,
        "clv_median": float(np.median(clv)),
        "p_alive_mean": float(p_alive.mean()),
        "share_p_alive_below_half": float((p_alive < 0.5).mean()),
        "top": top[["customer_id", "clv", "p_alive", "frequency"]],
        "top_with_p_alive_below_half": int((top["p_alive"] < 0.5).sum()),
    }
    return {
        "model": model,
        "choice": choice,
        "gg": gg,
        "table": table,
        "top": top,
        "record": record,
    }


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
    # Every effect is adjusted for the pre-period (a random split can still start unequal, and a
    # post-only comparison would count that head start as effect); the post-only lift stays in
    # the record as the comparison a reader may have seen elsewhere.
    orders = evaluation.lift(outcomes, "orders_post", confidence=conf, currency=cur)
    balance = evaluation.balance_table(outcomes, currency=cur)
    orders_did = evaluation.diff_in_diff(outcomes, "orders", confidence=conf, currency=cur)
    did = evaluation.diff_in_diff(outcomes, "spend", confidence=conf, currency=cur)
    ancova = evaluation.ancova_effect(outcomes, "spend", confidence=conf, currency=cur)
    roi = evaluation.program_roi(
        did, case.settings["gross_margin"], case.settings["program_costs"], currency=cur
    )
    timing = evaluation.evaluation_timing(camp["start_date"].min(), case.observation_end)
    record = {
        "orders_lift": orders.to_dict(),
        "balance": balance.table,
        "balance_imbalanced": list(balance.imbalanced),
        "orders_did": orders_did.to_dict(),
        "spend_did": did.to_dict(),
        # the numbers only: the verdict sentence is in the report's language (summary.json keeps
        # the same values in every language)
        "spend_ancova": {k: v for k, v in ancova.to_dict().items() if k != "verdict"},
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
        "balance": balance,
        "orders_did": orders_did,
        "did": did,
        "ancova": ancova,
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
