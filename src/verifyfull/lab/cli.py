"""`verifyfull lab` (being built)."""

from __future__ import annotations

import typer

app = typer.Typer(
    help="A throwaway TLS PostgreSQL standing in for a CockroachDB secure node.",
    no_args_is_help=True,
)


@app.command("status")
def status() -> None:
    """Show running lab servers."""
    typer.echo("no lab servers running")
