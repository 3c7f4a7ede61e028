"""The course executes: every lesson on two data sets, lesson 00 with other parameters, and twice
with identical results; plus the pipeline pieces around execution (storing, HTML export, errors).

All executions share one pool (``execute_many``, 2 workers) started once for this module: a kernel
start and the papermill import are paid per worker, not per test. Stored copies of the lessons are
checked against fresh runs by nbval (``pytest --nbval notebooks/``), not here.
"""

from __future__ import annotations

import base64
import io
import json
import re
from pathlib import Path

import nbformat
import pytest
from helpers import code_notebook

from loyalty_lib import pipeline
from loyalty_lib.pipeline import NotebookExecutionError, NotebookJob

pytestmark = pytest.mark.notebooks

SANITIZE_CFG = Path(__file__).with_name("nbval_sanitize.cfg")
START = "00_start_here.ipynb"
RU = pipeline.notebooks_dir("ru")


def sanitizers() -> list[tuple[re.Pattern[str], str]]:
    """The nbval patterns, read the way nbval reads them (regex line, then replace line)."""
    text = SANITIZE_CFG.read_text(encoding="utf-8")
    pairs = re.findall(r"^regex: (.*)$\n^replace: (.*)$", text, flags=re.MULTILINE)
    return [(re.compile(rx), rep) for rx, rep in pairs]


def sanitize(text: str) -> str:
    for rx, rep in sanitizers():
        text = rx.sub(rep, text)
    return text


def outputs_text(path: Path) -> str:
    """All text outputs of a notebook, joined: what a reader sees, minus images."""
    nb = nbformat.read(str(path), as_version=4)
    parts = []
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            parts.append(out.get("text", ""))
            data = out.get("data", {})
            parts += [data.get("text/plain", ""), data.get("text/html", "")]
    return "\n".join(parts)


def error_outputs(path: Path) -> list[str]:
    nb = nbformat.read(str(path), as_version=4)
    return [
        f"cell {i}: {o.get('ename')}: {o.get('evalue')}"
        for i, c in enumerate(nb.cells)
        for o in c.get("outputs", [])
        if o.get("output_type") == "error" and "raises-exception" not in c.metadata.get("tags", [])
    ]


def failing_notebook(path: Path) -> Path:
    """Three cells: a print, a KeyError (cell index 1), a cell that must never run."""
    nb = code_notebook(
        "print('first cell ran')", "row = {'amount': 1}\nrow['customer_id']", "print('never')"
    )
    nbformat.write(nb, str(path))
    return path


@pytest.fixture(scope="module")
def runs(tmp_path_factory, samples_dir, alt_samples_dir):
    """Execute every job once; returns (jobs by name, failures by output path, output folder)."""
    out = tmp_path_factory.mktemp("runs")
    folder = pipeline.notebooks_dir()
    jobs: dict[str, list[NotebookJob]] = {
        # Every lesson on the samples is nbval's run of the stored copies (same data, same
        # defaults); here only the lessons that `loyalty run` must keep free of absolute paths
        # in a different way: 00 (the data report) and 07 (the report template's file paths).
        "samples": pipeline.course_jobs(samples_dir, out / "samples", ["00", "07"]),
        "alt": pipeline.course_jobs(alt_samples_dir, out / "alt"),
        # the Russian edition (notebooks/ru/) on the same second seed
        "alt_ru": pipeline.course_jobs(alt_samples_dir, out / "alt_ru", lang="ru"),
        "banking": pipeline.course_jobs(
            samples_dir, out / "banking", ["00"], {"industry": "banking"}
        ),
        # stored-style runs: default parameters, kernel in notebooks/, exactly like the refresh
        "twice": [
            NotebookJob(folder / START, out / f"twice{i}" / START, cwd=folder) for i in (1, 2)
        ],
        "failing": [
            NotebookJob(failing_notebook(out / "failing.ipynb"), out / "failed" / "failing.ipynb")
        ],
    }
    every = [job for group in jobs.values() for job in group]
    failures = {}
    try:
        pipeline.execute_many(every, workers=2, progress=False)
    except NotebookExecutionError as exc:
        failures = {Path(f.output_path): f for f in exc.failures}
    return jobs, failures, out


def _check_group(runs, name: str) -> list[Path]:
    jobs, failures, _ = runs
    broken = [str(failures[j.output_path]) for j in jobs[name] if j.output_path in failures]
    assert not broken, "\n".join(broken)
    return [j.output_path for j in jobs[name]]


