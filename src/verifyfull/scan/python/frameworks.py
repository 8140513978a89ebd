"""Framework connection sites: where a framework, not the code, calls the driver.

The code names no driver call here; it writes a setting that a framework hands to
one. Each handler turns the setting into the form conninfo reads for the driver
the framework really uses (read in the frameworks' sources):

- Django `DATABASES` entries (`ENGINE` postgresql, postgresql_psycopg2, postgis,
  django_cockroachdb): get_connection_params() passes OPTIONS as libpq keywords,
  then NAME/USER/PASSWORD/HOST/PORT when not empty, to psycopg(2).connect: a
  libpq keyword string. `dj_database_url.config/parse` and django-environ's
  `env.db()` parse a URL (query -> OPTIONS; ssl_require=True sets
  OPTIONS["sslmode"] = "require"), config() from $DATABASE_URL or its default.
- Flask-SQLAlchemy: `SQLALCHEMY_DATABASE_URI` (config class attribute,
  `app.config[...] = …`, `config.update(...)`) goes to create_engine with
  `SQLALCHEMY_ENGINE_OPTIONS` (its connect_args).
- Piccolo `PostgresEngine(config={...})` / `CockroachEngine`: asyncpg.connect(**config).
- GINO `db.set_bind(url, **kw)`, `gino.create_engine`: asyncpg.create_pool with the
  URL's host, port, user, database and password only (its query is dropped) and
  the asyncpg keywords given.
- yoyo `get_backend(uri)`: psycopg(2).connect(dbname=…, **query, user=…, host=…).
- Alembic env.py: `engine_from_config(config.get_section(…), prefix="sqlalchemy.")`
  with the URL env.py writes (`set_main_option("sqlalchemy.url", X)`, or the
  section dict's key) or else the one alembic.ini holds.

A site whose TLS only the deployment decides (the whole URL from the environment,
an unknown OPTIONS sslmode) is VF108, naming what it depends on.
"""

from __future__ import annotations

import ast
import configparser
import re
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import cast

from verifyfull.conninfo import (
    ConnInfo,
    ConnStringError,
    Driver,
    Environment,
    Verdict,
    evaluate,
    from_asyncpg_kwargs,
    parse_dsn,
    redact_text,
    unreadable,
)
from verifyfull.errors import VerifyfullError
from verifyfull.rules import RULES
from verifyfull.scan.python import credentials
from verifyfull.scan.python.context import Analysis, Site
from verifyfull.scan.python.module import Scope
from verifyfull.scan.python.sites import (
    SQLALCHEMY,
    SQLALCHEMY_CONFIG,
    Undetermined,
    _Call,
    _keyword_quote,
    _sqlalchemy,
    dsn_text,
    known_kwargs,
    plain,
    resolution_summary,
)
from verifyfull.scan.python.values import Const, DictValue, Text, Unknown, Value, as_text

Judged = list[tuple[Driver, ConnInfo, str | None, tuple[str, ...]]]

# Words without one of which no handler here can fire (the prefilter's test).
WORDS = (
    "DATABASES",
    "channels_postgres",
    "dj_database_url",
    "SQLALCHEMY_DATABASE_URI",
    "PostgresEngine",
    "CockroachEngine",
    "set_bind",
    "gino",
    "yoyo",
    "engine_from_config",
    "get_main_option",
)
# Libraries whose imported names make a body worth walking (`from yoyo import
# get_backend`, `from gino import create_engine as make`).
MODULES = frozenset({"piccolo", "gino", "yoyo", "dj_database_url", "environ"})

PICCOLO = frozenset(
    {
        "piccolo.engine.postgres.PostgresEngine",
        "piccolo.engine.PostgresEngine",
        "piccolo.engine.cockroach.CockroachEngine",
        "piccolo.engine.CockroachEngine",
    }
)
YOYO = frozenset({"yoyo.get_backend", "yoyo.connections.get_backend"})
DJ_DATABASE_URL = frozenset({"dj_database_url.config", "dj_database_url.parse"})

_PLACEHOLDER = "unknown"
_DJANGO_ENGINES = ("postgresql", "postgresql_psycopg2", "postgis", "django_cockroachdb")
_DJANGO_FIELDS = (("NAME", "dbname"), ("USER", "user"), ("HOST", "host"), ("PORT", "port"))
# OPTIONS keys Django itself consumes (never passed to libpq).
_DJANGO_OWN_OPTIONS = frozenset(
    {"isolation_level", "server_side_binding", "assume_role", "pool", "context", "cursor_factory"}
)
_LIBPQ_FILES = frozenset({"sslrootcert", "sslcert", "sslkey", "sslcrl"})
_URL_SCHEMES = {
    "postgres": "postgresql",
    "postgresql": "postgresql",
    "pgsql": "postgresql",
    "psql": "postgresql",
    "postgis": "postgresql",
    "cockroach": "postgresql",
    "cockroachdb": "postgresql",
}
_ALEMBIC_URL = "sqlalchemy.url"
MAX_INI_BYTES = 256_000
_INI_LEVELS = 4  # env.py sits in script_location, at most a few levels below its ini


