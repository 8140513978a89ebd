"""Where a finding is reported (issue 12, class 8): once, where the deciding value is
written, with the places it acts through as related locations, not one copy per caller.

- A connection call weak only through an SSLContext weakened in the same file adds
  itself to the context's finding (reported by ssl_checks at the weakening line).
- A Piccolo engine config dict without `ssl` (or `dsn`) is reported at that dict.
- A Tortoise config whose `credentials` dict has no `ssl` key (or, for the psycopg
  backend, whose `server_settings` sslmode decides) is reported at that dict, in the
  config's own module (followed through names and imports), the calls related. The
  engine applies that file's suppressions and merges the same place from several files.
- A dict passed to the call (`connect_args=args`, `**params`) whose TLS key is written
  after the dict is built (`args["sslmode"] = "require"`, `params.update(ssl=…)`,
  `params.setdefault(…)`, `params |= {…}`) is reported at that write, when the literal
  written is the value this reading of the call holds: the write is what decides it.
- A call whose connection string is a pydantic Settings field's default written in
  another module (`create_async_engine(get_settings().DB_DSN)`, no TLS argument at the
  call) is reported at that default: it is the deployed value wherever the
  environment does not set the field, and one finding serves every site reading it.
"""

from __future__ import annotations

import ast
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path

from verifyfull.conninfo import ConnInfo
from verifyfull.conninfo.parse import known_scheme
from verifyfull.findings import Related, finding
from verifyfull.scan.python import credentials, ssl_checks
from verifyfull.scan.python.context import Analysis
from verifyfull.scan.python.module import ImportRef, Mutation, ParsedModule, Scope
from verifyfull.scan.python.resolve import dsn_literal, field_default, has_base
from verifyfull.scan.python.values import (
    CONNECTION_STRING_WRITTEN,
    SETTINGS_URL_WRITTEN,
    ContextValue,
    DictValue,
    WrittenAt,
)


@dataclass(frozen=True)
class Place:
    """Where a deciding value is written: a file of the project and a position in it."""

    relpath: str
    line: int
    column: int  # 1-based
    what: str
    # The place holds only for a reading without this key: a key set later (`CONF[…]
    # ["credentials"]["ssl"] = …`, values.py's dict changes) decides at the call.
    missing: str | None = None

    @classmethod
    def at(cls, relpath: str, node: ast.expr, what: str, missing: str | None = None) -> Place:
        return cls(relpath, node.lineno, node.col_offset + 1, what, missing)


def project_relpath(a: Analysis, path: Path) -> str | None:
    """`path` as the report names it (relative to the scan root), or None outside it."""
    try:
        return path.resolve().relative_to(a.ctx.root.resolve()).as_posix()
    except ValueError:
        return None


_ORIGIN_HOPS = 6


def origin(a: Analysis, scope: Scope, expr: ast.expr) -> tuple[ParsedModule, ast.expr] | None:
    """The literal an expression names: through local names, imported names,
    `module.NAME` and the call of a function with one `return` (a few hops; the last
    binding of each name)."""
    module = a.module
    for _ in range(_ORIGIN_HOPS):
        if isinstance(expr, ast.Dict):
            return module, expr
        if isinstance(expr, ast.Call):
            # config=get_tortoise_config(), defined here or imported (held-out-s15b
            # api_credito): the dict its one return writes is where the config is
            returned = _one_return(module, expr.func)
            if returned is None:
                return None
            module, expr, scope = returned
            continue
        name: str | None = None
        ref: ImportRef | None = None
        if isinstance(expr, ast.Name):
            where: Scope | None = scope
            while where is not None and expr.id not in where.assigns:
                where = where.parent
            if where is not None:
                expr, scope = where.assigns[expr.id][-1].value, where
                continue
            ref, name = module.aliases.get(expr.id), None
        elif (
            isinstance(expr, ast.Attribute)
            and isinstance(expr.value, ast.Name)
            and expr.value.id in ("self", "cls")
        ):
            # `config=self._config`, a class attribute of the method's own class
            # (held-out-s22 deputydev-auth's TortoiseListener._config)
            owner = _class_scope(scope)
            if owner is None or expr.attr not in owner.assigns:
                return None
            expr, scope = owner.assigns[expr.attr][-1].value, owner
            continue
        elif isinstance(expr, ast.Attribute) and isinstance(expr.value, ast.Name):
            ref, name = module.aliases.get(expr.value.id), expr.attr
        if ref is None:
            return None
        found = module.find_import(ref)
        if found is None:
            return None
        module, imported = found
        name = imported if name is None else (name if imported is None else None)
        if name is not None and name not in module.scope.assigns and name in module.aliases:
            # a package's re-export (`from .utils import TORTOISE_CONFIG` in db/__init__.py)
            expr, scope = ast.Name(name, ast.Load()), module.scope
            continue
        if name is None or name not in module.scope.assigns:
            return None
        expr, scope = module.scope.assigns[name][-1].value, module.scope
    return None


