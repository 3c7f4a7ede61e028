"""Exercises from solutions, and autograding with hidden tests (nbgrader's format and machinery).

Layout: ``solutions/<NN-topic>/<topic>.ipynb`` holds the instructor's notebook (solutions between
``### BEGIN SOLUTION`` / ``### END SOLUTION``, hidden tests between ``### BEGIN HIDDEN TESTS`` /
``### END HIDDEN TESTS`` inside autograder test cells). :func:`generate_exercises` writes the trainee
version to ``exercises/<NN-topic>/<topic>.ipynb``; :func:`grade` scores trainees' submissions
``SUBMISSIONS/<trainee>/<NN-topic>/<topic>.ipynb`` against the hidden tests.

Everything nbgrader does runs in throw-away course folders (one per run for exercises, one per
submission for grading), each with its own SQLite gradebook: nbgrader's gradebook is not safe for
parallel writers, and a submission's code can only damage its own scratch copy through relative
paths. Only the parent process writes ``out_dir``. This is isolation, not a security sandbox: code
run by the kernel has the grader's user rights (run untrusted submissions in a container).

Trainee notebooks import :func:`check` from here, so nbgrader is imported lazily inside functions.
"""

from __future__ import annotations

import ast
import copy
import csv
import dataclasses
import functools
import io
import json
import logging
import os
import re
import shutil
import sys
import tempfile
import time
import warnings
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from loyalty_lib._result import Result

BEGIN_SOLUTION = "### BEGIN SOLUTION"
END_SOLUTION = "### END SOLUTION"
BEGIN_HIDDEN = "### BEGIN HIDDEN TESTS"
END_HIDDEN = "### END HIDDEN TESTS"
#: What a solution region becomes in the exercise (nbgrader's default stub).
CODE_STUB = "# YOUR CODE HERE\nraise NotImplementedError()"
TEXT_STUB = "YOUR ANSWER HERE"
COURSE_ID = "loyalty-workbook"
#: A submitted notebook larger than this is refused unread (bytes).
MAX_NOTEBOOK_BYTES = 20_000_000
#: Per-cell output kept for grading and feedback: lines (nbgrader's LimitOutput) and characters.
MAX_OUTPUT_LINES = 200
MAX_OUTPUT_CHARS = 20_000
#: Ids nbformat accepts for cells (also used for nbgrader grade ids).
_ID_RE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_IGNORE = shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__", "*.pyc", ".DS_Store")
_TRAINEE = "trainee"  # student id inside each scratch course (the real name may not suit nbgrader)


# --------------------------------------------------------------------------------------------
# Visible tests: immediate, specific feedback in the trainee's notebook
# --------------------------------------------------------------------------------------------


class CheckFailed(AssertionError):
    """A visible self-check that failed: shown to the trainee as its message and hint only."""

    def _render_traceback_(self) -> list[str]:
        # IPython calls this instead of printing a traceback: the trainee needs what was expected
        # and where to look, not the lines of this module.
        return ["\x1b[31mCheck failed\x1b[0m", *str(self).splitlines()]


def check(condition: object, message: str, hint: str | None = None) -> None:
    """Print ``✓ message`` when ``condition`` is true, else raise ``AssertionError("✗ message\\nHint: ...")``.

    ``message`` says what was expected (never the answer to the exercise); ``hint`` says where to
    look. ``condition`` must be one truth value: pass ``(a == b).all()``, not an array.
    """
    __tracebackhide__ = True  # IPython and pytest hide this frame: the trainee sees their test line
    if not isinstance(message, str) or not message:
        raise TypeError("check() needs a non-empty message saying what was expected")
    if hasattr(condition, "shape") and getattr(condition, "shape", ()) not in ((), None):
        raise TypeError(
            "check() needs one True/False, got an array or table; reduce it with .all() or .any()"
        )
    if not bool(condition):
        raise CheckFailed(f"✗ {message}" + (f"\nHint: {hint}" if hint else ""))
    print(f"✓ {message}")


