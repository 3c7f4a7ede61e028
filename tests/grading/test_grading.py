"""Exercises from solutions and autograding (loyalty_lib.grading) on the fixture course.

The fixture course (tests/grading_fixtures, built by its make_fixtures.py) has one assignment with
three tasks worth 2 + 3 + 5 points and one submission per case, from the perfect solution to
hostile ones. The points each trainee must get are worked out by hand in make_fixtures.EXPECTED
(with the reason for each); the grading test asserts exactly those, per task.
"""

from __future__ import annotations

import csv
import hashlib
import importlib.util
import json
import shutil
from pathlib import Path

import nbformat
import numpy as np
import pytest

from loyalty_lib import grading
from loyalty_lib.grading import _nbgrader, autograde, feedback

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "grading_fixtures"
ASSIGNMENT, NOTEBOOK = "01-fixture", "fixture"
TASKS = ("task1-tests", "task2-tests", "task3-tests")
MAX_POINTS = (2.0, 3.0, 5.0)


def _load_make_fixtures():
    spec = importlib.util.spec_from_file_location("make_fixtures", FIXTURES / "make_fixtures.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


make_fixtures = _load_make_fixtures()
EXPECTED = make_fixtures.EXPECTED


def _tree(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def _digest(folder: Path) -> str:
    h = hashlib.sha256()
    for rel, content in _tree(folder).items():
        h.update(rel.encode() + b"\0" + content)
    return h.hexdigest()


# ---------------------------------------------------------------------------------------------
# check(): the visible-test helper
# ---------------------------------------------------------------------------------------------


def test_check_prints_a_tick_when_the_condition_holds(capsys):
    grading.check(1 + 1 == 2, "two is two")
    grading.check(np.bool_(True), "numpy truth values are fine")
    assert capsys.readouterr().out == "✓ two is two\n✓ numpy truth values are fine\n"


def test_check_raises_with_message_and_hint():
    with pytest.raises(AssertionError) as err:
        grading.check(False, "nps should be 20 points", hint="multiply by 100")
    assert str(err.value) == "✗ nps should be 20 points\nHint: multiply by 100"
    with pytest.raises(AssertionError) as err:
        grading.check(0, "no hint here")
    assert str(err.value) == "✗ no hint here"


def test_failed_check_shows_message_and_hint_without_a_traceback_in_ipython():
    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell.instance()
    result = shell.run_cell(
        "from loyalty_lib.grading import check\n"
        "check(False, 'nps should be 20 points', hint='multiply by 100')"
    )
    assert isinstance(result.error_in_exec, grading.CheckFailed)
    lines = result.error_in_exec._render_traceback_()
    assert lines[1:] == ["✗ nps should be 20 points", "Hint: multiply by 100"]
    assert not any("loyalty_lib/grading" in line for line in lines)


def test_check_refuses_arrays_and_empty_messages():
    with pytest.raises(TypeError, match=r"\.all\(\)"):
        grading.check(np.array([True, False]), "an array is ambiguous")
    with pytest.raises(TypeError, match="message"):
        grading.check(True, "")


# ---------------------------------------------------------------------------------------------
# new_assignment_notebook(): the authoring builder
# ---------------------------------------------------------------------------------------------


def test_builder_writes_nbgrader_metadata():
    nb = grading.new_assignment_notebook(make_fixtures.CELLS)
    nbformat.validate(nb)
    by_id = {c.id: c for c in nb.cells}
    assert [c.id for c in nb.cells][:2] == ["cell-0", "setup"]
    assert "nbgrader" not in by_id["cell-0"].metadata  # plain markdown stays editable
    assert by_id["setup"].metadata["nbgrader"] == {
        "grade": False,
        "grade_id": "setup",
        "locked": True,
        "schema_version": 3,
        "solution": False,
    }
    assert by_id["task2-solution"].metadata["nbgrader"] == {
        "grade": False,
        "grade_id": "task2-solution",
        "locked": False,
        "schema_version": 3,
        "solution": True,
    }
    assert by_id["task3-tests"].metadata["nbgrader"] == {
        "grade": True,
        "grade_id": "task3-tests",
        "locked": True,
        "points": 5,
        "schema_version": 3,
        "solution": False,
    }
    source = by_id["task3-tests"].source
    assert source.startswith('toy = pd.DataFrame({"customer_id": ["x", "x", "y"]})')
    assert (
        source.index(grading.BEGIN_HIDDEN)
        < source.index("0.399999")
        < source.index(grading.END_HIDDEN)
    )
    # Deterministic: the same cells give the same JSON (no random cell ids).
    assert nbformat.writes(nb) == nbformat.writes(
        grading.new_assignment_notebook(make_fixtures.CELLS)
    )


@pytest.mark.parametrize(
    ("cells", "match"),
    [
        ([], "non-empty list"),
        ([{"kind": "quiz", "source": "x"}], "'kind' must be one of"),
        ([{"kind": "solution", "source": "x = 1"}], "at least one 'tests' cell"),
        ([{"kind": "tests", "points": 1, "visible": "pass"}], "give a grade_id"),
        ([{"kind": "tests", "grade_id": "t", "points": 0, "visible": "pass"}], "positive number"),
        (
            [{"kind": "tests", "grade_id": "t", "points": True, "visible": "pass"}],
            "positive number",
        ),
        ([{"kind": "tests", "grade_id": "t", "points": 1}], "'visible' and/or 'hidden'"),
        ([{"kind": "tests", "grade_id": "bad id", "points": 1, "visible": "pass"}], "1-64 of"),
        (
            [
                {"kind": "tests", "grade_id": "t", "points": 1, "visible": "pass"},
                {"kind": "tests", "grade_id": "t", "points": 1, "visible": "pass"},
            ],
            "used twice",
        ),
        (
            [{"kind": "tests", "grade_id": "t", "points": 1, "visible": "### BEGIN HIDDEN TESTS"}],
            "without markers",
        ),
        ([{"kind": "solution", "source": "### BEGIN SOLUTION\nx = 1"}], "needs both"),
        (
            [{"kind": "readonly", "source": "### BEGIN HIDDEN TESTS\n### END HIDDEN TESTS"}],
            "belong in a 'tests' cell",
        ),
        ([{"kind": "markdown", "source": " "}], "non-empty text"),
        (
            [{"kind": "tests", "grade_id": "t", "points": 1, "visible": "pass", "hiden": "x"}],
            "unknown keys",
        ),
    ],
)
def test_builder_rejects_malformed_cells(cells, match):
    with pytest.raises(ValueError, match=match):
        grading.new_assignment_notebook(cells)


# ---------------------------------------------------------------------------------------------
# Exercises: generation, content, sync check
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def rebuilt_fixtures(tmp_path_factory) -> Path:
    """The fixture course rebuilt from make_fixtures.py in a fresh folder (one nbgrader run)."""
    target = tmp_path_factory.mktemp("rebuilt")
    make_fixtures.build(target)
    return target


def test_committed_fixture_course_is_what_make_fixtures_builds(rebuilt_fixtures):
    # Built in another folder, in another process than the committed copy: equal bytes also prove
    # the generated exercise holds no absolute path, timestamp or random id.
    for part in ("solutions", "exercises", "submissions"):
        committed, rebuilt = _tree(FIXTURES / part), _tree(rebuilt_fixtures / part)
        assert committed.keys() == rebuilt.keys(), part
        stale = [rel for rel in committed if committed[rel] != rebuilt[rel]]
        assert not stale, f"run `python tests/grading_fixtures/make_fixtures.py`: {stale} differ"


def test_exercise_hides_solutions_and_hidden_tests():
    text = (FIXTURES / "exercises" / ASSIGNMENT / f"{NOTEBOOK}.ipynb").read_text(encoding="utf-8")
    nb = nbformat.reads(text, as_version=4)
    assert "BEGIN SOLUTION" not in text and "HIDDEN TESTS" not in text
    for spec in make_fixtures.CELLS:
        for line in spec.get("hidden", "").splitlines():
            assert line.strip() not in text, line
    for answer in (
        "float((scores >= 9).mean())",
        "100 * (promoters - detractors)",
        "orders_per_customer",
    ):
        assert answer not in text
    by_id = {c.id: c for c in nb.cells}
    assert by_id["task1-solution"].source == grading.CODE_STUB
    assert by_id["task2-solution"].source == (
        "def nps_points(s):\n    # YOUR CODE HERE\n    raise NotImplementedError()"
    )
    assert by_id["task3-solution"].source == (
        "def repeat_rate(orders):\n    # YOUR CODE HERE\n    raise NotImplementedError()"
    )
    # The visible tests stay, locked (JupyterLab honours editable/deletable).
    assert by_id["task2-tests"].source.startswith("got = nps_points(pd.Series([10, 10, 10, 0]))")
    assert by_id["task2-tests"].metadata["editable"] is False
    assert by_id["task2-tests"].metadata["deletable"] is False
    assert all(c.get("outputs", []) == [] and c.get("execution_count") is None for c in nb.cells)
    assert str(ROOT) not in text and "/tmp" not in text
    assert json.dumps(json.loads(text), sort_keys=True, indent=1, ensure_ascii=False) + "\n" == text


def test_check_exercises_is_quiet_when_in_sync():
    assert grading.check_exercises(FIXTURES) == []


def test_check_exercises_reports_drift_and_generate_repairs_it(tmp_path):
    shutil.copytree(FIXTURES / "solutions", tmp_path / "solutions")
    shutil.copytree(FIXTURES / "exercises", tmp_path / "exercises")
    shutil.copytree(FIXTURES / "solutions" / ASSIGNMENT, tmp_path / "solutions" / "02-copy")
    exercise = tmp_path / "exercises" / ASSIGNMENT / f"{NOTEBOOK}.ipynb"
    exercise.write_text(
        exercise.read_text(encoding="utf-8").replace("Task 1", "Task one"), encoding="utf-8"
    )
    (tmp_path / "exercises" / ASSIGNMENT / "notes.csv").write_text("a,b\n", encoding="utf-8")
    (tmp_path / "exercises" / "99-gone").mkdir()
    (tmp_path / "exercises" / "README.md").write_text("generated\n", encoding="utf-8")

    problems = grading.check_exercises(tmp_path)

    assert problems == [
        "exercises/99-gone/ has no solutions/99-gone/ (extra)",
        f"exercises/{ASSIGNMENT}/{NOTEBOOK}.ipynb differs from what solutions/{ASSIGNMENT}/{NOTEBOOK}.ipynb generates",
        f"exercises/{ASSIGNMENT}/notes.csv is extra (not produced from solutions/{ASSIGNMENT}/)",
        f"exercises/02-copy/{NOTEBOOK}.ipynb is missing",
    ]
    written = grading.generate_exercises(tmp_path)
    assert written == [
        tmp_path / "exercises" / "01-fixture" / "fixture.ipynb",
        tmp_path / "exercises" / "02-copy" / "fixture.ipynb",
    ]
    committed = (FIXTURES / "exercises" / ASSIGNMENT / f"{NOTEBOOK}.ipynb").read_bytes()
    assert exercise.read_bytes() == committed
    assert (tmp_path / "exercises" / "02-copy" / f"{NOTEBOOK}.ipynb").read_bytes() == committed
    assert not (tmp_path / "exercises" / "99-gone").exists()
    assert not (tmp_path / "exercises" / ASSIGNMENT / "notes.csv").exists()
    assert (tmp_path / "exercises" / "README.md").exists()  # top-level files are left alone


def test_generate_exercises_names_the_authoring_mistake(tmp_path):
    nb = grading.new_assignment_notebook(
        [
            {"kind": "solution", "grade_id": "s", "source": "x = 1"},
            {"kind": "tests", "grade_id": "t", "points": 1, "visible": "assert x == 1"},
        ]
    )
    nb.cells[0].source = "### BEGIN SOLUTION\nx = 1"  # END marker forgotten after building
    (tmp_path / "solutions" / "01-bad").mkdir(parents=True)
    nbformat.write(nb, tmp_path / "solutions" / "01-bad" / "bad.ipynb")
    with pytest.raises(grading.GradingError, match="no end solution statement found"):
        grading.generate_exercises(tmp_path)


# ---------------------------------------------------------------------------------------------
# Grading helpers (no kernels)
# ---------------------------------------------------------------------------------------------


def _exercise() -> nbformat.NotebookNode:
    return nbformat.read(FIXTURES / "exercises" / ASSIGNMENT / f"{NOTEBOOK}.ipynb", as_version=4)


def test_read_submission_explains_what_is_wrong(tmp_path, monkeypatch):
    assert autograde._read_submission(tmp_path / "absent.ipynb") == (None, "missing")
    (tmp_path / "bad.ipynb").write_text("{not json", encoding="utf-8")
    nb, why = autograde._read_submission(tmp_path / "bad.ipynb")
    assert nb is None and why.startswith("not a valid notebook")
    (tmp_path / "list.ipynb").write_text("[]", encoding="utf-8")
    assert autograde._read_submission(tmp_path / "list.ipynb")[1].startswith("not a valid notebook")
    good = FIXTURES / "submissions" / "perfect" / ASSIGNMENT / f"{NOTEBOOK}.ipynb"
    assert autograde._read_submission(good)[1] == ""
    monkeypatch.setattr(autograde, "MAX_NOTEBOOK_BYTES", 100)
    assert autograde._read_submission(good)[1].startswith("not graded: larger than")


def test_deleted_locked_cells_are_restored_after_their_predecessor():
    nb = _exercise()
    ids = [c.id for c in nb.cells]
    nb.cells = [c for c in nb.cells if c.id not in ("setup", "task2-tests")]
    notes = autograde._restore_locked_cells(
        nb, grading.new_assignment_notebook(make_fixtures.CELLS)
    )
    assert [c.id for c in nb.cells] == ids
    assert notes == [
        "read-only cell 'setup' was deleted; restored from the source and graded",
        "test cell 'task2-tests' was deleted; restored from the source and graded",
    ]
    assert (
        autograde._restore_locked_cells(nb, grading.new_assignment_notebook(make_fixtures.CELLS))
        == []
    )


def test_edited_locked_cells_are_reported():
    nb = _exercise()
    assert autograde._edited_locked_cells(nb) == []
    next(c for c in nb.cells if c.id == "task3-tests").source = "pass"
    assert autograde._edited_locked_cells(nb) == [
        "test cell 'task3-tests' was edited; the original was restored and graded"
    ]


@pytest.mark.parametrize(
    ("code", "flagged"),
    [
        ("import builtins\nbuiltins.abs = lambda x: 0", "builtins.abs"),
        ("__builtins__.abs = print", "__builtins__.abs"),
        ("import numpy as np\nnp.isclose = lambda *a, **k: True", "np.isclose"),
        ("import math\nsetattr(math, 'isclose', None)", "math.?"),
        ("import loyalty_lib.nps\nloyalty_lib.nps.nps = None", "loyalty_lib.nps.nps"),
        ("df = make()\ndf.columns = ['a', 'b']", None),  # ordinary pandas, not tampering
        ("import numpy as np\nx = np.zeros(3)\nx[0] = 1", None),
        ("%timeit f()\nvalue = 1", None),
    ],
)
def test_tampering_notes_flag_patched_modules_only(code, flagged):
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(code)])
    notes = autograde._tampering_notes(nb)
    if flagged is None:
        assert notes == []
    else:
        assert len(notes) == 1 and f"'{flagged}'" in notes[0] and "review by hand" in notes[0]


