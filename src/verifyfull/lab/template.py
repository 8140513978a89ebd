"""The per-process template cluster, and the naming and sweeping of the lab's temp dirs.

One `initdb` per process (the slow part) makes a cluster with the lab's
roles, `defaultdb` and its `users` table; every server is a copy of it.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import tempfile
import threading
from pathlib import Path

from verifyfull.lab.postgres import (
    LabError,
    alive,
    as_server,
    bindir,
    give_to_server,
    pg_ctl_start,
    postmaster_pid,
    psql,
    run,
    stop_cluster,
    write_conf,
)

ADMIN_PORT = 5432  # template server: unix socket only, in a private directory

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
BASE_SETTINGS = {
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


_template_lock = threading.Lock()
_template: Path | None = None


def template(timeout: float = 60.0) -> Path:
    """The per-process template data dir (initdb + seed), built on first use."""
    global _template
    with _template_lock:
        if _template is not None and (_template / "data" / "PG_VERSION").is_file():
            return _template
        bins = bindir()
        sweep_stale()
        root = Path(tempfile.mkdtemp(prefix=prefix("template")))
        give_to_server(root, 0o700)
        data, run_dir = root / "data", root / "run"
        run_dir.mkdir()
        give_to_server(run_dir, 0o700)
        log = run_dir / "postgres.log"
        run(
            as_server(
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
        write_conf(
            lab_conf,
            {
                **BASE_SETTINGS,
                "listen_addresses": "",
                "port": str(ADMIN_PORT),
                "unix_socket_directories": str(run_dir),
            },
        )
        give_to_server(lab_conf, 0o600)
        pg_ctl_start(bins, data, log, timeout=timeout)
        try:
            psql(bins, run_dir, ADMIN_PORT, "template1", SEED_SQL, log=log, timeout=timeout)
        except BaseException:
            stop_cluster(data, log)
            shutil.rmtree(root, ignore_errors=True)
            raise
        # A clean checkpoint: the copies must start without crash recovery (an
        # immediate stop here loses the seeded table under wal_level=minimal).
        stop_cluster(data, log, mode="fast")
        _template = root
        return root


def remove_template() -> None:
    """Remove this process's template (at exit)."""
    if _template is not None:
        shutil.rmtree(_template, ignore_errors=True)


# ---------------------------------------------------------------- temp dirs
# Every temp dir the lab makes is named verifyfull-lab-<kind>-<owner pid>-<random>.
# A process killed without running its exit handler (SIGKILL, a timeout's
# SIGTERM) leaves its servers running; the next process sweeps them.

DETACHED = "detached"  # marker: a CLI server, owned by no process
_STALE_NAME = re.compile(r"^verifyfull-lab-(?P<kind>[a-z0-9-]+?)-(?P<pid>\d+)-[A-Za-z0-9_]{8}$")


def prefix(kind: str) -> str:
    return f"verifyfull-lab-{kind}-{os.getpid()}-"


def sweep_stale(directory: Path | None = None) -> list[Path]:
    """Stop and remove lab dirs whose owner process is gone (not detached ones)."""
    removed: list[Path] = []
    root = Path(directory or tempfile.gettempdir())
    for path in root.glob("verifyfull-lab-*"):
        match = _STALE_NAME.match(path.name)
        if not match or not path.is_dir() or alive(int(match["pid"])):
            continue
        if (path / DETACHED).exists():
            continue
        data = path / "data"
        with contextlib.suppress(LabError, OSError):
            stop_cluster(data, path / "run" / "postgres.log")
        pid = postmaster_pid(data)
        if pid is not None and alive(pid):
            continue  # could not stop it: leave its files alone
        shutil.rmtree(path, ignore_errors=True)
        removed.append(path)
    return removed
