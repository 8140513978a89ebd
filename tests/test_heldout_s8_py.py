"""Classes the session 8 held-out round (helper heldout-a) found in new application code,
each generated over its shapes; filtered == full analysis throughout (the prefilter's
soundness). Fixtures: tests/fixtures/scan/python/heldout_s8/."""

from __future__ import annotations

import string
from pathlib import Path

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from real_secrets import is_real_password
from test_scan_python_prefilter import _filtered
from verifyfull.policy import Policy
from verifyfull.scan import placeholders
from verifyfull.scan.api import ScanContext, SourceFile
from verifyfull.scan.python.check import run_analysis

_SETTINGS = settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def _findings(root: Path, relpath: str) -> set[tuple[str, int]]:
    path = root / relpath
    source = SourceFile(path, relpath, path.read_text(encoding="utf-8"))
    found = run_analysis(source, ScanContext(root=root, policy=Policy())).findings
    filtered = _filtered(source, ScanContext(root=root, policy=Policy()))
    assert filtered == sorted((f.rule_id, f.line or 0, f.column or 0) for f in found)
    return {(f.rule_id, f.line or 0) for f in found}


def _project(tmp_path: Path, key: object, files: dict[str, str]) -> Path:
    root = tmp_path / f"p{abs(hash(key))}"
    root.mkdir(exist_ok=True)
    (root / ".git").mkdir(exist_ok=True)  # its own project, whatever encloses tmp_path
    for name, text in files.items():
        (root / name).write_text(text, encoding="utf-8")
    return root


# --- a library's `import *` ----------------------------------------------------------

# (library, name, call arguments with {mode} where the sslmode goes)
LIBRARY_SITES = (
    ("peewee", "PostgresqlDatabase", "'app', host='db.internal', port=5432{mode}"),
    ("playhouse.pool", "PooledPostgresqlDatabase", "'app', host='db.internal'{mode}"),
    ("psycopg2", "connect", "host='db.internal', dbname='app'{mode}"),
    ("sqlalchemy", "create_engine", "'postgresql://app@db.internal/app?x=1{mode_q}'"),
    ("asyncpg", "create_pool", "'postgresql://app@db.internal/app?x=1{mode_q}'"),
)
MODES = ("", "disable", "require", "verify-ca")


@_SETTINGS
@given(site=st.sampled_from(LIBRARY_SITES), mode=st.sampled_from(MODES))
def test_a_library_star_import_brings_its_site_names(
    tmp_path: Path, site: tuple[str, str, str], mode: str
) -> None:
    library, name, arguments = site
    call = f"{name}({arguments})".format(
        mode=f", sslmode='{mode}'" if mode else "", mode_q=f"&sslmode={mode}" if mode else ""
    )
    root = _project(
        tmp_path,
        (site, mode),
        {
            "star.py": f"from {library} import *  # noqa\n\nDB = {call}\n",
            "named.py": f"from {library} import {name}\n\nDB = {call}\n",
        },
    )
    starred = _findings(root, "star.py")
    assert starred == _findings(root, "named.py"), (library, name, mode)
    assert any(rule.startswith("VF10") for rule, _ in starred), (library, name, mode)


@_SETTINGS
@given(site=st.sampled_from(LIBRARY_SITES))
def test_a_name_defined_here_beats_the_library_star(
    tmp_path: Path, site: tuple[str, str, str]
) -> None:
    library, name, arguments = site
    call = f"{name}({arguments})".format(mode="", mode_q="")
    own = f"def {name}(*a, **k):\n    return a\n"
    code = f"from {library} import *  # noqa\n\n\n{own}\n\nDB = {call}\n"
    root = _project(tmp_path, ("own", site), {"own.py": code})
    assert _findings(root, "own.py") == set()


# --- regular-expression patterns are not DSNs ---------------------------------------

_PATTERN_PASSWORDS = st.sampled_from(("[^@]+", ".+", r"\S+", "(?P<pw>[^@/]+)", ".*?", "[^:@]*"))
_REGEX_CALLS = st.sampled_from(
    (
        "re.match({p}, url)",
        "re.compile({p})",
        "re.search(pattern={p}, string=url)",
        "re.fullmatch({p}, url)",
        "re.findall({p}, url)",
        "re.sub({p}, '', url)",
    )
)
_SCHEMES = st.sampled_from(("postgresql", "postgres", "postgresql+asyncpg", "cockroachdb"))


