"""Session 8's speed-ups of the prefilter change no answer (issue 12, speed): each
faster form is checked against the slower form it replaced, on generated texts, and
the filtered analysis against the full one.

- credentials_possible knows the NEEDLES of the file's text (`present`): in stage two
  (the whole text) and stage three (the views, which hold a needle only if the text
  does) it skips the searches for decoder and environment words, `://` and
  `password` the text lacks. Its answers must be those it gives without that
  knowledge (present=None).
- The 24 searches for a quoted connection key (`'host'`, `"dbname'`, ...) are one
  regex search (prefilter._CONNECTION_DICT_KEY): found exactly where one of them is.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from verifyfull.policy import Policy
from verifyfull.scan import engine
from verifyfull.scan.api import ScanContext, SourceFile
from verifyfull.scan.python import check as python_check
from verifyfull.scan.python import lexical, module, prefilter
from verifyfull.scan.python.credentials import DECODER_WORDS
from verifyfull.scan.settings import ScanSettings

_PY_CHECKS = engine.checks_for("module.py")

# The words credentials_possible now looks for only when the text holds them.
_CREDENTIAL_GATED = sorted({*DECODER_WORDS, *prefilter._ENV_WORDS, "://", "password"})

# Pieces that bind password names every way credentials.py reads them, decode them,
# read them from the environment, give them database context or not, and cut, quote,
# comment and docstring all of that.
_CREDENTIAL_PIECES = st.sampled_from(
    (
        *_CREDENTIAL_GATED,
        *(word[: len(word) // 2] for word in _CREDENTIAL_GATED),
        *(word[len(word) // 2 :] for word in _CREDENTIAL_GATED),
        *("'", '"', "'''", '"""', "f'", 'rb"', "#", "# c\n", "\n", " ", "\\", "\\n"),
        *(":", "=", "(", ")", ",", "[", "]", "{", "}", ".", "@", "x", "é", "HOST", "Host"),
        *("password = 'hunter2'\n", "DB_PASSWORD: str = 's3cr3t'\n", 'pw = "x"\n'),
        *("conf['db_password'] = 'x'\n", "db.pass = 'x'\n", "dbPass = 'x'\n"),
        *("password = base64.b64decode('eA==')\n", "from base64 import b64decode as d\n"),
        *("os.getenv('DB_PASSWORD', 'x')\n", "config('PASSWORD', default='x')\n"),
        *("{'host': 'db', 'password': 'x'}\n", '{"dbname": "app", "user": "u"}\n'),
        *("psycopg2.connect(password='x')\n", "create_engine(url)\n", "class DBConfig:\n"),
        *("'postgresql://u:p@db/app'\n", "'host=db password=x'\n", "'x://?password=y'\n"),
        *("'''postgres://u:p@db/app'''\n", "# password = 'x'\n", "bytes.fromhex(x)\n"),
    )
)
_CREDENTIAL_TEXTS = st.lists(_CREDENTIAL_PIECES, max_size=14).map("".join)
_STEMS = st.sampled_from(("settings", "db", "utils", "database_config"))


def _needles(text: str) -> frozenset[str]:
    return prefilter.needles_in(text.encode("utf-8", "surrogatepass"))


@settings(max_examples=1000, deadline=None, derandomize=True)
@given(_CREDENTIAL_TEXTS)
@example("x = base64.b64decode(y)\n'''password = 1'''")
def test_a_credential_word_in_a_view_is_in_the_text(text: str) -> None:
    lexed = lexical.views(text)
    if lexed is not None:
        present = _needles(text)
        for word in _CREDENTIAL_GATED:
            if word in lexed.document or word in lexed.code:
                assert word in present, word


