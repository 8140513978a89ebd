"""Guard overhead, TLS vs plaintext endpoint rate, rotation latency (figures: docs/guard.md).

    .venv/bin/python benchmarks/guard_bench.py [--pairs 1500] [--bursts 600] [--rounds 3]

Against lab servers it starts and stops itself (real PostgreSQL 15,
verifyfull.lab), same run:
1. connect time, asyncpg: guard (`asyncpg_.connect`: settings-built context,
   rotation check, TLS proof) vs a hand-written correct SSLContext; and
   psycopg: guard (`psycopg_.connect_async`) vs a hand-written verify-full
   libpq string. The time of the connect call is measured (closing is not).
   Calibration: the hand-written asyncpg connect paired with itself, the
   estimator's own noise (its interval should hold 1).
2. pooled query throughput (asyncpg pools of 4, 8 concurrent queries): guard
   pool vs a plain asyncpg pool with the hand-written context, in bursts.
3. FastAPI endpoint through a pooled asyncpg connection: TLS (guard) vs
   plaintext, both apps against the tls-optional variant as app_pw, in bursts.
4. time from certificate replacement on disk to the first new connection
   presenting it (server side, pg_stat_ssl.client_serial): connecting back
   to back with the guard looking at the files before every connect
   (min_check_interval=0) and with the default (at most once per second),
   and through a pool with the background poll at 1 s.
5. the guard's own work per connect without the driver call (microseconds).

Estimator (1-3): paired samples. Each pair runs one guard operation and one
reference operation back to back, the order swapped every pair, so both see
the same machine load (this machine is shared and busy). Per pair the rate
ratio is r = t_reference / t_guard (above 1: the guard was faster). The
figure is the median of r over n pairs (after a discarded warm-up), with a
distribution-free 95% confidence interval for that median from order
statistics (the binomial(n, 1/2) ranks; no resampling, no normality).

Verdict against a target floor F (0.98 for guard vs hand-written, i.e.
"within 2%"; 0.90 for TLS vs plaintext): "met" when the interval's lower end
is >= F (at most 2% slower, with 95% confidence; a guard faster than the
hand-written code is fine, so the upper end does not matter); "not met" when
its upper end is < F (demonstrably slower than the floor); otherwise
"undecided" (run more pairs). The interval covers the noise within one run,
not what persists through a run (which server processes a pool got, memory
placement): pools are re-created every 100 pairs for that reason, and a
target counts as met only when every run says "met". Not a test: absolute
figures depend on the machine; the ratios are the result.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import shutil
import signal
import socket
import ssl
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import psycopg
from cryptography import x509

from verifyfull.certs.create import create_client
from verifyfull.guard import Guard, asyncpg_, psycopg_
from verifyfull.guard.rotation import DEFAULT_MIN_CHECK_INTERVAL
from verifyfull.guard.settings import DatabaseTLSSettings
from verifyfull.lab import harness
from verifyfull.lab.harness import LabServer

HERE = Path(__file__).resolve().parent
GUARD_FLOOR = 0.98  # "within 2%" of the hand-written code; faster is fine
ENDPOINT_FLOOR = 0.90  # "at least 90% of plaintext"
POOL_BLOCK = 100  # burst pairs per pair of fresh pools


def guard_for(
    server: LabServer,
    user: str = "app",
    certs: Path | None = None,
    min_check_interval: float = DEFAULT_MIN_CHECK_INTERVAL,
    **more: Any,
) -> Guard:
    values: dict[str, Any] = {
        "host": server.hostname,
        "port": server.port,
        "name": server.database,
        "user": user,
        "certs_dir": certs or server.certs_dir,
    }
    if user == server.password_user:
        values["password"] = server.password
    values.update(more)
    return Guard(DatabaseTLSSettings(**values).resolve(), min_check_interval=min_check_interval)


def hand_context(server: LabServer) -> ssl.SSLContext:
    ctx = ssl.create_default_context(cafile=str(server.certs_dir / "ca.crt"))
    ctx.load_cert_chain(
        str(server.certs_dir / "client.app.crt"), str(server.certs_dir / "client.app.key")
    )
    return ctx


Op = Callable[[], Awaitable[Any]]


@dataclass(frozen=True)
class Paired:
    """n paired samples of one comparison: seconds per operation (or burst) on each side."""

    guard: tuple[float, ...]
    reference: tuple[float, ...]

    @property
    def n(self) -> int:
        return len(self.guard)

    @property
    def ratios(self) -> list[float]:
        """Per pair, rate of the guard side over rate of the reference side."""
        return sorted(r / g for g, r in zip(self.guard, self.reference, strict=True))

    def median_ratio(self) -> float:
        return statistics.median(self.ratios)

    def interval(self) -> tuple[float, float]:
        """Distribution-free 95% confidence interval of the median ratio (order statistics)."""
        ratios, j = self.ratios, median_rank(self.n)
        return ratios[j - 1], ratios[self.n - j]

    def verdict(self, floor: float) -> str:
        low, high = self.interval()
        if low >= floor:
            return "met"
        if high < floor:
            return "not met"
        return "undecided"


def median_rank(n: int) -> int:
    """The 1-based rank j such that [x_(j), x_(n+1-j)] covers the median with >= 95%.

    The largest j with P(Binomial(n, 1/2) <= j - 1) <= 2.5%, in exact integers.
    """
    below, j = 0, 0
    while j < n:
        below += math.comb(n, j)  # P(B <= j) * 2**n
        if below * 40 > 2**n:
            break
        j += 1
    if j == 0:
        raise ValueError(f"{n} pairs are too few for a 95% interval of the median")
    return j


async def paired(guard_op: Op, reference_op: Op, pairs: int, warmup: int) -> Paired:
    """Time guard_op and reference_op back to back, order swapped each pair.

    An op returns None (the whole call is timed) or the seconds to count
    (e.g. the connect but not the close that follows).
    """
    guard_times: list[float] = []
    reference_times: list[float] = []
    for i in range(warmup + pairs):
        times: dict[str, float] = {}
        order = (("guard", guard_op), ("reference", reference_op))
        for side, op in order if i % 2 == 0 else order[::-1]:
            start = time.perf_counter()
            counted = await op()
            times[side] = counted if counted is not None else time.perf_counter() - start
        if i >= warmup:
            guard_times.append(times["guard"])
            reference_times.append(times["reference"])
    return Paired(tuple(guard_times), tuple(reference_times))


def burst(op: Op, size: int, concurrency: int) -> Op:
    """One burst: `size` calls of op on `concurrency` concurrent workers."""

    async def run() -> None:
        remaining = size

        async def worker() -> None:
            nonlocal remaining
            while remaining > 0:
                remaining -= 1
                await op()

        await asyncio.gather(*(worker() for _ in range(concurrency)))

    return run


def timed_connect(connect: Op) -> Op:
    """Seconds spent in connect; the connection is closed outside the timed part."""

    async def run() -> float:
        start = time.perf_counter()
        conn = await connect()
        elapsed = time.perf_counter() - start
        await conn.close()
        return elapsed

    return run


TABLE_HEAD = [
    "| measure | n | guard median | reference median | ratio (median of pairs) "
    "| 95% interval | target | verdict |",
    "|---|---|---|---|---|---|---|---|",
]


def row(name: str, result: Paired, unit: str, scale: float, floor: float | None) -> str:
    """One table row; floor None marks a calibration row (no target, no verdict)."""
    low, high = result.interval()
    target, verdict = (f">= {floor:.2f}", result.verdict(floor)) if floor else ("-", "-")
    return (
        f"| {name} | {result.n} | {statistics.median(result.guard) * scale:.2f} {unit} "
        f"| {statistics.median(result.reference) * scale:.2f} {unit} "
        f"| {result.median_ratio():.4f} | [{low:.4f}, {high:.4f}] | {target} | {verdict} |"
    )


def bench_connect_and_pool(
    server: LabServer, pairs: int, bursts: int, burst_size: int, warmup: int
) -> list[str]:
    guard = guard_for(server)
    ctx = hand_context(server)
    plain = {
        "host": server.hostname,
        "port": server.port,
        "user": "app",
        "database": server.database,
    }
    dsn = (
        f"host={server.hostname} port={server.port} user=app dbname={server.database} "
        f"sslmode=verify-full sslrootcert={server.certs_dir / 'ca.crt'} "
        f"sslcert={server.certs_dir / 'client.app.crt'} "
        f"sslkey={server.certs_dir / 'client.app.key'}"
    )

    def hand_asyncpg() -> Op:
        return timed_connect(lambda: asyncpg.connect(**plain, ssl=ctx))

    async def connects() -> tuple[Paired, Paired, Paired]:
        asyncpg_pairs = await paired(
            timed_connect(lambda: asyncpg_.connect(guard)), hand_asyncpg(), pairs, warmup
        )
        psycopg_pairs = await paired(
            timed_connect(lambda: psycopg_.connect_async(guard)),
            timed_connect(lambda: psycopg.AsyncConnection.connect(dsn)),
            pairs,
            warmup,
        )
        # The same reference on both sides: the estimator's own noise and bias.
        calibration = await paired(hand_asyncpg(), hand_asyncpg(), pairs, warmup)
        return asyncpg_pairs, psycopg_pairs, calibration

    async def fresh_pools(hand_first: bool) -> tuple[asyncpg.Pool, asyncpg.Pool]:
        if hand_first:
            hand = await asyncpg.create_pool(**plain, ssl=ctx, min_size=4, max_size=4)
            return await asyncpg_.create_pool(guard, min_size=4, max_size=4), hand
        guarded = await asyncpg_.create_pool(guard, min_size=4, max_size=4)
        return guarded, await asyncpg.create_pool(**plain, ssl=ctx, min_size=4, max_size=4)

    async def pools() -> Paired:
        """Fresh pools every POOL_BLOCK pairs, created in alternating order: which server
        processes a pool happens to get persists for its life and would otherwise bias
        one whole run."""

        def query(pool: asyncpg.Pool) -> Op:
            return lambda: pool.fetchval("SELECT count(*) FROM users WHERE active")

        guard_times: list[float] = []
        reference_times: list[float] = []
        blocks = max(1, round(bursts / POOL_BLOCK))
        for block in range(blocks):
            size = bursts // blocks + (1 if block < bursts % blocks else 0)
            guarded, hand = await fresh_pools(hand_first=block % 2 == 1)
            try:
                result = await paired(
                    burst(query(guarded), burst_size, 8),
                    burst(query(hand), burst_size, 8),
                    size,
                    warmup,
                )
            finally:
                await guarded.close()
                await hand.close()
            guard_times += result.guard
            reference_times += result.reference
        return Paired(tuple(guard_times), tuple(reference_times))

    try:
        asyncpg_pairs, psycopg_pairs, calibration = asyncio.run(connects())
        pooled = asyncio.run(pools())
    finally:
        guard.close()
    per_query = 1000 / burst_size
    return [
        "guard vs hand-written (reference); medians per connect, per query for pools",
        *TABLE_HEAD,
        row("asyncpg connect", asyncpg_pairs, "ms", 1000, GUARD_FLOOR),
        row("psycopg connect", psycopg_pairs, "ms", 1000, GUARD_FLOOR),
        row("calibration: asyncpg hand-written vs itself", calibration, "ms", 1000, None),
        row(
            f"asyncpg pooled query (bursts of {burst_size}, 8 concurrent, pools of 4)",
            pooled,
            "ms",
            per_query,
            GUARD_FLOOR,
        ),
    ]


def guard_work(server: LabServer, calls: int = 3000) -> list[str]:
    """The guard's own Python work per connect, without the driver call (median of 7 runs)."""
    guard = guard_for(server)
    material = guard.material

    def per_call(fn: Callable[[], Any]) -> float:
        runs = []
        for _ in range(7):
            start = time.perf_counter()
            for _ in range(calls):
                fn()
            runs.append((time.perf_counter() - start) / calls * 1e6)
        return statistics.median(runs)

    async def measure() -> list[str]:
        conn = await asyncpg_.connect(guard)
        pconn = await psycopg_.connect_async(guard)

        def asyncpg_side() -> None:  # what asyncpg_.connect adds around asyncpg.connect
            kwargs = asyncpg_.connect_kwargs(guard)
            asyncpg_.prove_connection(guard, conn)
            assert material.current_context() is kwargs["ssl"]

        def psycopg_side() -> None:  # what psycopg_.connect_async adds around the driver
            files = material.libpq_files()
            psycopg_.libpq_params(guard, files)
            psycopg_.password_kwargs(guard)
            psycopg_.prove_connection(guard, pconn)
            assert material.current_libpq_files() is files

        try:
            asyncpg_us, psycopg_us = per_call(asyncpg_side), per_call(psycopg_side)
            look_us = per_call(material.check)
            return [
                "| guard work per connect (no driver call) | us |",
                "|---|---|",
                f"| asyncpg: arguments, proof (rotation look not due) | {asyncpg_us:.1f} |",
                f"| psycopg: snapshot, parameters, proof via ctypes (not due) | {psycopg_us:.1f} |",
                f"| rotation look when due (one stat pass; at most 1 per s) | {look_us:.1f} |",
            ]
        finally:
            await conn.close()
            await pconn.close()

    try:
        return asyncio.run(measure())
    finally:
        guard.close()


