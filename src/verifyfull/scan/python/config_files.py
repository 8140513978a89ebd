"""A connection value the code reads from a config file of the tree with configparser.

    config = configparser.ConfigParser()
    config.read("config.ini")
    Database(url=config.get(env, "URL"))

The URL is written in config.ini, which the config-file check judges where it is
written (issue 12 item 8: one finding where the deciding value is written). The call
is no deploy-time site of its own: its value is `Unknown(IN_TREE_FILE ...)`, which
sites.py does not turn into a VF108 when every undecided part of the site is such a
value. Only when the file is one the INI check reads (`.ini`, `.cfg`), in the tree
(relative to the project root or the module's folder: configparser reads from the
working directory), the key is a literal, and every value the key has in the
sections it may come from (the section a literal, else every section) is a
connection string the file check judges or empty (no connection); anything else
stays undecided, a VF108 as before.
"""

from __future__ import annotations

import ast
from pathlib import Path

from verifyfull.scan.inireader import read_ini
from verifyfull.scan.python.module import ParsedModule
from verifyfull.scan.python.values import Unknown

IN_TREE_FILE = "a value written in the tree's config file"
_PARSERS = frozenset({"ConfigParser", "RawConfigParser", "SafeConfigParser"})
_SUFFIXES = frozenset({".ini", ".cfg"})


def config_value(module: ParsedModule, call: ast.Call) -> Unknown | None:
    """`parser.get(section, key)` of a ConfigParser that read a file of the tree whose
    values for key the file check judges: the Unknown saying so, else None."""
    func = call.func
    if not (isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name)):
        return None
    if len(call.args) < 2 or not _is_text(call.args[1]):
        return None
    name, key = func.value.id, call.args[1].value  # type: ignore[attr-defined]
    section = call.args[0].value if _is_text(call.args[0]) else None  # type: ignore[attr-defined]
    files = _files_read(module, name)
    if not files:
        return None
    for path in files:
        values = _values(path, section, key)
        if values is None or not all(_judged_or_empty(v) for v in values):
            return None
    where = ", ".join(p.name for p in files)
    return Unknown(f"{IN_TREE_FILE} ({key} of {where}, judged where it is written)")


def _is_text(node: ast.expr) -> bool:
    return isinstance(node, ast.Constant) and isinstance(node.value, str)


def _files_read(module: ParsedModule, name: str) -> list[Path]:
    """The files `name.read("F")` reads, when `name` is bound only to a ConfigParser
    (module-wide, from the syntax); [] otherwise."""
    parser = False
    files: list[Path] = []
    for node in ast.walk(module.tree):
        if isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if any(isinstance(t, ast.Name) and t.id == name for t in targets):
                if not _makes_parser(node.value):
                    return []
                parser = True
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and isinstance(node.func.value, ast.Name)
            and node.func.value.id == name
            and node.func.attr in ("read", "read_file", "read_string", "read_dict")
        ):
            if node.func.attr != "read" or len(node.args) != 1 or not _is_text(node.args[0]):
                return []
            path = in_tree(module, node.args[0].value)  # type: ignore[attr-defined]
            if path is None:
                return []
            files.append(path)
    return files if parser else []


def _makes_parser(value: ast.expr | None) -> bool:
    if not isinstance(value, ast.Call):
        return False
    func = value.func
    called = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
    return called in _PARSERS


def in_tree(module: ParsedModule, named: str, suffixes: frozenset[str] = _SUFFIXES) -> Path | None:
    """The tree file a program reads as `named` (relative to its working directory: the
    project root or the module's folder), with one of the suffixes; None otherwise."""
    relative = Path(named)
    if relative.is_absolute() or relative.suffix.lower() not in suffixes:
        return None
    for base in (module.root, module.path.parent):
        candidate = base / relative
        try:
            if candidate.is_file() and candidate.resolve().is_relative_to(module.root.resolve()):
                return candidate
        except OSError:
            continue
    return None


def _values(path: Path, section: str | None, key: str) -> list[str] | None:
    """The key's values in the section (or every section holding it); None when the
    file is unreadable, too large, does not parse, or holds no such key (the shared
    reader, scan/inireader.py)."""
    ini = read_ini(path)
    return (ini.values_of(key, section) or None) if ini is not None else None


def _judged_or_empty(value: str) -> bool:
    # imported here: scan.config imports the Python side's modules (a cycle at load)
    from verifyfull.scan.config.dsn import looks_like_dsn

    stripped = value.strip()
    return stripped in ("", "''", '""') or looks_like_dsn(stripped)
