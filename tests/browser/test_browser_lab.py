"""The course as a trainee sees it in JupyterLab: lessons, calculators and an exercise in Chromium.

One JupyterLab server and one page serve the whole module (fixtures in ``conftest.py``), plus a
second page for the lessons, which run two at a time; each notebook opens as a tab (File → Open
from Path…), runs from the menus with a fresh kernel, and closes again.

Expected texts are computed here from the library's plain functions (``str()`` of the result
objects) for the inputs read back from the page, so a calculator that shows a stale, rounded or
differently computed sentence fails. Chart cells are the cells whose stored copy holds a PNG
(nbval keeps stored copies equal to fresh runs); after the live run each must show a decoded image.
"""

from __future__ import annotations

import ast
import base64
import contextlib
import json
import re
from pathlib import Path
from typing import Any

import nbformat
import pytest
from helpers import code_notebook

from loyalty_lib import program, widgets
from loyalty_lib.nps import nps_from_counts

pytestmark = pytest.mark.browser

PROJECT_ROOT = Path(__file__).resolve().parents[2]
LESSONS = sorted((PROJECT_ROOT / "notebooks").glob("0*.ipynb"))
EXERCISE = "exercises/01-nps/nps.ipynb"
#: Notebooks the tests write into the served copy.
CALCULATORS, BROKEN = "calculators.ipynb", "broken.ipynb"
SOLUTION = PROJECT_ROOT / "solutions" / "01-nps" / "nps.ipynb"
WIDGET_MIME = "application/vnd.jupyter.widget-view+json"
#: How long a displayed calculator may take to appear after its cell ran (ms).
WIDGET_TIMEOUT = 30_000
#: What each calculator's labels map to in the library's keyword arguments.
PROGRAM_FIELDS = {
    "Members": "members",
    "Average check (RUB)": "avg_check",
    "Purchases per year": "purchases_per_year",
    "Fixed costs (RUB/yr)": "fixed_costs",
    "Points per RUB": "earn_rate",
    "RUB per point": "point_value",
    "Redemption rate": "redemption_rate",
    "Member uplift": "member_uplift",
    "Gross margin": "gross_margin",
}
NPS_FIELDS = {
    "Promoters (9–10)": "promoters",
    "Passives (7–8)": "passives",
    "Detractors (0–6)": "detractors",
}

# One labelled control: text fields and sliders are inline boxes; ToggleButtons have their own class.
CONTROL = ".widget-inline-hbox, .widget-toggle-buttons"
_CONTROLS_JS = f"""root => Object.fromEntries(Array.from(root.querySelectorAll('{CONTROL}'), box => {{
    const label = box.querySelector(':scope > .widget-label');
    if (!label || !label.textContent.trim()) return null;
    const input = box.querySelector('input');
    const readout = box.querySelector('.widget-readout');
    const active = box.querySelector('.mod-active');
    const value = input ? input.value : readout ? readout.textContent : active ? active.textContent : null;
    return [label.textContent.trim(), value === null ? null : value.trim()];
}}).filter(Boolean))"""


def stored_cells(path: Path, mime: str) -> list[int]:
    """Indices of the cells whose stored outputs include ``mime``."""
    nb = nbformat.read(str(path), as_version=4)
    return [
        i for i, cell in enumerate(nb.cells)
        if any(mime in out.get("data", {}) for out in cell.get("outputs", []))
    ]  # fmt: skip


# --------------------------------------------------------------------------------------------
# calculators: what the page shows against the library
# --------------------------------------------------------------------------------------------


def expected_text(values: dict[str, str]) -> str:
    """``str()`` of the library result for the inputs shown on the page, by calculator kind."""
    if "Members" in values:
        kwargs = {PROGRAM_FIELDS[k]: float(v) for k, v in values.items() if k in PROGRAM_FIELDS}
        kwargs["members"] = int(kwargs["members"])
        return str(program.simulate_program(**kwargs))
    if "Promoters (9–10)" in values:
        counts = {NPS_FIELDS[k]: int(v) for k, v in values.items() if k in NPS_FIELDS}
        return str(nps_from_counts(**counts))
    if "Average check m (RUB)" in values:
        m, a = float(values["Average check m (RUB)"]), float(values["Purchases per period a"])
        if values["Lifetime from"] == "churn rate":
            return str(widgets.ltv_compute(m, a, churn_rate=float(values["Churn per period"])))
        return str(
            widgets.ltv_compute(m, a, lifetime_periods=float(values["Lifetime t (periods)"]))
        )
    raise AssertionError(f"unknown calculator with controls {sorted(values)}")


