"""Net Promoter Score: the score, its confidence interval, wave comparison, interpretation, themes.

Conventions (seed-digest ids in brackets):

* The survey asks :data:`SURVEY_QUESTION` on a 0–10 scale [N1]. Scores 0–6 are *detractors*,
  7–8 *passives*, 9–10 *promoters* [N2].
* NPS = share of promoters − share of detractors, reported in points from −100 to +100 [N3].
* Uncertainty: each respondent contributes X = +1 (promoter), 0 (passive) or −1 (detractor), so
  NPS/100 is the mean of X. With p_P, p_D the shares of promoters and detractors,
  Var(X) = p_P + p_D − (p_P − p_D)² (the "trinomial" variance, e.g. Rocks 2016), and
  SE(NPS) = 100·√(Var(X)/n). The 95 % interval is the normal approximation NPS ± 1.96·SE, clipped
  to [−100, 100]. With small n or all answers in one group (Var = 0) the interval is too narrow;
  collect more answers rather than trusting it.
* Everyone below 10 gets the follow-up question :data:`FOLLOW_UP_QUESTION` [N4]; the comments are
  tagged into themes with keyword stems (:data:`THEMES`).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from loyalty_lib._result import Result
from loyalty_lib.i18n import N_, _, fmt_number
from loyalty_lib.stats import normal_interval, two_sided_p, z_quantile

__all__ = [
    "BANDS",
    "BENCHMARK_SOURCE",
    "FOLLOW_UP_QUESTION",
    "GROUPS",
    "INDUSTRY_BENCHMARKS",
    "SURVEY_QUESTION",
    "THEMES",
    "THEME_PRIORITY",
    "NPSDifference",
    "NPSInterpretation",
    "NPSResult",
    "FEEDBACK_WAVES",
    "MEASUREMENT_TRIGGERS",
    "bands_table",
    "benchmarks_table",
    "compare",
    "conversion_scenarios",
    "detractor_contacts",
    "feedback_wave",
    "interpret",
    "link_purchases",
    "margin_of_error",
    "measurement_triggers",
    "nps",
    "nps_by",
    "nps_from_counts",
    "nps_group",
    "nps_trend",
    "sample_size",
    "tag_comments",
    "theme_shares",
    "what_if_passives_convert",
]

# --- survey wording (our own English wording of the questions in the sources) ----------------

SURVEY_QUESTION = (
    "On a scale from 0 to 10, how likely are you to recommend us to a friend or colleague? "
    "(0 = not at all likely, 10 = I would definitely recommend you)"
)
"""The NPS question [N1]."""

FOLLOW_UP_QUESTION = "What should we change so that next time you would give us a 10?"
"""Asked of everyone who answered below 10 [N4]; the answers point to concrete improvements."""

GROUPS: dict[str, tuple[int, ...]] = {
    "detractor": tuple(range(0, 7)),
    "passive": (7, 8),
    "promoter": (9, 10),
}
"""Score → group mapping [N2]."""


# --- result objects ----------------------------------------------------------------------------


def _pct_label(confidence: float) -> str:
    return _("{value}%").format(value=f"{100 * confidence:g}")


def _fixed(value: float, decimals: int) -> str:
    """``f"{value:.{decimals}f}"`` in the selected locale (22.8 / 22,8; 1,537 / 1 537).

    Python rounds first, on the exact binary value, as the English sentences always did; the
    locale then only changes the marks, so English text stays byte-identical."""
    return fmt_number(float(f"{float(value):.{decimals}f}"), decimals=decimals)


def _points(value: float, decimals: int = 1) -> str:
    """Signed NPS points: English exactly ``f"{value:+.1f}"`` (+22.8, -0.2), Russian +22,8."""
    text = f"{float(value):+.{decimals}f}"
    return text[0] + _fixed(abs(float(text)), decimals)


def _percent(share: float) -> str:
    """A share 0..1 as a whole percent, ``f"{100 * share:.0f}%"`` in English (47%)."""
    return _("{value}%").format(value=_fixed(100 * share, 0))


@dataclass(frozen=True)
class NPSResult(Result):
    """NPS in points (−100..100) with a normal-approximation confidence interval.

    ``se`` is the standard error in points; shares are 0..1; counts are respondents.
    """

    score: float
    ci_low: float
    ci_high: float
    n: int
    promoters: int
    passives: int
    detractors: int
    share_promoters: float
    share_passives: float
    share_detractors: float
    se: float
    confidence: float = 0.95

    def __str__(self) -> str:
        return _(
            "NPS {score} ({level} CI {low} to {high}, n={n}: {promoters} promoters, "
            "{passives} passives, {detractors} detractors)"
        ).format(
            score=_points(self.score),
            level=_pct_label(self.confidence),
            low=_points(self.ci_low),
            high=_points(self.ci_high),
            n=self.n,
            promoters=_percent(self.share_promoters),
            passives=_percent(self.share_passives),
            detractors=_percent(self.share_detractors),
        )


@dataclass(frozen=True)
class NPSDifference(Result):
    """Change in NPS between two independent samples, in points (after − before)."""

    before: float
    after: float
    diff: float
    se: float
    ci_low: float
    ci_high: float
    z: float
    p_value: float
    significant: bool
    n_before: int
    n_after: int
    confidence: float = 0.95

    def __str__(self) -> str:
        # two significant digits as before (p=0.047); the locale's decimal mark (p=0,047)
        p = (
            "p<0.001"
            if self.p_value < 0.001
            else "p=" + fmt_number(float(f"{self.p_value:.2g}"), sig=2, max_decimals=6)
        )
        alpha = _pct_label(1 - self.confidence)
        verdict = _("significant") if self.significant else _("not significant")
        return _(
            "NPS changed by {diff} points ({level} CI {low} to {high}, {p}): {verdict} at {alpha}"
        ).format(
            diff=_points(self.diff),
            level=_pct_label(self.confidence),
            low=_points(self.ci_low),
            high=_points(self.ci_high),
            p=p,
            verdict=verdict,
            alpha=alpha,
        )


@dataclass(frozen=True)
class NPSInterpretation(Result):
    """Band and industry comparison for one NPS value (points)."""

    score: float
    band: str
    band_meaning: str
    industry: str | None
    benchmark: float | None
    gap: float | None
    sentence: str

    def __str__(self) -> str:
        return self.sentence


# --- validation ----------------------------------------------------------------------------------


def _as_scores(scores: Any, name: str = "scores") -> np.ndarray:
    """Validate 0–10 integer scores; return them as an int64 array.

    Raises ValueError naming the first bad value and its position (and index label for a Series).
    """
    if isinstance(scores, str | bytes) or np.isscalar(scores) or scores is None:
        raise TypeError(f"{name} must be a Series or array-like of 0–10 scores, got {scores!r}")
    if isinstance(scores, pd.Series):
        series = scores
    elif isinstance(scores, np.ndarray):
        if scores.ndim != 1:
            raise ValueError(f"{name} must be one-dimensional, got shape {scores.shape}")
        series = pd.Series(scores)
    else:
        series = pd.Series(list(scores))
    if series.empty:
        raise ValueError(f"{name} is empty: need at least one 0–10 score")
    if pd.api.types.is_bool_dtype(series.dtype):
        raise TypeError(f"{name} are booleans; expected integer scores 0–10")
    if pd.api.types.is_numeric_dtype(series.dtype):
        values = series.to_numpy(dtype=float, na_value=np.nan)
        bad = ~np.isfinite(values) | (values < 0) | (values > 10) | (values != np.round(values))
    else:
        # Strings or mixed objects: check element by element so "7" is rejected, not coerced.
        raw = series.to_numpy(dtype=object)
        values = np.full(len(raw), np.nan)
        bad = np.ones(len(raw), dtype=bool)
        for i, v in enumerate(raw):
            if isinstance(v, int | float | np.integer | np.floating) and not isinstance(
                v, bool | np.bool_
            ):
                fv = float(v)
                values[i] = fv
                bad[i] = not (math.isfinite(fv) and 0 <= fv <= 10 and fv == round(fv))
    if bad.any():
        pos = int(np.flatnonzero(bad)[0])
        value = series.iloc[pos]
        value = value.item() if isinstance(value, np.generic) else value
        where = f"position {pos}"
        if isinstance(scores, pd.Series):
            where += f" (index {series.index[pos]!r})"
        raise ValueError(
            f"{name}: bad value {value!r} at {where}; expected an integer score from 0 to 10 "
            f"({int(bad.sum())} bad value(s) in total)"
        )
    return values.astype(np.int64)


def _check_count(value: Any, name: str) -> int:
    if isinstance(value, bool | np.bool_) or not isinstance(
        value, int | np.integer | float | np.floating
    ):
        raise TypeError(f"{name} must be a whole number of respondents, got {value!r}")
    if not math.isfinite(float(value)) or float(value) < 0 or float(value) != round(float(value)):
        raise ValueError(f"{name} must be a whole number ≥ 0, got {value!r}")
    return int(value)


def _trinomial_var(p_promoters: float, p_detractors: float) -> float:
    """Var(X) for X ∈ {+1, 0, −1}: p_P + p_D − (p_P − p_D)²."""
    return p_promoters + p_detractors - (p_promoters - p_detractors) ** 2


# --- the score -----------------------------------------------------------------------------------


def nps_from_counts(
    promoters: int, passives: int, detractors: int, *, confidence: float = 0.95
) -> NPSResult:
    """NPS from group counts, with SE = 100·√((p_P + p_D − (p_P − p_D)²)/n) and a normal CI."""
    p_n = _check_count(promoters, "promoters")
    pa_n = _check_count(passives, "passives")
    d_n = _check_count(detractors, "detractors")
    n = p_n + pa_n + d_n
    if n == 0:
        raise ValueError("no respondents: promoters + passives + detractors must be > 0")
    z = z_quantile(confidence)
    p_p, p_pa, p_d = p_n / n, pa_n / n, d_n / n
    score = 100 * (p_p - p_d)
    # max(…, 0) guards against −1e-17 from rounding when everyone is in one group.
    se = 100 * math.sqrt(max(_trinomial_var(p_p, p_d), 0.0) / n)
    return NPSResult(
        score=score,
        ci_low=max(-100.0, score - z * se),
        ci_high=min(100.0, score + z * se),
        n=n,
        promoters=p_n,
        passives=pa_n,
        detractors=d_n,
        share_promoters=p_p,
        share_passives=p_pa,
        share_detractors=p_d,
        se=se,
        confidence=confidence,
    )


def _counts(values: np.ndarray) -> tuple[int, int, int]:
    per_score = np.bincount(values, minlength=11)
    return int(per_score[9:].sum()), int(per_score[7:9].sum()), int(per_score[:7].sum())


def nps(scores: pd.Series | Sequence[int] | np.ndarray, *, confidence: float = 0.95) -> NPSResult:
    """NPS (points, −100..100) of 0–10 scores with a normal-approximation CI (see module doc).

    Scores must be whole numbers 0..10: 11, −1, 7.5, NaN or strings raise ValueError naming the
    value and its position; empty input raises ValueError.
    """
    promoters, passives, detractors = _counts(_as_scores(scores))
    return nps_from_counts(promoters, passives, detractors, confidence=confidence)


def nps_group(scores: pd.Series | Sequence[int] | np.ndarray) -> pd.Series:
    """ "promoter" (9–10), "passive" (7–8) or "detractor" (0–6) for each score; keeps a Series' index."""
    values = _as_scores(scores)
    labels = np.select([values >= 9, values >= 7], ["promoter", "passive"], default="detractor")
    index = scores.index if isinstance(scores, pd.Series) else None
    return pd.Series(labels, index=index, name="group", dtype="str")


