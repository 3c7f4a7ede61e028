"""Tests for loyalty_lib.churn against hand-worked numbers (each written in the test) and the
samples' ground truth."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from helpers import wilson_by_formula
from hypothesis import given, settings
from hypothesis import strategies as st

from loyalty_lib import churn, samples, segments


def _tx(rows: list[tuple[str, str, bool]]) -> pd.DataFrame:
    df = pd.DataFrame(rows, columns=["customer_id", "date", "is_refund"])
    df["date"] = pd.to_datetime(df["date"])
    df["amount"] = np.where(df["is_refund"], -10.0, 10.0)
    return df


# ------------------------------------------------------------------------ reasons [S6, L3]


def _exit(reasons: list[tuple[str, str]]) -> pd.DataFrame:
    df = pd.DataFrame(reasons, columns=["date", "reason"])
    df["date"] = pd.to_datetime(df["date"])
    df["customer_id"] = [f"c{i}" for i in range(len(df))]
    return df


def test_reason_shares_by_hand() -> None:
    # In the window (2024-12-31, 2025-12-31]: 7 price, 2 quality, 1 other → 70 %, 20 %, 10 %.
    # The 2024-12-31 answer is on the excluded edge of the window and must not count.
    rows = (
        [("2025-03-01", "price")] * 7
        + [("2025-06-01", "quality")] * 2
        + [("2025-12-31", "other"), ("2024-12-31", "price")]
    )
    out = churn.reason_shares(_exit(rows), end="2025-12-31", flag_share=0.3)
    by = out.set_index("reason")
    assert list(out["reason"][:3]) == ["price", "quality", "other"]
    assert by.loc["price", "count"] == 7 and by["count"].sum() == 10
    assert by.loc["price", "share"] == pytest.approx(0.7)
    assert by.loc["service", "share"] == 0
    # Wilson 95 % for 7/10 is (0.3968, 0.8922) (e.g. Newcombe 1998, table I, by the formula above)
    assert by.loc["price", "ci_low"] == pytest.approx(0.39678, abs=1e-4)
    assert by.loc["price", "ci_high"] == pytest.approx(0.89221, abs=1e-4)
    assert by.loc["price", "clearly_flagged"]  # 0.397 ≥ 0.30
    assert by.loc["quality", "flagged"] == False  # noqa: E712  (0.2 < 0.3)
    assert by.loc["price", "cause"] == by.loc["competition", "cause"] == "weak competitiveness"
    assert by.loc["other", "cause"].startswith("natural causes")
    assert by.loc["price", "action"] == "pricing review"


def test_action_for_reason() -> None:
    assert churn.action_for_reason("price") == "pricing review"
    assert churn.action_for_reason("service") == "service and support improvement"
    assert set(churn.REASON_CAUSES) == set(churn.REASON_ACTIONS) == set(segments.CHURN_REASONS)
    with pytest.raises(ValueError, match="reason must be one of"):
        churn.action_for_reason("weather")
    with pytest.raises(ValueError, match="share in 0..1"):
        churn.reason_shares(_exit([("2025-01-01", "price")]), flag_share=35)


@given(st.integers(0, 60), st.integers(1, 60))
@settings(max_examples=60, deadline=None)
def test_wilson_matches_the_formula_and_contains_the_share(k: int, n: int) -> None:
    k = min(k, n)
    lo, hi = churn.wilson_interval(k, n)
    ref_lo, ref_hi = wilson_by_formula(k, n)
    assert lo == pytest.approx(ref_lo, abs=1e-9) and hi == pytest.approx(ref_hi, abs=1e-9)
    assert 0 <= lo <= k / n <= hi <= 1


# ------------------------------------------------------------------------ retention vs benchmark


def test_retention_vs_benchmark_by_hand() -> None:
    tx = _tx(
        [
            ("a", "2024-03-01", False),
            ("a", "2025-02-01", False),  # base, retained
            ("b", "2024-05-01", False),
            ("b", "2025-05-01", True),  # base; a refund is not a purchase
            ("c", "2024-12-31", False),
            ("c", "2025-12-31", False),  # both window edges are inside
            ("d", "2025-06-01", False),  # new in 2025: not in the base
            ("e", "2024-01-01", False),
            ("e", "2026-01-05", False),  # after the end: not retained
        ]
    )
    # base = {a, b, c, e} = 4; retained = {a, c} = 2 → 50 %
    res = churn.retention_vs_benchmark(tx, 0.4, end="2025-12-31")
    assert (res.base, res.retained) == (4, 2)
    assert res.retention == pytest.approx(0.5)
    assert (res.ci_low, res.ci_high) == pytest.approx(wilson_by_formula(2, 4))
    assert res.verdict == "in line with"  # 0.4 is inside (0.15, 0.85)
    assert churn.retention_vs_benchmark(tx, 0.1, end="2025-12-31").verdict == "above"
    assert churn.retention_vs_benchmark(tx, 0.9, end="2025-12-31").verdict == "below"
    assert "12-month retention 50.0%" in str(res) and "benchmark of 40%" in str(res)


def test_retention_needs_history_and_a_share() -> None:
    tx = _tx([("a", "2025-03-01", False), ("a", "2025-04-01", False)])
    with pytest.raises(ValueError, match="need 24 months of history"):
        churn.retention_vs_benchmark(tx, 0.4, end="2025-12-31")
    with pytest.raises(ValueError, match="share in 0..1"):
        churn.retention_vs_benchmark(tx, 40, end="2025-12-31")


def test_retention_allows_history_to_start_a_few_days_into_the_window() -> None:
    # Earlier window 2024-01-01..2024-12-31; sales start on 2 January (the grace is 14 days).
    late_start = _tx(
        [("a", "2024-01-02", False), ("a", "2025-03-01", False), ("b", "2024-06-01", False)]
    )
    res = churn.retention_vs_benchmark(late_start, 0.4, end="2025-12-31")
    assert (res.base, res.retained) == (2, 1)
    too_late = _tx([("a", "2024-01-16", False), ("a", "2025-03-01", False)])
    with pytest.raises(ValueError, match="more than 14 days after"):
        churn.retention_vs_benchmark(too_late, 0.4, end="2025-12-31")


# ------------------------------------------------------------------------ rule inputs [S4]


def test_review_counts_by_hand() -> None:
    survey = pd.DataFrame(
        {
            "customer_id": ["x", "x", "x", "y", "z", None, "y"],
            "date": pd.to_datetime(["2025-01-01"] * 6 + ["2026-02-01"]),
            "score": [10, 9, 6, 0, 8, 3, 2],
        }
    )
    rc = churn.review_counts(survey, end="2025-12-31")
    # x: 10, 9 positive, 6 negative; y: 0 negative (its 2026 answer is after the end); z: passive
    counts = ["positive", "negative", "answers"]
    assert rc.loc["x", counts].tolist() == [2, 1, 3]
    assert rc.loc["y", counts].tolist() == [0, 1, 1]
    assert rc.loc["z", counts].tolist() == [0, 0, 1]
    # mean scores: x (10 + 9 + 6) / 3 = 25/3, y 0, z 8
    assert rc["satisfaction"].tolist() == pytest.approx([25 / 3, 0.0, 8.0])
    assert len(rc) == 3  # the anonymous answer is dropped
    with pytest.raises(ValueError, match="0–10"):
        churn.review_counts(survey.assign(score=[11, 0, 0, 0, 0, 0, 0]))
    # nothing up to the end: no customer has reviews yet (an empty table, not an error)
    none = churn.review_counts(survey, end="2024-12-31")
    assert none.empty and list(none.columns) == ["answers", "positive", "negative", "satisfaction"]


def test_review_counts_is_one_function_for_both_lessons() -> None:
    from loyalty_lib import segment_profiles

    assert segment_profiles.review_counts is churn.review_counts


def test_review_counts_feed_the_churn_rule() -> None:
    # summary: a inactive 10 days, b inactive 200 days; a has 2 negative reviews
    summary = pd.DataFrame(
        {"customer_id": ["a", "b"], "T": [300.0, 300.0], "recency": [290.0, 100.0]}
    )
    survey = pd.DataFrame(
        {"customer_id": ["a", "a"], "date": pd.to_datetime(["2025-01-01"] * 2), "score": [3, 5]}
    )
    reviews = churn.review_counts(survey)
    flag = segments.churn_risk(summary, inactive_days=180, reviews=reviews, negative_reviews_gt=1)
    assert flag.tolist() == [True, True]
    flag = segments.churn_risk(summary, inactive_days=180, reviews=reviews, negative_reviews_gt=2)
    assert flag.tolist() == [False, True]


def test_gap_quantiles_by_hand() -> None:
    tx = _tx(
        [
            ("a", "2025-01-01", False),
            ("a", "2025-01-01", False),  # same day: no gap
            ("a", "2025-01-11", False),
            ("a", "2025-01-31", False),  # gaps 10, 20
            ("b", "2025-01-01", False),
            ("b", "2025-02-10", False),  # gap 40
            ("b", "2025-03-01", True),  # refund: not a purchase
            ("c", "2025-01-05", False),
        ]
    )  # one day: no gap
    q = churn.gap_quantiles(tx, quantiles=(0.5, 0.75))
    # gaps [10, 20, 40]: median 20; 75 % at position 1.5 → 20 + 0.5 × 20 = 30 (linear)
    assert q.tolist() == [20.0, 30.0]
    assert list(q.index) == ["50%", "75%"]


# ------------------------------------------------------------------------ loyalty matrix [S7, S8]


def test_loyalty_matrix_by_hand() -> None:
    tx = _tx(
        [
            ("L", "2025-03-01", False),
            ("L", "2025-09-01", False),  # repeat
            ("F", "2025-02-01", False),
            ("F", "2025-02-02", False),  # repeat
            ("T", "2024-06-01", False),
            ("T", "2025-05-01", False),  # one day in the window
            ("R", "2025-04-01", False),
            ("R", "2025-04-01", False),  # two rows, one day
            ("P", "2025-01-10", False),
            ("P", "2025-11-10", False),  # repeat
            ("N", "2025-01-10", False),  # not surveyed
        ]
    )
    survey = pd.DataFrame(
        {
            "customer_id": ["L", "F", "T", "R", "P", "L", "F"],
            "date": pd.to_datetime(
                [
                    "2025-06-01",
                    "2025-06-01",
                    "2025-06-01",
                    "2025-06-01",
                    "2025-06-01",
                    "2024-06-01",
                    "2026-01-10",
                ]
            ),
            "score": [
                9,
                3,
                10,
                6,
                8,
                2,
                10,
            ],  # L's older 2 and F's later 10 are not the latest by the end
        }
    )
    m = churn.loyalty_matrix(tx, survey, end="2025-12-31")
    kinds = m.customers.set_index("customer_id")["kind"].to_dict()
    assert kinds == {"F": "forced", "L": "loyal", "P": "passive", "R": "at risk", "T": "latent"}
    assert (m.n, m.loyal, m.forced, m.latent, m.at_risk, m.passive) == (5, 1, 1, 1, 1, 1)
    assert m.table.loc["repeat"].tolist() == [1, 1, 1]  # F detractor, P passive, L promoter
    assert m.table.loc["no repeat"].tolist() == [1, 0, 1]  # R detractor, T promoter
    assert m.customers.set_index("customer_id").loc["R", "purchase_days"] == 1
    # one purchase day is enough when the behaviour threshold is 1: T becomes loyal
    m1 = churn.loyalty_matrix(tx, survey, end="2025-12-31", min_purchase_days=1)
    assert m1.customers.set_index("customer_id").loc["T", "kind"] == "loyal"


def test_attitude_adds_to_behaviour_on_the_samples() -> None:
    # The generator makes customers with an unsolved problem both less satisfied and quicker to
    # leave, so within each behaviour the detractors must churn more often than the promoters.
    d = samples.generate(n_customers=800, seed=5)
    m = churn.loyalty_matrix(d.transactions, d.survey, end="2025-12-31")
    truth = d.customers.set_index("customer_id")["is_churned_by_end"]
    rate = (
        m.customers.assign(churned=m.customers["customer_id"].map(truth).astype(bool))
        .groupby("kind")["churned"]
        .mean()
    )
    assert rate["forced"] > rate["loyal"]
    assert rate["at risk"] > rate["latent"]
    assert rate["at risk"] > rate["loyal"]


# ------------------------------------------------------------------------ checking flags


def test_compare_flags_by_hand() -> None:
    flag = [True, True, True, False, False, False, False, True]
    ref = [True, True, False, True, False, False, False, False]
    # both 2, flag only 2, reference only 1, neither 3 → agreement 5/8, precision 2/4, recall 2/3
    res = churn.compare_flags(np.array(flag), np.array(ref), reference_name="P(alive)")
    assert (res.both, res.flag_only, res.reference_only, res.neither) == (2, 2, 1, 3)
    assert res.agreement == pytest.approx(5 / 8)
    assert res.precision == pytest.approx(0.5) and res.recall == pytest.approx(2 / 3)
    assert res.table.to_numpy().tolist() == [[2, 2], [1, 3]]
    assert list(res.table.columns) == ["P(alive): churn", "P(alive): active"]
    with pytest.raises(TypeError, match="boolean"):
        churn.compare_flags(np.array([1, 0]), np.array([True, False]))
    with pytest.raises(ValueError, match="equal length"):
        churn.compare_flags(np.array([True]), np.array([True, False]))


@given(st.lists(st.tuples(st.booleans(), st.booleans()), min_size=1, max_size=40))
@settings(max_examples=80, deadline=None)
def test_compare_flags_invariants(pairs: list[tuple[bool, bool]]) -> None:
    a = np.array([p[0] for p in pairs])
    b = np.array([p[1] for p in pairs])
    res = churn.compare_flags(a, b)
    swapped = churn.compare_flags(b, a)
    assert res.both + res.flag_only + res.reference_only + res.neither == len(pairs)
    assert res.agreement == pytest.approx(np.mean(a == b))
    assert swapped.agreement == res.agreement
    assert (
        math.isnan(res.precision) and math.isnan(swapped.recall)
    ) or res.precision == swapped.recall


def test_truth_check_with_and_without_truth(tmp_path) -> None:
    truth = pd.DataFrame(
        {
            "customer_id": ["a", "b", "c", "d"],
            "churn_date": ["2025-03-01", "", "2026-02-01", "2025-10-01"],
        }
    )
    path = tmp_path / "customers_truth.csv"
    truth.to_csv(path, index=False)
    flag = pd.Series([True, False, True, True, True], index=["a", "b", "c", "d", "zz"])
    res = churn.truth_check(flag, path, observation_end="2025-12-31")
    # truly churned by the end: a, d (c leaves after the end); flagged a, c, d; zz unknown
    assert res.available and res.unmatched == 1
    assert (
        res.result.both,
        res.result.flag_only,
        res.result.reference_only,
        res.result.neither,
    ) == (2, 1, 0, 1)
    assert "customers_truth.csv" in str(res) and str(tmp_path) not in str(res)
    # aligned by position with explicit ids, and without an end every churn date counts
    res2 = churn.truth_check(pd.Series([True, False]), path, customer_ids=["c", "b"])
    assert (res2.result.both, res2.result.neither) == (1, 1)
    missing = churn.truth_check(flag, tmp_path / "nope" / "customers_truth.csv")
    assert not missing.available and missing.result is None
    assert str(missing).startswith("no ground truth")
    assert str(tmp_path) not in str(missing) and str(tmp_path) not in missing._repr_html_()


def test_rule_beats_chance_against_the_samples_truth(tmp_path) -> None:
    # On generated data with known churn, "no purchase for 180 days" must be right far more
    # often than the base rate: precision above the share of churners, recall above one half.
    d = samples.generate(n_customers=500, seed=3)
    truth_file = tmp_path / "customers_truth.csv"
    d.customers.to_csv(truth_file, index=False)
    summary = segments.customer_summary(d.transactions, observation_end="2025-12-31")
    flag = segments.churn_risk(summary, inactive_days=180)
    res = churn.truth_check(
        flag, truth_file, customer_ids=summary["customer_id"], observation_end="2025-12-31"
    )
    base_rate = d.customers["is_churned_by_end"].mean()
    assert res.result.n == len(summary)
    assert res.result.precision > base_rate + 0.2
    assert res.result.recall > 0.5


def test_churn_by_cohort_by_hand() -> None:
    summary = pd.DataFrame(
        {
            "first_purchase": pd.to_datetime(
                ["2024-01-05", "2024-02-01", "2024-03-30", "2024-04-02", "2025-12-01"]
            ),
            "T": [726.0, 699.0, 641.0, 638.0, 30.0],
        }
    )
    flag = pd.Series([True, False, True, False, False])
    out = churn.churn_by_cohort(summary, flag, freq="Q", inactive_days=90)
    # 2024Q1: 3 customers, 2 flagged → 2/3; 2024Q2: 1, 0 → 0; 2025Q4: 1 too new → NaN
    assert out["cohort"].tolist() == ["2024Q1", "2024Q2", "2025Q4"]
    assert out["customers"].tolist() == [3, 1, 1] and out["too_new"].tolist() == [0, 0, 1]
    assert out["share"].iloc[0] == pytest.approx(2 / 3) and out["share"].iloc[1] == 0
    assert math.isnan(out["share"].iloc[2])
    with pytest.raises(ValueError, match="summary's index"):
        churn.churn_by_cohort(summary, flag.iloc[:2])
