"""A URL read from a pydantic Settings object: the class gains the certificate fields and
the fixed code reads them from the same object (fix/settings_source.py, issue 15).

Generated projects (field case, env_prefix and case_sensitive set four ways, the object
imported, built by a helper or in the same module, an inherited config, three call kinds)
are fixed by the real planner, then executed with the real pydantic-settings and stub
drivers: the driver is handed verify-full with the CA the environment variable pydantic
reads names; without it, start-up stops with one error naming that variable.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import ssl
import sys
import types
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from verifyfull.certs.create import create_ca
from verifyfull.fix.plan import FIXABLE, plan_fixes
from verifyfull.scan import engine
from verifyfull.scan.settings import load

_EXAMPLES = settings(
    max_examples=16,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
URLS = {
    "async_engine": "postgresql+asyncpg://shop@db:26257/shop",
    "engine_psycopg": "postgresql+psycopg://shop@db:26257/shop?sslmode=prefer",
    "pool": "postgresql://shop@db:26257/shop",
}


def _config(prefix: str, sensitive: bool, how: str) -> tuple[str, str, str]:
    """(class keywords, class body lines, imports) setting env_prefix/case_sensitive."""
    options = {}
    if prefix:
        options["env_prefix"] = repr(prefix)
    if sensitive:
        options["case_sensitive"] = "True"
    if not options:
        return "", "", "from pydantic_settings import BaseSettings\n"
    pairs = ", ".join(f"{k}={v}" for k, v in options.items())
    if how == "keywords":
        return f", {pairs}", "", "from pydantic_settings import BaseSettings\n"
    if how == "dict":
        entries = ", ".join(f'"{k}": {v}' for k, v in options.items())
        return (
            "",
            f"    model_config = {{{entries}}}\n",
            "from pydantic_settings import BaseSettings\n",
        )
    if how == "config_class":
        inner = "".join(f"        {k} = {v}\n" for k, v in options.items())
        return "", f"    class Config:\n{inner}", "from pydantic_settings import BaseSettings\n"
    return (
        "",
        f"    model_config = SettingsConfigDict({pairs})\n",
        "from pydantic_settings import BaseSettings, SettingsConfigDict\n",
    )


def _project(
    call: str, case: str, prefix: str, sensitive: bool, how: str, obj: str, inherited: bool
) -> tuple[dict[str, str], str]:
    """The project's files and the name of the module that makes the connection."""
    field = "DATABASE_URL" if case == "upper" else "database_url"
    keywords, body, imports = _config(prefix, sensitive, how)
    if inherited:
        base_body = body or "    pass\n"
        classes = (
            f"class Base(BaseSettings{keywords}):\n{base_body}\n\n"
            f"class Settings(Base):\n    {field}: str = {URLS[call]!r}\n"
        )
    else:
        classes = (
            f"class Settings(BaseSettings{keywords}):\n{body}    {field}: str = {URLS[call]!r}\n"
        )
    helper = (
        "\n\n@lru_cache\ndef get_settings() -> Settings:\n    return Settings()\n"
        if obj == "helper"
        else "\n\nsettings = Settings()\n"
    )
    head = "from functools import lru_cache\n\n" if obj == "helper" else ""
    config = head + imports + "\n\n" + classes + helper
    if call == "pool":
        use = (
            "import asyncpg\n\n",
            "\n\nasync def main():\n"
            f'    return await asyncpg.create_pool(settings.{field}, ssl="require")\n',
        )
    elif call == "async_engine":
        use = (
            "from sqlalchemy.ext.asyncio import create_async_engine\n\n",
            f"\nengine = create_async_engine(settings.{field}, pool_pre_ping=True)\n",
        )
    else:
        use = (
            "from sqlalchemy import create_engine\n\n",
            f'\nengine = create_engine(settings.{field}, connect_args={{"connect_timeout": 5}})\n',
        )
    if obj == "same":
        text = use[0] + config + use[1]
        return {"app/__init__.py": "", "app/db.py": text}, "app.db"
    binding = (
        "from app.config import get_settings\n\nsettings = get_settings()\n"
        if obj == "helper"
        else "from app.config import settings\n"
    )
    files = {"app/__init__.py": "", "app/config.py": config, "app/db.py": use[0] + binding + use[1]}
    return files, "app.db"


