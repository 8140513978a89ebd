"""`certs check` against what real libpq and PostgreSQL 15 do with the same files.

For each lab variant, the node certificate the server presents is checked as
a client trusting the lab's ca.crt sees it, and libpq (psycopg) dials the
server with verify-full: the check must report a VF301/VF302/VF303 finding
exactly when libpq refuses. Client-side breakage (loose key mode, key of
another certificate, CN of another user) must be reported by the check and
must really break libpq's connection or PostgreSQL's certificate login.
"""

from __future__ import annotations

import grp
import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path

import psycopg
import pytest

from verifyfull.certs.check import check_certs_dir
from verifyfull.findings import Finding
from verifyfull.lab.dsn import build_dsn
from verifyfull.lab.harness import LabServer
from verifyfull.rules import Severity

pytestmark = pytest.mark.pg

Lab = Callable[..., LabServer]
_CHAIN_RULES = {"VF301", "VF302", "VF303"}
PSQL = Path("/usr/lib/postgresql/15/bin/psql")


def _connect_error(server: LabServer, certs_dir: Path, user: str = "app") -> str | None:
    """libpq's verify-full verdict with the client files in certs_dir: None = connected."""
    dsn = build_dsn(
        user=user,
        host=server.hostname,
        port=server.port,
        database=server.database,
        certs_dir=certs_dir,
    )
    try:
        with psycopg.connect(dsn, connect_timeout=10) as conn:
            conn.execute("SELECT 1")
    except psycopg.OperationalError as exc:
        return str(exc)
    return None


def _findings_for(certs: Path, name: str) -> list[Finding]:
    return [f for f in check_certs_dir(certs).findings if Path(f.path or "").name == name]


def _client_view(server: LabServer, tmp_path: Path) -> Path:
    """The client's certs dir plus the node certificate and key the server uses."""
    view = tmp_path / "certs"
    shutil.copytree(server.certs_dir, view)
    server_dir = server.certs_dir.parent / "server"
    for name in ("node.crt", "node.key"):
        shutil.copy(server_dir / name, view / name)
        (view / name).chmod(0o600 if name.endswith(".key") else 0o644)
    return view


@pytest.mark.parametrize(
    ("variant", "expected"),
    [
        ("secure", set()),
        ("expired", {"VF303"}),
        ("self-signed", {"VF301"}),
        ("other-ca", {"VF301"}),
        ("wrong-host", {"VF302"}),
    ],
)
def test_check_agrees_with_libpq_verify_full(
    lab: Lab, tmp_path: Path, variant: str, expected: set[str]
) -> None:
    server = lab(variant)
    view = _client_view(server, tmp_path)
    report = check_certs_dir(view, hosts=[server.hostname, server.host])
    assert report.errors == ()
    found = {f.rule_id for f in report.findings}
    assert found & _CHAIN_RULES == expected
    error = _connect_error(server, server.certs_dir)
    assert (error is None) is (not expected), error


def test_weak_node_cert_is_reported(lab: Lab, tmp_path: Path) -> None:
    server = lab("weak-cert")
    report = check_certs_dir(_client_view(server, tmp_path), hosts=[server.hostname])
    assert {f.rule_id for f in report.findings} == {"VF304", "VF305"}


def test_loose_client_key_is_reported_and_refused_by_libpq(lab: Lab, tmp_path: Path) -> None:
    server = lab("secure")
    certs = tmp_path / "certs"
    shutil.copytree(server.certs_dir, certs)
    assert check_certs_dir(certs).findings == ()
    assert _connect_error(server, certs) is None
    (certs / "client.app.key").chmod(0o644)
    assert [f.rule_id for f in check_certs_dir(certs).findings] == ["VF306"]
    error = _connect_error(server, certs)
    assert error is not None and "group or world access" in error


def test_key_of_another_cert_is_reported_and_breaks_libpq(lab: Lab, tmp_path: Path) -> None:
    server = lab("secure")
    certs = tmp_path / "certs"
    shutil.copytree(server.certs_dir, certs)
    shutil.copy(certs / "client.root.key", certs / "client.app.key")
    (finding,) = check_certs_dir(certs).findings
    assert finding.rule_id == "VF105" and "is not the key of" in finding.message
    error = _connect_error(server, certs)
    assert error is not None and "key values mismatch" in error


def test_cn_of_another_user_is_reported_and_refused_by_postgres(lab: Lab, tmp_path: Path) -> None:
    server = lab("secure")
    certs = tmp_path / "certs"
    shutil.copytree(server.certs_dir, certs)
    for suffix in (".crt", ".key"):
        shutil.copy(certs / f"client.root{suffix}", certs / f"client.app{suffix}")
    (finding,) = check_certs_dir(certs).findings
    assert finding.rule_id == "VF105" and "CN='root', not the user 'app'" in finding.message
    error = _connect_error(server, certs)
    assert error is not None and 'certificate authentication failed for user "app"' in error


@pytest.mark.skipif(
    os.geteuid() != 0, reason="needs root to own keys as root and run psql as postgres"
)
def test_group_read_severity_follows_libpq(lab: Lab, request: pytest.FixtureRequest) -> None:
    """judge_key_mode's medium/high split is libpq's own rule (psql, libpq 15, non-root user):
    a root-owned 0640 key is accepted, 0644 is refused."""
    server = lab("secure")
    # pytest's tmp_path lies under a 0700 root-only directory: postgres needs a way in.
    base = Path(tempfile.mkdtemp(prefix="vf-certs-"))
    request.addfinalizer(lambda: shutil.rmtree(base, ignore_errors=True))
    base.chmod(0o755)
    certs = base / "certs"
    shutil.copytree(server.certs_dir, certs)
    certs.chmod(0o755)
    postgres_gid = grp.getgrnam("postgres").gr_gid
    for path in certs.iterdir():
        os.chown(path, 0, postgres_gid)
        path.chmod(0o644 if path.suffix == ".crt" else 0o640)
    dsn = build_dsn(
        user="app",
        host=server.hostname,
        port=server.port,
        database=server.database,
        certs_dir=certs,
    )

    def psql_as_postgres() -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["runuser", "-u", "postgres", "--", str(PSQL), dsn, "-Atc", "select current_user"],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    (finding,) = _findings_for(certs, "client.app.key")
    assert finding.rule_id == "VF306" and finding.severity is Severity.MEDIUM
    accepted = psql_as_postgres()
    assert accepted.stdout.strip() == "app", accepted.stderr

    (certs / "client.app.key").chmod(0o644)
    (finding,) = _findings_for(certs, "client.app.key")
    assert finding.severity is Severity.HIGH
    refused = psql_as_postgres()
    assert refused.returncode != 0 and "has group or world access" in refused.stderr
