"""Enforcement's own work per connect, through the real wrappers (figures: docs/runtime.md).

    .venv/bin/python benchmarks/enforce_work.py [--calls 2000] [--cold-calls 300] [--steps 300]

The driver's connect is replaced by a no-op that hands back one connection
opened beforehand to a lab server (real PostgreSQL 15, verify-full), so what
is timed is exactly what enforcement adds to a connect: the wrapper, the
judgement of the arguments and the environment before, the proof of that
live connection's handshake after (asyncpg: its SSL object; psycopg: libpq
through ctypes), and the record. Two figures per driver:
- warm: back-to-back calls (every cache hot): the least it can cost;
- cold: the CPU caches flushed before each call (a 64 MiB copy, twice this
  machine's L3), as after a real TLS handshake, a forked server backend and
  the driver's own work: nearer what a real connect pays. The paired connect benchmark
  (enforce_bench.py) measures that whole difference on the wire.
Times are this thread's CPU time (time.thread_time), so other processes on a
loaded machine do not count; their cache traffic still does. The asyncpg
wrapper gets the 22 keyword arguments asyncpg.connect really passes.

--steps N: N real connects per driver to the lab server, enforcement active,
with each of enforcement's steps inside them timed (CPU time, median): the
judgement before (`Enforcement.begin`), reading the live handshake (the
wrapper's `_tls_facts`), its proof and record (`Enforcement.connected`).
That is where a real connect's cold caches are paid.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import time
from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg
import psycopg

import verifyfull
from verifyfull.lab import harness
from verifyfull.runtime import asyncpg_hook, psycopg_hook

FLUSH_MIB = 64  # twice this machine's shared L3 (32 MiB): nothing of the last call is left
_flush: list[bytearray] = []


def flush_caches() -> None:
    """Overwrite FLUSH_MIB of memory with another FLUSH_MIB (the first call allocates them)."""
    if not _flush:
        _flush.extend(bytearray(os.urandom(1 << 20)) * FLUSH_MIB for _ in range(2))
    _flush[0][:] = _flush[1]


async def per_call(call: Callable[[], Awaitable[Any]], calls: int, cold: bool) -> float:
    """Median microseconds of one call (7 runs of `calls` warm, or each call timed alone cold)."""
    if not cold:
        runs = []
        for _ in range(7):
            start = time.thread_time()
            for _ in range(calls):
                await call()
            runs.append((time.thread_time() - start) / calls)
        return statistics.median(runs) * 1e6
    times = []
    for _ in range(calls):
        flush_caches()
        start = time.thread_time()
        await call()
        times.append(time.thread_time() - start)
    return statistics.median(times) * 1e6


async def asyncpg_arguments(dsn: str) -> dict[str, Any]:
    """The keyword arguments asyncpg.connect(dsn) hands connect_utils._connect (all 22 of
    them, most None), caught by a stand-in: the wrapper is timed on the real call."""
    import asyncpg.connect_utils

    caught: dict[str, Any] = {}
    real = asyncpg.connect_utils._connect

    async def catch(**kwargs: Any) -> None:
        caught.update(kwargs)

    asyncpg.connect_utils._connect = catch
    try:
        await asyncpg.connect(dsn)
    finally:
        asyncpg.connect_utils._connect = real
    return caught


async def measure(dsn: str, calls: int, cold_calls: int) -> list[str]:
    apg = await asyncpg.connect(dsn)
    pconn = await psycopg.AsyncConnection.connect(dsn)
    asyncpg_kwargs = await asyncpg_arguments(dsn)

    async def asyncpg_noop(**kwargs: Any) -> Any:
        return apg

    async def psycopg_noop(cls: type, conninfo: str = "", **kwargs: Any) -> Any:
        return pconn

    # The wrappers enforcement installs, around the no-op instead of the driver.
    asyncpg_call = asyncpg_hook._wrap(asyncpg_noop)
    psycopg_call = psycopg_hook._wrap_async(psycopg_noop)
    calls_by_driver: dict[str, Callable[[], Awaitable[Any]]] = {
        "asyncpg (connect_utils._connect, DSN)": lambda: asyncpg_call(**asyncpg_kwargs),
        "psycopg (AsyncConnection.connect, DSN)": lambda: psycopg_call(
            psycopg.AsyncConnection, dsn
        ),
    }
    handle = verifyfull.enforce("refuse")
    lines = ["| wrapper around a no-op connect | warm µs | cold µs |", "|---|---|---|"]
    try:
        for name, call in calls_by_driver.items():
            await call()  # the first call fills the caches a pool's later connects hit
            warm = await per_call(call, calls, cold=False)
            cold = await per_call(call, cold_calls, cold=True)
            lines.append(f"| {name} | {warm:.1f} | {cold:.1f} |")
        flush_caches()
        start = time.thread_time()
        flush_caches()
        took = (time.thread_time() - start) * 1e6
        lines.append(f"(cache flush of {FLUSH_MIB} MiB, not counted: {took:.0f} µs CPU)")
    finally:
        handle.stop()
        await apg.close()
        await pconn.close()
    return lines


STEPS = (
    ("judge before (Enforcement.begin)", "begin"),
    ("read the handshake (_tls_facts)", "facts"),
    ("prove and record (Enforcement.connected)", "connected"),
)


async def steps(dsn: str, connects: int) -> list[str]:
    """Median CPU µs of each step inside real enforced connects (see the module doc)."""
    from verifyfull.runtime.enforce import Enforcement

    taken: dict[str, list[int]] = {}

    def timed(owner: Any, name: str, step: str) -> Callable[[], None]:
        real = getattr(owner, name)

        def timing(*args: Any, **kwargs: Any) -> Any:
            start = time.thread_time_ns()
            try:
                return real(*args, **kwargs)
            finally:
                taken.setdefault(step, []).append(time.thread_time_ns() - start)

        setattr(owner, name, timing)
        return lambda: setattr(owner, name, real)

    undo = [
        timed(Enforcement, "begin", "begin"),
        timed(Enforcement, "connected", "connected"),
        timed(asyncpg_hook, "_tls_facts", "facts"),
        timed(psycopg_hook, "_tls_facts", "facts"),
    ]
    opens: dict[str, Callable[[], Awaitable[Any]]] = {
        "asyncpg.connect": lambda: asyncpg.connect(dsn),
        "psycopg AsyncConnection.connect": lambda: psycopg.AsyncConnection.connect(dsn),
    }
    lines = ["| step inside a real connect (median CPU µs) | " + " | ".join(opens) + " |"]
    lines.append("|---|" + "---|" * len(opens))
    medians: dict[str, dict[str, float]] = {}
    handle = verifyfull.enforce("refuse")
    try:
        for name, open_ in opens.items():
            taken.clear()
            for _ in range(connects):
                conn = await open_()
                await conn.close()
            medians[name] = {step: statistics.median(t) / 1e3 for step, t in taken.items()}
    finally:
        handle.stop()
        for restore in undo:
            restore()
    for label, step in STEPS:
        lines.append(f"| {label} | " + " | ".join(f"{medians[n][step]:.1f}" for n in opens) + " |")
    total = " | ".join(f"{sum(medians[n].values()):.1f}" for n in opens)
    lines.append(f"| sum of the medians | {total} |")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=2000, help="warm calls per run (7 runs)")
    parser.add_argument("--cold-calls", type=int, default=300, help="cold calls, each timed")
    parser.add_argument("--steps", type=int, default=0, help="real connects, steps timed")
    args = parser.parse_args()
    load_before = os.getloadavg()[0]
    server = harness.start("secure")
    try:
        lines = asyncio.run(measure(server.dsn(), args.calls, args.cold_calls))
        if args.steps:
            lines += ["", *asyncio.run(steps(server.dsn(), args.steps))]
    finally:
        server.stop()
    load_after = os.getloadavg()[0]
    print(f"machine: {os.cpu_count()} CPUs, load average {load_before:.1f} -> {load_after:.1f}")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