def test_redaction_keeps_visible_tests_and_the_assertion_message_only():
    cell = nbformat.v4.new_code_cell(
        "check(x > 0, 'x should be positive')\n"
        f"{grading.BEGIN_HIDDEN}\nassert x == 41.5, 'x is wrong'\n{grading.END_HIDDEN}"
    )
    cell.metadata["nbgrader"] = {"grade": True, "grade_id": "t", "points": 4, "locked": True}
    cell.outputs = [
        nbformat.v4.new_output(
            "error",
            ename="AssertionError",
            evalue="x is wrong",
            traceback=["Cell In[3], line 3", "assert x == 41.5, 'x is wrong'"],
        )
    ]
    nb = nbformat.v4.new_notebook(cells=[cell])
    feedback._redact_for_feedback(nb)
    assert (
        cell.source
        == "check(x > 0, 'x should be positive')\n# hidden tests: not shown (this cell is worth 4 points)"
    )
    assert cell.outputs[0]["traceback"] == ["AssertionError: x is wrong"]


@pytest.mark.parametrize(
    ("setup", "match"),
    [
        ("nothing", "does not exist"),
        ("empty", "no trainee folders"),
        ("unknown", "no submitted folder matches"),
        ("timeout", "timeout must be"),
    ],
)
def test_grade_rejects_bad_arguments_before_running_anything(tmp_path, setup, match):
    subs = tmp_path / "subs"
    if setup != "nothing":
        subs.mkdir()
    if setup in ("unknown", "timeout"):
        (subs / "ann" / "77-nope").mkdir(parents=True)
    with pytest.raises(ValueError, match=match):
        grading.grade(subs, tmp_path / "out", root=FIXTURES, timeout=0 if setup == "timeout" else 5)


