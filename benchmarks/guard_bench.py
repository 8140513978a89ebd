"""Guard overhead, TLS vs plaintext endpoint rate, rotation latency (figures: docs/guard.md).

    .venv/bin/python benchmarks/guard_bench.py [--seconds 10] [--rounds 3]

Against lab servers (real PostgreSQL 15, verifyfull.lab), same run:
1. connect rate, asyncpg: guard (`asyncpg_.connect`: settings-built context,
   rotation check, TLS proof) vs a hand-written correct SSLContext;
   and psycopg: guard vs a hand-written verify-full libpq string.
2. pooled query throughput (asyncpg pool, concurrency 8): guard pool vs a
   plain asyncpg pool with the hand-written context.
3. FastAPI endpoint requests/s through a pooled asyncpg connection: TLS
   (guard) vs plaintext, both against the tls-optional variant as app_pw.
4. time from certificate replacement on disk to the first new connection
   presenting it (server side, pg_stat_ssl.client_serial): on the next
   connect, and through a pool with the background poll at 1 s.
The two sides of each comparison run interleaved in the same seconds (turns
swapped each time; for the endpoint both apps run at once), so machine load
hits both alike and the ratio means something even on a busy machine. Not a
test: absolute figures depend on the machine.
"""

from __future__ import annotations

import argparse
import asyncio
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
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import psycopg
from cryptography import x509

from verifyfull.certs.create import create_client
from verifyfull.guard import Guard, asyncpg_, psycopg_
from verifyfull.guard.settings import DatabaseTLSSettings
from verifyfull.lab import harness
from verifyfull.lab.harness import LabServer

HERE = Path(__file__).resolve().parent


