"""BG/NBD, Gamma-Gamma, CLV and holdout validation against published numbers and second methods.

Reference numbers:
* Fader, Hardie & Lee (2005), Marketing Science 24(2), section 5 — BG/NBD on CDNOW:
  r = 0.243, alpha = 4.414, a = 0.793, b = 2.426, LL = −9582.4; a customer with x = 2,
  t_x = 30.43, T = 38.86 weeks is expected to make 1.226 purchases in the next 39 weeks.
* Fader & Hardie (2013), "The Gamma-Gamma Model of Monetary Value": p = 6.25, q = 3.74, γ = 15.44
  on the 946 CDNOW repeat customers.
* lifetimes 0.11.3 (BetaGeoFitter / GammaGammaFitter), run once in a scratch venv on the same
  CSV: an independent implementation whose outputs are pinned below ("lifetimes:").
* Second methods: numerical integration over (λ, p) of the BG/NBD posterior, and Monte Carlo
  simulation of the BG/NBD story.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import integrate, special

from loyalty_lib.ltv import (
    BetaGeo,
    GammaGamma,
    calibration_holdout,
    frequency_monetary_correlation,
    holdout_check,
    simulate,
)
from loyalty_lib.ltv.bgnbd import _Data, _loglik_and_grad, _warn_if_unidentified, compress

DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="module")
def cdnow() -> pd.DataFrame:
    return pd.read_csv(DATA / "cdnow_summary.csv", comment="#")


@pytest.fixture(scope="module")
def bg(cdnow: pd.DataFrame) -> BetaGeo:
    return BetaGeo(freq="W").fit(cdnow["frequency"], cdnow["recency"], cdnow["T"])


@pytest.fixture(scope="module")
def gg(cdnow: pd.DataFrame) -> GammaGamma:
    return GammaGamma().fit(cdnow["frequency"], cdnow["monetary"])


@pytest.fixture(scope="module")
def cdnow_transactions() -> pd.DataFrame:
    raw = pd.read_csv(
        DATA / "cdnow_sample.txt.gz",
        sep=r"\s+",
        header=None,
        names=["master_id", "customer_id", "date", "quantity", "amount"],
        dtype={"master_id": str, "customer_id": str, "date": str},
    )
    return pd.DataFrame(
        {
            "customer_id": raw["customer_id"],
            "date": pd.to_datetime(raw["date"], format="%Y%m%d"),
            "amount": raw["amount"].astype(float),
            "is_refund": False,
        }
    )


# ---------------------------------------------------------------------------------------------
# BG/NBD: published estimates
# ---------------------------------------------------------------------------------------------
def test_bgnbd_reproduces_paper_estimates(bg: BetaGeo) -> None:
    p = bg.params
    assert p["r"] == pytest.approx(0.243, abs=1e-3)
    assert p["alpha"] == pytest.approx(4.414, abs=2e-3)
    assert p["a"] == pytest.approx(0.793, abs=2e-3)
    assert p["b"] == pytest.approx(2.426, abs=2e-3)
    assert bg.log_likelihood == pytest.approx(-9582.4, abs=0.05)
    assert bg.converged and bg.n_customers == 2357


def test_bgnbd_matches_lifetimes(bg: BetaGeo) -> None:
    # lifetimes 0.11.3 BetaGeoFitter().fit(...).params_ on the same data
    lifetimes = {
        "r": 0.24259292827982148,
        "alpha": 4.413532265271809,
        "a": 0.7928859664406578,
        "b": 2.4257523826257374,
    }
    for k, v in lifetimes.items():
        assert bg.params[k] == pytest.approx(v, rel=1e-4)


def test_paper_example_conditional_expectation(bg: BetaGeo) -> None:
    # FHL section 5: 1.226 purchases in 39 weeks; lifetimes gives 1.2259104
    assert bg.expected_purchases(39, 2, 30.43, 38.86) == pytest.approx(1.226, abs=5e-4)
    # lifetimes conditional_probability_alive(2, 30.43, 38.86) = 0.72660914
    assert bg.p_alive(2, 30.43, 38.86) == pytest.approx(0.72660914, abs=1e-5)
    # lifetimes expected_number_of_purchases_up_to_time(39) = 1.19501623
    assert bg.expected_purchases_new(39) == pytest.approx(1.19501623, abs=1e-5)


def test_time_unit_only_rescales_alpha(cdnow: pd.DataFrame, bg: BetaGeo) -> None:
    # λ has units 1/time: measuring in days instead of weeks multiplies α by 7, nothing else.
    days = BetaGeo(freq="D").fit(cdnow["frequency"], cdnow["recency"] * 7, cdnow["T"] * 7)
    assert days.params["alpha"] == pytest.approx(7 * bg.params["alpha"], rel=1e-4)
    for k in ("r", "a", "b"):
        assert days.params[k] == pytest.approx(bg.params[k], rel=1e-4)


def test_summary_standard_errors(bg: BetaGeo) -> None:
    s = bg.summary
    assert list(s["param"]) == ["r", "alpha", "a", "b"]
    assert (s["std_error"] > 0).all()
    # the intervals contain the estimates and the published values
    assert ((s["lower_95"] < s["estimate"]) & (s["estimate"] < s["upper_95"])).all()
    assert "r = 0.243" in str(bg) and "2,357 customers" in str(bg) and "weeks" in str(bg)


def test_standard_errors_shrink_like_root_n() -> None:
    # Asymptotic SEs from the inverse Hessian scale as 1/sqrt(n): 4× the customers, half the SE.
    truth = {"r": 0.5, "alpha": 10.0, "a": 0.8, "b": 2.5}
    T = np.random.default_rng(0).uniform(30, 365, 8000)
    small = simulate(truth, T[:2000], seed=1)
    big = simulate(truth, T, seed=1)
    se_small = BetaGeo().fit(small["frequency"], small["recency"], small["T"]).standard_errors["r"]
    se_big = BetaGeo().fit(big["frequency"], big["recency"], big["T"]).standard_errors["r"]
    assert se_small / se_big == pytest.approx(2.0, rel=0.25)


# ---------------------------------------------------------------------------------------------
# BG/NBD: second methods for the formulas
# ---------------------------------------------------------------------------------------------
def _posterior_integrals(
    params: dict[str, float], x: int, tx: float, T: float, t: float
) -> tuple[float, float]:
    """P(alive) and E[Y(t)] by integrating the individual-level model over λ and p directly.

    Individual-level likelihood (FHL, before integrating over λ and p): (1−p)^x λ^x e^{−λT} + [x>0] p (1−p)^{x−1} λ^x e^{−λ t_x};
    alive at T ↔ the first term; given alive, E[purchases in (T, T+t]] = (1 − e^{−λpt}) / p.
    λ ~ Gamma(r, α) is integrated out with ∫ λ^x e^{−λs} g(λ) dλ = Γ(r+x)/Γ(r) · α^r/(α+s)^{r+x},
    p ~ Beta(a, b) numerically (quad's algebraic weight handles the p^{a−1} singularity). The
    closed forms under test integrate p analytically instead (the ₂F₁ terms), so this is a
    different route to the same numbers.
    """
    r, alpha, a, b = params["r"], params["alpha"], params["a"], params["b"]

    def G(s: float) -> float:
        return np.exp(
            special.gammaln(r + x)
            - special.gammaln(r)
            + r * np.log(alpha)
            - (r + x) * np.log(alpha + s)
        )

    norm = np.exp(-special.betaln(a, b))
    opts = {"weight": "alg", "wvar": (a - 1, b - 1), "epsabs": 0, "epsrel": 1e-10, "limit": 200}
    alive = integrate.quad(lambda p: (1 - p) ** x, 0, 1, **opts)[0] * norm * G(T)
    dead = (
        (integrate.quad(lambda p: p * (1 - p) ** (x - 1), 0, 1, **opts)[0] * norm * G(tx))
        if x > 0
        else 0.0
    )
    future = (
        integrate.quad(
            lambda p: (1 - p) ** x * (G(T) - G(T + p * t)) / p if p > 0 else 0.0, 0, 1, **opts
        )[0]
        * norm
    )
    return alive / (alive + dead), future / (alive + dead)


@pytest.mark.filterwarnings(
    "ignore::scipy.integrate.IntegrationWarning"
)  # quad at 1e-10 rel. is near roundoff
@pytest.mark.parametrize(
    ("x", "tx", "T", "t"),
    [(2, 30.43, 38.86, 39.0), (0, 0.0, 20.0, 10.0), (7, 35.0, 38.0, 52.0), (40, 10.0, 60.0, 5.0)],
)
@pytest.mark.parametrize("a", [0.793, 1.7])
def test_p_alive_and_expectation_match_numerical_integration(
    x: int, tx: float, T: float, t: float, a: float
) -> None:
    # Paper parameters (and a second a > 1 so both signs of a − 1 in the closed form are used).
    params = {"r": 0.243, "alpha": 4.414, "a": a, "b": 2.426}
    model = BetaGeo(freq="W")
    model.params = dict(params)
    p_alive, expected = _posterior_integrals(params, x, tx, T, t)
    assert model.p_alive(x, tx, T) == pytest.approx(p_alive, rel=1e-8)
    assert model.expected_purchases(t, x, tx, T) == pytest.approx(expected, rel=1e-7)


def test_expected_purchases_new_matches_monte_carlo() -> None:
    # E[X(t)] (FHL eq. 9) vs the mean repeat count of 200,000 simulated customers observed for t.
    params = {"r": 0.8, "alpha": 5.0, "a": 0.9, "b": 2.5}
    model = BetaGeo()
    model.params = dict(params)
    sim = simulate(params, np.full(200_000, 30.0), seed=11)
    mean, se = sim["frequency"].mean(), sim["frequency"].std() / np.sqrt(len(sim))
    assert model.expected_purchases_new(30.0) == pytest.approx(mean, abs=4 * se)


def test_p_alive_matches_monte_carlo_for_zero_repeaters_and_heavy_buyers() -> None:
    # Among simulated customers with x repeat purchases and recency in a narrow band, the share
    # still alive at T is P(alive | x, t_x, T). Simulation records the truth, so we can count.
    params = {"r": 0.8, "alpha": 5.0, "a": 0.9, "b": 2.5}
    model = BetaGeo()
    model.params = dict(params)
    rng = np.random.default_rng(5)
    n, T = 400_000, 30.0
    lam = rng.gamma(params["r"], 1 / params["alpha"], n)
    p = rng.beta(params["a"], params["b"], n)
    # One repeat purchase exactly: time of first repeat ~ Exp(λ); then dead with prob p, else
    # alive and must make no purchase in the rest of (t1, T] to keep x = 1.
    t1 = rng.exponential(1 / lam)
    dies = rng.random(n) < p
    t2 = t1 + rng.exponential(1 / lam)
    x_is_1 = (t1 <= T) & (dies | (t2 > T))
    band = x_is_1 & (t1 > 10) & (t1 < 11)
    alive_share = (~dies[band]).mean()
    se = np.sqrt(alive_share * (1 - alive_share) / band.sum())
    assert model.p_alive(1, 10.5, T) == pytest.approx(alive_share, abs=4 * se + 0.005)


def test_fit_recovers_simulated_parameters() -> None:
    truth = {"r": 0.5, "alpha": 10.0, "a": 0.8, "b": 2.5}
    T = np.random.default_rng(3).uniform(30, 365, 20_000)
    sim = simulate(truth, T, seed=4)
    model = BetaGeo().fit(sim["frequency"], sim["recency"], sim["T"])
    for k, v in truth.items():
        assert abs(model.params[k] - v) < 4 * model.standard_errors[k], (k, model.params[k], v)


def test_fit_warns_when_nobody_drops_out() -> None:
    # p ~ Beta(1, 1e6): nobody drops out in a year, so a and b slide along a flat ridge towards
    # infinity; the fit says so instead of presenting them as estimates.
    T = np.random.default_rng(3).uniform(30, 365, 20_000)
    sim = simulate({"r": 0.5, "alpha": 10.0, "a": 1.0, "b": 1e6}, T, seed=4)
    with pytest.warns(UserWarning, match="almost no customer dropping out") as caught:
        model = BetaGeo().fit(sim["frequency"], sim["recency"], sim["T"])
    a, b = model.params["a"], model.params["b"]
    assert max(a, b) > 1e4
    assert f"a/(a+b) = {a / (a + b):.3g}" in str(caught[0].message)
    # what the data do identify is still right: the purchase-rate mix and p near 0
    assert model.params["r"] == pytest.approx(0.5, rel=0.1)
    assert model.params["r"] / model.params["alpha"] == pytest.approx(0.05, rel=0.1)
    assert a / (a + b) < 1e-3


def test_fit_on_ordinary_data_does_not_warn(recwarn: pytest.WarningsRecorder) -> None:
    T = np.random.default_rng(3).uniform(30, 365, 5_000)
    sim = simulate({"r": 0.5, "alpha": 10.0, "a": 0.8, "b": 2.5}, T, seed=4)
    BetaGeo().fit(sim["frequency"], sim["recency"], sim["T"])
    assert not [w for w in recwarn if "BG/NBD fit" in str(w.message)]


def test_runaway_warning_names_what_is_still_estimated() -> None:
    with pytest.warns(UserWarning, match=r"show no spread.*a/\(a\+b\) = 0\.25"):
        _warn_if_unidentified({"r": 0.5, "alpha": 10.0, "a": 2e4, "b": 6e4})
    with pytest.warns(UserWarning, match=r"r = 1e\+05 .*r/alpha = 0\.1 per time unit"):
        _warn_if_unidentified({"r": 1e5, "alpha": 1e6, "a": 0.8, "b": 2.5})


def test_weights_equal_expanded_rows(cdnow: pd.DataFrame, bg: BetaGeo) -> None:
    counts = cdnow.groupby(["frequency", "recency", "T"]).size().reset_index(name="n")
    weighted = BetaGeo(freq="W").fit(
        counts["frequency"], counts["recency"], counts["T"], weights=counts["n"]
    )
    for k in bg.params:
        assert weighted.params[k] == pytest.approx(bg.params[k], rel=1e-6)
    assert weighted.log_likelihood == pytest.approx(bg.log_likelihood, abs=1e-6)
    assert weighted.n_customers == 2357 and weighted.n_unique == len(counts)


def test_customers_first_seen_on_the_last_day_carry_no_information(
    cdnow: pd.DataFrame, bg: BetaGeo
) -> None:
    # x = 0, T = 0: likelihood term α^r/(α+0)^r = 1, so the estimates must not move
    f = np.r_[cdnow["frequency"], [0, 0, 0]]
    r = np.r_[cdnow["recency"], [0.0, 0.0, 0.0]]
    T = np.r_[cdnow["T"], [0.0, 0.0, 0.0]]
    model = BetaGeo(freq="W").fit(f, r, T)
    for k in bg.params:
        assert model.params[k] == pytest.approx(bg.params[k], rel=1e-6)
    assert model.log_likelihood == pytest.approx(bg.log_likelihood, abs=1e-6)
    assert model.p_alive(0, 0.0, 0.0) == 1.0


def test_analytic_gradient_matches_finite_differences(cdnow: pd.DataFrame) -> None:
    w = np.random.default_rng(0).integers(1, 4, len(cdnow)).astype(float)
    data = _Data(
        *compress(
            cdnow["frequency"].to_numpy(float),
            cdnow["recency"].to_numpy(float),
            cdnow["T"].to_numpy(float),
            w,
        )
    )
    params = np.array([0.3, 5.0, 0.9, 2.0])
    _, grad = _loglik_and_grad(params, data)
    for j in range(4):
        h = 1e-6 * params[j]
        up, down = params.copy(), params.copy()
        up[j] += h
        down[j] -= h
        numeric = (_loglik_and_grad(up, data)[0] - _loglik_and_grad(down, data)[0]) / (2 * h)
        assert grad[j] == pytest.approx(numeric, rel=1e-5)


def test_penalizer_shrinks_parameters(cdnow: pd.DataFrame, bg: BetaGeo) -> None:
    pen = BetaGeo(freq="W").fit(cdnow["frequency"], cdnow["recency"], cdnow["T"], penalizer=0.1)
    assert sum(v**2 for v in pen.params.values()) < sum(v**2 for v in bg.params.values())
    assert pen.log_likelihood < bg.log_likelihood  # the MLE maximises the unpenalised likelihood


def test_series_in_series_out(cdnow: pd.DataFrame, bg: BetaGeo) -> None:
    out = bg.p_alive(cdnow["frequency"], cdnow["recency"], cdnow["T"])
    assert isinstance(out, pd.Series) and out.index.equals(cdnow.index)
    assert isinstance(bg.p_alive(1, 2.0, 3.0), float)


def test_no_overflow_for_extreme_customers(bg: BetaGeo) -> None:
    # (α+T)/(α+t_x) raised to r+x = 5000 overflows a float; the log-space forms must not.
    x = np.array([5000, 5000, 3000])
    tx = np.array([10.0, 9999.0, 1.0])
    T = np.array([10000.0, 10000.0, 10000.0])
    pa = bg.p_alive(x, tx, T)
    assert np.all(np.isfinite(pa))
    assert pa[0] == pytest.approx(0.0, abs=1e-12)  # bought 5000 times, silent for 9990 weeks
    assert pa[1] > 0.99  # bought 5000 times, last a week ago
    ep = bg.expected_purchases(52, x, tx, T)
    assert np.all(np.isfinite(ep)) and ep[1] > ep[0]


def test_validation_reports_bad_row_counts() -> None:
    model = BetaGeo()
    with pytest.raises(ValueError, match="2 rows where recency is larger than T"):
        model.fit([1, 2, 1], [5.0, 9.0, 8.0], [4.0, 8.0, 10.0])
    with pytest.raises(ValueError, match="1 rows where frequency is not a non-negative integer"):
        model.fit([1.5, 2], [1.0, 2.0], [3.0, 3.0])
    with pytest.raises(ValueError, match="recency is not 0 although frequency is 0"):
        model.fit([0, 1], [1.0, 2.0], [3.0, 3.0])
    with pytest.raises(ValueError, match="T is negative"):
        model.fit([0, 0], [0.0, 0.0], [-1.0, 2.0])
    with pytest.raises(ValueError, match="NaN"):
        model.fit([1, np.nan], [1.0, 1.0], [2.0, 2.0])
    with pytest.raises(ValueError, match="not fitted"):
        model.p_alive(1, 1, 2)
    with pytest.raises(ValueError, match="same length"):
        model.fit([1, 2], [1.0], [2.0, 3.0, 4.0])


@settings(max_examples=60, deadline=None)
@given(
    x=st.integers(0, 300),
    frac=st.floats(0, 1),
    T=st.floats(0.1, 2000),
    t1=st.floats(0, 500),
    dt=st.floats(0.01, 500),
)
def test_invariants(bg: BetaGeo, x: int, frac: float, T: float, t1: float, dt: float) -> None:
    tx = 0.0 if x == 0 else frac * T
    pa = bg.p_alive(x, tx, T)
    assert 0.0 <= pa <= 1.0
    if x == 0:
        assert pa == 1.0
    e1 = bg.expected_purchases(t1, x, tx, T)
    e2 = bg.expected_purchases(t1 + dt, x, tx, T)
    assert e1 >= 0 and e2 >= e1 - 1e-9
    assert bg.expected_purchases_new(t1 + dt) >= bg.expected_purchases_new(t1) - 1e-12


def test_p_alive_matrix_shape_and_cells(bg: BetaGeo) -> None:
    m = bg.p_alive_matrix(10, 39)
    assert m.shape == (40, 11)
    assert m.loc[0, 0] == 1.0 and np.isnan(m.loc[5, 0])
    assert m.loc[20, 3] == pytest.approx(bg.p_alive(3, 20, 39))


# ---------------------------------------------------------------------------------------------
# Gamma-Gamma and CLV
# ---------------------------------------------------------------------------------------------
def test_gamma_gamma_reproduces_note(gg: GammaGamma) -> None:
    # Fader & Hardie (2013): p = 6.25, q = 3.74, γ = 15.44 (Excel, 2 decimals; the exact MLE,
    # also lifetimes', is 6.2488, 3.7446, 15.4477, so γ rounds to 15.45: hence rel 1e-3).
    assert gg.params["p"] == pytest.approx(6.25, rel=1e-3)
    assert gg.params["q"] == pytest.approx(3.74, rel=2e-3)
    assert gg.params["v"] == pytest.approx(15.44, rel=1e-3)
    assert gg.n_customers == 946  # repeat customers only
    # lifetimes GammaGammaFitter params_
    lifetimes = {"p": 6.24880249607099, "q": 3.7445884609237634, "v": 15.447748064943575}
    for k, v in lifetimes.items():
        assert gg.params[k] == pytest.approx(v, rel=1e-4)


def test_expected_average_value_hand_calculation() -> None:
    gg = GammaGamma()
    gg.params = {"p": 6.25, "q": 3.74, "v": 15.44}
    # x = 2, m = 22.35: (pγ + p·x·m)/(px + q − 1) = (96.5 + 279.375)/(12.5 + 2.74) = 375.875/15.24
    assert gg.expected_average_value(2, 22.35) == pytest.approx(375.875 / 15.24, rel=1e-12)
    # x = 0: population mean pγ/(q − 1) = 96.5 / 2.74
    assert gg.expected_average_value(0, 0.0) == pytest.approx(96.5 / 2.74, rel=1e-12)
    assert gg.population_mean == pytest.approx(96.5 / 2.74)


def test_expected_average_value_matches_lifetimes(cdnow: pd.DataFrame, gg: GammaGamma) -> None:
    # lifetimes conditional_expected_average_profit for CDNOW customers 1, 2, 6
    got = gg.expected_average_value(cdnow["frequency"], cdnow["monetary"])
    assert got.iloc[[0, 1, 5]].to_numpy() == pytest.approx(
        [24.65861619, 18.91147987, 71.46285080], rel=1e-4
    )


def test_clv_matches_lifetimes(cdnow: pd.DataFrame, bg: BetaGeo, gg: GammaGamma) -> None:
    # lifetimes GammaGammaFitter.customer_lifetime_value(bgf, ..., time=12, discount_rate=0.01,
    # freq="W"): customer 1 → 36.2784958, customers 3..5 → 8.3440931, mean → 30.3393718
    clv = gg.clv(
        bg,
        cdnow["frequency"],
        cdnow["recency"],
        cdnow["T"],
        cdnow["monetary"],
        horizon_months=12,
        discount_rate_monthly=0.01,
    )
    assert clv.iloc[0] == pytest.approx(36.2784958, rel=1e-4)
    assert clv.iloc[2] == pytest.approx(8.3440931, rel=1e-4)
    assert clv.mean() == pytest.approx(30.3393718, rel=1e-4)


def test_clv_one_month_hand_calculation(bg: BetaGeo, gg: GammaGamma) -> None:
    # one month = 4.345 weeks: CLV = E[Y(4.345)] · E[Z] / 1.01
    x, tx, T, m = 2, 30.43, 38.86, 22.35
    expected = bg.expected_purchases(4.345, x, tx, T) * gg.expected_average_value(x, m) / 1.01
    got = gg.clv(bg, x, tx, T, m, horizon_months=1)
    assert got == pytest.approx(expected, rel=1e-12)


def test_gamma_gamma_validation() -> None:
    with pytest.raises(ValueError, match="monetary ≤ 0"):
        GammaGamma().fit([1, 2, 3, 1], [10.0, -5.0, 3.0, 4.0])
    with pytest.raises(ValueError, match="repeat customers"):
        GammaGamma().fit([0, 0, 1], [0.0, 0.0, 5.0])


def test_frequency_monetary_correlation(cdnow: pd.DataFrame) -> None:
    res = frequency_monetary_correlation(cdnow["frequency"], cdnow["monetary"])
    rep = cdnow[cdnow["frequency"] > 0]
    assert res.r == pytest.approx(np.corrcoef(rep["frequency"], rep["monetary"])[0, 1], rel=1e-10)
    assert res.n == 946 and res.independent_enough
    with pytest.warns(UserWarning, match="correlate"):
        frequency_monetary_correlation([1, 2, 3, 4, 5], [10.0, 20.0, 31.0, 39.0, 52.0])


# ---------------------------------------------------------------------------------------------
# calibration / holdout
# ---------------------------------------------------------------------------------------------
def test_calibration_summary_reproduces_published_cdnow_summary(
    cdnow_transactions: pd.DataFrame, cdnow: pd.DataFrame
) -> None:
    # The published summary (weeks, 2 decimals) was built from these raw transactions with
    # calibration end 1997-09-30: our daily summary / 7 must reproduce it.
    ch = calibration_holdout(cdnow_transactions, "1997-09-30", "1998-06-30", freq="D")
    ch = ch.assign(cid=ch["customer_id"].astype(int)).sort_values("cid").reset_index(drop=True)
    assert len(ch) == len(cdnow) == 2357
    assert (ch["frequency_cal"].to_numpy() == cdnow["frequency"].to_numpy()).all()
    assert np.abs(ch["recency_cal"] / 7 - cdnow["recency"]).max() <= 0.005 + 1e-9
    assert np.abs(ch["T_cal"] / 7 - cdnow["T"]).max() <= 0.005 + 1e-9
    assert np.abs(ch["monetary_cal"] - cdnow["monetary"]).max() <= 0.005 + 1e-9
    # holdout 1997-10-01..1998-06-30 = 30+31+30+31+31+28+31+30+31 = 273 days
    assert (ch["duration_holdout"] == 273).all()
    # customer 1 (raw id 00004) bought once in the holdout, on 1997-12-12, for 26.48
    first = ch.iloc[0]
    assert first["frequency_holdout"] == 1 and first["monetary_holdout"] == pytest.approx(26.48)


def test_holdout_check_table(cdnow_transactions: pd.DataFrame) -> None:
    ch = calibration_holdout(cdnow_transactions, "1997-09-30", "1998-06-30", freq="W")
    model = BetaGeo(freq="W").fit(ch["frequency_cal"], ch["recency_cal"], ch["T_cal"])
    check = holdout_check(model, ch, max_frequency=7)
    table = check.table
    assert table["n_customers"].sum() == 2357 and list(table["frequency_cal"]) == list(range(8))
    # actual means recomputed straight from the frame
    manual = ch.assign(b=ch["frequency_cal"].clip(upper=7)).groupby("b")["frequency_holdout"].mean()
    assert table["actual"].to_numpy() == pytest.approx(manual.to_numpy())
    assert check.actual_total == ch["frequency_holdout"].sum()
    assert check.ratio == pytest.approx(check.predicted_total / check.actual_total)
    # heavier calibration buyers buy more in the holdout, in the data and in the model
    assert table["predicted"].is_monotonic_increasing
    assert "purchases" in str(check)


def test_calibration_holdout_refunds_and_errors() -> None:
    tx = pd.DataFrame(
        {
            "customer_id": ["a", "a", "a", "a", "b"],
            "date": pd.to_datetime(
                ["2024-01-01", "2024-01-05", "2024-01-05", "2024-01-20", "2024-01-03"]
            ),
            "amount": [100.0, 50.0, -20.0, 70.0, 10.0],
            "is_refund": [False, False, True, False, False],
        }
    )
    ch = calibration_holdout(tx, "2024-01-10", "2024-01-31").set_index("customer_id")
    # a: purchase days Jan 1, Jan 5 → x = 1, recency 4, T 9; monetary = 50: refunds are not
    # purchases and stay out of the repeat-purchase mean (segments.customer_summary's definition)
    assert ch.loc["a", ["frequency_cal", "recency_cal", "T_cal", "monetary_cal"]].tolist() == [
        1,
        4.0,
        9.0,
        50.0,
    ]
    assert ch.loc["a", "frequency_holdout"] == 1 and ch.loc["a", "duration_holdout"] == 21
    assert ch.loc["b", "frequency_cal"] == 0 and ch.loc["b", "T_cal"] == 7
    with pytest.raises(ValueError, match="must be after"):
        calibration_holdout(tx, "2024-01-10", "2024-01-05")
    with pytest.raises(ValueError, match="missing columns"):
        calibration_holdout(tx.drop(columns="amount"), "2024-01-10", "2024-01-31")
