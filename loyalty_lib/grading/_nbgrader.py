"""Constants of the course format and the nbgrader plumbing shared by release and autograde
(settings, logger, the in-process alembic answer, one converter run)."""

from __future__ import annotations

import functools
import io
import logging
import os
import re
import shutil
import sys
from pathlib import Path
from typing import Any

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
    from loyalty_lib._pool import skip_iri_grammar

    skip_iri_grammar()
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
