"""Tests for loyalty_lib.segments: the summary on a hand-worked example, invariants, RFM, the
seeds' segments and churn reasons. Engine agreement on large data is in test_summary_engines.py."""

from __future__ import annotations

import math

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from loyalty_lib import segments as sg  # noqa: E402
from loyalty_lib.plots import segments as psg  # noqa: E402


@pytest.fixture
def tx() -> pd.DataFrame:
    """Four customers plus a refund-only one; 2024-01-01 is a Monday."""
    rows = [
        # customer, date, amount, is_refund, order_id
        ("a", "2024-01-01", 10.0, False, "o1"),
        ("a", "2024-01-01", 5.0, False, "o1"),  # second item of the same order
        ("a", "2024-01-03", 20.0, False, "o2"),
        ("a", "2024-01-10", -7.0, True, "r2"),  # refund of part of o2
        ("a", "2024-02-05", 40.0, False, "o3"),
        ("b", "2024-01-20", 30.0, False, "o4"),
        ("c", "2024-01-05", 8.0, False, "o5"),
        ("c", "2024-03-01", 12.0, False, "o6"),
        ("c", "2024-04-02", 100.0, False, "o7"),
        ("d", "2024-04-10", 50.0, False, "o8"),
        ("e", "2024-02-01", -15.0, True, "r9"),  # a refund only: never a customer in the summary
    ]
    df = pd.DataFrame(rows, columns=["customer_id", "date", "amount", "is_refund", "order_id"])
    df["date"] = pd.to_datetime(df["date"])
    return df


ENGINES = ["duckdb", "pandas"]


def _rows(summary: pd.DataFrame, cols: list[str]) -> dict[str, list]:
    return {r.customer_id: [getattr(r, c) for c in cols] for r in summary.itertuples()}


@pytest.mark.parametrize("engine", ENGINES)
def test_summary_daily_with_cut(tx: pd.DataFrame, engine: str) -> None:
    s = sg.customer_summary(tx, observation_end="2024-03-31", freq="D", engine=engine)
    # d's first purchase (Apr 10) and e (refund only) are out; c's Apr 2 order is after the cut.
    assert s["customer_id"].tolist() == ["a", "b", "c"]
    cols = ["frequency", "recency", "T", "monetary", "orders", "total_spend", "refunds"]
    # a: purchase days Jan 1, Jan 3, Feb 5 → frequency 2; recency Jan 1→Feb 5 = 31 + 4 = 35;
    #    T Jan 1→Mar 31 = 31 + 29 (2024 is a leap year) + 30 = 90; monetary = mean(20, 40) = 30
    #    (the refund is no purchase); orders o1, o2, o3 = 3; total 10 + 5 + 20 − 7 + 40 = 68.
    # b: one day → 0, 0; T Jan 20→Mar 31 = 11 + 29 + 31 = 71.
    # c: Jan 5, Mar 1 → frequency 1; recency 26 + 29 + 1 = 56; T = 56 + 30 = 86; monetary 12.
    assert _rows(s, cols) == {
        "a": [2, 35.0, 90.0, 30.0, 3, 68.0, 1],
        "b": [0, 0.0, 71.0, 0.0, 1, 30.0, 0],
        "c": [1, 56.0, 86.0, 12.0, 2, 20.0, 0],
    }
    assert (
        s["first_purchase"].tolist()
        == pd.to_datetime(["2024-01-01", "2024-01-20", "2024-01-05"]).tolist()
    )
    assert (
        s["last_purchase"].tolist()
        == pd.to_datetime(["2024-02-05", "2024-01-20", "2024-03-01"]).tolist()
    )


@pytest.mark.parametrize("engine", ENGINES)
def test_summary_default_end_is_last_date(tx: pd.DataFrame, engine: str) -> None:
    s = sg.customer_summary(tx.drop(columns="order_id"), engine=engine).set_index("customer_id")
    # end = Apr 10. a: T = 90 + 10 = 100; orders = 4 purchase rows without order ids.
    # c: Jan 5, Mar 1, Apr 2 → frequency 2, recency 56 + 32 = 88, T 86 + 10 = 96,
    #    monetary (12 + 100) / 2 = 56, total 120.  d: T 0.
    assert s.loc["a", ["frequency", "T", "orders"]].tolist() == [2, 100.0, 4]
    assert s.loc["c", ["frequency", "recency", "T", "monetary", "total_spend"]].tolist() == [
        2,
        88.0,
        96.0,
        56.0,
        120.0,
    ]
    assert s.loc["d", ["frequency", "recency", "T", "monetary"]].tolist() == [0, 0.0, 0.0, 0.0]


