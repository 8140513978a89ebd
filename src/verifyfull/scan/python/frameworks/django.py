"""Django DATABASES entries, dj_database_url, django-environ's env.db() and
channels_postgres' CONFIG, judged as Django's postgresql backend connects:
get_connection_params() passes OPTIONS as libpq keywords, then NAME, USER,
PASSWORD, HOST and PORT when not empty, to psycopg(2).connect."""

from __future__ import annotations

import ast
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import TypeVar

from verifyfull.conninfo import (
    Driver,
    django_url,
    parse_dsn,
)
from verifyfull.conninfo.django_url import is_postgres_engine
from verifyfull.conninfo.parse import parse_django_url
from verifyfull.conninfo.semantics import is_tls_key
from verifyfull.scan import rendered_env
from verifyfull.scan.interpolation import neutral_dsn
from verifyfull.scan.python import credentials
from verifyfull.scan.python.context import Analysis
from verifyfull.scan.python.env_readers import env_read
from verifyfull.scan.python.frameworks.common import (
    PLACEHOLDER,
    Judged,
    binding,
    dict_key,
    libpq_text,
    libpq_url,
    site,
    value_of,
    written_at,
)
from verifyfull.scan.python.module import Arm, Mutation, Scope, runs_whenever
from verifyfull.scan.python.placement import Place
from verifyfull.scan.python.sites import (
    NotASite,
    Undetermined,
    dsn_text,
)
from verifyfull.scan.python.values import Const, DictValue, Text, Unknown, Value

_T = TypeVar("_T")

DJ_DATABASE_URL = frozenset({"dj_database_url.config", "dj_database_url.parse"})

_DJANGO_FIELDS = (("NAME", "dbname"), ("USER", "user"), ("HOST", "host"), ("PORT", "port"))

# OPTIONS keys Django itself consumes (never passed to libpq).
_DJANGO_OWN_OPTIONS = frozenset(
    {"isolation_level", "server_side_binding", "assume_role", "pool", "context", "cursor_factory"}
)

_LIBPQ_FILES = frozenset({"sslrootcert", "sslcert", "sslkey", "sslcrl"})


def target_key(target: ast.expr) -> str | None:
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


def entries(a: Analysis, value: ast.expr, scope: Scope) -> Iterator[ast.expr]:
    """The entry expressions of a DATABASES mapping written as a dict (or a name bound
    to one in this module)."""
    written = written_at(a, value, scope)
    if isinstance(written, ast.Dict):
        yield from (v for k, v in zip(written.keys, written.values, strict=True) if k is not None)
    elif isinstance(written, ast.DictComp):
        # `{name: dj_database_url.config(…) for name in …}`: every entry is the element
        # expression (one site, judged as itself), not the comprehension as a mapping
        yield written.value
    elif isinstance(written, ast.Call) and (a.module.qualname(written.func) or "") == "dict":
        yield from (k.value for k in written.keywords if k.arg is not None)
    else:
        yield value


def channels_postgres_config(a: Analysis, layer: ast.expr, scope: Scope) -> ast.expr | None:
    """channels_postgres' PostgresChannelLayer: its CONFIG is a DATABASES entry that
    Django's postgresql DatabaseWrapper turns into aiopg (psycopg2) parameters."""
    written = written_at(a, layer, scope)
    if not isinstance(written, ast.Dict):
        return None
    backend = dict_key(written, "BACKEND")
    if isinstance(backend, ast.Constant) and "channels_postgres" in str(backend.value):
        return dict_key(written, "CONFIG")
    return None


