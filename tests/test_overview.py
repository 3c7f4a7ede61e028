"""Lesson 00's helpers: the data card and the monthly revenue chart."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from loyalty_lib import evaluation, overview
from loyalty_lib.plots.overview import monthly_revenue


@pytest.fixture
def transactions() -> pd.DataFrame:
    # Hand-made: Jan has A (100 + 50), B (200) and a refund of A (-30); Mar has B (300).
    return pd.DataFrame(
        {
            "customer_id": ["A", "A", "B", "A", "B"],
            "date": pd.to_datetime(
                ["2025-01-03", "2025-01-20", "2025-01-05", "2025-01-25", "2025-03-02"]
            ),
            "amount": [100.0, 50.0, 200.0, -30.0, 300.0],
            "is_refund": [False, False, False, True, False],
        }
    )


def test_data_card_counts_rows_customers_and_dates(transactions):
    campaign = pd.DataFrame(
        {
            "customer_id": ["A", "B", "C"],
            "group": ["treatment", "control", "control"],
            "start_date": pd.to_datetime(["2025-02-01"] * 3),
        }
    )

    class Loaded:  # what data.load_* returns, as far as the card is concerned
        accepted = transactions

    card = overview.data_card({"transactions": Loaded(), "campaign": campaign})
    assert card["table"].tolist() == ["transactions", "campaign"]
    assert card["rows"].tolist() == [5, 3]
    assert card["customers"].tolist() == [2, 3]
    assert card["first_date"].tolist() == [pd.Timestamp("2025-01-03"), pd.Timestamp("2025-02-01")]
    assert card["last_date"].tolist() == [pd.Timestamp("2025-03-02"), pd.Timestamp("2025-02-01")]
    assert card.loc[1, "columns"] == "customer_id, group, start_date"


def test_data_card_rejects_bad_input():
    with pytest.raises(ValueError, match="non-empty mapping"):
        overview.data_card({})
    with pytest.raises(TypeError, match="x: expected a DataFrame"):
        overview.data_card({"x": [1, 2]})


def test_monthly_revenue_draws_net_revenue_and_active_customers(transactions):
    kpis = evaluation.kpis(transactions)
    ax = monthly_revenue(kpis, currency="RUB")
    bars = [p.get_height() for p in ax.patches]
    # net revenue in thousands: Jan 100 + 50 + 200 - 30 = 320 → 0.32; Feb nothing; Mar 0.3
    assert np.allclose(bars, [0.32, 0.0, 0.3])
    (twin,) = [a for a in ax.figure.axes if a is not ax]
    (line,) = twin.get_lines()
    assert line.get_ydata().tolist() == [2, 0, 1]  # Jan A and B bought; Mar only B
    assert "thousand RUB" in ax.get_ylabel() and ax.get_title()
    plt.close(ax.figure)


def test_monthly_revenue_uses_the_given_axes_and_checks_columns(transactions):
    fig, ax = plt.subplots()
    assert monthly_revenue(evaluation.kpis(transactions), ax=ax) is ax
    with pytest.raises(ValueError, match="participants"):
        monthly_revenue(pd.DataFrame({"period_start": [], "revenue": []}), ax=ax)
    plt.close(fig)
