"""Connection sites written as a method of a library's object or as a class handed to
a registrar: the call's own qualified name does not say what it is, its receiver or
its first argument does (session 15, held-out-s15).

- `db.bind(...)` on a Pony `Database()` (bound in this scope chain, or in the project
  module the name is imported from): Pony binds as `Database(...)` with arguments does.
  (asyncpgsa's `pg.init(...)` needs none of this: its `pg` singleton is `asyncpgsa.pg`,
  a qualified name; a `PG()` of one's own is not followed.)
- `app.add_middleware(DBSessionMiddleware, ...)` and Starlette's
  `Middleware(DBSessionMiddleware, ...)`: Starlette builds `cls(app, *args, **kwargs)`,
  so the registrar's call is the middleware's (wrapper_sites.SESSION_MIDDLEWARES).

Each answer is the pseudo qualified name sites.py dispatches on (wrapper_sites).
"""

from __future__ import annotations

import ast

from verifyfull.scan.python.context import Analysis
from verifyfull.scan.python.module import ParsedModule, Scope, binding
from verifyfull.scan.python.wrapper_sites import (
    ADD_MIDDLEWARE,
    MIDDLEWARE_WRAPPERS,
    PONY_DATABASE,
    SESSION_MIDDLEWARE,
)

# method name -> (the constructors its receiver must be made by, the site's name). The
# prefilter reads these method names as words of their own (prefilter.py): the receiver
# may be imported from a project module, leaving no library word in the file.
_METHODS: dict[str, tuple[frozenset[str], str]] = {
    "bind": (PONY_DATABASE, "pony.orm.Database.bind"),
}
METHODS = frozenset(_METHODS)
# How many names a receiver is followed through (`db = database = Database()`).
_HOPS = 4


def receiver_api(a: Analysis, node: ast.Call, scope: Scope | None) -> str | None:
    """The site a method call or a middleware registration is, or None."""
    func = node.func
    registrar = (
        isinstance(func, ast.Attribute) and func.attr == ADD_MIDDLEWARE
    ) or a.module.qualname(func) in MIDDLEWARE_WRAPPERS
    if registrar and node.args:
        middleware = a.module.qualname(node.args[0])
        return middleware if middleware in SESSION_MIDDLEWARE else None
    if not isinstance(func, ast.Attribute) or func.attr not in _METHODS:
        return None
    makers, api = _METHODS[func.attr]
    made = _maker(a.module, func.value, scope or a.module.scope)
    return api if made in makers else None


def _maker(module: ParsedModule, receiver: ast.expr, scope: Scope) -> str:
    """The qualified name of the call the receiver name was last bound to ('' if none)."""
    for _ in range(_HOPS):
        if not isinstance(receiver, ast.Name):
            return ""
        bound = binding(scope, receiver.id)
        if bound is None:
            ref = module.aliases.get(receiver.id)
            found = module.find_import(ref) if ref is not None else None
            if found is None or found[1] is None:
                return ""
            module, scope = found[0], found[0].scope
            receiver = ast.Name(id=found[1])
            continue
        if isinstance(bound, ast.Call):
            return module.qualname(bound.func) or ""
        receiver = bound
    return ""
