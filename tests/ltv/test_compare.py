"""compare_models / choose_model on the CDNOW sample: calibration 1997-01-01..1997-09-30,
holdout to 1998-06-30 (the standard 39 + 39 weeks split), counted in days (freq "D", the
module's default: a purchase = a distinct purchase day)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from loyalty_lib.ltv.compare import MODELS, choose_model, compare_models

CAL_END, OBS_END = "1997-09-30", "1998-06-30"


@pytest.fixture(scope="module")
def comparison(cdnow_transactions: pd.DataFrame):
    return compare_models(
        cdnow_transactions, calibration_end=CAL_END, observation_end=OBS_END, freq="D"
    )


def test_one_row_per_model_with_information_criteria(comparison) -> None:
    table = comparison.table
    assert list(table["key"]) == ["bgnbd", "mbgnbd", "pareto"]
    assert list(table["model"]) == [MODELS[k][1] for k in table["key"]]
    assert comparison.n_customers == 2357
    for row in table.itertuples():
        assert np.isfinite(row.log_likelihood) and row.log_likelihood < 0
        assert row.log_likelihood == pytest.approx(comparison.models[row.key].log_likelihood)
        k, n = 4, comparison.n_customers
        assert row.aic == pytest.approx(2 * k - 2 * row.log_likelihood, rel=1e-12)
        assert row.bic == pytest.approx(k * np.log(n) - 2 * row.log_likelihood, rel=1e-12)


def test_observed_holdout_equals_a_plain_pandas_count(
    comparison, cdnow_transactions: pd.DataFrame
) -> None:
    tx = cdnow_transactions
    cal_customers = set(tx.loc[tx["date"] <= CAL_END, "customer_id"])
    hold = tx[(tx["date"] > CAL_END) & (tx["date"] <= OBS_END)]
    hold = hold[hold["customer_id"].isin(cal_customers)]
    observed = len(hold.drop_duplicates(["customer_id", "date"]))  # distinct purchase days
    assert observed > 1000
    table = comparison.table
    assert (table["observed_total"] == observed).all()
    # total_error consistent with the totals; measured: BG/NBD −12.1 %, MBG/NBD −16.2 %,
    # Pareto/NBD −11.5 % (all under-forecast this holdout), so a loose sanity bound of 20 %
    np.testing.assert_allclose(
        table["total_error"], table["predicted_total"] / table["observed_total"] - 1, rtol=1e-12
    )
    assert (table["total_error"].abs() < 0.2).all(), table[["model", "total_error"]]


def test_predicted_total_is_the_sum_of_model_predictions(
    comparison, cdnow_transactions: pd.DataFrame
) -> None:
    from loyalty_lib.ltv.holdout import calibration_holdout

    cal = calibration_holdout(cdnow_transactions, CAL_END, OBS_END, freq="D")
    duration = (pd.Timestamp(OBS_END) - pd.Timestamp(CAL_END)).days
    assert (cal["duration_holdout"] == duration).all()
    for row in comparison.table.itertuples():
        model = comparison.models[row.key]
        pred = np.asarray(
            model.expected_purchases(
                duration, cal["frequency_cal"], cal["recency_cal"], cal["T_cal"]
            ),
            dtype=float,
        )
        assert row.predicted_total == pytest.approx(pred.sum(), rel=1e-9)
        assert row.mae == pytest.approx(np.abs(pred - cal["frequency_holdout"]).mean(), rel=1e-9)


def test_chosen_model_has_the_smallest_holdout_error(comparison) -> None:
    table = comparison.table
    pool = table[table["identified"]] if table["identified"].any() else table
    best_mae = pool["mae"].min()
    near = pool[pool["mae"] <= best_mae * 1.01]
    expected = near.loc[near["bic"].idxmin(), "key"]
    assert comparison.chosen == expected
    assert MODELS[comparison.chosen][1] in comparison.verdict


def test_choose_model_uses_the_same_holdout(cdnow_transactions: pd.DataFrame, comparison) -> None:
    start = cdnow_transactions["date"].min()
    span = (pd.Timestamp(OBS_END) - start).days
    hold_days = (pd.Timestamp(OBS_END) - pd.Timestamp(CAL_END)).days
    # share chosen so that int(span · share) is exactly the 273-day holdout
    choice = choose_model(
        cdnow_transactions,
        observation_end=OBS_END,
        freq="D",
        holdout_share=(hold_days + 0.5) / span,
    )
    assert choice.method == "holdout"
    assert choice.comparison is not None
    assert choice.comparison.calibration_end == pd.Timestamp(CAL_END)
    table = choice.comparison.table
    assert choice.key == comparison.chosen
    assert choice.holdout_mae == pytest.approx(table.set_index("key").loc[choice.key, "mae"])
    # refitted on the whole history: more customers' data, a different log-likelihood
    assert choice.model.n_customers == 2357
    assert choice.model.log_likelihood < comparison.models[choice.key].log_likelihood
    assert choice.model.log_likelihood != comparison.models[choice.key].log_likelihood


def test_override_and_unknown_model(cdnow_transactions: pd.DataFrame) -> None:
    choice = choose_model(cdnow_transactions, observation_end=OBS_END, override="mbgnbd")
    assert choice.key == "mbgnbd" and choice.method == "override"
    with pytest.raises(ValueError, match="models must be among"):
        compare_models(
            cdnow_transactions, calibration_end=CAL_END, observation_end=OBS_END, models=("x",)
        )
