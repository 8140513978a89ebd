"""The scan's speed-ups change no answer (issue 12, speed): each faster form of a test
is checked against the slower form it replaced, on generated texts.

- prefilter.sites_possible matches its call patterns where str.find puts a driver root
  or an imported alias, instead of searching the whole file with the patterns; the
  answers must be those of the searches (the searches are kept here as the reference).
- The engine finds every check's keywords and needles (and the suppression marker) in
  one pass over a file's bytes (SourceFile.words) instead of searching the text once
  per word: for every word, "found in the pass" must be "in the decoded text", in
  every encoding a file may declare (or the pass is not used for that file).
- The prefilter's patterns that start at a word (`import *`, `from … import`, `class`)
  are searched without a leading \\b, which made the regex engine try every offset,
  and the boundary is checked at each match (prefilter.at_word_starts): the matches
  must be those of the \\b searches.
- Stage three of the prefilter skips searching a file's views for a word its text
  does not hold (prefilter._families, present): a word without quotes, `#` or white
  space must be in a view only if it is in the text, and the families must be those
  found without that knowledge.
  Since session 16 the same holds for the driver roots sites_possible writes out
  (`asyncpg`, `psycopg`, ...): a root the text lacks is not searched for in the code.
- The names a security or secret-sink test tries (prefilter._runs_with_hint) are the
  runs of name characters found by widening each hint in the lowered text in place,
  instead of listing every run of the text: the same set of runs as the listing, on
  generated texts with letters whose lower case is longer or context-dependent.
- subprocess_sites.may_start_a_process looks for an import from or of os with two
  searches from their literals, the word boundary checked at each match, instead of
  one `\\b...|\\b...` search tried at every offset: same answers as that search.
- aerich's words (`connections` and `apps`) count only in a module an aerich
  configuration could name (frameworks.aerich_reach: an aerich.ini, or a
  pyproject.toml that may hold `[tool.aerich]`, in the root or a folder between it
  and the module): where aerich.configured finds one, may_configure must say so, and
  the filtered analysis must equal the full one with the configuration anywhere or
  nowhere.
- An unseen SQLAlchemy URL's stand-ins (sites._judge_unseen_url) are read from the
  parts their texts are written from (sites._StandInURL), not by make_url, so a scan
  imports SQLAlchemy only for a URL a file holds: each stand-in must read as make_url
  reads its text, with and without connect_args, and the scan of such a site must
  give the same findings without importing SQLAlchemy.
- module._call_index walks a module's tree without ast.iter_child_nodes' generators:
  same calls, scopes and order as the walk it replaced, on every module at hand.
"""

from __future__ import annotations

import ast
import json
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from verifyfull.conninfo import from_sqlalchemy_url
from verifyfull.policy import Policy
from verifyfull.scan import engine, suppress
from verifyfull.scan.api import ScanContext, SourceFile
from verifyfull.scan.python import check as python_check
from verifyfull.scan.python import frameworks, lexical, module, prefilter, sites, subprocess_sites
from verifyfull.scan.python.frameworks import aerich, aerich_reach
from verifyfull.scan.python.module import Scope
from verifyfull.scan.walk import WalkedFile

# The whole-file searches sites_possible made before (session 5), the reference; since
# session 8 closing brackets may stand before a dot or the call (`(asyncpg.connect)(`),
# and a `,` or `)` may stand for the call's parenthesis (a connection function passed
# on with its arguments, passed_callables.py: `retry(asyncpg.connect, dsn)`).
_REFERENCE_ROOT_CALL = re.compile(
    rf"\b(?:{'|'.join(prefilter.SITE_ROOTS)})(?:[\s\\)]*\.[\s\\]*\w+)*?[\s\\)]*\.[\s\\]*"
    rf"(?:{'|'.join(prefilter.SITE_FUNCTIONS)})[\s\\)]*[(,)]"
)