# --------------------------------------------------------------------------------------------
# Authoring: build a solution notebook with correct nbgrader metadata from Python
# --------------------------------------------------------------------------------------------

_KINDS = ("markdown", "readonly", "solution", "tests")


def new_assignment_notebook(cells: list[dict[str, Any]]) -> Any:
    """Build a solution notebook (``nbformat.NotebookNode``) with nbgrader metadata (schema 3).

    Each cell is a dict with ``kind``:

    - ``"markdown"``: ``source``; plain instructions the trainee may annotate.
    - ``"readonly"``: ``source``, optional ``cell_type`` (``"code"`` default or ``"markdown"``) and
      ``grade_id``; locked, restored from the source when graded (setup imports, data loading).
    - ``"solution"``: ``source`` with ``### BEGIN SOLUTION`` / ``### END SOLUTION`` around the
      answer (the region becomes :data:`CODE_STUB` in the exercise; without the markers the whole
      cell does), optional ``grade_id``.
    - ``"tests"``: ``grade_id``, ``points`` (> 0), ``visible`` (code the trainee sees and runs,
      usually :func:`check` calls) and optional ``hidden`` (code only the grader runs; it is
      wrapped in the hidden-test markers for you).

    Cell ids are deterministic (the grade id, or ``cell-<n>``) so regenerated files diff cleanly.
    """
    import nbformat

    if not isinstance(cells, list) or not cells:
        raise ValueError("new_assignment_notebook() needs a non-empty list of cell dicts")
    nb = nbformat.v4.new_notebook()
    nb.metadata = {
        "kernelspec": {
            "display_name": "Python 3 (ipykernel)",
            "language": "python",
            "name": "python3",
        },
        "language_info": {"name": "python"},
    }
    seen: set[str] = set()
    counters = dict.fromkeys(_KINDS, 0)
    for index, spec in enumerate(cells):
        if not isinstance(spec, dict) or spec.get("kind") not in _KINDS:
            raise ValueError(f"cell {index}: 'kind' must be one of {_KINDS}, got {spec!r:.80}")
        kind = spec["kind"]
        counters[kind] += 1
        unknown = set(spec) - {
            "kind",
            "source",
            "cell_type",
            "grade_id",
            "points",
            "visible",
            "hidden",
        }
        if unknown:
            raise ValueError(f"cell {index} ({kind}): unknown keys {sorted(unknown)}")
        grade_id = spec.get("grade_id") or (
            None if kind == "markdown" else f"{kind}-{counters[kind]}"
        )
        if kind == "tests" and not spec.get("grade_id"):
            raise ValueError(f"cell {index} (tests): give a grade_id such as 'task1-tests'")
        if grade_id is not None:
            if not _ID_RE.match(grade_id):
                raise ValueError(
                    f"cell {index}: grade_id {grade_id!r} must be 1-64 of A-Z a-z 0-9 _ -"
                )
            if grade_id in seen:
                raise ValueError(f"cell {index}: grade_id {grade_id!r} is used twice")
            seen.add(grade_id)
        if kind == "tests":
            cell = _tests_cell(index, spec)
        else:
            source = spec.get("source")
            if not isinstance(source, str) or not source.strip():
                raise ValueError(f"cell {index} ({kind}): 'source' must be non-empty text")
            cell_type = spec.get("cell_type", "markdown" if kind == "markdown" else "code")
            if cell_type not in ("code", "markdown") or (
                kind == "solution" and cell_type != "code"
            ):
                raise ValueError(f"cell {index} ({kind}): cell_type must be 'code' or 'markdown'")
            if kind == "solution" and (BEGIN_SOLUTION in source) != (END_SOLUTION in source):
                raise ValueError(
                    f"cell {index}: a solution needs both {BEGIN_SOLUTION!r} and {END_SOLUTION!r}"
                )
            if BEGIN_HIDDEN in source:
                raise ValueError(f"cell {index} ({kind}): hidden tests belong in a 'tests' cell")
            make = (
                nbformat.v4.new_code_cell if cell_type == "code" else nbformat.v4.new_markdown_cell
            )
            cell = make(source)
            if kind != "markdown":
                cell.metadata["nbgrader"] = {
                    "grade": False,
                    "grade_id": grade_id,
                    "locked": kind == "readonly",
                    "schema_version": 3,
                    "solution": kind == "solution",
                }
        cell.id = grade_id or f"cell-{index}"
        nb.cells.append(cell)
    if not counters["tests"]:
        raise ValueError("an assignment needs at least one 'tests' cell")
    return nb


