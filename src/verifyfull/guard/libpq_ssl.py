"""Read a libpq connection's TLS facts (protocol, cipher, server certificate) via ctypes.

psycopg 3 exposes only `pgconn.ssl_in_use`; PQsslAttribute and PQsslStruct
are not wrapped (psycopg/pq/_pq_ctypes.py: "TODO"). They are called here on
the very libpq the process has loaded (found in /proc/self/maps, so the
psycopg-binary wheel's private copy is used when that is the one in use), and
the server certificate is read from the SSL* with the libssl/libcrypto that
libpq links. When any of this is unavailable (not Linux, a libpq without
OpenSSL) the facts are None and only `ssl_in_use` is known.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class LibpqTLS:
    protocol: str | None
    cipher: str | None
    server_cert_der: bytes | None


@dataclass(frozen=True)
class _Libs:
    pq: ctypes.CDLL
    ssl: ctypes.CDLL | None
    crypto: ctypes.CDLL | None


def _mapped(fragment: str) -> list[Path]:
    found: list[Path] = []
    try:
        with open("/proc/self/maps", encoding="utf-8") as maps:
            for line in maps:
                path = line.split()[-1] if "/" in line else ""
                if fragment in Path(path).name and Path(path) not in found:
                    found.append(Path(path))
    except OSError:
        return []
    return found


def _sibling(libpq: Path, stem: str) -> ctypes.CDLL | None:
    """The libssl/libcrypto next to libpq (a wheel's private copy), else the system one."""
    for candidate in _mapped(stem):
        if candidate.parent == libpq.parent:
            return ctypes.CDLL(str(candidate))
    name = ctypes.util.find_library(stem.removeprefix("lib").rstrip("-."))
    return ctypes.CDLL(name) if name else None


@functools.cache
def _libs() -> _Libs | None:
    import psycopg  # noqa: F401  (loads libpq)

    mapped = _mapped("libpq")
    if not mapped:
        return None
    libpq = mapped[0]
    pq = ctypes.CDLL(str(libpq))
    pq.PQsslAttribute.restype = ctypes.c_char_p
    pq.PQsslAttribute.argtypes = [ctypes.c_void_p, ctypes.c_char_p]
    pq.PQsslStruct.restype = ctypes.c_void_p
    pq.PQsslStruct.argtypes = [ctypes.c_void_p, ctypes.c_char_p]
    ssl_lib = _sibling(libpq, "libssl")
    crypto = _sibling(libpq, "libcrypto")
    if ssl_lib is not None and crypto is not None:
        getter = getattr(ssl_lib, "SSL_get1_peer_certificate", None) or getattr(
            ssl_lib, "SSL_get_peer_certificate", None
        )
        if getter is None:
            ssl_lib = None
        else:
            getter.restype = ctypes.c_void_p
            getter.argtypes = [ctypes.c_void_p]
            crypto.i2d_X509.restype = ctypes.c_int
            crypto.i2d_X509.argtypes = [ctypes.c_void_p, ctypes.POINTER(ctypes.c_void_p)]
            crypto.X509_free.restype = None
            crypto.X509_free.argtypes = [ctypes.c_void_p]
    return _Libs(pq, ssl_lib, crypto)


def tls_facts(pgconn_ptr: int) -> LibpqTLS:
    """Protocol, cipher and the server's DER certificate of a live libpq connection."""
    libs = _libs()
    if libs is None or not pgconn_ptr:
        return LibpqTLS(None, None, None)
    protocol = libs.pq.PQsslAttribute(pgconn_ptr, b"protocol")
    cipher = libs.pq.PQsslAttribute(pgconn_ptr, b"cipher")
    der = _peer_der(libs, libs.pq.PQsslStruct(pgconn_ptr, b"OpenSSL"))
    return LibpqTLS(
        protocol.decode() if protocol else None,
        cipher.decode() if cipher else None,
        der,
    )


def _peer_der(libs: _Libs, ssl_ptr: int | None) -> bytes | None:
    if not ssl_ptr or libs.ssl is None or libs.crypto is None:
        return None
    getter = (
        getattr(libs.ssl, "SSL_get1_peer_certificate", None) or libs.ssl.SSL_get_peer_certificate
    )
    x509 = getter(ssl_ptr)
    if not x509:
        return None
    try:
        size = libs.crypto.i2d_X509(x509, None)
        if size <= 0:
            return None
        buffer = ctypes.create_string_buffer(size)
        cursor = ctypes.c_void_p(ctypes.addressof(buffer))
        written = libs.crypto.i2d_X509(x509, ctypes.byref(cursor))
        return buffer.raw[:written] if written > 0 else None
    finally:
        libs.crypto.X509_free(x509)