def _reference_chains(code: str, name: str) -> list[str]:
    return [
        call.group(1)
        for call in re.finditer(rf"\b{re.escape(name)}\b{prefilter._CHAIN_THEN_CALL}", code)
    ]


def _reference_root_call(code: str) -> bool:
    return _REFERENCE_ROOT_CALL.search(code) is not None


def _root_call(code: str) -> bool:
    return any(
        prefilter._AFTER_ROOT.match(code, at + len(root))
        for root in prefilter.SITE_ROOTS
        for at, _ in prefilter._whole_word_at(code, root)
    )


# Pieces that make and break calls: roots and functions (and words that extend them),
# links, joins, parentheses, Unicode word characters either side of a name.
_PIECES = st.sampled_from(
    (
        *prefilter.SITE_ROOTS,
        *prefilter.SITE_FUNCTIONS,
        *(f"{root}." for root in prefilter.SITE_ROOTS),
        *(f".{function}(" for function in prefilter.SITE_FUNCTIONS),
        *("db", "pg", "x", "_", "2", "é", "ß", "·", "٣", "bind", ".bind", "abind"),
        *(".", " . ", "\\\n", "\n", " ", "\t", "(", ")", "((", ") (", "=", ",", "as "),
    )
)
_CODE = st.lists(_PIECES, max_size=14).map("".join)
_NAMES = st.sampled_from(("db", "pg", "x", "connect", "asyncpg", "é", "db2", "a.b", "x)", ""))


@settings(max_examples=1000, deadline=None, derandomize=True)
@given(_CODE)
def test_root_calls_matched_at_written_roots_are_the_searched_ones(code: str) -> None:
    assert _root_call(code) == _reference_root_call(code)


@st.composite
def _code_around_a_name(draw: st.DrawFn) -> tuple[str, str]:
    """Code made mostly of one name and the links between its uses (`db.db(`: a call
    chain that holds the name again, which finditer does not look inside)."""
    name = draw(_NAMES)
    pieces = st.sampled_from(
        (name, f"{name}.", f".{name}", f"{name}(", f".{name}(", "(", ")", " ", ".", "\\\n", "é")
    )
    return draw(st.lists(pieces, max_size=12).map("".join)), name


@settings(max_examples=1500, deadline=None, derandomize=True)
@given(st.one_of(st.tuples(_CODE, _NAMES), _code_around_a_name()))
def test_alias_chains_matched_at_written_names_are_finditers(case: tuple[str, str]) -> None:
    code, name = case
    if not name:  # re.finditer(r"\b\b...") is not a call of any name
        return
    assert list(prefilter._chains_called(code, name)) == _reference_chains(code, name)


@settings(max_examples=800, deadline=None, derandomize=True)
@given(_CODE, st.sampled_from(("connect", "create_engine", "init", "make", "pg")))
def test_sites_possible_on_generated_code_with_imports(code: str, alias: str) -> None:
    """The whole test, imports included, against the reference searches."""
    text = f"from psycopg import connect as {alias}\n{code}"

    def reference(text: str) -> bool:
        for method in prefilter.RECEIVER_METHODS:  # `db.bind(` (receiver_sites.py)
            for found in re.finditer(rf"\.[\s\\]*{method}\b", text):
                after = prefilter._past_gaps(text, found.end())
                if text.startswith(("(", ",", ")"), after):
                    return True
        if not any(next(prefilter._whole_word_at(text, r), None) for r in prefilter.SITE_ROOTS):
            return False
        if _reference_root_call(text):
            return True
        for method, (root, _) in prefilter.METHOD_SITES.items():  # `df.to_sql(`
            if next(prefilter._whole_word_at(text, root), None) and (
                prefilter._called_or_renamed(text, method)
            ):
                return True
        aliases = prefilter._driver_aliases(text)
        if aliases is None:
            return any(
                prefilter._called_or_renamed(text, n) for n in prefilter.SITE_FUNCTIONS if n in text
            )
        for name, original in aliases.items():
            for chain in _reference_chains(text, name):
                last = chain.rsplit(".", 1)[-1].strip(" \t\n\\") if chain else original
                if last in prefilter.SITE_FUNCTIONS:
                    return True
        return False

    assert prefilter.sites_possible(text) == reference(text)


