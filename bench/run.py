"""The benchmark harness behind ``make bench``: data, every comparison, ``bench/RESULTS.md``.

Each measurement runs in a fresh subprocess (``bench/measure.py TASK`` or a ``loyalty`` command);
this process records its wall time and peak memory two ways: ``ru_maxrss`` of the child from
``os.wait4`` (the largest single process of its tree, exact) and the sampled sum of RSS over the
whole process tree every 50 ms (catches a notebook kernel or a JVM running beside the driver).
The larger of the two is the reported peak. Repeats are interleaved (round 1 of every step, then
round 2, ...) so a burst of load on a shared machine hits every step alike; medians are reported.

Raw numbers go to ``bench/data/results_<rows>.json``. When it exists, the steps measured now
replace the same-named steps in it and every other step is kept, so ``--only a,b`` updates part
of the file and RESULTS.md still shows every section (and which run measured which steps);
``--fresh`` starts the file from empty. Ratios pair rounds only between steps of the same run.

    python bench/run.py                 # everything, 3 rounds, 10M rows (40+ min on 2 cores)
    python bench/run.py --rows 100000 --repeats 1 --out /tmp/RESULTS.md   # smoke run
    python bench/run.py --only bgnbd_ours_days,bgnbd_lifetimes_days   # merged into the last run
    python bench/run.py --fresh         # everything, discarding the earlier results file
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(BENCH))

import gen_data  # noqa: E402 - bench/ is not a package

GB = 1024**3
LONG_RUN_S = 300  # a step slower than this on its first round is run once, not every round


@dataclass
class Step:
    name: str
    argv: list[str]
    what: str
    repeat: bool = True
    timeout: int = 1200
    runs: list[dict[str, Any]] = field(default_factory=list)
    error: str | None = None
    session: str = ""  # start of the run.py invocation that measured it (ISO, to the second)

    # -- aggregates over the successful runs ------------------------------------------------
    def ok(self) -> list[dict[str, Any]]:
        return [r for r in self.runs if r.get("returncode") == 0]

    def median(self, key: str = "seconds") -> float | None:
        values = [r.get(key, r["result"].get(key)) for r in self.ok()]
        values = [v for v in values if v is not None]
        return statistics.median(values) if values else None

    def peak(self) -> float | None:
        values = [r["peak_bytes"] for r in self.ok()]
        return max(values) if values else None

    def result(self, key: str) -> Any:
        for r in self.ok():
            if key in r.get("result", {}):
                return r["result"][key]
        return None


# ---------------------------------------------------------------------------------------------
# running one measurement
# ---------------------------------------------------------------------------------------------
def _tree_rss(pid: int) -> int:
    import psutil

    try:
        proc = psutil.Process(pid)
        total = proc.memory_info().rss
        for child in proc.children(recursive=True):
            with contextlib.suppress(psutil.Error):  # a child may exit between the two calls
                total += child.memory_info().rss
        return total
    except psutil.Error:
        return 0


def run_once(step: Step, log_dir: Path, round_no: int, env: dict[str, str]) -> dict[str, Any]:
    log = log_dir / f"{step.name}.{round_no}.log"
    load_before = os.getloadavg()[0]
    started = time.perf_counter()
    with open(log, "w") as out:
        proc = subprocess.Popen(
            step.argv,
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=ROOT,
            env=env,
            start_new_session=True,
        )
        peak_tree, stop = [0], threading.Event()

        def sample() -> None:
            while not stop.is_set():
                peak_tree[0] = max(peak_tree[0], _tree_rss(proc.pid))
                stop.wait(0.05)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        timer = threading.Timer(step.timeout, lambda: os.killpg(proc.pid, 9))
        timer.start()
        # wait4, not proc.wait(): it returns this child's own rusage (ru_maxrss in KiB on Linux,
        # the largest of the child and the descendants it waited for).
        _, status, usage = os.wait4(proc.pid, 0)
        timer.cancel()
        stop.set()
        sampler.join()
    wall = time.perf_counter() - started
    returncode = os.waitstatus_to_exitcode(status)
    proc.returncode = returncode
    text = log.read_text(errors="replace")
    result: dict[str, Any] = {}
    for line in text.splitlines():
        if line.startswith("BENCH-RESULT "):
            result = json.loads(line[len("BENCH-RESULT ") :])
    maxrss = usage.ru_maxrss * 1024
    run = {
        "round": round_no,
        "returncode": returncode,
        "wall": wall,
        "seconds": result.get("seconds", wall),
        "cpu_seconds": result.get("cpu_seconds"),
        "maxrss_bytes": maxrss,
        "tree_peak_bytes": peak_tree[0],
        "peak_bytes": max(maxrss, peak_tree[0]),
        "load_before": load_before,
        "result": result,
        "log": str(log.relative_to(ROOT)),
    }
    if returncode != 0:
        tail = "\n".join(text.strip().splitlines()[-8:])
        run["error"] = f"exit {returncode}" + (
            " (killed at the time limit)" if returncode == -9 else ""
        )
        run["tail"] = tail
    return run


# ---------------------------------------------------------------------------------------------
# the plan
# ---------------------------------------------------------------------------------------------
def plan(paths: dict[str, Path], tmp: Path) -> list[Step]:
    py = sys.executable
    loyalty = str(Path(sys.executable).with_name("loyalty"))
    m = str(BENCH / "measure.py")
    pq, csv = str(paths["parquet"]), str(paths["csv"])
    bg = {k: str(paths[f"bgnbd_{k}"]) for k in ("simulated", "days")}

    def duckdb_steps(fmt: str, path: str, label: str) -> list[Step]:
        """customer_summary and the hand-written SQL on one file, in both orders modes."""
        steps = []
        for sfx, args, note in (("", [], ""), ("_rows", ["rows"], ", orders as rows,")):
            steps += [
                Step(
                    f"summary_duckdb_{fmt}{sfx}",
                    [py, m, "summary_duckdb", path, *args],
                    f"customer_summary (DuckDB){note} on {label}",
                ),
                Step(
                    f"sql_duckdb_{fmt}{sfx}",
                    [py, m, "sql_duckdb", path, *args],
                    f"hand-written DuckDB SQL{note} on {label}",
                ),
            ]
        return steps

    return [
        *duckdb_steps("parquet", pq, "the Parquet file"),
        *duckdb_steps("csv", csv, "the CSV file"),
        Step(
            "summary_pandas",
            [py, m, "summary_pandas", pq],
            "customer_summary(engine='pandas') on a frame in memory",
        ),
        Step(
            "summary_pandas_rows",
            [py, m, "summary_pandas", pq, "rows"],
            "customer_summary(engine='pandas'), orders as rows, on a frame in memory",
        ),
        Step(
            "summary_lifetimes",
            [py, m, "summary_lifetimes", pq],
            "lifetimes summary_data_from_transaction_data on a frame in memory",
        ),
        Step(
            "read_csv_pandas",
            [py, m, "read_csv_pandas", csv],
            "pandas.read_csv of the CSV file (dates parsed, ids as text)",
        ),
        Step(
            "summary_spark",
            [py, m, "summary_spark", pq],
            "customer_summary(engine='spark'), local[2]",
        ),
        Step(
            "bgnbd_ours_simulated",
            [py, m, "bgnbd_ours", bg["simulated"]],
            "BetaGeo.fit, 1M simulated customers",
        ),
        Step(
            "bgnbd_lifetimes_simulated",
            [py, m, "bgnbd_lifetimes", bg["simulated"]],
            "lifetimes BetaGeoFitter.fit, same data",
        ),
        Step(
            "bgnbd_ours_days",
            [py, m, "bgnbd_ours", bg["days"]],
            "BetaGeo.fit, 1M simulated customers in whole days",
        ),
        Step(
            "bgnbd_lifetimes_days",
            [py, m, "bgnbd_lifetimes", bg["days"]],
            "lifetimes BetaGeoFitter.fit, same data",
        ),
        Step(
            "load_transactions_csv",
            [py, m, "load_transactions", csv],
            "data.load_transactions on the CSV (read + validate)",
        ),
        Step(
            "report",
            [
                loyalty,
                "report",
                "--client",
                "Bench",
                "--out",
                str(tmp / "report"),
                "--transactions",
                pq,
                "--survey",
                str(paths["survey"]),
                "--force",
            ],
            "loyalty report, transactions (Parquet) + survey (CSV)",
        ),
        Step(
            "course",
            [loyalty, "run", "--out", str(tmp / "course")],
            "loyalty run (every lesson on the samples)",
        ),
    ]


# ---------------------------------------------------------------------------------------------
# RESULTS.md
# ---------------------------------------------------------------------------------------------
def _s(x: float | None) -> str:
    return "—" if x is None else f"{x:.1f} s" if x >= 10 else f"{x:.2f} s"


def _gb(x: float | None) -> str:
    return "—" if x is None else f"{x / GB:.2f} GB"


def _ratio(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None or b == 0 else a / b


def _verdict(ok: bool | None) -> str:
    return "not measured" if ok is None else "**PASS**" if ok else "**FAIL**"


def _count(n: int) -> str:
    """10_000_000 → '10M', 100_000 → '100k' (titles)."""
    for size, unit in ((10**6, "M"), (10**3, "k")):
        if n >= size and n % size == 0:
            return f"{n // size}{unit}"
    return f"{n:,}"


def _minutes(m: float | None) -> str:
    return "? min" if m is None else "< 1 min" if m < 1 else f"{m:.0f} min"


# Section 1's steps, in table order (customer_summary and hand SQL per format and orders mode).
SUMMARY_STEPS = (
    "summary_duckdb_parquet",
    "sql_duckdb_parquet",
    "summary_duckdb_parquet_rows",
    "sql_duckdb_parquet_rows",
    "summary_duckdb_csv",
    "sql_duckdb_csv",
    "summary_duckdb_csv_rows",
    "sql_duckdb_csv_rows",
    "summary_pandas",
    "summary_pandas_rows",
    "summary_lifetimes",
    "read_csv_pandas",
)


def _provenance(steps: dict[str, Step], info: dict[str, Any]) -> list[str]:
    """Which run measured which steps: one sentence for one run, a list after merged runs."""
    default = info.get("session") or info["date"]
    sessions = info.get("sessions") or {
        default: {"date": info["date"], "repeats": info["repeats"], "minutes": info["minutes"]}
    }
    used: dict[str, list[str]] = {}
    for st in steps.values():
        used.setdefault(st.session or default, []).append(st.name)
    data = f"{info['rows']:,} transactions of {info['customers']:,} customers"

    def run_of(key: str) -> dict[str, Any]:
        return sessions.get(key, {"date": key[:10], "repeats": "?", "minutes": None})

    if len(used) <= 1:
        run = run_of(next(iter(used), default))
        return [
            f"Generated by `make bench` (`bench/run.py`) on {run['date']}; {data}, "
            f"{run['repeats']} interleaved round(s), total {_minutes(run['minutes'])}."
        ]
    dates = [run_of(k)["date"] for k in used]
    out = [
        f"Generated by `make bench` (`bench/run.py`) from {len(used)} runs merged in "
        f"`results_{info['rows']}.json`; {data}. Each step comes from one run (the later run "
        "replaced the steps it measured):",
        "",
    ]
    for key in sorted(used):
        run = run_of(key)
        when = run["date"] if dates.count(run["date"]) == 1 else key.replace("T", " ")[:16]
        loads = [r["load_before"] for n in used[key] for r in steps[n].runs]
        load = (
            f", load median {statistics.median(loads):.1f}, max {max(loads):.1f}" if loads else ""
        )
        out.append(
            f"- {when} ({run['repeats']} round(s), {_minutes(run['minutes'])}{load}): "
            + ", ".join(used[key])
        )
    return [*out, ""]


def machine() -> list[str]:
    def version(pkg: str) -> str:
        try:
            return metadata.version(pkg)
        except metadata.PackageNotFoundError:
            return "—"

    lifetimes = "—"
    dist = list((BENCH / ".venv" / "lifetimes").glob("[Ll]ifetimes-*.dist-info"))
    if dist:
        lifetimes = dist[0].name.removesuffix(".dist-info").split("-")[1]
    cpu = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    try:
        java = subprocess.run(
            ["java", "-version"], capture_output=True, text=True
        ).stderr.splitlines()[0]
    except (OSError, IndexError):
        java = "—"
    pkgs = [
        "loyalty-workbook",
        "pandas",
        "numpy",
        "scipy",
        "pyarrow",
        "duckdb",
        "pyspark",
        "sqlglot",
        "papermill",
        "nbconvert",
    ]
    return [
        f"- CPU: {os.cpu_count()} × {cpu}; RAM {mem / GB:.1f} GB; {platform.platform()}",
        f"- Python {platform.python_version()}; "
        + ", ".join(f"{p} {version(p)}" for p in pkgs)
        + f"; lifetimes {lifetimes} (bench-only install, `bench/.venv/lifetimes`); {java}",
    ]


def write_results(
    steps: dict[str, Step], out: Path, info: dict[str, Any]
) -> dict[str, bool | None]:
    S = steps
    verdicts: dict[str, bool | None] = {}
    lines = [
        "# Benchmark results",
        "",
        *_provenance(S, info),
        "Wall times are medians over rounds; each measurement is a fresh process; peak memory is the max "
        "over rounds of max(ru_maxrss, sampled RSS of the process tree). CPU time is the measured "
        "process's user+system time over the same span (threads summed).",
        "",
        "## Machine",
        "",
        *machine(),
    ]
    loads = [r["load_before"] for st in S.values() for r in st.runs]
    lines += [
        f"- Load average (1 min) when the steps started: median "
        f"{statistics.median(loads) if loads else 0.0:.1f}, max {max(loads, default=0.0):.1f} — "
        f"other jobs shared this {os.cpu_count()}-core machine, so wall times carry noise; CPU "
        "times are steadier. Ratios compare steps of the same rounds of the same run.",
        "",
    ]

    def row(name: str) -> str:
        st = S.get(name)
        if st is None:
            return f"| {name} | not run | | | |"
        if not st.ok():
            err = st.error or (st.runs[-1].get("error") if st.runs else "not run")
            return f"| {st.what} | failed: {err} | | | |"
        return (
            f"| {st.what} | {_s(st.median())} | {_s(st.median('cpu_seconds'))} | {_gb(st.peak())} | "
            f"{len(st.ok())} |"
        )

    def median(name: str, key: str = "seconds") -> float | None:
        st = S.get(name)
        return st.median(key) if st else None

    def peak(name: str) -> float | None:
        st = S.get(name)
        return st.peak() if st else None

    # -- 1. customer summary ------------------------------------------------------------------
    modes = (("distinct", ""), ("rows", "_rows"))  # customer_summary(orders=...), step suffix
    lines += [
        f"## 1. Per-customer summary on {_count(info['rows'])} transactions",
        "",
        "Orders: `distinct` counts distinct `order_id` per customer (the default; an order may span "
        'item rows), `rows` counts purchase rows (`orders="rows"`; the same number when each row '
        "is one order, as the data layer guarantees, and it skips the dearest aggregation).",
        "",
        "| step | wall (median) | CPU | peak memory | runs |",
        "|---|---|---|---|---|",
    ]
    lines += [row(n) for n in SUMMARY_STEPS]
    readers = [
        S[n]
        for n in ("summary_pandas", "summary_pandas_rows", "summary_lifetimes")
        if n in S and S[n].ok() and S[n].median("load_seconds")
    ]
    if readers:
        lines += [
            "",
            "Reading the Parquet file into pandas, before the timed call of the steps on a frame "
            'in memory (not in their times above; added for the ratios "from the file" below):',
            "",
            *(
                f"- {st.what}: {_s(st.median('load_seconds'))} wall, "
                f"{_s(st.median('load_cpu_seconds'))} CPU"
                for st in readers
            ),
        ]
    ls = S.get("summary_lifetimes")
    if ls and not ls.repeat:
        lines.append(f"\nlifetimes took over {LONG_RUN_S} s on its first round, so it ran once.")

    def per_round(name: str, keys: tuple[str, ...]) -> dict[int, float]:
        """Round → sum of ``keys`` of that round's run (a round lacking one of them is left out)."""
        out = {}
        for r in S[name].ok():
            vals = [r.get(k, r["result"].get(k)) for k in keys]
            if all(v is not None for v in vals):
                out[r["round"]] = sum(vals)
        return out

    def paired(
        a: str,
        b: str,
        key: str = "seconds",
        plus: str | None = None,
        plus_step: str | None = None,
    ) -> tuple[float | None, bool]:
        """(a/b, paired): the median over rounds of a/b, both measured in the same round of the
        same run (load changes between rounds cancel out); else the ratio of medians (paired
        False). ``plus``: a further key added to a's value (its reading of the file);
        ``plus_step``: instead, the same key of another step's run of the same round (reading
        the CSV, measured on its own)."""
        if a not in S or b not in S or (plus_step and plus_step not in S):
            return None, True
        ra = per_round(a, (key, plus) if plus else (key,))
        if plus_step:
            extra = per_round(plus_step, (key,))
            ra = {k: v + extra[k] for k, v in ra.items() if k in extra}
        rb = per_round(b, (key,))
        same_run = S[a].session == S[b].session
        if plus_step:
            same_run = same_run and S[plus_step].session == S[b].session
        if same_run:
            both = [ra[k] / rb[k] for k in ra if k in rb and ra[k] and rb[k]]
            if both:
                return statistics.median(both), True
        med = lambda d: statistics.median(d.values()) if d else None  # noqa: E731
        return _ratio(med(ra), med(rb)), False

    unpaired = [False]

    def times(ratio: tuple[float | None, bool]) -> str:
        r, is_paired = ratio
        if r is None:
            return "—"
        unpaired[0] |= not is_paired
        return f"{r:.2f} ×" + ("" if is_paired else " †")

    # ≤ 1.2 × the hand-written SQL of the same orders mode
    lines += [
        "",
        "Ratios are medians of the per-round ratios (the two steps ran one after the other in each "
        "round); the CPU-time ratio is given beside the wall-time one.",
        "",
        "| target | orders | wall-time ratio | CPU-time ratio | verdict |",
        "|---|---|---|---|---|",
    ]
    for fmt in ("parquet", "csv"):
        for mode, sfx in modes:
            lib, sql = f"summary_duckdb_{fmt}{sfx}", f"sql_duckdb_{fmt}{sfx}"
            r = paired(lib, sql)
            key = f"summary_vs_sql_{fmt}{sfx}"
            verdicts[key] = None if r[0] is None else r[0] <= 1.2
            lines.append(
                f"| {fmt}: customer_summary ≤ 1.2 × hand-written SQL | {mode} | {times(r)} | "
                f"{times(paired(lib, sql, 'cpu_seconds'))} | {_verdict(verdicts[key])} |"
            )

    # ≥ 5 × faster than the pandas engine (same orders mode) and lifetimes (no orders at all)
    lines += [
        "",
        "| target | orders | wall, from the file | wall, frame in memory | CPU, from the file | "
        "CPU, frame in memory | verdict |",
        "|---|---|---|---|---|---|---|",
    ]
    for fmt in ("parquet", "csv"):
        for mode, sfx in modes:
            lib = f"summary_duckdb_{fmt}{sfx}"
            for ref, vkey, label in (
                (f"summary_pandas{sfx}", "summary_pandas", "pandas groupby (engine='pandas')"),
                ("summary_lifetimes", "summary_lifetimes", "lifetimes"),
            ):
                # from the file: the competitor reads the same file as customer_summary did
                if fmt == "csv":
                    from_file = paired(ref, lib, plus_step="read_csv_pandas")
                    cpu_file = paired(ref, lib, "cpu_seconds", plus_step="read_csv_pandas")
                else:
                    from_file = paired(ref, lib, plus="load_seconds")
                    cpu_file = paired(ref, lib, "cpu_seconds", plus="load_cpu_seconds")
                key = f"summary_{fmt}_vs_{vkey}{sfx}"
                verdicts[key] = None if from_file[0] is None else from_file[0] >= 5
                lines.append(
                    f"| {fmt}: ≥ 5 × faster than {label} | {mode} | {times(from_file)} | "
                    f"{times(paired(ref, lib))} | "
                    f"{times(cpu_file)} | "
                    f"{times(paired(ref, lib, 'cpu_seconds'))} | {_verdict(verdicts[key])} |"
                )
    if unpaired[0]:
        lines += [
            "",
            "† Ratio of the two medians: the steps were not measured in the same rounds of one "
            "run (see the runs at the top), so the load of the moment does not cancel out.",
        ]
    lines += [
        "",
        "Verdicts use the ratio **from the file**: customer_summary starts from the file and its "
        "time includes reading it, so the competitor's time includes reading the same file into "
        "pandas too: its compute time + the Parquet reading time listed above on the Parquet "
        "lines, + `pandas.read_csv` of the CSV (step `read_csv_pandas`, same round) on the CSV "
        "lines. **Frame in memory** is the competitor's compute time alone, with the data "
        "already in pandas. The pandas "
        "engine runs with the same orders mode; lifetimes computes no orders at all, so the same "
        "lifetimes measurement faces both modes.",
    ]

    # peak memory of every customer_summary variant
    lines += [
        "",
        "| target | orders | peak memory | verdict |",
        "|---|---|---|---|",
    ]
    for fmt in ("parquet", "csv"):
        for mode, sfx in modes:
            pk = peak(f"summary_duckdb_{fmt}{sfx}")
            key = f"summary_{fmt}_memory{sfx}"
            verdicts[key] = None if pk is None else pk <= 1.2 * GB
            lines.append(
                f"| {fmt}: customer_summary peak memory ≤ 1.2 GB | {mode} | {_gb(pk)} | "
                f"{_verdict(verdicts[key])} |"
            )

    # same answer: each step against customer_summary (DuckDB, Parquet) of its orders mode
    checks = {n: S[n].result("check") for n in (*SUMMARY_STEPS, "summary_spark") if n in S}
    checks = {n: c for n, c in checks.items() if c}

    def mode_of(name: str) -> str:
        return "rows" if name.endswith("_rows") else "distinct"

    refs = {
        mode: f"summary_duckdb_parquet{sfx}"
        if f"summary_duckdb_parquet{sfx}" in checks
        else next((n for n in checks if mode_of(n) == mode), None)
        for mode, sfx in modes
    }

    def agree(a: dict[str, Any], b: dict[str, Any]) -> bool:
        """Equal on every sum both report (lifetimes and older runs report no orders)."""
        return all(a[k] == b[k] for k in a.keys() & b.keys())

    same, differ = [], []
    for n, c in checks.items():
        ref = refs[mode_of(n)]
        (same if agree(c, checks[ref]) else differ).append((n, ref))
    if same or differ:
        lines += [
            "",
            "Same answer (customers and the column sums of frequency, recency, T, monetary, and "
            "orders where the step reports it — lifetimes does not), each step against "
            + " / ".join(f"`{refs[m]}`" for m, _ in modes if refs[m])
            + " of its orders mode: "
            + (", ".join(n for n, _ in same) or "none")
            + "."
            + (f" Different: {', '.join(n for n, _ in differ)} — see below." if differ else ""),
        ]
        for n, ref in differ:
            lines.append(f"- {n}: {checks[n]} vs {ref} {checks[ref]}")
        if refs["distinct"] and refs["rows"]:
            a, b = checks[refs["distinct"]], checks[refs["rows"]]
            both = [k for k in a if k in b]
            lines.append(
                f"\nOrders as rows vs distinct order ids (`{refs['rows']}` vs "
                f"`{refs['distinct']}`, sums of {', '.join(both)}): "
                + (
                    "identical, as they must be when every row is its own order."
                    if agree(a, b)
                    else f"**different**: {b} vs {a}."
                )
            )

    # -- 2. Spark ------------------------------------------------------------------------------
    sp = S.get("summary_spark")
    lines += ["", "## 2. DuckDB vs Spark local[2] (same query, transpiled by SQLGlot)", ""]
    if sp and sp.ok():
        first, second = sp.median(), sp.median("second_seconds")
        duck = median("summary_duckdb_parquet")
        lines += [
            "| engine | first query in a new process | second query, same session | peak memory (driver + JVM) |",
            "|---|---|---|---|",
            f"| DuckDB (in process) | {_s(duck)} | — | {_gb(peak('summary_duckdb_parquet'))} |",
            f"| Spark local[2], driver memory {sp.result('driver_memory')} | {_s(first)} | {_s(second)} | "
            f"{_gb(sp.peak())} |",
            "",
            f"Spark takes {_ratio(first, duck) or 0:.1f} × DuckDB's time on the first query"
            + (
                f" and {_ratio(second, duck):.1f} × on a warm session"
                if second
                else " (no warm repeat: the first query took over 120 s)"
            )
            + "; starting the session costs a further "
            f"{_s(sp.median('session_seconds'))}. On one machine DuckDB wins; Spark earns its keep when "
            "the table does not fit one machine (the same SQL runs on the cluster).",
        ]
    else:
        lines.append(
            "Spark step failed or was not run: "
            + (sp.runs[-1].get("tail", "") if sp and sp.runs else "—")
        )

    # -- 3. BG/NBD -----------------------------------------------------------------------------
    lines += [
        "",
        "## 3. BG/NBD fit on 1M customers",
        "",
        "| data | ours | lifetimes | speed-up (≥ 5 ×) | max relative difference of r, α, a, b (≤ 1e-3) | verdict |",
        "|---|---|---|---|---|---|",
    ]
    bgnbd_unpaired = False
    for data_name, label in (
        ("simulated", "simulated BG/NBD, continuous weeks"),
        ("days", "simulated BG/NBD, whole days (ties)"),
    ):
        ours, theirs = S.get(f"bgnbd_ours_{data_name}"), S.get(f"bgnbd_lifetimes_{data_name}")
        if not (ours and theirs and ours.ok() and theirs.ok()):
            lines.append(
                f"| {label} | {_s(ours.median() if ours else None)} | {_s(theirs.median() if theirs else None)}"
                " | — | — | not measured |"
            )
            verdicts[f"bgnbd_{data_name}"] = None
            continue
        po, pl = ours.result("params"), theirs.result("params")
        diff = max(abs(po[k] - pl[k]) / abs(pl[k]) for k in ("r", "alpha", "a", "b"))
        speed = paired(f"bgnbd_lifetimes_{data_name}", f"bgnbd_ours_{data_name}")
        ok = speed[0] is not None and speed[0] >= 5 and diff <= 1e-3
        verdicts[f"bgnbd_{data_name}"] = ok
        lines.append(
            f"| {label} ({ours.result('n_unique'):,} distinct rows) | {_s(ours.median())} | "
            f"{_s(theirs.median())} | {speed[0]:.1f} ×{'' if speed[1] else ' †'} | {diff:.1e} | "
            f"{_verdict(ok)} |"
        )
        bgnbd_unpaired |= not speed[1]
    if bgnbd_unpaired:
        lines.append("\n† Ratio of the two medians: the fits were measured in different runs.")
    for data_name in ("simulated", "days"):
        ours, theirs = S.get(f"bgnbd_ours_{data_name}"), S.get(f"bgnbd_lifetimes_{data_name}")
        if ours and theirs and ours.ok() and theirs.ok():
            fmt = lambda p: ", ".join(f"{k} {p[k]:.6g}" for k in ("r", "alpha", "a", "b"))  # noqa: E731
            lines.append(
                f"\n{data_name}: ours {fmt(ours.result('params'))} (log-likelihood "
                f"{ours.result('log_likelihood'):.6f}); lifetimes {fmt(theirs.result('params'))}."
            )

    # -- 4. report, loading, course ------------------------------------------------------------
    lines += [
        "",
        "## 4. End to end",
        "",
        "| step | wall (median) | CPU | peak memory | runs |",
        "|---|---|---|---|---|",
    ]
    lines += [row(n) for n in ("load_transactions_csv", "report", "course")]
    rep = S.get("report")
    if rep is None:
        verdicts["report_time"] = verdicts["report_memory"] = None
        lines += ["", "`loyalty report`: not run (skipped by --only/--skip)."]
    elif not rep.ok():
        verdicts["report_time"] = verdicts["report_memory"] = None
        tail = rep.error or (rep.runs[-1].get("tail", "") if rep.runs else "")
        lines += [
            "",
            "`loyalty report`: **not yet available** on this tree — the command failed:",
            "",
            "```",
            tail,
            "```",
        ]
    else:
        verdicts["report_time"] = rep.median() < 60
        verdicts["report_memory"] = rep.peak() <= 2 * GB
    course = S.get("course")
    verdicts["course_time"] = course.median() < 60 if course and course.ok() else None
    lines += [
        "",
        "| target | measured | verdict |",
        "|---|---|---|",
        f"| `loyalty report` on 10M transactions + 100k survey answers < 60 s | "
        f"{_s(rep.median() if rep else None)} | {_verdict(verdicts['report_time'])} |",
        f"| `loyalty report` peak memory ≤ 2 GB | {_gb(rep.peak() if rep else None)} | "
        f"{_verdict(verdicts['report_memory'])} |",
        f"| whole course on the samples (`loyalty run`) < 60 s | {_s(course.median() if course else None)} | "
        f"{_verdict(verdicts['course_time'])} |",
    ]
    lt = S.get("load_transactions_csv")
    if lt and lt.ok():
        lines.append(
            f"\n`data.load_transactions` reads and validates the {_count(info['rows'])}-row CSV at "
            f"{lt.median() / info['rows'] * 1e6:.1f} s per million rows."
        )

    # -- summary -------------------------------------------------------------------------------
    failed = [k for k, v in verdicts.items() if v is False]
    unmeasured = [k for k, v in verdicts.items() if v is None]
    lines += [
        "",
        "## Verdicts",
        "",
        f"{sum(v is True for v in verdicts.values())} pass, {len(failed)} fail"
        + (f" ({', '.join(failed)})" if failed else "")
        + (f", {len(unmeasured)} not measured ({', '.join(unmeasured)})" if unmeasured else "")
        + ".",
        "",
        f"Raw numbers of every run: `bench/data/results_{info['rows']}.json` (git-ignored).",
    ]
    if info.get("notes"):
        lines += ["", "## Notes", "", *info["notes"]]
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return verdicts


