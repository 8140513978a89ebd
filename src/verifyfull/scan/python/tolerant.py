"""A file that does not parse as Python 3, read with its failing lines stood in for.

Python 2 modules (`print "x"`, `except Error, e:`, `exec code`) and templates
(cookiecutter's `from {{cookiecutter.project_slug}}.config import settings`) still
open connections in their other lines (held-out-s22: cnx-db's schema scripts,
py_pb_dbhandler, a cookiecutter's conftest.py). Each line the parser stops at is
replaced, keeping its indentation and the file's line numbers, by what keeps the
block structure (a template's Jinja tags are first taken out: a `{% ... %}` statement
removed, a `{{ ... }}` expression read as the name `_`): a header (ending in `:`) by
`if True:` (an `except` header by `except Exception:`), any other line by `pass`; then
the text is parsed again.

Bounded: at most MAX_REPAIRS lines, each repair one parse (linear in the file), and
never more than a quarter of the file's lines; past that the file is not read. The
caller reports the file as not checked in full (CheckIncomplete), naming the lines
stood in for: what they hold is not judged, never silently.
"""

from __future__ import annotations

import re

from verifyfull.scan.python.fstrings import parse_python

MAX_REPAIRS = 40


def repaired(text: str, filename: str) -> tuple[str, tuple[int, ...]] | None:
    """(the text that parses, the 1-based lines stood in for), or None when the file
    cannot be made to parse within the bounds. The caller parses it once more through
    module.parse_module, which caches modules by their text."""
    current = _untemplated(text) if ("{%" in text or "{{" in text) else text
    lines = current.split("\n")
    limit = min(MAX_REPAIRS, max(1, len(lines) // 4))
    replaced: dict[int, str] = {}
    templated = tuple(
        n for n, (old, new) in enumerate(zip(text.split("\n"), lines, strict=True), 1) if old != new
    )
    for _ in range(limit + 1):
        try:
            parse_python(current, filename)
            return current, tuple(sorted({*replaced, *templated}))
        except (SyntaxError, ValueError, MemoryError, RecursionError) as exc:
            line = getattr(exc, "lineno", None)
            if not isinstance(exc, SyntaxError) or line is None or not 1 <= line <= len(lines):
                return None
            if len(replaced) >= limit:
                return None
            stand_in = _stand_in(lines[line - 1], replaced.get(line))
            if stand_in is None:
                return None
            replaced[line] = stand_in
            lines[line - 1] = stand_in
            current = "\n".join(lines)
    return None


# Jinja (cookiecutter) tags: a `{% ... %}` statement is no code of its own, a `{{ ... }}`
# expression stands where a name or a literal goes; each on one line, non-greedy.
_JINJA_STATEMENT = re.compile(r"\{%-?.*?-?%\}")
_JINJA_EXPRESSION = re.compile(r"\{\{.*?\}\}")


def _untemplated(text: str) -> str:
    """The text with Jinja tags taken out, line by line (the line count kept): a
    statement removed, an expression read as the name `_`."""
    out = []
    for line in text.split("\n"):
        if "{" in line:
            line = _JINJA_EXPRESSION.sub("_", _JINJA_STATEMENT.sub("", line))
        out.append(line)
    return "\n".join(out)


def _stand_in(original: str, before: str | None) -> str | None:
    """What keeps the block structure of a line the parser refused; None when the line
    was already stood in for and still fails (the fault is elsewhere)."""
    indent = original[: len(original) - len(original.lstrip())]
    code = original.split("#", 1)[0].rstrip()
    if before is not None:
        if before.strip() == "pass":
            return None
        return indent + "pass"  # a header stand-in that still fails: a plain statement
    if code.lstrip().startswith("except"):
        return indent + "except Exception:"
    if code.endswith(":"):
        return indent + "if True:"
    return indent + "pass"
