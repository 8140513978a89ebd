"""libpq's checks of option values made before it dials anything: the options
libpq 16-18 added, and target_session_attrs.

connectOptions2 (fe-connect.c) refuses a bad value of these options for every
host, Unix sockets included; each check exists only from the version that
added the option (an older libpq refuses the keyword itself, see
LibpqVersion.keywords). Messages are libpq's own, read from libpq 17
(psycopg2-binary 2.9.13) and 18 (psycopg-binary 3.3.9);
tests/test_conninfo_differential_versions.py checks them against both.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Mapping

from verifyfull.conninfo.versions import LibpqVersion

# Each option's PG* variable, read when the option is not written.
ENV_VARIABLES = {
    "sslnegotiation": "PGSSLNEGOTIATION",
    "sslcertmode": "PGSSLCERTMODE",
    "require_auth": "PGREQUIREAUTH",
    "load_balance_hosts": "PGLOADBALANCEHOSTS",
    "min_protocol_version": "PGMINPROTOCOLVERSION",
    "max_protocol_version": "PGMAXPROTOCOLVERSION",
    "target_session_attrs": "PGTARGETSESSIONATTRS",
}
_CHOICES = {
    "sslnegotiation": ("postgres", "direct"),
    "sslcertmode": ("disable", "allow", "require"),
    "load_balance_hosts": ("disable", "random"),
    "min_protocol_version": ("3.0", "3.2", "latest"),
    "max_protocol_version": ("3.0", "3.2", "latest"),
    "target_session_attrs": (
        "any",
        "read-write",
        "read-only",
        "primary",
        "standby",
        "prefer-standby",
    ),
}
_AUTH_METHODS = {16: ("password", "md5", "gss", "sspi", "scram-sha-256", "none"), 18: ("oauth",)}
_WEAK_FOR_DIRECT = ("disable", "allow", "prefer")
_SCRAM_KEY_BYTES = 32


def option_values(
    options: Mapping[str, str], get_env: Callable[[str], str | None], libpq: LibpqVersion
) -> dict[str, str]:
    """The value of each option this libpq has: written, else its PG* variable."""
    found = {}
    for key, variable in ENV_VARIABLES.items():
        if key not in libpq.keywords:
            continue
        value = options[key] if key in options else get_env(variable)
        if value is not None:
            found[key] = value
    for key in ("scram_client_key", "scram_server_key"):
        if key in options and key in libpq.keywords:
            found[key] = options[key]
    return found


def option_error(
    values: Mapping[str, str], sslmode: str, libpq: LibpqVersion
) -> tuple[str, str] | None:
    """(the option, libpq's complaint) about these values; None: it goes on to dial."""
    for key, choices in _CHOICES.items():
        if key in values and values[key] not in choices:
            return key, f'invalid {key} value: "{values[key]}"'
    if "require_auth" in values and (problem := _require_auth_error(values["require_auth"], libpq)):
        return "require_auth", problem
    for key in ("scram_client_key", "scram_server_key"):
        if key in values and (problem := _scram_key_error(key, values[key])):
            return key, problem
    if _protocol_rank(values.get("min_protocol_version")) > _protocol_rank(
        values.get("max_protocol_version", "latest")
    ):
        return "min_protocol_version", (
            '"min_protocol_version" is greater than "max_protocol_version"'
        )
    if values.get("sslnegotiation") == "direct" and sslmode in _WEAK_FOR_DIRECT:
        return "sslnegotiation", (
            f'weak sslmode "{sslmode}" may not be used with sslnegotiation=direct '
            '(use "require", "verify-ca", or "verify-full")'
        )
    return None


def _protocol_rank(value: str | None) -> tuple[int, ...]:
    if value is None:
        return (0,)
    return (99,) if value == "latest" else tuple(int(p) for p in value.split("."))


def _require_auth_error(text: str, libpq: LibpqVersion) -> str | None:
    if not text:
        return None  # an empty list requires nothing
    methods = [m for major, names in _AUTH_METHODS.items() if major <= libpq.major for m in names]
    seen: set[str] = set()
    negated: bool | None = None
    for item in text.split(","):
        negative = item.startswith("!")
        method = item[1:] if negative else item
        if method not in methods:
            return f'invalid require_auth value: "{method}"'
        if negated is not None and negative != negated:
            if negative:
                return (
                    f'negative require_auth method "{item}" cannot be mixed with '
                    "non-negative methods"
                )
            return f'require_auth method "{item}" cannot be mixed with negative methods'
        negated = negative
        if method in seen:
            return f'require_auth method "{item}" is specified more than once'
        seen.add(method)
    return None


def _scram_key_error(key: str, value: str) -> str | None:
    which = "client" if key == "scram_client_key" else "server"
    try:
        raw = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        return f"invalid SCRAM {which} key"
    if len(raw) != _SCRAM_KEY_BYTES:
        return f"invalid SCRAM {which} key length: {len(raw)}"
    return None
