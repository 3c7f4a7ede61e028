"""The canonical tables: kinds, columns, header aliases and value vocabularies (data, not code)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

KINDS: tuple[str, ...] = ("transactions", "survey", "exit_survey", "campaign", "customers")

# ---------------------------------------------------------------------------------------------
# Header aliases: data, not code. Matching is case-insensitive, trims the header, treats ё as е and
# ignores spaces, underscores and hyphens ("Дата покупки" == "дата_покупки" == "ДАТАПОКУПКИ").
# ---------------------------------------------------------------------------------------------
_CUSTOMER = (
    "customer_id",
    "customer",
    "client",
    "client_id",
    "клиент",
    "id клиента",
    "код клиента",
    "номер клиента",
    "покупатель",
    "id покупателя",
    "код покупателя",
    "номер карты",
    "карта",
    "карта покупателя",
    "карта клиента",
    "номер карты покупателя",
    "дисконтная карта",
    "customerid",
    "customer no",
    "customer number",
    "customer_user",
)
_DATE = ("date", "дата")

HEADER_ALIASES: dict[str, dict[str, tuple[str, ...]]] = {
    "transactions": {
        "customer_id": _CUSTOMER,
        "date": _DATE
        + (
            "order_date",
            "purchase_date",
            "transaction_date",
            "дата покупки",
            "дата чека",
            "дата заказа",
            "invoicedate",
            "invoice date",
            "receipt date",
            "created at",
            "дата продажи",
            "дата и время",
            "дата документа",
        ),
        "amount": (
            "amount",
            "sum",
            "total",
            "revenue",
            "сумма",
            "сумма покупки",
            "сумма чека",
            "сумма заказа",
            "выручка",
            "order_total",
            "order total amount",
        ),
        "is_refund": ("is_refund", "refund", "return", "возврат", "признак возврата"),
        # Line-item exports (one row per item of a receipt / invoice); see loyalty_lib.data.orders.
        "quantity": (
            "quantity",
            "qty",
            "item_quantity",
            "lineitem quantity",
            "количество",
            "кол-во",
            "кол во",
        ),
        "unit_price": (
            "unit_price",
            "unitprice",
            "price",
            "item price",
            "item cost",
            "lineitem price",
            "цена",
            "цена за единицу",
            "цена продажи",
        ),
        "line_amount": (
            "line_amount",
            "line total",
            "line amount",
            "item_total",
            "сумма со скидкой",
            "сумма строки",
            "сумма позиции",
        ),
        "status": (
            "status",
            "order status",
            "financial status",
            "type",
            "transaction type",
            "статус",
            "тип",
            "тип операции",
            "вид операции",
            "операция",
            "тип чека",
            "вид чека",
        ),
        "order_id": (
            "order_id",
            "order",
            "receipt",
            "receipt_id",
            "чек",
            "номер чека",
            "заказ",
            "номер заказа",
            "invoiceno",
            "invoice",
            "invoice_no",
            "invoice number",
            "receipt number",
            "receipt no",
            "order no",
            "номер документа",
        ),
        "channel": ("channel", "канал", "канал продаж"),
        "store": ("store", "shop", "магазин", "точка", "точка продаж"),
    },
    "survey": {
        "respondent_id": (
            "respondent_id",
            "respondent",
            "анкета",
            "номер анкеты",
            "id респондента",
            "респондент",
            "response id",
            "#",  # Typeform
            "id",  # Yandex Forms
            "id ответа",
        ),
        "customer_id": _CUSTOMER,
        "date": _DATE
        + (
            "response_date",
            "survey_date",
            "дата ответа",
            "дата опроса",
            "timestamp",  # Google Forms (English)
            "отметка времени",  # Google Forms (Russian)
            "end date",  # SurveyMonkey: when the response was completed
            "submit date (utc)",  # Typeform
            "submit date",
            "submitted at",
            "время создания",  # Yandex Forms
            "время отправки",
            "дата создания",
        ),
        "score": ("score", "nps", "nps score", "rating", "оценка", "балл"),
        "comment": ("comment", "feedback", "комментарий", "отзыв"),
    },
    "exit_survey": {
        "customer_id": _CUSTOMER,
        "date": _DATE
        + ("exit_date", "churn_date", "response_date", "дата ответа", "дата опроса", "дата ухода"),
        "reason": ("reason", "churn_reason", "exit_reason", "причина", "причина ухода"),
        "comment": ("comment", "feedback", "комментарий", "отзыв"),
    },
    "campaign": {
        "customer_id": _CUSTOMER,
        "group": ("group", "arm", "группа"),
        "start_date": ("start_date", "start", "campaign_start", "дата начала", "старт", "начало"),
    },
    "customers": {
        "customer_id": _CUSTOMER,
        "frequency": ("frequency", "freq", "частота"),
        "recency": ("recency", "давность"),
        "T": ("T", "age", "возраст", "срок"),
        "monetary": ("monetary", "monetary_value", "средний чек"),
        "first_purchase": ("first_purchase", "первая покупка", "дата первой покупки"),
        "last_purchase": ("last_purchase", "последняя покупка", "дата последней покупки"),
        "orders": ("orders", "n_orders", "число заказов", "количество покупок"),
        "total_spend": ("total_spend", "сумма покупок", "итого"),
    },
}

REQUIRED_COLUMNS: dict[str, tuple[str, ...]] = {
    "transactions": ("customer_id", "date", "amount"),
    "survey": ("date", "score"),
    "exit_survey": ("customer_id", "date", "reason"),
    "campaign": ("customer_id", "group", "start_date"),
    "customers": ("customer_id", "frequency", "recency", "T", "monetary"),
}

# exit_survey: 1-5 aspect ratings. A header is a rating if it is `rating_<aspect>`, `оценка: <аспект>`
# or a bare aspect name below.
RATING_ASPECTS: dict[str, tuple[str, ...]] = {
    "price": ("price", "цена", "стоимость"),
    "quality": ("quality", "качество"),
    "service": ("service", "сервис", "обслуживание"),
    "support_speed": ("support_speed", "скорость поддержки", "скорость ответа"),
    "assortment": ("assortment", "ассортимент"),
    "delivery": ("delivery", "доставка"),
}

EXIT_REASONS: dict[str, tuple[str, ...]] = {
    "price": ("price", "цена", "цены", "дорого", "высокая цена"),
    "quality": ("quality", "качество", "плохое качество"),
    "service": ("service", "сервис", "обслуживание", "плохое обслуживание"),
    "competition": (
        "competition",
        "competitor",
        "competitors",
        "конкуренты",
        "конкурент",
        "конкуренция",
        "ушел к конкуренту",
    ),
    "other": ("other", "другое", "прочее", "иное"),
}

GROUP_VALUES: dict[str, tuple[str, ...]] = {
    "treatment": ("treatment", "test", "тест", "тестовая", "тестовая группа"),
    "control": ("control", "holdout", "контроль", "контрольная", "контрольная группа"),
}

TRUE_WORDS = ("true", "1", "yes", "y", "t", "да", "д", "истина", "x", "+", "возврат")
FALSE_WORDS = ("false", "0", "no", "n", "f", "нет", "н", "ложь", "", "-", "продажа")

_DATE_RE = re.compile(
    r"^(?:(?P<iso>\d{4}-\d{1,2}-\d{1,2})|(?P<dmy4>\d{1,2}\.\d{1,2}\.\d{4})|"
    r"(?P<dmy2>\d{1,2}\.\d{1,2}\.\d{2})|(?P<ymdslash>\d{4}/\d{1,2}/\d{1,2})|"
    r"(?P<slash>\d{1,2}/\d{1,2}/\d{4}))"
    r"(?:,?[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:\s*[AaPp]\.?[Mm]\.?)?"
    r"(?:\s*(?:Z|UTC|GMT)?[+-]?\d{0,2}(?::?\d{2})?)?)?$"
)
# "slash" dates (3/15/2025, 15/03/2025): month first (US: UCI Online Retail, Google Forms and
# SurveyMonkey in English) unless a first number above 12 in the same column says day first.
_DATE_FORMATS = {
    "iso": "%Y-%m-%d",
    "dmy4": "%d.%m.%Y",
    "dmy2": "%d.%m.%y",
    "ymdslash": "%Y/%m/%d",
    "slash": "%m/%d/%Y",
}
_DUP_SUFFIX = re.compile(r"\s*(?:of line \d+|\(first at line \d+\))$")
_BAD_ROW = "\x00BADROW"


def _norm(text: Any) -> str:
    """Header / value key: casefolded, trimmed, ё→е, without spaces, underscores and hyphens."""
    return re.sub(
        r"[\s_\-]+", "", str(text).strip().replace("\ufeff", "").casefold().replace("ё", "е")
    )


def _lookup(table: Mapping[str, tuple[str, ...]]) -> dict[str, str]:
    return {_norm(alias): key for key, aliases in table.items() for alias in aliases}


_ASPECT_LOOKUP = _lookup(RATING_ASPECTS)
_REASON_LOOKUP = _lookup(EXIT_REASONS)
_GROUP_LOOKUP = _lookup(GROUP_VALUES)
_FLAG_LOOKUP = {**{_norm(w): False for w in FALSE_WORDS}, **{_norm(w): True for w in TRUE_WORDS}}


class LoyaltyDataError(ValueError):
    """A file-level problem: the file cannot be turned into a canonical table at all.

    Attributes ``file`` (path or ``"<DataFrame>"``), ``column`` (canonical column concerned, or
    None) and ``row`` (line number, or None).
    """

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        column: str | None = None,
        row: int | None = None,
    ) -> None:
        super().__init__(message)
        self.file = file
        self.column = column
        self.row = row


# ---------------------------------------------------------------------------------------------
# Fallback header rules: tried only for a canonical column no alias matched, so a file that has
# the usual header is never read another way. Each rule is (canonical, normalised header or
# None for "by wording", marker header that must also be present or None).
# ---------------------------------------------------------------------------------------------
FALLBACK_HEADERS: dict[str, tuple[tuple[str, str, str | None], ...]] = {
    "transactions": (
        # Shopify order exports: "Name" is the order (#1001), "Email" the customer; only with
        # the Shopify line columns, since "Name" elsewhere is usually a person.
        ("order_id", "name", "lineitem quantity"),
        # WooCommerce exports have "order_id" and "order_number" (the same number, or a
        # formatted one): the id wins, the number is used when it is alone.
        ("order_id", "order number", None),
        ("customer_id", "email", None),
        ("customer_id", "billing email", None),
        ("customer_id", "billing_email", None),
        ("customer_id", "customer email", None),
        ("customer_id", "e-mail", None),
    ),
    "survey": (
        ("customer_id", "email", None),
        ("customer_id", "email address", None),
        ("customer_id", "адрес электронной почты", None),
        ("customer_id", "электронная почта", None),
    ),
}

# Survey tools put the question text in the header. The NPS question is found by its wording
# (casefolded, ё → е, substring); the comment question likewise, among the remaining headers.
NPS_WORDING: tuple[str, ...] = (
    "how likely are you to recommend",
    "how likely is it that you would recommend",
    "would you recommend",
    "likely to recommend",
    "насколько вероятно, что вы порекомендуете",
    "насколько вероятно что вы порекомендуете",
    "порекомендуете",
    "порекомендовали бы",
    "рекомендовать",
    "net promoter",
)
COMMENT_WORDING: tuple[str, ...] = (
    "reason for your score",
    "why did you give",
    "why",
    "what could we",
    "what is the main reason",
    "почему",
    "причина вашей оценки",
    "что мы могли бы",
    "что нам улучшить",
)

# Line items: order ids starting with this are cancellations (UCI Online Retail: "C536379").
CANCEL_PREFIX = "C"
# Values of a status / type column that mark the line as a return (normalised with _norm).
REFUND_STATUS_WORDS: tuple[str, ...] = (
    "refund",
    "refunded",
    "return",
    "returned",
    "partially_refunded",
    "возврат",
    "возврат товара",
    "возврат продажи",
    "чек возврата",
    "возвращен",
)
# SurveyMonkey's CSV has a second header row naming the answer type under each question.
SURVEYMONKEY_SUBHEADERS: tuple[str, ...] = (
    "response",
    "open-ended response",
    "other (please specify)",
    "ответ",
    "ответ в свободной форме",
)
