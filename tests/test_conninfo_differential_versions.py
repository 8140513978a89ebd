"""conninfo at each libpq version against that libpq itself (issue 14).

Each binary wheel bundles its own libpq: psycopg2-binary 2.9.13 libpq 17,
psycopg-binary 3.3.9 libpq 18, psycopg2-binary 2.9.9 libpq 16 (its libraries only,
fetched by scripts/setup.sh into .venv/oracles: no installed driver carries 16), and
the system's libpq (15 here) is what a psycopg built from source links. Each one
is loaded with ctypes and asked directly: PQconninfoParse for the reading,
PQconndefaults for PG* variables and defaults, PQconnectStart for the option
checks it makes before dialling (host names replaced by a socket that does not
exist: nothing is resolved).
The model answers at the same version (DriverVersions), for the driver
form that carries that libpq; the inputs are the differential grammar plus
every keyword one version added, sslrootcert=system, and blanks in URLs.
No input class is left out; the deliberate differences are the
differential's own (a port outside 1-65535, refused by the model early).

Budget: VERSION_EXAMPLES x BATCH inputs per libpq, derandomized.
"""

from __future__ import annotations

import ctypes
import functools
import glob
import os
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from test_conninfo_budget import spent
from test_conninfo_differential import (
    _DIAL_FAILURE,
    _SETTINGS,
    BATCH,
    EARLY_PORT,
    Outcome,
    _model,
    differences,
    driver_environment,
    environment,
    keyword_text,
    libpq_outcome,
    pg_variables,
    url_body,
)
from verifyfull.conninfo import ConnStringError, Environment, libpq, parse_dsn
from verifyfull.conninfo.versions import (
    ALL_LIBPQ_KEYWORDS,
    PINNED,
    PSYCOPG2_BINARY_LIBPQ,
    DriverVersions,
    LibpqVersion,
    libpq_since,
)

psycopg_conninfo = pytest.importorskip("psycopg.conninfo")
pq = pytest.importorskip("psycopg.pq")

SLOW = os.environ.get("VERIFYFULL_SLOW") == "1"
# x BATCH = 5,000 inputs per libpq (VERIFYFULL_SLOW=1: 50,000)
VERSION_EXAMPLES = int(os.environ.get("VERIFYFULL_VERSION_EXAMPLES", 200 * (10 if SLOW else 1)))


class _Option(ctypes.Structure):
    _fields_ = [
        ("keyword", ctypes.c_char_p),
        ("envvar", ctypes.c_char_p),
        ("compiled", ctypes.c_char_p),
        ("val", ctypes.c_char_p),
        ("label", ctypes.c_char_p),
        ("dispchar", ctypes.c_char_p),
        ("dispsize", ctypes.c_int),
    ]


_KEYS = ("host", "hostaddr", "port", "user", "dbname", "sslmode", "sslrootcert")