# ---------------------------------------------------------------------------------------------
# Grading the fixture submissions (kernels; one grade() call, two workers)
# ---------------------------------------------------------------------------------------------

TIMEOUT = 10  # seconds per cell: the endless loop costs this; a loaded CI machine needs headroom


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    base = tmp_path_factory.mktemp("graded")
    submissions = base / "submissions"
    shutil.copytree(FIXTURES / "submissions", submissions)
    # A folder for an assignment that does not exist: reported, not graded.
    (submissions / "perfect" / "77-unknown").mkdir()
    out = base / "out"
    out.mkdir()
    (out / "keep.txt").write_text("instructor's own file\n", encoding="utf-8")
    before = _digest(submissions)
    echoed: list[str] = []
    outcome = grading.grade(
        submissions, out, root=FIXTURES, timeout=TIMEOUT, echo=echoed.append, workers=2
    )
    with open(out / "grades.csv", encoding="utf-8") as fh:
        grades = list(csv.DictReader(fh))
    with open(out / "errors.csv", encoding="utf-8") as fh:
        errors = list(csv.DictReader(fh))
    return {
        "out": out,
        "outcome": outcome,
        "grades": grades,
        "errors": errors,
        "echoed": echoed,
        "submissions": submissions,
        "before": before,
    }


