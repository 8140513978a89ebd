"""Every report view says, per finding, whether `verifyfull fix` rewrites it and how:
text (`autofix:`), JSON (`autofix`, `autofix_needs`) and SARIF (`properties.fix`,
`fixNeeds`, `fixes` for a safe one) from one computation (report/fixes.py)."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from verifyfull.cli import app

CODE = """import asyncpg
import psycopg


def verified_root_already_there():
    return psycopg.connect("host=db.internal dbname=app sslmode=require sslrootcert=certs/ca.crt")


async def needs_a_ca_at_run_time():
    return await asyncpg.connect("postgresql://app@db.internal/app")


PASSWORD = "a-literal-password-9"
conn = psycopg.connect(
    host="db.internal", password=PASSWORD, sslmode="verify-full", sslrootcert="certs/ca.crt"
)
"""


def _scan(root: Path, fmt: str, *flags: str) -> str:
    argv = ["scan", str(root), "-f", fmt, *flags]
    result = CliRunner().invoke(app, argv, catch_exceptions=False)
    assert result.exit_code == 1, result.output
    return result.output


def test_text_json_and_sarif_say_the_same_fix_kind(tmp_path: Path) -> None:
    (tmp_path / "certs").mkdir()
    (tmp_path / "certs" / "ca.crt").write_text("not read by the scanner\n", encoding="utf-8")
    (tmp_path / "db.py").write_text(CODE, encoding="utf-8")
    as_json = json.loads(_scan(tmp_path, "json", "--show-fixes"))
    kinds = {
        (f["rule"], f["line"]): (f.get("autofix"), f.get("autofix_needs"))
        for f in as_json["findings"]
    }
    assert kinds[("VF104", 6)] == ("safe", None)  # require + an existing root: same root, verified
    rule, needs = kinds[("VF102", 10)]
    assert rule == "unsafe" and needs and any("DB_CA_PATH" in n for n in needs)
    assert kinds[("VF401", 13)] == (None, None)  # no fixer rewrites passwords
    assert all(isinstance(f["fix"], str) for f in as_json["findings"])  # the prose fix stays

    sarif = json.loads(_scan(tmp_path, "sarif"))
    results = {
        (r["ruleId"], r["locations"][0]["physicalLocation"]["region"]["startLine"]): r
        for r in sarif["runs"][0]["results"]
    }
    for (rule_id, line), (kind, kind_needs) in kinds.items():
        properties = results[(rule_id, line)]["properties"]
        assert properties.get("fix") == kind
        assert properties.get("fixNeeds") == kind_needs
        assert ("fixes" in results[(rule_id, line)]) == (kind == "safe")

    text = _scan(tmp_path, "text", "--show-fixes")
    assert "autofix: safe: `verifyfull fix` applies it" in text
    assert "autofix: unsafe (needs DB_CA_PATH" in text and "--unsafe-fixes" in text
    assert text.count("autofix:") == 2  # none for the password


def test_fix_kinds_are_opt_in_for_text_and_json_and_default_in_sarif(tmp_path: Path) -> None:
    """The fixer pass costs a libcst run per file with findings: text and JSON show
    the kinds with --show-fixes, SARIF (code scanning offers the fix) by default."""
    (tmp_path / "db.py").write_text(CODE, encoding="utf-8")
    assert "autofix" not in _scan(tmp_path, "json") and "autofix:" not in _scan(tmp_path, "text")
    assert '"fix": "unsafe"' in _scan(tmp_path, "sarif")
    assert '"fix": "unsafe"' not in _scan(tmp_path, "sarif", "--no-show-fixes")
