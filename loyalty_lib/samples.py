"""Seeded sample data: one fictional retailer, "Romashka" (a home-goods chain, prices in RUB).

``generate`` draws every table of the course from one random generator
(``numpy.random.default_rng(seed)``), so the same seed always gives the same data, and keeps the
hidden truth (each customer's segment, purchase rate, dropout, campaign uplift, true NPS by wave)
so lessons and tests can check an estimate against the value that produced the data.

The generating process (details and parameters in ``data/samples/README.md``):

* Customers belong to a hidden segment (``vip``, ``regular``, ``difficult``, ``one_off``). The first
  purchase falls on a day of 2024-01-01..2025-12-31, more often early (a launch bump in the first
  two months, then a falling trend) and following the seasonal calendar.
* Purchases follow the BG/NBD story (Fader, Hardie & Lee 2005, section 2): while alive a customer buys
  as a Poisson process with rate ``lambda`` (gamma-distributed within a segment) and after each purchase
  drops out with probability ``p`` (beta-distributed, higher for a low share of wallet or an unsolved
  problem). The calendar is stretched by a seasonal (December peak, summer dip) and weekly pattern.
  Order values are gamma-distributed around each customer's gamma-distributed mean spend (the
  gamma-gamma story of Fader, Hardie & Lee 2005b).
* The loyalty campaign starts on 2025-07-01: customers with a purchase in the 365 days before the
  start are assigned to ``treatment`` or ``control`` by a fair coin. While alive, treatment customers
  buy at ``(1 + TRUE_UPLIFT) * lambda`` after the start; the extra orders do not change when they drop
  out, so the campaign adds orders without shortening lives.
* Monthly NPS waves survey 150-250 customers who bought that month; the score is a noisy latent
  satisfaction (segment + customer effect - problem penalty, + a small shift for treatment customers
  after the start). Comments (2/3 Russian, 1/3 English) name the customer's problem when there is one.
* Churned customers may answer an exit survey 90-150 days after their last purchase: a reason
  (price the largest) and 1-5 aspect ratings in which support speed averages below 3.

``write_samples`` writes the canonical CSV files (utf-8, ``,``, ISO dates); ``write_client_export``
writes the same retailer as a Russian client would send it (cp1251, ``;``, decimal comma, Cyrillic
headers, ``dd.mm.yyyy``) with the documented bad rows of :data:`BAD_ROWS`.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import pandas as pd
from scipy import stats

__all__ = [
    "BAD_ROWS",
    "CAMPAIGN_START",
    "CLIENT_CUSTOMERS",
    "CLIENT_SEED",
    "DEFAULT_CUSTOMERS",
    "DEFAULT_SEED",
    "OBSERVATION_END",
    "START",
    "TRUE_UPLIFT",
    "BadRow",
    "SampleData",
    "generate",
    "write_client_export",
    "write_samples",
]

DEFAULT_SEED = 42
DEFAULT_CUSTOMERS = 3000
CLIENT_SEED = 7
CLIENT_CUSTOMERS = 1500
START = pd.Timestamp("2024-01-01")
OBSERVATION_END = pd.Timestamp("2025-12-31")
CAMPAIGN_START = pd.Timestamp("2025-07-01")

TRUE_UPLIFT = 0.15  # multiplicative uplift of the purchase rate of alive treatment customers
NPS_CAMPAIGN_SHIFT = 0.3  # points on the latent 0-10 satisfaction scale, treatment after the start
PROBLEM_PENALTY = 2.5  # points of latent satisfaction lost by a customer with an unsolved problem
SCORE_NOISE_SD = 1.2  # per-response noise of the 0-10 score around latent satisfaction
CUSTOMER_EFFECT_SD = 0.8  # customer-to-customer spread of latent satisfaction within a segment
ANONYMOUS_SHARE = 0.04  # survey answers without a loyalty card (missing customer_id)
RU_SHARE = 2 / 3  # share of non-empty comments written in Russian
EXIT_RESPONSE_PROB = 0.5
MIN_ORDER_RUB = 50.0

RETAILER = "Romashka"
CURRENCY = "RUB"
THEMES = ("price", "service", "quality", "delivery", "staff", "assortment")
THEME_PROBS = (0.30, 0.15, 0.20, 0.15, 0.10, 0.10)  # which problem a customer with a problem has
CHANNELS = ("store", "online", "app")
CHANNEL_PROBS = (0.55, 0.30, 0.15)  # each customer's main channel; 80 % of their orders go there
STORES = ("Moscow", "Saint Petersburg", "Kazan", "Yekaterinburg", "Novosibirsk")
STORE_PROBS = (0.35, 0.25, 0.15, 0.13, 0.12)
# Month 1..12 and Monday..Sunday multipliers of the purchase intensity (normalised to mean 1 over
# the window): the December gift season and the summer dacha months drive the course's seasonality.
MONTH_MULT = (0.85, 0.85, 0.95, 1.0, 0.95, 0.85, 0.75, 0.8, 1.0, 1.05, 1.2, 1.6)
WEEKDAY_MULT = (0.85, 0.9, 0.95, 1.0, 1.1, 1.25, 0.95)

EXIT_REASONS = ("price", "quality", "service", "competition", "other")
EXIT_REASON_SHARES = (0.35, 0.20, 0.18, 0.17, 0.10)
EXIT_ASPECTS = ("price", "quality", "service", "support_speed", "assortment", "delivery")
# Rating distributions over 1..5. An aspect is rated LOW by leavers whose reason concerns it
# (competition → assortment); support speed is SLOW for everybody: the seeds' signal [S6].
_LOW = (0.25, 0.35, 0.22, 0.12, 0.06)  # mean 2.39
_OK = (0.04, 0.10, 0.22, 0.38, 0.26)  # mean 3.72
_SLOW = (0.20, 0.30, 0.25, 0.17, 0.08)  # mean 2.63
_LOW_WHEN = {
    "price": "price",
    "quality": "quality",
    "service": "service",
    "assortment": "competition",
}


@dataclasses.dataclass(frozen=True)
class _Segment:
    name: str
    share: float
    rate_mean: float  # purchases per year while alive (gamma mean)
    rate_shape: float  # gamma shape of the rate within the segment
    p_a: float  # beta(a, b) of the dropout probability after each purchase
    p_b: float
    spend_mean: float  # RUB per order (mean of the customer's mean spend)
    sow_a: float  # beta(a, b) of the share of wallet
    sow_b: float
    problem_prob: float  # chance the customer has an unsolved problem (one of THEMES)
    complaint_prob: float  # chance a customer with a problem complained
    base_score: float  # latent satisfaction on the 0-10 scale before problems
    refund_prob: float  # chance an order is (partly) refunded


SEGMENTS = (
    _Segment("vip", 0.10, 16.0, 4.0, 1.0, 40.0, 5500.0, 8.0, 2.0, 0.10, 0.30, 9.7, 0.02),
    _Segment("regular", 0.55, 5.0, 3.0, 2.0, 18.0, 2200.0, 5.0, 4.0, 0.30, 0.20, 8.7, 0.03),
    _Segment("difficult", 0.10, 4.0, 3.0, 2.0, 12.0, 3800.0, 3.0, 5.0, 0.85, 0.60, 6.3, 0.08),
    _Segment("one_off", 0.25, 3.0, 3.0, 18.0, 2.0, 1800.0, 2.0, 6.0, 0.35, 0.10, 7.8, 0.03),
)


class BadRow(NamedTuple):
    """One deliberately broken line of the client export.

    ``line`` is the physical line number with the header as line 1 (the convention of
    ``loyalty_lib.data``); ``column`` is the client's header, ``canonical`` the canonical column.
    """

    file: str
    line: int
    column: str
    canonical: str
    value: str
    problem: str


BAD_ROWS: tuple[BadRow, ...] = (
    BadRow(
        "transactions.csv",
        12,
        "Сумма",
        "amount",
        "<minus the row's amount>",
        "negative amount not marked as refund (Возврат = нет)",
    ),
    BadRow("transactions.csv", 25, "Дата", "date", "31.02.2025", "impossible date"),
    BadRow("transactions.csv", 40, "Клиент", "customer_id", "", "empty client id"),
    BadRow("survey.csv", 6, "Оценка", "score", "десять", "score is not a number"),
    BadRow("survey.csv", 10, "Оценка", "score", "11", "score above 10"),
    BadRow("survey.csv", 15, "Оценка", "score", "-1", "score below 0"),
    BadRow(
        "survey.csv",
        21,
        "Респондент",
        "respondent_id",
        "<same as line 20>",
        "duplicate of the response on line 20 (same respondent and date)",
    ),
    BadRow(
        "exit_survey.csv",
        4,
        "Оценка: скорость поддержки",
        "rating_support_speed",
        "7",
        "rating outside 1-5",
    ),
    BadRow(
        "campaign.csv", 8, "Группа", "group", "пилот", "unknown group (expected тест or контроль)"
    ),
)


@dataclasses.dataclass(frozen=True)
class SampleData:
    """The generated tables (canonical columns) plus the hidden ground truth.

    ``customers`` and ``survey_truth`` are what an analyst never sees (true segment, rates,
    dropout, the theme each comment was written about); ``truth`` holds the scalar truths.
    """

    transactions: pd.DataFrame
    survey: pd.DataFrame
    exit_survey: pd.DataFrame
    campaign: pd.DataFrame
    customers: pd.DataFrame
    survey_truth: pd.DataFrame
    truth: dict[str, Any]

    def __str__(self) -> str:
        return (
            f"{RETAILER} sample (seed {self.truth['seed']}): {self.truth['n_customers']:,} customers, "
            f"{len(self.transactions):,} transaction rows, {len(self.survey):,} NPS answers, "
            f"{len(self.exit_survey):,} exit answers, {len(self.campaign):,} campaign customers"
        )

    __repr__ = __str__


# --------------------------------------------------------------------------------------------
# comment vocabulary: every themed phrase carries the theme's keywords and no other theme's
_THEMED = {
    "price": (
        (
            "Слишком дорого",
            "Цены выросли",
            "Цены кусаются",
            "Дорого по сравнению с другими магазинами",
            "Высокие цены на посуду",
        ),
        (
            "Too expensive",
            "Prices went up again",
            "Prices are too high",
            "Overpriced for what it is",
        ),
    ),
    "service": (
        (
            "Плохой сервис",
            "Огромные очереди, ждал полчаса",
            "Долго отвечают в поддержке",
            "Не смогли оформить возврат",
            "Обслуживание оставляет желать лучшего",
        ),
        (
            "Bad service",
            "Support took days to reply",
            "Long queues every time",
            "Customer service never answered",
        ),
    ),
    "quality": (
        (
            "Качество упало",
            "Плохое качество товаров",
            "Сковорода сломалась через месяц",
            "Товар оказался бракованным",
            "Качество хуже, чем раньше",
        ),
        (
            "Poor quality",
            "The pan broke after a month",
            "Quality has gone down",
            "The kettle was defective",
        ),
    ),
    "delivery": (
        (
            "Долгая доставка",
            "Доставку задержали на неделю",
            "Курьер опоздал на два дня",
            "Заказ привезли не вовремя",
            "Доставка очень медленная",
        ),
        (
            "Delivery was late",
            "Slow delivery",
            "The courier was two days late",
            "My order was delivered to the wrong address",
        ),
    ),
    "staff": (
        (
            "Грубый продавец",
            "Консультант не помог",
            "Продавцы невежливые",
            "Персонал не знает товар",
            "Грубый кассир",
        ),
        (
            "Staff were rude",
            "The shop assistant was unhelpful",
            "Rude cashier",
            "Staff don't know the products",
        ),
    ),
    "assortment": (
        (
            "Мало выбора",
            "Нет нужных товаров",
            "Ассортимент стал беднее",
            "Маленький ассортимент",
            "Мало выбора текстиля",
        ),
        (
            "Small assortment",
            "Not much choice",
            "Limited range of products",
            "Very little choice of towels",
        ),
    ),
}
_POSITIVE = (
    (
        "Всё отлично, спасибо!",
        "Очень нравится ваш магазин",
        "Рекомендую друзьям",
        "Хороший магазин, буду приходить ещё",
        "Всегда довольна покупками",
    ),
    (
        "Love this store",
        "Great experience, thank you",
        "Would recommend to friends",
        "Everything was perfect",
    ),
)
_NEUTRAL = (
    ("Нормально", "В целом неплохо", "Без претензий", "Обычный магазин"),
    ("It's fine", "Okay overall", "Nothing to complain about", "An ordinary shop"),
)
_NEGATIVE_OTHER = (
    ("Не понравилось", "Так себе", "Ничего особенного", "Ожидала большего"),
    ("Did not like it", "Meh", "Nothing special", "Expected more"),
)
_MILD_PREFIX = ("В целом нормально, но ", "Okay overall, but ")
_EXIT_COMMENTS = {
    "price": (
        ("Слишком высокие цены", "Цены стали неподъёмными", "Дорого для моего бюджета"),
        ("Prices were too high", "Too expensive for me", "Prices kept going up"),
    ),
    "quality": (
        ("Качество товаров разочаровало", "Посуда быстро пришла в негодность"),
        ("Quality was disappointing", "Products wore out quickly"),
    ),
    "service": (
        ("Плохое обслуживание и долгие ответы поддержки", "Не решили мою проблему с возвратом"),
        ("Support was slow and unhelpful", "Nobody solved my problem with a return"),
    ),
    "competition": (
        ("Перешёл в другой магазин рядом с домом", "У конкурентов выгоднее"),
        ("Switched to another shop closer to home", "Found a better offer elsewhere"),
    ),
    "other": (
        ("Переехал в другой город", "Больше не нужны товары для дома"),
        ("Moved to another city", "No longer need home goods"),
    ),
}


# --------------------------------------------------------------------------------------------
def _calendar() -> tuple[pd.DatetimeIndex, np.ndarray, np.ndarray]:
    """Days of the window, their intensity weights (mean 1) and the cumulative clock in years.

    ``clock[d]`` is the "operational time" at the start of day ``d``: a Poisson process with rate
    ``lambda`` per year on this clock is a seasonal process on the calendar (a time change).
    """
    days = pd.date_range(START, OBSERVATION_END, freq="D")
    weights = (
        np.asarray(MONTH_MULT)[days.month.to_numpy() - 1]
        * np.asarray(WEEKDAY_MULT)[days.day_of_week.to_numpy()]
    )
    weights = weights / weights.mean()
    clock = np.concatenate([[0.0], np.cumsum(weights) / 365.0])
    return days, weights, clock


def _signup_probs(weights: np.ndarray) -> np.ndarray:
    """First-purchase day distribution: launch bump (first 60 days), then a falling trend, × season."""
    t = np.arange(len(weights)) / len(weights)
    shape = 1.6 - 1.0 * t + np.where(np.arange(len(weights)) < 60, 3.0, 0.0)
    probs = shape * weights
    return probs / probs.sum()


def _check_args(n_customers: Any, seed: Any, minimum: int) -> None:
    for name, value in (("n_customers", n_customers), ("seed", seed)):
        if isinstance(value, bool) or not isinstance(value, int | np.integer):
            raise TypeError(f"{name} must be an int, got {type(value).__name__}")
    if n_customers < minimum:
        raise ValueError(f"n_customers must be at least {minimum}, got {n_customers}")
    if seed < 0:
        raise ValueError(f"seed must be a non-negative int, got {seed}")


def _ids(prefix: str, numbers: np.ndarray, width: int) -> list[str]:
    if np.size(numbers) == 0:  # np.char.zfill cannot take an empty array
        return []
    return np.char.add(prefix, np.char.zfill(np.asarray(numbers).astype(str), width)).tolist()


def _p_promoter_minus_detractor(mu: np.ndarray) -> np.ndarray:
    # score = clip(round(mu + e)); promoter ⇔ mu + e ≥ 8.5, detractor ⇔ mu + e < 6.5 (clipping
    # at 0 and 10 does not move either threshold), e ~ N(0, SCORE_NOISE_SD).
    return stats.norm.sf(8.5, loc=mu, scale=SCORE_NOISE_SD) - stats.norm.cdf(
        6.5, loc=mu, scale=SCORE_NOISE_SD
    )


def generate(n_customers: int = DEFAULT_CUSTOMERS, seed: int = DEFAULT_SEED) -> SampleData:
    """Generate the Romashka sample: canonical tables plus hidden ground truth.

    Fully determined by ``seed`` (one ``numpy.random.default_rng``; no wall clock, no hashing).
    Money in RUB, dates at midnight (``datetime64[ns]``), rates per year.
    """
    _check_args(n_customers, seed, minimum=10)
    rng = np.random.default_rng(seed)
    days, weights, clock = _calendar()
    n_days = len(days)
    end_clock = clock[-1]
    start_day = int((CAMPAIGN_START - START).days)
    n = n_customers

    # --- customers: first purchase day (ids follow the order of first purchase), segment, latents
    d0 = np.sort(rng.choice(n_days, size=n, p=_signup_probs(weights)))
    seg = rng.choice(len(SEGMENTS), size=n, p=[s.share for s in SEGMENTS])
    par = {
        f.name: np.array([getattr(s, f.name) for s in SEGMENTS])[seg]
        for f in dataclasses.fields(_Segment)
        if f.name not in ("name", "share")
    }
    rate = rng.gamma(par["rate_shape"], par["rate_mean"] / par["rate_shape"])
    mean_spend = par["spend_mean"] * rng.gamma(6.0, 1 / 6.0, size=n)
    sow = rng.beta(par["sow_a"], par["sow_b"])
    has_problem = rng.random(n) < par["problem_prob"]
    problem = np.where(has_problem, rng.choice(len(THEMES), size=n, p=THEME_PROBS), -1)
    complained = has_problem & (rng.random(n) < par["complaint_prob"])
    # Low share of wallet [S2] and an unsolved problem make a customer drop out more readily.
    sow_mean = par["sow_a"] / (par["sow_a"] + par["sow_b"])
    dropout = (
        rng.beta(par["p_a"], par["p_b"])
        * (1.5 - sow)
        / (1.5 - sow_mean)
        * np.where(has_problem, 1.4, 1.0)
    )
    dropout = np.clip(dropout, 0.005, 1.0)
    satisfaction = (
        par["base_score"] + rng.normal(0, CUSTOMER_EFFECT_SD, n) - PROBLEM_PENALTY * has_problem
    )
    channel = rng.choice(len(CHANNELS), size=n, p=CHANNEL_PROBS)
    store = rng.choice(len(STORES), size=n, p=STORE_PROBS)

    # --- purchases (BG/NBD): K purchases in all before dropping out, K ~ geometric(p). Potential
    # repeat purchases after day d0 form a Poisson process on the seasonal clock; the customer
    # makes the first K-1 of them. If those fit in the window the customer has churned by the end.
    total_purchases = rng.geometric(dropout)
    lo = clock[d0 + 1]
    n_potential = rng.poisson(rate * (end_clock - lo))
    cust = np.repeat(np.arange(n), n_potential)
    when = lo[cust] + rng.random(cust.size) * (end_clock - lo)[cust]
    order = np.lexsort((when, cust))
    cust, when = cust[order], when[order]
    rank = np.arange(cust.size) - np.repeat(np.cumsum(n_potential) - n_potential, n_potential)
    keep = rank < (total_purchases - 1)[cust]
    rep_cust, rep_when = cust[keep], when[keep]
    churned = n_potential >= total_purchases - 1
    # The churn moment is the last purchase (BG/NBD: dropout happens right after a purchase).
    n_repeat = np.bincount(rep_cust, minlength=n)
    # rep_when is sorted within customer, so each customer's last entry is the last purchase
    last_idx = np.cumsum(n_repeat) - 1
    last_when = np.where(
        n_repeat > 0, rep_when[np.maximum(last_idx, 0)] if rep_when.size else 0.0, 0.0
    )
    churn_clock = np.where(n_repeat > 0, last_when, clock[d0])
    churn_day = np.where(churned, np.searchsorted(clock, churn_clock, side="right") - 1, -1)
    churn_day = np.where(churned & (n_repeat == 0), d0, churn_day)

    # --- campaign: a fair coin among customers with a purchase in the 365 days before the start
    rep_day = np.searchsorted(clock, rep_when, side="right") - 1
    window = (start_day - 365, start_day - 1)
    eligible = (d0 >= window[0]) & (d0 <= window[1])
    in_window = (rep_day >= window[0]) & (rep_day <= window[1])
    eligible[np.unique(rep_cust[in_window])] = True
    # Complete randomisation: exactly half of the eligible (rounded down) are treated.
    coin = np.zeros(n, bool)
    pool = np.flatnonzero(eligible)
    coin[rng.permutation(pool)[: pool.size // 2]] = True
    treated = eligible & coin
    group = np.where(eligible, np.where(coin, "treatment", "control"), "none")
    # Treated customers' extra orders: rate TRUE_UPLIFT*lambda on the clock from the start until
    # they drop out (or the end). They do not count towards K, so lifetimes are unchanged.
    alive_until = np.where(churned, churn_clock, end_clock)
    extra_span = np.where(treated, np.clip(alive_until - clock[start_day], 0.0, None), 0.0)
    expected_extra = TRUE_UPLIFT * rate * extra_span
    n_extra = rng.poisson(expected_extra)
    ext_cust = np.repeat(np.arange(n), n_extra)
    ext_when = clock[start_day] + rng.random(ext_cust.size) * extra_span[ext_cust]

    # --- orders and refunds
    o_cust = np.concatenate([np.arange(n), rep_cust, ext_cust])
    o_when = np.concatenate([clock[d0] + 1e-9, rep_when, ext_when])
    o_day = np.searchsorted(clock, o_when, side="right") - 1
    o_day = np.minimum(o_day, n_days - 1)
    order = np.lexsort((o_when, o_cust, o_day))
    o_cust, o_day = o_cust[order], o_day[order]
    n_orders = o_cust.size
    amount = np.round(np.maximum(rng.gamma(3.0, mean_spend[o_cust] / 3.0), MIN_ORDER_RUB), 2)
    own = rng.random(n_orders) < 0.8
    other = (channel[o_cust] + rng.integers(1, len(CHANNELS), size=n_orders)) % len(CHANNELS)
    o_channel = np.where(own, channel[o_cust], other)
    seq = np.arange(1, n_orders + 1)

    refunded = rng.random(n_orders) < par["refund_prob"][o_cust]
    lag = rng.integers(0, 15, size=n_orders)
    full = rng.random(n_orders) < 0.7
    part = rng.uniform(0.2, 0.8, size=n_orders)
    r = refunded & (o_day + lag <= n_days - 1)
    r_amount = -np.where(full[r], amount[r], np.round(amount[r] * part[r], 2))

    customer_ids = np.array(_ids("C", np.arange(1, n + 1), 5), dtype=object)
    tx = pd.DataFrame(
        {
            "customer_id": np.concatenate([customer_ids[o_cust], customer_ids[o_cust[r]]]),
            "date": np.concatenate([days[o_day], days[o_day[r] + lag[r]]]),
            "amount": np.concatenate([amount, r_amount]),
            "is_refund": np.concatenate([np.zeros(n_orders, bool), np.ones(int(r.sum()), bool)]),
            "order_id": _ids("O", seq, 7) + _ids("R", seq[r], 7),
            "channel": np.array(CHANNELS)[np.concatenate([o_channel, o_channel[r]])],
            "store": np.array(STORES)[store[np.concatenate([o_cust, o_cust[r]])]],
            "_seq": np.concatenate([seq, seq[r]]),
        }
    )
    tx = tx.sort_values(["date", "is_refund", "_seq"], kind="stable").drop(columns="_seq")
    tx = _typed(
        tx.reset_index(drop=True),
        dates=["date"],
        strings=["customer_id", "order_id", "channel", "store"],
    )

    campaign = pd.DataFrame(
        {
            "customer_id": customer_ids[eligible],
            "group": group[eligible],
            "start_date": CAMPAIGN_START,
        }
    )
    campaign = _typed(campaign, dates=["start_date"], strings=["customer_id", "group"])

    # --- churn reasons (for every churned customer) and the exit survey (those who answered)
    reason = np.where(churned, rng.choice(len(EXIT_REASONS), size=n, p=EXIT_REASON_SHARES), -1)
    exit_day = churn_day + rng.integers(90, 151, size=n)
    answers = churned & (rng.random(n) < EXIT_RESPONSE_PROB) & (exit_day <= n_days - 1)
    ex_idx = np.flatnonzero(answers)
    ex_idx = ex_idx[np.lexsort((ex_idx, exit_day[ex_idx]))]
    exit_survey = _exit_survey(rng, ex_idx, reason, exit_day, days, customer_ids)

    # --- monthly NPS waves
    survey, survey_truth, nps_by_wave, nps_post = _survey(
        rng, o_cust, o_day, days, customer_ids, satisfaction, problem, treated, eligible, start_day
    )

    # --- hidden customer table
    tx_orders = tx[~tx["is_refund"]]
    net = tx.groupby("customer_id", sort=True)["amount"].sum()
    customers = pd.DataFrame(
        {
            "customer_id": customer_ids,
            "true_segment": np.array([s.name for s in SEGMENTS])[seg],
            "first_purchase": days[d0],
            "churn_date": pd.Series(days[np.maximum(churn_day, 0)]).where(churned),
            "is_churned_by_end": churned,
            "churn_reason": np.where(churned, np.array(EXIT_REASONS)[np.maximum(reason, 0)], ""),
            "purchase_rate_per_year": np.round(rate, 4),
            "dropout_prob": np.round(dropout, 4),
            "mean_spend": np.round(mean_spend, 2),
            "share_of_wallet": np.round(sow, 4),
            "problem_driver": np.where(
                has_problem, np.array(THEMES)[np.maximum(problem, 0)], "none"
            ),
            "complained": complained,
            "satisfaction": np.round(satisfaction, 4),
            "home_store": np.array(STORES)[store],
            "main_channel": np.array(CHANNELS)[channel],
            "campaign_group": group,
            "expected_extra_orders": np.round(expected_extra, 4),
            "orders": tx_orders.groupby("customer_id").size().reindex(customer_ids).to_numpy(),
            "net_spend": net.reindex(customer_ids).round(2).to_numpy(),
        }
    )
    customers = _typed(
        customers,
        dates=["first_purchase", "churn_date"],
        strings=[
            "customer_id",
            "true_segment",
            "churn_reason",
            "problem_driver",
            "home_store",
            "main_channel",
            "campaign_group",
        ],
    )

    truth = _truth(
        seed,
        n,
        seg,
        churned,
        treated,
        eligible,
        expected_extra,
        mean_spend,
        tx,
        survey,
        exit_survey,
        nps_by_wave,
        nps_post,
    )
    return SampleData(tx, survey, exit_survey, campaign, customers, survey_truth, truth)


def _typed(df: pd.DataFrame, *, dates: list[str], strings: list[str]) -> pd.DataFrame:
    """Canonical dtypes: dates as datetime64[ns] at midnight, text as pandas' string dtype."""
    out = df.copy()
    for col in dates:
        out[col] = pd.to_datetime(out[col]).astype("datetime64[ns]")
    for col in strings:
        out[col] = out[col].astype("str")
    return out


