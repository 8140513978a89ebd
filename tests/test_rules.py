"""The catalogue is complete, consistent and covers the seed's CWE list."""

from __future__ import annotations

import re

import pytest

from verifyfull import rules
from verifyfull.rules import CWE, Severity

DESIGN_IDS = (
    "VF101 VF102 VF103 VF104 VF105 VF106 VF107 VF108 VF201 VF202 VF203 VF204 VF205 VF206 "
    "VF207 VF208 VF301 VF302 VF303 VF304 VF305 VF306 VF401 VF402 VF403 VF404"
).split()
SEED_CWES = (319, 295, 326, 327, 328, 330, 338, 693, 757, 261)


def test_catalogue_has_exactly_the_design_ids() -> None:
    assert [r.id for r in rules.all_rules()] == DESIGN_IDS


def test_transport_rule_sets_are_the_catalogues_client_rules() -> None:
    """The one definition the scanner, the guard and runtime enforcement share: the
    client transport rules are VF101-VF107 (VF108 is a note, not a weakness of the
    wire), and the mode rules the four an sslmode value alone gives."""
    assert {f"VF10{n}" for n in range(1, 8)} == rules.TRANSPORT_RULES
    assert {"VF101", "VF102", "VF103", "VF104"} == rules.MODE_RULES
    assert rules.MODE_RULES < rules.TRANSPORT_RULES
    assert all(rules.get(rule).severity is not Severity.INFO for rule in rules.TRANSPORT_RULES)


@pytest.mark.parametrize("cwe", SEED_CWES)
def test_every_seed_cwe_is_covered(cwe: int) -> None:
    assert any(CWE(cwe) in r.cwe for r in rules.all_rules())


@pytest.mark.parametrize("rule", list(rules.all_rules()), ids=lambda r: r.id)
def test_rule_entry_is_complete(rule: rules.Rule) -> None:
    assert re.fullmatch(r"VF\d{3}", rule.id)
    assert re.fullmatch(r"[a-z0-9-]+", rule.slug)
    assert rule.cwe and rule.title and rule.why and rule.fix and rule.example
    assert set(rule.where) <= {"scan", "probe", "guard"} and rule.where
    doc = rule.doc
    for part in ("Why this is bad", "Example", "How to fix", rule.id, rule.slug):
        assert part in doc


def test_slugs_are_unique_and_lookup_accepts_id_or_slug() -> None:
    slugs = [r.slug for r in rules.all_rules()]
    assert len(slugs) == len(set(slugs))
    assert rules.get("vf102").slug == "plaintext-fallback"
    assert rules.get("plaintext-fallback").id == "VF102"
    with pytest.raises(KeyError, match="verifyfull rules"):
        rules.get("VF999")


def test_selection_accepts_prefixes_ids_and_slugs() -> None:
    assert rules.parse_selection("VF1") == {f"VF10{i}" for i in range(1, 9)}
    assert rules.parse_selection("VF301, weak-key") == {"VF301", "VF304"}
    assert rules.parse_selection(None) == frozenset()
    with pytest.raises(KeyError):
        rules.parse_selection("nonsense")


def test_severity_order_and_parse() -> None:
    assert Severity.CRITICAL.at_least(Severity.HIGH)
    assert not Severity.MEDIUM.at_least(Severity.HIGH)
    assert Severity.parse(" High ") is Severity.HIGH
    with pytest.raises(ValueError, match="use one of"):
        Severity.parse("urgent")
