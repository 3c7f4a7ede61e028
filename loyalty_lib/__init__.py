"""Loyalty Workbook's helper library: NPS, LTV/CLV, segmentation, churn, program design, evaluation.

Topic modules are imported on demand (``from loyalty_lib import nps, ltv``) so that the CLI and a
notebook that needs one topic do not pay for all of them.
"""

__version__ = "0.1.0"

TOPICS = ("data", "samples", "nps", "ltv", "segments", "program", "evaluation", "plots", "widgets")


def set_language(lang: str) -> None:
    """Select the language of everything the library shows to people: ``"en"`` or ``"ru"``
    (sentences, verdicts, chart labels, number and date formats)."""
    from loyalty_lib.i18n import set_language as _set

    _set(lang)
