"""Seeded synthetic benchmark data: 10M transactions of ~1M customers over two years, 100k NPS answers.

Files (in ``bench/data/``, git-ignored, reused when present with the same size and seed):

* ``tx_<N>.parquet`` and ``tx_<N>.csv`` — canonical transaction columns ``customer_id`` (``C`` +
  7 digits), ``date`` (ISO day, 2024-01-01 … 2025-12-31), ``amount`` (RUB, 2 decimals, refunds
  negative), ``is_refund`` (``true``/``false``), ``order_id`` (unique), rows in date order as a
  client export would be.
* ``survey_<N>.csv`` — ``respondent_id, customer_id, date, score, comment`` (scores 0–10, a third
  with a short comment).

Customers differ the way real ones do: purchase counts are 1 + multinomial over gamma-distributed
propensities (long tail: most buy a few times, some dozens), each customer's first purchase is
uniform over the two years and later ones uniform between it and the day the customer lapses
(exponential, mean one year, or the end of the window); spend per customer is lognormal. About 2 % of the non-first rows are refunds.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the harness imports this module for paths only: keep its memory small
    import numpy as np
    import pyarrow as pa

DATA = Path(__file__).resolve().parent / "data"
START = "2024-01-01"
DAYS = 731  # 2024 is a leap year: 2024-01-01 … 2025-12-31
OBSERVATION_END = "2025-12-31"
SEED = 20240101

COMMENTS = (
    "",
    "",
    "",
    "",
    "",
    "",
    "Хороший магазин",
    "Долгая доставка",
    "Дорого",
    "Great service",
    "Широкий ассортимент",
    "Приветливые продавцы",
    "Не было нужного размера",
    "Всё понравилось, спасибо!",
)


def _ids(prefix: str, numbers: np.ndarray, width: int) -> pa.Array:
    import pyarrow as pa
    import pyarrow.compute as pc

    text = pc.utf8_lpad(pc.cast(pa.array(numbers), pa.string()), width=width, padding="0")
    return pc.binary_join_element_wise(pa.scalar(prefix), text, "")


def transactions(n_rows: int, n_customers: int, seed: int = SEED) -> pa.Table:
    """``n_rows`` transactions of ``n_customers`` customers (every customer buys at least once)."""
    import numpy as np
    import pyarrow as pa

    rng = np.random.default_rng(seed)
    propensity = rng.gamma(0.7, 1.0, n_customers)
    counts = 1 + rng.multinomial(n_rows - n_customers, propensity / propensity.sum())
    owner = np.repeat(np.arange(n_customers), counts)
    first_row = np.zeros(n_rows, dtype=bool)
    first_row[np.concatenate(([0], np.cumsum(counts)[:-1]))] = True
    first_day = rng.integers(0, DAYS, n_customers)
    # Customers lapse: later purchases are uniform between the first purchase and the day the
    # customer stops buying (exponential, mean one year) or the end of the window.
    last_day = np.minimum(
        first_day + rng.exponential(365.0, n_customers).astype(np.int64), DAYS - 1
    )
    span = (last_day - first_day + 1)[owner]
    day = np.where(
        first_row,
        first_day[owner],
        first_day[owner] + np.floor(rng.random(n_rows) * span).astype(np.int64),
    )
    mean_spend = rng.lognormal(np.log(2500), 0.6, n_customers)
    amount = np.round(mean_spend[owner] * rng.lognormal(-0.08, 0.4, n_rows), 2)
    refund = ~first_row & (rng.random(n_rows) < 0.02)
    amount = np.where(refund, -amount, amount)
    order = np.argsort(day, kind="stable")  # a client export comes in date order
    owner, day, amount, refund = owner[order], day[order], amount[order], refund[order]
    return pa.table(
        {
            "customer_id": _ids("C", owner + 1, 7),
            "date": pa.array(
                (np.datetime64(START) + day.astype("timedelta64[D]")).astype("datetime64[D]"),
                pa.date32(),
            ),
            "amount": pa.array(amount, pa.float64()),
            "is_refund": pa.array(refund),
            "order_id": _ids("O", np.arange(1, n_rows + 1), 9),
        }
    )


def survey(n_rows: int, n_customers: int, seed: int = SEED + 1) -> pa.Table:
    """``n_rows`` NPS answers from randomly chosen customers over the same two years."""
    import numpy as np
    import pyarrow as pa

    rng = np.random.default_rng(seed)
    score = rng.choice(11, n_rows, p=np.array([2, 1, 1, 2, 2, 4, 6, 10, 18, 24, 30]) / 100)
    day = np.sort(rng.integers(0, DAYS, n_rows))
    return pa.table(
        {
            "respondent_id": _ids("R", np.arange(1, n_rows + 1), 7),
            "customer_id": _ids("C", rng.integers(1, n_customers + 1, n_rows), 7),
            "date": pa.array(
                (np.datetime64(START) + day.astype("timedelta64[D]")).astype("datetime64[D]"),
                pa.date32(),
            ),
            "score": pa.array(score, pa.int64()),
            "comment": pa.array(
                np.array(COMMENTS, dtype=object)[rng.integers(0, len(COMMENTS), n_rows)].tolist(),
                pa.string(),
            ),
        }
    )


def _write_csv(table: pa.Table, path: Path, quoting: str = "needed") -> None:
    import pyarrow.csv as pacsv

    # Transactions unquoted, like the shipped samples and most client exports; the survey's
    # comments contain commas, so it quotes its text fields.
    tmp = path.with_suffix(".tmp")
    pacsv.write_csv(table, tmp, pacsv.WriteOptions(quoting_style=quoting))
    tmp.replace(path)


def sizes(n_rows: int) -> tuple[int, int]:
    """Customers and survey answers that go with ``n_rows`` transactions (10M → 1M, 100k)."""
    return max(1, n_rows // 10), min(100_000, max(100, n_rows // 100))


def paths_for(n_rows: int) -> dict[str, Path]:
    return {
        "parquet": DATA / f"tx_{n_rows}.parquet",
        "csv": DATA / f"tx_{n_rows}.csv",
        "survey": DATA / f"survey_{sizes(n_rows)[1]}.csv",
        "manifest": DATA / f"manifest_{n_rows}.json",
    }


def ensure(n_rows: int = 10_000_000, seed: int = SEED, echo=print) -> dict[str, Path]:  # noqa: ANN001
    """Write the files unless ``bench/data/manifest_<n_rows>.json`` says they exist already."""
    import pyarrow.parquet as pq

    DATA.mkdir(parents=True, exist_ok=True)
    n_customers, n_survey = sizes(n_rows)
    paths = paths_for(n_rows)
    manifest = paths.pop("manifest")
    want = {"n_rows": n_rows, "n_customers": n_customers, "n_survey": n_survey, "seed": seed}
    if (
        manifest.is_file()
        and all(p.is_file() for p in paths.values())
        and json.loads(manifest.read_text())["params"] == want
    ):
        echo(f"reusing data in {DATA} ({n_rows:,} transactions)")
        return paths
    started = time.perf_counter()
    table = transactions(n_rows, n_customers, seed)
    pq.write_table(table, paths["parquet"])
    _write_csv(table, paths["csv"], quoting="none")
    import pyarrow.compute as pc

    n_buyers = pc.count_distinct(table["customer_id"]).as_py()
    _write_csv(survey(n_survey, n_customers, seed + 1), paths["survey"])
    manifest.write_text(
        json.dumps(
            {
                "params": want,
                "customers_with_purchases": n_buyers,
                "bytes": {k: p.stat().st_size for k, p in paths.items()},
            },
            indent=2,
        )
    )
    echo(
        f"generated {n_rows:,} transactions of {n_buyers:,} customers + {n_survey:,} survey answers "
        f"in {time.perf_counter() - started:.0f} s → {DATA}"
    )
    return paths


if __name__ == "__main__":
    ensure(int(sys.argv[1]) if len(sys.argv) > 1 else 10_000_000)
