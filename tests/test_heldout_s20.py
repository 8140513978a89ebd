"""Classes the session 20 held-out round found, each generated over its shapes.
filtered == full analysis throughout (the prefilter's soundness, checked by _findings).

1. yarl URLs (StabRise/scaledp-chat): a settings property `URL.build(scheme=
   "postgresql+asyncpg", host=..., path=...)` with no query was VF108 ("the URL is
   result of yarl.URL.build()") at every engine; it is a known URL with asyncpg's
   prefer. yarl's own edits decide the query: the path edits clear it. Real yarl is
   the oracle: the scanner judges the edited URL as it judges the literal yarl makes.
2. pytest fixtures (BioGeMT/varMT): a test's argument is what its fixture returns or
   yields (was VF108, "keyword arguments passed through **").
3. An SSLContext next to a DSN sslmode it overrides (Izummzer/trust-or-bust, 2 secure
   sites flagged): VF105 only when ignoring loses something, a file never loaded or a
   check the mode asks for and the context skips.
4. A mode bound to a name then passed as ssl=/sslmode= (knowledge-agent): at the binding.
5. A URL with no TLS setting written as one expression (varMT, commits-analyzer,
   real-estate-scrapers): where it is written, the calls related, one for its branches.
6. A monorepo's sub-project package (zji996/SubFlow `libs/subflow/subflow`): imported.
"""

from __future__ import annotations

import ssl
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from test_heldout_s8_py import _findings, _project
from test_heldout_s15_sites import _SETTINGS
from verifyfull.conninfo import Environment, SSLArg, evaluate, from_asyncpg_kwargs
from verifyfull.conninfo.sslarg import describe_context
from verifyfull.scan import engine
from verifyfull.scan.settings import ScanSettings

yarl = pytest.importorskip("yarl")

_TRANSPORT = {"VF101", "VF102", "VF103", "VF104", "VF105", "VF108"}

# --- 1. yarl URL.build and its edits, against yarl itself ------------------------------

QUERY_KEYS = ("ssl", "sslmode", "application_name")
QUERY_VALUES = ("disable", "require", "verify-full", "prefer", "app")
# (the edit as written in code, the same edit made by real yarl)
EDITS: tuple[tuple[str, Callable[[Any], Any]], ...] = (
    ('.with_path("/postgres")', lambda u: u.with_path("/postgres")),
    (
        '.with_path("/postgres", keep_query=True)',
        lambda u: u.with_path("/postgres", keep_query=True),
    ),
    ('.joinpath("x")', lambda u: u.joinpath("x")),
    ('.with_name("other")', lambda u: u.with_name("other")),
    (".with_port(6432)", lambda u: u.with_port(6432)),
    ('.with_user("admin")', lambda u: u.with_user("admin")),
    (".with_query(None)", lambda u: u.with_query(None)),
    ('.with_query({"ssl": "require"})', lambda u: u.with_query({"ssl": "require"})),
    ('.with_query(sslmode="disable")', lambda u: u.with_query(sslmode="disable")),
    ('.update_query({"ssl": "disable"})', lambda u: u.update_query({"ssl": "disable"})),
    ('.update_query(ssl="verify-full")', lambda u: u.update_query(ssl="verify-full")),
    (".update_query(None)", lambda u: u.update_query(None)),
    (
        '.extend_query({"application_name": "x"})',
        lambda u: u.extend_query({"application_name": "x"}),
    ),
    ('.without_query_params("ssl")', lambda u: u.without_query_params("ssl")),
    (
        '.without_query_params("sslmode", "ssl")',
        lambda u: u.without_query_params("sslmode", "ssl"),
    ),
    ('.with_scheme("postgresql+asyncpg")', lambda u: u.with_scheme("postgresql+asyncpg")),
    (' / "segment"', lambda u: u / "segment"),
)
queries = st.dictionaries(st.sampled_from(QUERY_KEYS), st.sampled_from(QUERY_VALUES), max_size=2)
edit_chains = st.lists(st.sampled_from(range(len(EDITS))), max_size=3)


def _applied(expression: str, chain: list[int]) -> str:
    """The edit chain as Python: `(base).with_path(...) / "segment"`."""
    for index in chain:
        written = EDITS[index][0]
        expression = (
            f"({expression}){written}" if written.startswith(" /") else expression + written
        )
    return expression


