"""Shared data of the CLV model tests: the CDNOW calibration summary and transactions, and the
BG/BB donations table."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from helpers import read_cdnow

DATA = Path(__file__).parents[1] / "data"
HERE = Path(__file__).parent / "data"


@pytest.fixture(scope="session")
def cdnow() -> pd.DataFrame:
    return pd.read_csv(DATA / "cdnow_summary.csv", comment="#")


@pytest.fixture(scope="session")
def cdnow_transactions() -> pd.DataFrame:
    return read_cdnow(DATA / "cdnow_sample.txt.gz")


@pytest.fixture(scope="session")
def donations() -> pd.DataFrame:
    return pd.read_csv(HERE / "donations.csv", comment="#")
