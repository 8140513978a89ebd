"""Related locations (issue 12, class 8): one finding where the deciding value is
written, the places it acts through listed with it in JSON, SARIF and text."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema

from verifyfull.findings import Finding, Related
from verifyfull.report import Report, html, sarif, text
from verifyfull.report import json as json_report
from verifyfull.scan import engine
from verifyfull.scan.settings import ScanSettings

SCHEMA = json.loads((Path(__file__).parent / "vendor" / "sarif-schema-2.1.0.json").read_text())

WEAK_CONTEXT = """\
import ssl
import asyncpg

CTX = ssl.create_default_context(cafile="certs/ca.crt")
CTX.check_hostname = False
CTX.verify_mode = ssl.CERT_NONE


async def orders():
    return await asyncpg.connect("postgresql://app@orders.internal/app", ssl=CTX)


async def billing():
    return await asyncpg.connect("postgresql://app@billing.internal/app", ssl=CTX)
"""


def _report() -> Report:
    item = Finding(
        "VF103",
        "verify_mode = CERT_NONE",
        path="app/tls.py",
        line=6,
        column=1,
        related=(
            Related("check_hostname = False on the same context", "app/tls.py", 5, 1),
            Related("connect() uses it", "app/db.py", 10, 18),
        ),
    )
    return Report(findings=(item,), errors=(), files=2, targets=0)


def test_sarif_related_locations_are_valid_and_point_at_each_place() -> None:
    document = json.loads(sarif.render(_report()))
    jsonschema.validate(document, SCHEMA)
    related = document["runs"][0]["results"][0]["relatedLocations"]
    places = [
        (
            r["physicalLocation"]["artifactLocation"]["uri"],
            r["physicalLocation"]["region"]["startLine"],
        )
        for r in related
    ]
    assert places == [("app/tls.py", 5), ("app/db.py", 10)]
    assert [r["id"] for r in related] == [1, 2]


def test_json_and_text_list_the_related_places() -> None:
    finding = json.loads(json_report.render(_report()))["findings"][0]
    assert [(r["path"], r["line"]) for r in finding["related"]] == [
        ("app/tls.py", 5),
        ("app/db.py", 10),
    ]
    shown = text.render(_report())
    assert "related: app/db.py:10 connect() uses it" in shown
    page = html.render(_report())
    assert "app/db.py:10 connect() uses it" in page
    assert page.index("app/tls.py:5 check_hostname") < page.index("app/db.py:10")


def test_a_context_used_by_two_calls_is_one_finding(tmp_path: Path) -> None:
    (tmp_path / "tls.py").write_text(WEAK_CONTEXT, encoding="utf-8")
    result = engine.scan([tmp_path], ScanSettings(project_root=tmp_path), jobs=1)
    found = [f for f in result.report.findings if f.rule_id in {"VF103", "VF104"}]
    assert [(f.rule_id, f.line) for f in found] == [("VF103", 6)]
    assert sorted(r.line for r in found[0].related) == [5, 10, 14]


def test_a_config_dict_imported_by_two_sites_is_one_finding_where_the_key_is_missing() -> None:
    project = Path(__file__).parent / "fixtures" / "scan" / "python" / "project"
    result = engine.scan([project / "tortoise_app"], ScanSettings(project_root=project), jobs=2)
    found = [f for f in result.report.findings if f.rule_id == "VF102"]
    assert [(f.path, f.line) for f in found] == [("tortoise_app/orm_config.py", 8)]
    assert sorted((r.path, r.line) for r in found[0].related) == [
        ("tortoise_app/web.py", 7),
        ("tortoise_app/worker.py", 7),
    ]
