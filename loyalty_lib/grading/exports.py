"""Instructor exports after a grading run: late penalties, LMS gradebook CSVs, and the hook that
adds them (with the similarity report and the free-text review list) to the results folder.

Decisions:

- **Timestamps.** A submission's time is read from nbgrader's ``timestamp.txt`` in the submission
  folder (``SUBMISSIONS/<trainee>/<assignment>/timestamp.txt``, written by ``nbgrader submit`` /
  ``collect``, e.g. ``2026-03-02 18:49:35.285366 UTC``; a time without a zone is taken as UTC,
  ``MSK`` is +03:00 and an abbreviation dateutil does not know is refused, not guessed),
  else the newest modification time of the folder's ``*.ipynb`` files. Which one was used is
  written in ``grades.csv`` (``timestamp_source``: ``timestamp.txt`` or ``mtime``), because a
  copied folder keeps no reliable mtime and the instructor should know when to distrust it.
- **Late penalty.** ``penalty = min(1, per_day × started days late)``: one second after the
  deadline is one started day. ``final_points = points × (1 − penalty)``; ``points`` stays the raw
  autograded score. A missing submission (no folder) has no timestamp and no penalty (it scores 0).
- **LMS files** carry one column per assignment with the (penalised) total of that assignment's
  tasks, numbers with a dot and at most 2 decimals (the LMS parses them; they are not for reading).
  Canvas: the gradebook import layout ``Student, ID, SIS User ID, SIS Login ID, Section,
  <assignment>…`` with the ``Points Possible`` row second; a column without a Canvas assignment id
  in brackets makes Canvas create that assignment on upload. Moodle: "Import → CSV file" with
  ``Email address`` and ``ID number`` as identifiers (pick one under "Identify user by") and one
  column per grade item.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

from loyalty_lib.grading._nbgrader import GradingError

LMS_CHOICES = ("canvas", "moodle")
LMS_FILES = {"canvas": "canvas_gradebook.csv", "moodle": "moodle_grades.csv"}
ROSTER_COLUMNS = ("trainee", "lms_id", "name", "email")
ROSTER_OPTIONAL = ("sis_user_id", "sis_login_id", "section")
SECONDS_PER_DAY = 86_400
#: Zone abbreviations nbgrader's timestamp.txt may carry beyond UTC/GMT (Russian course: Moscow).
_ZONE_ABBREVIATIONS = {"MSK": 3 * 3600}


@dataclasses.dataclass(frozen=True)
class RosterEntry:
    """One trainee in the LMS: ``lms_id`` is Canvas's user ID or Moodle's ID number."""

    trainee: str
    lms_id: str
    name: str
    email: str
    sis_user_id: str = ""
    sis_login_id: str = ""
    section: str = ""


@dataclasses.dataclass(frozen=True)
class ExportOptions:
    """What to add to a grading run's results folder besides grades and feedback.

    ``deadline`` is timezone-aware (a naive one is taken as UTC); ``late_penalty`` is the share of
    the points lost per started day late (0.1 = 10 % a day). ``lms`` is ``"canvas"`` or
    ``"moodle"`` and needs ``roster``. ``similarity_threshold`` is the copydetect similarity (0–1)
    from which a pair is listed in ``similarity.csv``/``.html``.
    """

    deadline: dt.datetime | None = None
    late_penalty: float = 0.0
    lms: str | None = None
    roster: Path | None = None
    similarity: bool = True
    similarity_threshold: float = 0.5
    manual_review: bool = True

    def __post_init__(self) -> None:
        if self.lms is not None and self.lms not in LMS_CHOICES:
            raise ValueError(f"lms must be one of {LMS_CHOICES}, got {self.lms!r}")
        if self.lms is not None and self.roster is None:
            raise ValueError(f"--lms {self.lms} needs --roster roster.csv (trainee → LMS id)")
        if not (0 <= self.late_penalty <= 1) or math.isnan(self.late_penalty):
            raise ValueError(
                f"late penalty is a share of the points per day, from 0 to 1; got {self.late_penalty!r}"
            )
        if self.late_penalty and self.deadline is None:
            raise ValueError("--late-penalty needs --deadline")
        if not 0 < self.similarity_threshold <= 1:
            raise ValueError(
                f"similarity threshold is a share from 0 to 1, got {self.similarity_threshold!r}"
            )


def parse_deadline(text: str) -> dt.datetime:
    """An ISO 8601 date-time (``2026-03-01T23:59``, ``2026-03-01 23:59+03:00``); naive means UTC."""
    try:
        value = dt.datetime.fromisoformat(text.strip())
    except ValueError as exc:
        raise ValueError(
            f"deadline {text!r} is not an ISO date-time such as 2026-03-01T23:59+03:00"
        ) from exc
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


# --------------------------------------------------------------------------------------------
# Roster
# --------------------------------------------------------------------------------------------


def read_roster(path: Path) -> dict[str, RosterEntry]:
    """Read ``roster.csv`` (columns trainee, lms_id, name, email; optional sis_user_id,
    sis_login_id, section; UTF-8, comma-separated). Errors name the file, row and column."""
    path = Path(path)
    if not path.is_file():
        raise GradingError(f"roster {path} does not exist")
    with open(path, encoding="utf-8-sig", newline="") as fh:
        reader = csv.DictReader(fh)
        header = [h.strip() for h in reader.fieldnames or []]
        missing = [c for c in ROSTER_COLUMNS if c not in header]
        if missing:
            raise GradingError(
                f"roster {path}: missing column(s) {', '.join(missing)} "
                f"(expected {', '.join(ROSTER_COLUMNS)}; found {', '.join(header) or 'none'})"
            )
        entries: dict[str, RosterEntry] = {}
        for row_number, raw in enumerate(reader, start=2):
            row = {(k or "").strip(): (v or "").strip() for k, v in raw.items()}
            for column in ROSTER_COLUMNS[:2]:
                if not row.get(column):
                    raise GradingError(f"roster {path}, row {row_number}: column {column} is empty")
            trainee = row["trainee"]
            if trainee in entries:
                raise GradingError(
                    f"roster {path}, row {row_number}: trainee {trainee!r} is listed twice"
                )
            entries[trainee] = RosterEntry(
                **{c: row.get(c, "") for c in ROSTER_COLUMNS + ROSTER_OPTIONAL}
            )
    if not entries:
        raise GradingError(f"roster {path} lists no trainee")
    return entries


def check_roster(
    roster: dict[str, RosterEntry], trainees: list[str], roster_path: Path | str = "roster.csv"
) -> list[str]:
    """Raise if a graded trainee has no roster line (the LMS could not place the grade); return
    warnings for roster lines without a submission folder (left out of the export: a blank
    cell leaves the LMS grade unchanged, and 0 for a missing folder is the instructor's call)."""
    missing = sorted(set(trainees) - set(roster))
    if missing:
        raise GradingError(
            f"roster {roster_path} has no line for {len(missing)} graded trainee(s): "
            f"{', '.join(missing)} (add trainee, lms_id, name, email for each)"
        )
    return [
        f"roster {roster_path}: {t!r} has no submission folder; left out of the LMS file"
        for t in sorted(set(roster) - set(trainees))
    ]


def trainee_folders(submissions_dir: Path) -> list[str]:
    """The trainee folder names :func:`loyalty_lib.grading.grade` grades (not hidden ones)."""
    return sorted(
        p.name for p in Path(submissions_dir).iterdir() if p.is_dir() and not p.name.startswith(".")
    )


# --------------------------------------------------------------------------------------------
# Late penalties
# --------------------------------------------------------------------------------------------


def submission_timestamp(submission_dir: Path) -> tuple[dt.datetime | None, str]:
    """(UTC time the submission was made, where it came from: ``timestamp.txt`` or ``mtime``);
    ``(None, "")`` when the folder holds neither."""
    submission_dir = Path(submission_dir)
    stamp = submission_dir / "timestamp.txt"
    if stamp.is_file():
        import warnings

        from dateutil import parser

        text = stamp.read_text(encoding="utf-8").strip()
        try:
            with warnings.catch_warnings():
                # nbgrader writes the zone as strftime's %Z ("UTC", "MSK"); an abbreviation
                # dateutil does not know would silently become UTC: refuse it instead.
                warnings.simplefilter("error", parser.UnknownTimezoneWarning)
                value = parser.parse(text, tzinfos=_ZONE_ABBREVIATIONS)
        except parser.UnknownTimezoneWarning as exc:
            raise GradingError(
                f"{stamp}: unknown time zone in {text[:60]!r}; write it as an offset (+03:00)"
            ) from exc
        except (ValueError, OverflowError) as exc:
            raise GradingError(f"{stamp}: {text[:60]!r} is not a date-time") from exc
        value = value if value.tzinfo else value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC), "timestamp.txt"
    notebooks = list(submission_dir.glob("*.ipynb")) if submission_dir.is_dir() else []
    if not notebooks:
        return None, ""
    newest = max(p.stat().st_mtime for p in notebooks)
    return dt.datetime.fromtimestamp(newest, tz=dt.UTC), "mtime"


