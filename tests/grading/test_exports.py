"""Late penalties and LMS gradebook files (loyalty_lib.grading.exports), on a results folder
written by hand in the layout grade() writes; penalties and totals are worked out in the tests."""

from __future__ import annotations

import csv
import datetime as dt
import os
from pathlib import Path

import pytest

from loyalty_lib.grading import GradingError, exports

GRADES_COLUMNS = ["trainee", "assignment", "notebook", "task", "points", "max_points"]
# (trainee, assignment, notebook, task, points, max_points): two assignments, 10 + 4 points.
GRADES = [
    ("ann", "01-nps", "nps", "t1", 6.0, 6.0),
    ("ann", "01-nps", "nps", "t2", 4.0, 4.0),
    ("ann", "02-ltv", "ltv", "t1", 3.0, 4.0),
    ("boris", "01-nps", "nps", "t1", 6.0, 6.0),
    ("boris", "01-nps", "nps", "t2", 2.0, 4.0),
    ("boris", "02-ltv", "ltv", "t1", 4.0, 4.0),
    ("vera", "01-nps", "nps", "t1", 3.0, 6.0),
    ("vera", "01-nps", "nps", "t2", 2.0, 4.0),
    ("vera", "02-ltv", "ltv", "t1", 0.0, 4.0),
]
DEADLINE = "2026-03-01T23:59:00+03:00"  # = 20:59 UTC


