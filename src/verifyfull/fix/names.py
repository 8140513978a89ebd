"""The names fixed code uses (`ssl`, `os`, `Guard`), chosen so they mean what the fix means.

A codemod writes `ssl.create_default_context(...)`; if the module binds `ssl` to
something else anywhere (a parameter, a local, a global, `import x as ssl`, a class
attribute, an exception name), the inserted code would raise AttributeError or worse.
Codemods therefore write placeholders (`ref("ssl")`); once the fix is planned, each
placeholder becomes the plain name when the module binds it nowhere but by its own
import at module level, else a fresh alias (`import ssl as _ssl`) that no identifier of
the module uses. One rule for every codemod: no codemod decides names on its own.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Mapping
from dataclasses import dataclass

from verifyfull.scan.python.fstrings import parse_python

# name -> the import statement that binds it to what fixed code means by it
IMPORTS = {
    "ssl": "import ssl",
    "os": "import os",
    "Guard": "from verifyfull.guard import Guard",
    # a path written into a URL's query is percent-encoded (docs/fix.md)
    "quote": "from urllib.parse import quote",
    # a Tortoise db_url only known at run time, read the way Tortoise reads it (docs/fix.md)
    "expand_db_url": "from tortoise.backends.base.config_generator import expand_db_url",
}
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def ref(name: str) -> str:
    """The placeholder a codemod writes for `name` (an identifier no module uses)."""
    return f"__verifyfull_{name}__"


@dataclass(frozen=True)
class Names:
    """What each placeholder becomes in one module."""

    chosen: Mapping[str, str]  # name -> the identifier fixed code uses for it

    def import_for(self, statement: str) -> str:
        """The import statement for `statement` (one of IMPORTS), aliased when needed."""
        for name, canonical in IMPORTS.items():
            if statement == canonical and self.chosen.get(name, name) != name:
                return f"{canonical} as {self.chosen[name]}"
        return statement

    def resolve(self, code: str) -> str:
        for name, identifier in self.chosen.items():
            code = code.replace(ref(name), identifier)
        return code


def _own_import(node: ast.stmt, name: str) -> bool:
    """`node` binds `name` only as the module fixed code means by it."""
    canonical = IMPORTS.get(name, "")
    if canonical.startswith("from "):
        return (
            isinstance(node, ast.ImportFrom)
            and node.module == canonical.split()[1]
            and node.level == 0
            and all(a.asname in (None, a.name) for a in node.names if (a.asname or a.name) == name)
            and any(a.name == name for a in node.names)
        )
    # `import ssl`, `import ssl as ssl`, `import os.path` (binds os to the os module)
    return isinstance(node, ast.Import) and all(
        (a.name == name and a.asname in (None, name))
        or (a.name.startswith(name + ".") and a.asname is None)
        for a in node.names
        if (a.asname or a.name.split(".")[0]) == name
    )


def _bound(node: ast.AST) -> tuple[str, ...]:
    """The names `node` binds in its scope (`*` for a star import: any name)."""
    if isinstance(node, ast.Name):
        return () if isinstance(node.ctx, ast.Load) else (node.id,)
    if isinstance(node, ast.arg):
        return (node.arg,)
    if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
        return (node.name,)
    if isinstance(node, ast.Import | ast.ImportFrom):
        return tuple(
            "*" if alias.name == "*" else (alias.asname or alias.name.split(".")[0])
            for alias in node.names
        )
    if isinstance(node, ast.Global | ast.Nonlocal):
        return tuple(node.names)
    if isinstance(node, ast.ExceptHandler | ast.MatchAs | ast.MatchStar):
        return (node.name,) if node.name else ()
    if isinstance(node, ast.MatchMapping):
        return (node.rest,) if node.rest else ()
    return ()


def bound_by(node: ast.AST) -> tuple[str, ...]:
    """The names `node` itself binds in its scope (`*` for a star import)."""
    return _bound(node)


def _shadowed(tree: ast.Module, name: str) -> bool:
    """Whether any scope binds `name` otherwise than the module's own import of it."""
    own = {id(node) for node in tree.body if _own_import(node, name)}
    return any(id(node) not in own and ({name, "*"} & set(_bound(node))) for node in ast.walk(tree))


def _fresh(base: str, taken: set[str]) -> str:
    candidate = f"_{base}"
    index = 1
    while candidate in taken:
        candidate = f"_{base}_{index}"
        index += 1
    return candidate


def choose(text: str) -> Names:
    """The identifier for each of IMPORTS' names in this module (the module parses)."""
    tree = parse_python(text)
    taken = set(_WORD.findall(text))
    chosen: dict[str, str] = {}
    for name in IMPORTS:
        if not _shadowed(tree, name):
            chosen[name] = name
        else:
            chosen[name] = _fresh(name, taken)
            taken.add(chosen[name])
    return Names(chosen)


def context_name(text: str) -> str:
    """A name for the SSLContext a fix builds that the module does not use (ssl_context,
    else db_ssl_context, db_ssl_context_1, …; a mere substring counts as used)."""
    for candidate in ("ssl_context", "db_ssl_context"):
        if candidate not in text:
            return candidate
    index = 1
    while f"db_ssl_context_{index}" in text:
        index += 1
    return f"db_ssl_context_{index}"