# The prefilter's patterns that start at a word, written without their leading \b
# (prefilter.at_word_starts puts it back), and pieces that make, break and overlap
# their matches: a word character (Unicode too) just before, a match inside another's
# text (`class class_x`, `myclass classY z`), import lines of every shape.
_WORD_START_PATTERNS = (
    prefilter._STAR_IMPORT,
    prefilter._FROM_IMPORT,
    prefilter._DECODER_IMPORT,
    prefilter._CLASS_NAME,
)
_WORD_START_PIECES = st.tuples(
    st.sampled_from(("", "x", "é", "·")),  # a word character before, or not
    st.sampled_from(("import", "from", "class", "os", "codecs", "*")),
    st.sampled_from((" ", "\n", "\t", " as ", ",", "(", "\\\n", ";")),
).map("".join)


@pytest.mark.parametrize("pattern", _WORD_START_PATTERNS, ids=lambda p: p.pattern[:12])
@settings(max_examples=1000, deadline=None, derandomize=True)
@given(st.lists(_WORD_START_PIECES, max_size=8).map("".join))
# A match inside a word that the \\b search skips, then one starting in its text.
@example("xclass class os")
@example("xfrom os import from codecs import x")
@example("éimport *import *")
def test_patterns_matched_at_word_starts_are_the_boundary_searches(
    pattern: re.Pattern[str], text: str
) -> None:
    reference = re.compile(rf"\b{pattern.pattern}", pattern.flags)
    found = [(m.span(), m.groups()) for m in prefilter.at_word_starts(pattern, text)]
    assert found == [(m.span(), m.groups()) for m in reference.finditer(text)]


