"""Free-text answers in English or Russian: bilingual keyword rules, and the manual review list.

How free text is scored: a hidden test asks whether an answer *mentions* a concept (the top
churn reason, the low-rated aspect, the NPS) with :func:`mentions`. A concept is a set of
terms in both languages; a term is one or more word-start stems that must all occur among the
answer's words, in any order ("support is slow" and "медленная поддержка" both mention
``support_speed``). Stems, not whole words, because Russian inflects: «цена», «цены», «ценой» all
start with «цен»; English plurals and -ing forms likewise ("pric" → price, prices, pricing).
A stem may be a regular expression (``цен(?!н)`` keeps «ценность», value, out of *price*). Text
is lower-cased, «ё» read as «е».

When the rules give an answer less than full points, a person should look: :func:`write_manual_review`
lists every free-text task (:data:`FREE_TEXT_TASKS`) whose test did not give full points while the
trainee did write an answer, with the answer text and the test's own message as the reason, in
``manual_review.csv`` (trainee, notebook, task, answer, reason). A task left as the stub (the
cell raised ``NotImplementedError``) is not listed: there is nothing to read.
"""

from __future__ import annotations

import csv
import dataclasses
import functools
import json
import re
from pathlib import Path
from typing import Any

#: concept → terms; a term is a tuple of word-start stems (regular expressions), all required.
CONCEPTS: dict[str, dict[str, tuple[tuple[str, ...], ...]]] = {
    "price": {
        "en": (("pric",), ("expensive",), ("cheap",), ("cost", "high")),
        "ru": (("цен(?!н)",), ("дорог",), ("стоимост",), ("дешев",)),
    },
    "quality": {
        "en": (("quality",), ("defect",)),
        "ru": (("качеств",), ("брак",)),
    },
    "service": {
        "en": (("service",), ("staff",)),
        "ru": (("сервис",), ("обслуживан",), ("персонал",)),
    },
    "competition": {
        "en": (("competit",), ("rival",)),
        "ru": (("конкурен",),),
    },
    "other": {
        "en": (("other",),),
        "ru": (("друг(ое|их|ие|им)$",), ("проч",)),
    },
    "support_speed": {
        "en": (
            ("support", "speed"),
            ("support", "slow"),
            ("support", "fast"),
            ("support", "wait"),
            ("support", "quick"),
            ("response", "time"),
        ),
        "ru": (
            ("поддержк", "скорост"),
            ("поддержк", "медлен"),
            ("поддержк", "быстр"),
            ("поддержк", "ожидан"),
            ("поддержк", "долг"),
            ("врем", "ответ"),
        ),
    },
    "assortment": {
        "en": (("assortment",), ("product", "range"), ("selection",)),
        "ru": (("ассортимент",), ("выбор",)),
    },
    "delivery": {
        "en": (("deliver",), ("shipping",)),
        "ru": (("достав",),),
    },
    "nps": {
        "en": (("nps",), ("net", "promoter")),
        "ru": (("nps",), ("нпс",), ("индекс", "лояльн"), ("индекс", "потребител", "лояльн")),
    },
    "churn": {
        "en": (("churn",), ("attrition",), ("lost", "customer"), ("leav",)),
        "ru": (("отток",), ("ушедш",), ("уход",), ("потер", "клиент")),
    },
    "retention": {
        "en": (("retention",), ("retain",), ("keep", "customer")),
        "ru": (("удерж",), ("сохран", "клиент")),
    },
}

_WORD = re.compile(r"[^\W_]+", re.UNICODE)


def words(text: str) -> tuple[str, ...]:
    """The answer's words: lower case, «ё» as «е», split at anything that is not a letter or
    digit (so ``support_speed`` is two words)."""
    return tuple(_WORD.findall(str(text).lower().replace("ё", "е")))


@functools.cache
def _compiled(stem: str) -> re.Pattern[str]:
    return re.compile(stem)


def mentions(text: str, concept: str) -> bool:
    """Does ``text`` mention ``concept`` (a key of :data:`CONCEPTS`) in English or Russian?

    A concept not in the table (a new reason added to the data) falls back to its own name's
    words as English stems, so the rule never silently refuses a valid answer.
    """
    tokens = words(text)
    terms = CONCEPTS.get(concept)
    candidates = (tuple(words(concept)),) if terms is None else terms["en"] + terms["ru"]
    return any(
        all(any(_compiled(stem).match(token) for token in tokens) for stem in term)
        for term in candidates
        if term
    )


