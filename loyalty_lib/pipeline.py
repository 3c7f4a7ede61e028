"""Executing notebooks: the course run, stored lessons, and HTML export for the consultant report.

Everything that runs a notebook goes through :func:`execute_notebook` (one notebook, in this
process) or :func:`execute_many` (a pool of worker processes). Both use papermill's Python API:
shelling out to ``papermill`` once per notebook would pay the interpreter and import start-up
(~1.5 s) on top of the kernel start (~1 s) every time, whereas a pool worker imports once.

Conventions:

- Lessons are ``notebooks/NN_<topic>.ipynb`` and run with the kernel's working directory set to
  the notebooks folder, so a lesson's default ``data_dir = "../data/samples"`` works both in
  Jupyter and here, and paths written into outputs stay relative.
- The stored copy of a lesson (the one in git, checked by nbval) is cleaned by
  :func:`store_notebook`: no papermill timings, no Python patch version, no matplotlib version
  string in PNGs — so re-running an unchanged lesson leaves git with nothing to commit.

Heavy imports (papermill, nbformat, nbconvert, tqdm) happen inside functions so that importing
this module (e.g. from ``loyalty --help``) stays cheap.
"""

from __future__ import annotations

import base64
import contextlib
import dataclasses
import os
import re
import struct
import tempfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import loyalty_lib
from loyalty_lib._pool import run_each

KERNEL_NAME = "python3"
#: Seconds a single cell may run before the notebook is declared failed.
DEFAULT_TIMEOUT = 600
#: The files :func:`loyalty_lib.samples.write_samples` produces; any one missing triggers generation.
SAMPLE_FILES = (
    "transactions.csv",
    "survey.csv",
    "exit_survey.csv",
    "campaign.csv",
    "customers_truth.csv",
    "survey_truth.csv",
    "truth.json",
)
#: Lesson file names: two digits, an underscore, a topic.
LESSON_PATTERN = re.compile(r"^\d\d_[A-Za-z0-9_]+\.ipynb$")
#: Kernels draw figures into the notebook only with this backend; ipykernel picks it only when
#: MPLBACKEND is unset, and test suites often export MPLBACKEND=Agg.
INLINE_BACKEND = "module://matplotlib_inline.backend_inline"


class ReportError(Exception):
    """The consultant report cannot be built from the given inputs (message says why)."""


@dataclasses.dataclass(frozen=True)
class NotebookFailure:
    """Where one notebook stopped: the cell (0-based index in the executed file) and the error."""

    notebook: str
    output_path: str
    ename: str
    evalue: str
    cell_index: int | None = None
    exec_count: int | None = None
    source: str = ""

    def __str__(self) -> str:
        where = (
            "before any cell ran"
            if self.cell_index is None
            else (
                f"in cell {self.cell_index}"
                + (f" (In [{self.exec_count}])" if self.exec_count else "")
            )
        )
        first_line = next((ln for ln in self.source.splitlines() if ln.strip()), "")
        code = f"\n    > {first_line}" if first_line else ""
        return (
            f"{self.notebook} failed {where}: {self.ename}: {self.evalue}{code}"
            f"\n    partially executed notebook: {self.output_path}"
        )


class NotebookExecutionError(RuntimeError):
    """One or more notebooks failed; ``failures`` says which notebook, which cell and what error."""

    def __init__(self, failures: Sequence[NotebookFailure], completed: Sequence[Path] = ()) -> None:
        self.failures = tuple(failures)
        self.completed = tuple(completed)
        noun = "notebook" if len(self.failures) == 1 else "notebooks"
        super().__init__(
            f"{len(self.failures)} {noun} failed:\n  " + "\n  ".join(str(f) for f in self.failures)
        )

    def __reduce__(self) -> tuple[Any, ...]:  # picklable across the process pool
        return (type(self), (self.failures, self.completed))


@dataclasses.dataclass(frozen=True)
class NotebookJob:
    """One notebook to execute: where from, where to, with which parameters, in which folder."""

    input_path: Path
    output_path: Path
    parameters: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    cwd: Path | None = None
    timeout: int = DEFAULT_TIMEOUT


# --------------------------------------------------------------------------- locations


def project_root() -> Path:
    """The checkout that holds ``loyalty_lib/`` and ``notebooks/`` (editable install)."""
    return Path(loyalty_lib.__file__).resolve().parents[1]


