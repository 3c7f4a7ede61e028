"""One source of code: the Russian lessons keep their English twins' cells, tags, parameters and code.

The drift tests plant one change in a temporary copy of the notebooks and check that the sync
check names the lesson and the cell; the normalisation tests pin, on small cells written here,
what a translation may change (comments, strings, line wrapping) and what it may not (code).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from loyalty_lib import pipeline
from loyalty_lib.cli import main
from loyalty_lib.translation import check_translations, compare_lessons, normalise_code

ROOT = pipeline.project_root()
RU = ROOT / "notebooks" / "ru"
TRANSLATED = ["00_start_here", "01_nps", "02_ltv", "03_segmentation", "06_evaluation"]


# ----------------------------------------------------------------------------- normalisation


def test_comments_strings_and_wrapping_are_not_differences():
    english = 'print(f"{n} customers", sep="\\n")  # one line\nx = 1\n'
    russian = 'print(\n    f"клиентов: {n}",\n    sep="\\n"\n)  # одна строка\nx = 1\n'
    assert normalise_code(english) == normalise_code(russian)
    # implicit concatenation (a long sentence wrapped) is one string
    assert normalise_code('s = ("a" "b")') == normalise_code('s = ("длинная фраза")')


@pytest.mark.parametrize(
    "changed",
    [
        'print(f"{m} customers")',  # another variable inside the f-string
        'print(f"{n} customers", end="")',  # an extra argument
        'print("{n} customers")',  # a number and a string are different tokens too
        'print(f"{n} customers"); y = 2',
    ],
)
def test_a_code_change_is_a_difference(changed):
    assert normalise_code('print(f"{n} customers")') != normalise_code(changed)


def test_numbers_are_code():
    assert normalise_code("x = 0.9") != normalise_code("x = 0.8")


# ----------------------------------------------------------------------------- the lessons


def test_the_first_four_lessons_have_russian_twins_in_sync():
    present = sorted(p.stem for p in pipeline.lesson_paths(folder=RU))
    assert set(TRANSLATED) <= set(present), present
    assert check_translations(ROOT) == []


@pytest.mark.parametrize("lesson", TRANSLATED)
def test_lang_parameter_is_the_only_parameter_value_of_its_kind(lesson):
    """English lessons default to lang "en", Russian ones to "ru"; both call set_language."""
    for path, lang in (
        (ROOT / "notebooks" / f"{lesson}.ipynb", "en"),
        (RU / f"{lesson}.ipynb", "ru"),
    ):
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
        params = next(c for c in cells if "parameters" in c["metadata"].get("tags", []))
        assert f'lang = "{lang}"' in "".join(params["source"]), path
        assert any("set_language(lang)" in "".join(c["source"]) for c in cells), path


def _copy_notebooks(tmp_path: Path) -> Path:
    for path in [*pipeline.lesson_paths(), *pipeline.lesson_paths(folder=RU)]:
        target = tmp_path / path.relative_to(ROOT)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, target)
    return tmp_path


def _edit(path: Path, cell_id: str, change) -> None:  # noqa: ANN001 - a small callback
    nb = json.loads(path.read_text(encoding="utf-8"))
    cell = next(c for c in nb["cells"] if c["id"] == cell_id)
    change(cell, nb)
    path.write_text(json.dumps(nb, ensure_ascii=False, indent=1), encoding="utf-8")


def test_code_drift_names_lesson_and_cell(tmp_path):
    root = _copy_notebooks(tmp_path)
    lesson = root / "notebooks" / "ru" / "01_nps.ipynb"
    assert check_translations(root) == []

    def drift(cell, _nb):
        cell["source"] = "".join(cell["source"]).replace("confidence=confidence", "confidence=0.9")

    _edit(lesson, "n3-formula-code", drift)
    (problem,) = check_translations(root)
    assert problem.startswith("notebooks/ru/01_nps.ipynb cell 'n3-formula-code': code differs")
    assert "'confidence' in the original, '0.9' in the translation" in problem
    result = CliRunner().invoke(main, ["translations", "--check", "--root", str(root)])
    assert result.exit_code == 1 and "n3-formula-code" in result.output
    assert CliRunner().invoke(main, ["translations", "--root", str(root)]).exit_code == 0


def test_translated_strings_and_comments_are_not_drift(tmp_path):
    root = _copy_notebooks(tmp_path)
    lesson = root / "notebooks" / "ru" / "02_ltv.ipynb"

    def translate(cell, _nb):
        source = "".join(cell["source"]).replace("purchases a year", "покупки в год")
        cell["source"] = "# средняя частота и доля уходящих\n" + source

    _edit(lesson, "bgnbd-units", translate)
    assert check_translations(root) == []


@pytest.mark.parametrize(
    ("cell_id", "change", "expected"),
    [
        (
            "parameters",
            lambda c, _nb: c.update(source="".join(c["source"]).replace("rfm_bins", "rfm_n")),
            "cell 'parameters': parameters [",
        ),
        (
            "rfm-map",
            lambda c, _nb: c["metadata"].update(tags=["raises-exception"]),
            "cell 'rfm-map': tags ['raises-exception'], [] in notebooks/03_segmentation.ipynb",
        ),
        (
            "rfm-map",
            lambda c, nb: nb["cells"].remove(c),
            "cell ids differ from notebooks/03_segmentation.ipynb: missing ['rfm-map'], extra []",
        ),
        (
            "rfm-map",
            lambda c, _nb: c.update(cell_type="markdown", outputs=None),
            "cell 'rfm-map': markdown cell, code in notebooks/03_segmentation.ipynb",
        ),
    ],
    ids=["parameter renamed", "tag", "cell removed", "cell type"],
)
def test_structure_drift_names_lesson_and_cell(tmp_path, cell_id, change, expected):
    root = _copy_notebooks(tmp_path)
    lesson = root / "notebooks" / "ru" / "03_segmentation.ipynb"
    _edit(lesson, cell_id, change)
    problems = check_translations(root)
    assert len(problems) == 1 and problems[0].startswith("notebooks/ru/03_segmentation.ipynb")
    assert expected in problems[0], problems[0]


def test_a_russian_lesson_without_english_twin_is_reported(tmp_path):
    root = _copy_notebooks(tmp_path)
    shutil.copy(root / "notebooks/ru/00_start_here.ipynb", root / "notebooks/ru/09_extra.ipynb")
    assert check_translations(root) == [
        "notebooks/ru/09_extra.ipynb: no English twin notebooks/09_extra.ipynb"
    ]


def test_compare_lessons_of_a_lesson_with_itself_is_empty():
    path = ROOT / "notebooks" / "02_ltv.ipynb"
    assert compare_lessons(path, path) == []


# ----------------------------------------------------------------------------- assignments


def _copy_solutions(tmp_path: Path) -> Path:
    root = _copy_notebooks(tmp_path)
    for edition in ("", "ru"):
        src = ROOT / "solutions" / edition / "01-nps"
        shutil.copytree(src, root / "solutions" / edition / "01-nps")
    return root


def test_the_russian_nps_assignment_keeps_tasks_tests_and_points(tmp_path):
    english = json.loads((ROOT / "solutions/01-nps/nps.ipynb").read_text(encoding="utf-8"))
    russian = json.loads((ROOT / "solutions/ru/01-nps/nps.ipynb").read_text(encoding="utf-8"))

    def points(nb):
        return {
            c["id"]: c["metadata"]["nbgrader"].get("points")
            for c in nb["cells"]
            if c["metadata"].get("nbgrader", {}).get("grade")
        }

    # 4 + 6 + 4 + 3 + 3 + 4 + 3 + 4 points, read from the English assignment's task headings
    assert sum(points(english).values()) == 31 and points(russian) == points(english)
    russian_md = "".join(
        "".join(c["source"]) for c in russian["cells"] if c["cell_type"] == "markdown"
    )
    assert "Задача 1 (10 баллов)" in russian_md
    assert check_translations(ROOT) == []


@pytest.mark.parametrize(
    ("cell_id", "change", "expected"),
    [
        (
            "task1-ci",
            lambda c, _nb: c["metadata"]["nbgrader"].update(points=5),
            "solutions/ru/01-nps/nps.ipynb cell 'task1-ci': nbgrader metadata",
        ),
        (
            "task2-band",
            lambda c, _nb: c.update(
                source="".join(c["source"]).replace('_nps < 0 else "low"', '_nps < 5 else "low"')
            ),
            "solutions/ru/01-nps/nps.ipynb cell 'task2-band': code differs",
        ),
    ],
    ids=["points", "hidden test"],
)
def test_assignment_drift_names_the_cell(tmp_path, cell_id, change, expected):
    root = _copy_solutions(tmp_path)
    assert check_translations(root) == []
    _edit(root / "solutions/ru/01-nps/nps.ipynb", cell_id, change)
    (problem,) = check_translations(root)
    assert problem.startswith(expected), problem


def test_assignment_data_must_be_the_same_file(tmp_path):
    root = _copy_solutions(tmp_path)
    survey = root / "solutions/ru/01-nps/survey.csv"
    survey.write_bytes(survey.read_bytes() + b"R999999,,2025-12-31,10,\n")
    assert check_translations(root) == [
        "solutions/ru/01-nps/survey.csv: differs from solutions/01-nps/survey.csv"
    ]


def test_russian_exercise_is_generated_like_the_english_one():
    """exercises/ru/01-nps is what `loyalty exercises` releases from solutions/ru/01-nps: no
    solution and no hidden test left, the same stubs as the English release."""
    from loyalty_lib.grading.release import _check_edition

    assert _check_edition(ROOT, "ru") == []
    released = json.loads((ROOT / "exercises/ru/01-nps/nps.ipynb").read_text(encoding="utf-8"))
    english = json.loads((ROOT / "exercises/01-nps/nps.ipynb").read_text(encoding="utf-8"))
    text = "".join("".join(c["source"]) for c in released["cells"])
    assert "BEGIN HIDDEN TESTS" not in text and "BEGIN SOLUTION" not in text
    assert text.count("YOUR CODE HERE") == 5  # one stub per task, as in the English release
    assert [c["id"] for c in released["cells"]] == [c["id"] for c in english["cells"]]
    assert "Задача 4 (4 балла)" in text


def test_course_jobs_of_the_russian_edition_run_in_its_folder(tmp_path):
    jobs = pipeline.course_jobs(ROOT / "data" / "samples", tmp_path, ["01"], lang="ru")
    (job,) = jobs
    assert job.input_path == RU / "01_nps.ipynb" and job.cwd == RU
    # relative to notebooks/ru/, where the kernel runs: two levels up to the project root
    assert job.parameters == {"data_dir": "../../data/samples"}
    (english,) = pipeline.course_jobs(ROOT / "data" / "samples", tmp_path, ["01"])
    assert english.input_path == ROOT / "notebooks" / "01_nps.ipynb"
    assert english.parameters == {"data_dir": "../data/samples"}


def test_run_rejects_an_unknown_edition():
    result = CliRunner().invoke(main, ["run", "--lang", "de", "--notebooks", "00"])
    assert result.exit_code == 2 and "'de' is not one of 'en', 'ru'" in result.output
