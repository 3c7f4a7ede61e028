"""Which purchase model to trust for a client: BG/NBD, MBG/NBD and Pareto/NBD compared on a
calibration/holdout split, and the choice (with its reason in words) that the report and lesson
07 use.

BG/BB is not in the comparison: it needs discrete opportunities (one chance per period), not a
transaction log in continuous time; fit :class:`~loyalty_lib.ltv.bgbb.BetaGeoBetaBinom` directly.
"""

from __future__ import annotations

import dataclasses
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from loyalty_lib._result import Result
from loyalty_lib.i18n import _, fmt_count, fmt_date, fmt_number, fmt_share
from loyalty_lib.ltv.bgnbd import BetaGeo
from loyalty_lib.ltv.holdout import calibration_holdout, holdout_check
from loyalty_lib.ltv.mbgnbd import ModifiedBetaGeo
from loyalty_lib.ltv.pareto_nbd import ParetoNBD
from loyalty_lib.ltv.simple import _check_transactions
from loyalty_lib.segments import customer_summary

#: model key (as in ``--clv-model``) → (class, name shown to readers)
MODELS: dict[str, tuple[type, str]] = {
    "bgnbd": (BetaGeo, "BG/NBD"),
    "mbgnbd": (ModifiedBetaGeo, "MBG/NBD"),
    "pareto": (ParetoNBD, "Pareto/NBD"),
}


def _fit(key: str, freq: str, x: Any, tx: Any, big_t: Any) -> tuple[Any, bool, str]:
    """Fit one model; identified = no "not identified" warning and finite standard errors."""
    cls, _ = MODELS[key]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = cls(freq=freq).fit(x, tx, big_t)
        se = model.standard_errors
    notes = [str(w.message) for w in caught if "not identified" in str(w.message)]
    finite = all(np.isfinite(v) for v in se.values())
    identified = not notes and finite and model.converged
    why = notes[0] if notes else ("" if finite else "standard errors are not finite")
    if not model.converged:
        why = "the optimiser did not converge"
    return model, identified, why


def _aic_bic(ll: float, k: int, n: int) -> tuple[float, float]:
    return 2 * k - 2 * ll, k * np.log(n) - 2 * ll


@dataclass(frozen=True, repr=False)
class ModelComparison(Result):
    """One row per model; ``chosen`` is the key of the model to use and ``verdict`` says why."""

    table: pd.DataFrame  # model, key, log_likelihood, aic, bic, predicted_total, observed_total, total_error, mae, identified
    by_frequency: pd.DataFrame  # frequency_cal, n_customers, observed, <key> predicted means
    chosen: str
    verdict: str
    calibration_end: pd.Timestamp
    observation_end: pd.Timestamp
    n_customers: int
    models: dict[str, Any] = field(default_factory=dict, compare=False)

    def __str__(self) -> str:
        return self.verdict

    def to_dict(self) -> dict[str, Any]:
        out = super().to_dict()
        out.pop("models")  # fitted objects, not data
        return out


