"""Where fixed code reads its certificate files: a pydantic Settings class the project has.

`create_async_engine(settings.DATABASE_URL)` reads its URL from a pydantic
`BaseSettings` object; the CA file the fix needs belongs beside it. When a reported
call of a module reads an argument through such an object (`settings`, bound once at
module level: imported from a project module, `Settings()`, or a helper returning
`Settings()`), the class gains the fields (`DB_CA_PATH: str = ""`, the certificate and
key likewise, in the case its own fields use) and the generated code reads them from the
same object, so a value set in the `.env` pydantic reads is seen too. pydantic reads
the field from the environment variable of its name with the class's `env_prefix`
(upper-cased unless `case_sensitive`): that is the name a missing root's error gives.

`str = ""` and not `str | None = None`: pydantic evaluates the annotation, which
`str | None` breaks on Python 3.9; "" is libpq's "none given" and falsy for the checks.

Without such an object (or with `--use-guard`) fixed code reads the process environment
as before (python_fixes.ENV_NAMES).
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import libcst as cst

from verifyfull.fix import names
from verifyfull.fix.origins import imported, top_imports
from verifyfull.scan.python.fstrings import parse_python

ROLES = (("root", "DB_CA_PATH"), ("cert", "DB_CERT_PATH"), ("key", "DB_KEY_PATH"))
_SETTINGS_MODULES = frozenset(
    {"pydantic", "pydantic_settings", "pydantic.v1", "pydantic.env_settings"}
)
_DEPTH = 4  # imports and helpers followed to find the class
_COMMENTS = {
    "root": "  # the database server's CA certificate (verify-full)",
    "cert": "  # client certificate and key, only where one is used",
}


@dataclass(frozen=True)
class SettingsSource:
    obj: str  # the module-level name the fixed module reads settings through
    relpath: str  # the module that defines the class (relative to the project root)
    class_name: str
    fields: tuple[tuple[str, str], ...]  # role -> field name
    env: tuple[tuple[str, str], ...]  # role -> the environment variable pydantic reads
    missing: tuple[str, ...]  # roles whose field the class does not have yet

    def field(self, role: str) -> str:
        return dict(self.fields)[role]

    def variable(self, role: str) -> str:
        return dict(self.env)[role]

    def reads(self) -> dict[str, str]:
        """Code of each field read -> the variable it comes from."""
        return {f"{self.obj}.{name}": self.variable(role) for role, name in self.fields}


@dataclass(frozen=True)
class _Class:
    relpath: str
    node: ast.ClassDef
    tree: ast.Module


def _is_settings_class(tree: ast.Module, node: ast.ClassDef, depth: int = 0) -> bool:
    imported = {
        alias.asname or alias.name
        for stmt in tree.body
        if isinstance(stmt, ast.ImportFrom) and stmt.module in _SETTINGS_MODULES
        for alias in stmt.names
        if alias.name == "BaseSettings"
    }
    modules = {
        alias.asname or alias.name
        for stmt in tree.body
        if isinstance(stmt, ast.Import)
        for alias in stmt.names
        if alias.name in _SETTINGS_MODULES
    }
    local = {s.name: s for s in tree.body if isinstance(s, ast.ClassDef)}
    for base in node.bases:
        if isinstance(base, ast.Name) and base.id in imported:
            return True
        if (
            isinstance(base, ast.Attribute)
            and base.attr == "BaseSettings"
            and isinstance(base.value, ast.Name)
            and base.value.id in modules
        ):
            return True
        parent = local.get(base.id) if isinstance(base, ast.Name) else None
        if parent is not None and depth < _DEPTH and _is_settings_class(tree, parent, depth + 1):
            return True
    return False


def _relpath(root: Path, path: Path) -> str:
    return path.resolve().relative_to(root.resolve()).as_posix()


def _class_of(
    root: Path, path: Path, tree: ast.Module, expr: ast.expr, depth: int = 0
) -> _Class | None:
    """The settings class whose instance `expr` (in the module at `path`) is."""
    if depth > _DEPTH:
        return None
    imports = top_imports(tree)
    if isinstance(expr, ast.Name):  # a name: what it is bound to, here or where imported
        if expr.id in imports:
            found = imported(root, path, imports, expr.id)
            if found is None:
                return None
            return _class_of(root, found[0], found[1], ast.Name(found[2]), depth + 1)
        value = _module_value(tree, expr.id)
        return _class_of(root, path, tree, value, depth + 1) if value is not None else None
    if not isinstance(expr, ast.Call) or not isinstance(expr.func, ast.Name):
        return None
    callee = expr.func.id
    for stmt in tree.body:
        if isinstance(stmt, ast.ClassDef) and stmt.name == callee:
            if _is_settings_class(tree, stmt):
                return _Class(_relpath(root, path), stmt, tree)
            return None
        if isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef) and stmt.name == callee:
            returns = [n.value for n in ast.walk(stmt) if isinstance(n, ast.Return) and n.value]
            classes = {_class_of(root, path, tree, r, depth + 1) for r in returns}
            return classes.pop() if len(classes) == 1 else None
    found = imported(root, path, imports, callee)  # a class or helper of another module
    if found is None:
        return None
    return _class_of(root, found[0], found[1], ast.Call(ast.Name(found[2]), [], []), depth + 1)


def _module_value(tree: ast.Module, name: str) -> ast.expr | None:
    """The value of `name`'s one module-level assignment (None: none, or several)."""
    values = [
        stmt.value
        for stmt in tree.body
        if isinstance(stmt, ast.Assign | ast.AnnAssign)
        and stmt.value is not None
        and any(
            isinstance(t, ast.Name) and t.id == name
            for t in (stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target])
        )
    ]
    return values[0] if len(values) == 1 else None