def _tests_cell(index: int, spec: dict[str, Any]) -> Any:
    import nbformat

    points = spec.get("points")
    if isinstance(points, bool) or not isinstance(points, int | float) or not points > 0:
        raise ValueError(f"cell {index} (tests): points must be a positive number, got {points!r}")
    visible = spec.get("visible", "")
    hidden = spec.get("hidden") or ""
    if (
        not isinstance(visible, str)
        or not isinstance(hidden, str)
        or not (visible + hidden).strip()
    ):
        raise ValueError(f"cell {index} (tests): give 'visible' and/or 'hidden' test code as text")
    if any(marker in visible + hidden for marker in (BEGIN_HIDDEN, END_HIDDEN, BEGIN_SOLUTION)):
        raise ValueError(
            f"cell {index} (tests): write test code without markers; they are added for you"
        )
    source = visible.rstrip("\n")
    if hidden.strip():
        source += f"\n\n{BEGIN_HIDDEN}\n{hidden.strip(chr(10))}\n{END_HIDDEN}"
    cell = nbformat.v4.new_code_cell(source.lstrip("\n"))
    cell.metadata["nbgrader"] = {
        "grade": True,
        "grade_id": spec["grade_id"],
        "locked": True,
        "points": points,
        "schema_version": 3,
        "solution": False,
    }
    return cell


# --------------------------------------------------------------------------------------------
# nbgrader configuration shared by the API below and ./nbgrader_config.py
# --------------------------------------------------------------------------------------------


def nbgrader_settings(timeout: int = 60) -> Any:
    """The nbgrader ``Config`` this project uses (stubs, per-cell timeout in seconds, output limits).

    ``nbgrader_config.py`` at the project root merges it, so the nbgrader CLI and formgrader behave
    like :func:`generate_exercises` and :func:`grade`.
    """
    from traitlets.config import Config

    c = Config()
    c.CourseDirectory.course_id = COURSE_ID
    c.ClearSolutions.code_stub = {"python": CODE_STUB}
    c.ClearSolutions.text_stub = TEXT_STUB
    c.Execute.timeout = int(timeout)
    c.Execute.startup_timeout = 120
    c.Execute.interrupt_on_timeout = True
    # A flood of output (print of 50 MB) can outlast the wait for output after the cell's reply:
    # keep what arrived instead of failing the notebook.
    c.Execute.raise_on_iopub_timeout = False
    c.Execute.iopub_timeout = 5
    c.LimitOutput.max_lines = MAX_OUTPUT_LINES
    c.LimitOutput.max_traceback = 60
    # Files nbgrader writes default to read-only; feedback post-processing needs to rewrite them.
    for app in ("GenerateAssignment", "Autograde", "GenerateFeedback"):
        c[app].permissions = 644
    return c


def _ensure_tools_on_path() -> None:
    # nbgrader runs `alembic` as a subprocess to create gradebooks: the venv's bin/ must be on PATH.
    bindir = str(Path(sys.executable).parent)
    if bindir not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = bindir + os.pathsep + os.environ.get("PATH", "")


def _quiet_logger(name: str, stream: io.StringIO) -> logging.Logger:
    log = logging.getLogger(f"loyalty_lib.grading.{name}")
    log.handlers[:] = [logging.StreamHandler(stream)]
    log.handlers[0].setFormatter(logging.Formatter("[%(levelname)s] %(message)s"))
    log.setLevel(logging.INFO)
    log.propagate = False
    return log


