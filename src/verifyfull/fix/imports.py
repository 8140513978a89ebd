"""Imports a fix needs, placed where isort (and Ruff's I001, default settings) puts them.

The module's opening imports are read as blocks (separated by blank lines) and each
statement as a section: `__future__`, the standard library, everything else. A new
`import ssl` goes into the standard-library block in order (straight imports before
`from` imports, each sorted by module); a new `from verifyfull.guard import Guard` into
the first block after it. A section the module lacks becomes a block of its own, set
apart by a blank line. Nothing else moves, so a file that was sorted stays sorted, and
a file that was not is not re-sorted behind its author's back.
"""

from __future__ import annotations

import re
import sys
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

import libcst as cst

_STDLIB = frozenset(sys.stdlib_module_names)
_CODE = cst.Module(body=[]).code_for_node
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@dataclass(frozen=True)
class _Opening:
    index: int
    section: int  # 0 future, 1 stdlib, 2 other
    key: tuple[bool, str]  # isort's order inside a section
    starts_block: bool  # a blank line above it


def _module_of(statement: cst.BaseSmallStatement) -> tuple[str, bool] | None:
    """The module an import statement names, and whether it is a `from` import."""
    if isinstance(statement, cst.Import):
        return _CODE(statement.names[0].name), False
    if isinstance(statement, cst.ImportFrom):
        if statement.relative:
            module = _CODE(statement.module) if statement.module else ""
            return "." * len(statement.relative) + module, True
        return _CODE(statement.module) if statement.module else "", True
    return None


def _section(module: str) -> int:
    if module == "__future__":
        return 0
    return 1 if module.split(".", 1)[0] in _STDLIB else 2


def _blank_above(statement: cst.CSTNode) -> bool:
    return any(line.comment is None for line in getattr(statement, "leading_lines", ()))


def _opening(body: list[cst.BaseStatement]) -> tuple[list[_Opening], int]:
    """The opening import statements, and where code after a docstring starts."""
    out: list[_Opening] = []
    start = 0
    for index, statement in enumerate(body):
        first = statement.body[0] if isinstance(statement, cst.SimpleStatementLine) else None
        if (
            index == 0
            and isinstance(first, cst.Expr)
            and isinstance(first.value, cst.SimpleString | cst.ConcatenatedString)
        ):
            start = 1
            continue
        named = _module_of(first) if isinstance(first, cst.BaseSmallStatement) else None
        if named is None:
            break
        module, is_from = named
        out.append(
            _Opening(index, _section(module), (is_from, module.lower()), _blank_above(statement))
        )
    return out, start


def add_imports(module: cst.Module, statements: Iterable[str]) -> cst.Module:
    """`module` with each of `statements` (`import x`, `from x import Y`) it lacks added."""
    present = {
        _CODE(small).strip()
        for stmt in module.body
        if isinstance(stmt, cst.SimpleStatementLine)
        for small in stmt.body
        if isinstance(small, cst.Import | cst.ImportFrom)
    }
    present |= {
        f"import {_CODE(alias.name)}"
        for stmt in module.body
        if isinstance(stmt, cst.SimpleStatementLine)
        for small in stmt.body
        if isinstance(small, cst.Import)
        for alias in small.names
    }
    for statement in sorted(set(statements) - present, key=_order):
        module = _insert(module, statement)
    return module


def _order(statement: str) -> tuple[int, bool, str]:
    module, is_from = _parsed(statement)
    return (_section(module), is_from, module.lower())


def _parsed(statement: str) -> tuple[str, bool]:
    small = cst.parse_statement(statement + "\n")
    assert isinstance(small, cst.SimpleStatementLine)
    named = _module_of(small.body[0])
    assert named is not None
    return named