_ROW_FIELDS = (
    "score",
    "ci_low",
    "ci_high",
    "n",
    "promoters",
    "passives",
    "detractors",
    "share_promoters",
    "share_passives",
    "share_detractors",
    "se",
)


def _as_datetime(survey: pd.DataFrame, date_col: str) -> pd.Series:
    if date_col not in survey.columns:
        raise ValueError(f"survey has no {date_col!r} column (needed to derive waves)")
    dates = survey[date_col]
    if not pd.api.types.is_datetime64_any_dtype(dates.dtype):
        try:
            dates = pd.to_datetime(dates)
        except (ValueError, TypeError) as exc:
            raise ValueError(f"column {date_col!r} must hold dates: {exc}") from exc
    if dates.isna().any():
        pos = int(np.flatnonzero(dates.isna().to_numpy())[0])
        raise ValueError(f"column {date_col!r} has a missing date at position {pos}")
    return dates


def _waves(survey: pd.DataFrame, freq: str, date_col: str = "date") -> pd.Series:
    """Wave label per row: "2025-03" for freq="M", "2025Q1" for "Q", "2025-03-03/2025-03-09" for "W"."""
    if freq not in {"M", "Q", "W"}:
        raise ValueError(
            f"freq must be 'M' (monthly), 'Q' (quarterly) or 'W' (weekly), got {freq!r}"
        )
    return _as_datetime(survey, date_col).dt.to_period(freq).astype(str).rename("wave")