# Text pieces: every registered word of a Python file, cut and joined so that a word
# is made, broken or spread over a multi-byte character; non-ASCII letters.
_PY_CHECKS = engine.checks_for("module.py")
_PY_WORDS = sorted({w for check in _PY_CHECKS for w in (*check.keywords, *check.needles)})
_TEXT_PIECES = st.sampled_from(
    (
        *_PY_WORDS,
        *(word[: len(word) // 2] for word in _PY_WORDS),
        *(word[len(word) // 2 :] for word in _PY_WORDS),
        *(
            suppress.MARKER,
            "# verifyfull: ignore[VF101] reason\n",
            "\n",
            " ",
            "=",
            "(",
            "é",
            "日本",
        ),
        *("\u30fb", "\\", "~", "+AGE-"),
    )
)
# What a file may declare (PEP 263) or start with: the pass is exact for UTF-8, and the
# others must fall back to searching the text (Shift-JIS and UTF-7 put ASCII bytes in
# multi-byte characters).
_HEADS = st.sampled_from(
    (
        "",
        "# -*- coding: utf-8 -*-\n",
        "# coding: latin-1\n",
        "# coding=cp1252\n",
        "# vim: set fileencoding=shift_jis :\n",
        "# coding: utf-7\n",
        "\ufeff",
    )
)


def _encoded(head: str, body: str) -> bytes | None:
    encoding = {"latin-1": "latin-1", "cp1252": "cp1252", "shift_jis": "shift_jis"}
    name = next((e for e in (*encoding, "utf-7") if e in head), "utf-8")
    try:
        return (head + body).encode(encoding.get(name, name))
    except UnicodeEncodeError:
        return None


@settings(
    max_examples=600,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(_HEADS, st.lists(_TEXT_PIECES, max_size=20).map("".join))
def test_words_found_in_one_pass_are_the_words_in_the_text(
    tmp_path: Path, head: str, body: str
) -> None:
    data = _encoded(head, body)
    if data is None:
        return
    path = tmp_path / "module.py"
    path.write_bytes(data)
    source, _error = engine._read(WalkedFile(path, "module.py", len(data)), _PY_CHECKS, 10**6)
    if source is None or source.words is None:
        return  # not decoded (an error entry), or not by the pass: the text is searched
    for word in (*_PY_WORDS, suppress.MARKER):
        assert (word in source.words) == (word in source.text), word
    for check in _PY_CHECKS:
        assert source.holds_any(check.keywords) == any(w in source.text for w in check.keywords)
    assert engine._suppressions(source) == suppress.parse(source.text)


def test_a_shift_jis_file_is_searched_as_text_not_by_bytes(tmp_path: Path) -> None:
    """Shift-JIS puts ASCII bytes in its two-byte characters: "ケW" is b"\\x83PW", whose
    bytes hold the needle "PW" that the text does not; the pass must not stand for it."""
    path = tmp_path / "module.py"
    data = "# coding: shift_jis\nx = '\u30b1W'\n".encode("shift_jis")
    assert b"PW" in data and "PW" in prefilter.NEEDLES
    path.write_bytes(data)
    source, _ = engine._read(WalkedFile(path, "module.py", len(data)), _PY_CHECKS, 10**6)
    assert source is not None and source.words is None
    utf8 = tmp_path / "plain.py"
    utf8.write_bytes(b"import subprocess\n")
    plain, _ = engine._read(WalkedFile(utf8, "plain.py", 18), _PY_CHECKS, 10**6)
    assert plain is not None and plain.words is not None and "subprocess" in plain.words


def _reference_call_index(
    tree: ast.Module, scopes: dict[int, Scope]
) -> dict[str, list[tuple[ast.Call, Scope]]]:
    """module._call_index's walk as session 5 wrote it (ast.iter_child_nodes)."""
    index: dict[str, list[tuple[ast.Call, Scope]]] = {}
    stack: list[tuple[ast.AST, Scope]] = [(tree, scopes[id(tree)])]
    while stack:
        node, scope = stack.pop()
        scope = scopes.get(id(node), scope)
        if isinstance(node, ast.Call):
            module._index_call(index, node, scope)
        stack.extend((child, scope) for child in ast.iter_child_nodes(node))
    for calls in index.values():
        calls.sort(key=lambda item: (item[0].lineno, item[0].col_offset))
    return index


def _call_key(call: ast.Call) -> object:
    return (call.lineno, call.col_offset, ast.dump(call))


_REPO = Path(__file__).resolve().parent.parent
_MODULES = sorted((*(_REPO / "src").rglob("*.py"), *(_REPO / "tests" / "fixtures").rglob("*.py")))
# Calls at one place (`f(x)(y)`, decorators, nested lambdas and comprehensions) whose
# order only the walk's order decides.
_SAME_PLACE = """
def outer(a):
    f(a)(g(a))(h(a))
    return [f(y)(y) for y in (lambda z: g(z)(z))(a)]

@deco(f(1))(g(2))
class K:
    def m(self):
        self.m()(self.n(f(self.m())))
"""


def test_the_call_index_is_the_reference_walks_on_every_module() -> None:
    """The faster walk of module._call_index gives the same calls, with the same
    scopes, in the same order, on every module of this project and its fixtures."""
    compared = 0
    for path in (*_MODULES, None):
        text = _SAME_PLACE if path is None else path.read_text(encoding="utf-8")
        try:
            parsed = module.parse_module(path or Path("same.py"), _REPO, text)
        except (SyntaxError, ValueError):
            continue  # a fixture that is deliberately not Python
        fast = module._call_index(parsed.tree, parsed.scopes)
        slow = _reference_call_index(parsed.tree, parsed.scopes)
        # a runner's call of the function it is handed is made anew by each walk
        # (passed_callables.handed_call): the same call, compared by what it says
        assert {k: [(_call_key(c), id(s)) for c, s in v] for k, v in fast.items()} == {
            k: [(_call_key(c), id(s)) for c, s in v] for k, v in slow.items()
        }, path
        compared += 1
    assert compared > 100


# Every SQLAlchemy API's stand-ins, and connect_args that change their reading.
_SQLALCHEMY_APIS = sorted(sites.SQLALCHEMY | sites.SQLALCHEMY_CONFIG | {"sqlalchemy.create_engine"})
_CONNECT_ARGS: tuple[dict[str, object] | None, ...] = (
    None,
    {},
    {"sslmode": "require"},
    {"ssl": False},
    {"ssl": "verify-full", "sslrootcert": "other.crt"},
    {"host": "db.internal", "port": 26257},
)


@pytest.mark.parametrize("api", _SQLALCHEMY_APIS)
def test_stand_in_urls_read_from_their_parts_as_make_url_reads_their_texts(api: str) -> None:
    import sqlalchemy.engine  # noqa: F401  (the reference: make_url, as a file's URL is read)

    texts = [text for variants in sites._unseen_variants(api) for text in variants]
    assert texts and all(text in sites._STAND_INS for text in texts)
    for text in texts:
        for connect_args in _CONNECT_ARGS:
            from_text = from_sqlalchemy_url(text, connect_args)
            from_parts = from_sqlalchemy_url(sites._STAND_INS[text], connect_args)
            assert from_parts == from_text, (text, connect_args)


_UNSEEN_URL_SITES = """import os

from sqlalchemy import create_engine
from sqlalchemy.ext.asyncio import create_async_engine

engine = create_engine(os.environ["DATABASE_URL"], connect_args={"sslmode": "disable"})
fast = create_async_engine(os.environ["DATABASE_URL"], connect_args={"ssl": False})
"""
_SCAN_AND_SAY = """
import json, sys
from pathlib import Path
from verifyfull.scan import engine
from verifyfull.scan.settings import ScanSettings
root = Path(sys.argv[1])
report = engine.scan([root], ScanSettings(project_root=root), jobs=1).report
found = [(f.rule_id, f.line) for f in report.findings]
print(json.dumps({"findings": found, "imported": "sqlalchemy" in sys.modules}))
"""


def test_sites_with_unseen_urls_are_judged_without_importing_sqlalchemy(tmp_path: Path) -> None:
    """The connect_args decide (TLS off whatever the URL says): judged as before, and
    SQLAlchemy, which only the stand-ins' texts needed, is not imported."""
    (tmp_path / "app.py").write_text(_UNSEEN_URL_SITES, encoding="utf-8")
    run = subprocess.run(
        [sys.executable, "-c", _SCAN_AND_SAY, str(tmp_path)],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    said = json.loads(run.stdout)
    assert said == {"findings": [["VF101", 6], ["VF101", 7]], "imported": False}


# The words _families looks for in a view only when the text holds them, and pieces
# that cut them, quote them, comment them, put them in docstrings and f-strings, and
# join them across what the views blank.
_GATED_WORDS = sorted(
    {
        *prefilter.SSL_WORDS,
        *frameworks.WORDS,
        *(together[0] for together in frameworks.WORDS_TOGETHER),
        *prefilter._DSN_WORDS,
        *prefilter.SITE_ROOTS,
        "hashlib",
        "random",
    }
)
_VIEW_PIECES = st.sampled_from(
    (
        *_GATED_WORDS,
        *(word[: len(word) // 2] for word in _GATED_WORDS),
        *(word[len(word) // 2 :] for word in _GATED_WORDS),
        *("'", '"', "'''", '"""', "f'", 'rb"', "#", "# c\n", "\n", "\r\n", " ", "\\"),
        *(":", "/", "=", "(", ")", ".", "x", "é"),
        # Statements each family fires on, to be commented, quoted or kept.
        *("import random\n", "token = random.choice(x)\n", "import hashlib\n"),
        *("secret_key = hashlib.md5(x)\n", "DATABASES = {}\n", "ctx.check_hostname = False\n"),
        *("URL = 'postgresql://db/app'\n", "yoyo.get_backend(u)\n", "ssl.PROTOCOL_TLSv1\n"),
        *("asyncpg.connect(h)\n", "from psycopg import connect\n", "connect(h)\n"),
        *("import sqlalchemy as sa\n", "sa.create_engine(u)\n", "pandas\n", "df.to_sql(t)\n"),
    )
)


_VIEW_TEXTS = st.lists(_VIEW_PIECES, max_size=16).map("".join)


def _lexed_with_needles(text: str) -> tuple[lexical.Views, frozenset[str]] | None:
    """The text's views (None: not lexable) and the NEEDLES its bytes hold."""
    lexed = lexical.views(text)
    if lexed is None:
        return None
    return lexed, prefilter.needles_in(text.encode("utf-8", "surrogatepass"))


@settings(max_examples=1500, deadline=None, derandomize=True)
@given(_VIEW_TEXTS.map(_lexed_with_needles))
def test_a_word_in_a_view_is_in_the_text(
    case: tuple[lexical.Views, frozenset[str]] | None,
) -> None:
    if case is not None:
        lexed, present = case
        for word in _GATED_WORDS:
            if word in lexed.document or word in lexed.code:
                assert word in present, word


@settings(max_examples=1000, deadline=None, derandomize=True)
@given(_VIEW_TEXTS.map(_lexed_with_needles))
def test_the_families_found_knowing_the_texts_words_are_those_found_without(
    case: tuple[lexical.Views, frozenset[str]] | None,
) -> None:
    if case is None:
        return
    lexed, present = case
    views = (lexed.document, lexed.code, "settings", lexed.literals)
    assert prefilter._families(*views, present=present) == prefilter._families(*views)


def _listed_runs_with_hint(document: str) -> set[str]:
    """The reference: every distinct run of name characters, listed, that holds a hint
    in lower case (prefilter._names_where before session 16)."""
    runs = set(prefilter._NAME_RUN.findall(document))
    return {run for run in runs if prefilter._SECURITY_HINT.search(run.lower())}


_HINT_PIECES = st.sampled_from(
    (
        *prefilter.SECURITY_HINTS,
        *(hint.upper() for hint in prefilter.SECURITY_HINTS),
        *(hint[:2] for hint in prefilter.SECURITY_HINTS),
        *(hint[2:] for hint in prefilter.SECURITY_HINTS),
        *("_", ".", "-", " ", "\n", "=", "'", "(", "x", "9"),
        # lower case longer (İ), context-dependent (Σ), a letter lowering to ASCII
        # (the Kelvin sign), a letter that is no cased one, a digit that is no ASCII one
        *("İ", "Σ", "\u212a", "é", "ß", "ǅ", "٣", "·"),
    )
)


@settings(max_examples=1500, deadline=None, derandomize=True)
@given(st.lists(_HINT_PIECES, max_size=14).map("".join))
@example("İ_token key")
@example("\u212aey_secret")
def test_runs_widened_around_hints_are_the_listed_runs(document: str) -> None:
    found = list(prefilter._runs_with_hint(document))
    assert len(found) == len(set(found))  # each run once
    assert set(found) == _listed_runs_with_hint(document)


_OS_IMPORT_BEFORE = re.compile(r"\bfrom\s+os\s+import\b|\bos\s+as\s")
_PROCESS_PIECES = st.sampled_from(
    (
        *("from", "os", "import", "as", "system", "popen", "subprocess", "os.system"),
        *("os as o", "from os import ", "import sys, os as o", "o.system(", "xos as"),
        *(" ", "  ", "\t", "\n", "\\\n", ".", ",", "(", "x", "_", "é", "٣", "osas"),
    )
)


@settings(max_examples=1500, deadline=None, derandomize=True)
@given(st.lists(_PROCESS_PIECES, max_size=12).map("".join))
@example("xfrom os import system")
@example("pos as x; from os import popen")
@example("import os as o\no.system(x)")
def test_a_process_start_is_possible_where_the_boundary_search_said(text: str) -> None:
    def reference(text: str) -> bool:
        if any(word in text for word in ("subprocess", "os.system", "os.popen")):
            return True
        if "create_subprocess_" in text:
            return True
        return ("system" in text or "popen" in text) and bool(_OS_IMPORT_BEFORE.search(text))

    assert subprocess_sites.may_start_a_process(text) == reference(text)


# aerich's configuration in the root, in a folder between it and the module, beside
# the module only, or nowhere; written in each form aerich reads, and in ones it
# does not (another tool's table, a quoted key with an escape).
_AERICH_FILES = (
    ("pyproject.toml", '[tool.aerich]\ntortoise_orm = "{module}.TORTOISE_ORM"\n'),
    ("pyproject.toml", '[tool."\\u0061erich"]\ntortoise_orm = "{module}.TORTOISE_ORM"\n'),
    ("pyproject.toml", "[tool.ruff]\nline-length = 99\n"),
    ("aerich.ini", "[aerich]\ntortoise_orm = {module}.TORTOISE_ORM\n"),
    ("aerich.ini", "[other]\nkey = value\n"),
)
_MODULE_BODIES = (
    # Django's own use of the words: names, no settings.
    "from django.db import connections\nfrom django.apps import apps\n",
    # aerich's settings, TLS off: a finding only where aerich is configured for it.
    'TORTOISE_ORM = {"connections": {"default": "postgres://app@db.internal/app?ssl=disable"},'
    ' "apps": {"models": {"models": ["app.models"], "default_connection": "default"}}}\n',
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    folder=st.sampled_from(("", "svc", "svc/app", "elsewhere", None)),
    config=st.sampled_from(_AERICH_FILES),
    module=st.sampled_from(("settings", "svc/app/settings", "svc/app/db/__init__")),
    body=st.sampled_from(_MODULE_BODIES),
)
def test_aerichs_words_count_wherever_an_aerich_configuration_could_name_the_module(
    tmp_path: Path, folder: str | None, config: tuple[str, str], module: str, body: str
) -> None:
    root = Path(tempfile.mkdtemp(dir=tmp_path))  # fresh: both readers cache by folder
    relpath = f"{module}.py"
    if folder is not None:
        name, text = config
        (root / folder).mkdir(parents=True, exist_ok=True)
        dotted = module.removesuffix("/__init__").replace("/", ".")
        (root / folder / name).write_text(text.format(module=dotted), encoding="utf-8")
    parts = relpath.split("/")[:-1]
    folders = [root.joinpath(*parts[:depth]) for depth in range(len(parts) + 1)]
    if any(aerich.configured(str(where)) for where in folders):
        assert aerich_reach.may_configure(root, relpath)
    path = root / relpath
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(body, encoding="utf-8")
    data = path.read_bytes()
    source = SourceFile(
        path, relpath, data.decode("utf-8"), data, engine._words_in(data, _PY_CHECKS)
    )
    ctx = ScanContext(root=root, policy=Policy())
    filtered = sorted((f.rule_id, f.line) for f in python_check.analyse(source, ctx))
    full = sorted((f.rule_id, f.line) for f in python_check.run_analysis(source, ctx).findings)
    assert filtered == full


def test_djangos_aerich_words_make_no_module_worth_parsing_without_an_aerich_configuration(
    tmp_path: Path,
) -> None:
    text = _MODULE_BODIES[0] + "connections.close_all()\napps.get_models()\n"
    data = text.encode()
    words = engine._words_in(data, _PY_CHECKS)
    unconfigured = prefilter.plan(
        text, "utils", data, words, aerich=lambda: aerich_reach.may_configure(tmp_path, "x.py")
    )
    assert unconfigured.families == frozenset()
    (tmp_path / "aerich.ini").write_text("[aerich]\ntortoise_orm = x.T\n", encoding="utf-8")
    configured = prefilter.plan(text, "utils", data, words, aerich=lambda: True)
    assert configured.families == frozenset({"frameworks"})