def django_entry(
    a: Analysis, entry: ast.expr, scope: Scope, *, engine_required: bool = True
) -> None:
    if isinstance(entry, ast.Call) and _env_db_call(a, entry):
        always, branches = _changes_by_path(a, entry, scope)
        site(
            a,
            entry,
            "Django DATABASES",
            lambda: _env_db(a, entry, scope, _texts(a, scope, always)),
            lambda count: helper_places(a, entry, scope, count),
        )
        # `DATABASES["default"]["HOST"] = "127.0.0.1"` later: the entry as changed, a
        # connection of its own, reported where the change is written.
        for anchor, changes in branches:
            merged = _merged(always, changes)
            site(a, anchor, "Django DATABASES", _changed(a, entry, scope, merged))
        return
    if isinstance(entry, ast.Call) and (a.module.qualname(entry.func) or "") in DJ_DATABASE_URL:
        # The call itself is judged as a call (on_call), with the changes every path
        # makes; a change only some branch makes is that branch's connection.
        qual = a.module.qualname(entry.func) or ""
        always, branches = _changes_by_path(a, entry, scope)
        for anchor, changes in branches:
            judge = _dj_changed(a, entry, scope, qual, _merged(always, changes))
            site(a, anchor, "Django DATABASES", judge)
        return
    written = written_at(a, entry, scope)
    if _another_entry(a, written):
        return  # `DATABASES["default"] = DATABASES[name]`: that entry's connection, judged there
    if isinstance(written, ast.Dict):
        _django_password(a, written, scope)
    anchor = _django_anchor(a, written, scope)
    site(a, anchor, "Django DATABASES", lambda: _django(a, entry, scope, engine_required))


def _another_entry(a: Analysis, entry: ast.expr) -> bool:
    """`DATABASES[name]`, `DATABASES.get(name)`, their `.copy()` or `copy.deepcopy(…)`:
    an entry that is another entry's value is that entry's connection, one finding."""
    for _ in range(4):
        if isinstance(entry, ast.Call) and entry.args:
            qual = a.module.qualname(entry.func) or ""
            if qual in ("copy.copy", "copy.deepcopy"):
                entry = entry.args[0]
                continue
        if isinstance(entry, ast.Call) and isinstance(entry.func, ast.Attribute):
            method, owner = entry.func.attr, entry.func.value
            if method == "get" and _names_databases(owner):
                return True
            if method == "copy" and not entry.args:
                entry = owner
                continue
        return isinstance(entry, ast.Subscript) and _names_databases(entry.value)
    return False


def _names_databases(expr: ast.expr) -> bool:
    return isinstance(expr, ast.Name) and expr.id == "DATABASES"


def _django_anchor(a: Analysis, entry: ast.expr, scope: Scope) -> ast.expr:
    """The OPTIONS sslmode value when written (where it is bound), else the entry."""
    if isinstance(entry, ast.Dict):
        options = dict_key(entry, "OPTIONS")
        if options is not None:
            options = written_at(a, options, scope)
            mode = dict_key(options, "sslmode") if isinstance(options, ast.Dict) else None
            if mode is not None:
                return written_at(a, mode, scope)
    return entry


def _django_password(a: Analysis, entry: ast.Dict, scope: Scope) -> None:
    """Django's upper-case PASSWORD key: a literal there is a database password."""
    value = dict_key(entry, "PASSWORD")
    if value is not None:
        siblings = tuple(
            k.value
            for k in (dict_key(entry, "USER"), dict_key(entry, "NAME"))
            if isinstance(k, ast.Constant) and isinstance(k.value, str)
        )
        credentials._password_value(a, "PASSWORD", value, scope, db=True, siblings=siblings)


def _django(a: Analysis, entry: ast.expr, scope: Scope, engine_required: bool) -> Judged:
    value = value_of(a, entry, scope, entry)
    if isinstance(value, Unknown):
        raise Undetermined(f"the DATABASES entry is {value.why}")
    if not isinstance(value, DictValue):
        raise NotASite("not a mapping")
    notes: list[str] = []
    value = _deployed_fields(a, written_at(a, entry, scope), value, notes)
    engine = value.get("ENGINE")
    if engine is None and not engine_required:
        engine = Text.of("django.db.backends.postgresql")
    if not isinstance(engine, Text) or engine.known is None:
        raise NotASite("the engine is not known to be PostgreSQL")
    if not is_postgres_engine(engine.known):
        raise NotASite(f"engine {engine.known}")
    options = value.get("OPTIONS")
    pairs = _options(options, notes, complete=value.complete)
    for key, keyword in _DJANGO_FIELDS:
        text = _setting_text(value.get(key), f"{key}", notes, placeholder=key == "HOST")
        if text:  # Django passes only what is not empty
            pairs[keyword] = text
    driver = Driver.PSYCOPG2 if engine.known.endswith("psycopg2") else Driver.PSYCOPG
    text = libpq_text(pairs)
    return [(driver, parse_dsn(text), text, tuple(notes))]


