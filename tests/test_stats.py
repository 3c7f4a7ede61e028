"""Tests for loyalty_lib.stats, the shared intervals and tests, against formulas written out."""

from __future__ import annotations

import math

import pytest
from helpers import Z95, wilson_by_formula
from hypothesis import given, settings
from hypothesis import strategies as st

from loyalty_lib import churn, stats


def test_z_quantile_is_the_textbook_value() -> None:
    assert stats.z_quantile(0.95) == pytest.approx(Z95, rel=1e-12)
    assert stats.z_quantile(0.90) == pytest.approx(1.6448536269514722, rel=1e-12)  # Φ⁻¹(0.95)


def test_normal_interval_and_p_by_hand() -> None:
    # 10 ± 1.96 × 2 = 6.08 .. 13.92
    lo, hi = stats.normal_interval(10.0, 2.0, 0.95)
    assert (lo, hi) == pytest.approx((10 - 2 * Z95, 10 + 2 * Z95))
    # |z| = 1.96 → two-sided p = 0.05; z = 0 → p = 1; sign does not matter
    assert stats.two_sided_p(Z95, 1.0) == pytest.approx(0.05, rel=1e-9)
    assert stats.two_sided_p(-2 * Z95, 2.0) == pytest.approx(0.05, rel=1e-9)
    assert stats.two_sided_p(0.0, 3.0) == 1.0
    # se = 0: an exact estimate is either certainly not 0 or exactly 0
    assert stats.two_sided_p(1.5, 0.0) == 0.0
    assert stats.two_sided_p(0.0, 0.0) == 1.0


@settings(max_examples=60, deadline=None)
@given(n=st.integers(1, 500), data=st.data())
def test_wilson_matches_the_formula(n: int, data: st.DataObject) -> None:
    k = data.draw(st.integers(0, n))
    assert stats.wilson_interval(k, n) == pytest.approx(wilson_by_formula(k, n), abs=1e-12)


def test_wilson_edges_and_bad_arguments() -> None:
    assert all(math.isnan(v) for v in stats.wilson_interval(0, 0))
    with pytest.raises(ValueError, match="between 0 and n"):
        stats.wilson_interval(5, 4)
    for bad in (0, 1, 95, -0.5):
        with pytest.raises(ValueError, match="confidence"):
            stats.z_quantile(bad)
        with pytest.raises(ValueError, match="confidence"):
            stats.wilson_interval(1, 2, bad)


def test_churn_keeps_its_public_name() -> None:
    assert churn.wilson_interval is stats.wilson_interval