class CLibpq:
    """One libpq shared library, asked directly (the oracle for its version)."""

    def __init__(self, path: str) -> None:
        lib = ctypes.CDLL(path)
        lib.PQlibVersion.restype = ctypes.c_int
        lib.PQconninfoParse.restype = ctypes.POINTER(_Option)
        lib.PQconninfoParse.argtypes = [ctypes.c_char_p, ctypes.POINTER(ctypes.c_void_p)]
        lib.PQconndefaults.restype = ctypes.POINTER(_Option)
        lib.PQconninfoFree.argtypes = [ctypes.POINTER(_Option)]
        lib.PQfreemem.argtypes = [ctypes.c_void_p]
        lib.PQconnectStart.restype = ctypes.c_void_p
        lib.PQconnectStart.argtypes = [ctypes.c_char_p]
        lib.PQerrorMessage.restype = ctypes.c_char_p
        lib.PQerrorMessage.argtypes = [ctypes.c_void_p]
        lib.PQfinish.argtypes = [ctypes.c_void_p]
        self.lib = lib
        self.major = lib.PQlibVersion() // 10000

    def _options(self, options: Any) -> dict[str, str]:
        found, index = {}, 0
        while options[index].keyword:
            if options[index].val is not None:
                found[options[index].keyword.decode()] = options[index].val.decode()
            index += 1
        self.lib.PQconninfoFree(options)
        return found

    def parse(self, text: str) -> dict[str, str] | None:
        """PQconninfoParse: the options written, or None when libpq refuses the text."""
        error = ctypes.c_void_p()
        options = self.lib.PQconninfoParse(text.encode(), ctypes.byref(error))
        if error.value:
            self.lib.PQfreemem(error)
        if not options:
            return None
        try:
            return self._options(options)
        except UnicodeDecodeError:  # psycopg decodes strictly and raises: a refusal
            return None

    def keywords(self) -> frozenset[str]:
        options = self.lib.PQconndefaults()
        names, index = set(), 0
        while options[index].keyword:
            names.add(options[index].keyword.decode())
            index += 1
        self.lib.PQconninfoFree(options)
        return frozenset(names)

    def defaults(self) -> dict[str, str | None]:
        values = self._options(self.lib.PQconndefaults())
        return {key: values.get(key) for key in _KEYS}

    def refusal(self, written: Mapping[str, str], values: Mapping[str, str | None]) -> str | None:
        checked = {k: v for k, v in written.items() if k != "host"}
        if values.get("host"):
            checked["host"] = ",".join(["/vf-nosuch"] * len(str(values["host"]).split(",")))
        elif "host" in written:
            # host='' written stays written: it hides PGHOST, whose names would otherwise
            # be counted against the hostaddrs (the slow tier's 7 cases in 50,000).
            checked["host"] = written["host"]
        conn = self.lib.PQconnectStart(psycopg_conninfo.make_conninfo("", **checked).encode())
        try:
            message = (self.lib.PQerrorMessage(conn) or b"").decode(errors="replace")
        finally:
            self.lib.PQfinish(conn)
        refused = message.strip() and not message.startswith(_DIAL_FAILURE)
        return "OperationalError" if refused else None

    def settings(self, text: str) -> Outcome:
        written = self.parse(text)
        if written is None:
            return Outcome(error="ProgrammingError")
        defaults = self.defaults()
        values = {k: written.get(k, v) for k, v in defaults.items()}
        refusal = self.refusal(written, values)
        # libpq_outcome applies sslrootcert=system's verify-full default (16+):
        # before 16 the mode is what PQconninfo says.
        return libpq_outcome(
            values, written_mode="sslmode" in written or self.major < 16, refusal=refusal
        )


@dataclass(frozen=True)
class Form:
    """A driver form and the libpq it carries."""

    driver: str
    versions: DriverVersions
    library: str


# scripts/setup.sh keeps the libraries of psycopg2-binary 2.9.9's wheel here: libpq 16,
# which no installed driver carries.
ORACLES = Path(__file__).parents[1] / ".venv" / "oracles"


def _load_with_neighbours(library: Path) -> None:
    """Load a wheel's bundled libraries before its libpq: their RPATH is the wheel's
    package ($ORIGIN/../psycopg2_binary.libs), not their own directory. Each is loaded
    locally (no symbol reaches another library); an already loaded soname satisfies
    libpq's dependency on it."""
    waiting = sorted(p for p in library.parent.glob("*.so*") if p != library)
    for _ in range(len(waiting)):
        failed = []
        for path in waiting:
            try:
                ctypes.CDLL(str(path))
            except OSError:
                failed.append(path)
        if not failed:
            return
        waiting = failed


def _libraries() -> Iterator[tuple[str, str]]:
    """(name, shared library) for each libpq on this machine, pinned wheels first, then
    the oracles setup.sh fetched, then the system's."""
    for package in ("psycopg2", "psycopg"):
        found = glob.glob(
            str(Path(pq.__file__).parents[2] / f"{package}_binary.libs" / "libpq-*.so*")
        )
        if found:
            yield package, found[0]
    for found in sorted(ORACLES.glob("libpq*/libpq-*.so*")):
        _load_with_neighbours(found)
        yield "psycopg2-binary 2.9.9's", str(found)
    for system in ("/usr/lib/x86_64-linux-gnu/libpq.so.5", "/usr/lib/aarch64-linux-gnu/libpq.so.5"):
        if os.path.exists(system):
            yield "system", system