def _deployed_fields(
    a: Analysis, written: ast.expr, value: DictValue, notes: list[str]
) -> DictValue:
    """The entry with each field the code reads from the environment, with no default,
    given the value the service's environment holds when one committed source in the
    tree decides it (an env file a compose `env_file:` names, or an env template
    rendered at deploy: rendered_env.deployed_value). `"ENGINE":
    os.environ.get("SQL_ENGINE")` with `SQL_ENGINE=django.db.backends.postgresql` in
    that file is a PostgreSQL entry; otherwise the field stays unknown."""
    if not isinstance(written, ast.Dict):
        return value
    given: dict[str, Value] = {}
    for key in _DEPLOYED_FIELDS:
        field = dict_key(written, key)
        current = value.get(key)
        if field is None or not isinstance(current, Unknown | Text):
            continue
        if isinstance(current, Text) and current.known is not None:
            continue
        variable = _env_variable(a, field)
        deployed = (
            rendered_env.deployed_value(a.ctx.root, variable, a.source.relpath)
            if variable
            else None
        )
        if deployed is not None and deployed.value and "$" not in deployed.value:
            given[key] = Text.of(deployed.value)
            notes.append(f"{key}: {variable} from {deployed.why}")
    if not given:
        return value
    items = tuple((k, given.get(k, v)) for k, v in value.items)
    return DictValue(items, value.complete, value.written)


# The fields a deploy-time env file may give an entry (the password is judged where
# that file writes it; OPTIONS is a mapping, never one variable).
_DEPLOYED_FIELDS = ("ENGINE", "HOST", "PORT", "NAME", "USER")


def _env_variable(a: Analysis, field: ast.expr) -> str | None:
    """The variable an environment read with no default names (`os.environ.get("X")`,
    `os.getenv("X")`, `os.environ["X"]`), else None."""
    if isinstance(field, ast.Subscript):
        named = field.slice
        if (a.module.qualname(field.value) or "") == "os.environ" and isinstance(
            named, ast.Constant
        ):
            return named.value if isinstance(named.value, str) else None
        return None
    if not isinstance(field, ast.Call):
        return None
    read = env_read(a.module, field)
    if read is None or not isinstance(read.variable, ast.Constant):
        return None
    if read.default is not None and not (
        isinstance(read.default, ast.Constant) and read.default.value is None
    ):
        return None
    name = read.variable.value
    return name if isinstance(name, str) else None


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
        return PLACEHOLDER if placeholder else None
    return None


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
    bound = binding(a.module.scope, receiver.id)
    if isinstance(bound, ast.Call):
        return (a.module.qualname(bound.func) or "").endswith("Env")
    ref = a.module.aliases.get(receiver.id)
    if ref is None:
        return True
    if (a.module.qualname(receiver) or "").startswith("environ"):
        return True
    # `from .base import env`: bound to environ.Env() in the settings module it imports
    found = a.module.find_import(ref)
    other, name = found if found is not None else (None, None)
    if other is None or name is None:
        return False
    bound = binding(other.scope, name)
    return isinstance(bound, ast.Call) and (other.qualname(bound.func) or "").endswith("Env")


def _env_db(
    a: Analysis, call: ast.Call, scope: Scope, changes: dict[str, str] | None = None
) -> Judged:
    variable = "DATABASE_URL"
    default: ast.expr | None = None
    if call.args:
        named = value_of(a, call.args[0], scope, call)
        variable = named.known if isinstance(named, Text) and named.known else variable
    for keyword in call.keywords:
        if keyword.arg == "var":
            named = value_of(a, keyword.value, scope, call)
            variable = named.known if isinstance(named, Text) and named.known else variable
        elif keyword.arg == "default":
            default = keyword.value
    if default is None:  # (or a socket default, which decides nothing)
        rendered = _rendered(a, variable)
        if rendered is None:
            if changes and ({REPLACED, REMOVED + "sslmode"} & changes.keys()):
                # no sslmode the URL could carry is left: the TLS is known, the host not
                return _django_url(Unknown(f"environment variable {variable}"), "", False, changes)
            why = f"the whole connection is parsed from environment variable {variable}"
            raise Undetermined(why)
        return _django_url(rendered[0], rendered[1], ssl_require=False, changes=changes)
    url = value_of(a, default, scope, call)
    note = f"{variable}: default of env.db()"
    judged = _django_url(url, note, ssl_require=False, changes=changes)
    if _socket_only(judged) and not (changes and "host" in changes):
        return _env_db(a, _without_default(call), scope, changes)
    return judged


