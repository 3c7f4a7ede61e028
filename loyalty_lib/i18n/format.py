"""One number formatter for every sentence, table and chart label shown to people.

Conventions (the course's and the report's):

* **Counts** (customers, orders): integers with a thousands separator — ``12,345`` / ``12 345``.
* **Numbers** (averages, scores): ``sig`` significant digits, but never more than ``max_decimals``
  decimals and never fewer digits than the integer part needs: ``3,301``, ``2.2``, ``0.196``.
* **Money**: whole currency units above 100, two decimals below; the currency follows the number
  (``14,474 RUB`` / ``14 474 ₽``). Amounts in thousands or millions with ``scale="k"|"M"``.
* **Shares** are fractions 0..1 shown as percent: ``0.4532 → 45.3 %`` (one decimal by default).
* **Percentage points** (a difference of two shares): ``+2.1 pp`` / ``+2,1 п. п.``.
* **Dates**: ``2025-12-31`` in English (ISO, unambiguous for an international reader) and
  ``31.12.2025`` in Russian.

Why Babel and not f-strings: Russian uses a non-breaking space as the group separator and a comma
as the decimal mark, and the percent sign is spaced; CLDR (through Babel) knows these rules for
every locale, so nothing here is hand-written per language.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import math
import sys
from collections.abc import Iterator
from typing import Any

from babel import numbers as _bn

LANGUAGES = ("en", "ru")
_LOCALES = {"en": "en_US", "ru": "ru_RU"}
_CURRENCY_SIGN = {"ru": {"RUB": "₽"}, "en": {}}
_PP = {"en": "pp", "ru": "п. п."}
_SCALE = {"en": {"k": "k", "M": "M"}, "ru": {"k": "тыс.", "M": "млн"}}

_language = "en"


def set_language(lang: str) -> None:
    """Select the language of everything shown to people: ``"en"`` or ``"ru"``."""
    global _language
    if lang not in LANGUAGES:
        raise ValueError(f"language must be one of {', '.join(LANGUAGES)}, got {lang!r}")
    _language = lang


def get_language() -> str:
    """The language selected with :func:`set_language` (``"en"`` by default)."""
    return _language


@contextlib.contextmanager
def using_language(lang: str) -> Iterator[None]:
    """Temporarily select ``lang`` (e.g. to write one report in Russian)."""
    before = _language
    set_language(lang)
    try:
        yield
    finally:
        set_language(before)


def _locale(lang: str | None) -> str:
    return _LOCALES[lang or _language]


def _missing(value: Any) -> bool:
    # pandas/numpy are looked up, not imported: a value of theirs means they are loaded already,
    # and `loyalty --help` (which formats nothing of theirs) must not pay for importing them.
    pd, np = sys.modules.get("pandas"), sys.modules.get("numpy")
    if value is None or (pd is not None and (value is pd.NA or value is pd.NaT)):
        return True
    floats = (float, np.floating) if np is not None else float
    try:
        return bool(isinstance(value, floats) and not math.isfinite(value))
    except TypeError:
        return False


def _decimals(value: float, sig: int, max_decimals: int) -> int:
    if value == 0:
        return 0
    magnitude = math.floor(math.log10(abs(value)))  # 3301 → 3, 0.196 → -1
    return int(min(max_decimals, max(0, sig - 1 - magnitude)))


def fmt_number(
    value: float,
    *,
    sig: int = 3,
    max_decimals: int = 3,
    decimals: int | None = None,
    lang: str | None = None,
) -> str:
    """A number for people: ``sig`` significant digits (at most ``max_decimals`` decimals), or exactly
    ``decimals`` decimals when given; thousands separators per locale; ``—`` for a missing value."""
    if _missing(value):
        return "—"
    value = float(value)
    # significant-digit mode drops trailing zeros (0.5, not 0.500); fixed ``decimals`` keeps them
    places = decimals if decimals is not None else _decimals(value, sig, max_decimals)
    digit = "0" if decimals is not None else "#"
    pattern = "#,##0" + ("." + digit * places if places else "")
    return _bn.format_decimal(round(value, places), format=pattern, locale=_locale(lang))


def fmt_count(value: float, *, lang: str | None = None) -> str:
    """A count (customers, orders, lines): an integer with thousands separators."""
    if _missing(value):
        return "—"
    return _bn.format_decimal(int(round(float(value))), format="#,##0", locale=_locale(lang))


def fmt_money(
    value: float,
    currency: str = "RUB",
    *,
    scale: str | None = None,
    decimals: int | None = None,
    lang: str | None = None,
) -> str:
    """Money in ``currency`` units: whole units from 100 up, two decimals below, unless ``decimals``
    is given; ``scale="k"`` or ``"M"`` shows thousands or millions (``1.2 M RUB``)."""
    if _missing(value):
        return "—"
    lang = lang or _language
    value = float(value)
    suffix = ""
    if scale is not None:
        value /= {"k": 1e3, "M": 1e6}[scale]
        suffix = " " + _SCALE[lang][scale]
        places = decimals if decimals is not None else (1 if abs(value) < 100 else 0)
    else:
        places = decimals if decimals is not None else (0 if abs(value) >= 100 else 2)
    number = fmt_number(value, decimals=places, lang=lang)
    sign = _CURRENCY_SIGN[lang].get(currency, currency)
    return f"{number}{suffix}\u00a0{sign}" if currency else number + suffix


def fmt_share(
    value: float, *, decimals: int = 1, signed: bool = False, lang: str | None = None
) -> str:
    """A share 0..1 as percent: ``0.4532 → "45.3%"`` (English) / ``"45,3 %"`` (Russian)."""
    if _missing(value):
        return "—"
    pattern = ("+" if signed else "") + "#,##0" + ("." + "0" * decimals if decimals else "") + "%"
    text = _bn.format_percent(float(value), format=pattern, locale=_locale(lang))
    if signed and float(value) < 0:
        text = text.replace("+", "", 1)
        if not text.startswith(("-", "−")):
            text = "−" + text
    return (
        text.replace("%", "\u00a0%")
        if (lang or _language) == "ru" and "\u00a0%" not in text
        else text
    )


def fmt_percent(value: float, *, decimals: int = 1, lang: str | None = None) -> str:
    """A share 0..1 as percent rounded exactly as Python's ``f"{value:.1%}"`` rounds (on the binary
    value: 0.545 → "55%", where :func:`fmt_share` rounds the decimal 54.5 to "54%"), in the
    locale's marks ("20.3%" / "20,3 %"). For sentences that have always used the ``%`` format:
    their English text stays byte-identical."""
    if _missing(value):
        return "—"
    rounded = float(f"{float(value):.{decimals}%}"[:-1]) / 100
    return fmt_share(rounded, decimals=decimals, lang=lang)


def fmt_pp(value: float, *, decimals: int = 1, lang: str | None = None) -> str:
    """A difference of two shares in percentage points, signed: ``0.021 → "+2.1 pp"``."""
    if _missing(value):
        return "—"
    lang = lang or _language
    points = float(value) * 100
    number = fmt_number(abs(points), decimals=decimals, lang=lang)
    sign = "+" if points > 0 else ("−" if points < 0 else "")
    return f"{sign}{number}\u00a0{_PP[lang]}"


def fmt_interval(
    low: float, high: float, *, kind: str = "number", lang: str | None = None, **kw: Any
) -> str:
    """``low`` to ``high`` with the formatter of ``kind`` (``number``, ``money``, ``share``, ``count``)."""
    formatter = {"number": fmt_number, "money": fmt_money, "share": fmt_share, "count": fmt_count}[
        kind
    ]
    dash = "–"
    return f"{formatter(low, lang=lang, **kw)}{dash}{formatter(high, lang=lang, **kw)}"


def fmt_date(value: Any, *, lang: str | None = None) -> str:
    """A day: ``2025-12-31`` in English, ``31.12.2025`` in Russian."""
    if _missing(value):
        return "—"
    if not isinstance(value, _dt.date):
        import pandas as pd

        value = pd.Timestamp(value).date()
    day = value
    return day.strftime("%d.%m.%Y") if (lang or _language) == "ru" else day.isoformat()
