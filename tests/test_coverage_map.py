"""The coverage map: every fact of the seed digest is taught in a lesson cell that exists and,
where it is a number or a rule, computed by a library function and exercised by a test that exist.

Map fragments live in ``notebooks/coverage/<lesson>.yml``, one per lesson, so lesson authors never
edit the same file. Format::

    N3:
      cells: ["01_nps.ipynb#n3-formula"]          # notebook#cell-id (nbformat cell ids)
      function: loyalty_lib.nps.nps                # optional: dotted path of what computes it
      test: tests/test_nps.py::test_nps_by_hand    # optional, required when function is given
"""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import nbformat
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
DIGEST = NOTEBOOKS / "seed-digest.md"
SHARED_DIGEST = ROOT.parent / "shared" / "seed-digest.md"
ID_PATTERN = re.compile(r"^- \[([NLSPE]\d+)\]", re.MULTILINE)


def digest_ids() -> list[str]:
    return ID_PATTERN.findall(DIGEST.read_text(encoding="utf-8"))


def load_map() -> dict[str, dict]:
    merged: dict[str, dict] = {}
    for fragment in sorted((NOTEBOOKS / "coverage").glob("*.yml")):
        for seed_id, entry in (yaml.safe_load(fragment.read_text(encoding="utf-8")) or {}).items():
            slot = merged.setdefault(seed_id, {"cells": [], "functions": [], "tests": []})
            slot["cells"] += entry.get("cells", [])
            if entry.get("function"):
                slot["functions"].append(entry["function"])
            if entry.get("test"):
                slot["tests"].append(entry["test"])
    return merged


_CELL_IDS: dict[str, set[str]] = {}


def cell_ids(notebook: str) -> set[str]:
    """The nbformat cell ids of ``notebooks/<notebook>`` (empty when the file does not exist)."""
    if notebook not in _CELL_IDS:
        path = NOTEBOOKS / notebook
        _CELL_IDS[notebook] = (
            {c.get("id") for c in nbformat.read(path, as_version=4).cells}
            if path.exists()
            else set()
        )
    return _CELL_IDS[notebook]


def missing_cells(refs: list[str]) -> list[str]:
    """The ``notebook#cell-id`` references of ``refs`` whose cell does not exist."""
    return [ref for ref in refs if ref.partition("#")[2] not in cell_ids(ref.partition("#")[0])]


def function_and_test_problems(label: str, functions: list[str], tests: list[str]) -> list[str]:
    """Dotted functions that do not import and ``path::test`` references with no such test."""
    problems = []
    for dotted in functions:
        module, _, name = dotted.rpartition(".")
        try:
            if not hasattr(importlib.import_module(module), name):
                problems.append(f"{label}: {dotted} has no attribute {name}")
        except ImportError as exc:
            problems.append(f"{label}: {dotted}: {exc}")
    for ref in tests:
        path, _, test_name = ref.partition("::")
        source = (ROOT / path).read_text(encoding="utf-8") if (ROOT / path).exists() else ""
        if not test_name or not re.search(rf"def {re.escape(test_name.split('[')[0])}\b", source):
            problems.append(f"{label}: test {ref} not found")
    return problems


def test_digest_copy_matches_the_shared_digest():
    if not SHARED_DIGEST.exists():
        pytest.skip("the shared seed digest is not beside this checkout (CI clone)")
    assert DIGEST.read_text(encoding="utf-8") == SHARED_DIGEST.read_text(encoding="utf-8"), (
        f"{DIGEST} is stale: copy {SHARED_DIGEST} over it"
    )


def test_digest_has_ids():
    ids = digest_ids()
    # 12 NPS + 6 LTV + 8 segmentation + 9 program + 6 evaluation facts, counted in the digest.
    assert len(ids) == 41, ids
    assert len(set(ids)) == len(ids)


