"""Autograde: restore and check submissions, run them (sandboxed) with the hidden tests, collect scores."""

from __future__ import annotations

import ast
import contextlib
import copy
import dataclasses
import functools
import io
import json
import logging
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from loyalty_lib._pool import run_each
from loyalty_lib._result import Result
from loyalty_lib.grading._nbgrader import (
    _IGNORE,
    _TRAINEE,
    COURSE_ID,
    MAX_NOTEBOOK_BYTES,
    MAX_OUTPUT_CHARS,
    GradingError,
    _quiet_logger,
    _run_converter,
    _worker_init,
    nbgrader_settings,
)
from loyalty_lib.grading.exports import ExportOptions, finish_results
from loyalty_lib.grading.feedback import _redact_for_feedback, _write_feedback, _write_outputs
from loyalty_lib.grading.release import _build_release, find_assignments
from loyalty_lib.grading.sandbox import (
    Limits,
    build_font_cache,
    make_pids_cgroup,
    remove_cgroup,
    sandbox_problem,
)


@dataclasses.dataclass(frozen=True)
class GradeOutcome(Result):
    """What :func:`grade` did: counts, total seconds and where the files are."""

    n_submissions: int
    n_trainees: int
    n_assignments: int
    n_with_problems: int
    seconds: float
    out_dir: str

    def __str__(self) -> str:
        problems = (
            f"{self.n_with_problems} with problems (see {self.out_dir}/errors.csv)"
            if self.n_with_problems
            else "no problems"
        )
        return (
            f"Graded {self.n_submissions} submissions ({self.n_trainees} trainees × "
            f"{self.n_assignments} assignments) in {self.seconds:.1f} s: {problems}; "
            f"scores in {self.out_dir}/grades.csv, feedback in {self.out_dir}/feedback/."
        )


@dataclasses.dataclass(frozen=True)
class _Task:
    notebook: str
    grade_id: str
    max_points: float


@dataclasses.dataclass(frozen=True)
class _Job:
    trainee: str
    assignment: str
    submission_dir: str  # SUBMISSIONS/<trainee>/<assignment> (may not exist)
    solutions_dir: str  # root/solutions/<assignment>
    gradebook: bytes  # SQLite gradebook with the generated assignment (cells with hidden tests)
    notebooks: tuple[str, ...]
    tasks: tuple[_Task, ...]
    timeout: int
    sandbox: bool = True
    limits: Limits = Limits()
    font_cache: str = ""  # matplotlib's font list, bound read-only into the kernel's home


def _tasks_of(notebooks: list[Path]) -> tuple[_Task, ...]:
    """Graded cells (grade id, points) in source order, read from the solution notebooks."""
    tasks = []
    for nb_path in notebooks:
        nb = json.loads(nb_path.read_text(encoding="utf-8"))
        for cell in nb["cells"]:
            meta = cell.get("metadata", {}).get("nbgrader", {})
            if meta.get("grade"):
                tasks.append(_Task(nb_path.stem, meta["grade_id"], float(meta["points"])))
    return tuple(tasks)


