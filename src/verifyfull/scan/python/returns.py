"""The returns of a function as its syntax gives them, with the `if` tests each sits
under, and its parameters' defaults: what resolve.Resolver needs to follow a call in
its context (issue 12 class 3), read from the AST alone."""

from __future__ import annotations

import ast
from functools import lru_cache

Function = ast.FunctionDef | ast.AsyncFunctionDef
Guard = tuple[ast.expr, bool]  # an `if` test and whether the return is in its body


@lru_cache(maxsize=512)
def guarded_returns(
    function: Function,
) -> tuple[tuple[int, ast.expr, tuple[Guard, ...]], ...]:
    """Each `return X` of a function with the `if` tests it sits under (nested
    functions and classes are not its returns)."""
    found: list[tuple[int, ast.expr, tuple[Guard, ...]]] = []

    def visit(body: list[ast.stmt], guards: tuple[Guard, ...]) -> None:
        for statement in body:
            if isinstance(statement, ast.Return) and statement.value is not None:
                found.append((statement.lineno, statement.value, guards))
            elif isinstance(statement, ast.If):
                visit(statement.body, (*guards, (statement.test, True)))
                visit(statement.orelse, (*guards, (statement.test, False)))
                # `if c: return a` then `return b`: what follows runs only when the
                # arm that always leaves did not
                if leaves(statement.body) and not leaves(statement.orelse):
                    guards = (*guards, (statement.test, False))
                elif leaves(statement.orelse) and not leaves(statement.body):
                    guards = (*guards, (statement.test, True))
            elif isinstance(statement, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                continue
            else:
                for field in ("body", "orelse", "finalbody"):
                    visit(getattr(statement, field, []), guards)
                for handler in getattr(statement, "handlers", []):
                    visit(handler.body, guards)
                for case in getattr(statement, "cases", []):
                    visit(case.body, guards)

    visit(function.body, ())
    return tuple(found)


def leaves(body: list[ast.stmt]) -> bool:
    """Whether a block always returns or raises (its last statement does, or is an
    if/else both of whose arms do)."""
    if not body:
        return False
    last = body[-1]
    if isinstance(last, ast.Return | ast.Raise):
        return True
    return isinstance(last, ast.If) and leaves(last.body) and leaves(last.orelse)


def parameters(function: Function) -> set[str]:
    args = function.args
    return {a.arg for a in (*args.posonlyargs, *args.args, *args.kwonlyargs)}


def default(function: Function, name: str) -> ast.expr | None:
    args = function.args
    positional = [*args.posonlyargs, *args.args]
    with_default = positional[len(positional) - len(args.defaults) :]
    for arg, default in zip(with_default, args.defaults, strict=True):
        if arg.arg == name:
            return default
    for arg, kw_default in zip(args.kwonlyargs, args.kw_defaults, strict=True):
        if arg.arg == name:
            return kw_default
    return None


def is_static(function: Function) -> bool:
    return any(isinstance(d, ast.Name) and d.id == "staticmethod" for d in function.decorator_list)


def top_level(init: Function, attr: ast.Attribute) -> bool:
    """`self.x = …` written directly in __init__'s body (always run when it returns)."""
    for statement in init.body:
        if isinstance(statement, ast.Assign | ast.AnnAssign):
            targets = statement.targets if isinstance(statement, ast.Assign) else [statement.target]
            for target in targets:
                if isinstance(target, ast.Attribute) and target.attr == attr.attr:
                    return True
    return False