def _binds(stmt: ast.AST) -> set[str]:
    return {name for node in ast.walk(stmt) for name in names.bound_by(node)}


def _bound_once(tree: ast.Module, name: str) -> bool:
    """`name` is bound once, at module level, and nowhere else in the module (the code the
    fix writes, at any depth, then reads that object)."""
    everywhere = [node for node in ast.walk(tree) if name in names.bound_by(node)]
    return len(everywhere) == 1 and any(name in _binds(stmt) for stmt in tree.body)


def _fields(tree: ast.Module, node: ast.ClassDef, depth: int = 0) -> list[str]:
    """The class's fields, its in-module bases' included."""
    own = [
        stmt.target.id
        for stmt in node.body
        if isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name)
    ]
    local = {s.name: s for s in tree.body if isinstance(s, ast.ClassDef)}
    for base in node.bases:
        parent = local.get(base.id) if isinstance(base, ast.Name) else None
        if parent is not None and depth < _DEPTH:
            own += _fields(tree, parent, depth + 1)
    return own


def _config(tree: ast.Module, node: ast.ClassDef, depth: int = 0) -> dict[str, object]:
    """env_prefix and case_sensitive as the class sets them: class keywords, pydantic 2's
    `model_config = SettingsConfigDict(...)` or `{...}`, pydantic 1's `class Config`
    (an in-module base's settings first, the class's own over them)."""
    out: dict[str, object] = {}
    local = {s.name: s for s in tree.body if isinstance(s, ast.ClassDef)}
    for base in node.bases:
        parent = local.get(base.id) if isinstance(base, ast.Name) else None
        if parent is not None and depth < _DEPTH:
            out.update(_config(tree, parent, depth + 1))
    pairs: list[tuple[str | None, ast.expr]] = [(k.arg, k.value) for k in node.keywords]
    for stmt in node.body:
        if isinstance(stmt, ast.Assign | ast.AnnAssign) and stmt.value is not None:
            targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
            if any(isinstance(t, ast.Name) and t.id == "model_config" for t in targets):
                value = stmt.value
                if isinstance(value, ast.Call):
                    pairs += [(k.arg, k.value) for k in value.keywords]
                elif isinstance(value, ast.Dict):
                    pairs += [
                        (
                            k.value
                            if isinstance(k, ast.Constant) and isinstance(k.value, str)
                            else None,
                            v,
                        )
                        for k, v in zip(value.keys, value.values, strict=True)
                        if k is not None
                    ]
        if isinstance(stmt, ast.ClassDef) and stmt.name == "Config":
            for inner in stmt.body:
                if isinstance(inner, ast.Assign) and isinstance(inner.targets[0], ast.Name):
                    pairs.append((inner.targets[0].id, inner.value))
    for key, value in pairs:
        if key in {"env_prefix", "case_sensitive"} and isinstance(value, ast.Constant):
            out[key] = value.value
    return out


def _reads_through(tree: ast.Module, name: str, lines: Iterable[int]) -> bool:
    """A reported call passes something read through `name` (`name.DATABASE_URL`)."""
    wanted = set(lines)
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call) or node.end_lineno is None:
            continue
        if not any(node.lineno <= n <= node.end_lineno for n in wanted):
            continue
        arguments: list[ast.expr] = [*node.args, *(k.value for k in node.keywords)]
        for argument in arguments:
            if any(isinstance(n, ast.Name) and n.id == name for n in ast.walk(argument)):
                return True
    return False


