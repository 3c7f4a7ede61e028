"""Build the fixture course for the grading tests (and the README's instructor example).

    python tests/grading_fixtures/make_fixtures.py

writes, next to this file, a course laid out like the project:

- ``solutions/01-fixture/fixture.ipynb``: three graded tasks (2 + 3 + 5 = 10 points), numpy/pandas only;
- ``exercises/01-fixture/fixture.ipynb``: generated from it by ``loyalty_lib.grading.generate_exercises``;
- ``submissions/<trainee>/01-fixture/fixture.ipynb``: one per case in ``EXPECTED`` below, from the
  perfect solution to hostile ones (endless loop, killed kernel, edited or deleted tests, ...).

The test suite rebuilds these in a temporary folder and fails if the committed files differ, so
edit this script, not the notebooks.
"""

from __future__ import annotations

import copy
import shutil
from pathlib import Path

import nbformat

from loyalty_lib.grading import generate_exercises, new_assignment_notebook

HERE = Path(__file__).resolve().parent
ASSIGNMENT, NOTEBOOK = "01-fixture", "fixture"

SETUP = """\
import numpy as np
import pandas as pd

from loyalty_lib.grading import check

scores = pd.Series([10, 9, 7, 3, 0, 10, 8, 9, 10, 6])
orders = pd.DataFrame({"customer_id": ["a", "a", "b", "c", "c", "c", "d", "e"]})"""

SOLUTION_1 = """\
### BEGIN SOLUTION
share_promoters = float((scores >= 9).mean())
### END SOLUTION"""

SOLUTION_2 = """\
def nps_points(s):
    ### BEGIN SOLUTION
    promoters = (s >= 9).mean()
    detractors = (s <= 6).mean()
    return float(100 * (promoters - detractors))
    ### END SOLUTION"""

SOLUTION_3 = """\
def repeat_rate(orders):
    ### BEGIN SOLUTION
    orders_per_customer = orders.groupby("customer_id").size()
    return float((orders_per_customer >= 2).mean())
    ### END SOLUTION"""

CELLS = [
    {
        "kind": "markdown",
        "source": "# Fixture assignment\n\nBack to the lesson: "
        "[01 NPS](../../notebooks/01_nps.ipynb). Run the first cell, then solve each task.",
    },
    {"kind": "readonly", "grade_id": "setup", "source": SETUP},
    {
        "kind": "markdown",
        "source": "**Task 1 (2 points).** Store in `share_promoters` the share "
        "(0..1) of responses that scored 9 or 10.",
    },
    {"kind": "solution", "grade_id": "task1-solution", "source": SOLUTION_1},
    {
        "kind": "tests",
        "grade_id": "task1-tests",
        "points": 2,
        "visible": 'check(isinstance(share_promoters, float), "share_promoters should be a float '
        '(a share, not a count)",\n      hint="take the mean of a True/False Series and '
        'wrap it in float(...)")\n'
        'check(0 <= share_promoters <= 1, "share_promoters should be between 0 and 1",\n'
        '      hint="divide by the number of responses")',
        # By hand: 10, 9, 10, 9, 10 are promoters, 5 of 10 responses -> 0.5.
        "hidden": "assert -1e-9 < float(share_promoters) - 0.5 < 1e-9, "
        '"share_promoters is not the share of 9-10 scores"',
    },
    {
        "kind": "markdown",
        "source": "**Task 2 (3 points).** Write `nps_points(s)`: the Net "
        "Promoter Score of a Series of 0-10 scores, in points (-100..100).",
    },
    {"kind": "solution", "grade_id": "task2-solution", "source": SOLUTION_2},
    {
        "kind": "tests",
        "grade_id": "task2-tests",
        "points": 3,
        "visible": "got = nps_points(pd.Series([10, 10, 10, 0]))\n"
        'check(abs(got - 50.0) < 1e-9, "nps_points([10, 10, 10, 0]) should be 50 points: '
        '75% promoters minus 25% detractors",\n'
        '      hint="NPS = (share of 9-10) - (share of 0-6), times 100")',
        # By hand: promoters 10, 9, 10, 9, 10 (5), detractors 3, 0, 6 (3), n = 10:
        # (5 - 3) / 10 * 100 = 20 points. Three passives: 0 - 0 = 0 points.
        "hidden": "assert 19.999999 < float(nps_points(scores)) < 20.000001, "
        '"nps_points is wrong on the survey scores"\n'
        "assert -1e-9 < float(nps_points(pd.Series([7, 8, 8]))) < 1e-9, "
        '"nps_points is wrong when everyone is a passive"',
    },
    {
        "kind": "markdown",
        "source": "**Task 3 (5 points).** Write `repeat_rate(orders)`: the share "
        "of customers with two or more orders.",
    },
    {"kind": "solution", "grade_id": "task3-solution", "source": SOLUTION_3},
    {
        "kind": "tests",
        "grade_id": "task3-tests",
        "points": 5,
        "visible": 'toy = pd.DataFrame({"customer_id": ["x", "x", "y"]})\n'
        'check(isinstance(repeat_rate(toy), float), "repeat_rate should return a float",\n'
        '      hint="wrap the result in float(...)")\n'
        'check(abs(repeat_rate(toy) - 0.5) < 1e-9, "with orders x, x, y the repeat rate '
        'should be 0.5: one of two customers bought twice",\n'
        '      hint="count orders per customer with groupby(...).size()")',
        # By hand: a 2 orders, b 1, c 3, d 1, e 1 -> 2 repeat customers of 5 = 0.4; all single -> 0.
        "hidden": "assert 0.399999 < float(repeat_rate(orders)) < 0.400001, "
        '"repeat_rate is wrong on the orders table"\n'
        'assert float(repeat_rate(pd.DataFrame({"customer_id": ["p", "q"]}))) == 0.0, '
        '"repeat_rate is wrong when nobody came back"',
    },
]

