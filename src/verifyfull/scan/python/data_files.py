"""A connection value the code loads from a YAML, JSON or TOML file of the tree.

    with open("config.yml") as stream:
        config = yaml.safe_load(stream)
    DB_CONFIG = config.get("database")          # held-out-s23 abondar's settings.py
    asyncpg.connect(DSN.format(**DB_CONFIG))

The loader's result is the file's data: its mappings, lists, strings and numbers, as
the resolver's values, so a connection the code builds from them is judged as if they
were written in the code (the site is where they are used, as the labels have it).
Only a file named by a literal (`open("config.yml")`, `Path("config.json")
.read_text()`), found in the tree from the project root or the module's folder (the
program reads it from its working directory), with a suffix its loader reads, of at
most MAX_FILE_BYTES; its data is converted to at most MAX_NODES values (YAML aliases
expand as they are met, each counted: a billion-laughs file stops at the bound) and
MAX_DEPTH levels. Anything else, or a file that does not parse, leaves the value
unknown, as before.
"""

from __future__ import annotations

import ast
import json
import re

import yaml

from verifyfull.scan.python.config_files import in_tree
from verifyfull.scan.python.module import ParsedModule
from verifyfull.scan.python.values import Const, DictValue, ListValue, Text, Unknown, Value
from verifyfull.scrub import register_secret

MAX_FILE_BYTES = 256_000
MAX_NODES = 4_000
MAX_DEPTH = 32

# keys whose string values are secrets (registered with the redaction layer)
_SECRET_KEY = re.compile(r"pass|pwd|secret|token|credential|private", re.IGNORECASE)
# loader -> (what it takes: a stream or a text, the suffixes it reads)
_STREAM = "stream"
_TEXT = "text"
_YAML = frozenset({".yml", ".yaml"})
LOADERS: dict[str, tuple[str, frozenset[str]]] = {
    **{f"yaml.{n}": (_STREAM, _YAML) for n in ("safe_load", "load", "full_load", "unsafe_load")},
    "json.load": (_STREAM, frozenset({".json"})),
    "json.loads": (_TEXT, frozenset({".json"})),
    "tomllib.load": (_STREAM, frozenset({".toml"})),
    "tomllib.loads": (_TEXT, frozenset({".toml"})),
    "toml.load": (_STREAM, frozenset({".toml"})),
    "toml.loads": (_TEXT, frozenset({".toml"})),
}


def opened_file(expr: ast.expr, wants: str) -> str | None:
    """The file name a loader's argument reads, when written as a literal: `open("F")`
    (or `open(Path("F"))`) for a stream, `open("F").read()` / `Path("F").read_text()`
    for a text; None otherwise."""
    if not isinstance(expr, ast.Call):
        return None
    func = expr.func
    if wants == _TEXT:
        if isinstance(func, ast.Attribute) and func.attr in ("read", "read_text"):
            inner = func.value
            if func.attr == "read":
                return opened_file(inner, _STREAM)
            if isinstance(inner, ast.Call) and _named(inner.func) == "Path" and inner.args:
                return _literal(inner.args[0])
        return None
    if _named(func) != "open" or not expr.args:
        return None
    target = expr.args[0]
    if isinstance(target, ast.Call) and _named(target.func) == "Path" and target.args:
        target = target.args[0]
    return _literal(target)


def loaded(module: ParsedModule, loader: str, named: str) -> Value:
    """The data of the tree file `named` as `loader` reads it, or Unknown saying why."""
    _, suffixes = LOADERS[loader]
    path = in_tree(module, named, suffixes)
    if path is None:
        return Unknown(f"{loader}() of {named!r}, not a file of the tree")
    try:
        raw = path.read_bytes()[: MAX_FILE_BYTES + 1]
    except OSError:
        return Unknown(f"{loader}() of {named!r}, which cannot be read")
    if len(raw) > MAX_FILE_BYTES:
        return Unknown(f"{loader}() of {named!r}, over {MAX_FILE_BYTES:,} bytes")
    try:
        text = raw.decode("utf-8")
        if path.suffix.lower() in _YAML:
            data = yaml.safe_load(text)  # safe whatever loader the code uses: data only
        elif path.suffix.lower() == ".json":
            data = json.loads(text)
        else:
            data = _toml(text)
    except (UnicodeDecodeError, yaml.YAMLError, ValueError, RecursionError):
        return Unknown(f"{loader}() of {named!r}, which does not parse")
    budget = [MAX_NODES]
    value = _converted(data, budget, 0)
    if budget[0] < 0:
        return Unknown(f"{loader}() of {named!r}, over {MAX_NODES:,} values")
    return value


def _converted(data: object, budget: list[int], depth: int) -> Value:
    budget[0] -= 1
    if budget[0] < 0 or depth > MAX_DEPTH:
        budget[0] = -1
        return Unknown("a value too deep in the file")
    if isinstance(data, str):
        return Text.of(data)
    if isinstance(data, bool | int | float) or data is None:
        return Const(data)
    if isinstance(data, dict):
        for key, item in data.items():
            if isinstance(item, str) and item and _SECRET_KEY.search(str(key)):
                register_secret(item)  # a password the values carry: masked in every output
        items = tuple(
            (str(k), _converted(v, budget, depth + 1)) for k, v in data.items() if budget[0] >= 0
        )
        return DictValue(items, budget[0] >= 0)
    if isinstance(data, list):
        return ListValue(tuple(_converted(v, budget, depth + 1) for v in data if budget[0] >= 0))
    return Unknown(f"a {type(data).__name__} of the file")


def _toml(text: str) -> object:
    """The TOML check's reader (tomllib, tomlkit before Python 3.11), imported when
    called: the config checks' package imports this one's neighbours at its import."""
    from verifyfull.scan.config.model import ConfigParseError
    from verifyfull.scan.config.toml import load

    try:
        return load(text)
    except ConfigParseError as exc:
        raise ValueError(exc) from None


def _named(func: ast.expr) -> str:
    return func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")


def _literal(expr: ast.expr) -> str | None:
    if isinstance(expr, ast.Constant) and isinstance(expr.value, str) and expr.value:
        return expr.value
    return None
