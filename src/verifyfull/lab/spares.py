"""Prefetch: prepare the next server's files in the background.

A test session starts many servers one after another; with prefetch on, the
next server's files (template copy, CA, client certificates: most of a
start) are prepared while the tests run.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
from pathlib import Path

from verifyfull.lab.postgres import run
from verifyfull.lab.servercerts import LabCA
from verifyfull.lab.template import prefix, template

_spare_lock = threading.Lock()
_spare_thread: threading.Thread | None = None
_spare_dir: Path | None = None
_prefetch = False


def prefetch(enabled: bool = True) -> None:
    """After each start, prepare the next server's files in the background.

    For test sessions that start many servers; not for the CLI. Nothing happens
    until the first start(), so a session that never starts a server pays nothing.
    """
    global _prefetch
    _prefetch = enabled


def prepare(base: Path, tpl: Path, timeout: float, *, with_ca: bool = True) -> None:
    """A server's files before its variant is known: data dir copy, lab CA, client certs."""
    os.chmod(base, 0o711)  # noqa: S103 - postgres must reach server/, data/, run/; not list
    if with_ca:
        LabCA.create(base)
    run(["cp", "-a", str(tpl / "data"), str(base / "data")], cwd=base, timeout=timeout,
         what="copying the template")  # fmt: skip


def refill() -> None:
    global _spare_thread
    with _spare_lock:
        if not _prefetch or _spare_thread is not None or _spare_dir is not None:
            return
        thread = threading.Thread(target=_make_spare, daemon=True, name="verifyfull-lab-spare")
        _spare_thread = thread
    thread.start()


def _make_spare() -> None:
    global _spare_dir, _spare_thread
    base: Path | None = Path(tempfile.mkdtemp(prefix=prefix("spare")))
    assert base is not None
    try:
        prepare(base, template(), timeout=120.0)
    except Exception:  # a failed spare only means the next start does the work
        shutil.rmtree(base, ignore_errors=True)
        base = None
    with _spare_lock:
        _spare_dir, _spare_thread = base, None


def take_spare(timeout: float) -> Path | None:
    global _spare_dir
    with _spare_lock:
        thread = _spare_thread
    if thread is not None:
        thread.join(timeout)
    with _spare_lock:
        spare, _spare_dir = _spare_dir, None
    return spare


def discard() -> None:
    """Stop prefetching, wait for a spare being made, and remove it (at exit)."""
    prefetch(False)
    spare = take_spare(timeout=60.0)
    if spare is not None:
        shutil.rmtree(spare, ignore_errors=True)