def notebooks_dir(lang: str = "en") -> Path:
    """The lessons folder of an edition (``notebooks/``, the Russian one ``notebooks/ru/``);
    raises FileNotFoundError outside a repository checkout."""
    folder = project_root() / "notebooks" / ("" if lang == "en" else lang)
    if not folder.is_dir():
        raise FileNotFoundError(
            f"no notebooks/ folder next to {project_root() / 'loyalty_lib'}: the course runs from a "
            "checkout of the repository (pip install -e .)"
        )
    return folder


def lesson_paths(
    notebooks: Iterable[str | Path] | None = None, *, folder: Path | None = None
) -> list[Path]:
    """Lessons to run, sorted by number.

    ``notebooks`` selects some: each item is a path, a file name (``00_start_here.ipynb``), a stem
    (``00_start_here``) or the two-digit number (``"00"``). None means every ``NN_*.ipynb``.
    """
    folder = folder or notebooks_dir()
    lessons = sorted(p for p in folder.glob("*.ipynb") if LESSON_PATTERN.match(p.name))
    if notebooks is None:
        return lessons
    if isinstance(notebooks, str | Path):
        raise TypeError("notebooks must be a list of names, e.g. ['00', '01_nps']")
    chosen: list[Path] = []
    for item in notebooks:
        path = Path(item)
        if path.suffix == ".ipynb" and path.exists():
            chosen.append(path.resolve())
            continue
        key = str(item).removesuffix(".ipynb")
        matches = [p for p in lessons if p.stem == key or p.name.split("_", 1)[0] == key]
        if len(matches) != 1:
            known = ", ".join(p.stem for p in lessons) or "none"
            raise ValueError(f"no single lesson matches {item!r}; lessons are: {known}")
        chosen.append(matches[0])
    return sorted(set(chosen), key=lambda p: p.name)


def _parameter_path(path: Path, cwd: Path) -> str:
    """``path`` as the kernel (running in ``cwd``) should see it: relative inside the project.

    Relative paths keep executed notebooks free of machine-specific absolute paths; data outside
    the checkout (a temporary folder, a client's share) stays absolute.
    """
    resolved = path.resolve()
    if resolved.is_relative_to(project_root()) and cwd.resolve().is_relative_to(project_root()):
        return Path(os.path.relpath(resolved, cwd.resolve())).as_posix()
    return resolved.as_posix()


# --------------------------------------------------------------------------- execution


#: Environment of the kernels we start. MPLBACKEND: the inline backend whatever this process
#: uses. OPENBLAS_NUM_THREADS (only when the user has not set it): the library's BLAS work is
#: small, and OpenBLAS's idle worker threads spin after each call: BetaGeo.fit on 1M customers
#: took 0.94 CPU s with them, 0.40 s without, and the spinning takes the core DuckDB would use.
_KERNEL_ENV = {"MPLBACKEND": INLINE_BACKEND, "OPENBLAS_NUM_THREADS": "1"}


