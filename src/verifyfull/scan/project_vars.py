"""The project's own TLS variables and env files: a cheap, bounded index of its Python code.

Config files give values to variables; what a variable *means* is decided by
the code that reads it. `ssl=os.environ["POSTGRES_SSL"]` makes POSTGRES_SSL an
asyncpg `ssl` argument, `sslmode=settings.DB_SSLMODE` (or a pydantic Settings
field `db_sslmode`, read from the environment as DB_SSLMODE) a libpq sslmode.
The config judge asks `tls_variable(src, name)` about a setting whose name is
not a known TLS name and whose value is an sslmode word; the answer says which
driver's meaning the value gets, and where the code says so.

The same pass records the env files the code names: python-dotenv
`load_dotenv("FILE")` / `dotenv_values("FILE")` (`env_file_owner`), so a
file with a name no env glob knows is judged once, by the hook in
scan/config/dotenv_hook.py.

Built lazily, once per scan root and process (scan workers each build their
own copy the first time a config value needs it; most scans never do), by a
regex pass over the `.py` files under the root whose bytes hold `ssl` or
`dotenv` (the others are not even decoded): no parsing, no import. Bounded: at
most MAX_FILES files of at most
MAX_FILE_BYTES each and MAX_TOTAL_BYTES in all, MAX_MATCHES bindings per
file; past a bound the index is `complete=False` and holds what was read.
"""

from __future__ import annotations

import enum
import os
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path, PurePosixPath

from verifyfull.scan.api import SourceFile
from verifyfull.scan.walk import DEFAULT_SKIP_DIRS

MAX_FILES = 20_000
MAX_FILE_BYTES = 1_000_000
MAX_TOTAL_BYTES = 64_000_000
MAX_MATCHES = 200


class Meaning(str, enum.Enum):
    LIBPQ_SSLMODE = "libpq sslmode"  # psycopg/psycopg2/SQLAlchemy `sslmode=`, a DSN's ?sslmode=
    ASYNCPG_SSL = "asyncpg ssl"  # asyncpg.connect(ssl=…), connect_args={"ssl": …}


@dataclass(frozen=True)
class TLSVariable:
    name: str  # the environment variable, upper case
    meaning: Meaning
    path: str  # where the code passes it (relative to the root)
    line: int

    @property
    def why(self) -> str:
        where = f"{self.path}:{self.line}"
        return f"the project's code passes {self.name} as {self.meaning.value} ({where})"


@dataclass(frozen=True)
class ProjectIndex:
    tls_variables: Mapping[str, TLSVariable] = field(default_factory=dict)
    env_files: Mapping[str, str] = field(default_factory=dict)  # env file -> first .py naming it
    complete: bool = True


# A TLS argument where `ssl` is written: `sslmode=X`, `ssl=X`, `"sslmode": X`,
# `'ssl': X`, `?sslmode={X}`. Matched only at each `ssl` str.find meets (a search of
# the whole file with the alternation cost a third of a second on site-packages).
_BINDING = re.compile(
    r"""(?P<arg>sslmode|ssl_mode|ssl)(?P<quote>["']?)(?P<item>\])?\s*(?P<op>=(?!=)|:)"""
    r"""\s*\{?\s*(?P<expr>[^,)}\n]{1,200})"""
)
# Reads of one environment variable: os.environ["X"], os.getenv("X"), env("X"),
# env.str("X"), config("X") (python-decouple), environ.get("X", default).
_ENV_READ = re.compile(
    r"""^(?:os\.)?(?:environ\s*\[|environ\.get\s*\(|getenv\s*\(|env(?:\.\w+)?\s*\(|config\s*\()"""
    r"""\s*["'](?P<var>[A-Za-z_]\w*)["']"""
)
# settings.DB_SSLMODE, self.settings.db_ssl, app_config.pg_ssl: the owner is a
# settings object by its name (`SSLMode.disable`, `self.ssl` are not variables).
_ATTRIBUTE = re.compile(
    r"^(?:[A-Za-z_]\w*\.)*[A-Za-z_]*(?:settings|config|conf|cfg|env)\.(?P<attr>[A-Za-z_]\w*)\s*$",
    re.IGNORECASE,
)
_NAME = re.compile(r"^(?P<name>[A-Za-z_]\w*)\s*$")
_ENV_PREFIX = re.compile(r"""env_prefix\s*[=:]\s*["'](?P<prefix>\w+)["']""")
_ENV_PREFIX_BYTES = re.compile(_ENV_PREFIX.pattern.encode())
_DOTENV = re.compile(
    r"""\b(?:load_dotenv|dotenv_values)\s*\(\s*(?:dotenv_path\s*=\s*)?["'](?P<file>[^"'\n]{1,300})["']"""
)


