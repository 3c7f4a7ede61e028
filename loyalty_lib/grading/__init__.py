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

Package layout (one job per module; every name importable from ``loyalty_lib.grading`` as before):
``check`` (what trainee notebooks import), ``authoring`` (solution notebooks from Python),
``release`` (exercises from solutions), ``sandbox`` (the bubblewrap kernel jail), ``autograde``,
``feedback`` (HTML feedback and result files), ``exports`` (LMS gradebooks, late penalties, similarity).

Trainee notebooks import :func:`check` from here, so nbgrader is imported lazily inside functions.
"""

from loyalty_lib.grading._nbgrader import (
    BEGIN_HIDDEN,
    BEGIN_SOLUTION,
    CODE_STUB,
    COURSE_ID,
    END_HIDDEN,
    END_SOLUTION,
    MAX_NOTEBOOK_BYTES,
    MAX_OUTPUT_CHARS,
    MAX_OUTPUT_LINES,
    TEXT_STUB,
    GradingError,
    nbgrader_settings,
)
from loyalty_lib.grading.authoring import new_assignment_notebook
from loyalty_lib.grading.autograde import (
    GradeOutcome,
    grade,
)
from loyalty_lib.grading.check import CheckFailed, check
from loyalty_lib.grading.release import check_exercises, find_assignments, generate_exercises

__all__ = [
    "BEGIN_HIDDEN",
    "BEGIN_SOLUTION",
    "CODE_STUB",
    "COURSE_ID",
    "END_HIDDEN",
    "END_SOLUTION",
    "MAX_NOTEBOOK_BYTES",
    "MAX_OUTPUT_CHARS",
    "MAX_OUTPUT_LINES",
    "TEXT_STUB",
    "CheckFailed",
    "GradeOutcome",
    "GradingError",
    "check",
    "check_exercises",
    "find_assignments",
    "generate_exercises",
    "grade",
    "nbgrader_settings",
    "new_assignment_notebook",
]