def _rendered(a: Analysis, variable: str) -> tuple[Text, str] | None:
    """The URL an env template rendered at deploy gives `variable` for this module, when
    it is the project's only source (scan/rendered_env.py), and the note naming it."""
    rendered = rendered_env.rendered_value(a.ctx.root, variable, a.source.relpath)
    neutral = neutral_dsn(rendered.value) if rendered is not None else None
    if rendered is None or neutral is None:
        return None
    # The template's holes are filled at render: a password there is no literal.
    text = (
        _URL_PASSWORD.sub(r"\1@", neutral.text, count=1)
        if neutral.password_interpolated
        else neutral.text
    )
    return Text.of(text), f"{variable} from {rendered.why}"


# `://user:password@` -> the password part (dropped from a rendered template's URL)
_URL_PASSWORD = re.compile(r"(://[^:/@]*):[^@/]*@")
# Fields of a DATABASES entry and the libpq keyword Django passes each as.
_FIELDS = {"HOST": "host", "PORT": "port", "NAME": "dbname", "USER": "user"}


def _alias_of(a: Analysis, entry: ast.expr, scope: Scope) -> str | None:
    """The DATABASES alias ("default") an entry expression is written under."""
    for bound in scope.assigns.get("DATABASES", []):
        if isinstance(bound.value, ast.Dict):
            for key, value in zip(bound.value.keys, bound.value.values, strict=True):
                if value is entry and isinstance(key, ast.Constant):
                    return str(key.value)
    for change in scope.mutations.get("DATABASES", []):
        if change.value is entry and len(change.keys) == 1:
            key = change.keys[0]
            return str(key.value) if isinstance(key, ast.Constant) else None
    return None


def _field_changes(
    a: Analysis, entry: ast.expr, scope: Scope, alias: str | None = None
) -> list[tuple[ast.expr, dict[str, ast.expr], tuple[Arm, ...]]]:
    """Later changes to the entry's fields (`DATABASES["default"]["HOST"] =`,
    `…["OPTIONS"]["sslmode"] =`, `…["OPTIONS"] = {**…["OPTIONS"], "sslmode": …}`,
    `…["OPTIONS"].update(sslmode=…)`), grouped by the branch they are written in: each
    group is the entry as that path changes it, anchored at its first change, with
    the branch. alias: the entry's alias when it is not written as one (the entry
    django_heroku.settings() makes is "default")."""
    alias = alias or _alias_of(a, entry, scope)
    if alias is None:
        return []
    groups: dict[tuple[Arm, ...], tuple[ast.expr, dict[str, ast.expr]]] = {}
    for change in scope.mutations.get("DATABASES", []):
        if change.line <= entry.lineno:
            continue
        keys = [k.value if isinstance(k, ast.Constant) else None for k in change.keys]
        if keys[:1] != [alias]:
            continue
        items = _change_items(change, keys, alias)
        if not items:
            continue
        _, fields = groups.setdefault(change.branch, (_change_node(change), {}))
        groups[change.branch] = (groups[change.branch][0], _merged(fields, items))
    return [(anchor, fields, branch) for branch, (anchor, fields) in groups.items()]