@_SETTINGS
@given(password=_PATTERN_PASSWORDS, call=_REGEX_CALLS, scheme=_SCHEMES)
def test_a_regex_pattern_describing_a_dsn_is_no_password(
    tmp_path: Path, password: str, call: str, scheme: str
) -> None:
    pattern = f'r"{scheme}://[^:]+:{password}@([a-z.]+):(\\d+)/"'
    code = (
        f"import os\nimport re\n\nurl = os.environ['DATABASE_URL']\nm = {call.format(p=pattern)}\n"
    )
    root = _project(tmp_path, (password, call, scheme), {"wait.py": code})
    assert not {rule for rule, _ in _findings(root, "wait.py")} & {"VF401"}


@_SETTINGS
@given(
    scheme=_SCHEMES,
    # a value the placeholder rule reads as one (`QINSERTPASSWORD9`: "insert password",
    # drawn once) is no password anywhere; this test is about the regex call
    secret=st.text(string.ascii_letters + string.digits, min_size=8, max_size=16).filter(
        lambda s: not placeholders.is_placeholder("password", f"Q{s}9")
    ),
)
def test_a_dsn_beside_a_regex_call_is_still_a_password(
    tmp_path: Path, scheme: str, secret: str
) -> None:
    # the replacement of re.sub is a string that is used, not a pattern
    code = (
        "import os\nimport re\n\nurl = os.environ['DATABASE_URL']\n"
        f"fixed = re.sub(r'^\\w+://', '{scheme}://app:Q{secret}9@db.internal/app', url)\n"
    )
    root = _project(tmp_path, (scheme, secret), {"fix.py": code})
    assert ("VF401", 5) in _findings(root, "fix.py")


# --- a password slot named after its entry ------------------------------------------

_OWNER_WORDS = st.lists(
    st.text(string.ascii_lowercase, min_size=3, max_size=9).filter(
        lambda w: w not in {"password", "passwd", "pass", "pwd", "pswd", "changeme"}
    ),
    min_size=1,
    max_size=3,
)
_ROLES = st.sampled_from(("password", "pswd", "passwd", "pwd", "pass"))
_SEPARATOR = st.sampled_from(("_", "-", "."))


@_SETTINGS
@given(owner=_OWNER_WORDS, role=_ROLES, sep=_SEPARATOR, other=st.sampled_from(("django", "kw")))
def test_a_password_named_after_its_user_is_a_slot(
    tmp_path: Path, owner: list[str], role: str, sep: str, other: str
) -> None:
    user = "_".join(owner)
    slot = sep.join([*owner, role])
    typed = sep.join(["Zq7" + owner[0], role])  # a word of its own: a password
    assume(is_real_password(typed))  # a drawn owner word may hold a marker (`replaceme`)
    if other == "django":
        entry = (
            "DATABASES = {{'default': {{'ENGINE': 'django.db.backends.postgresql', "
            "'NAME': 'db', 'USER': '{user}', 'PASSWORD': '{pw}', 'HOST': ''}}}}\n"
        )
    else:
        entry = (
            "import psycopg2\nc = psycopg2.connect(dbname='db', user='{user}', password='{pw}')\n"
        )
    root = _project(
        tmp_path,
        (user, slot, other),
        {
            "slot.py": entry.format(user=user, pw=slot),
            "typed.py": entry.format(user=user, pw=typed),
        },
    )
    assert "VF401" not in {rule for rule, _ in _findings(root, "slot.py")}, slot
    assert "VF401" in {rule for rule, _ in _findings(root, "typed.py")}, typed


# --- Flask's SQLALCHEMY_DATABASE_URI needs an extension that reads it ----------------

_EXTENSION_IMPORTS = st.sampled_from(
    (
        "from flask_sqlalchemy import SQLAlchemy\n\ndb = SQLAlchemy()\n",
        "import flask_sqlalchemy\n",
        "from flask_migrate import Migrate\n",
        "from flask_appbuilder import SQLA\n",
    )
)
_URIS = st.sampled_from(
    (
        "'postgresql://app@db.internal/app'",
        "f\"postgresql+psycopg2://{os.environ['U']}@{os.environ['H']}/app\"",
        "'postgresql://app@db.internal/app?sslmode=disable'",
    )
)


