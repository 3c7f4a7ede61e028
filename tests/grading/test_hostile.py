"""Hostile submissions against the sandbox: one shared class run, one trainee per attack.

Each attacking trainee hands in the fixture assignment (tasks worth 2, 3 and 5 points) with
correct answers to tasks 2 and 3, and a task-1 cell that runs the attack and then sets
``share_promoters`` to the right value (0.5) only if the attack FAILED, else to a wrong one. So
the points each trainee gets say, from inside the kernel, whether the sandbox held: 10 = the attack
failed, 8 = it succeeded. Effects outside the kernel (files on the host) are checked here too.
The cheater from the issue (exec the source's solution cells) hands in no answers at all: with
the sandbox it must score 0.
"""

from __future__ import annotations

import copy
import csv
import os
import socket
import uuid
from pathlib import Path

import nbformat
import pytest

from loyalty_lib import grading
from loyalty_lib.grading import autograde, sandbox

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "grading_fixtures"
ASSIGNMENT, NOTEBOOK = "01-fixture", "fixture"
MARK = f"loyalty-hostile-{uuid.uuid4().hex[:10]}"

pytestmark = pytest.mark.skipif(
    sandbox.sandbox_problem() is not None,
    reason=f"no sandbox on this machine: {sandbox.sandbox_problem()}",
)


def _then(failed: str) -> str:
    """Task 1's answer: right only when the attack failed (``failed`` is a Python expression)."""
    return f"\nshare_promoters = 0.5 if ({failed}) else 0.0\n"


def _attacks(listener_port: int, other_notebook: Path) -> dict[str, str]:
    solutions = [str(ROOT / "solutions"), str(FIXTURES / "solutions")]
    return {
        # reads the real solutions/ and the fixture's by absolute path, and searches the disk
        # (os.walk, not a recursive glob: glob's "**" follows /proc/self/root and /proc/*/cwd
        # links and never ends, which would test the per-cell timeout instead of the sandbox; the
        # WIP version did that and scored 0 for task 1 because of the timeout, not the sandbox)
        "read_solutions": f"""
import glob, os, sys
found = [p for p in {solutions!r} if os.path.exists(p)]
# everything but the kernel's own files and the read-only system and Python environment (80,000
# files of /usr and the interpreter: 4 s of walking, and the project is never under them)
skip = {{"/proc", "/sys", "/dev", "/usr", sys.prefix, sys.base_prefix}}
for top, dirs, files in os.walk("/"):
    dirs[:] = [d for d in dirs if os.path.join(top, d) not in skip]
    parts = top.split(os.sep)
    found += [top for d in ("solutions", "source") if d in parts and files]
    found += [os.path.join(top, f) for f in files if f == "fixture.ipynb" and top != os.getcwd()]
found += glob.glob("../../../source/*/*.ipynb")
"""
        + _then("not found"),
        "read_other_trainee": f"""
try:
    stolen = open({str(other_notebook)!r}).read()
except OSError:
    stolen = ""
"""
        + _then("not stolen"),
        "socket_loopback": f"""
import socket
try:
    socket.create_connection(("127.0.0.1", {listener_port}), timeout=2).close()
    reached = True
except OSError:
    reached = False
"""
        + _then("not reached"),
        "socket_outside": """
import socket
try:
    socket.create_connection(("8.8.8.8", 53), timeout=2).close()
    reached = True
except OSError:
    reached = False
"""
        + _then("not reached"),
        # writes succeed inside (the sandbox's own throw-away /tmp and home) but never reach the host
        "write_tmp": f"open('/tmp/{MARK}-tmp', 'w').write('x')" + _then("True"),
        "write_home": f"import os\nopen(os.path.expanduser('~/{MARK}-home'), 'w').write('x')"
        + _then("True"),
        "write_up": f"""
wrote_up = []
for depth in range(1, 12):
    try:
        open("../" * depth + "{MARK}-up", "w").write("x")
        wrote_up.append(depth)
    except OSError:
        pass
"""
        + _then("True"),
        "memory": """
try:
    hog = bytearray(3_000_000_000)
    denied = False
except MemoryError:
    denied = True
"""
        + _then("denied"),
        "fork_bomb": """
import os, time
children = []
try:
    for _ in range(300):
        pid = os.fork()
        if pid == 0:
            time.sleep(3)
            os._exit(0)
        children.append(pid)
except OSError:
    pass
for pid in children:
    os.kill(pid, 9)
    os.waitpid(pid, 0)
"""
        + _then("len(children) < 100"),
        # as root, bubblewrap keeps root's capabilities unless --cap-drop ALL (CAP_SYS_ADMIN and
        # CAP_MKNOD would let the kernel make a node for the host's disk and mount it); a child
        # it execs must not get them back either
        "capabilities": """
import subprocess
def _eff(text):
    return int(next(l for l in text.splitlines() if l.startswith("CapEff:")).split()[1], 16)
own = _eff(open("/proc/self/status").read())
child = _eff(subprocess.run(["cat", "/proc/self/status"], capture_output=True, text=True).stdout)
"""
        + _then("own == 0 and child == 0"),
        "disk_fill": """
chunk = b"x" * 1_000_000
written = 0
try:
    with open("fill.bin", "wb") as f:
        for _ in range(500):
            f.write(chunk)
            f.flush()
            written += 1
except OSError:
    pass
import os
if os.path.exists("fill.bin"):
    os.remove("fill.bin")
"""
        + _then("written < 500"),
    }