@settings(max_examples=1000, deadline=None, derandomize=True)
@given(_CREDENTIAL_TEXTS, _STEMS)
@example("DB_PASSWORD = os.environ.get('DB_PASSWORD', 'x')\n", "utils")
@example("{'password': x}\npsycopg2.connect(**d, password='x')\n", "utils")
@example("password = codecs.decode('x', 'rot13')\n", "utils")
def test_stage_two_knowing_the_texts_words_answers_as_without(text: str, stem: str) -> None:
    present = _needles(text)
    spellings = prefilter._spellings_in(present)
    known = prefilter.credentials_possible(text, text, stem, None, spellings, present)
    assert known == prefilter.credentials_possible(text, text, stem, None, spellings)


@settings(max_examples=1000, deadline=None, derandomize=True)
@given(_CREDENTIAL_TEXTS, _STEMS)
@example("'''base64'''\npassword = b64decode(x)\n", "utils")
def test_stage_three_knowing_the_texts_words_answers_as_without(text: str, stem: str) -> None:
    lexed = lexical.views(text)
    if lexed is None:
        return
    present = _needles(text)
    spellings = prefilter._spellings_in(present)
    views = (lexed.document, lexed.code, stem, lexed.literals, spellings)
    known = prefilter.credentials_possible(*views, present)
    assert known == prefilter.credentials_possible(*views)
    assert prefilter._families(
        lexed.document, lexed.code, stem, lexed.literals, spellings, present
    ) == prefilter._families(lexed.document, lexed.code, stem, lexed.literals, spellings)


_KEY_PIECES = st.sampled_from(
    ("'", '"', "host", "user", "database", "dbname", "port", "dsn", "db", "x", " ", "\\")
)


@settings(max_examples=2000, deadline=None, derandomize=True)
@given(st.lists(_KEY_PIECES, max_size=10).map("".join))
@example("'dsn\"")
@example("\"'port'")
def test_connection_keys_found_in_one_search_are_the_24_searches(text: str) -> None:
    searched = any(key in text for key in prefilter._CONNECTION_DICT_KEYS)
    assert (prefilter._CONNECTION_DICT_KEY.search(text) is not None) == searched


# Whole statements (so most programs parse), each kept, commented out or made a
# docstring: the words that pass stage two may then be in code or only in docstrings.
_STATEMENTS = st.sampled_from(
    (
        "import base64",
        "import os",
        "import psycopg2",
        "from decouple import config",
        "from base64 import b64decode as d",
        "password = 'hunter2'",
        "DB_PASSWORD: str = 's3cr3t'",
        "conf['db_password'] = 'hunter2'",
        "dbPass = 'hunter2'",
        "password = base64.b64decode('aHVudGVyMg==')",
        "secret_pw = d('aHVudGVyMg==')",
        "PASSWORD = os.getenv('DB_PASSWORD', 'hunter2')",
        "PASSWORD = config('DB_PASSWORD', default='hunter2')",
        "D = {'host': 'db', 'password': 'hunter2'}",
        "D = {'HOST': 'db', 'PASSWORD': 'hunter2'}",
        "psycopg2.connect(host='db', password='hunter2')",
        "engine = create_engine(URL)",
        "URL = 'postgresql://app:hunter2@db/app'",
        "DSN = 'host=db dbname=app password=hunter2'",
        "class DatabaseConfig:\n    password = 'hunter2'",
        "def connect(password='hunter2'):\n    return password",
        "key = bytes.fromhex('00ff')",
        "x = 1",
    )
)


@st.composite
def _programs(draw: st.DrawFn) -> str:
    lines = []
    for statement in draw(st.lists(_STATEMENTS, min_size=1, max_size=6)):
        form = draw(st.sampled_from(("code", "code", "comment", "docstring")))
        if form == "comment":
            statement = "\n".join("# " + line for line in statement.split("\n"))
        elif form == "docstring":
            statement = '"""' + statement.replace("\\", "") + '"""'
        lines.append(statement)
    return "\n".join(lines) + "\n"