def compare_models(
    transactions: pd.DataFrame,
    *,
    calibration_end: Any,
    observation_end: Any,
    freq: str = "D",
    models: tuple[str, ...] = ("bgnbd", "mbgnbd", "pareto"),
    max_frequency: int = 7,
) -> ModelComparison:
    """Fit each model on the calibration summary (purchases up to ``calibration_end``) and
    predict every customer's purchases in (calibration_end, observation_end].

    Columns of ``table``: log-likelihood of the calibration fit, AIC = 2k − 2 ln L,
    BIC = k ln n − 2 ln L (k = 4 parameters, n customers), predicted and observed holdout
    purchase periods in total, their relative error, per-customer mean absolute error (MAE) and
    whether the fit is identified. The chosen model has the lowest holdout MAE among identified
    fits (the holdout is what a forecast is for; ties within 1 % broken by BIC); when no fit is
    identified, the lowest MAE overall, said so in the verdict.
    """
    unknown = [m for m in models if m not in MODELS]
    if unknown or not models:
        raise ValueError(f"models must be among {sorted(MODELS)}; got {list(models)}")
    cal = calibration_holdout(transactions, calibration_end, observation_end, freq=freq)
    x, tx, big_t = (cal[c].to_numpy(float) for c in ("frequency_cal", "recency_cal", "T_cal"))
    n = len(cal)
    rows, fitted, by_freq = [], {}, None
    for key in models:
        model, identified, why = _fit(key, freq, x, tx, big_t)
        check = holdout_check(model, cal, max_frequency=max_frequency)
        aic, bic = _aic_bic(model.log_likelihood, 4, n)
        rows.append(
            {
                "model": MODELS[key][1],
                "key": key,
                "log_likelihood": model.log_likelihood,
                "aic": aic,
                "bic": bic,
                "predicted_total": check.predicted_total,
                "observed_total": check.actual_total,
                "total_error": check.ratio - 1,
                "mae": check.mae,
                "identified": identified,
                "note": why,
            }
        )
        fitted[key] = model
        table_f = check.table.rename(columns={"actual": "observed", "predicted": key})
        by_freq = (
            table_f
            if by_freq is None
            else by_freq.merge(table_f[["frequency_cal", key]], on="frequency_cal")
        )
    table = pd.DataFrame(rows)
    assert by_freq is not None
    by_freq.attrs.update(top_bin_open=True, max_frequency=max_frequency)
    chosen, verdict = _choose(table, "holdout")
    return ModelComparison(
        table=table,
        by_frequency=by_freq,
        chosen=chosen,
        verdict=verdict,
        calibration_end=pd.Timestamp(calibration_end),
        observation_end=pd.Timestamp(observation_end),
        n_customers=n,
        models=fitted,
    )


def _choose(table: pd.DataFrame, how: str) -> tuple[str, str]:
    pool = table[table["identified"]]
    fallback = pool.empty
    if fallback:
        pool = table
    if how == "holdout":
        best_mae = pool["mae"].min()
        near = pool[pool["mae"] <= best_mae * 1.01]
        row = near.loc[near["bic"].idxmin()]
        others = ", ".join(
            f"{r.model} {fmt_number(r.mae, decimals=3)}"
            for r in table.itertuples()
            if r.key != row["key"]
        )
        reason = _(
            "Use {model}: it predicts the holdout best, mean absolute error {mae} purchases per "
            "customer (others: {others}); its total is {error} off the {observed} purchases "
            "observed"
        ).format(
            model=row["model"],
            mae=fmt_number(row["mae"], decimals=3),
            others=others,
            error=fmt_share(row["total_error"], signed=True),
            observed=fmt_count(row["observed_total"]),
        )
    else:
        row = pool.loc[pool["bic"].idxmin()]
        reason = _(
            "Use {model}: the history is too short for a holdout test, and among the identified "
            "fits it has the lowest BIC ({bic})"
        ).format(model=row["model"], bic=fmt_number(row["bic"], decimals=1))
    dropped = table[~table["identified"]]
    if fallback:
        reason += _("; no fit is identified, so read its parameters with care")
    elif not dropped.empty:
        reason += _("; not identified and set aside: {models}").format(
            models=", ".join(dropped["model"])
        )
    return str(row["key"]), reason + "."


@dataclass(frozen=True, repr=False)
class ModelChoice(Result):
    """The model a client's CLV should use, fitted on the whole history, and why."""

    key: str  # "bgnbd" | "mbgnbd" | "pareto"
    name: str
    reason: str
    method: str  # "holdout", "best identified (BIC)" or "override"
    holdout_mae: float  # NaN unless chosen by the holdout
    comparison: ModelComparison | None
    model: Any = field(compare=False, default=None)

    def __str__(self) -> str:
        return self.reason

    def to_dict(self) -> dict[str, Any]:
        out = super().to_dict()
        out.pop("model")
        return out


def _check_override(override: str | None) -> None:
    if override is not None and override not in MODELS:
        raise ValueError(f"override must be one of {sorted(MODELS)}; got {override!r}")


def forced_choice(key: str, model: Any = None) -> ModelChoice:
    """The choice when the user names the model (``--clv-model``): ``model`` is its fit, or None
    when the caller fits it on its own summary."""
    _check_override(key)
    name = MODELS[key][1]
    return ModelChoice(
        key,
        name,
        _("Use {model}: chosen by the user.").format(model=name),
        "override",
        float("nan"),
        None,
        model,
    )


