"""Classes the session 21 held-out round found, each generated over its shapes.
filtered == full analysis throughout (the prefilter's soundness, checked by _findings).

1. A mapping read elsewhere, then given keys in code (CCRI-POPROX/poprox-storage's
   Alembic env.py: `config.get_section(...) | {"sqlalchemy.url": DB_URL}`): the keys the
   code sets are known, the rest are not. It was VF108 ("the configuration mapping is
   built elsewhere") at engine_from_config, and the URL's own VF102 was missed.
2. A config table named for its database (DINA-community/Matching-Agent's TOML
   `[Cachedb] password = "secret"`, 6 FN), and Dynaconf's lazy `@get db_password`
   (andremmfaria/rexis, 1 FP): a reference, not a password.
3. A compose secret a service reads as its password (poprox-storage's committed
   `db/password.txt` behind POSTGRES_PASSWORD_FILE, 2 FN): the file is the password.
4. A URL a settings class builds (pixAV's `dsn` property, field-tm's validator
   `PostgresDsn.build`): reported where it is built, the calls in other modules related.
5. A helper called inside its own argument (phlasch's `get_env_string("URL",
   default="{dialect}://...".format(dialect=get_env_string(...)))`): each call is read,
   and the URL is placed at the argument that writes it.
6. Arms never taken together (phlasch's `at='@' if AUTH else ''`): a reading that
   cannot be parsed only where its unknown parts stand is undecided, not a broken URL
   (it gave 2 VF105 beside the real VF102).
7. Vector stores that make the connection: langchain's PGVector (iaEditais) and Haystack's
   PgvectorDocumentStore with Secret.from_token / from_env_var (rexis).
8. A project TLS variable read through a walrus (`if POSTGRES_SSL := os.environ.get(...)`)
   or set as a mapping's item (`extra_params["sslmode"] = POSTGRES_SSL`): the values env
   files give it are judged with that meaning (Azure pgvector sample's .env.azure).
9. NetBox's configuration.py `DATABASE = {..., "OPTIONS": {"sslmode": environ.get(
   "DB_SSLMODE", "prefer")}}` (Matching-Agent's dev stack): a Django PostgreSQL entry.
10. A JDBC URL (Matching-Agent's Keycloak `KC_DB_URL: jdbc:postgresql://isduba-db/...`) is
   pgjdbc's wherever it is written: sslmode as libpq's (default prefer), `ssl=true` is
   verify-full, `NonValidatingFactory` checks nothing, pgjdbc's other properties dropped.
"""

from __future__ import annotations

from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from test_heldout_s8_py import _findings, _project
from test_heldout_s15_sites import _SETTINGS
from verifyfull.report import json as json_report
from verifyfull.report import text as text_report
from verifyfull.scan import engine
from verifyfull.scan.settings import ScanSettings

_TRANSPORT = {"VF101", "VF102", "VF103", "VF104", "VF105", "VF108"}

# --- 1. a mapping read elsewhere, given its URL in code -----------------------------------

# how the code puts its URL into the mapping it did not build ({url} is the expression)
MERGES = {
    "union": "options = section | {{'sqlalchemy.url': {url}}}",
    "union_first": "options = {{'sqlalchemy.url': {url}}} | section",
    "spread": "options = {{**section, 'sqlalchemy.url': {url}}}",
    "augmented": "options = section\noptions |= {{'sqlalchemy.url': {url}}}",
    "item": "options = section\noptions['sqlalchemy.url'] = {url}",
    "update": "options = section\noptions.update({{'sqlalchemy.url': {url}}})",
    "update_kw": "options = dict(section)\noptions.update(url={url})",
}
QUERIES = {"": "VF102", "?sslmode=disable": "VF101", "?sslmode=require": "VF103"}


