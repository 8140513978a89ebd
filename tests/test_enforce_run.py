"""`verifyfull run -- COMMAND`: a program is enforced from its first import.

The program under test is third-party style: a module that calls
`psycopg.connect(os.environ["DATABASE_URL"])` inside a function, the URL
given only in the environment, run as a real subprocess against the lab.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

SRC = str(Path(__file__).resolve().parents[1] / "src")

THIRD_PARTY = """\
import os

import psycopg


def nightly_job():
    with psycopg.connect(os.environ["DATABASE_URL"]) as conn:  # line 7
        return conn.execute("SELECT 1").fetchone()[0]
"""
MAIN = "import dbjob\nprint('result', dbjob.nightly_job())\n"


@pytest.fixture
def program(tmp_path: Path) -> Path:
    (tmp_path / "dbjob.py").write_text(THIRD_PARTY)
    (tmp_path / "main.py").write_text(MAIN)
    return tmp_path


def _run(
    program: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("PG", "VERIFYFULL_"))}
    base["PYTHONPATH"] = SRC
    argv = [sys.executable, "-m", "verifyfull", "run", *args]
    return subprocess.run(
        argv,
        cwd=program,
        env={**base, **(env or {})},
        capture_output=True,
        text=True,
        timeout=120,
    )


def _require_url(server: Any) -> dict[str, str]:
    """sslmode=require without a root certificate (VF103); the password only in PGPASSWORD."""
    url = f"postgresql://{server.password_user}@localhost:{server.port}/{server.database}"
    return {"DATABASE_URL": url + "?sslmode=require", "PGPASSWORD": server.password}


@pytest.mark.pg
def test_refuse_stops_a_third_party_connect_from_the_environment(program: Path, lab: Any) -> None:
    server = lab("secure")
    done = _run(program, "--", sys.executable, "main.py", env=_require_url(server))
    assert done.returncode == 1
    assert "result" not in done.stdout
    assert "ConnectionRefusedByPolicy: VF103: verifyfull refused the psycopg connection" in (
        done.stderr
    )
    assert "NOT VERIFIED VF103 (refused)" in done.stderr  # the report, on stderr
    assert "dbjob.py:7" in done.stderr
    assert server.password not in done.stderr + done.stdout


@pytest.mark.pg
def test_audit_writes_a_json_report_and_changes_nothing(program: Path, lab: Any) -> None:
    server = lab("secure")
    report = program / "report.json"
    done = _run(
        program,
        "--mode",
        "audit",
        "--report",
        str(report),
        "--format",
        "json",
        "--",
        sys.executable,
        "main.py",
        env=_require_url(server),
    )
    assert done.returncode == 0, done.stderr
    assert "result 1" in done.stdout
    data = json.loads(report.read_text())
    assert data["mode"] == "audit"
    assert data["summary"] == {"connections": 1, "verified": 0, "unverified": 1, "refused": 0}
    (record,) = data["connections"]
    assert record["rules"] == ["VF103"]
    assert record["tls_version"] in ("TLSv1.2", "TLSv1.3")
    assert record["chain_verified"] is False
    assert record["location"] == "dbjob.py:7"
    assert server.password not in report.read_text()


@pytest.mark.pg
def test_verify_full_passes_and_child_processes_are_reported(program: Path, lab: Any) -> None:
    server = lab("secure")
    (program / "parent.py").write_text(
        "import subprocess, sys\n"
        "subprocess.run([sys.executable, 'main.py'], check=True)\n"
        "import dbjob\nprint('result', dbjob.nightly_job())\n"
    )
    done = _run(program, "--", sys.executable, "parent.py", env={"DATABASE_URL": server.dsn()})
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("result 1") == 2
    assert "2 database connection(s), 2 verify-full, 0 not" in done.stderr


def test_an_existing_sitecustomize_still_runs(program: Path) -> None:
    own = program / "own"
    own.mkdir()
    (own / "sitecustomize.py").write_text("import builtins\nbuiltins.OWN_SITE = True\n")
    probe = "import builtins, verifyfull.runtime.active as a; print(builtins.OWN_SITE, a.current())"
    env = {"PYTHONPATH": f"{own}{os.pathsep}{SRC}"}
    done = _run(program, "--mode", "audit", "--", sys.executable, "-c", probe, env=env)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("True <verifyfull.runtime.enforce.Enforcement")


def test_bad_input_is_one_line(program: Path) -> None:
    missing = _run(program, "--", "no-such-program-here")
    assert missing.returncode == 2
    assert missing.stderr.strip().splitlines() == [
        "verifyfull: error: command not found: no-such-program-here; "
        "check the name or give its path"
    ]
    bad_mode = _run(program, "--mode", "strict", "--", sys.executable, "-c", "pass")
    assert bad_mode.returncode == 2 and len(bad_mode.stderr.strip().splitlines()) == 1


def test_verifyfull_enforce_variable_fails_closed_on_a_bad_mode(program: Path) -> None:
    site_dir = _run(program, "--sitecustomize-dir").stdout.strip()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("VERIFYFULL_")},
        "PYTHONPATH": f"{site_dir}{os.pathsep}{SRC}",
        "VERIFYFULL_ENFORCE": "strict",
    }
    done = subprocess.run(
        [sys.executable, "-c", "print('ran')"], env=env, capture_output=True, text=True
    )
    assert done.returncode == 2
    assert "ran" not in done.stdout
    assert done.stderr.strip().splitlines() == [
        "verifyfull: VERIFYFULL_ENFORCE: unknown enforcement mode 'strict'; use refuse or audit"
    ]
