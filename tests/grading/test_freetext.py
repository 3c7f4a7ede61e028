"""Free-text answers in English or Russian (loyalty_lib.grading.freetext) and the capstone's real
hidden test for its three recommendations, run on the capstone's own data files."""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import shutil
from pathlib import Path

import nbformat
import pytest

from loyalty_lib.grading import check, freetext

ROOT = Path(__file__).resolve().parents[2]
CAPSTONE = ROOT / "solutions" / "07-capstone"


@pytest.mark.parametrize(
    ("text", "concept"),
    [
        ("Цены выше, чем у конкурентов", "price"),
        ("пересмотреть ценовую политику", "price"),
        ("Prices are the top reason", "price"),
        ("Медленная поддержка: ответ через 3 дня", "support_speed"),
        ("support is slow to answer", "support_speed"),
        ("Скорость поддержки оценена ниже 3", "support_speed"),
        ("Support speed is rated below 3", "support_speed"),
        ("Отток клиентов вырос на 5 п.п.", "churn"),
        ("churn grew by 5 points", "churn"),
        ("Удержание постоянных покупателей", "retention"),
        ("improve retention of regulars", "retention"),
        ("Индекс NPS в зоне low", "nps"),
        ("индекс потребительской лояльности упал", "nps"),
        ("Качеством товара недовольны", "quality"),
        ("С доставкой проблемы", "delivery"),
        ("Ушли к конкурентам", "competition"),
        ("Ассортимент беднее, чем год назад", "assortment"),
    ],
)
def test_mentions_reads_russian_and_english_inflections(text, concept):
    assert freetext.mentions(text, concept)


def test_unknown_concept_falls_back_to_its_own_words_and_reads_yo_as_ye():
    assert freetext.mentions("Loyalty points expire too soon", "points_expiry") is False
    assert freetext.mentions("points expiry is confusing", "points_expiry")
    assert freetext.mentions("Ещё раз: всё ясно", "еще")


@pytest.mark.parametrize(
    ("text", "concept"),
    [
        ("Ценность программы для клиента высока", "price"),  # «ценность» is value, not price
        ("поддержка клиентов в праздники", "support_speed"),  # support, but nothing about speed
        ("Оценка качества поддержки", "price"),  # «оценка» does not start with «цен»
        ("We keep the prices", "retention"),  # "keep" alone is not retention
        ("Delivery and service", "nps"),
    ],
)
def test_mentions_does_not_match_look_alikes(text, concept):
    assert not freetext.mentions(text, concept)


def test_language_of():
    assert freetext.language_of("Цена — главная причина") == "ru"
    assert freetext.language_of("Price is the top reason") == "en"
    assert freetext.language_of("NPS в зоне low, звонить критикам") == "ru"  # mostly Cyrillic
    assert freetext.language_of("价格太高") == "other"


@contextlib.contextmanager
def _inside(folder: Path):
    before = Path.cwd()
    os.chdir(folder)
    try:
        yield
    finally:
        os.chdir(before)


def _capstone_test(advice: list[str]) -> str:
    """Run the capstone's task-4 test cell (visible checks + hidden tests) on ``advice`` in the
    capstone folder, as the kernel would; return "" or the failed assertion's message."""
    nb = nbformat.read(CAPSTONE / "capstone.ipynb", as_version=4)
    cell = next(
        c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "task4-tests"
    )
    namespace = {"check": check, "advice": advice}
    with _inside(CAPSTONE):
        try:
            exec(compile(cell.source, "task4-tests", "exec"), namespace)
        except AssertionError as exc:
            return str(exc)
    assert (namespace["_top"], namespace["_low"]) == ("price", "support_speed")
    return ""


RUSSIAN_ADVICE = [
    "Цена — главная причина ухода (34 % ушедших клиентов) → пересмотреть цены на ходовые товары.",
    "Скорость поддержки ушедшие оценили ниже 3 → ответ на обращение за 24 часа.",
    "NPS в зоне «low» → перезванивать критикам в течение суток.",
]


def test_capstone_accepts_a_russian_answer():
    assert _capstone_test(RUSSIAN_ADVICE) == ""


