"""Tests for loyalty_lib.segment_profiles on small hand-worked tables (expected numbers in comments)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from helpers import wilson_by_formula
from hypothesis import given, settings
from hypothesis import strategies as st

from loyalty_lib import segment_profiles as sp
from loyalty_lib import segments as sg


@pytest.fixture
def survey() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "respondent_id": ["r1", "r2", "r3", "r4", "r5", "r6", "r7"],
            "customer_id": ["a", "a", "a", "b", None, "c", "c"],
            "date": pd.to_datetime(["2024-01-01"] * 7),
            "score": [10, 6, 8, 9, 3, 0, 2],
        }
    )


@pytest.fixture
def summary() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": ["a", "b", "d"],
            "frequency": [3, 0, 1],
            "recency": [60.0, 0.0, 0.0],
            "T": [100.0, 50.0, 10.0],
            "monetary": [110.0, 0.0, 0.0],
            "orders": [4, 1, 2],
            "total_spend": [400.0, 90.0, 0.0],
            "refunds": [1, 0, 2],
        }
    )


def test_review_counts_by_hand(survey: pd.DataFrame) -> None:
    out = sp.review_counts(survey)
    # a: 10 (promoter), 6 (detractor), 8 (passive) → 3 answers, 1 positive, 1 negative, mean 8.
    # b: 9 → promoter. c: 0, 2 → two detractors, mean 1. The answer without a customer is dropped.
    assert out.index.tolist() == ["a", "b", "c"]
    assert out.loc["a"].tolist() == [3, 1, 1, 8.0]
    assert out.loc["b"].tolist() == [1, 1, 0, 9.0]
    assert out.loc["c"].tolist() == [2, 0, 2, 1.0]
    assert int(out["answers"].sum()) == 6


def test_loyalty_measures_by_hand(summary: pd.DataFrame, survey: pd.DataFrame) -> None:
    wallet = pd.Series({"a": 0.8, "x": 0.1})
    m = sp.loyalty_measures(summary, sp.review_counts(survey), wallet)
    # recency_days = T − recency: 100 − 60 = 40, 50, 10; avg check 400/4 = 100, 90/1 = 90, 0/2 = 0.
    assert m["recency_days"].tolist() == [40.0, 50.0, 10.0]
    assert m["tenure_days"].tolist() == [100.0, 50.0, 10.0]
    assert m["avg_check"].tolist() == [100.0, 90.0, 0.0]
    # d never answered: stated measures missing (not 0); share of wallet known for a only.
    assert m["satisfaction"].tolist()[:2] == [8.0, 9.0] and math.isnan(m["satisfaction"].iloc[2])
    assert m["negative_reviews"].tolist()[:2] == [1.0, 0.0]
    assert m["share_of_wallet"].iloc[0] == 0.8 and m["share_of_wallet"].iloc[1:].isna().all()
    avail = sp.measure_availability(m).set_index("measure")
    # satisfaction 2 of 3, share of wallet 1 of 3, behaviour 3 of 3
    assert avail.loc["satisfaction", "customers"] == 2
    assert avail.loc["share_of_wallet", "share_known"] == pytest.approx(1 / 3)
    assert avail.loc["orders", "share_known"] == 1.0
    assert len(avail) == 7


def test_loyalty_measures_without_survey_keeps_columns(summary: pd.DataFrame) -> None:
    m = sp.loyalty_measures(summary)
    assert {"satisfaction", "positive_reviews", "share_of_wallet"} <= set(m.columns)
    assert m[["satisfaction", "share_of_wallet"]].isna().all().all()
    assert sp.measure_availability(m).set_index("measure").loc["satisfaction", "customers"] == 0


def test_load_share_of_wallet_handles_absence(tmp_path) -> None:
    path = tmp_path / "customers.csv"
    path.write_text("customer_id,share_of_wallet\n007,0.75\n008,\n", encoding="utf-8")
    s = sp.load_share_of_wallet(path)
    assert s.to_dict() == {"007": 0.75}  # leading zeros kept, the blank share dropped
    assert sp.load_share_of_wallet(tmp_path / "missing.csv").empty
    assert sp.load_share_of_wallet(None).empty
    assert sp.load_share_of_wallet(pd.DataFrame({"customer_id": ["a"], "other": [1]})).empty
    with pytest.raises(ValueError, match="0..1"):
        sp.load_share_of_wallet(pd.DataFrame({"customer_id": ["a"], "share_of_wallet": [75.0]}))
    with pytest.raises(TypeError):
        sp.load_share_of_wallet(42)


def test_wallet_bands_by_hand() -> None:
    # ≥ 0.70 loyal: 0.8, 0.7; 0.50–0.70 at risk: 0.69, 0.5; < 0.5: 0.49, 0.1 → 2/6 each.
    r = sp.wallet_bands(pd.Series([0.8, 0.7, 0.69, 0.5, 0.49, 0.1, np.nan]))
    assert r.available and r.n == 6
    assert (r.loyal, r.at_risk, r.easily_switches) == pytest.approx((1 / 3, 1 / 3, 1 / 3))
    assert r.median_share == pytest.approx((0.69 + 0.5) / 2)
    assert "33.3% loyal" in str(r)
    none = sp.wallet_bands(pd.Series(dtype="float64"))
    assert not none.available and "survey question" in str(none)


def test_problem_counts(summary: pd.DataFrame) -> None:
    reviews = pd.DataFrame({"negative": [1, 2]}, index=["a", "c"])
    # a: 1 refund + 1 negative = 2; b: 0; d: 2 refunds, no reviews. c is not in the summary.
    assert sp.problem_counts(summary, reviews).to_dict() == {"a": 2, "b": 0, "d": 2}
    assert sp.problem_counts(summary).to_dict() == {"a": 1, "b": 0, "d": 2}


def _crm_summary() -> pd.DataFrame:
    # inactive days = T − recency: p 10, q 400, r 20, s 30, t 100
    return pd.DataFrame(
        {
            "customer_id": ["p", "q", "r", "s", "t"],
            "orders": [5, 1, 2, 1, 1],
            "total_spend": [5000.0, 100.0, 200.0, 50.0, 70.0],
            "T": [300.0, 400.0, 200.0, 30.0, 100.0],
            "recency": [290.0, 0.0, 180.0, 0.0, 0.0],
        }
    )


def test_categorise_rest_by_hand() -> None:
    s = _crm_summary()
    rules = sg.rule_segments(s, avg_check_gt=500, purchases_gt=3, inactive_days_gt=180)
    # p: avg check 1000 > 500, 5 orders > 3, active → VIP; q inactive 400 > 180 → churning; others
    # uncategorised: 2 of 5 = 40 %.
    assert rules.share_categorised == pytest.approx(0.4)
    other = pd.Series(["regular", "regular", "regular", "new", "one-off"], index=s.index)
    out = sp.categorise_rest(rules, other)
    # q keeps its rule label; r → regular, s → new; t ("one-off" is not filled) stays: 4/5 = 80 %.
    assert out.labels.tolist() == ["VIP", "potentially churning", "regular", "new", "uncategorised"]
    assert out.share_categorised == pytest.approx(0.8) and out.meets_target
    assert out.counts == {"VIP": 1, "new": 1, "potentially churning": 1, "regular": 1}
    assert "80.0% of 5 customers" in str(out) and "meets" in str(out)
    with pytest.raises(ValueError, match="same index"):
        sp.categorise_rest(rules, other.reset_index(drop=True).iloc[:3])


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.sampled_from(["regular", "new", "one-off", "difficult"]), min_size=5, max_size=5)
)
def test_categorise_rest_never_loses_rule_labels(labels: list[str]) -> None:
    s = _crm_summary()
    rules = sg.rule_segments(s, avg_check_gt=500, purchases_gt=3, inactive_days_gt=180)
    out = sp.categorise_rest(rules, pd.Series(labels, index=s.index))
    kept = rules.labels != "uncategorised"
    assert (out.labels[kept] == rules.labels[kept]).all()
    assert out.share_categorised >= rules.share_categorised
    assert sum(out.counts.values()) == round(out.share_categorised * out.n)


def test_segment_profile_by_hand() -> None:
    s = pd.DataFrame(
        {
            "total_spend": [100.0, 300.0, 600.0],
            "orders": [1, 3, 6],
            "monetary": [0.0, 100.0, 110.0],
            "T": [10.0, 20.0, 30.0],
            "recency": [0.0, 10.0, 25.0],
        }
    )
    p = sp.segment_profile(s, pd.Series(["x", "y", "y"])).set_index("segment")
    # y: 2 customers (2/3), revenue 300 + 600 = 900 of 1000, per customer 450, orders (3+6)/2,
    #    repeat spend (100+110)/2 = 105, inactive days 10 and 5 → median 7.5. x: the rest.
    assert p.index.tolist() == ["y", "x"]  # largest revenue first
    assert p.loc["y"].tolist() == pytest.approx([2, 2 / 3, 900, 0.9, 450, 4.5, 105, 7.5])
    assert p.loc["x"].tolist() == pytest.approx([1, 1 / 3, 100, 0.1, 100, 1, 0, 10])
    with pytest.raises(ValueError, match="same index"):
        sp.segment_profile(s, pd.Series(["x", "y"]))


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.sampled_from("abc"), st.floats(0, 1e5)), min_size=1, max_size=30))
def test_segment_profile_shares_add_up(rows: list[tuple[str, float]]) -> None:
    s = pd.DataFrame(
        {
            "total_spend": [r[1] for r in rows],
            "orders": 1,
            "monetary": 0.0,
            "T": 10.0,
            "recency": 0.0,
        }
    )
    p = sp.segment_profile(s, pd.Series([r[0] for r in rows]))
    assert int(p["customers"].sum()) == len(rows)
    assert p["share_customers"].sum() == pytest.approx(1.0)
    if s["total_spend"].sum() > 0:
        assert p["share_revenue"].sum() == pytest.approx(1.0)


def test_repeat_by_nps_group_by_hand() -> None:
    survey = pd.DataFrame(
        {
            "customer_id": ["a", "a", "b", "c", "d", "e", "f", None],
            "date": pd.to_datetime(
                [
                    "2024-06-01",
                    "2024-07-01",
                    "2024-06-01",
                    "2024-05-01",
                    "2024-05-01",
                    "2024-12-15",
                    "2024-03-01",
                    "2024-03-01",
                ]
            ),
            "score": [10, 2, 9, 3, 5, 7, 8, 10],
        }
    )
    tx = pd.DataFrame(
        {
            "customer_id": ["a", "b", "b", "c", "d", "f", "e"],
            "date": pd.to_datetime(
                [
                    "2024-06-15",
                    "2024-06-01",
                    "2024-07-02",
                    "2024-05-31",
                    "2024-05-10",
                    "2024-03-02",
                    "2024-12-20",
                ]
            ),
            "is_refund": [False, False, False, False, True, False, False],
        }
    )
    out = sp.repeat_by_nps_group(survey, tx, within_days=30, observation_end="2024-12-31")
    out = out.set_index("group")
    # Window 30 days → answers after 2024-12-01 are censored (e). First answer per customer (a: 10).
    # promoters a (bought 14 days later: yes), b (same day = 0 days: no; 31 days: too late) → 1/2
    # passive f (next day: yes) → 1/1; detractors c (30 days: yes), d (only a refund: no) → 1/2
    assert out["respondents"].tolist() == [2, 1, 2]
    assert out["repeated"].tolist() == [1, 1, 1]
    assert out["repeat_rate"].tolist() == [0.5, 1.0, 0.5]
    low, high = wilson_by_formula(1, 2)  # ≈ 0.0945, 0.9055
    assert out.loc["promoter", ["ci_low", "ci_high"]].tolist() == pytest.approx([low, high])
    with pytest.raises(ValueError, match="within_days"):
        sp.repeat_by_nps_group(survey, tx, within_days=0)


def test_bad_arguments(summary: pd.DataFrame) -> None:
    with pytest.raises(TypeError):
        sp.loyalty_measures([1, 2])
    with pytest.raises(ValueError, match="lacks"):
        sp.loyalty_measures(summary.drop(columns="orders"))
    with pytest.raises(TypeError):
        sp.wallet_bands([0.5])
    with pytest.raises(TypeError):
        sp.categorise_rest("rules", pd.Series(dtype="str"))
