"""The Russian catalogue covers every message the library marks for translation.

The messages are collected from the source with Babel's own extractor (what ``pybabel extract``
does), so a sentence marked with ``_()``/``ngettext()`` and missing from ``loyalty.po`` fails here.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from babel.messages.extract import extract_from_dir

import loyalty_lib
from loyalty_lib.i18n import messages, ngettext, using_language
from loyalty_lib.retailer import SAMPLE_RETAILER

LIB = Path(loyalty_lib.__file__).parent
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2)}


def marked_messages() -> set[str | tuple[str, str]]:
    found = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
        LIB, method_map=[("**.py", "python")], keywords=KEYWORDS
    ):
        found.add(message if isinstance(message, str) else tuple(message))
    return found


def test_every_marked_message_has_a_russian_translation():
    marked = marked_messages()
    assert marked, "no message is marked for translation: the extractor found nothing"
    russian = messages.catalogue("ru")
    missing = sorted(str(m) for m in marked if m not in russian)
    assert not missing, f"messages without Russian text in loyalty.po: {missing}"


def test_russian_plural_forms_follow_cldr():
    # 1 день, 2–4 дня, 5–20 дней, 21 день, 22 дня, 111 дней: the Russian rule by hand
    expected = {
        1: "1 день",
        3: "3 дня",
        5: "5 дней",
        11: "11 дней",
        21: "21 день",
        22: "22 дня",
        111: "111 дней",
    }
    with using_language("ru"):
        for n, text in expected.items():
            assert ngettext("{n} day", "{n} days", n).format(n=n) == text
    assert ngettext("{n} day", "{n} days", 1).format(n=1) == "1 day"


def test_a_result_sentence_reads_in_the_selected_language():
    assert str(SAMPLE_RETAILER).startswith("Romashka: gross margin 40%")
    loyalty_lib.set_language("ru")
    try:
        text = str(dataclasses.replace(SAMPLE_RETAILER, churn_window_days=90))
    finally:
        loyalty_lib.set_language("en")
    assert text == (
        "Romashka: валовая маржа 40\u00a0%, окно оттока 90 дней, "
        "ставка дисконтирования 1,0\u00a0% в месяц (RUB)"
    )
