"""Tests for loyalty_lib.program: canvas validation, seed tables, the economics simulator."""

from __future__ import annotations

import dataclasses
import math

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from helpers import PROGRAM_BASE
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from scipy.optimize import brentq

from loyalty_lib import program as Pg
from loyalty_lib.plots import program as Pp

VALID = Pg.ProgramCanvas(
    goals=("retain",),
    key_factor="special_services",
    expected_benefits=3_000_000,
    expected_costs=1_200_000,
    obligations_feasible=True,
    tools=("premium_service", "club_community"),
    kpis=("participants", "repeat_purchases", "roi"),
    understandable=True,
    accessible_to_all=True,
    legal=True,
)


# --- canvas --------------------------------------------------------------------------------------


def test_valid_canvas_has_no_problems():
    assert Pg.validate_canvas(VALID) == []
    assert VALID.is_valid
    assert "(valid)" in str(VALID)


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"goals": ()}, "no goal set"),
        ({"goals": ("attract", "retain")}, "2 goals set (attract, retain)"),
        ({"goals": "grow"}, "unknown goal 'grow'"),
        ({"key_factor": None}, "no key factor"),
        ({"key_factor": "luck"}, "unknown key factor 'luck'"),
        ({"key_factor": "other"}, "needs a key_factor_description"),
        ({"expected_costs": 3_000_000}, "are not below expected benefits"),
        ({"expected_costs": 3_500_000}, "the program would not pay for itself"),
        ({"expected_benefits": -1}, "expected_benefits must be a number ≥ 0"),
        ({"obligations_feasible": False}, "meet the obligations"),
        ({"tools": ()}, "no tool chosen"),
        ({"tools": ("cashback",)}, "unknown tool 'cashback'"),
        (
            {"tools": ("cumulative_discount",), "discount_rate": 0.35, "gross_margin": 0.30},
            "loses money on every discounted sale",
        ),
        ({"tools": ("cumulative_discount",)}, "discount_rate is not set"),
        ({"discount_rate": 1.5}, "discount_rate must be a share"),
        ({"kpis": ()}, "no KPI chosen"),
        ({"kpis": ("likes",)}, "unknown KPI 'likes'"),
        ({"understandable": False}, "not confirmed understandable"),
        ({"accessible_to_all": False}, "not open to all customers"),
        ({"legal": False}, "comply with the law"),
    ],
)
def test_each_problem_is_reported(changes, expected):
    canvas = dataclasses.replace(VALID, **changes)
    problems = Pg.validate_canvas(canvas)
    assert len(problems) == 1, problems
    assert expected in problems[0]
    assert not canvas.is_valid


def test_discount_is_checked_against_the_margin():
    # by hand: d / (m − d) = 0.30 / (0.45 − 0.30) = 2.0 → sales must triple (+200 %)
    assert Pg.discount_break_even_uplift(0.30, 0.45) == pytest.approx(2.0)
    assert Pg.discount_break_even_uplift(0.05, 0.40) == pytest.approx(0.05 / 0.35)
    assert Pg.discount_break_even_uplift(0.40, 0.40) == math.inf
    big = dataclasses.replace(
        VALID, tools=("fixed_discount",), discount_rate=0.30, gross_margin=0.45
    )
    (problem,) = big.problems
    assert "30% / (45% − 30%) = 200%" in problem and "12%–18%" in problem
    # a small discount is too small to matter AND is checked against the margin
    small = dataclasses.replace(VALID, tools=("fixed_discount",), discount_rate=0.10)
    problems = small.problems
    assert any("10% discount is too small" in p for p in problems)
    assert any("gross_margin is not set" in p for p in problems)
    assert not any("from about 30%–50%" in p for p in problems)  # no bare recommendation
    # a 5 % discount at a 40 % margin needs 14 % more sales: inside 12–18 %, only "too small"
    fine = dataclasses.replace(
        VALID, tools=("fixed_discount",), discount_rate=0.05, gross_margin=0.4
    )
    (only,) = fine.problems
    assert "too small" in only


