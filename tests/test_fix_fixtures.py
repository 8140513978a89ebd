"""`verifyfull fix` on the before/after fixture pairs (tests/fixtures/fix/<case>/).

Each case's `before/` is copied into a throwaway project; the planned bytes must
equal `after/` exactly (so every byte outside the edits is pinned), the fixed
file must load as its kind of file, the scanner must report no fixable rule
afterwards, and a second run must change nothing.
"""

from __future__ import annotations

import configparser
import json
import shutil
from collections import Counter
from pathlib import Path

import pytest
import tomlkit
import yaml

from verifyfull.fix.config_fixes import fix_config
from verifyfull.fix.plan import FIXABLE, FileFix, plan_fixes
from verifyfull.fix.python_fixes import fix_python
from verifyfull.scan import engine
from verifyfull.scan.settings import load

CASES_DIR = Path(__file__).parent / "fixtures" / "fix"
CASES = sorted(p.name for p in CASES_DIR.iterdir() if p.is_dir())
SECURE = {"secure"}

# Every rule a fixture must show being fixed (before: reported; after: gone).
RULES_SHOWN = {
    "seed_sqlalchemy": {"VF104", "VF105"},
    "seed_asyncpg": {"VF105"},
    "psycopg_disable": {"VF101"},
    "psycopg_prefer_url": {"VF102"},
    "asyncpg_no_ssl": {"VF102"},
    "psycopg_require": {"VF103"},
    "psycopg_verify_ca": {"VF104"},
    "ssl_context": {"VF103", "VF106", "VF107"},  # check_hostname=False + CERT_NONE: one VF103
    "tortoise": {"VF105"},
    "env_file": {"VF101", "VF102"},
    "alembic_ini": {"VF102"},
    "compose": {"VF102"},
    "k8s": {"VF104"},
    "toml": {"VF103"},
    "databases_engine_config": {"VF102", "VF103", "VF105"},
    "config_keys": {"VF102", "VF104", "VF105", "VF106"},
    "ssl_protocols": {"VF103", "VF106"},
    "psycopg_keywords": {"VF101", "VF104"},
    "asyncpg_dsn_modes": {"VF101", "VF103"},
    "tortoise_config": {"VF102"},
    "tortoise_psycopg": {"VF103", "VF104", "VF105"},
    "psycopg_dsn_elsewhere": {"VF103"},
    "env_default_placed": {"VF102", "VF103"},
    "config_variables": {"VF101", "VF102", "VF103"},
    "layouts": {"VF102", "VF103", "VF105"},
    "engine_settings": {"VF102"},
    "env_asyncpg": {"VF102", "VF103", "VF105"},
    "fastapi_project": {"VF102", "VF103", "VF105", "VF201"},
    "cockroach_insecure": {"VF201"},
    "module_alias": {"VF102", "VF104"},
    "settings_shapes": {"VF102", "VF103", "VF105"},
    "tortoise_origins": {"VF102", "VF103"},
    "tortoise_url_names": {"VF102"},
    "django_settings": {"VF102", "VF103"},
    "django_ca_setting": {"VF104"},
    "django_urls": {"VF102", "VF103"},
    "flask_config": {"VF102", "VF103", "VF105"},
    "asyncpg_orms": {"VF102"},
    "scripts_terraform": {"VF102", "VF103"},
    "composed_strings": {"VF102", "VF103"},
    "secure": set(),
}
# Findings the scanner still reports after a fix it cannot read yet, by case (lines of
# the fixed file). None left: the dj-database-url / django-environ entries whose OPTIONS
# the fix updates after the call are judged with the update (test_scan_django_options.py).
SCANNER_GAPS: dict[str, set[tuple[str, int]]] = {}


def _project(case: str, tmp_path: Path) -> Path:
    root = tmp_path / "proj"
    shutil.copytree(CASES_DIR / case / "before", root)
    (root / "pyproject.toml").write_text("")
    return root


def _rules(root: Path) -> set[str]:
    return {f.rule_id for f in engine.scan([root], load(root)).report.findings}


def _counts(root: Path) -> Counter[tuple[str, str]]:
    """The findings per file and rule (lines move when a fix inserts statements)."""
    return Counter(
        (f.path or "", f.rule_id) for f in engine.scan([root], load(root)).report.findings
    )


