"""A connection function handed to another call with its arguments: the call it makes.

    retry(db.set_bind, bind=DSN)                       # zorik19/bankProject
    functools.partial(psycopg2.connect, dsn, sslmode="disable")
    await asyncio.to_thread(psycopg2.connect, DSN)
    loop.run_in_executor(None, psycopg2.connect, DSN)

A wrapper that runs, retries or defers a callable calls it with the arguments it is
given after it: the connection is the call `callable(*rest, **keywords)`. It is
judged as that call, at the wrapper's place (its line, its text as evidence). Only
the first positional argument is taken as the callable (the second after a literal
None, run_in_executor's executor); builtins that do something else with a callable
(map, filter, sorted, getattr …) are not wrappers. Whether the callable is a
connection API at all is the site handlers' to say: the synthetic call is given to
them like any other, and most are none.
"""

from __future__ import annotations

import ast

_NOT_WRAPPERS = frozenset(
    {
        "map",
        "filter",
        "sorted",
        "min",
        "max",
        "getattr",
        "setattr",
        "hasattr",
        "delattr",
        "isinstance",
        "issubclass",
        "callable",
        "print",
        "repr",
        "str",
        "type",
        "id",
        "len",
        "iter",
        "next",
        "vars",
        "dir",
        "super",
        "property",
        "staticmethod",
        "classmethod",
    }
)


def inner_call(node: ast.Call) -> ast.Call | None:
    """The call a wrapper makes of the callable it is given, placed at the wrapper."""
    func = node.func
    name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
    if name in _NOT_WRAPPERS or not node.args:
        return None
    index = 0
    if isinstance(node.args[0], ast.Constant) and node.args[0].value is None:
        index = 1  # run_in_executor(None, fn, *args)
    if index >= len(node.args) or any(isinstance(a, ast.Starred) for a in node.args[: index + 1]):
        return None
    target = node.args[index]
    if not isinstance(target, ast.Name | ast.Attribute):
        return None
    inner = ast.Call(func=target, args=list(node.args[index + 1 :]), keywords=list(node.keywords))
    return ast.copy_location(inner, node)