# Marks in a changes mapping (no libpq keyword looks like them). REPLACED: OPTIONS
# replaced whole (`…["OPTIONS"] = {"pool": False}`, `del …["OPTIONS"]`): the URL's query
# and ssl_require's sslmode, which dj_database_url writes into OPTIONS (parse():
# `OPTIONS = query`, then `.update({"sslmode": "require"})`), are gone. A key with the
# REMOVED prefix: that OPTIONS key deleted (`del …["OPTIONS"]["sslmode"]`, `.pop(…)`).
REPLACED = "(OPTIONS replaced)"
REMOVED = "-"
# The fields of an entry outside OPTIONS, as the libpq keywords Django passes them.
_ENTRY_FIELDS = frozenset({*_FIELDS.values(), "password"})


def _merged(first: Mapping[str, _T], then: Mapping[str, _T]) -> dict[str, _T]:
    """Changes made in order: a later replacement of OPTIONS drops the OPTIONS keys
    set before it, a removal drops the key's setting and a setting the removal."""
    merged = dict(first)
    if REPLACED in then:
        merged = {k: v for k, v in merged.items() if k in _ENTRY_FIELDS}
    for key, value in then.items():
        merged.pop(key.removeprefix(REMOVED) if key.startswith(REMOVED) else REMOVED + key, None)
        merged[key] = value
    return merged


def _change_node(change: Mutation) -> ast.expr:
    """Where a change is written: its value, its call, or (a deletion) its last key."""
    if change.value is not None:
        return change.value
    if change.call is not None:
        return change.call
    return change.keys[-1]


def _change_items(change: Mutation, keys: Sequence[object], alias: str) -> dict[str, ast.expr]:
    """The libpq keywords one change sets, or nothing when it is not a field change
    the scanner can read whole."""
    if change.method == "update" and keys == [alias, "OPTIONS"] and change.call is not None:
        call = change.call  # OPTIONS.update({...}) / .update(k=v): merged into OPTIONS
        items: dict[str, ast.expr] = {}
        for argument in call.args:
            literal = _literal_items(argument)
            if literal is None:
                return {}
            items.update(literal)
        for keyword in call.keywords:
            if keyword.arg is None:
                return {}
            items[keyword.arg] = keyword.value
        return items
    stripped = _stripped(change, keys, alias)
    if stripped is not None:
        return {stripped: _change_node(change)}
    if change.method or change.value is None:
        return {}
    if len(keys) == 2 and keys[1] in _FIELDS:
        return {_FIELDS[str(keys[1])]: change.value}
    if len(keys) == 3 and keys[1] == "OPTIONS" and isinstance(keys[2], str):
        return {keys[2]: change.value}
    if keys == [alias, "OPTIONS"] and isinstance(change.value, ast.Dict):
        # A new OPTIONS that spreads the entry's own first keeps the URL's options and
        # sets its keys over them (the fixer's shape). Without that spread it replaces
        # them, which the URL merge below does not model: not read.
        dict_value = change.value
        if not dict_value.keys or dict_value.keys[0] is not None:
            # a new OPTIONS of its own: the URL's options (and ssl_require's) are gone
            literal = _literal_items(dict_value)
            return {REPLACED: dict_value, **literal} if literal is not None else {}
        if not _own_options(dict_value.values[0], alias):
            return {}
        rest = ast.Dict(keys=dict_value.keys[1:], values=dict_value.values[1:])
        return _literal_items(rest) or {}
    return {}


def _stripped(change: Mutation, keys: Sequence[object], alias: str) -> str | None:
    """The mark of a change that deletes OPTIONS or one of its keys, else None."""
    if not change.method and change.value is None:  # del
        if keys == [alias, "OPTIONS"]:
            return REPLACED
        if len(keys) == 3 and keys[:2] == [alias, "OPTIONS"] and isinstance(keys[2], str):
            return REMOVED + keys[2]
        return None
    first = change.call.args[0] if change.method == "pop" and change.call is not None else None
    if not (first is not None and isinstance(first, ast.Constant)):
        return None
    if keys == [alias] and first.value == "OPTIONS":
        return REPLACED
    if keys == [alias, "OPTIONS"] and isinstance(first.value, str):
        return REMOVED + first.value
    return None


def _literal_items(value: ast.expr) -> dict[str, ast.expr] | None:
    """A dict literal's string keys and values; None with a spread or another key."""
    if not isinstance(value, ast.Dict):
        return None
    items: dict[str, ast.expr] = {}
    for key, item in zip(value.keys, value.values, strict=True):
        if not (isinstance(key, ast.Constant) and isinstance(key.value, str)):
            return None
        items[key.value] = item
    return items


