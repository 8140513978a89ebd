"""Session 12 leftovers of issues 12/13, each a class (docs/scan.md, "Session 12").

- a compose extension field (`x-...: &anchor`) that nothing in the file refers to is
  no container's environment: no transport finding there, its literal password still
  VF401 (zorik19/bankProject's test compose files, once `build/` is walked).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from verifyfull.policy import DEFAULT_POLICY
from verifyfull.scan.api import ScanContext
from verifyfull.scan.engine import scan_file
from verifyfull.scan.walk import WalkedFile

CANARY = "canary-Pw-3f9a1c"
TRANSPORT = {"VF101", "VF102", "VF103", "VF104", "VF105", "VF108"}


def scan_one(path: Path, root: Path) -> list[tuple[int, str]]:
    walked = WalkedFile(path, path.relative_to(root).as_posix())
    outcome = scan_file(walked, ScanContext(root=root, policy=DEFAULT_POLICY), 1_000_000)
    assert not outcome.errors, outcome.errors
    return sorted((f.line or 0, f.rule_id) for f in outcome.findings)


_BODIES = {
    "components": [
        "  POSTGRES_HOST: postgres",
        "  POSTGRES_USER: app",
        f"  POSTGRES_PASSWORD: {CANARY}",
        "  POSTGRES_DB: app",
    ],
    "url": [f"  DATABASE_URL: postgresql://app:{CANARY}@db:5432/app"],
    "url-disable": [f"  DATABASE_URL: postgresql://app:{CANARY}@db:5432/app?sslmode=disable"],
}
# How a service (or only another extension field) refers to the anchor.
_USES = {
    "none": [],
    "environment": ["    environment: *common"],
    "merge": ["    environment:", "      <<: *common", "      LOG_LEVEL: info"],
    "list-merge": ["    environment:", "      <<: [*common]"],
    "other-extension": [],
}


@settings(
    max_examples=30,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    body=st.sampled_from(sorted(_BODIES)),
    use=st.sampled_from(["none", "none", *sorted(_USES)]),  # the unused shape oftener
    name=st.sampled_from(["x-common-variables", "x-env", "x-db"]),
    image=st.sampled_from(["example/app:1", "fwork/lead_service:latest"]),
    leading=st.booleans(),
)
def test_an_extension_field_nothing_refers_to_is_no_environment(
    tmp_path_factory: pytest.TempPathFactory,
    body: str,
    use: str,
    name: str,
    image: str,
    leading: bool,
) -> None:
    root = tmp_path_factory.mktemp("compose")
    lines = ["version: '3.4'", ""] if leading else []
    first = len(lines) + 2
    lines += [f"{name}: &common", *_BODIES[body]]
    last = len(lines)
    if use == "other-extension":
        lines += ["", "x-later: &later", "  <<: *common"]
    lines += ["", "services:", "  web:", f"    image: {image}", *_USES[use]]
    lines += ["  postgres:", "    image: postgres:16"]
    path = root / "docker-compose.yml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    found = scan_one(path, root)
    at_anchor = {rule for line, rule in found if first <= line <= last}
    assert "VF401" in at_anchor  # a literal password is committed, used or not
    assert bool(at_anchor & TRANSPORT) == (use != "none"), (use, found)


def test_the_bank_project_test_compose_file(tmp_path: Path) -> None:
    """zorik19/bankProject build/docker-compose.test.yml: the anchor is never merged."""
    path = tmp_path / "docker-compose.test.yml"
    path.write_text(
        "version: '3.4'\n\n"
        "x-common-variables: &common-variables\n"
        "  ENV: test\n  REDIS_HOST: redis\n  POSTGRES_HOST: postgres\n"
        "  POSTGRES_USER: test_user\n  POSTGRES_PASSWORD: secret\n  POSTGRES_DB: test\n"
        "  PGDATA: /pgtmpfs\n\n"
        "services:\n  web:\n    image: fwork/lead_service:latest\n"
        '    command: ["sh", "/app/build/run_test.sh"]\n'
        "  postgres:\n    image: postgres:11.1-alpine\n",
        encoding="utf-8",
    )
    assert scan_one(path, tmp_path) == [(8, "VF401")]