# attacks whose outcome is a score pattern rather than the pass/fail probe above
SLEEP_FOREVER = "import time\ntime.sleep(10**9)\nshare_promoters = 0.5"
KILL_OWN_KERNEL = "import os, signal\nos.kill(os.getpid(), signal.SIGKILL)"
PRINT_100MB = 'share_promoters = 0.5\nprint("x" * 100_000_000)'
CHANGE_BUILTINS = "import builtins\nbuiltins.float = lambda *a: 0.5\nshare_promoters = 0.0"
CHEAT_FROM_SOURCE = """\
import glob, json
for c in json.load(open(glob.glob("../../../source/*/*.ipynb")[0]))["cells"]:
    if c["metadata"].get("nbgrader", {}).get("solution"): exec("".join(c["source"]))
"""

EXPECTED_POINTS = {  # trainee: (task1, task2, task3), by the rule in the module docstring
    **{name: (2, 3, 5) for name in _attacks(0, Path("x"))},
    "sleep_forever": (0, 3, 5),  # interrupted after the per-cell timeout; later cells still run
    "kill_own_kernel": (0, 0, 0),  # the kernel died in task 1: later cells are not run
    "print_100mb": (2, 3, 5),
    # float patched to a function: the visible isinstance(x, float) checks and float(...) in the
    # hidden tests raise TypeError, so patching wins nothing
    "change_builtins": (0, 0, 0),
    "cheat_from_source": (0, 0, 0),
    "honest": (2, 3, 5),
}


def _submission(exercise, task1: str | None, *, blank: bool = False):
    nb = copy.deepcopy(exercise)
    from make_fixtures import ANSWERS  # noqa: PLC0415 - the fixture module, put on sys.path below

    for cell in nb.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id in ANSWERS and not blank:
            cell.source = ANSWERS[grade_id]
        if grade_id == "task1-solution" and task1 is not None:
            cell.source = task1
    return nb