@_SETTINGS
@given(
    merge=st.sampled_from(sorted(MERGES)),
    query=st.sampled_from(sorted(QUERIES)),
    section=st.sampled_from(
        ("config.get_section(config.config_ini_section, {})", "load_section()")
    ),
)
def test_keys_set_in_a_mapping_read_elsewhere_are_known(
    tmp_path: Path, merge: str, query: str, section: str
) -> None:
    prefix = "" if merge == "update_kw" else "sqlalchemy."
    code = (
        "from alembic import context\n"
        "from sqlalchemy import engine_from_config\n"
        "from app.conf import load_section\n"
        "config = context.config\n"
        f"section = {section}\n"
        f'URL = "postgresql://app@db.internal:5432/app{query}"\n'  # line 6
        + MERGES[merge].format(url="URL")
        + f"\nengine = engine_from_config(options, prefix={prefix!r})\n"
    )
    root = _project(tmp_path, (merge, query, section), {"env.py": code})
    found = {(rule, line) for rule, line in _findings(root, "env.py") if rule in _TRANSPORT}
    rule = QUERIES[query]
    assert {r for r, _ in found} == {rule}, code
    if not query:  # a URL with no TLS setting is reported where it is written
        assert found == {(rule, 6)}, code


# --- 2. a config table named for its database, and Dynaconf's lazy values -------------

# (table name, whether it is a PostgreSQL database's table)
TABLES = {
    "Cachedb": True,
    "Matcher.Cachedb": True,
    "maindb": True,
    "reportsDB": True,
    "db": True,
    "mongodb": False,  # another engine's (engines.py)
    "influxdb": False,
    "smtp": False,  # no database named at all
}
# (the password as written, whether it is a literal someone can log in with)
PASSWORDS = {
    '"secret"': True,
    '"kT9#vq2LmZ"': True,
    '"@get db_password"': False,  # Dynaconf reads another setting
    '"@format {env[DB_PASSWORD]}"': False,
    '"@jinja {{ env.DB_PASSWORD }}"': False,
    '"changeme"': False,
    '"super_secret_password"': False,  # describes a password (placeholders.DESCRIBING)
}


@_SETTINGS
@given(
    table=st.sampled_from(sorted(TABLES)),
    password=st.sampled_from(sorted(PASSWORDS)),
    port=st.sampled_from(("2345", "5432")),
)
def test_a_password_in_a_table_named_for_its_database(
    tmp_path: Path, table: str, password: str, port: str
) -> None:
    toml = (
        "[service]\nname = 'matcher'\n\n"
        f"[{table}]\n"
        'host = "localhost"\n'
        f"port = {port}\n"
        'database = "cachedb"\n'
        'username = "admin"\n'
        f"password = {password}\n"  # line 9
    )
    root = _project(tmp_path, (table, password, port), {"matcher.toml": toml})
    result = engine.scan([root], ScanSettings(project_root=root), jobs=1)
    found = {(f.rule_id, f.line) for f in result.report.findings}
    want = {("VF401", 9)} if TABLES[table] and PASSWORDS[password] else set()
    assert found == want, toml


# --- 3. a compose secret a service reads as its database password ------------------------

# (the service's secrets entry, the path the service reads it at)
MOUNTS = {
    "short": ("- db-password", "/run/secrets/db-password"),
    "long": ("- source: db-password", "/run/secrets/db-password"),
    "target": ("- source: db-password\n        target: pg_pw", "/run/secrets/pg_pw"),
    "absolute": ("- source: db-password\n        target: /etc/pg/pw", "/etc/pg/pw"),
}
# (variable, image, whether it is a PostgreSQL password read from the file)
READERS = {
    "POSTGRES_PASSWORD_FILE": ("postgres:16", True),
    "DB_PASSWORD_FILE": ("python:3.12", True),
    "MYSQL_PASSWORD_FILE": ("mysql:8", False),  # another engine's
    "POSTGRES_USER_FILE": ("postgres:16", False),  # not a password
}
# (file content, whether it is a literal password)
CONTENTS = {
    "thisisapoproxpassword\n": True,
    "kT9#vq2LmZ": True,
    "changeme\n": False,
    "": False,
    "-----BEGIN PRIVATE KEY-----\nMIIB\n-----END PRIVATE KEY-----\n": False,
}


