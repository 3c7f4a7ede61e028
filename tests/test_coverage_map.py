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
    cell_ids: dict[str, set[str]] = {}
    broken = []
    for seed_id, entry in coverage.items():
        for ref in entry["cells"]:
            notebook, _, cell_id = ref.partition("#")
            if notebook not in cell_ids:
                path = NOTEBOOKS / notebook
                cell_ids[notebook] = (
                    {c.get("id") for c in nbformat.read(path, as_version=4).cells}
                    if path.exists()
                    else set()
                )
            if cell_id not in cell_ids[notebook]:
                broken.append(f"{seed_id}: {ref}")
    assert not broken, f"coverage map points to cells that do not exist: {broken}"


def test_functions_and_tests_in_the_map_exist():
    problems = []
    for seed_id, entry in load_map().items():
        for dotted in entry["functions"]:
            module, _, name = dotted.rpartition(".")
            try:
                if not hasattr(importlib.import_module(module), name):
                    problems.append(f"{seed_id}: {dotted} has no attribute {name}")
            except ImportError as exc:
                problems.append(f"{seed_id}: {dotted}: {exc}")
        for ref in entry["tests"]:
            path, _, test_name = ref.partition("::")
            source = (ROOT / path).read_text(encoding="utf-8") if (ROOT / path).exists() else ""
            if not re.search(rf"def {re.escape(test_name.split('[')[0])}\b", source):
                problems.append(f"{seed_id}: test {ref} not found")
        if entry["functions"] and not entry["tests"]:
            problems.append(f"{seed_id}: computed by {entry['functions']} but no test is cited")
    assert not problems, "\n".join(problems)