WRONG_2 = "def nps_points(s):\n    return 0.0"
WRONG_3 = "def repeat_rate(orders):\n    return 1.0"
NO_SCALE_2 = (
    "def nps_points(s):\n    # forgot the x 100\n"
    "    return float((s >= 9).mean() - (s <= 6).mean())"
)
# Sleeps rather than spins so the test suite does not burn a core for the timeout; a busy
# `while True: pass` is interrupted the same way (SIGINT lands between bytecodes).
LOOP_2 = "import time\n\n\ndef nps_points(s):\n    while True:  # forgot the exit condition\n        time.sleep(0.05)"
CRASH_2 = "import os\n\nos._exit(1)"
MONKEYPATCH = (
    "import builtins\n\n"
    "# make every visible 'abs(got - expected) < tol' check pass\n"
    "builtins.abs = lambda x: 0.0"
)
REDEFINE = (
    "# added after the tests: too late to change the scores\n"
    "def nps_points(s):\n    return float(100 * ((s >= 9).mean() - (s <= 6).mean()))\n\n\n"
    "def repeat_rate(orders):\n    return float((orders.groupby('customer_id').size() >= 2).mean())"
)
ESCAPE = """\
# tries to damage the grader's files and other trainees' work through relative paths
from pathlib import Path

for up in range(1, 5):
    base = Path("../" * up)
    for name in ("gradebook.db", "grades.csv", "errors.csv", "fixture.ipynb"):
        try:
            (base / name).write_text("hacked")
        except OSError:
            pass
    for other in ("perfect", "trainee", "source"):
        try:
            (base / other / "01-fixture").mkdir(parents=True, exist_ok=True)
            (base / other / "01-fixture" / "fixture.ipynb").write_text("hacked")
        except OSError:
            pass"""

#: trainee -> expected points per task (task1 /2, task2 /3, task3 /5), worked out by hand from
#: the submissions built below; the grading test asserts exactly these.
EXPECTED = {
    "perfect": (2, 3, 5),
    "blank": (0, 0, 0),  # the exercise as released: every solution raises NotImplementedError
    "partial": (2, 0, 5),  # task 2 forgets the x 100
    "loop": (2, 0, 5),  # task 2's function never returns: its test cell is interrupted
    "crash": (2, 0, 0),  # kernel killed in task 2's solution: nothing after it runs
    "edited_tests": (2, 3, 0),  # tests 2, 3 replaced by `pass`, task 3 wrong: restored
    "deleted_tests": (2, 0, 5),  # test 2 deleted and task 2 wrong: the restored test catches it
    "redefine_after": (2, 0, 0),  # tasks 2, 3 wrong; correct versions in a cell after the tests
    "monkeypatch": (2, 0, 5),  # builtins.abs patched so visible test 2 passes; hidden test fails
    "huge_output": (2, 3, 5),  # prints 50 MB in task 1
    "escape": (2, 3, 5),  # correct, plus writes to ../ paths
    "invalid_json": (0, 0, 0),
    "missing": (0, 0, 0),
}


