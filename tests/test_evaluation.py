"""Tests for loyalty_lib.evaluation (and its plots) against hand calculations and second methods."""

from __future__ import annotations

import math

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from scipy import stats  # noqa: E402

from loyalty_lib import evaluation as ev  # noqa: E402
from loyalty_lib.plots import evaluation as evplots  # noqa: E402

START = pd.Timestamp("2025-07-01")


# --------------------------------------------------------------------------------------------
# hand-built campaign: 4 treatment, 4 control, start 2025-07-01, end 2025-07-10
# post window 07-01..07-10 (10 days), pre window 06-21..06-30 (10 days)
# --------------------------------------------------------------------------------------------
def _tx(rows):
    df = pd.DataFrame(rows, columns=["customer_id", "date", "amount", "is_refund"])
    df["date"] = pd.to_datetime(df["date"])
    return df


@pytest.fixture
def hand():
    tx = _tx(
        [
            ("T1", "2025-06-25", 100.0, False),  # pre
            ("T1", "2025-07-02", 200.0, False),  # post
            ("T1", "2025-07-10", 100.0, False),  # post (last day, inclusive)
            ("T2", "2025-07-05", 400.0, False),  # post
            ("T3", "2025-06-22", 200.0, False),  # pre
            ("T3", "2025-07-03", 500.0, False),  # post
            ("T3", "2025-07-04", -100.0, True),  # refund in post: spend 400, still 1 order
            ("T4", "2025-06-01", 999.0, False),  # before the pre window: only active_before
            ("C1", "2025-06-20", 777.0, False),  # one day before the pre window: excluded
            ("C1", "2025-06-25", 100.0, False),  # pre
            ("C1", "2025-07-06", 100.0, False),  # post
            ("C3", "2025-06-23", 150.0, False),  # pre
            ("C3", "2025-06-30", 150.0, False),  # pre (last pre day)
            ("C3", "2025-07-01", 200.0, False),  # post (start day)
            ("C4", "2025-07-08", 300.0, False),  # post
            ("X9", "2025-07-09", 50.0, False),  # not in the campaign
        ]
    )
    campaign = pd.DataFrame(
        {
            "customer_id": ["T1", "T2", "T3", "T4", "C1", "C2", "C3", "C4"],
            "group": ["treatment"] * 4 + ["control"] * 4,
            "start_date": pd.Timestamp("2025-07-01"),
        }
    )
    return tx, campaign


def test_campaign_outcomes_by_hand(hand):
    tx, campaign = hand
    out = ev.campaign_outcomes(tx, campaign, end="2025-07-10").set_index("customer_id")
    assert len(out) == 8  # C2 has no transactions and is kept with zeros
    assert (out["days_post"] == 10).all() and (out["days_pre"] == 10).all()
    assert out.loc["T1", "pre_start"] == pd.Timestamp("2025-06-21")
    assert out.loc["T1", "post_end"] == pd.Timestamp("2025-07-10")
    ids = ["T1", "T2", "T3", "T4", "C1", "C2", "C3", "C4"]
    assert out.loc[ids, "spend_post"].tolist() == [300, 400, 400, 0, 100, 0, 200, 300]
    assert out.loc[ids, "spend_pre"].tolist() == [100, 0, 200, 0, 100, 0, 300, 0]
    assert out.loc[ids, "orders_post"].tolist() == [2, 1, 1, 0, 1, 0, 1, 1]
    assert out.loc[ids, "orders_pre"].tolist() == [1, 0, 1, 0, 1, 0, 2, 0]
    assert out.loc[ids, "repeat_post"].tolist() == [
        True,
        True,
        True,
        False,
        True,
        False,
        True,
        True,
    ]
    assert out.loc[ids, "repeat2_pre"].tolist() == [False] * 6 + [True, False]
    assert out.loc[ids, "active_before"].tolist() == [
        True,
        False,
        True,
        True,
        True,
        False,
        True,
        False,
    ]
    # default end = last transaction date (X9 on 07-10): same windows
    pd.testing.assert_frame_equal(ev.campaign_outcomes(tx, campaign).set_index("customer_id"), out)


def test_campaign_outcomes_fixed_windows(hand):
    tx, campaign = hand
    out = ev.campaign_outcomes(tx, campaign, post_days=3, pre_days=5).set_index("customer_id")
    # post 07-01..07-03: T1 200, T3 500 (refund on 07-04 is outside), C3 200; pre 06-26..06-30
    assert out["spend_post"].to_dict() == {
        "T1": 200,
        "T2": 0,
        "T3": 500,
        "T4": 0,
        "C1": 0,
        "C2": 0,
        "C3": 200,
        "C4": 0,
    }
    assert out["orders_pre"].to_dict() == {
        "T1": 0,
        "T2": 0,
        "T3": 0,
        "T4": 0,
        "C1": 0,
        "C2": 0,
        "C3": 1,
        "C4": 0,
    }
    with pytest.raises(ValueError, match="past the observation end"):
        ev.campaign_outcomes(tx, campaign, post_days=30)


def test_campaign_outcomes_uses_distinct_order_ids(hand):
    tx, campaign = hand
    # two lines of one order on 07-02 and 07-10 → T1 has 1 order in the post window
    tx = tx.assign(order_id=[f"O{i}" for i in range(len(tx))])
    tx.loc[2, "order_id"] = tx.loc[1, "order_id"]
    out = ev.campaign_outcomes(tx, campaign).set_index("customer_id")
    assert out.loc["T1", "orders_post"] == 1
    assert out.loc["T1", "spend_post"] == 300


def test_campaign_outcomes_bad_input(hand):
    tx, campaign = hand
    with pytest.raises(ValueError, match="missing column"):
        ev.campaign_outcomes(tx.drop(columns="amount"), campaign)
    with pytest.raises(ValueError, match="treatment"):
        ev.campaign_outcomes(tx, campaign.assign(group="test"))
    with pytest.raises(ValueError, match="one row per customer"):
        ev.campaign_outcomes(tx, pd.concat([campaign, campaign]))
    with pytest.raises(ValueError, match="positive whole number"):
        ev.campaign_outcomes(tx, campaign, post_days=0)
    with pytest.raises(TypeError, match="DataFrame"):
        ev.campaign_outcomes(tx.to_dict(), campaign)


