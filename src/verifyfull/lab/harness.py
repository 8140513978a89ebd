"""Start and stop throwaway TLS PostgreSQL 15 servers on loopback.

One `initdb` per process builds a template cluster (roles, `defaultdb`, the
`users` table); each server is a `cp -a` copy of it with its own port,
certificates, TLS settings and pg_hba. Servers run as the `postgres` user
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
import json
import os
import pwd
import re
import secrets
import shutil
import signal
import socket
import stat
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

from verifyfull.certs.create import (
    Validity,
    create_ca,
    create_client,
    create_node,
)
from verifyfull.errors import VerifyfullError
from verifyfull.lab.dsn import Dialable
from verifyfull.lab.variants import CLIENT_CERT_USERS, PASSWORD_USER, Variant, get

DEFAULT_BINDIR = Path("/usr/lib/postgresql/15/bin")
DATABASE = "defaultdb"
LISTEN_HOST = "127.0.0.1"
HOSTNAME = "localhost"
_ADMIN_PORT = 5432  # template server: unix socket only, in a private directory
_BIND_RETRIES = 5
_LOG_TAIL_LINES = 15

SEED_SQL = """\
CREATE ROLE root LOGIN SUPERUSER;
CREATE ROLE app LOGIN;
CREATE ROLE app_pw LOGIN;
-- initdb's `postgres` database becomes CockroachDB's `defaultdb`: one database
-- fewer to copy per server (file creation is the slow part of a start).
ALTER DATABASE postgres RENAME TO defaultdb;
ALTER DATABASE defaultdb OWNER TO root;
\\connect defaultdb
CREATE TABLE users (
    id serial PRIMARY KEY,
    username text NOT NULL,
    email text NOT NULL,
    active bool NOT NULL DEFAULT true
);
INSERT INTO users (username, email, active) VALUES
    ('alice', 'alice@example.com', true),
    ('bob', 'bob@example.com', true),
    ('carol', 'carol@example.com', false);