def test_points_revenue_matches_ifrs15_example_52():
    # IFRS 15 Illustrative Example 52: sales 100,000, 10,000 points of stand-alone value 1,
    # 95 % expected to be redeemed → stand-alone price of the points 9,500;
    # allocated 100,000 × 9,500 / 109,500 = 8,675.8; after 4,500 points redeemed
    # 8,675.8 × 4,500 / 9,500 = 4,109.6 recognised, 4,566.2 deferred.
    r = Pg.points_deferred_revenue(
        sales=100_000, points_issued=10_000, point_value=1.0, redemption_rate=0.95,
        points_redeemed=4_500,
    )  # fmt: skip
    assert r.allocated_to_points == pytest.approx(100_000 * 9_500 / 109_500)
    assert round(r.allocated_to_points) == 8_676
    assert round(r.revenue_points) == 4_110 and round(r.contract_liability) == 4_566
    assert r.expected_breakage_points == pytest.approx(500)
    assert r.revenue_goods + r.allocated_to_points == pytest.approx(100_000)
    # all expected points redeemed: the whole allocation, breakage included, is revenue
    done = Pg.points_deferred_revenue(
        sales=100_000, points_issued=10_000, point_value=1.0, redemption_rate=0.95,
        points_redeemed=9_500,
    )  # fmt: skip
    assert done.contract_liability == pytest.approx(0, abs=1e-9)
    with pytest.raises(ValueError, match="exceeds the points expected"):
        Pg.points_deferred_revenue(
            sales=1, points_issued=10, point_value=1, redemption_rate=0.5, points_redeemed=6
        )


def test_empty_canvas_lists_everything():
    # An empty canvas: goal, key factor, costs≥benefits (0 ≥ 0), obligations, tools, KPIs,
    # three requirements = 9 problems.
    assert len(Pg.ProgramCanvas().problems) == 9
    with pytest.raises(TypeError):
        Pg.validate_canvas({"goals": "retain"})


def test_lists_become_tuples():
    canvas = Pg.ProgramCanvas(goals="retain", tools=["prize_draws"], kpis=["nps"])
    assert canvas.goals == ("retain",)
    assert canvas.tools == ("prize_draws",)
    hash(canvas)


# --- tables --------------------------------------------------------------------------------------


def test_tables_carry_seed_figures():
    factors = Pg.loyalty_factors().set_index("factor")["influence_pct"]
    # [P7]: product quality 70, service quality 68, smart discounts 30; ten factors.
    assert (factors["product quality"], factors["service quality"], factors["smart discounts"]) == (
        70,
        68,
        30,
    )
    assert len(factors) == 10
    assert "not laws" in Pg.loyalty_factors().attrs["note"]
    effects = Pg.method_effects().set_index("method")
    # [P8]: combination of methods +45 %, +220,000 EUR, 7 months; personalisation 34/150,000/3.
    assert effects.loc["combination of methods"].tolist() == [45, 220_000, 7]
    assert effects.loc["personalisation"].tolist() == [34, 150_000, 3]
    assert "5,000 EUR" in Pg.method_effects().attrs["note"]
    models = Pg.program_models().set_index("model")
    assert models.loc["referral", "cons"] == "needs fraud control"
    assert {"points", "multi_tier", "rewards_for_actions", "paid_subscription"} <= set(models.index)
    assert len(Pg.program_tasks()) == 6
    assert set(Pg.loyalty_methods()["kind"]) == {"method", "tool", "model"}
    assert set(Pg.TOOLS) == {
        "fixed_discount",
        "cumulative_discount",
        "premium_service",
        "prize_draws",
        "limited_access",
        "profit_participation",
        "club_community",
    }


# --- ROI -----------------------------------------------------------------------------------------


def test_roi():
    assert Pg.roi(150, 100) == pytest.approx(0.5)  # (150 − 100)/100
    assert Pg.roi(60, 100) == pytest.approx(-0.4)
    assert Pg.roi(0, 100) == -1.0
    assert Pg.roi(np.float64(100), 100) == 0.0
    for bad_cost in (0, -5, float("nan")):
        with pytest.raises(ValueError, match="cost"):
            Pg.roi(100, bad_cost)