# `NAME = os.environ.get("X", …)` (a module constant or a settings line): NAME holds X;
# so does the walrus `if NAME := os.environ.get("X"):` (held-out-s21 Azure pgvector sample).
_ASSIGNED = re.compile(
    r"""(?:^[ \t]*(?P<name>[A-Za-z_]\w*)[ \t]*(?::[^=\n]{0,100})?=|"""
    r"""\b(?P<walrus>[A-Za-z_]\w*)[ \t]*:=)[ \t]*(?P<read>""" + _ENV_READ.pattern.lstrip("^") + ")",
    re.M,
)


def _assignments(text: str) -> dict[str, str]:
    """Every name the file assigns from one environment variable (one pass)."""
    found: dict[str, str] = {}
    for match in _ASSIGNED.finditer(text):
        found.setdefault(match.group("name") or match.group("walrus"), match.group("var"))
    return found


@dataclass
class _Builder:
    tls: dict[str, TLSVariable] = field(default_factory=dict)
    env_files: dict[str, str] = field(default_factory=dict)
    prefixes: set[str] = field(default_factory=set)
    attributes: list[tuple[str, Meaning, str, int]] = field(default_factory=list)

    def add(self, name: str, meaning: Meaning, path: str, line: int) -> None:
        self.tls.setdefault(name.upper(), TLSVariable(name.upper(), meaning, path, line))

    def read(self, relpath: str, text: str, root: Path) -> None:
        # Keyword arguments, dict keys and module names are lower case in Python code.
        if "ssl" in text:
            self._bindings(relpath, text, "asyncpg" in text)
            self.prefixes.update(m.group("prefix") for m in _ENV_PREFIX.finditer(text))
        if "dotenv" in text:
            for match in _DOTENV.finditer(text):
                named = _resolve(root, relpath, match.group("file"))
                if named is not None:
                    self.env_files.setdefault(named, relpath)

    def _bindings(self, relpath: str, text: str, mentions_asyncpg: bool) -> None:
        assigned: dict[str, str] | None = None  # computed on the first bare name
        line, counted = 1, 0
        for match in _bindings_in(text):
            line += text.count("\n", counted, match.start())  # lines counted once
            counted = match.start()
            argument = match.group("arg")
            if argument == "ssl" and not mentions_asyncpg:
                continue  # `ssl=` of an HTTP, Redis or mail client
            meaning = Meaning.ASYNCPG_SSL if argument == "ssl" else Meaning.LIBPQ_SSLMODE
            expr = match.group("expr").strip()
            read = _ENV_READ.match(expr)
            if read is not None:
                self.add(read.group("var"), meaning, relpath, line)
                continue
            attribute = _ATTRIBUTE.match(expr)
            if attribute is not None:  # settings.DB_SSLMODE, a Settings field
                self.attributes.append((attribute.group("attr"), meaning, relpath, line))
                continue
            bare = _NAME.match(expr)
            if bare is not None and bare.group("name") not in ("True", "False", "None"):
                assigned = _assignments(text) if assigned is None else assigned
                var = assigned.get(bare.group("name"))
                if var is not None:
                    self.add(var, meaning, relpath, line)

    def index(self, complete: bool) -> ProjectIndex:
        # Settings fields are read from the environment under their name, upper-cased
        # (pydantic is case-insensitive), and under each env_prefix the project sets.
        for attr, meaning, path, line in self.attributes:
            for prefix in ("", *sorted(self.prefixes)):
                self.add(prefix + attr, meaning, path, line)
        return ProjectIndex(dict(self.tls), dict(self.env_files), complete)


def _bindings_in(text: str) -> Iterator[re.Match[str]]:
    """`name=` keyword arguments and `"name":` keys of the TLS arguments, in order."""
    found = 0
    at = text.find("ssl")
    while at >= 0 and found < MAX_MATCHES:
        match = _BINDING.match(text, at)
        if match is not None:
            before = text[at - 1] if at else " "
            quote, op = match.group("quote"), match.group("op")
            keyword = not quote and op == "=" and not (before.isalnum() or before == "_")
            keyword = keyword and not match.group("item")
            # `"sslmode": X` in a dict, `params["sslmode"] = X` (held-out-s21 Azure
            # pgvector sample's extra_params)
            item = match.group("item") and op == "=" and not match.group("expr").startswith("=")
            if keyword or (quote and before == quote and (op == ":") != bool(item)):
                found += 1
                yield match
        at = text.find("ssl", at + 3)