def choose_model(
    transactions: pd.DataFrame,
    *,
    observation_end: Any,
    freq: str = "D",
    override: str | None = None,
    holdout_share: float = 1 / 3,
    min_holdout_days: int = 90,
    refit: bool = True,
) -> ModelChoice:
    """Pick the purchase model for a client's transactions and fit it on the whole history.

    * ``override`` ("bgnbd", "mbgnbd", "pareto", as the CLI's ``--clv-model``) forces a model.
    * Otherwise, when the history (first purchase to ``observation_end``) is long enough that
      its last ``holdout_share`` is at least ``min_holdout_days`` days, the models are compared
      on that holdout (:func:`compare_models`) and the best by holdout MAE is chosen.
    * Else every model is fitted on the whole history and the identified fit with the lowest
      BIC is chosen.

    ``reason`` is a plain-language sentence for the report; ``model`` is fitted on the summary
    at ``observation_end`` (the same time unit ``freq``). ``refit=False`` skips that last fit of
    the holdout choice (``model`` None) for a caller that fits the chosen model on its own data.
    """
    _check_override(override)
    if not 0 < holdout_share < 1:
        raise ValueError(f"holdout_share must be in (0, 1); got {holdout_share}")
    tx = _check_transactions(transactions, ("customer_id", "date", "amount"))
    obs_end = pd.Timestamp(observation_end)
    summary = customer_summary(tx, observation_end=obs_end, freq=freq)
    x, rec, big_t = (summary[c].to_numpy(float) for c in ("frequency", "recency", "T"))
    if override is not None:
        return forced_choice(override, _fit(override, freq, x, rec, big_t)[0])
    start = tx.loc[~tx["is_refund"], "date"].min()
    span_days = (obs_end - start).days
    holdout_days = int(span_days * holdout_share)
    if holdout_days >= min_holdout_days:
        cal_end = obs_end - pd.Timedelta(days=holdout_days)
        comparison = compare_models(tx, calibration_end=cal_end, observation_end=obs_end, freq=freq)
        key = comparison.chosen
        model = _fit(key, freq, x, rec, big_t)[0] if refit else None
        mae = float(comparison.table.set_index("key").loc[key, "mae"])
        reason = _(
            "{verdict} (holdout {start} to {end}, {days} days); refitted on the whole history."
        ).format(
            verdict=comparison.verdict[:-1],
            start=fmt_date(cal_end.date()),
            end=fmt_date(obs_end.date()),
            days=fmt_count(holdout_days),
        )
        return ModelChoice(key, MODELS[key][1], reason, "holdout", mae, comparison, model)
    return _choose_by_bic(x, rec, big_t, freq)


def _choose_by_bic(x: np.ndarray, rec: np.ndarray, big_t: np.ndarray, freq: str) -> ModelChoice:
    rows, fitted = [], {}
    for key in MODELS:
        model, identified, why = _fit(key, freq, x, rec, big_t)
        aic, bic = _aic_bic(model.log_likelihood, 4, len(x))
        rows.append({"model": MODELS[key][1], "key": key, "bic": bic, "identified": identified})
        fitted[key] = model
    key, reason = _choose(pd.DataFrame(rows), "bic")
    return ModelChoice(
        key, MODELS[key][1], reason, "best identified (BIC)", float("nan"), None, fitted[key]
    )


def choose_model_for_summary(
    frequency: Any, recency: Any, T: Any, *, freq: str = "D", override: str | None = None
) -> ModelChoice:
    """The model choice of :func:`choose_model` when only a per-customer summary exists (no
    dates, so no holdout): ``override``, else the identified fit with the lowest BIC."""
    _check_override(override)
    x, rec, big_t = (np.asarray(v, dtype=float) for v in (frequency, recency, T))
    if override is not None:
        return forced_choice(override, _fit(override, freq, x, rec, big_t)[0])
    choice = _choose_by_bic(x, rec, big_t, freq)
    return dataclasses.replace(
        choice,
        reason=choice.reason.replace(
            _("the history is too short for a holdout test"),
            _("only a per-customer summary was given (no dates for a holdout test)"),
        ),
    )