@settings(max_examples=100, deadline=None)
@given(st.floats(-1e7, 1e7), st.floats(1e-3, 1e7))
def test_roi_sign(margin, cost):
    r = Pg.roi(margin, cost)
    assert (r > 0) == (margin > cost)
    assert r >= -1 or margin < 0


# --- simulator -----------------------------------------------------------------------------------

BASE = PROGRAM_BASE


def test_one_scenario_by_hand():
    # Baseline 10,000 × 2,000 × 6 = 120,000,000 RUB; +15 % → 18,000,000 RUB extra revenue,
    # × 0.4 margin = 7,200,000. Points on all spend: 138,000,000 × 0.05 = 6,900,000 points;
    # rewards 6,900,000 × 1 RUB × 0.6 = 4,140,000; deferred revenue (IFRS 15: the points
    # EXPECTED to be redeemed) 6,900,000 × 1 RUB × 0.6 = 4,140,000 — not the 40 % breakage.
    # Total cost 4,640,000; net 2,560,000; ROI 2,560,000/4,640,000 = 0.55172.
    # Break-even: c = 0.05·1·0.6 = 0.03; u* = (0.03·120e6 + 500,000)/(120e6·(0.4 − 0.03))
    # = 4,100,000/44,400,000 = 0.092342.
    e = Pg.simulate_program(**BASE)
    assert e.baseline_revenue == pytest.approx(120_000_000)
    assert e.incremental_revenue == pytest.approx(18_000_000)
    assert e.incremental_margin == pytest.approx(7_200_000)
    assert e.points_issued == pytest.approx(6_900_000)
    assert e.reward_cost == pytest.approx(4_140_000)
    assert e.points_liability == pytest.approx(4_140_000)
    assert e.cost_per_point == pytest.approx(0.6)
    assert e.total_cost == pytest.approx(4_640_000)
    assert e.net_benefit == pytest.approx(2_560_000)
    assert e.roi == pytest.approx(0.551724, abs=1e-6)
    assert e.break_even_uplift == pytest.approx(0.092342, abs=1e-6)
    assert isinstance(e.net_benefit, float)
    assert str(e).startswith("Net benefit +2,560,000 RUB/yr")
    assert e.to_dict()["net_benefit"] == pytest.approx(2_560_000)


def test_roi_in_simulator_matches_roi_helper():
    e = Pg.simulate_program(**BASE)
    assert e.roi == pytest.approx(Pg.roi(e.incremental_margin, e.total_cost))


def _net(u: float, **kw) -> float:
    return float(Pg.simulate_program(**{**kw, "member_uplift": u}).net_benefit)


@settings(max_examples=60, deadline=None)
@given(
    st.floats(0.0, 0.1),  # earn rate
    st.floats(0.1, 2.0),  # point value
    st.floats(0.05, 1.0),  # redemption
    st.floats(0.2, 0.8),  # margin
    st.floats(0.0, 5e6),  # fixed costs
)
def test_break_even_closed_form_matches_root_finding(earn, value, redeem, margin, fixed):
    kw = {
        **BASE,
        "earn_rate": earn,
        "point_value": value,
        "redemption_rate": redeem,
        "gross_margin": margin,
        "fixed_costs": fixed,
    }
    u_star = Pg.simulate_program(**kw).break_even_uplift
    if earn * value * redeem >= margin:
        assert math.isinf(u_star)
        return
    assume(u_star < 100)  # keep the bracket finite; huge u* only when margin ≈ reward cost
    # Second method: find the root of net benefit(u) numerically.
    kw.pop("member_uplift")
    root = brentq(lambda u: _net(u, **kw), -0.99, 100, xtol=1e-12)
    assert u_star == pytest.approx(root, rel=1e-6, abs=1e-9)
    # Net benefit at u* is zero up to rounding of sums of order 1.2e8·(1 + u*) RUB.
    assert _net(u_star, **kw) == pytest.approx(0.0, abs=1e-6 * (1 + u_star))


def test_break_even_never_when_rewards_exceed_margin():
    # Rewards cost 0.1·1·1 = 0.10 per RUB, margin 0.08: every extra rouble loses money.
    kw = {**BASE, "earn_rate": 0.1, "redemption_rate": 1.0, "gross_margin": 0.08}
    e = Pg.simulate_program(**kw)
    assert math.isinf(e.break_even_uplift)
    assert "break-even uplift never" in str(e)


