"""The SARIF view: valid against the OASIS schema, with GitHub's extras, stable fingerprints."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from verifyfull import rules
from verifyfull.findings import Finding
from verifyfull.report import Report, ReportError
from verifyfull.report.sarif import FINGERPRINT_KEY, render
from verifyfull.scrub import scrub

SCHEMA = json.loads((Path(__file__).parent / "vendor" / "sarif-schema-2.1.0.json").read_text())
CANARY = "canary-Pw-51c0"


def _sarif(report: Report, root: Path | None = None) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(render(report, root=root))
    return document


def _report() -> Report:
    return Report(
        findings=(
            Finding(
                "VF102",
                "falls back",
                evidence="postgresql://app:***@db/app",
                path="app/db py/db.py",
                line=4,
                column=8,
            ),
            Finding("VF401", "literal password", path="app/db py/db.py", line=2, column=1),
            Finding("VF206", "buffers bytes", target="db.internal:26257"),
        ),
        errors=(
            ReportError("YAML does not parse at line 3", path="deploy/bad.yaml"),
            ReportError("connection refused", target="db2.internal:26257"),
        ),
        files=2,
        targets=1,
    )


def test_valid_sarif_2_1_0() -> None:
    document = _sarif(_report())
    jsonschema.validate(document, SCHEMA)  # raises with the path of the first violation
    assert document["version"] == "2.1.0"


def test_an_invalid_document_is_caught_by_the_schema() -> None:
    """The validation above can fail: a result without a message is refused."""
    document = _sarif(_report())
    del document["runs"][0]["results"][0]["message"]
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(document, SCHEMA)


def test_rules_carry_help_cwe_tags_and_security_severity() -> None:
    driver = _sarif(Report())["runs"][0]["tool"]["driver"]
    assert [r["id"] for r in driver["rules"]] == [r.id for r in rules.all_rules()]
    vf102 = next(r for r in driver["rules"] if r["id"] == "VF102")
    assert vf102["name"] == "plaintext-fallback"
    assert "security" in vf102["properties"]["tags"]
    assert {"external/cwe/cwe-319", "external/cwe/cwe-757"} <= set(vf102["properties"]["tags"])
    assert float(vf102["properties"]["security-severity"]) >= 7.0  # high on GitHub's scale
    assert "How to fix" in vf102["help"]["markdown"] and vf102["help"]["text"]
    vf101 = next(r for r in driver["rules"] if r["id"] == "VF101")
    assert float(vf101["properties"]["security-severity"]) >= 9.0
    # code in the help is fenced with its language, as GitHub renders it
    for descriptor in driver["rules"]:
        rule = rules.get(descriptor["id"])
        markdown = descriptor["help"]["markdown"]
        for code in (rule.example, rule.example_fixed):  # as every writer shows it: scrubbed
            assert f"```{rule.example_language}\n{scrub(code)}\n```" in markdown


def test_results_point_at_files_and_targets() -> None:
    results = _sarif(_report())["runs"][0]["results"]
    by_rule = {r["ruleId"]: r for r in results}
    location = by_rule["VF102"]["locations"][0]["physicalLocation"]
    assert location["artifactLocation"]["uri"] == "app/db%20py/db.py"
    assert location["region"] == {"startLine": 4, "startColumn": 8}
    assert by_rule["VF102"]["level"] == "error"
    logical = by_rule["VF206"]["locations"][0]["logicalLocations"][0]
    assert logical["fullyQualifiedName"] == "db.internal:26257"
    assert rules.all_rules().__next__().id == "VF101"
    driver_rules = _sarif(_report())["runs"][0]["tool"]["driver"]["rules"]
    assert driver_rules[by_rule["VF206"]["ruleIndex"]]["id"] == "VF206"


def test_errors_become_notifications() -> None:
    invocation = _sarif(_report())["runs"][0]["invocations"][0]
    texts = [n["message"]["text"] for n in invocation["toolExecutionNotifications"]]
    assert texts == ["YAML does not parse at line 3", "connection refused"]


def _fingerprint(tmp_path: Path, content: str, line: int) -> str:
    (tmp_path / "db.py").write_text(content)
    report = Report(findings=(Finding("VF102", "falls back", path="db.py", line=line),))
    result = _sarif(report, root=tmp_path)["runs"][0]["results"][0]
    value: str = result["partialFingerprints"][FINGERPRINT_KEY]
    return value


def test_fingerprint_survives_moved_lines_but_not_changed_code(tmp_path: Path) -> None:
    code = 'engine = create_engine("postgresql://app@db/app")\n'
    before = _fingerprint(tmp_path, code, 1)
    moved = _fingerprint(tmp_path, "import os\n\n\n" + "    " + code, 4)
    changed = _fingerprint(tmp_path, code.replace("app@db", "app@db2"), 1)
    assert before == moved
    assert before != changed


def test_no_password_in_sarif(tmp_path: Path) -> None:
    (tmp_path / "db.py").write_text(f'PASSWORD = "{CANARY}"\nDSN = "postgresql://a:{CANARY}@h/d"\n')
    report = Report(
        findings=(
            Finding("VF401", "literal password", evidence="PASSWORD=***", path="db.py", line=1),
            Finding("VF102", "falls back", path="db.py", line=2),
        )
    )
    assert CANARY not in render(report, root=tmp_path)