def _class_scope(scope: Scope) -> Scope | None:
    """The class a method's scope (or a scope nested in one) belongs to."""
    where: Scope | None = scope
    while where is not None and not isinstance(where.node, ast.ClassDef):
        where = where.parent
    return where


def _one_return(
    module: ParsedModule, func: ast.expr
) -> tuple[ParsedModule, ast.expr, Scope] | None:
    """The one value a called project function returns (`f`, an imported `f`, `mod.f`),
    in its module and scope; None for a library's, a method's or several returns."""
    ref: ImportRef | None = None
    name: str | None = None
    if isinstance(func, ast.Name):
        if func.id in module.functions:
            name = func.id
        else:
            ref = module.aliases.get(func.id)
    elif isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
        ref, name = module.aliases.get(func.value.id), func.attr
    if ref is not None:
        found = module.find_import(ref)
        if found is None:
            return None
        module, imported = found
        name = imported if name is None else (name if imported is None else None)
    function = module.functions.get(name) if name is not None else None
    scope = module.scope_of(function) if function is not None else None
    if scope is None or len(scope.returns) != 1:
        return None
    return module, scope.returns[0], scope


def dict_entry(node: ast.Dict, key: str) -> ast.expr | None:
    """The value a dict literal writes for a string key (the last one), if any."""
    for k, v in zip(node.keys, node.values, strict=True):
        if isinstance(k, ast.Constant) and k.value == key:
            return v
    return None


def missing_key_places(
    a: Analysis,
    scope: Scope,
    config: ast.expr | None,
    count: int,
    names: tuple[str, ...] = (),
    *,
    named: bool = False,
) -> dict[int, Place]:
    """Class 8, where a Tortoise config decides a connection, by the index of the
    connection judged from it (`names`: the connections judged, in the order
    from_tortoise_config reads them, another database's left out; else every entry
    of `connections`, `count` of them): a `credentials` dict without `ssl` (or the
    psycopg backend's server_settings sslmode). named: the config is a dict written
    apart from the call that uses it (a module constant, aerich's TORTOISE_ORM, an
    import): then every connection is reported where its entry is written, a URL
    entry at the URL (`'default': settings().DB_URL`), credentials at their `ssl`
    value (or, without one, at the dict), so the calls that use it
    (register_tortoise, Tortoise.init, aerich) share one finding (held-out-s15
    plast-camp: one dict, three calls)."""
    found = origin(a, scope, config) if config is not None else None
    if found is None:
        return {}
    module, written = found
    connections = dict_entry(written, "connections") if isinstance(written, ast.Dict) else None
    if not isinstance(connections, ast.Dict):
        return {}
    if names:
        entries = [(i, dict_entry(connections, name)) for i, name in enumerate(names)]
    elif len(connections.values) == count:
        entries = list(enumerate(connections.values))
    else:
        return {}
    relpath = project_relpath(a, module.path)
    if relpath is None:
        return {}
    places: dict[int, Place] = {}
    for index, entry in entries:
        if entry is None:
            continue
        credentials = dict_entry(entry, "credentials") if isinstance(entry, ast.Dict) else None
        if named and not isinstance(entry, ast.Dict):
            places[index] = Place.at(relpath, entry, "the connection URL of the Tortoise config")
            continue
        if not isinstance(credentials, ast.Dict):
            continue
        ssl = dict_entry(credentials, "ssl")
        if ssl is not None:
            if named:
                places[index] = Place.at(relpath, ssl, "the ssl of the Tortoise config")
            continue
        settings = dict_entry(credentials, "server_settings")
        mode = dict_entry(settings, "sslmode") if isinstance(settings, ast.Dict) else None
        if mode is not None:  # Tortoise's psycopg backend: the libpq sslmode decides
            places[index] = Place.at(relpath, mode, "the server_settings sslmode written here")
        elif settings is None or isinstance(settings, ast.Dict):
            places[index] = Place.at(
                relpath, credentials, "its credentials have no 'ssl' key", missing="ssl"
            )
    return places


