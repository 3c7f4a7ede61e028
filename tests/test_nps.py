"""Tests for loyalty_lib.nps against hand calculations, a bootstrap and simulated coverage."""

from __future__ import annotations

import math

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from loyalty_lib import nps as N
from loyalty_lib.plots import nps as P

Z95 = 1.959963984540054  # Φ⁻¹(0.975), from statistical tables


def _phi_two_sided_p(z: float) -> float:
    # Two-sided normal p-value by hand (no scipy): 2·(1 − Φ(|z|)) = erfc(|z|/√2).
    return math.erfc(abs(z) / math.sqrt(2))


# --- the score and its interval ------------------------------------------------------------------


def test_hand_calculation_50_30_20():
    # p_P = 0.5, p_D = 0.2 → NPS = 30; Var = 0.5 + 0.2 − 0.3² = 0.61;
    # SE = 100·√(0.61/100) = 7.81025; CI = 30 ± 1.96·7.81025 = 30 ± 15.3078.
    r = N.nps_from_counts(50, 30, 20)
    assert r.score == pytest.approx(30.0)
    assert r.se == pytest.approx(7.810250, abs=1e-6)
    assert r.ci_low == pytest.approx(30 - 15.30781, abs=1e-4)
    assert r.ci_high == pytest.approx(30 + 15.30781, abs=1e-4)
    assert (r.n, r.promoters, r.passives, r.detractors) == (100, 50, 30, 20)
    assert (r.share_promoters, r.share_passives, r.share_detractors) == (0.5, 0.3, 0.2)


def test_sentence():
    # 45/33/22: NPS 23; Var = 0.45 + 0.22 − 0.23² = 0.6171; SE = 7.8556; ±15.397 → 7.6 .. 38.4.
    r = N.nps([10] * 45 + [8] * 33 + [3] * 22)
    assert str(r) == (
        "NPS +23.0 (95% CI +7.6 to +38.4, n=100: 45% promoters, 33% passives, 22% detractors)"
    )
    assert r.to_dict()["n"] == 100
    assert "<table>" in r._repr_html_()


def test_groups_boundaries():
    # [N2]: 0–6 detractors, 7–8 passives, 9–10 promoters.
    r = N.nps(list(range(11)))
    assert (r.detractors, r.passives, r.promoters) == (7, 2, 2)
    assert N.nps_group(pd.Series([6, 7, 8, 9, 0, 10], index=list("abcdef"))).to_dict() == {
        "a": "detractor",
        "b": "passive",
        "c": "passive",
        "d": "promoter",
        "e": "detractor",
        "f": "promoter",
    }


def test_ci_clipped_to_range():
    # 9 promoters, 1 detractor: NPS 80, SE = 100·√((1 − 0.64)/10) = 18.97 → upper bound > 100, clipped.
    r = N.nps_from_counts(9, 0, 1)
    assert r.se == pytest.approx(100 * math.sqrt(0.36 / 10))
    assert r.ci_high == 100.0
    assert r.ci_low == pytest.approx(80 - Z95 * r.se)


@pytest.mark.parametrize(
    ("bad", "value_text", "position"),
    [
        ([5, 11, 3], "11", "position 1"),
        ([-1, 5], "-1", "position 0"),
        ([5, 7.5], "7.5", "position 1"),
        ([5, 6, float("nan")], "nan", "position 2"),
        ([5, "7"], "'7'", "position 1"),
        (pd.Series([3, 4, 12], index=["r1", "r2", "r3"]), "12", "index 'r3'"),
        (pd.Series(["9", "x"]), "'9'", "position 0"),
    ],
)
def test_bad_scores_named(bad, value_text, position):
    with pytest.raises(ValueError) as err:
        N.nps(bad)
    assert value_text in str(err.value)
    assert position in str(err.value)
    assert "0 to 10" in str(err.value)


def test_empty_and_wrong_types():
    with pytest.raises(ValueError, match="empty"):
        N.nps([])
    with pytest.raises(ValueError, match="empty"):
        N.nps(pd.Series([], dtype="Int64"))
    with pytest.raises(TypeError):
        N.nps("9910")
    with pytest.raises(TypeError):
        N.nps([True, False])
    with pytest.raises(ValueError, match="no respondents"):
        N.nps_from_counts(0, 0, 0)
    with pytest.raises(ValueError):
        N.nps_from_counts(-1, 2, 3)


