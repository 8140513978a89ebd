"""A behaviour that changed between driver versions is judged with the project's own
version: SQLAlchemy before 1.4 still loads `postgres://` (1.4 removed the alias and
create_engine raises), so the same code is VF105 on a project locked to 2.0 or with
no lock, and only its TLS finding on one locked to 1.3."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from verifyfull.scan import engine
from verifyfull.scan.project_versions import sqlalchemy_version
from verifyfull.scan.settings import load

CODE = (
    "from sqlalchemy import create_engine\n\n"
    'engine = create_engine("postgres://app@db.internal/app")\n'
)


def _lock(version: str, kind: str) -> dict[str, str]:
    if kind == "poetry.lock":
        return {"poetry.lock": f'[[package]]\nname = "SQLAlchemy"\nversion = "{version}"\n'}
    if kind == "Pipfile.lock":
        pipfile = {"default": {"sqlalchemy": {"version": f"=={version}"}}, "develop": {}}
        return {"Pipfile.lock": json.dumps(pipfile)}
    if kind == "requirements.txt":
        return {"requirements.txt": f"flask==2.0\nSQLAlchemy=={version}\n"}
    return {"pyproject.toml": f'[tool.poetry.dependencies]\nsqlalchemy = "={version}"\n'}


@pytest.mark.parametrize("kind", ["poetry.lock", "Pipfile.lock", "requirements.txt", "pyproject"])
@pytest.mark.parametrize(
    ("version", "crashes"), [("1.3.23", False), ("1.4.0", True), ("2.0.58", True)]
)
def test_the_postgres_alias_is_judged_with_the_projects_sqlalchemy(
    tmp_path: Path, kind: str, version: str, crashes: bool
) -> None:
    sqlalchemy_version.cache_clear()
    for name, text in {**_lock(version, kind), "app.py": CODE}.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    assert sqlalchemy_version(tmp_path) == tuple(int(p) for p in version.split("."))
    rules = {f.rule_id for f in engine.scan([tmp_path], load(tmp_path), jobs=1).report.findings}
    assert ("VF105" in rules) == crashes
    assert "VF102" in rules  # prefer, whatever the version: no sslmode written


def test_no_lock_means_the_modelled_version(tmp_path: Path) -> None:
    sqlalchemy_version.cache_clear()
    (tmp_path / "app.py").write_text(CODE, encoding="utf-8")
    rules = {f.rule_id for f in engine.scan([tmp_path], load(tmp_path), jobs=1).report.findings}
    assert sqlalchemy_version(tmp_path) is None and "VF105" in rules