ALTER TABLE users OWNER TO root;
GRANT SELECT, INSERT, UPDATE, DELETE ON users TO app, app_pw;
GRANT USAGE ON SEQUENCE users_id_seq TO app, app_pw;
"""

# Speed over durability: these clusters are thrown away.
_BASE_SETTINGS = {
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "wal_level": "minimal",
    "max_wal_senders": "0",
    "max_connections": "60",
    "shared_buffers": "16MB",
    "log_connections": "on",
    "password_encryption": "scram-sha-256",
}


class LabError(VerifyfullError):
    """The lab server could not be prepared, started or stopped."""


@dataclass(frozen=True)
class LabCA:
    """A lab certificate authority: ca.crt plus client certificates for the lab users."""

    certs_dir: Path  # ca.crt, client.<user>.crt/.key
    ca_key: Path

    @classmethod
    def create(cls, base: Path) -> LabCA:
        certs_dir, ca_key = base / "certs", base / "ca.key"
        create_ca(certs_dir, ca_key, common_name="verifyfull lab CA")
        for user in CLIENT_CERT_USERS:
            create_client(user, certs_dir, ca_key)
        return cls(certs_dir, ca_key)


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
        return _postmaster_pid(self.data_dir)

    def stop(self) -> None:
        """Immediate shutdown, then remove every file of this server."""
        _forget(self)
        _stop_cluster(self.data_dir, self.log_file)
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


# ---------------------------------------------------------------- binaries, users


def bindir() -> Path:
    """Where the PostgreSQL server binaries are ($VERIFYFULL_PG_BINDIR, 15's, pg_config)."""
    candidates: list[Path] = []
    if env := os.environ.get("VERIFYFULL_PG_BINDIR"):
        candidates.append(Path(env))
    candidates.append(DEFAULT_BINDIR)
    if pg_config := shutil.which("pg_config"):
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            out = subprocess.run(  # noqa: S603 - fixed argv
                [pg_config, "--bindir"], capture_output=True, text=True, timeout=10, check=True
            )
            candidates.append(Path(out.stdout.strip()))
    for cand in candidates:
        if (cand / "initdb").is_file() and (cand / "pg_ctl").is_file():
            return cand
    raise LabError(
        "PostgreSQL server binaries (initdb, pg_ctl) not found",
        "install postgresql-15 or set VERIFYFULL_PG_BINDIR to their directory",
    )


def _server_user() -> pwd.struct_passwd | None:
    """The account postgres runs as: `postgres` when we are root, else ourselves (None)."""
    if os.geteuid() != 0:
        return None
    try:
        return pwd.getpwnam("postgres")
    except KeyError:
        raise LabError(
            "running as root but there is no 'postgres' user (initdb refuses root)",
            "create a postgres system user or run the lab as a normal user",
        ) from None


def _as_server(argv: Sequence[str]) -> list[str]:
    user = _server_user()
    if user is None:
        return list(argv)
    return ["runuser", "-u", user.pw_name, "--", *argv]


def _check_reachable(directory: Path) -> None:
    """The server account must be able to pass through every parent of its files."""
    user = _server_user()
    if user is None:
        return
    for part in (directory, *directory.parents):
        st = part.stat()
        if st.st_uid == user.pw_uid:
            bit = stat.S_IXUSR
        elif st.st_gid == user.pw_gid:
            bit = stat.S_IXGRP
        else:
            bit = stat.S_IXOTH
        if not st.st_mode & bit:
            raise LabError(
                f"the {user.pw_name} user cannot enter {part} (mode {stat.filemode(st.st_mode)})",
                "put the lab in a directory others can traverse, e.g. under /tmp",
            )


def _give_to_server(path: Path, mode: int) -> None:
    user = _server_user()
    if user is not None:
        os.chown(path, user.pw_uid, user.pw_gid)
    os.chmod(path, mode)


def _run(
    argv: Sequence[str],
    *,
    cwd: Path,
    timeout: float,
    what: str,
    log: Path | None = None,
    stdin: str | None = None,
    env: dict[str, str] | None = None,
) -> None:
    try:
        proc = subprocess.run(  # noqa: S603 - argv built from fixed binaries and our paths
            list(argv),
            cwd=cwd,
            env=None if env is None else {**os.environ, **env},
            input=stdin,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise LabError(f"{what} timed out after {timeout:g}s{_tail(log)}", None) from None
    if proc.returncode != 0:
        output = " | ".join((proc.stderr or proc.stdout).strip().splitlines()[-5:])
        output = _redact(output)  # psql may echo the failed statement
        raise LabError(f"{what} failed ({output}){_tail(log)}", None)


_SECRET_SQL = re.compile(r"(PASSWORD)\s+'[^']*'", re.IGNORECASE)


def _redact(text: str) -> str:
    return _SECRET_SQL.sub(r"\1 '***'", text)


def _tail(log: Path | None) -> str:
    if log is None or not log.is_file():
        return ""
    lines = log.read_text(errors="replace").strip().splitlines()[-_LOG_TAIL_LINES:]
    # A failed statement is logged in full: never repeat a password from it.
    return "; server log: " + _redact(" | ".join(lines)) if lines else ""


# ---------------------------------------------------------------- template cluster

_template_lock = threading.Lock()
_template: Path | None = None


def _conf_value(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "''") + "'"


def _write_conf(path: Path, settings: dict[str, str]) -> None:
    path.write_text("".join(f"{k} = {_conf_value(v)}\n" for k, v in settings.items()))


def template(timeout: float = 60.0) -> Path:
    """The per-process template data dir (initdb + seed), built on first use."""
    global _template
    with _template_lock:
        if _template is not None and (_template / "data" / "PG_VERSION").is_file():
            return _template
        bins = bindir()
        sweep_stale()
        root = Path(tempfile.mkdtemp(prefix=_prefix("template")))
        _give_to_server(root, 0o700)
        data, run = root / "data", root / "run"
        run.mkdir()
        _give_to_server(run, 0o700)
        log = run / "postgres.log"
        _run(
            _as_server(
                [
                    str(bins / "initdb"),
                    "-D", str(data),
                    "-U", "postgres",
                    "--auth-local=trust",
                    "--auth-host=reject",
                    "-E", "UTF8",
                    "--locale=C",
                    "--no-sync",
                    "--no-instructions",
                ]
            ),
            cwd=root,
            timeout=timeout,
            what="initdb",
        )  # fmt: skip
        with (data / "postgresql.conf").open("a") as conf:
            conf.write("\ninclude 'verifyfull_lab.conf'\n")
        lab_conf = data / "verifyfull_lab.conf"
        _write_conf(
            lab_conf,
            {
                **_BASE_SETTINGS,
                "listen_addresses": "",
                "port": str(_ADMIN_PORT),
                "unix_socket_directories": str(run),
            },
        )
        _give_to_server(lab_conf, 0o600)
        _pg_ctl_start(bins, data, log, timeout=timeout)
        try:
            _psql(bins, run, _ADMIN_PORT, "template1", SEED_SQL, log=log, timeout=timeout)
        except BaseException:
            _stop_cluster(data, log)
            shutil.rmtree(root, ignore_errors=True)
            raise
        # A clean checkpoint: the copies must start without crash recovery (an
        # immediate stop here loses the seeded table under wal_level=minimal).
        _stop_cluster(data, log, mode="fast")
        _template = root
        return root


def _pg_ctl_start(
    bins: Path, data: Path, log: Path, *, timeout: float, env: dict[str, str] | None = None
) -> None:
    _run(
        _as_server(
            [str(bins / "pg_ctl"), "-D", str(data), "-l", str(log), "-w",
             "-t", str(max(1, int(timeout))), "start"]
        ),
        cwd=data.parent,
        timeout=timeout + 5,
        what="starting PostgreSQL",
        log=log,
        env=env,
    )  # fmt: skip


def _psql(
    bins: Path, socket_dir: Path, port: int, dbname: str, sql: str, *, log: Path, timeout: float
) -> None:
    # As the postgres superuser over the private unix socket; SQL on stdin, not argv.
    _run(
        [str(bins / "psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", str(socket_dir),
         "-p", str(port), "-U", "postgres", "-d", dbname, "-f", "-"],
        cwd=socket_dir.parent,
        timeout=timeout,
        what="configuring the lab server",
        log=log,
        stdin=sql,
    )  # fmt: skip


def _postmaster_pid(data: Path) -> int | None:
    try:
        first = (data / "postmaster.pid").read_text().split("\n", 1)[0]
        return int(first)
    except (OSError, ValueError):
        return None


def _alive(pid: int) -> bool:
    """True while `pid` runs; a zombie waiting for init to reap it counts as gone."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    with contextlib.suppress(OSError, IndexError):
        stat = Path(f"/proc/{pid}/stat").read_text()
        return stat.rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    return True


def _stop_cluster(data: Path, log: Path, timeout: float = 10.0, mode: str = "immediate") -> None:
    pid = _postmaster_pid(data)
    if pid is None or not _alive(pid):
        return
    # Immediate mode by default: no checkpoint, these clusters are thrown away.
    try:
        _run(
            _as_server(
                [str(bindir() / "pg_ctl"), "-D", str(data), "-m", mode, "-w",
                 "-t", str(int(timeout)), "stop"]
            ),
            cwd=data.parent,
            timeout=timeout + 5,
            what="stopping PostgreSQL",
            log=log,
        )  # fmt: skip
        grace = timeout  # pg_ctl saw it go: it is exiting, give it time
    except LabError:
        grace = 0.0
    if not _wait_gone(pid, grace):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
        if not _wait_gone(pid, timeout):
            raise LabError(f"PostgreSQL (pid {pid}) did not stop{_tail(log)}", "kill it by hand")


def _wait_gone(pid: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while _alive(pid):
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.02)
    return True


# ---------------------------------------------------------------- certificates


def _node_hosts(node_name: str | None) -> list[str]:
    hosts = [HOSTNAME, LISTEN_HOST, "::1"]
    if node_name:
        hosts.append(node_name)
    return hosts


def _make_server_certs(
    variant: Variant, ca: LabCA, server_dir: Path, node_name: str | None
) -> None:
    spec = variant.node_cert
    issuer_dir, issuer_key = ca.certs_dir, ca.ca_key
    if spec.other_ca:  # a CA nobody trusts, made next to the node cert and then deleted
        issuer_dir, issuer_key = server_dir / "other-ca", server_dir / "other-ca.key"
        create_ca(issuer_dir, issuer_key, common_name="verifyfull lab OTHER CA")
    work = server_dir / "issue"
    work.mkdir()
    shutil.copy2(issuer_dir / "ca.crt", work / "ca.crt")
    create_node(
        spec.hosts if spec.hosts is not None else _node_hosts(node_name),
        work,
        None if spec.self_signed else issuer_key,
        key=spec.key,
        validity=Validity.expired() if spec.expired else Validity(),
        hash_name=spec.hash_name,
        self_signed=spec.self_signed,
    )
    for name in ("node.crt", "node.key"):
        os.replace(work / name, server_dir / name)
    shutil.rmtree(work)
    if spec.other_ca:
        shutil.rmtree(issuer_dir)
        issuer_key.unlink()
    # The server verifies client certificates against the real lab CA.
    shutil.copy2(ca.certs_dir / "ca.crt", server_dir / "ca.crt")
    for name, mode in (("node.crt", 0o644), ("ca.crt", 0o644), ("node.key", 0o600)):
        _give_to_server(server_dir / name, mode)
    _give_to_server(server_dir, 0o700)


def _openssl_conf(server_dir: Path, seclevel: int) -> dict[str, str]:
    """An OPENSSL_CONF for the server process that sets the default security level."""
    conf = server_dir / "openssl.cnf"
    conf.write_text(
        "openssl_conf = openssl_init\n"
        "[openssl_init]\nssl_conf = ssl_sect\n"
        "[ssl_sect]\nsystem_default = system_default_sect\n"
        f"[system_default_sect]\nCipherString = DEFAULT:@SECLEVEL={seclevel}\n"
    )
    _give_to_server(conf, 0o644)
    return {"OPENSSL_CONF": str(conf)}


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
    (server.base_dir / _DETACHED).touch()


# ---------------------------------------------------------------- stale files
# Every temp dir the lab makes is named verifyfull-lab-<kind>-<owner pid>-<random>.
# A process killed without running its exit handler (SIGKILL, a timeout's
# SIGTERM) leaves its servers running; the next process sweeps them.

_DETACHED = "detached"  # marker: a CLI server, owned by no process
_STALE_NAME = re.compile(r"^verifyfull-lab-(?P<kind>[a-z0-9-]+?)-(?P<pid>\d+)-[A-Za-z0-9_]{8}$")


def _prefix(kind: str) -> str:
    return f"verifyfull-lab-{kind}-{os.getpid()}-"


def sweep_stale(directory: Path | None = None) -> list[Path]:
    """Stop and remove lab dirs whose owner process is gone (not detached ones)."""
    removed: list[Path] = []
    root = Path(directory or tempfile.gettempdir())
    for path in root.glob("verifyfull-lab-*"):
        match = _STALE_NAME.match(path.name)
        if not match or not path.is_dir() or _alive(int(match["pid"])):
            continue
        if (path / _DETACHED).exists():
            continue
        data = path / "data"
        with contextlib.suppress(LabError, OSError):
            _stop_cluster(data, path / "run" / "postgres.log")
        pid = _postmaster_pid(data)
        if pid is not None and _alive(pid):
            continue  # could not stop it: leave its files alone
        shutil.rmtree(path, ignore_errors=True)
        removed.append(path)
    return removed


# ---------------------------------------------------------------- spares
# A test session starts many servers one after another; with prefetch on, the
# next server's files (template copy, CA, client certificates: most of a start)
# are prepared in the background while the tests run.

_spare_lock = threading.Lock()
_spare_thread: threading.Thread | None = None
_spare_dir: Path | None = None
_prefetch = False


def prefetch(enabled: bool = True) -> None:
    """After each start, prepare the next server's files in the background.

    For test sessions that start many servers; not for the CLI. Nothing happens
    until the first start(), so a session that never starts a server pays nothing.
    """
    global _prefetch
    _prefetch = enabled


def _prepare(base: Path, tpl: Path, timeout: float, *, with_ca: bool = True) -> None:
    """A server's files before its variant is known: data dir copy, lab CA, client certs."""
    os.chmod(base, 0o711)  # noqa: S103 - postgres must reach server/, data/, run/; not list
    if with_ca:
        LabCA.create(base)
    _run(["cp", "-a", str(tpl / "data"), str(base / "data")], cwd=base, timeout=timeout,
         what="copying the template")  # fmt: skip


def _refill() -> None:
    global _spare_thread
    with _spare_lock:
        if not _prefetch or _spare_thread is not None or _spare_dir is not None:
            return
        thread = threading.Thread(target=_make_spare, daemon=True, name="verifyfull-lab-spare")
        _spare_thread = thread
    thread.start()


def _make_spare() -> None:
    global _spare_dir, _spare_thread
    base: Path | None = Path(tempfile.mkdtemp(prefix=_prefix("spare")))
    assert base is not None
    try:
        _prepare(base, template(), timeout=120.0)
    except Exception:  # a failed spare only means the next start does the work
        shutil.rmtree(base, ignore_errors=True)
        base = None
    with _spare_lock:
        _spare_dir, _spare_thread = base, None


def _take_spare(timeout: float) -> Path | None:
    global _spare_dir
    with _spare_lock:
        thread = _spare_thread
    if thread is not None:
        thread.join(timeout)
    with _spare_lock:
        spare, _spare_dir = _spare_dir, None
    return spare


def _cleanup_at_exit() -> None:
    """Stop every server still registered, then remove the spare and the template."""
    global _prefetch
    _prefetch = False
    with _running_lock:
        servers = list(_running.values())
    for server in servers:
        with contextlib.suppress(Exception):
            server.stop()
    spare = _take_spare(timeout=60.0)
    if spare is not None:
        shutil.rmtree(spare, ignore_errors=True)
    if _template is not None:
        shutil.rmtree(_template, ignore_errors=True)


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
        _check_reachable(Path(base_dir).absolute())
    base = Path(tempfile.mkdtemp(prefix=_prefix(variant), dir=base_dir)).absolute()
    if base_dir is None and ca is None and (spare := _take_spare(timeout)) is not None:
        os.rename(spare, base)  # replaces the empty dir just made; same filesystem
    try:
        server = _start_in(base, spec, bins, tpl, ca, port, timeout, node_name)
        _refill()
        return server
    except BaseException:
        pid = _postmaster_pid(base / "data")
        if pid is not None:
            _stop_cluster(base / "data", base / "run" / "postgres.log")
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
        _prepare(base, tpl, timeout, with_ca=ca is None)
    if ca is None:
        ca = LabCA(certs_dir, base / "ca.key")
    if ca.certs_dir != certs_dir:  # shared CA (cluster): each server gets its own copy
        shutil.copytree(ca.certs_dir, certs_dir)
        shutil.copy2(ca.ca_key, base / "ca.key")
        ca = LabCA(certs_dir, base / "ca.key")
    server_dir, data, run = base / "server", base / "data", base / "run"
    server_dir.mkdir()
    _make_server_certs(spec, ca, server_dir, node_name)
    run.mkdir()
    _give_to_server(run, 0o700)
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
    env = None
    if spec.openssl_seclevel is not None:
        env = _openssl_conf(server_dir, spec.openssl_seclevel)
    attempts = 1 if port is not None else _BIND_RETRIES
    for attempt in range(attempts):
        chosen = port if port is not None else free_port()
        _write_conf(
            data / "verifyfull_lab.conf",
            {
                **_BASE_SETTINGS,
                **tls,
                "listen_addresses": listen,
                "port": str(chosen),
                "unix_socket_directories": str(run),
            },
        )
        try:
            _pg_ctl_start(bins, data, log, timeout=timeout, env=env)
            # PostgreSQL starts when any one address binds; we need all of them.
            _require_all_bound(data, log)
            break
        except LabError:
            raced = log.is_file() and "could not bind" in log.read_text(errors="replace")
            if not raced or attempt == attempts - 1:
                raise
            log.unlink()
    _psql(
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


def _require_all_bound(data: Path, log: Path) -> None:
    if "could not bind" in log.read_text(errors="replace"):
        tail = _tail(log)
        _stop_cluster(data, log)
        raise LabError(f"PostgreSQL could not listen on every loopback address{tail}", None)


@contextlib.contextmanager
def running(variant: str = "secure", **kwargs: object) -> Iterator[LabServer]:
    """`with running("secure") as server:` starts a server and always stops it."""
    server = start(variant, **kwargs)  # type: ignore[arg-type]
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
    ca_home = Path(tempfile.mkdtemp(prefix=_prefix("ca")))
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


def state_json(server: LabServer) -> str:
    return json.dumps(server.to_json(), indent=2)
