"""Session 14 leftovers (docs/scan.md, "Session 14 (helper leftovers-s14)"), config side:
a configuration document held in an environment value (scan/config/embedded.py) is
read as the same document in a YAML file would be: the same VF401s, placed on the
carrier file's line and column where each password is written.
Fixture: tests/fixtures/scan/config/leftovers_s14/."""

from __future__ import annotations

import json
import string
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from real_secrets import real_password
from test_trust_bounds import scan_files
from verifyfull.scan import project_vars

SLOW = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
Found = list[tuple[str, int, int, str]]

# Where a password sits in the document: its enclosing keys (a database's or not).
PATHS = (
    ("datasources", "postgres"),
    ("database",),
    ("db", "primary"),
    ("spring", "datasource"),  # no database word: no database context, in a file as here
    ("smtp",),
    ("kestra", "server", "basic-auth"),
)
PLACEHOLDERS = ("changeme", "${DB_PASSWORD}", "<db-pass>", "password", "kestra_password")
PASSWORDS = real_password(st.text(string.ascii_letters + string.digits, min_size=6, max_size=14))


def _document(entries: list[tuple[tuple[str, ...], str]], noise: int) -> dict[str, object]:
    doc: dict[str, object] = {f"note{i}": "x" for i in range(noise)}
    for path, password in entries:
        node = doc
        for key in path:
            child = node.setdefault(key, {})
            assert isinstance(child, dict)
            node = child
        node.update({"url": "jdbc:postgresql://db:5432/app", "username": "app"})
        node["password"] = password
    return doc


def _yaml_lines(doc: dict[str, object], indent: int) -> list[str]:
    lines = []
    for key, value in doc.items():
        if isinstance(value, dict):
            lines.append(" " * indent + f"{key}:")
            lines.extend(_yaml_lines(value, indent + 2))
        else:
            lines.append(" " * indent + f"{key}: {json.dumps(value)}")
    return lines


def _block(doc: dict[str, object], indent: int) -> str:
    return "\n".join(_yaml_lines(doc, indent)) + "\n"


# (file name, the file around the document) with {block} for the YAML lines at the
# carrier's indentation, {json} for the one-line JSON text
_ENV_BLOCK = "    environment:\n      APP_CONFIGURATION: |\n{block8}"
_K8S = (
    "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  template:\n"
    "    spec:\n      containers:\n        - name: web\n          env:\n"
    "            - name: APP_CONFIGURATION\n              value: |\n{block16}"
)
_WORKFLOW = (
    "on: push\njobs:\n  test:\n    runs-on: ubuntu-latest\n    env:\n"
    "      APP_CONFIGURATION: |\n{block8}    steps:\n      - run: make test\n"
)
CARRIERS = (
    ("docker-compose.yml", "services:\n  kestra:\n    image: kestra/kestra\n" + _ENV_BLOCK),
    ("k8s/deployment.yaml", _K8S),
    (".github/workflows/ci.yml", _WORKFLOW),
    (".env", "LOG_LEVEL=info\nAPP_CONFIGURATION={json}\n"),
    (".env.production", "APP_CONFIGURATION='{json}'\n"),
    (
        "docker-compose.yml",
        "services:\n  web:\n    image: app\n    environment:\n      APP_CONFIGURATION: '{json}'\n",
    ),
)


def _carrier(template: str, doc: dict[str, object]) -> str:
    return template.format(block16=_block(doc, 16), block8=_block(doc, 8), json=json.dumps(doc))


def _scan(files: dict[str, str]) -> Found:
    project_vars.index_for.cache_clear()
    with tempfile.TemporaryDirectory() as scratch:
        result = scan_files(Path(scratch), dict(files))
    assert not result.report.errors, result.report.errors
    return sorted(
        (f.path or "", f.line or 0, f.column or 0, f.rule_id) for f in result.report.findings
    )


def _passwords_at(found: Found, path: str, text: str) -> list[str]:
    """The text each VF401 of `path` points at (a password must start there)."""
    lines = text.split("\n")
    return [
        lines[line - 1][column - 1 :]
        for where, line, column, rule in found
        if where == path and rule == "VF401"
    ]


@SLOW
@given(
    carrier=st.sampled_from(CARRIERS),
    entries=st.lists(
        st.tuples(st.sampled_from(PATHS), st.one_of(PASSWORDS, st.sampled_from(PLACEHOLDERS))),
        min_size=1,
        max_size=3,
        unique_by=lambda e: e[0][0],
    ),
    noise=st.integers(0, 3),
)
def test_a_document_in_an_env_value_is_read_as_the_same_document_in_a_file(
    carrier: tuple[str, str], entries: list[tuple[tuple[str, ...], str]], noise: int
) -> None:
    doc = _document(entries, noise)
    name, template = carrier
    text = _carrier(template, doc)
    oracle = "APP_CONFIGURATION:\n" + _block(doc, 2)
    found = _scan({name: text, "oracle/config.yaml": oracle})
    expected = sorted(_passwords_at(found, "oracle/config.yaml", oracle))
    got = _passwords_at(found, name, text)
    quoted = {p for _, p in entries}
    assert len(got) == len(expected), (text, found)
    # each finding placed where its password is written in the carrier file
    assert all(any(at.startswith(q) for q in quoted) for at in got), (text, found)
    if name.endswith((".yml", ".yaml")) and "{block" in template:
        assert sorted(got) == expected, (text, found)  # same lines, same text after


def test_the_kestra_configuration_block_gives_its_datasource_password() -> None:
    """scarlson1/noaa-hurricanes-pipeline's shape: the datasource password is VF401, the
    basic-auth one (a web login) is not."""
    text = (
        "services:\n  kestra:\n    image: kestra/kestra:latest\n    environment:\n"
        "      KESTRA_CONFIGURATION: |\n        datasources:\n          postgres:\n"
        "            url: jdbc:postgresql://kestra_postgres:5432/kestra\n"
        "            username: kestra\n            password: k3str4\n        kestra:\n"
        "          server:\n            basic-auth:\n              username: admin@kestra.io\n"
        '              password: "Admin1234!"\n'
    )
    assert _scan({"docker-compose.yml": text}) == [("docker-compose.yml", 10, 23, "VF401")]


@settings(max_examples=20, deadline=None)
@given(value=st.sampled_from(("redis://q:6379/0", "info", "a: b", "[1, 2]", "{not json")))
def test_a_plain_env_value_is_no_document(value: str) -> None:
    text = (
        f"services:\n  web:\n    image: app\n    environment:\n      X_PASSWORD_HINT: '{value}'\n"
    )
    assert not [f for f in _scan({"docker-compose.yml": text}) if f[3] == "VF401"]
