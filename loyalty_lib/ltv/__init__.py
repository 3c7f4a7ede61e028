"""LTV and CLV: the course formula m × a × t, cohorts, BG/NBD, MBG/NBD, Pareto/NBD, BG/BB,
Gamma-Gamma, holdout validation, model comparison and model-based intervals.

>>> from loyalty_lib.ltv import BetaGeo, GammaGamma, ParetoNBD, ltv_from_transactions
"""

from loyalty_lib.ltv.bgbb import BetaGeoBetaBinom
from loyalty_lib.ltv.bgnbd import BetaGeo, simulate
from loyalty_lib.ltv.cohorts import cohort_table, retention_curve
from loyalty_lib.ltv.compare import (
    ModelChoice,
    ModelComparison,
    choose_model,
    choose_model_for_summary,
    compare_models,
)
from loyalty_lib.ltv.gamma_gamma import (
    CorrelationResult,
    GammaGamma,
    frequency_monetary_correlation,
)
from loyalty_lib.ltv.holdout import HoldoutCheck, calibration_holdout, holdout_check
from loyalty_lib.ltv.intervals import ModelIntervals, model_intervals
from loyalty_lib.ltv.mbgnbd import ModifiedBetaGeo
from loyalty_lib.ltv.pareto_nbd import ParetoNBD
from loyalty_lib.ltv.simple import (
    LTVCACResult,
    LTVCheckResult,
    LTVResult,
    RetentionCostResult,
    discounted_ltv,
    lifetime_from_churn,
    ltv,
    ltv_by_churn,
    ltv_from_transactions,
    ltv_reality_check,
    ltv_to_cac,
    retention_vs_acquisition,
)

__all__ = [
    "BetaGeo",
    "BetaGeoBetaBinom",
    "ModelChoice",
    "ModelComparison",
    "ModelIntervals",
    "ModifiedBetaGeo",
    "ParetoNBD",
    "choose_model",
    "choose_model_for_summary",
    "compare_models",
    "model_intervals",
    "CorrelationResult",
    "GammaGamma",
    "HoldoutCheck",
    "LTVCACResult",
    "LTVCheckResult",
    "LTVResult",
    "RetentionCostResult",
    "calibration_holdout",
    "cohort_table",
    "discounted_ltv",
    "frequency_monetary_correlation",
    "holdout_check",
    "lifetime_from_churn",
    "ltv",
    "ltv_by_churn",
    "ltv_from_transactions",
    "ltv_reality_check",
    "ltv_to_cac",
    "retention_curve",
    "retention_vs_acquisition",
    "simulate",
]
