"""`verifyfull lab start | status | stop | variants`: lab servers for humans.

`start` leaves the server running after the command exits and writes its
state (0600 JSON, one file per variant) to the state dir, default `.lab/`.
The password of `app_pw` is a test secret: it is kept in the state file and
printed only with --show-password.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated

import typer

from verifyfull.clihelp import one_of
from verifyfull.errors import UsageError
from verifyfull.lab import harness
from verifyfull.lab.harness import LabServer
from verifyfull.lab.postgres import alive
from verifyfull.lab.variants import VARIANTS
from verifyfull.lab.variants import get as get_variant

app = typer.Typer(
    help="A throwaway TLS PostgreSQL standing in for a CockroachDB secure node.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,  # one help style for every command (verifyfull.cli)
)

StateDir = Annotated[
    Path, typer.Option("--dir", help="State directory (one JSON file per running server).")
]
ShowPassword = Annotated[
    bool, typer.Option("--show-password", help="Also print app_pw's password (a test secret).")
]
_DEFAULT_DIR = Path(".lab")


def _state_file(state_dir: Path, variant: str) -> Path:
    return state_dir / f"{variant}.json"


# The state files hold the lab's test password: keep the whole directory out of git.
_GITIGNORE = "# verifyfull lab state: holds test passwords, never commit it\n*\n"


def _save(state_dir: Path, server: LabServer) -> None:
    state_dir.mkdir(parents=True, exist_ok=True)
    ignore = state_dir / ".gitignore"
    if not ignore.exists():
        ignore.write_text(_GITIGNORE)
    path = _state_file(state_dir, server.variant)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        json.dump({**server.to_json(), "password": server.password}, out, indent=2)


def _load_all(state_dir: Path) -> list[tuple[Path, LabServer]]:
    found = []
    for path in sorted(state_dir.glob("*.json")) if state_dir.is_dir() else []:
        try:
            found.append((path, harness.LabServer.from_state(json.loads(path.read_text()))))
        except (ValueError, KeyError, TypeError) as exc:
            raise UsageError(
                f"{path} is not a lab state file ({exc})", "remove it or pick another --dir"
            ) from None
    return found


def _alive(server: LabServer) -> bool:
    pid = server.pid
    return pid is not None and alive(pid)


def _refusal_note(server: LabServer) -> str | None:
    """Why no verified connection string works on this variant, or None when they do."""
    rule = VARIANTS[server.variant].verify_full_refusal
    if rule is None:
        return None
    if rule == "VF201":
        return (
            "no TLS here (the --insecure stand-in): every verify-full client is refused (VF201); "
            f"plaintext only: {server.dsn('app', sslmode='disable', client_cert=False)}"
        )
    return (
        f"verify-full clients are refused here by design ({rule}): this variant exists to "
        "show that refusal, so no connection string that works is printed"
    )


def _print_server(server: LabServer, *, show_password: bool) -> None:
    variant = VARIANTS[server.variant]
    ca = server.certs_dir / "ca.crt"
    head = [
        f"variant:   {server.variant}: {variant.summary}",
        f"listening: {server.host}:{server.port} (pid {server.pid}); certs dir {server.certs_dir}",
        "",
    ]
    note = _refusal_note(server)
    if note is not None:
        typer.echo("\n".join([*head, note]))
        return
    lines = [
        *head,
        "libpq / psql / psycopg / asyncpg.connect(dsn), verify-full with client certificate:",
        f"  {server.dsn('app')}",
        f"  {server.dsn('root')}",
        f"password user {server.password_user} (no client certificate):",
        f"  {server.dsn(server.password_user, client_cert=False)}",
        "SQLAlchemy (psycopg passes the ssl* keys to libpq):",
        f"  {server.dsn('app', scheme='postgresql+psycopg')}",
        f"  {server.dsn('app', scheme='cockroachdb+psycopg')}",
        "SQLAlchemy asyncpg dialect (query keys would reach asyncpg.connect and fail):",
        f"  create_async_engine({server.dsn('app', sslmode=None, scheme='postgresql+asyncpg')!r},",
        '      connect_args={"ssl": ctx})  # ctx = ssl.create_default_context(cafile='
        f"{str(ca)!r}); ctx.load_cert_chain(certfile, keyfile)",
    ]
    if show_password:
        lines.append(f"{server.password_user} password: {server.password}")
    else:
        lines.append(f"{server.password_user} password: *** (--show-password prints it)")
    typer.echo("\n".join(lines))


@app.command("start")
def start_command(
    variant: Annotated[
        str, typer.Option("--variant", metavar=one_of(VARIANTS), help="Which server to start.")
    ] = "secure",
    state_dir: StateDir = _DEFAULT_DIR,
    show_password: ShowPassword = False,
    timeout: Annotated[float, typer.Option("--timeout", help="Seconds to wait.")] = 30.0,
) -> None:
    """Start a lab server in the background and print its verify-full connection strings."""
    get_variant(variant)  # unknown names fail before anything starts
    for path, server in _load_all(state_dir):
        if server.variant != variant:
            continue
        if _alive(server):
            typer.echo(f"lab server {variant!r} is already running")
            _print_server(server, show_password=show_password)
            _print_stop(state_dir, variant)
            return
        path.unlink()  # stale: its postgres is gone
    server = harness.start(variant, timeout=timeout)
    try:
        _save(state_dir, server)
    except OSError as exc:
        server.stop()
        raise UsageError(f"cannot write state to {state_dir} ({exc})", "pass --dir") from None
    harness.keep_running(server)
    _print_server(server, show_password=show_password)
    _print_stop(state_dir, variant)


def _print_stop(state_dir: Path, variant: str) -> None:
    flag = "" if state_dir == _DEFAULT_DIR else f" --dir {state_dir}"
    typer.echo(f"stop it with: verifyfull lab stop --variant {variant}{flag}")


@app.command("status")
def status_command(state_dir: StateDir = _DEFAULT_DIR) -> None:
    """List the lab servers recorded in the state dir and whether they still run."""
    servers = _load_all(state_dir)
    if not servers:
        typer.echo("no lab servers running")
        return
    for _, server in servers:
        running = _alive(server)
        state = "running" if running else "not running (stale state)"
        typer.echo(f"{server.variant}: {state}, port {server.port}, pid {server.pid}")
        if not running:
            continue  # nothing would answer at a stale server's address
        note = _refusal_note(server)
        typer.echo(f"  {server.dsn('app')}" if note is None else f"  {note}")


@app.command("stop")
def stop_command(
    variant: Annotated[
        str | None,
        typer.Option("--variant", metavar=one_of(VARIANTS), help="Stop only this variant."),
    ] = None,
    state_dir: StateDir = _DEFAULT_DIR,
) -> None:
    """Stop lab servers (all, or one variant) and remove their files and state."""
    stopped = 0
    for path, server in _load_all(state_dir):
        if variant is not None and server.variant != variant:
            continue
        server.stop()
        path.unlink(missing_ok=True)
        typer.echo(f"stopped {server.variant} (port {server.port})")
        stopped += 1
    if not stopped:
        typer.echo("no lab servers running" + (f" for variant {variant!r}" if variant else ""))
    if state_dir.is_dir() and {p.name for p in state_dir.iterdir()} <= {".gitignore"}:
        (state_dir / ".gitignore").unlink(missing_ok=True)
        state_dir.rmdir()


@app.command("variants")
def variants_command() -> None:
    """List the variants and what a client sees on each."""
    for name, variant in VARIANTS.items():
        typer.echo(f"{name:13} {variant.summary}")