@contextlib.contextmanager
def _kernel_environment() -> Iterator[None]:
    """Start kernels with :data:`_KERNEL_ENV` (the user's own OPENBLAS_NUM_THREADS wins)."""
    wanted = dict(_KERNEL_ENV)
    if "OPENBLAS_NUM_THREADS" in os.environ:
        del wanted["OPENBLAS_NUM_THREADS"]
    before = {k: os.environ.get(k) for k in wanted}
    os.environ.update(wanted)
    try:
        yield
    finally:
        for key, value in before.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def execute_notebook(
    input_path: str | Path,
    output_path: str | Path,
    parameters: Mapping[str, Any] | None = None,
    *,
    cwd: str | Path | None = None,
    timeout: int = DEFAULT_TIMEOUT,
    kernel_name: str = KERNEL_NAME,
) -> Path:
    """Execute one notebook with papermill in this process and write it to ``output_path``.

    ``parameters`` are injected after the cell tagged ``parameters``; ``cwd`` is the kernel's working
    directory (default: the input notebook's folder); ``timeout`` is seconds per cell. On an error
    the partially executed notebook is kept at ``output_path`` and
    :class:`NotebookExecutionError` names the notebook, the cell and the exception.
    """
    import papermill
    from papermill.exceptions import PapermillExecutionError

    # Absolute, because papermill saves after each cell from inside the kernel's cwd.
    input_path, output_path = Path(input_path).resolve(), Path(output_path).resolve()
    if not input_path.is_file():
        raise FileNotFoundError(f"notebook not found: {input_path}")
    if input_path.resolve() == output_path.resolve():
        raise ValueError(
            "output_path must differ from input_path (papermill overwrites as it runs)"
        )
    if timeout <= 0:
        raise ValueError(f"timeout must be a positive number of seconds, got {timeout!r}")
    output_path.parent.mkdir(parents=True, exist_ok=True)
    cwd = Path(cwd) if cwd is not None else input_path.parent
    try:
        with _kernel_environment():
            papermill.execute_notebook(
                str(input_path),
                str(output_path),
                parameters=dict(parameters or {}) or None,
                kernel_name=kernel_name,
                cwd=str(cwd),
                progress_bar=False,
                log_output=False,
                execution_timeout=timeout,
                request_save_on_cell_execute=True,
                # The kernel's own log lines (a TCP warning at start, "KeyboardInterrupt caught"
                # at shutdown) would reach the consultant's terminal and look like failures; cell
                # errors still arrive through papermill.
                extra_arguments=["--IPKernelApp.log_level=CRITICAL"],
            )
    except PapermillExecutionError as exc:
        raise NotebookExecutionError(
            [
                NotebookFailure(
                    notebook=input_path.name,
                    output_path=str(output_path),
                    ename=exc.ename,
                    evalue=exc.evalue,
                    cell_index=exc.cell_index,
                    exec_count=exc.exec_count,
                    source=exc.source,
                )
            ]
        ) from None
    except Exception as exc:  # kernel died, cell timed out, bad JSON: still name the notebook
        raise NotebookExecutionError(
            [
                NotebookFailure(
                    notebook=input_path.name,
                    output_path=str(output_path),
                    ename=type(exc).__name__,
                    evalue=str(exc).strip().splitlines()[0] if str(exc) else "",
                )
            ]
        ) from exc
    return output_path


def _run_job(job: NotebookJob) -> Path | NotebookFailure:
    """Pool worker: failures come back as data, so one broken lesson does not stop the others."""
    try:
        return execute_notebook(
            job.input_path, job.output_path, job.parameters, cwd=job.cwd, timeout=job.timeout
        )
    except NotebookExecutionError as exc:
        return exc.failures[0]


def execute_many(
    jobs: Iterable[NotebookJob], workers: int = 2, progress: bool = True, *, desc: str = "notebooks"
) -> list[Path]:
    """Execute ``jobs`` in a pool of ``workers`` processes; returns output paths in job order.

    Every job runs even if another fails; then :class:`NotebookExecutionError` lists all failures
    (``.completed`` holds the outputs that succeeded). ``workers=1`` runs in this process.
    Workers are spawned, so a script calling this with ``workers > 1`` needs the usual
    ``if __name__ == "__main__":`` guard (the ``loyalty`` command and pytest have it).
    """
    from tqdm.auto import tqdm

    jobs = list(jobs)
    if not all(isinstance(job, NotebookJob) for job in jobs):
        raise TypeError("jobs must be NotebookJob instances")
    if not isinstance(workers, int) or workers < 1:
        raise ValueError(f"workers must be a positive integer, got {workers!r}")
    results: list[Path | NotebookFailure | None] = [None] * len(jobs)
    bar = tqdm(total=len(jobs), desc=desc, unit="nb", disable=not progress)
    try:
        for i, result in run_each(_run_job, jobs, workers=workers):
            results[i] = result
            bar.set_postfix_str(jobs[i].input_path.name)
            bar.update()
    finally:
        bar.close()
    failures = [r for r in results if isinstance(r, NotebookFailure)]
    completed = [r for r in results if isinstance(r, Path)]
    if failures:
        raise NotebookExecutionError(failures, completed)
    return completed


def ensure_samples(data_dir: str | Path) -> Path:
    """Generate the sample retailer into ``data_dir`` unless all its files are already there."""
    data_dir = Path(data_dir)
    if not all((data_dir / name).is_file() for name in SAMPLE_FILES):
        from loyalty_lib import samples

        samples.write_samples(data_dir)
    return data_dir