def _insert(module: cst.Module, statement: str) -> cst.Module:
    body: list[cst.BaseStatement] = list(module.body)
    opening, start = _opening(body)
    name, is_from = _parsed(statement)
    section, key = _section(name), (is_from, name.lower())
    new = cst.parse_statement(statement + "\n")
    same = [o for o in opening if o.section == section]
    if same:
        # into its section's first block, in order
        block = _block_of(opening, same[0])
        later = [o for o in block if o.section == section and o.key > key]
        if later:
            return _put_before(module, body, later[0].index, new, keep_blank=True)
        last = max(o.index for o in block if o.section == section)
        return _put_at(module, body, last + 1, new)
    after = [o for o in opening if o.section > section]
    if after:  # a block of its own before the sections that come after it
        return _put_before(module, body, after[0].index, new, keep_blank=False)
    if opening:  # a block of its own after the last import
        return _put_at(
            module, body, opening[-1].index + 1, new.with_changes(leading_lines=[cst.EmptyLine()])
        )
    new = new.with_changes(leading_lines=[cst.EmptyLine()] if start else [])
    if start < len(body) and not _blank_above(body[start]):
        body[start] = body[start].with_changes(
            leading_lines=[cst.EmptyLine(), *getattr(body[start], "leading_lines", ())]
        )
    return module.with_changes(body=[*body[:start], new, *body[start:]])


def _block_of(opening: list[_Opening], member: _Opening) -> list[_Opening]:
    """The statements of the blank-line-separated block `member` is in."""
    position = opening.index(member)
    begin = position
    while begin > 0 and not opening[begin].starts_block:
        begin -= 1
    end = position + 1
    while end < len(opening) and not opening[end].starts_block:
        end += 1
    return opening[begin:end]


def _put_at(
    module: cst.Module, body: list[cst.BaseStatement], index: int, new: cst.BaseStatement
) -> cst.Module:
    return module.with_changes(body=[*body[:index], new, *body[index:]])


def _put_before(
    module: cst.Module,
    body: list[cst.BaseStatement],
    index: int,
    new: cst.BaseStatement,
    *,
    keep_blank: bool,
) -> cst.Module:
    """`new` before body[index], taking over the lines above it (comments, a blank line);
    keep_blank False: a new block, with a blank line between it and body[index]."""
    current = body[index]
    leading = list(getattr(current, "leading_lines", ()))
    new = new.with_changes(leading_lines=leading)
    following = [] if keep_blank else [cst.EmptyLine()]
    body[index] = current.with_changes(leading_lines=following)
    return module.with_changes(body=[*body[:index], new, *body[index:]])


def _bound(alias: cst.ImportAlias) -> str:
    if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
        return alias.asname.name.value
    return _CODE(alias.name).split(".", 1)[0]


def _imports_of(module: cst.Module) -> list[tuple[int, cst.Import | cst.ImportFrom]]:
    out: list[tuple[int, cst.Import | cst.ImportFrom]] = []
    for index, statement in enumerate(module.body):
        if isinstance(statement, cst.SimpleStatementLine) and len(statement.body) == 1:
            small = statement.body[0]
            if isinstance(small, cst.Import | cst.ImportFrom) and not isinstance(
                small.names, cst.ImportStar
            ):
                out.append((index, small))
    return out


def _uses(module: cst.Module) -> Counter[str]:
    """Every identifier of the module outside its top-level imports (strings included:
    a name in `__all__` is a use)."""
    skip = {index for index, _ in _imports_of(module)}
    text = "".join(_CODE(s) for i, s in enumerate(module.body) if i not in skip)
    return Counter(_WORD.findall(text))


def without_unused(original: cst.Module, fixed: cst.Module) -> cst.Module:
    """`fixed` without the top-level imports the fix left unused: a name the original
    used and the fixed module uses nowhere (`_create_unverified_context` once the call
    became `ssl.create_default_context()`). Imports unused before stay as they were."""
    before, after = _uses(original), _uses(fixed)
    body = list(fixed.body)
    for index, small in reversed(_imports_of(fixed)):
        names = small.names
        assert not isinstance(names, cst.ImportStar)
        kept = [a for a in names if not (before[_bound(a)] and not after[_bound(a)])]
        if len(kept) == len(names):
            continue
        statement = body[index]
        if not kept:
            leading = getattr(statement, "leading_lines", ())
            del body[index]
            if index < len(body) and leading:
                following = body[index]
                body[index] = following.with_changes(
                    leading_lines=[*leading, *getattr(following, "leading_lines", ())]
                )
            continue
        kept[-1] = kept[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)
        assert isinstance(statement, cst.SimpleStatementLine)
        body[index] = statement.with_changes(body=[small.with_changes(names=kept)])
    return fixed.with_changes(body=body)
