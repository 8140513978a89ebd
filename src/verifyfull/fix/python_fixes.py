"""libcst codemods for the Python sites the scanner reported.

Only statements on a reported line are touched; everything else in the module
is printed back byte for byte by libcst. What each site becomes follows the
driver that receives it (docs/conninfo.md, "Corrected forms"):

- asyncpg `connect`/`create_pool` with no, a constant or a dict `ssl`: an
  SSLContext (`ssl.create_default_context(cafile=...)` + `load_cert_chain`)
  built before the statement and passed as `ssl=`; a dict's files are kept.
- SQLAlchemy `+asyncpg` URLs carrying sslmode/sslrootcert/sslcert/sslkey: the
  TLS keys leave the URL and the same files build the context passed as
  `connect_args={"ssl": ...}`.
- libpq strings (psycopg, psycopg2, SQLAlchemy's libpq dialects):
  `sslmode=verify-full` and the missing certificate parameters in place.
- SSLContext weakening: `check_hostname = False` and `verify_mode = CERT_NONE`
  removed, TLS floors raised to 1.2, weak cipher strings replaced.

Certificate paths missing from the code come from the environment variables
the seed names (DB_CA_PATH, DB_CERT_PATH, DB_KEY_PATH), or from the same-named
fields of the pydantic Settings object the module's calls read their URL through
(settings_source.py), never from a path this tool invents.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import libcst as cst
from libcst.metadata import ParentNodeProvider, PositionProvider

from verifyfull import policy
from verifyfull.conninfo import ConnStringError, from_tortoise_db_url
from verifyfull.conninfo.libpq import url_scheme
from verifyfull.fix import frameworks, names, pystrings, rendering, settings_source, url_template
from verifyfull.fix.dsn_edit import CertFiles, upgrade
from verifyfull.fix.imports import add_imports, without_unused
from verifyfull.fix.layout import DEFAULT_LINE_LENGTH, laid_out
from verifyfull.fix.model import Action

ENV_NAMES = {"root": "DB_CA_PATH", "cert": "DB_CERT_PATH", "key": "DB_KEY_PATH"}
STRONG_CIPHERS = "ECDHE+AESGCM:ECDHE+CHACHA20"
_CONTEXT_COMMENT = "# verify-full: chain and host name"
_LIBPQ_TLS_KEYS = ("sslmode", "sslrootcert", "sslcert", "sslkey")
_CERT_COMMENT = "# client certificate only where configured"
_GUARD_COMMENT = "# verifyfull guard: verify-full from DB_* settings, checked at start-up"
GUARD_IMPORT = names.IMPORTS["Guard"]
_SSL, _OS, _GUARD = names.ref("ssl"), names.ref("os"), names.ref("Guard")
_QUOTE = names.ref("quote")
_EXPAND_DB_URL = names.ref("expand_db_url")
_OLD_PROTOCOLS = {"PROTOCOL_TLSv1", "PROTOCOL_TLSv1_1", "PROTOCOL_SSLv2", "PROTOCOL_SSLv3"}
_OLD_VERSIONS = {"SSLv3", "TLSv1", "TLSv1_1", "MINIMUM_SUPPORTED"}
_ASYNCPG_CALLS = {"connect", "create_pool"}
_LIBPQ_CALLS = {
    "psycopg.connect",
    "psycopg.AsyncConnection.connect",
    "psycopg.Connection.connect",
    "AsyncConnection.connect",
    "psycopg2.connect",
    "ConnectionPool",
    "AsyncConnectionPool",
    "psycopg_pool.ConnectionPool",
    "psycopg_pool.AsyncConnectionPool",
}
_TORTOISE_CALLS = {"register_tortoise", "RegisterTortoise", "init"}
_FROM_LIBPQ = {"psycopg", "psycopg2"}  # modules whose `connect` may be imported bare
# Sites that hand their keyword arguments to psycopg2/psycopg.connect() and whose first
# positional argument is not a connection string: peewee's databases (the database name;
# scan/python/sites.py PEEWEE) and psycopg2's pools (minconn). They get the libpq keywords,
# which libpq takes over any string (matched by name: the scanner reported the call).
_KEYWORDS_ONLY_CALLS = {
    "PostgresqlDatabase",
    "PooledPostgresqlDatabase",
    "PostgresqlExtDatabase",
    "PooledPostgresqlExtDatabase",
    "CockroachDatabase",
    "PooledCockroachDatabase",
    "Psycopg3Database",
    "PooledPsycopg3Database",
    "SimpleConnectionPool",
    "ThreadedConnectionPool",
}
# ORMs that hand asyncpg what they are given (the scanner reports only their real sites,
# scan/python/frameworks/asyncpg_orms.py): Piccolo's engines call asyncpg with **config,
# GINO's set_bind passes its keywords to asyncpg's pool.
_PICCOLO_ENGINES = {"PostgresEngine", "CockroachEngine"}
_GINO_BIND = "set_bind"
_TORTOISE_ENGINES = {"tortoise.backends.asyncpg"}
# Tortoise's db_url schemes (tortoise.backends.base.config_generator) for PostgreSQL.
_TORTOISE_SCHEMES = {
    "postgres": "tortoise.backends.asyncpg",
    "asyncpg": "tortoise.backends.asyncpg",
    "psycopg": "tortoise.backends.psycopg",
}
# Tortoise's psycopg backend: libpq parameters go in credentials' server_settings
# (an SSLContext there only picks sslmode; an ssl key overwrites sslmode).
_TORTOISE_PSYCOPG = "tortoise.backends.psycopg"
_POOL_CALLS = {
    "ConnectionPool",
    "AsyncConnectionPool",
    "psycopg_pool.ConnectionPool",
    "psycopg_pool.AsyncConnectionPool",
}
# libpq calls whose keyword arguments override the connection string's parameters.
_KWARG_CALLS = {
    "psycopg.connect",
    "psycopg.AsyncConnection.connect",
    "psycopg.Connection.connect",
    "AsyncConnection.connect",
    "psycopg2.connect",
}
# The client certificate is read only when configured (an empty value is libpq's "none
# given": password authentication keeps working); the root is required, checked first.
LIBPQ_KWARGS = (
    ("sslmode", '"verify-full"'),
    ("sslrootcert", f'{_OS}.environ["DB_CA_PATH"]'),
    ("sslcert", f'{_OS}.environ.get("DB_CERT_PATH", "")'),
    ("sslkey", f'{_OS}.environ.get("DB_KEY_PATH", "")'),
)
# A required setting that is missing is one clear error naming it, never a bare KeyError.
_ROOT_CHECK = (
    f'if not {_OS}.environ.get("DB_CA_PATH"):\n'
    '    raise RuntimeError("DB_CA_PATH is not set: the database server\'s CA certificate")\n'
)
_LIBPQ_SETTINGS = "{" + ", ".join(f'"{k}": {v}' for k, v in LIBPQ_KWARGS) + "}"
_ENGINE_CALLS = {
    "create_engine",
    "create_async_engine",
    "sqlalchemy.create_engine",
    "engine_from_config",
    "sqlalchemy.engine_from_config",
    "async_engine_from_config",
}
# SQLAlchemy dialects that hand libpq parameters to psycopg / psycopg2.
_LIBPQ_SCHEMES = {
    f"{base}{driver}"
    for base in ("postgresql", "postgres", "cockroachdb")
    for driver in ("", "+psycopg", "+psycopg2", "+psycopg2cffi")
}
# encode/databases: the asyncpg backend passes ssl= on to asyncpg (URL TLS keys are dropped).
_DATABASES_CALLS = {"Database", "databases.Database"}
_DATABASES_SCHEMES = {"postgresql", "postgres", "postgresql+asyncpg"}
# Dict keys people use for the CA, certificate and key (the seed's, and the usual spellings).
_DICT_ROLES = (
    ("root", ("root", "ca")),
    ("key", ("key",)),
    ("cert", ("cert",)),
)


@dataclass(frozen=True)
class PythonResult:
    text: str
    actions: tuple[Action, ...]  # what was done, one per site, for the report
    declined: tuple[tuple[int, str], ...] = ()  # reported sites left for a person: (line, why)


def _env(role: str, quote: str = '"') -> str:
    """A required setting (the root): read where the check before the statement passed."""
    return f"{_OS}.environ[{quote}{ENV_NAMES[role]}{quote}]"


def _env_optional(role: str, quote: str = '"', *, empty: bool = True) -> str:
    """A setting read only when configured (the client certificate and key): "" when unset
    (libpq's "none given"), or None (load_cert_chain: the key is in the certificate file)."""
    fallback = f", {quote}{quote}" if empty else ""
    return f"{_OS}.environ.get({quote}{ENV_NAMES[role]}{quote}{fallback})"


def _dotted(node: cst.BaseExpression) -> str | None:
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        base = _dotted(node.value)
        return f"{base}.{node.attr.value}" if base else None
    return None


def _apps(modules: cst.BaseExpression) -> str:
    """Tortoise's "apps" section for a `modules=` value (each app on the default connection)."""
    code = cst.Module(body=[]).code_for_node
    if isinstance(modules, cst.Dict) and all(
        isinstance(e, cst.DictElement) for e in modules.elements
    ):
        apps = ", ".join(
            f'{code(e.key)}: {{"models": {code(e.value)}, "default_connection": "default"}}'
            for e in modules.elements
            if isinstance(e, cst.DictElement)
        )
        return f"{{{apps}}}"
    return (
        '{name: {"models": models, "default_connection": "default"} '
        f"for name, models in ({code(modules)}).items()}}"
    )


_dict_get = frameworks.dict_get


def _dict_get_suffix(node: cst.BaseExpression | None, suffix: str) -> cst.BaseExpression | None:
    """The value of the first key ending in `suffix` (engine_from_config's prefixed keys)."""
    if not isinstance(node, cst.Dict):
        return None
    for element in node.elements:
        key = pystrings.text_of(element.key) if isinstance(element, cst.DictElement) else None
        if isinstance(element, cst.DictElement) and key is not None and key.endswith(suffix):
            return element.value
    return None


def _constant(node: cst.BaseExpression) -> bool:
    """True, False, None or a string: not an SSLContext."""
    if isinstance(node, cst.Name):
        return node.value in {"True", "False", "None"}
    return pystrings.text_of(node) is not None


def _kwarg(call: cst.Call, name: str) -> cst.Arg | None:
    return next((a for a in call.args if a.keyword and a.keyword.value == name), None)


@dataclass
class _Plan:
    """What to change, keyed by the original nodes (found in a first, read-only pass)."""

    set_ssl: dict[cst.Call, str] = field(default_factory=dict)  # call -> "ssl" | "connect_args"
    # calls given (some of) LIBPQ_KWARGS
    libpq_kwargs: dict[cst.Call, tuple[tuple[str, str], ...]] = field(default_factory=dict)
    ssl_entries: set[cst.Dict] = field(default_factory=set)  # dicts given "ssl": context
    # Tortoise psycopg credentials given server_settings with LIBPQ_KWARGS (and no "ssl")
    settings_entries: set[cst.Dict] = field(default_factory=set)
    preambles: dict[cst.CSTNode, list[cst.BaseStatement]] = field(default_factory=dict)
    postambles: dict[cst.CSTNode, list[cst.BaseStatement]] = field(default_factory=dict)
    # Django entries whose OPTIONS get LIBPQ_KWARGS -> the root setting's code, if any
    options_entries: dict[cst.Dict, str | None] = field(default_factory=dict)
    # Flask-SQLAlchemy engine options given connect_args -> how (as set_ssl)
    engine_options: dict[cst.Dict, str] = field(default_factory=dict)
    # Flask config mappings written as a dict, whose SQLALCHEMY_ENGINE_OPTIONS get them
    flask_dicts: dict[cst.Dict, str] = field(default_factory=dict)
    strings: dict[cst.BaseExpression, cst.BaseExpression] = field(default_factory=dict)
    remove: set[cst.CSTNode] = field(default_factory=set)
    replace: dict[cst.CSTNode, cst.CSTNode] = field(default_factory=dict)
    imports: set[str] = field(default_factory=set)
    actions: list[Action] = field(default_factory=list)
    # reported sites left as they are, for a person: (line, why)
    declined: list[tuple[int, str]] = field(default_factory=list)


class _ContextReaders(cst.CSTVisitor):
    """Names a module passes as the connection string of a site that takes its TLS from an
    SSLContext argument and ignores the string's TLS keys (asyncpg's connect/create_pool,
    encode/databases' Database, GINO's set_bind), whether or not the site is reported."""

    def __init__(self) -> None:
        super().__init__()
        self.names: set[str] = set()
        # name -> the libpq sites (engines, psycopg, psycopg2, pools) that read it too
        self.libpq: dict[str, list[cst.Call]] = {}
        self.aliases: dict[str, str] = {}
        self.asyncpg_modules = {"asyncpg"}
        self.from_asyncpg: set[str] = set()

    def visit_Import(self, node: cst.Import) -> None:
        for alias in node.names:
            asname = alias.asname.name if isinstance(alias.asname, cst.AsName) else None
            module = _dotted(alias.name)
            if module and isinstance(asname, cst.Name):
                self.aliases[asname.value] = module
            if module == "asyncpg" and isinstance(asname, cst.Name):
                self.asyncpg_modules.add(asname.value)

    def visit_ImportFrom(self, node: cst.ImportFrom) -> None:
        module = _dotted(node.module) if node.module else None
        if module == "asyncpg" and not isinstance(node.names, cst.ImportStar):
            self.from_asyncpg |= {a.name.value for a in node.names if isinstance(a.name, cst.Name)}

    def visit_Call(self, node: cst.Call) -> None:
        name = _dotted(node.func) or ""
        head, _, short = name.rpartition(".")
        first, dot, rest = name.partition(".")
        canonical = self.aliases[first] + dot + rest if dot and first in self.aliases else name
        asyncpg = head in self.asyncpg_modules or name in self.from_asyncpg
        context = (
            (short in _ASYNCPG_CALLS and asyncpg)
            or name in _DATABASES_CALLS
            or (short == _GINO_BIND and bool(head))
        )
        libpq = canonical in _ENGINE_CALLS or canonical in _LIBPQ_CALLS
        if not (context or libpq):
            return
        given = next(
            (a.value for a in node.args if a.keyword and a.keyword.value in _CONTEXT_URL_ARGS),
            node.args[0].value if node.args and node.args[0].keyword is None else None,
        )
        if not isinstance(given, cst.Name):
            return
        if context:
            self.names.add(given.value)
        else:
            self.libpq.setdefault(given.value, []).append(node)


_CONTEXT_URL_ARGS = {"dsn", "url", "bind", "conninfo"}


class _Planner(cst.CSTVisitor):
    METADATA_DEPENDENCIES = (PositionProvider, ParentNodeProvider)

    def __init__(
        self,
        lines: frozenset[int],
        source: str,
        use_guard: bool = False,
        evidence: Mapping[int, str] | None = None,
        strings: rendering.Strings | None = None,
    ) -> None:
        super().__init__()
        self.lines = lines
        self.strings = strings or rendering.Strings(source)
        self.evidence = evidence or {}
        self.use_guard = use_guard
        self.plan = _Plan()
        self.context_name = names.context_name(source)
        self.bindings: dict[str, cst.BaseExpression] = {}
        self.from_asyncpg: set[str] = set()
        self.module_aliases: dict[str, str] = {}
        self.from_libpq: dict[str, str] = {}  # bare names imported from psycopg/psycopg2
        self.ca_setting: str | None = None  # a module constant naming the CA file
        # strings an SSLContext site also reads: libpq TLS keys written into one would be
        # ignored there (the scanner's VF105), so libpq sites reading it take call arguments
        self.context_urls: frozenset[str] = frozenset()
        self.libpq_readers: Mapping[str, list[cst.Call]] = {}
        self._anchor: cst.CSTNode = cst.Module(body=[])
        # (block, files) -> line of the statement the context was built before
        self._built: dict[tuple[int, tuple[tuple[str, str], ...]], int] = {}

    # -- helpers -------------------------------------------------------------
    def _act(self, text: str) -> None:
        """Record what was done at the site being visited (its lines name the findings)."""
        where = self.get_metadata(PositionProvider, self._anchor)
        self.plan.actions.append(Action(where.start.line, where.end.line, text))

    def _decline(self, why: str) -> None:
        """Leave the site being visited for a person, saying why."""
        where = self.get_metadata(PositionProvider, self._anchor)
        self.plan.declined.append((where.start.line, why))

    def _value(self, node: cst.BaseExpression) -> rendering.Value:
        """What a string expression of the module is at run time (fix/rendering.py)."""
        line = self.get_metadata(PositionProvider, node).start.line
        return self.strings.value(_code(node), line)

    def _url_scheme(self, node: cst.BaseExpression) -> str | None:
        """The scheme (with its +driver) of the URL a string expression is at run time,
        else of its text as written."""
        scheme = rendering.scheme_of(self._value(node))
        text = pystrings.text_of(node)
        if scheme is None and text is not None:
            written = url_scheme(text)
            scheme = written[0] + (f"+{written[1]}" if written[1] else "") if written else None
        return scheme

    def _reported(self, node: cst.CSTNode) -> bool:
        where = self.get_metadata(PositionProvider, node)
        return any(where.start.line <= line <= where.end.line for line in self.lines)

    def _statement(self, node: cst.CSTNode) -> cst.CSTNode | None:
        current: cst.CSTNode | None = node
        while current is not None:
            if isinstance(current, cst.SimpleStatementLine | cst.BaseCompoundStatement):
                return current
            current = self.get_metadata(ParentNodeProvider, current, None)
        return None

    def _context(self, statement: cst.CSTNode, files: dict[str, str]) -> None:
        """Build the SSLContext before `statement`, once per block and set of files:
        later sites in the same block reuse the one built before the first."""
        name = self.context_name
        block = self.get_metadata(ParentNodeProvider, statement, None)
        built = (id(block), tuple(sorted(files.items())))
        line = self.get_metadata(PositionProvider, statement).start.line
        if built in self._built and self._built[built] <= line:
            return
        self._built[built] = line
        if self.use_guard:
            code = f"{name} = {_GUARD}.from_env().ssl_context()  {_GUARD_COMMENT}\n"
            self.plan.imports.add(GUARD_IMPORT)
        else:
            if "root" not in files:
                self._require_root(statement)
            root = files.get("root") or _env("root")
            code = f"{name} = {_SSL}.create_default_context(cafile={root})  {_CONTEXT_COMMENT}\n"
            key = files.get("key") or _env_optional("key", empty=False)
            if "cert" in files:
                code += f"{name}.load_cert_chain({files['cert']}, {key})\n"
            else:  # a client certificate only where one is configured: passwords need none
                code += (
                    f'if {_OS}.environ.get("{ENV_NAMES["cert"]}"):  {_CERT_COMMENT}\n'
                    f"    {name}.load_cert_chain({_env('cert')}, {key})\n"
                )
            self.plan.imports.add("import ssl")
            if f"{_OS}.environ" in code:
                self.plan.imports.add("import os")
        self.plan.preambles.setdefault(statement, []).extend(cst.parse_module(code).body)

    def _require_root(self, statement: cst.CSTNode) -> None:
        """Check DB_CA_PATH before `statement` (once per block): a missing root is one clear
        error naming the variable."""
        block = self.get_metadata(ParentNodeProvider, statement, None)
        done = (id(block), (("check", "root"),))
        line = self.get_metadata(PositionProvider, statement).start.line
        if done in self._built and self._built[done] <= line:
            return
        self._built[done] = line
        self.plan.preambles.setdefault(statement, [])[:0] = cst.parse_module(_ROOT_CHECK).body
        self.plan.imports.add("import os")

    def visit_Module(self, node: cst.Module) -> None:
        assigned = [
            t.target.value
            for s in node.body
            if isinstance(s, cst.SimpleStatementLine)
            for a in s.body
            if isinstance(a, cst.Assign)
            for t in a.targets
            if isinstance(t.target, cst.Name)
        ]
        self.ca_setting = frameworks.ca_setting(assigned)
        readers = _ContextReaders()
        node.visit(readers)
        self.context_urls = frozenset(readers.names)
        self.libpq_readers = readers.libpq

    # -- bindings: `dsn = (...)` so a call's Name argument can be followed ----
    def visit_Assign(self, node: cst.Assign) -> None:
        if len(node.targets) == 1 and isinstance(node.targets[0].target, cst.Name):
            self.bindings[node.targets[0].target.value] = node.value

    def visit_ImportFrom(self, node: cst.ImportFrom) -> None:
        module = _dotted(node.module) if node.module else None
        if module == "asyncpg" and not isinstance(node.names, cst.ImportStar):
            self.from_asyncpg |= {a.name.value for a in node.names if isinstance(a.name, cst.Name)}
        if module in _FROM_LIBPQ and not isinstance(node.names, cst.ImportStar):
            # `from psycopg2 import connect`: a bare `connect(...)` is psycopg2.connect
            for alias in node.names:
                bound = alias.asname.name if isinstance(alias.asname, cst.AsName) else alias.name
                if isinstance(alias.name, cst.Name) and isinstance(bound, cst.Name):
                    self.from_libpq[bound.value] = f"{module}.{alias.name.value}"

    def _literal(self, node: cst.BaseExpression | None) -> cst.BaseExpression | None:
        if isinstance(node, cst.Name):
            node = self.bindings.get(node.value)
        if node is not None and pystrings.text_of(node) is not None:
            return node
        return None

    # -- sites -----------------------------------------------------------------
    def visit_Import(self, node: cst.Import) -> None:
        # `import sqlalchemy as sa`: `sa.create_engine` is sqlalchemy.create_engine
        for alias in node.names:
            if isinstance(alias.asname, cst.AsName) and isinstance(alias.asname.name, cst.Name):
                module = _dotted(alias.name)
                if module:
                    self.module_aliases[alias.asname.name.value] = module

    def _canonical(self, name: str) -> str:
        if name in self.from_libpq:
            return self.from_libpq[name]
        head, dot, rest = name.partition(".")
        return (
            self.module_aliases[head] + dot + rest if dot and head in self.module_aliases else name
        )

    def visit_Call(self, node: cst.Call) -> None:
        name = self._canonical(_dotted(node.func) or "")
        if not self._reported(node):
            return
        self._anchor = node
        short = name.rsplit(".", 1)[-1]
        if name in {f"asyncpg.{c}" for c in _ASYNCPG_CALLS} or (
            short in _ASYNCPG_CALLS and short in self.from_asyncpg and "." not in name
        ):
            self._asyncpg(node, name)
        elif name in _DATABASES_CALLS:
            url = self._literal(node.args[0].value) if node.args else None
            scheme = (self._url_scheme(url) if url is not None else None) or self._scheme(node)
            if scheme in _DATABASES_SCHEMES:
                self._asyncpg(node, name)
        elif name in _ENGINE_CALLS:
            self._engine(node, name)
        elif name in frameworks.DJ_DATABASE_URL or frameworks.is_env_db(name):
            self._django_call(node, name)
        elif name in _LIBPQ_CALLS:
            self._libpq_call(node, name)
        elif short in _KEYWORDS_ONLY_CALLS:
            self._libpq_keywords(node, name)
        elif short in _TORTOISE_CALLS:
            self._tortoise(node, name)
        elif short in _PICCOLO_ENGINES:
            self._piccolo(node, name)
        elif short == _GINO_BIND and "." in name:
            self._asyncpg(node, name)
        elif short == "set_ciphers" and node.args:
            self._ciphers(node)
        elif name in {"ssl.SSLContext", "SSLContext"}:
            self._protocol(node)
        elif name in {"ssl._create_unverified_context", "_create_unverified_context"}:
            self.plan.replace[node.func] = cst.parse_expression(f"{_SSL}.create_default_context")
            self.plan.imports.add("import ssl")
            self._act("ssl._create_unverified_context() -> ssl.create_default_context()")

    def _asyncpg(self, node: cst.Call, name: str) -> None:
        arg = _kwarg(node, "ssl")
        statement = self._statement(node)
        if statement is None:
            return
        constant = arg is not None and (
            isinstance(arg.value, cst.SimpleString)
            or (isinstance(arg.value, cst.Name) and arg.value.value in {"True", "False", "None"})
        )
        if arg is None or constant:
            dsn = _kwarg(node, "dsn")
            positional = node.args[0] if node.args and node.args[0].keyword is None else None
            first = dsn.value if dsn else (positional.value if positional else None)
            url = self._literal(first) if first is not None else None
            # A string read through a variable may feed other sites too (a psycopg call
            # that needs its sslmode): asyncpg ignores its TLS keys next to a context,
            # so they stay and only lend their files, unless every libpq site of the
            # module reading it is reported (each then takes keyword arguments over the
            # string: _read_with_context); a literal at the call is cleaned.
            shared = isinstance(first, cst.Name) and not all(
                self._reported(call) for call in self.libpq_readers.get(first.value, ())
            )
            files = self._strip_url(url, keep=shared) if url is not None else {}
            self._context(statement, files)
            self.plan.set_ssl[node] = "ssl"
            self._act(f"{name}(): ssl= an SSLContext with verify-full")
        elif isinstance(arg.value, cst.Dict):
            self._context(statement, self._dict_files(arg.value))
            self.plan.set_ssl[node] = "ssl"
            self._act(f"{name}(): ssl={{...}} dict -> an SSLContext from the same files")

    def _piccolo(self, node: cst.Call, name: str) -> None:
        """Piccolo's `config` is asyncpg's keyword arguments: it gets `"ssl": context` (one
        it names already, or a constant mode, is replaced by the verifying context)."""
        arg = _kwarg(node, "config") or (node.args[0] if node.args else None)
        value = arg.value if arg is not None else None
        config = self.bindings.get(value.value) if isinstance(value, cst.Name) else value
        if not isinstance(config, cst.Dict) or config in self.plan.ssl_entries:
            return
        ssl_value = _dict_get(config, "ssl")
        if ssl_value is not None and not _constant(ssl_value):
            return  # a context (or something unknown) is already there
        statement = self._statement(config)
        if statement is None:
            return
        self._context(statement, {})
        self.plan.ssl_entries.add(config)
        self._act(f"{name}(): config gets an SSLContext with verify-full")

    def _strip_url(self, url: cst.BaseExpression, *, keep: bool = False) -> dict[str, str]:
        """Take the TLS keys out of a URL literal that will get an SSLContext (asyncpg
        ignores them then, or crashes on them); their files build the context. keep:
        leave the string as it is, only read its files."""
        stripped = pystrings.strip_tls(url)
        if stripped is None:
            return {}
        new, values = stripped
        if not keep:
            self.plan.strings[url] = new
        roles = {"sslrootcert": "root", "sslcert": "cert", "sslkey": "key"}
        return {roles[k]: v for k, v in values.items() if k in roles}

    def _dict_files(self, value: cst.Dict) -> dict[str, str]:
        files: dict[str, str] = {}
        empty = cst.Module(body=[])
        for element in value.elements:
            if not isinstance(element, cst.DictElement):
                continue
            key = pystrings.text_of(element.key)
            if key is None:
                continue
            for role, words in _DICT_ROLES:
                if role not in files and any(w in key.lower() for w in words):
                    files[role] = empty.code_for_node(element.value)
                    break
        return files

    def _engine(self, node: cst.Call, name: str) -> None:
        first = node.args[0].value if node.args and not node.args[0].keyword else None
        url = self._literal(first)
        if url is None and name.endswith("engine_from_config"):
            config = self.bindings.get(first.value) if isinstance(first, cst.Name) else first
            for key in ("sqlalchemy.url", "url"):
                url = url or self._literal(_dict_get_suffix(config, key))
        text = pystrings.text_of(url) if url is not None else None
        if url is None or text is None:
            self._engine_elsewhere(node, name)
            return
        scheme = self._url_scheme(url)
        if scheme is not None and "+asyncpg" in scheme:
            statement = self._statement(node)
            if statement is None:
                return
            self._context(statement, {**self._connect_args_files(node), **self._strip_url(url)})
            self.plan.set_ssl[node] = "connect_args"
            self._act(
                f"{name}(): TLS keys out of the +asyncpg URL, connect_args={{'ssl': SSLContext}}"
            )
            return
        if self._read_with_context(first):
            why: str | None = self._context_reason(first)
        else:
            why = self._upgrade_string(url, f"{name}()")
        if why is not None:  # the string is left as it is: connect_args decide over it
            self._engine_elsewhere(node, name, scheme, why)

    def _engine_elsewhere(
        self, node: cst.Call, name: str, scheme: str | None = None, why: str | None = None
    ) -> None:
        """An engine whose URL the code does not write (`settings.DATABASE_URL`, an
        environment read) or whose string is not edited (why): the scanner resolved it
        (its evidence names the dialect), and the TLS goes into the code, which
        SQLAlchemy hands the driver over the URL's."""
        scheme = scheme or self._scheme(node)
        statement = self._statement(node)
        if scheme is None or statement is None:
            if why is not None:
                self._decline(f"{name}(): the URL is not edited: {why}; its dialect is not known")
            return
        if "+asyncpg" in scheme:
            self._context(statement, self._connect_args_files(node))
            self.plan.set_ssl[node] = "connect_args"
            self._act(
                f"{name}(): connect_args={{'ssl': SSLContext}} (the URL comes from elsewhere)"
            )
        elif scheme in _LIBPQ_SCHEMES:
            existing = _kwarg(node, "connect_args")
            if _dict_get(existing.value if existing else None, "sslrootcert") is not None:
                return  # its own files: the scanner's finding is about something else
            self.plan.set_ssl[node] = "connect_args_libpq"
            self._require_root(statement)
            whence = "the URL comes from elsewhere" if why is None else "the URL is left as written"
            self._act(
                f"{name}(): connect_args with sslmode='verify-full' and the certificate files "
                f"({whence})"
            )

    def _connect_args_files(self, node: cst.Call) -> dict[str, str]:
        """The files libpq-style keys of an asyncpg engine's connect_args name (they go,
        and build the context instead)."""
        existing = _kwarg(node, "connect_args")
        return self._dict_files_libpq(existing.value if existing else None)

    @staticmethod
    def _dict_files_libpq(connect_args: cst.BaseExpression | None) -> dict[str, str]:
        roles = {"sslrootcert": "root", "sslcert": "cert", "sslkey": "key"}
        files = {}
        for key, role in roles.items():
            value = _dict_get(connect_args, key)
            if value is not None:
                files[role] = _code(value)
        return files

    def _read_with_context(self, node: cst.BaseExpression | None) -> bool:
        """A variable an SSLContext site of the module also reads (asyncpg, databases, GINO):
        TLS keys written into its string would be ignored there (and reported, VF105)."""
        return isinstance(node, cst.Name) and node.value in self.context_urls

    @staticmethod
    def _context_reason(node: cst.BaseExpression | None) -> str:
        name = node.value if isinstance(node, cst.Name) else "it"
        return f"{name} is also read by a site that ignores its TLS keys (an SSLContext)"

    def _scheme(self, node: cst.CSTNode) -> str | None:
        """The URL scheme the scanner resolved for the call (from its finding's evidence)."""
        where = self.get_metadata(PositionProvider, node)
        for line in range(where.start.line, where.end.line + 1):
            evidence = self.evidence.get(line, "")
            if "://" in evidence:
                return evidence.split("://", 1)[0].strip().lower()
        return None

    def _libpq_call(self, node: cst.Call, name: str) -> None:
        # the connection string: `conninfo=`/`dsn=` or the first positional argument
        # (never a keyword such as `dbname='x'`, which is one value, not a string to upgrade)
        target = _kwarg(node, "conninfo") or _kwarg(node, "dsn")
        positional = node.args[0] if node.args and node.args[0].keyword is None else None
        value = target.value if target else (positional.value if positional else None)
        url = self._literal(value)
        mode = _kwarg(node, "sslmode")
        files_only = False
        if self._read_with_context(value):
            url = None  # left as written: keyword arguments decide over it, whatever it is
        if mode is None and url is not None and pystrings.piece_of(url) is not None:
            # A keyword string gets its certificate files as keyword arguments, which libpq
            # takes over the string's: a path written into it would end its value at a
            # quote, and the scanner reads the arguments as the fix means them.
            rendered = self._value(url)
            shape = rendering.shape_of(rendered)
            keywords = isinstance(shape, rendering.Shape) and not shape.url
            if self._upgrade_string(url, f"{name}()", add_files=not keywords) is None:
                if not keywords or rendering.names_root(rendered):
                    return
                files_only = True
            # else the string is left as it is (its shape not known here): keyword
            # arguments decide over it, whatever it is
        if name in _POOL_CALLS:
            # psycopg_pool hands `kwargs` to every connect, over the connection string's
            kwargs = _kwarg(node, "kwargs")
            if kwargs is not None and not isinstance(kwargs.value, cst.Dict):
                return
            settings = kwargs.value if kwargs is not None else None
            if pystrings.text_of(_dict_get(settings, "sslmode") or cst.Name("x")) == "verify-full":
                return
            statement = self._statement(node)
            if statement is None:
                return
            self.plan.set_ssl[node] = "kwargs_libpq"
            if _dict_get(settings, "sslrootcert") is None:
                self._require_root(statement)
            self._act(f"{name}(): kwargs with sslmode='verify-full' and the certificate files")
        elif name in _KWARG_CALLS:
            # keyword arguments override the connection string in libpq: set them there
            if mode is not None and pystrings.text_of(mode.value) == "verify-full":
                return
            own_root = _kwarg(node, "sslrootcert") is not None
            statement = self._statement(node)
            if statement is None:
                return
            if files_only and own_root:
                return
            given = LIBPQ_KWARGS[:1] if own_root else LIBPQ_KWARGS
            self.plan.libpq_kwargs[node] = given[1:] if files_only else given
            if not own_root:
                self._require_root(statement)
            if files_only:
                self._act(f"{name}(): the certificate files as keyword arguments")
            else:
                self._act(f"{name}(): sslmode='verify-full' keyword (and the certificate files)")

    def _libpq_keywords(self, node: cst.Call, name: str) -> None:
        """sslmode='verify-full' and the certificate files as keyword arguments, which the
        call hands to libpq over its connection string (a `**mapping` may hold them too:
        a second value would be a TypeError, so that call is left for a person)."""
        mode = _kwarg(node, "sslmode")
        if mode is not None and pystrings.text_of(mode.value) == "verify-full":
            return
        if any(arg.star == "**" for arg in node.args):
            self._decline(f"{name}(): its keyword arguments come from a ** mapping")
            return
        statement = self._statement(node)
        if statement is None:
            return
        own_root = _kwarg(node, "sslrootcert") is not None
        self.plan.libpq_kwargs[node] = LIBPQ_KWARGS[:1] if own_root else LIBPQ_KWARGS
        if not own_root:
            self._require_root(statement)
        self._act(f"{name}(): sslmode='verify-full' keyword (and the certificate files)")

    # -- framework settings (fix/frameworks.py) ---------------------------------
    @staticmethod
    def _libpq_entries(root: str | None) -> str:
        """LIBPQ_KWARGS as dict entries; with the project's own root setting, that root and
        no client files (its author chose the files)."""
        if root:
            return f'"sslmode": "verify-full", "sslrootcert": {root}'
        return ", ".join(f'"{k}": {v}' for k, v in LIBPQ_KWARGS)

    def visit_Dict(self, node: cst.Dict) -> None:
        """A Django DATABASES entry: OPTIONS (libpq keywords) gets verify-full and the files.
        A Flask config mapping written as a dict (`{"SQLALCHEMY_DATABASE_URI": …}`, a
        helper's `return {…}`): connect_args in its SQLALCHEMY_ENGINE_OPTIONS."""
        if frameworks.dict_get(node, frameworks.URI_KEY) is not None:
            self._flask_dict(node)
            return
        if node in self.plan.options_entries or not frameworks.is_django_entry(node):
            return
        options = frameworks.dict_get(node, "OPTIONS")
        mode = frameworks.dict_get(options, "sslmode")
        # the scanner reports a mode read through a name where that name is bound
        bound = self.bindings.get(mode.value) if isinstance(mode, cst.Name) else None
        if not self._reported(node) and not (bound is not None and self._reported(bound)):
            return
        if options is not None and not isinstance(options, cst.Dict):
            return  # built elsewhere: left for a person
        own_root = frameworks.dict_get(options, "sslrootcert") is not None
        if own_root and mode is not None and pystrings.text_of(mode) == "verify-full":
            return
        statement = self._statement(node)
        if statement is None:
            return
        # the change is listed where the finding is (the constant's line, when it is there)
        self._anchor = node if self._reported(node) or bound is None else bound
        if not own_root and self.ca_setting is None:
            self._require_root(statement)
            self.plan.imports.add("import os")
        self.plan.options_entries[node] = None if own_root else self.ca_setting
        self._act("Django DATABASES entry: OPTIONS sslmode='verify-full' and the certificate files")

    def _django_call(self, node: cst.Call, name: str) -> None:
        """dj_database_url.config()/parse(), env.db(): the entry's OPTIONS updated after the
        statement that stores it (ssl_require=True is only sslmode=require)."""
        statement = self._statement(node)
        if not isinstance(statement, cst.SimpleStatementLine) or len(statement.body) != 1:
            return
        target = frameworks.entry_target(statement.body[0], node)
        block = self.get_metadata(ParentNodeProvider, statement, None)
        if target is None or block is None:
            return
        update = frameworks.written(getattr(block, "body", ()), f'{target}["OPTIONS"]')
        mode = frameworks.dict_get(update, "sslmode")
        if mode is not None and pystrings.text_of(mode) == "verify-full":
            return  # updated by an earlier run: the scanner does not read the update yet
        if self.ca_setting is None:
            self._require_root(statement)
            self.plan.imports.add("import os")
        code = (
            f'{target}["OPTIONS"] = {{**{target}.get("OPTIONS", {{}}), '
            f"{self._libpq_entries(self.ca_setting)}}}\n"
        )
        self.plan.postambles.setdefault(statement, []).extend(cst.parse_module(code).body)
        self._act(f"{name}(): the entry's OPTIONS updated to sslmode='verify-full' after the call")

    def _flask_uri(self, node: cst.SimpleStatementLine) -> None:
        """SQLALCHEMY_DATABASE_URI: a literal URL as for create_engine, else connect_args
        in SQLALCHEMY_ENGINE_OPTIONS for the dialect the scanner resolved."""
        uri = frameworks.uri_target(node.body[0]) if len(node.body) == 1 else None
        small = node.body[0]
        if uri is None or not isinstance(small, cst.Assign | cst.AnnAssign) or not small.value:
            return
        self._anchor = node
        url = self._literal(small.value)
        scheme = (self._url_scheme(url) if url is not None else None) or self._scheme(node)
        if scheme is None or ("+asyncpg" not in scheme and scheme not in _LIBPQ_SCHEMES):
            return
        block = self.get_metadata(ParentNodeProvider, node, None)
        owner = self.get_metadata(ParentNodeProvider, block, None) if block else None
        first: cst.CSTNode = owner if isinstance(owner, cst.ClassDef) else node
        body = getattr(block, "body", ())
        existing = frameworks.written(body, frameworks.options_target(uri))
        if existing is not None and not isinstance(existing, cst.Dict):
            return  # built elsewhere: left for a person
        if existing is not None and not isinstance(owner, cst.ClassDef):
            there = self._statement(existing)
            if there is not None and body.index(there) < body.index(node):
                first = there
        connect_args = frameworks.dict_get(existing, "connect_args")
        how = self._flask_tls(first, scheme, url, connect_args)
        if how is None:
            return
        if isinstance(existing, cst.Dict):
            self.plan.engine_options[existing] = how
        else:
            value = _code(_tls_dict(cst.Dict([]), how, self.context_name))
            statement = f'{frameworks.options_target(uri)} = {{"connect_args": {value}}}\n'
            self.plan.postambles.setdefault(node, []).extend(cst.parse_module(statement).body)
        self._act(f"{frameworks.URI_KEY}: {frameworks.OPTIONS_KEY} connect_args with verify-full")

    def _flask_tls(
        self,
        first: cst.CSTNode,
        scheme: str,
        url: cst.BaseExpression | None,
        connect_args: cst.BaseExpression | None,
    ) -> str | None:
        """What the engine options' connect_args get (as set_ssl), with the context or the
        root check before `first`; None when they name their own root already."""
        if "+asyncpg" in scheme:
            files = self._strip_url(url) if url is not None else {}
            self._context(first, {**self._dict_files_libpq(connect_args), **files})
            return "connect_args"
        if frameworks.dict_get(connect_args, "sslrootcert") is not None:
            return None
        self._require_root(first)
        if url is not None:  # its sslmode says what connect_args makes it (files stay there)
            self._upgrade_string(url, frameworks.URI_KEY, add_files=False)
        return "connect_args_libpq"

    def _flask_dict(self, node: cst.Dict) -> None:
        """`{"SQLALCHEMY_DATABASE_URI": url, …}`: the dict's SQLALCHEMY_ENGINE_OPTIONS (added,
        or a literal one merged) gets connect_args for the dialect, as `_flask_uri` does
        for a constant; options written another way are left for a person."""
        uri = next(
            e
            for e in node.elements
            if isinstance(e, cst.DictElement) and pystrings.text_of(e.key) == frameworks.URI_KEY
        )
        if not self._reported(uri) or node in self.plan.flask_dicts:
            return
        self._anchor = uri
        url = self._literal(uri.value)
        scheme = (self._url_scheme(url) if url is not None else None) or self._scheme(uri)
        statement = self._statement(node)
        if scheme is None or statement is None:
            return
        if "+asyncpg" not in scheme and scheme not in _LIBPQ_SCHEMES:
            return
        options = frameworks.dict_get(node, frameworks.OPTIONS_KEY)
        if options is not None and not isinstance(options, cst.Dict):
            self._decline(f"{frameworks.OPTIONS_KEY} is built elsewhere")
            return
        connect_args = frameworks.dict_get(options, "connect_args")
        if connect_args is not None and not isinstance(connect_args, cst.Dict):
            self._decline(f"{frameworks.OPTIONS_KEY} connect_args is built elsewhere")
            return
        how = self._flask_tls(statement, scheme, url, connect_args)
        if how is None:
            return
        self.plan.flask_dicts[node] = how
        self._act(f"{frameworks.URI_KEY}: {frameworks.OPTIONS_KEY} connect_args with verify-full")

    def _upgrade_string(
        self, node: cst.BaseExpression, where: str, *, add_files: bool = True
    ) -> str | None:
        """sslmode=verify-full in a libpq string, with the files from the environment when it
        names no root (add_files: unless the call gets them another way). The string's
        shape (URL or keyword string, a query or not) is what it is at run time
        (fix/rendering.py), and the edit is read back before it is planned. None when the
        string is handled, else why it is left as it is."""
        piece = pystrings.piece_of(node)
        if piece is None:
            return "it is a concatenation of literals"
        before = self._value(node)
        shape = rendering.shape_of(before)
        if isinstance(shape, str):
            return f"the string's shape is not known: {shape}"
        inner = "'" if piece.quote.startswith('"') else '"'
        # A path must reach the driver as it is: a keyword string's value is quoted
        # (libpq's '...'), so a space or an `=` stays in it; in a URL's query it is
        # percent-encoded (an `&`, `#`, `%` or `=` would end or change it), which
        # libpq, asyncpg and SQLAlchemy decode.
        url = shape.url
        libpq_quote = "" if url else ("'" if inner == "'" else "\\'")
        reads = (_env("root", inner), _env_optional("cert", inner), _env_optional("key", inner))
        files = CertFiles(
            *(
                f"{libpq_quote}{{{f'{_QUOTE}({code})' if url else code}}}{libpq_quote}"
                for code in reads
            )
        )
        edited = piece.as_fstring()
        content = upgrade(edited.content, files, url=url, query=shape.query)
        statement = self._statement(node)
        added = f"{_OS}.environ" in content.replace(edited.content, "")
        reads_files = add_files and added and statement is not None
        if not reads_files:
            # no file added from the environment: the literal stays as it was written
            edited = piece
            content = upgrade(piece.content, CertFiles(None), url=url, query=shape.query)
        if content == edited.content:
            return None
        new = pystrings.Piece(edited.prefix, edited.quote, content).node()
        line = self.get_metadata(PositionProvider, node).start.line
        problem = rendering.checked(before, self.strings.value(_code(new), line), root=add_files)
        if problem is not None:
            return f"the edited string was not written: {problem}"
        if reads_files and statement is not None:
            self.plan.imports.add("import os")
            if url:
                self.plan.imports.add(names.IMPORTS["quote"])
            self._require_root(statement)
        self.plan.strings[node] = new.with_changes(lpar=node.lpar, rpar=node.rpar)
        form = "URL" if url else "keyword string"
        self._act(f"{where}: {form} upgraded to sslmode=verify-full")
        return None

    def _tortoise(self, node: cst.Call, name: str) -> None:
        """`db_url=` (no place for an SSLContext) -> `config=` with credentials and `ssl`."""
        if name.endswith(".init") and not name.endswith("Tortoise.init"):
            return
        config_arg = _kwarg(node, "config")
        if config_arg is not None:
            self._tortoise_config(config_arg.value, f"{name}()", node)
            return
        url_arg, modules_arg = _kwarg(node, "db_url"), _kwarg(node, "modules")
        statement = self._statement(node)
        if url_arg is None or modules_arg is None or statement is None:
            return
        url = pystrings.piece_of(url_arg.value)
        read = self._tortoise_url(url_arg.value, url) if url else self._tortoise_expanded(node)
        if read is None:
            return
        engine, rendered, password = read
        psycopg = engine == _TORTOISE_PSYCOPG
        tls = f'"server_settings": {_LIBPQ_SETTINGS}' if psycopg else f'"ssl": {self.context_name}'
        config = (
            f'{{"connections": {{"default": {{"engine": "{engine}", '
            f'"credentials": {{{rendered}, {tls}}}}}}}, '
            f'"apps": {_apps(modules_arg.value)}}}'
        )
        comma = modules_arg.comma if node.args[-1] is modules_arg else url_arg.comma
        self.plan.replace[url_arg] = url_arg.with_changes(
            keyword=cst.Name("config"), value=cst.parse_expression(config), comma=comma
        )
        self.plan.remove.add(modules_arg)
        note = " (the URL's password is not copied: set it from a secret)" if password else ""
        if psycopg:
            self._require_root(statement)
            self._act(f"{name}(): db_url -> config with libpq server_settings{note}")
            return
        self._context(statement, {})
        self._act(f"{name}(): db_url -> config with an SSLContext{note}")

    def _tortoise_expanded(self, node: cst.Call) -> tuple[str, str, bool] | None:
        """A db_url only known at run time (`db_url=settings.DATABASE_URI`) whose scheme the
        scanner resolved as Tortoise's asyncpg backend: the credentials are what Tortoise
        itself makes of the URL (`Tortoise.init` and `register_tortoise` hand a db_url to
        `expand_db_url`), so only `ssl` is new. The psycopg backend is left: an `ssl` the
        URL's query sets would overwrite the sslmode given beside it."""
        url_arg = _kwarg(node, "db_url")
        if url_arg is None or _TORTOISE_SCHEMES.get(self._scheme(node) or "") not in (
            _TORTOISE_ENGINES
        ):
            return None
        code = cst.Module(body=[]).code_for_node(url_arg.value)
        self.plan.imports.add(names.IMPORTS["expand_db_url"])
        return "tortoise.backends.asyncpg", f'**{_EXPAND_DB_URL}({code})["credentials"]', False

    @staticmethod
    def _tortoise_url(
        node: cst.BaseExpression, url: pystrings.Piece
    ) -> tuple[str, str, bool] | None:
        """A Tortoise db_url as (engine, rendered credentials, has a literal password): a
        literal through conninfo, an f-string through its parts (url_template.py), whose
        expressions become the credentials' values."""
        if not url.is_fstring:
            try:
                info = from_tortoise_db_url(url.content)
            except (ConnStringError, ValueError):
                return None
            if len(info.hosts) != 1:
                return None
            host = info.hosts[0]
            values = {"host": host.host, "port": host.port or 5432, "user": info.user}
            values["database"] = info.database
            rendered = ", ".join(f'"{k}": {v!r}' for k, v in values.items() if v is not None)
            engine, password = info.engine, bool(info.password)
            rendered = rendered.replace("'", '"')
        else:
            parts = url_template.read(node)
            if parts is None:
                return None
            engine = _TORTOISE_SCHEMES.get(parts.scheme, "")
            rendered = ", ".join(f'"{k}": {v}' for k, v in parts.parts.items())
            password = parts.literal_password
        if engine not in _TORTOISE_ENGINES and engine != _TORTOISE_PSYCOPG:
            return None
        return engine, rendered, password

    def _tortoise_config(
        self, value: cst.BaseExpression, name: str, call: cst.Call | None = None
    ) -> None:
        """A config dict's asyncpg credentials without an SSLContext get `"ssl": ssl_context`,
        the context built before the statement that writes the dict."""
        config = self.bindings.get(value.value) if isinstance(value, cst.Name) else value
        connections = _dict_get(config, "connections")
        if not isinstance(connections, cst.Dict):
            return
        for element in connections.elements:
            if not isinstance(element, cst.DictElement):
                continue
            if len(connections.elements) == 1 and not isinstance(element.value, cst.Dict):
                self._tortoise_connection_url(element, name, call)
                continue
            engine = pystrings.text_of(_dict_get(element.value, "engine") or cst.Name("x"))
            credentials = _dict_get(element.value, "credentials")
            if not isinstance(credentials, cst.Dict):
                continue
            if engine == _TORTOISE_PSYCOPG:
                self._tortoise_psycopg(credentials, f"{name}: connection {_key_text(element)}")
                continue
            if engine not in _TORTOISE_ENGINES:
                continue
            ssl_value = _dict_get(credentials, "ssl")
            if credentials in self.plan.ssl_entries:
                continue  # reached twice (the call and the statement that writes it)
            if ssl_value is not None and not _constant(ssl_value):
                continue  # a context (or something unknown) is already there
            statement = self._statement(credentials)
            if statement is None:
                return
            self._context(statement, {})
            self.plan.ssl_entries.add(credentials)
            self._act(f"{name}: Tortoise credentials get an SSLContext")

    def _tortoise_connection_url(
        self, element: cst.DictElement, name: str, call: cst.Call | None
    ) -> None:
        """A config's one connection given as a URL only known at run time
        (`"default": DATABASE_URI`), Tortoise's asyncpg backend by the scheme the scanner
        resolved: the connection as Tortoise expands it, with an SSLContext."""
        statement = self._statement(element)
        value = element.value
        bound = self.bindings.get(value.value) if isinstance(value, cst.Name) else None
        if bound is not None and (pystrings.piece_of(bound) is None or not _expression(bound)):
            return  # a name of this module bound to a dict (or a literal): not a run-time URL
        if statement is None or not (
            isinstance(value, cst.Name | cst.Attribute) or _expression(value)
        ):
            return  # a literal URL, a call that may return a dict: nothing to expand here
        scheme = self._scheme(statement) or (self._scheme(call) if call is not None else None)
        if _TORTOISE_SCHEMES.get(scheme or "") not in _TORTOISE_ENGINES:
            return  # the call's finding, where the config is read, resolved the URL
        code = cst.Module(body=[]).code_for_node(value)
        self.plan.imports.add(names.IMPORTS["expand_db_url"])
        self.plan.replace[value] = cst.parse_expression(
            f'{{"engine": "tortoise.backends.asyncpg", "credentials": '
            f'{{**{_EXPAND_DB_URL}({code})["credentials"], "ssl": {self.context_name}}}}}'
        )
        self._context(statement, {})
        self._act(f"{name}: Tortoise connection URL -> credentials with an SSLContext")

    def _tortoise_psycopg(self, credentials: cst.Dict, where: str) -> None:
        """Psycopg-backend credentials get server_settings with verify-full and the files;
        an "ssl" entry goes (it would overwrite sslmode)."""
        settings = _dict_get(credentials, "server_settings")
        if settings is not None and not isinstance(settings, cst.Dict):
            return  # built elsewhere: not ours to rewrite
        mode = _dict_get(settings, "sslmode") if settings is not None else None
        if (
            mode is not None
            and pystrings.text_of(mode) == "verify-full"
            and _dict_get(settings, "sslrootcert") is not None
            and _dict_get(credentials, "ssl") is None
        ):
            return
        statement = self._statement(credentials)
        if statement is None:
            return
        self.plan.settings_entries.add(credentials)
        self.plan.imports.add("import os")
        if settings is None or _dict_get(settings, "sslrootcert") is None:
            self._require_root(statement)
        self._act(f"{where}: Tortoise psycopg credentials get libpq server_settings")

    def _written_config(self, node: cst.SimpleStatementLine) -> None:
        """A Tortoise config dict written at a reported line (`TORTOISE_ORM = {...}`, a
        helper's `return {...}`): the call that reads it is elsewhere (origins.py)."""
        small = node.body[0] if len(node.body) == 1 else None
        value = small.value if isinstance(small, cst.Assign | cst.AnnAssign | cst.Return) else None
        if isinstance(value, cst.Dict) and _dict_get(value, "connections") and self._reported(node):
            self._anchor = node
            self._tortoise_config(value, "the Tortoise config written here")

    def _protocol(self, node: cst.Call) -> None:
        arg = _kwarg(node, "protocol") or (node.args[0] if node.args else None)
        value = _dotted(arg.value) if arg is not None else None
        if arg is None or value is None or value.rsplit(".", 1)[-1] not in _OLD_PROTOCOLS:
            return
        self.plan.replace[arg.value] = cst.parse_expression(f"{_SSL}.PROTOCOL_TLS_CLIENT")
        self.plan.imports.add("import ssl")
        self._act(
            f"SSLContext({value.rsplit('.', 1)[-1]}) -> PROTOCOL_TLS_CLIENT "
            "(TLS 1.2+, chain and host name checked)"
        )

    def _ciphers(self, node: cst.Call) -> None:
        text = pystrings.text_of(node.args[0].value)
        if text is not None and policy.weak_cipher_reasons(text):
            self.plan.replace[node.args[0].value] = cst.SimpleString(f'"{STRONG_CIPHERS}"')
            self._act(f"set_ciphers(): weak cipher string -> {STRONG_CIPHERS}")

    # -- SSLContext attributes ---------------------------------------------------
    def visit_SimpleStatementLine(self, node: cst.SimpleStatementLine) -> None:
        self._written_config(node)
        if self._reported(node):
            self._flask_uri(node)
        if (
            len(node.body) != 1
            or not isinstance(node.body[0], cst.Assign)
            or not self._reported(node)
        ):
            return
        assign = node.body[0]
        self._anchor = node
        target = assign.targets[0].target
        if not isinstance(target, cst.Attribute):
            return
        attr, value = target.attr.value, _dotted(assign.value) or ""
        if attr == "_create_default_https_context" and value.endswith("_create_unverified_context"):
            self.plan.remove.add(node)
            self._act("the process-wide unverified HTTPS context removed")
        elif attr == "check_hostname" and value == "False":
            self.plan.remove.add(node)
            self._act("check_hostname = False removed")
        elif attr == "verify_mode" and value.rsplit(".", 1)[-1] in {"CERT_NONE", "CERT_OPTIONAL"}:
            self.plan.remove.add(node)
            self._act(f"verify_mode = {value.rsplit('.', 1)[-1]} removed")
        elif (
            attr == "minimum_version"
            and isinstance(assign.value, cst.Attribute)
            and assign.value.attr.value in _OLD_VERSIONS
        ):
            self.plan.replace[assign.value.attr] = cst.Name("TLSv1_2")
            self._act("minimum_version raised to TLS 1.2")


class _Applier(cst.CSTTransformer):
    def __init__(self, plan: _Plan, context_name: str) -> None:
        super().__init__()
        self.plan = plan
        self.context_name = context_name

    def on_leave(  # type: ignore[override]  # one hook for every node type, keyed by identity
        self, original_node: cst.CSTNode, updated_node: cst.CSTNode
    ) -> cst.CSTNode | cst.RemovalSentinel | cst.FlattenSentinel[cst.CSTNode]:
        plan = self.plan
        if original_node in plan.remove:
            return cst.RemovalSentinel.REMOVE
        if original_node in plan.replace:
            return plan.replace[original_node]
        if isinstance(original_node, cst.BaseExpression) and original_node in plan.strings:
            return plan.strings[original_node]
        if (
            isinstance(updated_node, cst.Call)
            and isinstance(original_node, cst.Call)
            and original_node in plan.set_ssl
        ):
            return self._with_ssl(updated_node, plan.set_ssl[original_node])
        if (
            isinstance(updated_node, cst.Call)
            and isinstance(original_node, cst.Call)
            and original_node in plan.libpq_kwargs
        ):
            call = updated_node
            for keyword, code in plan.libpq_kwargs[original_node]:
                call = _with_keyword(call, keyword, cst.parse_expression(code))
            return call
        if (
            isinstance(original_node, cst.Dict)
            and isinstance(updated_node, cst.Dict)
            and original_node in plan.ssl_entries
        ):
            return _with_entry(updated_node, "ssl", cst.Name(self.context_name))
        if (
            isinstance(original_node, cst.Dict)
            and isinstance(updated_node, cst.Dict)
            and original_node in plan.settings_entries
        ):
            return _with_libpq_settings(updated_node)
        if (
            isinstance(original_node, cst.Dict)
            and isinstance(updated_node, cst.Dict)
            and original_node in plan.options_entries
        ):
            return _with_options(updated_node, plan.options_entries[original_node])
        if (
            isinstance(original_node, cst.Dict)
            and isinstance(updated_node, cst.Dict)
            and original_node in plan.engine_options
        ):
            how = plan.engine_options[original_node]
            connect_args = _dict_get(updated_node, "connect_args")
            value = _tls_dict(connect_args, how, self.context_name)
            return _with_entry(updated_node, "connect_args", value)
        if (
            isinstance(original_node, cst.Dict)
            and isinstance(updated_node, cst.Dict)
            and original_node in plan.flask_dicts
        ):
            options = _dict_get(updated_node, frameworks.OPTIONS_KEY)
            options = options if isinstance(options, cst.Dict) else cst.Dict([])
            how = plan.flask_dicts[original_node]
            value = _tls_dict(_dict_get(options, "connect_args"), how, self.context_name)
            options = _with_entry(options, "connect_args", value)
            return _with_entry(updated_node, frameworks.OPTIONS_KEY, options)
        if original_node in plan.preambles or original_node in plan.postambles:
            return self._surrounded(
                updated_node,
                plan.preambles.get(original_node, []),
                plan.postambles.get(original_node, []),
            )
        return updated_node

    @staticmethod
    def _surrounded(
        statement: cst.CSTNode,
        preamble: Sequence[cst.BaseStatement],
        postamble: Sequence[cst.BaseStatement],
    ) -> cst.FlattenSentinel[cst.CSTNode]:
        """`statement` with what the fix needs before it (the root check, the context) and
        after it (an update of what it stored)."""
        if not preamble:
            return cst.FlattenSentinel([statement, *postamble])
        leading = getattr(statement, "leading_lines", ())
        first = preamble[0].with_changes(leading_lines=leading)
        # a class or function keeps the blank lines PEP 8 (and the formatters) put before it
        definition = isinstance(statement, cst.ClassDef | cst.FunctionDef)
        kept = [cst.EmptyLine()] * 2 if definition else []
        moved = statement.with_changes(leading_lines=kept) if leading else statement
        return cst.FlattenSentinel([first, *preamble[1:], moved, *postamble])

    def _with_ssl(self, call: cst.Call, how: str) -> cst.Call:
        """`ssl=context`, `connect_args={"ssl": context}` (libpq's TLS keys, which asyncpg
        has no arguments for, removed), or the libpq parameters in SQLAlchemy's
        connect_args / psycopg_pool's kwargs, which the driver takes over the string's.
        A file the dict names is kept."""
        if how == "ssl":
            return _with_keyword(call, "ssl", cst.Name(self.context_name))
        keyword = "kwargs" if how == "kwargs_libpq" else "connect_args"
        existing = _kwarg(call, keyword)
        value = existing.value if existing is not None else None
        return _with_keyword(call, keyword, _tls_dict(value, how, self.context_name))


def _tls_dict(value: cst.BaseExpression | None, how: str, context_name: str) -> cst.Dict:
    """A connect_args/kwargs dict with the TLS: `"ssl": context` for asyncpg (libpq keys,
    which asyncpg has no arguments for, removed), else the libpq parameters (a root the
    dict names is kept, and then its author chose the client files too)."""
    if not isinstance(value, cst.Dict):
        value = cst.Dict([])
    if how == "connect_args":
        for key in _LIBPQ_TLS_KEYS:
            value = _without_entry(value, key)
        return _with_entry(value, "ssl", cst.Name(context_name))
    return _with_libpq(value)


def _with_libpq(settings: cst.Dict, root: str | None = None) -> cst.Dict:
    """`settings` (libpq parameters) with sslmode verify-full and, unless it names its own
    root, DB_CA_PATH and the client files; `root`: the project's own root setting (its
    author chose the files: no client files added)."""
    if root:
        settings = _with_entry(settings, "sslmode", cst.SimpleString('"verify-full"'))
        return _with_entry(settings, "sslrootcert", cst.parse_expression(root))
    own_root = _dict_get(settings, "sslrootcert") is not None
    for key, code in LIBPQ_KWARGS:
        if key == "sslmode" or (not own_root and _dict_get(settings, key) is None):
            settings = _with_entry(settings, key, cst.parse_expression(code))
    return settings


def _with_options(entry: cst.Dict, root: str | None) -> cst.Dict:
    """A Django entry whose OPTIONS (made when missing) carry verify-full and the files."""
    options = _dict_get(entry, "OPTIONS")
    options = options if isinstance(options, cst.Dict) else cst.Dict([])
    return _with_entry(entry, "OPTIONS", _with_libpq(options, root))


class _SingleQuoted(cst.CSTTransformer):
    """Plain double-quoted strings as single-quoted ones (the dict's own style)."""

    def leave_SimpleString(
        self, original_node: cst.SimpleString, updated_node: cst.SimpleString
    ) -> cst.SimpleString:
        text = updated_node.value
        if text.startswith('"') and not text.startswith('"""') and not {"'", "\\"} & set(text):
            return updated_node.with_changes(value=f"'{text[1:-1]}'")
        return updated_node


def _in_style(node: cst.Dict, new: cst.BaseExpression) -> cst.BaseExpression:
    """`new` quoted as `node`'s keys are: single quotes when every literal key has them."""
    keys = [
        e.key
        for e in node.elements
        if isinstance(e, cst.DictElement) and isinstance(e.key, cst.SimpleString)
    ]
    if keys and all(k.value.startswith("'") for k in keys):
        return new.visit(_SingleQuoted())  # type: ignore[return-value]  # an expression stays one
    return new


def _with_entry(node: cst.Dict, key: str, value: cst.BaseExpression) -> cst.Dict:
    """`node` with `"key": value`: replaced where present, else added last in its layout
    (quoted in the dict's style)."""
    value = _in_style(node, value)
    elements = list(node.elements)
    for index, element in enumerate(elements):
        if isinstance(element, cst.DictElement) and pystrings.text_of(element.key) == key:
            elements[index] = element.with_changes(value=value)
            return node.with_changes(elements=elements)
    entry = cst.DictElement(_in_style(node, cst.SimpleString(f'"{key}"')), value)
    return node.with_changes(elements=_appended(elements, entry))


def _with_libpq_settings(credentials: cst.Dict) -> cst.Dict:
    """Tortoise psycopg credentials with server_settings verify-full (files kept where named)
    and without "ssl"."""
    credentials = _without_entry(credentials, "ssl")
    settings = _dict_get(credentials, "server_settings")
    if not isinstance(settings, cst.Dict):
        return _with_entry(credentials, "server_settings", cst.parse_expression(_LIBPQ_SETTINGS))
    for key, code in LIBPQ_KWARGS:
        if key == "sslmode" or _dict_get(settings, key) is None:
            settings = _with_entry(settings, key, cst.parse_expression(code))
    return _with_entry(credentials, "server_settings", settings)


def _expression(value: cst.BaseExpression) -> bool:
    """An f-string with a replacement field: its value is decided at run time."""
    return isinstance(value, cst.FormattedString) and any(
        isinstance(part, cst.FormattedStringExpression) for part in value.parts
    )


def _key_text(element: cst.DictElement) -> str:
    text = pystrings.text_of(element.key)
    return repr(text) if text is not None else "?"


def _without_entry(node: cst.Dict, key: str) -> cst.Dict:
    """`node` without `"key": …`; a removed last entry hands its comma to the one before."""
    elements = list(node.elements)
    for index, element in enumerate(elements):
        if isinstance(element, cst.DictElement) and pystrings.text_of(element.key) == key:
            del elements[index]
            if index == len(elements) and elements:
                elements[-1] = elements[-1].with_changes(comma=element.comma)
            return node.with_changes(elements=elements)
    return node


_code = cst.Module(body=[]).code_for_node
_Item = TypeVar("_Item", cst.Arg, cst.DictElement)


def _appended(items: list[_Item], new: _Item) -> list[_Item]:
    """`items` + `new`, laid out like them: with a trailing comma (one per line) the new
    item goes last like the others and takes over the comma before the bracket."""
    if not items:
        return [new]
    last = items[-1]
    between = cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))
    if isinstance(last.comma, cst.Comma):
        earlier = items[-2].comma if len(items) > 1 else None
        if isinstance(earlier, cst.Comma):
            between = _without_comment(earlier)
        new = new.with_changes(comma=last.comma)
    result = items[:-1]
    result.append(last.with_changes(comma=between))
    result.append(new)
    return result


