"""Inline suppressions: `# verifyfull: ignore[VF102] reason`.

A suppression applies to findings on its own line, or, written alone on a
line, to the line below it. It must name the rule ids it silences and give a
reason; one that does not is not honoured and is reported (so a reviewer sees
every silenced warning together with why).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from verifyfull import rules

MARKER = "verifyfull:"
_PATTERN = re.compile(
    r"verifyfull:\s*ignore(?:\[(?P<ids>[^\]]*)\])?(?P<reason>[^\n]*)", re.IGNORECASE
)
_COMMENT_ONLY = re.compile(r"^\s*(#|//|;|--)")


@dataclass(frozen=True)
class Suppression:
    line: int  # the line the suppression applies to
    rule_ids: frozenset[str]
    reason: str


@dataclass(frozen=True)
class SuppressionProblem:
    line: int
    message: str


@dataclass(frozen=True)
class Suppressions:
    by_line: dict[int, Suppression]
    problems: tuple[SuppressionProblem, ...]

    def silences(self, rule_id: str, line: int | None) -> bool:
        if line is None:
            return False
        entry = self.by_line.get(line)
        return entry is not None and rule_id in entry.rule_ids


NONE = Suppressions({}, ())


def _clean_reason(text: str) -> str:
    # Allow "ignore[VF102]: reason", "- reason", "(reason)"; a reason needs a word.
    reason = text.split("#", 1)[0].strip().lstrip(":-–—(").rstrip(")").strip()
    return reason if re.search(r"\w", reason) else ""


def parse(text: str) -> Suppressions:
    """Find the suppressions in a file's text (any comment syntax: the marker is enough)."""
    if MARKER not in text:
        return NONE
    by_line: dict[int, Suppression] = {}
    problems: list[SuppressionProblem] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if MARKER not in line:
            continue
        match = _PATTERN.search(line)
        if match is None:
            continue
        target = number + 1 if _COMMENT_ONLY.match(line) else number
        raw_ids = match.group("ids")
        if not raw_ids or not raw_ids.strip():
            problems.append(
                SuppressionProblem(
                    number,
                    f"line {number}: suppression names no rule and is not honoured; "
                    "write '# verifyfull: ignore[VF102] <reason>'",
                )
            )
            continue
        try:
            ids = rules.parse_selection(raw_ids)
        except KeyError as exc:
            problems.append(SuppressionProblem(number, f"line {number}: suppression {exc.args[0]}"))
            continue
        reason = _clean_reason(match.group("reason"))
        if not reason:
            problems.append(
                SuppressionProblem(
                    number,
                    f"line {number}: suppression of {', '.join(sorted(ids))} has no reason and "
                    "is not honoured; add why after the bracket: "
                    f"'# verifyfull: ignore[{','.join(sorted(ids))}] <reason>'",
                )
            )
            continue
        by_line[target] = Suppression(target, ids, reason)
    return Suppressions(by_line, tuple(problems))