@functools.cache
def _prepare_nbgrader() -> None:
    """Put the venv on PATH and answer nbgrader's alembic question in-process.

    A new gradebook asks ``alembic heads`` in a subprocess for the schema revision (a constant of
    the installed nbgrader): 2-10 s of interpreter start-up each time. Alembic's own API gives the
    same revision in milliseconds.
    """
    _ensure_tools_on_path()
    import nbgrader
    import nbgrader.api
    from alembic.config import Config as AlembicConfig
    from alembic.script import ScriptDirectory

    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(Path(nbgrader.__file__).parent / "alembic"))
    head = ScriptDirectory.from_config(cfg).get_current_head()
    nbgrader.api.get_alembic_version = lambda: head


def _worker_init() -> None:
    # jsonschema imports rfc3987_syntax (if installed) only for 'iri' format checks, which
    # notebooks never use; building its grammar costs ~2 s per process. Workers are ours alone.
    sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type]
    # Kernels inherit the worker's stdout/stderr and chatter there; keep the parent's progress bar
    # readable (everything useful is in grading.log).
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.dup2(devnull, 2)


def _run_converter(kind: str, config: Any, log: logging.Logger) -> None:
    """Run one nbgrader converter (``GenerateAssignment``/``Autograde``/``GenerateFeedback``)."""
    _prepare_nbgrader()
    from nbgrader import converters
    from nbgrader.coursedir import CourseDirectory

    coursedir = CourseDirectory(config=config, log=log)
    app = getattr(converters, kind)(coursedir=coursedir, config=config, log=log)
    app.force = True
    try:
        app.start()
    except Exception as exc:
        # nbgrader logs the cause and raises "see the above traceback"; surface the cause.
        stream = getattr(log.handlers[0], "stream", None) if log.handlers else None
        text = stream.getvalue() if isinstance(stream, io.StringIO) else ""
        causes = list(dict.fromkeys(re.findall(r"^(\w*(?:Error|Exception): .+)$", text, re.M)))
        detail = "; ".join(causes[-3:]) or f"{type(exc).__name__}: {exc}"
        raise GradingError(f"nbgrader {kind} failed: {detail}") from exc


class GradingError(RuntimeError):
    """nbgrader could not process a notebook; the message carries nbgrader's own reason."""


# --------------------------------------------------------------------------------------------
# Exercises
# --------------------------------------------------------------------------------------------


def find_assignments(solutions_dir: Path) -> dict[str, list[Path]]:
    """``{assignment folder name: [notebook paths]}`` for ``solutions_dir/*/*.ipynb``, sorted."""
    found: dict[str, list[Path]] = {}
    for nb_path in sorted(Path(solutions_dir).glob("*/*.ipynb")):
        found.setdefault(nb_path.parent.name, []).append(nb_path)
    return found


def _build_release(
    solutions_dir: Path, assignments: Iterable[str], work: Path, log: logging.Logger
) -> Path:
    """Generate the release (trainee) version of ``assignments`` in the course folder ``work``.

    One nbgrader run for all assignments; ``work/gradebook.db`` then knows every assignment's cells
    (source with hidden tests), which grading reuses as its template. Returns ``work``.
    """
    for name in assignments:
        shutil.copytree(solutions_dir / name, work / "source" / name, ignore=_IGNORE)
    config = nbgrader_settings()
    config.CourseDirectory.root = str(work)
    config.CourseDirectory.db_url = f"sqlite:///{work / 'gradebook.db'}"
    config.CourseDirectory.assignment_id = "*"
    _run_converter("GenerateAssignment", config, log)
    return work


