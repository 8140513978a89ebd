"""Aerich's Tortoise settings: a module-level dict that a tool, not the code, connects with.

`aerich init -t app.settings.TORTOISE_ORM` writes the dotted path into
pyproject.toml (`[tool.aerich] tortoise_orm = "…"`) or aerich.ini (`[aerich]
tortoise_orm = …`); every aerich command then imports that attribute and runs
`Tortoise.init(config=<it>)` (aerich/__init__.py, Command.init). So the dict is a
Tortoise site even when no call in the code passes it. Only the attribute so
configured is one (module path and name): a `TORTOISE_ORM` that no aerich
configuration names is judged where a call passes it (sites.py).

aerich is run from the folder that holds its configuration (a service's own
`project/pyproject.toml` in a repository with compose files at the top) and puts
that folder's `src_folder` (default `./.`) on sys.path, so the dotted path names a
module below that folder (the module path matched as a suffix: `src.app.db` is
`app.db` under `src_folder = "./src"`): every folder between the module and the
scanned root is looked at (two small files, read once per folder: lru_cache).
"""

from __future__ import annotations

import ast
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import tomlkit
from tomlkit.exceptions import TOMLKitError

from verifyfull.scan.inireader import read_bounded, read_ini
from verifyfull.scan.python import placement
from verifyfull.scan.python.context import Analysis
from verifyfull.scan.python.frameworks.common import Judged, site, value_of
from verifyfull.scan.python.module import Scope
from verifyfull.scan.python.sites import _Call, _tortoise
from verifyfull.scan.python.values import Value

MAX_CONFIG_BYTES = 1_000_000
# Every Tortoise config has a "connections" and an "apps" key (Tortoise.init refuses
# one without either): the prefilter wants both words, as "connections" alone is in
# every third-party module that pools anything.
WORDS_TOGETHER = ("connections", "apps")


@dataclass
class _Settings(_Call):
    """The call aerich makes, `Tortoise.init(config=<the dict>)`, as sites judges it."""

    given: dict[str, Value] = field(default_factory=dict)

    def keywords(self) -> dict[str, Value]:
        return self.given


def is_settings_name(a: Analysis, name: str, scope: Scope) -> bool:
    """A module-level name that aerich's configuration names, in this module."""
    if not isinstance(scope.node, ast.Module):
        return False
    module_path = a.source.relpath.removesuffix(".py").removesuffix("/__init__")
    parts = module_path.split("/")
    for depth in range(len(parts)):  # the root, then each folder down to the module's
        folder = "/".join(parts[:depth])
        for module, attr in configured(str(a.ctx.root / folder) if folder else str(a.ctx.root)):
            here = ".".join(parts[depth:])
            if attr == name and (here == module or here.endswith("." + module)):
                return True
    return False


def on_assign(a: Analysis, value: ast.expr, scope: Scope) -> None:
    judged_names: list[tuple[str, ...]] = [()]

    def judge() -> Judged:
        config = value_of(a, value, scope, value)
        aerich_call = ast.Call(func=ast.Name("aerich", ast.Load()), args=[], keywords=[])
        ast.copy_location(aerich_call, value)
        settings = _Settings(a, aerich_call, scope, given={"config": config})
        try:
            return _tortoise(settings)
        finally:
            judged_names[0] = settings.connections

    def places(count: int) -> Mapping[int, placement.Place]:
        names = judged_names[0] if len(judged_names[0]) == count else ()
        return placement.missing_key_places(a, scope, value, count, names, named=True)

    # As for Tortoise.init(config=NAME) in sites.py: each connection where its entry is
    # written, so the dict and every call passing it report it once.
    site(a, value, "aerich TORTOISE_ORM", judge, places)


@lru_cache(maxsize=256)
def configured(root: str) -> frozenset[tuple[str, str]]:
    """The (module, attribute) pairs aerich is configured to import."""
    paths: list[str] = []
    base = Path(root)
    pyproject = read_bounded(base / "pyproject.toml", MAX_CONFIG_BYTES)
    if pyproject is not None:
        try:  # tomlkit: Python 3.10 has no tomllib (the file is small and read once)
            tool = tomlkit.loads(pyproject).unwrap().get("tool", {})
        except (TOMLKitError, ValueError):
            tool = {}
        setting = tool.get("aerich", {}).get("tortoise_orm") if isinstance(tool, dict) else None
        if isinstance(setting, str):
            paths.append(setting)
    ini = read_ini(base / "aerich.ini")
    if ini is not None:
        paths.append(ini.get("aerich", "tortoise_orm") or "")
    pairs = (p.strip().rpartition(".") for p in paths)
    return frozenset((module, attr) for module, _, attr in pairs if module and attr)