def _forms() -> dict[str, Form]:
    forms = {}
    for name, path in _libraries():
        major = CLibpq(path).major
        version = LibpqVersion(major)
        if name == "psycopg2":
            forms[f"psycopg2 (libpq {major})"] = Form("psycopg2", PINNED, path)
        else:  # psycopg-binary's own, or a psycopg built against the system's libpq
            versions = DriverVersions(psycopg_libpq=version)
            forms[f"psycopg ({name} libpq {major})"] = Form("psycopg", versions, path)
    return forms


FORMS = _forms()


def test_the_pinned_wheels_carry_the_modelled_libpq() -> None:
    """The defaults are what requirements/constraints.txt installs."""
    psycopg2 = pytest.importorskip("psycopg2")
    assert psycopg2.__libpq_version__ // 10000 == PINNED.psycopg2_libpq.major == 17
    assert pq.version() // 10000 == PINNED.psycopg_libpq.major == 18
    assert "psycopg2 (libpq 17)" in FORMS and "psycopg (psycopg libpq 18)" in FORMS


def test_the_libpq_16_oracle_is_the_one_the_scanner_assumes_for_its_wheel() -> None:
    """scripts/setup.sh fetches psycopg2-binary 2.9.9's libraries; the scanner reads a
    project pinning that wheel at the libpq it bundles (PSYCOPG2_BINARY_LIBPQ)."""
    found = sorted(ORACLES.glob("libpq16/libpq-*.so*"))
    if not found:
        pytest.skip("no libpq 16 oracle: run scripts/setup.sh (it downloads the wheel)")
    assert CLibpq(str(found[0])).major == PSYCOPG2_BINARY_LIBPQ[(2, 9, 9)] == 16
    assert "psycopg (psycopg2-binary 2.9.9's libpq 16)" in FORMS


@pytest.mark.parametrize("name", sorted(FORMS))
def test_each_versions_keywords_are_that_libpqs(name: str) -> None:
    """LibpqVersion.keywords is the library's own PQconndefaults, and libpq_since says
    which version added every keyword the older one lacks."""
    real = CLibpq(FORMS[name].library)
    model = LibpqVersion(real.major)
    assert model.keywords == real.keywords()
    for key in ALL_LIBPQ_KEYWORDS - model.keywords:
        assert (libpq_since(key) or 0) > real.major


# Keywords one version added and another lacks, values for each, and blanks:
# the classes the versions differ in. Each input mixes them into the grammar.
_KEY32 = "A" * 43 + "="  # 32 bytes, base64
VERSIONED = {
    "sslnegotiation": ["direct", "postgres", "Direct", ""],
    "require_auth": [
        "scram-sha-256",
        "!password",
        "password,md5",
        "!md5,gss",
        "md5,!gss",
        "oauth",
        "none,sspi",
        "md5,md5",
        "",
        "!",
    ],
    "sslcertmode": ["allow", "require", "disable", "x"],
    "load_balance_hosts": ["random", "disable", "Random"],
    "gssdelegation": ["0", "1"],
    "min_protocol_version": ["3.0", "3.2", "latest", "3.1"],
    "max_protocol_version": ["3.0", "3.2", "latest"],
    "sslkeylogfile": ["/tmp/vf-keys"],
    "scram_client_key": ["AAAA", _KEY32, "!!", ""],
    "scram_server_key": [_KEY32, "AA"],
    "oauth_issuer": ["https://issuer.invalid"],
    "sslrootcert": ["system"],
}
BLANKS = [" ", "  ", "\t"]