def test_vectorised_equals_loop_and_scenarios_frame():
    uplifts = np.array([0.0, 0.12, 0.18])
    margins = pd.Series([0.3, 0.4, 0.5])
    vec = Pg.simulate_program(**{**BASE, "member_uplift": uplifts, "gross_margin": margins})
    for i, (u, g) in enumerate(zip(uplifts, margins, strict=True)):
        one = Pg.simulate_program(**{**BASE, "member_uplift": u, "gross_margin": g})
        assert vec.net_benefit[i] == pytest.approx(one.net_benefit)
        assert vec.break_even_uplift[i] == pytest.approx(one.break_even_uplift)
    assert vec.n_scenarios == 3
    assert "3 scenarios" in str(vec)
    frame = pd.DataFrame([{**BASE, "name": "base"}, {**BASE, "name": "low", "member_uplift": 0.05}])
    out = Pg.simulate_scenarios(frame)
    assert out["name"].tolist() == ["base", "low"]
    assert out.loc[0, "net_benefit"] == pytest.approx(2_560_000)
    # Uplift 5 %: margin 120e6·0.05·0.4 = 2.4e6; rewards 126e6·0.03 = 3.78e6; net −1.88e6.
    assert out.loc[1, "net_benefit"] == pytest.approx(-1_880_000)
    with pytest.raises(ValueError, match="missing column"):
        Pg.simulate_scenarios(frame.drop(columns="gross_margin"))


def test_tiers_scale_points():
    # Half the members earn ×1, half ×2: mean multiplier 1.5 → same as earn rate 0.075.
    tiered = Pg.simulate_program(**BASE, tiers=[(0.5, 1.0), (0.5, 2.0)])
    flat = Pg.simulate_program(**{**BASE, "earn_rate": 0.075})
    assert tiered.points_issued == pytest.approx(flat.points_issued)
    assert tiered.break_even_uplift == pytest.approx(flat.break_even_uplift)
    with pytest.raises(ValueError, match="sum to 1"):
        Pg.simulate_program(**BASE, tiers=[(0.5, 1.0), (0.3, 2.0)])


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("redemption_rate", 1.5, "redemption_rate must be ≤ 1"),
        ("gross_margin", -0.1, "gross_margin must be ≥ 0"),
        ("avg_check", float("nan"), "avg_check must be finite"),
        ("member_uplift", -1.0, "member_uplift must be > -1"),
        ("members", "many", "members must be a number"),
    ],
)
def test_bad_inputs(name, value, message):
    with pytest.raises((ValueError, TypeError), match=message):
        Pg.simulate_program(**{**BASE, name: value})


def test_zero_cost_gives_nan_roi():
    e = Pg.simulate_program(**{**BASE, "earn_rate": 0.0, "fixed_costs": 0.0})
    assert math.isnan(e.roi)
    assert "ROI n/a" in str(e)


# --- plots ---------------------------------------------------------------------------------------


def test_cashflow_plot():
    fig, ax = plt.subplots()
    out = Pp.program_cashflow(Pg.simulate_program(**BASE), ax=ax)
    assert out is ax
    heights = [p.get_height() for p in ax.patches]
    assert heights == pytest.approx([7_200_000, -4_140_000, -500_000, 2_560_000])
    assert ax.get_ylabel() == "per year, million RUB"
    fig.canvas.draw()
    # ticks read "2 M", not matplotlib's offset "1e6"
    assert ax.yaxis.get_offset_text().get_text() == ""
    assert any(t.get_text().endswith(" M") for t in ax.get_yticklabels())
    with pytest.raises(ValueError, match="one scenario"):
        Pp.program_cashflow(Pg.simulate_program(**{**BASE, "member_uplift": [0.1, 0.2]}))
    plt.close("all")


