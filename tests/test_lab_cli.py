"""`verifyfull lab start|status|stop|variants` as a user runs it (real processes, real server)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

from verifyfull.lab import harness, postgres
from verifyfull.lab.variants import VARIANTS


def _lab(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "verifyfull", "lab", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


@pytest.mark.pg
def test_start_status_stop_round_trip(tmp_path: Path) -> None:
    started = _lab("start", cwd=tmp_path)
    assert started.returncode == 0, started.stderr
    state_file = tmp_path / ".lab" / "secure.json"
    state = json.loads(state_file.read_text())
    server = harness.LabServer.from_state(state)
    try:
        out = started.stdout
        assert state_file.stat().st_mode & 0o077 == 0
        # The state holds a test password: git must ignore the whole directory.
        subprocess.run(["git", "init", "-q", str(tmp_path)], check=True, timeout=30)
        ignored = subprocess.run(
            ["git", "-C", str(tmp_path), "check-ignore", "-q", ".lab/secure.json"], timeout=30
        )
        assert ignored.returncode == 0
        assert out.startswith("variant:   secure: CockroachDB secure-node stand-in")
        assert server.dsn("app") in out
        assert f"certs dir {server.certs_dir}" in out
        assert "stop it with: verifyfull lab stop --variant secure" in out
        assert state["password"] not in out + started.stderr  # canary: the real secret
        # the printed string works as printed
        dsn = re.search(r"^  (postgresql://app@\S+)$", out, re.MULTILINE)
        assert dsn is not None
        with psycopg.connect(dsn.group(1), connect_timeout=5) as conn:
            assert conn.execute("SELECT count(*) FROM users").fetchone() == (3,)

        again = _lab("start", "--show-password", cwd=tmp_path)
        assert again.returncode == 0
        assert again.stdout.startswith("lab server 'secure' is already running")
        assert f"app_pw password: {state['password']}" in again.stdout
        assert server.dsn("app") in again.stdout  # same server, same port

        status = _lab("status", cwd=tmp_path)
        assert status.stdout.startswith(f"secure: running, port {server.port}")
        assert state["password"] not in status.stdout
    finally:
        pid = server.pid
        stopped = _lab("stop", cwd=tmp_path)
    assert stopped.returncode == 0
    assert stopped.stdout.strip() == f"stopped secure (port {server.port})"
    assert pid is not None and not postgres.alive(pid)
    assert not server.base_dir.exists()
    assert not (tmp_path / ".lab").exists()
    assert _lab("status", cwd=tmp_path).stdout.strip() == "no lab servers running"


def test_unknown_variant_is_one_line_exit_2(tmp_path: Path) -> None:
    result = _lab("start", "--variant", "nope", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0
    assert "unknown lab variant 'nope'; use one of: secure" in result.stderr
    assert not (tmp_path / ".lab").exists()


def test_broken_state_file_is_one_line_exit_2(tmp_path: Path) -> None:
    (tmp_path / "state").mkdir()
    (tmp_path / "state" / "secure.json").write_text("{not json")
    result = _lab("status", "--dir", "state", cwd=tmp_path)
    assert result.returncode == 2
    assert "is not a lab state file" in result.stderr
    assert "Traceback" not in result.stderr


def test_stale_state_is_reported_and_stop_clears_it(tmp_path: Path) -> None:
    gone = tmp_path / "gone"
    state = {
        "variant": "no-tls", "host": "127.0.0.1", "hostname": "localhost", "port": 1,
        "certs_dir": str(gone / "certs"), "ca_key": str(gone / "ca.key"),
        "data_dir": str(gone / "data"), "password_user": "app_pw", "database": "defaultdb",
        "base_dir": str(gone), "log_file": str(gone / "run" / "postgres.log"),
        "socket_dir": str(gone / "run"), "node_name": None,
    }  # fmt: skip
    (tmp_path / ".lab").mkdir()
    (tmp_path / ".lab" / "no-tls.json").write_text(json.dumps(state))
    assert "no-tls: not running (stale state)" in _lab("status", cwd=tmp_path).stdout
    assert _lab("stop", cwd=tmp_path).stdout.strip() == "stopped no-tls (port 1)"
    assert not (tmp_path / ".lab").exists()


def test_variants_lists_every_variant(tmp_path: Path) -> None:
    out = _lab("variants", cwd=tmp_path).stdout
    assert [line.split()[0] for line in out.splitlines()] == list(VARIANTS)


@pytest.mark.pg
@pytest.mark.parametrize("variant", ["secure", "no-tls", "expired", "wrong-host"])
def test_status_shows_only_connection_strings_that_work(lab, tmp_path: Path, variant: str) -> None:
    from verifyfull.lab.cli import _save

    server = lab(variant)
    _save(tmp_path / "state", server)
    out = _lab("status", "--dir", "state", cwd=tmp_path).stdout
    assert out.startswith(f"{variant}: running, port {server.port}")
    printed = re.findall(r"(postgresql://\S+)", out)
    refusal = VARIANTS[variant].verify_full_refusal
    if refusal is None:
        assert printed == [server.dsn("app")]
    else:
        assert server.dsn("app") not in out and refusal in out
    for dsn in printed:  # every string status shows really connects
        with psycopg.connect(dsn, connect_timeout=5) as conn:
            assert conn.execute("SELECT 1").fetchone() == (1,)
