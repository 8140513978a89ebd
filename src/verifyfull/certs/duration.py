"""Go durations ("43800h", "1h30m", "720h0m0s"), as `cockroach cert --lifetime` takes them."""

from __future__ import annotations

import datetime as dt
import re

from verifyfull.errors import UsageError

# Go's time.ParseDuration units; "µs" and "us" are both microseconds.
_UNITS = {
    "ns": dt.timedelta(microseconds=0.001),
    "us": dt.timedelta(microseconds=1),
    "µs": dt.timedelta(microseconds=1),
    "μs": dt.timedelta(microseconds=1),
    "ms": dt.timedelta(milliseconds=1),
    "s": dt.timedelta(seconds=1),
    "m": dt.timedelta(minutes=1),
    "h": dt.timedelta(hours=1),
}
_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)")


def parse_go_duration(text: str) -> dt.timedelta:
    """Parse a positive Go duration; a unit is required on every number, as in Go."""
    raw = text.strip()
    pos, total = 0, dt.timedelta(0)
    while pos < len(raw):
        match = _PART.match(raw, pos)
        if match is None:
            break
        total += _UNITS[match.group(2)] * float(match.group(1))
        pos = match.end()
    if not raw or pos != len(raw):
        raise UsageError(
            f"invalid duration {text!r}", "use a Go duration such as 43800h, 2160h or 90m"
        )
    if total <= dt.timedelta(0):
        raise UsageError(f"duration {text!r} is not positive", "use e.g. 43800h")
    return total


def format_go_duration(value: dt.timedelta) -> str:
    """Whole hours as Go prints them for certificate lifetimes ("43920h0m0s" -> "43920h")."""
    hours, rest = divmod(int(value.total_seconds()), 3600)
    minutes, seconds = divmod(rest, 60)
    out = f"{hours}h" if hours else ""
    out += f"{minutes}m" if minutes else ""
    out += f"{seconds}s" if seconds or not out else ""
    return out
