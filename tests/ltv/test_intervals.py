"""Coverage of the parametric-bootstrap intervals of :func:`model_intervals`.

Estimand: the mean over the observed customers of E[Y(t) | x, t_x, T] under the *true* BG/NBD
parameters — what the interval claims to cover (parameter uncertainty of the expected value,
not the randomness of future purchases).
"""

from __future__ import annotations

import numpy as np
import pytest

from loyalty_lib.ltv.bgnbd import BetaGeo, simulate
from loyalty_lib.ltv.intervals import model_intervals

TRUE = {"r": 0.8, "alpha": 6.0, "a": 0.9, "b": 3.0}
HORIZON = 26.0


def _one_run(seed: int, n_customers: int, n_draws: int = 200) -> tuple[float, float, float, float]:
    rng = np.random.default_rng(seed)
    big_t = rng.uniform(20.0, 52.0, n_customers)
    sim = simulate(TRUE, big_t, seed=seed + 10_000)
    x, tx, tt = (sim[c].to_numpy(float) for c in ("frequency", "recency", "T"))
    truth = BetaGeo(freq="W")
    truth.params = dict(TRUE)
    true_mean = float(np.mean(truth.expected_purchases(HORIZON, x, tx, tt)))
    fit = BetaGeo(freq="W").fit(x, tx, tt)
    res = model_intervals(fit, x, tx, tt, t=HORIZON, n_draws=n_draws, seed=seed)
    row = res.totals.set_index("quantity").loc["total expected purchases"]
    return (
        true_mean,
        row["estimate"] / n_customers,
        row["lower"] / n_customers,
        row["upper"] / n_customers,
    )


def test_95_percent_intervals_cover_the_true_mean_about_95_percent_of_the_time() -> None:
    reps = 100
    covered = 0
    for seed in range(reps):
        true_mean, est, lo, hi = _one_run(seed, 2_000)
        assert lo <= est <= hi
        covered += lo <= true_mean <= hi
    # With true coverage 0.95, the number of covered runs out of 100 is Binomial(100, 0.95):
    # sd = sqrt(100 · 0.95 · 0.05) ≈ 2.2, so 85..99 spans about −4.6 to +1.8 sd. A correct
    # method lands outside with probability ≈ 0.6 % (mostly P(X = 100) = 0.95^100; P(X ≤ 84) is
    # ~1e-4), while intervals of the wrong width (a covariance off by a factor 2 gives ~83 % or
    # ~99.5 %) fail. The seeds are fixed, so the outcome is deterministic.
    assert 85 <= covered <= 99, covered


def test_intervals_narrow_as_customers_grow() -> None:
    widths = []
    for n in (1_000, 4_000, 16_000):
        _, _, lo, hi = _one_run(123, n, n_draws=100)
        widths.append(hi - lo)
    # Wald intervals shrink like 1/sqrt(n): a factor ~2 per 4× customers
    assert widths[0] > widths[1] > widths[2]
    assert widths[0] / widths[2] == pytest.approx(4.0, rel=0.5)


@pytest.mark.filterwarnings("ignore:Pareto/NBD fit")  # these simulated customers are BG/NBD's
@pytest.mark.parametrize("model_key", ["bgnbd", "pareto"])
def test_totals_only_equal_the_per_customer_totals(model_key: str) -> None:
    """``per_customer=False`` sums over the distinct rows with counts and monetary sums; the same
    seed draws the same parameters, so its totals must equal the per-customer path's, which sums
    every customer's draw (a second route to the same numbers)."""
    from loyalty_lib.ltv import GammaGamma, ParetoNBD

    rng = np.random.default_rng(7)
    big_t = np.round(rng.uniform(20.0, 52.0, 3_000))  # whole weeks: many customers share a row
    sim = simulate(TRUE, big_t, seed=77)
    x, tx, tt = (sim[c].to_numpy(float) for c in ("frequency", "recency", "T"))
    tx = np.minimum(np.round(tx), tt)
    m = np.where(x > 0, rng.gamma(4.0, 250.0, x.size), 0.0)
    model = (BetaGeo if model_key == "bgnbd" else ParetoNBD)(freq="W").fit(x, tx, tt)
    gg = GammaGamma().fit(x[x > 0], m[x > 0])
    kwargs = dict(t=HORIZON, monetary=m, gamma_gamma=gg, n_draws=40, seed=3)
    full = model_intervals(model, x, tx, tt, **kwargs).totals.set_index("quantity")
    light = model_intervals(model, x, tx, tt, per_customer=False, **kwargs)
    assert light.customers.empty
    got = light.totals.set_index("quantity")
    assert list(got.index) == list(full.index)
    for column in ("estimate", "lower", "upper"):
        # the per-customer path stores draws as float32: agreement to ~1e-6 relative
        np.testing.assert_allclose(got[column], full[column], rtol=2e-5)