def test_capstone_still_accepts_the_english_reference_answer():
    advice = [
        "Price is the top churn reason at 34% of lost customers → review it first.",
        "Support speed is rated below 3 by leaving customers → fix it and measure again.",
        "NPS -12 is in the low band → call back detractors within 24 hours.",
    ]
    assert _capstone_test(advice) == ""


def test_capstone_refuses_an_answer_missing_the_reason_in_either_language():
    advice = [
        "Клиенты недовольны, надо что-то менять в работе магазина.",  # names no reason
        "Медленная поддержка → нанять ещё двух операторов.",
        "NPS низкий → звонить критикам.",
    ]
    assert _capstone_test(advice) == "no recommendation names the top churn reason"


def _autograded(answer_outputs: list[dict], test_outputs: list[dict]) -> str:
    """An autograded capstone notebook reduced to its task-4 cells, as JSON text."""
    answer = nbformat.v4.new_code_cell("advice = [...]\nadvice")
    answer.metadata["nbgrader"] = {"solution": True, "grade_id": "task4-solution"}
    answer.outputs = [nbformat.from_dict(o) for o in answer_outputs]
    test = nbformat.v4.new_code_cell("check(...)\n# hidden tests: not shown")
    test.metadata["nbgrader"] = {"grade": True, "grade_id": "task4-tests", "points": 3}
    test.outputs = [nbformat.from_dict(o) for o in test_outputs]
    return nbformat.writes(nbformat.v4.new_notebook(cells=[answer, test]))


def _result(trainee: str, points: float, answer_outputs, test_outputs) -> dict:
    return {
        "trainee": trainee,
        "assignment": "07-capstone",
        "rows": [(trainee, "07-capstone", "capstone", "task4-tests", points, 3.0)],
        "problems": [],
        "feedback_notebooks": {"capstone": _autograded(answer_outputs, test_outputs)},
    }


def _shown(text: str) -> dict:
    return {"output_type": "execute_result", "execution_count": 1, "metadata": {},
            "data": {"text/plain": text}}  # fmt: skip


def _failed(ename: str, message: str) -> dict:
    return {"output_type": "error", "ename": ename, "evalue": message, "traceback": [message]}