def late_penalty(
    submitted: dt.datetime | None, deadline: dt.datetime, per_day: float
) -> tuple[int, float]:
    """(started days late, share of points lost = min(1, per_day × days)) for one submission."""
    if submitted is None:
        return 0, 0.0
    late_seconds = (submitted - deadline).total_seconds()
    days = math.ceil(late_seconds / SECONDS_PER_DAY) if late_seconds > 0 else 0
    return days, min(1.0, round(days * per_day, 10))


def apply_late_penalties(
    out_dir: Path, submissions_dir: Path, deadline: dt.datetime, per_day: float
) -> list[dict[str, str]]:
    """Add ``submitted_at, timestamp_source, days_late, penalty, final_points`` to
    ``out_dir/grades.csv`` and rewrite ``grades_summary.csv`` from the final points."""
    out_dir, submissions_dir = Path(out_dir), Path(submissions_dir)
    rows = _read_csv(out_dir / "grades.csv")
    stamps: dict[tuple[str, str], tuple[dt.datetime | None, str]] = {}
    for row in rows:
        key = (row["trainee"], row["assignment"])
        if key not in stamps:
            stamps[key] = submission_timestamp(submissions_dir / key[0] / key[1])
        submitted, source = stamps[key]
        days, penalty = late_penalty(submitted, deadline, per_day)
        row["submitted_at"] = submitted.isoformat(timespec="seconds") if submitted else ""
        row["timestamp_source"] = source
        row["days_late"] = str(days)
        row["penalty"] = f"{penalty:g}"
        row["final_points"] = f"{round(float(row['points']) * (1 - penalty), 4):g}"
    _write_csv(out_dir / "grades.csv", rows)
    _rewrite_summary(out_dir, rows)
    return rows