def _normalised_notebook(path: Path) -> str:
    """Released notebook as stable JSON: no outputs, counts, toolbar state; sorted keys."""
    import nbformat

    nb = nbformat.read(path, as_version=4)
    nb.metadata.pop("celltoolbar", None)
    nb.metadata.pop("widgets", None)
    for index, cell in enumerate(nb.cells):
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
        cell.metadata.pop("execution", None)
        if not _ID_RE.match(str(cell.get("id") or "")):
            cell.id = f"cell-{index}"
    if (nb.nbformat, nb.nbformat_minor) < (4, 5):
        nb.nbformat_minor = 5
    return nbformat.writes(nb) + "\n"


def _release_files(release_dir: Path) -> dict[str, bytes]:
    """``{relative path: content}`` of one released assignment, notebooks normalised."""
    files: dict[str, bytes] = {}
    for path in sorted(p for p in release_dir.rglob("*") if p.is_file()):
        rel = path.relative_to(release_dir).as_posix()
        if ".ipynb_checkpoints" in rel or "__pycache__" in rel:
            continue
        files[rel] = (
            _normalised_notebook(path).encode() if path.suffix == ".ipynb" else path.read_bytes()
        )
    return files


def _expected_exercises(root: Path) -> dict[str, dict[str, bytes]]:
    assignments = find_assignments(root / "solutions")
    if not assignments:
        return {}
    with tempfile.TemporaryDirectory(prefix="loyalty-exercises-") as tmp:
        log = _quiet_logger("exercises", io.StringIO())
        work = _build_release(root / "solutions", assignments, Path(tmp) / "course", log)
        return {name: _release_files(work / "release" / name) for name in assignments}


def generate_exercises(root: Path = Path(".")) -> list[Path]:
    """Write ``root/exercises/<assignment>/`` from ``root/solutions/<assignment>/`` (returns notebooks).

    Solutions become :data:`CODE_STUB`, hidden tests are removed, outputs stripped; the JSON is
    stable (sorted keys, no timestamps or absolute paths) so ``git diff`` shows only real changes.
    Exercise folders whose solution folder is gone are removed.
    """
    root = Path(root)
    expected = _expected_exercises(root)
    out = root / "exercises"
    out.mkdir(parents=True, exist_ok=True)
    for stale in sorted(p for p in out.iterdir() if p.is_dir() and p.name not in expected):
        shutil.rmtree(stale)
    written: list[Path] = []
    for name, files in expected.items():
        shutil.rmtree(out / name, ignore_errors=True)
        for rel, content in files.items():
            target = out / name / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(content)
            if target.suffix == ".ipynb":
                written.append(target)
    return written


def check_exercises(root: Path = Path(".")) -> list[str]:
    """Regenerate into memory and compare with ``root/exercises``; one sentence per difference."""
    root = Path(root)
    expected = _expected_exercises(root)
    out = root / "exercises"
    problems: list[str] = []
    present = sorted(p.name for p in out.iterdir() if p.is_dir()) if out.is_dir() else []
    problems += [
        f"exercises/{name}/ has no solutions/{name}/ (extra)"
        for name in present
        if name not in expected and not name.startswith(".")
    ]
    for name, files in expected.items():
        actual = _release_files(out / name) if (out / name).is_dir() else {}
        for rel in sorted(set(files) | set(actual)):
            where = f"exercises/{name}/{rel}"
            if rel not in actual:
                problems.append(f"{where} is missing")
            elif rel not in files:
                problems.append(f"{where} is extra (not produced from solutions/{name}/)")
            elif actual[rel] != files[rel]:
                problems.append(f"{where} differs from what solutions/{name}/{rel} generates")
    return problems


