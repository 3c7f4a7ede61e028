"""The second example client, data/example_client_uk/: an English line-item Excel export.

The counts and the net amount are worked out from the raw cells with openpyxl, applying the
rules of loyalty_lib/data/orders.py by hand (not with our loader), and pinned as numbers.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from loyalty_lib import samples
from loyalty_lib.data import load_transactions

UK = Path(__file__).resolve().parents[2] / "data" / "example_client_uk"
XLSX = UK / "transactions.xlsx"

# Pinned from the independent count below (openpyxl cells), seed 11, 800 customers.
LINES, ACCEPTED_LINES, ORDERS, CUSTOMERS, NET = 10_980, 10_375, 4_165, 800, 290_782.98


def _cells() -> list[tuple]:
    from openpyxl import load_workbook

    wb = load_workbook(XLSX, read_only=True)
    rows = list(wb.worksheets[0].iter_rows(values_only=True))
    wb.close()
    assert rows[0] == samples.UK_HEADER
    return rows[1:]


def _number(v: object) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


@pytest.fixture(scope="module")
def independent() -> dict:
    body = _cells()
    # A line counts when it has a customer, a real date cell, a non-zero numeric quantity and a
    # positive numeric price; an order is (invoice, cancelled) where cancelled = "C" prefix or
    # negative quantity; its value is Σ quantity × price (negative for cancellations).
    good = [
        r
        for r in body
        if _number(r[6])
        and isinstance(r[4], dt.datetime)
        and _number(r[3])
        and r[3] != 0
        and _number(r[5])
        and r[5] > 0
    ]
    return {
        "lines": len(body),
        "accepted": len(good),
        "orders": len({(r[0], r[0].startswith("C") or r[3] < 0) for r in good}),
        "customers": len({int(r[6]) for r in good}),
        "net": sum(r[3] * r[5] for r in good),
        "anonymous": sum(1 for r in body if r[6] is None),
        "cancel_lines": sum(1 for r in good if r[0].startswith("C")),
    }


def test_independent_count_matches_the_pinned_numbers(independent: dict) -> None:
    assert independent["lines"] == LINES
    assert independent["accepted"] == ACCEPTED_LINES
    assert independent["orders"] == ORDERS
    assert independent["customers"] == CUSTOMERS
    assert independent["net"] == pytest.approx(NET, abs=0.005)
    assert independent["anonymous"] > 0 and independent["cancel_lines"] > 0


def test_loader_gives_lines_orders_customers_and_net(independent: dict) -> None:
    r = load_transactions(XLSX)
    assert (r.rows_read, r.n_accepted, r.n_orders) == (LINES, ACCEPTED_LINES, ORDERS)
    assert r.n_accepted + r.n_rejected == r.rows_read
    assert r.accepted["customer_id"].nunique() == CUSTOMERS
    assert r.accepted["amount"].sum() == pytest.approx(NET, abs=0.005)
    # ids as written in the shop's system, not Excel's floats
    assert r.accepted["customer_id"].str.fullmatch(r"\d{5}").all()
    refunds = r.accepted[r.accepted["is_refund"]]
    assert len(refunds) > 0 and (refunds["amount"] < 0).all()
    assert refunds["order_id"].str.startswith("C").all()
    # every rejected line is an anonymous purchase or one of the planted lines, with its reason
    _, planted = samples.uk_line_items()
    bad = r.rejected[~r.rejected["reason"].str.startswith("anonymous purchase")]
    assert list(bad[["line", "column", "value", "reason"]].itertuples(index=False, name=None)) == [
        (p.line, p.column, p.value, p.reason) for p in planted
    ]
    assert (r.rejected["reason"] == "anonymous purchase (no customer id)").sum() == independent[
        "anonymous"
    ]


def test_shipped_file_is_what_the_generator_writes() -> None:
    rows, _ = samples.uk_line_items()
    cells = _cells()
    assert len(cells) == len(rows)
    for got, want in zip(cells, rows, strict=True):
        assert list(got) == want


def test_readme_lists_every_planted_line() -> None:
    readme = (UK / "README.md").read_text(encoding="utf-8")
    _, planted = samples.uk_line_items()
    for p in planted:
        assert f"| {p.line} | {p.column} | `{p.value}` | {p.reason} |" in readme
    assert f"{LINES:,} lines → {ORDERS:,} orders of {CUSTOMERS:,} customers" in readme


@pytest.mark.notebooks
def test_report_runs_on_the_uk_export_without_a_mapping(tmp_path: Path) -> None:
    """`loyalty report` end to end (executes notebook 07, ~15 s): no mapping needed."""
    import json

    from click.testing import CliRunner

    from loyalty_lib.cli import main

    out = tmp_path / "uk"
    result = CliRunner().invoke(
        main,
        [
            "report",
            "--client",
            "UK gift shop",
            "--currency",
            "GBP",
            "--transactions",
            str(XLSX),
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    quality = summary["data_quality"]["transactions"]
    assert (quality["rows_read"], quality["n_accepted"]) == (LINES, ACCEPTED_LINES)
    assert summary["ltv"]["result"]["net_revenue"] == pytest.approx(NET, abs=0.005)
    assert summary["ltv"]["result"]["n_customers"] == CUSTOMERS