def test_unscorable_answers_go_to_manual_review_with_their_text(tmp_path):
    unscored = "['Клиенты недовольны, надо что-то менять.', 'Медленная поддержка.', 'NPS низкий.']"
    results = [
        # Russian, no rule names the reason: 0 points → listed with the test's message.
        _result(
            "ann",
            0.0,
            [_shown(unscored)],
            [_failed("AssertionError", "no recommendation names the top churn reason")],
        ),
        # Scored by the rules: full points → not listed.
        _result("boris", 3.0, [_shown(repr(RUSSIAN_ADVICE))], []),
        # Left as the stub: nothing to read → not listed.
        _result(
            "vera",
            0.0,
            [_failed("NotImplementedError", "")],
            [_failed("NameError", "name 'advice' is not defined")],
        ),
        # Neither language.
        _result(
            "gleb",
            0.0,
            [_shown("['价格太高', '支持太慢', '推荐']")],
            [_failed("CheckFailed", "✗ x")],
        ),
    ]
    path = freetext.write_manual_review(tmp_path, results)
    with open(path, encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert list(rows[0]) == list(freetext.MANUAL_REVIEW_COLUMNS)
    assert [r["trainee"] for r in rows] == ["ann", "gleb"]
    ann = rows[0]
    assert (ann["assignment"], ann["notebook"], ann["task"]) == (
        "07-capstone",
        "capstone",
        "task4-tests",
    )
    assert ann["answer"] == unscored
    assert ann["reason"] == (
        "no rule could score it (ru): AssertionError: no recommendation names the top churn reason"
    )
    assert rows[1]["reason"].endswith("the answer is neither English nor Russian")


def test_manual_review_has_a_header_only_when_everything_scored(tmp_path):
    results = [_result("boris", 3.0, [_shown(json.dumps(RUSSIAN_ADVICE))], [])]
    path = freetext.write_manual_review(tmp_path, results)
    assert path.read_text(encoding="utf-8").splitlines() == [
        ",".join(freetext.MANUAL_REVIEW_COLUMNS)
    ]


# ---------------------------------------------------------------------------------------------
# The real capstone graded by `loyalty grade` (two submissions: the exercise with only task 4
# answered, in Russian; the other tasks are left as stubs and score 0)
# ---------------------------------------------------------------------------------------------


def _capstone_submission(folder: Path, advice: list[str]) -> None:
    shutil.copytree(ROOT / "exercises" / "07-capstone", folder)
    nb = nbformat.read(folder / "capstone.ipynb", as_version=4)
    cell = next(
        c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "task4-solution"
    )
    cell.source = f"advice = {json.dumps(advice, ensure_ascii=False, indent=1)}\nadvice"
    nbformat.write(nb, folder / "capstone.ipynb")


UNSCORABLE_ADVICE = [
    "Клиенты недовольны магазином → надо что-то менять в работе.",
    "Медленная поддержка → нанять ещё двух операторов.",
    "NPS низкий → звонить критикам.",
]


@pytest.fixture(scope="module")
def graded_capstone(tmp_path_factory):
    from click.testing import CliRunner

    from loyalty_lib.cli import main
    from loyalty_lib.grading.sandbox import sandbox_problem

    if sandbox_problem():
        pytest.skip(f"loyalty grade needs its sandbox: {sandbox_problem()}")
    base = tmp_path_factory.mktemp("capstone")
    _capstone_submission(base / "subs" / "ann" / "07-capstone", RUSSIAN_ADVICE)
    _capstone_submission(base / "subs" / "boris" / "07-capstone", UNSCORABLE_ADVICE)
    out = base / "out"
    result = CliRunner().invoke(
        main, ["grade", str(base / "subs"), "--out", str(out), "--root", str(ROOT)]
    )
    assert result.exit_code == 0, result.output
    with open(out / "grades.csv", encoding="utf-8", newline="") as fh:
        grades = {(r["trainee"], r["task"]): float(r["points"]) for r in csv.DictReader(fh)}
    with open(out / "manual_review.csv", encoding="utf-8", newline="") as fh:
        review = list(csv.DictReader(fh))
    return grades, review


def test_graded_russian_recommendations_score_full_points(graded_capstone):
    grades, _review = graded_capstone
    assert grades[("ann", "task4-tests")] == 3.0
    assert grades[("boris", "task4-tests")] == 0.0
    assert grades[("ann", "task1-tests")] == 0.0  # the stubs of tasks 1-3 still score nothing


def test_graded_unscorable_answer_goes_to_manual_review_with_its_text(graded_capstone):
    _grades, review = graded_capstone
    assert [(r["trainee"], r["notebook"], r["task"]) for r in review] == [
        ("boris", "capstone", "task4-tests")
    ]
    assert all(line in review[0]["answer"] for line in UNSCORABLE_ADVICE)
    assert review[0]["reason"] == (
        "no rule could score it (ru): AssertionError: no recommendation names the top churn reason"
    )


# ---------------------------------------------------------------------------------------------
# Closed-choice "what does it mean" answers (lessons 01, 05, 06): English phrase or Russian
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("answer", "options", "expected"),
    [
        (
            "significant uplift",
            ("significant uplift", "no detectable effect"),
            "significant uplift",
        ),
        (
            " Significant uplift. ",
            ("significant uplift", "no detectable effect"),
            "significant uplift",
        ),
        ("Значимый рост", ("significant uplift", "no detectable effect"), "significant uplift"),
        ("незначимый рост", ("significant uplift", "no detectable effect"), None),
        (
            "эффект не обнаружен",
            ("significant uplift", "no detectable effect"),
            "no detectable effect",
        ),
        ("не выгодно", ("profitable", "depends", "not profitable"), "not profitable"),
        ("выгодно", ("profitable", "depends", "not profitable"), "profitable"),
        ("зависит от прироста", ("profitable", "depends", "not profitable"), "depends"),
        ("да, нет", ("yes", "no"), None),  # a tie is for a person to read
        ("неразличимо", ("above", "below", "not distinguishable"), "not distinguishable"),
        (None, ("yes", "no"), None),
    ],
)
def test_choice_reads_the_english_phrase_or_its_russian_wording(answer, options, expected):
    assert freetext.choice(answer, options) == expected