def _exit_survey(
    rng: np.random.Generator,
    idx: np.ndarray,
    reason: np.ndarray,
    exit_day: np.ndarray,
    days: pd.DatetimeIndex,
    customer_ids: np.ndarray,
) -> pd.DataFrame:
    m = idx.size
    why = reason[idx]
    lang_ru = rng.random(m) < RU_SHARE
    empty = rng.random(m) < 0.15
    pick = rng.integers(0, 1000, size=m)
    comments = []
    for k in range(m):
        texts = _EXIT_COMMENTS[EXIT_REASONS[why[k]]][0 if lang_ru[k] else 1]
        comments.append("" if empty[k] else texts[pick[k] % len(texts)])
    frame = pd.DataFrame(
        {
            "customer_id": customer_ids[idx],
            "date": days[exit_day[idx]],
            "reason": np.array(EXIT_REASONS)[why],
            "comment": comments,
        }
    )
    grades = np.arange(1, 6)
    for aspect in EXIT_ASPECTS:
        if aspect == "support_speed":
            values = rng.choice(grades, size=m, p=_SLOW)
        else:
            low = (
                why == EXIT_REASONS.index(_LOW_WHEN[aspect])
                if aspect in _LOW_WHEN
                else np.zeros(m, bool)
            )
            values = np.where(
                low, rng.choice(grades, size=m, p=_LOW), rng.choice(grades, size=m, p=_OK)
            )
        frame[f"rating_{aspect}"] = values.astype(float)
    return _typed(frame, dates=["date"], strings=["customer_id", "reason", "comment"])


