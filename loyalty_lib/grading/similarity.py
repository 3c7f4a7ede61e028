"""Similarity report: pairs of trainees whose solution cells are suspiciously alike.

The comparison is copydetect's (the winnowing fingerprints of Schleimer, Wilkerson & Aiken 2003,
"Winnowing: local algorithms for document fingerprinting", the method behind MOSS): code is
tokenised by Pygments and every name becomes ``V``/``F``/``O``, strings ``S``, comments and blank
space are dropped, so renamed variables still match; fingerprints are k-grams of that text, so
reordered lines still match line by line.

What is compared, per assignment and pair of trainees: the code cells marked as solutions
(nbgrader ``solution: true``) of that trainee's submitted notebooks, read unexecuted from the
submission folder. What never counts: the given code (every non-solution code cell and the parts
of solution cells outside ``### BEGIN/END SOLUTION``) and the stub that replaced the solution;
their fingerprints are copydetect's *boilerplate*, removed from every submission, and a trainee's
line equal to a line of the given code is blanked before fingerprinting. A pair is listed
when either side's share of matching tokens reaches ``threshold``.

Settings: noise threshold k = 25 filtered characters (copydetect's default) and a winnowing
window of 1, i.e. every k-gram is kept. Why not the CLI's window of 6: copydetect hashes k-grams
with Python's ``hash()``, salted per process, so which fingerprints winnowing keeps, and hence
the score, changes from run to run (the same pair scored 0.856 and 0.878 in two runs here);
keeping all k-grams makes the score depend on the code only, and a notebook's solutions are a few
hundred characters, so the cost is nil. With these settings a 9-line solution with every name
changed and its lines shuffled scores 1.0 (every run), an independent solution of the same task 0.
"""

from __future__ import annotations

import csv
import dataclasses
import html
import io
import json
import re
from pathlib import Path

from loyalty_lib._result import Result
from loyalty_lib.grading._nbgrader import BEGIN_SOLUTION, CODE_STUB, END_SOLUTION

NOISE_THRESHOLD = 25  # k: matches shorter than this many filtered characters are ignored
WINDOW = 1  # keep every k-gram: winnowing's pick depends on the salted str hash (see above)
CSV_COLUMNS = (
    "assignment",
    "trainee_a",
    "trainee_b",
    "score",
    "similarity_a",
    "similarity_b",
    "matching_lines_a",
    "matching_lines_b",
)
_SOLUTION_RE = re.compile(
    rf"[ \t]*{re.escape(BEGIN_SOLUTION)}.*?{re.escape(END_SOLUTION)}[^\n]*", re.S
)


@dataclasses.dataclass(frozen=True)
class SimilarPair:
    """Two trainees' solution code on one assignment; similarities are shares (0–1) of each
    side's fingerprinted tokens found in the other; ``score`` is the larger one."""

    assignment: str
    trainee_a: str
    trainee_b: str
    similarity_a: float
    similarity_b: float
    code_a: str
    code_b: str
    lines_a: tuple[int, ...]  # 1-based line numbers of code_a inside a matching slice
    lines_b: tuple[int, ...]

    @property
    def score(self) -> float:
        return max(self.similarity_a, self.similarity_b)


@dataclasses.dataclass(frozen=True)
class SimilarityReport(Result):
    """Pairs at or above ``threshold``, most similar first, and how many pairs were compared."""

    threshold: float
    n_compared: int
    pairs: tuple[SimilarPair, ...]

    def __str__(self) -> str:
        from loyalty_lib.i18n import fmt_count, fmt_share

        if not self.pairs:
            return (
                f"No pair of submissions reaches a similarity of {fmt_share(self.threshold)} "
                f"({fmt_count(self.n_compared)} pairs compared)."
            )
        top = self.pairs[0]
        return (
            f"{fmt_count(len(self.pairs))} of {fmt_count(self.n_compared)} pairs of submissions "
            f"reach a similarity of {fmt_share(self.threshold)}; the highest is "
            f"{top.trainee_a} and {top.trainee_b} on {top.assignment} ({fmt_share(top.score)}): "
            "see similarity.html."
        )

    def to_dict(self) -> dict:
        return {
            "threshold": self.threshold,
            "n_compared": self.n_compared,
            "pairs": [_csv_row(p) for p in self.pairs],
        }


