"""Migration tools: yoyo's get_backend(uri) and Alembic's env.py, whose engine
gets the URL env.py writes or else the one alembic.ini holds."""

from __future__ import annotations

import ast
import configparser
from collections.abc import Callable, Iterator
from dataclasses import replace
from functools import lru_cache
from pathlib import Path

from verifyfull.conninfo import (
    Driver,
    parse_dsn,
)
from verifyfull.findings import Related
from verifyfull.rules import TRANSPORT_RULES
from verifyfull.scan.inireader import option_line, read_bounded, read_ini
from verifyfull.scan.python.context import Analysis
from verifyfull.scan.python.frameworks.common import (
    Judged,
    call_argument,
    libpq_url,
    site,
    subscript_writes,
    value_of,
    written_at,
)
from verifyfull.scan.python.frameworks.flask import project_uris
from verifyfull.scan.python.fstrings import parse_python
from verifyfull.scan.python.module import Scope
from verifyfull.scan.python.placement import project_relpath
from verifyfull.scan.python.sites import (
    SQLALCHEMY_CONFIG,
    Undetermined,
    _Call,
    _judge_unseen_url,
    _sqlalchemy,
    dsn_text,
)
from verifyfull.scan.python.values import Choice, DictValue, Text, Unknown, Value, WrittenAt

YOYO = frozenset({"yoyo.get_backend", "yoyo.connections.get_backend"})

_ALEMBIC_URL = "sqlalchemy.url"

MAX_INI_BYTES = 256_000

_INI_LEVELS = 4  # env.py sits in script_location, at most a few levels below its ini


def yoyo(a: Analysis, call: ast.Call, scope: Scope) -> Judged:
    """yoyo's PostgreSQL backends pass the URI's query to psycopg(2).connect as
    keywords, with its host, port, user and database: the libpq reading of the URI."""
    uri, notes = dsn_text(value_of(a, call_argument(call, 0, "uri"), scope, call), "the URI")
    driver = Driver.PSYCOPG if "+psycopg" in uri.split("://", 1)[0] else Driver.PSYCOPG2
    text = libpq_url(uri)
    return [(driver, parse_dsn(text), text, notes)]


def alembic_engine(a: Analysis, node: ast.Call, scope: Scope, qual: str) -> None:
    """engine_from_config(config.get_section(…)) or create_engine(config.get_main_option(
    "sqlalchemy.url")) in an env.py: the URL is the one env.py writes, or else
    alembic.ini's. Sites whose mapping or URL resolves are sites.py's."""
    first = call_argument(node, 0, "configuration" if qual in SQLALCHEMY_CONFIG else "url")
    if first is None or not alembic_judges(a, node, scope, qual):
        return
    prefix = "sqlalchemy."
    if qual in SQLALCHEMY_CONFIG:
        given = call_argument(node, 1, "prefix")
        value = value_of(a, given, scope, node) if given is not None else None
        if isinstance(value, Text) and value.known is not None:
            prefix = value.known

    def judge() -> Judged:
        call = _Call(a, node, scope)
        url = _alembic_url(a, node, first, scope, prefix)
        judged: Judged = []
        undetermined: Undetermined | None = None
        # Each value the URL may have (the Flask app's config classes) is a reading.
        for option in url.options if isinstance(url, Choice) else (url,):
            try:
                judged += _sqlalchemy(call, option, call.keywords())
            except Undetermined as why:
                # an unseen URL (a query-less template of settings fields, a whole URL
                # from the environment) is judged as at any engine call: with stand-ins,
                # when they cannot change the outcome (sites._judge_unseen_url)
                unseen = (
                    _judge_unseen_url(call, _reading(option), qual, why.queryless)
                    if why.url
                    else None
                )
                if unseen is None:
                    undetermined = undetermined or why
                else:
                    judged += unseen
        if not judged and undetermined is not None:
            raise undetermined
        return judged

    site(a, node, f"Alembic {qual.rsplit('.', 1)[-1]}()", judge)
    written = _url_place(a, node, first, scope, prefix)
    if written is not None:
        for index, item in enumerate(a.findings):
            at_call = (item.path, item.line) == (a.source.relpath, node.lineno)
            if at_call and item.rule_id in TRANSPORT_RULES and written not in item.related:
                a.findings[index] = replace(item, related=(*item.related, written))


