"""`verifyfull run [--mode refuse|audit] [--report FILE] [--format text|json] -- COMMAND ...`

Runs COMMAND (an argv list, never a shell) with bootstrap/ first on
PYTHONPATH and VERIFYFULL_ENFORCE set, so every Python process it starts is
enforced from its first import. Each process writes its records at exit into
a private directory; this command merges them into one report (to FILE, else
to stderr) and exits with COMMAND's status.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import typer

from verifyfull.clihelp import one_of
from verifyfull.errors import UsageError
from verifyfull.runtime.autostart import ENV_MODE, ENV_RECORDS_DIR, read_records
from verifyfull.runtime.record import Mode
from verifyfull.runtime.report import render

BOOTSTRAP_DIR = Path(__file__).resolve().parent / "bootstrap"
# The directory that holds the verifyfull package, for a child interpreter that
# does not have it installed (appended: an installed copy still wins).
_PACKAGE_ROOT = Path(__file__).resolve().parents[2]

app = typer.Typer(rich_markup_mode=None, add_completion=False)


def child_environment(mode: Mode, records_dir: Path, base: dict[str, str]) -> dict[str, str]:
    entries = [str(BOOTSTRAP_DIR)]
    if base.get("PYTHONPATH"):
        entries.append(base["PYTHONPATH"])
    entries.append(str(_PACKAGE_ROOT))
    return {
        **base,
        "PYTHONPATH": os.pathsep.join(entries),
        ENV_MODE: mode.value,
        ENV_RECORDS_DIR: str(records_dir),
    }


@app.command(
    "run",
    context_settings={"allow_interspersed_args": False, "ignore_unknown_options": True},
)
def run_command(
    command: list[str] = typer.Argument(  # noqa: B008 (typer's idiom)
        None, help="The program and its arguments, after --: verifyfull run -- python app.py"
    ),
    mode: str = typer.Option(
        "refuse",
        "--mode",
        metavar=one_of(("refuse", "audit")),
        help="refuse: raise before any byte is sent; audit: allow and record.",
    ),
    report: Path | None = typer.Option(  # noqa: B008
        None, "--report", help="Write the connection report to FILE (default: stderr)."
    ),
    output_format: str = typer.Option(
        "text", "--format", "-f", metavar=one_of(("text", "json")), help="The report's format."
    ),
    sitecustomize_dir: bool = typer.Option(
        False,
        "--sitecustomize-dir",
        help="Print the directory to put first on PYTHONPATH (with VERIFYFULL_ENFORCE) "
        "for processes not started by this command, and exit.",
    ),
) -> None:
    """Run a Python program with every database connection it opens enforced."""
    if sitecustomize_dir:
        typer.echo(str(BOOTSTRAP_DIR))
        return
    try:
        chosen = Mode(mode)
    except ValueError:
        raise UsageError(f"unknown mode {mode!r}", "use --mode refuse or --mode audit") from None
    if output_format not in ("text", "json"):
        raise UsageError(f"unknown format {output_format!r}", "use --format text or json")
    if not command:
        raise UsageError("no command to run", "give it after --: verifyfull run -- python app.py")
    if shutil.which(command[0]) is None:
        raise UsageError(f"command not found: {command[0]}", "check the name or give its path")
    with tempfile.TemporaryDirectory(prefix="verifyfull-run-") as records_dir:
        env = child_environment(chosen, Path(records_dir), dict(os.environ))
        try:
            status = subprocess.run(command, env=env, check=False).returncode  # noqa: S603
        except KeyboardInterrupt:
            status = 130
        records = read_records(Path(records_dir))
    text = render(records, chosen.value, output_format)
    if report is not None:
        try:
            report.write_text(text, encoding="utf-8")
        except OSError as exc:
            raise UsageError(
                f"cannot write {report}: {exc.strerror}", "choose another path"
            ) from None
    else:
        sys.stderr.write(text)
    raise typer.Exit(code=status if status >= 0 else 128 - status)