def guard_for(
    server: LabServer, user: str = "app", certs: Path | None = None, **more: Any
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
    return Guard(DatabaseTLSSettings(**values).resolve())


def hand_context(server: LabServer) -> ssl.SSLContext:
    ctx = ssl.create_default_context(cafile=str(server.certs_dir / "ca.crt"))
    ctx.load_cert_chain(
        str(server.certs_dir / "client.app.crt"), str(server.certs_dir / "client.app.key")
    )
    return ctx


Op = Callable[[], Awaitable[Any]]


async def interleaved(a: Op, b: Op, seconds: float, concurrency: int = 1) -> tuple[float, float]:
    """Run a and b in turns (order swapped each time) on `concurrency` workers for
    `seconds`; return operations per second of busy time for each side.

    Both sides see the same machine load at the same moments, which is what
    makes a ratio meaningful on a busy shared machine.
    """
    busy = {a: 0.0, b: 0.0}
    count = {a: 0, b: 0}
    stop = time.perf_counter() + seconds

    async def worker(offset: int) -> None:
        turn = offset
        while time.perf_counter() < stop:
            for op in (a, b) if turn % 2 == 0 else (b, a):
                start = time.perf_counter()
                await op()
                busy[op] += time.perf_counter() - start
                count[op] += 1
            turn += 1

    await asyncio.gather(*(worker(i) for i in range(concurrency)))
    return (concurrency * count[a] / busy[a], concurrency * count[b] / busy[b])


def row(name: str, guard: float, other: float, unit: str) -> str:
    return f"| {name} | {guard:,.1f} {unit} | {other:,.1f} {unit} | {guard / other:.3f} |"


def bench_connect_and_pool(server: LabServer, seconds: float) -> list[str]:
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

    async def asyncpg_guard() -> None:
        await (await asyncpg_.connect(guard)).close()

    async def asyncpg_hand() -> None:
        await (await asyncpg.connect(**plain, ssl=ctx)).close()

    async def psycopg_guard() -> None:
        await (await psycopg_.connect_async(guard)).close()

    async def psycopg_hand() -> None:
        await (await psycopg.AsyncConnection.connect(dsn)).close()

    async def pools() -> tuple[float, float]:
        guarded = await asyncpg_.create_pool(guard, min_size=4, max_size=4)
        hand = await asyncpg.create_pool(**plain, ssl=ctx, min_size=4, max_size=4)
        sql = "SELECT count(*) FROM users WHERE active"
        try:
            return await interleaved(
                lambda: guarded.fetchval(sql), lambda: hand.fetchval(sql), seconds, 8
            )
        finally:
            await guarded.close()
            await hand.close()

    lines = ["| measure | guard | hand-written | ratio |", "|---|---|---|---|"]
    rates = asyncio.run(interleaved(asyncpg_guard, asyncpg_hand, seconds))
    lines.append(row("asyncpg connects/s", *rates, "/s"))
    rates = asyncio.run(interleaved(psycopg_guard, psycopg_hand, seconds))
    lines.append(row("psycopg connects/s", *rates, "/s"))
    lines.append(
        row("asyncpg pooled queries/s (8 workers, pools of 4)", *asyncio.run(pools()), "/s")
    )
    guard.close()
    return lines


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


def bench_endpoint(seconds: float) -> list[str]:
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

        async def load() -> tuple[float, float]:
            async with httpx.AsyncClient(timeout=10) as client:

                async def get(url: str) -> None:
                    (await client.get(url)).raise_for_status()

                return await interleaved(
                    lambda: get(f"{tls_base}/users"), lambda: get(f"{plain_base}/users"), seconds, 8
                )

        tls, plain = asyncio.run(load())
    finally:
        for proc in procs:
            proc.send_signal(signal.SIGINT)
            proc.wait(10)
        server.stop()
        shutil.rmtree(app_dir, ignore_errors=True)
    return [
        "| measure | TLS (guard) | plaintext | ratio |",
        "|---|---|---|---|",
        row("GET /users requests/s (8 clients, pool 8)", tls, plain, "/s"),
    ]


# --- rotation latency ---------------------------------------------------------------


def _serial_of(path: Path) -> int:
    return x509.load_pem_x509_certificate(path.read_bytes()).serial_number


def bench_rotation(server: LabServer, rounds: int) -> list[str]:
    certs = Path(tempfile.mkdtemp(prefix="guard-rot-"))
    for name in ("ca.crt", "client.app.crt", "client.app.key"):
        shutil.copy2(server.certs_dir / name, certs / name)
    serial_sql = "SELECT client_serial FROM pg_stat_ssl WHERE pid = pg_backend_pid()"
    guard = guard_for(server, certs=certs)

    async def next_connect() -> float:
        create_client("app", certs, server.ca_key, overwrite=True)
        replaced = time.perf_counter()
        new = _serial_of(certs / "client.app.crt")
        conn = await asyncpg_.connect(guard)
        try:
            assert int(await conn.fetchval(serial_sql)) == new
        finally:
            await conn.close()
        return time.perf_counter() - replaced

    async def through_pool() -> float:
        pool = await asyncpg_.create_pool(guard, min_size=2, max_size=2)
        watcher = asyncio.create_task(guard.material.watch(1.0))
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

    direct = statistics.median(asyncio.run(next_connect()) for _ in range(rounds))
    pooled = statistics.median(asyncio.run(through_pool()) for _ in range(rounds))
    guard.close()
    shutil.rmtree(certs, ignore_errors=True)
    return [
        "| rotation: files replaced -> first new connection presenting them | median |",
        "|---|---|",
        f"| next guarded connect (stat on connect) | {direct * 1000:.0f} ms |",
        f"| asyncpg pool, background poll every 1 s, expire on rotation | {pooled * 1000:.0f} ms |",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--rounds", type=int, default=3, help="rotation samples")
    args = parser.parse_args()
    server = harness.start("secure")
    try:
        out = bench_connect_and_pool(server, args.seconds)
        out += ["", *bench_rotation(server, args.rounds)]
    finally:
        server.stop()
    out += ["", *bench_endpoint(args.seconds)]
    print(f"machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at the end")
    print("\n".join(out))


if __name__ == "__main__":
    main()