def config_url_keyword(node: ast.Call) -> ast.expr | None:
    """The `url=` keyword of an engine_from_config-style call: SQLAlchemy updates the
    section's options with the call's keywords before it pops `url`, so this one wins."""
    name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
    if not name.endswith("engine_from_config"):
        return None
    return next((k.value for k in node.keywords if k.arg == "url"), None)


def _reading(url: Value) -> Callable[[_Call], Judged]:
    """The engine call's judgement with `url` as its URL (for the unseen stand-ins)."""
    return lambda call: _sqlalchemy(call, url, call.keywords())


def alembic_judges(a: Analysis, node: ast.Call, scope: Scope, qual: str) -> bool:
    """This engine call reads Alembic's config and is judged here, not by sites.py
    (which then leaves it to this handler instead of calling it undetermined)."""
    first = call_argument(node, 0, "configuration" if qual in SQLALCHEMY_CONFIG else "url")
    if first is None or not _reads_alembic_config(a, first, scope):
        return False
    # a mapping written in env.py: sites.py judges it
    return qual not in SQLALCHEMY_CONFIG or not isinstance(
        value_of(a, first, scope, node), DictValue
    )


def _reads_alembic_config(a: Analysis, expr: ast.expr, scope: Scope) -> bool:
    """`config.get_section(…)` / `config.get_main_option("sqlalchemy.url")`, written
    there or bound to the name passed."""
    return _reads_config(written_at(a, expr, scope))


def _alembic_url(a: Analysis, node: ast.Call, first: ast.expr, scope: Scope, prefix: str) -> Value:
    """The URL the engine gets: `section[prefix + "url"] = X` in the same body, else
    `set_main_option("sqlalchemy.url", X)` in the module, else alembic.ini's."""
    key = prefix + "url"
    override = config_url_keyword(node)
    if override is not None:  # engine_from_config(section, url=X): X, whatever the section says
        return value_of(a, override, scope, node)
    if isinstance(first, ast.Name):
        for owner, statement in subscript_writes(scope.node).get(key, []):
            mine = isinstance(owner, ast.Name) and owner.id == first.id
            if mine and statement.lineno <= node.lineno:
                return value_of(a, statement.value, scope, statement)
    written = _url_written(a.module.tree, key)
    if written is not None:
        if _flask_migrate(written, a.module.tree):
            # The migrations folder sits in the Flask project whose config holds the
            # URI; the template's `.replace('%', '%%')` is undone by configparser.
            return project_uris(a, a.source.path.parent.parent)
        return value_of(a, written, a.module.scope, written)
    return ini_url(a.source.path, a.ctx.root, key)


def _url_place(
    a: Analysis, node: ast.Call, first: ast.expr, scope: Scope, prefix: str
) -> Related | None:
    """Where the URL the engine gets is written when that is away from env.py's engine
    call: its `set_main_option` or its alembic.ini line. Listed as a related location of
    the call's finding (the finding stays at the call, where blind labellers put it nearly
    every time; a user may fix either place)."""
    key = prefix + "url"
    if config_url_keyword(node) is not None:
        return None
    if isinstance(first, ast.Name) and any(
        isinstance(owner, ast.Name) and owner.id == first.id and statement.lineno <= node.lineno
        for owner, statement in subscript_writes(scope.node).get(key, [])
    ):
        return None  # written in the engine's own function, next to it
    written = _url_written(a.module.tree, key)
    if written is not None:
        if _flask_migrate(written, a.module.tree):
            return None
        return Related(
            f"the {key} env.py sets", a.source.relpath, written.lineno, written.col_offset + 1
        )
    place = ini_url_place(a.source.path, a.ctx.root, key)
    relpath = project_relpath(a, place.path) if place is not None else None
    if place is None or relpath is None:
        return None
    return Related(
        f"the {key} of {place.what}, which env.py's engine reads", relpath, place.line, 1
    )