@_SETTINGS
@given(uri=_URIS, extension=_EXTENSION_IMPORTS, where=st.sampled_from(("same", "other")))
def test_a_flask_uri_is_a_site_only_where_an_extension_reads_it(
    tmp_path: Path, uri: str, extension: str, where: str
) -> None:
    config = f"import os\n\nSQLALCHEMY_DATABASE_URI = {uri}\n"
    used = {"settings.py": (extension + config) if where == "same" else config}
    if where == "other":
        used["app.py"] = extension
    with_ext = _project(tmp_path, ("with", uri, extension, where), used)
    without = _project(
        tmp_path, ("without", uri), {"settings.py": config, "app.py": "import flask\n"}
    )
    found = _findings(with_ext, "settings.py")
    assert any(rule in {"VF101", "VF102"} for rule, _ in found), (uri, extension, where)
    assert _findings(without, "settings.py") == set(), uri


# --- Piccolo's config dict is where a missing ssl is written ------------------------

_PICCOLO_KEYS = st.lists(
    st.sampled_from(("database", "user", "password_file", "port", "max_size", "timeout")),
    unique=True,
    max_size=4,
)


@_SETTINGS
@given(keys=_PICCOLO_KEYS, named=st.booleans(), gap=st.integers(min_value=0, max_value=3))
def test_a_piccolo_config_without_ssl_is_reported_at_its_dict(
    tmp_path: Path, keys: list[str], named: bool, gap: int
) -> None:
    items = (
        "".join(f"    '{k}': 'x',\n" for k in keys if k != "port") + "    'host': 'db.internal',\n"
    )
    head = "from piccolo.engine.postgres import PostgresEngine\n" + "\n" * gap
    if named:
        code = head + "CONFIG = {\n" + items + "}\nDB = PostgresEngine(config=CONFIG)\n"
    else:
        code = head + "DB = PostgresEngine(\n    config={\n" + items + "    }\n)\n"
    dict_line = 2 + gap if named else 3 + gap
    root = _project(tmp_path, (tuple(keys), named, gap), {"piccolo_conf.py": code})
    assert _findings(root, "piccolo_conf.py") == {("VF102", dict_line)}, code


# --- make_conninfo / make_dsn build a libpq keyword string --------------------------

_KEYWORDS = st.dictionaries(
    st.sampled_from(("host", "port", "dbname", "user", "application_name", "connect_timeout")),
    st.sampled_from(("db.internal", "5432", "app", "my app", "10", "it's")),
    min_size=1,
    max_size=4,
).map(lambda d: {**d, "host": d.get("host", "db.internal")})
_BUILDERS = st.sampled_from(
    (
        ("from psycopg.conninfo import make_conninfo", "make_conninfo"),
        ("from psycopg2.extensions import make_dsn", "make_dsn"),
    )
)


def _literal_conninfo(keywords: dict[str, str], mode: str) -> str:
    def quoted(value: str) -> str:
        if value and not any(c.isspace() or c in "'\\" for c in value):
            return value
        return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"

    pairs = {**keywords, **({"sslmode": mode} if mode else {})}
    return " ".join(f"{k}={quoted(v)}" for k, v in pairs.items())


@_SETTINGS
@given(keywords=_KEYWORDS, mode=st.sampled_from(MODES), builder=_BUILDERS)
def test_make_conninfo_is_judged_as_the_string_it_builds(
    tmp_path: Path, keywords: dict[str, str], mode: str, builder: tuple[str, str]
) -> None:
    imported, name = builder
    given_kw = {**keywords, **({"sslmode": mode} if mode else {})}
    arguments = ", ".join(f"{k}={v!r}" for k, v in given_kw.items())
    built = f"import psycopg2\n{imported}\n\nconn = psycopg2.connect({name}({arguments}))\n"
    written = f"import psycopg2\n\nconn = psycopg2.connect({_literal_conninfo(keywords, mode)!r})\n"
    root = _project(tmp_path, (tuple(given_kw.items()), name), {"b.py": built, "w.py": written})
    rules_built = {rule for rule, _ in _findings(root, "b.py")}
    assert rules_built == {rule for rule, _ in _findings(root, "w.py")}, built
    assert "VF108" not in rules_built, built


# --- a constructor's parameter, by the constructions in other modules ---------------

