"""What a Python file's text says about the rules that can fire in it, before parsing.

Parsing is most of a scan's cost and most files of a large tree need none, so each
test here is a cheap necessary condition: a rule family left out cannot fire in the
file, a word left out of `trigger_words` cannot occur in a body that raises a rule.
Three stages, each cheaper per byte than the next: KEYWORDS (any word at all, found
with every other word the tests need in one native pass, needles_in), a superset
test on the whole text, then the same families judged on the file's
lexical views (lexical.py: code without strings, the text without docstrings and
comments, the values of its literals), where the connection examples that fill a
library's docstrings no longer count.
Soundness, not precision, is the contract: tests/test_scan_python_prefilter.py runs
the full analysis beside the filtered one and requires the same findings.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache

import ahocorasick_rs

from verifyfull.scan.python.credentials import (
    CONNECTION_CALL_WORDS,
    DECODER_FUNCTIONS,
    DECODER_MODULES,
    DECODER_WORDS,
    SECRET_WRAPPERS,
    literal_holds_password,
)
from verifyfull.scan.python.env_readers import LIBRARY_ENV_WORDS
from verifyfull.scan.python.frameworks import MODULES as FRAMEWORK_MODULES
from verifyfull.scan.python.frameworks import WORDS as FRAMEWORK_WORDS
from verifyfull.scan.python.frameworks import WORDS_TOGETHER as FRAMEWORK_WORDS_TOGETHER
from verifyfull.scan.python.frameworks.aerich import WORDS_TOGETHER as AERICH_WORDS
from verifyfull.scan.python.lexical import statement_from, views
from verifyfull.scan.python.names import (
    SECURITY_HINTS,
    has_db_context,
    is_password_name,
    is_security_name,
    may_be_secret_sink,
)
from verifyfull.scan.python.receiver_sites import METHODS as RECEIVER_METHODS
from verifyfull.scan.python.sites import ALL_SITES, METHOD_SITES
from verifyfull.scan.python.weak_crypto import RANDOM_FUNCTIONS

# What ssl_checks reads: these attributes assigned, these methods or functions called,
# these names referred to at all (PROTOCOL_TLSv1 also finds TLSv1_1).
_SSL_ASSIGNED = ("verify_mode", "check_hostname", "minimum_version")
_SSL_CALLED = ("set_ciphers", "wrap_socket")
_SSL_REFERRED = ("_create_unverified_context", "PROTOCOL_TLSv1", "PROTOCOL_SSLv2", "PROTOCOL_SSLv3")
SSL_WORDS = (*_SSL_ASSIGNED, *_SSL_CALLED, *_SSL_REFERRED)
# The first part of every site's qualified name: a whole name in the code, written
# out or in the import an alias comes from.
SITE_ROOTS = tuple(sorted({qualname.split(".")[0] for qualname in ALL_SITES}))
# ... and its last: the function, called (`create_engine(`, `Tortoise.init (`) or given
# another name at import (`create_engine as make`). Method owners aliased at import
# (`Tortoise as T`) leave the method's name in the call.
SITE_FUNCTIONS = tuple(sorted({qualname.rsplit(".", 1)[-1] for qualname in ALL_SITES}))


# What follows a root in a site call: `.name` links, then a site function called, or
# passed on with its arguments (`partial(asyncpg.connect, dsn)`: passed_callables.py,
# so a `,` or `)` after it counts as its parenthesis). It
# is matched at each place a root is written as a whole word (str.find), not searched
# for: a search tries the roots' alternation at every offset of the file, 6x slower.
# White space, line joins and the closing brackets of a parenthesized part may stand
# before each dot and the call's parenthesis (`(asyncpg.pool).create_pool(`,
# `(asyncpg.connect)(`); in the code view a comment is white space.
_AFTER_ROOT = re.compile(
    rf"(?:[\s\\)]*\.[\s\\]*\w+)*?[\s\\)]*\.[\s\\]*(?:{'|'.join(SITE_FUNCTIONS)})[\s\\)]*[(,)]"
)
# A password name (names.is_password_name) holds "pass" or "pw" in one of the
# spellings names.words leaves whole (capitals, then lower case: "PAss" is one word).
# Lower-case "pass" is the statement in most files, so it counts only where it is
# part of a name: a word of its own between _ . - or a capital (pass_, _pass, passW),
# quoted alone ('pass', a dict key), or in password, passwd, passphrase.
PASS_WORDS = (
    *("password", "passwd", "passphrase", "'pass'", '"pass"'),
    *("pass_", "_pass", "pass.", ".pass", "pass-", "-pass"),
    *(f"pass{capital}" for capital in "ABCDEFGHIJKLMNOPQRSTUVWXYZ"),
)
PASSWORD_SPELLINGS = (*PASS_WORDS, "Pass", "PASS", "PAss", "PASs", "pw", "PW", "Pw")
# Stage one: a file with none of these cannot raise a Python rule. Each family needs
# one: a site its root (asyncpg, sqlalchemy, ...: asyncpg.create_pool(host="db")
# holds no other word), ssl_checks an SSL word (no import of ssl needed:
# `ctx.check_hostname = False`), a credential a password spelling or a DSN's scheme
# (postgres, cockroach; asyncpg and psycopg are roots), weak crypto hashlib or random.
# Words such as connect, ssl or Database say nothing more and are in many files.
KEYWORDS: tuple[str, ...] = (
    *PASSWORD_SPELLINGS,
    *SITE_ROOTS,
    # `db.bind(` on a Pony Database imported from a project module (receiver_sites.py)
    *RECEIVER_METHODS,
    *SSL_WORDS,
    *FRAMEWORK_WORDS,
    *(words[0] for words in FRAMEWORK_WORDS_TOGETHER),
    *("postgres", "cockroach", "hashlib", "random"),
)


# Patterns that start at a word (`\bimport`, `\bfrom`, `\bclass`) are written without
# the \b and matched with at_word_starts: a leading \b hides the literal from the
# regex engine, which then tries the pattern at every offset (0.14 s a pattern over the
# 349 lexed files of the benchmark tree; with the literal first, 0.005-0.013 s).
_STAR_IMPORT = re.compile(r"import[ \t]*\*")


def _star_imported(code: str) -> bool:
    """Whether the code (a lexed file's code view) has an `import *`: any module's
    names may then be this module's (module._star_aliases)."""
    return next(at_word_starts(_STAR_IMPORT, code), None) is not None


def at_word_starts(pattern: re.Pattern[str], text: str) -> Iterator[re.Match[str]]:
    """The matches of re.finditer(r"\b" + pattern.pattern, text), for a pattern that
    starts with a word character and cannot match empty: each match of the pattern
    not preceded by a word character; one that is is dropped and the search goes on
    from its next offset (finditer would have tried there), a kept one from its end."""
    at = 0
    while (found := pattern.search(text, at)) is not None:
        start = found.start()
        if start and _is_word_char(text[start - 1]):
            at = start + 1
            continue
        yield found
        at = found.end()


def sites_possible(code: str, present: frozenset[str] | None = None) -> bool:
    """A site's qualified name starts with its root (module.qualname): the call is
    written from the root itself (`asyncpg.pool.create_pool(`), or through a name
    imported from a driver (`from psycopg import connect`, `import sqlalchemy.orm as
    orm`, `from tortoise import Tortoise`): that name called, or a chain from it
    ending in a site function called.

    present: the NEEDLES of the file's text (every root is one), None when not known.
    A root the text lacks cannot be in its code view, so it is not searched for: most
    files of a large tree hold none of the 30-odd roots, and a set lookup per root
    replaces a scan of the whole view per root."""
    searched = SITE_ROOTS if present is None else [r for r in SITE_ROOTS if r in present]
    written = [
        (root, at) for root in searched if root in code for at, _ in _whole_word_at(code, root)
    ]
    # any module's names (module._star_aliases)
    star = _star_imported(code)
    if any(_method_called(code, method) for method in RECEIVER_METHODS if method in code):
        return True  # `db.bind(`: its receiver says what it is (receiver_sites.py)
    if not written and not star:
        return False
    if any(_AFTER_ROOT.match(code, at + len(root)) for root, at in written):
        return True
    roots = {root for root, _ in written}
    if any(root in roots and _called_or_renamed(code, m) for m, (root, _) in METHOD_SITES.items()):
        return True  # `df.to_sql(` in a module importing pandas (sites.METHOD_SITES)
    aliases = _driver_aliases(code)
    if aliases is None:  # a star import: any name may come from the driver
        return any(_called_or_renamed(code, name) for name in SITE_FUNCTIONS if name in code)
    for alias, original in aliases.items():
        for chain in _chains_called(code, alias):
            last = chain.rsplit(".", 1)[-1].strip(" \t\n\\") if chain else original
            if last in SITE_FUNCTIONS:
                return True
    return False


# `.name` links (spaces, line joins and closing brackets allowed: `(sa.orm).x`), then
# the call's parenthesis (closing ones allowed before it: `(make)(url)`), or the `,`
# or `)` after a callable passed on with its arguments (passed_callables.py).
_CHAIN_THEN_CALL = r"((?:[\s\\)]*\.[\s\\]*\w+)*)[\s\\)]*[(,)]"
_AFTER_NAME = re.compile(_CHAIN_THEN_CALL)


def _chains_called(code: str, name: str) -> Iterator[str]:
    """The `.name` chain of each call made from `name` (a whole word), in the order
    and without the overlaps of re.finditer(rf"\\b{name}\\b{_CHAIN_THEN_CALL}"), but
    matched only where str.find puts the name (a search per alias tried every offset)."""
    if not name or not all(_is_word_char(char) for char in name):
        for call in re.finditer(rf"\b{re.escape(name)}\b{_CHAIN_THEN_CALL}", code):
            yield call.group(1)
        return
    matched_to = 0
    for at, _ in _whole_word_at(code, name):
        if at < matched_to:
            continue  # inside the previous call's chain: finditer does not look there
        chain = _AFTER_NAME.match(code, at + len(name))
        if chain is not None:
            matched_to = chain.end()
            yield chain.group(1)


# The names end at the line's end or at a `;`: `from a import b; from c import d` is
# two statements (the second was read as names of the first), and `from sqlalchemy
# import create_engine; create_engine(…)` is how `python -c` programs are written
# (session 15).
_FROM_IMPORT = re.compile(
    r"from[ \t]+(\.*[\w.]*)[ \t]+import[ \t]*(\([^)]*\)|(?:[^\n\\;]|\\\r?\n)*)"
)
_PLAIN_IMPORT = re.compile(r"(?:^|;)[ \t]*import[ \t]+((?:[^\n;\\]|\\\r?\n)*)", re.MULTILINE)


def _driver_aliases(code: str) -> dict[str, str] | None:
    """Names bound by imports from a driver (root) module, each with the name it was
    imported as (its last dotted part); None for a star import (from any module)."""
    aliases: dict[str, str] = {}
    for statement in at_word_starts(_FROM_IMPORT, code):
        module = statement.group(1).lstrip(".")
        names = statement.group(2).strip("()")
        from_root = module.split(".")[0] in SITE_ROOTS
        for item in names.replace("\\", " ").split(","):
            parts = item.split()
            if not parts:
                continue
            if parts[0] == "*":  # a project module's star re-exports a driver's names too
                return None
            alias = parts[-1] if len(parts) == 3 and parts[1] == "as" else parts[0]
            if from_root or (not module and parts[0] in SITE_ROOTS):
                aliases[alias] = parts[0]
    for statement in _PLAIN_IMPORT.finditer(code):
        for item in statement.group(1).replace("\\", " ").split(","):
            parts = item.split()
            if len(parts) == 3 and parts[1] == "as" and parts[0].split(".")[0] in SITE_ROOTS:
                aliases[parts[2]] = parts[0].rsplit(".", 1)[-1]
    return aliases


def _whole_word_at(text: str, word: str) -> Iterator[tuple[int, int]]:
    """Each occurrence of `word` as a whole word: its start, and the offset of what
    follows past what Python lets stand between a name and the token that calls or
    assigns it (_past_gaps). Found with str.find (a regex alternation over a large
    file cost a third of the prefilter's time)."""
    size = len(text)
    at = text.find(word)
    while at >= 0:
        end = at + len(word)
        if (at == 0 or not _is_word_char(text[at - 1])) and (
            end == size or not _is_word_char(text[end])
        ):
            yield at, _past_gaps(text, end)
        at = text.find(word, at + 1)


def _past_gaps(text: str, at: int) -> int:
    """The offset past white space, line joins, comments (a call inside brackets may
    hold one before its parenthesis) and closing brackets (a parenthesized callee or
    target: `(asyncpg.connect)(`, `(ctx.check_hostname) = False`). Skipping a `#` or
    `)` inside a string only makes the tests that use this pass more texts."""
    size = len(text)
    while at < size:
        char = text[at]
        if char.isspace() or char == "\\" or char == ")":
            at += 1
        elif char == "#":
            line_end = text.find("\n", at)
            at = size if line_end < 0 else line_end
        else:
            break
    return at


def _method_called(text: str, name: str) -> bool:
    """`name` as a whole word after a `.` (white space and line joins allowed between)
    and called (or passed on: the `,` or `)` of passed_callables): a method call."""
    for at, after in _whole_word_at(text, name):
        before = at - 1
        while before >= 0 and (text[before].isspace() or text[before] == "\\"):
            before -= 1
        if before >= 0 and text[before] == "." and text.startswith(("(", ",", ")"), after):
            return True
    return False


def _called_or_renamed(text: str, name: str) -> bool:
    """`name` as a whole word followed by "(" or by "as ", or by the "," or ")" of a
    callable passed on with its arguments (`partial(connect, dsn)`, passed_callables)."""
    return any(
        text.startswith(("(", ",", ")"), after)
        or (text.startswith("as", after) and text[after + 2 : after + 3].isspace())
        for _, after in _whole_word_at(text, name)
    )


CRYPTO_WORDS = ("md5", "sha1", "random", "hashlib")
# Libraries whose imported names make a function worth walking (aliases included).
TRIGGER_MODULES = frozenset({*SITE_ROOTS, *DECODER_MODULES, "ssl", "random", "hashlib"})
ALL_FAMILIES = frozenset({"sites", "ssl", "credentials", "crypto", "env", "frameworks"})

_WORD = re.compile(r"\w*")
# Names as the rules read them: identifiers, attribute names, string keys (which may
# hold dots and dashes; names.words splits on both).
_NAME_RUN = re.compile(r"[\w.\-]+")
# After the name (or its closing quote, for dict keys and variable names in strings;
# and bracket, for a subscript target `conf["db_password"] = …`): bound or passed
# (`=`, `:` annotation or dict key, `,` after a getenv name).
_BOUND = re.compile(r"['\"]?\]?\s*[=:,]")


# A literal may be wrapped in a secret type (`SecretStr("…")`), as credentials reads it.
_WRAPPED = rf"(?:(?:\w+\.)?(?:{'|'.join(sorted(SECRET_WRAPPERS))})\(\s*)?"


def _bound_to_literal(binders: str) -> re.Pattern[str]:
    """Bound (by one of `binders`, or an annotated assignment) to a string literal."""
    return re.compile(
        rf"['\"]?\]?\s*(?::\s*[\w\[\]|. ]+?\s*=|[{binders}])\s*{_WRAPPED}[rbuf]{{0,2}}['\"][^'\"]"
    )


# `,` binds as an env reader's default, positional or by keyword after others
# (`config("DB_PASSWORD", cast=str, default="…")`): any literal later in the call.
# The reader's variable is a string literal (credentials.on_call reads only a literal
# first argument), so its closing quote stands right before the comma, and the string
# opens a call's arguments (_first_argument): a password name followed by `,`
# elsewhere (a parameter, `["PASSWORD"],`, a tuple of field names) binds nothing
# (session 13: 16 of the benchmark tree's 23 credential files passed for nothing).
_ENV_DEFAULT = re.compile(r"['\"]\s*,[^'\"]*['\"]")


def _is_word_char(char: str) -> bool:
    return char.isalnum() or char == "_"


def _hint_offsets(text: str, spellings: tuple[str, ...]) -> Iterator[int]:
    """Where a password word may be: each occurrence of each spelling (its p or P; a
    spelling such as 'pass' or .pass starts one character before)."""
    for spelling in spellings:
        shift = 0 if spelling[0] in "pP" else 1
        at = text.find(spelling)
        while at >= 0:
            yield at + shift
            at = text.find(spelling, at + 1)


@lru_cache(maxsize=4)  # asked by families() and again by the walker's trigger words
def _password_words(
    text: str, spellings: tuple[str, ...] = PASSWORD_SPELLINGS
) -> tuple[tuple[str, int], ...]:
    """Each word of the text (identifier, or the same inside a string) that
    names.is_password_name accepts, with the offset just after it. spellings: the
    PASSWORD_SPELLINGS the text holds (all, when not known): every password name
    holds one, and the `pass` statement none."""
    found: list[tuple[str, int]] = []
    starts: set[int] = set()
    for start in _hint_offsets(text, spellings):
        while start > 0 and _is_word_char(text[start - 1]):
            start -= 1
        if start in starts:
            continue
        starts.add(start)
        word = _WORD.match(text, start)
        end = word.end() if word else start
        # A string key may join words with dots or dashes ("db.pass", "db-password"),
        # which names.words splits: the whole run is a name of its own.
        run_start = start
        while run_start > 0 and text[run_start - 1] in ".-":
            run_start -= 1
            while run_start > 0 and _is_word_char(text[run_start - 1]):
                run_start -= 1
        run = _NAME_RUN.match(text, run_start)
        run_end = run.end() if run else end
        if (run_start, run_end) != (start, end) and is_password_name(text[run_start:run_end]):
            found.append((text[run_start:run_end], run_end))
        name = text[start:end]
        if name == "pass" and (start == 0 or text[start - 1] not in "'\""):
            continue  # the `pass` statement: as a name, "pass" can only be a string
        if is_password_name(name):
            found.append((name, end))
    return tuple(found)


def password_names(text: str, spellings: tuple[str, ...] = PASSWORD_SPELLINGS) -> frozenset[str]:
    """The password names that are bound or passed somewhere in the text: the words a
    body must hold to raise VF401/VF402 from an assignment, keyword, dict or getenv."""
    return frozenset(
        name for name, end in _password_words(text, spellings) if _BOUND.match(text, end)
    )


def credentials_possible(
    document: str,
    code: str,
    stem: str,
    literals: tuple[str, ...] | None,
    spellings: tuple[str, ...] = PASSWORD_SPELLINGS,
    present: frozenset[str] | None = None,
) -> bool:
    """literals: the file's password-shaped string values (lexical.Views.literals), or
    None before lexing (then a looser test on the text stands in). spellings: the
    password spellings the file holds, when known. present: the NEEDLES in the file's
    text (None: not known): a needle it lacks is in neither view (_families), so the
    views are not searched for it."""
    has = _NEEDLE_SET if present is None else present
    if literals is None:
        if _literal_password_possible(document, has):
            return True
    elif any(literal_holds_password(value) for value in literals):
        return True  # a DSN or libpq keyword string with a password
    words = _password_words(document, spellings)
    if not words:
        return False
    if any(w in has and w in code for w in DECODER_WORDS) and _decoded_password_possible(
        document, code, words, precise=literals is not None
    ):
        return True  # VF402 needs no database context
    # `,` binds only as an env reader's default: os.getenv("DB_PASSWORD", "…").
    reads_env = any(word in has and word in code for word in _ENV_WORDS)
    bound = {
        name
        for name, end in words
        if _ASSIGNED.match(document, end)
        or (reads_env and _ENV_DEFAULT.match(document, end) and _first_argument(document, end))
    }
    return bool(bound) and _database_context_possible(document, code, stem, bound)


def _first_argument(document: str, end: int) -> bool:
    """Whether the string closing at `end` may be a call's first positional argument
    (an env reader's variable: `getenv("DB_PASSWORD", "…")`, `config(\n"DB_PASS", …)`).
    A string opened after anything but `(` is not (a tuple or list item, a parameter
    list), nor one whose `(` follows no name or call (a parenthesized tuple); an
    adjacent literal before it (implicit concatenation) may be."""
    closing = document[end]
    opening = document.rfind(closing, document.rfind("\n", 0, end) + 1, end)
    if opening < 0:
        return True  # opened on an earlier line: not looked into
    at = opening - 1
    for _ in range(2):  # the string's prefix: r, b, u, f, rb…
        if at >= 0 and document[at] in "rRbBuUfF":
            at -= 1
    while at >= 0 and document[at].isspace():
        at -= 1
    if at < 0 or document[at] in "'\"":
        return at >= 0
    if document[at] != "(":
        return False
    at -= 1
    while at >= 0 and document[at].isspace():
        at -= 1
    return at >= 0 and (_is_word_char(document[at]) or document[at] in ")]")


def _decoded_password_possible(
    document: str, code: str, words: tuple[tuple[str, int], ...], *, precise: bool
) -> bool:
    """VF402: a decoding call inside the value a password name is bound to
    (credentials._decoder walks that value only). Before lexing, any bound password
    name will do; after, the statement that binds one must name a decoder, unless a
    decoder was imported under another name."""
    bound = [_BOUND.match(document, end) for _, end in words]
    if not precise or _decoder_renamed(code):
        return any(bound)
    for binder in bound:
        if binder is None:
            continue
        statement = statement_from(document, binder.end())
        if any(function in statement for function in DECODER_FUNCTIONS):
            return True
    return False


_DECODER_IMPORT = re.compile(r"from\s+(?:base64|binascii|codecs)\s+import\b")


def _decoder_renamed(code: str) -> bool:
    """`from base64 import b64decode as d`: the call is then written d(...)."""
    for match in at_word_starts(_DECODER_IMPORT, code):
        rest = code[match.end() :]
        end = rest.find(")") if rest.lstrip().startswith("(") else rest.find("\n")
        if " as " in (rest if end < 0 else rest[:end]).replace("\n", " "):
            return True
    return False


# What env_readers.ENV_GETTERS need in code: getenv, or environ (environ.get,
# setdefault), or a library reader's module (`from decouple import config`).
_ENV_WORDS = ("getenv", "environ", *LIBRARY_ENV_WORDS)
_ASSIGNED = _bound_to_literal("=:")


def _literal_password_possible(text: str, present: frozenset[str]) -> bool:
    """Before lexing: a superset of literal_holds_password over every literal."""
    if "://" in present and "://" in text:
        if "assword=" in text:
            return True  # a URL's query may carry password= (credentials._QUERY_PASSWORD)
        if "@" in text:
            lowered = _lowered(text)
            if any(s in lowered for s in ("postgres", "cockroach", "asyncpg", "psycopg")):
                return True
    return (
        "password" in present
        and _keyword_assigned(text, "password")
        and any(_keyword_assigned(text, hint) for hint in _KEYWORD_HINTS)
    )


# What credentials.KEYWORD_DSN_HINT looks for (KEYWORD_PASSWORD: "password").
_KEYWORD_HINTS = ("host", "dbname", "user", "port")


def _keyword_assigned(text: str, word: str) -> bool:
    """`word` then `\\s*=` as a literal's value may hold it (KEYWORD_PASSWORD,
    KEYWORD_DSN_HINT), in the written text: after white space, the opening quote or
    an escape that may stand for white space (`\\n`, `\\x20`); found with str.find."""
    size = len(text)
    at = text.find(word)
    while at >= 0:
        before = text[at - 1] if at else " "
        if before.isspace() or before in "'\"" or "\\" in text[max(at - 6, 0) : at]:
            end = at + len(word)
            if "\\" in text[end : end + 6] and "=" in text[end : end + 12]:
                return True
            while end < size and text[end].isspace():
                end += 1
            if text.startswith("=", end):
                return True
        at = text.find(word, at + 1)
    return False


# credentials.py reports a literal password (VF401) only with database context: a
# password name, enclosing class or file name holding a database word, a connection
# call (credentials.CONNECTION_CALL_WORDS), or a dict shaped like connection parameters.
_CONNECTION_DICT_KEYS = tuple(
    f"{left}{key}{right}"
    for key in ("host", "user", "database", "dbname", "port", "dsn")
    for left in "'\""
    for right in "'\""
)
# One search for them all (24 text searches were a tenth of the prefilter's time):
# found exactly where one of _CONNECTION_DICT_KEYS is in the text.
_CONNECTION_DICT_KEY = re.compile(r"""['"](?:host|user|database|dbname|port|dsn)['"]""")
_CLASS_NAME = re.compile(r"class\s+(\w+)")


@lru_cache(maxsize=4)
def _lowered(text: str) -> str:
    """text.lower(), once per text: stage two asks it of the same text up to three times."""
    return text.lower()


def _database_context_possible(document: str, code: str, stem: str, names: set[str]) -> bool:
    if has_db_context(stem) or any(has_db_context(name) for name in names):
        return True
    lowered_document = _lowered(document)  # Django's keys are upper-case ('HOST')
    if _CONNECTION_DICT_KEY.search(lowered_document) is not None:
        return True
    lowered = _lowered(code)  # a call's qualified name is made of code: names and imports
    if any(word in lowered for word in CONNECTION_CALL_WORDS):
        return True
    return any(has_db_context(match[1]) for match in at_word_starts(_CLASS_NAME, code))


@dataclass(frozen=True)
class Plan:
    """What to analyse in a file: the rule families that can fire, and the text whose
    lines the walker looks for trigger words in (docstrings and comments blanked)."""

    families: frozenset[str]
    document: str
    spellings: tuple[str, ...] = PASSWORD_SPELLINGS  # the password spellings it holds


def _families(
    document: str,
    code: str,
    stem: str,
    literals: tuple[str, ...],
    spellings: tuple[str, ...] = PASSWORD_SPELLINGS,
    present: frozenset[str] | None = None,
    aerich: bool = True,
) -> frozenset[str]:
    """The families that can fire, on a lexed file's views (aerich: whether aerich's
    words count, i.e. an aerich configuration could name something in this file).

    present: the NEEDLES in the file's text (needles_in), None when not known. A word
    of them is in a view only if it is in the text (the views are the text's own
    pieces, joined where a comment, string or docstring was, so a word without
    quotes, `#` or white space cannot be made at a join): a search of a view for an
    absent one is skipped."""
    has = _NEEDLE_SET if present is None else present
    found = set()
    if sites_possible(code, present):
        found.add("sites")
    if not has.isdisjoint(SSL_WORDS) and _ssl_use_possible(code):
        found.add("ssl")
    if any(word in document for word in FRAMEWORK_WORDS if word in has) or any(
        words[0] in has and all(word in document for word in words)
        for words in _words_together(aerich)
    ):
        found.add("frameworks")  # a setting's name may be a string key: the document
    if credentials_possible(document, code, stem, literals, spellings, has):
        found.add("credentials")
    if _env_dsn_possible(frozenset(w for w in _DSN_WORDS if w in has and w in document)):
        found.add("env")  # env_settings: a DSN literal written for the environment
    star = _star_imported(code)  # `md5`, `choice` may come from it
    if (
        (
            ("hashlib" in has and "hashlib" in code)
            or (star and _star_may_bring(code, _HASH_FUNCTIONS))
        )
        and _names_weak_hash(document)
        and _security_name_possible(document)
    ):
        found.add("crypto")  # VF403
    elif (
        ("random" in has and _random_module_used(code))
        or (star and _star_may_bring(code, RANDOM_FUNCTIONS))
    ) and _secret_sink_possible(document, code):
        found.add("crypto")  # VF404
    return frozenset(found)


# env_settings judges a literal with a PostgreSQL/CockroachDB scheme: "://" and one of
# the scheme words are in the file's code (not only in its docstrings and comments).
_DSN_WORDS = ("://", "postgres", "cockroach")


def _env_dsn_possible(present: frozenset[str]) -> bool:
    return "://" in present and ("postgres" in present or "cockroach" in present)


# Words without one of which credentials_possible cannot hold: a DSN ("://"), a libpq
# keyword string ("password"), or a password name.
_CREDENTIAL_NEEDLES = frozenset({"://", "password", *PASSWORD_SPELLINGS})


def _any_family_in_text(text: str, stem: str, present: frozenset[str], aerich: bool = True) -> bool:
    """Before lexing, on the whole text: a cheap superset of _families. present: the
    NEEDLES in the file (needles_in), so most tests are set lookups."""
    if any(word in present for word in SSL_WORDS):
        return True
    if any(word in present for word in FRAMEWORK_WORDS) or any(
        words[0] in present and all(word in text for word in words[1:])
        for words in _words_together(aerich)
    ):
        return True
    star = not present.isdisjoint(STAR_IMPORTS)
    if ("hashlib" in present or (star and _star_may_bring(text, _HASH_FUNCTIONS))) and (
        _names_weak_hash(text)
    ):
        return True
    if (star and _star_may_bring(text, RANDOM_FUNCTIONS)) or (
        "random" in present and _random_module_used(text)
    ):
        return True  # (the secret-sink test waits for the views: on the whole text it
        # cost more than lexing the files it turned away)
    if any(root in present for root in SITE_ROOTS) and any(
        _called_or_renamed(text, name) for name in SITE_FUNCTIONS if _site_word_in(name, present)
    ):
        return True
    if any(method in present and _method_called(text, method) for method in RECEIVER_METHODS):
        return True
    if _env_dsn_possible(present):
        return True
    if present.isdisjoint(_CREDENTIAL_NEEDLES):
        return False
    return credentials_possible(text, text, stem, None, _spellings_in(present), present)


def _site_word_in(function: str, present: frozenset[str]) -> bool:
    """Whether a site function's name can be in the file. `init` (Tortoise.init) is in
    every __init__, so the word pass looks for Tortoise instead, which its qualified
    name needs (tortoise.Tortoise.init, or Tortoise imported)."""
    if function == "init":
        return any(owner in present for owner in _INIT_OWNERS)
    return function in present


def _spellings_in(present: frozenset[str]) -> tuple[str, ...]:
    return tuple(spelling for spelling in PASSWORD_SPELLINGS if spelling in present)


_PIECE_SEPARATOR = re.compile(r"[.\-]")


_SECURITY_HINT = re.compile("|".join(SECURITY_HINTS))


def _names_where(document: str, accepts: Callable[[str], bool]) -> Iterator[str]:
    """The names in the text that `accepts` (names.is_security_name or is_secret_name;
    both hold a SECURITY_HINTS word). Each run of name characters that holds a hint
    is tried whole and piece by piece."""
    quoted_pass = "'pass'" in document or '"pass"' in document
    for run in _runs_with_hint(document):
        for name in (run, *_PIECE_SEPARATOR.split(run)):
            # `pass` is the statement; as a name it can only be a string key.
            if name == "pass" and not quoted_pass:
                continue
            if accepts(name):
                yield name


def _is_name_run_char(char: str) -> bool:
    """A character of a _NAME_RUN run: what re's \\w matches (str.isalnum, which is
    the same Unicode test, or "_"), "." or "-"."""
    return char.isalnum() or char in "_.-"


def _runs_with_hint(document: str) -> Iterator[str]:
    """The distinct _NAME_RUN runs of the text that hold a SECURITY_HINTS word in
    lower case. Each hint found in the lowered text is widened in place to its run:
    most texts hold few hints, so this reads the text once instead of listing every
    run of it (the listing cost as much as the rest of the stage). The hints are made
    of name characters only, so each lies inside one run, as in the listing; when
    lowering changes the text's length (a few non-ASCII letters do), offsets no
    longer match and the runs are listed and lowered one by one."""
    lowered = document.lower()
    if len(lowered) != len(document):
        # Each run lowered on its own: offsets into a lowered join of the runs (the
        # listing before session 16) are not the join's when a letter grows, and cut
        # the wrong runs out (`İ_token` came out as `İ_token\nkey`).
        yield from (
            run for run in set(_NAME_RUN.findall(document)) if _SECURITY_HINT.search(run.lower())
        )
        return
    seen: set[str] = set()
    size = len(document)
    at = 0
    while (hint := _SECURITY_HINT.search(lowered, at)) is not None:
        start, end = hint.start(), hint.end()
        while start and _is_name_run_char(document[start - 1]):
            start -= 1
        while end < size and _is_name_run_char(document[end]):
            end += 1
        at = end
        run = document[start:end]
        if run not in seen:
            seen.add(run)
            yield run


def _security_name_possible(document: str) -> bool:
    """VF403 needs a security name anywhere: what is hashed, where the digest goes,
    the function it is computed in."""
    return any(True for _ in _names_where(document, is_security_name))


def _secret_sink_possible(document: str, code: str) -> bool:
    """VF404 needs a random value stored under a secret name (weak_crypto._sink):
    assigned, annotated, passed as a keyword, a dict key or subscript, or returned by
    a function so named. Each is the name followed, past a closing quote or bracket
    and white space, by "=", ":" or "(" (`def make_token(`)."""
    size = len(document)
    spelled_out = _random_always_spelled_out(code)
    for name in set(_names_where(document, may_be_secret_sink)):
        for at, after in _whole_word_at(document, name):
            while after < size and document[after] in "'\"] \t":
                after += 1
            if not document.startswith(("=", ":", "("), after):
                continue
            if not spelled_out or _defines(document, at):
                return True  # a function or class so named returns what it makes
            if "random" in statement_from(document, after):
                return True  # weak_crypto._sink: a random call inside the stored value
    return False


def _random_always_spelled_out(code: str) -> bool:
    """Whether every call of the random module is written with the word `random`
    (module.qualname resolves a name through its imports only, so `random.choice` is
    the module's whatever `random` is bound to): no `import random as`, no `from
    random import` of a function weak_crypto judges (`from random import Random` is
    none), and no `import *` (a project module's imports become this module's,
    module._star_aliases). Then a statement without the word holds no random call."""
    if _star_imported(code):
        return False
    for at, after in _whole_word_at(code, "random"):
        if code.startswith("as", after) and not _is_word_char(code[after + 2 : after + 3]):
            return False
        line_start = code.rfind("\n", 0, at) + 1
        if code[line_start:at].rsplit(";", 1)[-1].split()[:1] == ["from"]:
            imported = statement_from(code, after).partition("import")[2]
            names = {
                part.split()[0] for part in imported.strip("() \t\n\\").split(",") if part.split()
            }
            if not names.isdisjoint(RANDOM_FUNCTIONS):
                return False  # `from random import choice`: the call is then choice(...)
    return True


def _defines(document: str, at: int) -> bool:
    """The name at `at` may be what a `def` or `class` statement defines (or its line
    continues another, which could be one)."""
    line_start = document.rfind("\n", 0, at) + 1
    before = document[line_start:at].split()
    if not before:
        return document[:line_start].rstrip("\n").endswith("\\")
    return before[-1] in ("def", "class")


def _random_module_used(code: str) -> bool:
    """weak_crypto.is_insecure_random needs a call named random.<function>: `random`
    followed by a dot, or imported (`import os, random as r`, `from random import
    choice`). Found with str.find (a regex with word boundaries was 4x slower)."""
    for at, after in _whole_word_at(code, "random"):
        if code.startswith(".", after):
            return True
        line_start = code.rfind("\n", 0, at) + 1
        before = code[line_start:at].rsplit(";", 1)[-1].split()  # this statement
        if before[:1] == ["import"] or before == ["from"]:
            return True
        if line_start >= 2 and code[line_start - 2] == "\\":
            return True  # a joined import line: `import os, \` then `random`
    return False


def _ssl_use_possible(code: str) -> bool:
    return (
        any(word in code for word in _SSL_REFERRED)
        or any(_assigned(code, word) for word in _SSL_ASSIGNED if word in code)
        or any(_called_or_renamed(code, word) for word in _SSL_CALLED if word in code)
    )


def _assigned(code: str, name: str) -> bool:
    """`name` followed (past white space and line joins) by "=" but not "==", or by
    ":" (an annotated assignment): ssl_checks.on_assign's targets, a superset."""
    return any(
        code.startswith(":", after)
        or (code.startswith("=", after) and code[after + 1 : after + 2] != "=")
        for _, after in _whole_word_at(code, name)
    )


def _names_weak_hash(text: str) -> bool:
    """hashlib.md5 / sha1 written out, or named to hashlib.new in any case ("MD5")."""
    if "md5" in text or "sha1" in text:
        return True
    lowered = text.lower()
    return "md5" in lowered or "sha1" in lowered or "sha-1" in lowered


_INIT_OWNER = "Tortoise"
# `init` is the site function of Tortoise.init and of asyncpgsa's pg.init: each qualified
# name holds one of these words (`asyncpgsa` is a site root, so the file names it).
_INIT_OWNERS = (_INIT_OWNER, "asyncpgsa")
# `from helpers import *`: a project module's imports become this module's
# (module._star_aliases), so `choice(...)` may be random.choice and `md5(...)`
# hashlib's without either module's name in this file. The stage-one words, as
# formatters and people write it (a wider gap between `import` and `*` is not looked
# for there); the lexed views test _STAR_IMPORT itself (_star_imported).
STAR_IMPORTS = frozenset({"import *", "import*", "import  *", "import\t*"})
# The hashlib functions weak_crypto.weak_hash judges, by the name they are called with.
_HASH_FUNCTIONS = ("md5", "sha1", "new")


def _star_may_bring(code: str, functions: Iterable[str]) -> bool:
    """Whether a function a star import may have brought (bare, or through a module
    alias it brought: `rnd.choice(`) is called in the code."""
    return any(_called_or_renamed(code, name) for name in functions if name in code)


# Every word the text tests look for, found in one native pass over the file's bytes
# (Aho-Corasick): thirty str.find passes over each file were most of the prefilter's
# time. The words are ASCII and Python source is in an ASCII-compatible encoding, so a
# word in the decoded text is in the bytes too.
NEEDLES: tuple[str, ...] = tuple(
    sorted(
        {
            *KEYWORDS,
            *_CREDENTIAL_NEEDLES,
            *(function for function in SITE_FUNCTIONS if function != "init"),
            _INIT_OWNER,
            *DECODER_WORDS,
            *_ENV_WORDS,
            *("hashlib", "random"),
            *STAR_IMPORTS,
        }
    )
)
_FINDER = ahocorasick_rs.BytesAhoCorasick(
    [needle.encode("ascii") for needle in NEEDLES],
    implementation=ahocorasick_rs.Implementation.DFA,  # the default turns NFA at ~100 words
)
_KEYWORD_SET = frozenset(KEYWORDS)


def needles_in(data: bytes) -> frozenset[str]:
    """The NEEDLES that occur in `data`."""
    found = {index for index, _, _ in _FINDER.find_matches_as_indexes(data, overlapping=True)}
    return frozenset(NEEDLES[index] for index in found)


_NEEDLE_SET = frozenset(NEEDLES)
_WITHOUT_AERICH = tuple(words for words in FRAMEWORK_WORDS_TOGETHER if words != AERICH_WORDS)


def _words_together(aerich: bool) -> tuple[tuple[str, ...], ...]:
    """The framework words that count only together, less aerich's where they cannot."""
    return FRAMEWORK_WORDS_TOGETHER if aerich else _WITHOUT_AERICH


def plan(
    text: str,
    stem: str,
    data: bytes | None = None,
    words: frozenset[str] | None = None,
    *,
    aerich: Callable[[], bool] | None = None,
) -> Plan:
    """The families that can fire in this text (empty: nothing to parse for).

    aerich: asked, when the text holds aerich's first word, whether an aerich
    configuration could name something in this file (frameworks.aerich_reach); where
    none can, aerich's words make no file worth parsing. None: one can.

    data: the file's bytes (text encoded again when not given). words: the words of
    the file the engine found in its one pass over the bytes (SourceFile.words, a
    superset of NEEDLES when the check registers them), so the NEEDLES are not looked
    for again. Stage one and a superset test on the whole text first; a file that
    passes is lexed (lexical.py) and tested again on its code and document views,
    where docstrings no longer count."""
    if words is not None:
        present = words & _NEEDLE_SET
    else:
        present = needles_in(data if data else text.encode("utf-8", "surrogatepass"))
    if present.isdisjoint(_KEYWORD_SET) and present.isdisjoint(STAR_IMPORTS):
        return Plan(frozenset(), text)
    counted = aerich is None or AERICH_WORDS[0] not in present or aerich()
    if not _any_family_in_text(text, stem, present, counted):
        return Plan(frozenset(), text)
    lexed = views(text)
    if lexed is None:  # not lexable: it will not parse either, and says so
        return Plan(ALL_FAMILIES, text)
    spellings = _spellings_in(present)
    found = _families(lexed.document, lexed.code, stem, lexed.literals, spellings, present, counted)
    return Plan(found, lexed.document, spellings)


def families(text: str, stem: str) -> frozenset[str]:
    return plan(text, stem).families


def trigger_words(
    wanted: frozenset[str],
    text: str,
    imported: dict[str, str],
    spellings: tuple[str, ...] = PASSWORD_SPELLINGS,
) -> tuple[str, ...]:
    """Words without which a function or class body cannot raise a wanted rule, looked
    for in `text` (a Plan's document: docstrings and comments blanked).

    imported: alias -> first part of the dotted name it stands for; names imported
    from the libraries count (`from ssl import CERT_NONE as NONE`)."""
    words: set[str] = set()
    if "sites" in wanted:
        # A site's qualified name starts with a driver: its root is a driver name
        # written out (asyncpg.connect) or a name imported from a driver (below).
        words.update(SITE_ROOTS)
        words.update(RECEIVER_METHODS)  # `db.bind(` on a module-level Pony Database
    if "ssl" in wanted:
        words.update(SSL_WORDS)
    if "credentials" in wanted or "sites" in wanted:
        # "://" and not "@": a DSN literal reported by credentials.on_constant holds
        # both, and "@" alone would pass every decorated function. A keyword string's
        # "password=" is a bound password name.
        words.update((*password_names(text, spellings), *DECODER_WORDS, "://"))
    if "crypto" in wanted:
        words.update(CRYPTO_WORDS)
    if "env" in wanted:
        words.add("://")
    modules = TRIGGER_MODULES
    if "frameworks" in wanted:
        words.update(FRAMEWORK_WORDS)
        words.update(word for together in FRAMEWORK_WORDS_TOGETHER for word in together)
        modules = modules | FRAMEWORK_MODULES
    words.update(alias for alias, module in imported.items() if module in modules)
    return tuple(words)
