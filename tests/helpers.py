"""Reference numbers and fixtures shared by several test files (import as ``from helpers import``).

Everything here is worked out independently of loyalty_lib: formulas written out from the paper,
or the textbook scenario whose results the tests check by hand.
"""

from __future__ import annotations

import math
from pathlib import Path

import nbformat
import pandas as pd

Z95 = 1.959963984540054  # two-sided 95 % normal quantile, Φ⁻¹(0.975)


def wilson_by_formula(k: int, n: int, z: float = Z95) -> tuple[float, float]:
    """Wilson (1927) score interval written out, a second method next to scipy's binomtest."""
    p = k / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return centre - half, centre + half


#: The points programme the simulator tests and the calculator widget start from (its defaults):
#: baseline revenue 10,000 members × 2,000 RUB × 6 purchases = 120e6 RUB a year.
PROGRAM_BASE: dict[str, float] = dict(
    members=10_000,
    avg_check=2_000.0,
    purchases_per_year=6.0,
    earn_rate=0.05,
    point_value=1.0,
    redemption_rate=0.6,
    member_uplift=0.15,
    gross_margin=0.4,
    fixed_costs=500_000.0,
)


def code_notebook(*sources: str) -> nbformat.NotebookNode:
    """A notebook of code cells on the course kernel (``python3``), for tests that run one."""
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nb.cells = [nbformat.v4.new_code_cell(source) for source in sources]
    return nb


def read_cdnow(path: Path) -> pd.DataFrame:
    """Fader & Hardie's CDNOW transaction file (whitespace-separated: master id, customer id,
    yyyymmdd date, quantity, amount) as canonical transactions, read with plain pandas."""
    raw = pd.read_csv(
        path,
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
