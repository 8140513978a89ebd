"""End to end through the real CLI: a tree full of passwords and keys, every output
format, no password and no key material anywhere; broken files are error entries."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from verifyfull.certs.create import create_ca, create_client

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "scan" / "config"
VERIFYFULL = Path(sys.executable).with_name("verifyfull")
CANARY = "canary-Pw-3f9a1c"  # the password written all over the fixtures


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("canary")
    shutil.copytree(FIXTURES, root / "config")
    certs = root / "certs"
    create_ca(certs, root / "ca-key" / "ca.key")
    create_client("app", certs, root / "ca-key" / "ca.key")
    (certs / "client.app.key").chmod(0o644)
    broken = root / "broken"
    broken.mkdir()
    (broken / "compose.yaml").write_text(f"services: [db: {{POSTGRES_PASSWORD: {CANARY}\n")
    (broken / "settings.json").write_text(f'{{"database": {{"password": "{CANARY}",,}}}}\n')
    return root


def _scan(tree: Path, fmt: str, out: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(VERIFYFULL), "scan", ".", "--format", fmt, "--output", str(out)],
        capture_output=True,
        text=True,
        timeout=180,
        cwd=tree,
        env={**os.environ, "NO_COLOR": "1"},
    )


@pytest.mark.parametrize("fmt", ["text", "json", "sarif", "html"])
def test_no_password_or_key_in_any_format(tree: Path, tmp_path: Path, fmt: str) -> None:
    out = tmp_path / f"report.{fmt}"
    done = _scan(tree, fmt, out)
    assert done.returncode == 1, done.stderr
    written = out.read_text() + done.stdout + done.stderr
    assert "VF401" in written and "VF306" in written
    assert CANARY not in written
    key_body = "".join((tree / "certs" / "client.app.key").read_text().splitlines()[1:-1])
    for start in range(0, len(key_body) - 24, 24):
        assert key_body[start : start + 24] not in written


def test_broken_files_are_error_entries(tree: Path, tmp_path: Path) -> None:
    out = tmp_path / "report.json"
    _scan(tree, "json", out)
    report = json.loads(out.read_text())
    errors = {e["path"]: e["message"] for e in report["errors"]}
    assert "does not parse" in errors["broken/compose.yaml"]
    assert "does not parse" in errors["broken/settings.json"]
    assert all("\n" not in m and CANARY not in m for m in errors.values())
    rules = {f["rule"] for f in report["findings"]}
    assert {"VF101", "VF102", "VF103", "VF104", "VF106"} <= rules
    assert {"VF201", "VF202", "VF203", "VF204", "VF306", "VF401", "VF403"} <= rules