def test_every_trainee_gets_the_hand_worked_points_per_task(graded):
    got: dict[str, dict[str, tuple[float, float]]] = {}
    for row in graded["grades"]:
        assert (row["assignment"], row["notebook"]) == (ASSIGNMENT, NOTEBOOK)
        got.setdefault(row["trainee"], {})[row["task"]] = (
            float(row["points"]),
            float(row["max_points"]),
        )
    assert sorted(got) == sorted(EXPECTED)
    for trainee, expected in EXPECTED.items():
        assert tuple(got[trainee][t][0] for t in TASKS) == expected, trainee
        assert tuple(got[trainee][t][1] for t in TASKS) == MAX_POINTS, trainee


def test_summary_has_one_total_per_trainee(graded):
    with open(graded["out"] / "grades_summary.csv", encoding="utf-8") as fh:
        rows = {r["trainee"]: r for r in csv.DictReader(fh)}
    assert sorted(rows) == sorted(EXPECTED)
    for trainee, expected in EXPECTED.items():
        assert float(rows[trainee][ASSIGNMENT]) == sum(expected)
        assert float(rows[trainee]["total"]) == sum(expected)
        assert float(rows[trainee]["max_total"]) == 10.0


def test_each_broken_submission_gets_a_clear_problem(graded):
    problems: dict[str, list[str]] = {}
    for row in graded["errors"]:
        problems.setdefault(row["trainee"], []).append(row["problem"])
    expected_fragments = {
        "loop": [f"ran longer than {TIMEOUT} s and was interrupted"],
        "crash": ["the kernel died in cell"],
        "deleted_tests": ["test cell 'task2-tests' was deleted; restored from the source"],
        "edited_tests": [
            "test cell 'task2-tests' was edited",
            "test cell 'task3-tests' was edited",
        ],
        "monkeypatch": ["'builtins.abs'", "review by hand"],
        "invalid_json": ["not a valid notebook", "scored 0"],
        "missing": ["fixture.ipynb: missing; scored 0"],
        "perfect": ["unknown assignment: no solutions/77-unknown/"],
    }
    assert sorted(problems) == sorted(expected_fragments)
    for trainee, fragments in expected_fragments.items():
        text = "\n".join(problems[trainee])
        for fragment in fragments:
            assert fragment in text, (trainee, text)
    assert len(graded["echoed"]) == len(graded["errors"])


