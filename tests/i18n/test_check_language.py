"""A visible check speaks the language of its exercise: "Подсказка:" under a Russian hint."""

from __future__ import annotations

import pytest

from loyalty_lib.grading.check import CheckFailed, check


@pytest.mark.parametrize(
    ("message", "hint", "label", "title"),
    [
        ("Доля промоутеров от 0 до 1", "Поделите на число всех ответов", "Подсказка:", "Проверка"),
        ("share of promoters in [0, 1]", "divide by all answers", "Hint:", "Check failed"),
        # an English hint under a Russian message: the words decide, Cyrillic outnumbers Latin
        ("Средний чек за период в рублях", "use mean()", "Подсказка:", "Проверка"),
    ],
)
def test_failed_check_labels_follow_the_exercise_language(message, hint, label, title):
    with pytest.raises(CheckFailed) as failed:
        check(False, message, hint)
    lines = str(failed.value).splitlines()
    assert lines == [f"✗ {message}", f"{label} {hint}"]
    assert title in failed.value._render_traceback_()[0]


def test_passing_check_prints_the_message_only(capsys):
    check(True, "Доля промоутеров от 0 до 1", "Поделите на число всех ответов")
    assert capsys.readouterr().out == "✓ Доля промоутеров от 0 до 1\n"
