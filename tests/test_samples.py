"""Tests of the seeded sample retailer (loyalty_lib.samples).

The generator's outputs are checked against numbers worked out independently of its code: the
parameters it is documented to use (hand calculations in the comments), a keyword tagger and a
client-file validator written here, and sampling error bounds (binomial / delta-method standard
errors) so that a statistical check fails only when the process is wrong, not by bad luck at a
fixed seed.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from loyalty_lib import samples

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = ROOT / "data" / "samples"
CLIENT = ROOT / "data" / "example_client"
CYRILLIC = re.compile(r"[А-Яа-яЁё]")


@pytest.fixture(scope="module")
def data() -> samples.SampleData:
    return samples.generate()


@pytest.fixture(scope="module")
def big() -> samples.SampleData:
    # 20,000 customers (≈ 0.8 s) so the uplift's standard error is ≈ 0.035 instead of ≈ 0.085.
    return samples.generate(20_000, seed=42)


def _orders(d: samples.SampleData) -> pd.DataFrame:
    return d.transactions[~d.transactions["is_refund"]]


# --- shipped files ------------------------------------------------------------------------------
def test_shipped_samples_are_byte_identical_to_a_fresh_write(tmp_path: Path) -> None:
    paths = samples.write_samples(tmp_path)
    assert {p.name for p in paths.values()} | {"README.md"} == {p.name for p in SHIPPED.iterdir()}
    for path in paths.values():
        assert path.read_bytes() == (SHIPPED / path.name).read_bytes(), (
            f"{path.name} differs: run `loyalty samples`"
        )
        assert path.stat().st_size < 2_000_000


def test_shipped_client_export_is_byte_identical_to_a_fresh_write(tmp_path: Path) -> None:
    paths = samples.write_client_export(tmp_path)
    assert {p.name for p in paths.values()} | {"README.md"} == {p.name for p in CLIENT.iterdir()}
    for path in paths.values():
        assert path.read_bytes() == (CLIENT / path.name).read_bytes(), f"{path.name} differs"
        assert path.stat().st_size < 2_000_000


def test_data_card_documents_every_column() -> None:
    card = (SHIPPED / "README.md").read_text(encoding="utf-8")
    for path in SHIPPED.glob("*.csv"):
        assert f"`{path.name}`" in card
        for column in path.read_text(encoding="utf-8").splitlines()[0].split(","):
            assert f"`{column}`" in card, f"{path.name}: column {column} missing from the data card"
    assert "loyalty samples --out data/samples" in card


def test_client_readme_lists_every_bad_row() -> None:
    readme = (CLIENT / "README.md").read_text(encoding="utf-8")
    for bad in samples.BAD_ROWS:
        assert f"| {bad.file} | {bad.line} |" in readme


def test_cli_writes_what_write_samples_writes(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from loyalty_lib.cli import main

    result = CliRunner().invoke(
        main, ["samples", "--out", str(tmp_path / "cli"), "--customers", "200", "--seed", "3"]
    )
    assert result.exit_code == 0, result.output
    direct = samples.write_samples(tmp_path / "direct", n_customers=200, seed=3)
    for path in direct.values():
        assert f"wrote {tmp_path / 'cli' / path.name}" in result.output
        assert (tmp_path / "cli" / path.name).read_bytes() == path.read_bytes()


# --- determinism and arguments ----------------------------------------------------------------
def test_same_seed_same_frames_other_seed_differs() -> None:
    a, b, c = (
        samples.generate(300, seed=5),
        samples.generate(300, seed=5),
        samples.generate(300, seed=6),
    )
    for name in ("transactions", "survey", "exit_survey", "campaign", "customers", "survey_truth"):
        pd.testing.assert_frame_equal(getattr(a, name), getattr(b, name))
    assert a.truth == b.truth
    assert not a.transactions["amount"].equals(c.transactions["amount"])
    assert a.truth != c.truth


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"n_customers": 5}, ValueError),
        ({"n_customers": 100.0}, TypeError),
        ({"n_customers": True}, TypeError),
        ({"seed": -1}, ValueError),
        ({"seed": "42"}, TypeError),
    ],
)
def test_bad_arguments(kwargs: dict, error: type[Exception]) -> None:
    with pytest.raises(error):
        samples.generate(**kwargs)


def test_client_export_refuses_a_size_too_small_for_its_bad_rows(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="at least 300"):
        samples.write_client_export(tmp_path, n_customers=100)


# --- canonical schema (loyalty_lib/README.md, "Canonical tables") -------------------------------
def _is_str(s: pd.Series) -> bool:
    return pd.api.types.is_string_dtype(s)


def test_canonical_schema(data: samples.SampleData) -> None:
    tx, sv, ex, cp = data.transactions, data.survey, data.exit_survey, data.campaign
    assert list(tx.columns) == [
        "customer_id",
        "date",
        "amount",
        "is_refund",
        "order_id",
        "channel",
        "store",
    ]
    assert list(sv.columns) == ["respondent_id", "customer_id", "date", "score", "comment"]
    assert list(ex.columns) == ["customer_id", "date", "reason", "comment"] + [
        f"rating_{a}"
        for a in ("price", "quality", "service", "support_speed", "assortment", "delivery")
    ]
    assert list(cp.columns) == ["customer_id", "group", "start_date"]
    for frame, col in [(tx, "date"), (sv, "date"), (ex, "date"), (cp, "start_date")]:
        assert frame[col].dtype == "datetime64[ns]"
        assert (frame[col] == frame[col].dt.normalize()).all()
    for frame, cols in [
        (tx, ["customer_id", "order_id", "channel", "store"]),
        (sv, ["respondent_id", "customer_id", "comment"]),
        (ex, ["customer_id", "reason", "comment"]),
        (cp, ["customer_id", "group"]),
    ]:
        assert all(_is_str(frame[c]) for c in cols)
    assert tx["amount"].dtype == "float64" and tx["is_refund"].dtype == "bool"
    assert pd.api.types.is_integer_dtype(sv["score"]) and sv["score"].between(0, 10).all()
    assert all(
        ex[f"rating_{a}"].dtype == "float64" and ex[f"rating_{a}"].between(1, 5).all()
        for a in samples.EXIT_ASPECTS
    )
    assert set(ex["reason"]) <= set(samples.EXIT_REASONS)
    assert set(cp["group"]) == {"treatment", "control"}
    assert tx["order_id"].is_unique and sv["respondent_id"].is_unique
    assert set(tx["channel"]) == {"store", "online", "app"}
    assert tx["date"].between(samples.START, samples.OBSERVATION_END).all()
    # money has at most 2 decimals
    assert np.allclose(tx["amount"] * 100, np.round(tx["amount"] * 100), atol=1e-6)
    # customer ids look like C00001 and every transaction's customer is a known customer
    assert tx["customer_id"].str.fullmatch(r"C\d{5}").all()
    assert set(tx["customer_id"]) == set(data.customers["customer_id"])


# --- transactions --------------------------------------------------------------------------------
def test_refunds_are_negative_flagged_and_refer_to_an_earlier_order(
    data: samples.SampleData,
) -> None:
    tx = data.transactions
    assert (tx["is_refund"] == (tx["amount"] < 0)).all()
    refunds = tx[tx["is_refund"]]
    orders = _orders(data).set_index("order_id")
    original = orders.loc["O" + refunds["order_id"].str[1:]]
    assert (original["customer_id"].to_numpy() == refunds["customer_id"].to_numpy()).all()
    assert (-refunds["amount"].to_numpy() <= original["amount"].to_numpy() + 1e-9).all()
    lag = (refunds["date"].to_numpy() - original["date"].to_numpy()) / np.timedelta64(1, "D")
    assert ((lag >= 0) & (lag <= 14)).all()
    # Expected refunds = Σ over orders of the segment's refund probability (2 % vip, 3 % regular
    # and one-off, 8 % difficult), counted from the hidden customer table, not from the refund rows.
    prob = data.customers["true_segment"].map(
        {"vip": 0.02, "regular": 0.03, "difficult": 0.08, "one_off": 0.03}
    )
    expected = float((data.customers["orders"] * prob).sum())
    sd = float(np.sqrt((data.customers["orders"] * prob * (1 - prob)).sum()))
    assert abs(len(refunds) - expected) < 4 * sd


def test_seasonality_december_peak_and_weekend(data: samples.SampleData) -> None:
    orders = _orders(data)
    revenue = orders.groupby(orders["date"].dt.to_period("M"))["amount"].sum()
    # December's intensity multiplier is 1.6, July's 0.75: about twice the orders per day.
    for year in (2024, 2025):
        assert revenue[pd.Period(f"{year}-12", "M")] > revenue[pd.Period(f"{year}-07", "M")]
    # Saturday 1.25 vs Monday 0.85 → 1.25/0.85 = 1.47 times the orders (each weekday occurs
    # 104 or 105 times in the window); Poisson counts give the standard error of the ratio.
    by_day = orders["date"].dt.day_of_week.value_counts()
    sat, mon = by_day[5], by_day[0]
    ratio = sat / mon
    se = ratio * np.sqrt(1 / sat + 1 / mon)
    assert abs(ratio - 1.25 / 0.85 * 104 / 105) < 4 * se


def test_bgnbd_histories_match_the_hidden_truth(data: samples.SampleData) -> None:
    orders = _orders(data)
    cust = data.customers.set_index("customer_id")
    first = orders.groupby("customer_id")["date"].min()
    last = orders.groupby("customer_id")["date"].max()
    assert (first == cust["first_purchase"].reindex(first.index)).all()
    assert (orders.groupby("customer_id").size() == cust["orders"].reindex(first.index)).all()
    churned = cust[cust["is_churned_by_end"]]
    # BG/NBD: dropout happens right after a purchase, so the last purchase is the churn date.
    assert (last.reindex(churned.index) == churned["churn_date"]).all()
    assert cust.loc[~cust["is_churned_by_end"], "churn_date"].isna().all()
    assert set(churned["churn_reason"]) <= set(samples.EXIT_REASONS)
    # one-off buyers drop out after a purchase with probability ≈ 0.9 (beta(18, 2)), so at least
    # ~90 % of them buy exactly once; vip buyers (16 a year, dropout ≈ 2.4 %) buy many times.
    by_seg = cust.groupby("true_segment")["orders"]
    assert (cust.loc[cust["true_segment"] == "one_off", "orders"] == 1).mean() > 0.85
    assert by_seg.median()["vip"] > 5 * by_seg.median()["regular"] / 2
    shares = cust["true_segment"].value_counts(normalize=True)
    for name, share in data.truth["segment_shares"].items():
        assert abs(shares[name] - share) < 4 * np.sqrt(share * (1 - share) / len(cust))


# --- campaign ------------------------------------------------------------------------------------
def test_campaign_is_randomised_among_customers_active_before_the_start(
    data: samples.SampleData,
) -> None:
    cp, orders = data.campaign, _orders(data)
    assert (cp["start_date"] == samples.CAMPAIGN_START).all()
    window = orders["date"].between(pd.Timestamp("2024-07-01"), pd.Timestamp("2025-06-30"))
    assert set(cp["customer_id"]) == set(orders.loc[window, "customer_id"])
    counts = cp["group"].value_counts()
    assert (
        abs(counts["treatment"] - counts["control"]) <= 1
    )  # a random half (complete randomisation)
    # Assignment ignores the customer: within the vip segment the treated count is binomial(n, ½)
    # (hypergeometric, slightly tighter), and pre-start order counts do not differ between groups.
    seg = (
        data.customers.set_index("customer_id")["true_segment"]
        .reindex(cp["customer_id"])
        .to_numpy()
    )
    vip = cp[seg == "vip"]
    assert stats.binomtest(int((vip["group"] == "treatment").sum()), len(vip), 0.5).pvalue > 0.001
    pre = orders[orders["date"] < samples.CAMPAIGN_START].groupby("customer_id").size()
    pre = pre.reindex(cp["customer_id"]).to_numpy()
    treated = (cp["group"] == "treatment").to_numpy()
    assert stats.ttest_ind(pre[treated], pre[~treated], equal_var=False).pvalue > 0.001
    truth = data.truth
    assert truth["campaign_n_treatment"] == counts["treatment"]
    assert truth["campaign_n_control"] == counts["control"]


def _post_orders(d: samples.SampleData) -> tuple[np.ndarray, np.ndarray]:
    orders = _orders(d)
    post = orders[orders["date"] >= samples.CAMPAIGN_START].groupby("customer_id").size()
    post = post.reindex(d.campaign["customer_id"], fill_value=0).to_numpy(dtype=float)
    treated = (d.campaign["group"] == "treatment").to_numpy()
    return post[treated], post[~treated]


def test_treatment_buys_at_one_plus_the_true_uplift_times_control(big: samples.SampleData) -> None:
    # Expected ratio: treated customers make the control process's orders plus extra orders at
    # rate 0.15·λ over the same alive time, so E[treated] / E[control] = 1 + 0.15 = 1.15.
    # Tolerance: 3 delta-method standard errors of a ratio of means,
    # se = r·sqrt(s_t²/(n_t·m_t²) + s_c²/(n_c·m_c²)) ≈ 0.035 at 20,000 customers.
    t, c = _post_orders(big)
    ratio = t.mean() / c.mean()
    se = ratio * np.sqrt(
        t.var(ddof=1) / (t.size * t.mean() ** 2) + c.var(ddof=1) / (c.size * c.mean() ** 2)
    )
    assert big.truth["true_uplift_purchase_rate"] == 0.15
    assert abs(ratio - 1.15) < 3 * se
    assert ratio - 3 * se > 1.0  # the effect is visible, not just compatible
    # The truth's expected extra orders per treated customer match the observed difference.
    diff_se = np.sqrt(t.var(ddof=1) / t.size + c.var(ddof=1) / c.size)
    assert abs((t.mean() - c.mean()) - big.truth["expected_extra_orders_per_treated"]) < 3 * diff_se


# --- NPS survey ----------------------------------------------------------------------------------
def test_monthly_waves_and_nps_match_the_true_nps(data: samples.SampleData) -> None:
    sv = data.survey
    wave = sv["date"].dt.strftime("%Y-%m")
    sizes = wave.value_counts()
    assert len(sizes) == 24 and sizes.between(150, 250).all()
    assert (
        sv[["customer_id", "date"]]
        .dropna()
        .groupby(wave)
        .apply(lambda g: g["customer_id"].is_unique)
        .all()
    )
    # Every identified respondent bought that month (post-purchase survey).
    orders = _orders(data)
    bought = set(zip(orders["customer_id"], orders["date"].dt.strftime("%Y-%m"), strict=True))
    known = sv["customer_id"].notna()
    assert all(
        pair in bought for pair in zip(sv.loc[known, "customer_id"], wave[known], strict=True)
    )
    # Anonymous answers: 4 % (binomial check).
    assert stats.binomtest(int((~known).sum()), len(sv), 0.04).pvalue > 0.001
    # Observed NPS vs the truth (count-weighted mean of the per-wave expected NPS); the standard
    # error of an NPS is sqrt((p₊ + p₋ − (p₊ − p₋)²) / n).
    p_pro, p_det = (sv["score"] >= 9).mean(), (sv["score"] <= 6).mean()
    nps = 100 * (p_pro - p_det)
    se = 100 * np.sqrt((p_pro + p_det - (p_pro - p_det) ** 2) / len(sv))
    true_nps = sum(data.truth["nps_true_by_wave"][w] * n for w, n in sizes.items()) / len(sv)
    assert abs(nps - true_nps) < 3 * se
    assert 0 < nps < 50  # a shop: "hard to exceed 50" [N7]
    camp = data.truth["nps_true_campaign"]
    assert camp["treatment_post"] > camp["treatment_post_without_campaign"]
    # randomised groups: before the start their true NPS differs only by who happened to answer
    assert abs(camp["treatment_pre"] - camp["control_pre"]) < 10


def test_comment_language_mix(data: samples.SampleData) -> None:
    comments = data.survey["comment"]
    written = comments[comments.str.len() > 0]
    russian = written.str.contains(CYRILLIC)
    assert stats.binomtest(int(russian.sum()), len(written), 2 / 3).pvalue > 0.001
    lang = data.survey_truth["language"][comments.str.len() > 0]
    assert (lang == np.where(russian, "ru", "en")).all()
    assert 0.1 < (comments == "").mean() < 0.4  # some empty comments


# An independent keyword tagger: the stems an analyst would pick for each theme.
STEMS = {
    "price": ("дорог", "цен", "expensive", "price"),
    "service": (
        "сервис",
        "обслуживан",
        "очеред",
        "поддержк",
        "возврат",
        "service",
        "support",
        "queue",
    ),
    "quality": ("качеств", "сломал", "бракован", "quality", "broke", "defective"),
    "delivery": ("доставк", "курьер", "привезли", "delivery", "delivered", "courier"),
    "staff": ("продав", "консультант", "персонал", "кассир", "staff", "assistant", "cashier"),
    "assortment": ("выбор", "ассортимент", "нет нужных", "assortment", "choice", "range"),
}


def _tag(text: str) -> set[str]:
    low = text.lower()
    return {theme for theme, stems in STEMS.items() if any(s in low for s in stems)}


def test_comments_carry_their_theme_keywords(data: samples.SampleData) -> None:
    truth = data.survey_truth
    written = data.survey["comment"].str.len() > 0
    for text, theme in zip(
        data.survey.loc[written, "comment"], truth.loc[written, "theme_true"], strict=True
    ):
        assert _tag(text) == ({theme} if theme != "other" else set()), (text, theme)
    assert (truth.loc[~written, "theme_true"] == "").all()
    themes = set(truth["theme_true"]) - {"", "other"}
    assert themes == set(samples.THEMES)


def test_detractors_name_their_driver_and_promoters_praise(data: samples.SampleData) -> None:
    sv, truth = data.survey, data.survey_truth
    driver = (
        data.customers.set_index("customer_id")["problem_driver"]
        .reindex(truth["customer_id_true"])
        .to_numpy()
    )
    written = (sv["comment"].str.len() > 0).to_numpy()
    detractor = (sv["score"] <= 6).to_numpy()
    pool = written & detractor & (driver != "none")
    named = truth["theme_true"].to_numpy()[pool] == driver[pool]
    # A detractor with a problem names it with probability 0.9 (the generator's documented rule).
    assert stats.binomtest(int(named.sum()), int(pool.sum()), 0.9).pvalue > 0.001
    promoters = written & (sv["score"] >= 9).to_numpy()
    assert (truth["sentiment"].to_numpy()[promoters] == "positive").all()
    # Detractors are mostly customers with a problem: latent satisfaction is 2.5 points lower.
    assert (driver[detractor] != "none").mean() > (driver[~detractor] != "none").mean() + 0.2


# --- exit survey -----------------------------------------------------------------------------------
def test_exit_reason_shares_match_the_truth(data: samples.SampleData) -> None:
    ex, truth = data.exit_survey, data.truth
    shares = truth["exit_reason_shares"]
    assert shares["price"] == 0.35 and max(shares, key=shares.get) == "price"  # [S6]
    observed = ex["reason"].value_counts().reindex(list(shares), fill_value=0)
    expected = np.array(list(shares.values())) * len(ex)
    assert stats.chisquare(observed.to_numpy(), expected).pvalue > 0.001
    # respondents are churned customers, answering 90-150 days after their churn date
    cust = data.customers.set_index("customer_id").loc[ex["customer_id"]]
    assert cust["is_churned_by_end"].all()
    assert (cust["churn_reason"].to_numpy() == ex["reason"].to_numpy()).all()
    gap = (ex["date"].to_numpy() - cust["churn_date"].to_numpy()) / np.timedelta64(1, "D")
    assert ((gap >= 90) & (gap <= 150)).all()


def test_exit_ratings_support_speed_below_three(data: samples.SampleData) -> None:
    ex = data.exit_survey
    # Hand calculation of the true means from the documented rating distributions over 1..5:
    # slow = (.20,.30,.25,.17,.08) → 0.2+0.6+0.75+0.68+0.4 = 2.63
    # low  = (.25,.35,.22,.12,.06) → 0.25+0.7+0.66+0.48+0.3 = 2.39
    # ok   = (.04,.10,.22,.38,.26) → 0.04+0.2+0.66+1.52+1.3 = 3.72
    # price is low for the 35 % leaving over price: 0.35·2.39 + 0.65·3.72 = 3.2545, etc.
    hand = {
        "support_speed": 2.63,
        "price": 0.35 * 2.39 + 0.65 * 3.72,
        "quality": 0.2 * 2.39 + 0.8 * 3.72,
        "service": 0.18 * 2.39 + 0.82 * 3.72,
        "assortment": 0.17 * 2.39 + 0.83 * 3.72,
        "delivery": 3.72,
    }
    for aspect, mean in hand.items():
        assert data.truth["exit_rating_means_true"][aspect] == pytest.approx(mean, abs=1e-6)
        col = ex[f"rating_{aspect}"]
        assert abs(col.mean() - mean) < 4 * col.std() / np.sqrt(len(col))
    assert ex["rating_support_speed"].mean() < 3
    assert all(ex[f"rating_{a}"].mean() >= 3 for a in hand if a != "support_speed")


# --- invariants for any size and seed ------------------------------------------------------------------
@settings(max_examples=8, deadline=None)
@given(n=st.integers(10, 300), seed=st.integers(0, 2**32 - 1))
def test_invariants_hold_for_any_size_and_seed(n: int, seed: int) -> None:
    d = samples.generate(n, seed=seed)
    tx, cust = d.transactions, d.customers
    assert len(cust) == n and cust["customer_id"].is_unique
    orders = tx[~tx["is_refund"]]
    assert set(orders["customer_id"]) == set(cust["customer_id"])  # everybody bought at least once
    assert (orders["amount"] >= 50).all() and (tx.loc[tx["is_refund"], "amount"] < 0).all()
    assert tx["date"].is_monotonic_increasing
    assert set(d.campaign["customer_id"]) <= set(cust["customer_id"])
    assert d.survey["score"].between(0, 10).all()
    assert set(d.survey["customer_id"].dropna()) <= set(cust["customer_id"])
    assert set(d.exit_survey["customer_id"]) <= set(
        cust.loc[cust["is_churned_by_end"], "customer_id"]
    )
    assert (cust["churn_date"].dropna() >= cust["first_purchase"][cust["churn_date"].notna()]).all()
    assert d.truth["n_customers"] == n and d.truth["seed"] == seed


# --- the Russian client export ----------------------------------------------------------------------
HEADERS = {
    "transactions.csv": ["Клиент", "Дата", "Сумма", "Номер чека", "Канал", "Магазин", "Возврат"],
    "survey.csv": ["Респондент", "Клиент", "Дата", "Оценка", "Комментарий"],
    "exit_survey.csv": [
        "Клиент",
        "Дата",
        "Причина ухода",
        "Комментарий",
        "Оценка: цена",
        "Оценка: качество",
        "Оценка: сервис",
        "Оценка: скорость поддержки",
        "Оценка: ассортимент",
        "Оценка: доставка",
    ],
    "campaign.csv": ["Клиент", "Группа", "Дата начала"],
}


def _read_client(name: str) -> list[list[str]]:
    raw = (CLIENT / name).read_bytes()
    text = raw.decode("cp1251")  # strict: fails on any byte outside cp1251
    assert text.endswith("\r\n") and "\n" not in text.replace("\r\n", "")
    rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=";"))
    assert rows[0] == HEADERS[name]
    return rows


def _date_ok(text: str) -> bool:
    try:
        datetime.strptime(text, "%d.%m.%Y")
    except ValueError:
        return False
    return re.fullmatch(r"\d{2}\.\d{2}\.\d{4}", text) is not None


def _bad_lines(name: str, rows: list[list[str]]) -> set[int]:
    """An independent validator of the client format; returns the lines (header = 1) it rejects."""
    bad, seen = set(), set()
    client_id = re.compile(r"C\d{5}")
    for line, row in enumerate(rows[1:], start=2):
        rec = dict(zip(rows[0], row, strict=True))
        ok = client_id.fullmatch(rec["Клиент"]) is not None or (
            name == "survey.csv" and rec["Клиент"] == ""
        )
        ok = ok and _date_ok(rec.get("Дата", rec.get("Дата начала", "")))
        if name == "transactions.csv":
            ok = ok and re.fullmatch(r"-?\d+,\d{2}", rec["Сумма"]) is not None
            ok = (
                ok
                and rec["Возврат"] in ("да", "нет")
                and rec["Сумма"].startswith("-") == (rec["Возврат"] == "да")
            )
            ok = ok and rec["Канал"] in ("магазин", "сайт", "приложение")
        elif name == "survey.csv":
            ok = ok and rec["Оценка"].isdigit() and 0 <= int(rec["Оценка"]) <= 10
            key = (rec["Респондент"], rec["Дата"])
            ok, _ = (ok and key not in seen), seen.add(key)
        elif name == "exit_survey.csv":
            ok = ok and rec["Причина ухода"] in (
                "цена",
                "качество",
                "сервис",
                "конкуренты",
                "другое",
            )
            ok = ok and all(
                rec[h] in ("1", "2", "3", "4", "5") for h in rows[0] if h.startswith("Оценка")
            )
        else:
            ok = ok and rec["Группа"] in ("тест", "контроль") and rec["Дата начала"] == "01.07.2025"
        if not ok:
            bad.add(line)
    return bad


@pytest.mark.parametrize("name", list(HEADERS))
def test_client_export_rows_are_clean_except_the_documented_bad_rows(name: str) -> None:
    rows = _read_client(name)
    assert _bad_lines(name, rows) == {b.line for b in samples.BAD_ROWS if b.file == name}


def test_client_export_holds_the_canonical_data_in_russian_format() -> None:
    d = samples.generate(samples.CLIENT_CUSTOMERS, seed=samples.CLIENT_SEED)
    bad = {(b.file, b.line) for b in samples.BAD_ROWS}
    tx = _read_client("transactions.csv")[1:]
    assert len(tx) == len(d.transactions)
    keep = [i for i in range(len(tx)) if ("transactions.csv", i + 2) not in bad]
    amounts = np.array([float(tx[i][2].replace(",", ".")) for i in keep])
    assert np.allclose(amounts, d.transactions["amount"].to_numpy()[keep])
    assert [tx[i][1] for i in keep] == d.transactions["date"].dt.strftime("%d.%m.%Y").to_numpy()[
        keep
    ].tolist()
    sv = _read_client("survey.csv")[1:]
    assert len(sv) == len(d.survey)
    keep = [i for i in range(len(sv)) if ("survey.csv", i + 2) not in bad]
    assert [sv[i][4] for i in keep] == d.survey["comment"].to_numpy()[keep].tolist()
    assert [sv[i][1] for i in keep] == d.survey["customer_id"].fillna("").to_numpy()[keep].tolist()
    cp = _read_client("campaign.csv")[1:]
    keep = [i for i in range(len(cp)) if ("campaign.csv", i + 2) not in bad]
    groups = {"тест": "treatment", "контроль": "control"}
    assert [groups[cp[i][1]] for i in keep] == d.campaign["group"].to_numpy()[keep].tolist()
    reasons = {
        "цена": "price",
        "качество": "quality",
        "сервис": "service",
        "конкуренты": "competition",
        "другое": "other",
    }
    assert [reasons[r[2]] for r in _read_client("exit_survey.csv")[1:]] == d.exit_survey[
        "reason"
    ].tolist()


def test_the_data_loaders_reject_exactly_the_bad_rows() -> None:
    data_mod = pytest.importorskip("loyalty_lib.data")
    for name in HEADERS:
        kind = name.removesuffix(".csv")
        result = data_mod.load(CLIENT / name, kind)
        expected = sorted((b.line, b.canonical) for b in samples.BAD_ROWS if b.file == name)
        got = sorted(
            zip(result.rejected["line"].tolist(), result.rejected["column"].tolist(), strict=True)
        )
        assert got == expected, name
        assert (
            result.n_accepted + result.n_rejected == result.rows_read == len(_read_client(name)) - 1
        )
