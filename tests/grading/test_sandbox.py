"""Sandbox options of ``loyalty grade``: sizes, refusal without bubblewrap, ``--only`` regrades."""

from __future__ import annotations

import csv
import hashlib
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from loyalty_lib import cli, grading
from loyalty_lib.grading import autograde, sandbox

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "grading_fixtures"
ASSIGNMENT, NOTEBOOK = "01-fixture", "fixture"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2G", 2_000_000_000),
        ("512M", 512_000_000),
        ("64k", 64_000),
        ("1000", 1000),
        ("1.5GB", 1_500_000_000),
    ],
)
def test_parse_size_reads_decimal_units(text, expected):
    assert sandbox.parse_size(text) == expected


@pytest.mark.parametrize("text", ["", "two gigs", "-1G", "0"])
def test_parse_size_refuses_what_is_not_a_size(text):
    with pytest.raises(ValueError, match="size"):
        sandbox.parse_size(text)


def test_limits_must_be_positive_integers():
    with pytest.raises(ValueError, match="processes"):
        sandbox.Limits(processes=0)


def test_cli_refuses_without_bubblewrap_and_names_it(tmp_path, monkeypatch):
    monkeypatch.setattr(autograde, "sandbox_problem", lambda: "'bwrap' was not found on PATH")
    result = CliRunner().invoke(
        cli.main,
        [
            "grade",
            str(FIXTURES / "submissions"),
            "--out",
            str(tmp_path / "o"),
            "--root",
            str(FIXTURES),
        ],
    )
    assert result.exit_code == 1
    assert "'bwrap' was not found on PATH" in result.output and "--no-sandbox" in result.output
    assert not (tmp_path / "o").exists()


def test_cli_rejects_a_bad_memory_size(tmp_path):
    result = CliRunner().invoke(
        cli.main,
        ["grade", str(FIXTURES / "submissions"), "--out", str(tmp_path / "o"), "--memory", "lots"],
    )
    assert result.exit_code == 2 and "not a size" in result.output


def test_only_needs_an_earlier_run(tmp_path):
    with pytest.raises(grading.GradingError, match="--only needs the results of an earlier run"):
        grading.grade(FIXTURES / "submissions", tmp_path / "out", root=FIXTURES, only="perfect")


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _rows(path: Path, trainee: str) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as fh:
        return [r for r in csv.DictReader(fh) if r["trainee"] == trainee]


@pytest.mark.skipif(sandbox.sandbox_problem() is not None, reason="no sandbox on this machine")
def test_only_regrades_one_trainee_and_leaves_the_others_byte_for_byte(tmp_path):
    subs = tmp_path / "subs"
    for trainee in ("perfect", "partial", "blank"):
        shutil.copytree(FIXTURES / "submissions" / trainee, subs / trainee)
    out = tmp_path / "out"
    grading.grade(subs, out, root=FIXTURES, timeout=20, echo=lambda _: None, workers=2)
    others = {
        p: _sha(p) for t in ("perfect", "blank") for p in sorted((out / "feedback" / t).iterdir())
    }
    assert others  # each trainee had a feedback page to protect
    before = {
        f: {t: _rows(out / f, t) for t in ("perfect", "blank")}
        for f in ("grades.csv", "errors.csv")
    }
    assert [float(r["points"]) for r in _rows(out / "grades.csv", "partial")] == [2, 0, 5]

    # the trainee hands in a corrected notebook (the perfect one) and is regraded alone
    shutil.copy(
        subs / "perfect" / ASSIGNMENT / f"{NOTEBOOK}.ipynb",
        subs / "partial" / ASSIGNMENT / f"{NOTEBOOK}.ipynb",
    )
    (subs / "blank" / ASSIGNMENT / f"{NOTEBOOK}.ipynb").unlink()  # must NOT be regraded
    outcome = grading.grade(
        subs, out, root=FIXTURES, timeout=20, echo=lambda _: None, only="partial"
    )

    assert outcome.n_submissions == 1
    assert {p: _sha(p) for p in others} == others
    for name, rows in before.items():
        assert {t: _rows(out / name, t) for t in ("perfect", "blank")} == rows
    assert [float(r["points"]) for r in _rows(out / "grades.csv", "partial")] == [2, 3, 5]
    with open(out / "grades_summary.csv", newline="", encoding="utf-8") as fh:
        totals = {r["trainee"]: float(r["total"]) for r in csv.DictReader(fh)}
    assert totals == {"blank": 0.0, "partial": 10.0, "perfect": 10.0}
    assert (out / "feedback" / "partial" / f"{ASSIGNMENT}.html").is_file()
    assert "regraded with --only partial" in (out / "grading.log").read_text(encoding="utf-8")


