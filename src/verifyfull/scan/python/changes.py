"""What a change made to a dict after it is built does, and the states the dict
may be in while the changes of several if/else arms are followed (resolve.py's
`_changed`): each state remembers the arms it took and the arms it knows were not
taken, so the arms of one `if` are never combined and an `if`/`else` that changes
the dict in every arm leaves no unchanged state."""

from __future__ import annotations

from dataclasses import dataclass, replace

from verifyfull.scan.python.module import Arm
from verifyfull.scan.python.urls import TLS_KEYS
from verifyfull.scan.python.values import DictValue, Text, Value


@dataclass(frozen=True)
class State:
    """One state a dict may be in, with the if/else arms taken to reach it (statement
    -> arm) and the arms known not taken (statement -> arms)."""

    value: Value
    chosen: tuple[tuple[int, int], ...] = ()
    excluded: tuple[tuple[int, frozenset[int]], ...] = ()

    def forgetting(self, statements: set[int]) -> State:
        if not self.chosen and not self.excluded:
            return self
        return replace(
            self,
            chosen=tuple(c for c in self.chosen if c[0] not in statements),
            excluded=tuple(e for e in self.excluded if e[0] not in statements),
        )

    def conflicts(self, conditions: list[Arm]) -> bool:
        chosen, excluded = dict(self.chosen), dict(self.excluded)
        return any(
            exclusive and (chosen.get(s, arm) != arm or arm in excluded.get(s, ()))
            for s, arm, exclusive, _ in conditions
        )

    def takes(self, conditions: list[Arm]) -> bool:
        """Whether the arms the change is in are all known taken (it is certain)."""
        chosen = dict(self.chosen)
        return all(exclusive and chosen.get(s) == arm for s, arm, exclusive, _ in conditions)

    def taking(self, conditions: list[Arm]) -> State:
        chosen = dict(self.chosen)
        chosen.update((s, arm) for s, arm, exclusive, _ in conditions if exclusive)
        return replace(self, chosen=tuple(chosen.items()))

    def skipping(self, conditions: list[Arm]) -> State | None:
        """The state where the change did not run: its innermost arm not taken, or when
        every arm of that if/else is then known not taken, the arm around it (and so
        on out); None when the change runs on every path."""
        excluded = dict(self.excluded)
        for statement, arm, exclusive, covering in reversed(conditions):
            if not exclusive:
                return self
            arms = excluded.get(statement, frozenset()) | {arm}
            if covering and len(arms) >= covering:
                continue
            excluded[statement] = arms
            return replace(self, excluded=tuple(excluded.items()))
        return None


@dataclass(frozen=True)
class Removal:
    key: str


@dataclass(frozen=True)
class Default:
    key: str
    value: Value


Change = DictValue | Removal | Default


def at_path(target: DictValue, keys: list[str], change: Change) -> DictValue:
    """target with change made in the dict at keys (created when missing); unchanged
    when something on the way is not a dict the code built."""
    if keys:
        inner = target.get(keys[0])
        if inner is None:  # a mapping not read in full may hold it already
            inner = DictValue((), target.complete)
        if not isinstance(inner, DictValue):
            return target
        return _merged(target, DictValue(((keys[0], at_path(inner, keys[1:], change)),)))
    if isinstance(change, DictValue):
        return _merged(target, change)
    if isinstance(change, Removal):
        # what is left is no longer the display written (values.WrittenAt): the removal
        # decides, so the finding is not placed at the dict
        # and a TLS setting left in it no longer decides alone where it is written
        # (`d.pop("sslrootcert")` leaves `"sslmode": "require"` checking nothing)
        items = tuple(
            (k, _unplaced(v) if k in TLS_KEYS else v) for k, v in target.items if k != change.key
        )
        return replace(target, items=items, written=None)
    if target.get(change.key) is not None:
        return target
    return DictValue((*target.items, (change.key, change.value)), target.complete)


def _unplaced(value: Value) -> Value:
    """A setting without the place it was written at (values.Text.written)."""
    return replace(value, written=None) if isinstance(value, Text) and value.written else value


def _merged(target: DictValue, new: DictValue) -> DictValue:
    names = set(new.keys())
    kept = tuple(item for item in target.items if item[0] not in names)
    return DictValue(kept + new.items, target.complete and new.complete)
