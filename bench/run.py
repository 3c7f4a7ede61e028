"""The benchmark harness behind ``make bench``: data, every comparison, ``bench/RESULTS.md``.

Each measurement runs in a fresh subprocess (``bench/measure.py TASK`` or a ``loyalty`` command);
this process records its wall time and peak memory two ways: ``ru_maxrss`` of the child from
``os.wait4`` (the largest single process of its tree, exact) and the sampled sum of RSS over the
whole process tree every 50 ms (catches a notebook kernel or a JVM running beside the driver).
The larger of the two is the reported peak. Repeats are interleaved (round 1 of every step, then
round 2, ...) so a burst of load on a shared machine hits every step alike; medians are reported.

    python bench/run.py                 # everything, 3 rounds, 10M rows (~15-20 min on 2 cores)
    python bench/run.py --rows 1000000 --repeats 1 --out /tmp/RESULTS.md   # smoke run
    python bench/run.py --only bgnbd_ours,bgnbd_lifetimes
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
    return [
        Step(
            "summary_duckdb_parquet",
            [py, m, "summary_duckdb", pq],
            "customer_summary (DuckDB) on the Parquet file",
        ),
        Step(
            "sql_duckdb_parquet",
            [py, m, "sql_duckdb", pq],
            "hand-written DuckDB SQL on the Parquet file",
        ),
        Step(
            "summary_duckdb_csv",
            [py, m, "summary_duckdb", csv],
            "customer_summary (DuckDB) on the CSV file",
        ),
        Step(
            "sql_duckdb_csv", [py, m, "sql_duckdb", csv], "hand-written DuckDB SQL on the CSV file"
        ),
        Step(
            "summary_pandas",
            [py, m, "summary_pandas", pq],
            "customer_summary(engine='pandas') on a frame in memory",
        ),
        Step(
            "summary_lifetimes",
            [py, m, "summary_lifetimes", pq],
            "lifetimes summary_data_from_transaction_data on a frame in memory",
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
        f"Generated by `make bench` (`bench/run.py`) on {info['date']}; {info['rows']:,} transactions of "
        f"{info['customers']:,} customers, {info['repeats']} interleaved round(s), total {info['minutes']:.0f} min.",
        "Wall times are medians over rounds; each measurement is a fresh process; peak memory is the max "
        "over rounds of max(ru_maxrss, sampled RSS of the process tree). CPU time is the measured "
        "process's user+system time over the same span (threads summed).",
        "",
        "## Machine",
        "",
        *machine(),
        f"- Load average (1 min) when the steps started: median {info['load_median']:.1f}, max "
        f"{info['load_max']:.1f} — other jobs shared this {os.cpu_count()}-core machine, so wall times "
        "carry noise; CPU times are steadier. Ratios compare steps of the same rounds.",
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
    lines += [
        "## 1. Per-customer summary on 10M transactions",
        "",
        "| step | wall (median) | CPU | peak memory | runs |",
        "|---|---|---|---|---|",
    ]
    lines += [
        row(n)
        for n in (
            "summary_duckdb_parquet",
            "sql_duckdb_parquet",
            "summary_duckdb_csv",
            "sql_duckdb_csv",
            "summary_pandas",
            "summary_lifetimes",
        )
    ]
    lp, ls = S.get("summary_pandas"), S.get("summary_lifetimes")
    for st in (lp, ls):
        if st and st.ok() and st.median("load_seconds"):
            lines.append(
                f"\n{st.what}: reading the Parquet file into pandas took a further "
                f"{_s(st.median('load_seconds'))} (not in the time above)."
            )
    if ls and not ls.repeat:
        lines.append(f"\nlifetimes took over {LONG_RUN_S} s on its first round, so it ran once.")

    def paired(a: str, b: str, key: str = "seconds") -> float | None:
        """Median over rounds of a/b, both measured in the same round (load changes between
        rounds cancel out); the ratio of medians when no round has both."""
        if a not in S or b not in S:
            return None
        ra = {r["round"]: r.get(key, r["result"].get(key)) for r in S[a].ok()}
        rb = {r["round"]: r.get(key, r["result"].get(key)) for r in S[b].ok()}
        both = [ra[k] / rb[k] for k in ra if k in rb and ra[k] and rb[k]]
        return statistics.median(both) if both else _ratio(S[a].median(key), S[b].median(key))

    def times(r: float | None) -> str:
        return "—" if r is None else f"{r:.2f} ×"

    lines += [
        "",
        "Ratios are medians of the per-round ratios (the two steps ran one after the other in each "
        "round); the CPU-time ratio is given beside the wall-time one.",
        "",
        "| target | wall-time ratio | CPU-time ratio | verdict |",
        "|---|---|---|---|",
    ]
    for fmt in ("parquet", "csv"):
        lib = f"summary_duckdb_{fmt}"
        r = paired(lib, f"sql_duckdb_{fmt}")
        verdicts[f"summary_vs_sql_{fmt}"] = None if r is None else r <= 1.2
        lines.append(
            f"| {fmt}: customer_summary ≤ 1.2 × hand-written SQL | {times(r)} | "
            f"{times(paired(lib, f'sql_duckdb_{fmt}', 'cpu_seconds'))} | "
            f"{_verdict(verdicts[f'summary_vs_sql_{fmt}'])} |"
        )
        for ref, label in (
            ("summary_pandas", "pandas groupby (engine='pandas')"),
            ("summary_lifetimes", "lifetimes summary_data_from_transaction_data"),
        ):
            r = paired(ref, lib)
            key = f"summary_{fmt}_vs_{ref}"
            verdicts[key] = None if r is None else r >= 5
            lines.append(
                f"| {fmt}: ≥ 5 × faster than {label} | {times(r)} | "
                f"{times(paired(ref, lib, 'cpu_seconds'))} | {_verdict(verdicts[key])} |"
            )
        pk = peak(f"summary_duckdb_{fmt}")
        verdicts[f"summary_{fmt}_memory"] = None if pk is None else pk <= 1.2 * GB
        lines.append(
            f"| {fmt}: customer_summary peak memory ≤ 1.2 GB | {_gb(pk)} | | "
            f"{_verdict(verdicts[f'summary_{fmt}_memory'])} |"
        )
    checks = {
        n: S[n].result("check")
        for n in (
            "summary_duckdb_parquet",
            "sql_duckdb_parquet",
            "summary_duckdb_csv",
            "sql_duckdb_csv",
            "summary_pandas",
            "summary_spark",
            "summary_lifetimes",
        )
        if n in S
    }
    ref = checks.get("summary_duckdb_parquet")
    if ref:
        same = [n for n, c in checks.items() if c == ref]
        differ = [n for n, c in checks.items() if c and c != ref]
        lines += [
            "",
            f"Same answer (customers and column sums of frequency, recency, T, monetary): "
            f"{', '.join(same)}."
            + (f" Different: {', '.join(differ)} — see below." if differ else ""),
        ]
        for n in differ:
            lines.append(f"- {n}: {checks[n]} vs {ref}")

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
        ok = speed is not None and speed >= 5 and diff <= 1e-3
        verdicts[f"bgnbd_{data_name}"] = ok
        lines.append(
            f"| {label} ({ours.result('n_unique'):,} distinct rows) | {_s(ours.median())} | "
            f"{_s(theirs.median())} | {speed:.1f} × | {diff:.1e} | {_verdict(ok)} |"
        )
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
            f"\n`data.load_transactions` reads and validates the 10M-row CSV at "
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
    args = ap.parse_args(argv)
    results = (
        gen_data.DATA / f"results_{args.rows}.json"
    )  # a smoke run must not clobber the full one
    if args.render:
        return render(results, args.out, args.notes)

    started = time.perf_counter()
    # Data and model inputs are made in child processes: a child's ru_maxrss starts at this
    # process's size when it forks, so this process must stay small for the peaks to be right.
    subprocess.run(
        [sys.executable, str(BENCH / "gen_data.py"), str(args.rows)], check=True, cwd=ROOT
    )
    paths = gen_data.paths_for(args.rows)
    paths["bgnbd_simulated"] = gen_data.DATA / "bgnbd_simulated_1000000.npz"
    paths["bgnbd_days"] = gen_data.DATA / "bgnbd_days_1000000.npz"
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
    tmp = Path(tempfile.mkdtemp(prefix="loyalty-bench-"))
    env = {
        **os.environ,
        "MPLBACKEND": "Agg",
        "PYTHONUNBUFFERED": "1",
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
    }
    only = {s for s in args.only.split(",") if s}
    skip = {s for s in args.skip.split(",") if s}
    steps = [s for s in plan(paths, tmp) if (not only or s.name in only) and s.name not in skip]
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
    loads = [r["load_before"] for s in steps for r in s.runs]
    info = {
        "date": dt.date.today().isoformat(),
        "rows": args.rows,
        "customers": manifest["customers_with_purchases"],
        "repeats": args.repeats,
        "minutes": (time.perf_counter() - started) / 60,
        "load_median": statistics.median(loads) if loads else 0.0,
        "load_max": max(loads, default=0.0),
    }
    steps_json = {
        s.name: {"what": s.what, "argv": s.argv, "repeat": s.repeat, "runs": s.runs} for s in steps
    }
    results.write_text(json.dumps({"info": info, "steps": steps_json}, indent=1))
    return render(results, args.out, args.notes)


def render(results: Path, out: Path, notes: Path) -> int:
    """Write ``out`` from a ``results_<rows>.json`` (``--render`` redoes only this, e.g. after editing notes)."""
    saved = json.loads(results.read_text())
    info = {
        **saved["info"],
        "notes": notes.read_text(encoding="utf-8").splitlines() if notes.is_file() else [],
    }
    steps = [
        Step(name, v["argv"], v["what"], repeat=v["repeat"], runs=v["runs"])
        for name, v in saved["steps"].items()
    ]
    args_out = out
    verdicts = write_results({s.name: s for s in steps}, args_out, info)
    print(
        f"wrote {args_out}: "
        + ", ".join(
            f"{k} {'pass' if v else 'FAIL' if v is False else '—'}" for k, v in verdicts.items()
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