def _site_rules(root: Path, name: str, url_expression: str, prelude: str) -> set[str]:
    code = (
        "from sqlalchemy.ext.asyncio import create_async_engine\n"
        "from yarl import URL\n\n"
        f"{prelude}"
        f"engine = create_async_engine(str({url_expression}))\n"
    )
    (root / name).write_text(code, encoding="utf-8")
    return {rule for rule, _ in _findings(root, name) if rule in _TRANSPORT}


@_SETTINGS
@given(query=queries, chain=edit_chains, as_property=st.booleans())
def test_a_yarl_url_is_judged_as_the_url_yarl_makes(
    tmp_path: Path, query: dict[str, str], chain: list[int], as_property: bool
) -> None:
    build = (
        'URL.build(scheme="postgresql+asyncpg", user="app", host="db.internal", '
        f'port=5432, path="/app", query={query!r})'
    )
    made = yarl.URL.build(
        scheme="postgresql+asyncpg",
        user="app",
        host="db.internal",
        port=5432,
        path="/app",
        query=query,
    )
    for index in chain:
        made = EDITS[index][1](made)
    root = _project(tmp_path, (repr(query), tuple(chain), as_property), {})
    if as_property:  # the s3rius template's shape: a settings property
        from_self = build.replace('"db.internal"', "self.db_host")
        prelude = (
            "class Settings:\n"
            "    db_host = 'db.internal'\n\n"
            "    @property\n"
            "    def db_url(self) -> URL:\n"
            f"        return {from_self}\n\n\n"
            "settings = Settings()\n"
        )
        expression = _applied("settings.db_url", chain)
    else:
        prelude, expression = "", _applied(build, chain)
    got = _site_rules(root, "edited.py", expression, prelude)
    want = _site_rules(root, "literal.py", repr(str(made)), "")
    assert got == want, (str(made), expression)
    assert "VF108" not in got  # every part is written here: nothing is left to the deployment


# --- 2. a test's argument is its pytest fixture's value ------------------------------

MODES = (("", "VF102"), ("disable", "VF101"), ("require", "VF103"), ("verify-ca", "VF104"))
DECORATORS = (
    ("import pytest\n", "@pytest.fixture"),
    ("import pytest\n", "@pytest.fixture(scope='module')"),
    ("from pytest import fixture\n", "@fixture"),
    ("import pytest_asyncio\n", "@pytest_asyncio.fixture"),
)
# where the fixture is defined, relative to the test module tests/unit/test_db.py
WHERES = ("same module", "tests/unit/conftest.py", "tests/conftest.py", "conftest.py")


def _fixture_source(decorator: str, name: str, mode: str, gives: str, chained: bool) -> str:
    entry = f', "sslmode": "{mode}"' if mode else ""
    config = f'{{"host": "db.internal", "dbname": "app"{entry}}}'
    if chained:  # the fixture takes another fixture, as varMT's setup_test_database
        return (
            f"{decorator}\ndef base_config():\n    return {config}\n\n\n"
            f"{decorator}\ndef {name}(base_config):\n    {gives} base_config\n"
        )
    return f"{decorator}\ndef {name}():\n    {gives} {config}\n"


@_SETTINGS
@given(
    mode=st.sampled_from(MODES),
    decorator=st.sampled_from(DECORATORS),
    where=st.sampled_from(WHERES),
    gives=st.sampled_from(("return", "yield")),
    chained=st.booleans(),
    renamed=st.booleans(),
    spread=st.booleans(),
)
def test_a_test_argument_holds_its_fixture_value(
    tmp_path: Path,
    mode: tuple[str, str],
    decorator: tuple[str, str],
    where: str,
    gives: str,
    chained: bool,
    renamed: bool,
    spread: bool,
) -> None:
    word, rule = mode
    imports, written = decorator
    name = "db_config"
    if renamed:  # @pytest.fixture(name="db_config") on a function of another name
        written = "@pytest.fixture(name='db_config')"
        imports = "import pytest\n"
    fixture = _fixture_source(written, "make_config" if renamed else name, word, gives, chained)
    call = "psycopg2.connect(**db_config)" if spread else "psycopg2.connect(**dict(db_config))"
    test = f"def test_connects(db_config):\n    conn = {call}\n    conn.close()\n"
    files: dict[str, str] = {}
    if where == "same module":
        files["tests/unit/test_db.py"] = f"import psycopg2\n{imports}\n\n{fixture}\n\n{test}"
    else:
        files[where] = f"{imports}\n\n{fixture}"
        files["tests/unit/test_db.py"] = f"import psycopg2\n\n\n{test}"
    root = _project(tmp_path, (word, written, where, gives, chained, renamed, spread), {})
    for relpath, text in files.items():
        (root / relpath).parent.mkdir(parents=True, exist_ok=True)
        (root / relpath).write_text(text, encoding="utf-8")
    found = set()
    for relpath in files:
        found |= {r for r, _ in _findings(root, relpath) if r in _TRANSPORT}
    assert found == {rule}, files


