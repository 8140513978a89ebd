"""Where an enforced connect's extra time goes: wall and CPU, the driver and the rest.

    .venv/bin/python benchmarks/enforce_split.py [--pairs 600]

Figures: docs/runtime.md ("Session 9"). Per pair, one real connect to the lab's
verify-full server with enforcement active and one without, order swapped every
pair, enforcement started and stopped around the enforced connect (as in
enforce_bench.py). A timing shim sits *beneath* enforcement's wrapper, on the
driver function enforcement wraps (asyncpg's `connect_utils._connect`,
psycopg's `AsyncConnection.connect`), so every connect splits into:
- inside the driver: the same driver code on both sides (with enforcement, the
  wrapper calls the shim; without, the driver does);
- outside it: on the enforced side the wrapper, the judgement before, the
  proof and the record after; on both sides the driver's entry code above.
For each part, wall time (perf_counter) and this thread's CPU time
(thread_time), per connect; and the event loop's iterations, this thread's
context switches (voluntary, involuntary: getrusage RUSAGE_THREAD) and the
garbage collections during the connect. Each row: the medians of both sides,
the median of the per-pair differences (enforced - reference) with its
interquartile range, and their mean.

If the driver's part costs the same on both sides, enforcement's own code is
where the difference is; if the wall difference exceeds the CPU difference,
the extra is waiting (a thread hop, a loop iteration, a system call that
blocks), which the counters show. System calls themselves: compare
`strace -f -c` of enforced and unenforced connect loops (docs/runtime.md).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import resource
import statistics
import time
from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg
import asyncpg.connect_utils
import psycopg

import verifyfull
from verifyfull.lab import harness

MEASURES = (
    "wall, whole connect (µs)",
    "CPU, whole connect (µs)",
    "CPU inside the driver (µs)",
    "CPU outside the driver (µs)",
    "wall outside the driver (µs)",
    "event loop iterations",
    "context switches, voluntary",
    "context switches, involuntary",
    "garbage collections",
)


class Probe:
    """The shim beneath enforcement and the per-connect counters."""

    def __init__(self) -> None:
        self.inner_cpu = 0
        self.inner_wall = 0
        self.iterations = 0
        self.collections = 0
        gc.callbacks.append(self._gc)

    def _gc(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self.collections += 1

    def install(self) -> Callable[[], None]:
        """Shim the two driver functions enforcement wraps; returns the undo."""
        real_apg = asyncpg.connect_utils._connect
        owner = psycopg.AsyncConnection
        real_pg = owner.__dict__["connect"]

        async def apg(**kwargs: Any) -> Any:
            return await self._timed(real_apg(**kwargs))

        async def pg(cls: type, conninfo: str = "", **kwargs: Any) -> Any:
            return await self._timed(real_pg.__func__(cls, conninfo, **kwargs))

        asyncpg.connect_utils._connect = apg
        owner.connect = classmethod(pg)  # type: ignore[method-assign]

        def undo() -> None:
            asyncpg.connect_utils._connect = real_apg
            owner.connect = real_pg  # type: ignore[method-assign]
            gc.callbacks.remove(self._gc)

        return undo

    async def _timed(self, call: Awaitable[Any]) -> Any:
        wall, cpu = time.perf_counter_ns(), time.thread_time_ns()
        try:
            return await call
        finally:
            self.inner_cpu = time.thread_time_ns() - cpu
            self.inner_wall = time.perf_counter_ns() - wall

    def count_iterations(self, loop: asyncio.AbstractEventLoop) -> None:
        real = loop._run_once  # type: ignore[attr-defined]

        def run_once() -> None:
            self.iterations += 1
            real()

        loop._run_once = run_once  # type: ignore[attr-defined]


def _switches() -> tuple[int, int]:
    usage = resource.getrusage(resource.RUSAGE_THREAD)
    return usage.ru_nvcsw, usage.ru_nivcsw


async def _one(probe: Probe, open_: Callable[[], Awaitable[Any]], enforced: bool) -> list[float]:
    handle = verifyfull.enforce("refuse") if enforced else None
    try:
        switches, iterations, collections = _switches(), probe.iterations, probe.collections
        wall, cpu = time.perf_counter_ns(), time.thread_time_ns()
        conn = await open_()
        cpu, wall = time.thread_time_ns() - cpu, time.perf_counter_ns() - wall
        voluntary, involuntary = (b - a for a, b in zip(switches, _switches(), strict=True))
        iterations, collections = probe.iterations - iterations, probe.collections - collections
    finally:
        if handle is not None:
            handle.stop()
    await conn.close()
    inner_cpu, inner_wall = probe.inner_cpu, probe.inner_wall
    return [wall / 1e3, cpu / 1e3, inner_cpu / 1e3, (cpu - inner_cpu) / 1e3,
            (wall - inner_wall) / 1e3, iterations, voluntary, involuntary, collections]  # fmt: skip


async def split(dsn: str, pairs: int, warmup: int) -> list[str]:
    probe = Probe()
    probe.count_iterations(asyncio.get_running_loop())
    undo = probe.install()
    opens: dict[str, Callable[[], Awaitable[Any]]] = {
        "asyncpg.connect": lambda: asyncpg.connect(dsn),
        "psycopg AsyncConnection.connect": lambda: psycopg.AsyncConnection.connect(dsn),
    }
    lines = [
        "| driver: measure | enforced median | reference median "
        "| enforced - reference, per pair: median [IQR] | mean |",
        "|---|---|---|---|---|",
    ]
    try:
        for name, open_ in opens.items():
            sides: dict[bool, list[list[float]]] = {True: [], False: []}
            for i in range(warmup + pairs):
                for enforced in (True, False) if i % 2 == 0 else (False, True):
                    taken = await _one(probe, open_, enforced)
                    if i >= warmup:
                        sides[enforced].append(taken)
            for column, measure in enumerate(MEASURES):
                on = [t[column] for t in sides[True]]
                off = [t[column] for t in sides[False]]
                diffs = sorted(a - b for a, b in zip(on, off, strict=True))
                q1, q3 = diffs[len(diffs) // 4], diffs[3 * len(diffs) // 4]
                lines.append(
                    f"| {name}: {measure} | {statistics.median(on):.1f} "
                    f"| {statistics.median(off):.1f} | {statistics.median(diffs):+.1f} "
                    f"[{q1:+.1f}, {q3:+.1f}] | {statistics.mean(diffs):+.2f} |"
                )
    finally:
        undo()
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=600, help="connect pairs per driver")
    parser.add_argument("--warmup", type=int, default=10, help="pairs discarded first")
    args = parser.parse_args()
    if args.pairs < 4:
        parser.error("at least 4 pairs are needed for quartiles")
    load_before = os.getloadavg()[0]
    server = harness.start("secure")
    try:
        lines = asyncio.run(split(server.dsn(), args.pairs, args.warmup))
    finally:
        server.stop()
    load_after = os.getloadavg()[0]
    print(f"machine: {os.cpu_count()} CPUs, load average {load_before:.1f} -> {load_after:.1f}")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
