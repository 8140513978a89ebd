"""Where the per-file work runs: in this process, or streamed to worker processes.

A small tree is scanned in this process (a pool's start-up and transfers cost more
than they save). Once the walk has found enough files, or fewer but large ones
(pool_pays), a pool starts and receives chunks while the walk goes on, so walking
and analysing overlap. A chunk holds at most 64 files or about 1 MB, a large file
goes alone, so the workers
pull evenly sized work and none is left with a heavy tail (each chunk costs the
pool's queues and both processes' wake-ups: 16 files / 256 kB, 300 chunks on the
benchmark tree, spent 4-7 % more CPU; docs/scan.md, session 11). Results come back in
the walk's order: the report is the same as a one-process scan's.

Each chunk's answer also carries the secret values the worker registered while
reading its files (verifyfull.scrub), so the parent's writers mask them too.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future
from typing import TYPE_CHECKING, Generic, TypeVar

from verifyfull import scrub
from verifyfull.scan.walk import WalkedFile

if TYPE_CHECKING:
    from concurrent.futures import ProcessPoolExecutor

# Measured on the corpus's real trees (docs/scan.md, "When a pool starts"): from 200
# candidate files on a pool never cost more than 5 ms and saved up to 1.4 s, whatever
# their bytes (an 8 MB floor kept 16 of the 17 such trees in one process); below 200,
# it cost 10-35 ms on light trees and paid only on heavy ones (166 files of 8.3 MB).
PARALLEL_THRESHOLD = 200
PARALLEL_MIN_BYTES = 4_000_000
PARALLEL_MIN_FILES_BY_BYTES = 64
CHUNK_FILES = 64
CHUNK_BYTES = 1_000_000

Result = TypeVar("Result")
Work = Callable[[Sequence[WalkedFile]], list[Result]]


def usable_cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1


def pool_pays(files: int, total_bytes: int) -> bool:
    """Whether a tree walked so far is large enough for worker processes: many files,
    or fewer but large ones."""
    return files >= PARALLEL_THRESHOLD or (
        files >= PARALLEL_MIN_FILES_BY_BYTES and total_bytes >= PARALLEL_MIN_BYTES
    )


def default_jobs(files: int, total_bytes: int) -> int:
    """Worker processes when neither --jobs nor `jobs` says: one per usable core for a
    large tree, one process otherwise."""
    return usable_cores() if pool_pays(files, total_bytes) else 1


def _collecting(
    work: Work[Result], files: Sequence[WalkedFile]
) -> tuple[list[Result], tuple[str, ...]]:
    """Runs in a worker: the chunk's results and the secrets first met reading it."""
    results = work(files)
    return results, scrub.take_new()


class _Chunks(Generic[Result]):
    """Files handed to the pool in chunks as they are walked."""

    def __init__(self, pool: ProcessPoolExecutor, work: Work[Result]) -> None:
        self.pool = pool
        self.work = work
        self.sent: list[tuple[list[int], Future[tuple[list[Result], tuple[str, ...]]]]] = []
        self._indexes: list[int] = []
        self._files: list[WalkedFile] = []
        self._bytes = 0

    def add(self, index: int, walked: WalkedFile) -> None:
        self._indexes.append(index)
        self._files.append(walked)
        self._bytes += max(walked.size, 0)
        if len(self._files) >= CHUNK_FILES or self._bytes >= CHUNK_BYTES:
            self.flush()

    def flush(self) -> None:
        if self._files:
            self.sent.append((self._indexes, self.pool.submit(_collecting, self.work, self._files)))
            self._indexes, self._files, self._bytes = [], [], 0


def run(files: Iterable[WalkedFile], work: Work[Result], jobs: int | None) -> list[Result]:
    """`work` applied to every file (in chunks), results in the order of `files`.

    jobs: worker processes asked for (None: default_jobs). A pool that cannot start
    or breaks (a worker killed) falls back to this process: the scan completes."""
    # Imported here: multiprocessing costs 50 ms of start-up a small scan never needs.
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    walked: list[WalkedFile] = []
    remaining = iter(files)
    total_bytes = 0
    pool: ProcessPoolExecutor | None = None
    chunks: _Chunks[Result] | None = None
    workers = jobs if jobs is not None else usable_cores()
    try:
        for item in remaining:
            walked.append(item)
            total_bytes += max(item.size, 0)
            if chunks is not None:
                chunks.add(len(walked) - 1, item)
                continue
            if workers > 1 and pool_pays(len(walked), total_bytes):
                pool = ProcessPoolExecutor(max_workers=workers)
                chunks = _Chunks(pool, work)
                for index, earlier in enumerate(walked):
                    chunks.add(index, earlier)
        if chunks is None:
            return work(walked)
        chunks.flush()
        by_index: dict[int, Result] = {}
        for indexes, future in chunks.sent:
            results, secrets = future.result()
            scrub.register_all(secrets)
            by_index.update(zip(indexes, results, strict=True))
        return [by_index[index] for index in range(len(walked))]
    except (BrokenProcessPool, OSError):
        walked.extend(remaining)  # the rest of the walk, if it broke half-way
        return work(walked)
    finally:
        if pool is not None:
            pool.shutdown(cancel_futures=True)
