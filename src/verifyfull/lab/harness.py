"""Start and stop throwaway TLS PostgreSQL 15 servers on loopback.

One `initdb` per process builds a template cluster (template.py); each
server is a `cp -a` copy of it with its own port, certificates
(servercerts.py), TLS settings and pg_hba (variants.py). Servers run as the `postgres` user
when we are root (initdb refuses root). Every server started here is
stopped at interpreter exit unless `keep_running()` is called (the CLI's
detached servers).

Layout of one server (base = mkdtemp, traversable by postgres):
    base/certs/   client side, cockroach layout: ca.crt, client.<user>.crt/.key
    base/ca.key   the lab CA's key (outside certs/)
    base/server/  node.crt, node.key (0600, owned by postgres), ca.crt
    base/data/    PGDATA
    base/run/     unix socket (0700, postgres) and postgres.log
"""

from __future__ import annotations

import atexit
import base64
import contextlib
import hashlib
import hmac
import os
import secrets
import shutil
import socket
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

from verifyfull.lab import spares
from verifyfull.lab.dsn import Dialable
from verifyfull.lab.postgres import (
    LabError,
    bindir,
    check_reachable,
    give_to_server,
    pg_ctl,
    pg_ctl_start,
    postmaster_pid,
    psql,
    stop_cluster,
    tail,
    write_conf,
)
from verifyfull.lab.servercerts import (
    HOSTNAME,
    LISTEN_HOST,
    LabCA,
    make_server_certs,
    openssl_conf,
)
from verifyfull.lab.spares import prefetch
from verifyfull.lab.template import (
    BASE_SETTINGS,
    DETACHED,
    prefix,
    remove_template,
    sweep_stale,
    template,
)
from verifyfull.lab.variants import PASSWORD_USER, Variant, get

__all__ = [
    "HOSTNAME",
    "LISTEN_HOST",
    "LabCA",
    "LabError",
    "LabServer",
    "bindir",
    "free_port",
    "keep_running",
    "prefetch",
    "running",
    "start",
    "start_cluster",
    "sweep_stale",
    "template",
]

DATABASE = "defaultdb"
_BIND_RETRIES = 5


_PATH_FIELDS = frozenset({"certs_dir", "ca_key", "data_dir", "base_dir", "log_file", "socket_dir"})


@dataclass(frozen=True)
class LabServer(Dialable):
    variant: str
    host: str  # what we listen on
    hostname: str  # a name in the node certificate's SAN
    port: int
    certs_dir: Path  # client-side cockroach layout (ca.crt, client.<user>.crt/.key)
    ca_key: Path
    data_dir: Path
    password_user: str
    password: str  # test secret: never printed unless asked for
    database: str
    base_dir: Path  # everything of this server; removed by stop()
    log_file: Path
    socket_dir: Path
    node_name: str | None = None  # extra SAN (node<i>.lab.test), dialable via libpq hostaddr

    def __repr__(self) -> str:  # keep the password out of test output and logs
        return (
            f"LabServer(variant={self.variant!r}, host={self.host!r}, port={self.port}, "
            f"certs_dir={str(self.certs_dir)!r})"
        )

    __str__ = __repr__

    @property
    def pid(self) -> int | None:
        return postmaster_pid(self.data_dir)

    def restart(self, timeout: float = 30.0) -> None:
        """Restart PostgreSQL (fast mode): same port, files and password; sessions drop."""
        pg_ctl(bindir(), self.data_dir, self.log_file, "restart", timeout=timeout,
               env=_server_env(self.base_dir))  # fmt: skip

    def reload(self, timeout: float = 30.0) -> None:
        """Re-read postgresql.conf, pg_hba.conf and the TLS files (after editing them)."""
        pg_ctl(bindir(), self.data_dir, self.log_file, "reload", timeout=timeout)

    def stop(self) -> None:
        """Immediate shutdown, then remove every file of this server."""
        _forget(self)
        stop_cluster(self.data_dir, self.log_file)
        shutil.rmtree(self.base_dir, ignore_errors=True)

    def to_json(self) -> dict[str, object]:
        """State for the CLI (without the password)."""
        data = {k: str(v) if isinstance(v, Path) else v for k, v in asdict(self).items()}
        data.pop("password")
        return data

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> LabServer:
        """The inverse of to_json() (plus an optional "password"): a detached server."""
        values: dict[str, Any] = {"password": str(state.get("password", ""))}
        for f in fields(cls):
            if f.name == "password":
                continue
            value = state[f.name]
            values[f.name] = Path(value) if f.name in _PATH_FIELDS else value
        if not isinstance(values["port"], int):
            raise ValueError("port is not a number")
        return cls(**values)


