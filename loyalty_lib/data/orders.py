"""Line-item exports: item lines → one canonical transactions row per order, refunds marked.

A transactions file is a *line-item export* when it has quantity and unit price columns, or a
line amount column (:func:`loyalty_lib.data.columns.is_line_items`): the UCI Online Retail shape
(``InvoiceNo, StockCode, Description, Quantity, InvoiceDate, UnitPrice, CustomerID, Country``),
1C / POS receipts («Номер чека», «Количество», «Цена», «Сумма со скидкой»), Shopify and
WooCommerce order exports.

Decisions (the course and the report rely on them):

* Each line is checked first, the first problem wins, as for any file: no customer id →
  ``"anonymous purchase (no customer id)"``; unparseable date; quantity / price / line amount not
  a number; quantity 0 → ``"zero quantity"``; a price of 0 → ``"zero price"`` and below 0 →
  ``"negative price"`` (free gifts and bad-debt adjustments are not purchases a customer made);
  an empty order id in a file that has order ids → ``"empty order_id"``.
* A line's value is its line amount when the file has one (it is what was paid, after
  discounts), else quantity × unit price. An ``amount`` column of a line-item export is not used
  (in Shopify it is the order total, filled on the order's first line only).
* A line is a *return* when its order id starts with the cancellation prefix (``"C"``, as UCI
  writes cancellations; ``cancel_prefix`` changes it, ``""`` switches it off), its quantity is
  negative, a status / type column says so («Возврат», "Return", "Refund", "refunded"), or a
  refund flag column is true. Other status values (paid, completed, «Продажа») mean a sale.
* Lines are grouped by (order id, return or not), so a return printed under the sale's receipt
  number is a refund row of its own. One order = one row: the customer of its first line, the
  earliest date of its lines, ``amount`` = Σ line values (a refund: −|Σ|, negative as everywhere
  in the canonical table), ``n_lines`` = its accepted lines, ``line`` = its first line. A line
  whose customer differs from the order's first line is rejected
  (``"order with another customer (first at line N)"``); a sale order whose total is negative is
  rejected line by line (``"negative order total not marked as refund"``).
* Without an order id every accepted line is one row (``n_lines`` 1), as for any table.
* Lines are never duplicates of each other: two identical lines of one invoice are two items.
* Counting: ``rows_read`` = lines read = accepted lines (Σ ``n_lines``) + rejected lines.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from loyalty_lib.data.parse import _integral_ids
from loyalty_lib.data.rules import (
    _Columns,
    _date_checks,
    _number_checks,
    _refund_flags,
    _Rejections,
    _status_refund,
)
from loyalty_lib.data.schema import CANCEL_PREFIX


def line_item_rules(
    cols: _Columns,
    rej: _Rejections,
    lines: np.ndarray,
    decimal: str,
    cancel_prefix: str = CANCEL_PREFIX,
) -> pd.DataFrame:
    """Check every line and group the accepted ones into orders (see the module docstring).

    Returns the orders, one row each, with the canonical columns plus ``n_lines`` and ``line``;
    ``rej`` holds every rejected line.
    """
    n = len(cols.index)
    strip = cols.strip
    rej.add(cols.blank("customer_id"), "customer_id", "anonymous purchase (no customer id)")
    customer = _integral_ids(strip("customer_id"))
    date = _date_checks(rej, cols, "date")
    quantity = None
    if "line_amount" in cols:
        value = _number_checks(rej, cols, "line_amount", decimal).to_numpy()
        if "quantity" in cols:
            quantity = _number_checks(rej, cols, "quantity", decimal, required=False).to_numpy()
            rej.add(quantity == 0, "quantity", "zero quantity")
        if "unit_price" in cols:
            price = _number_checks(rej, cols, "unit_price", decimal, required=False).to_numpy()
            rej.add(price == 0, "unit_price", "zero price")
            rej.add(price < 0, "unit_price", "negative price")
    else:
        quantity = _number_checks(rej, cols, "quantity", decimal).to_numpy()
        price = _number_checks(rej, cols, "unit_price", decimal).to_numpy()
        rej.add(quantity == 0, "quantity", "zero quantity")
        rej.add(price == 0, "unit_price", "zero price")
        rej.add(price < 0, "unit_price", "negative price")
        value = quantity * price
    returned = np.zeros(n, dtype=bool)
    if quantity is not None:
        returned |= np.nan_to_num(quantity) < 0
    if "status" in cols:
        returned |= _status_refund(cols)
    if "is_refund" in cols:
        returned |= _refund_flags(rej, cols).to_numpy()
    has_orders = "order_id" in cols
    if has_orders:
        order = _integral_ids(strip("order_id"))
        rej.add(cols.blank("order_id"), "order_id", "empty order_id")
        if cancel_prefix:
            returned |= order.str.startswith(cancel_prefix).to_numpy()
    else:
        order = pd.Series(lines.astype(str), index=cols.index, dtype="str")

    frame = pd.DataFrame(
        {
            "customer_id": customer.to_numpy(),
            "order_id": order.to_numpy(),
            "date": date.to_numpy(),
            "value": value,
            "refund": returned,
            "line": lines,
            "pos": np.arange(n),
        }
    )
    for opt in ("channel", "store"):
        if opt in cols:
            frame[opt] = strip(opt).to_numpy()
    if has_orders:
        ok = rej.ok
        sub = frame[ok]
        keys = [sub["order_id"], sub["refund"]]
        first_customer = sub.groupby(keys, sort=False)["customer_id"].transform("first")
        first_line = sub.groupby(keys, sort=False)["line"].transform("first")
        other = (sub["customer_id"] != first_customer).to_numpy()
        if other.any():
            mask = np.zeros(n, dtype=bool)
            mask[sub["pos"].to_numpy()[other]] = True
            reason = np.full(n, None, dtype=object)
            reason[sub["pos"].to_numpy()[other]] = [
                f"order with another customer (first at line {k})"
                for k in first_line.to_numpy()[other]
            ]
            rej._set(mask, "customer_id", reason)
    ok = rej.ok
    sub = frame[ok]
    if has_orders:
        grouped = sub.groupby(["order_id", "refund"], sort=False)
        orders = grouped.agg(
            customer_id=("customer_id", "first"),
            date=("date", "min"),
            amount=("value", "sum"),
            n_lines=("value", "size"),
            line=("line", "first"),
            **{opt: (opt, "first") for opt in ("channel", "store") if opt in sub},
        ).reset_index()
        bad = (orders["amount"] < 0) & ~orders["refund"]
        if bad.any():
            bad_keys = set(zip(orders.loc[bad, "order_id"], orders.loc[bad, "refund"], strict=True))
            in_bad = np.array(
                [(o, r) in bad_keys for o, r in zip(sub["order_id"], sub["refund"], strict=True)],
                dtype=bool,
            )
            mask = np.zeros(n, dtype=bool)
            mask[sub["pos"].to_numpy()[in_bad]] = True
            rej.add(mask, "order_id", "negative order total not marked as refund")
            orders = orders[~bad.to_numpy()]
    else:
        orders = sub.rename(columns={"value": "amount"}).assign(n_lines=1)
        bad = ((orders["amount"] < 0) & ~orders["refund"]).to_numpy()
        if bad.any():
            mask = np.zeros(n, dtype=bool)
            mask[orders["pos"].to_numpy()[bad]] = True
            rej.add(
                mask,
                "line_amount" if "line_amount" in cols else "quantity",
                "negative amount not marked as refund",
            )
            orders = orders[~bad]
    orders = orders.sort_values("line", kind="stable")
    amount = orders["amount"].to_numpy(dtype=np.float64)
    refund = orders["refund"].to_numpy(dtype=bool)
    amount = np.where(refund, -np.abs(amount), amount)
    out = pd.DataFrame(
        {
            "customer_id": orders["customer_id"].astype("str").to_numpy(),
            "date": orders["date"].to_numpy(dtype="datetime64[ns]"),
            "amount": amount,
            "is_refund": refund,
        }
    )
    if has_orders:
        out["order_id"] = orders["order_id"].astype("str").to_numpy()
    for opt in ("channel", "store"):
        if opt in orders:
            out[opt] = orders[opt].astype("str").to_numpy()
    out["n_lines"] = orders["n_lines"].to_numpy(dtype=np.int64)
    out["line"] = orders["line"].to_numpy(dtype=np.int64)
    for c in ("customer_id", "order_id", "channel", "store"):
        if c in out:
            out[c] = out[c].astype("str")
    return out