@st.composite
def versioned_text(draw: st.DrawFn) -> str:
    """A generated URL or keyword string with version-dependent keys and blanks."""
    url = draw(st.booleans())
    text = ("postgresql://" + draw(url_body())) if url else draw(keyword_text())
    extra = draw(st.lists(st.sampled_from(sorted(VERSIONED)), max_size=3))
    items = [f"{key}={draw(st.sampled_from(VERSIONED[key]))}" for key in extra]
    if items and url:
        text += ("&" if "?" in text else ("?" if "/" in text[13:] else "/?")) + "&".join(items)
    elif items:
        text += " " + " ".join(items)
    if url and draw(st.integers(0, 2)) == 0:
        # A blank somewhere in the URL: around a part, or inside one.
        at = draw(st.integers(13, len(text)))
        text = text[:at] + draw(st.sampled_from(BLANKS)) + text[at:]
    return text


SEEN: Counter[str] = Counter()
TALLY: dict[str, Counter[str]] = {name: Counter() for name in FORMS}
EXAMPLES: dict[tuple[str, str], list[str]] = {}


def _psycopg2_parse(text: str) -> dict[str, str] | None:
    """psycopg2.extensions.parse_dsn (PQconninfoParse of the libpq psycopg2 carries)."""
    psycopg2 = pytest.importorskip("psycopg2")
    from psycopg2.extensions import parse_dsn

    try:
        return {k: v for k, v in parse_dsn(text).items() if v is not None}
    except (psycopg2.ProgrammingError, UnicodeDecodeError):
        return None


def _reading_difference(
    parse: Callable[[str], dict[str, str] | None], version: LibpqVersion, text: str
) -> str | None:
    theirs = parse(text)
    try:
        ours: dict[str, str] | None = libpq.libpq_reading(text, version)
    except ConnStringError:
        ours = None
    return None if ours == theirs else f"reading: model {ours}, libpq {theirs}"


def test_each_libpq_version_agrees_with_the_model_at_that_version(
    tmp_path: Path, ca_file: str
) -> None:
    """>= 5,000 generated inputs, each given to every libpq on the machine: the same
    reading (PQconninfoParse), and the same endpoints, user, database, sslmode, root
    and TLS use after libpq's defaults and option checks as the model at that
    version; zero undocumented disagreements. One generation, every oracle."""
    oracles = {name: CLibpq(form.library) for name, form in FORMS.items()}

    @settings(_SETTINGS, max_examples=VERSION_EXAMPLES)
    @given(st.lists(st.tuples(versioned_text(), environment()), min_size=BATCH, max_size=BATCH))
    def run(cases: list[tuple[str, dict[str, str]]]) -> None:
        for text, variables in cases:
            text = text.replace("{ca}", ca_file)
            variables = {k: v.replace("{ca}", ca_file) for k, v in variables.items()}
            env = Environment.of({"PGUSER": "envuser", **variables})
            with pg_variables(variables):
                for name, real in oracles.items():
                    _compare(name, real, text, variables, env)

    with driver_environment(tmp_path):
        run()
    spent("test_conninfo_differential_versions.py", {name: SEEN[name] for name in FORMS})
    problems = []
    for name in FORMS:
        unexpected = {k: n for k, n in TALLY[name].items() if k != EARLY_PORT}
        problems += [
            f"{name}: {kind}: {n} in {SEEN[name]} cases (e.g. {EXAMPLES[(name, kind)]})"
            for kind, n in unexpected.items()
        ]
    assert not problems, "\n".join(problems)


def _compare(
    name: str, real: CLibpq, text: str, variables: dict[str, str], env: Environment
) -> None:
    form = FORMS[name]
    SEEN[name] += 1
    version = form.versions.libpq_for(form.driver)
    problem = _reading_difference(real.parse, version, text)
    if problem is None and form.driver == "psycopg2":
        problem = _reading_difference(_psycopg2_parse, version, text)  # the driver's own call
    kinds = ["reading"] if problem is not None else []
    model = _model(lambda: parse_dsn(text, libpq_version=version), form.driver, env, form.versions)
    kinds += differences(model, real.settings(text))
    for kind in kinds:
        TALLY[name][kind] += 1
        shown = EXAMPLES.setdefault((name, kind), [])
        if len(shown) < 3:
            shown.append(f"{text!r} {variables} {problem or ''}")


