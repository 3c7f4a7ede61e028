"""Findings and recommendations: rules as data, checked against the findings."""

from __future__ import annotations

import math
import operator
import string
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import pandas as pd

from loyalty_lib.i18n import N_, _, get_language
from loyalty_lib.report.case import Case
from loyalty_lib.report.compute import _campaign, _churn, _clv, _nps, _segments
from loyalty_lib.report.display import Skipped, _show, _Text, noting_warnings

# --------------------------------------------------------------------------------------------
# recommendations: rules as data
# --------------------------------------------------------------------------------------------

#: What to do when a churn reason leads [S6] (the seed: price at 35 % signals a pricing review).
#: The client-facing sentence for each reason of :data:`loyalty_lib.churn.REASON_ACTIONS`, whose
#: short labels are the churn assignment's fixed answers; the two tables share their keys (tested).
REASON_ACTIONS: dict[str, str] = {
    "price": N_("review pricing against competitors for the categories these customers bought"),
    "quality": N_("review product quality and returns with the suppliers of the worst categories"),
    "service": N_("retrain staff and set service standards; check them with mystery shoppers"),
    "competition": N_(
        "compare the offer with the main competitor's, item by item, and answer the gap"
    ),
    "other": N_(
        "read the 'other' comments: the real reasons are hiding there; add them to the survey"
    ),
}
#: What to do when an exit-survey aspect averages below the threshold [S6].
ASPECT_ACTIONS: dict[str, str] = {
    "support_speed": N_(
        "fix response times: answer every request within one hour, every review within 24 hours"
    ),
    "price": N_("make the value visible: personal offers and clear price comparisons"),
    "quality": N_("tighten quality control and make returns easy"),
    "service": N_("retrain front-line staff and measure satisfaction after each contact"),
    "assortment": N_("review the assortment against what leaving customers asked for"),
    "delivery": N_("fix delivery times and tracking with the logistics partner"),
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
        "text": N_(
            "{top_churn_reason_label} is the top churn reason at {top_churn_share:.0%} of lost customers "
            "→ {top_churn_action}."
        ),
        "source": "S6",
    },
    {
        "id": "aspect-below-threshold",
        "for_each": "low_aspects",
        "when": [],
        "text": N_(
            "{aspect_label} rated {mean:.1f} < {aspect_threshold:g} in the exit survey → {aspect_action}."
        ),
        "source": "S6, E6",
    },
    {
        "id": "nps-below-benchmark",
        "when": [("nps_gap", "<", 0)],
        "text": N_(
            "NPS {nps_score:+.0f} is {nps_gap_abs:.0f} points below the {nps_benchmark_label} benchmark of "
            "{nps_benchmark:.0f} → work on the detractors' top theme ({top_detractor_theme}) first and call "
            "back every detractor within 24 hours."
        ),
        "source": "N4, N7, N12",
    },
    {
        "id": "nps-passives",
        "when": [("share_passives", ">=", 0.25)],
        "text": N_(
            "{share_passives:.0%} of respondents are passives → a personal offer to passives is the "
            "quickest way to raise NPS; reward the promoters for referrals."
        ),
        "source": "N5",
    },
    {
        "id": "clv-top-fading",
        "when": [("clv_top_fading", ">=", 1)],
        "text": N_(
            "{clv_top_fading} of the {clv_top_n} customers with the highest expected value are more likely "
            "gone than active (P(alive) < 50 %) → call them personally this week."
        ),
        "source": "S3, S5",
    },
    {
        "id": "segments-at-risk",
        "when": [("at_risk_share", ">=", 0.10)],
        "text": N_(
            "{at_risk_customers:,} customers ({at_risk_share:.0%}) spent a lot but have not come back "
            "(RFM 'At risk' and 'Can't lose them') → win them back with a short survey and an individual "
            "consultation."
        ),
        "source": "S5",
    },
    {
        "id": "segments-vip",
        "when": [("vip_customers", ">=", 1)],
        "text": N_(
            "{vip_customers:,} VIP customers bring {vip_spend_share:.0%} of spend → inform them first about "
            "new products, offer exclusive discounts, send birthday greetings."
        ),
        "source": "S3, S5",
    },
    {
        "id": "campaign-too-early",
        "when": [("campaign_too_early", "==", True)],
        "text": N_(
            "The campaign has run only {campaign_months} full months → too early to judge; measure again "
            "after 3–4 months."
        ),
        "source": "E5",
    },
    {
        "id": "campaign-pays",
        "when": [("roi_ci_low", ">", 0)],
        "text": N_(
            "The campaign pays even at the low end of its interval (ROI {roi:+.0%}) → keep it and extend "
            "it to more customers."
        ),
        "source": "E1",
    },
    {
        "id": "campaign-uncertain",
        "when": [("roi", ">=", 0), ("roi_ci_low", "<=", 0)],
        "text": N_(
            "The campaign probably pays (ROI {roi:+.0%}) but its interval includes a loss → keep the control "
            "group and measure again before scaling up."
        ),
        "source": "E1",
    },
    {
        "id": "campaign-loss",
        "when": [("roi", "<", 0), ("did_ci_low", ">", 0)],
        "text": N_(
            "The campaign changes behaviour (extra spend {did_estimate:+,.0f} {currency} per customer) but does "
            "not pay at the assumed margin and costs (ROI {roi:+.0%}) → cut the costliest rewards and focus "
            "on the segments that respond, then measure again."
        ),
        "source": "E1",
    },
    {
        "id": "campaign-no-effect",
        "when": [("roi", "<", 0), ("did_ci_low", "<=", 0)],
        "text": N_(
            "The campaign shows no clear effect on spend and does not pay (ROI {roi:+.0%}) → redesign the "
            "offer before spending more."
        ),
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
                        a["aspect"], N_("find out why with the team that owns it")
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


class _LocalFloat(float):
    """A number that formats in the selected language: ``{x:+,.0f}`` gives ``+1,234`` in English
    and ``+1 234`` in Russian (non-breaking space, decimal comma, spaced %, minus sign), so the
    rules' format strings serve every language."""

    def __format__(self, spec: str) -> str:
        return _russian_marks(float.__format__(float(self), spec))


class _LocalInt(int):
    """An integer that formats in the selected language (see :class:`_LocalFloat`)."""

    def __format__(self, spec: str) -> str:
        return _russian_marks(int.__format__(int(self), spec))


def _russian_marks(text: str) -> str:
    if get_language() != "ru":
        return text
    text = text.replace(",", "\u00a0").replace(".", ",").replace("%", "\u00a0%")
    return "−" + text[1:] if text.startswith("-") else text


def _localized(value: Any) -> Any:
    """A finding as a rule's text shows it: numbers in the language's marks; English labels and
    actions through the catalogue ("Price" → «Цена»: a capitalised label is looked up in lower
    case and capitalised again)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return _LocalInt(value)
    if isinstance(value, float):
        return _LocalFloat(value)
    if isinstance(value, str):
        shown = _(value)
        if shown == value and value[:1].isupper():
            lower = _(value.lower())
            if lower != value.lower():
                shown = lower[:1].upper() + lower[1:]
        return shown
    return value


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
            shown = {k: _localized(v) for k, v in merged.items()}
            out.append(_(rule["text"]).format(**shown) + source)
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


@noting_warnings
def recommendations_section(case: Case) -> None:
    """The generated recommendations in rule order, each with the seed ids it applies."""
    recs = recommendations(findings(case))
    case.summary["recommendations"] = recs
    _show(
        _Text(recs or [_("No rule fired: none of the findings crosses a threshold.")], ordered=True)
    )
