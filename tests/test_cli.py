"""The ``loyalty`` command: help, samples, validate and run, through click's CliRunner."""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from loyalty_lib import pipeline, samples
from loyalty_lib.cli import main

COMMANDS = (
    "samples",
    "validate",
    "run",
    "report",
    "exercises",
    "grade",
    "summary-sql",
    "translations",
)


def csv_rows(path: Path, encoding: str = "utf-8") -> int:
    """Data rows of a CSV counted with the standard library (header excluded)."""
    with open(path, encoding=encoding, newline="") as fh:
        return sum(1 for _ in csv.reader(fh)) - 1


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def test_help_lists_every_command_and_imports_nothing_heavy():
    # A fresh interpreter, so modules imported by other tests cannot hide a heavy import.
    probe = (
        "import sys\n"
        "from click.testing import CliRunner\n"
        "from loyalty_lib.cli import main\n"
        "result = CliRunner().invoke(main, ['--help'])\n"
        "print(result.exit_code)\n"
        "print(result.output)\n"
        "heavy = ['pandas', 'numpy', 'matplotlib', 'papermill', 'nbformat', 'nbgrader', 'pyspark', 'duckdb']\n"
        "print('HEAVY:', [m for m in heavy if m in sys.modules])\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    lines = done.stdout.splitlines()
    assert lines[0] == "0"
    for command in COMMANDS:
        assert any(line.strip().startswith(command + " ") for line in lines), command
    assert lines[-1] == "HEAVY: []"


def test_python_dash_m_runs_the_same_cli():
    done = subprocess.run(
        [sys.executable, "-m", "loyalty_lib", "--help"], capture_output=True, text=True, check=True
    )
    assert "Loyalty Workbook" in done.stdout and "run" in done.stdout


def test_each_command_has_help(runner):
    for command in COMMANDS:
        result = runner.invoke(main, [command, "--help"])
        assert result.exit_code == 0, (command, result.output)
        assert (
            "Usage: main " + command in result.output
            or f"Usage: loyalty {command}" in result.output
        )


def test_samples_writes_the_files_with_the_requested_size(runner, tmp_path):
    out = tmp_path / "s"
    result = runner.invoke(main, ["samples", "--out", str(out), "--customers", "40", "--seed", "3"])
    assert result.exit_code == 0, result.output
    for name in pipeline.SAMPLE_FILES:
        assert (out / name).is_file(), name
        assert f"wrote {out / name}" in result.output
    assert csv_rows(out / "customers_truth.csv") == 40  # one row per requested customer
    # the same seed gives the same bytes (the shipped samples rely on it)
    again = tmp_path / "s2"
    runner.invoke(main, ["samples", "--out", str(again), "--customers", "40", "--seed", "3"])
    assert (again / "transactions.csv").read_bytes() == (out / "transactions.csv").read_bytes()


def test_validate_prints_the_sentence_and_no_rejections(runner, samples_dir):
    path = samples_dir / "transactions.csv"
    result = runner.invoke(main, ["validate", str(path), "--kind", "transactions"])
    assert result.exit_code == 0, result.output
    n = csv_rows(path)
    assert f"{n:,} rows read, {n:,} accepted, 0 rejected" in result.output
    assert "no rejected rows" in result.output


def test_validate_exits_1_naming_a_missing_column(runner, samples_dir, tmp_path):
    broken = tmp_path / "no_amount.csv"
    with open(samples_dir / "transactions.csv", encoding="utf-8", newline="") as src:
        rows = [r for _, r in zip(range(50), csv.DictReader(src), strict=False)]
    with open(broken, "w", encoding="utf-8", newline="") as dst:
        writer = csv.DictWriter(
            dst, fieldnames=["customer_id", "date", "is_refund"], extrasaction="ignore"
        )
        writer.writeheader()
        writer.writerows(rows)
    result = runner.invoke(main, ["validate", str(broken), "--kind", "transactions"])
    assert result.exit_code == 1
    assert (
        "Error:" in result.output
        and "'amount'" in result.output
        and "no_amount.csv" in result.output
    )


def test_validate_quarantines_the_documented_bad_rows(runner, tmp_path):
    client = tmp_path / "client"
    runner.invoke(main, ["samples", "--client-export", "--out", str(client)])
    quarantine = tmp_path / "bad.csv"
    result = runner.invoke(
        main,
        [
            "validate",
            str(client / "transactions.csv"),
            "--kind",
            "transactions",
            "--quarantine",
            str(quarantine),
        ],
    )
    assert result.exit_code == 0, result.output
    # samples.BAD_ROWS is the generator's own list of the lines it broke on purpose.
    expected = {b.line for b in samples.BAD_ROWS if b.file == "transactions.csv"}
    with open(quarantine, encoding="utf-8", newline="") as fh:
        assert {int(r["line"]) for r in csv.DictReader(fh)} == expected
    assert f"{len(expected)} rejected" in result.output


def test_validate_rejects_an_unknown_kind(runner, samples_dir):
    result = runner.invoke(main, ["validate", str(samples_dir / "survey.csv"), "--kind", "orders"])
    assert result.exit_code == 2 and "Invalid value for '--kind'" in result.output


def test_run_passes_its_options_to_run_course(runner, tmp_path, monkeypatch):
    calls = []

    def fake_run_course(**kwargs):
        calls.append(kwargs)
        return [Path(kwargs["out_dir"]) / "00_start_here.ipynb"]

    monkeypatch.setattr(pipeline, "run_course", fake_run_course)
    result = runner.invoke(
        main,
        [
            "run",
            "--data",
            str(tmp_path / "d"),
            "--out",
            str(tmp_path / "o"),
            "--workers",
            "3",
            "--notebooks",
            "00",
        ],
    )
    assert result.exit_code == 0, result.output
    (call,) = calls
    assert (call["data_dir"], call["out_dir"], call["workers"]) == (
        tmp_path / "d",
        tmp_path / "o",
        3,
    )
    assert list(call["notebooks"]) == ["00"]
    assert "executed 1 notebooks" in result.output


def test_run_turns_a_notebook_failure_into_a_clear_error(runner, tmp_path, monkeypatch):
    failure = pipeline.NotebookFailure(
        "03_ltv.ipynb",
        "out/course/03_ltv.ipynb",
        "KeyError",
        "'amount'",
        7,
        5,
        "ltv = simple_ltv(tx)",
    )

    def failing(**kwargs):
        raise pipeline.NotebookExecutionError([failure])

    monkeypatch.setattr(pipeline, "run_course", failing)
    result = runner.invoke(main, ["run", "--out", str(tmp_path)])
    assert result.exit_code == 1
    assert "03_ltv.ipynb failed in cell 7 (In [5]): KeyError: 'amount'" in result.output
    assert "Traceback" not in result.output


@pytest.mark.notebooks
def test_run_executes_the_selected_lesson_for_real(runner, tmp_path, samples_dir):
    out = tmp_path / "course"
    result = runner.invoke(
        main,
        [
            "run",
            "--data",
            str(samples_dir),
            "--out",
            str(out),
            "--workers",
            "1",
            "--notebooks",
            "00",
        ],
    )
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == ["00_start_here.ipynb"]
    assert "executed 1 notebooks" in result.output
    # every code cell ran (execution counts 1..n, no error outputs)
    import nbformat

    nb = nbformat.read(str(out / "00_start_here.ipynb"), as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert [c.execution_count for c in code] == list(range(1, len(code) + 1))
    assert not [o for c in code for o in c.outputs if o.output_type == "error"]


def test_run_generates_samples_only_when_missing(tmp_path, monkeypatch):
    # run_course's first step, ensure_samples, with the generator replaced by a recorder.
    calls = []

    def fake_write_samples(out_dir):
        calls.append(Path(out_dir))
        for name in pipeline.SAMPLE_FILES:
            (Path(out_dir) / name).write_text("x\n")

    monkeypatch.setattr(samples, "write_samples", fake_write_samples)
    target = tmp_path / "fresh"
    target.mkdir()
    pipeline.ensure_samples(target)
    assert calls == [target]
    pipeline.ensure_samples(target)  # complete: nothing written
    assert calls == [target]
    (target / "survey.csv").unlink()  # one file missing: regenerate all
    pipeline.ensure_samples(target)
    assert calls == [target, target]


def test_report_lang_option_offers_auto_en_ru_and_passes_it_on(runner, tmp_path, monkeypatch):
    from loyalty_lib import report

    help_text = runner.invoke(main, ["report", "--help"]).output
    assert "--lang [auto|en|ru]" in help_text
    tx = tmp_path / "t.csv"
    tx.write_text("customer_id,date,amount\nC1,2025-01-01,10\n")
    bad = runner.invoke(main, ["report", "--client", "X", "--out", str(tmp_path / "o"),
                               "--transactions", str(tx), "--lang", "de"])  # fmt: skip
    assert bad.exit_code == 2 and "'de' is not one of" in bad.output
    assert not (tmp_path / "o").exists()
    seen = {}

    def fake_build(**kwargs):
        seen.update(kwargs)
        raise report.ReportError("stop here")

    monkeypatch.setattr(report, "build_report", fake_build)
    done = runner.invoke(main, ["report", "--client", "X", "--out", str(tmp_path / "o"),
                                "--transactions", str(tx), "--lang", "ru"])  # fmt: skip
    assert done.exit_code == 1 and seen["parameters"] == {"lang": "ru"}