def given_code(source_nb: dict) -> str:
    """The code a trainee receives: every code cell of the source notebook with each solution
    region replaced by the stub (what the exercise shows), hidden tests left out."""
    parts = []
    for cell in source_nb.get("cells", []):
        if cell.get("cell_type") != "code":
            continue
        text = _text(cell.get("source", ""))
        text = _SOLUTION_RE.sub(CODE_STUB, text)
        text = re.sub(r"### BEGIN HIDDEN TESTS.*?### END HIDDEN TESTS[^\n]*", "", text, flags=re.S)
        parts.append(text)
    return "\n".join(parts)


def solution_code(nb: dict) -> str:
    """The trainee's solution cells (nbgrader ``solution: true`` code cells), one after another."""
    return "\n".join(
        _text(c.get("source", ""))
        for c in nb.get("cells", [])
        if c.get("cell_type") == "code"
        and c.get("metadata", {}).get("nbgrader", {}).get("solution")
    )


def compare_assignment(
    codes: dict[str, str], given: str, *, threshold: float = 0.5, assignment: str = ""
) -> tuple[list[SimilarPair], int]:
    """(pairs at or above ``threshold``, number of pairs compared) for ``codes``: trainee → code.

    Trainees with no fingerprint left once the given code is removed (a blank stub) take part in
    no pair.
    """
    from copydetect import CodeFingerprint, compare_files

    window = WINDOW
    boilerplate = list(
        CodeFingerprint(
            "given.py", NOISE_THRESHOLD, window, fp=io.StringIO(given), language="python"
        ).hashes
    )
    # Lines of the given code (the stub, "result" after the solution) are blanked too: a piece
    # shorter than k is fingerprinted whole, and would otherwise escape the boilerplate hashes.
    given_lines = {line.strip() for line in given.splitlines() if line.strip()}
    prints, originals = {}, {}
    for trainee, code in sorted(codes.items()):
        own = "\n".join("" if line.strip() in given_lines else line for line in code.splitlines())
        if not own.strip():
            continue
        fingerprint = CodeFingerprint(
            f"{trainee}.py",
            NOISE_THRESHOLD,
            window,
            boilerplate=boilerplate,
            fp=io.StringIO(own),
            language="python",
        )
        if fingerprint.hashes:
            prints[trainee], originals[trainee] = fingerprint, code
    names = sorted(prints)
    pairs, compared = [], 0
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            compared += 1
            _overlap, (sim_a, sim_b), (slices_a, slices_b) = compare_files(prints[a], prints[b])
            if max(sim_a, sim_b) < threshold:
                continue
            pairs.append(
                SimilarPair(
                    assignment=assignment,
                    trainee_a=a,
                    trainee_b=b,
                    similarity_a=round(float(sim_a), 4),
                    similarity_b=round(float(sim_b), 4),
                    code_a=originals[a],
                    code_b=originals[b],
                    lines_a=_lines_of(prints[a].raw_code, slices_a),
                    lines_b=_lines_of(prints[b].raw_code, slices_b),
                )
            )
    return pairs, compared