@_SETTINGS
@given(
    mount=st.sampled_from(sorted(MOUNTS)),
    reader=st.sampled_from(sorted(READERS)),
    content=st.sampled_from(sorted(CONTENTS)),
    as_list=st.booleans(),
    ignored=st.booleans(),
    wrong_path=st.booleans(),
)
def test_a_committed_compose_secret_file_is_the_password(
    tmp_path: Path,
    mount: str,
    reader: str,
    content: str,
    as_list: bool,
    ignored: bool,
    wrong_path: bool,
) -> None:
    entry, mounted = MOUNTS[mount]
    image, reads_password = READERS[reader]
    read_at = mounted + ("-other" if wrong_path else "")
    environment = (
        f"    environment:\n      - {reader}={read_at}\n"
        if as_list
        else f"    environment:\n      {reader}: {read_at}\n"
    )
    compose = (
        "services:\n  db:\n"
        f"    image: {image}\n"
        f"    secrets:\n      {entry}\n"
        + environment
        + "secrets:\n  db-password:\n    file: db/password.txt\n"
    )
    files = {"compose.yaml": compose}
    if ignored:
        files[".gitignore"] = "db/password.txt\n"
    root = _project(tmp_path, (mount, reader, content, as_list, ignored, wrong_path), files)
    (root / "db").mkdir(exist_ok=True)
    (root / "db" / "password.txt").write_text(content, encoding="utf-8")
    result = engine.scan([root], ScanSettings(project_root=root), jobs=1)
    found = {(f.rule_id, f.path, f.line) for f in result.report.findings}
    committed = not ignored and not wrong_path
    literal = CONTENTS[content]
    want = {("VF401", "db/password.txt", 1)} if committed and reads_password and literal else set()
    assert {f for f in found if f[1] == "db/password.txt"} == want, compose
    for rendered in (
        json_report.render(result.report, root=root),
        text_report.render(result.report),
    ):
        assert not literal or content.strip() not in rendered  # the password never shown


# --- 4. a URL a settings class builds: where it is written, the calls related -----------

# the class body that builds `dsn`, with {q} ({qb} for a build) for the URL's query
BUILDERS = {
    "property": (
        "    @property\n    def dsn(self) -> str:\n"
        '        return f"postgresql://{{self.user}}@{{self.host}}:5432/app{q}"\n'
    ),
    "computed_field": (
        "    @computed_field\n    @property\n    def dsn(self) -> str:\n"
        '        return f"postgresql://{{self.user}}@{{self.host}}:5432/app{q}"\n'
    ),
    "validator": (
        "    dsn: str | None = None\n\n"
        '    @field_validator("dsn", mode="before")\n    @classmethod\n'
        "    def build(cls, v, info):\n"
        "        if v:\n            return v\n"
        '        return "postgresql://" + info.data["user"] + "@db.internal:5432/app{q}"\n'
    ),
    "dsn_build": (
        "    dsn: str | None = None\n\n"
        '    @field_validator("dsn", mode="before")\n    @classmethod\n'
        "    def build(cls, v, info):\n"
        "        if v:\n            return v\n"
        '        url = PostgresDsn.build(scheme="postgresql", username="app", '
        'host="db.internal", path="app"{qb})\n'
        "        return url.unicode_string()\n"
    ),
    "init": (
        "    def __init__(self) -> None:\n"
        '        self.dsn = f"postgresql://{{USER}}@{{HOST}}:5432/app{q}"\n'
    ),
}


@_SETTINGS
@given(
    builder=st.sampled_from(sorted(BUILDERS)),
    tls=st.booleans(),
    calls=st.integers(min_value=1, max_value=2),
)
def test_a_url_a_settings_class_builds_is_reported_where_it_is_built(
    tmp_path: Path, builder: str, tls: bool, calls: int
) -> None:
    body = BUILDERS[builder]
    query, build_query = ("?sslmode=require", ', query="sslmode=require"') if tls else ("", "")
    config = (
        "from pydantic import PostgresDsn, computed_field, field_validator\n"
        "from pydantic_settings import BaseSettings\n"
        'USER = "app"\nHOST = "db.internal"\n\n\n'
        "class Settings(BaseSettings):\n"  # line 7
        + ('    user: str = "app"\n    host: str = "db.internal"\n' if builder != "init" else "")
        + body.format(q=query, qb=build_query)
    )
    db = (
        "import asyncpg\n\nfrom config import Settings\n\nsettings = Settings()\n\n\n"
        "async def pools():\n"
        + "".join("    await asyncpg.create_pool(dsn=settings.dsn)\n" for _ in range(calls))
    )
    root = _project(tmp_path, (builder, tls, calls), {"config.py": config, "db.py": db})
    line = next(  # where the URL is written: the return, the assignment, the build
        n
        for n, text in enumerate(config.splitlines(), 1)
        if "postgresql" in text and not text.strip().startswith("from")
    )
    result = engine.scan([root], ScanSettings(project_root=root), jobs=1)
    transport = [f for f in result.report.findings if f.rule_id in _TRANSPORT]
    if tls:  # a URL that writes its TLS is judged at each call (session 9's ruling)
        assert sorted((f.rule_id, f.path) for f in transport) == [("VF103", "db.py")] * calls
    else:
        assert [(f.rule_id, f.path, f.line) for f in transport] == [("VF102", "config.py", line)]
        assert len(transport[0].related) == calls