def nps_by(
    survey: pd.DataFrame, by: str | list[str], *, score_col: str = "score", confidence: float = 0.95
) -> pd.DataFrame:
    """One row per group: the ``by`` columns, score, ci_low, ci_high, n, counts, shares, se.

    ``by="wave"`` (or a list containing it) uses the ``wave`` column if present, otherwise monthly
    waves derived from ``date`` ("2025-03") [N8].
    """
    if not isinstance(survey, pd.DataFrame):
        raise TypeError(f"survey must be a DataFrame, got {type(survey).__name__}")
    keys = [by] if isinstance(by, str) else list(by)
    if not keys:
        raise ValueError("by must name at least one column")
    if score_col not in survey.columns:
        raise ValueError(f"survey has no {score_col!r} column; columns are {list(survey.columns)}")
    frame = survey
    if "wave" in keys and "wave" not in survey.columns:
        frame = survey.assign(wave=_waves(survey, "M"))
    missing = [k for k in keys if k not in frame.columns]
    if missing:
        raise ValueError(f"survey has no column(s) {missing}; columns are {list(survey.columns)}")
    values = _as_scores(frame[score_col], name=f"column {score_col!r}")
    rows = []
    for key, positions in frame.groupby(keys, sort=True, dropna=False).indices.items():
        result = nps_from_counts(*_counts(values[positions]), confidence=confidence)
        key_tuple = key if isinstance(key, tuple) else (key,)
        rows.append(
            dict(zip(keys, key_tuple, strict=True)) | {f: getattr(result, f) for f in _ROW_FIELDS}
        )
    return pd.DataFrame(rows, columns=[*keys, *_ROW_FIELDS])


# --- comparing two samples --------------------------------------------------------------------


def _as_result(x: Any, name: str) -> NPSResult:
    if isinstance(x, NPSResult):
        return x
    if x is None:
        raise TypeError(f"{name} must be 0–10 scores or an NPSResult, got None")
    return nps(x)


def compare(
    before: NPSResult | pd.Series | Sequence[int] | np.ndarray,
    after: NPSResult | pd.Series | Sequence[int] | np.ndarray,
    *,
    confidence: float = 0.95,
) -> NPSDifference:
    """Difference after − before (points) for two *independent* samples, with a two-sided z-test.

    SE = √(SE_before² + SE_after²); CI = diff ± z·SE; p = 2·(1 − Φ(|diff|/SE)). Each argument is
    either raw 0–10 scores or an :class:`NPSResult`. Not for the same respondents asked twice.
    """
    b = _as_result(before, "before")
    a = _as_result(after, "after")
    diff = a.score - b.score
    se = math.hypot(a.se, b.se)
    ci_low, ci_high = normal_interval(diff, se, confidence)
    p = two_sided_p(diff, se)
    # se = 0: both samples have zero variance, the difference is exact
    z = diff / se if se > 0 else (math.copysign(math.inf, diff) if diff else 0.0)
    return NPSDifference(
        before=b.score,
        after=a.score,
        diff=diff,
        se=se,
        ci_low=ci_low,
        ci_high=ci_high,
        z=z,
        p_value=p,
        significant=bool(p < 1 - confidence),
        n_before=b.n,
        n_after=a.n,
        confidence=confidence,
    )


