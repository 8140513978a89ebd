"""Scanner recall on shapes real projects use (issue 12, session 6), generated.

- callers in other modules: a module function's DSN parameter, passed by callers in
  the project's other modules (imported directly, renamed, or through the package's
  re-export, by keyword or position), is judged with every caller's value; a function
  the tree never calls stays a VF108;
- a TLS key written into a dict after it is built (`args["ssl"] = …`, `.update`,
  `.setdefault`, `|=`, under a condition or not): the finding is at that write;
- a Settings field default read by a site in another module: reported at the default;
- a literal password reaching a DSN through a `.format` keyword or a Settings default.
Each property is checked on a scan of a generated tree, as the CLI runs it.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from verifyfull.scan import engine
from verifyfull.scan.settings import ScanSettings

# The DSN a caller passes, and what asyncpg then does (FACTS.md: no ssl argument, the
# DSN's sslmode decides; verify-full with a root the tree holds checks everything).
ROOT = "certs/ca.crt"
PASSED = {
    "disable": ("'postgresql://app@db.internal/app?sslmode=disable'", {"VF101"}),
    "prefer": ("'postgresql://app@db.internal/app'", {"VF102"}),
    "require": ("'postgresql://app@db.internal/app?sslmode=require'", {"VF103"}),
    "verified": (
        f"'postgresql://app@db.internal/app?sslmode=verify-full&sslrootcert={ROOT}'",
        set(),
    ),
    "environment": ("os.environ['DATABASE_URL']", {"VF108"}),
}
TRANSPORT = {"VF101", "VF102", "VF103", "VF104", "VF105", "VF108"}


def _scan(files: dict[str, str]) -> list[tuple[str, int, str]]:
    with tempfile.TemporaryDirectory() as directory:
        root = Path(directory)
        (root / "certs").mkdir()
        (root / ROOT).write_text("-----BEGIN CERTIFICATE-----\n")
        for relpath, text in files.items():
            (root / relpath).parent.mkdir(parents=True, exist_ok=True)
            (root / relpath).write_text(text)
        result = engine.scan([root], ScanSettings(project_root=root), jobs=1)
    return [
        (item.path or "", item.line or 0, item.rule_id)
        for item in result.report.findings
        if item.rule_id in TRANSPORT
    ]


@st.composite
def caller_trees(draw: st.DrawFn) -> tuple[dict[str, str], set[str]]:
    """app/db/pools.py defines open_pool(dsn); 0-3 modules elsewhere call it."""
    param = draw(st.sampled_from(["dsn", "url", "database_url"]))
    files = {
        "app/db/__init__.py": "from .pools import open_pool\n",
        "app/db/pools.py": (
            "import asyncpg\n\n\n"
            f"async def open_pool({param}: str, size: int = 5):\n"
            f"    return await asyncpg.create_pool(dsn={param}, max_size=size)\n"
        ),
    }
    expected: set[str] = set()
    count = draw(st.integers(0, 3))
    for index in range(count):
        kind = draw(st.sampled_from(sorted(PASSED)))
        argument, rules = PASSED[kind]
        expected |= rules
        how = draw(st.sampled_from(["direct", "renamed", "package"]))
        if how == "direct":
            head, name = "from .db.pools import open_pool", "open_pool"
        elif how == "renamed":
            head, name = "from .db.pools import open_pool as make_pool", "make_pool"
        else:
            head, name = "from .db import open_pool", "open_pool"
        call = f"{name}({argument})" if draw(st.booleans()) else f"{name}({param}={argument})"
        files[f"app/job{index}.py"] = (
            f"import os\n{head}\n\n\nasync def run():\n    return await {call}\n"
        )
    if not count:
        expected = {"VF108"}  # nothing in the tree calls it: its callers are elsewhere
    if expected - {"VF108"}:
        expected.discard("VF108")  # one verdict per site: a weak caller's is certain
    return files, expected


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tree=caller_trees())
def test_a_parameter_is_judged_with_every_caller_in_other_modules(
    tree: tuple[dict[str, str], set[str]],
) -> None:
    files, expected = tree
    found = {rule for path, line, rule in _scan(files) if path == "app/db/pools.py"}
    assert found == expected, (files, found)


@st.composite
def changed_dicts(draw: st.DrawFn) -> tuple[str, int, int, set[str], set[str]]:
    """A dict of connection options given to a driver, its TLS key written later (the
    call's own finding: the reading where a condition left the dict unchanged)."""
    mode, rules = draw(
        st.sampled_from([("disable", {"VF101"}), ("prefer", {"VF102"}), ("require", {"VF103"})])
    )
    name = draw(st.sampled_from(["connect_args", "params", "options"]))
    driver = draw(st.sampled_from(["sqlalchemy", "psycopg"]))
    write = draw(st.sampled_from(["item", "update", "update-dict", "setdefault", "or-equals"]))
    conditional = draw(st.booleans())
    written = {
        "item": f"{name}['sslmode'] = {mode!r}",
        "update": f"{name}.update(sslmode={mode!r})",
        "update-dict": f"{name}.update({{'sslmode': {mode!r}}})",
        "setdefault": f"{name}.setdefault('sslmode', {mode!r})",
        "or-equals": f"{name} |= {{'sslmode': {mode!r}}}",
    }[write]
    lines = [
        "import os",
        "import psycopg",
        "from sqlalchemy import create_engine",
        "",
        f"{name} = {{'connect_timeout': 5}}",
    ]
    if conditional:
        lines += ["if os.environ.get('PRODUCTION'):", f"    {written}"]
    else:
        lines.append(written)
    write_line = len(lines)
    if driver == "sqlalchemy":
        call = f"create_engine('postgresql://app@db.internal/app', connect_args={name})"
    else:
        call = f"psycopg.connect(host='db.internal', dbname='app', **{name})"
    lines.append(f"conn = {call}")
    unchanged = {"VF102"} if conditional else set()  # no sslmode anywhere: prefer
    return "\n".join(lines) + "\n", write_line, len(lines), rules, unchanged


@settings(max_examples=40, deadline=None)
@given(program=changed_dicts())
def test_a_tls_key_written_after_the_dict_is_built_is_reported_at_the_write(
    program: tuple[str, int, int, set[str], set[str]],
) -> None:
    source, write_line, call_line, rules, unchanged = program
    found = _scan({"db.py": source})
    at_write = {rule for _, line, rule in found if line == write_line}
    at_call = {rule for _, line, rule in found if line == call_line}
    assert at_write == rules, (source, found)
    assert at_call == unchanged, (source, found)


@st.composite
def settings_trees(draw: st.DrawFn) -> tuple[dict[str, str], int, int, set[str], bool]:
    """A pydantic Settings module whose DSN field has a default, read by a connection
    site in another module (through an instance, a factory or a module global)."""
    mode, rules = draw(
        st.sampled_from([("disable", {"VF101"}), ("prefer", {"VF102"}), ("require", {"VF103"})])
    )
    field = draw(st.sampled_from(["DB_DSN", "database_url", "pg_url"]))
    query = "" if mode == "prefer" else f"?sslmode={mode}"
    default = f"postgresql+psycopg2://svc@db.internal:5432/app{query}"
    settings = (
        "from pydantic_settings import BaseSettings\n\n\n"
        "class Settings(BaseSettings):\n"
        "    LOG_LEVEL: str = 'INFO'\n"
        f"    {field}: str = {default!r}\n\n\n"
        "settings = Settings()\n\n\n"
        "def get_settings() -> Settings:\n"
        "    return Settings()\n"
    )
    reader = draw(st.sampled_from(["settings", "get_settings()", "Settings()"]))
    imported = reader.split("(")[0]
    read = f"{reader}.{field}"
    if draw(st.booleans()):
        read = f"str({read})"
    decided_at_call = draw(st.booleans())  # the call's own sslmode decides
    extra = ", connect_args={'sslmode': 'require'}" if decided_at_call else ""
    site = (
        "from sqlalchemy import create_engine\n\n"
        f"from app.config import {imported}\n\n"
        f"engine = create_engine({read}{extra})\n"
    )
    files = {"app/__init__.py": "", "app/config.py": settings, "app/db.py": site}
    return files, 6, 5, ({"VF103"} if decided_at_call else rules), decided_at_call


@settings(max_examples=30, deadline=None)
@given(tree=settings_trees())
def test_a_settings_default_read_in_another_module_is_reported_at_the_default(
    tree: tuple[dict[str, str], int, int, set[str], bool],
) -> None:
    files, default_line, call_line, rules, decided_at_call = tree
    found = _scan(files)
    at_default = {r for path, line, r in found if (path, line) == ("app/config.py", default_line)}
    at_call = {r for path, line, r in found if (path, line) == ("app/db.py", call_line)}
    if decided_at_call:  # the call's argument decides: the finding stays at the call
        assert (at_default, at_call) == (set(), rules), (files, found)
    else:
        assert (at_default, at_call) == (rules, set()), (files, found)


@st.composite
def password_trees(draw: st.DrawFn) -> tuple[dict[str, str], tuple[str, int] | None]:
    """A literal password reaching a DSN: a Settings field default in another module
    (through a property), or a credential-named `.format` keyword; placeholders too."""
    password = draw(st.sampled_from(["s3cr3t-db", "Orders2024!", "changeme", "your_password"]))
    real = password not in ("changeme", "your_password")
    field = draw(st.sampled_from(["db_password", "pg_pass", "pwd"]))
    if draw(st.booleans()):
        written = f"Field(default={password!r})" if draw(st.booleans()) else repr(password)
        config = (
            "from pydantic import Field\n"
            "from pydantic_settings import BaseSettings\n\n\n"
            "class Settings(BaseSettings):\n"
            "    db_user: str = 'svc'\n"
            f"    {field}: str = {written}\n\n"
            "    @property\n"
            "    def dsn(self) -> str:\n"
            f"        return f'postgresql://{{self.db_user}}:{{self.{field}}}@db.internal/app'\n"
        )
        site = (
            "import asyncpg\n\nfrom app.config import Settings\n\n\n"
            "async def main():\n    return await asyncpg.connect(Settings().dsn)\n"
        )
        files = {"app/__init__.py": "", "app/config.py": config, "app/db.py": site}
        return files, (("app/config.py", 7) if real else None)
    # the first binding is replaced before the call: its keyword is not this password
    source = (
        "import psycopg2\n\n"
        "URL = 'postgresql://{user}:{secret}@db.internal/app'.format(\n"
        f"    user='svc', secret='x', {field}='not-this-one'\n"
        ")\n"
        f"URL = 'postgresql://{{u}}:{{{field}}}@db.internal/app'.format(\n"
        f"    u='svc', {field}={password!r}\n"
        ")\n"
        "conn = psycopg2.connect(URL)\n"
    )
    return {"db.py": source}, (("db.py", 7) if real else None)


@settings(max_examples=30, deadline=None)
@given(tree=password_trees())
def test_a_literal_password_reaching_a_dsn_is_reported_where_it_is_written(
    tree: tuple[dict[str, str], tuple[str, int] | None],
) -> None:
    files, where = tree
    with tempfile.TemporaryDirectory() as directory:
        root = Path(directory)
        for relpath, text in files.items():
            (root / relpath).parent.mkdir(parents=True, exist_ok=True)
            (root / relpath).write_text(text)
        result = engine.scan([root], ScanSettings(project_root=root), jobs=1)
    found = {(f.path, f.line) for f in result.report.findings if f.rule_id == "VF401"}
    assert found == ({where} if where else set()), (files, found)