# --- 3. an ignored sslmode next to an SSLContext is a finding only when it loses a check ---

CONTEXTS = {  # name: (chain checked, host name checked)
    "full": (True, True),
    "no-hostname": (True, False),
    "none": (False, False),
}
DSN_MODES = ("", "disable", "allow", "prefer", "require", "verify-ca", "verify-full")
ASKS = {"verify-ca": (True, False), "verify-full": (True, True)}


def _context(name: str) -> ssl.SSLContext:
    context = ssl.create_default_context()
    if name != "full":
        context.check_hostname = False
    if name == "none":
        context.verify_mode = ssl.CERT_NONE
    return context


@settings(max_examples=60, deadline=None)
@given(
    context=st.sampled_from(sorted(CONTEXTS)),
    dsn_mode=st.sampled_from(DSN_MODES),
    env_mode=st.sampled_from(DSN_MODES),
    files=st.sampled_from(((), ("sslrootcert",), ("sslcert", "sslkey"))),
)
def test_an_ignored_mode_is_vf105_only_when_the_context_skips_what_it_asks(
    context: str, dsn_mode: str, env_mode: str, files: tuple[str, ...]
) -> None:
    query = [("sslmode", dsn_mode)] if dsn_mode else []
    query += [(key, f"/certs/{key}.pem") for key in files]
    dsn = "postgresql://app@db.internal/app" + ("?" + urlencode(query) if query else "")
    info = from_asyncpg_kwargs(
        {"dsn": dsn, "ssl": SSLArg.of_context(describe_context(_context(context)))}
    )
    environment = Environment.of({"PGSSLMODE": env_mode} if env_mode else {})
    verdict = evaluate(info, "asyncpg", environment)
    has = CONTEXTS[context]
    lost = any(
        want and not got
        for mode in (dsn_mode, env_mode)
        for want, got in zip(ASKS.get(mode, (False, False)), has, strict=True)
    )
    assert ("VF105" in verdict.rule_ids) == (lost or bool(files)), verdict.notes
    # the context's own checks are reported for what they are, whatever was ignored
    assert ("VF103" in verdict.rule_ids) == (context == "none")
    assert ("VF104" in verdict.rule_ids) == (context == "no-hostname")


# --- 4. a mode bound to a name, then passed as ssl=/sslmode=: reported at the binding ----

BOUND = (  # (the call, the literal bound first, the one a branch binds, rule of each)
    ("asyncpg.connect(dsn, ssl={name})", "False", "_ssl.create_default_context()", "VF101", None),
    ("asyncpg.connect(dsn, ssl={name})", "'disable'", "'require'", "VF101", "VF103"),
    ("psycopg2.connect(host=h, sslmode={name})", "'require'", "'disable'", "VF103", "VF101"),
    ("psycopg2.connect(host=h, sslmode={name})", "'prefer'", "'verify-full'", "VF102", None),
)


@_SETTINGS
@given(
    shape=st.sampled_from(BOUND),
    annotated=st.booleans(),
    own_line=st.booleans(),
    name=st.sampled_from(("ssl", "mode", "tls_setting")),
)
def test_a_bound_mode_is_reported_where_its_literal_is_written(
    tmp_path: Path,
    shape: tuple[str, str, str, str, str | None],
    annotated: bool,
    own_line: bool,
    name: str,
) -> None:
    call, first, branch, first_rule, branch_rule = shape
    written = call.format(name=name)
    if own_line:  # the TLS keyword on a line of its own
        head, _, tail = written.partition(", ")
        written = f"{head},\n        {tail[:-1]},\n    )"
    annotation = ": object" if annotated else ""
    code = (
        "import ssl as _ssl\n\nimport asyncpg\nimport psycopg2\n\n\n"
        "async def open_it(dsn: str, h: str, cloud: bool) -> object:\n"
        f"    {name}{annotation} = {first}\n"
        "    if cloud:\n"
        f"        {name} = {branch}\n"
        f"    return {'await ' if 'asyncpg' in call else ''}{written}\n"
    )
    root = _project(tmp_path, (shape, annotated, own_line, name), {"db.py": code})
    found = {(rule, line) for rule, line in _findings(root, "db.py") if rule in _TRANSPORT}
    want = {(first_rule, 8)} | ({(branch_rule, 10)} if branch_rule else set())
    assert found == want, code