def test_there_are_lessons_and_00_comes_first():
    lessons = pipeline.lesson_paths()
    assert lessons and lessons[0].name == START
    assert [p.name for p in lessons] == sorted(p.name for p in lessons)


def test_lessons_run_through_the_course_runner_on_the_shipped_samples(runs):
    for path in _check_group(runs, "samples"):
        assert path.is_file() and not error_outputs(path), path.name


def test_every_lesson_runs_on_a_second_seed(runs, alt_samples_dir):
    outputs = _check_group(runs, "alt")
    for path in outputs:
        assert path.is_file() and not error_outputs(path), path.name
    # The parameter reached the kernel: lesson 00 reports the row count of the alt file, which we
    # count here from the CSV itself (lines minus the header), not from the library.
    with open(alt_samples_dir / "transactions.csv", encoding="utf-8") as fh:
        n_rows = sum(1 for _ in fh) - 1
    start = next(p for p in outputs if p.name == START)
    assert f"{n_rows:,} rows read" in outputs_text(start)
    with open(pipeline.project_root() / "data/samples/transactions.csv", encoding="utf-8") as fh:
        assert n_rows != sum(1 for _ in fh) - 1  # otherwise the check above proves nothing


def test_every_russian_lesson_runs_on_a_second_seed(runs, alt_samples_dir):
    outputs = _check_group(runs, "alt_ru")
    assert [p.name for p in outputs] == [p.name for p in pipeline.lesson_paths(folder=RU)]
    for path in outputs:
        assert path.is_file() and not error_outputs(path), path.name
    # the data_dir parameter reached the Russian kernel too: the alt file's row count (counted
    # from the CSV, as above) is in 00's output; the relative default would be ../../data/samples
    with open(alt_samples_dir / "transactions.csv", encoding="utf-8") as fh:
        n_rows = sum(1 for _ in fh) - 1
    start = next(p for p in outputs if p.name == START)
    assert f"{n_rows:,}".replace(",", "") in outputs_text(start).replace(",", "").replace(
        "\xa0", ""
    )


def test_start_here_takes_the_industry_parameter(runs):
    (banking,) = _check_group(runs, "banking")
    (default,) = _check_group(runs, "samples")[:1]
    # The seed article's benchmarks [N7]: banking 25, shops and supermarkets 50.
    assert "banking benchmark of 25" in outputs_text(banking)
    assert "banking" not in outputs_text(default)
    assert "supermarkets benchmark of 50" in outputs_text(default)


def test_start_here_is_deterministic(runs, tmp_path):
    first, second = _check_group(runs, "twice")
    stored = [
        pipeline.store_notebook(p, tmp_path / f"{i}.ipynb") for i, p in enumerate((first, second))
    ]
    a, b = (sanitize(p.read_text(encoding="utf-8")) for p in stored)
    assert a == b


def test_stored_copy_of_00_is_current(runs, tmp_path):
    """The committed 00 equals a fresh default run, byte for byte after cleaning (images too)."""
    fresh = pipeline.store_notebook(_check_group(runs, "twice")[0], tmp_path / START)
    stored = pipeline.notebooks_dir() / START
    assert sanitize(fresh.read_text(encoding="utf-8")) == sanitize(
        stored.read_text(encoding="utf-8")
    ), "notebooks/00_start_here.ipynb is stale: run pipeline.refresh_stored_notebooks(['00'])"


def test_failure_names_notebook_cell_and_error_and_keeps_partial_output(runs):
    jobs, failures, _ = runs
    (job,) = jobs["failing"]
    failure = failures[job.output_path]
    assert (failure.notebook, failure.cell_index, failure.exec_count) == ("failing.ipynb", 1, 2)
    assert failure.ename == "KeyError" and "customer_id" in failure.evalue
    message = str(NotebookExecutionError([failure]))
    assert "failing.ipynb failed in cell 1 (In [2]): KeyError" in message
    assert "row = {'amount': 1}" in message and str(job.output_path) in message
    partial = nbformat.read(str(job.output_path), as_version=4)
    code = [c for c in partial.cells if c.cell_type == "code"]
    assert code[0].outputs[0]["text"] == "first cell ran\n"
    assert not code[2].outputs  # execution stopped at the error


def test_only_the_failing_job_failed(runs):
    jobs, failures, _ = runs
    assert set(failures) <= {j.output_path for j in jobs["failing"]}