def test_accepts_float_and_nullable_integer_scores():
    assert N.nps(np.array([9.0, 10.0, 0.0])).score == pytest.approx(100 * (2 - 1) / 3)
    assert N.nps(pd.Series([9, 7, 3], dtype="Int64")).score == pytest.approx(0.0)


def test_bootstrap_se_agrees():
    # Second method: bootstrap the mean of X ∈ {+1, 0, −1} by resampling respondents.
    rng = np.random.default_rng(20250301)
    scores = rng.choice(np.arange(11), size=400, p=[0.03] * 7 + [0.15, 0.17] + [0.23, 0.24])
    r = N.nps(scores)
    x = np.where(scores >= 9, 1, np.where(scores <= 6, -1, 0))
    boot = rng.choice(x, size=(4000, x.size), replace=True).mean(axis=1) * 100
    assert boot.std(ddof=1) == pytest.approx(r.se, rel=0.05)


def test_ci_coverage_near_95_percent():
    # True NPS = 100·(0.45 − 0.22) = 23; the interval should cover it in ≈95 % of samples.
    rng = np.random.default_rng(7)
    counts = rng.multinomial(300, [0.45, 0.33, 0.22], size=2000)
    covered = [(r := N.nps_from_counts(*c)).ci_low <= 23.0 <= r.ci_high for c in counts.tolist()]
    assert 0.93 <= np.mean(covered) <= 0.97


@settings(max_examples=150, deadline=None)
@given(
    st.integers(0, 500),
    st.integers(0, 500),
    st.integers(0, 500),
)
def test_invariants_from_counts(p, pa, d):
    if p + pa + d == 0:
        return
    r = N.nps_from_counts(p, pa, d)
    assert -100 <= r.ci_low <= r.score <= r.ci_high <= 100
    assert r.share_promoters + r.share_passives + r.share_detractors == pytest.approx(1.0)
    assert r.score == pytest.approx(100 * (p - d) / (p + pa + d))


@settings(max_examples=100, deadline=None)
@given(st.lists(st.integers(0, 10), min_size=1, max_size=200))
def test_nps_equals_nps_from_counts(scores):
    counts = (
        sum(s >= 9 for s in scores),
        sum(7 <= s <= 8 for s in scores),
        sum(s <= 6 for s in scores),
    )
    assert N.nps(scores) == N.nps_from_counts(*counts)


# --- groups and waves ----------------------------------------------------------------------------


@pytest.fixture
def survey() -> pd.DataFrame:
    # March: 3 promoters, 1 detractor (NPS 50); April: 1 promoter, 1 passive, 2 detractors (−25).
    return pd.DataFrame(
        {
            "respondent_id": [f"r{i}" for i in range(8)],
            "date": pd.to_datetime(
                ["2025-03-02", "2025-03-15", "2025-03-31", "2025-03-05"]
                + ["2025-04-01", "2025-04-10", "2025-04-20", "2025-04-30"]
            ),
            "score": [10, 9, 9, 2, 10, 7, 0, 6],
            "store": ["A", "B", "A", "B", "A", "A", "B", "B"],
            "comment": [
                "",
                "Всё отлично",
                "Great staff",
                "Слишком дорого!",
                None,
                "Курьер опоздал, и цены высокие",
                "Rude cashier at checkout",
                "Нет нужного размера в наличии",
            ],
        }
    )


def test_nps_by_wave_derived_from_date(survey):
    table = N.nps_by(survey, "wave")
    assert table["wave"].tolist() == ["2025-03", "2025-04"]
    assert table["score"].tolist() == pytest.approx([50.0, -25.0])
    assert table["n"].tolist() == [4, 4]


def test_nps_by_several_columns(survey):
    table = N.nps_by(survey, ["wave", "store"])
    # March, store A: scores 10, 9 → NPS 100; April, store B: 0, 6 → −100.
    row = table.set_index(["wave", "store"])
    assert row.loc[("2025-03", "A"), "score"] == pytest.approx(100.0)
    assert row.loc[("2025-04", "B"), "score"] == pytest.approx(-100.0)
    assert row["n"].sum() == 8
    with pytest.raises(ValueError, match="no column"):
        N.nps_by(survey, "region")


