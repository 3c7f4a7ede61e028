"""``loyalty grade`` (sandboxed) against plain ``nbgrader autograde`` on one class, side by side.

    python bench/grading.py                       # 16 solved copies of 01-nps, 3 rounds
    python bench/grading.py --trainees 16 --repeats 3 --assignment 01-nps

The class: ``--trainees`` copies of the released notebook (nbgrader's generate_assignment output,
checksums and all) with every solution cell filled from ``solutions/<assignment>`` — what a
trainee who solved everything hands in. Plain nbgrader: ``nbgrader autograde <assignment>`` in a
course folder holding ``source/``, ``release/`` and ``submitted/<trainee>/``, its gradebook (from
generate_assignment) reset before each round, one kernel after the other (nbgrader has no parallel mode). Ours: ``loyalty grade``
with the sandbox on and its defaults (two workers), hidden tests, feedback pages and CSVs included.
Both run as subprocesses with the venv's ``bin`` first on PATH; rounds are interleaved so load on
a shared machine hits both alike. Wall seconds and CPU seconds are medians; "per core" compares
CPU seconds (work done, whatever the parallelism). Both runs' scores are checked equal before any
number is printed. The library's bytecode is compiled once before the rounds (both sides' kernels
import the same ``loyalty_lib``; this image sets PYTHONDONTWRITEBYTECODE, so nothing else would).

CPU is counted by a ``cpuacct`` cgroup (v1) or ``cpu.stat`` (v2) the command is started in: every
process born in it is counted, reaped or not. ``os.wait4`` (the fallback, marked ``"cpu_source":
"wait4"``) misses the sandboxed kernels: bubblewrap's outer process exits without reaping the
sandbox's pid 1, which the host's init then reaps, so their CPU never reaches the grader's
children's rusage. Each round records the 1-minute load average before it starts.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def _env() -> dict[str, str]:
    return {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}


def _cpu_cgroup() -> tuple[Path, str] | None:
    """A fresh cgroup that counts CPU (folder, file to read), or None when none can be made."""
    own = Path("/proc/self/cgroup").read_text().splitlines()
    v2 = [line.split("::", 1)[1] for line in own if line.startswith("0::")]
    candidates = [(Path("/sys/fs/cgroup/cpuacct"), "cpuacct.usage")]
    if v2:
        candidates.append((Path("/sys/fs/cgroup") / v2[0].lstrip("/"), "cpu.stat"))
    for parent, counter in candidates:
        group = parent / f"bench-grading-{os.getpid()}-{time.monotonic_ns()}"
        try:
            group.mkdir()
        except OSError:
            continue
        if (group / counter).exists():
            return group, counter
        group.rmdir()
    return None


def _cgroup_cpu(group: Path, counter: str) -> float:
    text = (group / counter).read_text()
    if counter == "cpuacct.usage":
        return int(text) / 1e9
    return int(dict(line.split() for line in text.splitlines())["usage_usec"]) / 1e6


def _remove_cgroup(group: Path) -> None:
    for _ in range(50):
        try:
            group.rmdir()
            return
        except OSError:  # a process of the run still exiting
            time.sleep(0.1)


CPU_SOURCE = "wait4"


def _timed(cmd: list[str], cwd: Path) -> tuple[float, float]:
    """(wall seconds, CPU seconds of every process the command started) of one command."""
    global CPU_SOURCE
    cgroup = _cpu_cgroup()
    if cgroup is not None:
        CPU_SOURCE = "cgroup"
        # join the cgroup first, then exec: every process of the run is born inside it
        cmd = ["sh", "-c", 'echo $$ > "$0/cgroup.procs" && exec "$@"', str(cgroup[0]), *cmd]
    started = time.perf_counter()
    try:
        proc = subprocess.Popen(
            cmd, cwd=cwd, env=_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT
        )
        out = proc.stdout.read() if proc.stdout else b""
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - started
        cpu = usage.ru_utime + usage.ru_stime
        if cgroup is not None:
            time.sleep(0.2)  # kernels reaped by init may still be exiting
            cpu = _cgroup_cpu(*cgroup)
    finally:
        if cgroup is not None:
            _remove_cgroup(cgroup[0])
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{out.decode(errors='replace')[-3000:]}")
    return wall, cpu


def _solved_class(assignment: str, trainees: int, base: Path) -> tuple[Path, Path]:
    """(nbgrader course folder, loyalty submissions folder) holding the same solved notebooks."""
    import nbformat

    course = base / "course"
    shutil.copytree(ROOT / "solutions" / assignment, course / "source" / assignment)
    config = (
        "from loyalty_lib.grading import nbgrader_settings\n"
        "c = get_config()\nc.merge(nbgrader_settings(timeout=300))\n"
        f"c.CourseDirectory.root = {str(course)!r}\n"
    )
    (course / "nbgrader_config.py").write_text(config, encoding="utf-8")
    _timed([str(BIN / "nbgrader"), "generate_assignment", assignment, "--force"], course)
    shutil.copy(course / "gradebook.db", course / "gradebook.released.db")
    released = course / "release" / assignment
    subs = base / "submissions"
    for nb_path in sorted((course / "source" / assignment).glob("*.ipynb")):
        source = nbformat.read(nb_path, as_version=4)
        answers = {
            c.metadata["nbgrader"]["grade_id"]: c.source
            for c in source.cells
            if c.metadata.get("nbgrader", {}).get("solution")
        }
        nb = nbformat.read(released / nb_path.name, as_version=4)
        for cell in nb.cells:
            grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
            if grade_id in answers:
                cell.source = answers[grade_id]
        for i in range(trainees):
            for folder in (course / "submitted", subs):
                target = folder / f"t{i:02d}" / assignment / nb_path.name
                target.parent.mkdir(parents=True, exist_ok=True)
                nbformat.write(nb, target)
    return course, subs


def _nbgrader_points(course: Path, assignment: str) -> dict[str, float]:
    out = course / "grades.csv"
    _timed([str(BIN / "nbgrader"), "export", "--to", str(out)], course)
    with open(out, newline="", encoding="utf-8") as fh:
        return {r["student_id"]: float(r["score"]) for r in csv.DictReader(fh)}


def _loyalty_points(out: Path) -> dict[str, float]:
    with open(out / "grades_summary.csv", newline="", encoding="utf-8") as fh:
        return {r["trainee"]: float(r["total"]) for r in csv.DictReader(fh)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--assignment", default="01-nps")
    parser.add_argument("--trainees", type=int, default=16)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    base = Path(tempfile.mkdtemp(prefix="bench-grading-"))
    try:
        course, subs = _solved_class(args.assignment, args.trainees, base)
        import compileall

        compileall.compile_dir(ROOT / "loyalty_lib", quiet=1)
        runs: dict[str, list[tuple[float, float]]] = {"nbgrader": [], "loyalty": []}
        loads: list[float] = []
        for round_ in range(args.repeats):
            loads.append(os.getloadavg()[0])
            shutil.copy(course / "gradebook.released.db", course / "gradebook.db")
            shutil.rmtree(course / "autograded", ignore_errors=True)
            cmd = [str(BIN / "nbgrader"), "autograde", args.assignment, "--force"]
            runs["nbgrader"].append(_timed(cmd, course))
            nbgrader_points = _nbgrader_points(course, args.assignment)
            out = base / f"out{round_}"
            cmd = [str(BIN / "loyalty"), "grade", str(subs), "--out", str(out), "--root", str(ROOT)]
            runs["loyalty"].append(_timed(cmd, ROOT))
            ours = _loyalty_points(out)
            if set(nbgrader_points.values()) != set(ours.values()) or len(ours) != args.trainees:
                raise SystemExit(f"scores differ: nbgrader {nbgrader_points}, ours {ours}")
            (nb_wall, nb_cpu), (our_wall, our_cpu) = runs["nbgrader"][-1], runs["loyalty"][-1]
            print(
                f"round {round_ + 1} (load {loads[-1]:.2f}): nbgrader {nb_wall:.1f} s wall "
                f"{nb_cpu:.1f} s CPU; loyalty {our_wall:.1f} s wall {our_cpu:.1f} s CPU; "
                f"ratios wall {nb_wall / our_wall:.2f}x, per core {nb_cpu / our_cpu:.2f}x",
                flush=True,
            )
        med = {k: [statistics.median(x[i] for x in v) for i in (0, 1)] for k, v in runs.items()}
        result = {
            "assignment": args.assignment,
            "trainees": args.trainees,
            "repeats": args.repeats,
            "cores": os.cpu_count(),
            "nbgrader_wall_s": round(med["nbgrader"][0], 1),
            "nbgrader_cpu_s": round(med["nbgrader"][1], 1),
            "loyalty_wall_s": round(med["loyalty"][0], 1),
            "loyalty_cpu_s": round(med["loyalty"][1], 1),
            "speedup_wall": round(med["nbgrader"][0] / med["loyalty"][0], 2),
            "speedup_per_core": round(med["nbgrader"][1] / med["loyalty"][1], 2),
            "cpu_source": CPU_SOURCE,
            "load_before_rounds": [round(x, 2) for x in loads],
            "rounds": runs,
        }
        print(json.dumps(result, indent=1))
    finally:
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