class NotASite(Exception):
    """The setting is not a PostgreSQL connection (sqlite, mysql, an unknown engine)."""


# --- entry points (check.py) --------------------------------------------------------


def on_assign(a: Analysis, target: ast.expr, value: ast.expr, scope: Scope) -> None:
    name = _target_key(target)
    if name == "DATABASES":
        if isinstance(target, ast.Name):
            for entry in _entries(a, value, scope):
                _django_entry(a, entry, scope)
        else:  # DATABASES["default"] = {...}
            _django_entry(a, value, scope)
    elif name == "CHANNEL_LAYERS" and isinstance(target, ast.Name):
        for layer in _entries(a, value, scope):
            config = _channels_postgres_config(a, layer, scope)
            if config is not None:
                _django_entry(a, config, scope, engine_required=False)
    elif name == "SQLALCHEMY_DATABASE_URI" and _flask_scope(target, scope):
        options = _sibling(a, scope, "SQLALCHEMY_ENGINE_OPTIONS", target)
        _flask(a, value, options, scope)


def on_call(a: Analysis, node: ast.Call, scope: Scope) -> None:
    qual = a.module.qualname(node.func) or ""
    func = node.func
    method = func.attr if isinstance(func, ast.Attribute) else ""
    if qual in PICCOLO:
        _site(a, node, qual.rsplit(".", 1)[-1], lambda: _piccolo(a, node, scope))
    elif qual in DJ_DATABASE_URL:
        _site(a, node, qual, lambda: _dj_database_url(a, node, scope, qual))
    elif qual in YOYO:
        _site(a, node, "yoyo get_backend", lambda: _yoyo(a, node, scope))
    elif qual == "gino.create_engine" or (method == "set_bind" and _is_gino(a, func)):
        _site(a, node, f"GINO {method or 'create_engine'}", lambda: _gino(a, node, scope))
    elif qual in SQLALCHEMY_CONFIG or qual in SQLALCHEMY:
        _alembic_engine(a, node, scope, qual)
    elif method in ("update", "from_mapping") and any(
        k.arg == "SQLALCHEMY_DATABASE_URI" for k in node.keywords
    ):
        given = {k.arg: k.value for k in node.keywords if k.arg}
        _flask(a, given["SQLALCHEMY_DATABASE_URI"], given.get("SQLALCHEMY_ENGINE_OPTIONS"), scope)


# --- judging and reporting ----------------------------------------------------------


def _site(a: Analysis, node: ast.expr, what: str, judge: Callable[[], Judged]) -> None:
    """Judge one site: its verdicts reported at `node`, VF108 when only the deployment
    decides, a finding when its connection string cannot be read, nothing when it is
    not a PostgreSQL connection."""
    try:
        judged = judge()
    except ConnStringError as exc:
        found = unreadable(exc, redact_text(a.segment(node)))
        a.report(found.rule_id, node, found.message, evidence=found.evidence, fix=found.fix)
        return
    except Undetermined as why:
        _deploy(a, node, what, str(why))
        return
    except (NotASite, VerifyfullError, RecursionError):
        return
    for driver, info, dsn, notes in judged:
        try:
            verdict = evaluate(info, driver, Environment.empty(), a.ctx.policy)
        except (ConnStringError, VerifyfullError):
            continue
        column = node.col_offset + 1
        a.sites.append(Site(node.lineno, column, what, driver, info, verdict, dsn, notes))
        _report(a, node, what, verdict, notes, info)


def _report(
    a: Analysis, node: ast.expr, what: str, verdict: Verdict, notes: tuple[str, ...], info: ConnInfo
) -> None:
    summary = resolution_summary(notes)
    how = f" (resolved with {summary})" if summary else ""
    ssl_part = "" if info.ssl.is_absent else f" with {info.ssl.describe()}"
    does = f" The driver: {verdict.notes[0]}" if verdict.notes else ""
    for item in verdict.findings:
        if item.rule_id == "VF401":
            continue  # credentials.py reports it where the literal is written
        fix = (item.fix or item.rule.fix).rstrip(".") + "."
        if verdict.corrected:
            fix = f"{fix}\nCorrected for {verdict.driver}:\n{verdict.corrected}"
        a.report(
            item.rule_id,
            node,
            f"{what}: {item.message}.{does}",
            evidence=f"{item.evidence}{ssl_part}{how}",
            fix=fix,
        )


