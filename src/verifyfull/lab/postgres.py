"""PostgreSQL processes: find the binaries, run them as the server account, stop them.

When we are root the server runs as `postgres` (initdb refuses root), through
`runuser`; otherwise as ourselves. Every call has a timeout; a failure is a
LabError of one line with the tail of the server log, passwords redacted.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import re
import shutil
import signal
import stat
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path

from verifyfull.errors import VerifyfullError

DEFAULT_BINDIR = Path("/usr/lib/postgresql/15/bin")
_LOG_TAIL_LINES = 15


class LabError(VerifyfullError):
    """The lab server could not be prepared, started or stopped."""


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


def server_user() -> pwd.struct_passwd | None:
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


def as_server(argv: Sequence[str]) -> list[str]:
    user = server_user()
    if user is None:
        return list(argv)
    return ["runuser", "-u", user.pw_name, "--", *argv]


def check_reachable(directory: Path) -> None:
    """The server account must be able to pass through every parent of its files."""
    user = server_user()
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


def give_to_server(path: Path, mode: int) -> None:
    user = server_user()
    if user is not None:
        os.chown(path, user.pw_uid, user.pw_gid)
    os.chmod(path, mode)


def run(
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
        raise LabError(f"{what} timed out after {timeout:g}s{tail(log)}", None) from None
    if proc.returncode != 0:
        output = " | ".join((proc.stderr or proc.stdout).strip().splitlines()[-5:])
        output = redact(output)  # psql may echo the failed statement
        raise LabError(f"{what} failed ({output}){tail(log)}", None)


_SECRET_SQL = re.compile(r"(PASSWORD)\s+'[^']*'", re.IGNORECASE)


def redact(text: str) -> str:
    return _SECRET_SQL.sub(r"\1 '***'", text)


def tail(log: Path | None) -> str:
    if log is None or not log.is_file():
        return ""
    lines = log.read_text(errors="replace").strip().splitlines()[-_LOG_TAIL_LINES:]
    # A failed statement is logged in full: never repeat a password from it.
    return "; server log: " + redact(" | ".join(lines)) if lines else ""


def conf_value(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "''") + "'"


def write_conf(path: Path, settings: dict[str, str]) -> None:
    path.write_text("".join(f"{k} = {conf_value(v)}\n" for k, v in settings.items()))


def pg_ctl_start(
    bins: Path, data: Path, log: Path, *, timeout: float, env: dict[str, str] | None = None
) -> None:
    pg_ctl(bins, data, log, "start", timeout=timeout, env=env)


def pg_ctl(
    bins: Path,
    data: Path,
    log: Path,
    action: str,
    *,
    timeout: float,
    env: dict[str, str] | None = None,
) -> None:
    """`pg_ctl start|restart|reload` as the server account, waiting at most `timeout`."""
    argv = [str(bins / "pg_ctl"), "-D", str(data), "-l", str(log), "-w",
            "-t", str(max(1, int(timeout))), action]  # fmt: skip
    if action == "restart":
        argv += ["-m", "fast"]
    run(
        as_server(argv),
        cwd=data.parent,
        timeout=timeout + 5,
        what=f"pg_ctl {action}",
        log=log,
        env=env,
    )


def psql(
    bins: Path, socket_dir: Path, port: int, dbname: str, sql: str, *, log: Path, timeout: float
) -> None:
    # As the postgres superuser over the private unix socket; SQL on stdin, not argv.
    run(
        [str(bins / "psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", str(socket_dir),
         "-p", str(port), "-U", "postgres", "-d", dbname, "-f", "-"],
        cwd=socket_dir.parent,
        timeout=timeout,
        what="configuring the lab server",
        log=log,
        stdin=sql,
    )  # fmt: skip


def postmaster_pid(data: Path) -> int | None:
    try:
        first = (data / "postmaster.pid").read_text().split("\n", 1)[0]
        return int(first)
    except (OSError, ValueError):
        return None


def alive(pid: int) -> bool:
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


def stop_cluster(data: Path, log: Path, timeout: float = 10.0, mode: str = "immediate") -> None:
    pid = postmaster_pid(data)
    if pid is None or not alive(pid):
        return
    # Immediate mode by default: no checkpoint, these clusters are thrown away.
    try:
        run(
            as_server(
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
    if not wait_gone(pid, grace):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
        if not wait_gone(pid, timeout):
            raise LabError(f"PostgreSQL (pid {pid}) did not stop{tail(log)}", "kill it by hand")


def wait_gone(pid: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while alive(pid):
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.02)
    return True