def _comment(kind: str, theme: int, ru: bool, pick: int) -> str:
    lang = 0 if ru else 1
    if kind == "positive":
        texts = _POSITIVE[lang]
    elif kind == "neutral":
        texts = _NEUTRAL[lang]
    elif kind == "negative":
        texts = _NEGATIVE_OTHER[lang]
    else:
        texts = _THEMED[THEMES[theme]][lang]
    text = texts[pick % len(texts)]
    if kind == "mild":
        text = _MILD_PREFIX[lang] + text[0].lower() + text[1:]
    return text


def _survey(
    rng: np.random.Generator,
    o_cust: np.ndarray,
    o_day: np.ndarray,
    days: pd.DatetimeIndex,
    customer_ids: np.ndarray,
    satisfaction: np.ndarray,
    problem: np.ndarray,
    treated: np.ndarray,
    eligible: np.ndarray,
    start_day: int,
) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, float], dict[str, float]]:
    """Monthly waves of 150-250 post-purchase answers; comments tied to the customer's problem.

    Returns the survey, its hidden truth, the true NPS by wave and by campaign group and period.
    """
    month = (days.year.to_numpy() - START.year) * 12 + days.month.to_numpy() - 1
    o_month = month[o_day]
    resp_cust, resp_day = [], []
    for m in range(int(month.max()) + 1):
        in_m = np.flatnonzero(o_month == m)
        # each buyer's first order of the month: o_day is sorted, so np.unique's first index is it
        buyers, first = np.unique(o_cust[in_m], return_index=True)
        take = min(int(rng.integers(150, 251)), buyers.size)
        chosen = np.sort(rng.choice(buyers.size, size=take, replace=False))
        month_end = int(np.flatnonzero(month == m).max())
        day = np.minimum(o_day[in_m][first[chosen]] + rng.integers(0, 3, size=take), month_end)
        resp_cust.append(buyers[chosen])
        resp_day.append(day)
    cust = np.concatenate(resp_cust)
    day = np.concatenate(resp_day)
    order = np.lexsort((cust, day))
    cust, day = cust[order], day[order]
    k = cust.size

    mu = satisfaction[cust] + NPS_CAMPAIGN_SHIFT * (treated[cust] & (day >= start_day))
    score = np.clip(np.round(mu + rng.normal(0, SCORE_NOISE_SD, k)), 0, 10).astype(int)
    ru = rng.random(k) < RU_SHARE
    u_empty, u_mention = rng.random(k), rng.random(k)
    pick = rng.integers(0, 1000, size=k)
    theme = problem[cust]
    kinds, themes_true, sentiments = [], [], []
    for i in range(k):
        s, t = score[i], theme[i]
        if s >= 9:
            kind = "empty" if u_empty[i] < 0.35 else "positive"
        elif s >= 7:
            kind = (
                "empty"
                if u_empty[i] < 0.30
                else ("mild" if t >= 0 and u_mention[i] < 0.6 else "neutral")
            )
        else:
            kind = (
                "empty"
                if u_empty[i] < 0.10
                else ("strong" if t >= 0 and u_mention[i] < 0.9 else "negative")
            )
        kinds.append(kind)
        themes_true.append(
            THEMES[t] if kind in ("mild", "strong") else ("" if kind == "empty" else "other")
        )
        sentiments.append(
            {"positive": "positive", "neutral": "neutral", "mild": "neutral", "empty": ""}.get(
                kind, "negative"
            )
        )
    comments = [
        "" if kinds[i] == "empty" else _comment(kinds[i], theme[i], ru[i], pick[i])
        for i in range(k)
    ]
    anonymous = rng.random(k) < ANONYMOUS_SHARE
    respondent = _ids("R", np.arange(1, k + 1), 6)
    survey = pd.DataFrame(
        {
            "respondent_id": respondent,
            "customer_id": np.where(anonymous, None, customer_ids[cust]),
            "date": days[day],
            "score": score,
            "comment": comments,
        }
    )
    survey = _typed(survey, dates=["date"], strings=["respondent_id", "customer_id", "comment"])
    survey_truth = pd.DataFrame(
        {
            "respondent_id": respondent,
            "customer_id_true": customer_ids[cust],
            "theme_true": themes_true,
            "sentiment": sentiments,
            "language": np.where(np.array(kinds) == "empty", "", np.where(ru, "ru", "en")),
            "expected_score": np.round(mu, 4),
        }
    )
    survey_truth = _typed(
        survey_truth,
        dates=[],
        strings=["respondent_id", "customer_id_true", "theme_true", "sentiment", "language"],
    )
    # True NPS of each wave: the expected NPS of the people who answered it (given their latent
    # satisfaction), i.e. what the wave's NPS would average to over the score noise.
    pmd = _p_promoter_minus_detractor(mu)
    wave = pd.Series(days[day].strftime("%Y-%m"))
    by_wave = pd.Series(pmd).groupby(wave).mean() * 100
    post = day >= start_day
    is_t, is_c = treated[cust], eligible[cust] & ~treated[cust]
    nps_campaign = {
        "treatment_pre": pmd[~post & is_t].mean(),
        "treatment_post": pmd[post & is_t].mean(),
        "control_pre": pmd[~post & is_c].mean(),
        "control_post": pmd[post & is_c].mean(),
        "treatment_post_without_campaign": _p_promoter_minus_detractor(
            satisfaction[cust][post & is_t]
        ).mean(),
    }
    nps_post = {key: float(v) * 100 for key, v in nps_campaign.items()}
    return (
        survey,
        survey_truth,
        {str(w): round(float(v), 4) for w, v in by_wave.items()},
        {key: round(v, 4) for key, v in nps_post.items()},
    )


