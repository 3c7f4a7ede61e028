"""MBG/NBD (Batislam, Denizel & Filiztekin 2007): the likelihood against a numerical integration
of the individual-level likelihood, recovery from simulation, and P(alive) of one-time buyers.

Individual likelihood, derived from the story (not copied from the module): purchases at rate λ
while alive; right after *every* purchase, the initial one at time 0 included, the customer
drops out with probability p. Having made x repeat purchases, the last at t_x, by T, either

* the customer survived all x + 1 coin tosses and made no purchase in (t_x, T]:
  (1 − p)^(x+1) · λ^x e^(−λT)   (x arrivals in the first t_x, none in the rest: λ^x e^(−λ T)),
* or dropped out right after the x-th repeat purchase (or at 0 when x = 0):
  p (1 − p)^x · λ^x e^(−λ t_x).

The population likelihood integrates this against Gamma(r, rate α) for λ and Beta(a, b) for p.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import integrate, stats

from loyalty_lib.ltv.mbgnbd import ModifiedBetaGeo, simulate


def _integrated_log_likelihood(
    params: dict[str, float], x: float, tx: float, big_t: float
) -> float:
    """ln ∫∫ L(λ, p) dGamma(λ) dBeta(p) by quadrature. Each branch of L is a product of a
    function of λ and one of p, and λ ⟂ p, so each branch's double integral is the product of
    two one-dimensional integrals (scipy.integrate.quad, no closed form used)."""
    r, alpha, a, b = params["r"], params["alpha"], params["a"], params["b"]
    lam_pdf = stats.gamma(r, scale=1 / alpha).pdf
    p_pdf = stats.beta(a, b).pdf

    def quad(f, lo: float, hi: float) -> float:
        value, err = integrate.quad(f, lo, hi, epsabs=0, epsrel=1e-11, limit=200)
        assert err < 1e-8 * value
        return value

    survived = quad(lambda p: (1 - p) ** (x + 1) * p_pdf(p), 0, 1) * quad(
        lambda lam: lam**x * np.exp(-lam * big_t) * lam_pdf(lam), 0, np.inf
    )
    dropped = quad(lambda p: p * (1 - p) ** x * p_pdf(p), 0, 1) * quad(
        lambda lam: lam**x * np.exp(-lam * tx) * lam_pdf(lam), 0, np.inf
    )
    return float(np.log(survived + dropped))


@pytest.mark.parametrize(
    "params",
    [
        {"r": 1.3, "alpha": 4.0, "a": 1.5, "b": 3.0},
        {"r": 2.2, "alpha": 10.0, "a": 2.5, "b": 1.5},
    ],
)
def test_log_likelihood_equals_numerical_integration(params: dict[str, float]) -> None:
    model = ModifiedBetaGeo(freq="W").with_params(params)
    rows = [(0.0, 0.0, 10.0), (1.0, 3.0, 20.0), (3.0, 12.5, 30.0), (7.0, 20.0, 25.0)]
    x, tx, big_t = (np.array(c) for c in zip(*rows, strict=True))
    data = model._prepare(x, tx, big_t, np.ones(x.size))
    ours = model._ll_rows(np.array([params[k] for k in ("r", "alpha", "a", "b")]), data)
    expected = [_integrated_log_likelihood(params, *row) for row in rows]
    np.testing.assert_allclose(ours, expected, rtol=1e-7, atol=1e-8)


def test_fit_recovers_simulated_parameters() -> None:
    params = {"r": 0.8, "alpha": 5.0, "a": 1.2, "b": 3.5}
    big_t = np.random.default_rng(2).uniform(30, 80, 20_000)
    sim = simulate(params, big_t, seed=5)
    fit = ModifiedBetaGeo(freq="W").fit(sim["frequency"], sim["recency"], sim["T"])
    assert fit.converged
    for k, v in params.items():
        assert fit.params[k] == pytest.approx(v, rel=0.15), k


def test_one_time_buyer_may_be_inactive() -> None:
    params = {"r": 0.8, "alpha": 5.0, "a": 1.2, "b": 3.5}
    model = ModifiedBetaGeo(freq="W").with_params(params)
    p0 = float(model.p_alive(0, 0, 40.0))
    # BG/NBD would say 1; MBG/NBD (the drop-out coin tossed at time 0 too), integrating the
    # story: (1−p)e^(−λT) / ((1−p)e^(−λT) + p) → 1 / (1 + a/b · ((α+T)/α)^r)
    assert p0 < 1
    expected = 1 / (1 + params["a"] / params["b"] * ((5.0 + 40.0) / 5.0) ** params["r"])
    assert p0 == pytest.approx(expected, rel=1e-12)
    # and by simulating the story: among customers with no repeat purchase by T = 40, the
    # share who survived the toss at 0 (alive: survived and simply did not buy)
    rng = np.random.default_rng(8)
    n = 400_000
    lam = rng.gamma(params["r"], 1 / params["alpha"], n)
    p = rng.beta(params["a"], params["b"], n)
    survived = rng.random(n) >= p
    no_purchase = rng.random(n) < np.exp(-lam * 40.0)
    zero = ~survived | no_purchase
    assert p0 == pytest.approx((survived & no_purchase).sum() / zero.sum(), abs=0.005)
