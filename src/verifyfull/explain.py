"""`verifyfull explain DSN`: what a driver will really do with a connection string.

The logic is conninfo's; this module only reads the command line and renders
a Verdict as text (rich, for a human) or JSON (DESIGN.md's contract). Exit
status: 0 no finding at or above high, 1 otherwise, 2 bad input. Everything
shown is scrubbed of secrets (the DSN's password was registered when parsed);
text has its control characters escaped.
"""

from __future__ import annotations

import json
import re

import typer
from rich.console import Console
from rich.text import Text

from verifyfull.clihelp import one_of
from verifyfull.conninfo import (
    ConnInfo,
    Driver,
    Environment,
    Verdict,
    evaluate,
    parse_for_driver,
    read_any_driver,
)
from verifyfull.conninfo.corrected import sqlalchemy_url
from verifyfull.conninfo.model import Source
from verifyfull.conninfo.versions import PINNED
from verifyfull.errors import UsageError
from verifyfull.rules import Severity
from verifyfull.scrub import scrub_tree
from verifyfull.terminal import shown

_SEVERITY_STYLE = {
    Severity.CRITICAL: "bold red",
    Severity.HIGH: "red",
    Severity.MEDIUM: "yellow",
    Severity.LOW: "cyan",
    Severity.INFO: "dim",
}
# pg8000 takes keyword arguments only: no connection string to explain for it (a
# postgresql+pg8000:// URL is SQLAlchemy's dialect, read without --driver).
_DRIVER_NAMES = tuple(d.value for d in Driver if d is not Driver.PG8000)
_DRIVERS = ", ".join(_DRIVER_NAMES)


def explain_command(
    dsn: str = typer.Argument(
        ..., help="A connection string: postgresql://…, postgresql+asyncpg://…, host=… sslmode=…"
    ),
    driver: str | None = typer.Option(
        None,
        "--driver",
        metavar=one_of(_DRIVER_NAMES),
        help="The API that receives it. Default: from the URL "
        "(+asyncpg etc. => sqlalchemy; plain URL => psycopg/libpq).",
    ),
    output_format: str = typer.Option(
        "text", "--format", "-f", metavar=one_of(("text", "json")), help="The output's format."
    ),
    use_env: bool = typer.Option(
        False,
        "--env",
        help="Take the current PG* variables and ~/.postgresql/root.crt into account.",
    ),
) -> None:
    """Explain what a driver will really do with a connection string."""
    if output_format not in ("text", "json"):
        raise UsageError(f"unknown format {output_format!r}", "use --format text or --format json")
    if driver is not None and driver not in _DRIVER_NAMES:
        raise UsageError(f"unknown driver {driver!r}", f"use one of {_DRIVERS}")
    env = Environment.current() if use_env else Environment.empty()
    if driver is None:  # libpq's reading, else asyncpg's (as the config scanner reads it)
        info, read_as = read_any_driver(dsn)
        verdict = evaluate(info, read_as, env)
    else:
        info = parse_for_driver(dsn, driver)
        verdict = evaluate(info, driver, env)
    if output_format == "json":
        typer.echo(json.dumps(scrub_tree(verdict.to_json()), indent=2))
    else:
        render_text(
            verdict,
            _as_written(info, verdict),
            Console(highlight=False, soft_wrap=True),
            use_env=use_env,
        )
    if verdict.fails(Severity.HIGH):
        raise typer.Exit(code=1)


def _as_written(info: ConnInfo, verdict: Verdict) -> str:
    """The connection (password masked) in a form its driver reads back the same: a
    SQLAlchemy URL as SQLAlchemy reads it (a host list or an empty `?host=:6000` in the
    query; the libpq rendering would write a netloc SQLAlchemy reads otherwise)."""
    if verdict.driver.startswith("sqlalchemy") and info.source is Source.URL:
        scheme = info.scheme or "postgresql"  # as written: the notes compare it
        return sqlalchemy_url(info, f"{scheme}+{info.dialect}" if info.dialect else scheme)
    return str(info)