def nps_trend(
    survey: pd.DataFrame, *, freq: str = "M", score_col: str = "score", date_col: str = "date"
) -> pd.DataFrame:
    """NPS per wave (monthly by default [N8]) and the change versus the previous wave.

    Columns: wave (period string), score, ci_low, ci_high, n, promoters, passives, detractors,
    change (points vs the previous wave present; NaN for the first), change_p_value (two-sided
    z-test, :func:`compare`), change_significant. Waves with no responses are absent.
    """
    if not isinstance(survey, pd.DataFrame):
        raise TypeError(f"survey must be a DataFrame, got {type(survey).__name__}")
    if score_col not in survey.columns:
        raise ValueError(f"survey has no {score_col!r} column; columns are {list(survey.columns)}")
    frame = pd.DataFrame({"wave": _waves(survey, freq, date_col), "score": survey[score_col]})
    table = nps_by(frame, "wave", score_col="score")
    # Sort by period, not by string (weekly labels sort correctly as strings too, but be explicit).
    order = pd.PeriodIndex(table["wave"].str.split("/").str[0], freq=freq).argsort()
    table = table.iloc[order].reset_index(drop=True)
    changes, p_values, signif = [np.nan], [np.nan], [pd.NA]
    for prev, cur in zip(table.index[:-1], table.index[1:], strict=True):
        d = compare(
            nps_from_counts(*table.loc[prev, ["promoters", "passives", "detractors"]]),
            nps_from_counts(*table.loc[cur, ["promoters", "passives", "detractors"]]),
        )
        changes.append(d.diff)
        p_values.append(d.p_value)
        signif.append(d.significant)
    out = table[["wave", "score", "ci_low", "ci_high", "n", "promoters", "passives", "detractors"]]
    return out.assign(
        change=changes[: len(out)],
        change_p_value=p_values[: len(out)],
        change_significant=pd.array(signif[: len(out)], dtype="boolean"),
    )


# --- interpretation ------------------------------------------------------------------------------

BANDS: tuple[dict[str, Any], ...] = (
    {
        "band": N_("negative"),
        "upper": 0.0,
        "upper_inclusive": False,
        "rule": "NPS < 0",
        "meaning": N_("more detractors than promoters"),
    },
    {
        "band": N_("low"),
        "upper": 10.0,
        "upper_inclusive": True,
        "rule": "0 ≤ NPS ≤ 10",
        "meaning": N_("little chance of holding out against strong competition"),
    },
    {
        "band": N_("moderate"),
        "upper": 50.0,
        "upper_inclusive": False,
        "rule": "10 < NPS < 50",
        "meaning": N_("growing and able to compete, but not the leader of the industry"),
    },
    {
        "band": N_("market leader"),
        "upper": 80.0,
        "upper_inclusive": True,
        "rule": "50 ≤ NPS ≤ 80",
        "meaning": N_("sets the standard in its industry; customers come back again and again"),
    },
    {
        "band": N_("exceptional"),
        "upper": 100.0,
        "upper_inclusive": True,
        "rule": "NPS > 80",
        "meaning": N_("above the range the source gives for market leaders"),
    },
)
"""Interpretation bands [N6], checked in order: a score belongs to the first band whose upper
bound it does not exceed. The source names three bands — low (up to 10), moderate (around 45) and
market leaders (50–80). We fill the gaps explicitly: below 0 is "negative" (the source's "low"
covers it too), everything between 10 and 50 is "moderate", and above 80 is "exceptional"."""

INDUSTRY_BENCHMARKS: dict[str, dict[str, Any]] = {
    "clinic": {"industry": N_("private clinics"), "nps": 20.0, "note": N_("20 is already enough")},
    "banking": {"industry": N_("banking"), "nps": 25.0, "note": N_("25 is sufficient")},
    "telecom": {
        "industry": N_("telecom and communications"),
        "nps": 25.0,
        "note": N_("25 is sufficient"),
    },
    "insurance": {"industry": N_("insurance"), "nps": 35.0, "note": N_("35 is sufficient")},
    "retail": {
        "industry": N_("shops and supermarkets"),
        "nps": 50.0,
        "note": N_("50 is hard to exceed"),
    },
    "car_sales": {"industry": N_("car sales"), "nps": 60.0, "note": N_("60 is a big success")},
}
"""Industry reference NPS values in points [N7]."""

BENCHMARK_SOURCE = (
    "Industry figures as stated in a Russian business article on NPS (seed 000, ids [N6]/[N7]); "
    "rules of thumb for a good result in each industry, not survey-based statistics."
)


def bands_table() -> pd.DataFrame:
    """:data:`BANDS` as a DataFrame (band, upper, upper_inclusive, rule, meaning)."""
    return pd.DataFrame(list(BANDS))


def benchmarks_table() -> pd.DataFrame:
    """:data:`INDUSTRY_BENCHMARKS` as a DataFrame (key, industry, nps, note); source in attrs."""
    table = pd.DataFrame.from_dict(INDUSTRY_BENCHMARKS, orient="index")
    table = table.rename_axis("key").reset_index()
    table.attrs["source"] = BENCHMARK_SOURCE
    return table