# --- 5. a URL with no TLS setting is reported where it is written, the calls related -----

URL_SPELLINGS = {
    "literal": '"postgresql://app@db.internal:5432/app{q}"',
    "fstring": 'f"postgresql://{{USER}}@{{HOST}}:5432/app{q}"',
    "format": '"postgresql://{{}}@{{}}:5432/app{q}".format(USER, HOST)',
    "percent": '"postgresql://%s@%s:5432/app{q}" % (USER, HOST)',
    "plus": '"postgresql://" + USER + "@" + HOST + ":5432/app{q}"',
}


@_SETTINGS
@given(
    spelling=st.sampled_from(sorted(URL_SPELLINGS)),
    holder=st.sampled_from(("module", "function", "helper", "parameter")),
    calls=st.integers(min_value=1, max_value=3),
    query=st.sampled_from(("", "?application_name=x", "?sslmode=require")),
)
def test_a_url_without_tls_is_reported_where_it_is_written(
    tmp_path: Path, spelling: str, holder: str, calls: int, query: str
) -> None:
    written = URL_SPELLINGS[spelling].format(q=query)
    head = 'from sqlalchemy import create_engine\n\nUSER = "app"\nHOST = "db.internal"\n'
    if holder == "module":  # line 5: URL = ...; the calls from line 6
        code = (
            head
            + f"URL = {written}\n"
            + "".join(f"engine{i} = create_engine(URL)\n" for i in range(calls))
        )
        url_line, read = 5, "URL"
    elif holder == "function":  # line 6: url = ... inside the function
        code = (
            head
            + "def engines():\n"
            + f"    url = {written}\n"
            + "".join("    create_engine(url)\n" for _ in range(calls))
        )
        url_line, read = 6, "url"
    elif holder == "parameter":  # line 5: the parameter's default (custom-chatbot's storage)
        code = (
            head
            + f"def engines(url: str = {written}) -> None:\n"
            + "".join("    create_engine(url)\n" for _ in range(calls))
        )
        url_line, read = 5, "url"
    else:  # line 6: the helper's return
        code = (
            head
            + "def get_url():\n"
            + f"    return {written}\n\n\n"
            + "".join(f"engine{i} = create_engine(get_url())\n" for i in range(calls))
        )
        url_line, read = 6, "get_url()"
    root = _project(tmp_path, (spelling, holder, calls, query), {"db.py": code})
    found = _findings(root, "db.py")
    rule = "VF103" if "sslmode" in query else "VF102"
    at_url = {line for r, line in found if r == rule and line == url_line}
    at_calls = {line for r, line in found if r == rule and line != url_line}
    if "sslmode" in query:  # a URL that writes its TLS: each call reads it (session 9)
        assert not at_url and len(at_calls) == calls, code
    else:
        assert at_url == {url_line} and not at_calls, code
        result = engine.scan([root], ScanSettings(project_root=root), jobs=1)
        (reported,) = [f for f in result.report.findings if f.rule_id == rule]
        assert len({r.line for r in reported.related}) == calls, (code, read)


# --- 6. a monorepo's own packages are imported from their sub-projects -------------------


