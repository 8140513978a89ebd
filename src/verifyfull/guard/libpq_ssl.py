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


TLSFacts = tuple[str | None, str | None, bytes | None, bool | None]


def read_tls(pgconn_ptr: int) -> TLSFacts:
    """(protocol, cipher, server certificate DER, a client certificate loaded) of a live
    libpq connection; None where this libpq does not tell.

    A tuple, read with as few foreign calls as the facts take (tls_reader):
    enforcement reads it for every new connection, with the CPU caches cold
    after the handshake, where each ctypes call costs microseconds. The client
    certificate is libpq's own answer (the certificate it put in the SSL
    session: libpq skips a named file that does not exist), not a look at
    the file.
    """
    return tls_reader()(pgconn_ptr)


def _no_facts(pgconn_ptr: int) -> TLSFacts:
    return None, None, None, None


def _holding_the_gil(function: Any, restype: Any, *argtypes: Any) -> Callable[..., Any]:
    """The same foreign function at the same address, called without releasing the GIL
    (ctypes.PYFUNCTYPE, as ctypes.string_at is): each of these returns at once, and a
    release per call would hand the interpreter to another thread seven times a connect."""
    address = ctypes.cast(function, ctypes.c_void_p).value
    if not address:
        raise OSError("a foreign function without an address")
    held: Callable[..., Any] = ctypes.PYFUNCTYPE(restype, *argtypes)(address)
    return held


@functools.cache
def tls_reader() -> Callable[[int], TLSFacts]:
    """read_tls's work as one function, its foreign functions and their prototypes bound
    once: no library lookup, attribute access or helper call per connect (about 8 µs of
    the read inside a real connect, measured: docs/runtime.md, session 8)."""
    libs = _libs()
    if libs is None:
        return _no_facts
    void_p, char_p = ctypes.c_void_p, ctypes.c_char_p
    attribute = _holding_the_gil(libs.pq.PQsslAttribute, char_p, void_p, char_p)
    ssl_struct = _holding_the_gil(libs.pq.PQsslStruct, void_p, void_p, char_p)
    if libs.peer_certificate is None or libs.crypto is None or libs.crypto_free is None:

        def read_attributes(pgconn_ptr: int) -> TLSFacts:
            """This libpq's TLS library is not OpenSSL (or not found): no certificate."""
            if not pgconn_ptr:
                return None, None, None, None
            protocol, cipher = attribute(pgconn_ptr, b"protocol"), attribute(pgconn_ptr, b"cipher")
            return (protocol.decode() if protocol else None,
                    cipher.decode() if cipher else None, None, None)  # fmt: skip

        return read_attributes
    peer = _holding_the_gil(libs.peer_certificate, void_p, void_p)
    own = _holding_the_gil(libs.own_certificate, void_p, void_p) if libs.own_certificate else None
    x509_free = _holding_the_gil(libs.x509_free, None, void_p) if libs.x509_free else None
    i2d = _holding_the_gil(libs.crypto.i2d_X509, ctypes.c_int, void_p, ctypes.POINTER(void_p))
    crypto_free = _holding_the_gil(libs.crypto_free, None, void_p, char_p, ctypes.c_int)
    string_at, byref = ctypes.string_at, ctypes.byref

    def read(pgconn_ptr: int) -> TLSFacts:
        if not pgconn_ptr:
            return None, None, None, None
        protocol = attribute(pgconn_ptr, b"protocol")
        cipher = attribute(pgconn_ptr, b"cipher")
        ssl_ptr = ssl_struct(pgconn_ptr, b"OpenSSL")
        der = loaded = None
        if ssl_ptr:
            x509 = peer(ssl_ptr)
            if x509:
                try:
                    # One encoding into a buffer OpenSSL allocates (*out NULL), copied
                    # out and freed: i2d_X509 is the costliest call here with the
                    # caches cold, and a size query ran it twice.
                    out = void_p()
                    size = i2d(x509, byref(out))
                    if out.value:
                        try:
                            der = string_at(out.value, size) if size > 0 else None
                        finally:
                            crypto_free(out, None, 0)
                finally:
                    if x509_free is not None:  # OpenSSL 1.1 took a reference
                        x509_free(x509)
            if own is not None:
                loaded = bool(own(ssl_ptr))
        return (protocol.decode() if protocol else None,
                cipher.decode() if cipher else None, der, loaded)  # fmt: skip

    return read