class Calculator:
    """A rendered calculator: its output element, its result line and its controls."""

    def __init__(self, notebook: Any, cell: int) -> None:
        self.page = notebook.page
        self.root = (
            notebook.cells.nth(cell)
            .locator(".jp-OutputArea-output")
            .filter(has=self.page.locator(f".{widgets.RESULT_CLASS}"))
            .first
        )
        self.result = self.root.locator(f".{widgets.RESULT_CLASS} .widget-html-content")

    def screenshot(self, folder: Path, name: str) -> Path:
        """The calculator alone, after the test moved it (the lead's close-up)."""
        path = folder / f"{name}.png"
        self.root.screenshot(path=str(path))
        print(f"screenshot: {path}")
        return path

    def values(self) -> dict[str, str]:
        return self.root.evaluate(_CONTROLS_JS)

    def text(self) -> str:
        return self.result.text_content()

    def box(self, label: str) -> Any:
        return self.root.locator(CONTROL).filter(
            has=self.page.locator(".widget-label", has_text=label)
        )

    def change(self, action: Any, what: str) -> None:
        """Do ``action``; the result line must become the library's text for the new inputs.

        The controls show the new values at once; the sentence arrives after a round trip to the
        kernel (one per step when a slider moves several steps), so wait for the final one.
        """
        from playwright.sync_api import expect

        before, chart = self.text(), self.chart()
        action()
        values = self.values()
        wanted = expected_text(values)
        assert wanted != before, f"{what}: the inputs {values} give the same sentence as before"
        try:
            expect(self.result).to_have_text(wanted, timeout=WIDGET_TIMEOUT)
        except AssertionError as exc:
            raise AssertionError(
                f"{what}: for {values} the page shows {self.text()!r}, the library says {wanted!r}"
            ) from exc
        if chart is not None:  # the chart is redrawn in the same kernel callback, right after
            try:
                self.page.wait_for_function(
                    "([root, old]) => { const img = root.querySelector('.widget-output img');"
                    " return img !== null && img.src !== old; }",
                    arg=[self.root.element_handle(), chart],
                    timeout=WIDGET_TIMEOUT,
                )
            except Exception as exc:  # Playwright's TimeoutError
                raise AssertionError(f"{what}: the sentence changed but the chart did not") from exc
            width = self.root.locator(".widget-output img").evaluate(
                "img => img.decode().then(() => img.naturalWidth, () => 0)"
            )
            assert width > 0, f"{what}: the redrawn chart does not decode"

    def chart(self) -> str | None:
        """The ``src`` of the calculator's chart image (None: this calculator has no chart)."""
        return self.root.evaluate(
            "root => { const img = root.querySelector('.widget-output img');"
            " return img ? img.src : null; }"
        )

    def type_value(self, label: str, value: str) -> None:
        field = self.box(label).locator("input")
        self.change(
            lambda: (field.fill(value), field.press("Tab")), f"typing {value} into {label!r}"
        )
        assert self.values()[label] == value

    def nudge_slider(self, label: str, presses: int = 1) -> None:
        """Focus the slider's handle and press → (one step per press), as with the keyboard."""
        box = self.box(label)
        before = box.locator(".widget-readout").text_content()

        def move() -> None:
            handle = box.locator(".noUi-handle")
            handle.focus()
            for _ in range(presses):
                handle.press("ArrowRight")

        self.change(move, f"moving the {label!r} slider")
        assert box.locator(".widget-readout").text_content() != before


def rendered_calculator(notebook: Any, cell: int) -> Calculator:
    """The calculator displayed by ``cell``, or a failure quoting what the output shows instead.

    Fails at once when the output settles on something else: "Error displaying widget: ..."
    (the widget manager could not build the view) or the plain-text repr ``VBox(...)`` (no widget
    manager in the front end); "Loading widget..." that never ends fails at the timeout.
    """
    calc = Calculator(notebook, cell)
    outputs = notebook.cells.nth(cell).locator(".jp-OutputArea-output")
    broken = outputs.filter(has_text="Error displaying widget").or_(
        outputs.filter(has_text=re.compile(r"^\s*VBox\("))
    )
    # a timeout (Playwright's TimeoutError) leaves "Loading widget..." or nothing: reported below
    with contextlib.suppress(Exception):
        calc.result.or_(broken).first.wait_for(timeout=WIDGET_TIMEOUT)
    if not calc.result.count():
        shown = notebook.output_text(cell).strip() or "(no output)"
        raise AssertionError(
            f"{notebook.path} cell {cell}: the calculator did not render; the output shows "
            f"{shown[:300]!r}"
        )
    values = calc.values()
    assert calc.text() == expected_text(values), f"cell {cell}: initial text differs for {values}"
    return calc