def _expected_rating(aspect: str) -> float:
    grades = np.arange(1, 6)
    if aspect == "support_speed":
        return float(grades @ np.array(_SLOW))
    low_share = (
        EXIT_REASON_SHARES[EXIT_REASONS.index(_LOW_WHEN[aspect])] if aspect in _LOW_WHEN else 0.0
    )
    return float(low_share * (grades @ np.array(_LOW)) + (1 - low_share) * (grades @ np.array(_OK)))


def _truth(
    seed: int,
    n: int,
    seg: np.ndarray,
    churned: np.ndarray,
    treated: np.ndarray,
    eligible: np.ndarray,
    expected_extra: np.ndarray,
    mean_spend: np.ndarray,
    tx: pd.DataFrame,
    survey: pd.DataFrame,
    exit_survey: pd.DataFrame,
    nps_by_wave: dict[str, float],
    nps_post: dict[str, float],
) -> dict[str, Any]:
    names = [s.name for s in SEGMENTS]
    n_treated = int(treated.sum())
    non_empty = survey["comment"].str.len() > 0
    return {
        "retailer": RETAILER,
        "currency": CURRENCY,
        "seed": int(seed),
        "n_customers": int(n),
        "start": START.date().isoformat(),
        "observation_end": OBSERVATION_END.date().isoformat(),
        "campaign_start": CAMPAIGN_START.date().isoformat(),
        "segment_shares": {s.name: s.share for s in SEGMENTS},
        "segment_counts": {name: int((seg == i).sum()) for i, name in enumerate(names)},
        "segment_params": {
            s.name: {
                "rate_mean_per_year": s.rate_mean,
                "rate_gamma_shape": s.rate_shape,
                "dropout_beta": [s.p_a, s.p_b],
                "spend_mean_rub": s.spend_mean,
                "share_of_wallet_beta": [s.sow_a, s.sow_b],
                "problem_prob": s.problem_prob,
                "base_score": s.base_score,
                "refund_prob": s.refund_prob,
            }
            for s in SEGMENTS
        },
        "month_multipliers": list(MONTH_MULT),
        "weekday_multipliers_mon_to_sun": list(WEEKDAY_MULT),
        "churned_by_end_share": round(float(churned.mean()), 6),
        "n_transactions": len(tx),
        "n_refunds": int(tx["is_refund"].sum()),
        "campaign_eligibility": "at least one purchase in the 365 days before campaign_start",
        "campaign_assignment_prob": 0.5,
        "campaign_n_eligible": int(eligible.sum()),
        "campaign_n_treatment": n_treated,
        "campaign_n_control": int(eligible.sum()) - n_treated,
        "true_uplift_purchase_rate": TRUE_UPLIFT,
        "expected_extra_orders_per_treated": round(float(expected_extra[treated].mean()), 6),
        "expected_extra_revenue_per_treated_rub": round(
            float((expected_extra * mean_spend)[treated].mean()), 2
        ),
        "nps_campaign_shift_points": NPS_CAMPAIGN_SHIFT,
        "nps_true_by_wave": nps_by_wave,
        # expected NPS of the campaign customers' answers before / after the start, by group
        "nps_true_campaign": nps_post,
        "nps_score_noise_sd": SCORE_NOISE_SD,
        "problem_theme_probs": dict(zip(THEMES, THEME_PROBS, strict=True)),
        "comment_language_shares": {"ru": round(RU_SHARE, 6), "en": round(1 - RU_SHARE, 6)},
        "n_survey": len(survey),
        "n_survey_comments": int(non_empty.sum()),
        "survey_anonymous_share": ANONYMOUS_SHARE,
        "exit_reason_shares": dict(zip(EXIT_REASONS, EXIT_REASON_SHARES, strict=True)),
        "exit_rating_means_true": {a: round(_expected_rating(a), 6) for a in EXIT_ASPECTS},
        "exit_response_prob": EXIT_RESPONSE_PROB,
        "n_exit": len(exit_survey),
    }


