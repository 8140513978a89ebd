"""Agreement: for every connection string written in the config fixtures, the rules the
scanner reports on its line are exactly those `verifyfull explain --format json` gives.

Only transport, driver and credential rules (VF1xx, VF401) are compared: server rules
on the same line come from other settings. The fixtures set no PG* variables next to
their connection strings, so explain's empty environment is the scanner's too.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from verifyfull.cli import app
from verifyfull.conninfo.django_url import DJANGO_URL_SCHEMES
from verifyfull.policy import DEFAULT_POLICY
from verifyfull.scan.api import ScanContext
from verifyfull.scan.engine import scan_file
from verifyfull.scan.interpolation import example_context, neutral_dsn
from verifyfull.scan.placeholders import is_placeholder
from verifyfull.scan.walk import WalkedFile

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "scan" / "config"
# libpq's and SQLAlchemy's schemes, and those only Django's URL helpers read (psql://, ...)
_SCHEMES = "|".join(
    re.escape(s) for s in sorted({"postgres", "postgresql", *DJANGO_URL_SCHEMES}, key=len)[::-1]
)
_URL = re.compile(rf"(?<![\w-])(?:{_SCHEMES})(?:\+\w+)?://[^\s\"'#]+")
_KEYWORDS = re.compile(r"'(host=[^']*)'")
_COMPARED = re.compile(r"VF1\d\d|VF401")


# `${VAR}` in a config file is interpolated from the environment: the scanner knows it
# is no literal password, explain (given the text) cannot. Such sites are left out; in
# YAML any `${...}` is read as compose would (interpolation.py), and the multi-file
# compose project's services get PG* variables from other files
# (test_scan_config_compose.py checks both).
_REFERENCE_PASSWORD = re.compile(r"://[^:/@]*:\$\{\w+\}@")
_MERGED_PROJECT = "compose/project/"
# Files only a script that sources them reaches (scan/shell/sourced.py): judged through
# that script, not alone (test_scan_accuracy_s12.py and test_scan_leftovers_s13.py compare
# them with a named twin).
_SOURCED = ("session12/sourced/deploy/", "session13/sourced_carriers/deploy/")
# A configuration document held in an environment value (scan/config/embedded.py) is read
# for its passwords only: the URLs inside it (Kestra's JDBC datasource) are not sites.
_EMBEDDED = ("leftovers_s14/",)
# A placeholder password (`changeme`, scan/placeholders.is_placeholder) is no credential for the
# scanner; explain judges the string it is given, so VF401 is not compared there.
_URL_PASSWORD = re.compile(r"://[^:/@]*:(?P<password>[^@]*)@")
# Other interpolations (`${var.db.port}`, `${{ … }}`) the scanner replaces by stand-ins
# (scan/interpolation.py): explain is asked about the same stand-in text, and a
# site whose TLS an interpolation decides (no stand-in) is left out, and so is a line
# with `${{ … }}` or a shell command substitution (`$(cat /run/secrets/pw)`, backticks):
# their spaces end the URL this test cuts out.
_SPACED_TEMPLATE = ("${{", "$(", "`")


def _sites() -> list[tuple[Path, int, str]]:
    sites = []
    for path in sorted(FIXTURES.rglob("*")):
        if not path.is_file() or path.name.endswith(".expect"):
            continue
        for number, line in enumerate(path.read_text().splitlines(), start=1):
            found = _URL.search(line) or _KEYWORDS.search(line)
            merged = (
                path.relative_to(FIXTURES)
                .as_posix()
                .startswith((_MERGED_PROJECT, *_SOURCED, *_EMBEDDED))
            )
            interpolated = path.suffix in (".yml", ".yaml") and "${" in line
            skipped = _REFERENCE_PASSWORD.search(line) or merged or interpolated
            if found and not skipped and not any(t in line for t in _SPACED_TEMPLATE):
                dsn = found.group(1) if found.re is _KEYWORDS else found.group()
                # an example file's word ports are slots for the scanner (example_context)
                neutral = neutral_dsn(dsn, example_context(path.name))
                if neutral is not None and not neutral.password_interpolated:
                    sites.append((path, number, neutral.text))
    return sites


SITES = _sites()


def test_there_are_sites_to_compare() -> None:
    assert len(SITES) >= 8


@pytest.mark.parametrize(
    ("path", "line", "dsn"),
    SITES,
    ids=[f"{p.relative_to(FIXTURES)}:{n}" for p, n, _ in SITES],
)
def test_scanner_agrees_with_explain(path: Path, line: int, dsn: str) -> None:
    walked = WalkedFile(path, path.relative_to(FIXTURES).as_posix())
    outcome = scan_file(walked, ScanContext(root=FIXTURES, policy=DEFAULT_POLICY), 10_000_000)
    scanned = sorted(
        f.rule_id for f in outcome.findings if f.line == line and _COMPARED.fullmatch(f.rule_id)
    )
    explained = CliRunner().invoke(app, ["explain", dsn, "--format", "json"])
    if not explained.stdout.strip():  # explain cannot read it: the scanner's VF105 says so
        assert "VF105" in scanned, explained.output
        return
    assert explained.exit_code in (0, 1), explained.output
    verdict = json.loads(explained.stdout)
    expected = sorted(f["rule"] for f in verdict["findings"])
    password = _URL_PASSWORD.search(dsn)
    if password is not None and is_placeholder("password", password.group("password")):
        expected = [rule for rule in expected if rule != "VF401"]
    assert scanned == expected, verdict["driver"]