def _resolve(root: Path, relpath: str, named: str) -> str | None:
    """The named file relative to the root: python-dotenv reads it from the working
    directory (the project root, as a rule), else next to the code naming it."""
    if named.startswith(("/", "~")) or "{" in named:
        return None
    for base in (PurePosixPath(), PurePosixPath(relpath).parent):
        candidate = PurePosixPath(os.path.normpath(base / named)).as_posix()
        if not candidate.startswith("..") and (root / candidate).is_file():
            return candidate
    return None


def build_index(root: Path, files: Iterable[tuple[str, str]]) -> ProjectIndex:
    """The index of (relpath, text) pairs (the walk below, or a test's own)."""
    builder = _Builder()
    for relpath, text in files:
        builder.read(relpath, text, root)
    return builder.index(complete=True)


def _python_files(root: Path) -> tuple[list[tuple[str, str]], bool]:
    """(relpath, text) of the .py files worth indexing, and whether every file was
    read within the bounds. Plain strings, not Paths: this walks whole trees."""
    files: list[tuple[str, str]] = []
    counted = total = 0
    top = str(root)
    for directory, dirs, names in os.walk(top):
        dirs[:] = sorted(d for d in dirs if d not in DEFAULT_SKIP_DIRS and not d.startswith("."))
        for name in sorted(names):
            if not name.endswith(".py"):
                continue
            if counted >= MAX_FILES or total > MAX_TOTAL_BYTES:
                return files, False
            path = os.path.join(directory, name)
            try:
                with open(path, "rb") as handle:
                    data = handle.read(MAX_FILE_BYTES + 1)
            except OSError:
                continue
            counted += 1
            total += len(data)
            if len(data) > MAX_FILE_BYTES or (b"ssl" not in data and b"dotenv" not in data):
                continue  # most files: no decoding, no regex
            relpath = os.path.relpath(path, top).replace(os.sep, "/")
            files.append((relpath, data.decode("utf-8", errors="replace")))
    return files, True


@lru_cache(maxsize=8)
def index_for(root: Path) -> ProjectIndex:
    files, complete = _python_files(root)
    index = build_index(root, files)
    return ProjectIndex(index.tls_variables, index.env_files, complete)


def root_of(src: SourceFile) -> Path:
    """The scan root a file was reported against (its path minus its relpath)."""
    parts = PurePosixPath(src.relpath).parts
    if parts and not src.relpath.startswith("..") and src.path.parts[-len(parts) :] == parts:
        return (
            Path(*src.path.parts[: -len(parts)]) if len(parts) < len(src.path.parts) else Path("/")
        )
    return src.path.parent


def names_env_file(text: str) -> bool:
    """Whether Python code names an env file for python-dotenv (cheap, per file)."""
    return _DOTENV.search(text) is not None


def tls_variable(src: SourceFile, name: str) -> TLSVariable | None:
    """What the project's code makes of the variable `name`, if it passes it to TLS."""
    return index_for(root_of(src)).tls_variables.get(name.strip().upper())


# --- which variables the project's code reads (scan/config/components.py) ----------


_DIST_INFO = (".dist-info", ".egg-info")


def installed_packages(directory: str, dirs: list[str]) -> frozenset[str]:
    """The top-level modules pip installed into `directory` (`pip install -t`, an AWS
    Lambda package: `psycopg2/` beside `psycopg2-2.7.5.dist-info/`): third-party code,
    not the project's. Named by each dist-info's top_level.txt, else its name."""
    found: set[str] = set()
    for name in dirs:
        if not name.endswith(_DIST_INFO):
            continue
        found.add(name.split("-", 1)[0])
        try:
            with open(os.path.join(directory, name, "top_level.txt"), encoding="utf-8") as f:
                found.update(line.strip() for line in f.read(10_000).splitlines())
        except (OSError, UnicodeDecodeError):
            pass
    found.discard("")
    return frozenset(found)


def _head(directory: str, name: str) -> bytes | None:
    """The first MAX_FILE_BYTES of a file, None when it cannot be read."""
    try:
        with open(os.path.join(directory, name), "rb") as handle:
            return handle.read(MAX_FILE_BYTES)
    except OSError:
        return None


