"""Excel loading: our loader (python-calamine + validation + lines → orders) vs pandas + openpyxl.

``python bench/excel.py [--lines 1000000] [--runs 3] [--openpyxl-runs N]`` writes a line-item
xlsx of the UCI Online Retail shape once (cached in ``$TMPDIR/loyalty-bench-excel/``; writing
1M lines with openpyxl's write-only mode takes a few minutes) and then, round by round, times:

* ``ours``: ``loyalty_lib.data.load_transactions(path)``, the whole load (read with calamine,
  check every line, group the lines into orders);
* ``calamine read``: ``pandas.read_excel(path, engine="calamine", dtype=str)``, reading alone;
* ``openpyxl read``: ``pandas.read_excel(path, engine="openpyxl", dtype=str)``, reading alone,
  what the loader did before issue #16.

Wall times are medians over the rounds, side by side in one run; the ratio is openpyxl read /
ours. openpyxl takes minutes per read of 1M lines, so ``--openpyxl-runs`` (default: ``--runs``)
can be lower; the printed table says how many runs each median has.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def _write(path: Path, n_lines: int, seed: int = 16) -> None:
    import datetime as dt

    import numpy as np
    from openpyxl import Workbook

    from loyalty_lib.samples import _UK_PRODUCTS, UK_HEADER

    rng = np.random.default_rng(seed)
    # ~2.5 lines per invoice, 100k customers, 5 % anonymous, 2 % cancellations
    invoice_of_line = np.cumsum(rng.random(n_lines) < 0.4) + 536365
    n_inv = int(invoice_of_line[-1] - 536365 + 1)
    customer = rng.integers(12346, 112346, n_inv).astype(float)
    customer[rng.random(n_inv) < 0.05] = np.nan
    cancelled = rng.random(n_inv) < 0.02
    start = dt.datetime(2024, 1, 1, 8, 0)
    minutes = np.sort(rng.integers(0, 2 * 365 * 24 * 60, n_inv))
    product = rng.integers(0, len(_UK_PRODUCTS), n_lines)
    qty = rng.integers(1, 13, n_lines)
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("Online Retail")
    ws.append(list(UK_HEADER))
    for i in range(n_lines):
        k = int(invoice_of_line[i] - 536365)
        code, name, price = _UK_PRODUCTS[int(product[i])]
        c = customer[k]
        ws.append(
            [
                f"C{invoice_of_line[i]}" if cancelled[k] else str(invoice_of_line[i]),
                code,
                name,
                -int(qty[i]) if cancelled[k] else int(qty[i]),
                start + dt.timedelta(minutes=int(minutes[k])),
                price,
                None if c != c else float(c),
                "United Kingdom",
            ]
        )
    tmp = path.with_suffix(".partial.xlsx")
    wb.save(tmp)
    tmp.replace(path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--openpyxl-runs", type=int, default=None)
    args = parser.parse_args()
    openpyxl_runs = args.runs if args.openpyxl_runs is None else args.openpyxl_runs

    import pandas as pd

    from loyalty_lib.data import load_transactions

    cache = Path(os.environ.get("TMPDIR", tempfile.gettempdir())) / "loyalty-bench-excel"
    cache.mkdir(parents=True, exist_ok=True)
    path = cache / f"lines_{args.lines}.xlsx"
    if not path.exists():
        t0 = time.perf_counter()
        _write(path, args.lines)
        print(f"wrote {path} in {time.perf_counter() - t0:.0f} s", flush=True)
    size_mb = path.stat().st_size / 1e6

    def ours() -> str:
        r = load_transactions(path)
        return f"{r.rows_read:,} lines → {r.n_orders:,} orders"

    def calamine() -> str:
        return f"{len(pd.read_excel(path, engine='calamine', dtype=str)):,} rows"

    def openpyxl() -> str:
        return f"{len(pd.read_excel(path, engine='openpyxl', dtype=str)):,} rows"

    steps = {"ours": ours, "calamine read": calamine, "openpyxl read": openpyxl}
    times: dict[str, list[float]] = {k: [] for k in steps}
    notes: dict[str, str] = {}
    for round_ in range(max(args.runs, openpyxl_runs)):
        for name, fn in steps.items():
            limit = openpyxl_runs if name == "openpyxl read" else args.runs
            if round_ >= limit:
                continue
            t0 = time.perf_counter()
            notes[name] = fn()
            times[name].append(time.perf_counter() - t0)
            print(f"round {round_ + 1} {name}: {times[name][-1]:.2f} s ({notes[name]})", flush=True)
    med = {k: statistics.median(v) for k, v in times.items()}
    load = os.getloadavg()[0]
    print()
    print(f"{args.lines:,}-line xlsx ({size_mb:.0f} MB), load average {load:.1f}:")
    print("| step | wall (median) | runs | ratio openpyxl read / step |")
    print("|---|---|---|---|")
    for k in steps:
        ratio = med["openpyxl read"] / med[k]
        print(f"| {k} ({notes[k]}) | {med[k]:.2f} s | {len(times[k])} | {ratio:.1f}× |")


if __name__ == "__main__":
    main()