# --- FastAPI: TLS vs plaintext ------------------------------------------------------

APP_SOURCE = """
import os, ssl
import asyncpg
from fastapi import FastAPI, Request
from contextlib import asynccontextmanager
from verifyfull.guard.fastapi import database_lifespan, db_connection
from fastapi import Depends

MODE = os.environ["BENCH_MODE"]
if MODE == "tls":
    app = FastAPI(lifespan=database_lifespan(sqlalchemy_dialect=None, asyncpg_pool=True,
                                             pool_kwargs={"min_size": 8, "max_size": 8}))

    @app.get("/users")
    async def users(conn=Depends(db_connection)):
        return [dict(r) for r in await conn.fetch("SELECT username, email FROM users WHERE active")]
else:
    @asynccontextmanager
    async def lifespan(app):
        app.state.pool = await asyncpg.create_pool(
            host=os.environ["DB_HOST"], port=int(os.environ["DB_PORT"]),
            user=os.environ["DB_USER"], password=os.environ["DB_PASSWORD"],
            database=os.environ["DB_NAME"], ssl=False, min_size=8, max_size=8)
        yield
        await app.state.pool.close()

    app = FastAPI(lifespan=lifespan)

    @app.get("/users")
    async def users(request: Request):
        async with request.app.state.pool.acquire() as conn:
            rows = await conn.fetch("SELECT username, email FROM users WHERE active")
            return [dict(r) for r in rows]
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_app(app_dir: Path, env: dict[str, str]) -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "bench_app:app",
            "--app-dir",
            str(app_dir),
            "--port",
            str(port),
            "--log-level",
            "warning",
            "--no-access-log",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(f"{base}/users", timeout=2).status_code == 200:
                return proc, base
        except httpx.HTTPError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                raise RuntimeError("bench app did not start") from None
            time.sleep(0.1)


def bench_endpoint(bursts: int, burst_size: int, warmup: int) -> list[str]:
    server = harness.start("tls-optional")
    app_dir = Path(tempfile.mkdtemp(prefix="guard-bench-"))
    (app_dir / "bench_app.py").write_text(APP_SOURCE)
    base_env = {k: v for k, v in os.environ.items() if not k.startswith(("DB_", "PG"))}
    base_env.update(
        DB_HOST=server.hostname,
        DB_PORT=str(server.port),
        DB_NAME=server.database,
        DB_USER=server.password_user,
        DB_PASSWORD=server.password,
        DB_CA_PATH=str(server.certs_dir / "ca.crt"),
    )
    procs = []
    try:
        tls_proc, tls_base = start_app(app_dir, base_env | {"BENCH_MODE": "tls"})
        procs.append(tls_proc)
        plain_proc, plain_base = start_app(app_dir, base_env | {"BENCH_MODE": "plain"})
        procs.append(plain_proc)

        async def load() -> Paired:
            async with httpx.AsyncClient(timeout=10) as client:

                async def get(url: str) -> None:
                    (await client.get(url)).raise_for_status()

                return await paired(
                    burst(lambda: get(f"{tls_base}/users"), burst_size, 8),
                    burst(lambda: get(f"{plain_base}/users"), burst_size, 8),
                    bursts,
                    warmup,
                )

        result = asyncio.run(load())
    finally:
        for proc in procs:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
        server.stop()
        shutil.rmtree(app_dir, ignore_errors=True)
    return [
        "TLS through the guard vs plaintext (reference); medians per request",
        *TABLE_HEAD,
        row(
            f"GET /users (bursts of {burst_size}, 8 clients, pool 8)",
            result,
            "ms",
            1000 / burst_size,
            ENDPOINT_FLOOR,
        ),
    ]


# --- rotation latency ---------------------------------------------------------------


def _serial_of(path: Path) -> int:
    return x509.load_pem_x509_certificate(path.read_bytes()).serial_number


def bench_rotation(server: LabServer, rounds: int) -> list[str]:
    certs = Path(tempfile.mkdtemp(prefix="guard-rot-"))
    for name in ("ca.crt", "client.app.crt", "client.app.key"):
        shutil.copy2(server.certs_dir / name, certs / name)
    serial_sql = "SELECT client_serial FROM pg_stat_ssl WHERE pid = pg_backend_pid()"
    every_connect = guard_for(server, certs=certs, min_check_interval=0)
    default = guard_for(server, certs=certs)  # looks at most once per second

    async def connects_until_rotated(guard: Guard) -> tuple[float, int]:
        """Connect back to back (a busy app) until a connection presents the new certificate."""
        await (await asyncpg_.connect(guard)).close()  # the guard has just looked
        create_client("app", certs, server.ca_key, overwrite=True)
        replaced = time.perf_counter()
        new = _serial_of(certs / "client.app.crt")
        for attempt in range(1, 1000):
            conn = await asyncpg_.connect(guard)
            try:
                if int(await conn.fetchval(serial_sql)) == new:
                    return time.perf_counter() - replaced, attempt
            finally:
                await conn.close()
        raise RuntimeError("the rotated certificate never reached a new connection")

    async def through_pool() -> float:
        pool = await asyncpg_.create_pool(default, min_size=2, max_size=2)
        watcher = asyncio.create_task(default.material.watch(1.0))
        try:
            create_client("app", certs, server.ca_key, overwrite=True)
            replaced = time.perf_counter()
            new = _serial_of(certs / "client.app.crt")
            while int(await pool.fetchval(serial_sql)) != new:
                await asyncio.sleep(0.01)
            return time.perf_counter() - replaced
        finally:
            watcher.cancel()
            await pool.close()

    try:
        direct = [asyncio.run(connects_until_rotated(every_connect)) for _ in range(rounds)]
        limited = [asyncio.run(connects_until_rotated(default)) for _ in range(rounds)]
        pooled = statistics.median(asyncio.run(through_pool()) for _ in range(rounds))
    finally:
        every_connect.close()
        default.close()
        shutil.rmtree(certs, ignore_errors=True)

    def cell(samples: list[tuple[float, int]]) -> str:
        latency = statistics.median(seconds for seconds, _ in samples) * 1000
        return f"{latency:.0f} ms ({', '.join(str(n) for _, n in samples)} connects)"

    return [
        f"| rotation: files replaced -> first new connection using them | median of {rounds} |",
        "|---|---|",
        f"| back-to-back connects, min_check_interval=0 (look every connect) | {cell(direct)} |",
        f"| back-to-back connects, default min_check_interval=1 s | {cell(limited)} |",
        f"| asyncpg pool, background poll every 1 s, expire on rotation | {pooled * 1000:.0f} ms |",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=1500, help="connect pairs per driver")
    parser.add_argument("--bursts", type=int, default=600, help="pooled query burst pairs")
    parser.add_argument("--burst-size", type=int, default=128, help="queries per burst")
    parser.add_argument("--endpoint-bursts", type=int, default=200, help="endpoint burst pairs")
    parser.add_argument("--endpoint-burst-size", type=int, default=32, help="requests per burst")
    parser.add_argument("--warmup", type=int, default=10, help="pairs discarded first")
    parser.add_argument("--rounds", type=int, default=3, help="rotation samples")
    parser.add_argument("--skip-endpoint", action="store_true")
    args = parser.parse_args()
    if min(args.pairs, args.bursts, args.endpoint_bursts) < 10:
        parser.error("at least 10 pairs are needed for a 95% interval of the median")
    load_before = os.getloadavg()[0]
    server = harness.start("secure")
    try:
        out = bench_connect_and_pool(server, args.pairs, args.bursts, args.burst_size, args.warmup)
        out += ["", *guard_work(server)]
        out += ["", *bench_rotation(server, args.rounds)]
    finally:
        server.stop()
    if not args.skip_endpoint:
        out += [
            "",
            *bench_endpoint(args.endpoint_bursts, args.endpoint_burst_size, args.warmup),
        ]
    print(
        f"machine: {os.cpu_count()} CPUs, load average {load_before:.1f} at the start, "
        f"{os.getloadavg()[0]:.1f} at the end"
    )
    print("\n".join(out))


if __name__ == "__main__":
    main()
