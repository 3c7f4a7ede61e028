"""Language and locale-aware formatting of what people read.

One setting selects the language of everything shown to people (``set_language("ru")``; lessons
pass their ``lang`` parameter, the CLI its ``--lang``). Numbers, money, shares and dates go through
:mod:`loyalty_lib.i18n.format`, which uses Babel's CLDR data so that English reads ``1,234.5`` and
Russian ``1 234,5`` without hand-written locale rules.

Sentences go through the gettext catalogues of :mod:`loyalty_lib.i18n.messages` (``_``,
``ngettext``); the Russian catalogue is ``locale/ru/LC_MESSAGES/loyalty.po``.
"""

from __future__ import annotations

from loyalty_lib.i18n.format import (
    LANGUAGES,
    fmt_count,
    fmt_date,
    fmt_interval,
    fmt_money,
    fmt_number,
    fmt_pp,
    fmt_share,
    get_language,
    set_language,
    using_language,
)
from loyalty_lib.i18n.messages import _, gettext, ngettext

__all__ = [
    "_",
    "gettext",
    "ngettext",
    "LANGUAGES",
    "fmt_count",
    "fmt_date",
    "fmt_interval",
    "fmt_money",
    "fmt_number",
    "fmt_pp",
    "fmt_share",
    "get_language",
    "set_language",
    "using_language",
]
