"""Course truth, lessons 04–07 and exercises 04–07 (issue #18, items 8, 10, 11).

The stored-output checks read the notebooks as nbval compares them; the exercise checks run each
solution in-process with the helper of ``test_course_truth_a`` and plant a common mistake into a
trainee answer cell (never into a check) to show that a VISIBLE check fails with its hint.

What counts as a "number with 5+ decimals" (``LONG_DECIMAL``): a run of digits (thousands commas
allowed), a dot and five or more digits, not glued to a letter, underscore or another dot on
either side. So ``0.196196`` and ``14473.722670058205`` match; ``3.28e-45`` (scientific, already
short), ``O0000001`` (an id: no dot), ``1.2.34567`` (a version string: a dot before) and
``a1b2.00000f`` (hex-like: letters glued on) do not.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.test_course_truth_a import INTERNAL_IDS, LONG_DECIMAL, _course_map, _run_solution, _texts

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
EXERCISES = ROOT / "exercises"
LESSONS = ["04_churn", "05_program_design", "06_evaluation", "07_consulting_case"]


def _stored(name: str) -> dict:
    return json.loads((NOTEBOOKS / f"{name}.ipynb").read_text(encoding="utf-8"))


def _markdown(nb: dict) -> list[str]:
    return ["".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "markdown"]


# ----------------------------------------------------------------------------- item 11: decimals


@pytest.mark.parametrize("name", LESSONS)
def test_no_displayed_number_with_five_or_more_decimals(name):
    shown = [m.group(0) for t in _texts(_stored(name)) for m in LONG_DECIMAL.finditer(t)]
    assert not shown, f"{name}: {len(shown)} numbers, e.g. {shown[:10]}"


@pytest.mark.parametrize(
    "text,found",
    [
        ("0.196196", ["0.196196"]),
        ("ltv 14473.722670058205 RUB", ["14473.722670058205"]),
        ("<td>3453.963408</td>", ["3453.963408"]),
        ("1,234.567891", ["1,234.567891"]),
        ("share 0.1962, 14,474 RUB, p = 3.28e-45, id O0000001", []),
        ("version 1.2.34567 and hash a1b2.00000f", []),
    ],
)
def test_long_decimal_pattern(text, found):
    assert [m.group(0) for m in LONG_DECIMAL.finditer(text)] == found


# ----------------------------------------------------------------------------- item 8: cross-refs


def test_course_map_numbers_every_lesson_and_puts_clv_in_02_and_segments_in_03():
    course_map = _course_map()
    files = sorted(p.name[:2] for p in NOTEBOOKS.glob("0[0-9]_*.ipynb"))
    assert sorted(course_map) == files and len(files) == 8
    assert "probabilistic clv" in course_map["02"][1].lower()
    assert "segment" in course_map["03"][1].lower()
    assert "segment" not in course_map["04"][1].lower()
    assert "exit" in course_map["04"][1].lower()  # the exit survey is lesson 04's


# a topic a lesson sends the reader to another lesson for, and how the other lesson names it
TOPICS = {
    "exit survey": "exit survey",
    "exit-survey": "exit survey",
    "cdnow": "cdnow",
    "bg/nbd": "bg/nbd",
    "rfm": "rfm",
    "control group": "control group",
}
XREF = re.compile(r"[^.]*?\blesson (\d\d)\b[^.]*", re.IGNORECASE)


def _references(name: str) -> list[tuple[str, str]]:
    """(topic, lesson number) for every sentence of the lesson's Markdown naming both."""
    refs = []
    for text in _markdown(_stored(name)):
        for sentence in XREF.finditer(" ".join(text.split())):
            for word, topic in TOPICS.items():
                if word in sentence.group(0).lower():
                    refs.append((topic, sentence.group(1)))
    return refs


def _taught(number: str) -> str:
    """The lesson's Markdown, lower-cased, hyphens as spaces: what the lesson talks about."""
    (path,) = NOTEBOOKS.glob(f"{number}_*.ipynb")
    nb = json.loads(path.read_text(encoding="utf-8"))
    return " ".join(" ".join(_markdown(nb)).split()).lower().replace("-", " ")


@pytest.mark.parametrize("name", LESSONS)
def test_cross_references_send_readers_to_the_lesson_with_that_section(name):
    for topic, number in _references(name):
        assert topic in _taught(number), f"{name} sends readers to lesson {number} for {topic}"


def test_the_known_cross_references_are_found_and_right():
    # the test above must see the two references issue #18 names (it cannot pass by finding none)
    assert ("exit survey", "04") in _references("05_program_design")
    assert ("cdnow", "02") in _references("07_consulting_case")
    (path,) = NOTEBOOKS.glob("02_*.ipynb")
    headings = [ln for t in _markdown(_stored(path.stem)) for ln in t.splitlines() if ln[:1] == "#"]
    assert any("CDNOW" in h for h in headings)  # lesson 02 has a CDNOW section: 07 may say so
    assert "exit survey" not in _taught("03")  # where 05 used to send readers


