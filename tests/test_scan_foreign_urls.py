"""A connection URL read by another ecosystem's sub-project is read by its driver
(issue 13 class 7, session 14: conninfo/foreign_drivers.as_libpq_url, scan/config/
ecosystem.url_reader).

The expected verdicts are this file's own reading of the drivers' sources, written
as a table, not a call of the code under test: pg-connection-string's parse() for
node-postgres 8 (any sslmode but disable and no-verify, an ssl file or ssl=true/1
mean TLS with Node's certificate and host-name checks; no TLS key means no TLS), and
quaint's PostgresUrl for Prisma (sslmode disable|prefer|require, another value leaves
prefer; sslaccept defaults to accept_invalid_certs, strict checks). Readers whose
URL reading is libpq's (pg 9, `uselibpqcompat=true`, Go, Java, a JavaScript
sub-project naming no driver) must give exactly what the same URL gets when a Python
sub-project reads it.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from test_scan_accuracy_s12 import bounded
from verifyfull.policy import DEFAULT_POLICY
from verifyfull.scan.api import ScanContext
from verifyfull.scan.engine import scan_file
from verifyfull.scan.walk import WalkedFile

SECURE = frozenset[str]()
OFF, FALLBACK, UNCHECKED = frozenset({"VF101"}), frozenset({"VF102"}), frozenset({"VF103"})
AS_LIBPQ = None  # the Python sub-project's verdict for the same URL

QUERIES = (
    "",
    "sslmode=disable",
    "sslmode=allow",
    "sslmode=prefer",
    "sslmode=require",
    "sslmode=verify-ca",
    "sslmode=verify-full",
    "sslmode=no-verify",
    "ssl=true",
    "ssl=1",
    "ssl=0",
    "sslrootcert=/etc/ssl/db-ca.pem",
    "sslmode=require&sslaccept=strict",
    "sslaccept=strict",
    "sslmode=require&sslaccept=accept_invalid_certs",
    "schema=public",
    "sslmode=require&uselibpqcompat=true",
    "sslmode=disable&uselibpqcompat=true",
)

_NODE_PG8 = {
    "": OFF,
    "sslmode=disable": OFF,
    "sslmode=no-verify": UNCHECKED,
    "ssl=0": OFF,
    "sslaccept=strict": OFF,  # not a key pg-connection-string reads
    "schema=public": OFF,
    "sslmode=require&uselibpqcompat=true": AS_LIBPQ,
    "sslmode=disable&uselibpqcompat=true": AS_LIBPQ,
}
_PRISMA = {
    "": FALLBACK,
    "sslmode=disable": OFF,
    "sslmode=require": UNCHECKED,
    "sslmode=require&sslaccept=accept_invalid_certs": UNCHECKED,
    "sslmode=require&sslaccept=strict": SECURE,
    "sslmode=require&uselibpqcompat=true": UNCHECKED,
    "sslmode=disable&uselibpqcompat=true": OFF,
}

# sub-project kind: (manifest files, expected per query (missing: the default), message words)
Expected = frozenset[str] | None
READERS: dict[str, tuple[dict[str, str], dict[str, Expected], Expected, tuple[str, ...]]] = {
    "node-pg8": (
        {"package.json": json.dumps({"dependencies": {"pg": "^8.11.3"}})},
        _NODE_PG8,
        SECURE,
        ("JavaScript (npm) sub-project svc", "node-postgres 8"),
    ),
    "node-knex": (
        {"package.json": json.dumps({"dependencies": {"knex": "^3.1.0"}})},
        _NODE_PG8,
        SECURE,
        ("node-postgres 8 (through knex)",),
    ),
    "node-pg9": (
        {"package.json": json.dumps({"dependencies": {"pg": "^9.0.0"}})},
        {},
        AS_LIBPQ,
        ("node-postgres 9",),
    ),
    "prisma": (
        {"package.json": json.dumps({"dependencies": {"@prisma/client": "^5.0.0"}})},
        _PRISMA,
        FALLBACK,
        ("Prisma",),
    ),
    "prisma-pg-adapter": (
        {
            "package.json": json.dumps(
                {"dependencies": {"@prisma/client": "^6", "@prisma/adapter-pg": "^6", "pg": "8"}}
            )
        },
        _NODE_PG8,
        SECURE,
        ("node-postgres 8",),
    ),
    "node-unknown-driver": (
        {"package.json": json.dumps({"dependencies": {"express": "^4"}})},
        {},
        AS_LIBPQ,
        ("does not name",),
    ),
    "go": ({"go.mod": "module svc\n"}, {}, AS_LIBPQ, ("Go sub-project svc", "as libpq does")),
    "java": ({"pom.xml": "<project/>\n"}, {}, AS_LIBPQ, ("pgjdbc",)),
}
PYTHON = {"requirements.txt": "psycopg2\n", "app.py": "print('hi')\n"}
CARRIERS = ("env", "compose-build", "compose-env-file")


def _write_tree(root: Path, manifests: dict[str, str], carrier: str, url: str) -> tuple[Path, int]:
    service = root / "svc"
    service.mkdir()
    for name, text in manifests.items():
        (service / name).write_text(text, encoding="utf-8")
    if carrier == "env":
        path = service / ".env"
        path.write_text(f"DATABASE_URL={url}\n", encoding="utf-8")
        return path, 1
    if carrier == "compose-env-file":
        (service / "runtime.env").write_text(f"DATABASE_URL={url}\n", encoding="utf-8")
        compose = ["services:", "  app:", "    build: ./svc", "    env_file: ./svc/runtime.env"]
        (root / "docker-compose.yml").write_text("\n".join(compose) + "\n", encoding="utf-8")
        return service / "runtime.env", 1
    compose = ["services:", "  app:", "    build: ./svc", "    environment:"]
    compose.append(f"      DATABASE_URL: {url}")
    path = root / "docker-compose.yml"
    path.write_text("\n".join(compose) + "\n", encoding="utf-8")
    return path, 5


def _transport(root: Path, carrier: str) -> dict[str, str]:
    """{rule: message} of the transport findings on the URL's line, every file scanned."""
    found: dict[str, str] = {}
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        walked = WalkedFile(path, path.relative_to(root).as_posix())
        outcome = scan_file(walked, ScanContext(root=root, policy=DEFAULT_POLICY), 1_000_000)
        assert not outcome.errors, outcome.errors
        for f in outcome.findings:
            if f.rule_id.startswith("VF10") and f.rule_id != "VF108":
                found[f"{f.path}:{f.line}:{f.rule_id}"] = f.message
    return found


