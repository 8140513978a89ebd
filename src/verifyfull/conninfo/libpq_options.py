"""libpq's own checks of the connection options, before it dials anything.

PQconnectStart (connectOptions2 in fe-connect.c) refuses a connection whose
options it cannot use: a value outside an option's list (`sslnegotiation=DIRECT`:
the lists are case-sensitive, the TLS versions alone are not), a TLS floor above
its ceiling, `sslnegotiation=direct` or `sslrootcert=system` with a weak sslmode,
a `require_auth` list that mixes or repeats methods, a SCRAM key that is not 32
bytes of base64. The connection then fails with that message at the first
connect; nothing reaches the network. Each value is the written one, else the
option's environment variable, else libpq's default (conninfo_add_defaults), so an
invalid PG* variable breaks every connection that does not write the option.

The checks and their order were read off the installed libpq (18) by its
behaviour on generated inputs (tests/test_conninfo_differential_options.py, and
libpq 15/17/18 in tests/test_conninfo_differential_versions.py), the same way the
driver would be asked: PQconnectStart on a socket that does not exist, so nothing
is resolved or sent. `since` says from which libpq major an option exists; an
older libpq does not know the option at all (its parser refuses the keyword:
conninfo.versions.LibpqVersion.keywords), so its check is skipped.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass

from verifyfull.conninfo.model import Environment
from verifyfull.conninfo.versions import NEWEST_LIBPQ as LIBPQ_MAJOR
from verifyfull.policy import SSLMODES

_WEAK_FOR_DIRECT = ("disable", "allow", "prefer")
# target_session_attrs: the values libpq (14+) and asyncpg 0.32 (SessionAttribute) both
# accept, in asyncpg's order (its message lists them so); asyncpg_rules reads it too.
# Here, not in conninfo.semantics: semantics imports verdict, which imports this module.
SESSION_ATTRIBUTES = ("any", "primary", "standby", "prefer-standby", "read-write", "read-only")
_CHOICES = {
    "channel_binding": ("disable", "prefer", "require"),
    "sslmode": SSLMODES,
    "sslnegotiation": ("postgres", "direct"),
    "sslcertmode": ("disable", "allow", "require"),
    "gssencmode": ("disable", "prefer", "require"),
    "target_session_attrs": SESSION_ATTRIBUTES,
    "load_balance_hosts": ("disable", "random"),
}
_TLS_VERSIONS = ("tlsv1", "tlsv1.1", "tlsv1.2", "tlsv1.3")  # compared case-insensitively
_PROTOCOL_VERSIONS = {"3.0": 0, "3.2": 2, "latest": 2}
_AUTH_METHODS = ("password", "md5", "gss", "sspi", "scram-sha-256", "none")
_SCRAM_KEY_BYTES = 32  # SHA-256


@dataclass(frozen=True)
class OptionRefusal:
    """libpq's refusal of one option: the option, libpq's message, whether it is a
    TLS setting (a broken TLS setting is VF105; another broken option only breaks
    the connection)."""

    option: str
    message: str
    tls: bool


@dataclass(frozen=True)
class _Option:
    name: str
    envvar: str | None
    default: str | None
    since: int  # the libpq major that added it


_OPTIONS = {
    o.name: o
    for o in (
        _Option("require_auth", "PGREQUIREAUTH", None, 16),
        _Option("channel_binding", "PGCHANNELBINDING", "prefer", 13),
        _Option("sslmode", "PGSSLMODE", "prefer", 9),
        _Option("sslrootcert", "PGSSLROOTCERT", None, 16),  # its check: sslrootcert=system
        _Option("sslnegotiation", "PGSSLNEGOTIATION", "postgres", 17),
        _Option("ssl_min_protocol_version", "PGSSLMINPROTOCOLVERSION", "TLSv1.2", 13),
        _Option("ssl_max_protocol_version", "PGSSLMAXPROTOCOLVERSION", None, 13),
        _Option("sslcertmode", "PGSSLCERTMODE", None, 16),
        _Option("gssencmode", "PGGSSENCMODE", "prefer", 12),
        _Option("target_session_attrs", "PGTARGETSESSIONATTRS", "any", 10),
        _Option("scram_client_key", None, None, 18),
        _Option("scram_server_key", None, None, 18),
        _Option("load_balance_hosts", "PGLOADBALANCEHOSTS", "disable", 16),
        _Option("min_protocol_version", "PGMINPROTOCOLVERSION", None, 18),
        _Option("max_protocol_version", "PGMAXPROTOCOLVERSION", None, 18),
    )
}

# Environment variables the checks read (conninfo.model.PG_VARIABLES lists them).
OPTION_VARIABLES = tuple(o.envvar for o in _OPTIONS.values() if o.envvar)


def _value(name: str, written: Mapping[str, str], env: Environment) -> str | None:
    option = _OPTIONS[name]
    if name in written:
        return written[name]
    if option.envvar is not None and (from_env := env.get(option.envvar)) is not None:
        return from_env
    if name == "sslmode" and env.get("PGREQUIRESSL") == "1":
        return "require"  # the old requiressl variable still sets the default mode
    return option.default


def _in_list(name: str, value: str | None, allowed: tuple[str, ...]) -> str | None:
    if value is None or value in allowed:
        return None
    return f'invalid {name} value: "{value}"'


def _require_auth(value: str | None, libpq_major: int) -> str | None:
    """libpq reads the list item by item: the first item's polarity (`!`) binds the
    rest, then each method must be known, then it may not repeat."""
    if not value:
        return None
    methods = (*_AUTH_METHODS, "oauth") if libpq_major >= 18 else _AUTH_METHODS
    seen: list[str] = []
    negative: bool | None = None
    for item in value.split(","):
        this_negative = item.startswith("!")
        if negative is not None and this_negative != negative:
            if this_negative:
                return (
                    f'negative require_auth method "{item}" cannot be mixed with '
                    "non-negative methods"
                )
            return f'require_auth method "{item}" cannot be mixed with negative methods'
        negative = this_negative
        method = item[1:] if this_negative else item
        if method not in methods:
            return f'invalid require_auth value: "{method}"'
        if item in seen:
            return f'require_auth method "{item}" is specified more than once'
        seen.append(item)
    return None


def _tls_version(name: str, value: str | None) -> str | None:
    if not value or value.lower() in _TLS_VERSIONS:
        return None
    return f'invalid "{name}" value: "{value}"'


def _tls_range(low: str | None, high: str | None) -> str | None:
    if not low or not high:
        return None
    if _TLS_VERSIONS.index(low.lower()) > _TLS_VERSIONS.index(high.lower()):
        return "invalid SSL protocol version range"
    return None


def _scram_key(which: str, value: str | None) -> str | None:
    if value is None:
        return None
    try:
        decoded = base64.b64decode(value.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError):
        return f"invalid SCRAM {which} key"
    if len(decoded) != _SCRAM_KEY_BYTES:
        return f"invalid SCRAM {which} key length: {len(decoded)}"
    return None


def _protocol(name: str, value: str | None) -> str | None:
    if value is None or value in _PROTOCOL_VERSIONS:
        return None
    return f'invalid {name} value: "{value}"'


def option_refusal(
    written: Mapping[str, str],
    env: Environment,
    *,
    secrets: Mapping[str, str] | None = None,
    libpq_major: int = LIBPQ_MAJOR,
    only: Collection[str] | None = None,
) -> OptionRefusal | None:
    """The first option libpq refuses, in libpq's order, or None.

    `written`: the options the connection writes (last value of each key); the
    host, hostaddr and port lists are checked before these (conninfo.endpoints).
    `secrets`: the secret options written (the SCRAM keys), read for their length
    only; no message holds a secret. `only`: run the checks of these options alone
    (the rules judge sslmode and sslrootcert=system behind another refusal too; each
    of those two checks reads nothing the others check)."""
    given = {**written, **(secrets or {})}

    def value(name: str) -> str | None:
        return _value(name, given, env)

    mode = value("sslmode")
    # sslrootcert=system is the OS store from libpq 16; before, a file named system.
    root = value("sslrootcert") if libpq_major >= 16 else None

    def one_of(name: str) -> Callable[[], str | None]:
        return lambda: _in_list(name, value(name), _CHOICES[name])

    def weak_for_direct() -> str | None:
        effective = _mode_with_root(mode, root, written, env)
        if value("sslnegotiation") != "direct" or effective not in _WEAK_FOR_DIRECT:
            return None
        return (
            f'weak sslmode "{effective}" may not be used with sslnegotiation=direct '
            '(use "require", "verify-ca", or "verify-full")'
        )

    def weak_for_system() -> str | None:
        if root != "system" or mode == "verify-full" or not _explicit_mode(written, env):
            return None
        return f'weak sslmode "{mode}" may not be used with sslrootcert=system (use "verify-full")'

    low_tls, high_tls = value("ssl_min_protocol_version"), value("ssl_max_protocol_version")
    low, high = value("min_protocol_version"), value("max_protocol_version")
    # (option, a TLS setting?, check), in the order connectOptions2 runs them.
    checks: list[tuple[str, bool, Callable[[], str | None]]] = [
        ("require_auth", False, lambda: _require_auth(value("require_auth"), libpq_major)),
        ("channel_binding", True, one_of("channel_binding")),
        ("sslmode", True, one_of("sslmode")),
        ("sslnegotiation", True, one_of("sslnegotiation")),
        ("sslnegotiation", True, weak_for_direct),
        ("sslrootcert", True, weak_for_system),
        (
            "ssl_min_protocol_version",
            True,
            lambda: _tls_version("ssl_min_protocol_version", low_tls),
        ),
        (
            "ssl_max_protocol_version",
            True,
            lambda: _tls_version("ssl_max_protocol_version", high_tls),
        ),
        ("ssl_max_protocol_version", True, lambda: _tls_range(low_tls, high_tls)),
        ("sslcertmode", True, one_of("sslcertmode")),
        ("gssencmode", True, one_of("gssencmode")),
        ("target_session_attrs", False, one_of("target_session_attrs")),
        ("scram_client_key", False, lambda: _scram_key("client", value("scram_client_key"))),
        ("scram_server_key", False, lambda: _scram_key("server", value("scram_server_key"))),
        ("load_balance_hosts", False, one_of("load_balance_hosts")),
        ("min_protocol_version", False, lambda: _protocol("min_protocol_version", low)),
        ("max_protocol_version", False, lambda: _protocol("max_protocol_version", high)),
        ("max_protocol_version", False, lambda: _protocol_range(low, high)),
    ]
    for name, tls, check in checks:
        if _OPTIONS[name].since > libpq_major or (only is not None and name not in only):
            continue
        message = check()
        if message is not None:
            return OptionRefusal(name, message, tls)
    return None


def _explicit_mode(written: Mapping[str, str], env: Environment) -> bool:
    """sslrootcert=system makes verify-full the default: only a mode the connection,
    PGSSLMODE or PGREQUIRESSL=1 sets can be too weak for it."""
    return (
        "sslmode" in written or env.get("PGSSLMODE") is not None or env.get("PGREQUIRESSL") == "1"
    )


def _mode_with_root(
    mode: str | None, root: str | None, written: Mapping[str, str], env: Environment
) -> str | None:
    if root == "system" and not _explicit_mode(written, env):
        return "verify-full"
    return mode


def _protocol_range(low: str | None, high: str | None) -> str | None:
    if low is None or high is None:
        return None
    if _PROTOCOL_VERSIONS[low] > _PROTOCOL_VERSIONS[high]:
        return '"min_protocol_version" is greater than "max_protocol_version"'
    return None