@pytest.mark.parametrize("engine", ENGINES)
def test_summary_weeks_and_months(tx: pd.DataFrame, engine: str) -> None:
    cols = ["frequency", "recency", "T", "monetary"]
    w = sg.customer_summary(tx, observation_end="2024-03-31", freq="W", engine=engine)
    # ISO weeks from Monday Jan 1 (week 0): Jan 3 → 0, Feb 5 → 5 (day 35), Jan 20 → 2 (day 19),
    # Jan 5 → 0, Mar 1 → 8 (day 60), Mar 31 → 12 (day 90, a Sunday).
    # a: weeks {0, 5}: spend 10 + 5 + 20 = 35 and 40 → monetary 40 (first week excluded).
    assert _rows(w, cols) == {
        "a": [1, 5.0, 12.0, 40.0],
        "b": [0, 0.0, 10.0, 0.0],
        "c": [1, 8.0, 12.0, 12.0],
    }
    m = sg.customer_summary(tx, observation_end="2024-03-31", freq="M", engine=engine)
    # calendar months: a Jan, Feb → 1, 1, T Mar − Jan = 2, monetary 40; b Jan; c Jan, Mar.
    assert _rows(m, cols) == {
        "a": [1, 1.0, 2.0, 40.0],
        "b": [0, 0.0, 2.0, 0.0],
        "c": [1, 2.0, 2.0, 12.0],
    }


def test_summary_dtypes_and_order(tx: pd.DataFrame) -> None:
    s = sg.customer_summary(tx.sample(frac=1.0, random_state=3))
    assert s.dtypes.astype(str).to_dict() == {
        "customer_id": "str",
        "frequency": "int64",
        "recency": "float64",
        "T": "float64",
        "monetary": "float64",
        "first_purchase": "datetime64[ns]",
        "last_purchase": "datetime64[ns]",
        "orders": "int64",
        "total_spend": "float64",
        "refunds": "int64",
    }
    assert s["customer_id"].is_monotonic_increasing


def test_summary_without_refund_flag_uses_negative_amounts(tx: pd.DataFrame) -> None:
    with_flag = sg.customer_summary(tx)
    without = sg.customer_summary(tx.drop(columns="is_refund"))
    pd.testing.assert_frame_equal(with_flag, without)
    pd.testing.assert_frame_equal(
        sg.customer_summary(tx.drop(columns="is_refund"), engine="pandas"), without
    )


def test_summary_reads_files(tx: pd.DataFrame, tmp_path) -> None:
    tx.to_csv(tmp_path / "t.csv", index=False)
    tx.to_parquet(tmp_path / "t.parquet")
    expected = sg.customer_summary(tx, observation_end="2024-03-31")
    for name in ("t.csv", "t.parquet"):
        got = sg.customer_summary(tmp_path / name, observation_end="2024-03-31")
        pd.testing.assert_frame_equal(got, expected)


def test_summary_bad_arguments(tx: pd.DataFrame) -> None:
    with pytest.raises(ValueError, match="freq"):
        sg.customer_summary(tx, freq="Q")
    with pytest.raises(ValueError, match="engine"):
        sg.customer_summary(tx, engine="polars")
    with pytest.raises(ValueError, match="lacks"):
        sg.customer_summary(tx.drop(columns="amount"))
    with pytest.raises(TypeError, match="datetime64"):
        sg.customer_summary(tx.assign(date=tx["date"].dt.strftime("%Y-%m-%d")))
    with pytest.raises(ValueError, match="observation_end"):
        sg.customer_summary(tx, observation_end="not a date")
    with pytest.raises(TypeError, match="DataFrame"):
        sg.customer_summary([1, 2, 3], engine="pandas")


_tx_rows = st.lists(
    st.tuples(
        st.sampled_from(["k1", "k2", "k3", "k4", "k5"]),
        st.integers(0, 120),  # day offset from 2024-01-01
        st.floats(0.01, 1000.0, allow_nan=False),  # strictly positive: no zero-spend periods
        st.booleans(),
    ),
    min_size=1,
    max_size=40,
)


@settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(rows=_tx_rows, end_offset=st.integers(0, 130), freq=st.sampled_from(["D", "W", "M"]))
def test_summary_invariants(rows, end_offset: int, freq: str) -> None:
    df = pd.DataFrame(rows, columns=["customer_id", "day", "amount", "is_refund"])
    df["date"] = pd.Timestamp("2024-01-01") + pd.to_timedelta(df["day"], unit="D")
    df["amount"] = np.where(df["is_refund"], -df["amount"], df["amount"])
    end = pd.Timestamp("2024-01-01") + pd.Timedelta(days=end_offset)
    buyers = df.loc[~df["is_refund"] & (df["date"] <= end), "customer_id"].nunique()
    s = sg.customer_summary(df.drop(columns="day"), observation_end=end, freq=freq)
    assert len(s) == buyers
    assert (s["frequency"] >= 0).all()
    assert ((s["recency"] >= 0) & (s["recency"] <= s["T"])).all()
    assert ((s["monetary"] == 0) == (s["frequency"] == 0)).all()
    assert (s["last_purchase"] <= end).all()
    # the pandas reference, a second implementation of the same definition, agrees
    ref = sg.customer_summary(
        df.drop(columns="day"), observation_end=end, freq=freq, engine="pandas"
    )
    pd.testing.assert_frame_equal(s, ref, check_exact=False, rtol=1e-12, atol=1e-9)


def test_tenure_and_inactive(tx: pd.DataFrame) -> None:
    s = sg.customer_summary(tx, observation_end="2024-03-31")
    # a: T 90, recency 35 → 55 days since the last purchase (Feb 5 → Mar 31 = 24 + 31)
    assert sg.tenure(s).tolist() == [90.0, 71.0, 86.0]
    assert sg.inactive_periods(s).tolist() == [55.0, 71.0, 30.0]


# ---------------------------------------------------------------------------------------------
# RFM
# ---------------------------------------------------------------------------------------------


def _random_summary(n: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    freq = rng.poisson(1.0, n)  # many ties at 0 and 1
    T = rng.integers(1, 700, n).astype(float)
    recency = np.floor(T * rng.random(n)) * (freq > 0)
    spend = np.round(rng.gamma(2, 500, n) * (freq + 1), 2)
    return pd.DataFrame(
        {
            "customer_id": [f"C{i:05d}" for i in rng.permutation(n)],
            "frequency": freq,
            "recency": recency,
            "T": T,
            "monetary": spend / (freq + 1) * (freq > 0),
            "orders": freq + 1,
            "total_spend": spend,
            "refunds": rng.poisson(0.2, n),
        }
    )


def test_rfm_quintiles_are_balanced() -> None:
    n = 1003
    rfm = sg.rfm_scores(_random_summary(n))
    for col in ("R", "F", "M"):
        counts = rfm[col].value_counts()
        assert sorted(counts.index) == [1, 2, 3, 4, 5]
        # 1003 / 5 = 200.6 → every quintile holds 200 or 201 customers, despite the ties
        assert set(counts) <= {200, 201}, (col, counts.to_dict())
    assert rfm["FM"].between(1, 5).all()


def test_rfm_ties_broken_by_customer_id() -> None:
    s = pd.DataFrame(
        {
            "customer_id": ["a", "b", "c", "d", "e"],
            "frequency": [0, 0, 0, 0, 0],
            "recency": [0.0] * 5,
            "T": [10.0, 5.0, 5.0, 1.0, 20.0],
            "total_spend": [1.0, 1.0, 1.0, 1.0, 1.0],
        }
    )
    rfm = sg.rfm_scores(s.sample(frac=1.0, random_state=1)).set_index("customer_id").sort_index()
    # equal frequencies: order by id → a..e get 1..5
    assert rfm["F"].tolist() == [1, 2, 3, 4, 5]
    # days since last purchase a 10, b 5, c 5, d 1, e 20; longest ago = worst: e 1, a 2, then the
    # tie b/c by id: b 3, c 4, and d 5
    assert rfm["R"].tolist() == [2, 3, 4, 5, 1]


def test_rfm_rules_cover_the_grid_exactly_once() -> None:
    grid = sg.rule_coverage(sg.RFM_SEGMENTS)
    assert grid.shape == (5, 5) and (grid == 1).all().all()
    assert sg.RFM_SEGMENTS["segment"].nunique() == 11
    # an overlapping rule is caught
    extra = pd.concat(
        [
            sg.RFM_SEGMENTS,
            pd.DataFrame([{"segment": "x", "r_min": 5, "r_max": 5, "fm_min": 5, "fm_max": 5}]),
        ]
    )
    assert sg.rule_coverage(extra).loc[5, 5] == 2


def test_rfm_segment_cells() -> None:
    rfm = pd.DataFrame({"R": [5, 1, 1, 3, 5, 4, 2], "FM": [5, 1, 5, 3, 1, 1, 3]})
    assert sg.rfm_segment(rfm).tolist() == [
        "Champions",
        "Lost",
        "Can't lose them",
        "Needs attention",
        "New",
        "Promising",
        "At risk",
    ]
    # rules as a plain list, evaluated in order: the first match wins
    rules = [("top", 4, 5, 1, 5), ("everyone", 1, 5, 1, 5)]
    assert sg.rfm_segment(rfm, rules).tolist() == [
        "top",
        "everyone",
        "everyone",
        "everyone",
        "top",
        "top",
        "everyone",
    ]


# ---------------------------------------------------------------------------------------------
# Seed segments
# ---------------------------------------------------------------------------------------------


@pytest.fixture
def small_summary() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": ["v", "d", "r", "n", "o", "x"],
            "frequency": [9, 3, 2, 0, 0, 1],
            "recency": [300.0, 200.0, 100.0, 0.0, 0.0, 10.0],
            "T": [310.0, 400.0, 300.0, 20.0, 500.0, 400.0],
            "orders": [10, 4, 3, 1, 1, 2],
            "total_spend": [50_000.0, 20_000.0, 3_000.0, 800.0, 500.0, 1_500.0],
            "refunds": [0, 3, 0, 0, 0, 1],
        }
    )


