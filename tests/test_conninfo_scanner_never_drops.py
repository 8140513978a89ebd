"""Issue 14: the scanner never drops a site because conninfo could not read it.

Generated hostile connection strings (the differential grammar, then mutated: bad
percent-encoding, %00, unterminated '[', a query field without '=', stray quotes,
backslashes, control characters, non-ASCII, doubled separators, cut at a random
point) go to every call form the scanner models, written as literals in one
Python file (asyncpg.connect, asyncpg.create_pool, create_engine,
create_async_engine, psycopg.connect, psycopg2.connect, Tortoise.init(db_url=)),
and as a value in a .env file and in a compose file's environment. Wherever
conninfo refuses the string for that driver, the site must be reported: a
finding on its line (VF105 "cannot be read", or what the driver does with it), or
an error entry for the file. Never a traceback (an internal error), never nothing.
"""

from __future__ import annotations

import json
import random
import re
from collections import Counter
from pathlib import Path

from hypothesis import given, settings

from test_conninfo_differential import keyword_text_of, url_body_of
from test_conninfo_draws import SEEDS, batch, fixed_draws
from verifyfull.conninfo import ConnStringError, parse_for_driver
from verifyfull.errors import VerifyfullError
from verifyfull.policy import DEFAULT_POLICY
from verifyfull.scan.api import ScanContext
from verifyfull.scan.engine import scan_file
from verifyfull.scan.walk import WalkedFile

BATCH = 6  # strings per example, each through every form
EXAMPLES = 25
# (the call written around the literal, the driver conninfo reads it for)
PYTHON_FORMS = {
    "asyncpg.connect": ("await asyncpg.connect({})", "asyncpg"),
    "asyncpg.create_pool": ("await asyncpg.create_pool(dsn={})", "asyncpg"),
    "create_engine": ("create_engine({})", "sqlalchemy"),
    "create_async_engine": ("create_async_engine({})", "sqlalchemy"),
    "psycopg.connect": ("psycopg.connect({})", "psycopg"),
    "psycopg2.connect": ("psycopg2.connect({})", "psycopg2"),
    "Tortoise db_url": ("await Tortoise.init(db_url={}, modules={{}})", "tortoise"),
}
CONFIG_FORMS = (".env", "compose.yaml")
HEADER = (
    "import asyncpg\nimport psycopg\nimport psycopg2\n"
    "from sqlalchemy import create_engine\n"
    "from sqlalchemy.ext.asyncio import create_async_engine\n"
    "from tortoise import Tortoise\n\n\nasync def main() -> None:\n"
)
_INSERTS = ["%", "%zz", "%00", "%4", "[", "]", "[::1", "?x", "&&", "==", "@", "@@", ":", "::"]
_INSERTS += ["'", '"', "\\", "\\'", " ", "\t", "\x01", "é", "☃", "\u200b", ",", ",,", "#", "/"]
_SCHEMES = ["postgresql://", "postgres://", "postgresql+asyncpg://", "postgresql://"]

# SQLAlchemy picks the dialect from the scheme: another one is another database.
_PG_DIALECT = re.compile(r"(postgresql|postgres|cockroachdb)(\+\w+)?://")
REFUSED: Counter[str] = Counter()
SITES: Counter[str] = Counter()


def hostile_of(rng: random.Random) -> str:
    """A connection string drawn from the grammar, then broken in one to three places."""
    if rng.randrange(4) == 0:
        text = keyword_text_of(rng)
    else:
        text = rng.choice(_SCHEMES) + url_body_of(rng)
    for _ in range(rng.randint(1, 3)):
        at = rng.randint(0, len(text))
        kind = rng.randrange(4)
        if kind == 0:
            text = text[:at]  # cut short (an unterminated quote or '[', an empty part)
        elif kind == 1:
            text = text[:at] + rng.choice(_INSERTS) + text[at:]
        elif kind == 2:
            text = text[:at] + text[at : at + 1] * rng.randint(2, 4) + text[at + 1 :]
        else:
            text = text + rng.choice(["?x", "&x", "?sslmode", "%", "[", "&=", "?=1"])
    return text