# --------------------------------------------------------------------------------------------
def write_samples(
    out_dir: str | Path, n_customers: int = DEFAULT_CUSTOMERS, seed: int = DEFAULT_SEED
) -> dict[str, Path]:
    """Write the canonical sample files into ``out_dir``; byte-identical for the same arguments.

    Files: transactions, survey, exit_survey, campaign, customers_truth, survey_truth (CSV: utf-8,
    ``,``, ``\\n``, ISO dates, money with 2 decimals) and truth.json (sorted keys, indent 2).
    """
    data = generate(n_customers=n_customers, seed=seed)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    tables = {
        "transactions": (data.transactions, "%.2f"),
        "survey": (data.survey, "%.2f"),
        "exit_survey": (data.exit_survey, "%.1f"),
        "campaign": (data.campaign, "%.2f"),
        # truth floats are rounded to <= 4 decimals in generate(); %g writes them without padding
        "customers_truth": (data.customers, "%.10g"),
        "survey_truth": (data.survey_truth, "%.10g"),
    }
    paths: dict[str, Path] = {}
    for name, (frame, float_format) in tables.items():
        path = out / f"{name}.csv"
        text = _fixed_floats(frame, float_format).to_csv(
            index=False, lineterminator="\n", date_format="%Y-%m-%d"
        )
        path.write_bytes(text.encode("utf-8"))
        paths[name] = path
    path = out / "truth.json"
    path.write_bytes(
        (json.dumps(data.truth, sort_keys=True, indent=2, ensure_ascii=False) + "\n").encode(
            "utf-8"
        )
    )
    paths["truth"] = path
    return paths