def test_trend_change_matches_compare(survey):
    trend = N.nps_trend(survey)
    assert trend["wave"].tolist() == ["2025-03", "2025-04"]
    assert math.isnan(trend.loc[0, "change"])
    # March 3/0/1, April 1/1/2: change −75; SE² = 100²·(0.75/4 − 0.5²... by formula
    # Var_M = 0.75 + 0.25 − 0.5² = 0.75, Var_A = 0.25 + 0.5 − 0.25² = 0.6875;
    # SE = 100·√(0.75/4 + 0.6875/4) = 59.95 → z = −1.2511, p = 0.2109.
    se = 100 * math.sqrt(0.75 / 4 + 0.6875 / 4)
    assert trend.loc[1, "change"] == pytest.approx(-75.0)
    assert trend.loc[1, "change_p_value"] == pytest.approx(_phi_two_sided_p(-75 / se))
    assert not trend.loc[1, "change_significant"]


def test_trend_quarterly_and_bad_freq(survey):
    assert N.nps_trend(survey, freq="Q")["wave"].tolist() == ["2025Q1", "2025Q2"]
    with pytest.raises(ValueError, match="freq"):
        N.nps_trend(survey, freq="Y")


# --- comparing samples ---------------------------------------------------------------------------


def test_compare_against_hand_z_test():
    # Before 40/30/30: NPS 10, Var = 0.7 − 0.1² = 0.69; after 50/30/20: NPS 30, Var 0.61.
    # SE_diff = 100·√(0.69/100 + 0.61/100) = 11.40175; z = 20/11.40175 = 1.75412; p ≈ 0.0794.
    d = N.compare(N.nps_from_counts(40, 30, 30), N.nps_from_counts(50, 30, 20))
    se = 100 * math.sqrt(0.0130)
    assert d.diff == pytest.approx(20.0)
    assert d.se == pytest.approx(se)
    assert d.p_value == pytest.approx(_phi_two_sided_p(20 / se), rel=1e-9)
    assert d.p_value == pytest.approx(0.0794, abs=5e-4)
    assert not d.significant
    assert d.ci_low == pytest.approx(20 - Z95 * se)
    assert str(d) == (
        "NPS changed by +20.0 points (95% CI -2.3 to +42.3, p=0.079): not significant at 5%"
    )


def test_compare_raw_scores_and_significance():
    before = [0] * 40 + [10] * 60  # NPS 20
    after = [0] * 10 + [10] * 90  # NPS 80
    d = N.compare(before, after)
    assert d.diff == pytest.approx(60.0)
    assert d.significant
    assert str(d).endswith(": significant at 5%")
    assert d == N.compare(N.nps(before), N.nps(after))


# --- interpretation ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("score", "band"),
    [
        (-5, "negative"),
        (0, "low"),
        (10, "low"),  # "up to 10" [N6]
        (10.1, "moderate"),
        (45, "moderate"),  # "around 45" [N6]
        (50, "market leader"),  # 50–80 [N6]
        (80, "market leader"),
        (80.5, "exceptional"),
        (100, "exceptional"),
    ],
)
def test_bands(score, band):
    assert N.interpret(score).band == band


def test_interpret_industry_gap():
    # Retail benchmark 50 [N7]: 23.4 is 26.6 points below.
    i = N.interpret(N.nps_from_counts(45, 33, 22), industry="retail")
    assert i.benchmark == 50.0
    assert i.gap == pytest.approx(23.0 - 50.0)
    assert "27.0 points below the shops and supermarkets benchmark of 50" in str(i)
    assert N.interpret(60, "car_sales").gap == 0.0
    with pytest.raises(ValueError, match="known: clinic, banking, telecom"):
        N.interpret(30, industry="airlines")
    with pytest.raises(ValueError, match="between -100 and 100"):
        N.interpret(130)


def test_benchmark_table_matches_seed():
    # [N7]: clinics 20, banking 25, telecom 25, insurance 35, retail 50, car sales 60.
    table = N.benchmarks_table().set_index("key")["nps"].to_dict()
    assert table == {
        "clinic": 20,
        "banking": 25,
        "telecom": 25,
        "insurance": 35,
        "retail": 50,
        "car_sales": 60,
    }
    assert "source" in N.benchmarks_table().attrs
    assert N.bands_table()["band"].tolist()[0] == "negative"


# --- sample size ---------------------------------------------------------------------------------


def test_sample_size_worst_case_by_hand():
    # Var = 1 at (0.5, 0.5): n = ⌈1.96² / 0.05²⌉ = ⌈1536.58⌉ = 1537 for ±5 points.
    assert N.sample_size(5) == 1537
    # (0.45, 0.22): Var = 0.6171 → n = ⌈3.841459·0.6171/0.01⌉ = ⌈237.06⌉ = 238 for ±10 points.
    assert N.sample_size(10, expected_shares=(0.45, 0.22)) == 238