def test_feedback_never_shows_hidden_test_code(graded):
    feedback = graded["out"] / "feedback"
    written = sorted(p.parent.name for p in feedback.glob(f"*/{ASSIGNMENT}.html"))
    # Every trainee whose notebook could be read gets a page; invalid and missing ones do not.
    assert written == sorted(set(EXPECTED) - {"invalid_json", "missing"})
    hidden_code = [
        line.strip() for spec in make_fixtures.CELLS for line in spec.get("hidden", "").splitlines()
    ]
    for page in feedback.glob("*/*.html"):
        text = page.read_text(encoding="utf-8")
        assert "HIDDEN TESTS" not in text
        for fragment in ("19.999999", "0.399999", "float(share_promoters) - 0.5", "[7, 8, 8]"):
            assert fragment not in text, (page, fragment)
        for line in hidden_code:
            assert line.replace('"', "&quot;") not in text and line not in text
        assert text.count("hidden tests: not shown") == 3
    # A failing hidden test shows its assertion message (written to give no answer) and no code.
    monkeypatch_page = (feedback / "monkeypatch" / f"{ASSIGNMENT}.html").read_text(encoding="utf-8")
    assert "nps_points is wrong on the survey scores" in monkeypatch_page
    # Visible checks show their own specific message and hint.
    partial_page = (feedback / "partial" / f"{ASSIGNMENT}.html").read_text(encoding="utf-8")
    assert "✗ nps_points([10, 10, 10, 0]) should be 50 points" in partial_page
    assert "Hint: NPS = (share of 9-10) - (share of 0-6), times 100" in partial_page


