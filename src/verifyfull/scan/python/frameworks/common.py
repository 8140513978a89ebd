"""What every framework handler shares: judging a site through conninfo, reporting
it (VF108 when only the deployment decides), and reading values where they are written."""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterator, Mapping
from contextvars import ContextVar
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import cast

from verifyfull.conninfo import (
    ConnInfo,
    ConnStringError,
    Driver,
    redact_text,
    unreadable,
)
from verifyfull.conninfo.django_url import DJANGO_URL_SCHEMES
from verifyfull.errors import VerifyfullError
from verifyfull.findings import Related
from verifyfull.rules import RULES
from verifyfull.scan.python import callers, placement
from verifyfull.scan.python.context import Analysis
from verifyfull.scan.python.module import Scope
from verifyfull.scan.python.module import binding as binding  # re-exported for the handlers
from verifyfull.scan.python.placement import Place

# One NotASite: a framework site judged through a call handler (Flask-Migrate, aerich)
# may raise it from either module.
from verifyfull.scan.python.sites import (
    NotASite,
    Undetermined,
    _Call,
    _judge_unseen_url,
    _keyword_quote,
    _sqlalchemy,
    collect_written,
    deploy_decided,
    one_verdict,
)
from verifyfull.scan.python.sites import judge as judge_sites
from verifyfull.scan.python.values import DictValue, Text, Unknown, Value, WrittenAt

Judged = list[tuple[Driver, ConnInfo, str | None, tuple[str, ...]]]

PLACEHOLDER = "unknown"

# Every scheme Django's URL helpers read for PostgreSQL (conninfo.django_url holds
# their tables) is, for the other URL readers here, libpq's postgresql://.
_URL_SCHEMES = dict.fromkeys(DJANGO_URL_SCHEMES, "postgresql")


def site(
    a: Analysis,
    node: ast.expr,
    what: str,
    judge: Callable[[], Judged],
    places: Callable[[int], Mapping[int, Place]] | None = None,
    *,
    deploy_at: ast.expr | None = None,
    setting: ast.expr | None = None,
) -> None:
    """Judge one site: its verdicts reported at `node`, VF108 when only the deployment
    decides, a finding when its connection string cannot be read, nothing when it is
    not a PostgreSQL connection. places: given the number of readings, where a
    reading's finding goes instead (placement: the dict that lacks the key). deploy_at:
    where a VF108 goes instead (the framework call that makes the engine), `setting`
    (the value as the code sets it) then related.

    Judged once per alternative "world" of the values it reads (value_of), as
    sites.on_call judges a call: `'sslmode': 'require' if X else 'disable'` is both."""
    world, widest = 0, 1
    with one_verdict(a):
        while world < widest:
            current = _World(world)
            token = _WORLD.set(current)
            try:
                _judge_world(a, node, what, judge, places, deploy_at or node, setting)
            finally:
                _WORLD.reset(token)
            widest = max(widest, current.widest)
            world += 1


@dataclass
class _World:
    """Which of its possible values each value_of takes in this judgement (the n-th, or
    its last when it has fewer), and the most any had."""

    index: int = 0
    widest: int = 1


_WORLD: ContextVar[_World | None] = ContextVar("framework_world", default=None)


def _judge_world(
    a: Analysis,
    node: ast.expr,
    what: str,
    judge: Callable[[], Judged],
    places: Callable[[int], Mapping[int, Place]] | None,
    deploy_at: ast.expr,
    setting: ast.expr | None = None,
) -> None:
    try:
        with collect_written() as written:
            judged = judge()
    except ConnStringError as exc:
        found = unreadable(exc, redact_text(a.segment(node)))
        a.report(found.rule_id, node, found.message, evidence=found.evidence, fix=found.fix)
        return
    except Undetermined as why:
        reason = str(why)
        related = setting if deploy_at is not node else None
        deploy_decided(deploy_at, lambda: _deploy(a, deploy_at, what, reason, related))
        return
    except (NotASite, VerifyfullError, RecursionError):
        return
    where = places(len(judged)) if places is not None else None
    if not where and len(judged) == 1:
        where = _written_place(a, node, written)
    judge_sites(a, node, what, judged, None, where)  # evaluated and reported as sites.py does


def _written_place(
    a: Analysis, node: ast.expr, written: list[dict[str, WrittenAt | None]]
) -> dict[int, Place]:
    """The one reading's place when the values it read were written elsewhere (an
    environment reader's default reaching the site through a name, a config option, an
    import): what placement.written_place says for a call given them directly. Only
    when every reading the judgement made agrees on what it read."""
    distinct = {tuple(sorted(w.items(), key=lambda item: item[0])) for w in written}
    if len(distinct) != 1:
        return {}
    found = placement.written_place(a, node, written[0])
    return {0: found} if found is not None else {}


def _deploy(
    a: Analysis, node: ast.expr, what: str, why: str, setting: ast.expr | None = None
) -> None:
    """A VF108 at node; `setting`, where the setting is written when that is elsewhere
    (Flask-SQLAlchemy's `app.config["SQLALCHEMY_DATABASE_URI"] = DB_CONN` above its
    `db.init_app(app)`: held-out-s15 labels the call, held-out-s22 voteaire the line
    that sets it), related."""
    message = f"{what}: TLS is decided only where the service is deployed ({why})"
    before = len(a.findings)
    a.report("VF108", node, message, evidence=a.segment(node), fix=RULES["VF108"].fix)
    if setting is None or setting is node or len(a.findings) == before:
        return
    here = Related(
        f"{what} is set here to a value the deployment gives",
        a.source.relpath,
        setting.lineno,
        setting.col_offset + 1,
    )
    a.findings[-1] = replace(a.findings[-1], related=(*a.findings[-1].related, here))