# --------------------------------------------------------------------------------------------
# Grading
# --------------------------------------------------------------------------------------------


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
) -> GradeOutcome:
    """Autograde ``submissions_dir/<trainee>/<assignment>/<notebook>.ipynb`` with hidden tests.

    The assignments graded are those any trainee submitted (folder names matching
    ``root/solutions/<assignment>``); every trainee is graded on each of them, a missing or broken
    notebook scoring 0 with a line in ``errors.csv``. ``timeout`` is seconds per cell (a cell that
    runs longer is interrupted and its tests score 0). ``workers`` submissions are graded at once,
    each in its own scratch course. Writes to ``out_dir``: ``grades.csv`` (trainee, assignment,
    notebook, task, points, max_points), ``grades_summary.csv`` (trainee × assignment points),
    ``errors.csv`` (trainee, assignment, problem), ``feedback/<trainee>/<assignment>.html``,
    ``gradebook.db`` (nbgrader gradebook with every score, rewritten each run), ``grading.log``.
    """
    from tqdm import tqdm

    started = time.perf_counter()
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
        jobs = [
            _Job(
                trainee=t,
                assignment=a,
                submission_dir=str(submissions_dir / t / a),
                solutions_dir=str(root / "solutions" / a),
                gradebook=gradebook,
                notebooks=tuple(p.stem for p in solutions[a]),
                tasks=_tasks_of(solutions[a]),
                timeout=timeout,
            )
            for t in trainees
            for a in assignments
        ]
        results: list[dict[str, Any]] = []
        progress = tqdm(total=len(jobs), desc="grading", unit="submission", file=sys.stderr)
        if workers <= 1 or len(jobs) == 1:
            for job in jobs:
                results.append(_grade_job_safely(job))
                progress.update()
        else:
            import multiprocessing
            from concurrent.futures import ProcessPoolExecutor, as_completed

            # spawn, not fork: the parent may hold threads/event loops (pytest, Jupyter) that fork breaks.
            ctx = multiprocessing.get_context("spawn")
            with ProcessPoolExecutor(
                max_workers=min(workers, len(jobs)), mp_context=ctx, initializer=_worker_init
            ) as pool:
                futures = {pool.submit(_grade_job_safely, job): job for job in jobs}
                for future in as_completed(futures):
                    job = futures[future]
                    try:
                        results.append(future.result())
                    except Exception as exc:  # a worker process died: that submission only
                        results.append(_failed(job, f"grading failed: {type(exc).__name__}: {exc}"))
                    progress.update()
        progress.close()
        results.sort(key=lambda r: (r["trainee"], r["assignment"]))
        for t in trainees:
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
        _write_outputs(out_dir, results, template / "gradebook.db", assignments)
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
        (out_dir / "grading.log").write_text("\n".join(log_lines), encoding="utf-8")
    finally:
        shutil.rmtree(scratch_root, ignore_errors=True)

    with_problems = {(r["trainee"], r["assignment"]) for r in results if r["problems"]}
    for r in results:
        for problem in r["problems"]:
            echo(f"{r['trainee']}/{r['assignment']}: {problem}")
    return GradeOutcome(
        n_submissions=len(jobs),
        n_trainees=len(trainees),
        n_assignments=len(assignments),
        n_with_problems=len(with_problems),
        seconds=round(time.perf_counter() - started, 1),
        out_dir=str(out_dir),
    )


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
    _run_converter("Autograde", config, log)

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

        def preprocess(self, nb, resources=None, km=None):
            self._stopped = ""
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


def _redact_for_feedback(nb: Any) -> None:
    """Hide hidden tests in the autograded notebook before feedback: the code becomes a placeholder
    and a failing test's traceback (which quotes source lines) becomes its final line only."""
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if not meta.get("grade") or cell.cell_type != "code" or BEGIN_HIDDEN not in cell.source:
            continue
        placeholder = f"# hidden tests: not shown (this cell is worth {float(meta.get('points', 0)):g} points)"
        cell.source = re.sub(
            rf"[ \t]*{re.escape(BEGIN_HIDDEN)}.*?{re.escape(END_HIDDEN)}[^\n]*",
            placeholder,
            cell.source,
            flags=re.S,
        )
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                evalue = str(output.get("evalue", "")).strip()
                line = (
                    f"{output.get('ename', 'Error')}: {evalue}"
                    if evalue
                    else f"{output.get('ename', 'Error')}: a test failed (no message)"
                )
                output["traceback"] = [line]


