"""URLs built from parts (issue 12, held-out class 6): a template whose parts fill only
the scheme, the user, password, host, port and one database name straight after the
path's '/', with no query written, cannot carry a TLS setting whatever the deployment
fills in: the driver's default (VF102), not VF108. A part after the database name
(`/{db}{suffix}`, `/app{options}`) may carry `?sslmode=…`: VF108 stays. The same for
every way of building the string (f-string, %, +, str.format) and for a pydantic
Settings property that builds it from fields without defaults (in the class or a base)."""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from test_scan_python_prefilter import _ctx, _filtered, _full, _source

FIXTURE_OK = [HealthCheck.function_scoped_fixture]
SCHEMES = ("postgresql", "postgresql+asyncpg", "postgresql+psycopg", "postgres")
ENGINES = (
    ("from sqlalchemy import create_engine", "create_engine", ("postgresql", "postgresql+psycopg")),
    (
        "from sqlalchemy.ext.asyncio import create_async_engine",
        "create_async_engine",
        ("postgresql+asyncpg", "postgresql+psycopg"),
    ),
)


@st.composite
def templates(draw: st.DrawFn) -> tuple[list[str | None], bool]:
    """The URL's pieces (None: a part filled in at deploy time) and whether one of
    them may carry a query."""
    _, _, schemes = draw(st.sampled_from(ENGINES))
    scheme: str | None = draw(st.sampled_from((*schemes, None)))
    netloc: list[str | None] = []
    if draw(st.booleans()):
        netloc += [draw(st.sampled_from(("app", None))), ":", None, "@"]
    netloc.append(draw(st.sampled_from(("db.internal", None))))
    if draw(st.booleans()):
        netloc += [":", draw(st.sampled_from(("5432", None)))]
    kinds = ("none", "literal", "slot", "slot+literal", "slot+suffix", "literal+suffix")
    path_kind = draw(st.sampled_from(kinds))
    path: list[str | None] = {
        "none": [],
        "literal": ["/app"],
        "slot": ["/", None],
        "slot+literal": ["/", None, ".app"],  # `/{cluster}.app`: still the database name
        "slot+suffix": ["/", None, None],
        "literal+suffix": ["/app", None],
    }[path_kind]
    return [scheme, "://", *netloc, *path], path_kind.endswith("suffix")


def _spelled(pieces: list[str | None], style: str) -> str:
    """The URL as code builds it, each None an environment variable."""
    names = iter(f"PART_{i}" for i in range(len(pieces)))
    if style == "fstring":
        body = "".join(p if p is not None else f"{{os.environ['{next(names)}']}}" for p in pieces)
        return f'f"{body}"'
    if style == "percent":
        template = "".join(p if p is not None else "%s" for p in pieces)
        given = ", ".join(f'os.environ["{next(names)}"]' for p in pieces if p is None)
        return f'"{template}" % ({given},)'
    if style == "format":
        template = "".join(p if p is not None else "{}" for p in pieces)
        given = ", ".join(f'os.environ["{next(names)}"]' for p in pieces if p is None)
        return f'"{template}".format({given})'
    return " + ".join(f'"{p}"' if p is not None else f'os.environ["{next(names)}"]' for p in pieces)


def _rules(tmp_path: Path, text: str, lines: int = 1) -> set[str]:
    """The rules on the last `lines` lines (the call's, and the URL binding's above it:
    a URL with no TLS setting is reported where it is written, the call related)."""
    path = tmp_path / "db.py"
    path.write_text(text, encoding="utf-8")
    source = _source(path, tmp_path)
    full = _full(source, _ctx(tmp_path))
    assert _filtered(source, _ctx(tmp_path)) == full, text
    last = text.count("\n")
    return {rule for rule, line, _ in full if last - lines < line <= last}


@settings(max_examples=80, deadline=None, suppress_health_check=FIXTURE_OK)
@given(
    case=templates(),
    style=st.sampled_from(("fstring", "percent", "format", "plus")),
    engine=st.sampled_from(ENGINES),
)
def test_a_template_without_a_query_slot_is_the_drivers_default(
    tmp_path: Path,
    case: tuple[list[str | None], bool],
    style: str,
    engine: tuple[str, str, tuple[str, ...]],
) -> None:
    pieces, may_carry = case
    imported, call, schemes = engine
    if pieces[0] is not None and pieces[0] not in schemes:
        pieces = [schemes[0], *pieces[1:]]
    if style == "format" and None in pieces[1:] and pieces[0] is None:
        style = "fstring"  # "{}://…".format(…): the same template
    text = f"import os\n{imported}\n\nURL = {_spelled(pieces, style)}\nengine = {call}(URL)\n"
    if all(p is not None for p in pieces):
        return  # a literal URL: judged as written elsewhere
    assert _rules(tmp_path, text, lines=2) == ({"VF108"} if may_carry else {"VF102"}), text


SETTINGS = """import os
from pydantic_settings import BaseSettings
from sqlalchemy.ext.asyncio import create_async_engine


class DatabaseSettings(BaseSettings):
    DB_SCHEME: str
    DB_USER: str
    DB_PASSWORD: str
    DB_HOST: str
    DB_PORT: int
    DB_NAME: str
    DB_OPTIONS: str

    @property
    def database_url(self) -> str:
        return {template}


class Settings({bases}):
    pass


settings = Settings()
engine = create_async_engine(settings.database_url)
"""
FIELDS = "self.DB_USER}:{self.DB_PASSWORD}@{self.DB_HOST}:{self.DB_PORT}/{self.DB_NAME"


@settings(max_examples=12, deadline=None, suppress_health_check=FIXTURE_OK)
@given(
    scheme=st.sampled_from(("postgresql+asyncpg", "{self.DB_SCHEME}")),
    suffix=st.booleans(),
    bases=st.sampled_from(("DatabaseSettings", "BaseSettings, DatabaseSettings")),
)
def test_a_settings_property_template_is_judged_by_its_slots(
    tmp_path: Path, scheme: str, suffix: bool, bases: str
) -> None:
    template = 'f"' + scheme + "://{" + FIELDS + "}" + ("{self.DB_OPTIONS}" if suffix else "") + '"'
    text = SETTINGS.format(template=template, bases=bases)
    # anywhere in the file: a template with no TLS setting is reported where the property
    # writes it, the engine related (held-out-s21 pixAV); one with a slot at the call
    assert _rules(tmp_path, text, lines=text.count("\n")) == ({"VF108"} if suffix else {"VF102"}), (
        text
    )


@settings(max_examples=12, deadline=None, suppress_health_check=FIXTURE_OK)
@given(style=st.sampled_from(("fstring", "percent", "format", "plus")))
def test_a_written_query_after_the_name_slot_is_judged_as_written(
    tmp_path: Path, style: str
) -> None:
    query = "?sslmode=verify-full&sslrootcert=/etc/ssl/db-ca.pem"
    pieces = [
        "cockroachdb",
        "://",
        "app",
        ":",
        None,
        "@",
        "db.internal:26257/",
        None,
        ".app" + query,
    ]
    imported, call, _ = ENGINES[0]
    text = f"import os\n{imported}\n\nURL = {_spelled(pieces, style)}\nengine = {call}(URL)\n"
    assert _rules(tmp_path, text, lines=2) == set(), text
