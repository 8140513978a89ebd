"""Read a libpq connection's TLS facts (protocol, cipher, server certificate) via ctypes.

psycopg 3 exposes only `pgconn.ssl_in_use`; PQsslAttribute and PQsslStruct
are not wrapped (psycopg/pq/_pq_ctypes.py: "TODO"). They are called here on
the very libpq psycopg itself calls, never on another one the process may
have loaded (psycopg2's, a `ctypes.CDLL('libpq.so.5')`): a PGconn pointer
handed to a different libpq build reads the wrong struct. Which library
that is depends on psycopg's implementation (`psycopg.pq.__impl__`):

- python: the ctypes handle psycopg loaded (`psycopg.pq._pq_ctypes.pq`);
- binary: the private copy in the wheel's `psycopg_binary.libs/`;
- c: the system libpq it was linked with, by its soname.

Each is opened with RTLD_NOLOAD (the already-loaded library or nothing, never
a new one) and must report psycopg's own `PQlibVersion`. The server
certificate is read from the SSL* with the libssl/libcrypto that libpq
links (the wheel's own copies for binary). When any of this is unavailable
(not Linux, a libpq without OpenSSL) the facts are None and only
`ssl_in_use` is known, so pinned connections are refused.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class LibpqTLS:
    protocol: str | None
    cipher: str | None
    server_cert_der: bytes | None


@dataclass(frozen=True)
class _Libs:
    pq: ctypes.CDLL
    # The foreign functions each connection's facts are read with (None: this
    # libpq's TLS library is not OpenSSL, or not found): SSL_get0_peer_certificate
    # (1.1: SSL_get_peer_certificate, which takes a reference for x509_free to
    # drop), SSL_get_certificate (the client certificate libpq loaded, if any).
    peer_certificate: Callable[..., Any] | None
    x509_free: Callable[..., Any] | None
    own_certificate: Callable[..., Any] | None
    crypto: ctypes.CDLL | None
    # CRYPTO_free, for the DER buffer i2d_X509 allocates (one encoding per connection,
    # not a size query and a second encoding into a buffer made here).
    crypto_free: Callable[..., Any] | None = None


_NOLOAD = getattr(os, "RTLD_NOLOAD", 0) | getattr(os, "RTLD_LAZY", 0)


def _loaded(name: str) -> ctypes.CDLL | None:
    """The library by this path or soname if it is already loaded; never load a new one."""
    try:
        return ctypes.CDLL(name, mode=_NOLOAD)
    except OSError:
        return None


def _wheel_libs_dir() -> Path | None:
    import psycopg_binary

    folder = Path(psycopg_binary.__file__).resolve().parent.parent / "psycopg_binary.libs"
    return folder if folder.is_dir() else None


def _in_dir(folder: Path, stem: str) -> ctypes.CDLL | None:
    for candidate in sorted(folder.glob(f"{stem}*.so*")):
        if (lib := _loaded(str(candidate))) is not None:
            return lib
    return None


def _system(stem: str) -> ctypes.CDLL | None:
    name = ctypes.util.find_library(stem.removeprefix("lib"))
    return _loaded(name) if name else None


def psycopg_libpq() -> tuple[ctypes.CDLL, Path | None] | None:
    """psycopg's own libpq handle, and the folder of its private dependencies (binary)."""
    import psycopg.pq

    impl = psycopg.pq.__impl__
    folder: Path | None = None
    lib: ctypes.CDLL | None
    if impl == "python":
        from psycopg.pq import _pq_ctypes

        lib = _pq_ctypes.pq  # type: ignore[attr-defined]
    elif impl == "binary":
        folder = _wheel_libs_dir()
        lib = _in_dir(folder, "libpq") if folder is not None else None
    else:
        lib = _loaded("libpq.so.5") or _system("libpq")
    if lib is None:
        return None
    lib.PQlibVersion.restype = ctypes.c_int
    lib.PQlibVersion.argtypes = []
    if lib.PQlibVersion() != psycopg.pq.version():
        return None  # not the library psycopg calls: reading it would be guesswork
    return lib, folder