def _loads(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".py":
        compile(text, str(path), "exec")
    elif path.suffix in {".yaml", ".yml"}:
        list(yaml.safe_load_all(text))
    elif path.suffix == ".toml":
        tomlkit.parse(text)
    elif path.suffix == ".json":
        json.loads(text)
    elif path.suffix == ".ini":
        configparser.ConfigParser(interpolation=None).read_string(text)


def test_every_case_is_listed() -> None:
    assert set(CASES) == set(RULES_SHOWN)
    shown = set().union(*RULES_SHOWN.values())
    assert shown == FIXABLE  # every fixable rule has a before/after pair


@pytest.mark.parametrize("case", CASES)
def test_fixture_pair(case: str, tmp_path: Path) -> None:
    root = _project(case, tmp_path)
    assert _rules(root) >= RULES_SHOWN[case]
    found = _counts(root)
    plan = plan_fixes([root], load(root))
    if case in SECURE:
        assert plan.fixes == ()
        return
    after_dir = CASES_DIR / case / "after"
    expected = {
        p.relative_to(after_dir).as_posix(): p.read_bytes()
        for p in after_dir.rglob("*")
        if p.is_file()
    }
    assert {fix.relpath: fix.after for fix in plan.fixes} == expected
    gaps = SCANNER_GAPS.get(case, set())
    assert {(f.path, f.line) for f in plan.left if f.rule_id in FIXABLE} == gaps
    for fix in plan.fixes:
        fix.path.write_bytes(fix.after)
        _loads(fix.path)
    # the real scanner agrees on the written files (and finds nothing it did not find
    # before: a fix never makes a site it cannot judge), and a second run is a no-op
    if not gaps:
        assert not _rules(root) & FIXABLE
    assert _counts(root) - found == Counter()
    again = plan_fixes([root], load(root))
    assert again.fixes == ()


def test_no_op_on_secure_code() -> None:
    text = (CASES_DIR / "secure" / "before" / "app.py").read_text()
    assert fix_python(text, range(1, 40)).text == text


def test_config_edits_touch_only_reported_lines_and_keep_crlf() -> None:
    before = (CASES_DIR / "env_file" / "before" / ".env").read_bytes()
    assert b"\r\n" in before
    result = fix_config(before.decode(), ".env", [2])
    after = result.text.encode()
    old, new = before.splitlines(keepends=True), after.splitlines(keepends=True)
    assert len(old) == len(new)
    changed = [i + 1 for i, (a, b) in enumerate(zip(old, new, strict=True)) if a != b]
    assert changed == [2]
    assert new[1].endswith(b"\r\n")
    assert b"sslmode=verify-full" in new[1]


def test_config_asyncpg_urls_get_the_form_their_dialect_understands() -> None:
    """Never `?sslmode=` for +asyncpg (a TypeError at the first connect): `ssl=verify-full`,
    with every other query parameter kept."""
    text = "DATABASE_URL=postgresql+asyncpg://app@db/app?sslmode=require&sslrootcert=/r.crt&x=1\n"
    fixed = fix_config(text, ".env", [1]).text
    assert fixed == "DATABASE_URL=postgresql+asyncpg://app@db/app?x=1&ssl=verify-full\n"
    assert fix_config(fixed, ".env", [1]).text == fixed


def test_password_is_never_copied_into_the_tortoise_config() -> None:
    canary = "canary-Pw-7731"
    text = (
        "from tortoise.contrib.fastapi import register_tortoise\n"
        f'register_tortoise(app, db_url="asyncpg://audit:{canary}@db:26257/audit?ssl=true", '
        'modules={"models": ["m"]})\n'
    )
    result = fix_python(text, [2])
    assert result.actions
    assert canary not in result.text
    assert not any(canary in action.text for action in result.actions)


def test_config_keyword_string_keeps_its_quotes() -> None:
    text = 'PG_DSN="host=db dbname=x sslmode=allow"\n'
    fixed = fix_config(text, ".env", [1]).text
    assert fixed.startswith('PG_DSN="host=db dbname=x sslmode=verify-full ')
    assert fixed.endswith('"\n')


def test_python_crlf_and_declared_encoding_are_kept(tmp_path: Path) -> None:
    root = tmp_path / "proj"
    root.mkdir()
    (root / "pyproject.toml").write_text("")
    source = (
        "# -*- coding: latin-1 -*-\r\n"
        "# Café report\r\n"
        "import psycopg\r\n"
        "\r\n"
        "conn = psycopg.connect('host=db dbname=x user=u sslmode=disable')\r\n"
    )
    (root / "app.py").write_bytes(source.encode("latin-1"))
    plan = plan_fixes([root], load(root))
    (fix,) = plan.fixes
    text = fix.after.decode("latin-1")
    assert "# Café report\r\n" in text
    assert "\n" not in text.replace("\r\n", "")
    assert "sslmode=verify-full" in text
    assert "import os\r\n" in text


def test_lines_of_the_fixed_file_map_back_for_diff_mode() -> None:
    before, after = b"a\nb\nc\nd\n", b"a\nX\nY\nb\nc2\nd\n"
    fix = FileFix(Path("x.py"), "x.py", before, after, (), ())
    assert [fix.line_before(n) for n in range(1, 7)] == [1, 2, 2, 2, 3, 4]
