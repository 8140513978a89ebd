"""Classes the session 16/17 held-out rounds found (a connection library no site table
knew, an unverified context reported once where it is made, an environment reader's
placeholder default, a finding placed at the binding that reaches the call), each
generated over its shapes and compared with the driver call or the reading written out;
filtered == full analysis throughout (the prefilter's soundness, checked by the shared
_findings). Fixtures: tests/fixtures/scan/python/heldout_s17/."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from test_heldout_s8_py import _project
from test_heldout_s15_sites import _SETTINGS, _rules

# --- 1. litestar-asyncpg: PoolConfig(...) is asyncpg.create_pool(**fields) -------------

POOL_CONFIG_IMPORTS = (
    ("from litestar_asyncpg import AsyncpgConfig, PoolConfig", "PoolConfig"),
    ("from litestar_asyncpg.config import PoolConfig as Pool", "Pool"),
    ("import litestar_asyncpg", "litestar_asyncpg.PoolConfig"),
)
DSNS = (
    "'postgresql://app@db.internal:5432/app'",
    "'postgresql://app@db.internal:5432/app?sslmode=disable'",
    "'postgresql://app@db.internal:5432/app?sslmode=require'",
    "'postgresql://app@db.internal/app?sslmode=verify-full&sslrootcert=/ca.crt'",
    "os.environ['DATABASE_URL']",
)
POOL_FIELDS = ("", ", min_size=4, max_size=12", ", max_inactive_connection_lifetime=300")
CONNECT_KWARGS = (
    None,
    "{}",
    "{'ssl': 'require'}",
    "{'ssl': 'disable', 'timeout': 5}",
    "{'command_timeout': 60}",
    "{'ssl': ssl.create_default_context(cafile='/ca.crt')}",
)


@_SETTINGS
@given(
    imports=st.sampled_from(POOL_CONFIG_IMPORTS),
    dsn=st.sampled_from(DSNS),
    fields=st.sampled_from(POOL_FIELDS),
    connect_kwargs=st.sampled_from(CONNECT_KWARGS),
    by_keyword=st.booleans(),
    wrapped_in_config=st.booleans(),
)
def test_a_litestar_pool_config_is_judged_as_the_pool_it_makes(
    tmp_path: Path,
    imports: tuple[str, str],
    dsn: str,
    fields: str,
    connect_kwargs: str | None,
    by_keyword: bool,
    wrapped_in_config: bool,
) -> None:
    statement, name = imports
    given_dsn = f"dsn={dsn}" if by_keyword else dsn
    spread = f", connect_kwargs={connect_kwargs}" if connect_kwargs is not None else ""
    made = f"{name}({given_dsn}{fields}{spread})"
    if wrapped_in_config:  # AsyncpgConfig(pool_config=PoolConfig(...)) on the same line
        made = f"AsyncpgConfig(pool_config={made})"
        statement = f"{statement}\nfrom litestar_asyncpg import AsyncpgConfig"
    direct_spread = f", **{connect_kwargs}" if connect_kwargs is not None else ""
    direct = f"asyncpg.create_pool(dsn={dsn}{fields}{direct_spread})"
    files = {
        name_: f"import os, ssl\n{head.replace(chr(10), '; ')}\n\napp = object()\nsite = {call}\n"
        for name_, head, call in (
            ("w.py", statement, made),
            ("d.py", "import asyncpg", direct),
        )
    }
    root = _project(tmp_path, (statement, made), files)
    wrapped, driver = _rules(root, "w.py", 5), _rules(root, "d.py", 5)
    assert wrapped == driver, made
    given = connect_kwargs or ""
    verified = "create_default_context" in given or ("verify-full" in dsn and "'ssl'" not in given)
    # a verified pool is quiet; any other PostgreSQL pool has a verdict (or VF108)
    assert bool(wrapped) != verified, made


def test_a_pool_config_of_another_library_is_no_site(tmp_path: Path) -> None:
    """A PoolConfig the project defines (or another library's) makes no pool here."""
    source = "from myapp.db import PoolConfig\nsite = PoolConfig(dsn='postgresql://db/app')\n"
    root = _project(tmp_path, "other", {"m.py": source})
    assert not _rules(root, "m.py", 2)
