"""A behaviour that changed between driver versions is judged with the project's own
version: SQLAlchemy before 1.4 still loads `postgres://` (1.4 removed the alias and
create_engine raises), so the same code is VF105 on a project locked to 2.0 or with
no lock, and only its TLS finding on one locked to 1.3."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from verifyfull.conninfo.versions import (
    PINNED,
    PSYCOPG2_BINARY_LIBPQ,
    PSYCOPG_BINARY_LIBPQ,
    DriverVersions,
)
from verifyfull.scan import engine
from verifyfull.scan.project_versions import (
    PACKAGES,
    driver_versions,
    pinned_versions,
    sqlalchemy_version,
)
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
    pinned_versions.cache_clear()
    for name, text in {**_lock(version, kind), "app.py": CODE}.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    assert sqlalchemy_version(tmp_path) == tuple(int(p) for p in version.split("."))
    rules = {f.rule_id for f in engine.scan([tmp_path], load(tmp_path), jobs=1).report.findings}
    assert ("VF105" in rules) == crashes
    assert "VF102" in rules  # prefer, whatever the version: no sslmode written


def test_no_lock_means_the_modelled_version(tmp_path: Path) -> None:
    pinned_versions.cache_clear()
    (tmp_path / "app.py").write_text(CODE, encoding="utf-8")
    rules = {f.rule_id for f in engine.scan([tmp_path], load(tmp_path), jobs=1).report.findings}
    assert sqlalchemy_version(tmp_path) is None and "VF105" in rules


def _pin_files(package: str, version: str) -> list[dict[str, str]]:
    """The same pin, written in each file the scanner reads."""
    return [
        {"poetry.lock": f'[[package]]\nname = "{package}"\nversion = "{version}"\n'},
        {"Pipfile.lock": json.dumps({"default": {package: {"version": f"=={version}"}}})},
        {"requirements-prod.txt": f"{package.replace('-', '_')} == {version}  # pinned\n"},
        {"pyproject.toml": f'[tool.poetry.dependencies]\n{package} = "^{version}"\n'},
    ]


@pytest.mark.parametrize(
    ("package", "table", "field"),
    [
        ("psycopg2-binary", PSYCOPG2_BINARY_LIBPQ, "psycopg2_libpq"),
        ("psycopg-binary", PSYCOPG_BINARY_LIBPQ, "psycopg_libpq"),
    ],
)
def test_a_pinned_binary_wheel_gives_the_libpq_it_bundles(
    tmp_path: Path, package: str, table: dict[tuple[int, ...], int], field: str
) -> None:
    """Where the wheel's libpq is verified, conninfo models that libpq; any other pin of
    the same wheel keeps the default (the scanner does not guess)."""
    for wheel, major in table.items():
        for files in _pin_files(package, ".".join(map(str, wheel))):
            root = tmp_path / f"{len(list(tmp_path.iterdir()))}"
            root.mkdir()
            for name, text in files.items():
                (root / name).write_text(text, encoding="utf-8")
            assert getattr(driver_versions(root), field).major == major, files
    unverified = tmp_path / "unverified"
    unverified.mkdir()
    (unverified / "requirements.txt").write_text(f"{package}==1.0.1\n", encoding="utf-8")
    assert driver_versions(unverified) == PINNED


# Hostile input: random bytes, huge files, deep nesting, and pins that are not versions.
_NOISE = st.one_of(
    st.text(max_size=400),
    st.sampled_from(
        [
            "sqlalchemy==",
            "sqlalchemy==banana",
            "SQLAlchemy===9" + "9" * 5000,
            "psycopg2-binary==2.9.13.dev0+local",
            "[[package]]\nname = 1\nversion = []\n",
            "[[package]]\nname = 'sqlalchemy'\nversion = 'x'\n",
            '{"default": {"sqlalchemy": "==1.3"}}',
            '{"default": []}',
            "[" * 5000,
            '{"a":' * 5000,
            "\x00\xff\ufffd",
            "sqlalchemy = { version = '1.3' }",
        ]
    ),
)
_FILES = (
    "poetry.lock",
    "Pipfile.lock",
    "requirements.txt",
    "requirements-dev.txt",
    "pyproject.toml",
)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(files=st.dictionaries(st.sampled_from(_FILES), st.lists(_NOISE, max_size=6), max_size=5))
def test_hostile_lock_and_requirement_files_never_break_the_reading(
    tmp_path_factory: pytest.TempPathFactory, files: dict[str, list[str]]
) -> None:
    """No exception, whatever the files hold; a version is only ever a short tuple of
    numbers, and without a readable pin the defaults stand."""
    root = tmp_path_factory.mktemp("hostile")
    for name, parts in files.items():
        (root / name).write_text("\n".join(parts), encoding="utf-8", errors="surrogatepass")
    found = pinned_versions(root)
    assert set(found) <= set(PACKAGES)
    for version in found.values():
        assert 1 <= len(version) <= 3 and all(isinstance(p, int) for p in version)
    versions = driver_versions(root)
    assert isinstance(versions, DriverVersions)
    if "sqlalchemy" not in found:
        assert versions.sqlalchemy == PINNED.sqlalchemy


def test_an_oversized_lock_file_is_not_read(tmp_path: Path) -> None:
    """Bounded work: a lock file over the size limit is skipped, not parsed."""
    big = "# padding\n" * 250_000 + "SQLAlchemy==1.3.0\n"
    (tmp_path / "requirements.txt").write_text(big, encoding="utf-8")
    assert sqlalchemy_version(tmp_path) is None
