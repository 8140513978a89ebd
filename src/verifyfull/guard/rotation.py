"""Certificate rotation: files replaced on disk reach new connections without a restart.

Secret managers replace files by atomic rename (or a symlink swap); `os.stat`
follows the path, so a change of inode, size or mtime of the CA, certificate
or key is a rotation. On a change the whole set is checked again (files.py)
and a fresh SSLContext built; only if all of that succeeds does it replace
the current one. A rotated set that is invalid (half written, key not
matching, expired) keeps the last good context and is reported in
`last_error`, and retried when the files change again.

New connections look at the files at most once per `min_check_interval`
(default 1 s): a stat of three files costs little on a warm machine, but on
a connect path woken from idle it measured about 1% of a 19 ms TLS connect.
With connects rarer than that, every connect still looks; with frequent
connects a replacement reaches new connections within the interval (or at
the background poll, `watch`, whichever is first). `check()` always looks.

Drivers differ (FACTS.md): asyncpg keeps an SSLContext object as it is, so
new connections must be handed the current context; libpq (psycopg) reads
files on every connection, so it is pointed at a private snapshot of the last
good files, which a bad rotation never touches.

A snapshot stays on disk while any connect may still read it: the guard's
own connects hold a lease (`lease_libpq_files`), released when libpq is
done; a connection string handed to a pool (`libpq_files`) keeps its
snapshot for the longest a connect can take. A superseded snapshot is
removed when the last holder lets go, so two quick rotations, or a
rejected one, never pull files from under a connect in flight. Snapshots
(a copy of the private key among them) are removed on close(), at exit,
and on SIGTERM (snapshots.py).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import os
import shutil
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path

from verifyfull.errors import UsageError, VerifyfullError
from verifyfull.findings import Finding
from verifyfull.guard.context import GuardedContext, client_context
from verifyfull.guard.files import check_files, unreadable
from verifyfull.guard.proof import Verifier
from verifyfull.guard.readfile import read_regular_file
from verifyfull.guard.snapshots import SnapshotRoot
from verifyfull.guard.target import Target

log = logging.getLogger("verifyfull.guard")

FileSignature = tuple[tuple[int, int, int, int] | None, ...]

DEFAULT_MIN_CHECK_INTERVAL = 1.0  # seconds between looks at the files from the connect path


@dataclass(frozen=True)
class LibpqFiles:
    """Paths for libpq's sslrootcert / sslcert / sslkey: a snapshot of the last good set."""

    ca: Path
    cert: Path | None
    key: Path | None


@dataclass(eq=False)
class _Snapshot:
    """One validated set on disk, its context, and who may still read its files."""

    folder: Path
    context: GuardedContext
    files: LibpqFiles
    holders: int = 0  # connects in flight holding a lease
    keep_until: float = field(default=float("-inf"))  # handed to a pool: kept this long

    @property
    def verifier(self) -> Verifier:
        assert self.context.verifier is not None
        return self.context.verifier


