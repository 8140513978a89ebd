"""The root command: version, the rules listing and doc, error lines, literal help text."""

from __future__ import annotations

import subprocess
import sys

from typer.testing import CliRunner

from verifyfull import __version__
from verifyfull.cli import app

runner = CliRunner()


def test_version() -> None:
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0 and result.output.strip() == f"verifyfull {__version__}"


def test_rules_table_lists_every_id() -> None:
    result = runner.invoke(app, ["rules"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    for rule_id in ("VF101", "VF105", "VF208", "VF306", "VF404"):
        assert rule_id in result.output


def test_rule_doc_has_what_why_fix_example() -> None:
    result = runner.invoke(app, ["rules", "VF102"])
    assert result.exit_code == 0
    for part in ("plaintext-fallback", "CWE-319", "CWE-757", "Why this is bad", "How to fix"):
        assert part in result.output


def test_unknown_rule_is_one_line_exit_2() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "verifyfull", "rules", "VF999"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2
    assert proc.stderr.strip().count("\n") == 0 and "VF999" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_help_prints_bracketed_names_literally() -> None:
    result = runner.invoke(app, ["probe", "--help"])
    assert result.exit_code == 0 and "[tool.verifyfull]" in result.output