_URLS_BY_MODE = {
    "": ("postgresql+psycopg://app@db.internal/app", "VF102"),
    "disable": ("postgresql+psycopg://app@db.internal/app?sslmode=disable", "VF101"),
    "require": ("postgresql+psycopg://app@db.internal/app?sslmode=require", "VF103"),
}


@_SETTINGS
@given(
    mode=st.sampled_from(tuple(_URLS_BY_MODE)),
    keyword=st.booleans(),
    async_with=st.booleans(),
    engine=st.sampled_from(("create_engine", "create_async_engine")),
)
def test_a_constructor_parameter_holds_what_other_modules_construct_with(
    tmp_path: Path, mode: str, keyword: bool, async_with: bool, engine: str
) -> None:
    url, rule = _URLS_BY_MODE[mode]
    if engine == "create_engine":
        url = url.replace("+psycopg", "")
    module = "sqlalchemy" if engine == "create_engine" else "sqlalchemy.ext.asyncio"
    holder = (
        f"from {module} import {engine}\n\n\nclass Holder:\n"
        f"    def __init__(self, dsn, echo=False):\n        self.e = {engine}(dsn, echo=echo)\n"
    )
    argument = f"dsn={url!r}" if keyword else repr(url)
    made = f"Holder({argument})"
    body = f"    async with {made}:\n        pass\n" if async_with else f"    return {made}\n"
    user = f"from pkg.holder import Holder\n\n\nasync def start():\n{body}"
    root = _project(tmp_path, (mode, keyword, async_with, engine), {})
    (root / "pkg").mkdir(exist_ok=True)
    (root / "pkg" / "__init__.py").write_text("", encoding="utf-8")
    (root / "pkg" / "holder.py").write_text(holder, encoding="utf-8")
    (root / "pkg" / "app.py").write_text(user, encoding="utf-8")
    assert {r for r, _ in _findings(root, "pkg/holder.py")} - {"VF401"} == {rule}, (url, made)


# --- a nested settings model's method -----------------------------------------------

_NESTED_RETURNS = st.sampled_from(
    (
        (
            'str(PostgresDsn.build(scheme="postgresql+asyncpg", host=self.host, path="app"))',
            "VF102",
        ),
        ('f"postgresql://app@{self.host}/app"', "VF102"),
        ('f"postgresql://app@{self.host}/app?sslmode=disable"', "VF101"),
        ('"postgresql://app@db.internal/app?sslmode=require"', "VF103"),
    )
)


@_SETTINGS
@given(
    returned=_NESTED_RETURNS,
    optional=st.booleans(),
    field=st.sampled_from(("db", "database", "pg")),
)
def test_a_nested_settings_models_method_is_followed(
    tmp_path: Path, returned: tuple[str, str], optional: bool, field: str
) -> None:
    expression, rule = returned
    annotation = "DatabaseSettings | None = None" if optional else "DatabaseSettings"
    code = (
        "from pydantic import PostgresDsn\nfrom pydantic_settings import BaseSettings\n"
        "from sqlalchemy import create_engine\n\n\n"
        "class DatabaseSettings(BaseSettings):\n    host: str\n\n"
        f"    def url(self) -> str:\n        return {expression}\n\n\n"
        f"class Settings(BaseSettings):\n    {field}: {annotation}\n\n\n"
        f"settings = Settings()\nengine = create_engine(settings.{field}.url())\n"
    )
    code = code.replace("postgresql+asyncpg", "postgresql")
    root = _project(tmp_path, (expression, optional, field), {"config.py": code})
    assert {r for r, _ in _findings(root, "config.py")} - {"VF401"} == {rule}, code


# --- a keyword-string template ------------------------------------------------------

_TEMPLATE_KEYS = st.lists(
    st.sampled_from(("dbname", "user", "password", "host", "port", "application_name")),
    unique=True,
    min_size=1,
    max_size=5,
)