def test_executed_notebooks_hold_no_absolute_paths_when_data_is_in_the_project(runs):
    for path in _check_group(runs, "samples"):
        text = path.read_text(encoding="utf-8")
        nb = json.loads(text)
        injected = [
            c for c in nb["cells"] if "injected-parameters" in c["metadata"].get("tags", [])
        ]
        assert not injected or "../data/samples" in "".join(injected[0]["source"]), path.name
        outputs = json.dumps([c.get("outputs", []) for c in nb["cells"]])
        assert str(pipeline.project_root()) not in outputs, path.name


# ----------------------------------------------------------------------------- stored notebooks


def stored_lessons() -> list[Path]:
    """The English lessons and the translated ones (notebooks/ru/)."""
    return pipeline.lesson_paths() + pipeline.lesson_paths(folder=RU)


@pytest.mark.parametrize(
    "path", stored_lessons(), ids=lambda p: p.relative_to(pipeline.notebooks_dir()).as_posix()
)
def test_stored_lesson_is_clean(path: Path):
    """What `store_notebook` guarantees, checked on the committed files (no kernel needed)."""
    text = path.read_text(encoding="utf-8")
    nb = nbformat.reads(text, as_version=4)
    assert "papermill" not in nb.metadata
    assert nb.metadata["kernelspec"]["name"] == pipeline.KERNEL_NAME
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert [c.execution_count for c in code] == list(range(1, len(code) + 1)), (
        "not executed in order"
    )
    assert not error_outputs(path)
    for cell in nb.cells:
        assert "papermill" not in cell.metadata and "execution" not in cell.metadata
    assert not re.search(r"\bat 0x[0-9a-fA-F]{6,}", text), "memory address in outputs"
    for needle in (str(pipeline.project_root()), "/home/", "/tmp/", "site-packages"):
        assert needle not in text, f"machine-specific path {needle!r} in {path.name}"
    for cell in code:
        # nbval runs cells with store_history=False, where IPython ignores a trailing `;`: the
        # stored copy (made by papermill) and nbval's run would disagree. Assign instead: `ax = ...`.
        last = cell.source.rstrip().splitlines()[-1] if cell.source.strip() else ""
        assert not last.rstrip().endswith(";"), f"cell ends with ';' (use `ax = ...`): {last}"
    params = [c for c in code if "parameters" in c.metadata.get("tags", [])]
    assert len(params) == 1, "exactly one cell tagged `parameters`"
    assert "injected-parameters" not in text
    # papermill must see every assignment, or it silently refuses to override it; its line parser
    # trips on, e.g., an '=' inside a trailing comment.
    import ast

    import papermill

    assigned = {
        t.id
        for node in ast.parse(params[0].source).body
        if isinstance(node, ast.Assign)
        for t in node.targets
        if isinstance(t, ast.Name)
    }
    assert "data_dir" in assigned, "lessons read their files through a `data_dir` parameter"
    assert set(papermill.inspect_notebook(str(path))) == assigned, (
        "papermill cannot parse some parameter lines (no '=' in comments; one assignment per line)"
    )


# ----------------------------------------------------------------------------- pieces


def _png(text_chunks: dict[str, str]) -> bytes:
    from PIL import Image, PngImagePlugin

    info = PngImagePlugin.PngInfo()
    for key, value in text_chunks.items():
        info.add_text(key, value)
    buf = io.BytesIO()
    Image.new("RGB", (3, 2), (200, 10, 10)).save(buf, format="PNG", pnginfo=info)
    return buf.getvalue()


def test_clean_notebook_strips_run_metadata_and_png_text_but_keeps_pixels():
    import numpy as np
    from PIL import Image

    png = _png({"Software": "Matplotlib version3.11.2, https://matplotlib.org/"})
    nb = nbformat.v4.new_notebook()
    nb.metadata["papermill"] = {"start_time": "2026-01-01T00:00:00", "duration": 1.5}
    nb.metadata["language_info"] = {"name": "python", "version": "3.11.7"}
    cell = nbformat.v4.new_code_cell("plot()")
    cell.metadata.update(
        papermill={"duration": 0.4}, execution={"iopub.status.busy": "2026"}, tags=["keep"]
    )
    cell.outputs = [
        nbformat.v4.new_output(
            "display_data",
            data={"image/png": base64.b64encode(png).decode(), "text/plain": "<Figure>"},
        )
    ]
    nb.cells = [cell]
    pipeline.clean_notebook(nb)
    assert "papermill" not in nb.metadata and nb.metadata["language_info"] == {"name": "python"}
    assert cell.metadata == {"tags": ["keep"]}
    cleaned = base64.b64decode(cell.outputs[0].data["image/png"])
    before, after = Image.open(io.BytesIO(png)), Image.open(io.BytesIO(cleaned))
    assert before.text == {"Software": "Matplotlib version3.11.2, https://matplotlib.org/"}
    assert after.text == {}
    assert np.array_equal(np.asarray(before), np.asarray(after))
    # a PNG without text chunks passes through unchanged (same base64 string)
    plain = base64.b64encode(_png({})).decode()
    assert pipeline._clean_png(plain) == plain


