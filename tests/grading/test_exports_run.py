"""`loyalty grade` with --deadline, --late-penalty, --lms and --roster on the fixture course: the
exports land in the results folder next to grades.csv (one real grading run, four submissions)."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from loyalty_lib.cli import main
from loyalty_lib.grading.sandbox import sandbox_problem

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "grading_fixtures"
ASSIGNMENT = "01-fixture"

pytestmark = pytest.mark.skipif(
    sandbox_problem() is not None, reason=f"loyalty grade needs its sandbox: {sandbox_problem()}"
)


def _read(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    base = tmp_path_factory.mktemp("exports-run")
    subs = base / "subs"
    for trainee in ("perfect", "partial", "blank"):
        shutil.copytree(FIXTURES / "submissions" / trainee, subs / trainee)
    shutil.copytree(FIXTURES / "submissions" / "perfect", subs / "copycat")
    stamps = {
        "perfect": "2026-03-01 20:00:00 UTC",  # on time (the deadline is 20:59 UTC)
        "partial": "2026-03-02 10:00:00 UTC",  # 13 h late → 1 started day
        "copycat": "2026-03-03 20:59:30 UTC",  # 2 days and 30 s late → 3 started days
    }  # blank has no timestamp.txt: its files' mtime (today, months late) → penalty capped at 1
    for trainee, stamp in stamps.items():
        (subs / trainee / ASSIGNMENT / "timestamp.txt").write_text(stamp, encoding="utf-8")
    roster = base / "roster.csv"
    roster.write_text(
        "trainee,lms_id,name,email\n"
        "perfect,11,Polina P,p@example.org\npartial,12,Pavel Q,q@example.org\n"
        "blank,13,Boris B,b@example.org\ncopycat,14,Kirill C,c@example.org\n"
        "absent,15,Anna A,a@example.org\n",
        encoding="utf-8",
    )
    out = base / "out"
    result = CliRunner().invoke(
        main,
        [
            "grade",
            str(subs),
            "--out",
            str(out),
            "--root",
            str(FIXTURES),
            "--timeout",
            "10",
            "--deadline",
            "2026-03-01T23:59:00+03:00",
            "--late-penalty",
            "0.1",
            "--lms",
            "canvas",
            "--roster",
            str(roster),
        ],
    )
    assert result.exit_code == 0, result.output
    return {"out": out, "output": result.output}


def test_grades_csv_carries_the_penalties(run):
    rows = _read(run["out"] / "grades.csv")
    by = {}
    for r in rows:
        by.setdefault(r["trainee"], []).append(r)
    # make_fixtures.EXPECTED: perfect (2, 3, 5), partial (2, 0, 5), blank (0, 0, 0).
    expected = {  # trainee: (raw total, days late, penalty, final total), worked by hand
        "perfect": (10.0, 0, 0.0, 10.0),
        "partial": (7.0, 1, 0.1, 6.3),
        "copycat": (10.0, 3, 0.3, 7.0),
    }
    for trainee, (raw, days, penalty, final) in expected.items():
        got = by[trainee]
        assert sum(float(r["points"]) for r in got) == raw
        assert {(int(r["days_late"]), float(r["penalty"])) for r in got} == {(days, penalty)}
        assert sum(float(r["final_points"]) for r in got) == pytest.approx(final)
        assert {r["timestamp_source"] for r in got} == {"timestamp.txt"}
    assert {(r["timestamp_source"], r["penalty"]) for r in by["blank"]} == {("mtime", "1")}


def test_canvas_file_matches_grades_csv(run):
    totals: dict[str, float] = {}
    for r in _read(run["out"] / "grades.csv"):
        totals[r["trainee"]] = totals.get(r["trainee"], 0.0) + float(r["final_points"])
    with open(run["out"] / "canvas_gradebook.csv", encoding="utf-8", newline="") as fh:
        table = list(csv.reader(fh))
    assert table[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", ASSIGNMENT]
    assert table[1] == ["Points Possible", "", "", "", "", "10"]
    ids = {"11": "perfect", "12": "partial", "13": "blank", "14": "copycat"}
    assert sorted(r[1] for r in table[2:]) == sorted(ids)  # "absent" has no folder: left out
    for row in table[2:]:
        assert float(row[5]) == pytest.approx(totals[ids[row[1]]])
    assert "'absent' has no submission folder" in run["output"]


def test_similarity_and_manual_review_are_written(run):
    pairs = _read(run["out"] / "similarity.csv")
    assert (pairs[0]["trainee_a"], pairs[0]["trainee_b"], float(pairs[0]["score"])) == (
        "copycat",
        "perfect",
        1.0,
    )
    assert all("blank" not in (p["trainee_a"], p["trainee_b"]) for p in pairs)
    assert "copycat ↔ perfect" in (run["out"] / "similarity.html").read_text(encoding="utf-8")
    review = (run["out"] / "manual_review.csv").read_text(encoding="utf-8").splitlines()
    assert review == ["trainee,assignment,notebook,task,answer,reason"]  # no free-text task here