@pytest.fixture(scope="module")
def hostile_run(tmp_path_factory):
    import sys

    sys.path.insert(0, str(FIXTURES))
    base = tmp_path_factory.mktemp("hostile")
    subs = base / "subs"
    exercise = nbformat.read(FIXTURES / "exercises" / ASSIGNMENT / f"{NOTEBOOK}.ipynb", 4)
    other = subs / "honest" / ASSIGNMENT / f"{NOTEBOOK}.ipynb"
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    listener.settimeout(0.1)
    sources = {name: code for name, code in _attacks(listener.getsockname()[1], other).items()}
    sources.update(
        sleep_forever=SLEEP_FOREVER,
        kill_own_kernel=KILL_OWN_KERNEL,
        print_100mb=PRINT_100MB,
        change_builtins=CHANGE_BUILTINS,
        honest=None,
    )
    for name, code in sources.items():
        path = subs / name / ASSIGNMENT / f"{NOTEBOOK}.ipynb"
        path.parent.mkdir(parents=True)
        nbformat.write(_submission(exercise, code), path)
    cheat = subs / "cheat_from_source" / ASSIGNMENT / f"{NOTEBOOK}.ipynb"
    cheat.parent.mkdir(parents=True)
    nb = _submission(exercise, None, blank=True)
    nb.cells.insert(2, nbformat.v4.new_code_cell(CHEAT_FROM_SOURCE))
    nbformat.write(nb, cheat)

    lines: list[str] = []
    limits = sandbox.Limits(disk_bytes=100_000_000, wall_seconds=120)
    outcome = grading.grade(
        subs, base / "out", root=FIXTURES, timeout=8, echo=lines.append, limits=limits
    )
    try:  # nothing connected to the host's loopback listener
        listener.accept()
        connected = True
    except OSError:
        connected = False
    listener.close()
    yield {"out": base / "out", "outcome": outcome, "lines": lines, "connected": connected}
    sys.path.remove(str(FIXTURES))


def _points(out: Path) -> dict[str, tuple[float, ...]]:
    got: dict[str, list[float]] = {}
    with open(out / "grades.csv", newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            got.setdefault(row["trainee"], []).append(float(row["points"]))
    return {k: tuple(v) for k, v in got.items()}


@pytest.mark.parametrize("trainee", sorted(EXPECTED_POINTS))
def test_each_attack_scores_as_expected(hostile_run, trainee):
    assert _points(hostile_run["out"])[trainee] == EXPECTED_POINTS[trainee]


def test_the_run_survives_and_grades_everyone(hostile_run):
    assert hostile_run["outcome"].n_submissions == len(EXPECTED_POINTS)
    assert set(_points(hostile_run["out"])) == set(EXPECTED_POINTS)


def test_nothing_reached_the_host(hostile_run):
    assert not hostile_run["connected"]
    assert not Path(f"/tmp/{MARK}-tmp").exists()
    assert not (Path.home() / f"{MARK}-home").exists()
    hits = [
        p for p in (Path("/tmp"), Path.home(), ROOT, ROOT.parent) if (p / f"{MARK}-up").exists()
    ]
    assert hits == []


def test_problems_name_the_attacks(hostile_run):
    with open(hostile_run["out"] / "errors.csv", newline="", encoding="utf-8") as f:
        problems = {(r["trainee"], r["problem"]) for r in csv.DictReader(f)}
    text = {t: " ".join(p for tt, p in problems if tt == t) for t, _ in problems}
    assert "interrupted" in text["sleep_forever"]
    assert "kernel died" in text["kill_own_kernel"]
    assert (
        "builtins.float" in text["change_builtins"] and "review by hand" in text["change_builtins"]
    )
    assert "honest" not in text


def test_no_sandbox_refuses_naming_the_missing_piece(tmp_path, monkeypatch):
    monkeypatch.setattr(autograde, "sandbox_problem", lambda: "'bwrap' was not found on PATH")
    with pytest.raises(grading.GradingError, match="'bwrap' was not found.*--no-sandbox"):
        grading.grade(FIXTURES / "submissions", tmp_path / "out", root=FIXTURES)
    assert not (tmp_path / "out").exists()


def test_kernel_command_binds_only_what_the_kernel_needs(tmp_path):
    cmd = sandbox.kernel_command(
        ["python", "-m", "ipykernel_launcher"],
        work_dir=tmp_path / "work",
        sock_dir=tmp_path / "sock",
        limits=sandbox.Limits(memory_bytes=123_000_000, disk_bytes=4_000_000, wall_seconds=9),
    )
    binds = [cmd[i + 1] for i, a in enumerate(cmd) if a in ("--bind", "--ro-bind")]
    assert str(ROOT) not in binds and str(ROOT / "solutions") not in binds
    assert str(ROOT / "loyalty_lib") in binds
    assert "--as=123000000" in cmd and "--fsize=4000000" in cmd
    assert cmd[cmd.index("timeout") + 2] == "9" and "--unshare-net" in cmd
    assert os.path.basename(cmd[-3]) == "python"
