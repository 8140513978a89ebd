"""`verifyfull scan`: find insecure database transport settings in code and config."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import typer

from verifyfull import rules
from verifyfull.errors import UsageError
from verifyfull.report import Report, exit_code
from verifyfull.report.output import emit
from verifyfull.rules import Severity
from verifyfull.scan import engine
from verifyfull.scan.settings import ScanSettings, load

FORMATS = ("text", "json", "sarif", "html")


def render(report: Report, output_format: str, root: Path | None = None) -> str:
    """The report in a format; `root` (the project root the paths are relative to)
    lets the views show code lines. Only the chosen view is imported (rich, for
    text, costs a twentieth of a second of every start)."""
    view = importlib.import_module(f"verifyfull.report.{output_format}")
    if output_format == "json":
        return str(view.render(report))
    return str(view.render(report, root=root))


def _paths(given: list[Path] | None, settings: ScanSettings) -> list[Path]:
    if given:
        return given
    if settings.paths:
        return [settings.project_root / p for p in settings.paths]
    return [Path.cwd()]


def scan_command(
    paths: list[Path] | None = typer.Argument(  # noqa: B008 - typer's declaration style
        None, help="Files or directories (default: [tool.verifyfull] paths, else '.')."
    ),
    output_format: str = typer.Option("text", "--format", "-f", help="text, json, sarif or html."),
    output: Path | None = typer.Option(None, "--output", "-o", help="Write the report here."),  # noqa: B008
    fail_on: str | None = typer.Option(
        None, "--fail-on", help="Exit 1 on findings at or above this severity (default high)."
    ),
    select: str | None = typer.Option(None, "--select", help="Only these rules: VF102,VF1,…"),
    ignore: str | None = typer.Option(None, "--ignore", help="Leave out these rules."),
    baseline: Path | None = typer.Option(  # noqa: B008
        None, "--baseline", help="Report only findings this baseline file does not hold."
    ),
    write_baseline: bool = typer.Option(
        False, "--write-baseline", help="Record the current findings in --baseline and exit 0."
    ),
    jobs: int | None = typer.Option(
        None,
        "--jobs",
        "-j",
        min=1,
        help="Worker processes (default: one per core on a large tree; see docs/scan.md).",
    ),
) -> None:
    """Scan code and config for insecure, weak or broken database TLS settings."""
    if output_format not in FORMATS:
        raise UsageError(f"unknown --format {output_format!r}", f"use one of {', '.join(FORMATS)}")
    for path in paths or ():
        if not path.exists() and not path.is_symlink():
            raise UsageError(f"{path} does not exist", "name a file or directory to scan")
    settings = load(paths[0] if paths else Path.cwd())
    try:
        threshold = Severity.parse(fail_on) if fail_on else settings.fail_on
    except ValueError as exc:
        raise UsageError(f"--fail-on: {exc}") from None
    chosen = rules.selection_option("--select", select)
    dropped = rules.selection_option("--ignore", ignore)
    baseline_path = baseline or settings.baseline
    if write_baseline and baseline_path is None:
        raise UsageError("--write-baseline needs a file", "add --baseline FILE")
    result = engine.scan(
        _paths(paths, settings),
        settings,
        select=chosen if chosen is not None else settings.select,
        ignore=dropped if dropped is not None else settings.ignore,
        baseline=baseline_path,
        write_baseline=write_baseline,
        jobs=jobs,
    )
    text = render(result.report, output_format, settings.project_root)
    emit(text, output)
    notes = []
    if result.suppressed:
        notes.append(f"{result.suppressed} suppressed inline")
    if result.baselined:
        notes.append(f"{result.baselined} already in the baseline")
    if result.baseline_written is not None:
        notes.append(f"wrote {result.baseline_written} finding(s) to {baseline_path}")
    if notes:
        print(f"verifyfull: {'; '.join(notes)}", file=sys.stderr)
    if result.baseline_written is not None:
        raise typer.Exit(0)
    raise typer.Exit(exit_code(result.report, threshold))
