"""The Russian assignments (solutions/ru/, exercises/ru/): the English tasks, points and hidden
tests with Russian text, released like the English ones and graded by the same `loyalty grade`.

Independent numbers: the points per assignment are read off the English task headings (01: 4 + 6
+ 4 + 3 + 3 + 4 + 3 + 4 = 31; 02: 3 + 4 + 3 + 2 + 2 = 14; 03: 3 + 2 + 3 + 3 + 2 = 13; 04: 3 + 2
+ 2 + 3 + 2 = 12; 05: 4 + 3 + 3 + 3 + 3 = 16; 06: 3 + 3 + 3 + 2 + 2 = 13; 07: 3 + 4 + 4 + 3 + 3 =
17), not from the nbgrader metadata the tests compare.
"""

from __future__ import annotations

import csv
import html
import json
import re
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from loyalty_lib import pipeline
from loyalty_lib.cli import main
from loyalty_lib.grading.release import _check_edition
from loyalty_lib.translation import check_translations

ROOT = pipeline.project_root()
#: assignment → (notebook, total points from the English task headings, a Russian task heading)
ASSIGNMENTS = {
    "01-nps": ("nps", 31, "Задача 4 (4 балла)"),
    "02-ltv": ("ltv", 14, "Задача 1b (4 балла)"),
    "03-segmentation": ("segmentation", 13, "Задача 2 (2 балла)"),
    "04-churn": ("churn", 12, "Задача 2 (2 балла)"),
    "05-program-design": ("program_design", 16, "Задача 2 · База по данным (3 балла)"),
    "06-evaluation": ("evaluation", 13, "Задача 1 (3 балла)"),
    "07-capstone": ("capstone", 17, "Задача 3b (3 балла)"),
}


def _cells(path: Path) -> list[dict]:
    return json.loads(path.read_text(encoding="utf-8"))["cells"]


def _points(path: Path) -> dict[str, float]:
    return {
        c["id"]: c["metadata"]["nbgrader"]["points"]
        for c in _cells(path)
        if c["metadata"].get("nbgrader", {}).get("grade")
    }


def _markdown_letters(path: Path) -> tuple[int, int]:
    """(Cyrillic letters, all letters) of the Markdown, code spans and link targets removed."""
    text = "\n".join("".join(c["source"]) for c in _cells(path) if c["cell_type"] == "markdown")
    text = re.sub(r"```.*?```", "", text, flags=re.S)
    text = re.sub(r"`[^`]*`", "", text)
    text = re.sub(r"\]\([^)]*\)", "]", text)
    letters = [ch for ch in text if ch.isalpha()]
    return sum("\u0400" <= ch <= "\u04ff" for ch in letters), len(letters)


@pytest.mark.parametrize("assignment", sorted(ASSIGNMENTS))
def test_russian_assignment_keeps_the_english_points(assignment):
    notebook, total, heading = ASSIGNMENTS[assignment]
    english = _points(ROOT / "solutions" / assignment / f"{notebook}.ipynb")
    russian = _points(ROOT / "solutions" / "ru" / assignment / f"{notebook}.ipynb")
    assert sum(english.values()) == total
    assert russian == english
    text = "".join(
        "".join(c["source"])
        for c in _cells(ROOT / "solutions/ru" / assignment / f"{notebook}.ipynb")
    )
    assert heading in text


@pytest.mark.parametrize("edition", ["solutions", "exercises"])
@pytest.mark.parametrize("assignment", sorted(ASSIGNMENTS))
def test_russian_assignment_reads_as_russian(edition, assignment):
    notebook = ASSIGNMENTS[assignment][0]
    cyrillic, letters = _markdown_letters(ROOT / edition / "ru" / assignment / f"{notebook}.ipynb")
    assert letters > 1000, "the assignment has lost its text"
    assert cyrillic / letters > 0.8, f"only {cyrillic / letters:.0%} Cyrillic letters"
    en_cyrillic, _ = _markdown_letters(ROOT / edition / assignment / f"{notebook}.ipynb")
    assert en_cyrillic == 0  # the measure tells the editions apart


def test_every_russian_assignment_is_in_sync_and_released():
    present = sorted(p.name for p in (ROOT / "solutions/ru").iterdir() if p.is_dir())
    assert set(ASSIGNMENTS) <= set(present)
    assert check_translations(ROOT) == []
    assert _check_edition(ROOT, "ru") == []


