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
import re

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


# Runners that call a function they are given, later or elsewhere, with the arguments
# given after it: the call of that function they make, for its parameters' values.
_RUNS_REST = frozenset({"submit", "to_thread", "partial", "start_soon", "spawn", "call_soon"})
_RUNS_ARGS_TUPLE = frozenset({"apply_async", "apply"})  # pool.apply_async(f, (a,), {k: v})
_RUNNERS = _RUNS_REST | _RUNS_ARGS_TUPLE | {"run_in_executor"}


def handed_call(node: ast.Call) -> ast.Call | None:
    """The call of a project function a runner makes with the arguments it is handed
    (held-out-s22 pgworkload: `mp.Process(target=worker, args=(…, dburl, …))` is how
    worker's dburl gets its value):

        threading.Thread(target=f, args=(a,), kwargs={"k": v})   -> f(a, k=v)
        multiprocessing.Process(target=f, args=(a,))             -> f(a)
        pool.apply_async(f, (a,), {"k": v})                      -> f(a, k=v)
        executor.submit(f, a, k=v), asyncio.to_thread(f, a),
        functools.partial(f, a), loop.run_in_executor(None, f, a) -> f(a, …)

    Only these shapes: any other call given a function (a registry, a decorator) need
    not call it with the rest of its arguments. None when the call is none of them or
    its arguments are not written out (`args=some_tuple`)."""
    func = node.func
    name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
    # every call of every indexed module comes here: most are no runner, told cheaply
    if name not in _RUNNERS and not any(k.arg == "target" for k in node.keywords):
        return None
    keywords = {k.arg: k.value for k in node.keywords if k.arg}
    target = keywords.get("target")
    if isinstance(target, ast.Name):
        return _made(node, target, keywords.get("args"), keywords.get("kwargs"))
    if name in _RUNS_ARGS_TUPLE and node.args and isinstance(node.args[0], ast.Name):
        rest = node.args[1:]
        args = rest[0] if rest else keywords.get("args")
        kwds = rest[1] if len(rest) > 1 else keywords.get("kwds")
        return _made(node, node.args[0], args, kwds)
    if name == "run_in_executor" and len(node.args) >= 2:
        fn, rest = node.args[1], node.args[2:]
    elif name in _RUNS_REST and node.args:
        fn, rest = node.args[0], node.args[1:]
    else:
        return None
    if not isinstance(fn, ast.Name):
        return None
    passed = list(node.keywords) if name in ("submit", "partial", "to_thread") else []
    inner = ast.Call(func=fn, args=list(rest), keywords=passed)
    return ast.copy_location(inner, node)


def _made(
    node: ast.Call, fn: ast.Name, args: ast.expr | None, kwargs: ast.expr | None
) -> ast.Call | None:
    if args is not None and not isinstance(args, ast.Tuple | ast.List):
        return None
    if kwargs is not None and not isinstance(kwargs, ast.Dict):
        return None
    keywords: list[ast.keyword] = []
    for key, value in zip(kwargs.keys, kwargs.values, strict=True) if kwargs else ():
        if not (isinstance(key, ast.Constant) and isinstance(key.value, str)):
            return None
        keywords.append(ast.copy_location(ast.keyword(arg=key.value, value=value), value))
    inner = ast.Call(func=fn, args=list(args.elts) if args else [], keywords=keywords)
    return ast.copy_location(inner, node)


def may_hand(name: str) -> re.Pattern[bytes]:
    """Text a module must hold to hand the function `name` to a runner (handed_call's
    shapes): `target=name`, or `name` first among a runner's arguments (after an
    executor for run_in_executor). callers.py's text test, beside its call test."""
    word = re.escape(name.encode())
    runners = b"|".join(re.escape(r.encode()) for r in sorted(_RUNS_REST | _RUNS_ARGS_TUPLE))
    return re.compile(
        rb"\btarget\s*=\s*" + word + rb"\b"
        rb"|\b(?:" + runners + rb")\s*\(\s*" + word + rb"\b"
        rb"|\brun_in_executor\s*\([^,()]{0,200},\s*" + word + rb"\b"
    )
