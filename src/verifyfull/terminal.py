"""Text bound for a terminal shows control characters instead of obeying them.

File names, source lines, server messages and HTTP headers are written by
others: an ESC sequence in one could recolour, hide or rewrite what the
terminal shows (a finding erased by `ESC[2K`, a fake "0 findings", a link by
OSC 8), and a bidi override could make code read differently than it runs.
Every text writer passes such pieces through `escape_controls`, which keeps
line feeds and tabs and spells everything else as a visible escape.
"""

from __future__ import annotations

import re
from typing import Final

from verifyfull.scrub import scrub

# C0 controls but tab and line feed, DEL, C1 controls (0x9b is a one-byte CSI),
# and the Unicode bidi and line-separator controls.
_CONTROL: Final = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]"
)


def _spelled(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def escape_controls(text: str) -> str:
    """The text with every control character but \\n and \\t shown as \\xNN or \\uNNNN."""
    return _CONTROL.sub(_spelled, text)


def shown(piece: str) -> str:
    """A piece of outside text as a terminal may show it: no secret, no control code."""
    return escape_controls(scrub(piece))