def config_dict_places(
    a: Analysis, scope: Scope, config: ast.expr | None, count: int
) -> dict[int, Place]:
    """Class 8 for a settings dict handed whole to asyncpg (Piccolo's
    `PostgresEngine(config={...})`): with no `ssl` key (and no `dsn` that could carry
    one) the dict is where the setting is missing, in its own module (followed through
    names and imports), the engine call related. One reading only: a config built in
    branches stays at the call."""
    found = origin(a, scope, config) if config is not None else None
    if found is None or count != 1:
        return {}
    module, written = found
    if not isinstance(written, ast.Dict) or None in written.keys:  # `**base` merged in
        return {}
    if dict_entry(written, "ssl") is not None or dict_entry(written, "dsn") is not None:
        return {}
    relpath = project_relpath(a, module.path)
    if relpath is None:
        return {}
    return {0: Place.at(relpath, written, "its config has no 'ssl' key", missing="ssl")}


# The keys whose written value decides a reading's transport rule, and the call
# arguments a dict of them is passed through.
_DECIDING_KEYS = frozenset({"sslmode", "ssl"})
_DICT_ARGUMENTS = frozenset({"connect_args"})


def _holds(info: ConnInfo, key: str, literal: str) -> bool:
    """Whether this reading of the call has `key` set to `literal` (a URL option, a
    keyword given to the driver, or the asyncpg ssl argument)."""
    if info.ssl.mode == literal or info.param(key) == literal:
        return True
    return any(name == key and rendered.strip("'\"") == literal for name, rendered in info.kwargs)


def _writes(mutation: Mutation) -> list[tuple[str, ast.expr]]:
    """The (key, literal node) pairs a change writes as the last key of its path."""
    if not mutation.method and mutation.value is not None and mutation.keys:
        last = mutation.keys[-1]
        if isinstance(last, ast.Constant) and isinstance(last.value, str):
            return [(last.value, mutation.value)]
        return []
    written: list[tuple[str, ast.expr]] = []
    call = mutation.call
    if mutation.method == "update" and call is None and isinstance(mutation.value, ast.Dict):
        source: ast.expr | None = mutation.value  # d |= {...}
    else:
        source = call.args[0] if call is not None and call.args else None
    if mutation.method == "setdefault" and call is not None and len(call.args) == 2:
        key = call.args[0]
        if isinstance(key, ast.Constant) and isinstance(key.value, str):
            written.append((key.value, call.args[1]))
    elif mutation.method == "update":
        if isinstance(source, ast.Dict):
            written += [
                (k.value, v)
                for k, v in zip(source.keys, source.values, strict=True)
                if isinstance(k, ast.Constant) and isinstance(k.value, str)
            ]
        if call is not None:
            written += [(kw.arg, kw.value) for kw in call.keywords if kw.arg is not None]
    return written


def changed_key_place(a: Analysis, scope: Scope, call: ast.Call, info: ConnInfo) -> Place | None:
    """Class 8 for a dict changed after it is built: the last change before the call
    that writes a deciding TLS key of a dict the call is given, with the literal this
    reading holds (so each if/else arm's reading is placed at its own write)."""
    best: tuple[int, Place] | None = None
    for keyword in call.keywords:
        if not isinstance(keyword.value, ast.Name):
            continue
        if keyword.arg is not None and keyword.arg not in _DICT_ARGUMENTS:
            continue
        name = keyword.value.id
        where: Scope | None = scope
        while where is not None and name not in where.assigns and name not in where.mutations:
            where = where.parent
        if where is None:
            continue
        same = where is scope
        for mutation in where.mutations.get(name, ()):
            if same and mutation.line > call.lineno:
                continue  # written after the call: the call never sees it
            for key, value in _writes(mutation):
                literal = value.value if isinstance(value, ast.Constant) else None
                if key not in _DECIDING_KEYS or not isinstance(literal, str):
                    continue
                if _holds(info, key, literal) and (best is None or mutation.line >= best[0]):
                    what = f"the {key} written here into {name}, which the call is given"
                    best = (mutation.line, Place.at(a.source.relpath, value, what))
    return best[1] if best else None