def grade(
    submissions_dir: Path,
    out_dir: Path,
    *,
    root: Path = Path("."),
    timeout: int = 60,
    echo: Callable[[str], Any] = print,
    workers: int = 2,
    sandbox: bool = True,
    limits: Limits | None = None,
    exports: ExportOptions | None = None,
    only: str | None = None,
) -> GradeOutcome:
    """Autograde ``submissions_dir/<trainee>/<assignment>/<notebook>.ipynb`` with hidden tests.

    The assignments graded are those any trainee submitted (folder names matching
    ``root/solutions/<assignment>``); every trainee is graded on each of them, a missing or broken
    notebook scoring 0 with a line in ``errors.csv``. ``timeout`` is seconds per cell (a cell that
    runs longer is interrupted and its tests score 0). ``workers`` submissions are graded at once,
    each in its own scratch course. Writes to ``out_dir``: ``grades.csv`` (trainee, assignment,
    notebook, task, points, max_points), ``grades_summary.csv`` (trainee × assignment points),
    ``errors.csv`` (trainee, assignment, problem), ``feedback/<trainee>/<assignment>.html``,
    ``gradebook.db`` (nbgrader gradebook with every score, rewritten each run), ``grading.log``;
    with ``exports`` also late penalties, the LMS file, ``similarity.*``, ``manual_review.csv``.

    Each kernel runs in the sandbox of :mod:`loyalty_lib.grading.sandbox` with ``limits``;
    without bubblewrap this raises :class:`GradingError` naming the missing piece, unless
    ``sandbox=False`` (warned once through ``echo``). ``only="TRAINEE"`` regrades that trainee
    alone into an ``out_dir`` of an earlier run: the other trainees' rows in the CSV files are
    carried over unchanged, their feedback pages are not touched, ``grading.log`` gains a section.
    """
    from tqdm import tqdm

    started = time.perf_counter()
    limits = limits or Limits()
    if sandbox:
        problem = sandbox_problem()
        if problem:
            raise GradingError(
                f"cannot sandbox the trainees' kernels: {problem}. Grading runs untrusted code; "
                "pass --no-sandbox (sandbox=False) only for submissions you trust"
            )
    else:
        echo(
            "warning: grading WITHOUT a sandbox: submissions' code runs with your user's rights "
            "(it can read the source notebooks, other trainees and your files, and use the network)"
        )
    submissions_dir, out_dir, root = Path(submissions_dir), Path(out_dir), Path(root)
    if not submissions_dir.is_dir():
        raise ValueError(f"submissions folder {submissions_dir} does not exist")
    if not isinstance(timeout, int) or timeout <= 0:
        raise ValueError(f"timeout must be a positive number of seconds per cell, got {timeout!r}")
    solutions = find_assignments(root / "solutions")
    trainees = sorted(
        p.name for p in submissions_dir.iterdir() if p.is_dir() and not p.name.startswith(".")
    )
    if not trainees:
        raise ValueError(
            f"{submissions_dir} has no trainee folders (expected <trainee>/<assignment>/)"
        )
    previous: list[dict[str, Any]] = []
    if only is not None:
        if only not in trainees:
            raise ValueError(f"--only {only}: no folder {submissions_dir / only}")
        previous = _previous_results(out_dir, exclude=only)
    submitted = {p.name for t in trainees for p in (submissions_dir / t).iterdir() if p.is_dir()}
    unknown = sorted(submitted - set(solutions) - {".ipynb_checkpoints"})
    assignments = sorted(submitted & set(solutions))
    if not assignments:
        raise ValueError(
            f"no submitted folder matches an assignment in {root / 'solutions'} "
            f"(known: {', '.join(solutions) or 'none'}; submitted: {', '.join(sorted(submitted))})"
        )

    out_dir.mkdir(parents=True, exist_ok=True)
    log_lines: list[str] = []
    scratch_root = Path(tempfile.mkdtemp(prefix="loyalty-grade-"))
    try:
        gen_log = io.StringIO()
        template = _build_release(
            root / "solutions",
            assignments,
            scratch_root / "template",
            _quiet_logger("template", gen_log),
        )
        log_lines.append(gen_log.getvalue())
        gradebook = (template / "gradebook.db").read_bytes()
        _compile_library()
        font_cache = build_font_cache(scratch_root / "fonts", limits) if sandbox else None
        graded = [only] if only is not None else trainees
        # A Russian submission is restored from and checked against solutions/ru/<assignment>:
        # the same code and hidden tests (`loyalty translations --check`), but the locked cells
        # its trainee reads on the feedback page keep their Russian messages.
        russian = {
            (t, a)
            for t in graded
            for a in assignments
            if (root / "solutions" / "ru" / a).is_dir() and _is_russian(submissions_dir / t / a)
        }
        gradebook_ru = b""
        if russian:
            ru_log = io.StringIO()
            template_ru = _build_release(
                root / "solutions" / "ru",
                sorted({a for _, a in russian}),
                scratch_root / "template-ru",
                _quiet_logger("template-ru", ru_log),
            )
            log_lines.append(ru_log.getvalue())
            gradebook_ru = (template_ru / "gradebook.db").read_bytes()
        jobs = [
            _Job(
                trainee=t,
                assignment=a,
                submission_dir=str(submissions_dir / t / a),
                solutions_dir=str(root / "solutions" / "ru" / a)
                if (t, a) in russian
                else str(root / "solutions" / a),
                gradebook=gradebook_ru if (t, a) in russian else gradebook,
                notebooks=tuple(p.stem for p in solutions[a]),
                tasks=_tasks_of(solutions[a]),
                timeout=timeout,
                sandbox=sandbox,
                limits=limits,
                font_cache=str(font_cache or ""),
            )
            for t in graded
            for a in assignments
        ]
        results: list[dict[str, Any]] = []
        progress = tqdm(total=len(jobs), desc="grading", unit="submission", file=sys.stderr)
        for _index, result in run_each(
            _grade_job_safely,
            jobs,
            workers=workers,
            initializer=_worker_init,
            on_crash=_crashed,
            preload=("loyalty_lib.grading._preload",),
        ):
            results.append(result)
            progress.update()
        progress.close()
        for t in [only] if only is not None else trainees:
            for a in unknown:
                if (submissions_dir / t / a).is_dir():
                    results.append(
                        {
                            "trainee": t,
                            "assignment": a,
                            "rows": [],
                            "log": "",
                            "problems": [f"unknown assignment: no solutions/{a}/ (not graded)"],
                        }
                    )
        results.sort(key=lambda r: (r["trainee"], r["assignment"]))
        every = sorted(previous + results, key=lambda r: (r["trainee"], r["assignment"]))
        earlier_reviews = _previous_reviews(out_dir, exclude=only) if only is not None else []
        _write_outputs(out_dir, every, template / "gradebook.db", assignments)
        if exports is not None:
            # penalties, the LMS file and similarity cover the whole class, --only or not
            finish_results(out_dir, submissions_dir, solutions, every, exports, echo)
            if earlier_reviews:
                _append_reviews(out_dir, earlier_reviews)
        if only is not None:  # a fresh set of pages for this trainee, nobody else's touched
            shutil.rmtree(out_dir / "feedback" / only, ignore_errors=True)
        feedback_log = io.StringIO()
        _write_feedback(
            out_dir,
            results,
            scratch_root / "feedback",
            solutions,
            _quiet_logger("feedback", feedback_log),
        )
        log_lines += [f"==== {r['trainee']} / {r['assignment']}\n{r['log']}" for r in results]
        log_lines.append(f"==== feedback\n{feedback_log.getvalue()}")
        if only is not None and (out_dir / "grading.log").is_file():
            earlier = (out_dir / "grading.log").read_text(encoding="utf-8")
            log_lines.insert(0, f"{earlier}\n==== regraded with --only {only}")
        (out_dir / "grading.log").write_text("\n".join(log_lines), encoding="utf-8")
    finally:
        shutil.rmtree(scratch_root, ignore_errors=True)

    with_problems = {(r["trainee"], r["assignment"]) for r in results if r["problems"]}
    for r in results:
        for problem in r["problems"]:
            echo(f"{r['trainee']}/{r['assignment']}: {problem}")
    return GradeOutcome(
        n_submissions=len(jobs),
        n_trainees=1 if only is not None else len(trainees),
        n_assignments=len(assignments),
        n_with_problems=len(with_problems),
        seconds=round(time.perf_counter() - started, 1),
        out_dir=str(out_dir),
    )