def _deploy(a: Analysis, node: ast.expr, what: str, why: str) -> None:
    a.report(
        "VF108",
        node,
        f"{what}: TLS is decided only where the service is deployed ({why})",
        evidence=a.segment(node),
        fix=RULES["VF108"].fix,
    )


def _value(a: Analysis, expr: ast.expr | None, scope: Scope, at: ast.AST) -> Value:
    value = a.resolver.value(expr, a.place(at, scope))
    if isinstance(value, Unknown) and isinstance(expr, ast.BinOp) and isinstance(expr.op, ast.Mod):
        return _percent(a, expr, scope, at) or value
    return value


_PERCENT_FIELD = re.compile(r"%[sdr]")


def _percent(a: Analysis, expr: ast.BinOp, scope: Scope, at: ast.AST) -> Text | None:
    """`"postgres://%s:%s@%s/%s" % (user, password, host, name)`, the way Flask
    configs often build the URI: each %s the argument's text (or an unknown part)."""
    template = a.resolver.value(expr.left, a.place(at, scope))
    if not isinstance(template, Text) or template.known is None or "%(" in template.known:
        return None
    pieces = _PERCENT_FIELD.split(template.known.replace("%%", "\0"))
    given = expr.right.elts if isinstance(expr.right, ast.Tuple) else [expr.right]
    if len(pieces) != len(given) + 1:
        return None
    result = Text.of(pieces[0].replace("\0", "%"))
    for argument, piece in zip(given, pieces[1:], strict=True):
        value = a.resolver.value(argument, a.place(at, scope))
        part = as_text(value) or Text((Unknown("a format argument"),))
        result = result + part + Text.of(piece.replace("\0", "%"))
    return result


def _written_at(a: Analysis, expr: ast.expr, scope: Scope) -> ast.expr:
    """Where a value is written: a name followed to its binding in this module (a few
    hops), so a finding sits on the literal that decides, not on each use."""
    for _ in range(8):
        if not isinstance(expr, ast.Name):
            return expr
        bindings = _binding(scope, expr.id)
        if bindings is None:
            return expr
        expr = bindings
    return expr


def _binding(scope: Scope | None, name: str) -> ast.expr | None:
    while scope is not None:
        found = scope.assigns.get(name)
        if found:
            return found[-1].value
        scope = scope.parent
    return None


# --- Django ------------------------------------------------------------------------


def _target_key(target: ast.expr) -> str | None:
    """DATABASES for `DATABASES = …` and `DATABASES["default"] = …`; the key for
    `app.config["SQLALCHEMY_DATABASE_URI"] = …`; the name for a plain name."""
    if isinstance(target, ast.Name):
        return target.id
    if isinstance(target, ast.Subscript):
        if isinstance(target.value, ast.Name) and target.value.id == "DATABASES":
            return "DATABASES"
        key = target.slice
        if isinstance(key, ast.Constant) and key.value == "SQLALCHEMY_DATABASE_URI":
            return "SQLALCHEMY_DATABASE_URI"
    return None


def _entries(a: Analysis, value: ast.expr, scope: Scope) -> Iterator[ast.expr]:
    """The entry expressions of a DATABASES mapping written as a dict (or a name bound
    to one in this module)."""
    written = _written_at(a, value, scope)
    if isinstance(written, ast.Dict):
        yield from (v for k, v in zip(written.keys, written.values, strict=True) if k is not None)
    elif isinstance(written, ast.Call) and (a.module.qualname(written.func) or "") == "dict":
        yield from (k.value for k in written.keywords if k.arg is not None)
    else:
        yield value


def _channels_postgres_config(a: Analysis, layer: ast.expr, scope: Scope) -> ast.expr | None:
    """channels_postgres' PostgresChannelLayer: its CONFIG is a DATABASES entry that
    Django's postgresql DatabaseWrapper turns into aiopg (psycopg2) parameters."""
    written = _written_at(a, layer, scope)
    if not isinstance(written, ast.Dict):
        return None
    backend = _dict_key(written, "BACKEND")
    if isinstance(backend, ast.Constant) and "channels_postgres" in str(backend.value):
        return _dict_key(written, "CONFIG")
    return None


