"""Report-wide constants: input kinds, sections, template name, default settings."""

from __future__ import annotations

from typing import Any

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