def _rewrite_summary(out_dir: Path, rows: list[dict[str, str]]) -> None:
    """grades_summary.csv (trainee × assignment, total, max_total) from final points."""
    old = _read_csv(out_dir / "grades_summary.csv")
    columns = list(old[0]) if old else ["trainee", "total", "max_total"]
    assignments = [c for c in columns if c not in ("trainee", "total", "max_total")]
    totals, max_total = _totals(rows)
    summary = []
    for trainee in sorted({r["trainee"] for r in rows}):
        line = {"trainee": trainee}
        for a in assignments:
            line[a] = f"{totals.get((trainee, a), 0.0):g}"
        line["total"] = f"{sum(totals.get((trainee, a), 0.0) for a in assignments):g}"
        line["max_total"] = f"{sum(max_total.get(a, 0.0) for a in assignments):g}"
        summary.append(line)
    _write_csv(out_dir / "grades_summary.csv", summary, columns)


def _totals(
    rows: list[dict[str, str]],
) -> tuple[dict[tuple[str, str], float], dict[str, float]]:
    """(points per (trainee, assignment), max points per assignment); final points if present."""
    totals: dict[tuple[str, str], float] = {}
    max_points: dict[tuple[str, str, str], float] = {}
    for r in rows:
        key = (r["trainee"], r["assignment"])
        points = float(r.get("final_points") or r["points"])
        totals[key] = round(totals.get(key, 0.0) + points, 6)
        max_points[(r["assignment"], r["notebook"], r["task"])] = float(r["max_points"])
    per_assignment: dict[str, float] = {}
    for (assignment, _nb, _task), points in max_points.items():
        per_assignment[assignment] = per_assignment.get(assignment, 0.0) + points
    return totals, per_assignment


# --------------------------------------------------------------------------------------------
# LMS gradebook files
# --------------------------------------------------------------------------------------------


