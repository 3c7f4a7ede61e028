"""The ``loyalty`` command: a thin click group over library functions.

Heavy imports (pandas, papermill, nbgrader, pyspark) happen inside the command bodies so that
``loyalty --help`` answers instantly, the way papermill's and jupyter-book's CLIs do.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

KINDS = ["transactions", "survey", "exit-survey", "campaign", "customers"]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="loyalty-workbook")
def main() -> None:
    """Loyalty Workbook: course, consulting report and grading on customer-loyalty data."""


@main.command()
@click.option(
    "--out",
    "out_dir",
    type=click.Path(path_type=Path),
    default=Path("data/samples"),
    show_default=True,
    help="Folder to write the sample files into.",
)
@click.option(
    "--customers",
    "n_customers",
    type=int,
    default=None,
    help="Number of customers (default: the shipped samples' size).",
)
@click.option(
    "--seed", type=int, default=None, help="Random seed (default: the shipped samples' seed)."
)
@click.option(
    "--client-export",
    is_flag=True,
    help="Write a Russian-format client export (cp1251, ';', decimal comma, bad rows).",
)
def samples(out_dir: Path, n_customers: int | None, seed: int | None, client_export: bool) -> None:
    """Generate the seeded sample retailer (transactions, NPS survey, exit survey, campaign)."""
    from loyalty_lib import samples as samples_mod

    kwargs = {k: v for k, v in {"n_customers": n_customers, "seed": seed}.items() if v is not None}
    writer = samples_mod.write_client_export if client_export else samples_mod.write_samples
    try:
        paths = writer(out_dir, **kwargs)
    except (TypeError, ValueError) as exc:
        raise click.UsageError(str(exc)) from exc
    for path in paths.values():
        click.echo(f"wrote {path}")


@main.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--kind", type=click.Choice(KINDS), required=True, help="What the file holds.")
@click.option(
    "--columns",
    "--mapping",
    "mapping_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="YAML mapping of canonical column → client header.",
)
@click.option(
    "--quarantine",
    type=click.Path(path_type=Path),
    default=None,
    help="Write rejected rows (line, column, value, reason) to this CSV.",
)
@click.option(
    "--write-mapping",
    "write_mapping",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write the headers found (and, when some are not recognised, the closest ones "
    "suggested) as a mapping file for --columns.",
)
@click.option(
    "--show",
    "n_show",
    type=int,
    default=10,
    show_default=True,
    help="How many rejected lines to print under the counts.",
)
@click.option(
    "--cancel-prefix",
    default="C",
    show_default=True,
    help="Line-item exports: order ids starting with this are cancellations ('' for none).",
)
def validate(
    file: Path,
    kind: str,
    mapping_file: Path | None,
    quarantine: Path | None,
    write_mapping: Path | None,
    n_show: int,
    cancel_prefix: str,
) -> None:
    """Load FILE through the data layer and print its data report (exit 1 on a file-level error).

    When required headers are not recognised, the closest header is suggested for each, and
    --write-mapping writes them as a ready mapping file to check and pass to --columns.
    """
    from loyalty_lib import data
    from loyalty_lib.data import columns as columns_mod

    canon_kind = kind.replace("-", "_")
    try:
        explicit = data.read_mapping(mapping_file, canon_kind) if mapping_file else None
        result = data.load(
            file,
            kind=canon_kind,
            columns=explicit,
            quarantine=quarantine,
            cancel_prefix=cancel_prefix,
        )
    except data.LoyaltyDataError as exc:
        missing = getattr(exc, "missing", None)
        if not missing:
            raise click.ClickException(str(exc)) from exc
        found = dict(getattr(exc, "found", {}))
        suggested = columns_mod.suggest_columns(list(exc.headers), canon_kind, found)
        click.echo(f"Error: {exc}", err=True)
        click.echo("Suggested mapping (closest headers; check them):", err=True)
        for canon in missing:
            if canon in suggested:
                header, score = suggested[canon]
                click.echo(f"  {canon}: {header}    (similarity {score:.2f})", err=True)
            else:
                click.echo(f"  {canon}: (no header left to suggest)", err=True)
        if write_mapping is not None:
            full = {**found, **{c: h for c, (h, _) in suggested.items()}}
            columns_mod.write_mapping(write_mapping, canon_kind, full)
            click.echo(f"wrote {write_mapping}", err=True)
        else:
            click.echo("Write it to a file with --write-mapping mapping.yml", err=True)
        raise click.exceptions.Exit(1) from exc
    if write_mapping is not None:
        columns_mod.write_mapping(write_mapping, canon_kind, result.column_map)
        click.echo(f"wrote {write_mapping}")
    click.echo(str(result))
    if not len(result.report):
        click.echo("no rejected rows")
        return
    click.echo(result.report.to_string(index=False))
    shown = result.first_rejected(n_show)
    click.echo(f"first {len(shown)} of {len(result.rejected):,} rejected lines:")
    click.echo(shown.to_string(index=False))


@main.command()
@click.option(
    "--data",
    "data_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("data/samples"),
    show_default=True,
    help="Folder with the course data.",
)
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("out/course"),
    show_default=True,
    help="Where executed notebooks go.",
)
@click.option(
    "--workers", type=int, default=2, show_default=True, help="Notebooks executed at once."
)
@click.option(
    "--notebooks",
    "notebooks",
    multiple=True,
    help="Run only this lesson: number (00) or name; repeat for several.",
)
@click.option(
    "--store",
    is_flag=True,
    help="Maintainers: re-execute the lessons in notebooks/ in place and store them "
    "cleaned (what nbval compares against); --data and --out are ignored.",
)
@click.option(
    "--lang",
    type=click.Choice(["en", "ru"]),
    default="en",
    show_default=True,
    help="Edition of the course: ru runs the Russian lessons of notebooks/ru/.",
)
def run(
    data_dir: Path,
    out_dir: Path,
    workers: int,
    notebooks: tuple[str, ...],
    store: bool,
    lang: str,
) -> None:
    """Execute every lesson notebook with papermill into OUT (generates the samples if absent)."""
    from loyalty_lib import pipeline

    try:
        if store:
            stored = pipeline.refresh_stored_notebooks(
                notebooks or None, workers=workers, lang=lang
            )
            where = "notebooks/" if lang == "en" else f"notebooks/{lang}/"
            click.echo(f"stored {len(stored)} notebooks in {where}")
            return
        executed = pipeline.run_course(
            data_dir=data_dir,
            out_dir=out_dir,
            workers=workers,
            notebooks=notebooks or None,
            lang=lang,
        )
    except (pipeline.NotebookExecutionError, ValueError) as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"executed {len(executed)} notebooks into {out_dir}/")
    for path in executed:
        click.echo(f"  {path}")


def _setting_options(command: Any) -> Any:
    """One option per CLI-exposed report setting, from ``loyalty_lib.report.SETTINGS`` (the
    table is light: importing it does not import pandas, so --help stays instant)."""
    from loyalty_lib.report._settings import SETTINGS

    for s in reversed([s for s in SETTINGS if s.cli]):
        kind: Any = click.Choice(s.choices) if s.choices else type(s.default)
        command = click.option(
            s.option, s.name, type=kind, default=None, help=f"{s.help} (default {s.default!r})."
        )(command)
    return command


@main.command()
@click.option("--client", required=True, help="Client name shown on the report.")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), required=True)
@click.option("--transactions", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--customers",
    type=click.Path(dir_okay=False, path_type=Path),
    help="A precomputed per-customer summary instead of (or with) transactions.",
)
@click.option("--survey", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--exit-survey", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--campaign", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--columns", "mapping_file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--industry", default="retail", show_default=True)
@click.option("--currency", default="RUB", show_default=True)
@click.option(
    "--observation-end", default=None, help="YYYY-MM-DD (default: last transaction date)."
)
@_setting_options
@click.option("--force", is_flag=True, help="Overwrite an existing report folder.")
def report(
    client: str,
    out_dir: Path,
    transactions: Path | None,
    customers: Path | None,
    survey: Path | None,
    exit_survey: Path | None,
    campaign: Path | None,
    mapping_file: Path | None,
    industry: str,
    currency: str,
    observation_end: str | None,
    force: bool,
    **settings: Any,
) -> None:
    """Run a client's files through the analysis: report.html, report.pdf, report.xlsx, charts/.

    Every argument and input is checked before the analysis starts: a missing file, a setting out
    of range, a mapping naming a header the file lacks, a summary without an observation end each
    stop with one line and exit code 2.
    """
    from loyalty_lib import report as report_mod

    try:
        outcome = report_mod.build_report(
            client=client,
            out_dir=out_dir,
            transactions=transactions,
            customers=customers,
            survey=survey,
            exit_survey=exit_survey,
            campaign=campaign,
            mapping_file=mapping_file,
            industry=industry,
            currency=currency,
            observation_end=observation_end,
            force=force,
            echo=click.echo,
            parameters={k: v for k, v in settings.items() if v is not None},
        )
    except report_mod.ReportInputError as exc:
        raise click.UsageError(str(exc)) from exc
    except report_mod.ReportError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(str(outcome))


@main.command()
@click.option(
    "--check", is_flag=True, help="Fail if a translated lesson's code drifts from its English twin."
)
@click.option(
    "--root",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Project root holding notebooks/ (default: this checkout).",
)
def translations(check: bool, root: Path | None) -> None:
    """Compare the translated lessons (notebooks/ru/) with their English twins: same cells, tags,
    parameters and code; only Markdown, comments and strings may differ."""
    from loyalty_lib import pipeline, translation

    root = root or pipeline.project_root()
    problems = translation.check_translations(root)
    for lang in translation.TRANSLATIONS:
        pairs, untranslated = translation.twin_pairs(root / "notebooks", lang)
        click.echo(
            f"{lang}: {len(pairs)} lessons translated"
            + (f"; not yet: {', '.join(p.stem for p in untranslated)}" if untranslated else "")
        )
    if problems:
        message = "translations drift from their English lessons:\n  " + "\n  ".join(problems)
        if check:
            raise click.ClickException(message)
        click.echo(message)
        return
    click.echo("every translated lesson keeps its English twin's code")


@main.command()
@click.option("--check", is_flag=True, help="Fail if exercises/ is out of sync with solutions/.")
@click.option(
    "--root",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("."),
    show_default=True,
    help="Project root holding solutions/ and exercises/.",
)
def exercises(check: bool, root: Path) -> None:
    """Generate the trainee notebooks in exercises/ from solutions/ (nbgrader's release step)."""
    from loyalty_lib import grading

    try:
        _exercises(grading, check, root)
    except grading.GradingError as exc:
        raise click.ClickException(str(exc)) from exc


def _exercises(grading, check: bool, root: Path) -> None:  # noqa: ANN001 - the lazily imported module
    if check:
        problems = grading.check_exercises(root)
        if problems:
            raise click.ClickException(
                "exercises/ is out of sync with solutions/:\n  "
                + "\n  ".join(problems)
                + "\nrun `loyalty exercises` to regenerate"
            )
        click.echo("exercises/ is in sync with solutions/")
        return
    for path in grading.generate_exercises(root):
        click.echo(f"wrote {path}")


@main.command()
@click.argument("submissions", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), required=True)
@click.option(
    "--root",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("."),
    show_default=True,
    help="Project root holding solutions/.",
)
@click.option("--timeout", type=int, default=60, show_default=True, help="Seconds per cell.")
@click.option("--deadline", help="ISO date-time, e.g. 2026-03-01T23:59+03:00 (no zone: UTC).")
@click.option("--late-penalty", type=float, default=0.0, help="Share lost per started day late.")
@click.option("--lms", type=click.Choice(["canvas", "moodle"]), help="Write that LMS's import CSV.")
@click.option("--roster", type=click.Path(dir_okay=False, path_type=Path), help="trainee→LMS CSV.")
@click.option("--similarity-threshold", type=float, default=0.5, show_default=True)
@click.option(
    "--only",
    metavar="TRAINEE",
    default=None,
    help="Regrade this trainee alone into the results of an earlier run in --out "
    "(the other trainees' rows and feedback are kept as they are).",
)
@click.option(
    "--no-sandbox",
    is_flag=True,
    help="Run the kernels without the bubblewrap sandbox (only for submissions you trust).",
)
@click.option(
    "--memory",
    default="2G",
    show_default=True,
    metavar="SIZE",
    help="Memory cap per kernel process (address space), e.g. 2G, 512M.",
)
@click.option(
    "--processes",
    type=click.IntRange(min=1),
    default=64,
    show_default=True,
    help="Process cap per submission.",
)
@click.option(
    "--disk",
    default="200M",
    show_default=True,
    metavar="SIZE",
    help="Cap on disk writes per submission (scratch /tmp and home, any one file).",
)
@click.option(
    "--wall",
    type=click.IntRange(min=1),
    default=900,
    show_default=True,
    help="Wall-clock cap per submission, seconds (its kernel is killed after it).",
)
@click.option(
    "--workers", type=click.IntRange(min=1), default=2, show_default=True, help="Parallel kernels."
)
def grade(
    submissions: Path,
    out_dir: Path,
    root: Path,
    timeout: int,
    only: str | None,
    no_sandbox: bool,
    memory: str,
    processes: int,
    disk: str,
    wall: int,
    workers: int,
    **export,
) -> None:
    """Autograde SUBMISSIONS/<trainee>/<assignment>/<notebook>.ipynb with hidden tests."""
    from loyalty_lib import grading
    from loyalty_lib.grading import exports
    from loyalty_lib.grading.sandbox import Limits, parse_size

    try:
        limits = Limits(
            memory_bytes=parse_size(memory),
            processes=processes,
            disk_bytes=parse_size(disk),
            wall_seconds=wall,
        )
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from exc
    try:
        options = exports.options_from_cli(submissions, **export)
        outcome = grading.grade(
            submissions,
            out_dir,
            root=root,
            timeout=timeout,
            echo=click.echo,
            workers=workers,
            sandbox=not no_sandbox,
            limits=limits,
            only=only,
            exports=options,
        )
    except (grading.GradingError, ValueError) as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(str(outcome))