def _fixed_floats(frame: pd.DataFrame, float_format: str) -> pd.DataFrame:
    """Float columns as text in a fixed format (NaN → empty), so the bytes never depend on repr."""
    out = frame.copy()
    for col in out.columns:
        if pd.api.types.is_float_dtype(out[col]):
            values = out[col].to_numpy()
            text = np.char.mod(float_format, np.nan_to_num(values))
            out[col] = np.where(np.isnan(values), "", text)
    return out


_RU_CHANNEL = {"store": "магазин", "online": "сайт", "app": "приложение"}
_RU_STORE = {
    "Moscow": "Москва",
    "Saint Petersburg": "Санкт-Петербург",
    "Kazan": "Казань",
    "Yekaterinburg": "Екатеринбург",
    "Novosibirsk": "Новосибирск",
}
_RU_REASON = {
    "price": "цена",
    "quality": "качество",
    "service": "сервис",
    "competition": "конкуренты",
    "other": "другое",
}
_RU_GROUP = {"treatment": "тест", "control": "контроль"}
_RU_ASPECT = {
    "price": "цена",
    "quality": "качество",
    "service": "сервис",
    "support_speed": "скорость поддержки",
    "assortment": "ассортимент",
    "delivery": "доставка",
}


def _ru_date(values: pd.Series) -> list[str]:
    return values.dt.strftime("%d.%m.%Y").tolist()