def similarity_report(
    submissions_dir: Path,
    solutions: dict[str, list[Path]],
    out_dir: Path,
    *,
    threshold: float = 0.5,
) -> SimilarityReport:
    """Compare every pair of trainees on each assignment; write ``similarity.csv`` and
    ``similarity.html`` to ``out_dir``. ``solutions`` maps assignment → its source notebooks."""
    submissions_dir, out_dir = Path(submissions_dir), Path(out_dir)
    trainees = sorted(
        p.name for p in submissions_dir.iterdir() if p.is_dir() and not p.name.startswith(".")
    )
    all_pairs: list[SimilarPair] = []
    compared = 0
    for assignment, notebooks in sorted(solutions.items()):
        given = "\n".join(given_code(_read_json(p) or {}) for p in notebooks)
        codes = {}
        for trainee in trainees:
            folder = submissions_dir / trainee / assignment
            if not folder.is_dir():
                continue
            parts = [solution_code(_read_json(folder / p.name) or {}) for p in notebooks]
            codes[trainee] = "\n".join(parts)
        pairs, n = compare_assignment(codes, given, threshold=threshold, assignment=assignment)
        all_pairs += pairs
        compared += n
    all_pairs.sort(key=lambda p: (-p.score, p.assignment, p.trainee_a, p.trainee_b))
    report = SimilarityReport(threshold=threshold, n_compared=compared, pairs=tuple(all_pairs))
    with open(out_dir / "similarity.csv", "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=CSV_COLUMNS)
        writer.writeheader()
        writer.writerows(_csv_row(p) for p in report.pairs)
    (out_dir / "similarity.html").write_text(_html(report), encoding="utf-8")
    return report


def _csv_row(p: SimilarPair) -> dict:
    return {
        "assignment": p.assignment,
        "trainee_a": p.trainee_a,
        "trainee_b": p.trainee_b,
        "score": p.score,
        "similarity_a": p.similarity_a,
        "similarity_b": p.similarity_b,
        "matching_lines_a": len(p.lines_a),
        "matching_lines_b": len(p.lines_b),
    }


def _lines_of(code: str, slices) -> tuple[int, ...]:
    """1-based numbers of the lines that a copydetect slice array (2×N, starts/ends) touches."""
    if len(slices) == 0 or len(slices[0]) == 0:
        return ()
    starts = [0]
    for match in re.finditer("\n", code):
        starts.append(match.end())
    lines: set[int] = set()
    for start, end in zip(slices[0], slices[1], strict=True):
        first = _line_at(starts, int(start))
        last = _line_at(starts, max(int(end) - 1, int(start)))
        lines.update(range(first, last + 1))
    n_lines = len(code.splitlines()) or 1
    return tuple(sorted(n for n in lines if n <= n_lines))


def _line_at(starts: list[int], offset: int) -> int:
    import bisect

    return bisect.bisect_right(starts, offset)


def _side(code: str, lines: tuple[int, ...]) -> str:
    marked = set(lines)
    out = []
    for number, line in enumerate(code.splitlines(), start=1):
        text = html.escape(line) or " "
        css = "line match" if number in marked else "line"
        out.append(f'<span class="{css}"><span class="n">{number:>3}</span> {text}</span>')
    return "".join(out)  # each line is a block: a newline between them would double the spacing


def _html(report: SimilarityReport) -> str:
    from loyalty_lib.i18n import fmt_share

    rows, details = [], []
    for index, p in enumerate(report.pairs, start=1):
        rows.append(
            f'<tr><td><a href="#pair-{index}">{index}</a></td><td>{html.escape(p.assignment)}</td>'
            f"<td>{html.escape(p.trainee_a)}</td><td>{html.escape(p.trainee_b)}</td>"
            f"<td>{fmt_share(p.score)}</td><td>{fmt_share(p.similarity_a)}</td>"
            f"<td>{fmt_share(p.similarity_b)}</td></tr>"
        )
        details.append(
            f'<h2 id="pair-{index}">{index}. {html.escape(p.assignment)}: '
            f"{html.escape(p.trainee_a)} ↔ {html.escape(p.trainee_b)} ({fmt_share(p.score)})</h2>"
            '<table class="side"><tr>'
            f"<th>{html.escape(p.trainee_a)} · {len(p.lines_a)} matching lines</th>"
            f"<th>{html.escape(p.trainee_b)} · {len(p.lines_b)} matching lines</th></tr>"
            f"<tr><td><pre>{_side(p.code_a, p.lines_a)}</pre></td>"
            f"<td><pre>{_side(p.code_b, p.lines_b)}</pre></td></tr></table>"
        )
    summary = html.escape(str(report).replace(": see similarity.html", ""))
    table = (
        "<table><tr><th>#</th><th>assignment</th><th>trainee A</th><th>trainee B</th>"
        "<th>score</th><th>share of A</th><th>share of B</th></tr>" + "".join(rows) + "</table>"
        if rows
        else ""
    )
    return (
        '<!DOCTYPE html><html><head><meta charset="utf-8"><title>Similarity report</title>'
        "<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}"
        "td,th{border:1px solid #ccc;padding:.3em .6em;vertical-align:top;text-align:left}"
        "table.side td{width:50%}pre{margin:0;font-size:90%}"
        ".line{display:block}.match{background:#ffe08a}.n{color:#999}</style></head><body>"
        "<h1>Similarity of solution cells</h1>"
        f"<p>{summary}</p><p>Scores are copydetect's fingerprint similarity (k-grams of normalised code, as in MOSS): the share of one "
        "trainee's solution code (names normalised, given code and stubs removed) found in the "
        "other's. Highlighted lines match; a high score is a reason to look, not a verdict.</p>"
        f"{table}{''.join(details)}</body></html>"
    )


def _text(source: str | list[str]) -> str:
    return "".join(source) if isinstance(source, list) else str(source)


def _read_json(path: Path) -> dict | None:
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
