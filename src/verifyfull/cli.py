"""The `verifyfull` command: one typer app; each part registers its own commands.

Errors the user can act on (VerifyfullError) print one line on stderr and
exit 2; nothing prints a traceback for bad input.
"""

from __future__ import annotations

import sys

import typer
from rich.console import Console
from rich.table import Table

from verifyfull import __version__, rules
from verifyfull.certs.cli import app as certs_app
from verifyfull.errors import VerifyfullError
from verifyfull.explain import explain_command
from verifyfull.fix.cli import fix_command
from verifyfull.lab.cli import app as lab_app
from verifyfull.probe.cli import probe_command
from verifyfull.scan.cli import scan_command

app = typer.Typer(
    name="verifyfull",
    help="TLS with verify-full between Python services and CockroachDB/PostgreSQL: "
    "scan code and config, probe live servers, explain connection strings.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    # Help texts name things like [tool.verifyfull]: print them literally, not as markup.
    rich_markup_mode=None,
)
app.add_typer(certs_app, name="certs")
app.add_typer(lab_app, name="lab")
app.command("explain")(explain_command)
app.command("scan")(scan_command)
app.command("probe")(probe_command)
app.command("fix")(fix_command)

_SEVERITY_STYLE = {
    rules.Severity.CRITICAL: "bold red",
    rules.Severity.HIGH: "red",
    rules.Severity.MEDIUM: "yellow",
    rules.Severity.LOW: "cyan",
    rules.Severity.INFO: "dim",
}


def _version_callback(value: bool) -> None:
    if value:
        typer.echo(f"verifyfull {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version_callback, is_eager=True, help="Print the version."
    ),
) -> None:
    """verifyfull: one TLS policy for guard, scan and probe."""


@app.command("rules")
def rules_command(
    rule_id: str | None = typer.Argument(None, help="A rule id (VF102) or slug for its full doc."),
) -> None:
    """List the rule catalogue, or show one rule's full doc."""
    console = Console()
    if rule_id:
        try:
            rule = rules.get(rule_id)
        except KeyError as exc:
            raise VerifyfullError(str(exc.args[0])) from None
        console.print(rule.doc, markup=False, highlight=False)
        return
    table = Table(title="verifyfull rules", show_lines=False)
    for column in ("id", "slug", "severity", "CWE", "raised by", "title"):
        table.add_column(column)
    for rule in rules.all_rules():
        table.add_row(
            rule.id,
            rule.slug,
            f"[{_SEVERITY_STYLE[rule.severity]}]{rule.severity.value}[/]",
            ", ".join(str(int(c)) for c in rule.cwe),
            ", ".join(rule.where),
            rule.title,
        )
    console.print(table)


def main() -> None:
    try:
        app()
    except VerifyfullError as exc:
        print(f"verifyfull: error: {exc}", file=sys.stderr)
        sys.exit(2)
    except KeyboardInterrupt:
        print("verifyfull: interrupted", file=sys.stderr)
        sys.exit(130)
