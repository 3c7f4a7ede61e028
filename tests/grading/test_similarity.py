"""Similarity report (loyalty_lib.grading.similarity): copied solutions with renamed variables and
shuffled lines score high, an independent solution low, stubs and given code never count."""

from __future__ import annotations

import csv
import json
import keyword
import re
from pathlib import Path

import nbformat
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from loyalty_lib import grading
from loyalty_lib.grading import similarity

GIVEN_SETUP = (
    "from loyalty_lib import segments\n"
    "transactions = segments.load_sample_transactions()\n"
    "observation_end = transactions['date'].max()\n"
    "summary_of_everyone = segments.customer_summary(transactions, observation_end, freq='D')\n"
)
ORIGINAL = """summary = segments.customer_summary(transactions, observation_end, freq="D")
active = summary[summary["recency"] > 30]
top = active.sort_values("monetary", ascending=False).head(10)
share_top = float(top["monetary"].sum() / active["monetary"].sum())
counts = active.groupby("frequency").size()
best = int(counts.idxmax())
for i, row in top.iterrows():
    print(row["customer_id"], round(row["monetary"], 2))
"""
# The same code, every name changed and the lines in another order.
RENAMED_AND_REORDERED = """customers_table = segments.customer_summary(transactions, observation_end, freq="D")
alive = customers_table[customers_table["recency"] > 30]
n_by_freq = alive.groupby("frequency").size()
best = int(n_by_freq.idxmax())
leaders = alive.sort_values("monetary", ascending=False).head(10)
share_top = float(leaders["monetary"].sum() / alive["monetary"].sum())
for j, r in leaders.iterrows():
    print(r["customer_id"], round(r["monetary"], 2))
"""
# Solves the same task another way.
INDEPENDENT = """import numpy as np
tbl = segments.customer_summary(transactions, observation_end)
mask = np.asarray(tbl.recency) > 30
vals = sorted(tbl.monetary[mask], reverse=True)
share_top = sum(vals[:10]) / sum(vals)
best = max(set(tbl.frequency[mask]), key=list(tbl.frequency[mask]).count)
"""


def _source_notebook() -> nbformat.NotebookNode:
    return grading.new_assignment_notebook(
        [
            {"kind": "readonly", "grade_id": "setup", "source": GIVEN_SETUP},
            {"kind": "markdown", "source": "## Task 1"},
            {
                "kind": "solution",
                "grade_id": "task1-solution",
                "source": f"{grading.BEGIN_SOLUTION}\n{ORIGINAL}{grading.END_SOLUTION}\nshare_top, best",
            },
            {
                "kind": "tests",
                "grade_id": "task1-tests",
                "points": 2,
                "visible": "assert 0 < share_top <= 1",
                "hidden": "assert best >= 0",
            },
        ]
    )


def _submission(code: str) -> nbformat.NotebookNode:
    nb = _source_notebook()
    for cell in nb.cells:
        if cell.metadata.get("nbgrader", {}).get("solution"):
            cell.source = f"{code}\nshare_top, best"
    return nb


def _course(tmp_path: Path, codes: dict[str, str]) -> tuple[Path, dict[str, list[Path]]]:
    source = tmp_path / "solutions" / "03-seg" / "seg.ipynb"
    source.parent.mkdir(parents=True)
    nbformat.write(_source_notebook(), source)
    subs = tmp_path / "subs"
    for trainee, code in codes.items():
        target = subs / trainee / "03-seg" / "seg.ipynb"
        target.parent.mkdir(parents=True)
        nbformat.write(_submission(code), target)
    return subs, {"03-seg": [source]}


def test_source_notebook_has_the_cells_the_report_reads():
    nb = json.loads(nbformat.writes(_source_notebook()))
    assert ORIGINAL.splitlines()[0] in similarity.solution_code(nb)
    given_text = similarity.given_code(nb)
    assert grading.CODE_STUB in given_text and "summary_of_everyone" in given_text
    assert (
        "recency" not in given_text and "best >= 0" not in given_text
    )  # no solution, no hidden test