@settings(max_examples=100, deadline=None)
@given(
    st.floats(0.5, 40),
    st.floats(0.01, 0.7),
    st.floats(0.01, 0.29),
    st.sampled_from([0.8, 0.9, 0.95, 0.99]),
)
def test_sample_size_inverts_margin(margin, p_p, p_d, confidence):
    n = N.sample_size(margin, expected_shares=(p_p, p_d), confidence=confidence)
    assert N.margin_of_error(n, p_p, p_d, confidence=confidence) <= margin + 1e-9
    if n > 1:
        assert N.margin_of_error(n - 1, p_p, p_d, confidence=confidence) > margin


def test_sample_size_rejects_bad_input():
    with pytest.raises(ValueError):
        N.sample_size(0)
    with pytest.raises(ValueError, match="≤ 1"):
        N.sample_size(5, expected_shares=(0.7, 0.5))


def test_margin_matches_result_halfwidth():
    r = N.nps_from_counts(50, 30, 20)
    assert N.margin_of_error(100, 0.5, 0.2) == pytest.approx(r.score - r.ci_low)


# --- comment themes ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("comment", "theme"),
    [
        ("Слишком ДОРОГО", "price"),
        ("цены кусаются", "price"),
        ("Too expensive for what it is", "price"),
        ("Overpriced", "price"),
        ("Pricing is unclear", "price"),
        ("Оценка хорошая", "other"),  # "оценка" contains "цен" but does not start with it
        ("Курьер опоздал на два часа", "delivery"),
        ("Delivery was late", "delivery"),
        ("Хамство кассира", "staff"),
        ("Rude staff", "staff"),
        ("Долгое обслуживание, очередь", "service"),
        ("Support never answered", "service"),
        ("Ручка сломалась через день, брак", "quality"),
        ("Poor quality, broke quickly", "quality"),
        ("Маленький ассортимент", "assortment"),
        ("Нужного размера не было в наличии", "assortment"),
        ("Out of stock again", "assortment"),
        ("ЁЛКИ, ДОСТАВКА ужасная", "delivery"),
        ("Всё хорошо", "other"),
        ("", "no comment"),
        ("   ", "no comment"),
        (None, "no comment"),
    ],
)
def test_tag_single_comments(comment, theme):
    assert N.tag_comments(pd.Series([comment]))["theme"].iloc[0] == theme


def test_yo_and_priority():
    tags = N.tag_comments(pd.Series(["Дёшево, но курьер грубый"], index=["x"]))
    # "дешев" (ё → е) matches price; "курьер" delivery; "груб" staff. Price comes first.
    assert tags.loc["x", ["price", "delivery", "staff", "service"]].tolist() == [
        True,
        True,
        True,
        False,
    ]
    assert tags.loc["x", "theme"] == "price"
    assert list(tags.columns) == [*N.THEME_PRIORITY, "theme"]


def test_theme_shares_by_hand(survey):
    # Detractors and passives: rows 3 (price), 5 (delivery + price → price),
    # 6 (staff + service → staff), 7 (assortment); 4 comments.
    shares = N.theme_shares(survey).set_index("theme")
    assert shares.attrs["n_comments"] == 4
    assert shares.loc["price", "n_primary"] == 2
    assert shares.loc["price", "share_primary"] == pytest.approx(0.5)
    assert shares.loc["delivery", "n_mentions"] == 1
    assert shares.loc["service", "n_primary"] == 0
    assert shares.loc["service", "n_mentions"] == 1
    assert shares["share_primary"].sum() == pytest.approx(1.0)
    # Promoters only: "Всё отлично" (other), "Great staff" (staff); row 0 and 4 have no comment.
    promo = N.theme_shares(survey, groups=("promoter",)).set_index("theme")
    assert promo.attrs["n_comments"] == 2
    assert promo.loc["other", "n_primary"] == 1
    with pytest.raises(ValueError, match="groups"):
        N.theme_shares(survey, groups=("fans",))


def test_questions_present():
    assert "0 to 10" in N.SURVEY_QUESTION
    assert "10" in N.FOLLOW_UP_QUESTION


# --- plots ---------------------------------------------------------------------------------------