def test_break_even_and_factor_plots():
    uplifts = np.linspace(0, 0.3, 7)
    econ = Pg.simulate_program(**{**BASE, "member_uplift": uplifts})
    ax = Pp.break_even(uplifts, econ.net_benefit, break_even_at=float(econ.break_even_uplift[0]))
    assert "break-even 9.2%" in [t.get_text() for t in ax.get_legend().get_texts()]
    ax2 = Pp.factor_bars(Pg.loyalty_factors())
    assert max(p.get_width() for p in ax2.patches) == 70
    with pytest.raises(ValueError):
        Pp.break_even([0.1, 0.2], [1.0])
    plt.close("all")


# --- baseline from data, grids, break-even redemption, verdicts ----------------------------------


def _tiny_transactions() -> pd.DataFrame:
    rows = [
        ("a", "2024-03-01", 100.0, False, "O1"),
        ("a", "2024-06-01", 200.0, False, "O2"),
        ("b", "2024-09-01", 300.0, False, "O3"),
        ("a", "2025-02-01", 400.0, False, "O4"),
        ("c", "2025-05-01", 100.0, False, "O5"),
        ("c", "2025-11-01", 100.0, False, "O6"),
        ("b", "2025-03-01", -300.0, True, "R3"),  # b's only 2025 row is a refund
    ]
    tx = pd.DataFrame(rows, columns=["customer_id", "date", "amount", "is_refund", "order_id"])
    tx["date"] = pd.to_datetime(tx["date"])
    return tx


def test_program_baseline_by_hand():
    # Net revenue 100+200+300+400+100+100−300 = 900 RUB over 6 orders → m = 150 RUB.
    # Active customer-years: 2024 {a, b}, 2025 {a, c} = 4 → a = 6/4 = 1.5 orders per year.
    # Purchases in the year to 2025-12-31: a and c (b only refunded) → 2 active; half join → 1.
    # Baseline revenue 1 × 150 × 1.5 = 225 RUB/yr.
    base = Pg.program_baseline(_tiny_transactions(), "2025-12-31", member_share=0.5)
    assert (base.active_customers, base.members) == (2, 1)
    assert base.avg_check == pytest.approx(150.0)
    assert base.purchases_per_year == pytest.approx(1.5)
    assert base.baseline_revenue == pytest.approx(225.0)
    assert base.kwargs() == {"members": 1, "avg_check": base.avg_check, "purchases_per_year": 1.5}
    assert str(base).startswith("1 members (50% of 2 customers active in the year to 2025-12-31)")
    econ = Pg.simulate_program(**base.kwargs(), earn_rate=0, point_value=1, redemption_rate=0.5,
                               member_uplift=0.1, gross_margin=0.5)  # fmt: skip
    assert econ.baseline_revenue == pytest.approx(225.0)
    for bad in (0, 1.5, float("nan")):
        with pytest.raises(ValueError, match="member_share"):
            Pg.program_baseline(_tiny_transactions(), "2025-12-31", member_share=bad)
    with pytest.raises(ValueError, match="no purchases"):
        Pg.program_baseline(_tiny_transactions(), "2026-12-31")


def test_scenario_grid_is_the_cartesian_product():
    grid = Pg.scenario_grid(BASE, redemption_rate=[0.4, 0.8], member_uplift=[0.12, 0.15, 0.18])
    assert len(grid) == 6
    assert list(grid.columns[:2]) == ["redemption_rate", "member_uplift"]
    assert grid[["redemption_rate", "member_uplift"]].drop_duplicates().shape[0] == 6
    assert set(grid["redemption_rate"]) == {0.4, 0.8}
    assert (grid["members"] == BASE["members"]).all()
    out = Pg.simulate_scenarios(grid)
    # Row 0 = redemption 0.4, uplift 0.12: margin 120e6·0.12·0.4 = 5.76e6; rewards
    # 134.4e6·0.05·0.4 = 2.688e6; net 5.76e6 − 2.688e6 − 0.5e6 = 2.572e6 RUB.
    assert out.loc[0, "net_benefit"] == pytest.approx(2_572_000)
    with pytest.raises(ValueError, match="at least one axis"):
        Pg.scenario_grid(BASE)
    with pytest.raises(ValueError, match="non-empty"):
        Pg.scenario_grid(BASE, member_uplift=[])