@main.command("summary-sql")
@click.option(
    "--dialect",
    type=click.Choice(["spark", "duckdb", "postgres", "clickhouse", "bigquery"]),
    required=True,
)
@click.option("--table", default="transactions", show_default=True)
@click.option(
    "--columns", "mapping_file", type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@click.option(
    "--observation-end", default=None, help="YYYY-MM-DD (default: the table's last date)."
)
@click.option("--freq", type=click.Choice(["D", "W", "M"]), default="D", show_default=True)
@click.option(
    "--refund-column",
    default=None,
    help="Column holding a true/false refund flag (default: none; a row with a negative "
    "amount is a refund). A mapping file that names is_refund sets it too.",
)
def summary_sql(
    dialect: str,
    table: str,
    mapping_file: Path | None,
    observation_end: str | None,
    freq: str,
    refund_column: str | None,
) -> None:
    """Print the per-customer summary query for a client's warehouse.

    The table needs only customer_id, date and amount columns (or the mapped names): refunds are
    the negative amounts unless --refund-column (or is_refund in the mapping) names a flag.
    """
    from loyalty_lib import data
    from loyalty_lib import summary_sql as sql_mod

    try:
        columns = data.read_mapping(mapping_file, "transactions") if mapping_file else {}
    except data.LoyaltyDataError as exc:
        raise click.ClickException(str(exc)) from exc
    if refund_column:
        columns["is_refund"] = refund_column
    click.echo(
        sql_mod.summary_sql(
            dialect=dialect,
            table=table,
            columns=columns,
            observation_end=observation_end,
            freq=freq,
        )
    )
