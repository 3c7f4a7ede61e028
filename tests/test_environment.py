"""environment.yml (conda) and pyproject.toml (pip) must list the same packages and lower bounds.

Two files describe one environment; this test is what keeps them from drifting. Covered: the
runtime dependencies and the ``test`` and ``spark`` extras, in both directions.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet

ROOT = Path(__file__).resolve().parents[1]
EXTRAS = ("test", "spark")
# PyPI name → conda-forge name, where they differ.
PYPI_TO_CONDA = {"duckdb": "python-duckdb"}
# In environment.yml only: the interpreter, pip itself, and the Java runtime Spark needs.
CONDA_ONLY = {"python", "pip", "openjdk"}
# A conda match spec as we write them: name, then an optional version constraint.
CONDA_SPEC = re.compile(r"^(?P<name>[A-Za-z0-9_.\-]+)\s*(?P<spec>[<>=!~].*)?$")


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def pyproject_requirements(pyproject: dict) -> dict[str, SpecifierSet]:
    """conda-forge name → version specifier for runtime deps and the checked extras."""
    project = pyproject["project"]
    lines = list(project["dependencies"])
    for extra in EXTRAS:
        lines += project["optional-dependencies"][extra]
    out: dict[str, SpecifierSet] = {}
    for line in lines:
        req = Requirement(line)
        name = _norm(req.name)
        out[PYPI_TO_CONDA.get(name, name)] = req.specifier
    return out


def environment_requirements(env: dict) -> tuple[dict[str, SpecifierSet], dict[str, SpecifierSet]]:
    """(conda packages, pip packages) → version specifier; ``-e .`` and CONDA_ONLY left out."""
    conda: dict[str, SpecifierSet] = {}
    pip: dict[str, SpecifierSet] = {}
    for item in env["dependencies"]:
        if isinstance(item, dict):
            for line in item.get("pip", []):
                if line.startswith("-e") or line.startswith("."):
                    continue
                req = Requirement(line)
                pip[_norm(req.name)] = req.specifier
            continue
        match = CONDA_SPEC.match(str(item).strip())
        if match is None:
            raise ValueError(f"environment.yml: cannot read dependency {item!r}")
        name = _norm(match["name"])
        if name not in CONDA_ONLY:
            conda[name] = SpecifierSet((match["spec"] or "").replace(" ", ""))
    return conda, pip


def lower_bound(spec: SpecifierSet) -> str | None:
    bounds = [s.version for s in spec if s.operator in (">=", "==", "~=")]
    return (
        max(bounds, key=lambda v: tuple(int(p) for p in re.findall(r"\d+", v))) if bounds else None
    )


@pytest.fixture(scope="module")
def pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def env() -> dict:
    return yaml.safe_load((ROOT / "environment.yml").read_text(encoding="utf-8"))


def test_environment_uses_conda_forge_and_installs_the_project(env: dict) -> None:
    assert env["name"] == "loyalty-workbook"
    assert env["channels"] == ["conda-forge"]
    pip = next(item["pip"] for item in env["dependencies"] if isinstance(item, dict))
    assert "-e ." in pip


def test_python_versions_agree(pyproject: dict, env: dict) -> None:
    python = next(
        str(d)
        for d in env["dependencies"]
        if isinstance(d, str) and CONDA_SPEC.match(d)["name"] == "python"
    )
    assert SpecifierSet(python.removeprefix("python")) == SpecifierSet(
        pyproject["project"]["requires-python"]
    )


def test_every_pyproject_dependency_is_in_environment_yml(pyproject: dict, env: dict) -> None:
    conda, pip = environment_requirements(env)
    missing = sorted(set(pyproject_requirements(pyproject)) - set(conda) - set(pip))
    assert not missing, f"in pyproject.toml but not in environment.yml: {missing}"


def test_every_environment_package_is_in_pyproject(pyproject: dict, env: dict) -> None:
    conda, pip = environment_requirements(env)
    extra = sorted((set(conda) | set(pip)) - set(pyproject_requirements(pyproject)))
    assert not extra, f"in environment.yml but not in pyproject.toml (runtime/test/spark): {extra}"


def test_lower_bounds_agree(pyproject: dict, env: dict) -> None:
    conda, pip = environment_requirements(env)
    both = {**conda, **pip}
    wanted = pyproject_requirements(pyproject)
    differ = {
        name: (str(spec), str(both[name]))
        for name, spec in wanted.items()
        if name in both and lower_bound(spec) != lower_bound(both[name])
    }
    assert not differ, f"lower bounds differ (pyproject, environment.yml): {differ}"


def test_checker_catches_drift() -> None:
    # The checks above would pass vacuously if the parsers returned nothing: feed them a known
    # disagreement and expect to see it.
    pyproject = {
        "project": {
            "dependencies": ["pandas>=2.2", "duckdb>=1.1"],
            "optional-dependencies": {"test": ["pytest>=8"], "spark": []},
        }
    }
    env = {
        "dependencies": [
            "python>=3.11",
            "pandas>=2.1",
            "python-duckdb>=1.1",
            "scipy",
            {"pip": ["pytest>=8", "-e ."]},
        ]
    }
    conda, pip = environment_requirements(env)
    wanted = pyproject_requirements(pyproject)
    assert set(wanted) == {"pandas", "python-duckdb", "pytest"}
    assert set(conda) == {"pandas", "python-duckdb", "scipy"} and set(pip) == {"pytest"}
    assert lower_bound(wanted["pandas"]) == "2.2" and lower_bound(conda["pandas"]) == "2.1"
    assert lower_bound(conda["scipy"]) is None