def _django_entry(
    a: Analysis, entry: ast.expr, scope: Scope, *, engine_required: bool = True
) -> None:
    if isinstance(entry, ast.Call) and _env_db_call(a, entry):
        _site(a, entry, "Django DATABASES", lambda: _env_db(a, entry, scope))
        return
    if isinstance(entry, ast.Call) and (a.module.qualname(entry.func) or "") in DJ_DATABASE_URL:
        return  # judged as a call (on_call)
    written = _written_at(a, entry, scope)
    if isinstance(written, ast.Dict):
        _django_password(a, written, scope)
    anchor = _django_anchor(a, written, scope)
    _site(a, anchor, "Django DATABASES", lambda: _django(a, entry, scope, engine_required))


def _django_anchor(a: Analysis, entry: ast.expr, scope: Scope) -> ast.expr:
    """The OPTIONS sslmode value when written (where it is bound), else the entry."""
    if isinstance(entry, ast.Dict):
        options = _dict_key(entry, "OPTIONS")
        if options is not None:
            options = _written_at(a, options, scope)
            mode = _dict_key(options, "sslmode") if isinstance(options, ast.Dict) else None
            if mode is not None:
                return _written_at(a, mode, scope)
    return entry


def _dict_key(node: ast.Dict, key: str) -> ast.expr | None:
    found = None
    for k, v in zip(node.keys, node.values, strict=True):
        if isinstance(k, ast.Constant) and k.value == key:
            found = v
    return found


def _django_password(a: Analysis, entry: ast.Dict, scope: Scope) -> None:
    """Django's upper-case PASSWORD key: a literal there is a database password."""
    value = _dict_key(entry, "PASSWORD")
    if value is not None:
        credentials._password_value(a, "PASSWORD", value, scope, db=True)


def _django(a: Analysis, entry: ast.expr, scope: Scope, engine_required: bool) -> Judged:
    value = _value(a, entry, scope, entry)
    if isinstance(value, Unknown):
        raise Undetermined(f"the DATABASES entry is {value.why}")
    if not isinstance(value, DictValue):
        raise NotASite("not a mapping")
    engine = value.get("ENGINE")
    if engine is None and not engine_required:
        engine = Text.of("django.db.backends.postgresql")
    if not isinstance(engine, Text) or engine.known is None:
        raise NotASite("the engine is not known to be PostgreSQL")
    if not engine.known.rsplit(".", 1)[-1].endswith(_DJANGO_ENGINES):
        raise NotASite(f"engine {engine.known}")
    notes: list[str] = []
    options = value.get("OPTIONS")
    pairs = _options(options, notes, complete=value.complete)
    for key, keyword in _DJANGO_FIELDS:
        text = _setting_text(value.get(key), f"{key}", notes, placeholder=key == "HOST")
        if text:  # Django passes only what is not empty
            pairs[keyword] = text
    driver = Driver.PSYCOPG2 if engine.known.endswith("psycopg2") else Driver.PSYCOPG
    text = _libpq_text(pairs)
    return [(driver, parse_dsn(text), text, tuple(notes))]


def _options(options: Value | None, notes: list[str], *, complete: bool) -> dict[str, str]:
    """OPTIONS as libpq keywords; an sslmode only the deployment knows is Undetermined."""
    if options is None:
        if not complete:
            raise Undetermined("the entry is built elsewhere (OPTIONS may hold sslmode)")
        return {}
    if isinstance(options, Unknown):
        raise Undetermined(f"OPTIONS is {options.why}")
    if not isinstance(options, DictValue):
        raise Undetermined("OPTIONS is not a mapping")
    if not options.complete and options.get("sslmode") is None:
        raise Undetermined("OPTIONS is built elsewhere (it may hold sslmode)")
    pairs: dict[str, str] = {}
    for key, item in options.items:
        if key in _DJANGO_OWN_OPTIONS:
            continue
        if key == "sslmode" and not (isinstance(item, Text) and item.known is not None):
            why = item.why if isinstance(item, Unknown) else "partly unknown"
            raise Undetermined(f"OPTIONS sslmode is {why}")
        text = _setting_text(item, f"OPTIONS {key}", notes, placeholder=key in _LIBPQ_FILES)
        if text:
            pairs[key] = text
    return pairs


def _setting_text(
    value: Value | None, what: str, notes: list[str], *, placeholder: bool
) -> str | None:
    """A setting as libpq text. Unknown: a placeholder where its presence matters (a
    host from the environment is a TCP host; a certificate path is a file named),
    else left out; the notes say so."""
    if value is None:
        return None
    if isinstance(value, Text) and value.known is not None:
        notes.extend(value.notes)
        return value.known
    if isinstance(value, Const):
        if value.value is None or isinstance(value.value, bool):
            return None if not value.value else "1"
        return str(value.value)
    if isinstance(value, Text | Unknown):
        why = value.why if isinstance(value, Unknown) else "partly unknown"
        notes.append(f"{what}: {why}")
        return _PLACEHOLDER if placeholder else None
    return None