def test_vip_regular_difficult(small_summary: pd.DataFrame) -> None:
    labels = sg.vip_regular_difficult(small_summary, vip_orders=8, vip_spend=40_000)
    # median spend = (1_500 + 3_000) / 2 = 2_250: d has 3 refunds and 20_000 ≥ median → difficult;
    # x has 1 refund (< 2) → regular; n bought 20 days ago → new; o 500 days ago → one-off.
    assert labels.tolist() == ["VIP", "difficult", "regular", "new", "one-off", "regular"]
    complaints = pd.Series({"x": 5})  # problems from another source, e.g. complaints
    labels = sg.vip_regular_difficult(
        small_summary, vip_orders=8, vip_spend=40_000, problems=complaints
    )
    # x: 5 complaints but spend 1_500 < median → still regular; d has no complaints now
    assert labels.tolist() == ["VIP", "regular", "regular", "new", "one-off", "regular"]


def test_rule_segments_share(small_summary: pd.DataFrame) -> None:
    res = sg.rule_segments(small_summary, avg_check_gt=4_000, purchases_gt=3, inactive_days_gt=250)
    # avg check v 5_000, d 5_000 (both > 4_000, orders > 3) → VIP candidates;
    # inactive = T − recency: v 10, d 200, r 200, n 20, o 500, x 390 → o and x churning.
    assert res.labels.tolist() == [
        "VIP",
        "VIP",
        "uncategorised",
        "uncategorised",
        "potentially churning",
        "potentially churning",
    ]
    assert (res.vip, res.churning, res.n) == (2, 2, 6)
    assert res.share_categorised == pytest.approx(4 / 6)
    assert not res.meets_target and "66.7%" in str(res) and "80%" in str(res)
    reviews = pd.DataFrame({"positive": [3, 0], "negative": [0, 4]}, index=["v", "d"])
    res = sg.rule_segments(
        small_summary,
        avg_check_gt=4_000,
        purchases_gt=3,
        inactive_days_gt=250,
        positive_reviews_gt=1,
        negative_reviews_gt=3,
        reviews=reviews,
        target=0.6,
    )
    # d now churning (4 negative reviews > 3); v stays VIP (3 positive > 1)
    assert res.labels.tolist()[:2] == ["VIP", "potentially churning"]
    assert res.meets_target and res.to_dict()["share_categorised"] == pytest.approx(4 / 6)


def test_churn_risk_flag(small_summary: pd.DataFrame) -> None:
    assert sg.churn_risk(small_summary, inactive_days=300).tolist() == [
        False,
        False,
        False,
        False,
        True,
        True,
    ]


def test_share_of_wallet_band() -> None:
    assert sg.share_of_wallet_band(0.75) == "loyal"
    bands = sg.share_of_wallet_band(pd.Series([0.7, 0.69, 0.5, 0.49, np.nan]))
    assert bands.iloc[:4].tolist() == ["loyal", "at risk", "at risk", "easily switches"]
    assert pd.isna(bands.iloc[4])
    with pytest.raises(ValueError, match="0..1"):
        sg.share_of_wallet_band([75.0])