def render_text(verdict: Verdict, connection: str, console: Console, *, use_env: bool) -> None:
    """The human view: the verdict, what the driver does, the rules, the corrected form."""

    def line(label: str, value: str, style: str = "") -> None:
        text = Text(f"{label:<18}", style="bold")
        text.append(shown(value), style=style)
        console.print(text)

    def yes_no(flag: bool) -> tuple[str, str]:
        return ("yes", "green") if flag else ("no", "red")

    line("connection", connection)
    line("driver", verdict.driver)
    line("versions", PINNED.describe())  # where behaviour changed, these are the ones read
    env_note = "" if use_env else " (pass --env to use the current PG* variables)"
    line("environment", verdict.environment + env_note)
    tls_style = {"always": "green", "maybe": "yellow", "never": "red"}[verdict.tls.value]
    line("TLS", verdict.tls.value, tls_style)
    line("chain verified", *yes_no(verdict.verifies_chain))
    line("host verified", *yes_no(verdict.verifies_hostname))
    if verdict.breaks:
        line("breaks at connect", verdict.breaks, "bold red")
    if not verdict.determined:
        line("note", "not everything could be determined; see below", "yellow")
    console.print(Text("\nWhat the driver will do", style="bold underline"))
    for note in verdict.notes:
        console.print(Text(f"  - {shown(note)}"))
    console.print(Text("\nFindings", style="bold underline"))
    if not verdict.findings:
        console.print(Text("  none: verify-full as the policy asks", style="green"))
    for found in verdict.findings:
        head = Text("  ")
        head.append(found.rule_id, style=_SEVERITY_STYLE[found.severity])
        head.append(f" {found.severity.value:<8} {found.rule.slug}: {found.rule.title}")
        console.print(head)
        console.print(Text(f"      {shown(found.message)}"))
    if verdict.findings and verdict.corrected.strip() != connection.strip():
        # Only when it changes something: a Corrected block equal to the input reads as a fix.
        console.print(Text("\nCorrected", style="bold underline"))
        for corrected_line in verdict.corrected.splitlines():
            console.print(Text(f"  {shown(corrected_line)}"))
        why = scheme_change(connection, verdict.corrected)
        if why:
            console.print(Text(f"  ({shown(why)})", style="dim"))


_SCHEME = re.compile(r"^\s*([A-Za-z][A-Za-z0-9+.-]*)://")
_SCHEME_IN_CODE = re.compile(r"[\"']([A-Za-z][A-Za-z0-9+.-]*)://")


def scheme_change(connection: str, corrected: str) -> str:
    """Why the corrected form writes another URL scheme than the input, or ''."""
    before = _SCHEME.match(connection)
    after = _SCHEME.match(corrected) or _SCHEME_IN_CODE.search(corrected)
    if before is None or after is None:
        return ""
    old, new = before.group(1), after.group(1)
    if old.lower() == new.lower():
        return ""
    old_base, _, old_dialect = old.lower().partition("+")
    new_base, _, new_dialect = new.lower().partition("+")
    if old_base == "postgres" and new_base == "postgresql" and "+" in new:
        return (
            f"scheme {old}:// written {new}://: SQLAlchemy 1.4 removed the 'postgres' "
            "dialect name, create_engine() refuses it"
        )
    if old_base == new_base and not old_dialect and new_dialect:
        return (
            f"scheme {old}:// written {new}://: the driver SQLAlchemy picks for {old}:// "
            "by default, named so the TLS parameters are read as that driver reads them"
        )
    if old_base == "postgres" and new_base == "postgresql":
        return (
            f"scheme {old}:// written {new}://: the driver reads both; postgresql:// is "
            "the canonical name"
        )
    return f"scheme {old}:// written {new}://: the form the receiving driver reads"