def _band(score: float) -> dict[str, Any]:
    for band in BANDS:
        if score < band["upper"] or (band["upper_inclusive"] and score == band["upper"]):
            return band
    return BANDS[-1]


def interpret(score: float | NPSResult, industry: str | None = None) -> NPSInterpretation:
    """Band [N6] and, if ``industry`` is given, the gap to its benchmark [N7] (points)."""
    value = score.score if isinstance(score, NPSResult) else score
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise TypeError(f"score must be a number of NPS points, got {value!r}")
    value = float(value)
    if not (math.isfinite(value) and -100 <= value <= 100):
        raise ValueError(f"score must be between -100 and 100 points, got {value!r}")
    band = _band(value)
    sentence = _("NPS {score} is in the {band} band ({rule}: {meaning})").format(
        score=_points(value), band=_(band["band"]), rule=band["rule"], meaning=_(band["meaning"])
    )
    benchmark = gap = None
    if industry is not None:
        if industry not in INDUSTRY_BENCHMARKS:
            raise ValueError(
                f"unknown industry {industry!r}; known: {', '.join(INDUSTRY_BENCHMARKS)}"
            )
        info = INDUSTRY_BENCHMARKS[industry]
        benchmark = float(info["nps"])
        gap = value - benchmark
        words = {
            "industry": _(info["industry"]),
            "benchmark": _fixed(benchmark, 0),
            "note": _(info["note"]),
            "gap": _fixed(abs(gap), 1),
        }
        if gap > 0:
            template = _("; {gap} points above the {industry} benchmark of {benchmark} ({note})")
        elif gap < 0:
            template = _("; {gap} points below the {industry} benchmark of {benchmark} ({note})")
        else:
            template = _("; exactly at the {industry} benchmark of {benchmark} ({note})")
        sentence += template.format(**words)
    return NPSInterpretation(
        score=value,
        band=band["band"],
        band_meaning=band["meaning"],
        industry=industry,
        benchmark=benchmark,
        gap=gap,
        sentence=sentence + ".",
    )


# --- planning a survey ------------------------------------------------------------------------


def _check_shares(p_promoters: float, p_detractors: float) -> float:
    for name, p in (("p_promoters", p_promoters), ("p_detractors", p_detractors)):
        if not (isinstance(p, int | float | np.integer | np.floating) and 0 <= p <= 1):
            raise ValueError(f"{name} must be a share between 0 and 1, got {p!r}")
    if p_promoters + p_detractors > 1 + 1e-12:
        raise ValueError(
            f"p_promoters + p_detractors must be ≤ 1, got {p_promoters} + {p_detractors}"
        )
    return _trinomial_var(float(p_promoters), float(p_detractors))


def margin_of_error(
    n: int, p_promoters: float, p_detractors: float, *, confidence: float = 0.95
) -> float:
    """Half-width of the CI in NPS points: z·100·√((p_P + p_D − (p_P − p_D)²)/n)."""
    n = _check_count(n, "n")
    if n == 0:
        raise ValueError("n must be at least 1")
    return z_quantile(confidence) * 100 * math.sqrt(_check_shares(p_promoters, p_detractors) / n)


def sample_size(
    margin: float,
    *,
    expected_shares: tuple[float, float] = (0.5, 0.5),
    confidence: float = 0.95,
) -> int:
    """Smallest n whose CI half-width is ≤ ``margin`` NPS points.

    ``expected_shares`` = (p_promoters, p_detractors). The default (0.5, 0.5) is the worst case:
    Var(X) = 1, its maximum, so the answer is safe whatever the true shares. n = ⌈z²·Var/(margin/100)²⌉.
    """
    if not (isinstance(margin, int | float | np.integer | np.floating) and 0 < margin <= 200):
        raise ValueError(f"margin must be a positive number of NPS points (≤ 200), got {margin!r}")
    var = _check_shares(*expected_shares)
    if var == 0:
        return 1
    exact = z_quantile(confidence) ** 2 * var / (margin / 100) ** 2
    # Subtract a hair so an exact integer is not pushed up by floating-point noise.
    return max(1, math.ceil(exact - 1e-9))


# --- comment themes ------------------------------------------------------------------------------

THEMES: dict[str, tuple[str, ...]] = {
    "price": (
        "цен", "дорог", "дешев", "стоимост", "переплат", "скидк", "наценк",
        "price", "pric", "expens", "cheap", "cost", "overpric", "discount",
    ),
    "quality": (
        "качеств", "некачеств", "брак", "бракован", "слома", "сломан", "развалил", "порва",
        "дефект", "испорч",
        "quality", "broke", "defect", "fault", "flimsy", "damag",
    ),
    "delivery": (
        "достав", "курьер", "привез", "опозда", "задерж", "самовывоз",
        "посылк",
        "deliver", "courier", "shipping", "shipment", "shipped", "late", "delay", "arriv",
    ),
    "staff": (
        "персонал", "продав", "сотрудник", "консультант", "менеджер", "кассир", "хам", "груб",
        "вежлив", "невежлив",
        "staff", "employee", "seller", "salesperson", "cashier", "consultant", "manager", "rude",
        "polite", "impolite", "friendly", "unfriendly",
    ),
    "service": (
        "сервис", "обслуживан", "поддержк", "очеред", "касс", "ожидан", "ждать", "ждал",
        "service", "support", "queue", "wait", "checkout", "help",
    ),
    "assortment": (
        "ассортимент", "выбор", "наличи", "разнообраз",
        "assortment", "range", "selection", "choice", "stock", "variety",
    ),
}  # fmt: skip
"""Keyword stems per theme (lower case, "е" for "ё"), Russian and English [N4].

A theme matches when a word of the comment *starts with* one of its stems, so "цен" finds
"цены"/"ценник" but not "оценка", and "pric" finds "price"/"pricing". Stems are deliberately
coarse (e.g. "late" also finds "latest"): read a sample of tagged comments before trusting the
shares, and extend the dictionary with the client's own vocabulary."""

