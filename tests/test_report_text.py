"""The text view: grouped by file or target, code lines shown masked, colours only on request."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from verifyfull.findings import Finding
from verifyfull.report import Report, ReportError
from verifyfull.report.text import render

CANARY = "canary-Pw-7b2e"
ANSI = re.compile(r"\x1b\[[0-9;]*m")


def _tree(tmp_path: Path) -> Path:
    (tmp_path / "app").mkdir(exist_ok=True)
    (tmp_path / "app" / "db.py").write_text(
        "import asyncpg\n"
        f'DSN = "postgresql://app:{CANARY}@db:26257/app"\n'
        f'PASSWORD = "{CANARY}"\n'
        "conn = await asyncpg.connect(DSN)\n"
    )
    (tmp_path / ".env").write_text(f"POSTGRES_PASSWORD={CANARY}\nPGSSLMODE=disable\n")
    return tmp_path


def _report() -> Report:
    return Report(
        findings=(
            Finding("VF102", "asyncpg falls back to plaintext", path="app/db.py", line=4, column=8),
            Finding("VF401", "literal password", evidence="PASSWORD=***", path="app/db.py", line=3),
            Finding("VF101", "sslmode=disable", path=".env", line=2, column=11),
            Finding("VF401", "literal password", path=".env", line=1, column=19),
            Finding("VF206", "buffers bytes after SSLRequest", target="db.internal:26257"),
        ),
        errors=(ReportError("YAML does not parse at line 3", path="deploy/bad.yaml"),),
        files=3,
        targets=1,
    )


def test_groups_by_file_and_target_with_code_lines(tmp_path: Path) -> None:
    out = render(_report(), color=False, root=_tree(tmp_path))
    assert out.index(".env") < out.index("app/db.py") < out.index("db.internal:26257")
    assert "4:8  VF102" in out
    assert "conn = await asyncpg.connect(DSN)" in out  # the code line, read from the file
    assert "PGSSLMODE=disable" in out
    assert "fix: " in out and "sslmode=verify-full" in out
    assert "deploy/bad.yaml: YAML does not parse at line 3" in out
    assert "5 findings (1 critical" in out.replace("\n", " ") or "5 findings" in out
    assert "in 2 of 3 files, 1 target" in out  # files with findings, of files examined
    assert "1 could not be checked" in out


def test_no_password_in_any_line_shown(tmp_path: Path) -> None:
    out = render(_report(), color=False, root=_tree(tmp_path))
    assert CANARY not in out
    assert "POSTGRES_PASSWORD=***" in out


def test_colour_only_when_asked(tmp_path: Path) -> None:
    plain = render(_report(), color=False, root=_tree(tmp_path))
    coloured = render(_report(), color=True, root=_tree(tmp_path))
    assert not ANSI.search(plain)
    assert ANSI.search(coloured)
    assert ANSI.sub("", coloured).split() == plain.split()


def test_not_a_tty_means_no_colour(tmp_path: Path) -> None:
    # pytest captures stdout: not a terminal, so the default is plain text.
    assert not ANSI.search(render(_report(), root=_tree(tmp_path)))


def test_unreadable_missing_and_binary_files_do_not_break_it(tmp_path: Path) -> None:
    (tmp_path / "blob.pem").write_bytes(b"\x00\x01\x02" * 100)
    (tmp_path / "dir.yaml").mkdir()
    report = Report(
        findings=(
            Finding("VF306", "key", path="blob.pem", line=1),
            Finding("VF201", "insecure", path="gone.yaml", line=7),
            Finding("VF201", "insecure", path="dir.yaml", line=1),
            Finding("VF201", "insecure", path="app.yaml", line=10_000),
        ),
        files=4,
    )
    (tmp_path / "app.yaml").write_text("a: 1\n")
    out = render(report, color=False, root=tmp_path)
    assert out.count("VF201") == 3 and "VF306" in out


def test_empty_report() -> None:
    assert "0 findings in 0 files" in render(Report(), color=False)


def test_code_lines_found_from_a_subdirectory_of_the_project(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Report paths are relative to the project root; a scan started below it still
    shows code (the nearest parent holding the path is used)."""
    root = _tree(tmp_path)
    monkeypatch.chdir(root / "app")
    out = render(_report(), color=False)
    assert "conn = await asyncpg.connect(DSN)" in out


def test_probe_summary_counts_targets_not_files() -> None:
    out = render(Report(targets=2), color=False)
    assert "in 2 targets" in out and "file" not in out.splitlines()[-1]


def test_a_multi_line_fix_stays_indented_under_its_finding() -> None:
    corrected = (
        'import ssl\n\nctx = ssl.create_default_context(cafile="ca.crt")\nconnect(dsn, ssl=ctx)'
    )
    item = Finding(
        "VF103", "no chain check", path="app/db.py", line=4, fix=f"Verify.\nCorrected:\n{corrected}"
    )
    out = render(Report(findings=(item,), files=7), color=False)
    lines = out.splitlines()
    start = next(n for n, line in enumerate(lines) if line.startswith("      fix: Verify."))
    block = lines[start + 1 : start + 6]
    assert block[0] == " " * 11 + "Corrected:"
    assert block[1] == " " * 11 + "import ssl"
    assert block[2] == ""  # an empty line stays empty (no trailing blanks)
    assert block[3] == " " * 11 + 'ctx = ssl.create_default_context(cafile="ca.crt")'
    assert out.rstrip().endswith("1 finding (1 high) in 1 of 7 files")
