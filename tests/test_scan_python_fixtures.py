"""Fixture files are the truth: `# expect: VF102` where a rule must fire on that line,
`# ok: VF102` where it must not; any missing or extra finding fails."""

from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path

import pytest

from verifyfull import rules
from verifyfull.scan import engine
from verifyfull.scan.settings import ScanSettings

FIXTURES = Path(__file__).parent / "fixtures" / "scan" / "python"
_MARK = re.compile(r"#\s*(expect|ok):\s*((?:VF\d{3}\s*,?\s*)+)")
PYTHON_RULES = {"VF101", "VF102", "VF103", "VF104", "VF105", "VF106", "VF107", "VF108"} | {
    "VF401",
    "VF402",
    "VF403",
    "VF404",
}


def annotations(path: Path) -> tuple[dict[int, set[str]], dict[int, set[str]]]:
    expect: dict[int, set[str]] = defaultdict(set)
    ok: dict[int, set[str]] = defaultdict(set)
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        for kind, ids in _MARK.findall(line):
            target = expect if kind == "expect" else ok
            target[number].update(re.findall(r"VF\d{3}", ids))
    return expect, ok


def fixture_files() -> list[Path]:
    return sorted(
        p for p in FIXTURES.rglob("*.py") if "expect:" in p.read_text() or "ok:" in p.read_text()
    )


@pytest.fixture(scope="module")
def scanned() -> dict[str, dict[int, set[str]]]:
    settings = ScanSettings(project_root=FIXTURES)
    result = engine.scan([FIXTURES], settings, jobs=1)
    found: dict[str, dict[int, set[str]]] = defaultdict(lambda: defaultdict(set))
    for item in result.report.findings:
        assert item.path is not None and item.line is not None
        found[item.path][item.line].add(item.rule_id)
    return found


@pytest.mark.parametrize("path", fixture_files(), ids=lambda p: str(p.relative_to(FIXTURES)))
def test_fixture_findings_match_annotations(
    path: Path, scanned: dict[str, dict[int, set[str]]]
) -> None:
    expect, ok = annotations(path)
    got = scanned.get(path.relative_to(FIXTURES).as_posix(), {})
    problems = []
    for line in sorted(set(expect) | set(got)):
        want, have = expect.get(line, set()), got.get(line, set())
        if want != have:
            problems.append(f"line {line}: expected {sorted(want)}, got {sorted(have)}")
        clash = ok.get(line, set()) & have
        if clash:
            problems.append(f"line {line}: {sorted(clash)} fired on an `ok` line")
    assert not problems, "\n".join(problems)


def test_every_python_rule_has_fixtures_both_ways() -> None:
    fired: set[str] = set()
    spared: set[str] = set()
    for path in fixture_files():
        expect, ok = annotations(path)
        fired.update(*expect.values())
        spared.update(*ok.values())
    assert fired >= PYTHON_RULES, sorted(PYTHON_RULES - fired)
    assert spared >= PYTHON_RULES, sorted(PYTHON_RULES - spared)
    assert all(rule_id in rules.RULES for rule_id in fired | spared)
