"""Enforcement's steps inside real connects, another tree's code against this one, interleaved.

    .venv/bin/python benchmarks/enforce_ab.py --base-src /tmp/base/src [--connects 400]

On a loaded machine separate runs of `enforce_work.py --steps` differ by more
than a cut of a few microseconds (the same code gave 40 and 74 µs for one
step, minutes apart). Here both trees run in one process: the other tree's
`verifyfull` is loaded as `verifyfull_base` (a copy with its imports and
module names renamed, made in a temporary directory), and real connects to the
lab's verify-full server alternate between the two enforcements, ABBA per
connect, so load and cache drift hit both alike. For each side and driver:
the median CPU µs of the memo key of the call's arguments (made by the wrapper
before `begin`: asyncpg_hook.plain_key, psycopg_hook.libpq_key),
`Enforcement.begin`, the wrapper's `_tls_facts` and `Enforcement.connected`
(as enforce_work.py --steps), the median of their sum
per connect, and the median of the per-pair differences (base - this tree)
with its interquartile range. `--base-src src` compares this tree with itself
(the tool's own bias: about +1 µs on the sum, session 8).

Export a tree to compare with: `git archive BASE src | tar -x -C /tmp/base`.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import os
import re
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import asyncpg
import psycopg

import verifyfull
from verifyfull.lab import harness

ALIAS = "verifyfull_base"
STEPS = ("key", "begin", "facts", "connected")


def load_tree(src: Path, into: Path) -> ModuleType:
    """The `verifyfull` package under src, importable as ALIAS (its own modules throughout)."""
    shutil.copytree(src / "verifyfull", into / ALIAS)
    for path in (into / ALIAS).rglob("*.py"):
        text = path.read_text()
        text = re.sub(r"\bverifyfull\.(?=[a-z_])", f"{ALIAS}.", text)  # imports, module names
        text = re.sub(r"^(\s*)(from|import) verifyfull\b", rf"\1\2 {ALIAS}", text, flags=re.M)
        path.write_text(text)
    sys.path.insert(0, str(into))
    return importlib.import_module(ALIAS)


class Side:
    """One tree's enforcement, with its three steps timed (CPU ns, appended per connect)."""

    def __init__(self, package: str) -> None:
        self.enforce = importlib.import_module(package).enforce
        enforcement = importlib.import_module(f"{package}.runtime.enforce").Enforcement
        self.taken: dict[str, list[int]] = {step: [] for step in STEPS}
        self._timed(enforcement, "begin", "begin")
        self._timed(enforcement, "connected", "connected")
        for hook, key in (("asyncpg_hook", "plain_key"), ("psycopg_hook", "libpq_key")):
            module = importlib.import_module(f"{package}.runtime.{hook}")
            self._timed(module, "_tls_facts", "facts")
            self._timed(module, key, "key")  # the wrapper makes it before calling begin

    def _timed(self, owner: Any, name: str, step: str) -> None:
        real = getattr(owner, name)
        times = self.taken[step]

        def timing(*args: Any, **kwargs: Any) -> Any:
            start = time.thread_time_ns()
            try:
                return real(*args, **kwargs)
            finally:
                times.append(time.thread_time_ns() - start)

        setattr(owner, name, timing)

    def clear(self) -> None:
        for times in self.taken.values():
            times.clear()


async def compare(base: Side, this: Side, opens: dict[str, Callable[[], Awaitable[Any]]],
                  connects: int) -> list[str]:  # fmt: skip
    lines = [
        "| step inside a real connect, median CPU µs | base | this tree | base - this, per pair "
        "(median [IQR]) |",
        "|---|---|---|---|",
    ]
    for name, open_ in opens.items():
        for side in (base, this):  # warm both: memos, lazy imports, ctypes prototypes
            handle = side.enforce("refuse")
            await (await open_()).close()
            handle.stop()
            side.clear()
        for i in range(connects):
            order = (base, this) if i % 4 in (0, 3) else (this, base)  # ABBA
            for side in order:
                handle = side.enforce("refuse")
                try:
                    conn = await open_()
                finally:
                    handle.stop()
                await conn.close()
        for step in (*STEPS, "sum"):
            per = {
                s: [sum(t) for t in zip(*s.taken.values(), strict=True)]
                if step == "sum"
                else s.taken[step]
                for s in (base, this)
            }
            diffs = sorted(b - t for b, t in zip(per[base], per[this], strict=True))
            q1, q3 = diffs[len(diffs) // 4], diffs[3 * len(diffs) // 4]
            lines.append(
                f"| {name}: {step} | {statistics.median(per[base]) / 1e3:.1f} "
                f"| {statistics.median(per[this]) / 1e3:.1f} "
                f"| {statistics.median(diffs) / 1e3:+.1f} [{q1 / 1e3:+.1f}, {q3 / 1e3:+.1f}] |"
            )
        base.clear()
        this.clear()
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base-src", type=Path, required=True, help="the other tree's src/")
    parser.add_argument("--connects", type=int, default=400, help="connect pairs per driver")
    args = parser.parse_args()
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as tmp:
        load_tree(args.base_src, Path(tmp))
        base, this = Side(ALIAS), Side("verifyfull")
        server = harness.start("secure")
        try:
            dsn = server.dsn()
            opens: dict[str, Callable[[], Awaitable[Any]]] = {
                "asyncpg.connect": lambda: asyncpg.connect(dsn),
                "psycopg AsyncConnection.connect": lambda: psycopg.AsyncConnection.connect(dsn),
            }
            lines = asyncio.run(compare(base, this, opens, args.connects))
        finally:
            server.stop()
    load_after = os.getloadavg()[0]
    print(f"machine: {os.cpu_count()} CPUs, load average {load_before:.1f} -> {load_after:.1f}")
    print(f"this tree: {Path(verifyfull.__file__).parent}; base: {args.base_src}")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
