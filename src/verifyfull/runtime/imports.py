"""Post-import hooks: run a function on a module right after it is first imported.

Enforcement wraps a driver only once the process imports it, so a process
that never uses psycopg2 never imports it. A finder on sys.meta_path answers
for the watched names only: it asks the rest of the import system for the
real spec and wraps its loader so that, after the module's code has run, the
hook patches it. Modules already imported are patched at once by the caller.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import importlib.util
import sys
import threading
from collections.abc import Callable, Sequence
from types import ModuleType
from typing import Any

Hook = Callable[[ModuleType], None]


class _HookedLoader(importlib.abc.Loader):
    """The real loader, plus the hook after exec_module."""

    def __init__(self, loader: importlib.abc.Loader, hook: Hook) -> None:
        self._loader = loader
        self._hook = hook

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        return self._loader.create_module(spec)

    def exec_module(self, module: ModuleType) -> None:
        self._loader.exec_module(module)
        self._hook(module)

    def __getattr__(self, name: str) -> Any:  # get_resource_reader, is_package, ...
        return getattr(self._loader, name)


class PostImportFinder(importlib.abc.MetaPathFinder):
    """Answers for the watched top-level names; everything else passes by."""

    def __init__(self, hooks: dict[str, Hook]) -> None:
        self.hooks = hooks
        self._busy = threading.local()  # names being looked up by this thread

    def find_spec(
        self,
        fullname: str,
        path: Sequence[str] | None,
        target: ModuleType | None = None,
    ) -> importlib.machinery.ModuleSpec | None:
        hook = self.hooks.get(fullname)
        busy: set[str] = self._busy.__dict__.setdefault("names", set())
        if hook is None or fullname in busy:
            return None
        busy.add(fullname)
        try:
            spec = importlib.util.find_spec(fullname)  # the rest of sys.meta_path
        finally:
            busy.discard(fullname)
        if spec is None or spec.loader is None:
            return None
        spec.loader = _HookedLoader(spec.loader, hook)
        return spec


def install(hooks: dict[str, Hook]) -> PostImportFinder:
    """Hook the watched modules: now if imported, else when they are."""
    finder = PostImportFinder(hooks)
    sys.meta_path.insert(0, finder)
    for name, hook in hooks.items():
        module = sys.modules.get(name)
        if module is not None:
            hook(module)
    return finder


def uninstall(finder: PostImportFinder) -> None:
    if finder in sys.meta_path:
        sys.meta_path.remove(finder)