def connect_args_place(a: Analysis, scope: Scope, call: ast.Call, info: ConnInfo) -> Place | None:
    """Class 8 (issue 12 item 8: "where the deciding value is written (the ssl/sslmode
    key …)"): the mode key of the connect_args dict a call is given, inline or through
    names and imports (`connect_args=ARGS`, `**ENGINE_OPTIONS` holding connect_args),
    when its literal is what this reading holds; None when it sits on the call's own
    first line (nothing to move) or is not a literal (held-out-s14: the blind labels of
    fm_transaction_service and NoeRFcBot sit at the key, not at the call)."""
    for keyword in call.keywords:
        if keyword.arg in _TLS_KEYWORDS and isinstance(keyword.value, ast.Name):
            bound = _bound_mode_literal(a, scope, keyword.value, keyword.arg, info, call)
            if bound is not None:
                return bound
        if keyword.arg in _TLS_KEYWORDS and keyword.value.lineno != call.lineno:
            # a TLS keyword written on a line of its own (`ssl_context=None if … else
            # True` below the call, held-out-s14 ohtu-mini): that line decides
            what = f"the {keyword.arg} argument written here"
            return Place.at(a.source.relpath, keyword.value, what)
        if keyword.arg == "connect_args":
            place = _written_mode(a, scope, keyword.value, info, options=False)
        elif keyword.arg is None:  # **options holding connect_args
            place = _written_mode(a, scope, keyword.value, info, options=True)
        else:
            continue
        if place is not None and not (
            place.relpath == a.source.relpath and place.line == call.lineno
        ):
            return place
    return None


def _bound_mode_literal(
    a: Analysis, scope: Scope, name: ast.Name, keyword: str, info: ConnInfo, call: ast.Call
) -> Place | None:
    """`ssl = False` (or `sslmode = "disable"`) bound in the call's function, then
    `ssl=ssl` given to the call: the binding whose literal this reading holds is where
    the deciding value is written (held-out-s20 knowledge-agent: `ssl = False` unless
    the host is Neon's, the label at the binding). The last such binding before the
    call; None when the name holds no literal of this reading there."""
    found: ast.Constant | None = None
    for binding in scope.assigns.get(name.id, []):
        value = binding.value
        if binding.line >= call.lineno or not isinstance(value, ast.Constant):
            continue
        literal = value.value
        if isinstance(literal, bool):
            holds = info.ssl.flag is literal
        elif isinstance(literal, str):
            holds = _holds(info, keyword, literal)
        else:
            continue
        if holds:
            found = value
    if found is None or found.lineno == call.lineno:
        return None
    what = f"the {keyword} written here, passed to the call at line {call.lineno}"
    return Place.at(a.source.relpath, found, what)


def engine_options_place(a: Analysis, scope: Scope, options: ast.expr) -> Place | None:
    """The mode key of an engine-options dict's connect_args (Flask-SQLAlchemy's
    SQLALCHEMY_ENGINE_OPTIONS), followed as connect_args_place follows `**options`."""
    return _written_mode(a, scope, options, None, options=True)


def _written_mode(
    a: Analysis, scope: Scope, expr: ast.expr, info: ConnInfo | None, *, options: bool
) -> Place | None:
    """The mode key of the connect_args dict expr names (options: expr names an
    engine-options dict whose connect_args entry is that dict)."""
    found = origin(a, scope, expr)
    if found is None:
        return None
    module, written = found
    connect_args = (
        dict_entry(written, "connect_args")
        if options and isinstance(written, ast.Dict)
        else written
    )
    if not isinstance(connect_args, ast.Dict):
        return None
    return mode_key_place(a, module, connect_args, info)


# The keyword arguments that decide a driver's TLS mode (asyncpg's ssl, libpq's
# sslmode, pg8000's ssl_context).
_TLS_KEYWORDS = frozenset({"ssl", "sslmode", "ssl_context"})


