"""`verifyfull certs` (being built)."""

from __future__ import annotations

import typer

app = typer.Typer(
    help="Create and check certificates in the cockroach cert layout.", no_args_is_help=True
)


@app.command("check")
def check() -> None:
    """Check a certs directory."""
    typer.echo("not available yet")