THEME_PRIORITY: tuple[str, ...] = ("price", "quality", "delivery", "staff", "service", "assortment")
"""Order used to pick the primary theme when a comment matches several. Specific themes come
before broad ones: a comment about a rude cashier is "staff" even if it also says "service"."""

_THEME_PATTERNS = {
    theme: re.compile(r"\b(?:" + "|".join(map(re.escape, THEMES[theme])) + ")")
    for theme in THEME_PRIORITY
}


def _normalise_text(comments: pd.Series) -> pd.Series:
    text = comments.astype("string").fillna("")
    return text.str.lower().str.replace("ё", "е", regex=False).str.strip()


def tag_comments(comments: pd.Series | Iterable[str]) -> pd.DataFrame:
    """One boolean column per theme (in :data:`THEME_PRIORITY` order) plus ``theme``.

    ``theme`` is the first matched theme in priority order, "other" when none matches, and
    "no comment" for missing or blank comments. Case and ё/е are ignored.
    """
    if isinstance(comments, str):
        raise TypeError("comments must be a Series or list of strings, not a single string")
    series = comments if isinstance(comments, pd.Series) else pd.Series(list(comments))
    text = _normalise_text(series)
    flags = pd.DataFrame(
        {
            theme: text.str.contains(pattern, regex=True).astype(bool)
            for theme, pattern in _THEME_PATTERNS.items()
        },
        index=series.index,
    )
    primary = np.select(
        [flags[t].to_numpy() for t in THEME_PRIORITY], list(THEME_PRIORITY), default="other"
    )
    primary = np.where(text.to_numpy(dtype=object) == "", "no comment", primary)
    return flags.assign(theme=pd.Series(primary, index=series.index, dtype="str"))


def theme_shares(
    survey: pd.DataFrame,
    groups: Sequence[str] = ("detractor", "passive"),
    *,
    score_col: str = "score",
    comment_col: str = "comment",
) -> pd.DataFrame:
    """Share of each theme among the non-empty comments of respondents in ``groups``.

    Columns: theme, n_primary, share_primary (primary theme, shares sum to 1), n_mentions,
    share_mentions (a comment can mention several themes). Sorted by share_primary, largest first;
    the number of comments is in ``attrs["n_comments"]``.
    """
    if isinstance(groups, str):
        groups = (groups,)
    unknown = set(groups) - set(GROUPS)
    if unknown or not groups:
        raise ValueError(f"groups must be some of {list(GROUPS)}, got {list(groups)}")
    for col in (score_col, comment_col):
        if col not in survey.columns:
            raise ValueError(f"survey has no {col!r} column; columns are {list(survey.columns)}")
    in_groups = nps_group(survey[score_col].reset_index(drop=True)).isin(groups).to_numpy()
    tags = tag_comments(survey[comment_col].reset_index(drop=True))[in_groups]
    tags = tags[tags["theme"] != "no comment"]
    themes = [*THEME_PRIORITY, "other"]
    n_comments = len(tags)
    n_primary = tags["theme"].value_counts().reindex(themes, fill_value=0)
    n_mentions = pd.Series(
        [int(tags[t].sum()) for t in THEME_PRIORITY] + [int(n_primary["other"])], index=themes
    )
    denom = n_comments if n_comments else np.nan
    table = pd.DataFrame(
        {
            "theme": themes,
            "n_primary": n_primary.to_numpy(dtype=int),
            "share_primary": n_primary.to_numpy(dtype=float) / denom,
            "n_mentions": n_mentions.to_numpy(dtype=int),
            "share_mentions": n_mentions.to_numpy(dtype=float) / denom,
        }
    )
    table = table.sort_values(["share_primary", "n_mentions"], ascending=False, kind="stable")
    table = table.reset_index(drop=True)
    table.attrs["n_comments"] = n_comments
    table.attrs["groups"] = list(groups)
    return table


# --- acting on the score: passives, measurement triggers, post-purchase waves -------------------


def what_if_passives_convert(result: NPSResult, share: float) -> NPSResult:
    """The NPS if ``share`` (0..1) of the passives became promoters, everyone else unchanged [N5].

    Whole people move: round(share × passives) respondents (half to even). NPS rises by
    100 × moved / n points, because a passive counts 0 and a promoter +1; n does not change.
    """
    if not isinstance(result, NPSResult):
        raise TypeError(
            f"result must be an NPSResult (from nps() or nps_from_counts()), got {result!r}"
        )
    if isinstance(share, bool) or not isinstance(share, int | float | np.integer | np.floating):
        raise TypeError(f"share must be a number between 0 and 1, got {share!r}")
    if not 0 <= share <= 1:
        raise ValueError(f"share must be between 0 and 1 (e.g. 0.25 for a quarter), got {share!r}")
    moved = round(share * result.passives)
    return nps_from_counts(
        result.promoters + moved,
        result.passives - moved,
        result.detractors,
        confidence=result.confidence,
    )


