"""Authoring: build a solution notebook with correct nbgrader metadata from Python."""

from __future__ import annotations

from typing import Any

from loyalty_lib.grading._nbgrader import (
    _ID_RE,
    BEGIN_HIDDEN,
    BEGIN_SOLUTION,
    END_HIDDEN,
    END_SOLUTION,
)

_KINDS = ("markdown", "readonly", "solution", "tests")


def new_assignment_notebook(cells: list[dict[str, Any]]) -> Any:
    """Build a solution notebook (``nbformat.NotebookNode``) with nbgrader metadata (schema 3).

    Each cell is a dict with ``kind``:

    - ``"markdown"``: ``source``; plain instructions the trainee may annotate.
    - ``"readonly"``: ``source``, optional ``cell_type`` (``"code"`` default or ``"markdown"``) and
      ``grade_id``; locked, restored from the source when graded (setup imports, data loading).
    - ``"solution"``: ``source`` with ``### BEGIN SOLUTION`` / ``### END SOLUTION`` around the
      answer (the region becomes :data:`CODE_STUB` in the exercise; without the markers the whole
      cell does), optional ``grade_id``.
    - ``"tests"``: ``grade_id``, ``points`` (> 0), ``visible`` (code the trainee sees and runs,
      usually :func:`check` calls) and optional ``hidden`` (code only the grader runs; it is
      wrapped in the hidden-test markers for you).

    Cell ids are deterministic (the grade id, or ``cell-<n>``) so regenerated files diff cleanly.
    """
    import nbformat

    if not isinstance(cells, list) or not cells:
        raise ValueError("new_assignment_notebook() needs a non-empty list of cell dicts")
    nb = nbformat.v4.new_notebook()
    nb.metadata = {
        "kernelspec": {
            "display_name": "Python 3 (ipykernel)",
            "language": "python",
            "name": "python3",
        },
        "language_info": {"name": "python"},
    }
    seen: set[str] = set()
    counters = dict.fromkeys(_KINDS, 0)
    for index, spec in enumerate(cells):
        if not isinstance(spec, dict) or spec.get("kind") not in _KINDS:
            raise ValueError(f"cell {index}: 'kind' must be one of {_KINDS}, got {spec!r:.80}")
        kind = spec["kind"]
        counters[kind] += 1
        unknown = set(spec) - {
            "kind",
            "source",
            "cell_type",
            "grade_id",
            "points",
            "visible",
            "hidden",
        }
        if unknown:
            raise ValueError(f"cell {index} ({kind}): unknown keys {sorted(unknown)}")
        grade_id = spec.get("grade_id") or (
            None if kind == "markdown" else f"{kind}-{counters[kind]}"
        )
        if kind == "tests" and not spec.get("grade_id"):
            raise ValueError(f"cell {index} (tests): give a grade_id such as 'task1-tests'")
        if grade_id is not None:
            if not _ID_RE.match(grade_id):
                raise ValueError(
                    f"cell {index}: grade_id {grade_id!r} must be 1-64 of A-Z a-z 0-9 _ -"
                )
            if grade_id in seen:
                raise ValueError(f"cell {index}: grade_id {grade_id!r} is used twice")
            seen.add(grade_id)
        if kind == "tests":
            cell = _tests_cell(index, spec)
        else:
            source = spec.get("source")
            if not isinstance(source, str) or not source.strip():
                raise ValueError(f"cell {index} ({kind}): 'source' must be non-empty text")
            cell_type = spec.get("cell_type", "markdown" if kind == "markdown" else "code")
            if cell_type not in ("code", "markdown") or (
                kind == "solution" and cell_type != "code"
            ):
                raise ValueError(f"cell {index} ({kind}): cell_type must be 'code' or 'markdown'")
            if kind == "solution" and (BEGIN_SOLUTION in source) != (END_SOLUTION in source):
                raise ValueError(
                    f"cell {index}: a solution needs both {BEGIN_SOLUTION!r} and {END_SOLUTION!r}"
                )
            if BEGIN_HIDDEN in source:
                raise ValueError(f"cell {index} ({kind}): hidden tests belong in a 'tests' cell")
            make = (
                nbformat.v4.new_code_cell if cell_type == "code" else nbformat.v4.new_markdown_cell
            )
            cell = make(source)
            if kind != "markdown":
                cell.metadata["nbgrader"] = {
                    "grade": False,
                    "grade_id": grade_id,
                    "locked": kind == "readonly",
                    "schema_version": 3,
                    "solution": kind == "solution",
                }
        cell.id = grade_id or f"cell-{index}"
        nb.cells.append(cell)
    if not counters["tests"]:
        raise ValueError("an assignment needs at least one 'tests' cell")
    return nb


def _tests_cell(index: int, spec: dict[str, Any]) -> Any:
    import nbformat

    points = spec.get("points")
    if isinstance(points, bool) or not isinstance(points, int | float) or not points > 0:
        raise ValueError(f"cell {index} (tests): points must be a positive number, got {points!r}")
    visible = spec.get("visible", "")
    hidden = spec.get("hidden") or ""
    if (
        not isinstance(visible, str)
        or not isinstance(hidden, str)
        or not (visible + hidden).strip()
    ):
        raise ValueError(f"cell {index} (tests): give 'visible' and/or 'hidden' test code as text")
    if any(marker in visible + hidden for marker in (BEGIN_HIDDEN, END_HIDDEN, BEGIN_SOLUTION)):
        raise ValueError(
            f"cell {index} (tests): write test code without markers; they are added for you"
        )
    source = visible.rstrip("\n")
    if hidden.strip():
        source += f"\n\n{BEGIN_HIDDEN}\n{hidden.strip(chr(10))}\n{END_HIDDEN}"
    cell = nbformat.v4.new_code_cell(source.lstrip("\n"))
    cell.metadata["nbgrader"] = {
        "grade": True,
        "grade_id": spec["grade_id"],
        "locked": True,
        "points": points,
        "schema_version": 3,
        "solution": False,
    }
    return cell
