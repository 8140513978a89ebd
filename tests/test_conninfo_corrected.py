"""The corrected forms run: each one, given the lab's files, connects with verify-full.

The corrected form is what `explain` tells a user to paste; it must be valid
code or a valid URL, judged clean by the model, and really connect over TLS
with the chain and host name checked (a wrong-host server is refused).
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path
from typing import Any

import psycopg
import pytest

from verifyfull.conninfo import evaluate, parse_dsn, parse_for_driver
from verifyfull.conninfo.corrected import DEFAULT_ROOT

TIMEOUT = 5
SSL_QUERY = "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()"

# (written form with {h} {p} {ca} {cert} {key}, driver)
INPUTS = [
    ("postgresql://root@{h}:{p}/defaultdb?sslcert={cert}&sslkey={key}", "psycopg"),
    ("postgresql://root@{h}:{p}/defaultdb?sslmode=require&sslcert={cert}&sslkey={key}", "psycopg"),
    ("postgresql+psycopg://root@{h}:{p}/defaultdb?ssl=require&sslcert={cert}&sslkey={key}", None),
    ("postgresql://root@{h}:{p}/defaultdb?sslmode=prefer&sslcert={cert}&sslkey={key}", "asyncpg"),
    (
        "postgresql+asyncpg://root@{h}:{p}/defaultdb?sslmode=verify-ca&sslcert={cert}"
        "&sslkey={key}&sslrootcert={ca}",
        None,
    ),
    ("postgres://root@{h}:{p}/defaultdb?ssl=false&sslcert={cert}&sslkey={key}", "tortoise"),
    ("psycopg://root@{h}:{p}/defaultdb?ssl=true&sslcert={cert}&sslkey={key}", "tortoise"),
]


def _values(server: Any) -> dict[str, str]:
    certs = server.certs_dir
    return {
        "h": server.hostname,
        "p": str(server.port),
        "ca": str(certs / "ca.crt"),
        "cert": str(certs / "client.root.crt"),
        "key": str(certs / "client.root.key"),
    }


def _corrected(text: str, driver: str | None, values: dict[str, str]) -> tuple[str, str]:
    info = parse_for_driver(text.format(**values), driver)
    verdict = evaluate(info, driver)
    assert verdict.findings, "the input should need a correction"
    # The lab's CA stands in for the placeholder root.
    corrected = verdict.corrected.replace(f'"{DEFAULT_ROOT}"', f'"{values["ca"]}"')
    return verdict.driver, corrected.replace(f"={DEFAULT_ROOT}", f"={values['ca']}")


# Runs after the corrected lines, in the same function: what they made must
# connect, and the session must be encrypted.
_CHECK = """
    made = locals()
    if "ctx" in made:
        assert isinstance(made["ctx"], ssl.SSLContext)
    entry = made.get("TORTOISE_ORM", {"connections": {"default": {}}})["connections"]["default"]
    if entry.get("engine") == "tortoise.backends.psycopg":
        # Tortoise's psycopg backend hides libpq's error behind a pool
        # timeout: take the conninfo it builds and hand it to libpq.
        captured = []

        class Capturing(PsycopgClient):
            async def create_pool(self, **pool_kwargs):
                captured.append(pool_kwargs["conninfo"])
                raise LookupError

        client = Capturing(connection_name="corrected", **entry["credentials"])
        try:
            await client.create_connection(with_db=True)
        except LookupError:
            pass
        async with await psycopg.AsyncConnection.connect(
            captured[0], connect_timeout=TIMEOUT
        ) as aconn:
            print((await (await aconn.execute(QUERY)).fetchone())[0])
    elif "conn" in made:
        print(await conn.fetchval(QUERY))
        await conn.close()
    elif "engine" in made:
        async with engine.connect() as c:
            print((await c.exec_driver_sql(QUERY)).scalar())
        await engine.dispose()
    else:
        creds = TORTOISE_ORM["connections"]["default"]["credentials"]
        client = AsyncpgDBClient(connection_name="corrected", timeout=TIMEOUT, **creds)
        await client.create_connection(with_db=True)
        print((await client.execute_query_dict(QUERY))[0]["ssl"])
        await client.close()
"""


async def _run_corrected(driver: str, corrected: str, tmp_path: Path) -> bool:
    if driver in ("psycopg", "sqlalchemy+psycopg"):
        url = corrected.replace("postgresql+psycopg://", "postgresql://")
        info = parse_dsn(url)
        assert evaluate(info, "psycopg").findings == ()
        return await asyncio.to_thread(_psycopg_ssl, url)
    # Run it as a user would: pasted into a script of its own.
    body = "\n".join("    " + line for line in corrected.splitlines())
    script = tmp_path / "corrected.py"
    script.write_text(
        "import asyncio\nimport ssl\n\nimport asyncpg\n"
        "from sqlalchemy.ext.asyncio import create_async_engine\n"
        "from tortoise.backends.asyncpg import AsyncpgDBClient\n"
        "from tortoise.backends.psycopg import PsycopgClient\nimport psycopg\n\n"
        f"QUERY = {SSL_QUERY!r}\nTIMEOUT = {TIMEOUT}\n\n\n"
        f"async def main():\n{body}\n{_CHECK}\n\nasyncio.run(main())\n"
    )
    done = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, str(script)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(done.stderr.strip().splitlines()[-1])
    return done.stdout.strip().splitlines()[-1] == "True"


def _psycopg_ssl(url: str) -> bool:
    with psycopg.connect(url, connect_timeout=TIMEOUT) as conn:
        row = conn.execute(SSL_QUERY).fetchone()
        return bool(row and row[0])


@pytest.mark.pg
@pytest.mark.parametrize(("text", "driver"), INPUTS)
async def test_corrected_form_connects_verify_full(
    text: str, driver: str | None, lab: Any, tmp_path: Path
) -> None:
    good = lab("secure")
    name, corrected = _corrected(text, driver, _values(good))
    assert await asyncio.wait_for(_run_corrected(name, corrected, tmp_path), 60) is True
    # Same form against a server whose certificate names another host: refused.
    wrong = lab("wrong-host")
    name, corrected = _corrected(text, driver, _values(wrong))
    with pytest.raises(Exception) as refused:
        await asyncio.wait_for(_run_corrected(name, corrected, tmp_path), 60)
    assert (
        "match" in str(refused.value).lower()
        or "certificate verify failed" in str(refused.value).lower()
    )
