"""The config fixtures are the truth: every `expect:` must fire, nothing else may.

Each fixture file under tests/fixtures/scan/config/ carries its expectations
on the line, in its own comment syntax: `# expect: VF201` (must fire on this
line), `# ok: VF201` (must not), or `# expect-next:` / `# ok-next:` on a
comment line for the line below (formats whose values cannot carry a
trailing comment: INI, Dockerfile). JSON has no comments: a sidecar
`<file>.expect` lists `line:rule` and `ok line:rule`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path

import pytest

from verifyfull import rules
from verifyfull.findings import Finding
from verifyfull.policy import DEFAULT_POLICY
from verifyfull.scan.api import ScanContext
from verifyfull.scan.engine import scan_file
from verifyfull.scan.walk import WalkedFile

FIXTURES = Path(__file__).parent / "fixtures" / "scan" / "config"
_ANNOTATION = re.compile(r"(?:[#;]|//)\s*(?P<kind>expect|ok)(?P<next>-next)?:\s*(?P<ids>.*)$")
_IDS = re.compile(r"VF\d{3}")
CANARY = "canary-Pw-3f9a1c"

Expectations = tuple[set[tuple[int, str]], set[tuple[int, str]]]


def run_config_checks(path: Path, root: Path) -> list[Finding]:
    """The engine's own per-file dispatch (every registered check that matches)."""
    walked = WalkedFile(path, path.relative_to(root).as_posix())
    outcome = scan_file(walked, ScanContext(root=root, policy=DEFAULT_POLICY), 10_000_000)
    assert not outcome.errors, outcome.errors
    return list(outcome.findings)


def read_expectations(path: Path) -> Expectations:
    expect: set[tuple[int, str]] = set()
    ok: set[tuple[int, str]] = set()
    sidecar = path.with_name(path.name + ".expect")
    if sidecar.exists():
        for raw in sidecar.read_text().splitlines():
            entry = raw.strip()
            if not entry or entry.startswith("#"):
                continue
            target = ok if entry.startswith("ok ") else expect
            line, _, rule = entry.removeprefix("ok ").partition(":")
            target.add((int(line), rule.strip()))
        return expect, ok
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        match = _ANNOTATION.search(raw)
        if match is None:
            continue
        line = number + 1 if match.group("next") else number
        target = expect if match.group("kind") == "expect" else ok
        target.update((line, rule) for rule in _IDS.findall(match.group("ids")))
    return expect, ok


def fixture_files() -> Iterator[Path]:
    for path in sorted(FIXTURES.rglob("*")):
        if path.is_file() and not path.name.endswith(".expect"):
            yield path


@lru_cache(maxsize=1)
def findings_by_path() -> dict[str, tuple[Finding, ...]]:
    """Every fixture scanned once, the findings grouped by the file they are placed in:
    a check may place findings in a file it read for the one it scans (a compose
    file's env_file)."""
    grouped: dict[str, list[Finding]] = {}
    for path in fixture_files():
        for item in run_config_checks(path, FIXTURES):
            grouped.setdefault(item.path or "", []).append(item)
    return {path: tuple(found) for path, found in grouped.items()}


@pytest.mark.parametrize(
    "path", list(fixture_files()), ids=lambda p: p.relative_to(FIXTURES).as_posix()
)
def test_fixture_findings_match_annotations(path: Path) -> None:
    expect, ok = read_expectations(path)
    assert expect or ok, f"{path} has no annotations"
    placed_here = findings_by_path().get(path.relative_to(FIXTURES).as_posix(), ())
    found = {(f.line or 0, f.rule_id) for f in placed_here}
    relevant = {(line, rule) for line, rule in found if rule.startswith("VF")}
    missing = expect - relevant
    extra = relevant - expect
    assert not missing, f"expected but not reported: {sorted(missing)}"
    assert not extra, f"reported but not expected: {sorted(extra)}"
    assert not (ok & relevant), f"reported where marked ok: {sorted(ok & relevant)}"


def test_every_finding_is_placed_and_redacted() -> None:
    fixtures = {path.relative_to(FIXTURES).as_posix() for path in fixture_files()}
    for path, found in findings_by_path().items():
        places = [(f.line, f.column, f.rule_id) for f in found]
        assert len(places) == len(set(places)), f"{path}: the same finding twice"
        for item in found:
            assert item.path in fixtures
            assert item.line and item.line >= 1 and item.column and item.column >= 1
            rendered = repr(item) + str(item.to_json())
            assert CANARY not in rendered, f"{path}: password in {item.rule_id} finding"


def test_every_config_rule_is_shown_both_ways() -> None:
    """Each rule the config checks raise has a fixture where it fires and one where it must not."""
    fired: set[str] = set()
    marked_ok: set[str] = set()
    for path in fixture_files():
        expect, ok = read_expectations(path)
        fired.update(rule for _, rule in expect)
        marked_ok.update(rule for _, rule in ok)
    config_rules = {"VF101", "VF102", "VF103", "VF104", "VF105", "VF106"}
    config_rules |= {"VF201", "VF202", "VF203", "VF204", "VF401", "VF403"}
    assert config_rules <= fired, sorted(config_rules - fired)
    assert config_rules <= marked_ok, sorted(config_rules - marked_ok)
    assert all(rule in rules.RULES for rule in fired | marked_ok)