def mode_key_place(
    a: Analysis, module: ParsedModule, written: ast.Dict, info: ConnInfo | None
) -> Place | None:
    """The place of a connect_args dict's sslmode/ssl literal (held by info, when given)."""
    relpath = project_relpath(a, module.path)
    if relpath is None:
        return None
    for key in _MODE_KEYS:
        value = dict_entry(written, key)
        if not (isinstance(value, ast.Constant) and isinstance(value.value, str)):
            continue
        if info is None or _holds(info, key, value.value):
            return Place.at(relpath, value, f"the {key} written here in connect_args")
    return None


# Call arguments that carry TLS settings of their own: with one, the call decides.
_CALL_TLS = frozenset({"connect_args", "ssl", "sslmode", "sslrootcert", "server_settings"})
_SETTINGS_BASES = ("BaseSettings",)


def settings_password(
    a: Analysis, scope: Scope, call: ast.Call, password: str, message: str, fix: str
) -> None:
    """VF401 where a Settings class the call reads (in this module or another) writes
    the connection's literal password as a field default, the call related."""
    arguments = [*call.args, *(k.value for k in call.keywords)]
    for expr in arguments:
        if isinstance(expr, ast.Call) and isinstance(expr.func, ast.Name) and expr.args:
            expr = expr.args[0]  # str(settings.dsn)
        if not isinstance(expr, ast.Attribute):
            continue
        owner = a.resolver.settings_class(expr.value, a.place(call, scope), 0)
        if owner is None or not has_base(owner[0], _SETTINGS_BASES):
            continue
        found = credentials.settings_field_password(a, owner, password)
        if found is None:
            continue
        name, default = found
        relpath = project_relpath(a, owner[1].path)
        if relpath is None:
            continue
        what = f"the default of settings field {owner[0].name}.{name}"
        report_at(a, Place.at(relpath, default, what), "VF401", call, message, f"{name} = ***", fix)
        return


def settings_default_place(
    a: Analysis, scope: Scope, call: ast.Call, dsn: str | None
) -> Place | None:
    """Class 4 with class 8: the Settings field default in another module that this
    reading's whole connection string is (the literal equal to the DSN judged), in
    whichever argument the site takes its URL (`url=`, `dsn=`, a wrapper's
    `connection_string=`: the one whose field default is that DSN)."""
    if dsn is None or any(k.arg is None or k.arg in _CALL_TLS for k in call.keywords):
        return None
    for expr in (*call.args, *(k.value for k in call.keywords)):
        found = _settings_default(a, scope, call, _unwrapped_str(expr), dsn)
        if found is not None:
            return found
    return None


def _unwrapped_str(expr: ast.expr) -> ast.expr:
    """X of str(X) (a pydantic Dsn type made a string), else expr."""
    if (
        isinstance(expr, ast.Call)
        and isinstance(expr.func, ast.Name)
        and expr.func.id == "str"
        and len(expr.args) == 1
    ):
        return expr.args[0]
    return expr


def _settings_default(
    a: Analysis, scope: Scope, call: ast.Call, expr: ast.expr, dsn: str
) -> Place | None:
    if not isinstance(expr, ast.Attribute):
        return None
    owner = a.resolver.settings_class(expr.value, a.place(call, scope), 0)
    if owner is None or owner[1].path == a.module.path:
        return None
    cls, module = owner
    class_scope = module.scope_of(cls)
    # a settings class, through the project's own bases (`DatabaseSettings(BaseEnvSettings)`)
    settings = any(has_base(c, _SETTINGS_BASES) for c, _ in a.resolver.lineage(owner))
    if not settings or class_scope is None:
        return None
    bindings = class_scope.assigns.get(expr.attr)
    default = dsn_literal(field_default(bindings[-1].value) if bindings else None)
    if not (isinstance(default, ast.Constant) and default.value == dsn):
        return None
    relpath = project_relpath(a, module.path)
    if relpath is None:
        return None
    what = (
        f"the default of settings field {cls.name}.{expr.attr}, used when the environment sets none"
    )
    return Place.at(relpath, default, what)


# The keys that decide a reading's mode when the call gives them (libpq keywords
# override the string's, asyncpg's ssl= its DSN's sslmode), in that order.
_MODE_KEYS = ("sslmode", "ssl")