@_SETTINGS
@given(
    keys=_TEMPLATE_KEYS,
    mode=st.sampled_from(("", "disable", "require", "<env>")),
    layout=st.sampled_from((" ", "\n    ")),
    quote=st.booleans(),
)
def test_a_keyword_template_is_judged_with_stand_ins(
    tmp_path: Path, keys: list[str], mode: str, layout: str, quote: bool
) -> None:
    q = "'" if quote else ""
    holes = [f"{k}={q}{{os.environ['V_{k.upper()}']}}{q}" for k in keys]
    if mode == "<env>":
        holes.append("sslmode={os.environ['MODE']}")
    elif mode:
        holes.append(f"sslmode={mode}")
    if "host" not in keys:
        holes.append("host=db.internal")
    template = layout.join(holes)
    call = f'psycopg2.connect(f"""{layout}{template}{layout}""")'
    code = f"import os\n\nimport psycopg2\n\nconn = {call}\n"
    want = {"": "VF102", "disable": "VF101", "require": "VF103", "<env>": "VF108"}[mode]
    root = _project(tmp_path, (tuple(keys), mode, layout, quote), {"t.py": code})
    assert {r for r, _ in _findings(root, "t.py")} - {"VF401"} == {want}, code


# --- a mode written in a literal is reported at the literal -------------------------

_MODE_RULES = {"disable": "VF101", "allow": "VF102", "prefer": "VF102", "require": "VF103"}


@_SETTINGS
@given(
    # distinct values: two arms writing the same mode are one reading, reported at the
    # first of them (values.choice keeps one of equal options)
    modes=st.lists(st.sampled_from(tuple(_MODE_RULES)), min_size=1, max_size=3, unique=True),
    name=st.sampled_from(("mode", "sslmode", "ssl_mode")),
    driver=st.sampled_from(("psycopg2.connect", "create_engine")),
)
def test_each_branchs_mode_literal_is_where_its_reading_is_reported(
    tmp_path: Path, modes: list[str], name: str, driver: str
) -> None:
    lines = ["import os", "", "import psycopg2", "from sqlalchemy import create_engine", ""]
    lines += ["", "def connect(kind: str):"]
    expected: set[tuple[str, int]] = set()
    for index, mode in enumerate(modes):
        keyword = "if" if index == 0 else "elif"
        lines.append(f"    {keyword} kind == 'k{index}':")
        lines.append(f"        {name} = {mode!r}")
        expected.add((_MODE_RULES[mode], len(lines)))
    lines.append("    else:")
    lines.append(f"        {name} = 'verify-full'")
    lines.append(
        f"    url = f'postgresql://app@db.internal/app?sslmode={{{name}}}&sslrootcert=ca.pem'"
    )
    lines.append(f"    return {driver}(url)")
    code = "\n".join(lines) + "\n"
    # ca.pem is not in the tree: require checks nothing with it (issue 12 item 7), and the
    # verify-full arm fails at connect, which is no transport finding
    root = _project(tmp_path, (tuple(modes), name, driver), {"db.py": code})
    assert _findings(root, "db.py") == expected, code


# --- a query taken apart and put back ------------------------------------------------

_WRITES = st.sampled_from(
    (
        ('params["sslmode"] = ["{mode}"]', True),
        ('params["sslmode"] = "{mode}"', True),
        ('params["application_name"] = ["api"]', False),
    )
)


@_SETTINGS
@given(
    mode=st.sampled_from(tuple(_MODE_RULES)),
    write=_WRITES,
    guarded=st.booleans(),
    env=st.sampled_from(('os.environ["DATABASE_URL"]', 'os.getenv("DB_URL")')),
)
def test_a_tls_key_written_into_a_rebuilt_query_is_judged_where_written(
    tmp_path: Path, mode: str, write: tuple[str, bool], guarded: bool, env: str
) -> None:
    statement, decides = write
    indent = "        " if guarded else "    "
    guard = '    if "sslmode" not in params:\n' if guarded else ""
    code = (
        "import os\nfrom urllib.parse import parse_qs, urlencode, urlparse, urlunparse\n\n"
        "from sqlalchemy import create_engine\n\n\n"
        "def rebuilt(url):\n    parsed = urlparse(url)\n    params = parse_qs(parsed.query)\n"
        f"{guard}{indent}{statement.format(mode=mode)}\n"
        "    return urlunparse(parsed._replace(query=urlencode(params, doseq=True)))\n\n\n"
        f"engine = create_engine(rebuilt({env}))\n"
    )
    write_line = 11 if guarded else 10
    call_line = write_line + 4
    root = _project(tmp_path, (mode, statement, guarded, env), {"db.py": code})
    found = _findings(root, "db.py")
    if not decides:
        assert found == {("VF108", call_line)}, code
        return
    expected = {(_MODE_RULES[mode], write_line)}
    if guarded:  # the deployment's own sslmode is kept in the other branch
        expected.add(("VF108", call_line))
    assert found == expected, code