# ----------------------------------------------------------------------------- item 11: ids


@pytest.mark.parametrize("name", LESSONS)
def test_no_internal_ids_in_lesson_markdown(name):
    found = [m for t in _markdown(_stored(name)) for m in INTERNAL_IDS.findall(t)]
    assert not found, f"{name}: {sorted(set(found))}"


@pytest.mark.parametrize("name", LESSONS[:3])
def test_no_internal_ids_in_lesson_outputs(name):
    # 07's outputs come from loyalty_lib/report (its own work item): not pinned here
    found = [m for t in _texts(_stored(name)) for m in INTERNAL_IDS.findall(t)]
    assert not found, f"{name}: {sorted(set(found))}"


@pytest.mark.parametrize("path", sorted(EXERCISES.glob("*/*.ipynb")), ids=lambda p: p.parent.name)
def test_no_internal_ids_in_exercise_markdown(path):
    nb = json.loads(path.read_text(encoding="utf-8"))
    found = [m for t in _markdown(nb) for m in INTERNAL_IDS.findall(t)]
    found += re.findall(r"seed articles?", " ".join(_markdown(nb)), re.IGNORECASE)
    assert not found, f"{path.name}: {sorted(set(found))}"


def test_internal_id_pattern():
    text = "[P7] e2_signal seed article (002) [L4]"
    assert INTERNAL_IDS.findall(text) == ["[P7]", "e2_signal", "seed article (002)", "[L4]"]
    assert not INTERNAL_IDS.findall("[1] e_mail NPS (2003) [p7]")


# ----------------------------------------------------------------------------- item 10: exercises

ASSIGNMENTS = ["04-churn", "05-program-design", "06-evaluation", "07-capstone"]


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_solution_passes_every_visible_check(assignment):
    printed = _run_solution(assignment)
    assert "✓" in printed and "✗" not in printed


PLANTED = [
    # (assignment, correct code, planted mistake, hint the trainee must see)
    ("04-churn", "months=12,", "months=24,", "only the answers dated 2025"),  # wrong period
    (
        "05-program-design",
        "be_uplift = float(economics.break_even_uplift)",
        "be_uplift = 100 * float(economics.break_even_uplift)",  # percent where a share is asked
        "not a number of percent",
    ),
    (
        "06-evaluation",
        "orders_diff = float(orders_lift.diff)",
        "orders_diff = -float(orders_lift.diff)",  # control − treatment: the sign flipped
        "treatment minus control",
    ),
    (
        "07-capstone",
        "(result.n_accepted, result.n_rejected)",
        "(result.n_rejected, result.n_accepted)",
        "accepted rows first",
    ),
    # the by-hand tasks: the usual slips of computing the number yourself
    (
        "05-program-design",
        'costs = base_spend * (1 + p["member_uplift"]) * reward_cost + p["fixed_costs"]',
        'costs = base_spend * reward_cost + p["fixed_costs"]',  # rewards on the base spend only
        "the extra included",
    ),
    (
        "06-evaluation",
        'did_by_hand = float(change["treatment"] - change["control"])',
        'did_by_hand = float(change["control"] - change["treatment"])',  # groups swapped
        "minus the change of the control group",
    ),
    (
        "04-churn",
        "ax_reasons = pd.Series(reason_share).sort_values().plot.barh(",
        "ax_reasons = (100 * pd.Series(reason_share)).sort_values().plot.barh(",  # percent bars
        "not counts or percentages",
    ),
    (
        "07-capstone",
        'did_orders = float(change["treatment"] - change["control"])',
        'did_orders = float(order_means.loc["treatment", "orders_post"]'
        ' - order_means.loc["control", "orders_post"])',  # post-only comparison, not DiD
        "a post-only comparison keeps the head start",
    ),
    (
        "07-capstone",
        'did_orders = float(change["treatment"] - change["control"])',
        'did_orders = float(change["control"] - change["treatment"])',  # groups swapped
        "not the other way round",
    ),
    (
        "07-capstone",
        "evaluation.campaign_outcomes(tx, campaign)",
        "evaluation.campaign_outcomes(tx, campaign, pre_days=365)",  # a pre period of a year
        "ends the day before the start",
    ),
]


@pytest.mark.parametrize(
    "assignment,good,bad,hint", PLANTED, ids=[f"{a}:{h[:20]}" for a, _, _, h in PLANTED]
)
def test_planted_mistake_fails_a_visible_check_with_its_hint(assignment, good, bad, hint):
    from loyalty_lib.grading import CheckFailed

    with pytest.raises(CheckFailed) as failed:
        _run_solution(assignment, (good, bad))
    assert hint in str(failed.value), str(failed.value)
    assert "Hint:" in str(failed.value)
