"""The one number formatter: expected strings written out by hand from CLDR's rules
(English: ``,`` groups and ``.`` decimals; Russian: no-break-space groups, ``,`` decimals, spaced %)."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from loyalty_lib.i18n import (
    fmt_count,
    fmt_date,
    fmt_money,
    fmt_number,
    fmt_pp,
    fmt_share,
    get_language,
    set_language,
    using_language,
)

NBSP = "\u00a0"


@pytest.mark.parametrize(
    ("value", "lang", "expected"),
    [
        (14473.722670058205, "en", "14,474"),
        (14473.722670058205, "ru", f"14{NBSP}474"),
        (0.196196, "en", "0.196"),
        (0.196196, "ru", "0,196"),
        (2.206, "en", "2.21"),
        (float("nan"), "en", "—"),
        (None, "ru", "—"),
    ],
)
def test_numbers(value, lang, expected):
    assert fmt_number(value, lang=lang) == expected


def test_money_shares_points_dates_counts():
    assert fmt_money(14473.7, lang="en") == f"14,474{NBSP}RUB"
    assert fmt_money(14473.7, lang="ru") == f"14{NBSP}474{NBSP}₽"
    assert fmt_money(12.345, "EUR", lang="en") == f"12.35{NBSP}EUR"
    assert fmt_money(1_234_567, scale="M", lang="en") == f"1.2 M{NBSP}RUB"
    assert fmt_share(0.4532, lang="en") == "45.3%"
    assert fmt_share(0.4532, lang="ru") == f"45,3{NBSP}%"
    assert fmt_share(0.05, signed=True, lang="en") == "+5.0%"
    assert fmt_pp(0.021, lang="en") == f"+2.1{NBSP}pp"
    assert fmt_pp(-0.021, lang="ru") == f"−2,1{NBSP}п. п."
    assert fmt_date("2025-12-31", lang="en") == "2025-12-31"
    assert fmt_date("2025-12-31", lang="ru") == "31.12.2025"
    assert fmt_count(12345.0, lang="ru") == f"12{NBSP}345"


def test_language_setting_is_checked_and_scoped():
    assert get_language() == "en"
    with using_language("ru"):
        assert fmt_number(0.5) == "0,5"
    assert get_language() == "en"
    with pytest.raises(ValueError, match="language must be one of en, ru"):
        set_language("de")


@given(st.floats(min_value=-1e9, max_value=1e9, allow_nan=False))
def test_no_number_shows_more_than_three_decimals(value):
    text = fmt_number(value, lang="en")
    decimals = text.split(".")[1] if "." in text else ""
    assert len(decimals) <= 3
    # the shown value is the input to within the precision shown (a second method: float parsing)
    shown = float(text.replace(",", ""))
    assert math.isclose(shown, value, rel_tol=5e-3, abs_tol=5e-4 + 1e-12)
