"""What a driver's `ssl` argument is, described without the object itself.

The scanner sees source code (`ssl="require"`, `ssl=ctx` where ctx was made
by `ssl.create_default_context(cafile=…)`), the guard sees live objects. Both
reduce it to an `SSLArg`, and conninfo.drivers reads only that. Every
attribute of a context may be unknown (None) when the scanner cannot tell.
"""

from __future__ import annotations

import enum
import ssl
from collections.abc import Mapping
from dataclasses import dataclass

from verifyfull.policy import tls_version_name


class SSLArgKind(str, enum.Enum):
    ABSENT = "absent"  # no ssl argument (or ssl=None): the DSN / environment decide
    MODE = "mode"  # a string: 'disable' … 'verify-full', or anything else
    BOOL = "bool"  # True / False
    CONTEXT = "context"  # an ssl.SSLContext
    MAPPING = "mapping"  # a dict (asyncpg refuses a non-empty one, takes {} as off)
    UNKNOWN = "unknown"  # a value the caller cannot see statically


class VerifyMode(str, enum.Enum):
    NONE = "CERT_NONE"
    OPTIONAL = "CERT_OPTIONAL"  # for a client the same as CERT_REQUIRED (ssl module docs)
    REQUIRED = "CERT_REQUIRED"


@dataclass(frozen=True)
class ContextFacts:
    """What is known about an SSLContext; None means not known."""

    verify_mode: VerifyMode | None = None
    check_hostname: bool | None = None
    minimum_version: str | None = None  # 'TLSv1.2' …, None when unknown
    ciphers: str | None = None  # an OpenSSL cipher string set on it, when known
    own_ca: bool | None = None  # roots the caller named (cafile=, load_verify_locations)
    system_roots: bool | None = None  # the OS trust store (create_default_context)
    has_client_cert: bool | None = None  # load_cert_chain called
    origin: str = "SSLContext"  # how it was made, in words: 'create_default_context()'

    @property
    def verifies_chain(self) -> bool | None:
        if self.verify_mode is None:
            return None
        return self.verify_mode is not VerifyMode.NONE

    @classmethod
    def default_context(cls, *, cafile: bool | None = False) -> ContextFacts:
        """ssl.create_default_context(): CERT_REQUIRED, host name checked, TLS 1.2 floor.

        With cafile=/cadata= it trusts those roots only; without, the OS store.
        """
        return cls(
            verify_mode=VerifyMode.REQUIRED,
            check_hostname=True,
            minimum_version="TLSv1.2",
            own_ca=cafile,
            system_roots=cafile is False,
            has_client_cert=False,
            origin="ssl.create_default_context()",
        )

    @classmethod
    def client_context(cls) -> ContextFacts:
        """ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT): the same checks, no roots loaded."""
        return cls(
            verify_mode=VerifyMode.REQUIRED,
            check_hostname=True,
            minimum_version="TLSv1.2",
            own_ca=False,
            system_roots=False,
            has_client_cert=False,
            origin="ssl.SSLContext(PROTOCOL_TLS_CLIENT)",
        )


@dataclass(frozen=True)
class SSLArg:
    kind: SSLArgKind
    mode: str | None = None  # MODE: the string as given
    flag: bool | None = None  # BOOL
    context: ContextFacts | None = None  # CONTEXT
    empty: bool | None = None  # MAPPING: whether it is {}
    reason: str = ""  # UNKNOWN: why (e.g. 'a variable bound elsewhere')

    @classmethod
    def absent(cls) -> SSLArg:
        return cls(SSLArgKind.ABSENT)

    @classmethod
    def of_mode(cls, mode: str) -> SSLArg:
        return cls(SSLArgKind.MODE, mode=mode)

    @classmethod
    def of_bool(cls, flag: bool) -> SSLArg:
        return cls(SSLArgKind.BOOL, flag=flag)

    @classmethod
    def of_context(cls, facts: ContextFacts) -> SSLArg:
        return cls(SSLArgKind.CONTEXT, context=facts)

    @classmethod
    def of_mapping(cls, *, empty: bool) -> SSLArg:
        return cls(SSLArgKind.MAPPING, empty=empty)

    @classmethod
    def unknown(cls, reason: str) -> SSLArg:
        return cls(SSLArgKind.UNKNOWN, reason=reason)

    @property
    def is_absent(self) -> bool:
        return self.kind is SSLArgKind.ABSENT

    def describe(self) -> str:
        """The argument in words, for notes and evidence (never holds secrets)."""
        if self.kind is SSLArgKind.ABSENT:
            return "no ssl argument"
        if self.kind is SSLArgKind.MODE:
            return f"ssl={self.mode!r}"
        if self.kind is SSLArgKind.BOOL:
            return f"ssl={self.flag}"
        if self.kind is SSLArgKind.MAPPING:
            return "ssl={}" if self.empty else "ssl={...} (a dict)"
        if self.kind is SSLArgKind.CONTEXT:
            assert self.context is not None
            return f"ssl=<{self.context.origin}>"
        return f"ssl=<unknown: {self.reason}>"


def describe_ssl_value(value: object) -> SSLArg:
    """Describe a live `ssl` argument value (the guard's view)."""
    if value is None:
        return SSLArg.absent()
    if isinstance(value, bool):
        return SSLArg.of_bool(value)
    if isinstance(value, str):
        return SSLArg.of_mode(value)
    if isinstance(value, ssl.SSLContext):
        return SSLArg.of_context(describe_context(value))
    if isinstance(value, Mapping):
        return SSLArg.of_mapping(empty=len(value) == 0)
    return SSLArg.unknown(f"a {type(value).__name__} object")


def describe_context(context: ssl.SSLContext) -> ContextFacts:
    """Read what matters for transport security off a live SSLContext."""
    stats = context.cert_store_stats()
    verify = {
        ssl.CERT_NONE: VerifyMode.NONE,
        ssl.CERT_OPTIONAL: VerifyMode.OPTIONAL,
        ssl.CERT_REQUIRED: VerifyMode.REQUIRED,
    }[context.verify_mode]
    minimum = context.minimum_version
    if minimum == ssl.TLSVersion.MINIMUM_SUPPORTED:
        # Python 3.10+ with OpenSSL 3 never goes below TLS 1.2 unless asked to,
        # but MINIMUM_SUPPORTED itself says nothing; name what it means here.
        minimum_name = "MINIMUM_SUPPORTED"
    else:
        minimum_name = tls_version_name(minimum)
    return ContextFacts(
        verify_mode=verify,
        check_hostname=context.check_hostname,
        minimum_version=minimum_name,
        ciphers=None,  # the live object gives expanded suites, not the string
        # A store filled from a directory (load_default_certs on Debian) loads
        # lazily and counts 0, and loaded roots do not say where they came
        # from: so any root counts as own_ca, and zero means "not known".
        own_ca=True if stats.get("x509_ca", 0) or stats.get("x509", 0) else None,
        system_roots=None,
        has_client_cert=None,  # ssl offers no way to ask a context for its chain
        origin="live SSLContext",
    )


def live_suites(context: ssl.SSLContext) -> tuple[str, ...]:
    """The cipher suites a live context will offer (for VF107 on the guard side)."""
    return tuple(str(suite["name"]) for suite in context.get_ciphers())