def test_huge_output_is_truncated_in_feedback(graded):
    page = graded["out"] / "feedback" / "huge_output" / f"{ASSIGNMENT}.html"
    assert page.stat().st_size < 1_000_000  # the cell printed 50 MB
    assert "output truncated" in page.read_text(encoding="utf-8")


def test_merged_gradebook_holds_every_score(graded):
    _nbgrader._prepare_nbgrader()
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{graded['out'] / 'gradebook.db'}", grading.COURSE_ID) as gb:
        for trainee, expected in EXPECTED.items():
            assert gb.find_submission(ASSIGNMENT, trainee).score == sum(expected), trainee


def test_hostile_writes_stay_in_the_scratch_copy(graded):
    # The escape trainee wrote "hacked" to gradebook.db, grades.csv, errors.csv and notebooks one
    # to four folders above its working folder: all inside its own scratch copy.
    out = graded["out"]
    assert (out / "keep.txt").read_text(encoding="utf-8") == "instructor's own file\n"
    assert sorted(p.name for p in out.iterdir()) == sorted(
        [
            "keep.txt",
            "feedback",
            "grades.csv",
            "grades_summary.csv",
            "errors.csv",
            "gradebook.db",
            "grading.log",
        ]
    )
    for path in out.rglob("*"):
        assert not path.is_file() or path.read_bytes() != b"hacked", path
    assert "hacked" not in (out / "feedback" / "perfect" / f"{ASSIGNMENT}.html").read_text(
        encoding="utf-8"
    )
    assert _digest(graded["submissions"]) == graded["before"]  # nobody's submission was touched