@settings(max_examples=500, deadline=None, derandomize=True)
@given(st.one_of(_programs(), _CREDENTIAL_TEXTS), _STEMS)
@example("import base64\nDB_PASSWORD = base64.b64decode('aHVudGVyMg==')\n", "utils")
@example("import os\nPASSWORD = os.getenv('DB_PASSWORD', 'hunter2')\nconnect(x)\n", "db")
@example("D = {'host': 'db', 'password': 'hunter2'}\n", "utils")
def test_filtered_credentials_analysis_finds_what_the_full_one_finds(text: str, stem: str) -> None:
    """Soundness on the credential texts: what the prefilter lets through is analysed
    as the full analysis (every family on, every body walked) would."""
    data = text.encode("utf-8", "surrogatepass")
    try:
        decoded = data.decode("utf-8")
        ast.parse(decoded)
    except (UnicodeDecodeError, SyntaxError, ValueError):
        return
    root = Path("/nonexistent-verifyfull-root")
    source = SourceFile(
        root / f"{stem}.py", f"{stem}.py", decoded, data, engine._words_in(data, _PY_CHECKS)
    )
    ctx = ScanContext(root=root, policy=Policy())
    filtered = sorted((f.rule_id, f.line) for f in python_check.analyse(source, ctx))
    full = sorted((f.rule_id, f.line) for f in python_check.run_analysis(source, ctx).findings)
    assert filtered == full


# What Python lets stand between the parts of a call: white space, a line join, a
# comment (inside brackets) and the brackets of a parenthesized callee or root.
_FILLERS = st.sampled_from(("", "", " ", "\\\n", "  # c\n", "\n", ")"))

# Connection calls the analysis reports (VF10x: no TLS to a TCP host), each written
# from its root, through an imported name, a renamed module, and an attribute chain.
_CALLS = (
    ("import asyncpg", ("asyncpg", "connect")),
    ("import asyncpg", ("asyncpg", "pool", "create_pool")),
    ("from asyncpg import connect", ("connect",)),
    ("import psycopg2 as pg", ("pg", "connect")),
    ("import psycopg", ("psycopg", "connect")),
    ("from sqlalchemy import create_engine as make", ("make",)),
    ("import sqlalchemy", ("sqlalchemy", "create_engine")),
)
_ARGUMENTS = {
    "create_engine": '"postgresql://app@db.internal/app?sslmode=disable"',
    "make": '"postgresql://app@db.internal/app?sslmode=disable"',
}


@st.composite
def _laid_out_calls(draw: st.DrawFn) -> str:
    """A connection call whose parts are separated by generated fillers; `)` fillers
    are matched by opening brackets where Python needs them, and the call sits in
    brackets so a comment or line break inside it is legal."""
    imports, parts = draw(st.sampled_from(_CALLS))
    callee = parts[0]
    for part in parts[1:]:
        gap_before, gap_after = draw(_FILLERS), draw(_FILLERS)
        callee = f"{callee}{gap_before.replace(')', '')}.{gap_after.replace(')', '')}{part}"
        if draw(st.booleans()):
            callee = f"({callee})"  # a parenthesized prefix: `(asyncpg.pool).create_pool`
    before_call = draw(_FILLERS)
    if ")" in before_call:
        callee, before_call = f"({callee})", before_call.replace(")", "")
    argument = _ARGUMENTS.get(parts[-1], 'host="db.internal", user="app"')
    return f"{imports}\n\n\ndef main():\n    return ({callee}{before_call}({argument}))\n"