def _code(source: str) -> nbformat.NotebookNode:
    cell = nbformat.v4.new_code_cell(source)
    cell.id = "trainee-new"  # renumbered in _submission so ids stay stable
    return cell


def _answer(solution_source: str) -> str:
    """What a trainee types: the solution without nbgrader's markers."""
    return "\n".join(
        line
        for line in solution_source.splitlines()
        if line.strip() not in ("### BEGIN SOLUTION", "### END SOLUTION")
    )


ANSWERS = {
    "task1-solution": _answer(SOLUTION_1),
    "task2-solution": _answer(SOLUTION_2),
    "task3-solution": _answer(SOLUTION_3),
}


def _submission(exercise: nbformat.NotebookNode, trainee: str) -> nbformat.NotebookNode:
    """The released exercise as ``trainee`` hands it in (correct answers unless changed below)."""
    nb = copy.deepcopy(exercise)
    by_id = {c.metadata.get("nbgrader", {}).get("grade_id"): c for c in nb.cells}
    for grade_id, answer in ANSWERS.items():
        by_id[grade_id].source = answer

    def replace(grade_id: str, source: str) -> None:
        by_id[grade_id].source = source

    def insert_before(grade_id: str, source: str) -> None:
        nb.cells.insert(nb.cells.index(by_id[grade_id]), _code(source))

    if trainee == "partial":
        replace("task2-solution", NO_SCALE_2)
    elif trainee == "loop":
        replace("task2-solution", LOOP_2)
    elif trainee == "crash":
        replace("task2-solution", CRASH_2)
    elif trainee == "edited_tests":
        replace("task3-solution", WRONG_3)
        replace("task2-tests", "pass")
        replace("task3-tests", "pass")
    elif trainee == "deleted_tests":
        replace("task2-solution", WRONG_2)
        nb.cells.remove(by_id["task2-tests"])
    elif trainee == "redefine_after":
        replace("task2-solution", WRONG_2)
        replace("task3-solution", WRONG_3)
        nb.cells.append(_code(REDEFINE))
    elif trainee == "monkeypatch":
        replace("task2-solution", WRONG_2)
        insert_before("task2-tests", MONKEYPATCH)
    elif trainee == "huge_output":
        replace("task1-solution", ANSWERS["task1-solution"] + '\nprint("x" * 50_000_000)')
    elif trainee == "escape":
        nb.cells.append(_code(ESCAPE))
    for index, cell in enumerate(nb.cells):
        if cell.id.startswith("trainee-"):
            cell.id = f"trainee-{index}"
    return nb


def build(target: Path = HERE) -> None:
    """Write solutions/, exercises/ and submissions/ under ``target``."""
    solution = new_assignment_notebook(CELLS)
    sol_path = target / "solutions" / ASSIGNMENT / f"{NOTEBOOK}.ipynb"
    sol_path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(solution, sol_path)
    (exercise_path,) = generate_exercises(target)
    shutil.rmtree(target / "submissions", ignore_errors=True)
    exercise = nbformat.read(exercise_path, as_version=4)
    for trainee in EXPECTED:
        folder = target / "submissions" / trainee / ASSIGNMENT
        folder.mkdir(parents=True)
        path = folder / f"{NOTEBOOK}.ipynb"
        if trainee == "blank":
            shutil.copy(exercise_path, path)
        elif trainee == "invalid_json":
            path.write_text('{"cells": [ this is not JSON', encoding="utf-8")
        elif trainee == "missing":  # the folder exists (handed in something else), the notebook not
            (folder / "NOTE.txt").write_text("I forgot to attach the notebook.\n", encoding="utf-8")
        else:
            nbformat.write(_submission(exercise, trainee), path)


if __name__ == "__main__":
    build()
    print(f"wrote the fixture course under {HERE}")