def _stub_drivers(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    seen: dict[str, Any] = {}

    def create_engine(url: str, **kwargs: Any) -> None:
        seen.update(kwargs, url=url)

    async def create_pool(dsn: str, **kwargs: Any) -> None:
        seen.update(kwargs, url=dsn)

    sqlalchemy = types.ModuleType("sqlalchemy")
    sqlalchemy.__path__ = []  # type: ignore[attr-defined]
    sqlalchemy.create_engine = create_engine  # type: ignore[attr-defined]
    ext = types.ModuleType("sqlalchemy.ext")
    ext.__path__ = []  # type: ignore[attr-defined]
    asyncio_ext = types.ModuleType("sqlalchemy.ext.asyncio")
    asyncio_ext.create_async_engine = create_engine  # type: ignore[attr-defined]
    asyncpg = types.ModuleType("asyncpg")
    asyncpg.create_pool = create_pool  # type: ignore[attr-defined]
    for name, module in {
        "sqlalchemy": sqlalchemy,
        "sqlalchemy.ext": ext,
        "sqlalchemy.ext.asyncio": asyncio_ext,
        "asyncpg": asyncpg,
    }.items():
        monkeypatch.setitem(sys.modules, name, module)
    return seen


def _run(root: Path, module: str, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    seen = _stub_drivers(monkeypatch)
    for name in [n for n in sys.modules if n == "app" or n.startswith("app.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.syspath_prepend(str(root))
    namespace: dict[str, Any] = {}
    path = root / (module.replace(".", "/") + ".py")
    namespace["__name__"] = module
    exec(compile(path.read_text(), str(path), "exec"), namespace)
    if "main" in namespace:
        asyncio.run(namespace["main"]())
    return seen


@pytest.fixture(scope="module")
def ca(tmp_path_factory: pytest.TempPathFactory) -> str:
    certs = tmp_path_factory.mktemp("ca")
    create_ca(certs / "certs", certs / "ca.key")
    return str(certs / "certs" / "ca.crt")


@_EXAMPLES
@given(
    call=st.sampled_from(sorted(URLS)),
    case=st.sampled_from(["upper", "lower"]),
    prefix=st.sampled_from(["", "APP_", "shop_"]),
    sensitive=st.booleans(),
    how=st.sampled_from(["config_dict", "keywords", "dict", "config_class"]),
    obj=st.sampled_from(["instance", "helper", "same"]),
    inherited=st.booleans(),
)
def test_the_settings_class_gains_the_fields_the_fixed_code_reads(
    tmp_path: Path,
    ca: str,
    monkeypatch: pytest.MonkeyPatch,
    call: str,
    case: str,
    prefix: str,
    sensitive: bool,
    how: str,
    obj: str,
    inherited: bool,
) -> None:
    files, module = _project(call, case, prefix, sensitive, how, obj, inherited)
    root = tmp_path / "proj"
    if root.exists():  # hypothesis runs every example in the same tmp_path
        shutil.rmtree(root)
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    (root / "pyproject.toml").write_text("")
    plan = plan_fixes([root], load(root), unsafe=True)
    for fix in plan.fixes:
        fix.path.write_bytes(fix.after)
        compile(fix.after, fix.relpath, "exec")
    assert not {f.rule_id for f in engine.scan([root], load(root)).report.findings} & FIXABLE
    assert plan_fixes([root], load(root), unsafe=True).fixes == ()  # a fixed point
    fixed = (root / "app" / "db.py").read_text()
    assert "os.environ" not in fixed  # the files come from the settings object
    field = "DB_CA_PATH" if case == "upper" else "db_ca_path"
    variable = prefix + field if sensitive else (prefix + field).upper()
    for name in list(os.environ):  # an earlier example's, in any case (pydantic ignores it)
        if name.lower().endswith(("db_ca_path", "db_cert_path", "db_key_path")):
            monkeypatch.delenv(name)
    # without the root: one error naming the variable pydantic reads it from
    with pytest.raises(RuntimeError) as stopped:
        _run(root, module, monkeypatch)
    assert str(stopped.value).startswith(f"{variable} is not set")
    monkeypatch.setenv(variable, ca)
    seen = _run(root, module, monkeypatch)
    if call == "engine_psycopg":
        args = seen["connect_args"]
        assert args["sslmode"] == "verify-full" and args["sslrootcert"] == ca
        assert args["sslcert"] == "" and args["connect_timeout"] == 5  # password auth works
    else:
        context = seen["connect_args"]["ssl"] if call == "async_engine" else seen["ssl"]
        assert isinstance(context, ssl.SSLContext)
        assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname


def test_without_a_settings_class_the_environment_is_read(tmp_path: Path) -> None:
    """A URL from os.environ (no Settings object): the fix reads the process environment."""
    root = tmp_path / "proj"
    root.mkdir()
    (root / "pyproject.toml").write_text("")
    (root / "db.py").write_text(
        "import os\n\nimport asyncpg\n\n\nasync def main():\n"
        '    return await asyncpg.connect(os.environ["DATABASE_URL"], ssl="require")\n'
    )
    (fix,) = plan_fixes([root], load(root), unsafe=True).fixes
    assert 'os.environ["DB_CA_PATH"]' in fix.after.decode()
    assert fix.settings is None