@pytest.fixture(scope="module")
def ca_file(tmp_path_factory: pytest.TempPathFactory) -> str:
    from verifyfull.certs.create import create_ca

    base = tmp_path_factory.mktemp("ca")
    return str(create_ca(base / "certs", base / "ca.key").cert_path)


# A port written as C blanks around digits, or as blanks only, alone or in a list.
_PORT_BLANKS = st.text(st.sampled_from(" \t\r\n\v\f"), max_size=3)
_PORT_ENTRY = st.builds(
    lambda before, digits, after: before + digits + after,
    _PORT_BLANKS,
    st.sampled_from(["", "5432", "6000", "+26257"]),
    _PORT_BLANKS,
)


@settings(_SETTINGS, max_examples=300)
@given(
    entries=st.lists(_PORT_ENTRY, min_size=1, max_size=3),
    url=st.booleans(),
    hosted=st.booleans(),
)
def test_a_port_of_blanks_reads_as_each_libpq_reads_it(
    entries: list[str], url: bool, hosted: bool
) -> None:
    """libpq keeps a blank port (a URL's too, before 18) and refuses it when it checks
    the port, an empty one means the default; the model must say the same at each version
    (the slow tier found `postgresql://p@: /db` accepted by the model at libpq 17)."""
    hosts = ",".join(f"h{i}" for i in range(len(entries))) if hosted else ""
    if url:
        if any(set(entry) - set(" 0123456789+") for entry in entries):
            return  # a URL holds a raw tab or newline nowhere a generator writes one
        netloc = ",".join(
            f"h{i}:{entry}" if hosted else f":{entry}" for i, entry in enumerate(entries)
        )
        text = f"postgresql://app@{netloc}/db"
    else:
        quoted = ",".join(entries).replace("\\", "\\\\").replace("'", "\\'")
        text = (f"host={hosts} " if hosted else "") + f"port='{quoted}' user=app dbname=db"
    env = Environment.of({"PGUSER": "envuser"})
    for name, form in FORMS.items():
        version = form.versions.libpq_for(form.driver)
        real = CLibpq(form.library)
        model = _model(
            functools.partial(parse_dsn, text, libpq_version=version),
            form.driver,
            env,
            form.versions,
        )
        theirs = real.settings(text)
        # A bad port of a later host is refused only when libpq dials it (EARLY_PORT).
        assert set(differences(model, theirs)) <= {EARLY_PORT}, (name, text, model, theirs)


_ADDRESS = st.sampled_from(["", "192.0.2.9", "192.0.2.8", "2001:db8::5"])
_NAME = st.sampled_from(["a", "pg-1.local", "/tmp/s", "[2001:db8:0:0::5]"])


@settings(_SETTINGS, max_examples=120)
@given(
    addresses=st.lists(_ADDRESS, min_size=1, max_size=3),
    host=st.sampled_from([None, "host=", "host=''"]),
    pghost=st.one_of(st.none(), st.lists(_NAME, min_size=1, max_size=3).map(",".join)),
)
def test_an_empty_host_beside_hostaddrs_hides_pghost_at_each_libpq(
    addresses: list[str], host: str | None, pghost: str | None
) -> None:
    """host='' written is libpq's socket and hides PGHOST, so PGHOST's names are not
    counted against the hostaddrs; with no host written they are ("could not match 1
    host names to 2 hostaddr values"). The slow tier found the oracle itself dropping a
    written empty host when it asked libpq for a refusal (7 in 50,000 cases)."""
    text = f"hostaddr={','.join(addresses)}" + (f" {host}" if host else "")
    variables = {"PGUSER": "envuser", "PGPORT": "6000", **({"PGHOST": pghost} if pghost else {})}
    env = Environment.of(variables)
    with pg_variables(variables):
        for name, form in FORMS.items():
            version = form.versions.libpq_for(form.driver)
            model = _model(
                functools.partial(parse_dsn, text, libpq_version=version),
                form.driver,
                env,
                form.versions,
            )
            theirs = CLibpq(form.library).settings(text)
            assert set(differences(model, theirs)) <= {EARLY_PORT}, (name, text, variables)
