"""Pre-period adjustments (balance, pre-trends, ANCOVA / CUPED) against independent numbers.

Every expected value is computed a second way inside the test: ANCOVA by numpy least squares and
the textbook OLS covariance written out here, DiD from four group means, the SMD from its
definition, the ρ > 0.5 rule by simulation.
"""

from __future__ import annotations

import math

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from loyalty_lib import evaluation as ev  # noqa: E402
from loyalty_lib import plots  # noqa: E402


def _outcomes(n: int = 400, rho: float = 0.8, effect: float = 1.0, gap: float = 0.0, seed: int = 1):
    """Pre/post outcomes with unit variances, correlation ``rho``, a treatment effect and a
    pre-existing level gap ``gap`` (treatment higher in both periods)."""
    rng = np.random.default_rng(seed)
    cov = [[1.0, rho], [rho, 1.0]]
    z = rng.multivariate_normal([0, 0], cov, size=2 * n)
    group = np.array(["treatment"] * n + ["control"] * n)
    treated = group == "treatment"
    pre = z[:, 0] + gap * treated
    post = z[:, 1] + gap * treated + effect * treated
    return pd.DataFrame({"group": group, "spend_pre": pre, "spend_post": post})


def test_did_equals_difference_of_four_means():
    out = _outcomes(gap=2.0)
    means = out.groupby("group")[["spend_pre", "spend_post"]].mean()
    by_hand = (means.loc["treatment", "spend_post"] - means.loc["treatment", "spend_pre"]) - (
        means.loc["control", "spend_post"] - means.loc["control", "spend_pre"]
    )
    did = ev.diff_in_diff(out, "spend")
    assert did.estimate == pytest.approx(by_hand, abs=1e-12)
    # a level gap of 2 is removed: the estimate is near the planted effect 1, the post-only
    # difference near 3
    assert abs(did.estimate - 1.0) < 0.2
    assert ev.lift(out, "spend_post").diff == pytest.approx(3.0, abs=0.25)


def test_ancova_matches_lstsq_and_textbook_standard_error():
    out = _outcomes(rho=0.6, gap=0.3)
    y = out["spend_post"].to_numpy()
    x = np.column_stack(
        [np.ones(len(out)), (out["group"] == "treatment").to_numpy(float), out["spend_pre"]]
    )
    beta, *_ = np.linalg.lstsq(x, y, rcond=None)
    resid = y - x @ beta
    s2 = resid @ resid / (len(y) - 3)
    se = math.sqrt(s2 * np.linalg.inv(x.T @ x)[1, 1])
    res = ev.ancova_effect(out, "spend")
    assert res.estimate == pytest.approx(beta[1], rel=1e-10)
    assert res.beta == pytest.approx(beta[2], rel=1e-10)
    assert res.se == pytest.approx(se, rel=1e-10)
    # CUPED by its definition: post difference − θ × pre difference, θ = cov(pre, post) / var(pre)
    theta = np.cov(out["spend_pre"], y)[0, 1] / out["spend_pre"].var()
    means = out.groupby("group")[["spend_pre", "spend_post"]].mean()
    gaps = means.loc["treatment"] - means.loc["control"]
    assert res.cuped_estimate == pytest.approx(
        gaps["spend_post"] - theta * gaps["spend_pre"], rel=1e-10
    )
    assert res.correlation == pytest.approx(np.corrcoef(out["spend_pre"], y)[0, 1])


@pytest.mark.parametrize(("rho", "did_narrower"), [(0.8, True), (0.2, False)])
def test_did_narrows_the_interval_only_above_rho_half(rho, did_narrower):
    # Var(DiD) ∝ 2(1 − ρ), Var(post only) ∝ 1, Var(ANCOVA) ∝ 1 − ρ²: simulated over 300 trials
    diffs = {"post": [], "did": [], "ancova": []}
    for seed in range(300):
        out = _outcomes(n=100, rho=rho, effect=0.0, seed=seed)
        diffs["post"].append(ev.lift(out, "spend_post").diff)
        diffs["did"].append(ev.diff_in_diff(out, "spend").estimate)
        diffs["ancova"].append(ev.ancova_effect(out, "spend").estimate)
    var = {k: float(np.var(v)) for k, v in diffs.items()}
    assert var["did"] / var["post"] == pytest.approx(2 * (1 - rho), rel=0.25)
    assert (var["did"] < var["post"]) is did_narrower
    assert var["ancova"] <= min(var["did"], var["post"]) * 1.05
    # the single-sample SEs the result reports follow the same rule
    res = ev.ancova_effect(_outcomes(n=2000, rho=rho, seed=7), "spend")
    assert (res.did_se < res.post_only_se) is did_narrower
    assert ("narrower" in res.verdict) is did_narrower