def conversion_scenarios(
    result: NPSResult, shares: Sequence[float] = (0.1, 0.25, 0.5)
) -> pd.DataFrame:
    """One row per share of passives turned into promoters [N5].

    Columns: share_converted (0..1), passives_converted (respondents), score (NPS points after),
    gain (points over ``result.score``).
    """
    rows = []
    for share in shares:
        after = what_if_passives_convert(result, share)
        rows.append(
            {
                "share_converted": float(share),
                "passives_converted": after.promoters - result.promoters,
                "score": after.score,
                "gain": after.score - result.score,
            }
        )
    return pd.DataFrame(rows, columns=["share_converted", "passives_converted", "score", "gain"])


MEASUREMENT_TRIGGERS: dict[str, str] = {
    "average_check": "falling average check",
    "spend_per_customer": "falling customer value (LTV)",
    "new_customers": "more lost prospects",
    "new_products": "new products ignored",
}
"""The [N10] signals that call for an NPS survey, keyed by the row names of
:func:`measurement_triggers`."""


def measurement_triggers(
    transactions: pd.DataFrame,
    *,
    as_of: str | pd.Timestamp,
    months: int = 3,
    min_drop: float = 0.0,
) -> pd.DataFrame:
    """Checklist of the [N10] "time to measure NPS" signals: last ``months`` vs the ``months`` before.

    Windows are whole calendar months ending with the month of ``as_of`` (later rows are ignored).
    Rows (``signal``):

    * ``average_check`` — mean order amount (currency; refunds excluded);
    * ``spend_per_customer`` — net spend (refunds included) per customer who ordered in the window,
      a short-run stand-in for LTV (currency);
    * ``new_customers`` — customers whose first order falls in the window; fewer new customers is
      the footprint of more lost prospects in transaction data;
    * ``new_products`` — not computable from transactions (no product column): NaN, flagged NA.

    Columns: signal, trigger ([N10] wording), previous, last, change (relative, last/previous − 1),
    triggered (True when change < −``min_drop``; ``min_drop`` is a share, 0.05 = a 5 % fall).
    Seasonal businesses: compare like with like (e.g. run it at the same month each year).
    """
    if not isinstance(transactions, pd.DataFrame):
        raise TypeError(f"transactions must be a DataFrame, got {type(transactions).__name__}")
    missing = {"customer_id", "date", "amount", "is_refund"} - set(transactions.columns)
    if missing:
        raise ValueError(f"transactions is missing column(s) {sorted(missing)}")
    if isinstance(months, bool) or not isinstance(months, int) or months < 1:
        raise ValueError(f"months must be a whole number ≥ 1, got {months!r}")
    if isinstance(min_drop, bool) or not isinstance(min_drop, int | float) or not 0 <= min_drop < 1:
        raise ValueError(f"min_drop must be a share between 0 and 1 (0.05 = 5 %), got {min_drop!r}")
    end = pd.Timestamp(as_of).to_period("M")
    tx = transactions[pd.to_datetime(transactions["date"]).dt.to_period("M") <= end]
    month = pd.to_datetime(tx["date"]).dt.to_period("M")
    last_start, prev_start = end - (months - 1), end - (2 * months - 1)
    in_last = (month >= last_start).to_numpy()
    in_prev = ((month >= prev_start) & (month < last_start)).to_numpy()
    if not in_prev.any() or not in_last.any():
        raise ValueError(
            f"need transactions in both windows ({prev_start}..{last_start - 1} and "
            f"{last_start}..{end}); check as_of={as_of!r} and months={months}"
        )
    orders = ~tx["is_refund"].to_numpy(dtype=bool)
    first_month = (
        pd.to_datetime(tx.loc[orders, "date"]).groupby(tx.loc[orders, "customer_id"]).min()
    )
    first_month = first_month.dt.to_period("M")

    def window(mask: np.ndarray, lo: pd.Period, hi: pd.Period) -> dict[str, float]:
        part = tx[mask]
        buyers = part.loc[~part["is_refund"].to_numpy(dtype=bool), "customer_id"].nunique()
        return {
            "average_check": float(
                part.loc[~part["is_refund"].to_numpy(dtype=bool), "amount"].mean()
            ),
            "spend_per_customer": float(part["amount"].sum() / buyers) if buyers else np.nan,
            "new_customers": float(((first_month >= lo) & (first_month <= hi)).sum()),
            "new_products": np.nan,
        }

    prev = window(in_prev, prev_start, last_start - 1)
    last = window(in_last, last_start, end)
    rows = []
    for key, trigger in MEASUREMENT_TRIGGERS.items():
        change = last[key] / prev[key] - 1 if prev[key] else np.nan
        rows.append(
            {
                "signal": key,
                "trigger": trigger,
                "previous": prev[key],
                "last": last[key],
                "change": change,
                "triggered": pd.NA if np.isnan(change) else bool(change < -min_drop),
            }
        )
    table = pd.DataFrame(rows)
    table["triggered"] = table["triggered"].astype("boolean")
    table.attrs["windows"] = (f"{prev_start}..{last_start - 1}", f"{last_start}..{end}")
    return table