def write_lms_export(
    out_dir: Path, lms: str, roster: dict[str, RosterEntry], assignments: list[str] | None = None
) -> Path:
    """Write ``canvas_gradebook.csv`` or ``moodle_grades.csv`` from ``out_dir/grades.csv``.

    One row per roster trainee that was graded, one column per assignment with that trainee's
    (penalised, if a deadline was given) points of the assignment.
    """
    if lms not in LMS_CHOICES:
        raise ValueError(f"lms must be one of {LMS_CHOICES}, got {lms!r}")
    out_dir = Path(out_dir)
    rows = [r for r in _read_csv(out_dir / "grades.csv") if r.get("task")]
    totals, max_points = _totals(rows)
    assignments = assignments or sorted(max_points)
    graded = sorted({r["trainee"] for r in rows})
    check_roster(roster, graded)
    target = out_dir / LMS_FILES[lms]

    def points(trainee: str, assignment: str) -> str:
        return f"{round(totals.get((trainee, assignment), 0.0), 2):g}"

    with open(target, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        if lms == "canvas":
            writer.writerow(
                ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", *assignments]
            )
            writer.writerow(
                ["Points Possible", "", "", "", "", *(f"{max_points[a]:g}" for a in assignments)]
            )
            for t in graded:
                e = roster[t]
                writer.writerow(
                    [e.name, e.lms_id, e.sis_user_id, e.sis_login_id, e.section]
                    + [points(t, a) for a in assignments]
                )
        else:
            writer.writerow(["Email address", "ID number", "Full name", *assignments])
            for t in graded:
                e = roster[t]
                writer.writerow([e.email, e.lms_id, e.name] + [points(t, a) for a in assignments])
    return target


# --------------------------------------------------------------------------------------------
# The hook called by grade()
# --------------------------------------------------------------------------------------------


def finish_results(
    out_dir: Path,
    submissions_dir: Path,
    solutions: dict[str, list[Path]],
    results: list[dict[str, Any]],
    options: ExportOptions | None,
    echo: Callable[[str], Any] = print,
) -> list[Path]:
    """Add late penalties, the LMS file, ``similarity.*`` and ``manual_review.csv`` to ``out_dir``
    (after grades.csv and grades_summary.csv are written). Returns the files written."""
    from loyalty_lib.grading import freetext, similarity

    options = options or ExportOptions()
    written: list[Path] = []
    present = {r["assignment"] for r in results if r.get("rows")}
    solutions = {a: notebooks for a, notebooks in solutions.items() if a in present}
    if options.deadline is not None:
        apply_late_penalties(out_dir, submissions_dir, options.deadline, options.late_penalty)
        written.append(Path(out_dir) / "grades.csv")
    if options.manual_review:
        written.append(freetext.write_manual_review(out_dir, results))
    if options.similarity:
        report = similarity.similarity_report(
            submissions_dir, solutions, out_dir, threshold=options.similarity_threshold
        )
        written += [Path(out_dir) / "similarity.csv", Path(out_dir) / "similarity.html"]
        if report.pairs:
            echo(str(report))
    if options.lms is not None and options.roster is not None:
        roster = read_roster(options.roster)
        graded = sorted({r["trainee"] for r in results})
        for warning in check_roster(roster, graded, options.roster):
            echo(f"warning: {warning}")
        written.append(write_lms_export(out_dir, options.lms, roster, sorted(solutions) or None))
    return written


def _read_csv(path: Path) -> list[dict[str, str]]:
    if not Path(path).is_file():
        return []
    with open(path, encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def _write_csv(path: Path, rows: list[dict[str, str]], columns: list[str] | None = None) -> None:
    columns = columns or (list(rows[0]) if rows else [])
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)


def options_from_cli(
    submissions_dir: Path,
    *,
    deadline: str | None = None,
    late_penalty: float = 0.0,
    lms: str | None = None,
    roster: Path | None = None,
    similarity_threshold: float = 0.5,
) -> ExportOptions:
    """The ``loyalty grade`` options as :class:`ExportOptions`, the roster checked against the
    trainee folders before any kernel starts (a missing line would only show after grading)."""
    options = ExportOptions(
        deadline=parse_deadline(deadline) if deadline else None,
        late_penalty=late_penalty,
        lms=lms,
        roster=Path(roster) if roster else None,
        similarity_threshold=similarity_threshold,
    )
    if options.roster is not None:
        check_roster(read_roster(options.roster), trainee_folders(submissions_dir), options.roster)
    return options