def _own_options(value: ast.expr, alias: str) -> bool:
    """`DATABASES[alias]["OPTIONS"]` or `DATABASES[alias].get("OPTIONS", …)`."""
    if isinstance(value, ast.Call) and isinstance(value.func, ast.Attribute):
        if value.func.attr != "get" or not value.args:
            return False
        first = value.args[0]
        owner = value.func.value
        named = isinstance(first, ast.Constant) and first.value == "OPTIONS"
    elif isinstance(value, ast.Subscript):
        index = value.slice
        named = isinstance(index, ast.Constant) and index.value == "OPTIONS"
        owner = value.value
    else:
        return False
    return (
        named
        and isinstance(owner, ast.Subscript)
        and isinstance(owner.value, ast.Name)
        and owner.value.id == "DATABASES"
        and isinstance(owner.slice, ast.Constant)
        and owner.slice.value == alias
    )


def _changes_by_path(
    a: Analysis, entry: ast.expr, scope: Scope, alias: str | None = None
) -> tuple[dict[str, ast.expr], list[tuple[ast.expr, dict[str, ast.expr]]]]:
    """The changes made whenever the entry is (they are the entry's own: its site is
    judged with them, no site of their own), and each branch's other changes."""
    here = scope.branch_at(entry.lineno)
    always: dict[str, ast.expr] = {}
    branches = []
    for anchor, fields, branch in _field_changes(a, entry, scope, alias):
        if runs_whenever(branch, here):
            always.update(fields)
        else:
            branches.append((anchor, fields))
    return always, branches


def _texts(
    a: Analysis, scope: Scope, changes: dict[str, ast.expr], *, whole: bool = False
) -> dict[str, str] | None:
    """The changes as libpq text. A host or a certificate file not known here is named
    (a placeholder); another value not known here is left out, but an sslmode is the
    deployment's (Undetermined). whole: any value left out is no site (NotASite)."""
    given: dict[str, str] = {}
    for keyword, expr in changes.items():
        if keyword == REPLACED or keyword.startswith(REMOVED):
            given[keyword] = ""  # a mark: _django_url reads it
            continue
        value = value_of(a, expr, scope, expr)
        placeholder = keyword == "host" or keyword in _LIBPQ_FILES
        text = _setting_text(value, keyword, [], placeholder=placeholder)
        if text is None and whole:
            raise NotASite(f"{keyword} is not known")
        if text is None and keyword == "sslmode":
            raise Undetermined("OPTIONS sslmode is set later from a value not known here")
        if text is not None:
            given[keyword] = text
    return given or None


def _changed(
    a: Analysis, entry: ast.Call, scope: Scope, changes: dict[str, ast.expr]
) -> Callable[[], Judged]:
    def judge() -> Judged:
        given = _texts(a, scope, changes, whole=True)
        try:
            return _env_db(a, entry, scope, given)
        except Undetermined as why:
            raise NotASite(str(why)) from None  # the entry's own site names the deployment

    return judge