def _compile_library() -> None:
    """Write the bytecode of ``loyalty_lib`` if it is missing or stale (milliseconds when current).

    Every kernel imports the library; an editable install leaves it without ``__pycache__``, and
    with PYTHONDONTWRITEBYTECODE set (as in this project's images) or the library bound read-only
    (the sandbox) each kernel compiled its modules again. A library that cannot be written (a
    system install, compiled by its installer) is left alone.
    """
    import compileall

    from loyalty_lib.grading.sandbox import _library_dir

    with contextlib.suppress(OSError):
        compileall.compile_dir(_library_dir(), quiet=2)


def _is_russian(submission_dir: Path) -> bool:
    """Is this submission the Russian edition? More Cyrillic than Latin letters in the Markdown of
    its notebooks (the task text; code is the same in both editions). Unreadable: not Russian."""
    cyrillic = latin = 0
    for path in sorted(Path(submission_dir).glob("*.ipynb")):
        try:
            cells = json.loads(path.read_text(encoding="utf-8")).get("cells", [])
        except (OSError, ValueError, AttributeError):
            continue
        for cell in cells if isinstance(cells, list) else []:
            if not isinstance(cell, dict) or cell.get("cell_type") != "markdown":
                continue
            source = cell.get("source", "")
            text = "".join(source) if isinstance(source, list) else str(source)
            cyrillic += sum("а" <= ch.lower() <= "я" or ch in "ёЁ" for ch in text)
            latin += sum("a" <= ch.lower() <= "z" for ch in text)
    return cyrillic > latin


