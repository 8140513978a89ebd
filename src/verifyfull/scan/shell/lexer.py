"""POSIX sh words: the one reader of shell text, wherever the shell text is written.

It does what the shell does to split a command line before running it, and no
more: quotes are removed (`'...'`, `"..."`, `$'...'`, `\\x`), `\\<newline>`
continues a line, `;` `&` `&&` `||` `|` `;;` and newlines end a simple command,
`#` starts a comment, redirections are set apart, and here-documents are read as
text. Expansions are not performed: `$VAR`, `${VAR:-default}`, `$(cmd)` and
`` `cmd` `` stay in the word as written (a reference, judged as one), but the
commands inside a command substitution are read too (`out="$(psql -h db)"`).

Every character of the input is read once (a substitution is read in place, not
cut out and read again); nesting deeper than MAX_DEPTH is refused with one
error (ShellError), never a RecursionError or a hang.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from verifyfull.scan.config.model import ConfigParseError

MAX_DEPTH = 24

_BLANK = " \t\r"
_OPERATOR_CHARS = ";&|()<>"
_WORD_END = _BLANK + "\n" + _OPERATOR_CHARS
# Reserved words that open or continue a compound command: the command proper
# follows them (`if psql -h db ...; then`, `do pg_dump ...`).
_RESERVED_LEAD = frozenset({"if", "then", "elif", "else", "do", "while", "until", "!", "{", "time"})
_RESERVED_ALONE = frozenset({"fi", "done", "esac", "}"})
ASSIGNMENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\+?=")
_DOUBLE_RUN = re.compile(r'[^"\\\\$`]+')
_PLAIN_RUN = re.compile(r"[^\s;&|()<>\\'\"$`]+")
# Appends a piece of a word and the source offset of its first character.
_Keep = Callable[[str, int], None]
_ANSI_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\", "'": "'", '"': '"', "e": "\x1b"}


class ShellError(ConfigParseError):
    """Shell text this reader refuses (nested past the limit): one line, no content."""


@dataclass
class Token:
    """A word after quote removal, with the offset in the source of every character
    (what a re-read of `sh -c "..."` needs to place the inner words)."""

    text: str
    offsets: list[int]
    start: int  # offset of the word's first source character (quotes included)
    # A here-document body: whether the shell expands `$…` and backquotes in it (its
    # delimiter unquoted) or reads it as written (`<<'EOF'`, `<<"EOF"`, `<<\EOF`).
    expands: bool | None = None

    def offset_at(self, index: int) -> int:
        if not self.offsets:
            return self.start
        return self.offsets[min(index, len(self.offsets) - 1)]


@dataclass
class Simple:
    """One simple command: leading assignments, the words, redirections, here-docs."""

    assignments: list[Token] = field(default_factory=list)
    words: list[Token] = field(default_factory=list)
    redirects: list[tuple[str, Token]] = field(default_factory=list)
    heredocs: list[Token] = field(default_factory=list)
    # The simple command whose output this one reads (`a | b`: b's is a).
    piped_from: Simple | None = field(default=None, repr=False, compare=False)

    def empty(self) -> bool:
        return not (self.assignments or self.words or self.redirects)


@dataclass
class _Pending:
    command: Simple
    delimiter: str
    strip_tabs: bool
    expands: bool = True


class _Lexer:
    def __init__(self, text: str, offsets: list[int] | None, depth: int) -> None:
        self.text = text
        self.offsets = offsets  # source offset of each character (None: the identity)
        self.pos = 0
        self.depth = depth
        self.out: list[Simple] = []
        self.pending: list[_Pending] = []

    def source(self, index: int) -> int:
        if self.offsets is None:
            return index
        if not self.offsets:
            return 0
        return self.offsets[min(index, len(self.offsets) - 1)]

    # --- commands -----------------------------------------------------------------

    def script(self, closer: str | None = None) -> None:
        """Read simple commands until the end of the text, or the `closer` that ends
        the substitution being read (the closer is consumed)."""
        text, size = self.text, len(self.text)
        current = Simple()
        level = 0  # subshell parentheses open inside the substitution being read
        while self.pos < size:
            char = text[self.pos]
            if char in _BLANK:
                self.pos += 1
            elif char == "\\" and text.startswith("\n", self.pos + 1):
                self.pos += 2  # a continuation between words
            elif char == "\n":
                self.pos += 1
                current = self._end(current)
                self._heredoc_bodies()
            elif char == "#":
                end = text.find("\n", self.pos)
                self.pos = size if end < 0 else end
            elif closer is not None and char == closer and level == 0:
                self.pos += 1
                self._end(current)
                return
            elif char in "<>" or (char == "&" and text.startswith(">", self.pos + 1)):
                self._redirect(current, "")
            elif char in _OPERATOR_CHARS:
                if char == "(":
                    level += 1
                elif char == ")" and level:
                    level -= 1
                pipe = char == "|" and not text.startswith("||", self.pos)
                self.pos += 2 if text.startswith(("&&", "||", ";;"), self.pos) else 1
                ended = current
                current = self._end(current)
                if pipe and current is not ended:
                    current.piped_from = ended
            else:
                token = self.word()
                if token is None:
                    continue
                if token.text.isdigit() and self.pos < size and text[self.pos] in "<>":
                    self._redirect(current, token.text)
                else:
                    self._add(current, token)
        self._end(current)

    def _add(self, current: Simple, token: Token) -> None:
        if not current.words:
            if not current.assignments and token.text in _RESERVED_LEAD:
                return
            if ASSIGNMENT.match(token.text) and not _quoted_name(self.text, token):
                current.assignments.append(token)
                return
        current.words.append(token)

    def _end(self, current: Simple) -> Simple:
        if len(current.words) == 1 and current.words[0].text in _RESERVED_ALONE:
            current.words.clear()
        if not current.empty():
            self.out.append(current)
        return Simple() if not current.empty() or current.heredocs else current

    def _redirect(self, current: Simple, fd: str) -> None:
        text = self.text
        for op in ("&>>", "&>", "<<<", "<<-", "<<", ">>", ">|", ">&", "<&", "<>", ">", "<"):
            if text.startswith(op, self.pos):
                break
        self.pos += len(op)
        while self.pos < len(text) and text[self.pos] in _BLANK:
            self.pos += 1
        target = self.word() if self.pos < len(text) and text[self.pos] not in "\n" else None
        if target is None:
            return
        current.redirects.append((fd + op, target))
        if op in ("<<", "<<-"):
            # any quote or backslash in the delimiter word: the body is not expanded
            quoted = not target.offsets or (
                target.offsets[0] != target.start
                or target.offsets[-1] - target.offsets[0] + 1 != len(target.text)
            )
            self.pending.append(_Pending(current, target.text, op == "<<-", not quoted))

    def _heredoc_bodies(self) -> None:
        """Read the bodies of the here-documents opened on the line just ended."""
        text = self.text
        for pending in self.pending:
            start = self.pos
            lines: list[str] = []
            offsets: list[int] = []
            while self.pos < len(text):
                end = text.find("\n", self.pos)
                end = len(text) if end < 0 else end
                line = text[self.pos : end]
                check = line.lstrip("\t") if pending.strip_tabs else line
                line_start = self.pos
                self.pos = min(end + 1, len(text))
                if check.rstrip("\r") == pending.delimiter:
                    break
                # `<<-`: the shell strips the leading tabs of every body line too
                skip = len(line) - len(check) if pending.strip_tabs else 0
                lines.append(line[skip:] + "\n")
                offsets.extend(
                    self.source(i) for i in range(line_start + skip, line_start + len(line) + 1)
                )
            body = Token("".join(lines), offsets, self.source(start), pending.expands)
            pending.command.heredocs.append(body)
        self.pending.clear()

    # --- words --------------------------------------------------------------------

    def word(self) -> Token | None:
        """One word from the current position (quotes removed), None when there is none."""
        text, size = self.text, len(self.text)
        start = self.pos
        chars: list[str] = []
        offsets: list[int] = []

        def keep(piece: str, at: int) -> None:
            chars.append(piece)
            if self.offsets is None:
                offsets.extend(range(at, at + len(piece)))
            else:
                offsets.extend(map(self.source, range(at, at + len(piece))))

        while self.pos < size:
            char = text[self.pos]
            if char in _WORD_END:
                break
            plain = _PLAIN_RUN.match(text, self.pos)
            if plain is not None:  # a run of ordinary characters, taken whole
                keep(plain.group(), self.pos)
                self.pos = plain.end()
            elif char == "\\":
                if text.startswith("\n", self.pos + 1):
                    self.pos += 2
                    continue
                if self.pos + 1 < size:
                    keep(text[self.pos + 1], self.pos + 1)
                    self.pos += 2
                else:
                    keep("\\", self.pos)
                    self.pos += 1
            elif char == "'":
                end = text.find("'", self.pos + 1)
                end = size if end < 0 else end  # unclosed: the rest of the text
                keep(text[self.pos + 1 : end], self.pos + 1)
                self.pos = end + 1
            elif char == "$" and text.startswith("'", self.pos + 1):
                self._ansi_c(keep)
            elif char == '"':
                self._double(keep)
            elif char in "$`":
                self._expansion(keep)
            else:
                keep(char, self.pos)
                self.pos += 1
        if self.pos == start:
            return None
        return Token("".join(chars), offsets, self.source(start))

    def _ansi_c(self, keep: _Keep) -> None:
        text, size = self.text, len(self.text)
        self.pos += 2
        while self.pos < size and text[self.pos] != "'":
            if text[self.pos] == "\\" and self.pos + 1 < size:
                escaped = text[self.pos + 1]
                keep(_ANSI_ESCAPES.get(escaped, "\\" + escaped), self.pos)
                self.pos += 2
            else:
                keep(text[self.pos], self.pos)
                self.pos += 1
        self.pos += 1

    def _double(self, keep: _Keep) -> None:
        text, size = self.text, len(self.text)
        self.pos += 1
        while self.pos < size:
            char = text[self.pos]
            if char == '"':
                self.pos += 1
                return
            run = _DOUBLE_RUN.match(text, self.pos)
            if run is not None:  # characters with no meaning inside double quotes
                keep(run.group(), self.pos)
                self.pos = run.end()
                continue
            if char == "\\" and self.pos + 1 < size and text[self.pos + 1] in '$`"\\\n':
                if text[self.pos + 1] != "\n":
                    keep(text[self.pos + 1], self.pos + 1)
                self.pos += 2
            elif char in "$`":
                self._expansion(keep)
            else:
                keep(char, self.pos)
                self.pos += 1

    def _expansion(self, keep: _Keep) -> None:
        """`$(...)`, `` `...` ``, `${...}`, `$((...))` kept as written; the commands of a
        command substitution are read as commands too."""
        text, start = self.text, self.pos
        if text.startswith("$((", start):
            self.pos = _balanced(text, start + 3, "(", ")", 2)
        elif text.startswith("$(", start):
            self._nested(start + 2)
        elif text.startswith("${", start):
            self.pos = _balanced(text, start + 2, "{", "}", 1)
        elif text[start] == "`":
            self._backquoted()
        else:
            self.pos += 1
        keep(text[start : self.pos], start)

    def _nested(self, resume: int) -> None:
        if self.depth >= MAX_DEPTH:
            raise ShellError(
                f"shell command substitutions nested deeper than {MAX_DEPTH}",
                "simplify the script or exclude the file",
            )
        self.depth += 1
        self.pos = resume
        saved = self.pending
        self.pending = []
        try:
            self.script(")")
        finally:
            self.depth -= 1
            self.pending = saved

    def _backquoted(self) -> None:
        text, size = self.text, len(self.text)
        self.pos += 1
        chars: list[str] = []
        offsets: list[int] = []
        while self.pos < size and text[self.pos] != "`":
            if text[self.pos] == "\\" and self.pos + 1 < size and text[self.pos + 1] in "`$\\":
                self.pos += 1
            chars.append(text[self.pos])
            offsets.append(self.source(self.pos))
            self.pos += 1
        self.pos += 1
        self.out.extend(lex("".join(chars), offsets, self.depth + 1))


def _quoted_name(text: str, token: Token) -> bool:
    """Whether a quote precedes the `=` of NAME=value (`"A=b" cmd` is a word, not an
    assignment): the name's characters must sit at consecutive source offsets."""
    name_end = token.text.index("=")
    return token.offset_at(name_end) - token.start != name_end


def _balanced(text: str, pos: int, opener: str, closer: str, closers: int) -> int:
    """The position after the matching closer(s) of `${...}` or `$((...))`; quotes
    inside are skipped whole. Unclosed: the end of the text."""
    level, size = 1, len(text)
    while pos < size:
        char = text[pos]
        if char == "\\":
            pos += 2
            continue
        if char in "'\"":
            end = text.find(char, pos + 1)
            pos = size if end < 0 else end + 1
            continue
        if char == opener:
            level += 1
        elif char == closer:
            level -= 1
            if level == 0:
                return min(pos + closers, size)
        pos += 1
    return size


def lex(text: str, offsets: list[int] | None = None, depth: int = 0) -> list[Simple]:
    """Every simple command of the text, in order (commands inside a substitution
    follow the command that holds it). `offsets` maps each character to its place
    in the source when the text is itself a word re-read (`sh -c "..."`)."""
    if depth > MAX_DEPTH:
        raise ShellError(
            f"shell commands nested deeper than {MAX_DEPTH}",
            "simplify the script or exclude the file",
        )
    lexer = _Lexer(text, offsets, depth)
    lexer.script()
    return lexer.out