# ---------------------------------------------------------------------------------------------
def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument(
        "--rows", type=int, default=10_000_000, help="transactions (customers = rows / 10)"
    )
    ap.add_argument("--repeats", type=int, default=3, help="interleaved rounds (medians reported)")
    ap.add_argument("--only", default="", help="comma-separated step names")
    ap.add_argument("--skip", default="", help="comma-separated step names")
    ap.add_argument("--out", type=Path, default=BENCH / "RESULTS.md")
    ap.add_argument(
        "--notes",
        type=Path,
        default=BENCH / "notes.md",
        help="markdown appended to RESULTS.md under Notes (analysis written by hand)",
    )
    ap.add_argument(
        "--render",
        action="store_true",
        help="only rewrite --out from bench/data/results_<rows>.json (no measuring)",
    )
    ap.add_argument(
        "--fresh",
        action="store_true",
        help="start results_<rows>.json from empty instead of merging into it (steps not "
        "measured now are dropped)",
    )
    args = ap.parse_args(argv)
    results = (
        gen_data.DATA / f"results_{args.rows}.json"
    )  # a smoke run must not clobber the full one
    if args.render:
        return render(results, args.out, args.notes)

    paths = gen_data.paths_for(args.rows)
    paths["bgnbd_simulated"] = gen_data.DATA / "bgnbd_simulated_1000000.npz"
    paths["bgnbd_days"] = gen_data.DATA / "bgnbd_days_1000000.npz"
    tmp = Path(tempfile.mkdtemp(prefix="loyalty-bench-"))
    only = {s for s in args.only.split(",") if s}
    skip = {s for s in args.skip.split(",") if s}
    everything = plan(paths, tmp)
    unknown = (only | skip) - {s.name for s in everything}
    if unknown:  # a typo would otherwise measure nothing, or everything
        shutil.rmtree(tmp, ignore_errors=True)
        ap.error(f"unknown step(s) {', '.join(sorted(unknown))}; see plan() in bench/run.py")
    steps = [s for s in everything if (not only or s.name in only) and s.name not in skip]

    started = time.perf_counter()
    session = dt.datetime.now().isoformat(timespec="seconds")
    # Data and model inputs are made in child processes: a child's ru_maxrss starts at this
    # process's size when it forks, so this process must stay small for the peaks to be right.
    subprocess.run(
        [sys.executable, str(BENCH / "gen_data.py"), str(args.rows)], check=True, cwd=ROOT
    )
    subprocess.run(
        [
            sys.executable,
            str(BENCH / "measure.py"),
            "prepare_bgnbd",
            str(paths["bgnbd_simulated"]),
            str(paths["bgnbd_days"]),
        ],
        check=True,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
    )
    if not (BENCH / ".venv" / "lifetimes" / "lifetimes").is_dir():
        print(
            "installing lifetimes 0.11.3 into bench/.venv/lifetimes (bench only, not a project dependency)"
        )
        subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "install",
                "-q",
                "--target",
                str(BENCH / ".venv" / "lifetimes"),
                "--no-deps",
                "lifetimes==0.11.3",
                "autograd",
                "autograd-gamma",
                "dill",
            ],
            check=True,
        )
    log_dir = gen_data.DATA / "logs"
    log_dir.mkdir(exist_ok=True)
    env = {
        **os.environ,
        "MPLBACKEND": "Agg",
        "PYTHONUNBUFFERED": "1",
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
    }
    try:
        for round_no in range(1, args.repeats + 1):
            for step in steps:
                if round_no > 1 and (not step.repeat or (step.runs and not step.ok())):
                    continue  # ran once (too slow), or failed: repeating a failure tells nothing
                run = run_once(step, log_dir, round_no, env)
                step.runs.append(run)
                msg = (
                    f"[{round_no}/{args.repeats}] {step.name}: {run['seconds']:.1f} s, "
                    f"peak {run['peak_bytes'] / GB:.2f} GB, load {run['load_before']:.1f}"
                )
                if run["returncode"] != 0:
                    msg += f" — FAILED {run['error']}\n    " + run["tail"].replace("\n", "\n    ")
                print(msg, flush=True)
                if round_no == 1 and run["returncode"] == 0 and run["seconds"] > LONG_RUN_S:
                    step.repeat = False
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    manifest = json.loads(paths["manifest"].read_text())
    minutes = (time.perf_counter() - started) / 60
    loads = [r["load_before"] for s in steps for r in s.runs]
    info = {
        "date": session[:10],
        "session": session,
        "rows": args.rows,
        "customers": manifest["customers_with_purchases"],
        "repeats": args.repeats,
        "minutes": minutes,
        "load_median": statistics.median(loads) if loads else 0.0,
        "load_max": max(loads, default=0.0),
    }
    measured = {s.name: _step_json(s, session, args.repeats) for s in steps}
    saved = None if args.fresh or not results.is_file() else json.loads(results.read_text())
    kept, sessions = _earlier(saved)
    merged = {**kept, **measured}  # a step measured now replaces the same-named earlier one
    sessions[session] = {
        "date": info["date"],
        "repeats": args.repeats,
        "minutes": minutes,
        "steps": sorted(measured),
    }
    live = {v["session"] for v in merged.values()}
    info["sessions"] = {k: v for k, v in sessions.items() if k in live}
    if kept:
        replaced = sorted(measured.keys() & kept.keys())
        print(
            f"merged into {results.name}: {len(measured)} step(s) measured now"
            + (f" (replacing {', '.join(replaced)})" if replaced else "")
            + f", {len(kept.keys() - measured.keys())} kept from earlier runs (--fresh drops them)"
        )
    results.write_text(json.dumps({"info": info, "steps": merged}, indent=1))
    return render(results, args.out, args.notes)


