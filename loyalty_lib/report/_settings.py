"""Report-wide constants: input kinds, sections, template name, default settings."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from loyalty_lib.i18n import N_
from loyalty_lib.retailer import SAMPLE_RETAILER

INPUT_KINDS: tuple[str, ...] = ("transactions", "customers", "survey", "exit_survey", "campaign")
#: Analytic sections, in report order, with the title used in skip notes and headlines (English;
#: shown through the catalogue: ``_(SECTIONS[key])``).
SECTIONS: dict[str, str] = {
    "nps": N_("NPS"),
    "ltv": N_("LTV and cohorts"),
    "clv": N_("CLV"),
    "segments": N_("Segments"),
    "churn": N_("Churn reasons"),
    "campaign": N_("Campaign"),
}
TEMPLATE = "07_consulting_case.ipynb"
#: What ``build_report`` creates inside the report folder (and removes again with ``force``).
ARTIFACTS = (
    "notebooks",
    "data",
    "quarantine",
    "charts",
    "report.html",
    "report.pdf",
    "report.xlsx",
    "summary.json",
    "report.log",
)


def _share_open(x: Any) -> bool:
    return _is_number(x) and 0 < x < 1


def _is_number(x: Any) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool) and math.isfinite(x)


def _whole(x: Any) -> bool:
    return _is_number(x) and int(x) == x and x >= 1


@dataclass(frozen=True)
class Setting:
    """One report setting: the single place its default, check, help and CLI exposure live.

    :data:`SETTINGS` drives everything that names a setting: the ``loyalty report`` options
    (``cli`` True), :func:`check_settings` (``build_report(parameters=...)`` and ``open_case``), the
    template's parameters cell (:func:`parameters_cell`) and ``summary.json["settings"]``.
    """

    name: str
    default: Any
    check: Callable[[Any], bool]
    expected: str  # what a valid value is, for the error message
    help: str
    cli: bool = True
    choices: tuple[str, ...] = ()

    @property
    def option(self) -> str:
        return "--" + self.name.replace("_", "-")


FREQS: tuple[str, ...] = ("D", "W", "M")
#: ``auto`` or a key of :data:`loyalty_lib.ltv.compare.MODELS` (kept literal: no pandas import).
CLV_MODELS: tuple[str, ...] = ("auto", "bgnbd", "mbgnbd", "pareto")
LANGUAGES: tuple[str, ...] = ("auto", "en", "ru")
_R = SAMPLE_RETAILER
#: Every report setting, in the order the CLI's --help lists them. Business defaults come from
#: the sample retailer (:data:`loyalty_lib.retailer.SAMPLE_RETAILER`), declared once there.
SETTINGS: tuple[Setting, ...] = (
    Setting(
        "confidence",
        0.95,
        _share_open,
        "a share in (0, 1), e.g. 0.95",
        "Confidence level of every interval in the report.",
    ),
    Setting(
        "gross_margin",
        _R.gross_margin,
        lambda x: _is_number(x) and 0 < x <= 1,
        "a share in (0, 1], e.g. 0.40",
        "Share of revenue left after the cost of goods (campaign ROI).",
    ),
    Setting(
        "program_costs",
        300_000.0,
        lambda x: _is_number(x) and x > 0,
        "a positive amount of money",
        "Campaign costs over the evaluated period, currency.",
    ),
    Setting(
        "clv_horizon_months",
        12,
        _whole,
        "a whole number of months >= 1",
        "How far ahead CLV looks, months (converted to the summary's period).",
    ),
    Setting(
        "discount_rate_monthly",
        _R.discount_rate_monthly,
        lambda x: _is_number(x) and 0 <= x < 1,
        "a monthly rate in [0, 1)",
        "Cost of money per month inside discounted CLV.",
    ),
    Setting(
        "churn_months",
        12,
        _whole,
        "whole months >= 1",
        "Exit-survey answers of this many last months are analysed.",
    ),
    Setting(
        "churn_flag_share",
        0.30,
        lambda x: _is_number(x) and 0 < x <= 1,
        "a share in (0, 1]",
        "A churn reason at or above this share calls for action.",
    ),
    Setting(
        "aspect_threshold",
        3.0,
        lambda x: _is_number(x) and 1 < x <= 5,
        "a rating in (1, 5]",
        "An exit-survey aspect rated below this (1-5) is a signal.",
    ),
    Setting(
        "inactive_days",
        _R.churn_window_days,
        lambda x: _is_number(x) and x > 0,
        "a positive number of days",
        "No purchase for more days than this: potentially churning (the churn window).",
    ),
    Setting("top_n", 10, _whole, "a whole number >= 1", "Customers listed in the CLV table."),
    Setting(
        "freq",
        "D",
        lambda x: x in FREQS,
        "one of D (days), W (weeks), M (months)",
        "Period of a --customers summary's recency and T, and of the purchase model.",
        choices=FREQS,
    ),
    Setting(
        "clv_model",
        "auto",
        lambda x: x in CLV_MODELS,
        "one of auto, bgnbd, mbgnbd, pareto",
        "Purchase model behind CLV: auto picks BG/NBD, MBG/NBD or Pareto/NBD on a holdout.",
        choices=CLV_MODELS,
    ),
    Setting(
        "lang",
        "auto",
        lambda x: x in LANGUAGES,
        "one of auto, en, ru",
        "Language of the report: en, ru, or auto (ru when the client's files are in Russian).",
        choices=LANGUAGES,
    ),
)
#: Days in one period of ``freq``; turns a weekly or monthly summary's T - recency into days for
#: the day-based rules (the churn window). A month is the mean Gregorian month, 30.4375 days.
DAYS_PER_PERIOD: dict[str, float] = {"D": 1.0, "W": 7.0, "M": 30.4375}
SETTINGS_BY_NAME: dict[str, Setting] = {s.name: s for s in SETTINGS}
#: The defaults, derived from :data:`SETTINGS` (kept for imports that predate the table).
DEFAULT_SETTINGS: dict[str, Any] = {s.name: s.default for s in SETTINGS}


def check_settings(settings: Mapping[str, Any]) -> dict[str, Any]:
    """Every setting, checked: the defaults overridden by ``settings`` (None = default).

    Raises ValueError naming an unknown setting (and the known ones) or the first invalid value
    with what was expected.
    """
    unknown = set(settings) - set(SETTINGS_BY_NAME)
    if unknown:
        raise ValueError(f"unknown setting(s) {sorted(unknown)}; known: {sorted(SETTINGS_BY_NAME)}")
    out = {**DEFAULT_SETTINGS, **{k: v for k, v in settings.items() if v is not None}}
    for s in SETTINGS:
        if not s.check(out[s.name]):
            raise ValueError(f"{s.name} must be {s.expected}; got {out[s.name]!r}")
    return out


def parameters_cell(fixed: str) -> str:
    """The template's parameters cell: ``fixed`` (client, files, paths) then one line per setting
    with its default and help, generated from :data:`SETTINGS` (tests compare the stored cell)."""
    lines = [fixed.rstrip("\n")]
    lines += [f"{s.name} = {s.default!r}  # {s.help}" for s in SETTINGS]
    return "\n".join(lines)


def settings_from(namespace: Mapping[str, Any]) -> dict[str, Any]:
    """The value of every setting in ``namespace`` (the template passes its ``globals()``)."""
    return {s.name: namespace[s.name] for s in SETTINGS if s.name in namespace}


#: Actions for the labels :data:`loyalty_lib.segments.SEGMENT_ACTIONS` leaves open (the seed names
#: none for one-off buyers); the seed's own actions [S5] are used for every other label.
_EXTRA_ACTIONS: dict[str, str] = {
    "one-off": N_("a reason to come back: a personal offer soon after the first purchase"),
}
#: Why a section is skipped, by the missing input (English; shown through the catalogue).
_SKIP = {
    "survey": N_("no survey file given"),
    "exit_survey": N_("no exit-survey file given"),
    "campaign": N_("no campaign file given"),
    "transactions": N_("needs raw transactions; only a per-customer summary was given"),
}