# --- 5. a helper called inside its own argument, the URL written in that argument --------


@_SETTINGS
@given(
    keyword=st.booleans(),
    nested=st.integers(min_value=1, max_value=3),
    query=st.sampled_from(("", "?sslmode=disable")),
)
def test_a_helper_inside_its_own_argument_is_read_for_each_call(
    tmp_path: Path, keyword: bool, nested: int, query: str
) -> None:
    utils = (
        "import os\n\n\ndef get_env(key, default=''):\n"
        "    return os.environ.get(key, default=default)\n"
    )
    parts = "".join(f"P{i} = get_env('APP_P{i}', default='db{i}')\n" for i in range(nested))
    host = "".join(f"{{P{i}}}" for i in range(nested))
    passed = "default=" if keyword else ""
    settings_py = (
        "from utils import get_env\n"
        + parts
        + "URL = get_env(\n    'APP_URL',\n"
        + f"    {passed}'postgresql://app@{host}.internal/app{query}'.format("
        + ", ".join(f"P{i}=P{i}" for i in range(nested))
        + "),\n)\n"
    )
    url_line = 1 + nested + 3
    db = (
        "from sqlalchemy import create_engine\n\nfrom settings import URL\n\n"
        "engine = create_engine(URL)\n"
    )
    files = {"utils.py": utils, "settings.py": settings_py, "db.py": db}
    root = _project(tmp_path, (keyword, nested, query), files)
    result = engine.scan([root], ScanSettings(project_root=root), jobs=1)
    transport = {
        (f.rule_id, f.path, f.line) for f in result.report.findings if f.rule_id in _TRANSPORT
    }
    # an environment default is judged where it is written: the argument that passes it
    rule = "VF101" if query else "VF102"
    assert transport == {(rule, "settings.py", url_line)}, settings_py


# --- 6. a reading unreadable only where its unknown parts stand is not a broken URL ------


@_SETTINGS
@given(
    separator=st.sampled_from(("'@' if AUTH and HOST else ''", "'@' if AUTH else ''")),
    port=st.sampled_from(("PORT", "str(PORT)")),
)
def test_arms_never_taken_together_give_no_broken_url(
    tmp_path: Path, separator: str, port: str
) -> None:
    code = (
        "import os\nfrom urllib.parse import quote_plus\n"
        "from sqlalchemy import create_engine\n"
        "USER = os.environ.get('APP_USER', 'postgres')\n"
        "PASSWORD = quote_plus(os.environ.get('APP_PASSWORD', ''))\n"
        "HOST = os.environ.get('APP_HOST', 'db.internal')\n"
        "PORT = int(os.environ['APP_PORT']) if os.environ.get('APP_PORT') else 5432\n"
        "AUTH = '{u}{c}{p}'.format(u=USER, c=':' if PASSWORD else '', p=PASSWORD)\n"
        f"URL = '{{a}}{{at}}{{h}}:{{port}}/app'.format(a=AUTH, at={separator}, h=HOST, "
        f"port={port})\n"
        "engine = create_engine('postgresql://' + URL)\n"
    )
    root = _project(tmp_path, (separator, port), {"db.py": code})
    found = _findings(root, "db.py")
    assert not {rule for rule, _ in found} & {"VF105"}, code
    assert "VF102" in {rule for rule, _ in found}, code


# --- 7. vector stores that make the connection: langchain's PGVector, Haystack's store ---