def value_of(a: Analysis, expr: ast.expr | None, scope: Scope, at: ast.AST) -> Value:
    """The value a setting has in the world being judged (site(): each in turn)."""
    world = _WORLD.get()
    if world is None:
        return a.resolver.value(expr, a.place(at, scope))
    options = a.resolver.alternatives(expr, a.place(at, scope))
    world.widest = max(world.widest, len(options))
    return options[min(world.index, len(options) - 1)]


def engine_keywords(
    a: Analysis, options: ast.expr | None, scope: Scope, at: ast.AST, what: str
) -> dict[str, Value]:
    """create_engine's keywords from a framework's engine-options setting (Flask's
    SQLALCHEMY_ENGINE_OPTIONS, APScheduler's engine_options, Celery's
    database_engine_options): the mapping's items; none for no setting or None; an
    options value built elsewhere may carry connect_args (`what` names it)."""
    if options is None or (isinstance(options, ast.Constant) and options.value is None):
        return {}
    given = value_of(a, options, scope, at)
    if isinstance(given, DictValue):
        return dict(given.items)
    return {"connect_args": Unknown(f"{what} built elsewhere")}


def project_holds(a: Analysis, needles: tuple[bytes, ...]) -> bool:
    """Whether this module or some module of the project holds one of the needles (raw
    bytes, as a caller search: a comment counts, and an incomplete search counts as
    holding): what tells a setting's name that some code reads it."""
    root = a.module.root
    for needle in needles:
        if needle.decode() in a.source.text:
            return True
        modules, complete = callers.modules_holding(root, root, needle)
        if modules or not complete:
            return True
    return False


def written_at(a: Analysis, expr: ast.expr, scope: Scope) -> ast.expr:
    """Where a value is written: a name followed to its binding in this module (a few
    hops), so a finding sits on the literal that decides, not on each use."""
    for _ in range(8):
        if not isinstance(expr, ast.Name):
            return expr
        bindings = binding(scope, expr.id)
        if bindings is None:
            return expr
        expr = bindings
    return expr


def dict_key(node: ast.Dict, key: str) -> ast.expr | None:
    found = None
    for k, v in zip(node.keys, node.values, strict=True):
        if isinstance(k, ast.Constant) and k.value == key:
            found = v
    return found


def nested_statements(body: list[ast.stmt]) -> Iterator[ast.stmt]:
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


@lru_cache(maxsize=64)
def subscript_writes(body_owner: ast.AST) -> dict[str, list[tuple[ast.expr, ast.Assign]]]:
    """`x["key"] = value` statements of a body (and its nested blocks), by key, with
    the subscripted object: built once per body, so asking for each of n sites in
    it costs n lookups, not n walks (a scope node is hashed by identity)."""
    index: dict[str, list[tuple[ast.expr, ast.Assign]]] = {}
    for statement in nested_statements(getattr(body_owner, "body", [])):
        if not isinstance(statement, ast.Assign):
            continue
        for target in statement.targets:
            if isinstance(target, ast.Subscript) and isinstance(target.slice, ast.Constant):
                key = target.slice.value
                if isinstance(key, str):
                    index.setdefault(key, []).append((target.value, statement))
    return index


def call_argument(call: ast.Call, index: int, name: str) -> ast.expr | None:
    for keyword in call.keywords:
        if keyword.arg == name:
            return keyword.value
    return call.args[index] if len(call.args) > index else None


def libpq_text(pairs: dict[str, str]) -> str:
    """A libpq keyword string (Django's conn_params as psycopg hands them to libpq)."""
    if not pairs:
        pairs = {"dbname": "postgres"}
    return " ".join(f"{k}={_keyword_quote(v)}" for k, v in pairs.items())


def libpq_url(text: str) -> str:
    """The URL with its scheme as libpq spells it; NotASite for sqlite, mysql …"""
    scheme, sep, rest = text.partition("://")
    base = scheme.split("+", 1)[0].lower()
    if not sep or base not in _URL_SCHEMES:
        raise NotASite(f"scheme {base!r}")
    return f"{_URL_SCHEMES[base]}://{rest}"


def as_call(a: Analysis, node: ast.expr, scope: Scope) -> _Call:
    # sites' helpers take the call only for where to resolve its arguments
    return _Call(a, cast(ast.Call, node), scope)


def framework_engine(
    a: Analysis,
    at: ast.expr,
    url: Value,
    options: ast.expr | None,
    scope: Scope,
    what: str,
    *,
    options_at: ast.AST | None = None,
) -> Judged:
    """`create_engine(url, **options)` as a framework makes it from its settings
    (Flask-SQLAlchemy's URI and SQLALCHEMY_ENGINE_OPTIONS, APScheduler's url and
    engine_options): a URL of another backend is no site; the options as engine_keywords
    reads them (at `options_at`, else at `at`); a URL from the environment with
    connect_args that decide TLS alone (libpq keywords beat the URL's) is judged as
    sites.py judges create_engine itself."""
    if isinstance(url, Text) and url.known is not None:
        libpq_url(url.known)  # sqlite, mysql: not a site
    kwargs = engine_keywords(a, options, scope, options_at or at, what)
    call = as_call(a, at, scope)  # read for its unseen-URL stand-in only

    def engine(stand_in: _Call) -> Judged:
        return _sqlalchemy(stand_in, url, kwargs)

    try:
        return engine(call)
    except Undetermined as why:
        unseen = _judge_unseen_url(call, engine, "sqlalchemy.create_engine") if why.url else None
        if unseen is None:
            raise
        return unseen