@lru_cache(maxsize=2)
def _code_texts(root: Path) -> tuple[bytes, ...]:
    """The .py files under the root, lower-cased bytes, within the index's bounds."""
    texts: list[bytes] = []
    total = 0
    for directory, dirs, names in os.walk(str(root)):
        vendored = installed_packages(directory, dirs)
        dirs[:] = sorted(
            d
            for d in dirs
            if d not in DEFAULT_SKIP_DIRS and not d.startswith(".") and d not in vendored
        )
        for name in sorted(names):
            if not name.endswith(".py") or len(texts) >= MAX_FILES or total > MAX_TOTAL_BYTES:
                continue
            if name[:-3] in vendored:
                continue
            data = _head(directory, name)
            if data is None:
                continue
            total += len(data)
            texts.append(data.lower())
    return tuple(texts)


def code_reads(src: SourceFile, name: str) -> bool:
    """Whether the project's Python names the environment variable `name`: written
    as is in any case (`os.environ["DB_HOST"]`, a pydantic field `db_host`), or,
    in a file that sets an `env_prefix`, without its first part (`APP_DB_HOST` read
    as the field `db_host` under the prefix `APP_`, `SCALEDP_CHAT_DB_HOST` as `db_host`
    under `SCALEDP_CHAT_`; a prefix not written as a literal is taken to be one word)."""
    whole = name.strip().lower().encode()
    _, _, rest = whole.partition(b"_")
    for text in _code_texts(root_of(src)):
        if whole in text:
            return True
        if b"env_prefix" not in text:
            continue
        prefixes = [m.group("prefix") for m in _ENV_PREFIX_BYTES.finditer(text)]
        if not prefixes:  # a prefix not written as a literal: any first word
            if rest and rest in text:
                return True
            continue
        # the prefixes written (`env_prefix="SCALEDP_CHAT_"`, several words: held-out-s20)
        for prefix in prefixes:
            if whole.startswith(prefix) and whole[len(prefix) :] in text:
                return True
    return False


# --- which env variables a Jinja template (Ansible) fills from a variable ---------------

# `DATABASE_HOST: "{{ db_host }}"` in a role's defaults, `DATABASE_HOST={{ db_host }}` in an
# env template: the variable `db_host` (a group_vars / env_vars file's) becomes that one.
_JINJA_ENV = re.compile(
    rb"^[ \t]*(?:-[ \t]*)?[\"']?(?P<key>[A-Za-z_][A-Za-z0-9_]*)[\"']?[ \t]*[:=][ \t]*[\"']?"
    rb"\{\{-?[ \t]*(?P<var>[A-Za-z_][A-Za-z0-9_]*)[ \t]*(?:\|[^}\n]*)?-?\}\}[\"']?[ \t]*$",
    re.MULTILINE,
)
_JINJA_SUFFIXES = (".yml", ".yaml", ".j2", ".jinja", ".jinja2")


@lru_cache(maxsize=2)
def jinja_env_names(root: Path) -> Mapping[str, frozenset[str]]:
    """Template variable (lower case) -> the keys the tree's YAML and Jinja files set from
    it alone (at most MAX_TEMPLATES files holding `{{`, MAX_FILE_BYTES each)."""
    found: dict[str, set[str]] = {}
    read = 0
    for directory, dirs, names in os.walk(str(root)):
        dirs[:] = sorted(d for d in dirs if d not in DEFAULT_SKIP_DIRS and not d.startswith("."))
        for name in sorted(names):
            if not name.endswith(_JINJA_SUFFIXES) or read >= MAX_TEMPLATES:
                continue
            data = _head(directory, name)
            if data is None or b"{{" not in data:
                continue
            read += 1
            for match in _JINJA_ENV.finditer(data):
                variable = match.group("var").decode().lower()
                found.setdefault(variable, set()).add(match.group("key").decode())
    return {variable: frozenset(keys) for variable, keys in found.items()}


def code_reads_through_template(src: SourceFile, name: str) -> bool:
    """Whether a template variable reaches the project's code: a YAML or Jinja file of
    the tree sets a variable the code reads from it (held-out-s22 sea-art/eJournal: its
    Ansible env_vars `db_host` is the role's `DATABASE_HOST: "{{ db_host }}"`, which the
    Django settings read)."""
    keys = jinja_env_names(root_of(src)).get(name.strip().lower(), frozenset())
    return any(key.lower() != name.strip().lower() and code_reads(src, key) for key in keys)


# --- which env variables a Helm chart's templates fill from its values ------------------

