"""The connection report: every record, and the distinct targets, as text or JSON.

Shared by `verifyfull run` (at exit), VERIFYFULL_ENFORCE processes and the
pytest plugin's terminal summary. Records hold no secret, so nothing here
needs redacting.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from verifyfull import __version__
from verifyfull.runtime.record import ConnectionRecord

_SHOWN_PLACES = 3  # where a target was opened: the first few, then a count


@dataclass(frozen=True)
class TargetSummary:
    """One distinct connection target and how it was secured, with where it was opened."""

    first: ConnectionRecord
    count: int
    places: tuple[str, ...]  # "node id (file:line)" or "file:line", in order of first use

    def line(self) -> str:
        r = self.first
        if r.verified:
            status = "verify-full"
        elif not r.proven:
            status = "judged before connecting, not proven live " + (",".join(r.rule_ids) or "")
        elif not r.rule_ids:  # a Unix socket: no network path to protect
            status = "local socket, no TLS needed"
        else:
            status = "NOT VERIFIED " + ",".join(r.rule_ids)
        if r.refused:
            status += " (refused)"
        elif r.rule_ids and not r.unexcused_rules:
            status += " (allowed by verifyfull_allow)"
        who = f"{r.user or '?'}@{r.target}/{r.database or '?'}"
        tls = f"{r.tls_version} {r.cipher or ''}".strip() if r.tls_version else "no TLS"
        more = f" and {len(self.places) - _SHOWN_PLACES} more" if len(self.places) > 3 else ""
        return (
            f"{status}: {r.driver} {who}; {tls}; chain verified: {_yes(r.chain_verified)}, "
            f"host name verified: {_yes(r.hostname_verified)}, "
            f"client certificate: {r.client_cert or 'none'}; "
            f"{self.count} connection(s), opened at {', '.join(self.places[:3])}{more}"
        )


def _yes(flag: bool) -> str:
    return "yes" if flag else "no"


def _place(record: ConnectionRecord) -> str:
    return f"{record.opened_by} ({record.location})" if record.opened_by else record.location


def distinct_targets(records: Iterable[ConnectionRecord]) -> list[TargetSummary]:
    """Group by what was dialled and how it was secured; unverified targets first."""
    groups: dict[tuple[Any, ...], list[ConnectionRecord]] = {}
    for record in records:
        key = (
            record.driver,
            record.target,
            record.database,
            record.user,
            record.tls_version,
            record.chain_verified,
            record.hostname_verified,
            record.client_cert,
            record.rule_ids,
            record.refused,
            record.allowed_rules,
        )
        groups.setdefault(key, []).append(record)
    summaries = [
        TargetSummary(group[0], len(group), tuple(dict.fromkeys(_place(r) for r in group)))
        for group in groups.values()
    ]
    return sorted(summaries, key=lambda s: s.first.verified)


def render_text(records: Sequence[ConnectionRecord], mode: str) -> str:
    unverified = [r for r in records if not r.verified]
    head = (
        f"verifyfull ({mode}): {len(records)} database connection(s), "
        f"{len(records) - len(unverified)} verify-full, {len(unverified)} not"
    )
    lines = [head, *("  " + s.line() for s in distinct_targets(records))]
    for record in unverified:
        if record.message and record.message != "verify-full":
            lines.append(f"  {','.join(record.rule_ids)} at {_place(record)}: {record.message}")
    return "\n".join(lines) + "\n"


def render_json(records: Sequence[ConnectionRecord], mode: str) -> str:
    unverified = [r for r in records if not r.verified]
    document = {
        "tool": "verifyfull",
        "version": __version__,
        "mode": mode,
        "connections": [r.to_json() for r in records],
        "summary": {
            "connections": len(records),
            "verified": len(records) - len(unverified),
            "unverified": len(unverified),
            "refused": sum(r.refused for r in records),
        },
    }
    return json.dumps(document, indent=2) + "\n"


def render(records: Sequence[ConnectionRecord], mode: str, output_format: str) -> str:
    return render_json(records, mode) if output_format == "json" else render_text(records, mode)
