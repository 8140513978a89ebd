"""A small, bounded reader for brace languages: Terraform / HCL and Bicep.

Not a parser: what the config judge needs is every literal string bound to a
name, with its place and its enclosing blocks. One pass over the characters
of each line (linear in the file; nesting kept to MAX_DEPTH) turns

    resource "aws_db_instance" "main" { password = "…" }     # HCL
    environment { variables = { DATABASE_URL = "postgres://…" } }
    { name = "PGSSLMODE", value = "disable" }                # ECS / k8s entries
    param dbPassword string = '…'                             # Bicep
    { name: 'DATABASE_URL', value: 'postgresql://…' }         # Bicep env arrays

into Settings: `key = "string"` and `key: 'string'` pairs (quoted keys too,
so JSON in a heredoc reads alike), name/value entries (entries.py) as one
setting, a Terraform `variable "x" { default = "…" }` as the setting x, a
Bicep `param x type = '…'` as x. Strings keep `${…}` interpolations (they may
hold quotes); values that are not string literals (`var.password`) are not
settings, but for an entry's value (`{ name = "DB_HOST", value = var.db.address
}`), which becomes the reference `${var.db.address}`: no literal, yet the
variable is set (a connection written as components, components.py).
Comments (`#`, `//`, `/* */`) are skipped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from verifyfull.scan.config.entries import NAME_KEYS, VALUE_KEYS
from verifyfull.scan.config.model import Setting

MAX_DEPTH = 200
# Everything but strings and comments, one token per match (the characters those
# start with, quotes, `#` and `/`, are read by hand).
_PLAIN = re.compile(
    r"(?P<space>[\s,;()\[\]]+)|(?P<word>[\w.\-@]+)|(?P<assign>==|[=:])"
    r"|(?P<open>\{)|(?P<close>\})|(?P<other>[^\"'#/])"
)


@dataclass(frozen=True)
class Dialect:
    quotes: str  # string delimiters
    hash_comments: bool  # `#` starts a comment (HCL) or not (Bicep)


HCL = Dialect(quotes='"', hash_comments=True)
BICEP = Dialect(quotes="'", hash_comments=False)


@dataclass
class _Token:
    kind: str  # "word", "str", "assign"
    text: str = ""
    column: int = 0  # 1-based column of the string's first character


@dataclass
class _Block:
    label: str
    pending_name: str | None = None  # a name key seen, waiting for its value


@dataclass
class _Reader:
    dialect: Dialect
    settings: list[Setting] = field(default_factory=list)
    blocks: list[_Block] = field(default_factory=lambda: [_Block("")])
    until: str | None = None  # the end of a /* … */ comment or a Bicep ''' … ''' string
    # a Terraform module block's expression arguments (`db_engine = var.engine`) kept as
    # references, for tfvars.py (the judges do not read them)
    module_arguments: bool = False

    def context(self) -> tuple[str, ...]:
        return tuple(b.label for b in self.blocks if b.label)

    def read_line(self, line: str, number: int) -> None:
        tokens: list[_Token] = []
        i, n = 0, len(line)
        while i < n:
            if self.until is not None:
                end = line.find(self.until, i)
                if end < 0:
                    return
                i, self.until = end + len(self.until), None
                continue
            plain = _PLAIN.match(line, i)  # one regex step per token, not per character
            if plain is not None:
                i = plain.end()
                kind = plain.lastgroup
                if kind == "word":
                    tokens.append(_Token("word", plain.group(), plain.start() + 1))
                elif kind == "assign":
                    tokens.append(_Token("assign"))
                elif kind == "open":
                    self._pairs(tokens, number)
                    self._open(tokens)
                    tokens = []
                elif kind == "close":
                    self._pairs(tokens, number)
                    tokens = []
                    if len(self.blocks) > 1:
                        self.blocks.pop()
                continue
            char = line[i]
            if (char == "#" and self.dialect.hash_comments) or line.startswith("//", i):
                break
            if line.startswith("/*", i):
                self.until, i = "*/", i + 2
            elif line.startswith("'''", i) and self.dialect.quotes == "'":
                self.until, i = "'''", i + 3
            elif char in self.dialect.quotes or char == '"':
                text, end = _string(line, i, char)
                tokens.append(_Token("str", text, i + 2))
                i = end
            else:
                i += 1  # a lone `/`, or `#` in Bicep, or a quote of the other kind
        self._pairs(tokens, number)

    def _open(self, tokens: list[_Token]) -> None:
        labels = [t.text for t in tokens if t.kind in ("word", "str") and t.text]
        if len(self.blocks) < MAX_DEPTH:
            self.blocks.append(_Block(".".join(labels[-3:])))

    def _pairs(self, tokens: list[_Token], number: int) -> None:
        for index, token in enumerate(tokens):
            if token.kind != "assign" or index == 0 or index + 1 >= len(tokens):
                continue
            value, key_token = tokens[index + 1], tokens[index - 1]
            if key_token.kind not in ("word", "str"):
                continue
            in_module = self.module_arguments and self.blocks[-1].label.startswith("module.")
            if value.kind == "word" and (key_token.text in VALUE_KEYS or in_module):
                # An entry whose value is an expression (`value = var.db.address`): no
                # literal, but the variable is given (components.py needs to know).
                value = _Token("str", "${" + value.text + "}", value.column)
            elif value.kind != "str":
                continue
            key = key_token.text
            if index >= 3 and tokens[index - 3].text == "param":  # Bicep: param name type =
                key = tokens[index - 2].text
            self._setting(key, value, number)

    def _setting(self, key: str, value: _Token, number: int) -> None:
        block = self.blocks[-1]
        if key in NAME_KEYS:
            block.pending_name = value.text  # an entry's name: the setting is its value
            return
        if key in VALUE_KEYS and block.pending_name is not None:
            key, block.pending_name = block.pending_name, None
        elif key == "default" and block.label.startswith("variable."):
            key = block.label.split(".", 1)[1]  # variable "db_password" { default = … }
        self.settings.append(Setting(key, value.text, number, value.column, self.context()))


_SPECIAL = {quote: re.compile(r"[\\$}" + quote + "]") for quote in "\"'"}


def _string(line: str, start: int, quote: str) -> tuple[str, int]:
    """The literal text of the string opening at `start` and the index after it.
    `${ … }` is skipped whole (it may hold quotes); `\\x` escapes one character.
    Jumps from one special character to the next (linear, few steps per string)."""
    special = _SPECIAL[quote]
    i, n, depth = start + 1, len(line), 0
    out: list[str] = []
    while i < n:
        found = special.search(line, i)
        if found is None:
            break
        j = found.start()
        out.append(line[i:j])
        char = line[j]
        if char == "\\" and j + 1 < n:
            out.append(line[j + 1] if line[j + 1] in "\"'\\" else line[j : j + 2])
            i = j + 2
        elif char == "$":
            if line.startswith("${", j):
                depth += 1
                out.append("${")
                i = j + 2
            else:
                out.append("$")
                i = j + 1
        elif char == "}":
            depth -= 1 if depth else 0
            out.append("}")
            i = j + 1
        elif depth:  # a quote inside an interpolation
            out.append(char)
            i = j + 1
        else:
            return "".join(out), j + 1
    out.append(line[i:])
    return "".join(out), n


def read_settings(text: str, dialect: Dialect, *, module_arguments: bool = False) -> list[Setting]:
    reader = _Reader(dialect, module_arguments=module_arguments)
    for number, line in enumerate(text.splitlines(), start=1):
        reader.read_line(line, number)
    return reader.settings