def _declared_parameters(path: Path) -> set[str]:
    """Names assigned in the cell tagged ``parameters`` (read with ``ast``: no papermill import)."""
    import ast
    import json

    cells = json.loads(Path(path).read_text(encoding="utf-8")).get("cells", [])
    for cell in cells:
        if "parameters" in cell.get("metadata", {}).get("tags", []):
            source = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
            names = set()
            for node in ast.parse(source).body:
                targets = (
                    node.targets
                    if isinstance(node, ast.Assign)
                    else ([node.target] if isinstance(node, ast.AnnAssign) else [])
                )
                names |= {t.id for t in targets if isinstance(t, ast.Name)}
            return names
    return set()


def course_jobs(
    data_dir: str | Path,
    out_dir: str | Path,
    notebooks: Iterable[str | Path] | None = None,
    parameters: Mapping[str, Any] | None = None,
    *,
    timeout: int = DEFAULT_TIMEOUT,
    lang: str = "en",
) -> list[NotebookJob]:
    """The jobs :func:`run_course` executes (exposed so callers can pool several runs at once).

    Each lesson gets ``data_dir`` (relative to the notebooks folder when inside the project) plus
    those of ``parameters`` that its ``parameters`` cell declares; a parameter no selected lesson
    declares is a ValueError (a typo would otherwise be silently ignored). ``lang`` picks the
    edition (``"ru"``: the lessons of ``notebooks/ru/``, run in that folder). Does not execute.
    """
    folder = notebooks_dir(lang)
    lessons = lesson_paths(notebooks, folder=folder)
    if not lessons:
        raise FileNotFoundError(f"no lessons (NN_*.ipynb) in {folder}")
    extra = dict(parameters or {})
    declared = {path: _declared_parameters(path) for path in lessons}
    unknown = set(extra) - set().union(*declared.values())
    if unknown:
        raise ValueError(
            f"no selected lesson declares parameter(s) {sorted(unknown)}; "
            f"declared: {sorted(set().union(*declared.values()))}"
        )
    given = {"data_dir": _parameter_path(Path(data_dir), folder), **extra}
    return [
        NotebookJob(
            input_path=path,
            output_path=Path(out_dir) / path.name,
            cwd=folder,
            timeout=timeout,
            parameters={k: v for k, v in given.items() if k in declared[path]},
        )
        for path in lessons
    ]


def run_course(
    data_dir: str | Path = Path("data/samples"),
    out_dir: str | Path = Path("out/course"),
    workers: int = 2,
    notebooks: Iterable[str | Path] | None = None,
    parameters: Mapping[str, Any] | None = None,
    progress: bool = True,
    *,
    timeout: int = DEFAULT_TIMEOUT,
    lang: str = "en",
) -> list[Path]:
    """Execute the lessons (of the edition ``lang``) on ``data_dir`` and write the executed copies to ``out_dir``.

    Generates the samples into ``data_dir`` first if they are missing; ``notebooks`` selects
    lessons (see :func:`lesson_paths`); ``parameters`` override the lessons' defaults (see
    :func:`course_jobs`). Returns the executed paths in lesson order; raises
    :class:`NotebookExecutionError` naming each failed lesson and cell, after running the others.
    """
    jobs = course_jobs(data_dir, out_dir, notebooks, parameters, timeout=timeout, lang=lang)
    ensure_samples(data_dir)
    Path(out_dir).mkdir(parents=True, exist_ok=True)
    return execute_many(jobs, workers=workers, progress=progress, desc="course")


# --------------------------------------------------------------------------- stored copies

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _strip_png_text(data: bytes) -> bytes:
    """Drop tEXt/iTXt/zTXt chunks (matplotlib writes ``Software: Matplotlib version …``).

    Pillow would re-encode the image; walking the chunks keeps the pixels byte-for-byte.
    """
    if not data.startswith(_PNG_SIGNATURE):
        return data
    out, pos = [_PNG_SIGNATURE], len(_PNG_SIGNATURE)
    while pos + 8 <= len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind = data[pos + 4 : pos + 8]
        end = pos + 12 + length
        if kind not in (b"tEXt", b"iTXt", b"zTXt"):
            out.append(data[pos:end])
        pos = end
    return b"".join(out)


def _clean_png(b64: str) -> str:
    raw = base64.b64decode(b64)
    cleaned = _strip_png_text(raw)
    return b64 if cleaned == raw else base64.b64encode(cleaned).decode("ascii") + "\n"