RUSSIAN = {
    "above": "выше",
    "below": "ниже",
    "not distinguishable": "неразличимо",
    "profitable": "выгодно",
    "depends": "зависит",
    "not profitable": "невыгодно",
    "significant uplift": "значимый рост",
    "no detectable effect": "эффект не обнаружен",
    "significant decline": "значимое снижение",
    "yes": "да",
    "no": "нет",
    "inside": "внутри",
    "pays off with 95% confidence": "окупается с уверенностью 95 %",
    "pays off on the point estimate only": "окупается только по точечной оценке",
    "loses money on the point estimate": "не окупается по точечной оценке",
}


def _run_all_tests(assignment: str, after: dict[str, str]) -> str:
    """Run every code cell of a solution notebook, hidden tests included, in its folder (as the
    grader's kernel would); ``after`` appends code to solution cells by grade id. Returns the
    first failed check's or assertion's message, or ""."""
    import matplotlib

    matplotlib.use("Agg")
    (path,) = (ROOT / "solutions" / assignment).glob("*.ipynb")
    nb = nbformat.read(path, as_version=4)
    namespace: dict = {}
    with _inside(path.parent), contextlib.redirect_stdout(io.StringIO()):
        try:
            for cell in nb.cells:
                if cell.cell_type != "code":
                    continue
                source = cell.source
                extra = after.get(cell.metadata.get("nbgrader", {}).get("grade_id", ""))
                if extra:
                    source += "\n" + extra
                exec(compile(source, str(path), "exec"), namespace)
        except AssertionError as exc:
            return str(exc).splitlines()[0]
        finally:
            import matplotlib.pyplot as plt

            plt.close("all")
    return ""


def _in_russian(*names: str) -> str:
    return "\n".join(f"{n} = {RUSSIAN!r}[{n}]" for n in names)


CHOICE_TASKS = [
    ("01-nps", {"task2-solution": _in_russian("versus_retail")}),
    ("05-program-design", {"task4-solution": _in_russian("verdict")}),
    (
        "06-evaluation",
        {
            "task3-solution": _in_russian("verdict", "bars_overlap", "truth_position"),
            "task4-solution": _in_russian("roi_verdict"),
        },
    ),
]


@pytest.mark.parametrize(("assignment", "russian"), CHOICE_TASKS, ids=[a for a, _ in CHOICE_TASKS])
def test_solution_passes_its_hidden_tests_in_english_and_in_russian(assignment, russian):
    assert _run_all_tests(assignment, {}) == ""
    assert _run_all_tests(assignment, russian) == ""


def test_a_wrong_russian_choice_fails_the_hidden_test_and_an_unreadable_one_the_check():
    # The solution's verdict is "depends" (break-even uplift 13.2 % between 12 and 18 %).
    wrong = _run_all_tests("05-program-design", {"task4-solution": 'verdict = "выгодно"'})
    assert wrong == "verdict does not match the break-even uplift"
    unreadable = _run_all_tests("05-program-design", {"task4-solution": 'verdict = "ну такое"'})
    assert unreadable.startswith("✗ verdict should be one of")


def test_only_unreadable_choices_go_to_manual_review():
    def result(trainee: str, code: str, failure: dict) -> dict:
        answer = nbformat.v4.new_code_cell(code)
        answer.metadata["nbgrader"] = {"solution": True, "grade_id": "task4-solution"}
        test = nbformat.v4.new_code_cell("check(...)")
        test.metadata["nbgrader"] = {"grade": True, "grade_id": "task4-tests", "points": 3}
        test.outputs = [nbformat.from_dict(failure)]
        nb = nbformat.writes(nbformat.v4.new_notebook(cells=[answer, test]))
        return {
            "trainee": trainee,
            "assignment": "05-program-design",
            "rows": [(trainee, "05-program-design", "program_design", "task4-tests", 0.0, 3.0)],
            "feedback_notebooks": {"program_design": nb},
        }

    results = [
        result(
            "ann", 'verdict = "ну такое"', _failed("CheckFailed", "✗ verdict should be one of …")
        ),
        result("boris", 'verdict = "выгодно"', _failed("AssertionError", "verdict does not match")),
    ]
    rows = freetext.review_rows(results)
    assert [(r["trainee"], r["answer"]) for r in rows] == [("ann", 'verdict = "ну такое"')]
