"""The last line of defence: no secret met during the run reaches any output.

Every parser that meets a secret registers it (a `Secret` does so when it is
built; detectors that see a password without building one call
`register_secret`). Every writer (report views, `emit`, the fix diff, explain,
the probe and certs views, the CLI's error line, log records) passes its text
through `scrub`, which masks

- every registered value, in each spelling it can take in an output: as is,
  percent-encoded, JSON-, HTML- and backslash-escaped, Python-repr'd, .pgpass
  escaped; and
- passwords in the shapes `redact_text` knows (URL user info with or without a
  scheme, `password=` keywords, quoted or not), for text that no parser read.

Short or common values: a registered value is masked wherever it stands as a
whole token, that is where the characters next to it are not letters, digits
or `_` (when its own first/last character is one). So `postgres` is masked in
`app:postgres@db` but not inside `postgresql`, and a one-letter password is
masked wherever that letter stands alone: the output is garbled rather than
the password leaked. A structured report (JSON, HTML) whose numbers or tag
names equal a registered value is garbled the same way, but for the keys the JSON
writers always write (`WRITTEN_KEYS`: the same in every document, they say nothing
of a secret), which stay as written so the document keeps its structure. One exception: the
names of the files the scanner walked (`register_public_name`) are the user's
own, not content read from a file; where a whole such name stands in the text
(a JSON `path`, a SARIF `uri`, `path:line:col:`), it is written as it is.

The registry lives for the process (a CLI run is one process; the scanner's
worker processes ship what they registered back with their results, see
scan/dispatch.py). Values are kept as plain strings in memory only.
"""

from __future__ import annotations

import html
import json
import re
import sys
import threading
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import quote, quote_plus

if TYPE_CHECKING:
    import logging

MASK: Final = "***"

# libpq keywords whose values are secrets (libpq 18's list, plus the asyncpg
# and Tortoise spellings that carry the same values).
SECRET_KEYS: Final = frozenset(
    {
        "password",
        "sslpassword",
        "oauth_client_secret",
        "scram_client_key",
        "scram_server_key",
        "pgpassword",
    }
)

# Longer values are not worth indexing past this (a registered value is masked
# from its first _PREFIX characters on; longer ones are compared in full).
_PREFIX = 3
# A pathological input must not make every write slow: past this many values
# the oldest are still masked by the context rules only.
MAX_VALUES: Final = 20_000


class _Index:
    """Every spelling of every registered value, kept up to date as values arrive:
    the spellings themselves, and per first 1.._PREFIX characters the lengths of the
    spellings that start so (longest first). A position of the text costs a few
    dictionary look-ups however many values are registered."""

    def __init__(self) -> None:
        self.forms: set[str] = set()
        self.lengths: list[dict[str, list[int]]] = [{} for _ in range(_PREFIX)]
        self.firsts: set[str] = set()
        self.next_first = re.compile("(?!)")  # finds where a spelling may start

    def add(self, form: str) -> None:
        if form in self.forms:
            return
        self.forms.add(form)
        size = min(len(form), _PREFIX)
        lengths = self.lengths[size - 1].setdefault(form[:size], [])
        if len(form) not in lengths:
            lengths.append(len(form))
            lengths.sort(reverse=True)
        if form[0] not in self.firsts:
            self.firsts.add(form[0])
            chars = "".join(re.escape(c) for c in sorted(self.firsts))
            self.next_first = re.compile(f"[{chars}]")

    def longest_at(self, text: str, position: int) -> int:
        """The length of the longest whole-token spelling at `position`, or 0."""
        for size in range(_PREFIX, 0, -1):
            for length in self.lengths[size - 1].get(text[position : position + size], ()):
                form = text[position : position + length]
                if len(form) == length and form in self.forms and _bounded(text, position, form):
                    return length
        return 0


_lock = threading.Lock()
_values: dict[str, None] = {}  # insertion-ordered set of raw values
_index = _Index()


def _libpq_quoted(value: str) -> str:
    return value.replace("\\", "\\\\").replace("'", "\\'")