def dj_database_url_site(
    a: Analysis,
    call: ast.Call,
    scope: Scope,
    qual: str,
    changes: dict[str, str] | None = None,
    *,
    own_changes: bool = True,
) -> Judged:
    """dj_database_url.config(env="DATABASE_URL", default=None, engine=None, …,
    ssl_require=False) reads os.environ.get(env, default); parse(url, …) its argument.
    The entry it is stored as is judged with the changes every later path makes to it
    (`DATABASES["default"]["OPTIONS"] = {**…, "sslmode": "verify-full", …}`)."""
    if own_changes and changes is None:
        always, _ = _changes_by_path(a, call, scope)
        changes = _texts(a, scope, always)
    names = ("env", "default", "engine") if qual.endswith("config") else ("url", "engine")
    given: dict[str, ast.expr] = dict(zip(names, call.args, strict=False))
    given.update({k.arg: k.value for k in call.keywords if k.arg})
    engine = value_of(a, given.get("engine"), scope, call)
    known_engine = engine.known if isinstance(engine, Text) else None
    if known_engine is not None and not is_postgres_engine(known_engine):
        raise NotASite(f"engine {known_engine}")
    require = value_of(a, given.get("ssl_require"), scope, call)
    ssl_require = isinstance(require, Const) and require.value is True
    decided = changes and ({"sslmode", REPLACED, REMOVED + "sslmode"} & changes.keys())
    if isinstance(require, Unknown) and not decided:
        raise Undetermined(f"ssl_require is {require.why}")
    if qual.endswith("parse"):
        url = value_of(a, given.get("url"), scope, call)
        return _django_url(url, "", ssl_require=ssl_require, changes=changes)
    env = value_of(a, given.get("env"), scope, call) if "env" in given else Text.of("DATABASE_URL")
    variable = env.known if isinstance(env, Text) and env.known else "DATABASE_URL"
    default = value_of(a, given.get("default"), scope, call) if "default" in given else None
    note = f"{variable}: default of dj_database_url.config"
    if default is None or (isinstance(default, Const) and default.value is None):
        rendered = _rendered(a, variable)
        default, note = rendered or (Unknown(f"environment variable {variable}"), note)
        return _django_url(default, note, ssl_require, changes)
    judged = _django_url(default, note, ssl_require, changes)
    if _socket_only(judged) and not (changes and "host" in changes):
        return _django_url(Unknown(f"environment variable {variable}"), "", ssl_require, changes)
    return judged


def _dj_changed(
    a: Analysis, call: ast.Call, scope: Scope, qual: str, changes: dict[str, ast.expr]
) -> Callable[[], Judged]:
    """A branch's changes to a dj_database_url entry: the entry as that path leaves it."""

    def judge() -> Judged:
        texts = _texts(a, scope, changes)
        try:
            return dj_database_url_site(a, call, scope, qual, texts or {}, own_changes=False)
        except Undetermined as why:
            raise NotASite(str(why)) from None  # the entry's own site names the deployment

    return judge


def _socket_only(judged: Judged) -> bool:
    """`config(default="postgis:///exports")`: a default with no TCP host is libpq's Unix
    socket, where TLS does not apply, so it decides nothing: the URL that does is the
    variable's at deploy, and the site is judged as without a default (issue 12 class
    10: a VF108, not silence). A TCP default is the value the service runs with when
    the variable is unset, and is judged."""
    return bool(judged) and all(
        not info.tcp_hosts and not info.param("hostaddr") for _, info, _, _ in judged
    )


def _without_default(call: ast.Call) -> ast.Call:
    keywords = [k for k in call.keywords if k.arg != "default"]
    return ast.Call(func=call.func, args=call.args[:1], keywords=keywords)


def _django_url(
    url: Value, note: str, ssl_require: bool, changes: dict[str, str] | None = None
) -> Judged:
    """A URL parsed the dj_database_url way: the query becomes OPTIONS (libpq keywords),
    ssl_require sets sslmode=require over it. With the URL unknown, ssl_require alone
    decides (the host is then an unknown TCP host)."""
    notes = [note] if note else []
    changes = dict(changes or {})
    # OPTIONS replaced or its sslmode deleted afterwards: the URL's sslmode and
    # ssl_require's (both only OPTIONS["sslmode"]) are gone, whatever the URL says.
    replaced = changes.pop(REPLACED, None) is not None
    removed = {k.removeprefix(REMOVED) for k in changes if k.startswith(REMOVED)}
    changes = {k: v for k, v in changes.items() if not k.startswith(REMOVED)}
    stripped = replaced or "sslmode" in removed
    ssl_require = ssl_require and not stripped
    # An sslmode set on the entry afterwards wins over ssl_require's (which is only the
    # OPTIONS sslmode the helper writes) and over the URL's.
    mode_changed = "sslmode" in changes
    try:
        text, url_notes = dsn_text(url, "the database URL")
    except Undetermined:
        if not (ssl_require or mode_changed or stripped):
            raise
        why = url.why if isinstance(url, Unknown) else "partly unknown"
        notes.append(f"the URL: {why}")
        given = {"host": PLACEHOLDER, **({} if stripped else {"sslmode": "require"})}
        # the TLS keys decide; the URL's host stays unknown
        given.update({k: v for k, v in changes.items() if is_tls_key(k)})
        forced = libpq_text(given)
        return [(Driver.PSYCOPG, parse_dsn(forced), forced, tuple(notes))]
    notes += url_notes
    helper_only = django_url.is_django_url(text)
    if not helper_only:
        libpq_url(text)  # NotASite for sqlite://, mysql:// ...
    info = parse_django_url(text)  # as the helpers build the entry
    if helper_only:  # what Django hands psycopg, in a scheme psycopg reads (explain)
        text = info.connect_string_with_secret(form="url", scheme="postgresql")
    if changes or replaced or removed:  # fields set on the entry afterwards win
        pairs = dict(django_url.django_url_pairs(text))
        if replaced:
            pairs = {k: v for k, v in pairs.items() if k in _ENTRY_FIELDS}
        pairs = {k: v for k, v in pairs.items() if k not in removed}
        pairs.update(changes)
        text = libpq_text(pairs)
        info = parse_dsn(text)
    if ssl_require and not mode_changed:
        info = info.with_params(sslmode="require")
        text = info.to_keywords()
    return [(Driver.PSYCOPG, info, text, tuple(notes))]


