"""`verifyfull scan`: find insecure database transport settings in code and config."""

from __future__ import annotations

import dataclasses
import importlib
import shutil
import sys
import tempfile
from collections import Counter
from pathlib import Path

import typer

from verifyfull import rules
from verifyfull.clihelp import SEVERITIES, one_of
from verifyfull.errors import UsageError
from verifyfull.report import Report, exit_code
from verifyfull.report.output import emit
from verifyfull.report.summary import quiet_line
from verifyfull.rules import Severity
from verifyfull.scan import engine
from verifyfull.scan.settings import ScanSettings, load, load_config_file
from verifyfull.scan.walk import NOTHING_EXAMINED
from verifyfull.terminal import shown

FORMATS = ("text", "json", "sarif", "html")


def render(
    report: Report, output_format: str, root: Path | None = None, show_fixes: bool | None = None
) -> str:
    """The report in a format; `root` (the project root the paths are relative to)
    lets the views show code lines. Only the chosen view is imported (rich, for
    text, costs a twentieth of a second of every start). `show_fixes`: whether each
    finding says if `verifyfull fix` rewrites it (default: in SARIF only, where code
    scanning offers the fix; elsewhere it costs a fixer pass per file with findings)."""
    view = importlib.import_module(f"verifyfull.report.{output_format}")
    if output_format == "html":
        return str(view.render(report, root=root))
    show = output_format == "sarif" if show_fixes is None else show_fixes
    return str(view.render(report, root=root, show_fixes=show))


def statistics(report: Report) -> str:
    """Counts per rule, most frequent first, as `ruff --statistics` prints them."""
    counts = Counter(f.rule_id for f in report.findings)
    lines = [
        f"{count:>5}  {rule_id}  {rules.get(rule_id).slug}"
        for rule_id, count in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    ]
    return "".join(f"{line}\n" for line in lines)


def _stdin_file(stdin_filename: Path | None, root: Path) -> tuple[Path, Path]:
    """Stdin written under a private temp dir at the name the editor gave, so the
    checks that pick files by name see the real name: (temp dir, file)."""
    if stdin_filename is None:
        raise UsageError("scan - reads stdin but needs its name", "add --stdin-filename PATH")
    name = stdin_filename
    if name.is_absolute():
        try:
            name = name.resolve().relative_to(root)
        except ValueError:
            name = Path(name.name)
    if ".." in name.parts:
        name = Path(name.name)
    scratch = Path(tempfile.mkdtemp(prefix="verifyfull-stdin-"))
    target = scratch / name
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(sys.stdin.buffer.read())
    return scratch, target


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
    output_format: str = typer.Option(
        "text", "--format", "-f", metavar=one_of(FORMATS), help="The report's format."
    ),
    output: Path | None = typer.Option(None, "--output", "-o", help="Write the report here."),  # noqa: B008
    fail_on: str | None = typer.Option(
        None,
        "--fail-on",
        metavar=SEVERITIES,
        help="Exit 1 on findings at or above this severity (default high).",
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
    exit_zero: bool = typer.Option(
        False,
        "--exit-zero",
        help="Exit 0 even when findings reach --fail-on (2 still means not everything "
        "could be checked).",
    ),
    quiet: bool = typer.Option(
        False, "--quiet", "-q", help="Print only the summary line, and nothing when clean."
    ),
    exclude: list[str] | None = typer.Option(  # noqa: B008
        None, "--exclude", help="Gitignore-style pattern to leave out; replaces the config's."
    ),
    extend_exclude: list[str] | None = typer.Option(  # noqa: B008
        None, "--extend-exclude", help="Pattern to leave out, added to the config's exclude."
    ),
    config: Path | None = typer.Option(  # noqa: B008
        None,
        "--config",
        help="Settings file: a pyproject.toml with [tool.verifyfull], or a TOML file "
        "holding those keys at top level (default: the nearest pyproject.toml).",
    ),
    show_statistics: bool = typer.Option(
        False, "--statistics", help="Print the number of findings per rule instead of the report."
    ),
    show_fixes: bool | None = typer.Option(
        None,
        "--show-fixes/--no-show-fixes",
        help="Say per finding whether `verifyfull fix` rewrites it, safe or unsafe "
        "(default: in SARIF only; it runs the fixer on each file with findings).",
    ),
    stdin_filename: Path | None = typer.Option(  # noqa: B008
        None, "--stdin-filename", help="With PATH '-': the name of the file read from stdin."
    ),
) -> None:
    """Scan code and config for insecure, weak or broken database TLS settings."""
    if output_format not in FORMATS:
        raise UsageError(f"unknown --format {output_format!r}", f"use one of {', '.join(FORMATS)}")
    reads_stdin = paths is not None and [str(p) for p in paths] == ["-"]
    for path in () if reads_stdin else paths or ():
        if not path.exists() and not path.is_symlink():
            raise UsageError(f"{path} does not exist", "name a file or directory to scan")
    start = stdin_filename if reads_stdin and stdin_filename else None
    start = start or (paths[0] if paths and not reads_stdin else Path.cwd())
    settings = load_config_file(config) if config else load(start)
    if exclude is not None:
        settings = dataclasses.replace(settings, exclude=tuple(exclude))
    if extend_exclude:
        settings = dataclasses.replace(settings, exclude=(*settings.exclude, *extend_exclude))
    scratch: Path | None = None
    if reads_stdin:
        scratch, stdin_path = _stdin_file(stdin_filename, settings.project_root)
        # Findings are reported at the name the editor gave, relative to the scratch root.
        settings = dataclasses.replace(settings, project_root=scratch, exclude=())
        paths = [stdin_path]
    try:
        threshold = Severity.parse(fail_on) if fail_on else settings.fail_on
    except ValueError as exc:
        raise UsageError(f"--fail-on: {exc}") from None
    chosen = rules.selection_option("--select", select)
    dropped = rules.selection_option("--ignore", ignore)
    baseline_path = baseline or settings.baseline
    if write_baseline and baseline_path is None:
        raise UsageError("--write-baseline needs a file", "add --baseline FILE")
    try:
        result = engine.scan(
            _paths(paths, settings),
            settings,
            select=chosen if chosen is not None else settings.select,
            ignore=dropped if dropped is not None else settings.ignore,
            baseline=baseline_path,
            write_baseline=write_baseline,
            jobs=jobs,
        )
        if result.baseline_written is None:  # writing a baseline prints no report
            if show_statistics:
                emit(statistics(result.report), output)
            elif quiet:
                emit(quiet_line(result.report), output)
            else:
                emit(
                    render(result.report, output_format, settings.project_root, show_fixes),
                    output,
                )
    finally:
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)
    notes = []
    if result.suppressed:
        notes.append(f"{result.suppressed} suppressed inline")
    if result.baselined:
        notes.append(f"{result.baselined} already in the baseline")
    if result.baseline_written is not None:
        notes.append(f"wrote {result.baseline_written} finding(s) to {baseline_path}")
    if notes:
        print(f"verifyfull: {shown('; '.join(notes))}", file=sys.stderr)  # names a path
    if result.report.files == 0:
        print(f"verifyfull: {NOTHING_EXAMINED}", file=sys.stderr)
    if result.baseline_written is not None:
        raise typer.Exit(0)
    status = exit_code(result.report, threshold)
    raise typer.Exit(0 if exit_zero and status == 1 else status)
