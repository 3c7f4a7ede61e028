"""Invariants of line-item loading on random tables (Hypothesis).

The expected totals are recomputed here from the generated cells by the documented rules
(loyalty_lib/data/orders.py), not by the loader.
"""

from __future__ import annotations

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from loyalty_lib.data import load_transactions

line = st.tuples(
    st.sampled_from(["1", "2", "3", "C4", ""]),  # order id ("" = missing)
    st.sampled_from(["A", "B", ""]),  # customer ("" = anonymous)
    st.integers(-3, 5),  # quantity
    st.sampled_from([0.0, 1.5, 2.0, 10.0, -1.0]),  # unit price
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(line, min_size=1, max_size=25))
def test_lines_accepted_plus_rejected_and_amounts(lines: list[tuple]) -> None:
    df = pd.DataFrame(
        {
            "Invoice": [o for o, _, _, _ in lines],
            "Customer": [c for _, c, _, _ in lines],
            "Date": ["2025-01-01"] * len(lines),
            "Quantity": [str(q) for _, _, q, _ in lines],
            "Price": [str(p) for _, _, _, p in lines],
        }
    )
    r = load_transactions(df)
    assert r.n_accepted + r.n_rejected == r.rows_read == len(lines)
    assert r.rejected["line"].is_unique
    # by hand: a line passes when it has a customer, quantity != 0, price > 0 and an order id
    passed = [(o, c, q, p) for o, c, q, p in lines if c and q != 0 and p > 0 and o]
    # the first customer of each (order, return) group keeps it; other customers are rejected
    first: dict[tuple, str] = {}
    kept = []
    for o, c, q, p in passed:
        key = (o, o.startswith("C") or q < 0)
        first.setdefault(key, c)
        if first[key] == c:
            kept.append((key, q * p))
    totals: dict[tuple, float] = {}
    for key, value in kept:
        totals[key] = totals.get(key, 0.0) + value
    # sale orders with a negative total are rejected; refunds are -|total|
    expected = sorted(
        round(-abs(v) if refund else v, 6) for (o, refund), v in totals.items() if refund or v >= 0
    )
    assert sorted(round(a, 6) for a in r.accepted["amount"]) == expected
    assert r.n_orders == len(expected)
    assert (r.accepted["amount"][r.accepted["is_refund"]] <= 0).all()
