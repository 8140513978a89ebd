"""What every command's help shows the same way: the allowed values of an option.

An option that takes one of a fixed set of values shows them as its metavar,
`[text|json|sarif|html]`, the way click.Choice prints them, built from the
same tuple the command validates against (so help and check cannot drift).
The commands keep their own one-line errors for a value outside the set.
"""

from __future__ import annotations

from collections.abc import Iterable

from verifyfull.rules import Severity


def one_of(values: Iterable[str]) -> str:
    return "[" + "|".join(values) + "]"


SEVERITIES = one_of(s.value for s in Severity)