@_SETTINGS
@given(
    parent=st.sampled_from(("libs", "packages/python", "services")),
    src_layout=st.booleans(),
    marker=st.sampled_from(("pyproject.toml", "setup.py", "setup.cfg", None)),
    mode=st.sampled_from(MODES),
)
def test_a_sub_project_package_is_followed_from_the_scripts(
    tmp_path: Path, parent: str, src_layout: bool, marker: str | None, mode: tuple[str, str]
) -> None:
    word, rule = mode
    query = f"?sslmode={word}" if word else ""
    project = f"{parent}/corelib"
    package = f"{project}/src/corelib" if src_layout else f"{project}/corelib"
    files = {
        f"{package}/__init__.py": "",
        f"{package}/config.py": f'DATABASE_URL = "postgresql://app@db.internal/app{query}"\n',
        "scripts/migrate.py": (
            "import psycopg\n\nfrom corelib.config import DATABASE_URL\n\n"
            "conn = psycopg.connect(DATABASE_URL)\n"
        ),
    }
    if marker is not None:
        files[f"{project}/{marker}"] = (
            "[project]\nname = 'corelib'\n" if marker != "setup.py" else ""
        )
    root = _project(tmp_path, (parent, src_layout, marker, word), {})
    for relpath, text in files.items():
        (root / relpath).parent.mkdir(parents=True, exist_ok=True)
        (root / relpath).write_text(text, encoding="utf-8")
    result = engine.scan([root], ScanSettings(project_root=root), jobs=1)
    found = {f.rule_id for f in result.report.findings if f.rule_id in _TRANSPORT}
    # without a project file the directory is no sub-project: the import stays unknown
    assert found == ({rule} if marker is not None else {"VF108"}), files


# --- 7. a helper's parameter, read for one call, is what that call passes ----------------


@_SETTINGS
@given(
    others=st.integers(min_value=0, max_value=9),
    mode=st.sampled_from(MODES),
    helper=st.sampled_from(("need", "pick")),
)
def test_a_helper_called_with_many_arguments_reads_each_calls_own(
    tmp_path: Path, others: int, mode: tuple[str, str], helper: str
) -> None:
    """`_need("DB_HOST")` among `_need("BOT_TOKEN")`, `_need("DOMAIN")`, ...: the
    helper's return was read with every caller's argument, options that crowded out the
    environment's own world (clinicafisina's VF108); `pick(url)` returned every caller's
    URL at each call."""
    word, rule = mode
    query = f"?sslmode={word}" if word else ""
    url = f"postgresql://app@db.internal/app{query}"
    if helper == "need":
        head = (
            "import os\nimport asyncpg\n\n\n"
            "def need(key):\n    value = os.getenv(key)\n    if not value:\n"
            "        raise RuntimeError(key)\n    return value\n\n\n"
        )
        filler = "".join(f"OTHER_{i} = need('OTHER_{i}')\n" for i in range(others))
        # the mode as a getenv default formatted in (clinicafisina's `sslmode = os.getenv(
        # "DB_SSLMODE", "disable")`): its finding is placed at that f-string
        mode_line = f"    sslmode = os.getenv('DB_SSLMODE', '{word}')\n" if word else ""
        slot = "?sslmode={sslmode}" if word else ""
        body = (
            "DATABASE_URL = os.getenv('DATABASE_URL')\n"
            "if not DATABASE_URL:\n"
            + mode_line
            + f"    DATABASE_URL = f'postgresql://app@{{need(\"DB_HOST\")}}/app{slot}'\n"
        )
        # the fallback's verdict, and the environment's world beside it when the fallback's
        # finding is its written mode; a fallback URL with no TLS setting stands for the call
        # (one verdict per place, fly's label)
        want = {rule, "VF108"} if word else {rule}
    else:
        head = "import asyncpg\n\n\ndef pick(value):\n    return value\n\n\n"
        filler = "".join(
            f"OTHER_{i} = pick('postgresql://x@other{i}.internal/x?sslmode=disable')\n"
            for i in range(others)
        )
        body = f"DATABASE_URL = pick('{url}')\n"
        want = {rule}
    code = (
        head
        + filler
        + body
        + "\n\nasync def pool():\n    return await asyncpg.create_pool(DATABASE_URL)\n"
    )
    root = _project(tmp_path, (others, word, helper), {"db.py": code})
    found = {r for r, _ in _findings(root, "db.py") if r in _TRANSPORT}
    assert found == want, code


# --- 8. a Django backend that wraps PostgreSQL's under another name ----------------------


@_SETTINGS
@given(
    engine_name=st.sampled_from(("psqlextra.backend", "django.db.backends.postgresql")),
    mode=st.sampled_from(MODES),
)
def test_a_wrapping_postgres_backend_is_judged_as_postgres(
    tmp_path: Path, engine_name: str, mode: tuple[str, str]
) -> None:
    """held-out-s21 osidb: `ENGINE: "psqlextra.backend"` (django-postgres-extra, which
    must derive from django.db.backends.postgresql) was no PostgreSQL entry at all."""
    word, rule = mode
    options = f"        'OPTIONS': {{'sslmode': '{word}'}},\n" if word else ""
    code = (
        "DATABASES = {\n    'default': {\n"
        f"        'ENGINE': '{engine_name}',\n"
        "        'NAME': 'app',\n        'HOST': 'db.internal',\n" + options + "    }\n}\n"
    )
    root = _project(tmp_path, (engine_name, word), {"settings.py": code})
    found = {r for r, _ in _findings(root, "settings.py") if r in _TRANSPORT}
    assert found == {rule}, code