def find(root: Path, relpath: str, text: str, lines: Sequence[int]) -> SettingsSource | None:
    """The settings object a reported call of `relpath` reads through, if it is one."""
    try:
        tree = parse_python(text)
    except (SyntaxError, ValueError, RecursionError):
        return None
    path = root / relpath
    candidates = sorted(
        {
            name
            for stmt in tree.body
            if isinstance(stmt, ast.Assign | ast.AnnAssign | ast.ImportFrom)
            for name in _binds(stmt)
        }
    )
    first = min(lines, default=0)
    for name in candidates:
        if not _reads_through(tree, name, lines) or not _bound_once(tree, name):
            continue
        if not any(name in _binds(stmt) and stmt.lineno < first for stmt in tree.body):
            continue  # the fix's code before the call must find it bound
        try:
            found = _class_of(root, path, tree, ast.Name(name))
        except (ValueError, OSError):
            found = None
        if found is None or not _plain_file(root / found.relpath):
            continue
        return _source(name, found)
    return None


def _plain_file(path: Path) -> bool:
    """Not a link (the class's module is written by the fix, as any fixed file)."""
    try:
        return not path.is_symlink() and path.stat().st_nlink == 1
    except OSError:
        return False


def _source(obj: str, found: _Class) -> SettingsSource:
    existing = _fields(found.tree, found.node)
    config = _config(found.tree, found.node)
    sensitive = config.get("case_sensitive") is True
    prefix = str(config.get("env_prefix") or "")
    lower = bool(existing) and sum(f.islower() for f in existing) * 2 > len(existing)
    fields, env, missing = [], [], []
    for role, base in ROLES:
        wanted = base.lower() if lower else base
        same = [
            f for f in existing if f == wanted or (not sensitive and f.lower() == wanted.lower())
        ]
        field = same[0] if same else wanted
        if not same:
            missing.append(role)
        fields.append((role, field))
        variable = prefix + field
        env.append((role, variable if sensitive else variable.upper()))
    return SettingsSource(
        obj, found.relpath, found.node.name, tuple(fields), tuple(env), tuple(missing)
    )


# -- the generated code, read from the settings object ---------------------------------

_OS = re.escape(names.ref("os"))
_Q = r"""(["'])"""


def _read(variable: str, *, default: bool) -> re.Pattern[str]:
    """A generated read of `variable` (placeholders mark what the fix wrote)."""
    if default:
        return re.compile(rf"{_OS}\.environ\.get\({_Q}{variable}\1, \1\1\)")
    return re.compile(rf"{_OS}\.environ(?:\.get\({_Q}{variable}\1\)|\[{_Q}{variable}\2\])")


def rewrite(code: str, source: SettingsSource) -> str:
    """Generated environment reads of the certificate files read from the settings object
    instead; the missing root's error names the variable pydantic reads it from."""
    root, cert, key = (f"{source.obj}.{source.field(role)}" for role, _ in ROLES)
    check = re.compile(
        rf"if not {_OS}\.environ\.get\({_Q}DB_CA_PATH\1\):(\s+)raise RuntimeError\("
        r"\"DB_CA_PATH is not set: the database server's CA certificate\"\)"
    )
    message = f"{source.variable('root')} is not set: the database server's CA certificate"
    code = check.sub(lambda m: f"if not {root}:{m.group(2)}raise RuntimeError({message!r})", code)
    code = _read("DB_CA_PATH", default=False).sub(root, code)
    code = _read("DB_CERT_PATH", default=True).sub(cert, code)
    code = _read("DB_CERT_PATH", default=False).sub(cert, code)
    code = _read("DB_KEY_PATH", default=True).sub(key, code)
    # load_cert_chain's keyfile: None when unset (the key is in the certificate file)
    return _read("DB_KEY_PATH", default=False).sub(f"{key} or None", code)


def class_line(text: str, class_name: str) -> int:
    """The line of the module-level class `class_name` (1 when it cannot be told)."""
    try:
        tree = parse_python(text)
    except (SyntaxError, ValueError, RecursionError):
        return 1
    found = [s.lineno for s in tree.body if isinstance(s, ast.ClassDef) and s.name == class_name]
    return found[0] if found else 1


def with_fields(text: str, source: SettingsSource) -> str:
    """The settings module with the class's missing fields added after its last field."""
    if not source.missing:
        return text
    module = cst.parse_module(text)
    added = [
        cst.parse_statement(f'{source.field(role)}: str = ""{_COMMENTS.get(role, "")}\n')
        for role, _ in ROLES
        if role in source.missing
    ]
    body = list(module.body)
    for index, stmt in enumerate(body):
        if not (
            isinstance(stmt, cst.ClassDef)
            and stmt.name.value == source.class_name
            and isinstance(stmt.body, cst.IndentedBlock)
        ):
            continue
        inner = list(stmt.body.body)
        fields = [
            at
            for at, line in enumerate(inner)
            if isinstance(line, cst.SimpleStatementLine)
            and any(isinstance(s, cst.AnnAssign | cst.Assign) for s in line.body)
        ]
        at = fields[-1] + 1 if fields else 0
        inner[at:at] = added
        body[index] = stmt.with_changes(body=stmt.body.with_changes(body=inner))
        return module.with_changes(body=body).code
    return text
