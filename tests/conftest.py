"""Fixtures shared by the whole suite: project paths and the two sample data sets.

The shipped samples (``data/samples``) are generated on first use, so a fresh checkout tests the
same files ``make run`` uses; a second, differently seeded and smaller data set catches lessons
and reports that only work on the numbers they were written against.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import matplotlib
import pytest

# Plots render off-screen in the test processes. Not through an exported MPLBACKEND=Agg: kernels
# started by nbval and papermill inherit the environment, and ipykernel only switches to the inline
# backend (figures as PNG outputs) when MPLBACKEND is unset; with Agg, stored figures go missing.
matplotlib.use("Agg")
if os.environ.get("MPLBACKEND", "").lower() == "agg":
    del os.environ["MPLBACKEND"]
# papermill/nbclient start kernels by name and nbgrader calls `alembic`: both must come from the
# interpreter running the tests, even when pytest was started without activating the venv.
_BIN = str(Path(sys.executable).parent)
if os.environ.get("PATH", "").split(os.pathsep)[0] != _BIN:
    os.environ["PATH"] = _BIN + os.pathsep + os.environ.get("PATH", "")

PROJECT_ROOT = Path(__file__).resolve().parents[1]
#: Seed and size of the second data set (smaller than the shipped 3000 customers to stay fast).
ALT_SEED = 7
ALT_CUSTOMERS = 600


@pytest.fixture(scope="session")
def project_root() -> Path:
    return PROJECT_ROOT


@pytest.fixture(scope="session")
def samples_dir() -> Path:
    """The shipped samples, generated with the default seed if absent."""
    from loyalty_lib.pipeline import ensure_samples

    return ensure_samples(PROJECT_ROOT / "data" / "samples")


@pytest.fixture(scope="session")
def alt_samples_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A second retailer: seed 7, 600 customers, in a session-wide temporary folder."""
    from loyalty_lib import samples

    folder = tmp_path_factory.mktemp("alt_samples")
    samples.write_samples(folder, n_customers=ALT_CUSTOMERS, seed=ALT_SEED)
    return folder


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    """Keep nbval to the lessons: ``--nbval`` collects every .ipynb it meets, and the .ipynb files
    under tests/ are fixtures (deliberately broken submissions, for example), not lessons."""
    if collection_path.suffix == ".ipynb":
        return True
    return None
