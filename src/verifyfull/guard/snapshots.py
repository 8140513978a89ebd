"""The private directories that hold snapshot copies of the TLS files (the key among them).

Each `SnapshotRoot` is a 0700 directory under $TMPDIR, removed when its
guard is closed, when its owner is collected, at interpreter exit
(weakref.finalize), and on SIGTERM, whose default action would otherwise
kill the process without running any exit handler.

The SIGTERM handler is installed once, from the main thread, and chained
with whatever handler was there: the default action (terminate) gets the
directories removed first and then the signal delivered again with the
default action, so the exit status is unchanged; an application's own
handler is called as before (its shutdown ends in a normal exit, which
removes the directories); an ignored SIGTERM stays ignored and nothing is
removed, since the process goes on running and still needs its files.
"""

from __future__ import annotations

import os
import shutil
import signal
import tempfile
import threading
import weakref
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any

_live: set[Path] = set()
_lock = threading.Lock()
_installed = False


def _remove(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)
    with _lock:
        _live.discard(path)


@dataclass(frozen=True)
class SnapshotRoot:
    path: Path
    _finalizer: weakref.finalize[Any, Any]

    @classmethod
    def create(cls, owner: object) -> SnapshotRoot:
        path = Path(tempfile.mkdtemp(prefix="verifyfull-tls-"))  # honours TMPDIR
        os.chmod(path, 0o700)
        with _lock:
            _live.add(path)
        _install_sigterm_cleanup()
        return cls(path, weakref.finalize(owner, _remove, path))

    def remove(self) -> None:
        self._finalizer()


def live_roots() -> tuple[Path, ...]:
    with _lock:
        return tuple(_live)


def remove_all() -> None:
    for path in live_roots():
        _remove(path)


def _install_sigterm_cleanup() -> None:
    global _installed
    if _installed or threading.current_thread() is not threading.main_thread():
        return  # signal handlers can only be set from the main thread
    previous = signal.getsignal(signal.SIGTERM)
    if previous is signal.SIG_IGN:
        _installed = True
        return

    def on_sigterm(signum: int, frame: FrameType | None) -> None:
        if callable(previous):
            previous(signum, frame)  # the application's shutdown; its exit cleans up
            return
        remove_all()
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGTERM)  # die as the default action would

    signal.signal(signal.SIGTERM, on_sigterm)
    _installed = True