def _libpq_text(pairs: dict[str, str]) -> str:
    """A libpq keyword string (Django's conn_params as psycopg hands them to libpq)."""
    if not pairs:
        pairs = {"dbname": "postgres"}
    return " ".join(f"{k}={_keyword_quote(v)}" for k, v in pairs.items())


def _env_db_call(a: Analysis, call: ast.Call) -> bool:
    """django-environ's `env.db()` / `env.db_url()` (env = environ.Env(...)): the
    receiver bound to environ.Env, or a name this module does not bind (`from .base
    import *`) used as a DATABASES entry."""
    func = call.func
    if not (isinstance(func, ast.Attribute) and func.attr in ("db", "db_url")):
        return False
    receiver = func.value
    if not isinstance(receiver, ast.Name):
        return False
    bound = _binding(a.module.scope, receiver.id)
    if isinstance(bound, ast.Call):
        return (a.module.qualname(bound.func) or "").endswith("Env")
    return receiver.id not in a.module.aliases or (a.module.qualname(receiver) or "").startswith(
        "environ"
    )


def _env_db(a: Analysis, call: ast.Call, scope: Scope) -> Judged:
    variable = "DATABASE_URL"
    default: ast.expr | None = None
    if call.args:
        named = _value(a, call.args[0], scope, call)
        variable = named.known if isinstance(named, Text) and named.known else variable
    for keyword in call.keywords:
        if keyword.arg == "var":
            named = _value(a, keyword.value, scope, call)
            variable = named.known if isinstance(named, Text) and named.known else variable
        elif keyword.arg == "default":
            default = keyword.value
    if default is None:
        raise Undetermined(f"the whole connection is parsed from environment variable {variable}")
    url = _value(a, default, scope, call)
    return _django_url(url, f"{variable}: default of env.db()", ssl_require=False)


def _dj_database_url(a: Analysis, call: ast.Call, scope: Scope, qual: str) -> Judged:
    """dj_database_url.config(env="DATABASE_URL", default=None, engine=None, …,
    ssl_require=False) reads os.environ.get(env, default); parse(url, …) its argument."""
    names = ("env", "default", "engine") if qual.endswith("config") else ("url", "engine")
    given: dict[str, ast.expr] = dict(zip(names, call.args, strict=False))
    given.update({k.arg: k.value for k in call.keywords if k.arg})
    engine = _value(a, given.get("engine"), scope, call)
    known_engine = engine.known if isinstance(engine, Text) else None
    if known_engine is not None and not known_engine.rsplit(".", 1)[-1].endswith(_DJANGO_ENGINES):
        raise NotASite(f"engine {known_engine}")
    require = _value(a, given.get("ssl_require"), scope, call)
    ssl_require = isinstance(require, Const) and require.value is True
    if isinstance(require, Unknown):
        raise Undetermined(f"ssl_require is {require.why}")
    if qual.endswith("parse"):
        return _django_url(_value(a, given.get("url"), scope, call), "", ssl_require=ssl_require)
    env = _value(a, given.get("env"), scope, call) if "env" in given else Text.of("DATABASE_URL")
    variable = env.known if isinstance(env, Text) and env.known else "DATABASE_URL"
    default = _value(a, given.get("default"), scope, call) if "default" in given else None
    if default is None or (isinstance(default, Const) and default.value is None):
        default = Unknown(f"environment variable {variable}")
    return _django_url(default, f"{variable}: default of dj_database_url.config", ssl_require)


def _django_url(url: Value, note: str, ssl_require: bool) -> Judged:
    """A URL parsed the dj_database_url way: the query becomes OPTIONS (libpq keywords),
    ssl_require sets sslmode=require over it. With the URL unknown, ssl_require alone
    decides (the host is then an unknown TCP host)."""
    notes = [note] if note else []
    try:
        text, url_notes = dsn_text(url, "the database URL")
    except Undetermined:
        if not ssl_require:
            raise
        why = url.why if isinstance(url, Unknown) else "partly unknown"
        notes.append(f"the URL: {why}")
        forced = _libpq_text({"host": _PLACEHOLDER, "sslmode": "require"})
        return [(Driver.PSYCOPG, parse_dsn(forced), forced, tuple(notes))]
    notes += url_notes
    text = _libpq_url(text)
    info = parse_dsn(text)
    if ssl_require:
        info = info.with_params(sslmode="require")
        text = info.to_keywords()
    return [(Driver.PSYCOPG, info, text, tuple(notes))]