_HELPER_HOPS = 2  # set_main_option(…, get_engine_url()) -> get_engine() -> the extension


def _flask_migrate(expr: ast.expr, tree: ast.Module) -> bool:
    """Flask-Migrate's env.py templates: the URL is the app's engine's,
    `current_app.extensions['migrate'].db.engine.url` (or `.db.get_engine()`), written
    there or in the env.py functions it calls (get_engine_url, get_engine)."""
    functions = {
        n.name: n for n in tree.body if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)
    }
    looked: list[ast.AST] = [expr]
    for _ in range(_HELPER_HOPS + 1):
        called: list[ast.AST] = []
        for node in (inner for part in looked for inner in ast.walk(part)):
            if (
                isinstance(node, ast.Subscript)
                and isinstance(node.value, ast.Attribute)
                and node.value.attr == "extensions"
                and isinstance(node.slice, ast.Constant)
                and node.slice.value == "migrate"
            ):
                return True
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
                function = functions.pop(node.func.id, None)
                if function is not None:
                    called.append(function)
        looked = called
    return False


@lru_cache(maxsize=16)
def _url_written(tree: ast.Module, key: str) -> ast.expr | None:
    return replaced_url(tree, key=key)  # once per env.py, whatever its number of engine calls


def replaced_url(
    tree: ast.Module, *, always: bool = False, key: str = _ALEMBIC_URL
) -> ast.expr | None:
    """The X of `….set_main_option(key, X)` (or set_section_option(s, key, X)) in
    env.py; key: the option the engine reads, its `prefix` + "url" (held-out-s15
    Rufina2323: `set_section_option("alembic", "sqlmodel.url", URL)` read by
    `engine_from_config(…, prefix="sqlmodel.")`). always: only one written where it
    always runs (module level, or a function's own body: not under an if, loop or try)."""
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
        option = call.args[index]
        if isinstance(option, ast.Constant) and option.value == key:
            found = call.args[index + 1]
    return found


def ini_url(env_py: Path, root: Path, key: str = _ALEMBIC_URL) -> Value:
    """The option `key` (sqlalchemy.url, or the prefix env.py's engine reads) of the
    alembic.ini whose script_location is env.py's folder."""
    ini = _alembic_ini(env_py, root)
    if ini is None:
        return Unknown(f"the {key} of an alembic.ini not found in the tree")
    section = _alembic_section(ini)
    if section is None:
        return Unknown(f"the {key} of {ini.name}, which does not parse")
    url = _interpolated(section, key, ini)
    if url is None:
        return Unknown(f"the {key} of {ini.name}, whose %(...)s alembic cannot fill in")
    if not url or url.startswith("driver://"):
        return Unknown(f"the {key} {ini.name} leaves empty (or alembic's template)")
    return Text.of(url, (f"{key} of {ini.name}",))


def ini_url_place(env_py: Path, root: Path, key: str) -> WrittenAt | None:
    """Where the alembic.ini env.py reads writes its `key` (the file and line)."""
    ini = _alembic_ini(env_py, root)
    line = _option_line(ini, "alembic", key) if ini is not None else None
    return None if ini is None or line is None else WrittenAt(ini, line, 1, f"{ini.name}")


def _option_line(ini: Path, section: str, key: str) -> int | None:
    """The line `key = …` is written on in the ini's [section] (None: not found)."""
    text = read_bounded(ini, MAX_INI_BYTES)
    return None if text is None else option_line(text, section, key)