def exercise_calculator(calc: Calculator) -> None:
    """Change one typed value and move one slider, checking the sentence after each."""
    values = calc.values()
    if "Members" in values:
        calc.type_value("Members", str(int(values["Members"]) + 1000))
        calc.nudge_slider("Member uplift")
    elif "Promoters (9–10)" in values:
        calc.type_value("Promoters (9–10)", str(int(values["Promoters (9–10)"]) + 25))
        calc.type_value("Detractors (0–6)", "0")
    else:
        calc.nudge_slider("Average check m (RUB)", presses=3)
        churn = calc.box("Lifetime from").locator("button", has_text="churn rate")
        calc.change(churn.click, "switching the lifetime to churn rate")
        calc.nudge_slider("Churn per period")


@pytest.fixture(scope="module", autouse=True)
def _kernels_start_early(lab_server: Any) -> None:
    """Kernels of the first notebooks start while the page loads JupyterLab (a few seconds each
    on two cores); each lesson test starts the next pair's kernels in the same way."""
    first = [CALCULATORS, EXERCISE, BROKEN] + [f"notebooks/{p.name}" for p in LESSON_PAIRS[0]]
    for path in first:
        lab_server.prestart(path)


@pytest.fixture(scope="module")
def calculators_notebook(lab: Any) -> str:
    """No lesson shows the NPS and LTV calculators yet: a two-cell notebook in the served copy."""
    nb = code_notebook(
        "from loyalty_lib import widgets\n\nwidgets.nps_calculator()", "widgets.ltv_calculator()"
    )
    nbformat.write(nb, str(lab.server.root / CALCULATORS))
    return CALCULATORS


def test_nps_and_ltv_calculators_follow_their_inputs(
    open_notebook, calculators_notebook, screenshot_dir
):
    notebook = open_notebook(calculators_notebook)
    notebook.run_all()
    assert notebook.stderr_outputs() == []
    for cell in (0, 1):
        exercise_calculator(rendered_calculator(notebook, cell))
    notebook.screenshot(screenshot_dir, "calculators-nps-ltv")


# --------------------------------------------------------------------------------------------
# the exercise: blank, wrong, right
# --------------------------------------------------------------------------------------------


def _solution_code() -> str:
    """The first solution cell of the instructor's notebook, minus the nbgrader marker lines."""
    nb = nbformat.read(str(SOLUTION), as_version=4)
    cell = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("solution"))
    lines = [line for line in cell.source.splitlines() if not line.startswith("### ")]
    return "\n".join(lines)