def test_actions_for() -> None:
    acts = sg.actions_for(
        pd.Series(["VIP", "new", "potentially churning", "regular", "zzz"]), default="none"
    )
    assert acts.iloc[0].startswith("exclusive discounts on new products")
    assert acts.iloc[1] == "welcome discount"
    assert acts.iloc[2] == "surveys and individual consultations"
    assert "early access" in acts.iloc[3]
    assert acts.iloc[4] == "none"


# ---------------------------------------------------------------------------------------------
# Churn reasons and exit aspects
# ---------------------------------------------------------------------------------------------


def test_churn_reasons_last_12_months() -> None:
    recent = ["price"] * 7 + ["quality"] * 5 + ["service"] * 4 + ["competition"] * 2 + ["other"] * 2
    dates = pd.date_range(
        "2025-01-10", periods=len(recent), freq="10D"
    )  # Jan 10 + 190 days = 2025-07-19
    old = pd.DataFrame({"date": pd.to_datetime(["2024-07-19"] * 10), "reason": ["quality"] * 10})
    survey = pd.concat([pd.DataFrame({"date": dates, "reason": recent}), old], ignore_index=True)
    out = sg.churn_reasons(survey)
    # window (2024-07-19, 2025-07-19]: the 10 old rows sit exactly on the excluded left edge.
    # 20 answers: price 7/20 = 0.35 (≥ 0.30 → flagged), quality 0.25, service 0.20, 0.10, 0.10
    assert out["reason"].tolist() == ["price", "quality", "service", "competition", "other"]
    assert out["count"].tolist() == [7, 5, 4, 2, 2]
    assert out["share"].tolist() == pytest.approx([0.35, 0.25, 0.20, 0.10, 0.10])
    assert out["flagged"].tolist() == [True, False, False, False, False]
    assert out["share"].sum() == pytest.approx(1.0)
    # a longer window includes the old answers: quality 15 / 30 = 0.5
    longer = sg.churn_reasons(survey, months=13).set_index("reason")
    assert longer.loc["quality", "share"] == pytest.approx(0.5)
    with pytest.raises(ValueError, match="no exit-survey answers"):
        sg.churn_reasons(survey, end="2020-01-01")


def test_exit_aspects() -> None:
    survey = pd.DataFrame(
        {"rating_support_speed": [1, 2, 2, 3, np.nan], "rating_quality": [1, 2, 3, 4, 5]}
    )
    out = sg.exit_aspects(survey).set_index("aspect")
    # support speed: mean 2 (NaN ignored, n 4) < 3 → flagged; quality mean 3, not below 3
    assert out.loc["support_speed", ["mean", "n", "flagged"]].tolist() == [2.0, 4, True]
    assert not out.loc["quality", "flagged"]
    # quality: sd = sqrt(2.5) = 1.5811, t(0.975, df 4) = 2.7764 (t table) →
    # half-width 2.7764 * 1.5811 / sqrt(5) = 1.9632
    assert out.loc["quality", "ci_low"] == pytest.approx(3 - 1.9632, abs=1e-3)
    assert out.loc["quality", "ci_high"] == pytest.approx(3 + 1.9632, abs=1e-3)
    assert out.index[0] == "support_speed"  # lowest mean first
    with pytest.raises(ValueError, match="1–5"):
        sg.exit_aspects(pd.DataFrame({"rating_price": [0, 6]}))


# ---------------------------------------------------------------------------------------------
# Plots
# ---------------------------------------------------------------------------------------------


def test_plots_return_their_axes() -> None:
    rfm = sg.rfm_scores(_random_summary(200))
    fig, ax = plt.subplots()
    assert psg.rfm_heatmap(rfm, ax=ax) is ax
    # the grid's numbers are the counts per (R, F) cell
    texts = sorted(int(t.get_text().replace(",", "")) for t in ax.texts)
    assert sum(texts) == 200
    assert psg.rfm_heatmap(rfm, value="monetary", y="FM").get_xlabel().startswith("R score")
    ax = psg.segment_sizes(sg.rfm_segment(rfm))
    assert ax.get_xlabel() == "customers"
    reasons = pd.DataFrame(
        {
            "reason": ["price", "other"],
            "count": [3, 1],
            "share": [0.75, 0.25],
            "flagged": [True, False],
        }
    )
    assert "%" in psg.churn_reason_bars(reasons).get_xlabel()
    aspects = sg.exit_aspects(
        pd.DataFrame({"rating_price": [1, 2, 3], "rating_quality": [4, 5, 4]})
    )
    ax = psg.aspect_ratings(aspects)
    assert "1–5" in ax.get_xlabel()
    plt.close("all")
    assert not math.isnan(aspects["mean"].iloc[0])