def written_place(
    a: Analysis, call: ast.expr, written: Mapping[str, WrittenAt | None]
) -> Place | None:
    """Class 8 for a value written elsewhere than the call (an environment reader's
    default, a dict joined into a conninfo string; values.WrittenAt), followed through
    names, attributes and imports: the place of what decides this reading. That is
    the mode the call is given when it gives one, else, when the call gives no TLS
    setting at all, the connection string; None when the deciding value is written at
    the call (or inside it) or in no file of the project."""
    mode = next((key for key in _MODE_KEYS if key in written), None)
    if mode is not None:
        where = written[mode]
    elif any(written.get(key) is None for key in written if key):
        return None  # a TLS setting written at the call decides with the string
    else:
        where = written.get("")
    if where is None:
        return None
    inside = call.lineno <= where.line <= (call.end_lineno or call.lineno)
    if inside and where.path == a.module.path:
        return None
    if where.path == a.module.path and where.what.startswith(SETTINGS_URL_WRITTEN):
        return None  # a settings default read in its own module: judged at the call
    relpath = project_relpath(a, where.path)
    if relpath is None:
        return None
    return Place(relpath, where.line, where.column, where.what)


def inline_place(a: Analysis, call: ast.Call, info: ConnInfo) -> Place | None:
    """What decides, written on a line of its own inside a call that spans several, the
    call giving no TLS argument of its own: a mode keyword of a call nested in it
    (`AsyncConnectionPool(\n conninfo=make_conninfo(\n host=…,\n sslmode="require"))`,
    held-out-s22 chuck-alt-delete), else a connection URL literal (`register_tortoise(
    app,\n db_url=f"postgres://{user}@{host}/{db}",\n ...)`, Diegojacober). The finding
    goes where it is written, the call related (the labels' place)."""
    if any(k.arg in _CALL_TLS for k in call.keywords):
        return None
    relpath = project_relpath(a, a.module.path)
    if relpath is None:
        return None
    arguments = (*call.args, *(k.value for k in call.keywords))
    modes = [m for expr in arguments for m in _nested_modes(expr) if m[1].lineno != call.lineno]
    held = [(key, value) for key, value in modes if _holds(info, key, str(value.value))]
    if len(held) == 1:
        key, value = held[0]
        return Place.at(relpath, value, f"the {key} written here")
    for expr in arguments:
        if expr.lineno != call.lineno and _url_literal(expr):
            return Place.at(relpath, expr, CONNECTION_STRING_WRITTEN)
    return None


_MAX_NESTED = 64  # nodes looked at per argument: a call's own arguments, not a program


def _nested_modes(expr: ast.expr) -> list[tuple[str, ast.Constant]]:
    """The `sslmode=`/`ssl=` string keywords of the calls nested in an argument."""
    found: list[tuple[str, ast.Constant]] = []
    for count, node in enumerate(ast.walk(expr)):
        if count > _MAX_NESTED:
            break
        if not isinstance(node, ast.Call):
            continue
        for keyword in node.keywords:
            value = keyword.value
            if (
                keyword.arg in _MODE_KEYS
                and isinstance(value, ast.Constant)
                and isinstance(value.value, str)
            ):
                found.append((keyword.arg, value))
    return found


def _url_literal(expr: ast.expr) -> bool:
    """A string or f-string whose written start is a PostgreSQL-family URL's scheme."""
    head: object = None
    if isinstance(expr, ast.Constant):
        head = expr.value
    elif isinstance(expr, ast.JoinedStr) and expr.values:
        first = expr.values[0]
        head = first.value if isinstance(first, ast.Constant) else None
    return isinstance(head, str) and known_scheme(head)


def report_at(
    a: Analysis,
    where: Place,
    rule_id: str,
    call: ast.expr,
    message: str,
    evidence: str,
    fix: str,
) -> None:
    """One finding at the written dict (maybe in another module), the call related."""
    line, column = where.line, where.column
    here = Related(
        f"{message} (this call; {where.what})", a.source.relpath, call.lineno, call.col_offset + 1
    )
    if where.what.startswith((CONNECTION_STRING_WRITTEN, SETTINGS_URL_WRITTEN)):
        a.at_written_string.add((call.lineno, call.col_offset + 1))
    for index, item in enumerate(a.findings):
        if (item.rule_id, item.path, item.line, item.column) == (
            rule_id,
            where.relpath,
            line,
            column,
        ):
            if here not in item.related:  # another world of the same call: once
                a.findings[index] = replace(item, related=(*item.related, here))
            return
    inside = where.relpath == a.source.relpath and (
        call.lineno <= line <= (call.end_lineno or call.lineno)
    )
    if inside and (call.end_lineno or call.lineno) > call.lineno:
        # written inside the call (inline_place): the call's suppressions hold
        a.spans[len(a.findings)] = (call.lineno, call.end_lineno or call.lineno)
    a.findings.append(
        finding(
            rule_id,
            f"{message} ({where.what})",
            evidence=evidence,
            fix=fix,
            path=where.relpath,
            line=line,
            column=column,
            related=(here,),
        )
    )


