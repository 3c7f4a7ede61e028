"""Lesson 06 in Russian: the evaluation sentences, verdicts and charts read in Russian, and the
English ones are the f-strings they were before the catalogue.

Independent numbers: the difference in differences of the stored lessons is recomputed here from
``transactions.csv`` and ``campaign.csv`` with the ``csv`` module (184 days before and after the
start of 2025-07-01, refunds included as negative amounts); the English sentences are compared
with the old f-strings (copied below) over random inputs.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import math

import matplotlib
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from loyalty_lib import evaluation, pipeline, plots
from loyalty_lib.evaluation import DiDResult, LiftResult, NPSDiDResult, ROIResult, TimingResult
from loyalty_lib.i18n import using_language

matplotlib.use("Agg")

ROOT = pipeline.project_root()
NOTEBOOKS = ROOT / "notebooks"
SAMPLES = ROOT / "data" / "samples"
NBSP = "\u00a0"


def _outputs(path, cell_id: str) -> str:
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    (cell,) = [c for c in cells if c.get("id") == cell_id]
    parts = []
    for out in cell.get("outputs", []):
        parts.append("".join(out.get("text", "")))
        data = out.get("data", {})
        parts.append("".join(data.get("text/markdown", "")) or "".join(data.get("text/plain", "")))
    return "".join(parts)


def _did_from_csv() -> tuple[float, int, int]:
    """(DiD of net spend per customer, treatment n, control n) from the CSV files by hand."""
    with open(SAMPLES / "campaign.csv", encoding="utf-8", newline="") as fh:
        group = {row["customer_id"]: row["group"] for row in csv.DictReader(fh)}
    start = dt.date(2025, 7, 1)
    pre_start, post_end = start - dt.timedelta(days=184), dt.date(2025, 12, 31)
    change = dict.fromkeys(group, 0.0)
    with open(SAMPLES / "transactions.csv", encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            if row["customer_id"] not in group:
                continue
            day = dt.date.fromisoformat(row["date"])
            if pre_start <= day < start:
                change[row["customer_id"]] -= float(row["amount"])
            elif start <= day <= post_end:
                change[row["customer_id"]] += float(row["amount"])
    means = {}
    for g in ("treatment", "control"):
        values = [v for c, v in change.items() if group[c] == g]
        means[g] = (sum(values) / len(values), len(values))
    return means["treatment"][0] - means["control"][0], means["treatment"][1], means["control"][1]


def test_stored_russian_lesson_06_prints_russian_sentences():
    did, n_t, n_c = _did_from_csv()  # 1,236 RUB per customer, 999 vs 999 on the samples
    rounded = f"{did:,.0f}"
    russian = _outputs(NOTEBOOKS / "ru/06_evaluation.ipynb", "did-spend")
    assert russian.startswith("Разность разностей: показатель «чистые траты на клиента»"), russian
    assert f"на {rounded.replace(',', NBSP)}{NBSP}₽ больше" in russian, russian
    assert f"n={n_t:,} против {n_c:,}".replace(",", NBSP) in russian
    english = _outputs(NOTEBOOKS / "06_evaluation.ipynb", "did-spend")
    assert f"changed by {rounded} RUB more than control's" in english, english
    verdict = _outputs(NOTEBOOKS / "ru/06_evaluation.ipynb", "did-spend-verdict")
    assert verdict.startswith("**Вывод.** Разность разностей: интервал не включает ноль")
    timing = _outputs(NOTEBOOKS / "ru/06_evaluation.ipynb", "e5-timing")
    # 2025-07-01 .. 2025-12-31: six full calendar months, Russian plural and dates
    assert timing.startswith(
        "Срок наблюдения — 6 полных месяцев: с запуска 01.07.2025 по 31.12.2025"
    )
    ancova = _outputs(NOTEBOOKS / "ru/06_evaluation.ipynb", "ancova")
    assert "корреляция «до — после» ρ = " in ancova and "ANCOVA" in ancova
    balance = _outputs(NOTEBOOKS / "ru/06_evaluation.ipynb", "balance")
    assert "до старта" in balance.lower()


def _outcomes(rng: np.random.Generator, n: int = 400) -> pd.DataFrame:
    group = np.where(np.arange(n) < n // 2, "treatment", "control")
    pre = rng.gamma(2.0, 1500.0, n)
    post = pre * 0.8 + rng.gamma(2.0, 400.0, n) + np.where(group == "treatment", 600.0, 0.0)
    orders_pre = rng.poisson(2, n)
    return pd.DataFrame(
        {
            "customer_id": [f"C{i:04d}" for i in range(n)],
            "group": group,
            "spend_pre": pre,
            "spend_post": post,
            "orders_pre": orders_pre,
            "orders_post": orders_pre + rng.poisson(1, n),
            "repeat_pre": orders_pre >= 1,
            "repeat_post": rng.random(n) < np.where(group == "treatment", 0.6, 0.5),
        }
    )


def test_verdicts_and_balance_table_follow_the_language():
    out = _outcomes(np.random.default_rng(6))
    did = evaluation.diff_in_diff(out, "spend")
    # the planted effect is +600 per treated customer; the estimate's words follow its interval
    assert did.ci_low > 0
    assert did.verdict.startswith("Difference-in-differences: the interval excludes zero")
    with using_language("ru"):
        assert did.verdict.startswith(
            "Разность разностей: интервал не включает ноль: кампания увеличила показатель "
            "«чистые траты на клиента» на +"
        )
        assert "₽" in did.verdict and "RUB" not in did.verdict
        ancova = evaluation.ancova_effect(out, "spend")
        rho = np.corrcoef(out["spend_pre"], out["spend_post"])[0, 1]
        assert f"ρ = {rho:.2f}".replace(".", ",") in ancova.verdict
        assert ("> 0,5" if rho > 0.5 else "≤ 0,5") in ancova.verdict
        table = evaluation.balance_table(out).display_table()
        assert list(table.columns) == [
            "показатель до старта",
            "тестовая",
            "контрольная",
            "разница",
            "SMD",
            "p",
            "баланс",
        ]
        assert set(table["баланс"]) <= {"да", "нет"}
    table = evaluation.balance_table(out).display_table()
    assert list(table.columns)[:2] == ["pre-period metric", "treatment"]


def test_evaluation_chart_labels_follow_the_language():
    import matplotlib.pyplot as plt

    out = _outcomes(np.random.default_rng(7))
    fig, (left, right) = plt.subplots(1, 2)
    try:
        plots.did_plot(out, "spend", ax=left)
        with using_language("ru"):
            plots.did_plot(out, "spend", ax=right)
        assert left.get_title() == "Difference in differences: spend (mean, 95% CI)"
        assert left.get_ylabel() == "net spend per customer, RUB"
        assert right.get_title() == "Разность разностей: чистые траты (среднее, 95\u00a0% ДИ)"
        assert right.get_ylabel() == "чистые траты на клиента, ₽"
        assert [t.get_text() for t in right.get_xticklabels()] == ["до старта", "после старта"]
        legend = [t.get_text() for t in right.get_legend().get_texts()]
        assert legend == ["тестовая", "контрольная"]
    finally:
        plt.close(fig)


# ----------------------------------------------------------------------------- English unchanged

money = st.floats(-1e6, 1e6, allow_nan=False)
share = st.floats(0, 1, allow_nan=False)
ratio = st.floats(-2, 5, allow_nan=False)
level = st.sampled_from([0.9, 0.95, 0.99])


def _old_fmt_p(p: float) -> str:
    if not math.isfinite(p):
        return "p=n/a"
    return "p<0.001" if p < 0.001 else f"p={p:.3f}"


def _old_pct(x: float) -> str:
    return "n/a" if not math.isfinite(x) else f"{100 * x:+.1f} %"


@settings(max_examples=200, deadline=None)
@given(
    st.sampled_from(["spend_post", "orders_pre", "repeat_post", "repeat2_pre", "visits_post"]),
    money,
    share,
    share,
    ratio,
    ratio,
    ratio,
    share,
    st.integers(2, 10**6),
    st.integers(2, 10**6),
    level,
)
def test_english_lift_sentence_is_the_old_f_string(metric, d, tm, cm, rel, lo, hi, p, nt, nc, c):
    kind = "proportion" if metric.startswith("repeat") else "mean"
    r = LiftResult(metric, kind, tm, cm, d, d - 1, d + 1, rel, lo, hi, p, nt, nc, c, "RUB")
    period = "pre" if metric.endswith("_pre") else "post"
    if metric.startswith("spend"):
        head = (
            f"Treatment customers spent {abs(d):,.0f} RUB "
            f"{'more' if d >= 0 else 'less'} over the {period} period than control"
        )
    elif metric.startswith("orders"):
        head = (
            f"Treatment customers made {abs(d):,.2f} {'more' if d >= 0 else 'fewer'} orders "
            f"each over the {period} period than control"
        )
    elif kind == "proportion":
        label = {
            "repeat": "repeat-purchase rate (≥ 1 purchase)",
            "repeat2": "rate of ≥ 2 purchases",
        }[metric.rsplit("_", 1)[0]]
        head = (
            f"Treatment customers' {label} over the {period} period was "
            f"{100 * abs(d):.1f} percentage points {'higher' if d >= 0 else 'lower'} "
            f"than control, {100 * tm:.1f} % vs {100 * cm:.1f} %"
        )
    else:
        head = (
            f"Treatment customers' mean {metric} was {abs(d):,.4g} "
            f"{'higher' if d >= 0 else 'lower'} than control"
        )
    old = (
        f"{head} ({_old_pct(rel)}, {100 * c:.0f}% CI {_old_pct(lo)} to "
        f"{_old_pct(hi)}, {_old_fmt_p(p)}, n={nt:,} vs {nc:,})"
    )
    assert str(r) == old


@settings(max_examples=200, deadline=None)
@given(
    st.sampled_from(["spend", "orders", "repeat", "repeat2", "visits"]),
    money,
    money,
    money,
    money,
    money,
    share,
    st.integers(2, 10**6),
    level,
)
def test_english_did_sentence_is_the_old_f_string(metric, est, pre_t, post_t, pre_c, lo, p, n, c):
    r = DiDResult(metric, est, lo, lo + 5, p, pre_t, post_t, pre_c, post_t, n, n + 1, c, "RUB")
    share_ = metric in ("repeat", "repeat2")
    scale, nd = (100.0, 1) if share_ else (1.0, 0 if metric == "spend" else 2)
    unit = " RUB" if metric == "spend" else " pp" if share_ else ""
    lvl = " %" if share_ else unit
    what = {
        "spend": "net spend",
        "orders": "orders",
        "repeat": "share buying again",
        "repeat2": "share with ≥ 2 purchases",
    }.get(metric, metric)

    def v(x: float) -> str:
        return f"{scale * x:,.{nd}f}"

    more = "more" if est >= 0 else "less"
    old = (
        f"Difference-in-differences: treatment {what}{'' if share_ else ' per customer'} "
        f"changed by {v(abs(est))}{unit} {more} than control's "
        f"(treatment {v(pre_t)} → {v(post_t)}{lvl}, control {v(pre_c)} → {v(post_t)}{lvl}; "
        f"{100 * c:.0f}% CI {scale * lo:+,.{nd}f} to {scale * (lo + 5):+,.{nd}f}{unit}, "
        f"{_old_fmt_p(p)}, n={n:,} vs {n + 1:,})"
    )
    assert str(r) == old


@settings(max_examples=200, deadline=None)
@given(money, st.floats(1, 1e6), ratio, ratio, ratio, level, st.booleans())
def test_english_roi_sentence_is_the_old_f_string(margin, costs, value, lo, hi, c, with_ci):
    lo, hi = (lo, hi) if with_ci else (math.nan, math.nan)
    r = ROIResult(margin / 0.4, 0.4, margin, costs, margin - costs, value, lo, hi, c, "RUB")
    ci = ""
    if math.isfinite(lo) and math.isfinite(hi):
        ci = f"; {100 * c:.0f}% CI {_old_pct(lo)} to {_old_pct(hi)}"
    verdict = "pays for itself" if value >= 0 else "does not pay for itself"
    if ci and lo < 0 <= value:
        verdict += " on the point estimate, but the interval includes a loss"
    old = (
        f"ROI {_old_pct(value)}: incremental margin {margin:,.0f} "
        f"RUB against program costs {costs:,.0f} RUB "
        f"(net {margin - costs:+,.0f} RUB{ci}), so the program {verdict}"
    )
    assert str(r) == old


@settings(max_examples=100, deadline=None)
@given(st.integers(0, 40), st.booleans(), st.floats(-100, 100), st.floats(0, 1), level)
def test_english_timing_and_nps_did_sentences_are_the_old_f_strings(months, early, x, p, c):
    start, end = pd.Timestamp("2025-07-01"), pd.Timestamp("2025-12-31")
    timing = TimingResult(start, end, months, early)
    head = (
        f"{months} full month{'s' if months != 1 else ''} observed from the start on "
        f"2025-07-01 through 2025-12-31"
    )
    if early:
        expected = (
            f"{head}: too early to judge, the first changes usually show after 3–4 months, so a "
            "flat result is not yet evidence of failure"
        )
    else:
        expected = f"{head}: long enough to judge (the first changes usually show after 3–4 months)"
    assert str(timing) == expected
    nps = NPSDiDResult(x, x - 3, x + 3, p, x, -x, x / 2, 1.0, 12345, c)
    assert str(nps) == (
        f"NPS difference-in-differences {x:+.1f} points (treatment {x:+.1f} → {-x:+.1f}, "
        f"control {x / 2:+.1f} → {1.0:+.1f}; {100 * c:.0f}% CI {x - 3:+.1f} to {x + 3:+.1f}, "
        f"{_old_fmt_p(p)}, 12,345 answers)"
    )


@pytest.mark.parametrize(
    ("months", "expected"),
    [
        (1, "1 полный месяц"),
        (3, "3 полных месяца"),
        (6, "6 полных месяцев"),
        (21, "21 полный месяц"),
    ],
)
def test_russian_timing_uses_the_russian_plural(months, expected):
    timing = TimingResult(pd.Timestamp("2025-07-01"), pd.Timestamp("2025-12-31"), months, False)
    with using_language("ru"):
        assert str(timing).startswith(f"Срок наблюдения — {expected}: с запуска 01.07.2025")


def test_case_studies_text_follows_the_language_and_the_numbers_do_not():
    english = evaluation.CASE_STUDIES
    assert english is evaluation.CASE_STUDIES  # English: the table itself, no copy
    with using_language("ru"):
        russian = evaluation.CASE_STUDIES
    assert list(russian.columns) == list(english.columns)
    pd.testing.assert_frame_equal(
        russian[["change_pct", "period_months"]], english[["change_pct", "period_months"]]
    )
    # the seed's figures: +34 % loyalty and +12 % average check in six months, etc.
    assert russian.loc[1, "metric"] == "средний чек" and russian.loc[1, "change_pct"] == 12
    assert russian.loc[0, "case"] == "приложение супермаркета с персональными рекомендациями"
    assert set(russian["source"]) == {
        "по данным деловой статьи (без контрольной группы): контекст, а не доказательство"
    }
    assert english.loc[1, "metric"] == "average check"
