"""Message catalogues: the text the library shows to people, in the selected language.

Code marks a sentence for translation with ``_("…")`` (named placeholders, filled after
translation: ``_("{n} customers").format(n=fmt_count(n))``); a plural with ``ngettext``. The
Russian catalogue is ``locale/ru/LC_MESSAGES/loyalty.po``, a standard gettext file that translators
edit with any PO editor; ``pybabel extract`` collects new messages (see the Makefile's ``messages``
target) and ``tests/i18n/test_catalogue.py`` fails when a marked message has no Russian text.

Why the ``.po`` is read at run time with Babel instead of compiled to ``.mo``: the package is
installed editable from a source tree (``make run``), and a compile step would be one more thing to
forget after editing a translation; reading ~1,000 messages with Babel takes milliseconds, once
per process.
"""

from __future__ import annotations

import functools
from pathlib import Path

from babel import Locale
from babel.messages.pofile import read_po

from loyalty_lib.i18n.format import get_language

LOCALE_DIR = Path(__file__).with_name("locale")
DOMAIN = "loyalty"


@functools.cache
def catalogue(lang: str) -> dict[str | tuple[str, str], str | tuple[str, ...]]:
    """msgid (or (singular, plural)) → translation for ``lang``; empty for English (the source)."""
    path = LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po"
    if lang == "en" or not path.exists():
        return {}
    with path.open("rb") as handle:
        cat = read_po(handle, locale=lang, domain=DOMAIN)
    out: dict = {}
    for message in cat:
        if not message.id or not message.string or message.fuzzy:
            continue
        out[message.id] = message.string
    return out


def gettext(message: str) -> str:
    """``message`` in the selected language (itself when untranslated or English)."""
    translated = catalogue(get_language()).get(message)
    return translated if isinstance(translated, str) and translated else message


def ngettext(singular: str, plural: str, n: int) -> str:
    """The singular or plural form for ``n`` in the selected language (Russian has three forms:
    1 клиент, 2 клиента, 5 клиентов), chosen by CLDR's plural rule through Babel."""
    lang = get_language()
    forms = catalogue(lang).get((singular, plural))
    if not isinstance(forms, tuple) or not all(forms):
        return singular if n == 1 else plural
    category = Locale.parse(lang).plural_form(abs(int(n)))  # "one", "few", "many" or "other"
    index = {"one": 0, "few": 1}.get(category, 2)
    return forms[min(index, len(forms) - 1)]


_ = gettext
