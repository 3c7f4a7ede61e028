"""The words of the library's tables as the report shows them, marked for the catalogue.

The topic modules keep their labels as plain English codes (``"At risk"``, ``"support_speed"``,
``"price"``): lessons, rules and ``summary.json`` compare and store them as they are. The report
shows them to a client, so each one is listed here with :func:`~loyalty_lib.i18n.N_` (the catalogue
extractor finds it, the Russian ``.po`` translates it) and displayed with :func:`label`.
``tests/report/test_russian_report.py`` checks that every code the topic modules can produce is
listed, so a new segment or aspect cannot reach a Russian report in English.
"""

from __future__ import annotations

import re

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


#: The reasons :mod:`loyalty_lib.data` gives for a rejected row (plain English there, as the
#: quarantine files keep them); the fixed ones, then the patterns with a column or a line in them.
DATA_REASONS = (
    N_("anonymous purchase (no customer id)"),
    N_("group not treatment/control"),
    N_("monetary not 0 when frequency is 0"),
    N_("negative amount not marked as refund"),
    N_("negative order total not marked as refund"),
    N_("negative price"),
    N_("rating outside 1-5"),
    N_("recency greater than T"),
    N_("recency not 0 when frequency is 0"),
    N_("score outside 0-10"),
    N_("unparseable date"),
    N_("unrecognised refund flag"),
    N_("wrong number of fields"),
    N_("zero price"),
    N_("zero quantity"),
)
#: What a duplicate is a duplicate of (``duplicate <what> of line N``).
DUPLICATES = {
    "order": N_("duplicate order"),
    "response": N_("duplicate response"),
    "customer": N_("duplicate customer"),
}
_REASON_PATTERNS = (
    (re.compile(r"duplicate (\w+) of line (\d+)"), N_("{what} of line {line}")),
    (re.compile(r"customer in both groups \(first at line (\d+)\)"), None),
    (re.compile(r"empty (\w+)"), N_("empty {column}")),
    (re.compile(r"(\w+) not a number"), N_("{column} not a number")),
    (re.compile(r"(\w+) not a whole number"), N_("{column} not a whole number")),
    (re.compile(r"negative (\w+)"), N_("negative {column}")),
)


def data_reason(reason: object) -> str:
    """A rejected row's reason in the selected language: ``duplicate response of line 20`` →
    ``повтор ответа из строки 20``; an unknown reason is shown as it is."""
    text = str(reason)
    if text in DATA_REASONS or text in DUPLICATES.values():
        return _(text)
    for pattern, template in _REASON_PATTERNS:
        match = pattern.fullmatch(text)
        if match is None:
            continue
        if template is None:  # the campaign's customer listed in both groups
            return _("customer in both groups (first at line {line})").format(line=match[1])
        if pattern.pattern.startswith("duplicate"):
            what = DUPLICATES.get(match[1])
            if what is None:
                return text
            return _(template).format(what=_(what), line=match[2])
        return _(template).format(column=match[1])
    return text