def _without_comment(comma: cst.Comma) -> cst.Comma:
    """A comma's layout without the comment after it (that comment belongs to its item)."""
    after = comma.whitespace_after
    if isinstance(after, cst.ParenthesizedWhitespace) and after.first_line.comment is not None:
        return comma.with_changes(
            whitespace_after=after.with_changes(first_line=cst.TrailingWhitespace())
        )
    return comma


def _with_keyword(call: cst.Call, keyword: str, value: cst.BaseExpression) -> cst.Call:
    """`call` with `keyword=value`: replaced where present, else added last in its layout."""
    args = list(call.args)
    for index, arg in enumerate(args):
        if arg.keyword and arg.keyword.value == keyword:
            args[index] = arg.with_changes(value=value)
            return call.with_changes(args=args)
    new_arg = cst.Arg(
        value=value,
        keyword=cst.Name(keyword),
        equal=cst.AssignEqual(
            whitespace_before=cst.SimpleWhitespace(""),
            whitespace_after=cst.SimpleWhitespace(""),
        ),
    )
    return call.with_changes(args=_appended(args, new_arg))


def fix_python(
    text: str,
    lines: Iterable[int],
    *,
    use_guard: bool = False,
    evidence: Mapping[int, str] | None = None,
    line_length: int = DEFAULT_LINE_LENGTH,
    settings: settings_source.SettingsSource | None = None,
    path: Path | None = None,
    root: Path | None = None,
) -> PythonResult:
    """The module with the sites on `lines` fixed (unchanged text when nothing applies).

    evidence: line -> the value the scanner resolved for the site reported there (the
    URL of `create_engine(settings.DATABASE_URL)`), which names the dialect.
    line_length: the project's; statements the fix makes longer are split to fit it.
    settings: the pydantic Settings object the module's calls read their URL through: the
    certificate files are read from its fields, not from the process environment.
    path, root: the module's file and the project root, where the values a connection
    string is made of are looked for (its shape is what they make it: fix/rendering.py).

    Raises libcst.ParserSyntaxError for a file that does not parse.
    """
    module = cst.parse_module(text)
    wrapper = cst.MetadataWrapper(module, unsafe_skip_copy=True)
    strings = rendering.Strings(text, path, root)
    planner = _Planner(frozenset(lines), text, use_guard, evidence, strings)
    wrapper.visit(planner)
    plan = planner.plan
    declined = tuple(plan.declined)
    if not plan.actions:
        return PythonResult(text, (), declined)
    fixed = wrapper.module.visit(_Applier(plan, planner.context_name))
    imports = set(plan.imports)
    if settings is not None:
        fixed = cst.parse_module(settings_source.rewrite(fixed.code, settings))
        if _OS not in fixed.code:  # every read now goes through the settings object
            imports.discard(names.IMPORTS["os"])
    chosen = names.choose(text)
    fixed = add_imports(fixed, {chosen.import_for(statement) for statement in imports})
    fixed = without_unused(module, fixed)
    resolved = cst.parse_module(chosen.resolve(fixed.code))
    return PythonResult(laid_out(resolved, module, line_length).code, tuple(plan.actions), declined)