def reported_at_context(
    a: Analysis,
    node: ast.expr,
    scope: Scope,
    rule_id: str,
    message: str,
    evidence: str,
    fix: str,
) -> bool:
    """Class 8: a site weak only through an SSLContext is one finding, where the context
    is made unverified (the unverified factory, `verify_mode = CERT_NONE`) or loses its
    host name check, with this call as a related location: in this file or in the module
    whose helper made the context, however many calls and helpers it went through."""
    if rule_id not in ("VF103", "VF104"):
        return False
    here = Related(message, a.source.relpath, node.lineno, node.col_offset + 1)
    for inner in ast.walk(node):
        if isinstance(inner, ast.Name) and isinstance(inner.ctx, ast.Load):
            for line, _ in ssl_checks.weakened_lines(a, inner, scope):
                if ssl_checks.add_related(a, rule_id, line, [here]):
                    return True
    written = _context_weakened_at(a, node, scope, rule_id)
    if written is None:
        return False
    path, line, column = written
    relpath = project_relpath(a, Path(path))
    if relpath is None:
        return False
    if relpath == a.source.relpath and ssl_checks.add_related(a, rule_id, line, [here]):
        return True
    what = (
        "the SSLContext made unverified there"
        if rule_id == "VF103"
        else ("the SSLContext's host name check turned off there")
    )
    report_at(a, Place(relpath, line, column, what), rule_id, node, message, evidence, fix)
    return True


_CONTEXT_READS = 16  # names read in one call looked at for the context it is given
_CONTEXT_DEPTH = 3  # dicts within dicts looked into for it
# The keywords an SSLContext reaches a connection through (asyncpg's ssl, pg8000's
# ssl_context, SQLAlchemy's connect_args holding either).
_CONTEXT_ARGUMENTS = frozenset({"ssl", "ssl_context", "connect_args"})


def _context_weakened_at(
    a: Analysis, node: ast.expr, scope: Scope, rule_id: str
) -> tuple[str, int, int] | None:
    """Where the SSLContext this call is given was made unverified (VF103) or lost its
    host name check (VF104), when every context it may be given says the same place."""
    places: set[tuple[str, int, int]] = set()
    looked = 0
    # only the arguments a context is handed in: resolving every argument would ask for
    # each parameter's callers, once per call (quadratic in a module of such calls)
    given = (
        [k.value for k in node.keywords if k.arg in _CONTEXT_ARGUMENTS]
        if isinstance(node, ast.Call)
        else []
    )
    for inner in (inner for expr in given for inner in ast.walk(expr)):
        if not isinstance(inner, ast.Call) and not (
            isinstance(inner, (ast.Name, ast.Attribute)) and isinstance(inner.ctx, ast.Load)
        ):
            continue
        looked += 1
        if looked > _CONTEXT_READS:
            break
        try:
            found = a.resolver.alternatives(inner, a.place(inner, scope))
        except RecursionError:
            continue
        for option in found:
            for context in _contexts_in(option):
                at = context.unverified_at if rule_id == "VF103" else context.hostname_off_at
                places.update(at)
    return next(iter(places)) if len(places) == 1 else None


def _contexts_in(value: object, depth: int = 0) -> list[ContextValue]:
    """The SSLContexts a value is or holds as a dict's entry (`connect_args["ssl"] =
    ctx`, SQLAlchemy's connect_args inside engine options), a few levels down."""
    if isinstance(value, ContextValue):
        return [value]
    if isinstance(value, DictValue) and depth < _CONTEXT_DEPTH:
        return [c for _, item in value.items for c in _contexts_in(item, depth + 1)]
    return []