def clean_notebook(nb: Any) -> Any:
    """Remove run-specific metadata from a NotebookNode in place and return it.

    Drops papermill's notebook and cell metadata (start/end times, durations, paths), nbclient's
    ``execution`` timings, the Python patch version and PNG text chunks. Outputs stay.
    """
    nb.metadata.pop("papermill", None)
    nb.metadata.get("language_info", {}).pop("version", None)
    for cell in nb.cells:
        cell.metadata.pop("papermill", None)
        cell.metadata.pop("execution", None)
        for output in cell.get("outputs", []):
            png = output.get("data", {}).get("image/png")
            if isinstance(png, str):
                output["data"]["image/png"] = _clean_png(png)
    return nb


def store_notebook(executed_path: str | Path, stored_path: str | Path) -> Path:
    """Write a cleaned copy of an executed notebook (see :func:`clean_notebook`) to ``stored_path``."""
    import nbformat

    nb = nbformat.read(str(executed_path), as_version=4)
    clean_notebook(nb)
    stored_path = Path(stored_path)
    stored_path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, str(stored_path))
    return stored_path


def refresh_stored_notebooks(
    notebooks: Iterable[str | Path] | None = None,
    workers: int = 2,
    progress: bool = True,
    *,
    timeout: int = DEFAULT_TIMEOUT,
    lang: str = "en",
) -> list[Path]:
    """Re-execute the lessons (of the edition ``lang``) with their default parameters and store
    them in place, cleaned.

    Runs in a temporary folder first, so a failing lesson leaves its stored copy untouched.
    """
    folder = notebooks_dir(lang)
    lessons = lesson_paths(notebooks, folder=folder)
    ensure_samples(project_root() / "data" / "samples")
    with tempfile.TemporaryDirectory(prefix="loyalty-refresh-") as tmp:
        jobs = [
            NotebookJob(input_path=p, output_path=Path(tmp) / p.name, cwd=folder, timeout=timeout)
            for p in lessons
        ]
        executed = execute_many(jobs, workers=workers, progress=progress, desc="refresh")
        return [store_notebook(done, src) for done, src in zip(executed, lessons, strict=True)]


# --------------------------------------------------------------------------- HTML


#: nbconvert's lab template minus the scripts it loads from a CDN (see the file).
OFFLINE_REPORT_TEMPLATE = Path(__file__).parent / "resources" / "offline_report.html.j2"


def export_html(
    notebook_path: str | Path,
    html_path: str | Path,
    *,
    no_input: bool = True,
    remove_tags: Sequence[str] = ("course-only", "remove-cell"),
    title: str | None = None,
) -> Path:
    """Render an executed notebook to one self-contained HTML file (PNG figures inlined as base64,
    no script loaded from the network).

    With ``no_input`` the page shows prose and outputs only: code, prompts and the parameters cells
    are left out (papermill's report mode only sets a hint nbconvert ignores, so we use the
    exporter's own switches). Cells tagged with any of ``remove_tags`` are dropped entirely.
    """
    import nbformat
    from nbconvert import HTMLExporter
    from nbconvert.preprocessors import TagRemovePreprocessor
    from traitlets.config import Config

    tags = set(remove_tags)
    if no_input:
        tags |= {"parameters", "injected-parameters"}
    config = Config()
    config.TagRemovePreprocessor.remove_cell_tags = tags
    config.TagRemovePreprocessor.enabled = True
    exporter = HTMLExporter(
        config=config,
        template_file=str(OFFLINE_REPORT_TEMPLATE),
        exclude_input=no_input,
        exclude_input_prompt=no_input,
        exclude_output_prompt=no_input,
        embed_images=True,
    )
    exporter.register_preprocessor(TagRemovePreprocessor(config=config), enabled=True)
    nb = nbformat.read(str(notebook_path), as_version=4)
    if title:
        nb.metadata["title"] = title
    body, _ = exporter.from_notebook_node(nb)
    html_path = Path(html_path)
    html_path.parent.mkdir(parents=True, exist_ok=True)
    html_path.write_text(body, encoding="utf-8")
    return html_path


__all__ = [
    "DEFAULT_TIMEOUT",
    "KERNEL_NAME",
    "NotebookExecutionError",
    "NotebookFailure",
    "NotebookJob",
    "ReportError",
    "clean_notebook",
    "course_jobs",
    "ensure_samples",
    "execute_many",
    "execute_notebook",
    "export_html",
    "lesson_paths",
    "notebooks_dir",
    "project_root",
    "refresh_stored_notebooks",
    "run_course",
    "store_notebook",
]
