"""The sample retailer's business settings, declared once.

Every lesson and the report's defaults read these values, so that the same retailer never has a
40 % margin in one lesson and 35 % in another. A consultant's client overrides them per run (the
report's settings); a trainee may change a lesson's parameters, which start from these.

Why these numbers:

* ``gross_margin`` 0.40 — home goods sit between grocery (~25 %) and apparel (~50 %); the share of
  revenue left after the cost of goods, 0..1.
* ``churn_window_days`` 180 — derived in lesson 04 from the sample's gaps between a customer's
  consecutive purchases: a customer silent for longer is more likely gone than between purchases;
  90 days labels many active customers as churned.
* ``discount_rate_monthly`` 0.01 — the cost of money per month inside discounted CLV (≈ 12.7 % a
  year).
* ``currency`` RUB.
"""

from __future__ import annotations

from dataclasses import dataclass

from loyalty_lib._result import Result
from loyalty_lib.i18n.format import fmt_share
from loyalty_lib.i18n.messages import _, ngettext


@dataclass(frozen=True)
class RetailerSettings(Result):
    """Business settings of one retailer (shares 0..1, days, monthly rates)."""

    name: str
    currency: str
    gross_margin: float  # share of revenue left after the cost of goods, 0..1
    churn_window_days: int  # no purchase for longer than this = treated as churned, days
    discount_rate_monthly: float  # cost of money per month for discounted CLV

    def __str__(self) -> str:
        days = ngettext("{n} day", "{n} days", self.churn_window_days).format(
            n=self.churn_window_days
        )
        return _(
            "{name}: gross margin {margin}, churn window {days}, discount rate {rate} a month "
            "({currency})"
        ).format(
            name=self.name,
            margin=fmt_share(self.gross_margin, decimals=0),
            days=days,
            rate=fmt_share(self.discount_rate_monthly),
            currency=self.currency,
        )


SAMPLE_RETAILER = RetailerSettings(
    name="Romashka",
    currency="RUB",
    gross_margin=0.40,
    churn_window_days=180,
    discount_rate_monthly=0.01,
)