def _write_outputs(
    out_dir: Path, results: list[dict[str, Any]], template_db: Path, assignments: list[str]
) -> None:
    """grades.csv, grades_summary.csv, errors.csv and the merged gradebook (parent process only)."""
    import pandas as pd

    rows = [row for r in results for row in r["rows"]]
    grades = pd.DataFrame(
        rows, columns=["trainee", "assignment", "notebook", "task", "points", "max_points"]
    )
    grades.to_csv(out_dir / "grades.csv", index=False)
    totals = (
        grades.groupby(["trainee", "assignment"], sort=True)["points"].sum().unstack("assignment")
    )
    totals = totals.reindex(columns=assignments).fillna(0.0)
    totals["total"] = totals.sum(axis=1)
    totals["max_total"] = float(
        grades.drop_duplicates(["assignment", "notebook", "task"])["max_points"].sum()
    )
    totals.reset_index().rename_axis(columns=None).to_csv(
        out_dir / "grades_summary.csv", index=False
    )
    with open(out_dir / "errors.csv", "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["trainee", "assignment", "problem"])
        for r in results:
            writer.writerows([r["trainee"], r["assignment"], p] for p in r["problems"])
    _merge_gradebook(out_dir / "gradebook.db", template_db, rows)


def _write_feedback(
    out_dir: Path,
    results: list[dict[str, Any]],
    course: Path,
    solutions: dict[str, list[Path]],
    log: logging.Logger,
) -> None:
    """Render ``out_dir/feedback/<trainee>/<assignment>.html`` from the redacted notebooks.

    One GenerateFeedback run over a scratch course whose gradebook is ``out_dir/gradebook.db``
    (scores already merged); the notebooks it renders have their hidden tests replaced already.
    """
    pending = [r for r in results if r.get("feedback_notebooks")]
    if not pending:
        return
    for r in pending:
        for name, text in r["feedback_notebooks"].items():
            path = course / "autograded" / r["trainee"] / r["assignment"] / f"{name}.ipynb"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
    config = nbgrader_settings()
    config.CourseDirectory.root = str(course)
    config.CourseDirectory.db_url = f"sqlite:///{(out_dir / 'gradebook.db').resolve()}"
    config.CourseDirectory.assignment_id = "*"
    config.CourseDirectory.student_id = "*"
    try:
        _run_converter("GenerateFeedback", config, log)
    except (
        Exception
    ):  # nbgrader renders the others and raises at the end; the missing are noted below
        log.exception("feedback failed for some submissions")
    for r in pending:
        single = len(solutions[r["assignment"]]) == 1
        for name in r["feedback_notebooks"]:
            html = course / "feedback" / r["trainee"] / r["assignment"] / f"{name}.html"
            target = (
                out_dir
                / "feedback"
                / r["trainee"]
                / (f"{r['assignment']}.html" if single else f"{r['assignment']}-{name}.html")
            )
            if html.is_file():
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy(html, target)
            else:
                r["problems"].append(
                    f"{name}.ipynb: the feedback page could not be rendered (see grading.log)"
                )


def _merge_gradebook(target: Path, template_db: Path, rows: list[tuple]) -> None:
    """An nbgrader gradebook with every score (``nbgrader export``/formgrader can read it)."""
    _prepare_nbgrader()
    from nbgrader.api import Gradebook

    target.unlink(missing_ok=True)
    shutil.copy(template_db, target)
    with warnings.catch_warnings(), Gradebook(f"sqlite:///{target.resolve()}", COURSE_ID) as gb:
        # nbgrader's add_submission trips SQLAlchemy's autoflush warning; harmless, and noisy.
        warnings.simplefilter("ignore")
        for trainee in sorted({r[0] for r in rows}):
            gb.update_or_create_student(trainee)
        for trainee, assignment in sorted({(r[0], r[1]) for r in rows}):
            gb.update_or_create_submission(assignment, trainee)
        for trainee, assignment, notebook, task, points, _max in rows:
            g = gb.find_grade(task, notebook, assignment, trainee)
            g.auto_score = points
            g.needs_manual_grade = False
        gb.db.commit()