def _scram_verifier(password: str, iterations: int = 4096) -> str:
    """PostgreSQL's SCRAM-SHA-256 verifier, so the password itself never reaches the server."""
    salt = secrets.token_bytes(16)
    salted = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, iterations)
    client_key = hmac.new(salted, b"Client Key", hashlib.sha256).digest()
    stored_key = hashlib.sha256(client_key).digest()
    server_key = hmac.new(salted, b"Server Key", hashlib.sha256).digest()

    def b64(raw: bytes) -> str:
        return base64.b64encode(raw).decode()

    return f"SCRAM-SHA-256${iterations}:{b64(salt)}${b64(stored_key)}:{b64(server_key)}"


# ---------------------------------------------------------------- ports


def _ipv6_loopback() -> bool:
    if not socket.has_ipv6:
        return False
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as s:
            s.bind(("::1", 0))
    except OSError:
        return False
    return True


def free_port() -> int:
    """A TCP port free on 127.0.0.1 (and ::1 when present) right now; callers retry on a race."""
    for _ in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.bind((LISTEN_HOST, 0))
            port = int(s.getsockname()[1])
        if not _ipv6_loopback():
            return port
        try:
            with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as s6:
                s6.bind(("::1", port))
        except OSError:
            continue
        return port
    raise LabError("no free loopback port found", "free some ports or pass port=")


# ---------------------------------------------------------------- start / stop

_running: dict[Path, LabServer] = {}
_running_lock = threading.Lock()


def _forget(server: LabServer) -> None:
    with _running_lock:
        _running.pop(server.base_dir, None)


def keep_running(server: LabServer) -> None:
    """Leave `server` running after this process exits (the CLI's detached servers)."""
    _forget(server)
    (server.base_dir / DETACHED).touch()


def _cleanup_at_exit() -> None:
    """Stop every server still registered, then remove the spare and the template."""
    with _running_lock:
        servers = list(_running.values())
    for server in servers:
        with contextlib.suppress(Exception):
            server.stop()
    spares.discard()
    remove_template()


atexit.register(_cleanup_at_exit)


def start(
    variant: str = "secure",
    *,
    base_dir: Path | None = None,
    ca: LabCA | None = None,
    port: int | None = None,
    timeout: float = 10.0,
    node_name: str | None = None,
) -> LabServer:
    """Start one lab server of `variant` and wait until it accepts connections."""
    spec = get(variant)
    bins = bindir()
    tpl = template(timeout=max(timeout, 60.0))
    if base_dir is not None:
        Path(base_dir).mkdir(parents=True, exist_ok=True)
        check_reachable(Path(base_dir).absolute())
    base = Path(tempfile.mkdtemp(prefix=prefix(variant), dir=base_dir)).absolute()
    if base_dir is None and ca is None and (spare := spares.take_spare(timeout)) is not None:
        os.rename(spare, base)  # replaces the empty dir just made; same filesystem
    try:
        server = _start_in(base, spec, bins, tpl, ca, port, timeout, node_name)
        spares.refill()
        return server
    except BaseException:
        pid = postmaster_pid(base / "data")
        if pid is not None:
            stop_cluster(base / "data", base / "run" / "postgres.log")
        shutil.rmtree(base, ignore_errors=True)
        raise


