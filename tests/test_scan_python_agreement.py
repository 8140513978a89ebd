"""Agreement: at every connection site in the fixtures, the scanner's verdict is the
one `verifyfull explain` gives for the resolved value, and the scanner reports
exactly the verdict's rules there (VF401 is reported where the literal is written)."""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

import pytest
from typer.testing import CliRunner

from verifyfull.cli import app
from verifyfull.conninfo import Environment, evaluate
from verifyfull.scan.api import ScanContext, SourceFile
from verifyfull.scan.python.check import run_analysis
from verifyfull.scan.python.sites import Site, non_tls_breakage

FIXTURES = Path(__file__).parent / "fixtures" / "scan" / "python"
ROOT = Path(__file__).parent.parent
EXAMPLE = ROOT / "examples" / "insecure_app"


def sites_of(root: Path) -> list[tuple[str, Site, set[str]]]:
    collected = []
    for path in sorted(root.rglob("*.py")):
        source = SourceFile(path, path.relative_to(root).as_posix(), path.read_text("utf-8"))
        analysis = run_analysis(source, ScanContext(root=root))
        reported: dict[int, set[str]] = defaultdict(set)
        for item in analysis.findings:
            reported[item.line or 0].add(item.rule_id)
            for other in item.related:  # one finding where the value is written
                reported[other.line or 0].add(item.rule_id)
        for site in analysis.sites:
            collected.append((source.relpath, site, reported[site.line]))
    return collected


ALL_SITES = sites_of(FIXTURES) + (sites_of(EXAMPLE) if EXAMPLE.is_dir() else [])


def test_the_fixtures_have_sites_for_every_driver() -> None:
    drivers = {site.driver.value for _, site, _ in ALL_SITES}
    assert drivers == {"asyncpg", "psycopg", "psycopg2", "sqlalchemy", "tortoise", "pg8000"}
    assert len([s for _, s, _ in ALL_SITES if s.dsn]) >= 25


@pytest.mark.parametrize(
    ("where", "site", "reported"),
    ALL_SITES,
    ids=[f"{where}:{site.line}" for where, site, _ in ALL_SITES],
)
def test_scanner_verdict_equals_conninfo_and_explain(
    where: str, site: Site, reported: set[str]
) -> None:
    again = evaluate(site.info, site.driver, Environment.empty())
    assert again.rule_ids == site.verdict.rule_ids
    expected = set(site.verdict.rule_ids) - {"VF401"}
    if non_tls_breakage(site.verdict, site.info):
        expected.discard("VF105")  # an unknown non-TLS keyword: not a TLS finding
    if where != "suppressed.py":  # that fixture silences some sites on purpose
        assert expected <= reported, f"{where}:{site.line}: reported {reported}"
    if site.dsn is None:
        return
    result = CliRunner().invoke(
        app, ["explain", site.dsn, "--driver", site.driver.value, "--format", "json"]
    )
    assert result.exit_code in (0, 1), result.output
    explained = json.loads(result.output)
    assert explained["tls"] == site.verdict.tls.value
    assert explained["verifies_chain"] == site.verdict.verifies_chain
    assert explained["verifies_hostname"] == site.verdict.verifies_hostname
    assert explained["breaks"] == site.verdict.breaks
    assert [f["rule"] for f in explained["findings"]] == list(site.verdict.rule_ids)