def test_balance_table_smd_by_definition_and_verdict():
    out = _outcomes(gap=0.5)
    t = out.loc[out["group"] == "treatment", "spend_pre"]
    c = out.loc[out["group"] == "control", "spend_pre"]
    smd = (t.mean() - c.mean()) / math.sqrt((t.var() + c.var()) / 2)
    res = ev.balance_table(out, ("spend",))
    row = res.table.iloc[0]
    assert row["smd"] == pytest.approx(smd)
    assert row["difference"] == pytest.approx(t.mean() - c.mean())
    assert res.imbalanced == ("spend",) and "not alike" in str(res)
    balanced = ev.balance_table(_outcomes(gap=0.0, n=3000), ("spend",))
    assert balanced.imbalanced == () and "were alike" in str(balanced)
    assert "<table" in balanced._repr_html_()


def _tx_with_trend(slope_treatment: float):
    """Daily purchases of 2 × 60 customers over 2 years; treatment's amount grows with time."""
    days = pd.date_range("2024-01-01", "2025-12-31", freq="7D")
    rows = []
    rng = np.random.default_rng(3)
    for i in range(120):
        g = "treatment" if i < 60 else "control"
        for k, d in enumerate(days):
            amount = 100 + rng.normal(0, 5) + (slope_treatment * k if g == "treatment" else 0)
            rows.append((f"c{i}", d, amount, False))
    tx = pd.DataFrame(rows, columns=["customer_id", "date", "amount", "is_refund"])
    camp = pd.DataFrame(
        {
            "customer_id": [f"c{i}" for i in range(120)],
            "group": ["treatment"] * 60 + ["control"] * 60,
            "start_date": pd.Timestamp("2025-07-01"),
        }
    )
    return tx, camp


def test_pre_trend_check_flags_a_diverging_trend_and_passes_parallel_lines():
    tx, camp = _tx_with_trend(slope_treatment=2.0)
    res = ev.pre_trend_check(tx, camp, "spend")
    # by hand: 2 RUB more per week per treated customer; the halves' centres are `half` days
    # apart, each half holds about half/7 purchases → drift ≈ 2 × (half/7) × (half/7)
    half = res.half_days
    assert res.estimate == pytest.approx(2 * (half / 7) ** 2, rel=0.1)
    assert not res.parallel and "fails" in str(res)
    flat, camp = _tx_with_trend(slope_treatment=0.0)
    ok = ev.pre_trend_check(flat, camp, "spend")
    assert ok.parallel and "plausible" in str(ok)


def test_pre_period_means_and_chart():
    tx, camp = _tx_with_trend(slope_treatment=0.0)
    table = ev.pre_period_means(tx, camp, "orders", bin_days=28)
    # weekly purchases: every whole 28-day bin holds exactly 4 orders per customer
    assert set(table["mean"]) == {4.0}
    assert (table["bin"] < 0).any() and (table["bin"] >= 0).any()
    fig, ax = plt.subplots()
    assert plots.pre_trends(tx, camp, "orders", ax=ax) is ax
    assert "orders_post" not in ax.get_title() and len(ax.get_lines()) == 3
    plt.close(fig)


def test_did_verdict_says_whether_the_interval_includes_zero():
    strong = ev.diff_in_diff(_outcomes(effect=1.0), "spend")
    none = ev.diff_in_diff(_outcomes(effect=0.0, seed=5), "spend")
    assert "excludes zero" in strong.verdict and "raised" in strong.verdict
    assert (none.ci_low <= 0 <= none.ci_high) == ("includes zero" in none.verdict)
