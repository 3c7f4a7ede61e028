"""Simple LTV (m × a × t), discounted LTV, cohorts and the LTV plot helpers.

Every expected number is worked out by hand in the comment next to it.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from loyalty_lib.ltv import (
    BetaGeo,
    cohort_table,
    discounted_ltv,
    lifetime_from_churn,
    ltv,
    ltv_by_churn,
    ltv_from_transactions,
    ltv_to_cac,
    retention_curve,
    retention_vs_acquisition,
)
from loyalty_lib.plots import ltv as ltv_plots


def _tx(rows: list[tuple[str, str, float]]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["customer_id", "date", "amount"])
    frame["date"] = pd.to_datetime(frame["date"])
    frame["is_refund"] = frame["amount"] < 0
    return frame


# ---------------------------------------------------------------------------------------------
# m × a × t
# ---------------------------------------------------------------------------------------------
def test_ltv_hand_calculation() -> None:
    # 2,100 RUB × 1.9 purchases/quarter × 3.1 quarters = 2,100 × 5.89 = 12,369 RUB
    assert ltv(2100, 1.9, 3.1) == pytest.approx(12369.0)
    assert isinstance(ltv(2100, 1.9, 3.1), float)
    out = ltv(np.array([1000.0, 2000.0]), 2.0, np.array([3.0, 0.5]))
    assert out.tolist() == pytest.approx([6000.0, 2000.0])


def test_lifetime_from_churn() -> None:
    assert lifetime_from_churn(0.2) == pytest.approx(5.0)  # 1 / 0.2
    assert lifetime_from_churn(1.0) == pytest.approx(1.0)
    with pytest.raises(ValueError, match="> 0"):
        lifetime_from_churn(0.0)
    with pytest.raises(ValueError, match="≤ 1"):
        lifetime_from_churn(1.5)


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match="avg_check must be ≥ 0"):
        ltv(-5, 1, 1)
    with pytest.raises(ValueError, match="finite"):
        ltv(np.nan, 1, 1)
    with pytest.raises(TypeError, match="number"):
        ltv("a lot", 1, 1)


def test_discounted_ltv_hand_calculation() -> None:
    # m·a = 1000 × 2 = 2000 per period, r = 0.8, d = 0.1:
    # 3 periods: 2000 × (1 + 0.8/1.1 + 0.64/1.21) = 2000 × 2.2561983 = 4512.3967
    assert discounted_ltv(1000, 2, 0.8, 0.1, periods=3) == pytest.approx(4512.3967, abs=1e-3)
    # infinite: 2000 × 1.1 / (1.1 − 0.8) = 7333.333
    assert discounted_ltv(1000, 2, 0.8, 0.1) == pytest.approx(7333.3333, abs=1e-3)
    # with margin 30 %: 0.3 × 7333.33 = 2200
    assert discounted_ltv(1000, 2, 0.8, 0.1, gross_margin=0.3) == pytest.approx(2200.0)
    # r = 1, d = 0: N periods of 2000 each
    assert discounted_ltv(1000, 2, 1.0, 0.0, periods=4) == pytest.approx(8000.0)
    with pytest.raises(ValueError, match="diverges"):
        discounted_ltv(1000, 2, 1.0, 0.0)


def test_discounted_ltv_without_discount_is_m_a_t() -> None:
    # d = 0, r = 1 − churn: Σ r^k = 1/churn = t, so the infinite sum is m × a × t [L1]
    assert discounted_ltv(2100, 1.9, 0.75, 0.0) == pytest.approx(
        ltv(2100, 1.9, lifetime_from_churn(0.25))
    )


@settings(max_examples=80, deadline=None)
@given(
    m=st.floats(1, 1e5),
    a=st.floats(0.1, 50),
    t=st.floats(0.1, 100),
    bump=st.floats(1.01, 3),
    which=st.integers(0, 2),
)
def test_ltv_increasing_in_each_factor(
    m: float, a: float, t: float, bump: float, which: int
) -> None:
    args = [m, a, t]
    higher = list(args)
    higher[which] *= bump
    assert ltv(*higher) > ltv(*args)


@settings(max_examples=60, deadline=None)
@given(r1=st.floats(0, 0.95), r2=st.floats(0, 0.95), d=st.floats(0, 0.5))
def test_discounted_ltv_increasing_in_retention(r1: float, r2: float, d: float) -> None:
    lo, hi = sorted([r1, r2])
    assert discounted_ltv(1000, 1.5, hi, d) >= discounted_ltv(1000, 1.5, lo, d)


def test_retention_vs_acquisition() -> None:
    # 60–70 % cheaper than 1,000 RUB: 1000 × 0.3 = 300 to 1000 × 0.4 = 400 RUB
    res = retention_vs_acquisition(1000)
    assert (res.retention_cost_low, res.retention_cost_high) == pytest.approx((300.0, 400.0))
    assert "300–400 RUB" in str(res)
    with pytest.raises(ValueError, match=r"\[0, 1\)"):
        retention_vs_acquisition(1000, (0.6, 1.2))


# ---------------------------------------------------------------------------------------------
# LTV from transactions
# ---------------------------------------------------------------------------------------------
@pytest.fixture()
def two_quarters() -> pd.DataFrame:
    return _tx(
        [
            ("A", "2024-01-10", 100.0),
            ("A", "2024-02-10", 200.0),
            ("B", "2024-02-15", 300.0),
            ("C", "2024-03-01", 400.0),
            ("A", "2024-04-05", 150.0),
            ("D", "2024-05-20", 250.0),
            ("C", "2024-05-25", -100.0),
        ]
    )


def test_ltv_from_transactions_hand_calculation(two_quarters: pd.DataFrame) -> None:
    res = ltv_from_transactions(two_quarters, period="Q")
    # net revenue 100+200+300+400+150+250−100 = 1300 over 6 orders (refund not an order): m = 216.67
    assert res.net_revenue == pytest.approx(1300.0) and res.n_orders == 6
    assert res.avg_check == pytest.approx(1300 / 6)
    # active: Q1 {A, B, C}, Q2 {A, D} → 5 customer-quarters, a = 6 / 5 = 1.2
    assert res.purchases_per_period == pytest.approx(1.2)
    # Q1 → Q2 keeps only A: retention 1/3, churn 2/3, t = 1.5 quarters
    assert res.churn_per_period == pytest.approx(2 / 3)
    assert res.lifetime_periods == pytest.approx(1.5)
    # LTV = 216.67 × 1.2 × 1.5 = 390
    assert res.ltv == pytest.approx(390.0)
    assert res.n_customers == 4 and res.n_periods == 2
    assert str(res).startswith(
        "LTV ≈ 390 RUB = average check 217 × 1.2 purchases/quarter × 1.5 quarters"
    )
    assert res.to_dict()["ltv"] == pytest.approx(390.0)


def test_ltv_from_transactions_drops_partial_periods(two_quarters: pd.DataFrame) -> None:
    # ending the window on 31 May leaves Q2 incomplete: one whole quarter cannot give churn
    with pytest.raises(ValueError, match="two complete quarters"):
        ltv_from_transactions(two_quarters, period="Q", start="2024-01-01", end="2024-05-31")
    with pytest.raises(ValueError, match="period must be one of"):
        ltv_from_transactions(two_quarters, period="W")
    with pytest.raises(ValueError, match="missing columns"):
        ltv_from_transactions(two_quarters.drop(columns="amount"))


def test_ltv_from_transactions_monthly(two_quarters: pd.DataFrame) -> None:
    res = ltv_from_transactions(two_quarters, period="M")
    # months Jan..May: active Jan {A}, Feb {A, B}, Mar {C}, Apr {A}, May {D} (C's May row is a refund)
    # retained Jan→Feb 1 (A), Feb→Mar 0, Mar→Apr 0, Apr→May 0 over base 1+2+1+1 = 5: churn 0.8
    assert res.churn_per_period == pytest.approx(0.8)
    assert res.purchases_per_period == pytest.approx(6 / 6)  # 6 orders over 6 customer-months
    assert "purchases/month" in str(res)


# ---------------------------------------------------------------------------------------------
# cohorts
# ---------------------------------------------------------------------------------------------
@pytest.fixture()
def three_customers() -> pd.DataFrame:
    return _tx(
        [
            ("A", "2024-01-05", 10.0),
            ("A", "2024-02-03", 20.0),
            ("A", "2024-03-10", 30.0),
            ("A", "2024-03-11", -5.0),
            ("B", "2024-01-20", 40.0),
            ("B", "2024-03-02", 50.0),
            ("C", "2024-02-14", 60.0),
            ("C", "2024-02-20", 70.0),
            ("C", "2024-03-30", 80.0),
            ("Z", "2024-02-01", -15.0),  # refund only: no first purchase, no cohort
        ]
    )


def test_cohort_table_hand_built(three_customers: pd.DataFrame) -> None:
    # cohorts: Jan = {A, B} (size 2), Feb = {C} (size 1); last month March
    counts = cohort_table(three_customers, freq="M", metric="customers")
    assert [str(p) for p in counts.index] == ["2024-01", "2024-02"]
    # Jan cohort: age 0 → A, B; age 1 (Feb) → A; age 2 (Mar) → A, B
    assert counts.iloc[0].tolist() == [2.0, 1.0, 2.0]
    # Feb cohort: age 0 → C, age 1 → C, age 2 not observed yet (April)
    assert counts.iloc[1, :2].tolist() == [1.0, 1.0] and np.isnan(counts.iloc[1, 2])

    ret = cohort_table(three_customers, freq="M", metric="retention")
    assert ret.iloc[0].tolist() == [1.0, 0.5, 1.0]

    rev = cohort_table(three_customers, freq="M", metric="revenue")
    # Jan cohort: Jan 10 + 40 = 50; Feb 20; Mar 30 − 5 + 50 = 75. Feb cohort: 130, 80
    assert rev.iloc[0].tolist() == [50.0, 20.0, 75.0]
    assert rev.iloc[1, :2].tolist() == [130.0, 80.0]


def test_retention_curve_customer_weighted(three_customers: pd.DataFrame) -> None:
    ret = cohort_table(three_customers, freq="M", metric="retention")
    curve = retention_curve(ret)
    # age 1: (2 × 0.5 + 1 × 1) / 3 = 2/3; age 2: only Jan observed → 1.0
    assert curve.tolist() == pytest.approx([1.0, 2 / 3, 1.0])
    counts = cohort_table(three_customers, freq="M", metric="customers")
    assert retention_curve(counts).tolist() == pytest.approx(curve.tolist())
    bare = ret.copy()
    bare.attrs = {}
    with pytest.raises(ValueError, match="cohort_size"):
        retention_curve(bare)
    assert retention_curve(
        bare, cohort_size=pd.Series([2, 1], index=ret.index)
    ).tolist() == pytest.approx(curve.tolist())


def test_cohort_table_errors(three_customers: pd.DataFrame) -> None:
    with pytest.raises(ValueError, match="metric must be one of"):
        cohort_table(three_customers, metric="profit")
    with pytest.raises(ValueError, match="all rows are refunds"):
        cohort_table(three_customers[three_customers["amount"] < 0])


# ---------------------------------------------------------------------------------------------
# plots: each helper draws on the given Axes, labels units and returns the Axes
# ---------------------------------------------------------------------------------------------
def test_plots_draw_on_given_axes(three_customers: pd.DataFrame) -> None:
    ret = cohort_table(three_customers, freq="M")
    fig, axes = plt.subplots(2, 3)
    try:
        ax = ltv_plots.cohort_heatmap(ret, ax=axes[0, 0])
        assert ax is axes[0, 0] and "months" in ax.get_xlabel()
        ax = ltv_plots.retention_curve(retention_curve(ret), ax=axes[0, 1])
        assert len(ax.lines) == 1 and ax.lines[0].get_ydata().tolist() == pytest.approx(
            [1.0, 2 / 3, 1.0]
        )

        model = BetaGeo(freq="W")
        model.params = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
        ax = ltv_plots.p_alive_matrix(model, 10, 39, ax=axes[0, 2])
        assert "weeks" in ax.get_ylabel() and len(ax.images) == 1

        table = pd.DataFrame(
            {
                "frequency_cal": [0, 1, 2],
                "n_customers": [5, 3, 2],
                "actual": [0.1, 0.5, 1.0],
                "predicted": [0.12, 0.45, 1.1],
            }
        )
        ax = ltv_plots.holdout_plot(table, ax=axes[1, 0])
        assert len(ax.lines) == 2
        ax = ltv_plots.clv_distribution(np.array([10.0, 20.0, 30.0, 100.0]), ax=axes[1, 1])
        assert "RUB" in ax.get_xlabel()
        ax = ltv_plots.ltv_sensitivity(
            {"avg_check": 2100, "purchases_per_period": 1.9, "lifetime_periods": 3.1}, ax=axes[1, 2]
        )
        # each factor ±10 % moves LTV by ±1,236.9 RUB (linear in each factor)
        widths = sorted(abs(p.get_width()) for p in ax.patches)
        assert widths == pytest.approx([1236.9] * 6)
    finally:
        plt.close(fig)


def test_plot_creates_axes_when_none() -> None:
    ax = ltv_plots.clv_distribution([1.0, 2.0, 3.0])
    try:
        assert ax.get_title() == "CLV distribution"
    finally:
        plt.close(ax.figure)
    with pytest.raises(ValueError, match="holdout_check"):
        ltv_plots.holdout_plot(pd.DataFrame({"x": [1]}))


# ---------------------------------------------------------------------------------------------
# LTV against churn [L2] and LTV/CAC [L5]
# ---------------------------------------------------------------------------------------------
def test_ltv_by_churn_hand_calculation() -> None:
    # m = 2,000 RUB, a = 1.5 purchases/quarter: LTV = 3,000 / churn
    #   churn 10 % → t = 10 quarters → 30,000; 25 % → 4 → 12,000; 50 % → 2 → 6,000 (rows sorted by churn)
    table = ltv_by_churn(2000, 1.5, [0.5, 0.1, 0.25])
    assert table["churn"].tolist() == pytest.approx([0.1, 0.25, 0.5])
    assert table["retention"].tolist() == pytest.approx([0.9, 0.75, 0.5])
    assert table["lifetime_periods"].tolist() == pytest.approx([10.0, 4.0, 2.0])
    assert table["ltv"].tolist() == pytest.approx([30000.0, 12000.0, 6000.0])
    default = ltv_by_churn(2000, 1.5)
    # default grid 5 %, 10 %, …, 100 %: 20 rows; at 100 % churn a customer lasts one period: 3,000 RUB
    assert len(default) == 20 and default["churn"].iloc[0] == pytest.approx(0.05)
    assert default["ltv"].iloc[-1] == pytest.approx(3000.0)
    with pytest.raises(ValueError, match="churn_rates must be > 0"):
        ltv_by_churn(2000, 1.5, [0.0, 0.2])
    with pytest.raises(ValueError, match="empty"):
        ltv_by_churn(2000, 1.5, [])


@settings(max_examples=50, deadline=None)
@given(
    m=st.floats(1, 1e5),
    a=st.floats(0.1, 10),
    churn=st.lists(st.floats(0.01, 1.0), min_size=2, max_size=10, unique=True),
)
def test_ltv_by_churn_falls_as_churn_rises(m: float, a: float, churn: list[float]) -> None:
    table = ltv_by_churn(m, a, churn)
    assert (np.diff(table["ltv"].to_numpy()) <= 0).all()
    # LTV × churn = m × a for every row (t = 1 / churn)
    assert (table["ltv"] * table["churn"]).to_numpy() == pytest.approx(np.full(len(churn), m * a))


def test_ltv_to_cac_hand_calculation() -> None:
    # LTV 12,000 RUB revenue × 40 % margin = 4,800 RUB profit; ÷ CAC 1,600 = 3.0, exactly the 3:1 target
    res = ltv_to_cac(12000, 1600, gross_margin=0.4)
    assert res.margin_ltv == pytest.approx(4800.0)
    assert res.ratio == pytest.approx(3.0)
    assert res.meets_target
    assert res.max_acquisition_cost == pytest.approx(1600.0)
    # a 4:1 target: 4,800 / 4 = 1,200 RUB is the most a new customer may cost; 3.0 < 4 misses it
    strict = ltv_to_cac(12000, 1600, gross_margin=0.4, target_ratio=4)
    assert strict.max_acquisition_cost == pytest.approx(1200.0) and not strict.meets_target
    assert "LTV/CAC = 3.0" in str(res) and "1,600 RUB" in str(res)
    assert repr(res) == str(res)  # the sentence also in text/plain notebook output
    with pytest.raises(ValueError, match="acquisition_cost must be > 0"):
        ltv_to_cac(12000, 0)
    with pytest.raises(ValueError, match="gross_margin must be ≤ 1"):
        ltv_to_cac(12000, 100, gross_margin=40)


def test_ltv_churn_curve_plot() -> None:
    table = ltv_by_churn(2000, 1.5, [0.1, 0.25, 0.5])
    ax = ltv_plots.ltv_churn_curve(table, current=(0.25, 12000.0))
    try:
        assert ax.lines[0].get_ydata().tolist() == pytest.approx([30000.0, 12000.0, 6000.0])
        assert len(ax.collections) == 1  # the marked "today" point
        assert "RUB" in ax.get_ylabel() and "churn" in ax.get_xlabel()
    finally:
        plt.close(ax.figure)
    with pytest.raises(ValueError, match="ltv_by_churn"):
        ltv_plots.ltv_churn_curve(pd.DataFrame({"x": [1]}))


def test_clv_histogram_clips_a_long_tail_and_says_what_it_hides() -> None:
    # 990 customers at 1,000..10,000 and 10 at 1,000,000: p99 ≈ 10k, the max is 100× that.
    # The axis stops at the 99th percentile; the 10 whales carry 10M of ≈ 15.4M in total.
    values = np.concatenate([np.linspace(1_000, 10_000, 990), np.full(10, 1_000_000.0)])
    ax = ltv_plots.clv_distribution(values)
    try:
        cap = np.quantile(values, 0.99)
        assert max(p.get_x() + p.get_width() for p in ax.patches) <= cap + 1e-6
        assert sum(p.get_height() for p in ax.patches) == (values <= cap).sum()
        share = 10_000_000 / values.sum()
        assert f"{(values > cap).sum()} customers above" in ax.get_title()
        assert f"{share:.0%} of the total value" in ax.get_title()
        assert "thousand RUB" in ax.get_xlabel()
    finally:
        plt.close(ax.figure)


def test_clv_histogram_of_values_orders_of_magnitude_apart_uses_a_log_axis() -> None:
    # lognormal with sigma 1.5: p99 / median = exp(2.326 × 1.5) ≈ 33 > 10; 20 zeros of 2,000
    rng = np.random.default_rng(5)
    values = np.concatenate([rng.lognormal(7.5, 1.5, 1_980), np.zeros(20)])
    ax = ltv_plots.clv_distribution(values)
    try:
        assert ax.get_xscale() == "log"
        assert sum(p.get_height() for p in ax.patches) == 1_980  # every positive value is drawn
        assert "20 customers with no positive value not shown" in ax.get_title()
        assert "log scale" in ax.get_xlabel()
    finally:
        plt.close(ax.figure)