# (import, the call with {url} for the URL expression)
VECTOR_STORES = {
    "pgvector": (
        "from langchain_postgres import PGVector",
        "PGVector(embeddings=EMBED, connection={url}, use_jsonb=True)",
    ),
    "pgvector_async": (
        "from langchain_postgres.vectorstores import PGVector",
        "PGVector(EMBED, connection={url}, async_mode=True)",
    ),
    "from_documents": (
        "from langchain_postgres import PGVector",
        "PGVector.from_documents(DOCS, EMBED, connection={url})",
    ),
    "community": (
        "from langchain_community.vectorstores.pgvector import PGVector",
        "PGVector({url}, EMBED)",
    ),
    "haystack": (
        "from haystack.utils import Secret\n"
        "from haystack_integrations.document_stores.pgvector import PgvectorDocumentStore",
        "PgvectorDocumentStore(connection_string=Secret.from_token({url}))",
    ),
}
STORE_URLS = {  # the URL as written, the rule it gives (scheme by the store's driver)
    "": "VF102",
    "?sslmode=disable": "VF101",
    "?sslmode=require": "VF103",
}


@_SETTINGS
@given(
    store=st.sampled_from(sorted(VECTOR_STORES)),
    query=st.sampled_from(sorted(STORE_URLS)),
    given_as=st.sampled_from(("literal", "environment", "engine")),
)
def test_a_vector_store_is_judged_as_the_connection_it_makes(
    tmp_path: Path, store: str, query: str, given_as: str
) -> None:
    imports, call = VECTOR_STORES[store]
    scheme = "postgresql" if store == "haystack" else "postgresql+psycopg"
    if given_as == "literal":
        url = f'"{scheme}://app@db.internal:5432/app{query}"'
    elif given_as == "environment":
        url = 'os.environ["PG_CONN_STR"]'
    else:
        url = "ENGINE"
    code = (
        f"import os\n{imports}\nfrom sqlalchemy import create_engine\n"
        "EMBED = DOCS = None\n"
        "ENGINE = create_engine('sqlite:///local.db')\n"
        f"store = {call.format(url=url)}\n"
    )
    line = code.count("\n")
    root = _project(tmp_path, (store, query, given_as), {"store.py": code})
    found = {(r, n) for r, n in _findings(root, "store.py") if r in _TRANSPORT}
    if given_as == "literal":
        assert found == {(STORE_URLS[query], line)}, code
    elif given_as == "environment":
        assert found == {("VF108", line)}, code
    elif store == "haystack":  # Secret.from_token(engine): not a string, judged as such
        assert {r for r, _ in found} <= {"VF108"}, code
    else:  # an engine made elsewhere is judged where it is made
        assert not found, code


@_SETTINGS
@given(variable=st.sampled_from(('Secret.from_env_var("PG_CONN_STR")', None)))
def test_a_haystack_store_reading_the_environment_is_decided_at_deploy(
    tmp_path: Path, variable: str | None
) -> None:
    argument = f"connection_string={variable}" if variable else ""
    code = (
        "from haystack.utils import Secret\n"
        "from haystack_integrations.document_stores.pgvector import PgvectorDocumentStore\n"
        f"store = PgvectorDocumentStore({argument})\n"
    )
    root = _project(tmp_path, (variable,), {"store.py": code})
    assert {(r, n) for r, n in _findings(root, "store.py") if r in _TRANSPORT} == {("VF108", 3)}


# --- 8. a project TLS variable read through a walrus or set as a mapping's item ---------

# how the code turns POSTGRES_SSL into a TLS setting
TLS_READS = {
    "walrus_query": (
        'DATABASE_URI = "postgresql://app@db.internal/app"\n'
        'if POSTGRES_SSL := os.environ.get("POSTGRES_SSL"):\n'
        '    DATABASE_URI += f"?sslmode={POSTGRES_SSL}"\n'
    ),
    "walrus_item": (
        "extra_params = {}\n"
        'if POSTGRES_SSL := os.environ.get("POSTGRES_SSL"):\n'
        '    extra_params["sslmode"] = POSTGRES_SSL\n'
    ),
    "assigned_item": (
        'POSTGRES_SSL = os.getenv("POSTGRES_SSL", "")\n'
        "params = {}\n"
        "params['sslmode'] = POSTGRES_SSL\n"
    ),
}
MODE_RULES = {"disable": "VF101", "require": "VF103", "verify-ca": "VF104", "verify-full": None}


