"""The prefilter is sound: filtered scanning finds exactly what the full analysis finds.

The scanner skips files (KEYWORDS, families) and function bodies (trigger words)
that cannot raise a rule, for speed. Each skip must be a necessary condition, so
here every Python fixture, the insecure example app and seeded random programs are
analysed twice: as the scanner does, and with every rule family on and every body
walked. The findings must be equal. The random programs vary exactly what the
prefilter keys on: password names in every spelling the credential rules accept,
how they are bound (assignment, annotation, keyword, dict, getenv default, decoder),
and where (module, function, method, decorated function, class body).
"""

from __future__ import annotations

import random
import textwrap
from pathlib import Path

import pytest

from verifyfull.policy import Policy
from verifyfull.scan.api import CheckSkipped, ScanContext, SourceFile
from verifyfull.scan.python.check import analyse, run_analysis
from verifyfull.scan.python.prefilter import ALL_FAMILIES, KEYWORDS

ROOT = Path(__file__).resolve().parent.parent
CORPUS = sorted([*(ROOT / "tests" / "fixtures").rglob("*.py"), *(ROOT / "examples").rglob("*.py")])

NAMES = (
    *("password", "DB_PASSWORD", "db_pw", "DB_PW", "dbPass", "pgPassword", "PASS_DB"),
    *("pg_passphrase", "PAssword", "passwd", "Pwd", "admin_pass", "dbpassword", "pw"),
)
VALUES = ('"hunter2-Secret"', "'s3cr3t-value'", 'b"raw-secret"')
STATEMENTS = (
    "{name} = {value}",
    "{name}: str = {value}",
    "conn = pymysql.connect(host='db', {name}={value})",
    "engine = create_engine('postgresql://app@db/app', connect_args={{'{name}': {value}}})",
    "CONFIG = {{'host': 'db', 'user': 'app', '{name}': {value}}}",
    "SECRET = os.getenv('{name}', {value})",
    "{name} = base64.b64decode({value}).decode()",
    "{name} = bytes.fromhex('68756e74657232').decode()",
    "{name} = codecs.decode({value}, 'rot13')",
    "{name} = base64.a85decode({value}).decode()",
    "{name} = base64.decodebytes(b'aHVudGVy').decode()",
    "{name} = unhex('68756e74657232')",
    "DSN = 'postgresql://app:{name}-x@db:5432/app'",
    "CONNINFO = 'host=db user=app password=hunter2 dbname=app'",
    "NOTE = \"Example: user = User(id=1, password='pw1')\"",
    "ctx.check_hostname = False",
    "token = random.choice('abcdef') + {value}",
)
PLACES = (
    "{stmt}\n",
    "def build():\n    {stmt}\n    return None\n",
    "class Settings:\n    def load(self):\n        {stmt}\n",
    "@decorate\ndef handler():\n    {stmt}\n",
    "class Config:\n    {stmt}\n",
)
HEADER = (
    "import base64\nimport codecs\nimport os\nimport random\nimport ssl\n"
    "from binascii import unhexlify as unhex\n"
    "import pymysql\nfrom sqlalchemy import create_engine\nctx = ssl.create_default_context()\n"
)


def _ctx(root: Path) -> ScanContext:
    return ScanContext(root=root, policy=Policy())


def _filtered(source: SourceFile, ctx: ScanContext) -> list[tuple[str, int, int]]:
    if not any(word in source.text for word in KEYWORDS):
        return []
    return sorted((f.rule_id, f.line or 0, f.column or 0) for f in analyse(source, ctx))


def _full(source: SourceFile, ctx: ScanContext) -> list[tuple[str, int, int]]:
    findings = run_analysis(source, ctx, ALL_FAMILIES).findings
    return sorted((f.rule_id, f.line or 0, f.column or 0) for f in findings)


def _source(path: Path, root: Path) -> SourceFile:
    data = path.read_bytes()
    return SourceFile(path, path.relative_to(root).as_posix(), data.decode("utf-8"), data)


