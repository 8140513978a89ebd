"""Held-out-s15b deployment-file classes (docs/scan-config.md, "Session 15 (helper
s15b-cfg)").

1. A Kubernetes Secret's `data:` value is base64 the API server decodes: judged as the
   text it decodes to (a connection URL by its driver, a password as VF401), as the
   same text written plain under `stringData:` is; kustomize generator literals alike.
"""

from __future__ import annotations

import base64
import itertools
from pathlib import Path

import pytest

from test_scan_accuracy_s12 import scan_one

# --- class 1: Secret data decoded -------------------------------------------------------
_VALUES = {
    "dsn-no-sslmode": ("DB_LINK", "postgresql://app:Qx7-real-pw@db.example.com:5432/app"),
    "dsn-disable": ("DATABASE_URL", "postgres://app:Qx7-real-pw@db.internal/app?sslmode=disable"),
    "dsn-require": ("DATABASE_URL", "postgresql://app@db.internal/app?sslmode=require"),
    "dsn-verify-full": (
        "DATABASE_URL",
        "postgresql://app:Qx7-real-pw@db.internal/app?sslmode=verify-full&sslrootcert=/ca.crt",
    ),
    "asyncpg-url": ("DB_URL", "postgresql+asyncpg://app:Qx7-real-pw@db.internal/app"),
    "keywords": ("DSN", "host=db.internal dbname=app user=app password=Qx7-real-pw"),
    "password": ("POSTGRES_PASSWORD", "Qx7-real-pw"),
    "password-plain-key": ("password", "Qx7-real-pw"),
    "placeholder": ("DB_PASSWORD", "changeme"),
    "sslmode": ("PGSSLMODE", "disable"),
    "not-a-database": ("API_TOKEN", "postgres-is-not-here"),
}
# How the encoder wrote it: `echo -n`, `echo` (a trailing line feed), base64 -w 76 lines.
_ENCODINGS = {
    "plain": lambda text: base64.b64encode(text.encode()).decode(),
    "echo": lambda text: base64.b64encode((text + "\n").encode()).decode(),
    "quoted": lambda text: '"' + base64.b64encode(text.encode()).decode() + '"',
}
_SECRETS = {
    "secret": ("apiVersion: v1\nkind: Secret\nmetadata:\n  name: {name}\n", "data"),
    "sealed-template": (
        "apiVersion: bitnami.com/v1alpha1\nkind: SealedSecret\nmetadata:\n  name: {name}\n"
        "spec:\n  encryptedData: {{}}\n  template:\n",
        "data",
    ),
}


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def _plain_rules(tmp_path: Path, secret: str, key: str, value: str) -> set[str]:
    """The rules of the same value written plain under a Secret's stringData."""
    text = f"apiVersion: v1\nkind: Secret\nmetadata:\n  name: {secret}\nstringData:\n"
    path = _write(tmp_path / "plain", "secret.yaml", text + f"  {key}: '{value}'\n")
    return {rule for _, rule in scan_one(path, path.parent)}


@pytest.mark.parametrize(
    ("value", "encoding", "shape", "secret"),
    list(itertools.product(_VALUES, _ENCODINGS, _SECRETS, ["db-secret", "app-config"])),
)
def test_secret_data_is_judged_as_what_it_decodes_to(
    value: str, encoding: str, shape: str, secret: str, tmp_path: Path
) -> None:
    key, text = _VALUES[value]
    head, section = _SECRETS[shape]
    indent = "      " if shape == "sealed-template" else "  "
    body = head.format(name=secret) + f"{indent[:-2]}{section}:\n"
    body += f"{indent}OTHER: {_ENCODINGS['plain']('x')}\n"
    body += f"{indent}{key}: {_ENCODINGS[encoding](text)}\n"
    path = _write(tmp_path / "data", "secret.yaml", body)
    found = scan_one(path, path.parent)
    line = body.count("\n")
    assert {rule for at, rule in found} == _plain_rules(tmp_path, secret, key, text), body
    assert all(at == line for at, _ in found), (found, body)


def test_the_held_out_secret_dsn_is_reported(tmp_path: Path) -> None:
    url = "postgresql://postgres:Real-like-pw@postgresdb.abc.rds.amazonaws.com:5432/mydb\n"
    encoded = base64.b64encode(url.encode()).decode()
    body = f"kind: Secret\nmetadata:\n  name: db-secret\ntype: Opaque\ndata:\n  DB_LINK: {encoded}"
    path = _write(tmp_path, "secret.yaml", body)
    assert scan_one(path, tmp_path) == [(6, "VF102"), (6, "VF401")]


@pytest.mark.parametrize(
    "encoded",
    [
        base64.b64encode(bytes(range(256))).decode(),  # binary bytes: a real secret, as written
        "cG9zdGdyZXNxbDovL2FwcDpRe",  # truncated: not base64, as written
        "!!!not base64!!!",
    ],
)
def test_undecodable_data_is_judged_as_written(encoded: str, tmp_path: Path) -> None:
    body = f"kind: Secret\nmetadata:\n  name: db-secret\ndata:\n  password: '{encoded}'\n"
    path = _write(tmp_path, "secret.yaml", body)
    assert scan_one(path, tmp_path) == [(5, "VF401")]
    url = f"kind: Secret\nmetadata:\n  name: db-secret\ndata:\n  DB_LINK: '{encoded}'\n"
    assert scan_one(_write(tmp_path, "url.yaml", url), tmp_path) == []


def test_a_huge_data_value_is_not_decoded(tmp_path: Path) -> None:
    url = "postgresql://app:Qx7-real-pw@db.example.com/app?application_name=" + "a" * 70_000
    encoded = base64.b64encode(url.encode()).decode()
    body = f"kind: Secret\nmetadata:\n  name: x\ndata:\n  DB_LINK: {encoded}\n"
    assert scan_one(_write(tmp_path, "secret.yaml", body), tmp_path) == []


@pytest.mark.parametrize("value", list(_VALUES))
@pytest.mark.parametrize("generator", ["secretGenerator", "configMapGenerator"])
def test_kustomize_generator_literals_read_as_plain_settings(
    value: str, generator: str, tmp_path: Path
) -> None:
    key, text = _VALUES[value]
    body = f"{generator}:\n  - name: db-secret\n    literals:\n      - A=b\n      - {key}={text}\n"
    path = _write(tmp_path / "k", "kustomization.yaml", body)
    found = scan_one(path, path.parent)
    assert {rule for _, rule in found} == _plain_rules(tmp_path, "db-secret", key, text)
    assert all(at == 5 for at, _ in found), found
