"""The work one file's value resolution may do: memoised, cycle-safe, and bounded.

A value is resolved by following names to their bindings, calls to the function's
return, attributes to class fields and imports to other modules. Without memory a
call graph such as `f16() = f15() + f15() + f15()` is followed 3**16 times (minutes
and gigabytes for a file of a few hundred bytes). Here each (expression, place) is
resolved once; a definition reached again while it is being resolved is a cycle; a
file has a budget of resolution steps, and what is left when it runs out is not
judged and is reported as such (check.py), never silently dropped.

A result is kept only when it does not depend on where the resolution came from:
a cycle cut at a definition entered *outside* the expression's own resolution, or
the depth limit, make it depend on the path. The first is never kept; a result cut
by depth is kept for resolutions at that depth or deeper (they would be cut at
least as much), so every (expression, place) is resolved at most once per depth.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass

from verifyfull.scan.python.values import Value

# Resolution steps per file: BASE_STEPS, plus STEPS_PER_BYTE for each byte of source.
# Real code needs a few steps per byte at most (measured on this project's
# site-packages, docs/scan.md); a step is a few microseconds.
BASE_STEPS = 200_000
STEPS_PER_BYTE = 4
BUDGET_EXCEEDED = "analysis budget exceeded"

_NEVER = 1 << 30


def budget_for(size: int) -> int:
    """The step budget of a file of `size` bytes: linear in the file, so the time a
    file can take is too."""
    return BASE_STEPS + STEPS_PER_BYTE * size


@dataclass(frozen=True)
class _Entry:
    value: Value
    valid_from: int  # the shallowest depth the value holds for (0: every depth)
    anchor: object  # keeps the expression and its place alive: the key holds their ids


@dataclass(frozen=True)
class Mark:
    """What begin() saved of the enclosing resolution."""

    low: int
    shallow: bool
    base: int


class Effort:
    def __init__(self, budget: int = BASE_STEPS) -> None:
        self.budget = budget
        self.steps = 0
        self.exceeded = False
        self._memo: dict[Hashable, _Entry] = {}
        self._active: dict[Hashable, int] = {}  # definition -> its position on the stack
        self._low = _NEVER  # the outermost definition a cycle was cut at, this resolution
        self._shallow = False  # whether the depth limit cut this resolution

    def recall(self, key: Hashable, depth: int) -> Value | None:
        entry = self._memo.get(key)
        if entry is None or depth < entry.valid_from:
            return None
        return entry.value

    def spend(self) -> bool:
        """One resolution step; False once the budget is spent."""
        if self.steps >= self.budget:
            self.exceeded = True
            return False
        self.steps += 1
        return True

    def begin(self) -> Mark:
        mark = Mark(self._low, self._shallow, len(self._active))
        self._low, self._shallow = _NEVER, False
        return mark

    def end(self, mark: Mark, key: Hashable, value: Value, depth: int, anchor: object) -> None:
        low, shallow = self._low, self._shallow
        self._low = min(mark.low, low)
        self._shallow = mark.shallow or shallow
        if low >= mark.base and not self.exceeded:
            self._memo[key] = _Entry(value, depth if shallow else 0, anchor)

    def enter(self, definition: Hashable) -> bool:
        """Start resolving a definition; False when it is already being resolved (a
        cycle: the caller gives an Unknown, and results that depend on it are not kept)."""
        position = self._active.get(definition)
        if position is not None:
            self._low = min(self._low, position)
            return False
        self._active[definition] = len(self._active)
        return True

    def leave(self, definition: Hashable) -> None:
        del self._active[definition]

    def cut_by_depth(self) -> None:
        self._shallow = True
