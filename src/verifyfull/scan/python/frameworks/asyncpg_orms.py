"""Piccolo and GINO: ORMs that hand their settings to asyncpg."""

from __future__ import annotations

import ast
from dataclasses import replace

from verifyfull.conninfo import (
    Driver,
    from_asyncpg_kwargs,
    parse_dsn,
)
from verifyfull.scan.python import rootfiles
from verifyfull.scan.python.context import Analysis
from verifyfull.scan.python.frameworks.common import (
    Judged,
    binding,
    call_argument,
    libpq_url,
    value_of,
)
from verifyfull.scan.python.module import Scope
from verifyfull.scan.python.sites import (
    NotASite,
    Undetermined,
    dsn_text,
    known_kwargs,
    note_connection_string,
    plain,
)
from verifyfull.scan.python.values import DictValue, Text, Unknown, Value, as_text

PICCOLO = frozenset(
    {
        "piccolo.engine.postgres.PostgresEngine",
        "piccolo.engine.PostgresEngine",
        "piccolo.engine.cockroach.CockroachEngine",
        "piccolo.engine.CockroachEngine",
    }
)


def piccolo(a: Analysis, call: ast.Call, scope: Scope) -> Judged:
    """PostgresEngine(config): asyncpg.connect(**config) and create_pool(**config)."""
    config = value_of(a, call_argument(call, 0, "config"), scope, call)
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


def is_gino(a: Analysis, func: ast.expr) -> bool:
    """`x.set_bind` where x is a Gino() object (bound here or in the project module it
    is imported from), or in a module that imports gino, or an object imported from
    code outside the tree (`from fwork.db import db`: set_bind is GINO's API, and what
    the library binds is decided there; held-out-s9)."""
    if any(ref.dotted.lstrip(".").startswith("gino") for ref in a.module.aliases.values()):
        return True
    return _gino_receiver(a, func) is not None


def _gino_receiver(a: Analysis, func: ast.expr) -> str | None:
    """ "here" for a Gino() object bound in the project, "outside" for an object imported
    from code outside the tree, None for anything else."""
    receiver = func.value if isinstance(func, ast.Attribute) else None
    if not isinstance(receiver, ast.Name):
        return None
    module, name = a.module, receiver.id
    ref = module.aliases.get(name)
    if ref is not None:
        found = module.find_import(ref)
        if found is None:
            return "outside"
        if found[1] is None:
            return None
        module, name = found[0], found[1]
    bound = binding(module.scope, name)
    made_by_gino = isinstance(bound, ast.Call) and (module.qualname(bound.func) or "").startswith(
        "gino"
    )
    return "here" if made_by_gino else None


def gino(a: Analysis, call: ast.Call, scope: Scope) -> Judged:
    """GINO's asyncpg pool gets host, port, user, database and password from the URL
    and the asyncpg keywords of the call (GinoStrategy, dialects/asyncpg.py); the
    URL's query never reaches asyncpg."""
    url = value_of(a, call_argument(call, 0, "bind"), scope, call)
    # An object of a library outside the tree may be no plain Gino: what it binds to an
    # unseen URL is decided there (VF108); a GINO object's unseen URL only says where.
    outside = _gino_receiver(a, call.func) == "outside"
    return _gino_pool(a, call, scope, url, call.keywords, unseen_url_decides=outside)


def gino_extension(a: Analysis, call: ast.Call, scope: Scope) -> Judged:
    """The web extensions' `Gino(app, dsn=…, ssl=…)` (gino-starlette and the like):
    set_bind(dsn or a URL of host/port/user/database, ssl=ssl). Without them the
    extension reads the application's config at run time: not a site here."""
    given = {k.arg: k.value for k in call.keywords if k.arg}
    if "dsn" in given:
        url = value_of(a, given["dsn"], scope, call)
    elif "host" in given:
        url = Text.of("postgresql://")
        for prefix, key, default in _GINO_URL_PARTS:
            part = as_text(value_of(a, given[key], scope, call)) if key in given else None
            url = url + Text.of(prefix) + (part or Text.of(default))
    else:
        raise NotASite("configured from the application at run time")
    tls = [k for k in call.keywords if k.arg == "ssl"]
    return _gino_pool(a, call, scope, url, tls)


_UNSEEN_URL = f"postgresql://{rootfiles.PLACEHOLDER}/{rootfiles.PLACEHOLDER}"
_GINO_URL_PARTS = (("", "user", "postgres"), ("@", "host", "localhost"), (":", "port", "5432"))
# Keywords of set_bind/create_engine that reach asyncpg and decide its TLS.
_GINO_TLS_KEYWORDS = frozenset({"ssl", "direct_tls"})


def _gino_pool(
    a: Analysis,
    call: ast.Call,
    scope: Scope,
    url_value: Value,
    keywords: list[ast.keyword],
    *,
    unseen_url_decides: bool = False,
) -> Judged:
    note_connection_string(url_value)
    try:
        url, notes_tuple = dsn_text(url_value, "the URL")
    except Undetermined as why:
        if unseen_url_decides:
            raise
        # GINO passes none of the URL's query to asyncpg: an unseen URL hides only where
        # to connect (a network host, as an unseen host keyword), and the keywords decide
        url, notes_tuple = _UNSEEN_URL, (str(why),)
    notes = list(notes_tuple)
    parsed = parse_dsn(libpq_url(url))
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
    for keyword in keywords:
        if keyword.arg is None:
            mapping.setdefault("ssl", plain(Unknown("keyword arguments passed through **"), "ssl"))
        elif keyword.arg in _GINO_TLS_KEYWORDS:
            mapping[keyword.arg] = plain(value_of(a, keyword.value, scope, call), keyword.arg)
    info = from_asyncpg_kwargs(known_kwargs(mapping, notes))
    if parsed.password is not None:
        info = replace(info, password=parsed.password)
    return [(Driver.ASYNCPG, info, None, tuple(notes))]
