"""Feedback and result files: redacted feedback HTML, grades CSVs, the merged gradebook."""

from __future__ import annotations

import csv
import logging
import re
import shutil
import warnings
from pathlib import Path
from typing import Any

from loyalty_lib.grading._nbgrader import (
    BEGIN_HIDDEN,
    COURSE_ID,
    END_HIDDEN,
    _prepare_nbgrader,
    _run_converter,
    nbgrader_settings,
)


def _redact_for_feedback(nb: Any) -> None:
    """Hide hidden tests in the autograded notebook before feedback: the code becomes a placeholder
    and a failing test's traceback (which quotes source lines) becomes its final line only."""
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if not meta.get("grade") or cell.cell_type != "code" or BEGIN_HIDDEN not in cell.source:
            continue
        placeholder = f"# hidden tests: not shown (this cell is worth {float(meta.get('points', 0)):g} points)"
        cell.source = re.sub(
            rf"[ \t]*{re.escape(BEGIN_HIDDEN)}.*?{re.escape(END_HIDDEN)}[^\n]*",
            placeholder,
            cell.source,
            flags=re.S,
        )
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                evalue = str(output.get("evalue", "")).strip()
                line = (
                    f"{output.get('ename', 'Error')}: {evalue}"
                    if evalue
                    else f"{output.get('ename', 'Error')}: a test failed (no message)"
                )
                output["traceback"] = [line]


def _write_outputs(
    out_dir: Path, results: list[dict[str, Any]], template_db: Path, assignments: list[str]
) -> None:
    """grades.csv, grades_summary.csv, errors.csv and the merged gradebook (parent process only)."""
    import pandas as pd

    rows = [row for r in results for row in r["rows"]]
    grades = pd.DataFrame(
        rows, columns=["trainee", "assignment", "notebook", "task", "points", "max_points"]
    )
    grades.to_csv(out_dir / "grades.csv", index=False)
    totals = (
        grades.groupby(["trainee", "assignment"], sort=True)["points"].sum().unstack("assignment")
    )
    totals = totals.reindex(columns=assignments).fillna(0.0)
    totals["total"] = totals.sum(axis=1)
    totals["max_total"] = float(
        grades.drop_duplicates(["assignment", "notebook", "task"])["max_points"].sum()
    )
    totals.reset_index().rename_axis(columns=None).to_csv(
        out_dir / "grades_summary.csv", index=False
    )
    with open(out_dir / "errors.csv", "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["trainee", "assignment", "problem"])
        for r in results:
            writer.writerows([r["trainee"], r["assignment"], p] for p in r["problems"])
    _merge_gradebook(out_dir / "gradebook.db", template_db, rows)


def _write_feedback(
    out_dir: Path,
    results: list[dict[str, Any]],
    course: Path,
    solutions: dict[str, list[Path]],
    log: logging.Logger,
) -> None:
    """Render ``out_dir/feedback/<trainee>/<assignment>.html`` from the redacted notebooks.

    One GenerateFeedback run over a scratch course whose gradebook is ``out_dir/gradebook.db``
    (scores already merged); the notebooks it renders have their hidden tests replaced already.
    """
    pending = [r for r in results if r.get("feedback_notebooks")]
    if not pending:
        return
    for r in pending:
        for name, text in r["feedback_notebooks"].items():
            path = course / "autograded" / r["trainee"] / r["assignment"] / f"{name}.ipynb"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
    config = nbgrader_settings()
    config.CourseDirectory.root = str(course)
    config.CourseDirectory.db_url = f"sqlite:///{(out_dir / 'gradebook.db').resolve()}"
    config.CourseDirectory.assignment_id = "*"
    config.CourseDirectory.student_id = "*"
    try:
        _run_converter("GenerateFeedback", config, log)
    except (
        Exception
    ):  # nbgrader renders the others and raises at the end; the missing are noted below
        log.exception("feedback failed for some submissions")
    for r in pending:
        single = len(solutions[r["assignment"]]) == 1
        for name in r["feedback_notebooks"]:
            html = course / "feedback" / r["trainee"] / r["assignment"] / f"{name}.html"
            target = (
                out_dir
                / "feedback"
                / r["trainee"]
                / (f"{r['assignment']}.html" if single else f"{r['assignment']}-{name}.html")
            )
            if html.is_file():
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy(html, target)
            else:
                r["problems"].append(
                    f"{name}.ipynb: the feedback page could not be rendered (see grading.log)"
                )


def _merge_gradebook(target: Path, template_db: Path, rows: list[tuple]) -> None:
    """An nbgrader gradebook with every score (``nbgrader export``/formgrader can read it)."""
    _prepare_nbgrader()
    from nbgrader.api import Gradebook

    target.unlink(missing_ok=True)
    shutil.copy(template_db, target)
    with warnings.catch_warnings(), Gradebook(f"sqlite:///{target.resolve()}", COURSE_ID) as gb:
        # nbgrader's add_submission trips SQLAlchemy's autoflush warning; harmless, and noisy.
        warnings.simplefilter("ignore")
        for trainee in sorted({r[0] for r in rows}):
            gb.update_or_create_student(trainee)
        for trainee, assignment in sorted({(r[0], r[1]) for r in rows}):
            gb.update_or_create_submission(assignment, trainee)
        for trainee, assignment, notebook, task, points, _max in rows:
            g = gb.find_grade(task, notebook, assignment, trainee)
            g.auto_score = points
            g.needs_manual_grade = False
        gb.db.commit()