def _previous_reviews(out_dir: Path, *, exclude: str) -> list[dict[str, str]]:
    """manual_review.csv rows of an earlier run, all trainees but ``exclude`` (for ``--only``)."""
    import csv

    path = out_dir / "manual_review.csv"
    if not path.is_file():
        return []
    with open(path, newline="", encoding="utf-8") as fh:
        return [row for row in csv.DictReader(fh) if row.get("trainee") != exclude]


def _append_reviews(out_dir: Path, rows: list[dict[str, str]]) -> None:
    """Put the other trainees' earlier manual-review rows back beside this run's."""
    import csv

    path = out_dir / "manual_review.csv"
    with open(path, newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        columns, fresh = list(reader.fieldnames or []), list(reader)
    every = sorted(rows + fresh, key=lambda r: (r.get("trainee", ""), r.get("assignment", "")))
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=columns, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(every)


def _previous_results(out_dir: Path, *, exclude: str) -> list[dict[str, Any]]:
    """The rows and problems of an earlier run in ``out_dir``, all trainees but ``exclude``."""
    import csv

    grades, errors = out_dir / "grades.csv", out_dir / "errors.csv"
    if not grades.is_file() or not errors.is_file():
        raise GradingError(
            f"--only needs the results of an earlier run in {out_dir} (grades.csv and errors.csv); "
            "grade the whole class first"
        )
    by_key: dict[tuple[str, str], dict[str, Any]] = {}

    def entry(trainee: str, assignment: str) -> dict[str, Any]:
        return by_key.setdefault(
            (trainee, assignment),
            {"trainee": trainee, "assignment": assignment, "rows": [], "problems": [], "log": ""},
        )

    with open(grades, newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            if row["trainee"] != exclude:
                entry(row["trainee"], row["assignment"])["rows"].append(
                    (
                        row["trainee"],
                        row["assignment"],
                        row["notebook"],
                        row["task"],
                        float(row["points"]),
                        float(row["max_points"]),
                    )
                )
    with open(errors, newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            if row["trainee"] != exclude:
                entry(row["trainee"], row["assignment"])["problems"].append(row["problem"])
    return list(by_key.values())


def _crashed(job: _Job, exc: BaseException) -> dict[str, Any]:
    """A worker process died (killed, out of memory): that submission only scores 0."""
    return _failed(job, f"grading failed: {type(exc).__name__}: {exc}")


def _failed(job: _Job, problem: str, log: str = "") -> dict[str, Any]:
    rows = [
        (job.trainee, job.assignment, t.notebook, t.grade_id, 0.0, t.max_points) for t in job.tasks
    ]
    return {
        "trainee": job.trainee,
        "assignment": job.assignment,
        "rows": rows,
        "problems": [problem],
        "log": log,
    }


def _grade_job_safely(job: _Job) -> dict[str, Any]:
    """Worker entry point: never raises, so one submission cannot stop the others."""
    stream = io.StringIO()
    log = _quiet_logger(f"{job.trainee}.{job.assignment}", stream)
    # Each submission gets its own temporary folder: fixed '../' paths from its kernel's working
    # folder land in this scratch copy, never in out_dir or another trainee's copy. (A kernel
    # that searches the disk can still find them: isolation, not a sandbox.)
    scratch = Path(tempfile.mkdtemp(prefix="loyalty-grade-job-"))
    started = time.perf_counter()
    try:
        result = _grade_job(job, scratch, log)
    except Exception as exc:
        log.exception("grading failed")
        result = _failed(job, f"grading failed: {type(exc).__name__}: {str(exc)[:300]}")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    log.info("graded in %.1f s", time.perf_counter() - started)
    result["log"] = stream.getvalue()
    return result


def _grade_job(job: _Job, scratch: Path, log: logging.Logger) -> dict[str, Any]:
    import nbformat

    problems: list[str] = []
    # The kernel's cwd is course/autograded/<trainee>/<assignment>; the gradebook lives beside
    # course/, so relative writes such as ../../../gradebook.db from trainee code cannot reach it.
    course = scratch / "course"
    shutil.copytree(job.solutions_dir, course / "source" / job.assignment, ignore=_IGNORE)
    db = scratch / "db" / "gradebook.db"
    db.parent.mkdir()
    db.write_bytes(job.gradebook)
    submitted = course / "submitted" / _TRAINEE / job.assignment
    submitted.mkdir(parents=True)
    sub_dir = Path(job.submission_dir)
    if sub_dir.is_dir():  # the trainee's own data files, helper modules (notebooks handled below)
        shutil.copytree(
            sub_dir,
            submitted,
            dirs_exist_ok=True,
            ignore=shutil.ignore_patterns("*.ipynb", ".ipynb_checkpoints", "__pycache__"),
        )
    graded_notebooks = []
    for name in job.notebooks:
        nb, problem = _read_submission(sub_dir / f"{name}.ipynb")
        if nb is None:
            problems.append(f"{name}.ipynb: {problem}; scored 0")
            continue
        source_nb = nbformat.read(Path(job.solutions_dir) / f"{name}.ipynb", as_version=4)
        problems += [f"{name}.ipynb: {p}" for p in _edited_locked_cells(nb)]
        problems += [f"{name}.ipynb: {p}" for p in _restore_locked_cells(nb, source_nb)]
        problems += [f"{name}.ipynb: {p}" for p in _tampering_notes(nb)]
        nbformat.write(nb, submitted / f"{name}.ipynb")
        graded_notebooks.append(name)
    if not graded_notebooks:
        return {
            "trainee": job.trainee,
            "assignment": job.assignment,
            "problems": problems,
            "rows": [
                (job.trainee, job.assignment, t.notebook, t.grade_id, 0.0, t.max_points)
                for t in job.tasks
            ],
        }

    config = nbgrader_settings(job.timeout)
    config.CourseDirectory.root = str(course)
    config.CourseDirectory.db_url = f"sqlite:///{db}"
    config.CourseDirectory.assignment_id = job.assignment
    config.CourseDirectory.student_id = _TRAINEE
    execute_cls, limit_cls = _preprocessor_classes()
    from nbconvert.preprocessors import ClearMetadataPreprocessor
    from nbgrader.preprocessors import (
        AssignLatePenalties,
        CheckCellMetadata,
        IgnorePattern,
        SaveAutoGrades,
    )

    # nbgrader's own autograde steps, with a kernel-death-tolerant Execute and a character cap.
    config.Autograde.autograde_preprocessors = [
        execute_cls,
        IgnorePattern,
        ClearMetadataPreprocessor,
        limit_cls,
        SaveAutoGrades,
        AssignLatePenalties,
        CheckCellMetadata,
    ]
    cgroup = None
    if job.sandbox:
        # The kernel sees only course/autograded/<trainee>/<assignment> (its working folder) and
        # the socket folder; course/source (the solutions) and the gradebook stay outside.
        sock = scratch / "sock"
        sock.mkdir()
        cgroup = make_pids_cgroup(job.limits.processes)
        config.Execute.sandboxed = True
        km = config.SandboxedKernelManager
        km.transport = "ipc"
        km.ip = str(sock / "kernel")
        km.connection_file = str(sock / "kernel.json")
        km.work_dir = str(course / "autograded" / _TRAINEE / job.assignment)
        km.sock_dir = str(sock)
        km.cgroup = str(cgroup) if cgroup else ""
        km.memory_bytes = job.limits.memory_bytes
        km.processes = job.limits.processes
        km.disk_bytes = job.limits.disk_bytes
        km.wall_seconds = job.limits.wall_seconds
        km.font_cache = job.font_cache
        # fork each kernel from this worker's forkserver (imports done once) into its sandbox;
        # LOYALTY_GRADE_FORK=0 starts a fresh interpreter per kernel instead
        km.fork_kernels = os.environ.get("LOYALTY_GRADE_FORK", "1") != "0"
        if cgroup is None and os.getuid() == 0:
            log.warning("no pids cgroup could be created: the process cap is not enforced")
    try:
        _run_converter("Autograde", config, log)
    finally:
        remove_cgroup(cgroup)

    rows = _scores(db, job)
    autograded = course / "autograded" / _TRAINEE / job.assignment
    feedback_notebooks = {}
    for name in graded_notebooks:
        nb = nbformat.read(autograded / f"{name}.ipynb", as_version=4)
        problems += [f"{name}.ipynb: {p}" for p in _execution_problems(nb, job.timeout)]
        _redact_for_feedback(nb)
        feedback_notebooks[name] = nbformat.writes(nb)
    # Feedback HTML is rendered by the parent for all submissions in one nbconvert run (its
    # template set-up costs seconds per run).
    return {
        "trainee": job.trainee,
        "assignment": job.assignment,
        "rows": rows,
        "problems": problems,
        "feedback_notebooks": feedback_notebooks,
    }


def _read_submission(path: Path) -> tuple[Any, str]:
    """(notebook, "") or (None, why it cannot be graded)."""
    import nbformat

    if not path.is_file():
        return None, "missing"
    if path.stat().st_size > MAX_NOTEBOOK_BYTES:
        return None, f"not graded: larger than {MAX_NOTEBOOK_BYTES // 1_000_000} MB"
    try:
        nb = nbformat.reads(path.read_text(encoding="utf-8"), as_version=4)
        nbformat.validate(nb)
    except Exception as exc:
        first = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else type(exc).__name__
        return None, f"not a valid notebook ({first})"
    return nb, ""


def _edited_locked_cells(nb: Any) -> list[str]:
    """Locked cells whose content no longer matches the checksum nbgrader stored at release.

    nbgrader's autograde puts the original back anyway; this only tells the instructor.
    """
    from nbgrader.utils import compute_checksum

    notes = []
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("locked") and meta.get("checksum") and meta.get("grade_id"):
            try:
                edited = compute_checksum(cell) != meta["checksum"]
            except (KeyError, TypeError, ValueError):
                edited = True
            if edited:
                what = "test cell" if meta.get("grade") else "read-only cell"
                notes.append(
                    f"{what} '{meta['grade_id']}' was edited; the original was restored and graded"
                )
    return notes


def _restore_locked_cells(nb: Any, source_nb: Any) -> list[str]:
    """Put back locked cells (tests, setup) the trainee deleted, after their source predecessor.

    Why restore rather than score 0: deleting a test must neither earn nor cost points, so the
    trainee's work is judged by the real tests. nbgrader's own ``add_missing_cells`` cannot place
    a cell whose predecessor is a locked non-graded cell, hence this version. Cells are matched
    by nbgrader grade id, else by notebook cell id (kept from source to exercise to submission).
    """

    def gid(cell: Any) -> str | None:
        return cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")

    def key(cell: Any) -> str | None:
        return gid(cell) or cell.get("id")

    def positions() -> dict[str, int]:
        return {key(c): i for i, c in enumerate(nb.cells) if key(c)}

    present = positions()
    notes = []
    for s_index, s_cell in enumerate(source_nb.cells):
        meta = s_cell.metadata.get("nbgrader", {})
        if not meta.get("locked") or gid(s_cell) in present:
            continue
        before = [key(c) for c in source_nb.cells[:s_index] if key(c) in present]
        at = present[before[-1]] + 1 if before else 0
        restored = copy.deepcopy(s_cell)
        if restored.cell_type == "code":
            restored.outputs, restored.execution_count = [], None
        nb.cells.insert(at, restored)
        present = positions()
        what = "test cell" if meta.get("grade") else "read-only cell"
        notes.append(f"{what} '{gid(s_cell)}' was deleted; restored from the source and graded")
    return notes


_PATCH_TARGETS = {"builtins", "__builtins__"}


def _tampering_notes(nb: Any) -> list[str]:
    """Flag code in the trainee's own cells that patches builtins or imported modules.

    Grading defends by hidden tests that compare plain values with hand-worked numbers (patching
    ``abs`` or a library function cannot change ``float(x) == 0.375``); this flag sends the rest
    (say ``builtins.float = ...``) to a human. It never changes a score.
    """
    notes = []
    imported: set[str] = set(_PATCH_TARGETS)
    trees = []
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code" or cell.metadata.get("nbgrader", {}).get("locked"):
            continue
        text = "\n".join(
            "" if line.lstrip().startswith(("%", "!")) else line
            for line in cell.source.splitlines()
        )
        try:
            tree = ast.parse(text)
        except SyntaxError:
            continue
        trees.append((index, tree))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                imported |= {(a.asname or a.name).split(".")[0] for a in node.names}
    for index, tree in trees:
        for node in ast.walk(tree):
            targets: list[ast.expr] = []
            if isinstance(node, ast.Assign | ast.AugAssign | ast.AnnAssign):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            elif (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id in ("setattr", "delattr")
            ):
                targets = [ast.Attribute(value=node.args[0], attr="?")] if node.args else []
            for target in targets:
                base = target
                while isinstance(base, ast.Attribute | ast.Subscript):
                    base = base.value
                if isinstance(base, ast.Name) and base.id in imported and base is not target:
                    notes.append(
                        f"cell {index + 1} changes '{ast.unparse(target)}' (a module or "
                        "builtin): possible tampering with the tests, review by hand"
                    )
    return notes


def _scores(db: Path, job: _Job) -> list[tuple]:
    from nbgrader.api import Gradebook, MissingEntry

    rows = []
    with Gradebook(f"sqlite:///{db}", COURSE_ID) as gb:
        for task in job.tasks:
            try:
                g = gb.find_grade(task.grade_id, task.notebook, job.assignment, _TRAINEE)
                points = float(g.score or 0.0)
            except MissingEntry:  # that notebook was not graded (missing or invalid)
                points = 0.0
            rows.append(
                (job.trainee, job.assignment, task.notebook, task.grade_id, points, task.max_points)
            )
    return rows


_KERNEL_DIED = "KernelDied"  # ename of the error output marking cells a dead kernel did not run
_STUCK = "the kernel ignored the interrupt and stopped responding"
_DIED = "the kernel died while running this cell"


@functools.cache
def _preprocessor_classes() -> tuple[type, type]:
    """nbgrader preprocessors with two changes, built lazily (nbgrader imports are heavy)."""
    from nbclient.exceptions import CellTimeoutError, DeadKernelError
    from nbformat import NotebookNode
    from nbgrader.preprocessors import Execute, LimitOutput
    from traitlets import Bool

    def dead_output(text: str) -> NotebookNode:
        return NotebookNode(
            output_type="error",
            ename=_KERNEL_DIED,
            evalue=text,
            traceback=[f"{_KERNEL_DIED}: {text}"],
        )

    class KernelDeathTolerantExecute(Execute):
        """On a dead or stuck kernel, fail the remaining cells instead of the whole notebook.

        nbgrader would abort the notebook on a dead kernel (``os._exit``, out of memory) and record
        no scores; and a kernel that ignores the interrupt after a timeout (a loop in C code, or
        SIGINT ignored) would cost the full timeout for every later cell. Here cells that ran
        before keep their results and the later cells score 0 without being run.
        """

        sandboxed = Bool(False).tag(config=True)

        def preprocess(self, nb, resources=None, km=None):
            self._stopped = ""
            if self.sandboxed:
                from loyalty_lib.grading.sandbox import kernel_manager_class

                self.kernel_manager_class = kernel_manager_class()
            return super().preprocess(nb, resources, km)

        def _responds(self, wait: float) -> bool:
            """Does the kernel answer an empty execute request within ``wait`` seconds?"""
            from queue import Empty
            from time import monotonic

            from jupyter_core.utils import run_sync

            msg_id = self.kc.execute("", silent=True, store_history=False)
            deadline = monotonic() + wait
            while (left := deadline - monotonic()) > 0:
                try:
                    msg = run_sync(self.kc.shell_channel.get_msg)(timeout=left)
                except Empty:
                    return False
                if msg.get("parent_header", {}).get("msg_id") == msg_id:
                    return True
            return False

        def preprocess_cell(self, cell, resources, index):
            if cell.cell_type != "code":
                return cell, resources
            if self._stopped:
                cell.outputs = [dead_output(f"not run: {self._stopped} in an earlier cell")]
                return cell, self.resources
            try:
                cell, resources = super().preprocess_cell(cell, resources, index)
            except DeadKernelError:
                self._stopped = "the kernel died"
                cell.outputs.append(dead_output(_DIED))
                return cell, self.resources
            except CellTimeoutError:  # raised (not interrupted) only when output never stops
                cell.outputs.append(
                    NotebookNode(
                        output_type="error",
                        ename="CellTimeoutError",
                        evalue="",
                        traceback=["CellTimeoutError: the kernel did not finish in time"],
                    )
                )
                resources = self.resources
            timed_out = any(o.get("ename") == "CellTimeoutError" for o in cell.outputs)
            if timed_out and not self._responds(wait=5):
                self._stopped = "the kernel stopped responding"
                cell.outputs.append(dead_output(_STUCK))
            return cell, resources

    class CappedOutput(LimitOutput):
        """nbgrader's line limit, plus a character cap (one 50 MB line passes a line limit), and
        stderr in test cells no longer fails them: a pandas warning is not a wrong answer."""

        def preprocess_cell(self, cell, resources, index):
            cell, resources = super().preprocess_cell(cell, resources, index)
            if cell.cell_type != "code":
                return cell, resources
            budget = MAX_OUTPUT_CHARS
            is_test = cell.metadata.get("nbgrader", {}).get("grade", False)
            for output in cell.outputs:
                if output.output_type == "stream":
                    if is_test and output.name == "stderr":
                        output.name = "stdout"
                    if len(output.text) > budget:
                        output.text = (
                            output.text[:budget]
                            + f"\n... output truncated ({len(output.text):,} characters) ..."
                        )
                    budget = max(budget - len(output.text), 0)
                elif output.output_type == "error":
                    output.evalue = str(output.evalue)[:2000]
                    output.traceback = [line[:2000] for line in output.traceback]
                elif "data" in output:
                    size = sum(len(json.dumps(v)) for v in output.data.values())
                    if size > 2_000_000:
                        output.data = {
                            "text/plain": f"[display output of {size:,} characters removed]"
                        }
            return cell, resources

    return KernelDeathTolerantExecute, CappedOutput


def _execution_problems(nb: Any, timeout: int) -> list[str]:
    """Timeouts, stuck and dead kernels found in an autograded notebook, as sentences."""
    problems = []
    for index, cell in enumerate(nb.cells, start=1):
        errors = {
            (o.get("ename"), str(o.get("evalue", "")))
            for o in cell.get("outputs", [])
            if o.get("output_type") == "error"
        }
        if (_KERNEL_DIED, _STUCK) in errors:
            problems.append(
                f"cell {index} ran longer than {timeout} s and ignored the interrupt; the kernel "
                "stopped responding, so later cells were not run and score 0"
            )
        elif any(ename == "CellTimeoutError" for ename, _ in errors):
            problems.append(
                f"cell {index} ran longer than {timeout} s and was interrupted "
                "(an endless loop?); its tests score 0"
            )
        elif (_KERNEL_DIED, _DIED) in errors:
            problems.append(
                f"the kernel died in cell {index} (os._exit, a crash or out of "
                "memory); later cells were not run and score 0"
            )
    return problems