def test_distribution_plot(survey):
    fig, ax = plt.subplots()
    out = P.nps_distribution(survey["score"], ax=ax)
    assert out is ax
    heights = [p.get_height() for p in ax.patches]
    assert heights == [1, 0, 1, 0, 0, 0, 1, 1, 0, 2, 2]  # counts of 0..10 in the fixture
    assert "NPS +12.5" in ax.get_title()  # 4 promoters, 3 detractors of 8
    plt.close(fig)


def test_trend_and_theme_plots(survey):
    ax = P.nps_trend(N.nps_trend(survey), benchmark="retail")
    assert any(line.get_ydata()[0] == 50 for line in ax.get_lines())
    assert "NPS" in ax.get_ylabel()
    ax2 = P.theme_bars(N.theme_shares(survey))
    assert max(p.get_width() for p in ax2.patches) == pytest.approx(50.0)
    with pytest.raises(ValueError, match="unknown industry"):
        P.nps_trend(N.nps_trend(survey), benchmark="airlines")
    plt.close("all")


# --- acting on the score: passives, triggers, post-purchase waves ---------------------------------


def test_what_if_passives_convert_by_hand():
    # 50/30/20 (NPS 30). Half the passives (15) become promoters: 65/15/20 → NPS 45.
    base = N.nps_from_counts(50, 30, 20)
    after = N.what_if_passives_convert(base, 0.5)
    assert (after.promoters, after.passives, after.detractors) == (65, 15, 20)
    assert after.score == pytest.approx(45.0)
    # A quarter of 30 is 7.5 people → 8 move (round half to even): 58/22/20 → NPS 38.
    assert N.what_if_passives_convert(base, 0.25).score == pytest.approx(38.0)
    assert N.what_if_passives_convert(base, 0) == base
    with pytest.raises(ValueError, match="between 0 and 1"):
        N.what_if_passives_convert(base, 1.5)
    with pytest.raises(TypeError, match="NPSResult"):
        N.what_if_passives_convert(30.0, 0.5)


@settings(max_examples=50, deadline=None)
@given(st.integers(0, 300), st.integers(0, 300), st.integers(0, 300), st.floats(0, 1))
def test_what_if_gain_is_moved_over_n(p, pa, d, share):
    if p + pa + d == 0:
        return
    base = N.nps_from_counts(p, pa, d)
    after = N.what_if_passives_convert(base, share)
    moved = after.promoters - p
    # A passive counts 0 and a promoter +1: the score rises by 100·moved/n, n unchanged.
    assert 0 <= moved <= pa
    assert after.n == base.n and after.detractors == d
    assert after.score - base.score == pytest.approx(100 * moved / base.n)


def test_conversion_scenarios_table():
    # 40/40/20, n = 100: converting 10 % (4), 25 % (10), 50 % (20) adds 4, 10, 20 points to 20.
    table = N.conversion_scenarios(N.nps_from_counts(40, 40, 20))
    assert table["passives_converted"].tolist() == [4, 10, 20]
    assert table["score"].tolist() == pytest.approx([24.0, 30.0, 40.0])
    assert table["gain"].tolist() == pytest.approx([4.0, 10.0, 20.0])


@pytest.fixture
def small_tx() -> pd.DataFrame:
    # Jan–Mar: A 100 (Jan, first), B 200 (Feb, first), A refund −50 (Mar).
    # Apr–Jun: C 90 (Apr, first), A 120 (May). July row is after as_of and must be ignored.
    return pd.DataFrame(
        {
            "customer_id": ["A", "B", "A", "C", "A", "D"],
            "date": pd.to_datetime(
                ["2025-01-05", "2025-02-10", "2025-03-01", "2025-04-02", "2025-05-20", "2025-07-01"]
            ),
            "amount": [100.0, 200.0, -50.0, 90.0, 120.0, 999.0],
            "is_refund": [False, False, True, False, False, False],
            "store": ["X", "Y", "X", "Y", "Z", "X"],
            "channel": ["store", "app", "store", "online", "app", "store"],
        }
    )


