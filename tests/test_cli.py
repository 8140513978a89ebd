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


def test_rules_piped_is_a_list_one_block_per_rule() -> None:
    # Piped (as here: CliRunner is not a terminal), the table would wrap every
    # title over several lines; the list layout keeps each rule greppable.
    from verifyfull import rules

    out = runner.invoke(app, ["rules"], env={"COLUMNS": "200"}).output
    assert not any(ch in out for ch in "┃│┏━")
    lines = out.splitlines()
    for rule in rules.all_rules():
        (head,) = [line for line in lines if line.startswith(f"{rule.id}  ")]
        assert rule.slug in head and rule.severity.value in head
        assert lines[lines.index(head) + 1].strip() == rule.title


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


def test_commands_load_lazily_so_one_command_does_not_import_the_others() -> None:
    code = (
        "import sys\n"
        "from typer.testing import CliRunner\n"
        "from verifyfull.cli import app\n"
        "r = CliRunner().invoke(app, ['rules', 'VF101'])\n"
        "assert r.exit_code == 0, r.output\n"
        "print(sorted(m for m in sys.modules if m.startswith('verifyfull.')))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    for heavy in ("verifyfull.scan", "verifyfull.probe", "verifyfull.certs", "verifyfull.lab"):
        assert f"'{heavy}" not in proc.stdout


def test_every_lazy_command_resolves_with_its_own_help() -> None:
    for name in ("explain", "scan", "probe", "fix", "certs", "lab"):
        result = runner.invoke(app, [name, "--help"])
        assert result.exit_code == 0, (name, result.output)
        assert "Usage:" in result.output and name in result.output