@settings(max_examples=15, deadline=None)
@given(
    rows=st.lists(
        st.tuples(
            st.sampled_from(["a", "b", "c", "d"]), st.integers(0, 59), st.integers(-300, 1000)
        ),
        min_size=1,
        max_size=40,
    ),
    starts=st.lists(st.integers(20, 50), min_size=4, max_size=4),
)
def test_campaign_outcomes_matches_a_naive_loop(rows, starts):
    # second method: a plain per-customer loop over the windows defined in the docstring
    day0 = pd.Timestamp("2025-01-01")
    tx = pd.DataFrame(
        {
            "customer_id": [r[0] for r in rows],
            "date": [day0 + pd.Timedelta(days=r[1]) for r in rows],
            "amount": [float(r[2]) for r in rows],
            "is_refund": [r[2] < 0 for r in rows],
        }
    )
    ids = ["a", "b", "c", "d"]
    campaign = pd.DataFrame(
        {
            "customer_id": ids,
            "group": ["treatment", "control"] * 2,
            "start_date": [day0 + pd.Timedelta(days=s) for s in starts],
        }
    )
    end = day0 + pd.Timedelta(days=59)
    out = ev.campaign_outcomes(tx, campaign, end=end).set_index("customer_id")
    for cid, s in zip(ids, starts, strict=True):
        start = day0 + pd.Timedelta(days=s)
        length = (end - start).days + 1
        mine = tx[tx.customer_id == cid]
        post = mine[(mine.date >= start) & (mine.date <= end)]
        pre = mine[(mine.date >= start - pd.Timedelta(days=length)) & (mine.date < start)]
        assert out.loc[cid, "spend_post"] == pytest.approx(post.amount.sum())
        assert out.loc[cid, "spend_pre"] == pytest.approx(pre.amount.sum())
        assert out.loc[cid, "orders_post"] == (~post.is_refund).sum()
        assert out.loc[cid, "orders_pre"] == (~pre.is_refund).sum()
        assert out.loc[cid, "active_before"] == bool((~mine.is_refund & (mine.date < start)).any())


# --------------------------------------------------------------------------------------------
# lift
# --------------------------------------------------------------------------------------------
def test_lift_welch_by_hand(hand):
    tx, campaign = hand
    out = ev.campaign_outcomes(tx, campaign)
    res = ev.lift(out, "spend_post")
    # treatment [300, 400, 400, 0]: mean 275, squared deviations 625+15625+15625+75625 = 107500,
    #   var 35833.33; control [100, 0, 200, 300]: mean 150, var 50000/3 = 16666.67
    # SE² = 35833.33/4 + 16666.67/4 = 13125; Welch df = 13125² / (8958.33²/3 + 4166.67²/3) = 5.2944
    assert res.kind == "mean"
    assert (res.treatment_mean, res.control_mean, res.diff) == (275, 150, 125)
    half = stats.t.ppf(0.975, 5.294353) * math.sqrt(13125)  # 2.52818 × 114.564 = 289.64
    assert res.diff_ci_low == pytest.approx(125 - half, rel=1e-5)
    assert res.diff_ci_high == pytest.approx(125 + half, rel=1e-5)
    # t = 125 / 114.564 = 1.0911, two-sided p on 5.2944 df
    assert res.p_value == pytest.approx(2 * stats.t.sf(125 / math.sqrt(13125), 5.294353), rel=1e-5)
    assert res.rel_lift == pytest.approx(275 / 150 - 1)  # +83.3 %
    assert (res.n_treatment, res.n_control) == (4, 4)
    # scipy's own Welch interval (the brief's reference)
    sc = stats.ttest_ind([300, 400, 400, 0], [100, 0, 200, 300], equal_var=False)
    ci = sc.confidence_interval()
    assert (res.diff_ci_low, res.diff_ci_high) == pytest.approx((ci.low, ci.high))


def test_lift_fieller_unbounded_when_control_mean_is_not_clear_of_zero(hand):
    out = ev.campaign_outcomes(*hand)
    res = ev.lift(out, "spend_post")
    # Fieller's ratio interval is bounded only if m_c² > q²·v_c; here
    # 150² = 22500 < 2.52818² × 16666.67/4 = 26632, so the relative CI is undefined (NaN)
    assert math.isnan(res.rel_ci_low) and math.isnan(res.rel_ci_high)
    assert "n/a" in str(res)


def test_lift_fieller_bounds_solve_fiellers_equation():
    rng = np.random.default_rng(5)
    t, c = rng.gamma(2.0, 600.0, 40), rng.gamma(2.0, 500.0, 50)
    df = pd.DataFrame({"group": ["treatment"] * 40 + ["control"] * 50, "spend_post": np.r_[t, c]})
    res = ev.lift(df, "spend_post")
    m_t, m_c, v_t, v_c = t.mean(), c.mean(), t.var(ddof=1) / 40, c.var(ddof=1) / 50
    df_welch = (v_t + v_c) ** 2 / (v_t**2 / 39 + v_c**2 / 49)  # Welch–Satterthwaite
    q = stats.t.ppf(0.975, df_welch)
    # Fieller's definition: at each bound ρ, (m_t − ρ m_c)² = q² (v_t + ρ² v_c)
    for rho in (1 + res.rel_ci_low, 1 + res.rel_ci_high):
        assert (m_t - rho * m_c) ** 2 == pytest.approx(q**2 * (v_t + rho**2 * v_c), rel=1e-9)
    assert res.rel_ci_low < res.rel_lift < res.rel_ci_high


def test_fieller_close_to_delta_method_in_large_samples():
    rng = np.random.default_rng(1)
    df = pd.DataFrame(
        {
            "group": ["treatment"] * 20000 + ["control"] * 20000,
            "orders_post": np.r_[rng.poisson(2.3, 20000), rng.poisson(2.0, 20000)],
        }
    )
    res = ev.lift(df, "orders_post")
    t, c = df.orders_post[:20000], df.orders_post[20000:]
    # delta method for R = m_t/m_c: SE(R) = R·√(v_t/m_t² + v_c/m_c²)
    r = t.mean() / c.mean()
    se = r * math.sqrt(t.var() / 20000 / t.mean() ** 2 + c.var() / 20000 / c.mean() ** 2)
    assert 1 + res.rel_ci_low == pytest.approx(r - 1.96 * se, abs=2e-3)
    assert 1 + res.rel_ci_high == pytest.approx(r + 1.96 * se, abs=2e-3)


def test_lift_proportion_by_hand():
    df = pd.DataFrame(
        {
            "group": ["treatment"] * 100 + ["control"] * 100,
            "repeat_post": [True] * 60 + [False] * 40 + [True] * 50 + [False] * 50,
        }
    )
    res = ev.lift(df, "repeat_post")
    # p_T = 0.60, p_C = 0.50; unpooled SE = √(0.6·0.4/100 + 0.5·0.5/100) = √0.0049 = 0.07
    # CI = 0.10 ± 1.959964·0.07 = 0.10 ± 0.137197
    assert res.kind == "proportion"
    assert res.diff == pytest.approx(0.10)
    assert res.diff_ci_low == pytest.approx(-0.037197, abs=1e-6)
    assert res.diff_ci_high == pytest.approx(0.237197, abs=1e-6)
    # pooled p̄ = 0.55, SE0 = √(0.55·0.45·0.02) = 0.0703562, z = 1.421338, p = 0.155218
    assert res.p_value == pytest.approx(0.155218, abs=1e-6)
    assert res.rel_lift == pytest.approx(0.2)
    assert "percentage points higher" in str(res)


