"""The harness's life cycle: ports, parallel starts, errors with the server log, clean shutdown."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from verifyfull.errors import UsageError
from verifyfull.lab import crdb, harness, postgres
from verifyfull.lab.harness import LabError, LabServer

pytestmark = pytest.mark.pg


def _python(script: str) -> list[str]:
    """Run `script` in a fresh interpreter; its stdout, split into words."""
    proc = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=True
    )
    return proc.stdout.split()


def _gone(server: LabServer, pid: int) -> bool:
    return not postgres.alive(pid) and not server.base_dir.exists()


def test_stop_leaves_no_process_and_no_files(fresh_lab) -> None:
    server = fresh_lab("secure")
    pid = server.pid
    assert pid is not None and postgres.alive(pid)
    server.stop()
    assert _gone(server, pid)
    server.stop()  # a second stop is harmless


def test_running_context_manager_stops_on_error() -> None:
    with pytest.raises(RuntimeError), harness.running("no-tls", timeout=30) as server:
        pid = server.pid
        raise RuntimeError("test body failed")
    assert pid is not None and _gone(server, pid)


def test_two_parallel_starts_get_their_own_port_and_dir() -> None:
    results: list[LabServer] = []
    errors: list[BaseException] = []

    def one() -> None:
        try:
            results.append(harness.start("secure", timeout=30))
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=one) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    try:
        assert not errors
        a, b = results
        assert a.port != b.port and a.base_dir != b.base_dir
        for server in results:  # each one is really up, with its own CA
            with psycopg.connect(server.dsn("app"), connect_timeout=5) as conn:
                assert conn.execute("SELECT current_user").fetchone() == ("app",)
        assert (a.certs_dir / "ca.crt").read_bytes() != (b.certs_dir / "ca.crt").read_bytes()
    finally:
        for server in results:
            server.stop()


def test_a_taken_port_fails_with_the_server_log_tail() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(LabError) as info:
            harness.start("secure", port=port)
    message = str(info.value)
    assert "server log:" in message and "could not bind" in message
    assert "\n" not in message  # one line


def test_a_port_race_is_retried(monkeypatch: pytest.MonkeyPatch) -> None:
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen()
    ports = iter([taken.getsockname()[1]])
    real = harness.free_port
    monkeypatch.setattr(harness, "free_port", lambda: next(ports, None) or real())
    try:
        with harness.running("no-tls", timeout=30) as server:
            assert server.port != taken.getsockname()[1]
    finally:
        taken.close()


def test_unknown_variant_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="unknown lab variant 'secur'; use one of: secure"):
        harness.start("secur")


def test_missing_binaries_are_named(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("VERIFYFULL_PG_BINDIR", str(tmp_path))
    monkeypatch.setattr(postgres, "DEFAULT_BINDIR", tmp_path)
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(LabError, match="binaries .* not found; .*VERIFYFULL_PG_BINDIR"):
        harness.bindir()


def test_unreachable_base_dir_is_named(tmp_path: Path) -> None:
    if os.geteuid() != 0:
        pytest.skip("only root runs the server as another user")
    private = tmp_path / "private"
    private.mkdir(mode=0o700)
    with pytest.raises(LabError, match="postgres user cannot enter .*private.*; put the lab"):
        harness.start("no-tls", base_dir=private / "lab")


@pytest.fixture
def shared_tmp() -> Iterator[Path]:
    """A temp dir the postgres user can traverse (pytest's tmp_path is 0700 root)."""
    path = Path(tempfile.mkdtemp(prefix="verifyfull-test-"))
    path.chmod(0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


def test_exit_without_stop_cleans_up(shared_tmp: Path) -> None:
    """A process that forgets stop(): atexit removes its server, spare and template."""
    script = (
        "import os, pathlib\n"
        "from verifyfull.lab import harness\n"
        "harness.prefetch()\n"
        f"s = harness.start('no-tls', base_dir=pathlib.Path(r'{shared_tmp}'), timeout=30)\n"
        "print(s.pid, s.base_dir, harness.template(), os.getpid(), flush=True)\n"
    )
    out = _python(script)
    pid, base, template, owner = int(out[0]), Path(out[1]), Path(out[2]), out[3]
    assert base.parent == shared_tmp
    assert not postgres.alive(pid)
    assert not base.exists()
    assert not template.exists()
    assert not list(Path(tempfile.gettempdir()).glob(f"verifyfull-lab-spare-{owner}-*"))


def test_keep_running_survives_the_process(tmp_path: Path) -> None:
    script = (
        "from verifyfull.lab import harness\n"
        "harness.prefetch()\n"
        "s = harness.start('no-tls', timeout=30)\n"
        "harness.keep_running(s)\n"
        "print(s.pid, s.base_dir, s.data_dir, flush=True)\n"
    )
    out = _python(script)
    pid, base, data = int(out[0]), Path(out[1]), Path(out[2])
    try:
        assert postgres.alive(pid)
    finally:
        postgres.stop_cluster(data, base / "run" / "postgres.log")
        subprocess.run(["rm", "-rf", str(base)], check=True)
    assert not postgres.alive(pid)


def test_client_files_follow_the_cockroach_layout(lab) -> None:
    server = lab("secure")
    names = sorted(p.name for p in server.certs_dir.iterdir())
    assert names == [
        "ca.crt",
        "client.app.crt",
        "client.app.key",
        "client.app_pw.crt",
        "client.app_pw.key",
        "client.root.crt",
        "client.root.key",
    ]
    assert server.ca_key.parent != server.certs_dir
    node_key = server.base_dir / "server" / "node.key"
    if os.geteuid() == 0:
        assert node_key.stat().st_uid != 0  # postgres owns its key
    assert node_key.stat().st_mode & 0o077 == 0


def test_dsn_forms(lab) -> None:
    server = lab("secure")
    root = server.certs_dir.absolute()
    assert server.dsn("app") == (
        f"postgresql://app@localhost:{server.port}/defaultdb?sslmode=verify-full"
        f"&sslrootcert={root}/ca.crt&sslcert={root}/client.app.crt&sslkey={root}/client.app.key"
    )
    assert server.dsn("app", sslmode=None) == f"postgresql://app@localhost:{server.port}/defaultdb"
    assert "sslcert" not in server.dsn("app", client_cert=False)
    assert server.dsn("x", host="::1", scheme="cockroachdb", database="d b").startswith(
        f"cockroachdb://x@[::1]:{server.port}/d%20b?sslmode=verify-full"
    )


def test_cluster_nodes_share_one_ca_and_are_dialable_by_node_name(lab_cluster) -> None:
    cas = {(n.certs_dir / "ca.crt").read_bytes() for n in lab_cluster}
    assert len(cas) == 1
    assert len({n.port for n in lab_cluster}) == 3
    first = lab_cluster[0]
    for i, node in enumerate(lab_cluster, start=1):
        # node<i>.lab.test is in the SAN; libpq dials 127.0.0.1 and verifies the name
        dsn = first.dsn("app", host=f"node{i}.lab.test").replace(
            f":{first.port}/", f":{node.port}/"
        )
        with psycopg.connect(dsn, hostaddr="127.0.0.1", connect_timeout=5) as conn:
            assert conn.execute("SELECT current_user").fetchone() == ("app",)
    wrong = first.dsn("app", host="node2.lab.test")  # node1's port: its cert lacks node2
    with pytest.raises(psycopg.OperationalError, match="does not match host name"):
        psycopg.connect(wrong, hostaddr="127.0.0.1", connect_timeout=5)


def test_crdb_seam_reads_the_environment(tmp_path: Path) -> None:
    assert crdb.from_env({}) is None
    (tmp_path / "ca.crt").write_text("x")
    node = crdb.from_env(
        {
            crdb.URL_ENV: "postgresql://root@node1.example:26257/bank?sslmode=verify-full",
            crdb.CERTS_ENV: str(tmp_path),
        }
    )
    assert node is not None
    assert (node.hostname, node.port, node.database) == ("node1.example", 26257, "bank")
    assert node.dsn("root").startswith(
        "postgresql://root@node1.example:26257/bank?sslmode=verify-full"
    )
    with pytest.raises(UsageError, match="VERIFYFULL_CRDB_CERTS_DIR"):
        crdb.from_env({crdb.URL_ENV: "postgresql://root@h/db"})


def test_crdb_or_lab_defaults_to_the_secure_stand_in(crdb_or_lab) -> None:
    if os.environ.get(crdb.URL_ENV):
        pytest.skip("a real CockroachDB node is configured")
    assert crdb_or_lab.variant == "secure"
    with psycopg.connect(crdb_or_lab.dsn("app"), connect_timeout=5) as conn:
        assert conn.execute("SELECT 1").fetchone() == (1,)


def test_failure_messages_never_repeat_a_password(tmp_path: Path) -> None:
    canary = "canary-Secret-4711"
    log = tmp_path / "postgres.log"
    log.write_text(f"ERROR:  boom\nSTATEMENT:  ALTER ROLE app_pw PASSWORD '{canary}';\n")
    with pytest.raises(LabError) as info:
        postgres.run(
            [
                sys.executable,
                "-c",
                f"import sys; sys.exit(\"LINE 1: ALTER ROLE x PASSWORD '{canary}'\")",
            ],
            cwd=tmp_path,
            timeout=30,
            what="configuring",
            log=log,
        )
    message = str(info.value)
    assert canary not in message
    assert "PASSWORD '***'" in message and "server log:" in message


def _dead_pid() -> int:
    return int(_python("import os; print(os.getpid())")[0])


def test_sweep_removes_only_dirs_of_dead_owners(tmp_path: Path) -> None:
    dead = _dead_pid()
    names = {
        "stale": f"verifyfull-lab-secure-{dead}-abcd_123",
        "stale-template": f"verifyfull-lab-template-{dead}-zzzz9999",
        "mine": f"verifyfull-lab-secure-{os.getpid()}-abcd_123",
        "detached": f"verifyfull-lab-no-tls-{dead}-qwertyui",
        "foreign": "verifyfull-lab-something-else",
    }
    for name in names.values():
        (tmp_path / name).mkdir()
    (tmp_path / names["detached"] / "detached").touch()
    removed = harness.sweep_stale(tmp_path)
    assert sorted(p.name for p in removed) == sorted([names["stale"], names["stale-template"]])
    left = sorted(p.name for p in tmp_path.iterdir())
    assert left == sorted([names["mine"], names["detached"], names["foreign"]])


def test_a_killed_owner_s_server_is_stopped_by_the_next_sweep() -> None:
    script = (
        "import os\n"
        "from verifyfull.lab import harness\n"
        "s = harness.start('no-tls', timeout=30)\n"
        "print(s.pid, s.base_dir, flush=True)\n"
        "os._exit(0)  # no exit handlers: as if killed\n"
    )
    out = _python(script)
    pid, base = int(out[0]), Path(out[1])
    assert postgres.alive(pid)  # orphaned
    assert base in harness.sweep_stale()
    assert not postgres.alive(pid)
    assert not base.exists()


def test_restart_keeps_port_password_and_variant_settings(fresh_lab) -> None:
    server = fresh_lab("weak-cert")  # needs its OPENSSL_CONF again to come back
    before = server.pid
    server.restart()
    assert server.pid != before
    with psycopg.connect(
        host=str(server.socket_dir), port=server.port, user="postgres", dbname=server.database
    ) as conn:
        assert conn.execute("SHOW ssl").fetchone() == ("on",)
    dsn = server.dsn("app_pw", sslmode="require", client_cert=False, with_password=True)
    dsn = dsn.replace(str(server.certs_dir / "ca.crt"), "/nonexistent")
    with psycopg.connect(dsn, connect_timeout=5) as conn:  # TLS with the RSA 1024 cert
        assert conn.execute("SELECT current_user").fetchone() == ("app_pw",)


def test_reload_applies_edited_pg_hba(fresh_lab) -> None:
    server = fresh_lab("secure")
    plaintext = server.dsn("app_pw", sslmode="disable", with_password=True)
    with pytest.raises(psycopg.OperationalError, match="no encryption"):
        psycopg.connect(plaintext, connect_timeout=5)
    hba = server.data_dir / "pg_hba.conf"
    hba.write_text("hostnossl all app_pw all scram-sha-256\n" + hba.read_text())
    server.reload()
    with psycopg.connect(plaintext, connect_timeout=5) as conn:
        assert conn.execute("SELECT current_user").fetchone() == ("app_pw",)
