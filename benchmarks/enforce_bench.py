"""Enforcement overhead on connect and on pooled queries (figures: docs/runtime.md).

    .venv/bin/python benchmarks/enforce_bench.py [--pairs 1000] [--bursts 400]

Against a lab server it starts and stops itself (real PostgreSQL 15), same run:
1. connect time with `verifyfull.enforce("refuse")` active vs not, for
   asyncpg.connect (a verify-full DSN) and psycopg.AsyncConnection.connect (the
   same DSN). Per pair, the enforced side starts enforcement, connects, stops
   it; the reference side connects with the drivers as installed. Starting,
   stopping and closing are outside the timed part: only the connect call is
   measured, which is where enforcement works (judging the arguments and the
   environment before, proving the handshake after).
   Calibration: the reference paired with itself.
2. pooled query throughput (asyncpg pools of 4, 8 concurrent queries): a pool
   created and used under enforcement vs one without, in bursts. Enforcement
   has no hook on the query path; this row shows that nothing else slows it.
3. enforcement's own work per connect without the driver (microseconds,
   warm and with the CPU caches flushed): benchmarks/enforce_work.py.
4. where the connect difference goes, on the same machine in the same run:
   benchmarks/enforce_split.py (the driver's own part and the rest, wall and
   CPU; --split-pairs, 0 to skip).

Estimator, verdict and floor as benchmarks/guard_bench.py (paired samples,
order swapped every pair, median of per-pair rate ratios with a distribution-
free 95% interval; "met" when the interval's lower end is >= 0.98).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import asyncpg
import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent))
import enforce_split
import enforce_work
from guard_bench import (
    GUARD_FLOOR,
    POOL_BLOCK,
    Op,
    Paired,
    burst,
    paired,
    row,
    timed_connect,
)

import verifyfull
from verifyfull.lab import harness
from verifyfull.lab.harness import LabServer

TABLE_HEAD = [
    "| measure | n | enforced median | reference median | ratio (median of pairs) "
    "| 95% interval | target | verdict |",
    "|---|---|---|---|---|---|---|---|",
]


def enforced_connect(connect: Callable[[], Any]) -> Op:
    """Seconds in connect with enforcement active (started and stopped outside the timing)."""

    async def run() -> float:
        handle = verifyfull.enforce("refuse")
        try:
            start = time.perf_counter()
            conn = await connect()
            elapsed = time.perf_counter() - start
        finally:
            handle.stop()
        await conn.close()
        return elapsed

    return run


def under_enforcement(op: Op) -> Op:
    """op timed with enforcement active (started and stopped outside the timing)."""

    async def run() -> float:
        handle = verifyfull.enforce("refuse")
        try:
            start = time.perf_counter()
            await op()
            return time.perf_counter() - start
        finally:
            handle.stop()

    return run


async def pool_block(dsn: str, bursts: int, burst_size: int, warmup: int) -> Paired:
    """One pair of fresh pools (one made under enforcement) and `bursts` paired bursts."""
    handle = verifyfull.enforce("refuse")
    try:
        enforced = await asyncpg.create_pool(dsn, min_size=4, max_size=4)
    finally:
        handle.stop()
    plain = await asyncpg.create_pool(dsn, min_size=4, max_size=4)

    def query(pool: asyncpg.Pool) -> Op:
        return lambda: pool.fetchval("SELECT count(*) FROM users WHERE active")

    try:
        return await paired(
            under_enforcement(burst(query(enforced), burst_size, 8)),
            burst(query(plain), burst_size, 8),
            bursts,
            warmup,
        )
    finally:
        await enforced.close()
        await plain.close()


def bench(server: LabServer, pairs: int, bursts: int, burst_size: int, warmup: int) -> list[str]:
    dsn = server.dsn()
    drivers = {
        "asyncpg connect (verify-full DSN)": lambda: asyncpg.connect(dsn),
        "psycopg async connect (verify-full DSN)": lambda: psycopg.AsyncConnection.connect(dsn),
    }

    async def connects() -> list[tuple[str, Paired, float | None]]:
        results: list[tuple[str, Paired, float | None]] = []
        for name, connect in drivers.items():
            sample = await paired(enforced_connect(connect), timed_connect(connect), pairs, warmup)
            results.append((name, sample, GUARD_FLOOR))
        calibration = timed_connect(drivers["asyncpg connect (verify-full DSN)"])
        sample = await paired(calibration, calibration, pairs, warmup)
        results.append(("calibration: asyncpg vs itself", sample, None))
        return results

    async def pools() -> Paired:
        # Fresh pools every POOL_BLOCK pairs (which server processes a pool gets persists).
        blocks = max(1, round(bursts / POOL_BLOCK))
        sizes = [bursts // blocks + (1 if b < bursts % blocks else 0) for b in range(blocks)]
        samples = [await pool_block(dsn, size, burst_size, warmup) for size in sizes]
        return Paired(
            tuple(t for s in samples for t in s.guard),
            tuple(t for s in samples for t in s.reference),
        )

    lines = [
        "enforcement active vs not (reference); medians per connect, per query for pools",
        *TABLE_HEAD,
    ]
    lines += [
        row(name, sample, "ms", 1000, floor) for name, sample, floor in asyncio.run(connects())
    ]
    pooled_name = f"asyncpg pooled query (bursts of {burst_size}, 8 concurrent, pools of 4)"
    lines.append(row(pooled_name, asyncio.run(pools()), "ms", 1000 / burst_size, GUARD_FLOOR))
    return lines


OPTIONS = (
    ("--pairs", 1000, "connect pairs per driver"),
    ("--bursts", 400, "pooled query burst pairs"),
    ("--burst-size", 128, "queries per burst"),
    ("--warmup", 10, "pairs discarded first"),
    ("--split-pairs", 200, "pairs for the split of enforce_split.py (0: skip)"),
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    for flag, default, what in OPTIONS:
        parser.add_argument(flag, type=int, default=default, help=what)
    args = parser.parse_args()
    if min(args.pairs, args.bursts) < 10:
        parser.error("at least 10 pairs are needed for a 95% interval of the median")
    load_before = os.getloadavg()[0]
    server = harness.start("secure")
    try:
        out = bench(server, args.pairs, args.bursts, args.burst_size, args.warmup)
        out += ["", *asyncio.run(enforce_work.measure(server.dsn(), 1000, 200))]
        if args.split_pairs:
            split = enforce_split.split(server.dsn(), args.split_pairs, args.warmup)
            out += ["", *asyncio.run(split)]
    finally:
        server.stop()
    load_after = os.getloadavg()[0]
    machine = f"machine: {os.cpu_count()} CPUs, load average {load_before:.1f} -> {load_after:.1f}"
    print("\n".join([machine, *out]))


if __name__ == "__main__":
    main()
