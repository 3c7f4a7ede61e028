"""The words of the library's tables as the report shows them, marked for the catalogue.

The topic modules keep their labels as plain English codes (``"At risk"``, ``"support_speed"``,
``"price"``): lessons, rules and ``summary.json`` compare and store them as they are. The report
shows them to a client, so each one is listed here with :func:`~loyalty_lib.i18n.N_` (the catalogue
extractor finds it, the Russian ``.po`` translates it) and displayed with :func:`label`.
``tests/report/test_russian_report.py`` checks that every code the topic modules can produce is
listed, so a new segment or aspect cannot reach a Russian report in English.
"""

from __future__ import annotations

from loyalty_lib.i18n import N_, _

#: RFM segments of :data:`loyalty_lib.segments.RFM_SEGMENTS`: name → description, both marked.
RFM_NAMES = (
    N_("Champions"),
    N_("Loyal"),
    N_("Potential loyalist"),
    N_("New"),
    N_("Promising"),
    N_("Needs attention"),
    N_("About to sleep"),
    N_("At risk"),
    N_("Can't lose them"),
    N_("Hibernating"),
    N_("Lost"),
)
RFM_DESCRIPTIONS = (
    N_("bought recently, buy often and spend the most"),
    N_("buy often and spend a lot; responsive to promotions"),
    N_("recent customers with average frequency and spend"),
    N_("bought most recently, but not often"),
    N_("recent shoppers who have not spent much yet"),
    N_("above-average recency, frequency and spend"),
    N_("below average; will be lost without reactivation"),
    N_("spent a lot and often, but long ago"),
    N_("were among the best, have not come back for long"),
    N_("low spend, low frequency, last purchase long ago"),
    N_("lowest recency, frequency and spend"),
)
#: The working segments of :func:`loyalty_lib.segments.vip_regular_difficult` and their actions
#: (:data:`loyalty_lib.segments.SEGMENT_ACTIONS`).
SEED_NAMES = (N_("VIP"), N_("regular"), N_("difficult"), N_("new"), N_("one-off"))
SEGMENT_ACTIONS = (
    N_(
        "exclusive discounts on new products; inform first, individual programs, birthday greetings"
    ),
    N_("surveys and individual consultations"),
    N_("welcome discount"),
    N_("early access to new products and sales"),
    N_("individual approach: a named manager who resolves their problems"),
)
#: Churn reasons (:data:`loyalty_lib.segments.CHURN_REASONS`), exit-survey aspects (the
#: ``rating_<aspect>`` columns the loader recognises) and NPS comment themes
#: (:data:`loyalty_lib.nps.THEMES`).
REASONS = (N_("price"), N_("quality"), N_("service"), N_("competition"), N_("other"))
ASPECTS = (
    N_("support speed"),
    N_("price"),
    N_("quality"),
    N_("service"),
    N_("assortment"),
    N_("delivery"),
)
THEMES = (
    N_("price"),
    N_("quality"),
    N_("delivery"),
    N_("staff"),
    N_("service"),
    N_("assortment"),
    N_("other"),
)
#: Input kinds as a reader names them.
KINDS = {
    "transactions": N_("transactions"),
    "customers": N_("customers"),
    "survey": N_("survey"),
    "exit_survey": N_("exit survey"),
    "campaign": N_("campaign"),
}


def label(code: object) -> str:
    """A code of the library's tables in the selected language: ``support_speed`` →
    ``support speed`` / ``скорость поддержки``; an unlisted code is shown as it is."""
    return _(str(code).replace("_", " "))


def kind_label(kind: str) -> str:
    """An input kind as a reader names it: ``exit_survey`` → ``exit survey`` / ``опрос ушедших клиентов``."""
    return _(KINDS.get(kind, kind.replace("_", " ")))