def _results_folder(tmp_path: Path) -> Path:
    out = tmp_path / "out"
    out.mkdir()
    with open(out / "grades.csv", "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(GRADES_COLUMNS)
        writer.writerows(GRADES)
    with open(out / "grades_summary.csv", "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["trainee", "01-nps", "02-ltv", "total", "max_total"])
        writer.writerows([["ann", 10, 3, 13, 14], ["boris", 8, 4, 12, 14], ["vera", 5, 0, 5, 14]])
    return out


def _submissions(tmp_path: Path) -> Path:
    subs = tmp_path / "subs"
    deadline = dt.datetime.fromisoformat(DEADLINE)
    for trainee, assignment, notebook in {(g[0], g[1], g[2]) for g in GRADES}:
        folder = subs / trainee / assignment
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{notebook}.ipynb").write_text("{}", encoding="utf-8")
    # ann 01: nbgrader's own format, an hour before the deadline → on time.
    (subs / "ann" / "01-nps" / "timestamp.txt").write_text(
        "2026-03-01 19:59:00.123456 UTC\n", encoding="utf-8"
    )
    # ann 02: exactly at the deadline, written in Moscow time → on time.
    (subs / "ann" / "02-ltv" / "timestamp.txt").write_text(
        "2026-03-01 23:59:00+03:00", encoding="utf-8"
    )
    # boris 01: 24 h 1 min late → 2 started days → 0.2 at 0.1 a day.
    (subs / "boris" / "01-nps" / "timestamp.txt").write_text(
        "2026-03-02 21:00:00 UTC", encoding="utf-8"
    )
    # boris 02: 15 days late → 1.5 capped at 1: nothing left.
    (subs / "boris" / "02-ltv" / "timestamp.txt").write_text(
        "2026-03-16 20:00:00 UTC", encoding="utf-8"
    )
    # vera: no timestamp.txt; the notebook's mtime is one second after the deadline → 1 day.
    late = (deadline + dt.timedelta(seconds=1)).timestamp()
    os.utime(subs / "vera" / "01-nps" / "nps.ipynb", (late, late))
    early = (deadline - dt.timedelta(days=3)).timestamp()
    os.utime(subs / "vera" / "02-ltv" / "ltv.ipynb", (early, early))
    return subs


def _read(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def test_late_penalty_counts_started_days_and_caps_at_everything():
    deadline = exports.parse_deadline(DEADLINE)
    hour = dt.timedelta(hours=1)
    assert exports.late_penalty(deadline - hour, deadline, 0.1) == (0, 0.0)
    assert exports.late_penalty(deadline, deadline, 0.1) == (0, 0.0)
    assert exports.late_penalty(deadline + dt.timedelta(seconds=1), deadline, 0.1) == (1, 0.1)
    assert exports.late_penalty(deadline + 24 * hour, deadline, 0.1) == (1, 0.1)
    assert exports.late_penalty(deadline + 25 * hour, deadline, 0.1) == (2, 0.2)
    assert exports.late_penalty(deadline + 24 * 15 * hour, deadline, 0.1) == (15, 1.0)
    assert exports.late_penalty(None, deadline, 0.1) == (0, 0.0)


def test_deadline_without_zone_is_utc_and_nonsense_is_refused():
    assert exports.parse_deadline("2026-03-01T20:59") == exports.parse_deadline(DEADLINE)
    with pytest.raises(ValueError, match="ISO date-time"):
        exports.parse_deadline("1 March")
    with pytest.raises(ValueError, match="needs --deadline"):
        exports.ExportOptions(late_penalty=0.1)
    with pytest.raises(ValueError, match="from 0 to 1"):
        exports.ExportOptions(deadline=exports.parse_deadline(DEADLINE), late_penalty=10)


def test_timestamp_comes_from_timestamp_txt_else_mtime(tmp_path):
    subs = _submissions(tmp_path)
    when, source = exports.submission_timestamp(subs / "boris" / "01-nps")
    assert (when, source) == (dt.datetime(2026, 3, 2, 21, 0, tzinfo=dt.UTC), "timestamp.txt")
    when, source = exports.submission_timestamp(subs / "vera" / "01-nps")
    assert source == "mtime"
    assert when == dt.datetime(2026, 3, 1, 20, 59, 1, tzinfo=dt.UTC)
    assert exports.submission_timestamp(subs / "nobody" / "01-nps") == (None, "")
    moscow = subs / "ann" / "01-nps" / "timestamp.txt"
    moscow.write_text("2026-03-01 23:59:30.000000 MSK", encoding="utf-8")
    assert exports.submission_timestamp(moscow.parent)[0] == dt.datetime(
        2026, 3, 1, 20, 59, 30, tzinfo=dt.UTC
    )
    moscow.write_text("2026-03-01 23:59:30 XYZT", encoding="utf-8")
    with pytest.raises(GradingError, match="unknown time zone"):
        exports.submission_timestamp(moscow.parent)
    moscow.write_text("yesterday-ish", encoding="utf-8")
    with pytest.raises(GradingError, match="is not a date-time"):
        exports.submission_timestamp(moscow.parent)


def test_grades_csv_shows_raw_days_late_penalty_and_final(tmp_path):
    out, subs = _results_folder(tmp_path), _submissions(tmp_path)
    exports.apply_late_penalties(out, subs, exports.parse_deadline(DEADLINE), 0.1)
    rows = _read(out / "grades.csv")
    assert list(rows[0]) == GRADES_COLUMNS + [
        "submitted_at",
        "timestamp_source",
        "days_late",
        "penalty",
        "final_points",
    ]
    got = {
        (r["trainee"], r["assignment"], r["task"]): (
            float(r["points"]),
            int(r["days_late"]),
            float(r["penalty"]),
            float(r["final_points"]),
            r["timestamp_source"],
        )
        for r in rows
    }
    # Hand-worked: final = raw × (1 − min(1, 0.1 × started days late)).
    assert got[("ann", "01-nps", "t1")] == (6.0, 0, 0.0, 6.0, "timestamp.txt")
    assert got[("ann", "02-ltv", "t1")] == (3.0, 0, 0.0, 3.0, "timestamp.txt")
    assert got[("boris", "01-nps", "t1")] == (6.0, 2, 0.2, 4.8, "timestamp.txt")
    assert got[("boris", "01-nps", "t2")] == (2.0, 2, 0.2, 1.6, "timestamp.txt")
    assert got[("boris", "02-ltv", "t1")] == (4.0, 15, 1.0, 0.0, "timestamp.txt")
    assert got[("vera", "01-nps", "t1")] == (3.0, 1, 0.1, 2.7, "mtime")
    assert got[("vera", "01-nps", "t2")] == (2.0, 1, 0.1, 1.8, "mtime")
    assert got[("vera", "02-ltv", "t1")] == (0.0, 0, 0.0, 0.0, "mtime")
    summary = {r["trainee"]: r for r in _read(out / "grades_summary.csv")}
    # boris: 4.8 + 1.6 = 6.4 on 01-nps, 0 on 02-ltv; vera: 2.7 + 1.8 = 4.5.
    assert float(summary["boris"]["01-nps"]) == pytest.approx(6.4)
    assert float(summary["boris"]["02-ltv"]) == 0.0
    assert float(summary["boris"]["total"]) == pytest.approx(6.4)
    assert float(summary["vera"]["total"]) == pytest.approx(4.5)
    assert float(summary["ann"]["total"]) == 13.0
    assert {r["max_total"] for r in summary.values()} == {"14"}


ROSTER = (
    "trainee,lms_id,name,email,sis_user_id,section\n"
    "ann,101,Anna Ivanova,anna@example.org,S-1,A\n"
    "boris,102,Boris Petrov,boris@example.org,S-2,A\n"
    "vera,103,Вера Смирнова,vera@example.org,,B\n"
)


def _roster(tmp_path: Path, text: str = ROSTER) -> Path:
    path = tmp_path / "roster.csv"
    path.write_text(text, encoding="utf-8")
    return path


def _points_from_grades(out: Path) -> dict[tuple[str, str], float]:
    """Second method: sum the final (else raw) points of grades.csv per trainee and assignment."""
    totals: dict[tuple[str, str], float] = {}
    for r in _read(out / "grades.csv"):
        key = (r["trainee"], r["assignment"])
        totals[key] = totals.get(key, 0.0) + float(r.get("final_points") or r["points"])
    return totals


def test_canvas_file_has_canvas_columns_points_possible_and_the_grades(tmp_path):
    out, subs = _results_folder(tmp_path), _submissions(tmp_path)
    exports.apply_late_penalties(out, subs, exports.parse_deadline(DEADLINE), 0.1)
    roster = exports.read_roster(_roster(tmp_path))
    path = exports.write_lms_export(out, "canvas", roster)
    assert path.name == "canvas_gradebook.csv"
    with open(path, encoding="utf-8", newline="") as fh:
        table = list(csv.reader(fh))
    assert table[0] == [
        "Student",
        "ID",
        "SIS User ID",
        "SIS Login ID",
        "Section",
        "01-nps",
        "02-ltv",
    ]
    assert table[1] == ["Points Possible", "", "", "", "", "10", "4"]
    rows = {r[1]: r for r in table[2:]}
    assert rows["102"][:5] == ["Boris Petrov", "102", "S-2", "", "A"]
    assert rows["103"][0] == "Вера Смирнова"
    expected = _points_from_grades(out)
    by_id = {"101": "ann", "102": "boris", "103": "vera"}
    for lms_id, row in rows.items():
        for column, assignment in ((5, "01-nps"), (6, "02-ltv")):
            assert float(row[column]) == pytest.approx(expected[(by_id[lms_id], assignment)])
    assert (rows["102"][5], rows["102"][6]) == ("6.4", "0")  # the late penalties went through


def test_moodle_file_identifies_by_email_and_id_number(tmp_path):
    out = _results_folder(tmp_path)
    path = exports.write_lms_export(out, "moodle", exports.read_roster(_roster(tmp_path)))
    assert path.name == "moodle_grades.csv"
    rows = _read(path)
    assert list(rows[0]) == ["Email address", "ID number", "Full name", "01-nps", "02-ltv"]
    got = {r["Email address"]: (r["ID number"], r["01-nps"], r["02-ltv"]) for r in rows}
    # No deadline: raw totals (ann 6 + 4 and 3; boris 6 + 2 and 4; vera 3 + 2 and 0).
    assert got == {
        "anna@example.org": ("101", "10", "3"),
        "boris@example.org": ("102", "8", "4"),
        "vera@example.org": ("103", "5", "0"),
    }


def test_roster_problems_are_named(tmp_path):
    out = _results_folder(tmp_path)
    short = _roster(tmp_path, "trainee,lms_id,name,email\nann,101,Anna,a@x.org\n")
    with pytest.raises(GradingError, match=r"no line for 2 graded trainee\(s\): boris, vera"):
        exports.write_lms_export(out, "canvas", exports.read_roster(short))
    extra = exports.read_roster(_roster(tmp_path, ROSTER + "gleb,104,Gleb,g@x.org\n"))
    warnings = exports.check_roster(extra, ["ann", "boris", "vera"], "roster.csv")
    assert warnings == [
        "roster roster.csv: 'gleb' has no submission folder; left out of the LMS file"
    ]
    with pytest.raises(GradingError, match="missing column"):
        exports.read_roster(_roster(tmp_path, "trainee,name\nann,Anna\n"))
    with pytest.raises(GradingError, match=r"row 3: trainee 'ann' is listed twice"):
        exports.read_roster(_roster(tmp_path, "trainee,lms_id,name,email\nann,1,A,a\nann,2,B,b\n"))
    with pytest.raises(GradingError, match=r"row 2: column lms_id is empty"):
        exports.read_roster(_roster(tmp_path, "trainee,lms_id,name,email\nann,,A,a\n"))
    with pytest.raises(ValueError, match="needs --roster"):
        exports.ExportOptions(lms="canvas")


def test_cli_refuses_a_roster_missing_a_trainee_before_grading(tmp_path):
    from click.testing import CliRunner

    from loyalty_lib.cli import main

    subs = _submissions(tmp_path)
    roster = _roster(tmp_path, "trainee,lms_id,name,email\nann,101,Anna,a@x.org\n")
    result = CliRunner().invoke(
        main,
        ["grade", str(subs), "--out", str(tmp_path / "o"), "--lms", "moodle", "--roster", roster],
    )
    assert result.exit_code != 0
    assert "no line for 2 graded trainee(s): boris, vera" in result.output
    assert not (tmp_path / "o").exists()  # refused before any kernel ran