def test_outcome_sentence_counts_what_happened(graded):
    outcome = graded["outcome"]
    assert (outcome.n_submissions, outcome.n_trainees, outcome.n_assignments) == (
        len(EXPECTED),
        len(EXPECTED),
        1,
    )
    assert outcome.n_with_problems == len({r["trainee"] for r in graded["errors"]})
    assert str(outcome).startswith(
        f"Graded {len(EXPECTED)} submissions ({len(EXPECTED)} trainees × 1 assignments) in "
    )
    assert "==== crash / 01-fixture" in (graded["out"] / "grading.log").read_text(encoding="utf-8")


# ---------------------------------------------------------------------------------------------
# The real course: solutions/ and exercises/ at the project root
# ---------------------------------------------------------------------------------------------

REAL = grading.find_assignments(ROOT / "solutions")


def test_project_exercises_are_in_sync_with_solutions():
    assert grading.check_exercises(ROOT) == []


def test_course_has_an_assignment_per_lesson_and_the_capstone():
    # Lessons 01-06 and the capstone each have one assignment.
    assert len(REAL) >= 7, f"solutions/ has {len(REAL)} assignments: {sorted(REAL)}"


@pytest.fixture(scope="module")
def real_grades(tmp_path_factory):
    """Every real assignment graded twice: its solution (full marks) and its exercise (0)."""
    base = tmp_path_factory.mktemp("real")
    for assignment, notebooks in REAL.items():
        for nb_path in notebooks:
            for trainee, source in (
                ("solution", nb_path),
                ("blank", ROOT / "exercises" / assignment / nb_path.name),
            ):
                target = base / "submissions" / trainee / assignment / nb_path.name
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy(source, target)
    grading.grade(base / "submissions", base / "out", root=ROOT, timeout=300, echo=lambda _: None)
    with open(base / "out" / "grades.csv", encoding="utf-8") as fh:
        grades = list(csv.DictReader(fh))
    with open(base / "out" / "errors.csv", encoding="utf-8") as fh:
        errors = list(csv.DictReader(fh))
    return grades, errors


@pytest.mark.notebooks
@pytest.mark.parametrize("assignment", sorted(REAL))
def test_real_assignment_solution_scores_full_marks_and_exercise_zero(real_grades, assignment):
    grades, errors = real_grades
    rows = [r for r in grades if r["assignment"] == assignment]
    assert rows, f"{assignment} has no graded tasks"
    for trainee, want in (("solution", "max"), ("blank", "zero")):
        mine = [r for r in rows if r["trainee"] == trainee]
        points = sum(float(r["points"]) for r in mine)
        max_points = sum(float(r["max_points"]) for r in mine)
        problems = [
            e["problem"] for e in errors if (e["trainee"], e["assignment"]) == (trainee, assignment)
        ]
        if want == "max":
            assert points == max_points > 0, (mine, problems)
            assert problems == []
        else:
            assert points == 0, [r["task"] for r in mine if float(r["points"])]
