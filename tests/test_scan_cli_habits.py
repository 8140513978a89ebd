"""`verifyfull scan` habits Ruff and Bandit users expect, run as the installed
console script: --exit-zero, -q/--quiet, --exclude/--extend-exclude, --config,
--statistics, `scan -` with --stdin-filename, --write-baseline without a report,
and the project root found from one file or a subfolder."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CLI = Path(sys.executable).with_name("verifyfull")
DISABLE = 'import psycopg\npsycopg.connect("postgresql://app@db/app?sslmode=disable")\n'
PREFER = 'import psycopg\npsycopg.connect("postgresql://app@db/app")\n'
SECURE = (
    "import psycopg\n"
    'psycopg.connect("postgresql://app@db/app?sslmode=verify-full&sslrootcert=/ca.crt")\n'
)


def scan(*args: str, cwd: Path, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(CLI), "scan", *args],
        cwd=cwd,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        # The code under test, even where the installed command points elsewhere.
        env={**os.environ, "PYTHONPATH": str(ROOT / "src"), "NO_COLOR": "1"},
    )


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'p'\n")
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "db.py").write_text(DISABLE)
    (tmp_path / "app" / "other.py").write_text(PREFER)
    (tmp_path / "app" / "ok.py").write_text(SECURE)
    (tmp_path / "legacy").mkdir()
    (tmp_path / "legacy" / "old.py").write_text(DISABLE)
    return tmp_path


def test_exit_zero_reports_but_does_not_fail(project: Path) -> None:
    plain = scan(".", cwd=project)
    assert plain.returncode == 1
    zero = scan(".", "--exit-zero", cwd=project)
    assert zero.returncode == 0 and zero.stdout == plain.stdout


def test_quiet_prints_the_summary_line_or_nothing(project: Path) -> None:
    noisy = scan(".", "-q", cwd=project)  # pyproject.toml is read too: 5 files
    assert noisy.stdout == "3 findings (2 critical, 1 high) in 3 of 5 files\n"
    assert noisy.returncode == 1
    # one wording: the quiet line is the text report's own summary line
    full = scan(".", cwd=project)
    assert full.stdout.rstrip("\n").splitlines()[-1] == noisy.stdout.rstrip("\n")
    clean = scan("app/ok.py", "--quiet", cwd=project)
    assert clean.stdout == "" and clean.returncode == 0


def test_exclude_replaces_and_extend_exclude_adds(project: Path) -> None:
    (project / "pyproject.toml").write_text("[tool.verifyfull]\nexclude = ['legacy/']\n")

    def paths(*args: str) -> set[str]:
        out = scan(".", "-f", "json", *args, cwd=project).stdout
        return {f["path"] for f in json.loads(out)["findings"]}

    assert paths() == {"app/db.py", "app/other.py"}
    assert paths("--extend-exclude", "app/other.py") == {"app/db.py"}
    assert paths("--exclude", "app/db.py") == {"app/other.py", "legacy/old.py"}


def test_config_file_is_read_from_where_it_is_named(project: Path, tmp_path: Path) -> None:
    elsewhere = tmp_path / "ci"
    elsewhere.mkdir()
    (elsewhere / "verifyfull.toml").write_text("select = ['VF101']\nfail-on = 'critical'\n")
    out = scan(".", "-f", "json", "--config", str(elsewhere / "verifyfull.toml"), cwd=project)
    assert {f["rule"] for f in json.loads(out.stdout)["findings"]} == {"VF101"}
    missing = scan(".", "--config", "nope.toml", cwd=project)
    assert missing.returncode == 2 and "--config nope.toml is not a file" in missing.stderr
    assert "Traceback" not in missing.stderr


def test_statistics_counts_findings_per_rule(project: Path) -> None:
    out = scan(".", "--statistics", cwd=project).stdout.splitlines()
    assert [line.split() for line in out] == [
        ["2", "VF101", "tls-disabled"],
        ["1", "VF102", "plaintext-fallback"],
    ]


def test_stdin_is_scanned_under_the_given_name(project: Path) -> None:
    out = scan("-", "--stdin-filename", "app/new.py", "-f", "json", cwd=project, stdin=DISABLE)
    findings = json.loads(out.stdout)["findings"]
    assert [(f["path"], f["rule"]) for f in findings] == [("app/new.py", "VF101")]
    # The name decides which checks run: the same text as a .env file is not Python.
    env = scan("-", "--stdin-filename", ".env", cwd=project, stdin="PGSSLMODE=disable\n")
    assert "VF101" in env.stdout
    nameless = scan("-", cwd=project, stdin=DISABLE)
    assert nameless.returncode == 2 and "--stdin-filename" in nameless.stderr


def test_write_baseline_writes_the_file_without_the_report(project: Path) -> None:
    done = scan(".", "--baseline", "b.json", "--write-baseline", cwd=project)
    assert done.returncode == 0 and done.stdout == ""
    assert "wrote 3 finding(s)" in done.stderr
    assert len(json.loads((project / "b.json").read_text())["findings"]) == 3
    assert scan(".", "--baseline", "b.json", "-q", cwd=project).stdout == ""


@pytest.mark.parametrize("marker", ["pyproject.toml", "setup.cfg", ".git"])
def test_one_file_reports_what_scan_dot_reports(tmp_path: Path, marker: str) -> None:
    root = tmp_path / "repo"
    (root / "pkg" / "sub").mkdir(parents=True)
    if marker == ".git":
        (root / ".git").mkdir()
    else:
        (root / marker).write_text("")
    (root / "pkg" / "sub" / "db.py").write_text(DISABLE)

    def located(*args: str, cwd: Path) -> list[tuple[str, int]]:
        found = json.loads(scan(*args, "-f", "json", cwd=cwd).stdout)["findings"]
        return [(f["path"], f["line"]) for f in found]

    whole = located(".", cwd=root)
    assert whole == [("pkg/sub/db.py", 2)]
    # A file name as the pre-commit hook passes it, from the root and from elsewhere.
    assert located("pkg/sub/db.py", cwd=root) == whole
    assert located(str(root / "pkg" / "sub" / "db.py"), cwd=tmp_path) == whole
    assert located(".", cwd=root / "pkg") == whole