def test_measurement_triggers_by_hand(small_tx):
    # Previous (Jan–Mar): average check (100+200)/2 = 150; spend/customer (300−50)/2 = 125;
    # new customers 2. Last (Apr–Jun): 105; 210/2 = 105; 1 (C; D is after as_of).
    # Changes: −30 %, −16 %, −50 %. With min_drop 0.2, the 16 % fall does not trigger.
    t = N.measurement_triggers(small_tx, as_of="2025-06-30", months=3, min_drop=0.2)
    t = t.set_index("signal")
    assert t["previous"].tolist()[:3] == pytest.approx([150.0, 125.0, 2.0])
    assert t["last"].tolist()[:3] == pytest.approx([105.0, 105.0, 1.0])
    assert t.loc["spend_per_customer", "change"] == pytest.approx(105 / 125 - 1)
    assert t["triggered"].tolist()[:3] == [True, False, True]
    assert pd.isna(t.loc["new_products", "triggered"])
    assert t.attrs["windows"] == ("2025-01..2025-03", "2025-04..2025-06")
    assert set(t["trigger"]) == set(N.MEASUREMENT_TRIGGERS.values())
    with pytest.raises(ValueError, match="both windows"):
        N.measurement_triggers(small_tx, as_of="2025-02-28", months=3)
    with pytest.raises(ValueError, match="months"):
        N.measurement_triggers(small_tx, as_of="2025-06-30", months=0)


def test_feedback_wave_labels():
    # [N11]: 0–2 days right after, 5–9 after a week, 25–35 after a month.
    days = [0, 2, 3, 7, 30, 40, None]
    assert N.feedback_wave(days).tolist() == [
        "right after purchase",
        "right after purchase",
        "other timing",
        "after a week",
        "after a month",
        "other timing",
        "not linked",
    ]
    with pytest.raises(ValueError, match="≥ 0"):
        N.feedback_wave([-1])


def test_link_purchases_by_hand(small_tx):
    survey = pd.DataFrame(
        {
            "customer_id": ["A", "A", "C", None, "B"],
            "date": pd.to_datetime(
                ["2025-01-06", "2025-03-02", "2025-04-02", "2025-04-03", "2025-02-01"]
            ),
            "score": [9, 3, 7, 10, 8],
        },
        index=["r1", "r2", "r3", "r4", "r5"],
    )
    out = N.link_purchases(survey, small_tx)
    assert list(out.index) == ["r1", "r2", "r3", "r4", "r5"]
    # r1: A's order of 01-05, 1 day. r2: the 03-01 row is a refund, so still 01-05: 56 days.
    # r3: C's order the same day, 0 days. r4 anonymous; r5 answered before B's first order.
    assert out["days_since_purchase"].tolist()[:3] == [1, 56, 0]
    assert out["days_since_purchase"].isna().tolist() == [False, False, False, True, True]
    assert out["feedback_wave"].tolist() == [
        "right after purchase",
        "other timing",
        "right after purchase",
        "not linked",
        "not linked",
    ]
    assert out.loc["r3", "channel"] == "online" and out.loc["r1", "store"] == "X"
    by_store = N.nps_by(out.dropna(subset=["store"]), "store").set_index("store")
    assert by_store.loc["X", "n"] == 2  # r1 (9) and r2 (3): one promoter, one detractor → 0
    assert by_store.loc["X", "score"] == pytest.approx(0.0)


def test_detractor_contacts_by_hand(survey):
    # Detractors in the fixture: r3 (2, "Слишком дорого!", 03-05), r6 (0, rude cashier, 04-20),
    # r7 (6, out of stock, 04-30). Newest first; reply due 24 h after the answer day [N12].
    survey = survey.assign(customer_id=["c0", "c1", "c2", None, "c4", "c5", "c6", "c7"])
    survey.loc[3, "customer_id"] = None
    out = N.detractor_contacts(survey)
    assert out["respondent_id"].tolist() == ["r7", "r6", "r3"]
    assert out["theme"].tolist() == ["assortment", "staff", "price"]
    assert out["contactable"].tolist() == [True, True, False]
    assert out["respond_by"].iloc[0] == pd.Timestamp("2025-05-01 00:00")
    six = N.detractor_contacts(survey, respond_within_hours=6)
    assert six["respond_by"].iloc[-1] == pd.Timestamp("2025-03-05 06:00")
    with pytest.raises(ValueError, match="positive number of hours"):
        N.detractor_contacts(survey, respond_within_hours=0)


def test_trend_plot_leaves_room_above_benchmark_and_bands(survey):
    # Fixture: March CI reaches +100 (clipped), the retail benchmark is 50: both must be in view.
    trend = N.nps_trend(survey)
    ax = P.nps_trend(trend, benchmark="retail")
    low, high = ax.get_ylim()
    assert high > max(trend["ci_high"].max(), 50) and low < trend["ci_low"].min()
    plt.close("all")