# alembic's Config is a ConfigParser with its default BasicInterpolation and `here` as a
# default: `sqlalchemy.url = postgresql://%(DB_USER)s:…@%(DB_HOST)s/…` takes the other
# options of the section (held-out-s14, ddi12di/workspace). Interpolation can double a
# value at each of its 10 levels, so only a section of alembic's usual size is filled in.
_MAX_INTERPOLATED_SECTION = 16_000


def _interpolated(section: dict[str, str], key: str, ini: Path) -> str | None:
    """The option as alembic's ConfigParser gives it, None when it cannot (a missing
    option, bad syntax, too deep, a section too large to expand safely)."""
    raw = section.get(key, "").strip()
    if "%" not in raw:
        return raw
    if sum(len(k) + len(v) for k, v in section.items()) > _MAX_INTERPOLATED_SECTION:
        return None
    parser = configparser.ConfigParser(defaults={"here": str(ini.parent)})
    try:
        parser.read_dict({"alembic": {k: v for k, v in section.items() if k != "here"}})
        return parser.get("alembic", key).strip()
    except (configparser.Error, ValueError):
        return None


def _alembic_ini(env_py: Path, root: Path) -> Path | None:
    folder = env_py.parent
    candidate = folder
    for _ in range(_INI_LEVELS):
        ini = candidate / "alembic.ini"
        if ini.is_file():
            location = _script_location(ini)
            if location is not None and (location == folder or Path(location).name == folder.name):
                return ini
        if candidate == root or candidate.parent == candidate:
            break
        candidate = candidate.parent
    return None


def _alembic_section(ini: Path) -> dict[str, str] | None:
    """The [alembic] section of an ini (None: unreadable, too large, not INI; the
    shared reader, scan/inireader.py, reads each file version once)."""
    parsed = read_ini(ini)
    if parsed is None:
        return None
    return dict(parsed.sections.get("alembic", {}))


def _script_location(ini: Path) -> Path | None:
    section = _alembic_section(ini)
    if section is None:
        return None
    location = section.get("script_location", "").strip()
    if not location:
        return None
    location = location.replace("%(here)s", str(ini.parent)).split(":")[-1]
    path = Path(location)
    return path if path.is_absolute() else (ini.parent / path)


def env_py_decides_url(ini: Path) -> bool:
    """Whether the ini's own URL needs no transport finding of its own: its env.py
    always writes sqlalchemy.url itself (the ini's never reaches a connection), or
    writes none and makes its engine from the config, where alembic_engine judges the
    ini's URL once, at the engine call (issue 12 item 6: not one finding per file)."""
    location = _script_location(ini)
    if location is None:
        return False
    env_py = location / "env.py"
    try:
        if env_py.stat().st_size > MAX_INI_BYTES:
            return False
        tree = parse_python(env_py.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, SyntaxError, ValueError, RecursionError, MemoryError):
        return False
    if replaced_url(tree, always=True) is not None or not consults_ini_url(tree):
        return True
    if replaced_url(tree) is not None:
        return False
    reads_ini, overrides = _engine_from_config(tree)
    return reads_ini or overrides


# What env.py may do with Alembic's config that cannot read the ini's sqlalchemy.url.
_CONFIG_NAME_ONLY = frozenset(
    {
        "config_file_name",
        "config_ini_section",
        "set_main_option",
        "set_section_option",
        "attributes",
        "cmd_opts",
        "print_stdout",
        "get_template_directory",
    }
)
# Readers of the ini's options: any of these may give the URL to a connection.
_CONFIG_READERS = frozenset({"get_section", "get_section_option", "file_config"})


