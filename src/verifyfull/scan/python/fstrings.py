"""Parse Python 3.12 f-strings (PEP 701) on an older interpreter.

Python 3.12 lets a replacement field reuse the f-string's own quote:
`f'postgresql://{os.getenv('DB_USER')}@{os.getenv('DB_HOST')}/app'`. Python 3.10 and 3.11
stop the string at the inner quote and raise SyntaxError, so a connection site written
that way was "not checked" (issue 12 held-out-s9: 3 files in 20 new repositories). When
the interpreter is older than 3.12 and a module does not parse, `downlevel` rewrites
each nested string that reuses an enclosing quote to the other quote character, a
same-length edit: every line and column stays where it was written, so findings and
suppressions point at the user's text. A nested string that cannot be spelled for the
older grammar (it holds the other quote too, or a backslash, a comment or a line break
inside a single-quoted f-string's field, or a third level of reuse) leaves the text
unparsed and the original SyntaxError stands.
"""

from __future__ import annotations

import ast
import sys
import warnings
from collections.abc import Iterator

from verifyfull.scan.python import typeparams

_PREFIX_LETTERS = frozenset("rRbBuUfF")
# Past this many characters a module that does not parse is not respelled (the rewrite is
# linear, about a second per 200,000 characters on a loaded machine): it stays an error.
MAX_REWRITE = 1_000_000
_OPEN = {"(": ")", "[": "]", "{": "}"}
_OTHER = {"'": '"', '"': "'"}


class _Unsupported(Exception):
    """The text holds a shape the older grammar cannot express."""


def parse_python(text: str, filename: str = "<unknown>") -> ast.Module:
    """ast.parse, falling back on interpreters before 3.12 to the same-length rewrites of
    3.12 syntax: PEP 701 f-strings (here) and PEP 695 type parameters (typeparams.py),
    each alone and then both."""
    with warnings.catch_warnings():  # invalid escapes etc. in scanned code are not ours
        warnings.simplefilter("ignore")
        try:
            return ast.parse(text, filename=filename)
        except SyntaxError as error:
            if sys.version_info >= (3, 12):
                raise
            for rewritten in _rewrites(text):
                try:
                    return ast.parse(rewritten, filename=filename)
                except SyntaxError:
                    continue
            raise error from None


def _rewrites(text: str) -> Iterator[str]:
    """The same-length 3.11 spellings to try, each made only when the one before it did
    not parse: PEP 701 quotes, PEP 695 type parameters, then both."""
    quotes = downlevel(text)
    if quotes is not None:
        yield quotes
    params = typeparams.downlevel(text, MAX_REWRITE)
    if params is not None:
        yield params
    both = typeparams.downlevel(quotes, MAX_REWRITE) if quotes is not None else None
    if both is not None:
        yield both


def downlevel(text: str) -> str | None:
    """text with PEP 701 quote reuse spelled for Python 3.11, or None (nothing to do, or a
    shape that has no same-length 3.11 spelling, or a text past MAX_REWRITE)."""
    if len(text) > MAX_REWRITE:
        return None
    out = list(text)
    try:
        changed = _Lexer(text, out).module()
    except _Unsupported:
        return None
    return "".join(out) if changed else None