def _ru_money(values: pd.Series) -> list[str]:
    return [f"{v:.2f}".replace(".", ",") for v in values]


def _client_tables(data: SampleData) -> dict[str, tuple[list[str], list[list[str]]]]:
    tx, sv, ex, cp = data.transactions, data.survey, data.exit_survey, data.campaign
    tables = {
        "transactions": (
            ["Клиент", "Дата", "Сумма", "Номер чека", "Канал", "Магазин", "Возврат"],
            list(
                zip(
                    tx["customer_id"],
                    _ru_date(tx["date"]),
                    _ru_money(tx["amount"]),
                    tx["order_id"],
                    tx["channel"].map(_RU_CHANNEL),
                    tx["store"].map(_RU_STORE),
                    np.where(tx["is_refund"], "да", "нет"),
                    strict=True,
                )
            ),
        ),
        "survey": (
            ["Респондент", "Клиент", "Дата", "Оценка", "Комментарий"],
            list(
                zip(
                    sv["respondent_id"],
                    sv["customer_id"].fillna(""),
                    _ru_date(sv["date"]),
                    sv["score"].astype(str),
                    sv["comment"],
                    strict=True,
                )
            ),
        ),
        "exit_survey": (
            ["Клиент", "Дата", "Причина ухода", "Комментарий"]
            + [f"Оценка: {_RU_ASPECT[a]}" for a in EXIT_ASPECTS],
            list(
                zip(
                    ex["customer_id"],
                    _ru_date(ex["date"]),
                    ex["reason"].map(_RU_REASON),
                    ex["comment"],
                    *[ex[f"rating_{a}"].map(lambda v: f"{v:.0f}") for a in EXIT_ASPECTS],
                    strict=True,
                )
            ),
        ),
        "campaign": (
            ["Клиент", "Группа", "Дата начала"],
            list(
                zip(
                    cp["customer_id"],
                    cp["group"].map(_RU_GROUP),
                    _ru_date(cp["start_date"]),
                    strict=True,
                )
            ),
        ),
    }
    return {
        name: (header, [[str(v) for v in row] for row in rows])
        for name, (header, rows) in tables.items()
    }


def write_client_export(
    out_dir: str | Path, n_customers: int = CLIENT_CUSTOMERS, seed: int = CLIENT_SEED
) -> dict[str, Path]:
    """Write the retailer as a Russian client export with the bad rows listed in :data:`BAD_ROWS`.

    cp1251, ``;`` delimiter, ``\\r\\n`` line ends, decimal comma, ``dd.mm.yyyy`` dates, Cyrillic
    headers and values (groups тест/контроль, reasons цена/качество/сервис/конкуренты/другое).
    """
    _check_args(n_customers, seed, minimum=300)
    tables = _client_tables(generate(n_customers=n_customers, seed=seed))
    for bad in BAD_ROWS:
        header, rows = tables[bad.file.removesuffix(".csv")]
        if bad.line - 2 >= len(rows):
            raise ValueError(f"{bad.file} has only {len(rows)} rows; increase n_customers")
        row = rows[bad.line - 2]
        col = header.index(bad.column)
        if bad.problem.startswith("negative amount"):
            row[col] = "-" + row[col].lstrip("-")
            row[header.index("Возврат")] = "нет"
        elif bad.problem.startswith("duplicate"):
            rows[bad.line - 2] = list(rows[bad.line - 3])
        else:
            row[col] = bad.value
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths: dict[str, Path] = {}
    for name, (header, rows) in tables.items():
        buffer = io.StringIO()
        writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
        writer.writerow(header)
        writer.writerows(rows)
        path = out / f"{name}.csv"
        path.write_bytes(buffer.getvalue().encode("cp1251"))
        paths[name] = path
    return paths


# ---------------------------------------------------------------------------------------------
# Second example client: an English shop's line-item Excel export (UCI Online Retail shape)
# ---------------------------------------------------------------------------------------------
UK_SEED = 11
UK_CUSTOMERS = 800
UK_HEADER: tuple[str, ...] = (
    "InvoiceNo",
    "StockCode",
    "Description",
    "Quantity",
    "InvoiceDate",
    "UnitPrice",
    "CustomerID",
    "Country",
)
# (stock code, description, unit price in GBP): a small gift-shop catalogue.
_UK_PRODUCTS: tuple[tuple[str, str, float], ...] = (
    ("85123A", "WHITE HANGING HEART T-LIGHT HOLDER", 2.55),
    ("71053", "WHITE METAL LANTERN", 3.39),
    ("84406B", "CREAM CUPID HEARTS COAT HANGER", 2.75),
    ("84029G", "KNITTED UNION FLAG HOT WATER BOTTLE", 3.39),
    ("22752", "SET 7 BABUSHKA NESTING BOXES", 7.65),
    ("21730", "GLASS STAR FROSTED T-LIGHT HOLDER", 4.25),
    ("22633", "HAND WARMER UNION JACK", 1.85),
    ("84879", "ASSORTED COLOUR BIRD ORNAMENT", 1.69),
    ("22745", "POPPY'S PLAYHOUSE BEDROOM", 2.10),
    ("22748", "POPPY'S PLAYHOUSE KITCHEN", 2.10),
    ("22310", "IVORY KNITTED MUG COSY", 1.65),
    ("84969", "BOX OF 6 ASSORTED COLOUR TEASPOONS", 4.25),
    ("22623", "BOX OF VINTAGE JIGSAW BLOCKS", 4.95),
    ("22622", "BOX OF VINTAGE ALPHABET BLOCKS", 9.95),
    ("21754", "HOME BUILDING BLOCK WORD", 5.95),
    ("21755", "LOVE BUILDING BLOCK WORD", 5.95),
    ("21777", "RECIPE BOX WITH METAL HEART", 7.95),
    ("48187", "DOORMAT NEW ENGLAND", 7.95),
    ("22960", "JAM MAKING SET WITH JARS", 4.25),
    ("22913", "RED COAT RACK PARIS FASHION", 4.95),
    ("22139", "RETROSPOT TEA SET CERAMIC 11 PC", 4.95),
    ("22086", "PAPER CHAIN KIT 50'S CHRISTMAS", 2.55),
    ("21523", "DOORMAT FANCY FONT HOME SWEET HOME", 7.95),
    ("22720", "SET OF 3 CAKE TINS PANTRY DESIGN", 4.95),
)