@settings(max_examples=300, deadline=None, derandomize=True)
@given(_laid_out_calls())
@example('import asyncpg\n\n\ndef main():\n    return ((asyncpg.connect)(host="db.internal"))\n')
@example('from asyncpg import connect\n\n\ndef main():\n    return (connect  # c\n(host="db"))\n')
def test_a_connection_call_is_kept_however_its_parts_are_laid_out(text: str) -> None:
    """The prefilter's call tests (stage two on the text, stage three on the code)
    skip what Python allows between a callee and its arguments: white space, line
    joins, comments and the closing brackets of a parenthesized callee."""
    ast.parse(text)  # the generator writes valid Python only
    data = text.encode()
    root = Path("/nonexistent-verifyfull-root")
    source = SourceFile(root / "app.py", "app.py", text, data, engine._words_in(data, _PY_CHECKS))
    ctx = ScanContext(root=root, policy=Policy())
    full = sorted((f.rule_id, f.line) for f in python_check.run_analysis(source, ctx).findings)
    assert full, "the full analysis reports the call"
    assert sorted((f.rule_id, f.line) for f in python_check.analyse(source, ctx)) == full


_SINK_GAPS = st.sampled_from(("", " ", "  # c\n", "\\\n", "\n"))


@st.composite
def _laid_out_secrets(draw: st.DrawFn) -> str:
    """A random value stored under a secret name (VF404), the target and the module
    reference laid out with generated gaps and brackets, inside brackets where a
    comment or line break needs them."""
    name = draw(st.sampled_from(("token", "session_token", "api_key", "otp_code")))
    target = name
    if draw(st.booleans()):
        target = f"({name}{draw(_SINK_GAPS)})"  # a parenthesized target
    module = "random"
    if draw(st.booleans()):
        module = f"({module}{draw(_SINK_GAPS)})"
    value = f"({module}{draw(_SINK_GAPS)}.choice{draw(_SINK_GAPS)}('abcdef'))"
    return f"import random\n\n\ndef make():\n    {target} = {value}\n    return {name}\n"


@settings(max_examples=200, deadline=None, derandomize=True)
@given(_laid_out_secrets())
@example("import random\n\n\ndef make():\n    (token) = random.choice('ab')\n    return token\n")
def test_a_random_secret_is_kept_however_its_target_is_laid_out(text: str) -> None:
    ast.parse(text)
    data = text.encode()
    root = Path("/nonexistent-verifyfull-root")
    source = SourceFile(root / "app.py", "app.py", text, data, engine._words_in(data, _PY_CHECKS))
    ctx = ScanContext(root=root, policy=Policy())
    full = sorted((f.rule_id, f.line) for f in python_check.run_analysis(source, ctx).findings)
    assert full, "the full analysis reports the secret"
    assert sorted((f.rule_id, f.line) for f in python_check.analyse(source, ctx)) == full


def test_a_scan_leaves_no_parsed_module_alive(tmp_path: Path) -> None:
    """The modules the Python check parsed to follow imports are dropped when the scan
    returns (engine._release_parsed_modules): alive, every later full collection of
    the cyclic garbage collector traverses their trees, the interpreter's at exit
    included. The findings that needed them are those of a scan that keeps them."""
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'app'\n", encoding="utf-8")
    (tmp_path / "settings.py").write_text(
        'DSN = "postgresql://app@db.internal/app?sslmode=disable"\n', encoding="utf-8"
    )
    (tmp_path / "db.py").write_text(
        "import asyncpg\nfrom settings import DSN\n\n\nasync def connect():\n"
        "    return await asyncpg.connect(DSN)\n",
        encoding="utf-8",
    )
    module._load.cache_clear()
    report = engine.scan([tmp_path], ScanSettings(project_root=tmp_path), jobs=1).report
    assert module._load.cache_info().currsize == 0
    # The same scan with the cache kept alive finds the same: dropping it is no answer.
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(engine, "_release_parsed_modules", lambda: None)
        again = engine.scan([tmp_path], ScanSettings(project_root=tmp_path), jobs=1).report
        assert module._load.cache_info().currsize > 0  # it did parse settings.py
    assert [(f.rule_id, f.path, f.line) for f in report.findings] == [
        (f.rule_id, f.path, f.line) for f in again.findings
    ]
    assert report.findings  # the DSN in settings.py, judged at the call in db.py
