"""The `verifyfull` command: one typer app; each part registers its own commands.

Errors the user can act on (VerifyfullError) print one line on stderr and
exit 2; nothing prints a traceback for bad input.
"""

from __future__ import annotations

import importlib
import sys
from typing import Any

import typer
from typer.core import TyperGroup

from verifyfull import __version__, rules
from verifyfull.errors import VerifyfullError
from verifyfull.terminal import shown

# Each part's command lives in its own module and is imported only when that
# command runs (or for --help): the scanner, probe, certs and lab pull in
# cryptography, rich and their own code, which `verifyfull scan` should not pay
# for the others. name -> (module, attribute: a command function or a Typer sub-app)
_LAZY_COMMANDS: dict[str, tuple[str, str]] = {
    "explain": ("verifyfull.explain", "explain_command"),
    "scan": ("verifyfull.scan.cli", "scan_command"),
    "probe": ("verifyfull.probe.cli", "probe_command"),
    "fix": ("verifyfull.fix.cli", "fix_command"),
    "certs": ("verifyfull.certs.cli", "app"),
    "lab": ("verifyfull.lab.cli", "app"),
    "run": ("verifyfull.runtime.run", "app"),
}


class _LazyGroup(TyperGroup):
    def list_commands(self, ctx: Any) -> list[str]:
        eager = [n for n in super().list_commands(ctx) if n not in _LAZY_COMMANDS]
        return [*_LAZY_COMMANDS, *eager]

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        target = _LAZY_COMMANDS.get(cmd_name)
        if target is None:
            return super().get_command(ctx, cmd_name)
        obj = getattr(importlib.import_module(target[0]), target[1])
        if isinstance(obj, typer.Typer):
            command = typer.main.get_command(obj)
        else:
            single = typer.Typer(rich_markup_mode=None, add_completion=False)
            single.command(cmd_name)(obj)
            command = typer.main.get_command(single)
        command.name = cmd_name
        return command


app = typer.Typer(
    cls=_LazyGroup,
    name="verifyfull",
    help="TLS with verify-full between Python services and CockroachDB/PostgreSQL: "
    "scan code and config, probe live servers, explain connection strings.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    # Help texts name things like [tool.verifyfull]: print them literally, not as markup.
    rich_markup_mode=None,
)

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
    from rich.console import Console  # not imported for the other commands (start-up)
    from rich.table import Table

    console = Console()
    if rule_id:
        try:
            rule = rules.get(rule_id)
        except KeyError as exc:
            raise VerifyfullError(str(exc.args[0])) from None
        console.print(rule.doc, markup=False, highlight=False)
        return
    if not console.is_terminal or console.width < 110:
        # Piped, or too narrow for the table's six columns (which then wrap every
        # title over several lines): one block per rule, greppable by id.
        for rule in rules.all_rules():
            cwes = ", ".join(f"CWE-{int(c)}" for c in rule.cwe)
            console.print(
                f"{rule.id}  {rule.slug}  [{_SEVERITY_STYLE[rule.severity]}]"
                f"{rule.severity.value}[/]  {cwes}  ({', '.join(rule.where)})\n"
                f"       {rule.title}",
                highlight=False,
                soft_wrap=True,
            )
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
        print(f"verifyfull: error: {shown(str(exc))}", file=sys.stderr)
        sys.exit(2)
    except KeyboardInterrupt:
        print("verifyfull: interrupted", file=sys.stderr)
        sys.exit(130)