def _checks(source: str) -> list[tuple[str, str | None]]:
    """(message, hint) of every ``check(...)`` call with literal strings in a cell's source."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "check":
            message = node.args[1] if len(node.args) > 1 else None
            hint = next((k.value for k in node.keywords if k.arg == "hint"), None)
            if isinstance(message, ast.Constant):
                found.append(
                    (message.value, hint.value if isinstance(hint, ast.Constant) else None)
                )
    return found


def test_exercise_self_checks_fail_with_a_hint_then_pass(open_notebook, screenshot_dir):
    nb = nbformat.read(str(PROJECT_ROOT / EXERCISE), as_version=4)
    grading = [c.metadata.get("nbgrader", {}) for c in nb.cells]
    answer = next(i for i, g in enumerate(grading) if g.get("solution"))
    check_cell = next(i for i, g in enumerate(grading) if i > answer and g.get("grade"))
    next_answer = next(i for i, g in enumerate(grading) if i > answer and g.get("solution"))
    checks = _checks(nb.cells[check_cell].source)
    assert checks, f"{EXERCISE} cell {check_cell} has no check(...) calls with literal messages"

    notebook = open_notebook(EXERCISE)

    # 1. blank: the stub raises, and Run All stops there (the checks below never run)
    notebook.run_all()
    errors = notebook.stderr_outputs()
    assert [i for i, _ in errors] == [answer], errors
    assert "NotImplementedError" in errors[0][1]
    assert all(p in ("[ ]:", "") for p in notebook.prompts()[answer + 1 :] if p is not None)

    # 2. a plausible mistake (NPS of a sample): a self-check fails on screen with its hint
    wrong = 'responses = data.load_survey(survey_file).accepted\nresult = nps.nps(responses["score"].head(100))'
    assert notebook.type_into(answer, wrong) == wrong
    notebook.run_from(answer)
    shown = notebook.output_text(check_cell)
    failed = [(m, h) for m, h in checks if f"✗ {m}" in shown]
    assert failed, f"no ✗ line in cell {check_cell}; it shows:\n{shown}"
    for message, hint in failed:
        assert hint is None or f"✗ {message}\nHint: {hint}" in shown, shown
    assert [i for i, _ in notebook.stderr_outputs()] == [check_cell]
    notebook.screenshot(screenshot_dir, "exercise-01-nps-wrong-answer")

    # 3. the solution, typed into the editor: every check of the task passes
    code = _solution_code()
    assert notebook.type_into(answer, code) == code
    notebook.run_from(answer)
    shown = notebook.output_text(check_cell)
    for message, _ in checks:
        assert f"✓ {message}" in shown, f"missing ✓ {message!r} in:\n{shown}"
    assert "✗" not in shown
    # the run goes on to the next task's blank stub, which is the only error on the page
    assert [i for i, _ in notebook.stderr_outputs()] == [next_answer]
    notebook.screenshot(screenshot_dir, "exercise-01-nps")


# --------------------------------------------------------------------------------------------
# every lesson: runs clean, every chart shows, every calculator responds
# --------------------------------------------------------------------------------------------


#: Lessons run two at a time, one per JupyterLab window (the machine has two cores): the first
#: half of the course beside the second half, which pairs short lessons with long ones.
_HALF = (len(LESSONS) + 1) // 2
LESSON_PAIRS = [
    tuple(LESSONS[i : i + 1] + LESSONS[i + _HALF : i + _HALF + 1]) for i in range(_HALF)
]


def check_lesson(lesson: Path, notebook: Any, screenshot_dir: Path, name: str = "") -> None:
    """After Run All: no error on the page, every chart decoded, every calculator responds.
    Screenshots are named after ``name`` (default: the lesson's file name)."""
    name = name or lesson.stem
    errors = notebook.stderr_outputs()
    assert not errors, f"{lesson.name}: error/stderr outputs on the page:\n" + "\n\n".join(
        f"cell {i}:\n{text[:800]}" for i, text in errors
    )
    images = notebook.images()
    broken = {i: widths for i, widths in images.items() if 0 in widths}
    assert not broken, f"{lesson.name}: images that did not decode (cell → widths): {broken}"
    missing = [i for i in stored_cells(lesson, "image/png") if not images.get(i)]
    assert not missing, f"{lesson.name}: chart cells without an image after Run All: {missing}"
    for cell in stored_cells(lesson, WIDGET_MIME):
        calc = rendered_calculator(notebook, cell)
        exercise_calculator(calc)
        calc.screenshot(screenshot_dir, f"lesson-{name}-calculator-cell{cell}")
    notebook.screenshot(screenshot_dir, f"lesson-{name}")


@pytest.mark.parametrize(
    "pair", LESSON_PAIRS, ids=["+".join(p.stem for p in pair) for pair in LESSON_PAIRS]
)
def test_lessons_run_clean_in_jupyterlab(
    lab, open_notebook, open_second, pair: tuple[Path, ...], screenshot_dir
):
    """Each lesson of the pair in its own window, both running at once; then each is checked
    on its own page, and a failure names its lesson (both lessons are checked either way)."""
    later = LESSON_PAIRS[LESSON_PAIRS.index(pair) + 1 :]
    running = []
    for opener, lesson in zip((open_notebook, open_second), pair, strict=False):
        notebook = opener(f"notebooks/{lesson.name}")
        running.append((lesson, notebook, notebook.start_run_all()))
    for lesson in later[0] if later else ():
        lab.server.prestart(f"notebooks/{lesson.name}")
    failures = []
    for _, notebook, before in running:
        notebook.wait_done(before)
    for lesson, notebook, _ in running:
        try:
            check_lesson(lesson, notebook, screenshot_dir)
        except AssertionError as exc:
            failures.append(str(exc))
    assert not failures, "\n\n".join(failures)


def test_program_calculator_is_in_lesson_05():
    """The economics calculator of lesson 05 is among the calculators exercised above."""
    lesson = PROJECT_ROOT / "notebooks" / "05_program_design.ipynb"
    if not lesson.exists():
        pytest.skip("lesson 05 is not written yet")
    cells = stored_cells(lesson, WIDGET_MIME)
    nb = nbformat.read(str(lesson), as_version=4)
    assert any("program_calculator(" in nb.cells[i].source for i in cells)


# --------------------------------------------------------------------------------------------
# the Russian edition: a Russian lesson opens and runs in Russian
# --------------------------------------------------------------------------------------------

RUSSIAN_CASE = PROJECT_ROOT / "notebooks" / "ru" / "07_consulting_case.ipynb"


def test_russian_consulting_case_opens_and_runs_in_russian(open_notebook, screenshot_dir):
    """notebooks/ru/07 as a Russian trainee opens it: its Russian headings are on the page, and
    after Run All (its kernel in notebooks/ru/, data from ../../data/example_client) the NPS
    sentence is the Russian one, with a decimal comma and «ДИ»; no error, every chart decodes."""
    from playwright.sync_api import expect

    nb = nbformat.read(str(RUSSIAN_CASE), as_version=4)
    cells = {cell.get("id"): (i, cell) for i, cell in enumerate(nb.cells)}
    title = cells["intro"][1].source.splitlines()[0].removeprefix("# ")
    report_title = cells["report-title"][1].source.removeprefix("# ").strip()
    assert re.search("[а-яё]", title + report_title), "the headings of the Russian lesson"
    notebook = open_notebook("notebooks/ru/07_consulting_case.ipynb")
    for heading in (title, report_title):
        expect(notebook.panel.locator(".jp-MarkdownOutput h1", has_text=heading)).to_be_visible()
    notebook.run_all()
    check_lesson(RUSSIAN_CASE, notebook, screenshot_dir, name="ru-07_consulting_case")
    shown = notebook.output_text(cells["n7-nps-section"][0])
    assert re.match(r"NPS [+-]\d+,\d \(95\s%\sДИ от ", shown), shown[:200]
    assert "промоутеры" in shown and "95% CI" not in shown


# --------------------------------------------------------------------------------------------
# the detectors themselves catch a broken page
# --------------------------------------------------------------------------------------------


def test_detectors_catch_a_broken_chart_and_an_error(lab, open_notebook):
    """A PNG that is not a PNG and a traceback (stored outputs), and a widget view whose model
    does not exist (run live): each is reported, the good PNG is not."""
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    bad_png = base64.b64encode(b"\x89PNG\r\n\x1a\n but not an image").decode("ascii")
    good_png = (  # 1×1 px, a real PNG: the detector must not flag it
        "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
    )
    nb.cells = [
        nbformat.v4.new_code_cell("chart()", outputs=[
            nbformat.v4.new_output("display_data", data={"image/png": bad_png, "text/plain": "<Figure>"})]),
        nbformat.v4.new_code_cell("fine()", outputs=[
            nbformat.v4.new_output("display_data", data={"image/png": good_png, "text/plain": "<Figure>"})]),
        nbformat.v4.new_code_cell("1 / 0", outputs=[
            nbformat.v4.new_output("error", ename="ZeroDivisionError", evalue="division by zero",
                                   traceback=["ZeroDivisionError: division by zero"])]),
        # run live: a widget view whose model the kernel never created
        nbformat.v4.new_code_cell(
            "from IPython.display import display\n"
            f"display({{{WIDGET_MIME!r}: {{'model_id': '{'0' * 32}', 'version_major': 2, "
            "'version_minor': 0}, 'text/plain': 'VBox()'}, raw=True)"),
    ]  # fmt: skip
    (lab.server.root / BROKEN).write_text(json.dumps(nb), encoding="utf-8")
    notebook = open_notebook(BROKEN)
    assert notebook.images() == {0: [0], 1: [1]}
    errors = notebook.stderr_outputs()
    assert [i for i, _ in errors] == [2] and "ZeroDivisionError" in errors[0][1]
    notebook.run_from(3)
    with pytest.raises(
        AssertionError, match="did not render; the output shows 'Error displaying widget"
    ):
        rendered_calculator(notebook, 3)