@functools.cache
def _libs() -> _Libs | None:
    found = psycopg_libpq()
    if found is None:
        return None
    pq, folder = found
    pq.PQsslAttribute.restype = ctypes.c_char_p
    pq.PQsslAttribute.argtypes = [ctypes.c_void_p, ctypes.c_char_p]
    pq.PQsslStruct.restype = ctypes.c_void_p
    pq.PQsslStruct.argtypes = [ctypes.c_void_p, ctypes.c_char_p]
    ssl_lib = (_in_dir(folder, "libssl") if folder else None) or _system("libssl")
    crypto = (_in_dir(folder, "libcrypto") if folder else None) or _system("libcrypto")
    if ssl_lib is None or crypto is None:
        return _Libs(pq, None, None, None, None)
    free = getattr(crypto, "CRYPTO_free", None)
    if free is None:
        return _Libs(pq, None, None, None, None)
    # OpenSSL 3's get0 borrows the certificate (nothing to free: one foreign call
    # less per connection); 1.1's get_peer_certificate takes a reference.
    borrowed = getattr(ssl_lib, "SSL_get0_peer_certificate", None)
    peer = borrowed or getattr(ssl_lib, "SSL_get_peer_certificate", None)
    if peer is None:
        return _Libs(pq, None, None, None, None)
    own = getattr(ssl_lib, "SSL_get_certificate", None)
    for function in (peer, own):
        if function is not None:
            function.restype = ctypes.c_void_p
            function.argtypes = [ctypes.c_void_p]
    crypto.i2d_X509.restype = ctypes.c_int
    crypto.i2d_X509.argtypes = [ctypes.c_void_p, ctypes.POINTER(ctypes.c_void_p)]
    crypto.X509_free.restype = None
    crypto.X509_free.argtypes = [ctypes.c_void_p]
    free.restype = None
    free.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int]
    return _Libs(pq, peer, None if borrowed else crypto.X509_free, own, crypto, free)


def tls_facts(pgconn_ptr: int) -> LibpqTLS:
    """Protocol, cipher and the server's DER certificate of a live libpq connection."""
    protocol, cipher, der, _ = read_tls(pgconn_ptr)
    return LibpqTLS(protocol, cipher, der)


def read_tls(pgconn_ptr: int) -> tuple[str | None, str | None, bytes | None, bool | None]:
    """(protocol, cipher, server certificate DER, a client certificate loaded) of a live
    libpq connection; None where this libpq does not tell.

    A tuple, read with as few foreign calls as the facts take: enforcement
    reads it for every new connection, with the CPU caches cold after the
    handshake, where each ctypes call costs microseconds. The client
    certificate is libpq's own answer (the certificate it put in the SSL
    session: libpq skips a named file that does not exist), not a look at
    the file.
    """
    libs = _libs()
    if libs is None or not pgconn_ptr:
        return None, None, None, None
    pq = libs.pq
    protocol = pq.PQsslAttribute(pgconn_ptr, b"protocol")
    cipher = pq.PQsslAttribute(pgconn_ptr, b"cipher")
    ssl_ptr = pq.PQsslStruct(pgconn_ptr, b"OpenSSL")
    der = own = None
    if ssl_ptr:
        der = _peer_der(libs, ssl_ptr)
        if libs.own_certificate is not None:
            own = bool(libs.own_certificate(ssl_ptr))
    return (protocol.decode() if protocol else None, cipher.decode() if cipher else None, der, own)


def _peer_der(libs: _Libs, ssl_ptr: int) -> bytes | None:
    if libs.peer_certificate is None or libs.crypto is None or libs.crypto_free is None:
        return None
    x509 = libs.peer_certificate(ssl_ptr)
    if not x509:
        return None
    try:
        # One encoding into a buffer OpenSSL allocates (*out NULL), copied out and
        # freed: i2d_X509 is the costliest call here with the caches cold, and the
        # size query ran it twice.
        out = ctypes.c_void_p()
        size = libs.crypto.i2d_X509(x509, ctypes.byref(out))
        if not out.value:
            return None
        try:
            return ctypes.string_at(out.value, size) if size > 0 else None
        finally:
            libs.crypto_free(out, None, 0)
    finally:
        if libs.x509_free is not None:
            libs.x509_free(x509)