def consults_ini_url(tree: ast.Module) -> bool:
    """Whether env.py may read alembic.ini's sqlalchemy.url (read from the syntax).

    It does when it calls a reader of the ini's options (`get_section`,
    `get_section_option`, `file_config`, `get_main_option` of that key or of a key
    not written as a literal), makes an engine from a config (`engine_from_config`),
    or hands Alembic's config object (`context.config`, or a name bound to it) to
    anything but the attributes above (a helper given the config may read it). An
    env.py that connects through the app's own engine and only does
    `fileConfig(config.config_file_name)` never does: the ini's URL reaches no
    connection (issue 12: a setting nobody reads is not live)."""
    config_names = {"config"}
    parents: dict[int, ast.AST] = {}
    for node in ast.walk(tree):
        for child in ast.iter_child_nodes(node):
            parents[id(child)] = node
        if isinstance(node, ast.Assign) and _is_context_config(node.value):
            config_names.update(t.id for t in node.targets if isinstance(t, ast.Name))
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr in _CONFIG_READERS:
            return True
        if isinstance(node, ast.Call) and _call_name(node) in _ENGINE_FROM_CONFIG:
            return True
        if isinstance(node, ast.Attribute) and node.attr == "get_main_option":
            call = parents.get(id(node))
            key = call.args[0] if isinstance(call, ast.Call) and call.args else None
            if not (isinstance(key, ast.Constant) and key.value != _ALEMBIC_URL):
                return True
        is_config = (isinstance(node, ast.Name) and node.id in config_names) or (
            _is_context_config(node)
        )
        if is_config and _hands_on(node, parents):
            return True
    return False


_ENGINE_FROM_CONFIG = frozenset({"engine_from_config", "async_engine_from_config"})


def _is_context_config(node: ast.AST) -> bool:
    return (
        isinstance(node, ast.Attribute)
        and node.attr == "config"
        and isinstance(node.value, ast.Name)
        and node.value.id == "context"
    )


def _call_name(node: ast.Call) -> str:
    func = node.func
    return func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")


def _hands_on(node: ast.AST, parents: dict[int, ast.AST]) -> bool:
    """The config object used other than through an attribute that cannot read the URL
    (or bound to a name, whose uses are looked at in their turn)."""
    parent = parents.get(id(node))
    if isinstance(parent, ast.Attribute) and parent.value is node:
        return parent.attr not in _CONFIG_NAME_ONLY and parent.attr != "get_main_option"
    if isinstance(parent, ast.Assign) and parent.value is node:
        return not all(isinstance(t, ast.Name) for t in parent.targets)
    return not (isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store | ast.Del))


_ENGINE_CALLS = frozenset(
    {"engine_from_config", "async_engine_from_config", "create_engine", "create_async_engine"}
)


def _engine_from_config(tree: ast.Module) -> tuple[bool, bool]:
    """(an engine call in env.py given `config.get_section(…)` or
    `config.get_main_option("sqlalchemy.url")`, there or through a name bound to it;
    an engine_from_config call whose `url=` keyword replaces the section's URL), read
    from the syntax: the ini check has no analysis of env.py."""
    bound: dict[str, ast.expr] = {}
    calls: list[ast.Call] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target = node.targets[0]
            if isinstance(target, ast.Name):
                bound[target.id] = node.value
        elif isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if name in _ENGINE_CALLS:
                calls.append(node)
    overrides = False
    for call in calls:
        if config_url_keyword(call) is not None:
            overrides = True  # the ini's URL never reaches this engine
            continue
        first = call.args[0] if call.args else None
        for keyword in call.keywords:
            if keyword.arg in ("configuration", "url"):
                first = keyword.value
        if isinstance(first, ast.Name):
            first = bound.get(first.id)
        if _reads_config(first):
            return True, overrides
    return False, overrides


def _reads_config(expr: ast.expr | None) -> bool:
    if not isinstance(expr, ast.Call) or not isinstance(expr.func, ast.Attribute):
        return False
    if expr.func.attr == "get_section":
        return True
    first = expr.args[0] if expr.args else None
    return (
        expr.func.attr == "get_main_option"
        and isinstance(first, ast.Constant)
        and first.value == _ALEMBIC_URL
    )
