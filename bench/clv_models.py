"""CLV models (issue #20): fit speed against lifetimes, and the bootstrap interval's time.

For Pareto/NBD, MBG/NBD and BG/BB this draws 1M customers from the model's own story with known
parameters (written once to ``bench/data/clv_<model>_1000000.npz``), fits ours and lifetimes'
(``ParetoNBDFitter``, ``ModifiedBetaGeoFitter``, ``BetaGeoBetaBinomFitter``, defaults) on the
same arrays, compares the estimates (max relative difference) and the times, and times
``model_intervals`` (default ``n_draws``) for the first 100k customers of the same file (the
model fitted on those 100k first, not timed).

Every measurement is a fresh process (``python bench/clv_models.py measure TASK MODEL``, one
``BENCH-RESULT {json}`` line); rounds are interleaved (round 1 of every step, then round 2, ...)
and medians reported; the 1-minute load average (``/proc/loadavg``) is recorded before and after
each measurement, since the 2-core machine is shared. A lifetimes fit slower than
``--long`` seconds on its first round runs once. Raw results go to ``bench/data/clv_models.json``
(merged by step name), and a Markdown table is printed; this script does not touch RESULTS.md.

    python bench/clv_models.py                          # every step, 3 rounds
    python bench/clv_models.py --only pareto --rounds 1 # one model
    python bench/clv_models.py --table                  # print the table from the JSON only
    python bench/clv_models.py measure ours pareto      # one measurement, by hand
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
DATA = BENCH / "data"
LIFETIMES = BENCH / ".venv" / "lifetimes"  # pip --target install, only on sys.path in its steps
RESULTS = DATA / "clv_models.json"
N_FIT = 1_000_000
N_INTERVALS = 100_000
MODELS = ("pareto", "mbg", "bgbb")

# Known parameters of each simulation. Continuous models in days over up to two years, recency
# and T rounded down to whole days as a daily customer summary reports them (ties that grouping
# uses, like bench's bgnbd_days); BG/BB with 24 opportunities (two years of months).
TRUE = {
    "pareto": {"r": 0.55, "alpha": 75.0, "s": 0.6, "beta": 80.0},
    "mbg": {"r": 0.25, "alpha": 28.0, "a": 0.8, "b": 2.5},
    "bgbb": {"alpha": 1.2, "beta": 0.75, "gamma": 0.66, "delta": 2.8},
}
BGBB_PERIODS = 24
LABEL = {"pareto": "Pareto/NBD", "mbg": "MBG/NBD", "bgbb": "BG/BB"}
# lifetimes' parameter names, in our order
LIFETIMES_NAMES = {
    "pareto": ("r", "alpha", "s", "beta"),
    "mbg": ("r", "alpha", "a", "b"),
    "bgbb": ("alpha", "beta", "gamma", "delta"),
}


def npz_path(model: str) -> Path:
    return DATA / f"clv_{model}_{N_FIT}.npz"


def load_avg() -> float:
    return float(Path("/proc/loadavg").read_text().split()[0])


def _timed(fn: Any) -> tuple[Any, dict[str, float]]:
    t0, c0 = time.perf_counter(), time.process_time()
    out = fn()
    return out, {"seconds": time.perf_counter() - t0, "cpu_seconds": time.process_time() - c0}


# ---------------------------------------------------------------------------------------------
# data
# ---------------------------------------------------------------------------------------------
def prepare(model: str) -> dict[str, Any]:
    """Write ``clv_<model>_1000000.npz`` (frequency, recency, T or n_periods) if absent."""
    import numpy as np

    path = npz_path(model)
    if path.is_file():
        return {"path": str(path), "made": False}
    DATA.mkdir(exist_ok=True)
    seed = {"pareto": 20240201, "mbg": 20240202, "bgbb": 20240203}[model]
    rng = np.random.default_rng(seed)
    if model == "bgbb":
        from loyalty_lib.ltv.bgbb import simulate

        sim = simulate(TRUE[model], BGBB_PERIODS, N_FIT, seed=seed + 1)
        np.savez(
            path,
            frequency=sim["frequency"].to_numpy(float),
            recency=sim["recency"].to_numpy(float),
            T=sim["n_periods"].to_numpy(float),
        )
    else:
        if model == "pareto":
            from loyalty_lib.ltv.pareto_nbd import simulate
        else:
            from loyalty_lib.ltv.mbgnbd import simulate
        sim = simulate(TRUE[model], rng.integers(1, 731, N_FIT).astype(float), seed=seed + 1)
        np.savez(
            path,
            frequency=sim["frequency"].to_numpy(float),
            recency=np.floor(sim["recency"].to_numpy(float)),
            T=sim["T"].to_numpy(float),
        )
    return {"path": str(path), "made": True}


def _arrays(model: str, n: int | None = None) -> tuple[Any, Any, Any]:
    import numpy as np

    d = np.load(npz_path(model))
    f, r, T = d["frequency"], d["recency"], d["T"]
    return (f, r, T) if n is None else (f[:n], r[:n], T[:n])


def _ours(model: str) -> Any:
    from loyalty_lib.ltv import BetaGeoBetaBinom, ModifiedBetaGeo, ParetoNBD

    if model == "pareto":
        return ParetoNBD()
    if model == "mbg":
        return ModifiedBetaGeo()
    return BetaGeoBetaBinom()


# ---------------------------------------------------------------------------------------------
# measurements (one per process)
# ---------------------------------------------------------------------------------------------
def measure_ours(model: str) -> dict[str, Any]:
    """Our fit on the 1M customers (grouping included in the time)."""
    f, r, T = _arrays(model)
    unfitted = _ours(model)  # imports before the timer
    m, timing = _timed(lambda: unfitted.fit(f, r, T))
    return {
        **timing,
        "params": m.params,
        "log_likelihood": m.log_likelihood,
        "n_unique": m.n_unique,
        "converged": m.converged,
    }


def measure_lifetimes(model: str) -> dict[str, Any]:
    """lifetimes' fitter with its defaults on the same 1M rows (its fit includes the autograd
    Hessian for BG/BB and MBG/NBD; ours defers standard errors to first use)."""
    sys.path.insert(0, str(LIFETIMES))
    import numpy as np
    import pandas as pd
    from lifetimes import BetaGeoBetaBinomFitter, ModifiedBetaGeoFitter, ParetoNBDFitter

    f, r, T = (pd.Series(a) for a in _arrays(model))
    fitter = {
        "pareto": ParetoNBDFitter,
        "mbg": ModifiedBetaGeoFitter,
        "bgbb": BetaGeoBetaBinomFitter,
    }[model]()
    m, timing = _timed(lambda: fitter.fit(f, r, T))
    params = {k: float(m.params_[k]) for k in LIFETIMES_NAMES[model]}
    return {**timing, "params": params, "finite": bool(np.all(np.isfinite(list(params.values()))))}


def measure_intervals(model: str) -> dict[str, Any]:
    """model_intervals (default n_draws) on the first 100k customers; the fit is not timed."""
    from loyalty_lib.ltv.intervals import model_intervals

    f, r, T = _arrays(model, N_INTERVALS)
    fitted = _ours(model).fit(f, r, T)
    horizon = 6 if model == "bgbb" else 90.0  # opportunities / days ahead
    res, timing = _timed(lambda: model_intervals(fitted, f, r, T, t=horizon))
    totals = res.totals.set_index("quantity")
    return {
        **timing,
        "n_draws": res.n_draws,
        "customers": len(res.customers),
        "totals": {q: [float(v) for v in totals.loc[q]] for q in totals.index},
    }


TASKS = {
    "prepare": prepare,
    "ours": measure_ours,
    "lifetimes": measure_lifetimes,
    "intervals": measure_intervals,
}


# ---------------------------------------------------------------------------------------------
# driver
# ---------------------------------------------------------------------------------------------
def run_step(task: str, model: str, timeout: int) -> dict[str, Any]:
    before = load_avg()
    t0 = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), "measure", task, model],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    wall = time.perf_counter() - t0
    after = load_avg()
    out: dict[str, Any] = {
        "load_before": before,
        "load_after": after,
        "process_seconds": wall,
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("BENCH-RESULT ")]
    if proc.returncode != 0 or not lines:
        out["error"] = (proc.stderr or proc.stdout)[-2000:]
    else:
        out.update(json.loads(lines[-1].removeprefix("BENCH-RESULT ")))
    return out


def rel_diff(a: dict[str, float], b: dict[str, float]) -> float:
    return max(abs(a[k] - b[k]) / abs(b[k]) for k in a)


def table(results: dict[str, Any]) -> str:
    def med(runs: list[dict[str, Any]], key: str = "seconds") -> float | None:
        vals = [r[key] for r in runs if key in r and "error" not in r]
        return statistics.median(vals) if vals else None

    def loads(runs: list[dict[str, Any]]) -> str:
        vals = [max(r["load_before"], r["load_after"]) for r in runs]
        return ", ".join(f"{v:.2f}" for v in vals) if vals else "—"

    rows = [
        "| model | distinct rows (ours) | ours, s (rounds) | load | lifetimes, s (rounds) | load | "
        "speed-up (≥ 5 ×) | max rel. diff of estimates (≤ 1e-3) | verdict |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for model in MODELS:
        ours = results.get(f"{model}_ours", [])
        theirs = results.get(f"{model}_lifetimes", [])
        o, t = med(ours), med(theirs)
        if o is None:
            continue
        good = [r for r in ours if "error" not in r]
        if t is None:
            err = next((r["error"].strip().splitlines()[-1] for r in theirs if "error" in r), "—")
            rows.append(
                f"| {LABEL[model]} | {good[0]['n_unique']:,} | {o:.2f} ({len(good)}) | "
                f"{loads(ours)} | failed: {err} | | | | — |"
            )
            continue
        tgood = [r for r in theirs if "error" not in r]
        diff = rel_diff(good[0]["params"], tgood[0]["params"])
        ok = t / o >= 5 and diff <= 1e-3
        rows.append(
            f"| {LABEL[model]} | {good[0]['n_unique']:,} | {o:.2f} ({len(good)}) | {loads(ours)} | "
            f"{t:.1f} ({len(tgood)}) | {loads(theirs)} | {t / o:.1f} × | {diff:.1e} | "
            f"{'PASS' if ok else 'FAIL'} |"
        )
    rows += [
        "",
        "| model | `model_intervals`, 100k customers, s (rounds) | draws | load | verdict (< 10 s) |",
        "|---|---|---|---|---|",
    ]
    for model in MODELS:
        runs = results.get(f"{model}_intervals", [])
        s = med(runs)
        if s is None:
            if runs:
                rows.append(f"| {LABEL[model]} | failed | | {loads(runs)} | FAIL |")
            continue
        good = [r for r in runs if "error" not in r]
        rows.append(
            f"| {LABEL[model]} | {s:.2f} ({len(good)}) | {good[0]['n_draws']} | {loads(runs)} | "
            f"{'PASS' if s < 10 else 'FAIL'} |"
        )
    params = []
    for model in MODELS:
        ours = [r for r in results.get(f"{model}_ours", []) if "error" not in r]
        theirs = [r for r in results.get(f"{model}_lifetimes", []) if "error" not in r]
        if ours:
            fmt = ", ".join(f"{k} {v:.6g}" for k, v in ours[0]["params"].items())
            line = f"* {LABEL[model]} (true {TRUE[model]}): ours {fmt}"
            if theirs:
                line += "; lifetimes " + ", ".join(
                    f"{k} {v:.6g}" for k, v in theirs[0]["params"].items()
                )
            params.append(line)
    return "\n".join(rows + [""] + params)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["measure"]:
        task, model = argv[1:3]
        print("BENCH-RESULT " + json.dumps(TASKS[task](model)), flush=True)
        return 0
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--only", default="", help="models, comma-separated: " + ",".join(MODELS))
    ap.add_argument("--tasks", default="ours,lifetimes,intervals")
    ap.add_argument("--long", type=float, default=300, help="a step slower than this runs once")
    ap.add_argument("--timeout", type=int, default=3600)
    ap.add_argument("--table", action="store_true", help="print the table from the JSON only")
    args = ap.parse_args(argv)
    results: dict[str, Any] = json.loads(RESULTS.read_text()) if RESULTS.is_file() else {}
    if args.table:
        print(table(results))
        return 0
    models = [m for m in args.only.split(",") if m] or list(MODELS)
    tasks = [t for t in args.tasks.split(",") if t]
    bad = (set(models) - set(MODELS)) | (set(tasks) - (set(TASKS) - {"prepare"}))
    if bad:
        ap.error(f"unknown model/task {sorted(bad)}")
    if "lifetimes" in tasks and not (LIFETIMES / "lifetimes").is_dir():
        ap.error(f"lifetimes is not installed in {LIFETIMES}; see bench/README.md")
    for model in models:
        # in a child, so this driver stays free of numpy and the model code
        subprocess.run(
            [sys.executable, str(Path(__file__).resolve()), "measure", "prepare", model],
            check=True,
            cwd=ROOT,
        )
    steps = [(t, m) for m in models for t in tasks]
    fresh: dict[str, list[dict[str, Any]]] = {f"{m}_{t}": [] for t, m in steps}
    once: set[str] = set()
    for round_no in range(1, args.rounds + 1):
        for task, model in steps:
            name = f"{model}_{task}"
            if name in once:
                continue
            run = run_step(task, model, args.timeout)
            run["round"] = round_no
            fresh[name].append(run)
            took = run.get("seconds", run["process_seconds"])
            print(
                f"round {round_no} {name}: {took:.2f} s (load {run['load_before']:.2f} → "
                f"{run['load_after']:.2f})" + (" ERROR" if "error" in run else ""),
                flush=True,
            )
            if "error" in run or took > args.long:
                once.add(name)
            results[name] = fresh[name]
            RESULTS.write_text(json.dumps(results, indent=1))
    print(table(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
