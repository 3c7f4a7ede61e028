"""Maximum-likelihood helpers shared by the fitted models (BG/NBD, Gamma-Gamma).

Standard errors from the numerical Hessian of the log-likelihood and the table of estimates
with 95 % Wald limits that each model's ``summary`` shows.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import optimize

from loyalty_lib._result import sentence_html


def minimize_log_params(
    objective: Callable[..., tuple[float, np.ndarray]],
    start: np.ndarray,
    args: tuple,
    *,
    gtol: float,
    maxcor: int = 10,
) -> optimize.OptimizeResult:
    """L-BFGS-B over log-parameters with an exact gradient (``objective`` returns value and
    gradient), each bounded to ±30: that keeps exp() finite, and no real optimum is near e^±30."""
    return optimize.minimize(
        objective,
        start,
        args=args,
        jac=True,
        method="L-BFGS-B",
        bounds=[(-30.0, 30.0)] * len(start),
        options={"maxiter": 2000, "ftol": 1e-15, "gtol": gtol, "maxcor": maxcor},
    )


def numerical_hessian(
    loglik_grad: Callable[[np.ndarray], np.ndarray], params: np.ndarray
) -> np.ndarray:
    """Hessian of the total *negative* log-likelihood by central differences of its exact gradient.

    ``loglik_grad(params)`` returns the gradient of the log-likelihood at natural (not log)
    parameters; the step is 1e-5 of each parameter, and the result is symmetrised.
    """
    k = params.size
    hess = np.empty((k, k))
    for j in range(k):
        h = 1e-5 * params[j]
        up, down = params.copy(), params.copy()
        up[j] += h
        down[j] -= h
        hess[:, j] = -(loglik_grad(up) - loglik_grad(down)) / (2 * h)
    return (hess + hess.T) / 2


def standard_errors(hess: np.ndarray) -> np.ndarray:
    """sqrt(diag(H⁻¹)); NaN where H is singular or a variance is not positive."""
    try:
        cov = np.linalg.inv(hess)
    except np.linalg.LinAlgError:
        return np.full(hess.shape[0], np.nan)
    diag = np.diag(cov)
    return np.where(diag > 0, np.sqrt(np.abs(diag)), np.nan)


def wald_summary(
    names: Sequence[str], params: Mapping[str, float], errors: Mapping[str, float]
) -> pd.DataFrame:
    """Estimates, standard errors and 95 % Wald limits (estimate ± 1.96·SE), one row per parameter."""
    est = np.array([params[k] for k in names])
    se = np.array([errors[k] for k in names])
    return pd.DataFrame(
        {
            "param": list(names),
            "estimate": est,
            "std_error": se,
            "lower_95": est - 1.96 * se,
            "upper_95": est + 1.96 * se,
        }
    )


class FittedModelDisplay:
    """How a fitted model shows itself: ``repr`` is its sentence (``__str__``); in a notebook the
    sentence and, once fitted, the ``summary`` table. Needs ``params`` and ``summary``."""

    params: dict[str, float]
    summary: pd.DataFrame

    def __repr__(self) -> str:
        return str(self)

    def _repr_html_(self) -> str:
        table = self.summary if self.params else None
        return sentence_html(self, table, index=False, float_format="{:.4g}".format)


def mean_nll_in_logs(
    total_and_grad: Callable[[np.ndarray, object], tuple[float, np.ndarray]],
    log_params: np.ndarray,
    data: object,
    total_weight: float,
) -> tuple[float, np.ndarray]:
    """Mean negative log-likelihood and its gradient in log-parameters, from a model's total
    log-likelihood and exact gradient at natural parameters (chain rule: ∂/∂ln θ = θ·∂/∂θ).

    A non-finite value or gradient (a trial point far out, where a Gamma or Beta function
    overflows) becomes 1e300 with a zero gradient, so L-BFGS-B's line search backs off."""
    params = np.exp(log_params)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        value, grad = total_and_grad(params, data)
    value, grad = -value / total_weight, -grad * params / total_weight
    if not np.isfinite(value) or not np.all(np.isfinite(grad)):
        return 1e300, np.zeros_like(grad)
    return float(value), grad