def test_export_html_shows_prose_and_outputs_without_code(tmp_path):
    png = base64.b64encode(_png({})).decode()
    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell("client = 'ACME'")
    params.metadata["tags"] = ["parameters"]
    shown = nbformat.v4.new_code_cell("secret_function_name(42)")
    shown.outputs = [
        nbformat.v4.new_output("stream", name="stdout", text="visible result 42\n"),
        nbformat.v4.new_output("display_data", data={"image/png": png, "text/plain": "<Figure>"}),
    ]
    hidden = nbformat.v4.new_markdown_cell("Instructor note: skip in the report")
    hidden.metadata["tags"] = ["course-only"]
    nb.cells = [
        nbformat.v4.new_markdown_cell("# Loyalty report\nThe **findings** follow."),
        params,
        shown,
        hidden,
    ]
    src = tmp_path / "report.ipynb"
    nbformat.write(nb, str(src))
    html = pipeline.export_html(src, tmp_path / "out" / "report.html").read_text(encoding="utf-8")
    assert "Loyalty report" in html and "<strong>findings</strong>" in html
    assert "visible result 42" in html
    assert f"data:image/png;base64,{png}" in html.replace("\n", "")
    for code in ("secret_function_name", "client = ", "Instructor note", "hl-ipython3"):
        assert code not in html, code
    assert not re.search(r"(In|Out)&nbsp;\[\d", html), "execution prompts shown"
    # with inputs on, the same code does appear (the switch is what hides it)
    full = pipeline.export_html(src, tmp_path / "full.html", no_input=False).read_text(
        encoding="utf-8"
    )
    assert "secret_function_name" in full and "hl-ipython3" in full
    assert "Instructor note" not in full  # tag removal is independent of no_input


def test_lesson_selection():
    assert [p.name for p in pipeline.lesson_paths(["00"])] == [START]
    assert pipeline.lesson_paths(["00_start_here", START]) == pipeline.lesson_paths(["00"])
    with pytest.raises(ValueError, match="no single lesson matches 'nope'"):
        pipeline.lesson_paths(["nope"])
    with pytest.raises(TypeError):
        pipeline.lesson_paths("00")


def test_unknown_parameter_is_rejected(tmp_path):
    with pytest.raises(ValueError, match=r"declares parameter\(s\) \['industri'\]"):
        pipeline.course_jobs(tmp_path, tmp_path / "out", ["00"], {"industri": "banking"})


def test_data_dir_is_relative_inside_the_project_and_absolute_outside(tmp_path):
    folder = pipeline.notebooks_dir()
    (job,) = pipeline.course_jobs(pipeline.project_root() / "data" / "samples", tmp_path, ["00"])
    assert job.parameters["data_dir"] == "../data/samples" and job.cwd == folder
    (job,) = pipeline.course_jobs(tmp_path / "client", tmp_path, ["00"])
    assert job.parameters["data_dir"] == (tmp_path / "client").resolve().as_posix()


def test_execute_many_checks_its_arguments(tmp_path):
    with pytest.raises(ValueError, match="workers"):
        pipeline.execute_many([], workers=0)
    with pytest.raises(TypeError, match="NotebookJob"):
        pipeline.execute_many([tmp_path / "a.ipynb"])
    with pytest.raises(FileNotFoundError):
        pipeline.execute_notebook(tmp_path / "missing.ipynb", tmp_path / "out.ipynb")


def test_notebook_error_survives_pickling():
    import pickle

    failure = pipeline.NotebookFailure("a.ipynb", "out/a.ipynb", "KeyError", "'x'", 3, 2, "df['x']")
    err = pickle.loads(pickle.dumps(NotebookExecutionError([failure], [Path("b.ipynb")])))
    assert err.failures == (failure,) and err.completed == (Path("b.ipynb"),)
    assert str(err).startswith("1 notebook failed:\n  a.ipynb failed in cell 3 (In [2]): KeyError")
