"""Line-item exports (issue #16): lines → orders, refunds, rejected lines with their reasons.

Every expected number is counted by hand from the text in tests/bad_files/make_corpus.py (the
lines are quoted in the comments), not from the loader.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from loyalty_lib.data import load_transactions

CORPUS = Path(__file__).resolve().parents[1] / "bad_files"


def _rejected(r) -> list[tuple[int, str, str, str]]:
    return list(
        r.rejected[["line", "column", "value", "reason"]].itertuples(index=False, name=None)
    )


def _orders(r) -> list[tuple]:
    cols = ["order_id", "customer_id", "amount", "is_refund", "n_lines", "line"]
    return [
        (o, c, round(a, 2), bool(f), int(n), int(ln))
        for o, c, a, f, n, ln in r.accepted[cols].itertuples(index=False, name=None)
    ]


def test_uci_invoices_become_orders() -> None:
    r = load_transactions(CORPUS / "lines_uci.csv")
    assert r.line_items
    # 12 lines: 7 accepted (lines 2-4, 6-8, 12), 5 rejected
    assert (r.rows_read, r.n_accepted, r.n_rejected, r.n_orders) == (12, 7, 5, 4)
    assert r.n_accepted + r.n_rejected == r.rows_read
    assert _orders(r) == [
        # 6 × 2.55 + 6 × 3.39 + 8 × 2.75 = 15.30 + 20.34 + 22.00
        ("536365", "17850", 57.64, False, 3, 2),
        # 32 × 1.69 + 6 × 2.10 = 54.08 + 12.60
        ("536367", "13047", 66.68, False, 2, 6),
        # cancellations: C prefix and negative quantity, -1 × 27.50 and -2 × 4.65
        ("C536379", "14527", -27.5, True, 1, 8),
        ("C536383", "13047", -9.3, True, 1, 12),
    ]
    assert r.accepted["date"].dt.strftime("%Y-%m-%d").tolist() == [
        "2010-12-01",
        "2010-12-01",
        "2010-12-01",
        "2010-12-02",
    ]
    assert _rejected(r) == [
        (5, "customer_id", "", "anonymous purchase (no customer id)"),
        (9, "unit_price", "0", "zero price"),
        (10, "unit_price", "-11062.06", "negative price"),
        (11, "quantity", "abc", "quantity not a number"),
        (13, "date", "12/32/2010 10:06", "unparseable date"),
    ]
    assert "12 lines → 4 orders" in str(r)
    assert r.to_dict()["n_orders"] == 4


def test_cancel_prefix_is_configurable() -> None:
    # With no prefix, C536379 (-1 × 27.50) is still a refund by its negative quantity;
    # the prefix alone decides nothing then, so the result is the same here.
    r = load_transactions(CORPUS / "lines_uci.csv", cancel_prefix="")
    assert [o[3] for o in _orders(r)] == [False, False, True, True]
    # A prefix that matches a sale makes it a refund: 536365 → -57.64
    r = load_transactions(CORPUS / "lines_uci.csv", cancel_prefix="53636")
    assert _orders(r)[0] == ("536365", "17850", -57.64, True, 3, 2)


def test_1c_receipts_line_amount_and_operation_type() -> None:
    r = load_transactions(CORPUS / "lines_1c_ru.csv")
    assert r.encoding == "cp1251" and r.decimal == ","
    assert (r.rows_read, r.n_accepted, r.n_rejected, r.n_orders) == (6, 4, 2, 3)
    assert _orders(r) == [
        # «Сумма со скидкой» is summed (170,00 + 45,00), not Количество × Цена (224,80)
        ("000123", "2000000012345", 215.0, False, 2, 2),
        ("000125", "2000000067890", 494.0, False, 1, 5),
        # «Возврат»
        ("000126", "2000000012345", -85.0, True, 1, 7),
    ]
    assert _rejected(r) == [
        (4, "customer_id", "", "anonymous purchase (no customer id)"),
        (6, "unit_price", "0,00", "zero price"),
    ]


def test_status_column_marks_returns_even_under_the_sale_number() -> None:
    r = load_transactions(CORPUS / "lines_status.csv")
    assert (r.rows_read, r.n_accepted, r.n_rejected, r.n_orders) == (5, 4, 1, 3)
    assert _orders(r) == [
        ("R1", "K1", 200.0, False, 2, 2),  # 1 × 100 + 2 × 50
        ("R1", "K1", -50.0, True, 1, 4),  # "Return" under the same receipt: its own refund row
        ("R2", "K2", -20.0, True, 1, 5),  # "Refund"
    ]
    assert _rejected(r) == [(6, "unit_price", "abc", "unit_price not a number")]
    assert r.accepted["amount"].sum() == pytest.approx(130.0)


def test_shopify_export_name_email_and_first_line_total_ignored() -> None:
    r = load_transactions(CORPUS / "lines_shopify.csv")
    assert r.column_map["order_id"] == "Name" and r.column_map["customer_id"] == "Email"
    assert "amount" not in r.column_map  # Total is on the first line only
    assert _orders(r) == [
        ("#1001", "ann@example.com", 40.0, False, 2, 2),  # 2 × 12.50 + 15.00
        ("#1002", "bob@example.com", -30.0, True, 1, 4),  # Financial Status "refunded"
        ("#1003", "ann@example.com", 12.0, False, 1, 5),
    ]
    assert r.n_rejected == 0


def test_woocommerce_item_rows() -> None:
    r = load_transactions(CORPUS / "lines_woocommerce.csv")
    assert r.column_map["order_id"] == "order_id"  # order_number is a second-rank header
    assert r.column_map["customer_id"] == "billing_email"
    assert _orders(r) == [
        ("4993", "c@example.com", 45.0, False, 2, 2),  # item_total 30.00 + 15.00
        ("4994", "d@example.com", -30.0, True, 1, 4),  # status "refunded"
    ]


def test_without_an_order_id_each_line_is_a_row() -> None:
    r = load_transactions(CORPUS / "lines_no_order.csv")
    assert "order_id" not in r.accepted.columns
    assert r.accepted["amount"].tolist() == [20.0, 5.0, -10.0]  # 2 × 10, 1 × 5, -1 × 10
    assert r.accepted["is_refund"].tolist() == [False, False, True]
    assert r.accepted["n_lines"].tolist() == [1, 1, 1]
    assert "one row per line" in str(r)


def test_float_ids_come_back_as_written() -> None:
    r = load_transactions(CORPUS / "tx_float_ids.csv")
    assert r.accepted["customer_id"].tolist() == ["17850", "13047", "17850"]
    # "2.5" is not a whole-number float: the column keeps its text as written
    assert r.accepted["order_id"].tolist() == ["1.0", "2.5", "3"]


def test_excel_numeric_ids_and_cancellation() -> None:
    # lines_typed.xlsx stores CustomerID as numbers (13607.0) with one gap
    r = load_transactions(CORPUS / "lines_typed.xlsx")
    assert _orders(r) == [
        ("540001", "13607", 17.0, False, 2, 2),  # 2 × 3.5 + 1 × 10
        ("C540003", "13607", -3.5, True, 1, 5),
    ]
    assert _rejected(r) == [(4, "customer_id", "", "anonymous purchase (no customer id)")]


def test_order_with_two_customers_and_negative_sale_total() -> None:
    df = pd.DataFrame(
        {
            "Invoice": ["1", "1", "2", "2"],
            "Customer": ["A", "B", "C", "C"],
            "Date": ["2025-01-01"] * 4,
            "Quantity": ["1", "1", "1", "-3"],
            "Price": ["10", "10", "5", "5"],
        }
    )
    r = load_transactions(df, cancel_prefix="")
    # order 2: lines 4 and 5 are sale lines? line 5 has quantity -3, so it is a return line
    # of its own (order 2, refund -15); line 4 stays a sale of 5.
    assert _orders(r) == [
        ("1", "A", 10.0, False, 1, 2),
        ("2", "C", 5.0, False, 1, 4),
        ("2", "C", -15.0, True, 1, 5),
    ]
    assert _rejected(r) == [
        (3, "customer_id", "B", "order with another customer (first at line 2)")
    ]
    # A line amount that makes a sale order negative without any return mark is rejected.
    df = pd.DataFrame(
        {
            "Invoice": ["9", "9"],
            "Customer": ["A", "A"],
            "Date": ["2025-01-01"] * 2,
            "Line total": ["10", "-30"],
        }
    )
    r = load_transactions(df)
    assert r.n_orders == 0
    assert [x[3] for x in _rejected(r)] == ["negative order total not marked as refund"] * 2
    assert r.n_accepted + r.n_rejected == r.rows_read == 2


def test_status_column_marks_refunds_in_a_table_of_orders() -> None:
    # One row per order (no quantity / price): «Тип операции» Возврат makes the row a refund;
    # without the status column the -40 would be rejected as an unmarked negative amount.
    df = pd.DataFrame(
        {
            "Клиент": ["A", "A", "B"],
            "Дата": ["01.03.2025", "02.03.2025", "02.03.2025"],
            "Сумма": ["100", "-40", "-5"],
            "Тип операции": ["Продажа", "Возврат", "Продажа"],
        }
    )
    r = load_transactions(df)
    assert not r.line_items
    assert r.accepted["is_refund"].tolist() == [False, True]
    assert r.accepted["amount"].tolist() == [100.0, -40.0]
    assert _rejected(r) == [(4, "amount", "-5", "negative amount not marked as refund")]


def test_excel_reader_is_calamine_with_openpyxl_as_fallback(monkeypatch) -> None:
    engines: list[str] = []
    real = pd.read_excel

    def spy(path, engine=None, **kw):
        engines.append(engine)
        if engine == "calamine" and len(engines) > 1:
            raise ValueError("calamine refused the file")
        return real(path, engine=engine, **kw)

    monkeypatch.setattr(pd, "read_excel", spy)
    first = load_transactions(CORPUS / "lines_typed.xlsx")
    second = load_transactions(CORPUS / "lines_typed.xlsx")  # calamine raises: openpyxl reads
    assert engines == ["calamine", "calamine", "openpyxl"]
    pd.testing.assert_frame_equal(first.accepted, second.accepted)
