"""`verifyfull scan` end to end: exit codes, --fail-on, --select/--ignore, formats,
[tool.verifyfull] settings, baselines, and one-line errors for bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from verifyfull.cli import main

DISABLE = 'import psycopg\npsycopg.connect("postgresql://app@db/app?sslmode=disable")\n'
VERIFY_CA = (
    'import psycopg\npsycopg.connect("postgresql://app@db/app?sslmode=verify-ca&sslrootcert=c")\n'
)


@dataclass(frozen=True)
class Ran:
    returncode: int
    stdout: str
    stderr: str


Runner = Callable[..., Ran]


@pytest.fixture
def run(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Runner:
    """`verifyfull scan ARGS` in this process (main(): the same error handling as the
    installed command); one test below runs the real command in a subprocess."""

    def invoke(*args: str, cwd: Path) -> Ran:
        monkeypatch.chdir(cwd)
        monkeypatch.setattr(sys, "argv", ["verifyfull", "scan", *args])
        capsys.readouterr()
        try:
            main()
            code = 0
        except SystemExit as exit_:
            code = exit_.code if isinstance(exit_.code, int) else 1
        captured = capsys.readouterr()
        return Ran(code, captured.out, captured.err)

    return invoke


def findings(result: Ran) -> list[tuple[str, str, int]]:
    document = json.loads(result.stdout)
    return [(f["rule"], f["path"], f["line"]) for f in document["findings"]]


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'demo'\n", encoding="utf-8")
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "db.py").write_text(DISABLE, encoding="utf-8")
    (tmp_path / "app" / "other.py").write_text(VERIFY_CA, encoding="utf-8")
    return tmp_path


def test_exit_codes_follow_fail_on(project: Path, run: Runner) -> None:
    assert run("--format", "json", cwd=project).returncode == 1  # VF101 critical >= high
    clean = project / "clean"
    clean.mkdir()
    (clean / "ok.py").write_text("x = 1\n", encoding="utf-8")
    assert run("clean", cwd=project).returncode == 0
    only_medium = run("app/other.py", "--format", "json", cwd=project)
    assert only_medium.returncode == 0  # VF104 is medium: below the default 'high'
    assert findings(only_medium) == [("VF104", "app/other.py", 2)]
    assert run("app/other.py", "--fail-on", "medium", cwd=project).returncode == 1


def test_errors_without_failing_findings_exit_2(project: Path, run: Runner) -> None:
    (project / "clean").mkdir()
    (project / "clean" / "bad.py").write_text(
        "import ssl\nctx.check_hostname = False\ndef (:\n", encoding="utf-8"
    )
    result = run("clean", "--format", "json", cwd=project)
    assert result.returncode == 2
    assert json.loads(result.stdout)["errors"][0]["path"] == "clean/bad.py"


def test_select_and_ignore(project: Path, run: Runner) -> None:
    selected = run("--format", "json", "--select", "VF104", cwd=project)
    assert [r for r, _, _ in findings(selected)] == ["VF104"]
    ignored = run("--format", "json", "--ignore", "VF1", cwd=project)
    assert findings(ignored) == []
    assert ignored.returncode == 0


def test_bad_input_is_one_line_on_stderr_with_exit_2(project: Path, run: Runner) -> None:
    for args in (
        ("--format", "xml"),
        ("--fail-on", "urgent"),
        ("--select", "VF999"),
        ("missing-dir",),
        ("--write-baseline",),
    ):
        result = run(*args, cwd=project)
        assert result.returncode == 2, args
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("verifyfull: error:"), (args, lines)
        assert "Traceback" not in result.stderr


def test_pyproject_settings_apply_and_the_command_line_wins(project: Path, run: Runner) -> None:
    (project / "pyproject.toml").write_text(
        "[project]\nname = 'demo'\n\n[tool.verifyfull]\n"
        'paths = ["app"]\nexclude = ["app/other.py"]\nfail-on = "critical"\n'
        '[tool.verifyfull.severity]\nVF101 = "low"\n'
        "[tool.verifyfull.policy]\nallow_verify_ca = true\n",
        encoding="utf-8",
    )
    (project / "elsewhere.py").write_text(DISABLE, encoding="utf-8")
    result = run("--format", "json", cwd=project)
    document = json.loads(result.stdout)
    assert [(f["rule"], f["path"], f["severity"]) for f in document["findings"]] == [
        ("VF101", "app/db.py", "low")
    ]
    assert result.returncode == 0  # low < critical
    assert run("--fail-on", "low", cwd=project).returncode == 1


def test_unknown_pyproject_key_is_refused(project: Path, run: Runner) -> None:
    (project / "pyproject.toml").write_text(
        "[tool.verifyfull]\nfail_on = 'low'\n", encoding="utf-8"
    )
    result = run(cwd=project)
    assert result.returncode == 2
    assert "unknown key 'fail_on' in [tool.verifyfull]" in result.stderr


def test_baseline_hides_known_findings_even_after_lines_move(project: Path, run: Runner) -> None:
    baseline = project / "baseline.json"
    written = run("--baseline", str(baseline), "--write-baseline", cwd=project)
    assert written.returncode == 0
    assert "wrote 2 finding(s)" in written.stderr
    assert "disable" not in baseline.read_text()  # hashes only
    db = project / "app" / "db.py"
    db.write_text("# moved down\n\n\n" + DISABLE, encoding="utf-8")
    again = run("--format", "json", "--baseline", str(baseline), cwd=project)
    assert findings(again) == [] and again.returncode == 0
    db.write_text(DISABLE + 'psycopg.connect("postgresql://app@db/new")\n', encoding="utf-8")
    new = run("--format", "json", "--baseline", str(baseline), cwd=project)
    assert findings(new) == [("VF102", "app/db.py", 3)]
    assert new.returncode == 1


def test_every_format_renders_and_output_writes_a_file(project: Path, run: Runner) -> None:
    for output_format in ("text", "json", "sarif", "html"):
        target = project / f"report.{output_format}"
        result = run("--format", output_format, "--output", str(target), cwd=project)
        assert result.returncode == 1, result.stderr
        assert result.stdout == ""
        assert "VF101" in target.read_text(encoding="utf-8")


def test_the_installed_command_exits_2_with_one_line_for_bad_input(project: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "verifyfull", "scan", "--format", "xml"],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "verifyfull: error: unknown --format 'xml'; use one of text, json, sarif, html"
    ]