def helper_places(
    a: Analysis, call: ast.Call, scope: Scope, count: int, alias: str | None = None
) -> dict[int, Place]:
    """Class 8 for an entry a helper builds (dj_database_url, env.db(), django-heroku):
    where its sslmode is decided when that is not the call's first line. A later change
    on every path that strips it (a new OPTIONS, a deleted sslmode: issue 12 item 4) is
    reported there; else a TLS keyword of the helper written on a line of its own
    (`ssl_require=True,` below `config(`), as placement.connect_args_place places a
    driver's. Every reading of the call is the same entry: one place for all."""
    place = _strip_place(a, call, scope, alias)
    if place is None and alias is None:
        place = _keyword_place(a, call, scope)
    return dict.fromkeys(range(count), place) if place is not None else {}


def _strip_place(a: Analysis, call: ast.Call, scope: Scope, alias: str | None) -> Place | None:
    """The last change on every path after the call that decides the entry's sslmode,
    when it strips the helper's (a replaced OPTIONS: at its sslmode, if it writes one)."""
    alias = alias or _alias_of(a, call, scope)
    if alias is None:
        return None
    here = scope.branch_at(call.lineno)
    found: Place | None = None
    for change in scope.mutations.get("DATABASES", []):
        if change.line <= call.lineno or not runs_whenever(change.branch, here):
            continue
        keys = [k.value if isinstance(k, ast.Constant) else None for k in change.keys]
        if keys[:1] != [alias]:
            continue
        items = _change_items(change, keys, alias)
        if REPLACED in items or REMOVED + "sslmode" in items:
            node = items.get("sslmode") or _change_node(change)
            what = "the entry's OPTIONS sslmode (from the URL or ssl_require) is dropped here"
            found = Place.at(a.source.relpath, node, what)
        elif "sslmode" in items:
            found = None  # set again afterwards: that setting decides
    return found


# The keyword arguments of the URL helpers that decide the entry's sslmode
# (dj_database_url's ssl_require writes OPTIONS["sslmode"] = "require").
_HELPER_TLS_KEYWORDS = frozenset({"ssl_require"})


def _keyword_place(a: Analysis, call: ast.Call, scope: Scope) -> Place | None:
    for keyword in call.keywords:
        if keyword.arg not in _HELPER_TLS_KEYWORDS:
            continue
        written = written_at(a, keyword.value, scope)
        if not (isinstance(written, ast.Constant) and written.value is True):
            return None  # False or not known: the URL decides, not the keyword
        if written is keyword.value and written.lineno == call.lineno:
            return None  # on the call's own first line: nothing to move
        always, _ = _changes_by_path(a, call, scope)
        if "sslmode" in always:
            return None  # an sslmode set on the entry afterwards wins
        return Place.at(a.source.relpath, written, f"the {keyword.arg} written here")
    return None