@pytest.mark.parametrize("path", CORPUS, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_filtered_scan_equals_full_analysis_on_the_corpus(path: Path) -> None:
    source = _source(path, ROOT)
    ctx = _ctx(ROOT)
    try:
        full = _full(source, ctx)
    except CheckSkipped:
        pytest.skip("fixture is deliberately not Python")
    assert _filtered(source, ctx) == full


def _program(rng: random.Random) -> str:
    # Half the programs are not pure ASCII: the prefilter has a separate path for those.
    parts = [HEADER if rng.random() < 0.5 else "# café\n" + HEADER]
    for _ in range(rng.randint(1, 4)):
        stmt = rng.choice(STATEMENTS).format(name=rng.choice(NAMES), value=rng.choice(VALUES))
        parts.append(rng.choice(PLACES).format(stmt=stmt))
    return "\n".join(parts)


@pytest.mark.parametrize("stem", ["app", "db", "settings", "handlers"])
@pytest.mark.parametrize("seed", range(3))
def test_filtered_scan_equals_full_analysis_on_random_programs(
    tmp_path: Path, stem: str, seed: int
) -> None:
    rng = random.Random(f"{stem}-{seed}")
    found = 0
    for index in range(40):
        path = tmp_path / f"{stem}{index}.py"
        path.write_text(_program(rng), encoding="utf-8")
        source = _source(path, tmp_path)
        full = _full(source, _ctx(tmp_path))
        assert _filtered(source, _ctx(tmp_path)) == full, path.read_text()
        found += len(full)
    assert found > 40  # the programs do raise findings


BARE_STATEMENTS = (
    "{name} = {value}",
    "{name}: str = {value}",
    "CONFIG = {{'host': 'db', '{name}': {value}}}",
    "CONFIG = {{'{name}': {value}, 'timeout': 3}}",
)
BARE_PLACES = (
    "{stmt}\n",
    "def build():\n    {stmt}\n",
    "class PgSettings:\n    {stmt}\n",
    "class Settings:\n    {stmt}\n",
    "class DatabaseConfig:\n    def load(self):\n        {stmt}\n",
)


@pytest.mark.parametrize("stem", ["app", "db", "crdb_config", "handlers"])
def test_database_context_gate_is_sound(tmp_path: Path, stem: str) -> None:
    """Programs with no imports and no connection calls: whether a literal password is
    reported depends only on names (password name, class, file), which the prefilter
    must judge as credentials.py does."""
    rng = random.Random(stem)
    found = 0
    for index in range(60):
        stmt = rng.choice(BARE_STATEMENTS).format(name=rng.choice(NAMES), value=rng.choice(VALUES))
        path = tmp_path / f"{stem}{index}.py"
        path.write_text(rng.choice(BARE_PLACES).format(stmt=stmt), encoding="utf-8")
        source = _source(path, tmp_path)
        full = _full(source, _ctx(tmp_path))
        assert _filtered(source, _ctx(tmp_path)) == full, path.read_text()
        found += len(full)
    assert 5 < found < 60  # some are reported, some are not (no database context)


FLOW_HEADER = """import base64
import hashlib
import random
import textwrap
import ssl
from asyncpg import connect as pg
from sqlalchemy import create_engine as make

MODE = ssl.CERT_NONE
NO_CHECK = False
LOW = ssl.TLSVersion.TLSv1
WEAK = "RC4-SHA:DES-CBC3-SHA"
DSN_OFF = "postgresql://app@db/app?sslmode=disable"
PW_LITERAL = "hunter2-Secret"
ENCODED = "aHVudGVyMg=="
RNG = random.Random()
CHOOSE = random.choice
HASH = hashlib.md5
ctx = ssl.create_default_context()
"""
FLOW_USES = (
    "ctx.verify_mode = MODE",
    "ctx.check_hostname = NO_CHECK",
    "ctx.minimum_version = LOW",
    "ctx.set_ciphers(WEAK)",
    "engine = make(DSN_OFF)",
    "conn = pg(DSN_OFF)",
    "db_password = PW_LITERAL",
    "db_password = base64.b64decode(ENCODED)",
    "token = RNG.choice('abc')",
    "token = CHOOSE('abc')",
    "password_hash = HASH(b'x').hexdigest()",
    "return CHOOSE('abc')",
)


@pytest.mark.parametrize("use", FLOW_USES)
@pytest.mark.parametrize(
    "place",
    [
        "def f():\n    {use}\n",
        "def make_token():\n    {use}\n",
        "class C:\n    def m(self):\n        {use}\n",
    ],
)
def test_values_defined_at_module_level_and_used_in_a_body(
    tmp_path: Path, use: str, place: str
) -> None:
    """A body whose own text holds no trigger word may still raise a rule through a
    name defined elsewhere (MODE = ssl.CERT_NONE; ctx.verify_mode = MODE)."""
    if use.startswith("return") and "def" not in place:
        pytest.skip("return needs a function")
    path = tmp_path / "app.py"
    path.write_text(FLOW_HEADER + "\n\n" + place.format(use=use), encoding="utf-8")
    source = _source(path, tmp_path)
    assert _filtered(source, _ctx(tmp_path)) == _full(source, _ctx(tmp_path))


def test_password_names_in_every_spelling_are_found(tmp_path: Path) -> None:
    """Files whose only finding is a password under a name without the word
    "password" (pw, Pass, passphrase): once missed by the prefilter."""
    cases = {
        "db.py": 'DB_PW = "hunter2secret"\ndbPass = "hunter2secret"\n',
        "app.py": 'CONF = {"host": "h", "user": "u", "pw": "hunter2secret"}\n',
        "other.py": 'import pymysql\nc = pymysql.connect(host="h", passphrase="hunter2x")\n',
    }
    for name, text in cases.items():
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        rules = _filtered(_source(path, tmp_path), _ctx(tmp_path))
        assert [rule for rule, _, _ in rules] == ["VF401"] * text.count("hunter2"), name


@pytest.mark.parametrize(
    ("imports", "call"),
    [
        *(("from sqlalchemy import create_engine as make", c) for c in ("make(DSN)", "make (DSN)")),
        ("from sqlalchemy import create_engine as make", "make(\n    DSN)"),
        ("from sqlalchemy import create_engine as make", "make \\\n    (DSN)"),
        *(
            ("import sqlalchemy", f"(sqlalchemy.create_engine{spacing}DSN))")
            for spacing in ("(", " (", "\n    (", " \\\n    (")
        ),
    ],
)
def test_aliased_or_spaced_connection_calls_are_sites(
    tmp_path: Path, imports: str, call: str
) -> None:
    path = tmp_path / "app.py"
    path.write_text(
        f'{imports}\nDSN = "postgresql://app@db/app?sslmode=disable"\nengine = {call}\n',
        encoding="utf-8",
    )
    source = _source(path, tmp_path)
    assert [rule for rule, _, _ in _filtered(source, _ctx(tmp_path))] == ["VF101"]


SEARCH_FRAGMENTS = (
    *("password", "host", "dbname", "user", "port", "create_engine", "connect", "init"),
    *(" ", "\n", "\t", "=", "(", "as ", "as", "\\", "x", "_", "'", "my", "1"),
)


@pytest.mark.parametrize("seed", range(3))
def test_text_searches_are_supersets_of_the_patterns_they_stand_for(seed: int) -> None:
    """The prefilter's str.find searches must accept every text the rules' own
    patterns accept (else a file with a finding would not be parsed)."""
    import re

    from verifyfull.scan.python import prefilter
    from verifyfull.scan.python.credentials import KEYWORD_DSN_HINT, KEYWORD_PASSWORD

    site_call = re.compile(r"\b(?:" + "|".join(prefilter.SITE_FUNCTIONS) + r")\b[\s\\]*(?:\(|as\s)")
    rng = random.Random(seed)
    hits = 0
    for _ in range(10000):
        text = "".join(rng.choice(SEARCH_FRAGMENTS) for _ in range(rng.randint(1, 12)))
        if KEYWORD_PASSWORD.search(text):
            hits += 1
            assert prefilter._keyword_assigned(text, "password"), text
        if KEYWORD_DSN_HINT.search(text):
            assert any(prefilter._keyword_assigned(text, h) for h in prefilter._KEYWORD_HINTS)
        if site_call.search(text):
            assert any(
                prefilter._called_or_renamed(text, name) for name in prefilter.SITE_FUNCTIONS
            ), text
    assert hits > 20  # the generator does produce matching texts


# Self-contained snippets (no shared header): each family's file-level gate and the
# lexer's views decide alone whether the file is parsed at all.
SNIPPETS = (
    'DSN = ("postgresql://app:split-pw"\n       "@db/app")',
    'CONNINFO = "host=db\\npassword=hunter2-esc"',
    'CONNINFO = "password=hunter2-first host=db"',
    'CONNINFO = f"host={HOST} password=hunter2-f"',
    'URL = f"postgresql://app:hunter2-f@{HOST}/app"',
    'def documented():\n    """Connect: create_engine("postgresql://a:b@h/d")."""\n    return 1',
    '"""Module text: asyncpg.connect(dsn) and ssl.CERT_NONE."""',
    'import os, random as rnd\ntoken = rnd.choice("abcdef")',
    "import hashlib\ntoken = hashlib.new('MD5', b'x').hexdigest()",
    "import hashlib\nsigning_key = hashlib.new('SHA-1', b'x').digest()",
    "ctx.check_hostname = False",
    "context.verify_mode = NONE",
    "import ssl\nctx.verify_mode: int = ssl.CERT_NONE",
    "ctx.check_hostname \\\n    = False",
    "import ssl\nssl_cert_reqs: int = ssl.CERT_NONE  # a server option, no client context",
    "import ssl\nfrom ssl import wrap_socket as wrap\ns = wrap(sock, cert_reqs=ssl.CERT_NONE)",
    "import ssl\nctx.set_ciphers ('RC4-SHA')",
    "import os, sqlalchemy as sa\nengine = sa.create_engine('postgresql://app@db/app?sslmode=disable')",
    "from . import asyncpg\nconn = asyncpg.connect(host='db')",
    "from psycopg import *\nconn = connect('postgresql://app@db/app?sslmode=disable')",
    "from sqlalchemy import create_engine as make\nengine = (make)('postgresql://app@db/app')",
    "import sqlalchemy.ext.asyncio as aio\nengine = aio.create_async_engine('postgresql://a@db/a')",
    "from psycopg import Connection\nconn = Connection.connect('postgresql://app@db/app')",
    "from .asyncpg import connect\nconn = connect(host='db')",
    "from psycopg import (\n    connect as open_db,\n)\nconn = open_db('postgresql://app@db/app')",
    "from psycopg import Connection\nconn = self.connection_class.connect(dsn)",
    "import asyncpg\nconn = asyncpg \\\n    .connect(host='db')",
    'import psycopg\nconn = psycopg.connect("postgresql://app@db/app?sslmode=disable")',
    'from sqlalchemy import create_engine\n"""create_engine(url) docs."""\n'
    'engine = create_engine("postgresql://app@db/app")',
    'import random\nheaders = {"api-key": random.random()}',
    'import random\nform = {"pass": random.choice("ab")}',
    'import random\nstore["session_token"] = random.random()',
    "import random\ndef make_token():\n    return random.choice('abc')",
    "import random\nissue(token=random.getrandbits(64))",
    "import random\nclass Keys:\n    api_key: int = random.randint(0, 9)",
    "import random\ncounter = random.random()  # nothing secret",
    'x = """a\nb"""; import random as r; token = r.choice("ab")',
    "import asyncpg\nimport os\npool = asyncpg.create_pool(os.environ['DSN'])",
    "import asyncpg\npool = asyncpg.create_pool(host='db', user='app')",
    "from tortoise.contrib.fastapi import register_tortoise\n"
    "register_tortoise(app, db_url='asyncpg://app@db/app')",
    "from sqlalchemy.ext.asyncio import create_async_engine\nengine = create_async_engine(URL)",
    "from tortoise.contrib.fastapi import register_tortoise\nregister_tortoise(app, db_url=URL)",
    "class DatabaseConfig:\n    PASSWORD = 'hunter2-class'",
    "conf = {}\nconf['db_password'] = 'hunter2-subscript'",
    "CONFIG = {'host': 'db', 'user': 'app', 'db.pass': 'hunter2-dotted'}",
    "CONFIG = {'host': 'db', 'user': 'app', 'db-pass': 'hunter2-dashed'}",
    "import base64\nconf = {}\nconf['db_password'] = base64.b64decode('aHVudGVy').decode()",
    "import base64\nconn = connect(password=\n    base64.b64decode('aHVudGVy'))",
    "from base64 import (\n    b64decode as d,\n)\ndb_password = d('aHVudGVy')",
    "import codecs\ndb_password = codecs.decode('uhagre2', 'rot13')",
    "import base64\npass_num = 3\nx = base64.b64decode('aGk=')",
    "import binascii\ndb_password = \\\n    binascii.unhexlify('68756e74')",
    "# sqlalchemy.create_engine(url) in a comment\nx = connect()",
    'NOTE = "see postgresql://docs:example@host"  # a value, not a docstring',
)


@pytest.mark.parametrize("seed", range(4))
def test_filtered_scan_equals_full_analysis_on_self_contained_snippets(
    tmp_path: Path, seed: int
) -> None:
    rng = random.Random(seed)
    found = 0
    for index in range(50):
        parts = []
        for _ in range(rng.randint(1, 3)):
            snippet = rng.choice(SNIPPETS)
            if rng.random() < 0.4 and '"""' not in snippet:
                snippet = "def body():\n" + textwrap.indent(snippet, "    ")
            parts.append(snippet + "\n")
        path = tmp_path / f"snippet{index}.py"
        path.write_text("\n".join(parts), encoding="utf-8")
        source = _source(path, tmp_path)
        full = _full(source, _ctx(tmp_path))
        assert _filtered(source, _ctx(tmp_path)) == full, path.read_text()
        found += len(full)
    assert found > 20


def test_docstrings_alone_make_no_file_worth_parsing() -> None:
    """Library code is full of connection examples in docstrings; they are neither
    reported nor a reason to parse (the point of lexical.py)."""
    from verifyfull.scan.python.prefilter import families

    text = (
        '"""Use create_engine("postgresql://scott:tiger@localhost/test").\n\n'
        "    import asyncpg; await asyncpg.connect(dsn)\n"
        '    ctx.check_hostname = False; token = random.choice(x)\n"""\n'
        "import sqlalchemy  # sqlalchemy.create_engine(url) here is a comment\n\n"
        "def helper():\n"
        "    '''password = \"hunter2\" with hashlib.md5(password)'''\n"
        "    return sqlalchemy\n"
    )
    assert families(text, "module") == frozenset()