def _rules(found: dict[str, str], where: str) -> frozenset[str]:
    return frozenset(k.rsplit(":", 1)[1] for k in found if k.rsplit(":", 1)[0] == where)


@bounded(60)
@given(
    reader=st.sampled_from(sorted(READERS)),
    carrier=st.sampled_from(CARRIERS),
    query=st.sampled_from(QUERIES),
)
def test_a_url_read_by_another_ecosystem_is_judged_as_its_driver_reads_it(
    tmp_path_factory: pytest.TempPathFactory, reader: str, carrier: str, query: str
) -> None:
    manifests, table, default, words = READERS[reader]
    url = "postgresql://app@db.internal:5432/app" + (f"?{query}" if query else "")
    root = tmp_path_factory.mktemp("foreign")
    path, line = _write_tree(root, manifests, carrier, url)
    where = f"{path.relative_to(root).as_posix()}:{line}"
    found = _transport(root, carrier)
    expected = table.get(query, default)
    if expected is AS_LIBPQ:
        python_root = tmp_path_factory.mktemp("python")
        _write_tree(python_root, PYTHON, carrier, url)
        expected = _rules(_transport(python_root, carrier), where)
    assert _rules(found, where) == expected, (reader, carrier, url, found)
    for key, message in found.items():
        if key.startswith(where + ":"):
            assert all(word in message for word in words), message


@pytest.mark.parametrize("carrier", CARRIERS)
def test_a_python_sub_project_keeps_libpq_s_reading_and_text(tmp_path: Path, carrier: str) -> None:
    path, line = _write_tree(tmp_path, PYTHON, carrier, "postgresql://app@db.internal/app")
    found = _transport(tmp_path, carrier)
    where = f"{path.relative_to(tmp_path).as_posix()}:{line}"
    assert _rules(found, where) == FALLBACK
    assert not any("sub-project" in m for m in found.values())


def test_a_service_from_an_image_reads_urls_as_written(tmp_path: Path) -> None:
    """No `build:`: the image's code is not in the tree, so a node project at the
    compose file's side does not make the service's URL node-postgres's."""
    (tmp_path / "package.json").write_text(json.dumps({"dependencies": {"pg": "^8"}}))
    lines = ["services:", "  app:", "    image: example/app:1", "    environment:"]
    lines.append("      DATABASE_URL: postgresql://app@db.internal/app?sslmode=require")
    (tmp_path / "docker-compose.yml").write_text("\n".join(lines) + "\n")
    found = _transport(tmp_path, "compose-build")
    assert _rules(found, "docker-compose.yml:5") == UNCHECKED, found