def _libpq_url(text: str) -> str:
    """The URL with its scheme as libpq spells it; NotASite for sqlite, mysql …"""
    scheme, sep, rest = text.partition("://")
    base = scheme.split("+", 1)[0].lower()
    if not sep or base not in _URL_SCHEMES:
        raise NotASite(f"scheme {base!r}")
    return f"{_URL_SCHEMES[base]}://{rest}"


# --- Flask-SQLAlchemy --------------------------------------------------------------


def _flask_scope(target: ast.expr, scope: Scope) -> bool:
    """A Flask config: `app.config[...]`, a module constant, or a config class
    attribute; a pydantic Settings field named so is read by code whose engine call
    is judged itself."""
    if isinstance(target, ast.Subscript):
        return True
    node = scope.node
    if isinstance(node, ast.ClassDef):
        bases = [getattr(b, "attr", getattr(b, "id", "")) for b in node.bases]
        return not any(base.endswith(("BaseSettings", "BaseModel", "Settings")) for base in bases)
    return isinstance(node, ast.Module)


def _sibling(a: Analysis, scope: Scope, key: str, target: ast.expr) -> ast.expr | None:
    """The value written under `key` next to the URI: same-scope name (class
    attribute, module constant) or subscript `….config[key] = …` in the same body."""
    if isinstance(target, ast.Name):
        return _binding(scope, key) if key in scope.assigns else None
    body = getattr(scope.node, "body", [])
    for statement in _statements(body):
        if isinstance(statement, ast.Assign):
            for other in statement.targets:
                key_node = other.slice if isinstance(other, ast.Subscript) else None
                if isinstance(key_node, ast.Constant) and key_node.value == key:
                    return statement.value
    return None


