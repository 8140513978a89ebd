"""Does a certificate name the host dialled? RFC 6125, as verify-full clients check it.

- An IP address matches only an iPAddress SAN (Python's ssl, Go, RFC 6125);
  a dNSName entry spelling the address is not enough.
- A DNS name matches a dNSName SAN case-insensitively. A trailing dot is
  NOT ignored: OpenSSL (hence Python's ssl) compares literally, so
  "db.example.com." fails against "db.example.com". A wildcard is allowed
  only as the whole left-most label ("*.example.com"), matches exactly one
  label, and needs two labels after it (no "*.com"); partial wildcards
  ("db*.example.com") match nothing, as with OpenSSL's
  X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS that Python sets.
- The subject CN is a fallback that libpq and OpenSSL still take when the
  certificate has no DNS SAN, but Go clients (the cockroach CLI, Go 1.15+)
  ignore it and RFC 6125 deprecates it: such a match is reported apart.
"""

from __future__ import annotations

import enum
import ipaddress
from dataclasses import dataclass

from verifyfull.certs.inspect import CertInfo
from verifyfull.errors import UsageError


class HowMatched(str, enum.Enum):
    SAN = "san"  # a SAN entry of the right type names the host
    CN_ONLY = "cn-only"  # only the deprecated CN fallback names it
    DNS_SAN_FOR_IP = "dns-san-for-ip"  # an IP host spelled in a dNSName: libpq only
    NONE = "none"


@dataclass(frozen=True)
class HostMatch:
    host: str
    how: HowMatched

    @property
    def ok(self) -> bool:
        return self.how is HowMatched.SAN


def _normalize_dns(name: str) -> str:
    name = name.strip().lower()
    try:
        return name.encode("idna").decode("ascii") if not name.isascii() else name
    except UnicodeError:
        return name


def _parse_ip(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    bare = host.strip().strip("[]")
    if "%" in bare:  # IPv6 zone (fe80::1%eth0) is not part of the address
        bare = bare.split("%", 1)[0]
    try:
        return ipaddress.ip_address(bare)
    except ValueError:
        return None


_FORBIDDEN_IN_HOST = frozenset("/:@?#\\,;\"'<>()[]{}|")


def parse_host(raw: str) -> str:
    """A host as clients dial it: an IP address (canonical, no brackets or zone) or a
    DNS name (IDNA A-label for non-ASCII; a left-most '*' allowed). Ports, URLs,
    blanks and stray characters are usage errors, named with the fix."""
    host = raw.strip()
    ip = _parse_ip(host)
    if ip is not None:
        return str(ip)
    if host.startswith("[") or ":" in host:
        hint = "pass the host alone, without a port" if ":" in host else "check the brackets"
        raise UsageError(f"host {raw!r} is neither a host name nor an IP address", hint)
    if not host or any(c.isspace() or c in _FORBIDDEN_IN_HOST for c in host):
        raise UsageError(f"invalid host {raw!r}", "pass a host name or an IP address")
    if host.isascii():
        return host
    try:
        return host.encode("idna").decode("ascii")
    except UnicodeError:
        raise UsageError(f"invalid host name {raw!r}", "check its spelling") from None


def dns_name_matches(pattern: str, host: str) -> bool:
    """RFC 6125 section 6.4 matching of one dNSName entry against a DNS host."""
    pat, name = _normalize_dns(pattern), _normalize_dns(host)
    if not pat or not name:
        return False
    if "*" not in pat:
        return pat == name
    pat_labels, name_labels = pat.split("."), name.split(".")
    if pat_labels[0] != "*" or "*" in ".".join(pat_labels[1:]):
        return False  # partial or non-left-most wildcard: refused
    if len(pat_labels) < 3 or len(pat_labels) != len(name_labels):
        return False
    if not name_labels[0]:
        return False
    return pat_labels[1:] == name_labels[1:]


def match_host(info: CertInfo, host: str) -> HostMatch:
    """How (if at all) the certificate names `host`."""
    ip = _parse_ip(host)
    if ip is not None:
        if any(_parse_ip(entry) == ip for entry in info.ip_addresses):
            return HostMatch(host, HowMatched.SAN)
        if any(_parse_ip(entry) == ip for entry in info.dns_names):
            return HostMatch(host, HowMatched.DNS_SAN_FOR_IP)
        return HostMatch(host, HowMatched.NONE)
    if any(dns_name_matches(entry, host) for entry in info.dns_names):
        return HostMatch(host, HowMatched.SAN)
    if not info.dns_names and info.subject_cn and dns_name_matches(info.subject_cn, host):
        return HostMatch(host, HowMatched.CN_ONLY)
    return HostMatch(host, HowMatched.NONE)
