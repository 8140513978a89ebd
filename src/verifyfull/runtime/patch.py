"""One reversible attribute replacement (a driver function or classmethod)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

_MARK = "__verifyfull_original__"


@dataclass(frozen=True)
class Patch:
    owner: Any  # a module or a class
    name: str
    original: Any  # the attribute as found (for a classmethod: the classmethod object)
    replacement: Any

    def restore(self) -> None:
        """Put the original back, unless someone replaced our wrapper since."""
        if self.owner.__dict__.get(self.name) is self.replacement:
            setattr(self.owner, self.name, self.original)


def replace_attribute(owner: Any, name: str, make: Any) -> Patch | None:
    """owner.name = make(original); None when it is already ours (idempotent)."""
    original = owner.__dict__[name]
    target = original.__func__ if isinstance(original, classmethod) else original
    if getattr(target, _MARK, None) is not None:
        return None
    wrapper = make(target)
    setattr(wrapper, _MARK, target)
    replacement = classmethod(wrapper) if isinstance(original, classmethod) else wrapper
    setattr(owner, name, replacement)
    return Patch(owner, name, original, replacement)