def _py_double(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"')


# How a value is written inside a connection string or a config value...
_INNER: Final[tuple[Callable[[str], str], ...]] = (
    lambda v: v,
    _libpq_quoted,  # keyword string: password='it\'s'
    lambda v: quote(v, safe=""),
    lambda v: quote(v, safe="!$&'()*+,;=:@~"),  # what a URL builder may leave unencoded
    lambda v: quote_plus(v, safe=""),
    lambda v: v.replace("\\", "\\\\").replace(":", "\\:"),  # .pgpass
)
# ...and how that text is written in source code or in an output.
_OUTER: Final[tuple[Callable[[str], str], ...]] = (
    lambda v: v,
    _py_double,  # a "..." literal
    _libpq_quoted,  # a '...' literal
    lambda v: json.dumps(v)[1:-1],
    lambda v: json.dumps(v, ensure_ascii=False)[1:-1],
    lambda v: repr(v)[1:-1],
    lambda v: html.escape(v, quote=True),
    lambda v: html.escape(v, quote=False),
    lambda v: v.replace("'", "''"),  # SQL, YAML single-quoted
)


_PLAIN = re.compile(r"[A-Za-z0-9_.~-]+")


def spellings(value: str) -> set[str]:
    """Every form the value can take in an output this tool writes: each way of
    writing it in a connection string, written in each way of quoting text."""
    if _PLAIN.fullmatch(value):  # no layer changes such a value (most passwords)
        return {value} if value != MASK else set()
    inners = {inner(value) for inner in _INNER}
    forms = {outer(text) for text in inners for outer in _OUTER}
    stripped = value.strip()
    if stripped != value:
        forms |= spellings(stripped)
    return {form for form in forms if form.strip() and form != MASK}


def register_secret(value: object) -> None:
    """Remember a secret value met during the run so no writer can print it.
    Empty values, references (`${VAR}`) and the mask itself are ignored."""
    if not isinstance(value, str) or not value.strip() or value == MASK:
        return
    if _REFERENCE.fullmatch(value.strip()):
        return
    _ensure_log_filter()
    with _lock:
        if value in _values or len(_values) >= MAX_VALUES:
            return
        _values[value] = None
        for form in spellings(value):
            _index.add(form)


def register_from_text(text: str) -> None:
    """Register the passwords a connection string or keyword string holds, read with
    the same shapes `redact_text` masks (for detectors that see a literal password
    without building a Secret)."""
    for pattern in (_URL_PASSWORD, _BARE_USERINFO, _KEY_VALUE):
        for match in pattern.finditer(text):
            pw = match.group("pw")
            if len(pw) >= 2 and pw[0] == pw[-1] and pw[0] in "'\"":
                pw = re.sub(r"\\(.)", r"\1", pw[1:-1])
            register_secret(pw)


def registered() -> tuple[str, ...]:
    """The values registered so far (for a worker process to hand to its parent)."""
    with _lock:
        return tuple(_values)


_shipped = 0  # how many values `take_new` has handed out in this process


def take_new() -> tuple[str, ...]:
    """The values registered since the last call (a worker process sends them to its
    parent with each answer, each value once)."""
    global _shipped
    with _lock:
        new = tuple(_values)[_shipped:]
        _shipped = len(_values)
        return new


def register_all(values: Iterable[str]) -> None:
    for value in values:
        register_secret(value)


def forget_all() -> None:
    """Empty the registry (tests, and a long-lived process starting a new run)."""
    global _index, _shipped
    with _lock:
        _values.clear()
        _public_names.clear()
        _index = _Index()
        _shipped = 0


def _is_word(char: str) -> bool:
    return char.isalnum() or char == "_"


def _bounded(text: str, start: int, form: str) -> bool:
    """Whether `form` at `start` stands as a whole token (see the module doc)."""
    end = start + len(form)
    if _is_word(form[0]) and start > 0 and _is_word(text[start - 1]):
        return False
    return not (_is_word(form[-1]) and end < len(text) and _is_word(text[end]))


# --- names of files the run read: written as they are ------------------------

# Where a path-like run of text ends: whitespace, quotes and the brackets and
# separators that surround a path in the outputs (JSON/SARIF strings, HTML cells,
# `path:line:col:` in text, `sslrootcert=path`).
_RUN_STOP = frozenset(" \t\r\n'\"`<>()[]{},;=|")
_LOCATION_TAIL = re.compile(r"(?::\d+)*:?$")
_public_names: set[str] = set()


def register_public_name(name: str) -> None:
    """A file or directory name the run read from the file system (a scanned
    path, the project root). A registered secret that is also a word of such a
    name (the password `postgres` in `django-postgres-vue/settings.py`) is left
    in place where the text holds that whole name: the name is the user's own
    file name, not something read from a file, and masking it corrupted every
    location in the reports (JSON `path`, SARIF `uri`, the text header)."""
    if not name:
        return
    name = name.replace("\\", "/")
    with _lock:
        # The name and each ancestor ("a/b/c", "a/b", "a"), longest first. Every name
        # is added with all its ancestors, so the first one already known ends the walk
        # (a scan registers each walked file's path: its directory is known).
        end = len(name)
        while end > 0:
            ancestor = name[:end]
            if ancestor in _public_names:
                break
            _public_names.add(ancestor)
            end = name.rfind("/", 0, end)


def _inside_public_name(text: str, start: int, end: int) -> bool:
    """Whether text[start:end] lies inside a whole registered public name: the
    path-like run around it, less a `file://` scheme and a `:line:col` tail."""
    if not _public_names:
        return False
    left = start
    while left > 0 and text[left - 1] not in _RUN_STOP:
        left -= 1
    right = end
    while right < len(text) and text[right] not in _RUN_STOP:
        right += 1
    run = text[left:right]
    if any(c in _RUN_STOP for c in text[start:end]):
        return False
    candidates = {run, run.removeprefix("file://")}
    for candidate in list(candidates):
        trimmed = _LOCATION_TAIL.sub("", candidate).rstrip("/.")
        candidates.add(trimmed)
    return any(c in _public_names for c in candidates if c)


def _mask_registered(text: str) -> str:
    index = _index
    if not index.forms or not text:
        return text
    out: list[str] = []
    start = 0  # first character not yet copied to out
    position = 0
    length = len(text)
    find = index.next_first.search
    while position < length:
        found = find(text, position)  # skip in C to a character a spelling starts with
        if found is None:
            break
        position = found.start()
        hit = index.longest_at(text, position)
        if not hit:
            position += 1
            continue
        if _inside_public_name(text, position, position + hit):
            position += hit
            continue
        out.append(text[start:position])
        out.append(MASK)
        position += hit
        start = position
    if not out:
        return text
    out.append(text[start:])
    return "".join(out)


def scrub(text: str) -> str:
    """The text with every registered secret and every password shape masked.
    Every writer calls this on what it writes; callers need not."""
    return _mask_shapes(_mask_registered(text))


# The name parsers and detectors use for evidence: the same masking. Registered
# values go first, so a shape misread (a quote inside a quoted password) cannot
# leave half a password that the registry would no longer recognise.
redact_text = scrub


# The keys verifyfull's JSON writers write (scan json and sarif, explain, probe, certs):
# the same names in every document, whatever was scanned, so they tell nothing of any
# secret. They are kept as written: a password that is one of them (`runs`, `driver`,
# `text`) is masked in every value, but cannot rename SARIF's `runs` and break the
# document. Any other key is scrubbed like a value. tests/test_trust_secrets.py holds the
# list to the writers' output.
WRITTEN_KEYS: Final = frozenset(
    {
        # scan --format json, explain, probe, certs
        *("breaks", "by_severity", "certificates", "certs_dir", "column", "corrected"),
        *("critical", "cwe", "driver", "errors", "evidence", "facts", "files", "findings"),
        *("fix", "high", "info", "kind", "line", "medium", "message", "path", "related"),
        *("rule", "seconds", "severity", "slug", "summary", "target", "targets", "tls"),
        *("tool", "verifies_chain", "verifies_hostname", "version"),
        # SARIF 2.1.0, as scan/probe --format sarif write it
        *("$schema", "artifactChanges", "artifactLocation", "charLength", "charOffset"),
        *("columnKind", "defaultConfiguration", "deletedRegion", "description"),
        *("executionSuccessful", "fixes", "fixNeeds", "fullDescription", "help", "helpUri"),
        *("id", "informationUri", "insertedContent", "invocations", "level", "locations"),
        *("markdown", "name", "partialFingerprints", "physicalLocation", "precision"),
        *("problem.severity", "properties", "region", "relatedLocations", "replacements"),
        *("results", "ruleId", "ruleIndex", "rules", "runs", "security-severity"),
        *("semanticVersion", "shortDescription", "startColumn", "startLine", "tags", "text"),
        *("toolExecutionNotifications", "uri", "uriBaseId", "verifyfull/v1"),
    }
)


def scrub_tree(value: Any) -> Any:
    """A JSON-like value with every string in it scrubbed (keys too, but for the
    writers' own WRITTEN_KEYS), so masking happens inside strings and the document
    keeps its structure."""
    if isinstance(value, str):
        return scrub(value)
    if isinstance(value, dict):
        return {
            (k if k in WRITTEN_KEYS else scrub_tree(k)): scrub_tree(v) for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [scrub_tree(v) for v in value]
    return value


# --- passwords in text no parser read ---------------------------------------

# A password written as a reference to a secret held elsewhere.
_REFERENCE = re.compile(r"\$\{?[A-Za-z_][A-Za-z0-9_]*\}?|\*+|<[^<>]*>|\{\{[^{}]*\}\}")
# scheme://user:password@host: the password runs to the last '@' before the end
# of the literal (it may hold '/', '@', ':'), and the '@' is followed by a host.
# A match starts only where a run of scheme characters starts (the digits or '+.-'
# before its first letter are taken into `head` and written back unchanged): tried
# at every letter of a long word, the scheme part made the search quadratic.
_URL_PASSWORD = re.compile(
    r"(?P<head>(?<![A-Za-z0-9+.-])[0-9+.-]*[A-Za-z][A-Za-z0-9+.-]*://[^:/?#@\s'\"]*:)"
    r"(?P<pw>[^\s'\"<>]*)@(?=[\w.\[%-])"
)
# user:password@host without a scheme (a DSN some libraries accept, a log line).
_BARE_USERINFO = re.compile(
    r"(?<![\w/:.@%-])(?P<head>[A-Za-z_][\w.-]*:)(?!//)(?P<pw>[^\s'\"@<>]+)@(?=[A-Za-z0-9\[])"
)
# password=... in a query string, a keyword string or code (quoted or not), also
# after a quote (adjacent literals: "host=db " "password=pw") and as a JSON key.
_KEYS = "|".join(sorted(SECRET_KEYS))
_KEY_HINT = re.compile("password|secret|scram_", re.IGNORECASE)  # in every SECRET_KEYS name
_KEY_VALUE = re.compile(
    r"(?P<head>(?:^|(?<=[?&\s;,(\"'{]))(?:[\"']?(?:"
    + _KEYS
    + r")[\"']?\s*=|[\"'](?:"  # password=, or a quoted key before ':' ("password": "pw")
    + _KEYS
    + r")[\"']\s*:)\s*)(?P<pw>'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"|[^&\s;,)'\"}]*)",
    re.IGNORECASE,
)


def _mask_shapes(text: str) -> str:
    """Mask passwords in URLs and key=value text that did not go through the model
    (evidence and error messages built from raw input)."""
    # Cheap tests first: most pieces of a report hold no '@' and no secret key name.
    if "@" in text:
        text = _URL_PASSWORD.sub(lambda m: f"{m.group('head')}{MASK}@", text)
        text = _BARE_USERINFO.sub(lambda m: f"{m.group('head')}{MASK}@", text)
    if ("=" in text or ":" in text) and _KEY_HINT.search(text):
        text = _KEY_VALUE.sub(_mask_value, text)
    return text


def _mask_value(match: re.Match[str]) -> str:
    value = match.group("pw")
    if not value or _REFERENCE.fullmatch(value.strip("'\"")):
        return match.group()
    quote_char = value[0] if len(value) >= 2 and value[0] == value[-1] in "'\"" else ""
    return f"{match.group('head')}{quote_char}{MASK}{quote_char}"


class ScrubFilter:
    """Scrubs a log record's message (with its arguments) before any handler sees it.
    (A plain object with `filter`: logging accepts one, and the CLI need not import
    logging to define it.)"""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a malformed record: let logging report it as usual
            return True
        record.msg, record.args = scrub(message), None
        if record.exc_text:
            record.exc_text = scrub(record.exc_text)
        return True


_loggers_seen = -1  # size of logging's logger table when our loggers were last filtered


def _ensure_log_filter() -> None:
    """Put a ScrubFilter on every logger of this package (a filter does not pass to
    child loggers, so each gets its own) once logging is in use. Checked when this
    module loads and at each registration: the guard creates its loggers when it
    loads, long before it meets a password, and a CLI run that never logs pays
    nothing (logging is not imported for it)."""
    global _loggers_seen
    logging_module = sys.modules.get("logging")
    if logging_module is None:
        return
    table = logging_module.root.manager.loggerDict
    if len(table) == _loggers_seen:
        return
    _loggers_seen = len(table)
    ours = __name__.partition(".")[0]
    for name in [ours, *(n for n in list(table) if n.startswith(ours + "."))]:
        logger = logging_module.getLogger(name)
        if not any(isinstance(f, ScrubFilter) for f in logger.filters):
            logger.addFilter(ScrubFilter())


_ensure_log_filter()