def _step_json(step: Step, session: str, repeats: int) -> dict[str, Any]:
    """A step as stored in results_<rows>.json, with the run that measured it and its load."""
    loads = [r["load_before"] for r in step.runs]
    return {
        "what": step.what,
        "argv": step.argv,
        "repeat": step.repeat,
        "runs": step.runs,
        "session": session,
        "date": session[:10],
        "repeats": repeats,
        "load_median": statistics.median(loads) if loads else None,
        "load_max": max(loads, default=None),
    }


def _earlier(
    saved: dict[str, Any] | None,
) -> tuple[dict[str, dict[str, Any]], dict[str, dict[str, Any]]]:
    """(steps, runs by session) of an earlier results file; a file written before steps
    carried their session gets its one run's date as session."""
    if not saved:
        return {}, {}
    info = saved["info"]
    default = info.get("session") or info["date"]
    sessions = dict(info.get("sessions") or {})
    sessions.setdefault(
        default,
        {"date": info["date"], "repeats": info["repeats"], "minutes": info.get("minutes")},
    )
    steps = {}
    for name, v in saved["steps"].items():
        session = v.get("session") or default
        loads = [r["load_before"] for r in v["runs"]]
        steps[name] = {
            "session": session,
            "date": sessions.get(session, {}).get("date", session[:10]),
            "repeats": sessions.get(session, {}).get("repeats"),
            "load_median": statistics.median(loads) if loads else None,
            "load_max": max(loads, default=None),
            **v,
        }
    return steps, sessions


def render(results: Path, out: Path, notes: Path) -> int:
    """Write ``out`` from a ``results_<rows>.json`` (``--render`` redoes only this, e.g. after editing notes)."""
    saved = json.loads(results.read_text())
    info = {
        **saved["info"],
        "notes": notes.read_text(encoding="utf-8").splitlines() if notes.is_file() else [],
    }
    steps = [
        Step(
            name,
            v["argv"],
            v["what"],
            repeat=v["repeat"],
            runs=v["runs"],
            session=v.get("session", ""),
        )
        for name, v in saved["steps"].items()
    ]
    verdicts = write_results({s.name: s for s in steps}, out, info)
    print(
        f"wrote {out}: "
        + ", ".join(
            f"{k} {'pass' if v else 'FAIL' if v is False else '—'}" for k, v in verdicts.items()
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
