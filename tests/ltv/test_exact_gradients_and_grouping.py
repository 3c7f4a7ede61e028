"""The speed work of issue #20 must not change a number.

* Pareto/NBD and MBG/NBD fit with an exact gradient (Pareto/NBD's ₂F₁ part on the distinct
  (x, t) pairs): it must equal central differences of the per-row log-likelihood, and Pareto's
  grouped likelihood must equal the per-customer formula the predictions use (``_log_a0``).
* ``model_intervals`` predicts once per distinct (x, t_x, T) row: its intervals must equal a
  bootstrap written here through the public API, customer by customer, with the same draws.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import special

from loyalty_lib.ltv import mbgnbd, pareto_nbd
from loyalty_lib.ltv.bgbb import BetaGeoBetaBinom
from loyalty_lib.ltv.bgbb import simulate as simulate_bgbb
from loyalty_lib.ltv.intervals import model_intervals


def _days(simulate, params: dict[str, float], n: int, seed: int) -> tuple[np.ndarray, ...]:
    """Customers in whole days (many ties), plus a t_x = T row and a T = 0 row."""
    big_t = np.random.default_rng(seed).integers(1, 200, n).astype(float)
    sim = simulate(params, big_t, seed=seed + 1)
    x = np.r_[sim["frequency"].to_numpy(float), 2.0, 0.0]
    tx = np.r_[np.floor(sim["recency"].to_numpy(float)), 50.0, 0.0]
    return x, tx, np.r_[big_t, 50.0, 0.0]


def _numerical_gradient(model, params: np.ndarray, data) -> np.ndarray:
    """Central differences of Σ w·ln L, step 1e-6 relative. Its rounding error is about
    1e-16·|Σ w·ln L| / step ≈ 1e-5 here, hence the atol of the comparisons below (components
    near 0 cannot be compared relatively)."""
    grad = np.empty(params.size)
    for j in range(params.size):
        h = 1e-6 * params[j]
        up, down = params.copy(), params.copy()
        up[j] += h
        down[j] -= h
        grad[j] = (data.w @ model._ll_rows(up, data) - data.w @ model._ll_rows(down, data)) / (
            2 * h
        )
    return grad


@pytest.mark.parametrize(
    "params",
    [
        [0.55, 10.0, 0.6, 12.0],  # α < β: the mirror form of A₀
        [1.3, 14.0, 2.0, 7.0],  # α > β
        [0.8, 9.0, 0.7, 9.0 * (1 + 1e-9)],  # α ≈ β: z ≈ 0
    ],
)
def test_pareto_gradient_and_grouped_likelihood(params: list[float]) -> None:
    truth = {"r": 0.55, "alpha": 10.0, "s": 0.6, "beta": 12.0}
    x, tx, big_t = _days(pareto_nbd.simulate, truth, 3000, seed=1)
    w = np.random.default_rng(2).integers(1, 4, x.size).astype(float)
    model = pareto_nbd.ParetoNBD()
    data = model._prepare(x, tx, big_t, w)
    assert data.px.size < x.size  # the (x, t) pairs do group
    p = np.array(params)
    r, alpha, s, beta = p
    per_customer = (
        special.gammaln(r + x)
        - special.gammaln(r)
        + r * np.log(alpha)
        + s * np.log(beta)
        + np.logaddexp(
            -(r + x) * np.log(alpha + big_t) - s * np.log(beta + big_t),
            np.log(s) - np.log(r + s + x) + pareto_nbd._log_a0(r, alpha, s, beta, x, tx, big_t),
        )
    )
    np.testing.assert_allclose(model._ll_rows(p, data), per_customer, rtol=1e-12, atol=1e-12)
    total, grad = pareto_nbd._total_and_grad(p, data)
    assert total == pytest.approx(float(w @ per_customer), rel=1e-12)
    np.testing.assert_allclose(grad, _numerical_gradient(model, p, data), rtol=1e-5, atol=1e-4)


@pytest.mark.parametrize("params", [[0.5, 10.0, 0.8, 2.5], [1.3, 4.0, 2.0, 0.7]])
def test_mbgnbd_gradient(params: list[float]) -> None:
    truth = {"r": 0.5, "alpha": 10.0, "a": 0.8, "b": 2.5}
    x, tx, big_t = _days(mbgnbd.simulate, truth, 3000, seed=3)
    w = np.random.default_rng(4).integers(1, 4, x.size).astype(float)
    model = mbgnbd.ModifiedBetaGeo()
    data = model._prepare(x, tx, big_t, w)
    p = np.array(params)
    total, grad = mbgnbd._total_and_grad(p, data)
    assert total == pytest.approx(float(w @ model._ll_rows(p, data)), rel=1e-12)
    np.testing.assert_allclose(grad, _numerical_gradient(model, p, data), rtol=1e-5, atol=1e-4)


def _bootstrap_by_hand(model, x, tx, big_t, t: float, n_draws: int, seed: int):
    """The documented method, customer by customer through the public API: log-parameter
    draws from N(log θ̂, covariance_log) with the same generator, each draw's predictions
    stored as float32 (as model_intervals stores them), percentiles over draws."""
    names = model.PARAM_NAMES
    theta = np.log([model.params[k] for k in names])
    draws = np.exp(
        np.random.default_rng(seed).multivariate_normal(theta, model.covariance_log, n_draws)
    )
    expected = np.empty((n_draws, x.size), dtype=np.float32)
    alive = np.empty((n_draws, x.size), dtype=np.float32)
    for i, d in enumerate(draws):
        m = model.with_params(dict(zip(names, d, strict=True)))
        expected[i] = m.expected_purchases(t, x, tx, big_t)
        alive[i] = m.p_alive(x, tx, big_t)
    return expected, alive


@pytest.mark.parametrize("which", ["bgbb", "pareto"])
def test_grouped_intervals_equal_a_customer_by_customer_bootstrap(which: str) -> None:
    if which == "bgbb":
        params = {"alpha": 1.2, "beta": 0.75, "gamma": 0.66, "delta": 2.8}
        sim = simulate_bgbb(params, 6, 3000, seed=5)
        x, tx, big_t = (sim[c].to_numpy(float) for c in ("frequency", "recency", "n_periods"))
        model, t = BetaGeoBetaBinom().fit(x, tx, big_t), 3.0
    else:
        truth = {"r": 0.55, "alpha": 10.0, "s": 0.6, "beta": 12.0}
        x, tx, big_t = _days(pareto_nbd.simulate, truth, 3000, seed=6)
        x, tx, big_t = x[:-1], tx[:-1], big_t[:-1]  # no T = 0 customer
        model, t = pareto_nbd.ParetoNBD().fit(x, tx, big_t), 30.0
    res = model_intervals(model, x, tx, big_t, t=t, n_draws=40, seed=7)
    expected, alive = _bootstrap_by_hand(model, x, tx, big_t, t, 40, seed=7)
    cust = res.customers
    np.testing.assert_allclose(
        cust["expected_purchases"], model.expected_purchases(t, x, tx, big_t), rtol=1e-12
    )
    np.testing.assert_allclose(cust["p_alive"], model.p_alive(x, tx, big_t), rtol=1e-12)
    for label, store in (("expected_purchases", expected), ("p_alive", alive)):
        lo, hi = np.quantile(store, [0.025, 0.975], axis=0)
        np.testing.assert_allclose(cust[f"{label}_low"], lo, rtol=1e-6)
        np.testing.assert_allclose(cust[f"{label}_high"], hi, rtol=1e-6)
    totals = res.totals.set_index("quantity")
    row = totals.loc["total expected purchases"]
    sums = expected.astype(float).sum(axis=1)
    assert row["lower"] == pytest.approx(np.quantile(sums, 0.025), rel=1e-9)
    assert row["upper"] == pytest.approx(np.quantile(sums, 0.975), rel=1e-9)
    assert row["lower"] < row["estimate"] < row["upper"]
    means = alive.astype(float).mean(axis=1)
    row = totals.loc["mean P(alive)"]
    assert row["lower"] == pytest.approx(np.quantile(means, 0.025), rel=1e-9)
    assert row["upper"] == pytest.approx(np.quantile(means, 0.975), rel=1e-9)
