"""Env readers with a literal default: the standard library's and the libraries' in
env_readers (python-decouple `config`), the default positional or by keyword after
other keywords, on one line or several. The literal is a password written in the
tree, so VF401 at the literal; the prefilter must keep every such file (soundness).
"""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from test_scan_python_prefilter import _ctx, _filtered, _full, _source

# (import line, the reader as the code spells it)
READERS = (
    ("import os", "os.getenv"),
    ("import os", "os.environ.get"),
    ("from os import getenv", "getenv"),
    ("from decouple import config", "config"),
    ("from decouple import config as env_config", "env_config"),
    ("import decouple", "decouple.config"),
    # starlette: an instance is the reader (Config.__call__(key, cast=None, default=...))
    ("from starlette.config import Config\nconfig = Config('.env')", "config"),
    ("import starlette.config\nenv = starlette.config.Config()", "env"),
)
# Readers whose second positional argument is `cast`, the default the third.
CAST_FIRST = ("config", "env")
NAMES = ("POSTGRES_PASSWORD", "DB_PASSWORD", "db_pass", "PG_PASSWD", "DATABASE_PASSWORD")
EXTRA = ("cast=str", "cast=lambda v: v")
SECRET = "Tr0ub4dor-x9"


@st.composite
def programs(draw: st.DrawFn) -> tuple[str, int, int]:
    """A module reading a password with a literal default; the default's line and column."""
    imported, reader = draw(st.sampled_from(READERS))
    name = draw(st.sampled_from(NAMES))
    keyword = draw(st.booleans()) or "os.environ.get" not in reader
    # os.environ.get takes the default positionally only (Mapping.get(key, default)).
    keyword = keyword and reader != "os.environ.get"
    library = "decouple" in imported or "starlette" in imported
    extras = draw(st.lists(st.sampled_from(EXTRA), max_size=1)) if library else []
    arguments = [f'"{name}"', *extras, f'default="{SECRET}"' if keyword else f'"{SECRET}"']
    if not keyword:
        arguments = [f'"{name}"', f'"{SECRET}"', *extras]
        if reader in CAST_FIRST and "starlette" in imported:
            arguments = [f'"{name}"', "str", f'"{SECRET}"']
    separator = draw(st.sampled_from((", ", ",\n    ")))
    target = draw(st.sampled_from((name, "PASSWORD", "password")))
    head = f"{imported}\n\nHOST = 'db.internal'\n{target} = {reader}("
    text = head + separator.join(arguments) + ")\n"
    at = text.index(f'"{SECRET}"') if not keyword else text.index(f'default="{SECRET}"') + 8
    line = text.count("\n", 0, at) + 1
    column = at - text.rfind("\n", 0, at)
    return text, line, column


FIXTURE_OK = [HealthCheck.function_scoped_fixture]


@settings(max_examples=40, deadline=None, suppress_health_check=FIXTURE_OK)
@given(case=programs())
def test_a_literal_default_of_any_env_reader_is_a_credential_written_there(
    tmp_path: Path, case: tuple[str, int, int]
) -> None:
    text, line, column = case
    path = tmp_path / "settings.py"
    path.write_text(text, encoding="utf-8")
    source = _source(path, tmp_path)
    full = _full(source, _ctx(tmp_path))
    assert ("VF401", line, column) in full, text
    assert _filtered(source, _ctx(tmp_path)) == full, text


@settings(max_examples=20, deadline=None, suppress_health_check=FIXTURE_OK)
@given(reader=st.sampled_from(READERS), name=st.sampled_from(NAMES))
def test_an_env_reader_without_a_default_writes_no_credential(
    tmp_path: Path, reader: tuple[str, str], name: str
) -> None:
    imported, spelled = reader
    path = tmp_path / "settings.py"
    path.write_text(f'{imported}\n\n{name} = {spelled}("{name}")\n', encoding="utf-8")
    source = _source(path, tmp_path)
    assert _full(source, _ctx(tmp_path)) == []


# A starlette Config instance made in a settings module and called where it is imported:
# the URL default reaches the engine as an os.getenv default does.
SETTINGS = "from starlette.config import Config\n\nconfig = Config('.env')\n"
IMPORTS = (
    ("from app.settings import config", "config"),
    ("from app import settings", "settings.config"),
    ("import app.settings as g", "g.config"),
)
URLS = (
    "postgresql://app@db.internal/app",
    "postgresql://app@db.internal/app?sslmode=disable",
    "postgresql://app@db.internal/app?sslmode=require",
    "postgresql://app@db.internal/app?sslmode=verify-full&sslrootcert=/etc/ssl/ca.pem",
)


@settings(max_examples=24, deadline=None, suppress_health_check=FIXTURE_OK)
@given(imported=st.sampled_from(IMPORTS), url=st.sampled_from(URLS), cast=st.booleans())
def test_a_starlette_config_default_reaches_the_engine_as_a_getenv_default(
    tmp_path: Path, imported: tuple[str, str], url: str, cast: bool
) -> None:
    (tmp_path / "app").mkdir(exist_ok=True)
    (tmp_path / "app" / "__init__.py").write_text("", encoding="utf-8")
    (tmp_path / "app" / "settings.py").write_text(SETTINGS, encoding="utf-8")
    line, reader = imported
    extra = "cast=str, " if cast else ""
    starlette = f'{line}\nimport sqlalchemy\n\nURL = {reader}("DB_URL", {extra}default="{url}")\n'
    getenv = f'import os\nimport sqlalchemy\n\nURL = os.getenv("DB_URL", "{url}")\n'
    engine = "engine = sqlalchemy.create_engine(URL)\n"
    found = []
    for text in (starlette, getenv):
        path = tmp_path / "app" / "db.py"
        path.write_text(text + engine, encoding="utf-8")
        source = _source(path, tmp_path)
        full = _full(source, _ctx(tmp_path))
        assert _filtered(source, _ctx(tmp_path)) == full, text
        found.append({rule for rule, line_number, _ in full if line_number == 5})
    assert found[0] == found[1], starlette
    assert found[0] != {"VF108"}, starlette
