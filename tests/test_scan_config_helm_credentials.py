"""Helm values and Kubernetes credentials (issue 13 class 4): generated shapes.

- a PostgreSQL chart's `auth:` mapping (it has `postgresPassword` or
  `enablePostgresUser`) holds database passwords wherever it is nested, under
  whatever name: `password`, `replicationPassword`; the same mapping without those
  keys (bitnami redis, mysql) names no database;
- ciphertext is never a literal: a SealedSecret's `encryptedData`, SOPS values.
"""

from __future__ import annotations

from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from real_secrets import real_password
from verifyfull.scan.api import ScanContext, SourceFile
from verifyfull.scan.config.yamlwalk import check_yaml

# A key that names no database itself (`pg...`, `db...` or `...sql...` would: the
# judge reads such a path as a database's, whatever the chart).
_KEY = st.from_regex(r"[a-z][a-zA-Z]{1,8}", fullmatch=True).filter(
    lambda k: (
        not k.lower().startswith(("pg", "db", "crdb"))
        and not any(w in k.lower() for w in ("postgres", "cockroach", "database", "sql", "dsn"))
        and "pass" not in k.lower()
        and k != "auth"
    )
)
_SECRET = real_password(st.from_regex(r"[A-Za-z][A-Za-z0-9]{9,15}", fullmatch=True))


def _rules(text: str) -> list[tuple[int | None, str]]:
    src = SourceFile(Path("/x/values.yaml"), "values.yaml", text)
    return [(f.line, f.rule_id) for f in check_yaml(src, ScanContext(root=Path("/x")))]


def _nested(path: list[str], body: list[str]) -> str:
    lines = [f"{'  ' * depth}{key}:" for depth, key in enumerate(path)]
    lines.extend("  " * len(path) + line for line in body)
    return "# postgres chart values\n" + "\n".join(lines) + "\n"


@settings(max_examples=60, deadline=None)
@given(
    path=st.lists(_KEY, max_size=3),
    marker=st.sampled_from(["postgresPassword: {s}", "enablePostgresUser: true", None]),
    name=st.sampled_from(["password", "replicationPassword"]),
    secret=_SECRET,
)
def test_a_postgres_charts_auth_passwords_are_the_databases(
    path: list[str], marker: str | None, name: str, secret: str
) -> None:
    body = ["username: app", f"{name}: {secret}", "database: app"]
    if marker is not None:
        body.insert(0, marker.format(s=secret))
    found = _rules(_nested([*path, "auth"], body))
    line = len(path) + 4 + (marker is not None)  # the comment, the path, `auth:`, username
    assert ((line, "VF401") in found) == (marker is not None), found


@settings(max_examples=60, deadline=None)
@given(keys=st.lists(_KEY, min_size=1, max_size=4, unique=True), secret=_SECRET)
def test_sealed_secret_ciphertext_is_never_a_literal(keys: list[str], secret: str) -> None:
    data = "\n".join(f"    {key}-password: Ag{secret}" for key in keys)
    text = (
        "apiVersion: bitnami.com/v1alpha1\nkind: SealedSecret\nmetadata:\n"
        f"  name: postgres-credentials\nspec:\n  encryptedData:\n{data}\n"
    )
    assert _rules(text) == []
    plain = text.replace("SealedSecret", "Secret").replace("encryptedData", "stringData")
    assert {rule for _, rule in _rules(plain)} == {"VF401"}