def test_a_project_under_tmp_is_bound_on_top_of_the_private_tmp(monkeypatch, tmp_path):
    # A CI checkout or a test clone under /tmp: the private /tmp tmpfs must come first, else it
    # hides the venv and the library bound before it and every kernel dies at start-up.
    from loyalty_lib.grading import sandbox as sb

    library = Path("/tmp/some-clone/loyalty_lib")
    monkeypatch.setattr(sb, "_library_dir", lambda: library)
    command = sb.kernel_command(
        ["python", "-m", "ipykernel_launcher"],
        work_dir=tmp_path,
        sock_dir=tmp_path,
        limits=sb.Limits(memory_bytes=2**31, processes=64, disk_bytes=2**27, wall_seconds=60),
    )
    tmpfs = next(
        i for i, arg in enumerate(command) if arg == "--tmpfs" and command[i + 1] == "/tmp"
    )
    bind = next(
        i for i, arg in enumerate(command) if arg == "--ro-bind" and command[i + 1] == str(library)
    )
    assert tmpfs < bind


PROBE = r"""
import json, os, random, resource, socket, sys
status = dict(line.split(":", 1) for line in open("/proc/self/status") if ":" in line)
print(json.dumps({
    "preloaded": "pandas" in sys.modules,
    "caps": [int(status[k].strip(), 16) for k in ("CapEff", "CapPrm", "CapBnd", "CapAmb")],
    "no_new_privs": int(status["NoNewPrivs"]),
    "pids": sorted(int(p) for p in os.listdir("/proc") if p.isdigit()),
    "hostname": socket.gethostname(),
    "cwd": os.getcwd(),
    "sees_project": os.path.exists(SOLUTIONS),
    "address_space": resource.getrlimit(resource.RLIMIT_AS)[0],
    "file_size": resource.getrlimit(resource.RLIMIT_FSIZE)[0],
    "cgroup": [line.split(":", 2)[2].strip() for line in open("/proc/self/cgroup") if ":pids:" in line],
    "random": random.random(),
    "home": sorted(os.listdir(os.path.expanduser("~"))),
}))
"""


def _forked_kernel_probe(tmp_path: Path, name: str) -> tuple[dict, bool, Path | None]:
    import json

    from jupyter_client.blocking import BlockingKernelClient
    from jupyter_core.utils import run_sync

    work, sock = tmp_path / name / "work", tmp_path / name / "sock"
    work.mkdir(parents=True)
    sock.mkdir()
    group = sandbox.make_pids_cgroup(64)
    km = sandbox.kernel_manager_class()(
        kernel_name="python3",
        transport="ipc",
        ip=str(sock / "kernel"),
        connection_file=str(sock / "kernel.json"),
        work_dir=str(work),
        sock_dir=str(sock),
        cgroup=str(group or ""),
        memory_bytes=1_500_000_000,
        disk_bytes=50_000_000,
        fork_kernels=True,
    )
    run_sync(km.start_kernel)()
    forked = km._fork_request is not None
    kc = BlockingKernelClient(connection_file=km.connection_file)
    kc.load_connection_file()
    kc.start_channels()
    texts: list[str] = []
    try:
        kc.wait_for_ready(timeout=60)
        code = f"SOLUTIONS = {str(ROOT / 'solutions')!r}\n{PROBE}"
        kc.execute_interactive(
            code, timeout=60, output_hook=lambda m: texts.append(m["content"].get("text", ""))
        )
    finally:
        kc.stop_channels()
        run_sync(km.shutdown_kernel)(now=False)
        alive = run_sync(km.is_alive)()
        sandbox.remove_cgroup(group)
    assert not alive
    return json.loads("".join(texts)), forked, group


@pytest.mark.skipif(
    sandbox.sandbox_problem() is not None or __import__("os").getuid() != 0,
    reason="the kernel forkserver is used with bubblewrap as root",
)
def test_a_forked_kernel_runs_alone_in_its_own_locked_sandbox(tmp_path):
    first, forked, group = _forked_kernel_probe(tmp_path, "a")
    second, _, _ = _forked_kernel_probe(tmp_path, "b")
    assert forked and first["preloaded"]  # the imports came from the forkserver
    assert first["caps"] == [0, 0, 0, 0] and first["no_new_privs"] == 1
    # pid 1 is bubblewrap's init, 2 its placeholder, 3 the kernel: no grader, no other kernel
    assert first["pids"] == [1, 2, 3] and first["hostname"] == "sandbox"
    assert first["cwd"] == sandbox.WORK_DIR and not first["sees_project"]
    assert (first["address_space"], first["file_size"]) == (1_500_000_000, 50_000_000)
    if group is not None:
        assert first["cgroup"] == [f"/{group.name}"]
    assert first["home"] == second["home"] == [".ipython", "work"]  # a fresh home each
    assert first["random"] != second["random"]  # reseeded after the fork