def test_every_seed_id_is_taught_in_an_existing_cell():
    coverage = load_map()
    missing = [i for i in digest_ids() if i not in coverage or not coverage[i]["cells"]]
    assert not missing, f"seed ids with no lesson cell in notebooks/coverage/*.yml: {missing}"
    unknown = sorted(set(coverage) - set(digest_ids()))
    assert not unknown, f"coverage map cites ids that are not in the digest: {unknown}"
    broken = [
        f"{seed_id}: {ref}"
        for seed_id, entry in coverage.items()
        for ref in missing_cells(entry["cells"])
    ]
    assert not broken, f"coverage map points to cells that do not exist: {broken}"


def test_functions_and_tests_in_the_map_exist():
    problems = []
    for seed_id, entry in load_map().items():
        problems += function_and_test_problems(seed_id, entry["functions"], entry["tests"])
        if entry["functions"] and not entry["tests"]:
            problems.append(f"{seed_id}: computed by {entry['functions']} but no test is cited")
    assert not problems, "\n".join(problems)


# ----------------------------------------------------------------------------- the methods map

METHODS = NOTEBOOKS / "coverage" / "methods" / "methods.yml"
EXPECTED_METHODS = {
    "BG/NBD",
    "MBG/NBD",
    "Pareto/NBD",
    "BG/BB",
    "Gamma-Gamma",
    "model comparison on a holdout",
    "model-based intervals",
    "difference-in-differences",
    "parallel trends check",
    "balance table",
    "ANCOVA / CUPED",
}


def load_methods() -> dict[str, dict]:
    return yaml.safe_load(METHODS.read_text(encoding="utf-8"))


def _tests_of(entry: dict) -> list[str]:
    test = entry.get("test")
    return [test] if isinstance(test, str) else list(test or [])


def test_methods_map_lists_the_course_methods_with_function_test_and_reference():
    methods = load_methods()
    assert {e["name"] for e in methods.values()} == EXPECTED_METHODS
    for key, entry in methods.items():
        assert entry.get("function") and _tests_of(entry) and entry.get("reference"), key
        assert re.search(r"\(\d{4}\)", entry["reference"]), f"{key}: reference without a year"
    # a subfolder: the digest loader must not see it (it only accepts digest ids)
    assert METHODS.parent != NOTEBOOKS / "coverage"
    assert not set(methods) & set(load_map())


def test_methods_map_cells_exist_in_both_editions():
    problems = []
    for key, entry in load_methods().items():
        cells = entry["cells"]
        english = [c for c in cells if not c.startswith("ru/")]
        russian = [c for c in cells if c.startswith("ru/")]
        if not english:
            problems.append(f"{key}: no English lesson cell")
        if russian != ["ru/" + c for c in english]:
            problems.append(f"{key}: the Russian cells are not the English ones under ru/")
        problems += [f"{key}: {ref} does not exist" for ref in missing_cells(cells)]
    assert not problems, "\n".join(problems)


def test_methods_map_functions_import_and_tests_exist():
    problems = []
    for key, entry in load_methods().items():
        problems += function_and_test_problems(key, [entry["function"]], _tests_of(entry))
    assert not problems, "\n".join(problems)


def test_methods_map_checks_can_fail():
    # the helpers the map tests rely on do report a missing cell, function and test
    assert missing_cells(["02_ltv.ipynb#cdnow-compare", "02_ltv.ipynb#no-such-cell"]) == [
        "02_ltv.ipynb#no-such-cell"
    ]
    assert missing_cells(["no_such_lesson.ipynb#intro"]) == ["no_such_lesson.ipynb#intro"]
    problems = function_and_test_problems(
        "x",
        ["loyalty_lib.ltv.compare_models", "loyalty_lib.ltv.no_such_function"],
        [
            "tests/test_coverage_map.py::test_methods_map_checks_can_fail",
            "tests/nowhere.py::test_a",
        ],
    )
    assert problems == [
        "x: loyalty_lib.ltv.no_such_function has no attribute no_such_function",
        "x: test tests/nowhere.py::test_a not found",
    ]