@dataclasses.dataclass(frozen=True)
class PlantedLine:
    """A deliberately bad line of the UK export: its line, column, value and expected reason."""

    line: int
    column: str
    value: str
    reason: str


def uk_line_items(
    n_customers: int = UK_CUSTOMERS, seed: int = UK_SEED
) -> tuple[list[list[Any]], list[PlantedLine]]:
    """The UK shop's invoice lines (rows under :data:`UK_HEADER`) and the planted bad lines.

    Orders and refunds are those of :func:`generate` (same seed: the same customers and days);
    each order becomes an invoice of 1-6 lines from a gift-shop catalogue priced in GBP, a
    refund a cancellation invoice ``C<number>`` with negative quantities. Customer ids are
    numbers (Excel stores them as 13607.0); about 6 % more invoices have no customer (anonymous
    walk-in sales). Planted lines: two free (price 0) postage lines, a bad-debt adjustment with a
    negative price, a date typed as text that does not exist, and a quantity written in words.
    """
    _check_args(n_customers, seed, minimum=300)
    tx = generate(n_customers=n_customers, seed=seed).transactions
    rng = np.random.default_rng(seed + 16)
    products = _UK_PRODUCTS
    number = {c: 12346 + i for i, c in enumerate(sorted(tx["customer_id"].unique()))}
    countries = np.array(["United Kingdom"] * 17 + ["France", "Germany", "EIRE"])
    rows: list[list[Any]] = []
    invoice = 536365

    def add_invoice(customer: Any, day: pd.Timestamp, refund: bool, country: str) -> None:
        nonlocal invoice
        moment = day + pd.Timedelta(minutes=int(rng.integers(8 * 60, 19 * 60)))
        n_lines = int(min(1 + rng.poisson(1.5), 6))
        picks = rng.choice(len(products), size=n_lines, replace=False)
        for k in picks:
            code, name, price = products[int(k)]
            qty = int(rng.integers(1, 13))
            rows.append(
                [
                    f"C{invoice}" if refund else str(invoice),
                    code,
                    name,
                    -qty if refund else qty,
                    moment.to_pydatetime(),
                    price,
                    customer,
                    country,
                ]
            )
        invoice += 1

    for cust, day, refund in zip(tx["customer_id"], tx["date"], tx["is_refund"], strict=True):
        country = str(countries[number[cust] % len(countries)])
        add_invoice(float(number[cust]), day, bool(refund), country)
        if rng.random() < 0.06:  # a walk-in sale the same day, no loyalty card
            add_invoice(None, day, False, "United Kingdom")

    planted: list[PlantedLine] = []

    def plant(at: int, values: list[Any], column: str, value: str, reason: str) -> None:
        rows.insert(at, values)
        # later plants go further down, so earlier line numbers stay right
        planted.append(PlantedLine(at + 2, column, value, reason))

    def like(at: int) -> list[Any]:
        return list(rows[at])

    base = like(40)
    plant(
        41,
        [base[0], "POST", "POSTAGE", 1, base[4], 0.0, base[6], base[7]],
        "unit_price",
        "0",
        "zero price",
    )
    base = like(900)
    plant(
        901,
        [base[0], "POST", "POSTAGE", 2, base[4], 0.0, base[6], base[7]],
        "unit_price",
        "0",
        "zero price",
    )
    base = like(1500)
    plant(
        1501,
        ["A563185", "B", "Adjust bad debt", 1, base[4], -1284.5, base[6], base[7]],
        "unit_price",
        "-1284.5",
        "negative price",
    )
    base = like(2500)
    plant(
        2501,
        [base[0], "22310", "IVORY KNITTED MUG COSY", 6, "31/02/2025 10:15", 1.65, base[6], base[7]],
        "date",
        "31/02/2025 10:15",
        "unparseable date",
    )
    base = like(3200)
    plant(
        3201,
        [base[0], "22623", "BOX OF VINTAGE JIGSAW BLOCKS", "two", base[4], 4.95, base[6], base[7]],
        "quantity",
        "two",
        "quantity not a number",
    )
    planted.sort(key=lambda p: p.line)
    return rows, planted


_UK_README = """# Example client 2: an English shop's line-item Excel export

A fictional UK gift shop sends its sales as one Excel sheet of **invoice lines**, the shape of
the public UCI "Online Retail" data set: `{header}`. One invoice has several lines;
the amount is `Quantity × UnitPrice` (GBP). Generated by
`loyalty_lib.samples.write_uk_client(out_dir, n_customers={n}, seed={seed})` (seeded: the same
file every time); the customers and purchase days are those of `generate(n_customers={n},
seed={seed})`.

Load it with no mapping: `loyalty validate data/example_client_uk/transactions.xlsx --kind
transactions`, or run the report: `loyalty report --client "UK gift shop" --currency GBP
--transactions data/example_client_uk/transactions.xlsx --out out/uk`.

## What is in it

- {lines:,} lines → {orders:,} orders of {customers:,} customers (tests/data/test_example_client_uk.py
  pins these numbers, worked out from the raw cells with openpyxl).
- Customer ids are Excel numbers (`12346` is stored as 12346.0): they load as `12346`.
- Cancellations: invoice numbers `C<number>` with negative quantities (the customers' refunds).
- Anonymous walk-in sales: invoices with an empty `CustomerID` ({anonymous:,} lines), rejected as
  "anonymous purchase (no customer id)".

## Planted bad lines

| line | column | value | expected reason |
|---|---|---|---|
{planted}
"""


def write_uk_client(
    out_dir: str | Path, n_customers: int = UK_CUSTOMERS, seed: int = UK_SEED
) -> dict[str, Path]:
    """Write the UK shop's ``transactions.xlsx`` (lines, :func:`uk_line_items`) and README.md."""
    from openpyxl import Workbook

    rows, planted = uk_line_items(n_customers=n_customers, seed=seed)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("Online Retail")
    ws.append(list(UK_HEADER))
    for row in rows:
        ws.append(row)
    path = out / "transactions.xlsx"
    wb.save(path)
    anonymous = sum(1 for r in rows if r[6] is None)
    bad = {p.line for p in planted}
    good = [r for i, r in enumerate(rows) if r[6] is not None and i + 2 not in bad]
    orders = len({(r[0], r[3] < 0 or r[0].startswith("C")) for r in good})
    customers = len({r[6] for r in good})
    table = "\n".join(f"| {p.line} | {p.column} | `{p.value}` | {p.reason} |" for p in planted)
    readme = out / "README.md"
    readme.write_text(
        _UK_README.format(
            header=", ".join(UK_HEADER),
            n=n_customers,
            seed=seed,
            lines=len(rows),
            orders=orders,
            customers=customers,
            anonymous=anonymous,
            planted=table,
        ),
        encoding="utf-8",
    )
    return {"transactions": path, "readme": readme}