def _start_in(
    base: Path,
    spec: Variant,
    bins: Path,
    tpl: Path,
    ca: LabCA | None,
    port: int | None,
    timeout: float,
    node_name: str | None,
) -> LabServer:
    certs_dir = base / "certs"
    if not (base / "data").exists():  # not a prepared spare
        spares.prepare(base, tpl, timeout, with_ca=ca is None)
    if ca is None:
        ca = LabCA(certs_dir, base / "ca.key")
    if ca.certs_dir != certs_dir:  # shared CA (cluster): each server gets its own copy
        shutil.copytree(ca.certs_dir, certs_dir)
        shutil.copy2(ca.ca_key, base / "ca.key")
        ca = LabCA(certs_dir, base / "ca.key")
    server_dir, data, run = base / "server", base / "data", base / "run"
    server_dir.mkdir()
    make_server_certs(spec, ca, server_dir, node_name)
    run.mkdir()
    give_to_server(run, 0o700)
    log = run / "postgres.log"
    (data / "pg_hba.conf").write_text("\n".join(spec.hba_lines()) + "\n")
    password = secrets.token_urlsafe(18)
    listen = LISTEN_HOST + (",::1" if _ipv6_loopback() else "")
    tls = spec.settings()
    if spec.ssl:
        tls |= {
            "ssl_cert_file": str(server_dir / "node.crt"),
            "ssl_key_file": str(server_dir / "node.key"),
            "ssl_ca_file": str(server_dir / "ca.crt"),
        }
    if spec.openssl_seclevel is not None:
        openssl_conf(server_dir, spec.openssl_seclevel)
    env = _server_env(base)
    attempts = 1 if port is not None else _BIND_RETRIES
    for attempt in range(attempts):
        chosen = port if port is not None else free_port()
        write_conf(
            data / "verifyfull_lab.conf",
            {
                **BASE_SETTINGS,
                **tls,
                "listen_addresses": listen,
                "port": str(chosen),
                "unix_socket_directories": str(run),
            },
        )
        try:
            pg_ctl_start(bins, data, log, timeout=timeout, env=env)
            # PostgreSQL starts when any one address binds; we need all of them.
            _require_all_bound(data, log)
            break
        except LabError:
            raced = log.is_file() and "could not bind" in log.read_text(errors="replace")
            if not raced or attempt == attempts - 1:
                raise
            log.unlink()
    psql(
        bins,
        run,
        chosen,
        DATABASE,
        f"ALTER ROLE {PASSWORD_USER} PASSWORD '{_scram_verifier(password)}';\n",
        log=log,
        timeout=timeout,
    )
    server = LabServer(
        variant=spec.name,
        host=LISTEN_HOST,
        hostname=HOSTNAME,
        port=chosen,
        certs_dir=certs_dir,
        ca_key=ca.ca_key,
        data_dir=data,
        password_user=PASSWORD_USER,
        password=password,
        database=DATABASE,
        base_dir=base,
        log_file=log,
        socket_dir=run,
        node_name=node_name,
    )
    with _running_lock:
        _running[base] = server
    return server


def _server_env(base: Path) -> dict[str, str] | None:
    """The environment a server process needs (a variant's own OPENSSL_CONF)."""
    conf = base / "server" / "openssl.cnf"
    return {"OPENSSL_CONF": str(conf)} if conf.is_file() else None


def _require_all_bound(data: Path, log: Path) -> None:
    if "could not bind" in log.read_text(errors="replace"):
        log_tail = tail(log)
        stop_cluster(data, log)
        raise LabError(f"PostgreSQL could not listen on every loopback address{log_tail}", None)


@contextlib.contextmanager
def running(
    variant: str = "secure",
    *,
    base_dir: Path | None = None,
    ca: LabCA | None = None,
    port: int | None = None,
    timeout: float = 10.0,
    node_name: str | None = None,
) -> Iterator[LabServer]:
    """`with running("secure") as server:` starts a server and always stops it."""
    server = start(
        variant, base_dir=base_dir, ca=ca, port=port, timeout=timeout, node_name=node_name
    )
    try:
        yield server
    finally:
        server.stop()


def start_cluster(
    nodes: int = 3, variant: str = "secure", *, timeout: float = 10.0
) -> list[LabServer]:
    """`nodes` servers sharing one CA; node i's certificate also names node<i>.lab.test."""
    if nodes < 1:
        raise LabError(f"a cluster needs at least one node, not {nodes}", "pass nodes >= 1")
    ca_home = Path(tempfile.mkdtemp(prefix=prefix("ca")))
    started: list[LabServer] = []
    try:
        ca = LabCA.create(ca_home)
        for i in range(1, nodes + 1):
            # Each node keeps its own copy of the CA (certs/ and ca.key).
            started.append(start(variant, ca=ca, timeout=timeout, node_name=f"node{i}.lab.test"))
    except BaseException:
        for server in started:
            server.stop()
        raise
    finally:
        shutil.rmtree(ca_home, ignore_errors=True)  # every node holds its own copy
    return started