FEEDBACK_WAVES: dict[str, tuple[int, int]] = {
    "right after purchase": (0, 2),
    "after a week": (5, 9),
    "after a month": (25, 35),
}
"""The three post-purchase feedback waves [N11]: days since the purchase, inclusive bounds.
The source names the moments (right after, a week after, a month after); the day ranges are
ours, wide enough for a survey tool that sends on working days."""


def feedback_wave(days_since_purchase: pd.Series | Sequence[float]) -> pd.Series:
    """Label each answer with its [N11] wave from the days since the purchase it rates.

    Labels are the keys of :data:`FEEDBACK_WAVES`; "other timing" outside those ranges; "not
    linked" when the days are missing (an anonymous answer, or no purchase found before it).
    """
    days = pd.Series(days_since_purchase, dtype="Float64")
    if (days.dropna() < 0).any():
        raise ValueError("days_since_purchase must be ≥ 0 (an answer cannot precede its purchase)")
    labels = pd.Series("other timing", index=days.index, dtype="str", name="feedback_wave")
    for label, (lo, hi) in FEEDBACK_WAVES.items():
        labels[((days >= lo) & (days <= hi)).fillna(False).to_numpy(dtype=bool)] = label
    labels[days.isna().to_numpy()] = "not linked"
    return labels


def link_purchases(survey: pd.DataFrame, transactions: pd.DataFrame) -> pd.DataFrame:
    """The survey with the respondent's latest order on or before the answer date attached.

    Adds ``purchase_date``, ``days_since_purchase`` (days), ``feedback_wave`` (:func:`feedback_wave`)
    and, when the transactions have them, ``store`` and ``channel`` of that order — so NPS can be
    cut by store or channel with :func:`nps_by`. Answers without a customer_id, or with no earlier
    order, get missing values ("not linked"). Row order and index of ``survey`` are kept.
    """
    for name, frame, cols in (
        ("survey", survey, ("customer_id", "date")),
        ("transactions", transactions, ("customer_id", "date", "is_refund")),
    ):
        if not isinstance(frame, pd.DataFrame):
            raise TypeError(f"{name} must be a DataFrame, got {type(frame).__name__}")
        missing = set(cols) - set(frame.columns)
        if missing:
            raise ValueError(f"{name} is missing column(s) {sorted(missing)}")
    extra = [c for c in ("store", "channel") if c in transactions.columns]
    orders = transactions.loc[~transactions["is_refund"].to_numpy(dtype=bool)]
    orders = pd.DataFrame(
        {
            "customer_id": orders["customer_id"].astype("str"),
            "purchase_date": pd.to_datetime(orders["date"]),
            **{c: orders[c] for c in extra},
        }
    ).sort_values("purchase_date", kind="stable")
    left = pd.DataFrame(
        {
            "_row": np.arange(len(survey)),
            "customer_id": survey["customer_id"].astype("str"),
            "_date": _as_datetime(survey, "date").astype(orders["purchase_date"].dtype),
        }
    ).sort_values("_date", kind="stable")
    # merge_asof (backward) finds each answer's latest order on or before the answer date.
    linked = pd.merge_asof(
        left, orders, left_on="_date", right_on="purchase_date", by="customer_id"
    ).sort_values("_row")
    days = (linked["_date"] - linked["purchase_date"]).dt.days.to_numpy()
    out = survey.copy()
    out["purchase_date"] = linked["purchase_date"].to_numpy()
    out["days_since_purchase"] = pd.array(days, dtype="Float64")
    out["feedback_wave"] = feedback_wave(
        out["days_since_purchase"].reset_index(drop=True)
    ).to_numpy()
    for c in extra:
        out[c] = linked[c].to_numpy()
    return out


def detractor_contacts(
    survey: pd.DataFrame,
    *,
    respond_within_hours: float = 24.0,
    score_col: str = "score",
    comment_col: str = "comment",
) -> pd.DataFrame:
    """Detractors to call back, newest first, with the comment's theme and a reply deadline.

    [N4] contact detractors about their problem; [N12] answer all feedback within 24 hours.
    Columns: the survey's respondent_id / customer_id / date when present, score, theme
    (:func:`tag_comments`), comment, contactable (a customer_id is known), respond_by (answer
    date + ``respond_within_hours``; dates without a time count from midnight).
    """
    if not isinstance(survey, pd.DataFrame):
        raise TypeError(f"survey must be a DataFrame, got {type(survey).__name__}")
    for col in (score_col, comment_col, "date"):
        if col not in survey.columns:
            raise ValueError(f"survey has no {col!r} column; columns are {list(survey.columns)}")
    if (
        isinstance(respond_within_hours, bool)
        or not isinstance(respond_within_hours, int | float)
        or not respond_within_hours > 0
    ):
        raise ValueError(
            f"respond_within_hours must be a positive number of hours, got {respond_within_hours!r}"
        )
    is_detractor = (nps_group(survey[score_col]) == "detractor").to_numpy()
    rows = survey[is_detractor]
    keep = [c for c in ("respondent_id", "customer_id", "date") if c in rows.columns]
    out = rows[keep].assign(
        score=rows[score_col],
        theme=tag_comments(rows[comment_col])["theme"],
        comment=rows[comment_col],
        contactable=rows["customer_id"].notna() if "customer_id" in rows else False,
        respond_by=_as_datetime(rows, "date") + pd.Timedelta(hours=respond_within_hours),
    )
    return out.sort_values("date", ascending=False, kind="stable")