def _statements(body: list[ast.stmt]) -> Iterator[ast.stmt]:
    """The statements of a body and of the blocks nested in it (not of functions)."""
    stack = list(reversed(body))
    while stack:
        statement = stack.pop()
        yield statement
        if isinstance(statement, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            continue
        for field in ("body", "orelse", "finalbody"):
            inner = getattr(statement, field, None)
            if isinstance(inner, list):
                stack.extend(reversed([s for s in inner if isinstance(s, ast.stmt)]))
        for handler in getattr(statement, "handlers", ()):
            stack.extend(reversed(handler.body))


def _flask(a: Analysis, value: ast.expr, options: ast.expr | None, scope: Scope) -> None:
    anchor = _written_at(a, value, scope)

    def judge() -> Judged:
        url = _value(a, value, scope, value)
        if isinstance(url, Text) and url.known is not None:
            _libpq_url(url.known)  # sqlite, mysql: not a site
        kwargs: dict[str, Value] = {}
        if options is not None:
            engine_options = _value(a, options, scope, options)
            if isinstance(engine_options, DictValue):
                kwargs = dict(engine_options.items)
            else:
                kwargs = {"connect_args": Unknown("SQLALCHEMY_ENGINE_OPTIONS built elsewhere")}
        return _sqlalchemy(_call(a, value, scope), url, kwargs)

    _site(a, anchor, "Flask-SQLAlchemy SQLALCHEMY_DATABASE_URI", judge)


def _call(a: Analysis, node: ast.expr, scope: Scope) -> _Call:
    # sites' helpers take the call only for where to resolve its arguments
    return _Call(a, cast(ast.Call, node), scope)


# --- Piccolo, GINO, yoyo -----------------------------------------------------------


def _argument(call: ast.Call, index: int, name: str) -> ast.expr | None:
    for keyword in call.keywords:
        if keyword.arg == name:
            return keyword.value
    return call.args[index] if len(call.args) > index else None


def _piccolo(a: Analysis, call: ast.Call, scope: Scope) -> Judged:
    """PostgresEngine(config): asyncpg.connect(**config) and create_pool(**config)."""
    config = _value(a, _argument(call, 0, "config"), scope, call)
    if isinstance(config, Unknown):
        raise Undetermined(f"the config is {config.why}")
    if not isinstance(config, DictValue):
        raise NotASite("no config mapping")
    notes: list[str] = []
    mapping: dict[str, object] = {k: plain(v, k) for k, v in config.items if k != "dsn"}
    if not config.complete:
        mapping.setdefault("ssl", plain(Unknown("config built elsewhere"), "ssl"))
    dsn = config.get("dsn")
    if dsn is not None:
        text, dsn_notes = dsn_text(dsn, "the config's dsn")
        notes += dsn_notes
    mapping = known_kwargs(mapping, notes)
    if dsn is not None:
        mapping["dsn"] = text
    return [(Driver.ASYNCPG, from_asyncpg_kwargs(mapping), None, tuple(notes))]


def _is_gino(a: Analysis, func: ast.expr) -> bool:
    """`x.set_bind` where x is a Gino() object (bound here or in the project module it
    is imported from), or in a module that imports gino."""
    if any(ref.dotted.lstrip(".").startswith("gino") for ref in a.module.aliases.values()):
        return True
    receiver = func.value if isinstance(func, ast.Attribute) else None
    if not isinstance(receiver, ast.Name):
        return False
    module, name = a.module, receiver.id
    ref = module.aliases.get(name)
    if ref is not None:
        found = module.find_import(ref)
        if found is None or found[1] is None:
            return False
        module, name = found[0], found[1]
    bound = _binding(module.scope, name)
    return isinstance(bound, ast.Call) and (module.qualname(bound.func) or "").startswith("gino")


def _gino(a: Analysis, call: ast.Call, scope: Scope) -> Judged:
    """GINO's asyncpg pool gets host, port, user, database and password from the URL
    and the asyncpg keywords of the call; the URL's query never reaches asyncpg."""
    url, notes_tuple = dsn_text(_value(a, _argument(call, 0, "bind"), scope, call), "the URL")
    notes = list(notes_tuple)
    parsed = parse_dsn(_libpq_url(url).replace("+asyncpg", "", 1))
    mapping: dict[str, object] = {}
    if parsed.hosts:
        mapping["host"] = parsed.hosts[0].host
        if parsed.hosts[0].port:
            mapping["port"] = parsed.hosts[0].port
    for key, field in (("user", parsed.user), ("database", parsed.database)):
        if field:
            mapping[key] = field
    if "?" in url:
        notes.append("GINO passes none of the URL's query to asyncpg")
    for keyword in call.keywords:
        if keyword.arg is None:
            mapping.setdefault("ssl", plain(Unknown("keyword arguments passed through **"), "ssl"))
        elif keyword.arg not in ("bind", "loop", "echo", "min_size", "max_size"):
            mapping[keyword.arg] = plain(_value(a, keyword.value, scope, call), keyword.arg)
    info = from_asyncpg_kwargs(known_kwargs(mapping, notes))
    if parsed.password is not None:
        info = replace(info, password=parsed.password)
    return [(Driver.ASYNCPG, info, None, tuple(notes))]


def _yoyo(a: Analysis, call: ast.Call, scope: Scope) -> Judged:
    """yoyo's PostgreSQL backends pass the URI's query to psycopg(2).connect as
    keywords, with its host, port, user and database: the libpq reading of the URI."""
    uri, notes = dsn_text(_value(a, _argument(call, 0, "uri"), scope, call), "the URI")
    driver = Driver.PSYCOPG if "+psycopg" in uri.split("://", 1)[0] else Driver.PSYCOPG2
    text = _libpq_url(uri)
    return [(driver, parse_dsn(text), text, notes)]


# --- Alembic env.py ----------------------------------------------------------------


def _alembic_engine(a: Analysis, node: ast.Call, scope: Scope, qual: str) -> None:
    """engine_from_config(config.get_section(…)) or create_engine(config.get_main_option(
    "sqlalchemy.url")) in an env.py: the URL is the one env.py writes, or else
    alembic.ini's. Sites whose mapping or URL resolves are sites.py's."""
    first = _argument(node, 0, "configuration" if qual in SQLALCHEMY_CONFIG else "url")
    if first is None or not _reads_alembic_config(a, first, scope):
        return
    prefix = "sqlalchemy."
    if qual in SQLALCHEMY_CONFIG:
        given = _argument(node, 1, "prefix")
        value = _value(a, given, scope, node) if given is not None else None
        if isinstance(value, Text) and value.known is not None:
            prefix = value.known
        if isinstance(_value(a, first, scope, node), DictValue):
            return  # a mapping written in env.py: sites.py judges it

    def judge() -> Judged:
        call = _Call(a, node, scope)
        return _sqlalchemy(call, _alembic_url(a, node, first, scope, prefix), call.keywords())

    _site(a, node, qual.rsplit(".", 1)[-1] + " (alembic)", judge)


def _reads_alembic_config(a: Analysis, expr: ast.expr, scope: Scope) -> bool:
    """`config.get_section(…)` / `config.get_main_option("sqlalchemy.url")`, written
    there or bound to the name passed."""
    written = _written_at(a, expr, scope)
    if not isinstance(written, ast.Call) or not isinstance(written.func, ast.Attribute):
        return False
    if written.func.attr == "get_section":
        return True
    if written.func.attr == "get_main_option" and written.args:
        first = written.args[0]
        return isinstance(first, ast.Constant) and first.value == _ALEMBIC_URL
    return False


def _alembic_url(a: Analysis, node: ast.Call, first: ast.expr, scope: Scope, prefix: str) -> Value:
    """The URL the engine gets: `section[prefix + "url"] = X` in the same body, else
    `set_main_option("sqlalchemy.url", X)` in the module, else alembic.ini's."""
    key = prefix + "url"
    if isinstance(first, ast.Name):
        for statement in _statements(getattr(scope.node, "body", [])):
            if isinstance(statement, ast.Assign) and statement.lineno <= node.lineno:
                for target in statement.targets:
                    if (
                        isinstance(target, ast.Subscript)
                        and isinstance(target.value, ast.Name)
                        and target.value.id == first.id
                        and isinstance(target.slice, ast.Constant)
                        and target.slice.value == key
                    ):
                        return _value(a, statement.value, scope, statement)
    written = replaced_url(a.module.tree)
    if written is not None:
        return _value(a, written, a.module.scope, written)
    return ini_url(a.source.path, a.ctx.root)


def replaced_url(tree: ast.Module, *, always: bool = False) -> ast.expr | None:
    """The X of `….set_main_option("sqlalchemy.url", X)` (or set_section_option(s,
    "sqlalchemy.url", X)) in env.py. always: only one written where it always runs
    (module level, or a function's own body: not under an if, loop or try)."""
    bodies = [tree.body] if always else []
    if always:
        functions = ast.FunctionDef | ast.AsyncFunctionDef
        bodies += [n.body for n in tree.body if isinstance(n, functions)]
        statements: Iterator[ast.AST] = (s for body in bodies for s in body)
    else:
        statements = ast.walk(tree)
    found = None
    for statement in statements:
        call = statement.value if isinstance(statement, ast.Expr) else statement
        if not isinstance(call, ast.Call) or not isinstance(call.func, ast.Attribute):
            continue
        index = {"set_main_option": 0, "set_section_option": 1}.get(call.func.attr)
        if index is None or len(call.args) < index + 2:
            continue
        key = call.args[index]
        if isinstance(key, ast.Constant) and key.value == _ALEMBIC_URL:
            found = call.args[index + 1]
    return found


def ini_url(env_py: Path, root: Path) -> Value:
    """sqlalchemy.url of the alembic.ini whose script_location is env.py's folder."""
    ini = _alembic_ini(env_py, root)
    if ini is None:
        return Unknown("the sqlalchemy.url of an alembic.ini not found in the tree")
    parser = configparser.ConfigParser(interpolation=None, strict=False)
    try:
        parser.read_string(ini.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, configparser.Error):
        return Unknown(f"the sqlalchemy.url of {ini.name}, which does not parse")
    url = parser.get("alembic", _ALEMBIC_URL, fallback="").strip()
    url = url.replace("%(here)s", str(ini.parent)).replace("%%", "%")
    if not url or url.startswith("driver://"):
        return Unknown(f"the sqlalchemy.url {ini.name} leaves empty (or alembic's template)")
    return Text.of(url, (f"sqlalchemy.url of {ini.name}",))


def _alembic_ini(env_py: Path, root: Path) -> Path | None:
    folder = env_py.parent
    candidate = folder
    for _ in range(_INI_LEVELS):
        ini = candidate / "alembic.ini"
        if ini.is_file() and ini.stat().st_size <= MAX_INI_BYTES:
            location = _script_location(ini)
            if location is not None and (location == folder or Path(location).name == folder.name):
                return ini
        if candidate == root or candidate.parent == candidate:
            break
        candidate = candidate.parent
    return None


def _script_location(ini: Path) -> Path | None:
    parser = configparser.ConfigParser(interpolation=None, strict=False)
    try:
        parser.read_string(ini.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, configparser.Error):
        return None
    location = parser.get("alembic", "script_location", fallback="").strip()
    if not location:
        return None
    location = location.replace("%(here)s", str(ini.parent)).split(":")[-1]
    path = Path(location)
    return path if path.is_absolute() else (ini.parent / path)


def env_py_replaces_url(ini: Path) -> bool:
    """Whether the env.py of this alembic.ini always writes sqlalchemy.url itself, so
    the ini's own URL never reaches a connection (its transport finding is moot)."""
    location = _script_location(ini)
    if location is None:
        return False
    env_py = location / "env.py"
    try:
        if env_py.stat().st_size > MAX_INI_BYTES:
            return False
        tree = ast.parse(env_py.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, SyntaxError, ValueError, RecursionError):
        return False
    return replaced_url(tree, always=True) is not None