def test_renamed_and_reordered_copy_scores_high_independent_low():
    given_text = similarity.given_code(json.loads(nbformat.writes(_source_notebook())))
    stub = f"{grading.CODE_STUB}\nshare_top, best"
    codes = {
        "ann": f"{ORIGINAL}\nshare_top, best",
        "boris": f"{RENAMED_AND_REORDERED}\nshare_top, best",
        "vera": f"{INDEPENDENT}\nshare_top, best",
        "gleb": stub,
    }
    pairs, compared = similarity.compare_assignment(codes, given_text, threshold=0.0001)
    scores = {(p.trainee_a, p.trainee_b): p.score for p in pairs}
    assert compared == 3  # gleb's stub leaves no fingerprint: in no pair
    assert scores[("ann", "boris")] > 0.9
    assert ("ann", "vera") not in scores and ("boris", "vera") not in scores  # below any threshold
    copy = next(p for p in pairs if (p.trainee_a, p.trainee_b) == ("ann", "boris"))
    # All 8 solution lines of each are inside the matching fingerprints; the given last line
    # ("share_top, best") is not.
    assert copy.lines_a == tuple(range(1, 9)) and copy.lines_b == tuple(range(1, 9))


def test_blank_stub_pairs_never_appear(tmp_path):
    stub = grading.CODE_STUB
    subs, solutions = _course(tmp_path, {"ann": stub, "boris": stub, "vera": stub})
    out = tmp_path / "out"
    out.mkdir()
    report = similarity.similarity_report(subs, solutions, out, threshold=0.01)
    assert report.pairs == () and report.n_compared == 0
    with open(out / "similarity.csv", encoding="utf-8") as fh:
        assert list(csv.DictReader(fh)) == []
    assert "No pair of submissions" in (out / "similarity.html").read_text(encoding="utf-8")


def test_report_files_list_the_copied_pair_side_by_side(tmp_path):
    subs, solutions = _course(
        tmp_path,
        {
            "ann": ORIGINAL,
            "boris": RENAMED_AND_REORDERED,
            "vera": INDEPENDENT,
            "gleb": grading.CODE_STUB,
        },
    )
    (subs / "dina" / "03-seg").mkdir(parents=True)
    (subs / "dina" / "03-seg" / "seg.ipynb").write_text("{not json", encoding="utf-8")
    out = tmp_path / "out"
    out.mkdir()
    report = similarity.similarity_report(subs, solutions, out, threshold=0.5)
    with open(out / "similarity.csv", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert [(r["trainee_a"], r["trainee_b"]) for r in rows] == [("ann", "boris")]
    assert list(rows[0]) == list(similarity.CSV_COLUMNS)
    assert (
        float(rows[0]["score"]) == pytest.approx(report.pairs[0].score)
        and report.pairs[0].score > 0.9
    )
    page = (out / "similarity.html").read_text(encoding="utf-8")
    assert "ann ↔ boris" in page and 'class="line match"' in page
    assert "leaders.iterrows" in page and "top.iterrows" in page  # both sides shown
    assert "vera" not in page and "gleb" not in page
    assert "1 of 3 pairs" in str(report)  # ann, boris, vera compared; the stub and bad JSON not


LOCAL_NAMES = ("summary", "active", "top", "counts", "row")


@settings(max_examples=25, deadline=None)
@given(
    st.lists(
        st.from_regex(r"[a-z][a-z0-9_]{2,12}", fullmatch=True).filter(
            lambda n: not keyword.iskeyword(n)
        ),
        min_size=len(LOCAL_NAMES),
        max_size=len(LOCAL_NAMES),
        unique=True,
    )
)
def test_any_renaming_of_the_local_names_is_still_a_full_match(new_names):
    # Invariant: copydetect replaces every name by V, so no renaming can lower the score.
    renamed = ORIGINAL
    for old, new in zip(LOCAL_NAMES, new_names, strict=True):
        renamed = re.sub(rf"\b{old}\b", f"x_{new}", renamed)
    pairs, _ = similarity.compare_assignment(
        {"ann": ORIGINAL, "boris": renamed}, grading.CODE_STUB, threshold=0.0001
    )
    assert len(pairs) == 1 and pairs[0].score == 1.0
