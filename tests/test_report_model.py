"""The Report's JSON contract and exit status."""

from __future__ import annotations

import json

from verifyfull.findings import finding
from verifyfull.report import Report, ReportError, exit_code
from verifyfull.report.json import render
from verifyfull.rules import Severity


def _report(*rule_ids: str, errors: tuple[ReportError, ...] = ()) -> Report:
    found = tuple(
        finding(r, "m", path="app/db.py", line=i + 1, column=1, evidence="postgresql://u:***@h/db")
        for i, r in enumerate(rule_ids)
    )
    return Report(findings=found, errors=errors, files=3)


def test_json_contract_fields() -> None:
    doc = json.loads(render(_report("VF102", "VF404")))
    assert doc["tool"] == "verifyfull" and doc["version"]
    first = doc["findings"][0]
    assert set(first) == {
        "rule",
        "slug",
        "severity",
        "cwe",
        "message",
        "path",
        "line",
        "column",
        "target",
        "evidence",
        "fix",
    }
    assert first["rule"] == "VF102" and first["slug"] == "plaintext-fallback"
    assert first["cwe"] == [319, 757] and first["severity"] == "high"
    assert doc["summary"] == {"files": 3, "findings": 2, "by_severity": {"high": 1, "medium": 1}}
    assert doc["errors"] == []


def test_exit_code_follows_fail_on() -> None:
    assert exit_code(_report("VF404"), Severity.HIGH) == 0
    assert exit_code(_report("VF404"), Severity.MEDIUM) == 1
    assert exit_code(_report("VF101"), Severity.CRITICAL) == 1
    assert exit_code(_report(), Severity.INFO) == 0


def test_unchecked_input_is_not_a_pass() -> None:
    errors = (ReportError("cannot parse", path="x.yaml"),)
    assert exit_code(_report(errors=errors), Severity.HIGH) == 2
    assert exit_code(_report("VF101", errors=errors), Severity.HIGH) == 1
    assert json.loads(render(_report(errors=errors)))["errors"] == [
        {"path": "x.yaml", "message": "cannot parse"}
    ]