def language_of(text: str) -> str:
    """``"ru"``, ``"en"``, ``"mixed"`` (both alphabets, each ≥ 30 % of the letters: a Russian
    sentence quoting "NPS" and "low" is 21 % Latin and still ``"ru"``) or ``"other"``."""
    cyrillic = len(re.findall(r"[а-яё]", str(text).lower()))
    latin = len(re.findall(r"[a-z]", str(text).lower()))
    letters = cyrillic + latin
    if not letters:
        return "other"
    if min(cyrillic, latin) >= 0.3 * letters:
        return "mixed"
    return "ru" if cyrillic > latin else "en"


@dataclasses.dataclass(frozen=True)
class FreeTextTask:
    """A task answered in words: the answer cell (a solution cell's grade id) and its test."""

    assignment: str
    notebook: str
    answer_id: str
    test_id: str


#: The tasks answered in free text. The capstone's recommendations; the other lessons' "what does
#: it mean" answers are closed choices checked exactly.
FREE_TEXT_TASKS: tuple[FreeTextTask, ...] = (
    FreeTextTask("07-capstone", "capstone", "task4-solution", "task4-tests"),
)
MANUAL_REVIEW_COLUMNS = ("trainee", "assignment", "notebook", "task", "answer", "reason")
MAX_ANSWER_CHARS = 4_000


def review_rows(
    results: list[dict[str, Any]], tasks: tuple[FreeTextTask, ...] = FREE_TEXT_TASKS
) -> list[dict[str, str]]:
    """Rows for ``manual_review.csv`` from grade()'s per-submission results (``rows`` with
    (trainee, assignment, notebook, task, points, max_points) and ``feedback_notebooks``:
    notebook name → the autograded notebook as JSON text)."""
    out = []
    for result in results:
        notebooks = result.get("feedback_notebooks") or {}
        for task in tasks:
            if result.get("assignment") != task.assignment or task.notebook not in notebooks:
                continue
            score = next(
                (
                    (float(r[4]), float(r[5]))
                    for r in result.get("rows", [])
                    if r[2] == task.notebook and r[3] == task.test_id
                ),
                None,
            )
            if score is None or score[0] >= score[1]:
                continue
            nb = json.loads(notebooks[task.notebook])
            answer_cell = _cell(nb, task.answer_id)
            test_cell = _cell(nb, task.test_id)
            if answer_cell is None:
                continue
            answer, raised = _answer_text(answer_cell)
            if raised or not answer.strip():
                continue  # the stub, or an answer that failed to run: nothing to read
            reason = _failure(test_cell) or "the rules gave no points"
            language = language_of(answer)
            if language == "other":
                reason += "; the answer is neither English nor Russian"
            out.append(
                {
                    "trainee": result["trainee"],
                    "assignment": task.assignment,
                    "notebook": task.notebook,
                    "task": task.test_id,
                    "answer": answer[:MAX_ANSWER_CHARS],
                    "reason": f"no rule could score it ({language}): {reason}",
                }
            )
    return sorted(out, key=lambda r: (r["trainee"], r["assignment"], r["task"]))


def write_manual_review(
    out_dir: Path, results: list[dict[str, Any]], tasks: tuple[FreeTextTask, ...] = FREE_TEXT_TASKS
) -> Path:
    """Write ``out_dir/manual_review.csv`` (header only when every free-text answer scored)."""
    target = Path(out_dir) / "manual_review.csv"
    with open(target, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=MANUAL_REVIEW_COLUMNS)
        writer.writeheader()
        writer.writerows(review_rows(results, tasks))
    return target


def _cell(nb: dict, grade_id: str) -> dict | None:
    for cell in nb.get("cells", []):
        if cell.get("metadata", {}).get("nbgrader", {}).get("grade_id") == grade_id:
            return cell
    return None


def _text(value: Any) -> str:
    return "".join(value) if isinstance(value, list) else str(value)


def _answer_text(cell: dict) -> tuple[str, bool]:
    """(what the answer cell showed: its result and printed text; did it raise?)"""
    parts, raised = [], False
    for output in cell.get("outputs", []):
        kind = output.get("output_type")
        if kind in ("execute_result", "display_data"):
            parts.append(_text(output.get("data", {}).get("text/plain", "")))
        elif kind == "stream" and output.get("name") == "stdout":
            parts.append(_text(output.get("text", "")))
        elif kind == "error":
            raised = True
    return "\n".join(p for p in parts if p).strip(), raised


def _failure(cell: dict | None) -> str:
    """The message of the (first) failed check or assertion in a test cell's outputs."""
    for output in (cell or {}).get("outputs", []):
        if output.get("output_type") == "error":
            message = str(output.get("evalue", "")).strip().splitlines()
            return f"{output.get('ename', 'Error')}: {message[0] if message else 'a test failed'}"
    return ""
