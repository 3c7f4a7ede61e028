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


#: Russian wordings of the closed-choice answers of the "what does it mean" tasks (the English
#: phrase itself is always accepted); terms as in :data:`CONCEPTS`.
CHOICE_WORDINGS: dict[str, tuple[tuple[str, ...], ...]] = {
    "above": (("выше",),),
    "below": (("ниже",),),
    "not distinguishable": (("неразлич",), ("не", "различ"), ("не", "отлича"), ("нельзя", "сказ")),
    "significant uplift": (("значим", "рост"), ("значим", "прирост"), ("значим", "увелич")),
    "no detectable effect": (
        ("нет", "эффект"),
        ("эффект", "не", "обнаруж"),
        ("эффект", "не", "выявл"),
    ),
    "significant decline": (("значим", "снижен"), ("значим", "паден"), ("значим", "спад")),
    "yes": (("да",),),
    "no": (("нет",),),
    "inside": (("внутри",), ("попада",)),
    "pays off with 95% confidence": (("окупа", "95"), ("окупа", "уверенн")),
    "pays off on the point estimate only": (
        ("окупа", "точечн", "только"),
        ("окупа", "точечн", "лишь"),
    ),
    "loses money on the point estimate": (("убыт",), ("теря", "деньг"), ("не", "окупа")),
    "profitable": (("выгодн",), ("прибыльн",)),
    "depends": (("завис",),),
    "not profitable": (("невыгодн",), ("убыточн",), ("не", "выгодн"), ("не", "прибыльн")),
}


def choice(answer: object, options: tuple[str, ...]) -> str | None:
    """The option of ``options`` (English phrases) that ``answer`` gives, or None if none or more
    than one fits: the English phrase itself (case, surrounding blanks and a final full stop
    ignored), else a Russian wording of :data:`CHOICE_WORDINGS`. The option matched by the term
    with the most stems wins, so «не выгодно» is *not profitable*, not *profitable*; a tie
    («да, нет») is None, for a person to read.
    """
    if not isinstance(answer, str):
        return None
    plain = " ".join(answer.lower().replace("ё", "е").split()).rstrip(".")
    for option in options:
        if plain == option.lower():
            return option
    tokens = words(answer)
    best: dict[str, int] = {}
    for option in options:
        for term in CHOICE_WORDINGS.get(option, ()):
            if all(any(_compiled(stem).match(t) for t in tokens) for stem in term):
                best[option] = max(best.get(option, 0), len(term))
    if not best:
        return None
    top = max(best.values())
    winners = [o for o, n in best.items() if n == top]
    return winners[0] if len(winners) == 1 else None


@dataclasses.dataclass(frozen=True)
class FreeTextTask:
    """A task answered in words: the answer cell (a solution cell's grade id) and its test.

    ``answer_from`` says where the answer text is read: ``"output"`` (what the answer cell showed
    when graded) or ``"source"`` (the trainee's code of that cell, where a closed-choice answer is
    a string literal). ``unreadable`` lists pieces of the test's failure message that mean "no
    rule could read the answer"; empty means any failure does (free text: the rules either find
    the concept or a person must look). A closed-choice answer the rules read and found wrong is
    scored 0 and not listed.
    """

    assignment: str
    notebook: str
    answer_id: str
    test_id: str
    answer_from: str = "output"
    unreadable: tuple[str, ...] = ()


_CHOICE_UNREADABLE = (
    "should be one of",
    "is one of",
    "should be 'yes' or 'no'",
    "should be 'inside'",
)
#: The tasks answered in words: the capstone's recommendations (free text), and the "what does
#: it mean" answers of lessons 01, 05 and 06 (closed choices, in English or Russian).
FREE_TEXT_TASKS: tuple[FreeTextTask, ...] = (
    FreeTextTask("07-capstone", "capstone", "task4-solution", "task4-tests"),
    FreeTextTask(
        "01-nps", "nps", "task2-solution", "task2-benchmark", "source", _CHOICE_UNREADABLE
    ),
    FreeTextTask(
        "05-program-design",
        "program_design",
        "task4-solution",
        "task4-tests",
        "source",
        _CHOICE_UNREADABLE,
    ),
    FreeTextTask(
        "06-evaluation", "evaluation", "task3-solution", "task3-tests", "source", _CHOICE_UNREADABLE
    ),
    FreeTextTask(
        "06-evaluation", "evaluation", "task4-solution", "task4-tests", "source", _CHOICE_UNREADABLE
    ),
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
            if task.answer_from == "source":
                answer = _text(answer_cell.get("source", "")).strip()
            if raised or not answer.strip():
                continue  # the stub, or an answer that failed to run: nothing to read
            reason = _failure(test_cell) or "the rules gave no points"
            if task.unreadable and not any(piece in reason for piece in task.unreadable):
                continue  # the rules read the answer and scored it (a wrong choice is 0)
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