class CertMaterial:
    """The current, validated TLS material of one target; thread-safe."""

    def __init__(
        self,
        target: Target,
        *,
        min_check_interval: float = DEFAULT_MIN_CHECK_INTERVAL,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not min_check_interval >= 0:
            raise UsageError(
                f"min_check_interval must be 0 or more seconds, not {min_check_interval}",
                "use 0 to look at the certificate files before every new connection",
            )
        self.target = target
        self.min_check_interval = min_check_interval
        self._clock = clock
        self._looked_at = clock()
        self._lock = threading.Lock()
        self._listeners: list[Callable[[], None]] = []
        # The snapshots hold a copy of the key: removed on close(), at exit or on SIGTERM.
        self._root = SnapshotRoot.create(self)
        self._snapshot_dir = self._root.path
        self._retired: list[_Snapshot] = []
        self._generation = 0
        self._signature = self._stat()
        self._failed_signature: FileSignature | None = None
        self.warnings: tuple[Finding, ...] = ()
        self.last_rotation: dt.datetime | None = None
        self.last_error: str | None = None
        self.rotations = 0
        self._current = self._build()  # refuses at start-up: nothing to keep
        # A connect's longest life: libpq's connect_timeout per host, plus slack.
        self._pool_hold = max(1.0, target.connect_timeout) * len(target.hosts) + 5.0

    @property
    def generation(self) -> int:
        return self._generation

    def context(self) -> ssl.SSLContext:
        """The context for a new connection (after picking up any rotation that is due)."""
        self._check_if_due()
        return self._current.context

    def libpq_files(self, *, look: bool = True) -> LibpqFiles:
        """Snapshot paths for a libpq connect whose end the guard does not see (a pool's).

        The snapshot is kept at least as long as such a connect can take.
        look=False: the caller has just looked at the files (off the event loop).
        """
        if look:
            self._check_if_due()
        with self._lock:
            snapshot = self._current
            snapshot.keep_until = max(snapshot.keep_until, self._clock() + self._pool_hold)
        return snapshot.files

    @contextmanager
    def lease_libpq_files(self, *, look: bool = True) -> Iterator[LibpqFiles]:
        """Snapshot paths for one libpq connect, kept on disk until the block ends.

        look=False: the caller has just looked at the files (off the event loop)."""
        if look:
            self._check_if_due()
        with self._lock:
            snapshot = self._current
            snapshot.holders += 1
        try:
            yield snapshot.files
        finally:
            with self._lock:
                snapshot.holders -= 1
                self._sweep()

    def verifier(self) -> Verifier:
        """The policy and pins of the set in use (for a handshake just completed)."""
        return self._current.verifier

    def due(self) -> bool:
        """Whether a connect must look at the files first (async callers do it off the loop).

        Also while another thread is building a new set: check() then waits for
        it, so no connect starts with the set about to be replaced."""
        return self._clock() - self._looked_at >= self.min_check_interval or self._lock.locked()

    def current_context(self) -> ssl.SSLContext:
        """The context in use now, without looking at the files.

        For the check after a handshake: has a rotation been taken into use
        (by another connect or the background poll) since this connection
        was handed its context? One stat pass per connect, not two.
        """
        return self._current.context

    def current_libpq_files(self) -> LibpqFiles:
        """The snapshot in use now, without looking at the files (see current_context)."""
        return self._current.files

    def on_rotate(self, listener: Callable[[], None]) -> None:
        """Call listener (e.g. expire pool connections) after each successful rotation."""
        self._listeners.append(listener)

    def _check_if_due(self) -> None:
        if self.due():
            self.check()

    def check(self) -> bool:
        """Look at the files now; reload when they changed; True when a new set was taken."""
        self._looked_at = self._clock()
        signature = self._stat()
        if signature == self._signature or signature == self._failed_signature:
            return False
        with self._lock:
            if signature == self._signature:
                return False
            try:
                snapshot = self._build()
            except VerifyfullError as exc:
                self._failed_signature = signature
                self.last_error = str(exc)
                log.error("certificate rotation rejected, keeping the last good set: %s", exc)
                return False
            self._retired.append(self._current)
            self._current = snapshot
            self._sweep()
            self._signature = signature
            self._failed_signature = None
            self.last_error = None
            self.last_rotation = dt.datetime.now(dt.timezone.utc)
            self.rotations += 1
        log.info("certificate rotation %d taken into use for new connections", self.rotations)
        for listener in list(self._listeners):
            try:
                listener()
            except Exception:  # a listener must not undo a good rotation
                log.exception("rotation listener failed")
        return True

    async def watch(self, interval: float) -> None:
        """Poll for rotations until cancelled (run as a background task)."""
        while True:
            await asyncio.sleep(interval)
            await asyncio.to_thread(self.check)

    def close(self) -> None:
        self._root.remove()

    def _sweep(self) -> None:
        """Remove superseded snapshots no connect can still read (lock held)."""
        now = self._clock()
        for snapshot in list(self._retired):
            if snapshot.holders == 0 and snapshot.keep_until <= now:
                shutil.rmtree(snapshot.folder, ignore_errors=True)
                self._retired.remove(snapshot)

    def _stat(self) -> FileSignature:
        signature: list[tuple[int, int, int, int] | None] = []
        for path in (self.target.ca_file, self.target.cert_file, self.target.key_file):
            if path is None:
                signature.append(None)
                continue
            try:
                st = path.stat()
            except OSError:
                signature.append((-1, -1, -1, -1))
                continue
            signature.append((st.st_ino, st.st_dev, st.st_size, st.st_mtime_ns))
        return tuple(signature)

    def _build(self) -> _Snapshot:
        """Copy the files into a new snapshot, check them and build a context from the copy.

        Working from the copy means the context and libpq see the same bytes,
        even if the originals change again while this runs.
        """
        self._generation += 1
        folder = self._snapshot_dir / str(self._generation)
        folder.mkdir(mode=0o700)
        try:
            ca = _copy(self.target.ca_file, folder / "ca.crt", 0o644)
            assert ca is not None
            cert = _copy(self.target.cert_file, folder / "client.crt", 0o644)
            key = _copy(self.target.key_file, folder / "client.key", 0o600)
            snapshot = replace(self.target, ca_file=ca, cert_file=cert, key_file=key)
            # The copy is always 0600: the original's mode is what matters.
            self.warnings = check_files(snapshot, key_on_disk=self.target.key_file)
            context = client_context(snapshot)
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            raise
        return _Snapshot(folder, context, LibpqFiles(ca, cert, key))


def _copy(source: Path | None, dest: Path, mode: int) -> Path | None:
    if source is None:
        return None
    try:
        data = read_regular_file(source)  # a FIFO or hung mount: an error, not a hang
    except OSError as exc:
        raise unreadable(source, exc) from None
    fd = os.open(dest, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        os.write(fd, data)
    finally:
        os.close(fd)
    return dest