class _Lexer:
    def __init__(self, text: str, out: list[str]) -> None:
        self.text = text
        self.out = out
        self.pos = 0
        self.changed = False

    # --- top level ---------------------------------------------------------------
    def module(self) -> bool:
        text = self.text
        while self.pos < len(text):
            char = text[self.pos]
            if char == "#":
                end = text.find("\n", self.pos)
                self.pos = len(text) if end < 0 else end
            elif char in _OTHER:
                self.string(self._prefix(), enclosing=())
            else:
                self.pos += 1
        return self.changed

    def _prefix(self) -> str:
        """The string prefix written just before the quote at self.pos."""
        start = self.pos
        while start > 0 and self.pos - start < 2 and self.text[start - 1] in _PREFIX_LETTERS:
            start -= 1
        if start > 0 and (self.text[start - 1].isalnum() or self.text[start - 1] == "_"):
            return ""  # the letters end a name (`elif'`), not a prefix
        return self.text[start : self.pos].lower()

    # --- strings -----------------------------------------------------------------
    def string(self, prefix: str, enclosing: tuple[str, ...]) -> None:
        """Read the string whose opening quote is at self.pos; enclosing: the quotes of
        the f-strings around it as they will be spelled (innermost last)."""
        text = self.text
        quote = text[self.pos]
        written = quote * 3 if text.startswith(quote * 3, self.pos) else quote
        spelled = written
        if any(_clashes(written, outer) for outer in enclosing):
            spelled = self._swap(self.pos, written, enclosing)
        self.pos += len(written)
        if "f" in prefix:
            self._fstring_body(written, (*enclosing, spelled), nested=bool(enclosing))
        else:
            self._plain_body(written, nested=bool(enclosing))

    def _swap(self, start: int, written: str, enclosing: tuple[str, ...]) -> str:
        """Respell the nested string opening at start with the other quote (same length)."""
        if len(written) == 3:
            raise _Unsupported
        other = _OTHER[written]
        if any(_clashes(other, outer) for outer in enclosing):
            raise _Unsupported  # both quotes are taken by enclosing strings
        end = self._closing(start + 1, written)
        body = self.text[start + 1 : end]
        if other in body or "\\" in body:
            raise _Unsupported
        self.out[start] = other
        self.out[end] = other
        self.changed = True
        return other

    def _closing(self, pos: int, written: str) -> int:
        """Where the single-quoted string whose body starts at pos closes (a quote at
        field depth 0: one inside a nested replacement field belongs to a deeper string)."""
        depth = 0
        text = self.text
        while pos < len(text):
            char = text[pos]
            if char == "\n":
                raise _Unsupported
            if char == written and depth == 0:
                return pos
            if char == "{":
                depth += 1
            elif char == "}" and depth:
                depth -= 1
            pos += 1
        raise _Unsupported

    def _plain_body(self, written: str, *, nested: bool) -> None:
        text = self.text
        while self.pos < len(text):
            if text[self.pos] == "\\":
                if nested:
                    raise _Unsupported  # no backslash in a 3.11 replacement field
                self.pos += 2
                continue
            if text.startswith(written, self.pos):
                self.pos += len(written)
                return
            if text[self.pos] == "\n" and len(written) == 1:
                raise _Unsupported
            self.pos += 1
        raise _Unsupported

    def _fstring_body(self, written: str, inner: tuple[str, ...], *, nested: bool) -> None:
        """The body of an f-string opened by `written`; inner: the enclosing quotes with
        this string's own spelling last."""
        text = self.text
        while self.pos < len(text):
            char = text[self.pos]
            if char == "\\":
                if nested:
                    raise _Unsupported
                self.pos += 2
            elif text.startswith(written, self.pos):
                self.pos += len(written)
                return
            elif char == "\n" and len(written) == 1:
                raise _Unsupported
            elif text.startswith("{{", self.pos) or text.startswith("}}", self.pos):
                self.pos += 2
            elif char == "{":
                self.pos += 1
                self._field(inner)
            else:
                self.pos += 1
        raise _Unsupported

    def _field(self, enclosing: tuple[str, ...]) -> None:
        """A replacement field after its `{`: the expression, `!conversion`, `:spec`, `}`."""
        text = self.text
        single_line = len(enclosing[-1]) == 1
        closers: list[str] = []
        while self.pos < len(text):
            char = text[self.pos]
            if char in _OTHER:
                self.string(self._prefix(), enclosing)
            elif char in _OPEN:
                closers.append(_OPEN[char])
                self.pos += 1
            elif closers and char == closers[-1]:
                closers.pop()
                self.pos += 1
            elif not closers and char == "}":
                self.pos += 1
                return
            elif not closers and char == ":":
                self.pos += 1
                self._spec(enclosing)
                return
            elif char in "\\#" or (char == "\n" and single_line):
                raise _Unsupported
            else:
                self.pos += 1
        raise _Unsupported

    def _spec(self, enclosing: tuple[str, ...]) -> None:
        """A format spec after its `:`, up to the field's `}`; nested fields allowed."""
        text = self.text
        while self.pos < len(text):
            char = text[self.pos]
            if char == "}":
                self.pos += 1
                return
            if char == "{":
                self.pos += 1
                self._field(enclosing)
            elif char == "\\":
                raise _Unsupported
            else:
                self.pos += 1
        raise _Unsupported


def _clashes(nested: str, outer: str) -> bool:
    """Whether a nested string opened by `nested` would end the string `outer` in 3.11."""
    return nested[0] == outer[0] and (len(outer) == 1 or len(nested) == 3)