# `- name: POSTGRES_HOST` then `value: {{ .Values.postgresql.postgresqlHost }}` (quoted
# or piped: `{{ .Values.db.host | quote }}`): the values path becomes that variable.
_HELM_ENV = re.compile(
    r"-\s*name:\s*[\"']?(?P<name>[A-Za-z_][A-Za-z0-9_]*)[\"']?[ \t]*\r?\n"
    r"[ \t]*value:\s*[\"']?\{\{-?\s*\.Values\.(?P<path>[A-Za-z0-9_.]+)"
)
MAX_TEMPLATES = 200
_TEMPLATE_SUFFIXES = (".yaml", ".yml", ".tpl")


@lru_cache(maxsize=32)
def helm_env_names(chart: Path) -> Mapping[str, frozenset[str]]:
    """Values path (`postgresql.postgresqlHost`) -> the env variables the chart's
    templates set from it, for the chart directory holding `values.yaml` and
    `templates/` (at most MAX_TEMPLATES files of MAX_FILE_BYTES, one regex pass each)."""
    folder = chart / "templates"
    if not folder.is_dir():
        return {}
    found: dict[str, set[str]] = {}
    try:
        paths = sorted(p for p in folder.iterdir() if p.name.endswith(_TEMPLATE_SUFFIXES))
    except OSError:
        return {}
    for path in paths[:MAX_TEMPLATES]:
        try:
            if not path.is_file() or path.stat().st_size > MAX_FILE_BYTES:
                continue
            text = path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        if ".Values." not in text:
            continue
        for match in _HELM_ENV.finditer(text):
            found.setdefault(match.group("path"), set()).add(match.group("name"))
    return {path: frozenset(names) for path, names in found.items()}


def code_reads_through_chart(src: SourceFile, values_path: str) -> bool:
    """Whether a Helm values entry reaches the project's code: the chart's templates
    set an env variable from it (helm_env_names) that the code reads (code_reads)."""
    if not src.path.name.startswith("values") or not (src.path.parent / "Chart.yaml").is_file():
        return False
    names = helm_env_names(src.path.parent).get(values_path, frozenset())
    return any(code_reads(src, name) for name in names)


# --- which env variables the code passes as a connection's password --------------------

# An environment read (os.getenv("X"), getenv('X'), os.environ["X"], os.environ.get("X"),
# environ.get('X'), config("X")): the variable named, lower-cased bytes as _code_texts has.
_PASSWORD_READ = (
    rb"(?:os\.)?(?:getenv|environ\.get|environ\[|config)\(?\s*[\"'](?P<var>[a-z_][a-z0-9_]*)[\"']"
)
# ... in a PostgreSQL URL's password slot (`postgresql://{getenv('U')}:{getenv('X')}@`)
_URL_SLOT = re.compile(
    rb"(?:postgres|postgresql|pg|cockroachdb)(?:\+\w+)?://(?:\{[^{}\n]{0,120}\}|[^\"'\s{}:]){0,60}?:\{"
    + _PASSWORD_READ.replace(b"<var>", b"<slot>")
    + rb"[^{}]{0,80}\}@"
)
# ... or as the password of a call or dict (`password=getenv("X")`, `"password":
# os.environ["X"]`) that a connection's words come shortly before: an HTTP login's or a
# web UI's password (`payload = {"password": os.getenv("APP_PASSWORD")}`) is none
_GIVEN = re.compile(rb"[(,{]\s*[\"']?pass(?:word|wd)?[\"']?\s*[:=]\s*" + _PASSWORD_READ)
_CONNECTION_WORDS = re.compile(
    rb"connect\(|create_engine\(|create_async_engine\(|create_pool\(|psycopg|asyncpg|dbname"
)
_WINDOW = 400  # bytes before a password keyword where the connection's words are looked for


@lru_cache(maxsize=2)
def password_variables(root: Path) -> frozenset[str]:
    """The environment variables the project's Python passes as a database password:
    held-out-s23 ergopad/danaides' `f"postgresql://{getenv('DANAIDES_USER')}:{getenv(
    'DANAIDES_PASSWORD')}@…"` makes DANAIDES_PASSWORD one, whatever its name says. Upper
    case, as env files write them (the bounded texts of _code_texts, a regex pass)."""
    found: set[str] = set()
    for text in _code_texts(root):
        if b"pass" not in text and b":{" not in text:
            continue
        found.update(m.group("slot").decode().upper() for m in _URL_SLOT.finditer(text))
        for match in _GIVEN.finditer(text):
            if _CONNECTION_WORDS.search(text, max(0, match.start() - _WINDOW), match.start()):
                found.add(match.group("var").decode().upper())
    return frozenset(found)


def password_variable(src: SourceFile, name: str) -> bool:
    """Whether the project's code passes the variable `name` as a database password."""
    return name.strip().upper() in password_variables(root_of(src))
