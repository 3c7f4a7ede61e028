"""Shared data of the CLV model tests: the CDNOW calibration summary and transactions, and the
BG/BB donations table."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

DATA = Path(__file__).parents[1] / "data"
HERE = Path(__file__).parent / "data"


@pytest.fixture(scope="session")
def cdnow() -> pd.DataFrame:
    return pd.read_csv(DATA / "cdnow_summary.csv", comment="#")


@pytest.fixture(scope="session")
def cdnow_transactions() -> pd.DataFrame:
    raw = pd.read_csv(
        DATA / "cdnow_sample.txt.gz",
        sep=r"\s+",
        header=None,
        names=["master_id", "customer_id", "date", "quantity", "amount"],
        dtype={"master_id": str, "customer_id": str, "date": str},
    )
    return pd.DataFrame(
        {
            "customer_id": raw["customer_id"],
            "date": pd.to_datetime(raw["date"], format="%Y%m%d"),
            "amount": raw["amount"].astype(float),
            "is_refund": False,
        }
    )


@pytest.fixture(scope="session")
def donations() -> pd.DataFrame:
    return pd.read_csv(HERE / "donations.csv", comment="#")