@pytest.mark.parametrize("assignment", ["02-ltv", "03-segmentation"])
def test_russian_exercise_has_the_english_stubs_and_no_solution(assignment):
    notebook = ASSIGNMENTS[assignment][0]
    russian = _cells(ROOT / "exercises/ru" / assignment / f"{notebook}.ipynb")
    english = _cells(ROOT / "exercises" / assignment / f"{notebook}.ipynb")
    text = "".join("".join(c["source"]) for c in russian)
    assert "BEGIN HIDDEN TESTS" not in text and "BEGIN SOLUTION" not in text
    english_text = "".join("".join(c["source"]) for c in english)
    # one stub per task, as in the English release (five tasks in each)
    assert text.count("YOUR CODE HERE") == english_text.count("YOUR CODE HERE") == 5
    assert [c["id"] for c in russian] == [c["id"] for c in english]


# ----------------------------------------------------------------------------- grading


@pytest.fixture(scope="module")
def class_grades(tmp_path_factory):
    """One `loyalty grade` run over a mixed class: an English NPS solution, the Russian
    solutions of 01-07 and the blank Russian exercises of 01-07."""
    base = tmp_path_factory.mktemp("ru-class")
    subs = base / "submissions"
    for trainee, folder, assignments in (
        ("en-solution", ROOT / "solutions", ["01-nps"]),
        ("ru-solution", ROOT / "solutions/ru", sorted(ASSIGNMENTS)),
        ("ru-blank", ROOT / "exercises/ru", sorted(ASSIGNMENTS)),
    ):
        for assignment in assignments:
            notebook = ASSIGNMENTS[assignment][0]
            target = subs / trainee / assignment / f"{notebook}.ipynb"
            target.parent.mkdir(parents=True)
            shutil.copy(folder / assignment / f"{notebook}.ipynb", target)
    out = base / "out"
    result = CliRunner().invoke(
        main, ["grade", str(subs), "--out", str(out), "--root", str(ROOT), "--timeout", "300"]
    )
    assert result.exit_code == 0, result.output
    with open(out / "grades.csv", encoding="utf-8") as fh:
        grades = list(csv.DictReader(fh))
    with open(out / "errors.csv", encoding="utf-8") as fh:
        errors = list(csv.DictReader(fh))
    return grades, errors, out


def _total(grades, trainee, assignment) -> tuple[float, float]:
    rows = [r for r in grades if (r["trainee"], r["assignment"]) == (trainee, assignment)]
    return sum(float(r["points"]) for r in rows), sum(float(r["max_points"]) for r in rows)


@pytest.mark.notebooks
@pytest.mark.parametrize("assignment", sorted(ASSIGNMENTS))
def test_russian_solution_scores_full_marks_and_blank_exercise_zero(class_grades, assignment):
    grades, errors, _out = class_grades
    total = ASSIGNMENTS[assignment][1]
    assert _total(grades, "ru-solution", assignment) == (total, total)
    assert _total(grades, "ru-blank", assignment) == (0, total)
    problems = [e["problem"] for e in errors if e["trainee"] == "ru-solution"]
    assert problems == []


@pytest.mark.notebooks
def test_english_and_russian_nps_submissions_graded_together(class_grades):
    grades, errors, _out = class_grades
    assert _total(grades, "en-solution", "01-nps") == (31, 31)
    assert _total(grades, "ru-solution", "01-nps") == (31, 31)
    per_task = {
        t: sorted(
            (r["task"], r["points"])
            for r in grades
            if (r["trainee"], r["assignment"]) == (t, "01-nps")
        )
        for t in ("en-solution", "ru-solution")
    }
    assert per_task["en-solution"] == per_task["ru-solution"]
    # the English trainee submitted only 01-nps: the other assignments score 0 with a reason
    assert _total(grades, "en-solution", "02-ltv") == (0, 14)
    en_problems = [(e["assignment"], e["problem"]) for e in errors if e["trainee"] == "en-solution"]
    assert ("01-nps", "") not in en_problems
    assert all(a != "01-nps" for a, _ in en_problems), en_problems


def _feedback_text(out: Path, trainee: str, assignment: str) -> str:
    page = (out / "feedback" / trainee / f"{assignment}.html").read_text(encoding="utf-8")
    return html.unescape(re.sub(r"<[^>]+>", "", page))


@pytest.mark.notebooks
def test_russian_feedback_keeps_the_russian_task_text(class_grades):
    *_, out = class_grades
    text = _feedback_text(out, "ru-blank", "01-nps")
    assert "Задача 1 (10 баллов)" in text and "Task 1" not in text


@pytest.mark.notebooks
def test_russian_feedback_shows_the_russian_check_messages(class_grades):
    *_, out = class_grades
    text = _feedback_text(out, "ru-blank", "01-nps")
    assert "result — это NPSResult" in text, "the visible check reads in English"
