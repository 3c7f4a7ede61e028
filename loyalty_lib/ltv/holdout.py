"""Calibration / holdout split for validating BG/NBD, the lifetimes convention.

Fit on what customers did up to ``calibration_end``; predict how many purchase periods they will
have in (calibration_end, observation_end]; compare with what they actually did.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from loyalty_lib._result import Result
from loyalty_lib.ltv.simple import _check_transactions
from loyalty_lib.segments import customer_summary


def calibration_holdout(
    transactions: pd.DataFrame, calibration_end: Any, observation_end: Any, freq: str = "D"
) -> pd.DataFrame:
    """One row per customer with a purchase on or before ``calibration_end``.

    Columns: ``customer_id``, ``frequency_cal``, ``recency_cal``, ``T_cal``, ``monetary_cal``
    (:func:`loyalty_lib.segments.customer_summary` at calibration_end), ``frequency_holdout``
    (distinct purchase periods in (calibration_end, observation_end]), ``monetary_holdout`` (mean
    spend of those periods, 0 if none; refunds excluded, as in the summary's ``monetary``) and ``duration_holdout`` (length of the holdout in ``freq`` periods). Dates are
    inclusive; durations count whole ``freq`` periods ("D" days, "W" weeks, "M" months).
    """
    tx = _check_transactions(transactions, ("customer_id", "date", "amount"))
    cal_end, obs_end = pd.Timestamp(calibration_end), pd.Timestamp(observation_end)
    if obs_end <= cal_end:
        raise ValueError(
            f"observation_end ({obs_end.date()}) must be after calibration_end ({cal_end.date()})"
        )
    try:
        duration = obs_end.to_period(freq).ordinal - cal_end.to_period(freq).ordinal
    except ValueError as exc:
        raise ValueError(
            f"freq must be a pandas period alias such as 'D', 'W', 'M'; got {freq!r}"
        ) from exc
    if duration < 1:
        raise ValueError(
            f"the holdout ({cal_end.date()}..{obs_end.date()}) is shorter than one {freq} period"
        )
    # the library's one definition of frequency/recency/T/monetary (DuckDB SQL)
    summary = customer_summary(tx, observation_end=cal_end, freq=freq)
    cal = summary[["customer_id", "frequency", "recency", "T", "monetary"]].rename(
        columns={
            "frequency": "frequency_cal",
            "recency": "recency_cal",
            "T": "T_cal",
            "monetary": "monetary_cal",
        }
    )

    # holdout purchases, counted like the summary counts them: purchase periods, refunds excluded
    hold = tx[(tx["date"] > cal_end) & (tx["date"] <= obs_end) & ~tx["is_refund"]].copy()
    hold["period"] = hold["date"].dt.to_period(freq)
    per_period = (
        hold.groupby(["customer_id", "period"])["amount"].sum().groupby(level="customer_id")
    )
    holdout = pd.DataFrame(
        {"frequency_holdout": per_period.size(), "monetary_holdout": per_period.mean()}
    )

    out = cal.join(holdout, on="customer_id")
    out["frequency_holdout"] = out["frequency_holdout"].fillna(0).astype("int64")
    out["monetary_holdout"] = out["monetary_holdout"].fillna(0.0)
    out["duration_holdout"] = float(duration)
    out["frequency_cal"] = out["frequency_cal"].astype("int64")
    return out.reset_index(drop=True)


@dataclass(frozen=True, repr=False)
class HoldoutCheck(Result):
    """Predicted vs actual holdout purchases; ``table`` is grouped by calibration frequency."""

    table: pd.DataFrame  # frequency_cal, n_customers, actual, predicted (means per customer)
    n_customers: int
    actual_total: float  # purchase periods in the holdout, all customers
    predicted_total: float
    ratio: float  # predicted / actual
    mae: float  # mean |predicted − actual| per customer
    duration: float  # holdout length in model time units

    def __str__(self) -> str:
        return (
            f"Holdout: predicted {self.predicted_total:,.0f} vs actual {self.actual_total:,.0f} purchases "
            f"(ratio {self.ratio:.2f}) for {self.n_customers:,} customers over {self.duration:g} periods; "
            f"mean absolute error {self.mae:.2f} purchases per customer"
        )


def holdout_check(model: Any, cal_holdout: pd.DataFrame, *, max_frequency: int = 7) -> HoldoutCheck:
    """Compare ``model.expected_purchases(duration_holdout, frequency_cal, recency_cal, T_cal)``
    with ``frequency_holdout``, by calibration frequency 0..max_frequency (the last bin is
    "max_frequency or more", as in the standard calibration-vs-holdout plot).
    """
    needed = ["frequency_cal", "recency_cal", "T_cal", "frequency_holdout", "duration_holdout"]
    missing = [c for c in needed if c not in cal_holdout.columns]
    if missing:
        raise ValueError(f"cal_holdout is missing {missing}; build it with calibration_holdout()")
    if cal_holdout.empty:
        raise ValueError("cal_holdout is empty")
    if max_frequency < 1:
        raise ValueError(f"max_frequency must be ≥ 1; got {max_frequency}")
    predicted = np.asarray(
        model.expected_purchases(
            cal_holdout["duration_holdout"].to_numpy(float),
            cal_holdout["frequency_cal"].to_numpy(float),
            cal_holdout["recency_cal"].to_numpy(float),
            cal_holdout["T_cal"].to_numpy(float),
        ),
        dtype=float,
    )
    actual = cal_holdout["frequency_holdout"].to_numpy(float)
    frame = pd.DataFrame(
        {
            "frequency_cal": np.minimum(cal_holdout["frequency_cal"].to_numpy(), max_frequency),
            "actual": actual,
            "predicted": predicted,
        }
    )
    table = (
        frame.groupby("frequency_cal")
        .agg(
            n_customers=("actual", "size"),
            actual=("actual", "mean"),
            predicted=("predicted", "mean"),
        )
        .reset_index()
    )
    table.attrs["top_bin_open"] = True
    table.attrs["max_frequency"] = max_frequency
    actual_total, predicted_total = float(actual.sum()), float(predicted.sum())
    return HoldoutCheck(
        table=table,
        n_customers=len(frame),
        actual_total=actual_total,
        predicted_total=predicted_total,
        ratio=predicted_total / actual_total if actual_total > 0 else float("nan"),
        mae=float(np.mean(np.abs(predicted - actual))),
        duration=float(cal_holdout["duration_holdout"].iloc[0]),
    )