def test_lift_sentence_and_sign():
    df = pd.DataFrame(
        {
            "group": ["treatment"] * 3 + ["control"] * 3,
            "spend_post": [900.0, 1000.0, 1100.0, 1900.0, 2000.0, 2100.0],
        }
    )
    res = ev.lift(df)
    s = str(res)
    assert s.startswith(
        "Treatment customers spent 1,000 RUB less over the post period than control"
    )
    assert "-50.0 %" in s and "n=3 vs 3" in s and "95% CI" in s


# hypothesis draws nearly identical spends (e.g. 0.0 and 5e-324), where scipy's t-test warns of
# precision loss; the symmetry checked here holds all the same.
@pytest.mark.filterwarnings("ignore:Precision loss occurred in moment calculation:RuntimeWarning")
@settings(max_examples=25, deadline=None)
@given(st.lists(st.floats(0, 5000, allow_nan=False), min_size=4, max_size=20))
def test_lift_swapping_groups_negates(values):
    n = len(values)
    groups = ["treatment", "control"] * (n // 2) + ["treatment"] * (n % 2)
    df = pd.DataFrame({"group": groups, "spend_post": values})
    if min(df.groupby("group").size()) < 2:
        return
    swapped = df.assign(group=df.group.map({"treatment": "control", "control": "treatment"}))
    a, b = ev.lift(df), ev.lift(swapped)
    assert b.diff == pytest.approx(-a.diff, abs=1e-9)
    if math.isfinite(a.diff_ci_low):
        assert b.diff_ci_low == pytest.approx(-a.diff_ci_high, abs=1e-6)


def test_lift_bad_input():
    df = pd.DataFrame({"group": ["treatment", "control", "control"], "x": [1.0, 2.0, 3.0]})
    with pytest.raises(ValueError, match="at least 2 customers in the treatment"):
        ev.lift(df, "x")
    with pytest.raises(ValueError, match="missing column"):
        ev.lift(df, "nope")
    df2 = pd.DataFrame({"group": ["treatment"] * 2 + ["control"] * 2, "x": [1.0, np.nan, 2, 3]})
    with pytest.raises(ValueError, match="NaN"):
        ev.lift(df2, "x")
    with pytest.raises(ValueError, match="kind"):
        ev.lift(df2.fillna(0), "x", kind="median")
    with pytest.raises(ValueError, match="0/1"):
        ev.lift(df2.fillna(0), "x", kind="proportion")


# --------------------------------------------------------------------------------------------
# coverage: seeded simulated campaigns with a known effect
# --------------------------------------------------------------------------------------------
def _coverage(make, check, sims=200, seed=7):
    rng = np.random.default_rng(seed)
    return np.mean([check(make(rng)) for _ in range(sims)], axis=0)


def test_coverage_of_welch_and_fieller_intervals():
    n, lam, uplift = 200, 2.0, 0.15

    def make(rng):  # Poisson orders; treatment rate × 1.15
        return pd.DataFrame(
            {
                "group": ["treatment"] * n + ["control"] * n,
                "orders_post": np.r_[rng.poisson(lam * (1 + uplift), n), rng.poisson(lam, n)],
            }
        )

    def check(df):
        r = ev.lift(df, "orders_post")
        return (
            r.diff_ci_low <= lam * uplift <= r.diff_ci_high,
            r.rel_ci_low <= uplift <= r.rel_ci_high,
        )

    cov = _coverage(make, check)
    # 200 sims: SD of a 95 % coverage estimate ≈ 0.0154; the bounds are about ±3 SD (loose)
    assert 0.90 <= cov[0] <= 0.995 and 0.90 <= cov[1] <= 0.995


def test_coverage_of_proportion_interval():
    n = 300

    def make(rng):
        return pd.DataFrame(
            {
                "group": ["treatment"] * n + ["control"] * n,
                "repeat_post": np.r_[rng.random(n) < 0.36, rng.random(n) < 0.30],
            }
        )

    def check(df):
        r = ev.lift(df, "repeat_post")
        return r.diff_ci_low <= 0.06 <= r.diff_ci_high

    assert 0.90 <= _coverage(make, check) <= 0.995


def test_coverage_of_diff_in_diff_interval():
    n, effect = 150, 300.0

    def make(rng):  # customer fixed effects shared by pre and post, skewed spend
        base = rng.gamma(2.0, 1000.0, 2 * n)
        treated = np.r_[np.ones(n), np.zeros(n)]
        return pd.DataFrame(
            {
                "group": ["treatment"] * n + ["control"] * n,
                "spend_pre": base
                + rng.normal(0, 400, 2 * n)
                + 200 * treated,  # imbalance at baseline
                "spend_post": base
                + rng.normal(0, 400, 2 * n)
                + 200 * treated
                + 100
                + effect * treated,
            }
        )

    def check(df):
        r = ev.diff_in_diff(df, "spend")
        return r.ci_low <= effect <= r.ci_high

    assert 0.90 <= _coverage(make, check) <= 0.995


# --------------------------------------------------------------------------------------------
# diff-in-diff
# --------------------------------------------------------------------------------------------
def test_did_by_hand_and_equals_ols_interaction(hand):
    out = ev.campaign_outcomes(*hand)
    res = ev.diff_in_diff(out, "spend")
    # treatment: pre mean 75, post 275 → +200; control: pre 100, post 150 → +50; DiD = 150
    assert (res.pre_treatment, res.post_treatment) == (75, 275)
    assert (res.pre_control, res.post_control) == (100, 150)
    assert res.estimate == pytest.approx(150)
    # CI: Welch on change scores T [200, 400, 200, 0], C [0, 0, -100, 300]
    sc = stats.ttest_ind([200, 400, 200, 0], [0, 0, -100, 300], equal_var=False)
    ci = sc.confidence_interval()
    assert (res.ci_low, res.ci_high, res.p_value) == pytest.approx((ci.low, ci.high, sc.pvalue))
    # second method: OLS y = b0 + b1·treated + b2·post + b3·treated·post on stacked rows
    treated = (out["group"] == "treatment").to_numpy(float)
    y = np.r_[out["spend_pre"], out["spend_post"]]
    t = np.r_[treated, treated]
    post = np.r_[np.zeros(len(out)), np.ones(len(out))]
    X = np.column_stack([np.ones_like(y), t, post, t * post])
    beta = np.linalg.lstsq(X, y, rcond=None)[0]
    assert res.estimate == pytest.approx(beta[3])


def test_did_equals_ols_on_random_data():
    rng = np.random.default_rng(3)
    n = 50
    df = pd.DataFrame(
        {
            "group": rng.choice(["treatment", "control"], 2 * n),
            "orders_pre": rng.poisson(2, 2 * n),
            "orders_post": rng.poisson(3, 2 * n),
        }
    )
    t = (df.group == "treatment").to_numpy(float)
    y = np.r_[df.orders_pre, df.orders_post]
    tt, post = np.r_[t, t], np.r_[np.zeros(2 * n), np.ones(2 * n)]
    beta = np.linalg.lstsq(np.column_stack([np.ones_like(y), tt, post, tt * post]), y, rcond=None)[
        0
    ]
    assert ev.diff_in_diff(df, "orders").estimate == pytest.approx(beta[3])


@settings(max_examples=25, deadline=None)
@given(st.lists(st.floats(-1000, 1000, allow_nan=False), min_size=8, max_size=8))
def test_did_ignores_customer_fixed_effects(shifts):
    # adding any per-customer constant to both periods leaves DiD unchanged (it differences out)
    df = pd.DataFrame(
        {
            "group": ["treatment"] * 4 + ["control"] * 4,
            "spend_pre": [100.0, 0, 200, 0, 100, 0, 300, 0],
            "spend_post": [300.0, 400, 400, 0, 100, 0, 200, 300],
        }
    )
    moved = df.assign(spend_pre=df.spend_pre + shifts, spend_post=df.spend_post + shifts)
    assert ev.diff_in_diff(moved).estimate == pytest.approx(150, abs=1e-6)


def test_did_sentence_and_bad_metric(hand):
    out = ev.campaign_outcomes(*hand)
    s = str(ev.diff_in_diff(out))
    assert "150 RUB more" in s and "75 → 275" in s
    assert "pp" in str(ev.diff_in_diff(out, "repeat"))
    with pytest.raises(ValueError, match="base name"):
        ev.diff_in_diff(out, "spend_post")


# --------------------------------------------------------------------------------------------
# KPIs, ROI
# --------------------------------------------------------------------------------------------
@pytest.fixture
def kpi_tx():
    return _tx(
        [
            ("A", "2025-01-05", 100.0, False),
            ("A", "2025-01-20", 200.0, False),
            ("A", "2025-01-25", -50.0, True),
            ("B", "2025-01-10", 300.0, False),
            ("A", "2025-02-03", 400.0, False),
            ("C", "2025-02-04", 1000.0, False),  # not a member
        ]
    )


def test_kpis_monthly_by_hand(kpi_tx):
    k = ev.kpis(kpi_tx, members=["A", "B", "D"], program_costs={"2025-01": 100, "2025-02": 200})
    assert k["period"].astype(str).tolist() == ["2025-01", "2025-02"]
    jan, feb = k.iloc[0], k.iloc[1]
    # Jan: A (2 orders), B (1 order) of 3 members; checks 100, 200, 300; revenue 600 − 50
    assert (jan.members, jan.participants, jan.orders) == (3, 2, 3)
    assert jan.activity == pytest.approx(2 / 3)
    assert jan.average_check == pytest.approx(200)
    assert jan.repeat_rate == pytest.approx(0.5)  # A has ≥ 2 orders, B not
    assert math.isnan(jan.returning_rate)  # first period of the data
    assert jan.revenue == pytest.approx(550)
    assert jan.cost_per_participant == pytest.approx(50)
    # Feb: only A (C is not a member); A bought in January → returning
    assert (feb.participants, feb.orders, feb.average_check) == (1, 1, 400)
    assert feb.activity == pytest.approx(1 / 3)
    assert (feb.repeat_rate, feb.returning_rate, feb.revenue) == (0, 1, 400)
    assert feb.program_costs == 200


def test_kpis_quarterly_and_all_customers(kpi_tx):
    q = ev.kpis(kpi_tx, period="Q", program_costs=500.0)
    # all customers A, B, C are members; Q1: 5 orders 100+200+300+400+1000 → check 400
    assert len(q) == 1
    row = q.iloc[0]
    assert (row.members, row.participants, row.orders) == (3, 3, 5)
    assert row.average_check == pytest.approx(400)
    assert row.repeat_rate == pytest.approx(1 / 3)  # only A has ≥ 2 orders
    assert row.revenue == pytest.approx(1950)
    assert row.program_costs == 500
    # an explicit range shows empty months as zero participants
    k = ev.kpis(kpi_tx, start="2025-01-01", end="2025-03-31")
    assert k["participants"].tolist() == [2, 2, 0]
    with pytest.raises(ValueError, match="period"):
        ev.kpis(kpi_tx, period="W")


def test_roi_and_program_roi(hand):
    # (1,000,000 × 0.3 − 200,000) / 200,000 = 0.5
    assert ev.roi(300_000, 200_000) == pytest.approx(0.5)
    r = ev.program_roi(1_000_000.0, 0.3, 200_000)
    assert (r.incremental_margin, r.net_gain, r.roi) == pytest.approx((300_000, 100_000, 0.5))
    assert "ROI +50.0 %" in str(r) and "pays for itself" in str(r)
    # from a lift: 125 RUB × 4 treatment customers = 500 RUB; × 0.5 margin = 250; (250−100)/100
    lr = ev.lift(ev.campaign_outcomes(*hand), "spend_post")
    r2 = ev.program_roi(lr, 0.5, 100)
    assert r2.incremental_revenue == pytest.approx(500)
    assert r2.roi == pytest.approx(1.5)
    assert r2.roi_ci_low == pytest.approx((lr.diff_ci_low * 4 * 0.5 - 100) / 100)
    with pytest.raises(ValueError, match="> 0"):
        ev.roi(10, 0)
    with pytest.raises(ValueError, match="gross_margin"):
        ev.program_roi(100.0, 30, 10)
    with pytest.raises(ValueError, match="spend"):
        ev.program_roi(ev.lift(ev.campaign_outcomes(*hand), "orders_post"), 0.3, 10)


# --------------------------------------------------------------------------------------------
# segment retention, NPS, signals, seed facts
# --------------------------------------------------------------------------------------------
def test_segment_retention_by_hand():
    tx = _tx(
        [
            ("A", "2025-07-05", 10.0, False),
            ("A", "2025-07-20", 10.0, False),  # same month: counted once
            ("A", "2025-08-01", 10.0, False),
            ("B", "2025-06-30", 10.0, False),  # before the start
            ("C", "2025-07-31", 10.0, False),
            ("D", "2025-08-10", -5.0, True),  # a refund is not a purchase
        ]
    )
    seg = pd.Series({"A": "gold", "B": "gold", "C": "silver", "D": "silver"})
    t = ev.segment_retention(tx, seg, "2025-07-01", periods=3, end="2025-08-31")
    gold = t[t.segment == "gold"].set_index("period")
    silver = t[t.segment == "silver"].set_index("period")
    assert gold.loc[1, "share"] == 0.5 and gold.loc[2, "share"] == 0.5
    assert silver.loc[1, "share"] == 0.5 and silver.loc[2, "share"] == 0.0
    assert math.isnan(gold.loc[3, "share"])  # September is not observed
    assert gold.loc[2, "period_start"] == pd.Timestamp("2025-08-01")
    assert gold.loc[2, "period_end"] == pd.Timestamp("2025-08-31")
    assert (t["customers"] == 2).all()
    with pytest.raises(TypeError, match="Series"):
        ev.segment_retention(tx, {"A": "gold"}, "2025-07-01")


def test_nps_before_after_by_hand():
    survey = pd.DataFrame(
        {
            "respondent_id": [f"r{i}" for i in range(11)],
            "customer_id": ["a", "b", "c", "d", "e", "a", "b", "c", "d", "z", "z"],
            "date": pd.to_datetime(["2025-06-01"] * 5 + ["2025-07-01"] * 4 + ["2025-08-01"] * 2),
            "score": [10, 10, 9, 0, 5, 10, 9, 8, 7, 0, 0],
            "comment": [""] * 11,
        }
    )
    res = ev.nps_before_after(survey, "2025-07-01", customers=["a", "b", "c", "d", "e"])
    # before: 10, 10, 9 promoters, 0 and 5 detractors → (3 − 2)/5 = +20
    # after (a–d only): 10, 9 promoters, 8, 7 passives → 2/4 = +50
    assert (res.before, res.after, res.diff) == pytest.approx((20, 50, 30))
    assert (res.n_before, res.n_after) == (5, 4)
    # without the filter, z's two zeros join the after sample: (2 − 2)/6 = 0
    assert ev.nps_before_after(survey, "2025-07-01").after == pytest.approx(0)
    with pytest.raises(ValueError, match="no survey responses after"):
        ev.nps_before_after(survey, "2026-01-01")


def test_success_signals():
    t = ev.success_signals(
        {
            "repeat_purchases": 1.2,
            "average_check": 1000,
            "retention_time": 10,
            "nps": 20,
            "churn_rate": 0.30,
        },
        {
            "repeat_purchases": 1.5,
            "average_check": 950,
            "retention_time": 10,
            "nps": 28,
            "churn_rate": 0.25,
        },
        lower_is_better=["churn_rate"],
    ).set_index("kpi")
    assert t.loc["repeat_purchases", "change_pct"] == pytest.approx(0.25)  # 0.3 / 1.2
    assert t.loc["average_check", "direction"] == "fell"
    assert t.loc["retention_time", "direction"] == "flat"
    assert t["good"].to_dict() == {
        "repeat_purchases": True,
        "average_check": False,
        "retention_time": False,
        "nps": True,
        "churn_rate": True,
    }
    assert not t.loc["churn_rate", "core_sign"]
    with pytest.raises(ValueError, match="share no KPI"):
        ev.success_signals({"a": 1}, {"b": 2})


def test_case_studies_match_seed_digest():
    c = ev.CASE_STUDIES
    # [E3]: +34 % loyalty, +12 % check (6 months); +28 % retention, +33 % trial-to-paid;
    # ALDI +27 % retention in 2 years; e-shop +28 % repeat purchases in 6 months
    assert sorted(c["change_pct"]) == [12, 27, 28, 28, 33, 34]
    assert c.loc[c.case.str.startswith("ALDI"), "period_months"].item() == 24
    assert c["source"].str.contains("context not evidence").all()


def test_complaint_metrics_by_hand():
    ts = pd.Timestamp
    df = pd.DataFrame(
        {
            "received_at": [
                ts("2025-03-01 10:00"),
                ts("2025-03-01 10:00"),
                ts("2025-03-01 09:00"),
                ts("2025-03-01 09:00"),
            ],
            "responded_at": [
                ts("2025-03-01 10:30"),
                ts("2025-03-01 12:00"),
                ts("2025-03-02 08:00"),
                pd.NaT,
            ],  # 0.5 h, 2 h, 23 h, never
            "resolved_at": [ts("2025-03-01 12:00"), ts("2025-03-01 20:00"), pd.NaT, pd.NaT],
            "satisfaction": [5, 3, np.nan, 2],
            "urgency": ["high", "high", "low", "low"],
        }
    )
    m = ev.complaint_metrics(df).set_index("urgency")
    assert m.loc["high"].to_dict() == pytest.approx(
        {
            "n": 2,
            "median_response_hours": 1.25,
            "share_within_target": 0.5,
            "share_within_window": 1.0,
            "median_resolution_hours": 6.0,
            "share_resolved": 1.0,
            "mean_satisfaction": 4.0,
        }
    )
    assert m.loc["low", "share_within_target"] == 0
    assert m.loc["low", "share_within_window"] == 0.5  # 23 h is inside the 24-hour rule
    assert m.loc["all", "median_response_hours"] == 2.0  # median of 0.5, 2, 23
    assert m.loc["all", "mean_satisfaction"] == pytest.approx(10 / 3)
    strict = ev.complaint_metrics(df, feedback_window_hours=12).set_index("urgency")
    assert strict.loc["low", "share_within_window"] == 0


def test_too_early_to_judge():
    assert ev.EXPECTED_MONTHS_TO_FIRST_EFFECT == (3, 4)
    assert ev.too_early_to_judge("2025-07-01", "2025-09-30")
    assert not ev.too_early_to_judge("2025-07-01", "2025-10-01")
    with pytest.raises(ValueError, match="before the program start"):
        ev.too_early_to_judge("2025-07-01", "2025-06-01")


def test_required_group_size_textbook_case():
    # p1 = 0.20, p2 = 0.25 (+25 %), α = 0.05 two-sided, power 0.8:
    # z_α/2 = 1.959964, z_β = 0.841621, p̄ = 0.225
    # 1.959964·√(2·0.225·0.775) = 1.157458; 0.841621·√(0.16 + 0.1875) = 0.496128
    # n = (1.653586)² / 0.05² = 1093.74 → 1094 per group
    assert ev.required_group_size(0.20, 0.25) == 1094
    assert ev.required_group_size(0.20, 0.05, relative=False) == 1094
    # smaller effects need more customers
    assert ev.required_group_size(0.20, 0.10) > 1094
    with pytest.raises(ValueError, match="outside"):
        ev.required_group_size(0.9, 0.5)


# --------------------------------------------------------------------------------------------
# the generated sample: the estimate recovers the planted uplift (Done-when criterion)
# --------------------------------------------------------------------------------------------
def test_sample_uplift_in_orders_is_recovered():
    from loyalty_lib import samples

    data = samples.generate()
    out = ev.campaign_outcomes(data.transactions, data.campaign)
    assert out["post_end"].max() == samples.OBSERVATION_END
    assert (out["start_date"] == samples.CAMPAIGN_START).all()
    res = ev.lift(out, "orders_post")
    truth = data.truth["true_uplift_purchase_rate"]
    assert res.rel_ci_low <= truth <= res.rel_ci_high, str(res)


# --------------------------------------------------------------------------------------------
# plots
# --------------------------------------------------------------------------------------------
def test_plots_draw_on_given_axes(hand, kpi_tx):
    out = ev.campaign_outcomes(*hand)
    fig, axes = plt.subplots(2, 2)
    ax = evplots.lift_chart(out, "spend_post", ax=axes[0, 0])
    assert ax is axes[0, 0] and len(ax.patches) == 2
    assert [p.get_height() for p in ax.patches] == [275, 150]
    assert "RUB" in ax.get_ylabel()
    ax = evplots.did_plot(out, "spend", ax=axes[0, 1])
    assert len(ax.lines) >= 2 and ax.get_legend() is not None
    seg = pd.Series({"T1": "a", "T2": "a", "C1": "b", "C3": "b"})
    table = ev.segment_retention(hand[0], seg, "2025-07-01", freq="D", periods=5)
    ax = evplots.segment_retention_plot(table, ax=axes[1, 0])
    assert len(ax.lines) == 2 and ax.get_ylim() == (0, 1)
    ax = evplots.kpi_trend(ev.kpis(kpi_tx), "average_check", ax=axes[1, 1])
    assert ax.lines[0].get_ydata().tolist() == [200, 700]  # Jan 200; Feb (400 + 1000)/2
    assert "RUB" in ax.get_ylabel()
    plt.close(fig)
    new = evplots.lift_chart(out, "repeat_post")
    assert new.get_title()
    plt.close(new.figure)


# --------------------------------------------------------------------------------------------
# lesson 06 helpers
# --------------------------------------------------------------------------------------------
def _did(estimate, lo, hi, n_t, metric="spend"):
    return ev.DiDResult(
        metric=metric,
        estimate=estimate,
        ci_low=lo,
        ci_high=hi,
        p_value=0.01,
        pre_treatment=0.0,
        post_treatment=0.0,
        pre_control=0.0,
        post_control=0.0,
        n_treatment=n_t,
        n_control=n_t,
    )


def _lift(metric, diff, lo, hi, rel, rel_lo, rel_hi):
    return ev.LiftResult(
        metric=metric,
        kind="mean",
        treatment_mean=1 + diff,
        control_mean=1.0,
        diff=diff,
        diff_ci_low=lo,
        diff_ci_high=hi,
        rel_lift=rel,
        rel_ci_low=rel_lo,
        rel_ci_high=rel_hi,
        p_value=0.02,
        n_treatment=10,
        n_control=10,
    )


def test_program_roi_from_a_diff_in_diff():
    # revenue 100 RUB × 10 treated = 1,000; margin 0.5 → 500; (500 − 400) / 400 = 0.25
    # CI: 50 × 10 × 0.5 = 250 → −0.375; 150 × 10 × 0.5 = 750 → 0.875
    r = ev.program_roi(_did(100.0, 50.0, 150.0, 10), 0.5, 400)
    assert r.incremental_revenue == pytest.approx(1000)
    assert (r.roi, r.roi_ci_low, r.roi_ci_high) == pytest.approx((0.25, -0.375, 0.875))
    with pytest.raises(ValueError, match="spend"):
        ev.program_roi(_did(1.0, 0.0, 2.0, 10, metric="orders"), 0.5, 400)
    with pytest.raises(TypeError, match="DiDResult"):
        ev.program_roi("1000", 0.5, 400)


def test_compare_with_truth(tmp_path):
    truth = tmp_path / "truth.json"
    truth.write_text(
        '{"true_uplift_purchase_rate": 0.15, "expected_extra_orders_per_treated": 0.5,'
        ' "expected_extra_revenue_per_treated_rub": 1000}',
        encoding="utf-8",
    )
    inside = ev.compare_with_truth(_lift("orders_post", 0.3, 0.1, 0.5, 0.18, 0.03, 0.37), truth)
    assert inside.available and inside.covered and inside.truth == 0.15
    assert inside.scale == "relative" and inside.estimate == 0.18
    assert "contains it" in str(inside) and "+15.0 %" in str(inside)
    # relative CI +20 % .. +40 % misses 0.15
    outside = ev.compare_with_truth(_lift("orders_post", 0.3, 0.1, 0.5, 0.3, 0.2, 0.4), truth)
    assert outside.available and outside.covered is False and "misses it" in str(outside)
    # spend lift compares the absolute RUB difference: 1,000 inside −300 .. 2,700
    spend = ev.compare_with_truth(_lift("spend_post", 1200, -300, 2700, 0.2, -0.05, 0.5), truth)
    assert (spend.scale, spend.estimate, spend.covered) == ("absolute", 1200, True)
    assert "+1,000 RUB" in str(spend) and "-300 RUB to +2,700 RUB" in str(spend)
    # diff-in-diff on orders: 0.5 outside 0.6 .. 0.9
    did = ev.compare_with_truth(_did(0.7, 0.6, 0.9, 10, metric="orders"), truth)
    assert (did.truth, did.covered) == (0.5, False)
    # no truth for this metric, no file, no path: a sentence instead of an error
    for res, path in (
        (_lift("repeat_post", 0.1, 0, 0.2, 0.1, 0, 0.2), truth),
        (_lift("orders_post", 0.3, 0.1, 0.5, 0.18, 0.03, 0.37), tmp_path / "missing.json"),
        (_did(0.7, 0.6, 0.9, 10, metric="orders"), None),
    ):
        got = ev.compare_with_truth(res, path)
        assert not got.available and got.covered is None and math.isnan(got.truth)
        assert str(got).startswith("No ground truth available")
        assert str(tmp_path) not in str(got)  # no absolute paths in stored notebooks
    with pytest.raises(TypeError, match="LiftResult"):
        ev.compare_with_truth(0.15, truth)


def test_compare_with_truth_on_the_shipped_sample(samples_dir):
    # the planted +15 % purchase-rate uplift lies in the 95 % interval (see the test above it)
    from loyalty_lib import data

    tx = data.load_transactions(samples_dir / "transactions.csv").accepted
    camp = data.load_campaign(samples_dir / "campaign.csv").accepted
    res = ev.lift(ev.campaign_outcomes(tx, camp), "orders_post")
    got = ev.compare_with_truth(res, samples_dir / "truth.json")
    assert got.available and got.truth == 0.15
    assert got.covered is True
    assert res.rel_ci_low <= 0.15 <= res.rel_ci_high


def test_pre_campaign_segments_by_hand():
    tx = _tx(
        [
            ("A", "2025-01-01", 1000.0, False),  # one purchase > 90 days before: one-off
            ("B", "2025-03-01", 100.0, False),  # two purchases: regular (spend 200 < VIP bar)
            ("B", "2025-04-01", 100.0, False),
            ("C", "2025-06-21", 50.0, False),  # one purchase 10 days before: new
            ("D", "2025-07-05", 500.0, False),  # only after the start
        ]
    )
    got = ev.pre_campaign_segments(tx, START)
    assert got.to_dict() == {"A": "one-off", "B": "regular", "C": "new"}
    # purchases after the start must not move the labels
    more = pd.concat([tx, _tx([("A", "2025-07-02", 9e5, False), ("C", "2025-08-01", 10.0, False)])])
    assert ev.pre_campaign_segments(more, START).to_dict() == got.to_dict()
    only = ev.pre_campaign_segments(tx, START, customers=["C", "D"])
    assert only.to_dict() == {"C": "new", "D": "no purchase before start"}
    rfm = ev.pre_campaign_segments(tx, START, scheme="rfm")
    assert list(rfm.index) == ["A", "B", "C"] and rfm.notna().all()
    with pytest.raises(ValueError, match="scheme"):
        ev.pre_campaign_segments(tx, START, scheme="abc")
    with pytest.raises(ValueError, match="no transactions before"):
        ev.pre_campaign_segments(tx, "2024-01-01")


def test_lift_by_segment_matches_welch_within_each_segment(hand):
    out = ev.campaign_outcomes(*hand)
    seg = pd.Series(
        {"T1": "a", "T2": "a", "C1": "a", "C2": "a", "T3": "b", "T4": "b", "C3": "b", "C4": "c"}
    )
    table = ev.lift_by_segment(out, seg, "spend_post").set_index("segment")
    # segment b has one control customer (C3), c no treatment customer: both left out
    assert list(table.index) == ["a"]
    # segment a: treatment T1 300, T2 400; control C1 100, C2 0 (second method: scipy directly)
    welch = stats.ttest_ind([300, 400], [100, 0], equal_var=False)
    assert table.loc["a", "diff"] == pytest.approx(300)
    assert table.loc["a", "p_value"] == pytest.approx(welch.pvalue)
    ci = welch.confidence_interval()
    assert (table.loc["a", "diff_ci_low"], table.loc["a", "diff_ci_high"]) == pytest.approx(
        (ci.low, ci.high)
    )
    assert (table.loc["a", "n_treatment"], table.loc["a", "n_control"]) == (2, 2)
    with pytest.raises(ValueError, match="no segment"):
        ev.lift_by_segment(out, pd.Series({"T1": "a", "C1": "a"}), "spend_post")


def test_signal_snapshots_by_hand():
    # start 07-01, end 07-10 → after = 07-01..07-10, before = 06-21..06-30 (10 days each)
    tx = _tx(
        [
            ("A", "2025-06-21", 100.0, False),  # before: A twice, span 5 days
            ("A", "2025-06-26", 300.0, False),
            ("B", "2025-06-30", 200.0, False),  # before: B once
            ("B", "2025-06-30", -200.0, True),  # refunds are not purchases
            ("Z", "2025-06-20", 999.0, False),  # outside both windows
            ("A", "2025-07-01", 400.0, False),  # after: A once
            ("B", "2025-07-02", 100.0, False),  # after: B twice, span 8 days
            ("B", "2025-07-10", 100.0, False),
        ]
    )
    survey = pd.DataFrame(
        {
            "customer_id": ["A", "B", "A", "B", "Z"],
            "date": pd.to_datetime(
                ["2025-06-22", "2025-06-29", "2025-07-03", "2025-07-04", "2025-07-05"]
            ),
            "score": [10, 0, 10, 8, 0],
        }
    )
    before, after = ev.signal_snapshots(tx, survey, START, end="2025-07-10")
    # before: buyers A (2), B (1): repeat 1/2; checks 100, 300, 200 → 200; spans 5, 0 → 2.5;
    # NPS of [10, 0] = 50 % − 50 % = 0
    assert before == pytest.approx(
        {"repeat_purchases": 0.5, "average_check": 200.0, "retention_time": 2.5, "nps": 0.0}
    )
    # after: A (1), B (2): repeat 1/2; checks 400, 100, 100 → 200; spans 0, 8 → 4;
    # NPS of [10, 8, 0] = 1/3 − 1/3 = 0
    assert after == pytest.approx(
        {"repeat_purchases": 0.5, "average_check": 200.0, "retention_time": 4.0, "nps": 0.0}
    )
    # only A: after NPS of [10] = 100; before repeat 1/1
    b_a, a_a = ev.signal_snapshots(tx, survey, START, customers=["A"], end="2025-07-10")
    assert (b_a["repeat_purchases"], a_a["nps"]) == (1.0, 100.0)
    _, no_survey = ev.signal_snapshots(tx, None, START, end="2025-07-10")
    assert math.isnan(no_survey["nps"])
    table = ev.success_signals(before, after)
    assert set(table.loc[table["core_sign"], "kpi"]) == set(ev.E2_SIGNALS)
    with pytest.raises(ValueError, match="before the start"):
        ev.signal_snapshots(tx, survey, START, end="2025-06-01")


def test_spread_costs_and_kpis_by_group(hand):
    costs = ev.spread_costs(300_000, "2025-07-01", "2025-12-31")
    # Jul..Dec = 6 months → 50,000 each; quarterly: Q3, Q4 → 150,000 each
    assert costs.index.astype(str).tolist() == [
        "2025-07",
        "2025-08",
        "2025-09",
        "2025-10",
        "2025-11",
        "2025-12",
    ]
    assert costs.tolist() == [50_000.0] * 6
    assert ev.spread_costs(300_000, "2025-07-01", "2025-12-31", period="Q").tolist() == [
        150_000.0,
        150_000.0,
    ]
    with pytest.raises(ValueError, match="before start"):
        ev.spread_costs(1, "2025-07-01", "2025-06-01")
    with pytest.raises(ValueError, match="≥ 0"):
        ev.spread_costs(-1, "2025-07-01", "2025-08-01")

    tx, camp = hand
    k = ev.kpis_by_group(
        tx, camp, program_costs={"2025-07": 700.0}, start="2025-07-01", end="2025-07-31"
    )
    assert k["group"].tolist() == ["treatment", "control"]
    t, c = k.iloc[0], k.iloc[1]
    # July buyers: treatment T1, T2, T3 (3 of 4 members), control C1, C3, C4 (3 of 4)
    assert (t.members, t.participants, c.members, c.participants) == (4, 3, 4, 3)
    # orders: T1 2, T2 1, T3 1 = 4; C1 1, C3 1, C4 1 = 3 (X9 is not in the campaign)
    assert (t.orders, c.orders) == (4, 3)
    assert t.program_costs == 700 and math.isnan(c.program_costs)
    assert t.cost_per_participant == pytest.approx(700 / 3)


def test_evaluation_timing():
    # data through 12-31 cover Jul..Dec: 6 full months, enough ([E5]: 3–4 months)
    full = ev.evaluation_timing("2025-07-01", "2025-12-31")
    assert (full.full_months, full.too_early) == (6, False)
    # through 09-29: Jul, Aug full, Sep not → 2 months, too early; through 09-30: 3, enough
    assert (
        ev.evaluation_timing("2025-07-01", "2025-09-29").full_months,
        ev.evaluation_timing("2025-07-01", "2025-09-29").too_early,
    ) == (2, True)
    edge = ev.evaluation_timing("2025-07-01", "2025-09-30")
    assert (edge.full_months, edge.too_early) == (3, False)
    assert "too early" in str(ev.evaluation_timing("2025-07-01", "2025-07-01"))
    with pytest.raises(ValueError, match="before the program start"):
        ev.evaluation_timing("2025-07-01", "2025-06-30")


def test_nps_diff_in_diff_by_hand():
    def answers(group_ids, dates, scores):
        return pd.DataFrame(
            {"customer_id": group_ids, "date": pd.to_datetime(dates), "score": scores}
        )

    before, after = "2025-06-15", "2025-07-15"
    survey = pd.concat(
        [
            answers(["T1"] * 4, [before] * 4, [10, 10, 0, 0]),  # NPS 0, var 1 → SE 100·√(1/4) = 50
            answers(["T2"] * 4, [after] * 4, [10, 10, 10, 0]),  # NPS 50, var .75 → SE 43.30
            answers(["C1"] * 4, [before] * 4, [10, 7, 7, 0]),  # NPS 0, var .5 → SE 35.36
            answers(["C2"] * 4, [after] * 4, [10, 7, 7, 7]),  # NPS 25, var .1875 → SE 21.65
            answers(["X"], [after], [0]),  # not a campaign customer: dropped
        ]
    )
    camp = pd.DataFrame(
        {
            "customer_id": ["T1", "T2", "C1", "C2"],
            "group": ["treatment", "treatment", "control", "control"],
        }
    )
    res = ev.nps_diff_in_diff(survey, camp, START)
    # (50 − 0) − (25 − 0) = 25; SE = √(2500 + 1875 + 1250 + 468.75) = √6093.75 = 78.063
    se = math.sqrt(6093.75)
    assert res.estimate == pytest.approx(25)
    assert (res.ci_low, res.ci_high) == pytest.approx(
        (25 - 1.959964 * se, 25 + 1.959964 * se), abs=1e-3
    )
    assert res.p_value == pytest.approx(2 * stats.norm.sf(25 / se))
    assert res.n_answers == 16 and "+25.0 points" in str(res)
    with pytest.raises(ValueError, match="no survey answers from the control group after"):
        ev.nps_diff_in_diff(survey[survey["customer_id"] != "C2"], camp, START)


def test_complaints_from_survey():
    survey = pd.DataFrame(
        {
            "customer_id": [f"C{i}" for i in range(8)],
            "date": pd.to_datetime(["2025-03-01"] * 8),
            "score": [0, 3, 6, 6, 7, 9, 10, 2],
            "comment": [
                "Грубый продавец",
                "too expensive",
                "",
                "delivery was late",
                "too expensive",
                "great",
                "poor quality",
                None,
            ],
        }
    )
    log = ev.complaints_from_survey(survey, seed=1)
    # detractors (0–6) with a comment: C0 (staff), C1 (price), C3 (delivery); C2 and C7 are blank
    assert log["customer_id"].tolist() == ["C0", "C1", "C3"]
    assert log["theme"].tolist() == ["staff", "price", "delivery"]
    assert log["urgency"].tolist() == ["high", "low", "medium"]
    assert (log["responded_at"] >= log["received_at"]).all()
    done = log["resolved_at"].notna()
    assert (log.loc[done, "resolved_at"] >= log.loc[done, "responded_at"]).all()
    assert log["satisfaction"].dropna().between(1, 5).all()
    pd.testing.assert_frame_equal(log, ev.complaints_from_survey(survey, seed=1))
    metrics = ev.complaint_metrics(log)
    assert metrics["urgency"].tolist() == ["high", "low", "medium", "all"]
    assert metrics.iloc[-1]["n"] == 3


def test_complaints_simulation_answers_urgent_complaints_faster():
    # 600 complaints: the simulated medians are 0.6 h (high) vs 4 h (low); the sample medians
    # must keep that order and land near them (log-normal SD 0.8 → median SE ≈ 6 %)
    n = 600
    comments = ["poor quality", "too expensive", "delivery was late"] * (n // 3)
    survey = pd.DataFrame(
        {
            "customer_id": [f"C{i}" for i in range(n)],
            "date": pd.Timestamp("2025-03-01"),
            "score": 0,
            "comment": comments,
        }
    )
    m = ev.complaint_metrics(ev.complaints_from_survey(survey)).set_index("urgency")
    assert m.loc["high", "median_response_hours"] == pytest.approx(0.6, rel=0.25)
    assert m.loc["low", "median_response_hours"] == pytest.approx(4.0, rel=0.25)
    assert m.loc["all", "share_resolved"] == pytest.approx(0.95, abs=0.04)


def test_kpi_trend_draws_one_line_per_group_and_the_start(hand):
    tx, camp = hand
    k = ev.kpis_by_group(tx, camp, start="2025-06-01", end="2025-07-31")
    ax = evplots.kpi_trend(k, "activity", start="2025-07-01")
    labels = [line.get_label() for line in ax.lines]
    assert labels == ["treatment", "control", "campaign start"]
    # treatment activity: June T1, T3 (T4 bought 06-01 → also June) = 3/4; July 3/4
    assert ax.lines[0].get_ydata().tolist() == [0.75, 0.75]
    plt.close(ax.figure)
