"""A certificate path reaches the driver as it is, whatever characters it holds.

Generated paths (spaces, `=`, `?`, `#`, `%`, `&`, `+`, non-ASCII) go both ways through
the fixer, and the real parsers read the result back:

- written: the fixed URL (`sslrootcert={quote(os.environ[...])}`, percent-encoded) and
  the fixed keyword string (its files as keyword arguments, a quote or a backslash in
  them too), run with the path in DB_CA_PATH, read by psycopg.conninfo.conninfo_to_dict
  (libpq's parser) and sqlalchemy.make_url;
- read: a URL handed to asyncpg that names its root percent-encoded becomes an
  SSLContext whose cafile is the decoded path: asyncpg's own DSN parser, given the same
  URL, opens that file (it exists: a real CA bundle copied there), and so does the
  fixed code's context.
"""

from __future__ import annotations

import ast
import os
import shutil
import ssl
import sys
import types
import urllib.parse
from pathlib import Path

import certifi
import pytest
from asyncpg import connect_utils
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from psycopg.conninfo import conninfo_to_dict, make_conninfo
from sqlalchemy.engine import make_url

from verifyfull.fix.python_fixes import fix_python

_EXAMPLES = int(os.environ.get("VERIFYFULL_FIX_EXAMPLES", "40"))
# What makes a path hard in a URL or a keyword string, plus ordinary file-name text.
_HARD = " =?#%&+;:@,~'\"é"
_NAME = st.text(st.sampled_from("abc-_." + _HARD), min_size=1, max_size=12).filter(
    lambda n: n not in {".", ".."}
)
_PATHS = st.lists(_NAME, min_size=1, max_size=3).map(lambda parts: "/" + "/".join(parts))
# keyword arguments carry a quote or a backslash too (session 7's quoted paths could not)
_ANY_PATHS = st.lists(_NAME | st.just("a'b\\c"), min_size=1, max_size=3).map(
    lambda parts: "/" + "/".join(parts)
)


def _written(source: str, line: int, path: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """The connection string the fixed code hands libpq at run time with DB_CA_PATH=path:
    the fixed module is run with a psycopg whose connect() returns what the real one gives
    libpq (psycopg's make_conninfo: the string with the keyword arguments over it)."""
    fixed = fix_python(source, [line]).text
    monkeypatch.setenv("DB_CA_PATH", path)
    monkeypatch.delenv("DB_CERT_PATH", raising=False)
    monkeypatch.delenv("DB_KEY_PATH", raising=False)
    stand_in = types.ModuleType("psycopg")
    stand_in.connect = lambda conninfo="", **kwargs: make_conninfo(conninfo, **kwargs)  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "psycopg", stand_in)
    namespace: dict[str, object] = {}
    exec(compile(fixed, "fixed", "exec"), namespace)  # the fixed module, as Python runs it
    value = namespace["conn"]
    assert isinstance(value, str)
    return value


# The libpq forms a fix writes into: a URL (percent-encoded into its query) and a keyword
# string (the files as keyword arguments, one value each, whatever they hold: no quoting).
_FORMS = {
    "url": "postgresql://app@db/app?sslmode=require",
    "keywords": "host=db dbname=app sslmode=require",
}


@pytest.mark.parametrize("form", sorted(_FORMS))
@settings(max_examples=_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_a_path_written_into_a_libpq_string_reads_back_the_same(
    monkeypatch: pytest.MonkeyPatch, form: str, data: st.DataObject
) -> None:
    dsn = _FORMS[form]
    path = data.draw(_PATHS if form == "url" else _ANY_PATHS)
    written = _written(f"import psycopg\nconn = psycopg.connect({dsn!r})\n", 2, path, monkeypatch)
    assert conninfo_to_dict(written)["sslrootcert"] == path  # libpq's parser
    assert conninfo_to_dict(written)["sslmode"] == "verify-full"
    if form == "url":
        assert make_url(written).query["sslrootcert"] == path  # SQLAlchemy's


def _cafile(fixed: str) -> str:
    for node in ast.walk(ast.parse(fixed)):
        if isinstance(node, ast.keyword) and node.arg == "cafile":
            value = ast.literal_eval(node.value)
            assert isinstance(value, str)
            return value
    raise AssertionError(fixed)


@settings(max_examples=_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
@given(_NAME, st.booleans())
def test_a_path_read_from_an_asyncpg_url_opens_the_same_file(
    tmp_path_factory: pytest.TempPathFactory, name: str, plus: bool
) -> None:
    where = tmp_path_factory.mktemp("ca") / name
    where.mkdir()
    ca = where / "ca.crt"
    shutil.copyfile(certifi.where(), ca)
    encode = urllib.parse.quote_plus if plus else urllib.parse.quote
    url = f"postgresql://app@db/app?sslmode=verify-full&sslrootcert={encode(str(ca))}"
    # asyncpg's own parser opens the file the URL names (a wrong path: FileNotFoundError)
    _addrs, params = connect_utils._parse_connect_dsn_and_args(
        dsn=url,
        host=None,
        port=None,
        user=None,
        password=None,
        passfile=None,
        database=None,
        ssl=None,
        direct_tls=None,
        server_settings=None,
        target_session_attrs=None,
        krbsrvname=None,
        gsslib=None,
        service=None,
        servicefile=None,
    )
    assert isinstance(params.ssl, ssl.SSLContext) and params.ssl.get_ca_certs()
    source = f"import asyncpg\nasync def f():\n    return await asyncpg.connect({url!r})\n"
    fixed = fix_python(source, [3]).text
    assert Path(_cafile(fixed)) == ca
    ssl.create_default_context(cafile=_cafile(fixed))  # opens it