@_SETTINGS
@given(
    read=st.sampled_from(sorted(TLS_READS)),
    mode=st.sampled_from(sorted(MODE_RULES)),
    env_name=st.sampled_from((".env.azure", ".env", "deploy.env")),
)
def test_a_tls_variable_read_through_a_walrus_or_an_item_is_judged_in_env_files(
    tmp_path: Path, read: str, mode: str, env_name: str
) -> None:
    code = "import os\n" + TLS_READS[read]
    env = f'POSTGRES_HOST="db.example.com"\nPOSTGRES_SSL="{mode}"\n'
    root = _project(tmp_path, (read, mode, env_name), {"app.py": code, env_name: env})
    result = engine.scan([root], ScanSettings(project_root=root), jobs=1)
    in_env = {(f.rule_id, f.line) for f in result.report.findings if f.path == env_name}
    rule = MODE_RULES[mode]
    assert in_env == ({(rule, 2)} if rule else set()), (code, env)


# --- 9. NetBox's configuration.py DATABASE ----------------------------------------------


@_SETTINGS
@given(
    mode=st.sampled_from(('"prefer"', '"disable"', '"require"', '"verify-full"', None)),
    file=st.sampled_from(("configuration.py", "netbox/configuration.py", "config/settings.py")),
    environ=st.booleans(),
)
def test_a_netbox_configuration_database_is_a_postgresql_entry(
    tmp_path: Path, mode: str | None, file: str, environ: bool
) -> None:
    written = f'environ.get("DB_SSLMODE", {mode})' if environ and mode else mode
    options = f'    "OPTIONS": {{"sslmode": {written}}},\n' if mode else ""
    code = (
        "from os import environ\n\n"
        "DATABASE = {\n"
        '    "NAME": "netbox",\n'
        '    "HOST": environ.get("DB_HOST", "db.internal"),\n' + options + "}\n"
    )
    root = _project(tmp_path, (mode, file, environ), {})
    (root / file).parent.mkdir(parents=True, exist_ok=True)
    (root / file).write_text(code, encoding="utf-8")
    found = {r for r, _ in _findings(root, file) if r in _TRANSPORT}
    if not file.endswith("configuration.py"):
        assert not found, code  # a DATABASE elsewhere is no NetBox setting
        return
    rule = {'"prefer"': "VF102", None: "VF102", '"disable"': "VF101", '"require"': "VF103"}
    assert found == ({rule[mode]} if mode in rule else set()), code


# --- 10. a JDBC URL is pgjdbc's, wherever it is written ---------------------------------

JDBC_QUERIES = {  # the query as written, the rule pgjdbc's reading gives
    "": "VF102",
    "?ApplicationName=keycloak&currentSchema=public": "VF102",
    "?sslmode=disable": "VF101",
    "?sslmode=require": "VF103",
    "?sslmode=verify-ca": "VF104",
    "?ssl=true": None,
    "?sslmode=verify-full&loggerLevel=OFF": None,
    "?ssl=true&sslfactory=org.postgresql.ssl.NonValidatingFactory": "VF103",
}


@_SETTINGS
@given(
    query=st.sampled_from(sorted(JDBC_QUERIES)),
    carrier=st.sampled_from(("compose", "env")),
    host=st.sampled_from(("isduba-db", "db.internal:5432")),
)
def test_a_jdbc_url_is_judged_as_pgjdbc_reads_it(
    tmp_path: Path, query: str, carrier: str, host: str
) -> None:
    url = f"jdbc:postgresql://{host}/keycloak{query}"
    if carrier == "compose":
        name = "docker-compose.yml"
        text = (
            "services:\n  keycloak:\n    image: quay.io/keycloak/keycloak:24\n"
            f"    environment:\n      KC_DB: postgres\n      KC_DB_URL: {url}\n"
        )
        line = 6
    else:
        name, text, line = ".env", f"SPRING_DATASOURCE_URL={url}\n", 1
    root = _project(tmp_path, (query, carrier, host), {name: text})
    result = engine.scan([root], ScanSettings(project_root=root), jobs=1)
    found = {(f.rule_id, f.line) for f in result.report.findings if f.rule_id in _TRANSPORT}
    rule = JDBC_QUERIES[query]
    assert found == ({(rule, line)} if rule else set()), text
