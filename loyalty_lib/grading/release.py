"""Release: ``exercises/`` generated from ``solutions/`` (and the check that they are in sync)."""

from __future__ import annotations

import io
import logging
import shutil
import tempfile
from collections.abc import Iterable
from pathlib import Path

from loyalty_lib.grading._nbgrader import (
    _ID_RE,
    _IGNORE,
    _quiet_logger,
    _run_converter,
    nbgrader_settings,
)


def find_assignments(solutions_dir: Path) -> dict[str, list[Path]]:
    """``{assignment folder name: [notebook paths]}`` for ``solutions_dir/*/*.ipynb``, sorted."""
    found: dict[str, list[Path]] = {}
    for nb_path in sorted(Path(solutions_dir).glob("*/*.ipynb")):
        found.setdefault(nb_path.parent.name, []).append(nb_path)
    return found


def _build_release(
    solutions_dir: Path, assignments: Iterable[str], work: Path, log: logging.Logger
) -> Path:
    """Generate the release (trainee) version of ``assignments`` in the course folder ``work``.

    One nbgrader run for all assignments; ``work/gradebook.db`` then knows every assignment's cells
    (source with hidden tests), which grading reuses as its template. Returns ``work``.
    """
    for name in assignments:
        shutil.copytree(solutions_dir / name, work / "source" / name, ignore=_IGNORE)
    config = nbgrader_settings()
    config.CourseDirectory.root = str(work)
    config.CourseDirectory.db_url = f"sqlite:///{work / 'gradebook.db'}"
    config.CourseDirectory.assignment_id = "*"
    _run_converter("GenerateAssignment", config, log)
    return work


def _normalised_notebook(path: Path) -> str:
    """Released notebook as stable JSON: no outputs, counts, toolbar state; sorted keys."""
    import nbformat

    nb = nbformat.read(path, as_version=4)
    nb.metadata.pop("celltoolbar", None)
    nb.metadata.pop("widgets", None)
    for index, cell in enumerate(nb.cells):
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
        cell.metadata.pop("execution", None)
        if not _ID_RE.match(str(cell.get("id") or "")):
            cell.id = f"cell-{index}"
    if (nb.nbformat, nb.nbformat_minor) < (4, 5):
        nb.nbformat_minor = 5
    return nbformat.writes(nb) + "\n"


def _release_files(release_dir: Path) -> dict[str, bytes]:
    """``{relative path: content}`` of one released assignment, notebooks normalised."""
    files: dict[str, bytes] = {}
    for path in sorted(p for p in release_dir.rglob("*") if p.is_file()):
        rel = path.relative_to(release_dir).as_posix()
        if ".ipynb_checkpoints" in rel or "__pycache__" in rel:
            continue
        files[rel] = (
            _normalised_notebook(path).encode() if path.suffix == ".ipynb" else path.read_bytes()
        )
    return files


#: Translated editions: ``solutions/<lang>/<assignment>/`` releases to ``exercises/<lang>/…``.
EDITIONS = ("ru",)


def _editions(root: Path) -> list[str]:
    """ "" (English, ``solutions/`` itself) and every translated edition present."""
    return [""] + [lang for lang in EDITIONS if (Path(root) / "solutions" / lang).is_dir()]


def _expected_exercises(root: Path, edition: str = "") -> dict[str, dict[str, bytes]]:
    solutions = root / "solutions" / edition
    assignments = find_assignments(solutions)
    if not assignments:
        return {}
    with tempfile.TemporaryDirectory(prefix="loyalty-exercises-") as tmp:
        log = _quiet_logger("exercises", io.StringIO())
        work = _build_release(solutions, assignments, Path(tmp) / "course", log)
        return {name: _release_files(work / "release" / name) for name in assignments}


def generate_exercises(root: Path = Path(".")) -> list[Path]:
    """Write ``root/exercises/<assignment>/`` from ``root/solutions/<assignment>/`` (returns notebooks).

    Solutions become :data:`CODE_STUB`, hidden tests are removed, outputs stripped; the JSON is
    stable (sorted keys, no timestamps or absolute paths) so ``git diff`` shows only real changes.
    Exercise folders whose solution folder is gone are removed. A translated edition
    (``solutions/ru/``) is released the same way into ``exercises/ru/``.
    """
    root = Path(root)
    written: list[Path] = []
    for edition in _editions(root):
        expected = _expected_exercises(root, edition)
        out = root / "exercises" / edition
        out.mkdir(parents=True, exist_ok=True)
        for stale in sorted(
            p
            for p in out.iterdir()
            if p.is_dir() and p.name not in expected and not (edition == "" and p.name in EDITIONS)
        ):
            shutil.rmtree(stale)
        for name, files in expected.items():
            shutil.rmtree(out / name, ignore_errors=True)
            for rel, content in files.items():
                target = out / name / rel
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(content)
                if target.suffix == ".ipynb":
                    written.append(target)
    return written


def check_exercises(root: Path = Path(".")) -> list[str]:
    """Regenerate into memory and compare with ``root/exercises``; one sentence per difference."""
    root = Path(root)
    problems: list[str] = []
    for edition in _editions(root):
        problems += _check_edition(root, edition)
    return problems


def _check_edition(root: Path, edition: str) -> list[str]:
    expected = _expected_exercises(root, edition)
    out = root / "exercises" / edition
    prefix = f"{edition}/" if edition else ""
    problems: list[str] = []
    present = sorted(p.name for p in out.iterdir() if p.is_dir()) if out.is_dir() else []
    problems += [
        f"exercises/{prefix}{name}/ has no solutions/{prefix}{name}/ (extra)"
        for name in present
        if name not in expected
        and not name.startswith(".")
        and not (edition == "" and name in EDITIONS)
    ]
    for name, files in expected.items():
        actual = _release_files(out / name) if (out / name).is_dir() else {}
        for rel in sorted(set(files) | set(actual)):
            where = f"exercises/{prefix}{name}/{rel}"
            if rel not in actual:
                problems.append(f"{where} is missing")
            elif rel not in files:
                problems.append(f"{where} is extra (not produced from solutions/{prefix}{name}/)")
            elif actual[rel] != files[rel]:
                problems.append(
                    f"{where} differs from what solutions/{prefix}{name}/{rel} generates"
                )
    return problems
