"""Broken, odd and hostile config files: an error entry in the report (one line, no
content) or a quiet skip, never a traceback, a hang or a leaked password."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from verifyfull.findings import Finding
from verifyfull.policy import DEFAULT_POLICY
from verifyfull.scan.api import ScanContext
from verifyfull.scan.engine import scan_file
from verifyfull.scan.walk import WalkedFile

CANARY = "canary-Pw-9e77"


class Skipped(Exception):
    """The engine reported the file as not checked (the message is the error entry)."""


def _run(tmp_path: Path, name: str, text: str) -> list[Finding]:
    """Through the engine's per-file dispatch; an error entry is raised as Skipped."""
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    ctx = ScanContext(root=tmp_path, policy=DEFAULT_POLICY)
    outcome = scan_file(WalkedFile(path, name), ctx, 10_000_000)
    messages = [e.message for e in outcome.errors]
    assert not any("internal error" in m for m in messages), messages
    if messages:
        raise Skipped(" | ".join(messages))
    return list(outcome.findings)


BROKEN = {
    "compose.yaml": f"services:\n  db:\n    environment: [POSTGRES_PASSWORD={CANARY}\n  x: : :\n",
    "settings.toml": f'[database]\npassword = "{CANARY}\nsslmode = \n',
    "alembic.ini": f"sqlalchemy.url = postgresql://a:{CANARY}@h/d\n[alembic\n",
    "app.json": f'{{"database": {{"password": "{CANARY}",}}\n',
}


@pytest.mark.parametrize("name", sorted(BROKEN))
def test_malformed_file_is_one_line_error_without_content(tmp_path: Path, name: str) -> None:
    with pytest.raises(Skipped) as caught:
        _run(tmp_path, name, BROKEN[name])
    message = str(caught.value)
    assert "\n" not in message and CANARY not in message
    assert "does not parse" in message and "; " in message  # problem; fix


def test_yaml_error_names_the_line(tmp_path: Path) -> None:
    with pytest.raises(Skipped, match=r"line \d+"):
        _run(tmp_path, "k8s.yaml", "env:\n  - name: PGSSLMODE\n    value: [disable\n")


def test_deeply_nested_documents_are_refused_not_crashed(tmp_path: Path) -> None:
    depth = 5000
    with pytest.raises(Skipped):
        _run(tmp_path, "deep.json", '{"password": ' * depth + '"x"' + "}" * depth)
    with pytest.raises(Skipped):
        _run(tmp_path, "deep.yaml", "database:\n" + "[" * depth + "]" * depth + "\n")


def test_helm_template_is_read_with_actions_blanked(tmp_path: Path) -> None:
    text = (
        "{{- if .Values.enabled }}\n"
        "spec:\n"
        "  containers:\n"
        '    - image: "cockroachdb/cockroach:{{ .Values.tag }}"\n'
        "      args: [start, --insecure]\n"
        "{{- end }}\n"
    )
    assert [(f.rule_id, f.line) for f in _run(tmp_path, "templates/db.yaml", text)] == [
        ("VF201", 5)
    ]


def test_files_without_database_words_are_not_parsed(tmp_path: Path) -> None:
    # JSON with comments (VS Code settings) is invalid JSON, but says nothing about databases.
    assert _run(tmp_path, ".vscode/settings.json", '// comment\n{"editor.tabSize": 2,}\n') == []


def test_unknown_yaml_tags_and_anchors(tmp_path: Path) -> None:
    text = (
        "base: &base\n  PGSSLMODE: disable\n"
        "Resources:\n  Db: !GetAtt Database.Endpoint\n"
        "env:\n  <<: *base\n"
    )
    assert {f.rule_id for f in _run(tmp_path, "template.yaml", text)} == {"VF101"}


def _mutations(seed_text: str, rounds: int, rng: random.Random) -> list[str]:
    alphabet = [*":-[]{}\"'#&*!|>%@`\n\t =,", "{{", "}}", "\\", "\u00e9", "\x00"]
    out = []
    for _ in range(rounds):
        chars = list(seed_text)
        for _ in range(rng.randint(1, 8)):
            position = rng.randrange(len(chars) + 1)
            action = rng.random()
            if action < 0.4:
                chars.insert(position, rng.choice(alphabet))
            elif action < 0.8 and chars:
                del chars[min(position, len(chars) - 1)]
            elif chars:
                chars[min(position, len(chars) - 1)] = rng.choice(alphabet)
        out.append("".join(chars))
    return out


SEEDS = {
    "docker-compose.yml": Path(__file__).parent / "fixtures/scan/config/compose/docker-compose.yml",
    "values.yaml": Path(__file__).parent / "fixtures/scan/config/helm/values.yaml",
    "templates/sts.yaml": Path(__file__).parent / "fixtures/scan/config/helm/statefulset.yaml",
    ".env": Path(__file__).parent / "fixtures/scan/config/env/.env",
    "settings.toml": Path(__file__).parent / "fixtures/scan/config/toml/settings.toml",
    "pg_hba.conf": Path(__file__).parent / "fixtures/scan/config/postgres/pg_hba.conf",
    "Dockerfile": Path(__file__).parent / "fixtures/scan/config/docker/Dockerfile",
    "alembic.ini": Path(__file__).parent / "fixtures/scan/config/ini/alembic.ini",
    "app.json": Path(__file__).parent / "fixtures/scan/config/json/appsettings.json",
    "postgresql.conf": Path(__file__).parent / "fixtures/scan/config/postgres/postgresql.conf",
    "pg_service.conf": Path(__file__).parent / "fixtures/scan/config/libpq/pg_service.conf",
    ".pgpass": Path(__file__).parent / "fixtures/scan/config/libpq/.pgpass",
    "app.service": Path(__file__).parent
    / "fixtures/scan/config/systemd/insecurecockroachdb.service",
    # issue 13 classes 3 and 4
    "main.tf": Path(__file__).parent / "fixtures/scan/config/iac/main.tf",
    "main.bicep": Path(__file__).parent / "fixtures/scan/config/iac/main.bicep",
    ".ebextensions/env.config": Path(__file__).parent
    / "fixtures/scan/config/iac/.ebextensions/02-options.config",
    "Procfile": Path(__file__).parent / "fixtures/scan/config/deploy/Procfile",
    "render.yaml": Path(__file__).parent / "fixtures/scan/config/deploy/render.yaml",
    ".docker_env": Path(__file__).parent / "fixtures/scan/config/env/names/.docker_env",
    "azuredeploy.json": Path(__file__).parent / "fixtures/scan/config/iac/azuredeploy.json",
}


@pytest.mark.parametrize("name", sorted(SEEDS))
def test_fuzzed_inputs_never_crash(tmp_path: Path, name: str) -> None:
    """Bounded fuzzing: 150 mutations per format; each gives findings or Skipped."""
    rng = random.Random(f"verifyfull-{name}")  # reproducible
    seed = SEEDS[name].read_text()
    for text in _mutations(seed, 150, rng):
        try:
            found = _run(tmp_path, name, text)
        except Skipped as exc:
            assert "\n" not in str(exc)
            continue
        for item in found:
            assert item.line is not None and item.line >= 1
            assert "canary-Pw-3f9a1c" not in item.evidence + item.message