def _refuses(text: str, driver: str) -> bool:
    try:
        parse_for_driver(text, driver)
    except (ConnStringError, VerifyfullError):
        return True
    return False


def _scan(root: Path, name: str, text: str) -> tuple[set[int], list[str]]:
    path = root / name
    path.write_text(text)
    outcome = scan_file(
        WalkedFile(path, name), ScanContext(root=root, policy=DEFAULT_POLICY), 10**7
    )
    errors = [e.message for e in outcome.errors]
    assert not any("internal error" in m for m in errors), (name, errors)
    return {f.line for f in outcome.findings if f.line is not None}, errors


def _python_sites(root: Path, texts: list[str]) -> list[str]:
    lines, refused = [HEADER], []
    for text in texts:
        for form, (call, driver) in PYTHON_FORMS.items():
            SITES[form] += 1
            if driver == "sqlalchemy" and not _PG_DIALECT.match(text):
                pass  # create_engine('mysql://…') is no PostgreSQL site: not judged at all
            elif _refuses(text, driver):
                REFUSED[form] += 1
                refused.append((len("".join(lines).splitlines()) + 1, form, text))
            lines.append("    " + call.format(repr(text)) + "\n")
    found, errors = _scan(root, "app.py", "".join(lines))
    return [
        f"{form} {text!r} (line {line})"
        for line, form, text in refused
        if line not in found and not errors
    ]


def _config_value(text: str) -> str:
    """A .env / YAML value cannot hold a line break or a NUL: the rest stays hostile."""
    return "".join(" " if c in "\n\r\x00\x0b\x0c\x85\u2028\u2029" else c for c in text)


def _config_sites(root: Path, texts: list[str]) -> list[str]:
    missed = []
    values = [_config_value(t) for t in texts]
    env_lines = [f"DATABASE_URL_{i}={json.dumps(v)}\n" for i, v in enumerate(values)]
    compose = ["services:\n  app:\n    image: app\n    environment:\n"]
    compose += [f"      DATABASE_URL_{i}: {json.dumps(v)}\n" for i, v in enumerate(values)]
    for name, text, first in ((".env", env_lines, 1), ("compose.yaml", compose, 5)):
        found, errors = _scan(root, name, "".join(text))
        for i, value in enumerate(values):
            SITES[name] += 1
            if not value.startswith(("postgresql://", "postgres://")):
                continue  # not a connection URL to a config reader (keyword strings)
            if not (_refuses(value, "psycopg") and _refuses(value, "asyncpg")):
                continue  # some driver reads it: judged for that one (read_any_driver)
            REFUSED[name] += 1
            if first + i not in found and not errors:
                missed.append(f"{name} {value!r} (line {first + i})")
    return missed


def test_no_site_is_dropped_when_conninfo_cannot_read_it(tmp_path: Path) -> None:
    missed: list[str] = []

    @settings(max_examples=EXAMPLES, derandomize=True, deadline=None, database=None)
    @given(SEEDS)
    def run(seed: int) -> None:
        texts = batch(seed, BATCH, hostile_of)
        missed.extend(_python_sites(tmp_path, texts))
        missed.extend(_config_sites(tmp_path, texts))

    with fixed_draws():
        run()
    print(f"sites per form: {dict(SITES)}; unreadable to conninfo: {dict(REFUSED)}")
    # The grammar must make every form refuse often, or the claim is vacuous.
    rare = {form: REFUSED[form] for form in [*PYTHON_FORMS, *CONFIG_FORMS] if REFUSED[form] < 15}
    assert not rare, f"forms that met too few unreadable strings: {rare}"
    assert not missed, f"{len(missed)} sites dropped: {missed}"