def test_break_even_redemption_by_hand():
    # Face value of points: 120e6·1.15·0.05·1 = 6.9e6 RUB; incremental margin 7.2e6, fixed 0.5e6:
    # r* = (7.2e6 − 0.5e6)/6.9e6 = 0.9710145.
    kw = {k: v for k, v in BASE.items() if k != "redemption_rate"}
    r_star = Pg.break_even_redemption(**kw)
    assert r_star == pytest.approx(6.7 / 6.9)
    assert Pg.simulate_program(**kw, redemption_rate=r_star).roi == pytest.approx(0, abs=1e-12)
    # Negative when the margin does not even cover the fixed costs: uplift 0.01 →
    # (1.2e6·0.4 − 0.5e6)/(121.2e6·0.05) = −20,000/6.06e6.
    assert Pg.break_even_redemption(**{**kw, "member_uplift": 0.01}) == pytest.approx(-2e4 / 6.06e6)
    assert math.isnan(Pg.break_even_redemption(**{**kw, "earn_rate": 0.0}))


@settings(max_examples=60, deadline=None)
@given(st.floats(0.0, 0.5), st.floats(0.01, 0.1), st.floats(0.1, 0.8), st.floats(0.0, 5e6))
def test_break_even_redemption_zeroes_net_benefit(uplift, earn, margin, fixed):
    kw = {**BASE, "member_uplift": uplift, "earn_rate": earn, "gross_margin": margin,
          "fixed_costs": fixed}  # fmt: skip
    kw.pop("redemption_rate")
    r_star = float(Pg.break_even_redemption(**kw))
    # Second method: net benefit is linear in r, so two simulator runs give its root.
    n0 = float(Pg.simulate_program(**kw, redemption_rate=0.0).net_benefit)
    n1 = float(Pg.simulate_program(**kw, redemption_rate=1.0).net_benefit)
    assert r_star == pytest.approx(n0 / (n0 - n1), rel=1e-9, abs=1e-12)


@pytest.mark.parametrize(
    ("break_even", "verdict"),
    [(0.05, "profitable"), (0.1199, "profitable"), (0.12, "depends"), (0.15, "depends"),
     (0.18, "not profitable"), (0.4, "not profitable"), (math.inf, "not profitable")],
)  # fmt: skip
def test_uplift_verdict_against_the_reported_range(break_even, verdict):
    assert Pg.MEMBER_UPLIFT_RANGE == (0.12, 0.18)  # [L6] members spend 12–18 % more
    assert Pg.uplift_verdict(break_even) == verdict
    assert verdict in Pg.VERDICTS


def test_uplift_verdict_rejects_bad_input():
    with pytest.raises(ValueError, match="break_even"):
        Pg.uplift_verdict(float("nan"))
    with pytest.raises(ValueError, match="low < high"):
        Pg.uplift_verdict(0.1, (0.2, 0.1))


def test_roi_heatmap_labels_each_cell():
    grid = Pg.simulate_scenarios(
        Pg.scenario_grid(BASE, redemption_rate=[0.6, 1.0], member_uplift=[0.05, 0.15])
    )
    ax = Pp.roi_heatmap(grid)
    # By hand (total cost = rewards + 0.5e6): r 0.6/u 0.05: net 2.4e6 − 3.78e6 − 0.5e6 = −1.88e6
    # on 4.28e6 → −44 %; r 0.6/u 0.15 → +55 % (test_one_scenario_by_hand); r 1/u 0.05: rewards
    # 6.3e6, net −4.4e6 on 6.8e6 → −65 %; r 1/u 0.15: rewards 6.9e6, net −0.2e6 on 7.4e6 → −3 %.
    assert [t.get_text() for t in ax.texts] == ["-44%", "+55%", "-65%", "-3%"]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["5%", "15%"]
    with pytest.raises(ValueError, match="missing column"):
        Pp.roi_heatmap(grid.drop(columns="roi"))
    plt.close("all")


def test_break_even_plot_shades_the_reported_range():
    uplifts = np.linspace(0, 0.3, 7)
    econ = Pg.simulate_program(**{**BASE, "member_uplift": uplifts})
    ax = Pp.break_even(uplifts, econ.net_benefit, reported_range=Pg.MEMBER_UPLIFT_RANGE)
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "reported member uplift 12–18%" in labels
    plt.close("all")