# --- 9. an argparse option's default is the connection the script makes by default -------

ARGPARSE_SHAPES = (  # (add_argument's option strings and keywords, the attribute read)
    ("'--database-url'", "database_url"),
    ("'-d', '--dsn'", "dsn"),
    ("'--db', dest='conninfo'", "conninfo"),
)


@_SETTINGS
@given(
    shape=st.sampled_from(ARGPARSE_SHAPES),
    mode=st.sampled_from(MODES),
    given_how=st.sampled_from(("default", "required", "none")),
    known=st.booleans(),
    grouped=st.booleans(),
    password=st.booleans(),
)
def test_an_argparse_default_is_judged_where_it_is_written(
    tmp_path: Path,
    shape: tuple[str, str],
    mode: tuple[str, str],
    given_how: str,
    known: bool,
    grouped: bool,
    password: bool,
) -> None:
    strings, attr = shape
    word, rule = mode
    query = f"?sslmode={word}" if word else ""
    user = "loader:summer-loader-41" if password else "loader"
    url = f"postgresql://{user}@db.internal:5432/app{query}"
    extra = {"default": f", default='{url}'", "required": ", required=True", "none": ""}
    adder = "group" if grouped else "parser"
    code = (
        "import argparse\n\nimport asyncpg\n\n\n"
        "async def main() -> None:\n"
        "    parser = argparse.ArgumentParser()\n"
        + ("    group = parser.add_argument_group('db')\n" if grouped else "")
        + f"    {adder}.add_argument({strings}{extra[given_how]})\n"
        + (
            "    args = parser.parse_known_args()[0]\n"
            if known
            else "    args = parser.parse_args()\n"
        )
        + f"    await asyncpg.create_pool(args.{attr})\n"
    )
    root = _project(tmp_path, (shape, word, given_how, known, grouped, password), {"s.py": code})
    found = _findings(root, "s.py")
    transport = {r for r, _ in found if r in _TRANSPORT}
    option_line = 9 if grouped else 8
    if given_how == "default":
        assert transport == {rule}, code
        assert ({r for r, line in found if line == option_line} >= {"VF401"}) == password, code
    else:  # the command line's: decided where the script runs
        assert transport == {"VF108"}, code


# --- hostile shapes of the new input paths: they end, and say what they did not follow ----


def test_fixture_cycles_and_a_flood_of_options_stay_bounded(tmp_path: Path) -> None:
    """Fixtures that ask for each other in a ring, and a module of 5,000 argparse options
    read through the namespace: the scan ends with a verdict or a 'not fully checked'
    entry, never a hang or a traceback."""
    ring = 60
    fixtures = "import pytest\n\n" + "".join(
        f"@pytest.fixture\ndef f{i}(f{(i + 1) % ring}):\n    return f{(i + 1) % ring}\n\n"
        for i in range(ring)
    )
    test = "import psycopg2\n\n\ndef test_it(f0):\n    psycopg2.connect(**f0)\n"
    flood = (
        "import argparse\n\nimport asyncpg\n\nparser = argparse.ArgumentParser()\n"
        + "".join(f"parser.add_argument('--o{i}', default='x')\n" for i in range(5_000))
        + "parser.add_argument('--dsn', default='postgresql://app@db.internal/app')\n"
        + "args = parser.parse_args()\nasyncpg.connect(args.dsn)\nasyncpg.connect(args.o7)\n"
    )
    root = _project(tmp_path, "hostile", {"conftest.py": fixtures, "test_ring.py": test})
    (root / "flood.py").write_text(flood, encoding="utf-8")
    result = engine.scan([root], ScanSettings(project_root=root), jobs=1)
    assert all(e.message.startswith("not ") for e in result.report.errors), result.report.errors
    ring_rules = {f.rule_id for f in result.report.findings if f.path == "test_ring.py"}
    assert ring_rules <= {"VF108"}  # a ring gives no value: decided elsewhere, said so
