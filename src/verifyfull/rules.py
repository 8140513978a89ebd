"""The rule catalogue: one entry per weakness, with its published doc next to it.

Ids are fixed (see DESIGN.md); the scanner, the probe and the guard all raise
these ids and take their metadata from here, so a rule reads the same
wherever it is reported. Each doc follows Ruff's shape: what it flags, why it
is bad, an example, and the fix.
"""

from __future__ import annotations

import enum
from collections.abc import Iterator
from dataclasses import dataclass

from verifyfull.errors import UsageError


class Severity(str, enum.Enum):
    """Ordered from most to least severe; `rank` gives the order for --fail-on."""

    CRITICAL = "critical"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"
    INFO = "info"

    @property
    def rank(self) -> int:
        return _SEVERITY_RANK[self]

    def at_least(self, other: Severity) -> bool:
        return self.rank >= other.rank

    @classmethod
    def parse(cls, text: str) -> Severity:
        try:
            return cls(text.strip().lower())
        except ValueError:
            choices = ", ".join(s.value for s in cls)
            raise ValueError(f"unknown severity {text!r}: use one of {choices}") from None


_SEVERITY_RANK = {
    Severity.INFO: 0,
    Severity.LOW: 1,
    Severity.MEDIUM: 2,
    Severity.HIGH: 3,
    Severity.CRITICAL: 4,
}


class CWE(enum.IntEnum):
    """The weaknesses the catalogue names (MITRE CWE ids)."""

    WEAK_PASSWORD_ENCODING = 261
    HARDCODED_PASSWORD = 259
    IMPROPER_CERT_VALIDATION = 295
    HOSTNAME_MISMATCH = 297
    EXPIRED_CERT = 298
    CLEARTEXT_TRANSMISSION = 319
    HARDCODED_KEY = 321
    INADEQUATE_ENCRYPTION_STRENGTH = 326
    BROKEN_CRYPTO = 327
    WEAK_HASH = 328
    INSUFFICIENT_RANDOMNESS = 330
    WEAK_PRNG = 338
    UNPROTECTED_CREDENTIALS_STORAGE = 522
    PROTECTION_MECHANISM_FAILURE = 693
    LESS_SECURE_ALGORITHM_NEGOTIATION = 757
    HARDCODED_CREDENTIALS = 798

    @property
    def url(self) -> str:
        return f"https://cwe.mitre.org/data/definitions/{int(self)}.html"


@dataclass(frozen=True)
class Rule:
    id: str
    slug: str
    title: str
    severity: Severity
    cwe: tuple[CWE, ...]
    why: str
    fix: str
    example: str
    example_fixed: str
    where: tuple[str, ...]  # which of scan / probe / guard raise it
    # What the two examples are written in: "python" examples are compiled (and their
    # imports resolved) by tests/test_docs_examples.py; reports use it to fence code.
    example_language: str = "python"

    @property
    def doc(self) -> str:
        """The published doc, in Ruff's order: what, why, example, fix."""
        cwes = ", ".join(f"CWE-{int(c)}" for c in self.cwe)
        return (
            f"{self.id} {self.slug}: {self.title}\n\n"
            f"Severity: {self.severity.value}    CWE: {cwes}    "
            f"Raised by: {', '.join(self.where)}\n\n"
            f"Why this is bad\n{self.why}\n\n"
            f"Example\n{self.example}\n\n"
            f"How to fix\n{self.fix}\n\n"
            f"Fixed\n{self.example_fixed}\n"
        )


_RULES: tuple[Rule, ...] = (
    Rule(
        id="VF101",
        slug="tls-disabled",
        title="TLS is switched off for the database connection",
        severity=Severity.CRITICAL,
        cwe=(CWE.CLEARTEXT_TRANSMISSION,),
        why=(
            "sslmode=disable, ssl=False or ssl='disable' (and PGSSLMODE=disable) send the "
            "startup message, the password exchange, every query and every result in "
            "cleartext. Anyone on the path between the service and the database reads "
            "credentials and data, and can change them."
        ),
        fix=(
            "Use sslmode=verify-full with sslrootcert pointing at the cluster CA "
            "(ca.crt), and a client certificate and key where the user authenticates by "
            "certificate. For asyncpg pass ssl=<SSLContext> built by verifyfull.guard."
        ),
        example='engine = create_engine("postgresql://app@db:26257/app?sslmode=disable")',
        example_fixed=(
            'engine = create_engine("postgresql+psycopg://app@db:26257/app'
            "?sslmode=verify-full&sslrootcert=certs/ca.crt"
            '&sslcert=certs/client.app.crt&sslkey=certs/client.app.key")'
        ),
        where=("scan", "guard"),
    ),
    Rule(
        id="VF102",
        slug="plaintext-fallback",
        title="The driver may fall back to plaintext (no TLS setting, or allow/prefer)",
        severity=Severity.HIGH,
        cwe=(CWE.CLEARTEXT_TRANSMISSION, CWE.LESS_SECURE_ALGORITHM_NEGOTIATION),
        why=(
            "Every Python PostgreSQL driver defaults to sslmode=prefer: it asks for TLS "
            "and silently continues in plaintext when the server, or an attacker in the "
            "middle, answers 'N'. allow starts in plaintext. Neither protects against an "
            "active attacker, and nothing in the application notices the downgrade."
        ),
        fix=(
            "State the mode explicitly: sslmode=verify-full with sslrootcert (libpq, "
            "psycopg), or ssl=<SSLContext with CERT_REQUIRED and check_hostname> for "
            "asyncpg, SQLAlchemy's asyncpg dialect and Tortoise."
        ),
        example='conn = await asyncpg.connect("postgresql://app@db:26257/app")',
        example_fixed=(
            "ctx = ssl.create_default_context(cafile='certs/ca.crt')\n"
            "ctx.load_cert_chain('certs/client.app.crt', 'certs/client.app.key')\n"
            'conn = await asyncpg.connect("postgresql://app@db:26257/app", ssl=ctx)'
        ),
        where=("scan", "guard"),
    ),
    Rule(
        id="VF103",
        slug="unverified-server-cert",
        title="TLS without checking the server certificate chain",
        severity=Severity.HIGH,
        cwe=(CWE.IMPROPER_CERT_VALIDATION,),
        why=(
            "sslmode=require (without a root certificate), ssl='require', "
            "verify_mode=CERT_NONE or ssl._create_unverified_context() encrypt the link "
            "but accept any certificate. An on-path attacker presents its own "
            "certificate and reads everything: encryption without authentication."
        ),
        fix=(
            "Verify the chain and the host: sslmode=verify-full with sslrootcert=ca.crt, "
            "or an SSLContext from ssl.create_default_context(cafile=ca.crt)."
        ),
        example='create_async_engine("postgresql+asyncpg://app@db/app?ssl=require")',
        example_fixed=(
            "ctx = ssl.create_default_context(cafile='certs/ca.crt')\n"
            'create_async_engine("postgresql+asyncpg://app@db/app", connect_args={"ssl": ctx})'
        ),
        where=("scan", "guard"),
    ),
    Rule(
        id="VF104",
        slug="hostname-not-verified",
        title="The server certificate's host name is not checked (verify-ca)",
        severity=Severity.MEDIUM,
        cwe=(CWE.HOSTNAME_MISMATCH, CWE.IMPROPER_CERT_VALIDATION),
        why=(
            "verify-ca (or check_hostname=False) checks that the certificate comes from "
            "the CA but not that it names the host dialled. Any certificate the CA ever "
            "issued, to any node or to a test box, lets an attacker impersonate the "
            "database. verify-full is the only mode that stops that."
        ),
        fix=(
            "Use sslmode=verify-full (check_hostname=True) and make sure the node "
            "certificates name every address clients dial (SAN)."
        ),
        example="?sslmode=verify-ca&sslrootcert=certs/ca.crt",
        example_fixed="?sslmode=verify-full&sslrootcert=certs/ca.crt",
        where=("scan", "guard"),
        example_language="text",
    ),
    Rule(
        id="VF105",
        slug="broken-tls-config",
        title="TLS settings that crash at connect, or are silently ignored or changed",
        severity=Severity.HIGH,
        cwe=(CWE.PROTECTION_MECHANISM_FAILURE,),
        why=(
            "Drivers and ORMs translate TLS settings differently. SQLAlchemy's asyncpg "
            "dialect passes ?sslmode= to asyncpg.connect() and crashes with TypeError at "
            "the first connection; asyncpg rejects an ssl={dict}; Tortoise casts "
            "?ssl=false to True; an empty ssl dict means no TLS. The configuration reads "
            "as secure and either takes the service down or does something else."
        ),
        fix=(
            "Use the form the driver really understands: an SSLContext passed as "
            "connect_args={'ssl': ctx} (SQLAlchemy + asyncpg) or ssl=ctx (asyncpg, "
            "Tortoise credentials), libpq parameters for psycopg, or verifyfull.guard."
        ),
        example=(
            'create_async_engine("postgresql+asyncpg://app@db/app?sslmode=verify-ca'
            '&sslrootcert=ca.crt")  # TypeError at connect'
        ),
        example_fixed=(
            "from verifyfull.guard import Guard\n"
            "from verifyfull.guard.sqlalchemy_ import create_guarded_async_engine\n"
            "# DB_HOST, DB_CA_PATH, DB_CERT_PATH, DB_KEY_PATH or DATABASE_URL from the env\n"
            'engine = create_guarded_async_engine(Guard.from_env(), "postgresql+asyncpg")'
        ),
        where=("scan", "guard"),
    ),
    Rule(
        id="VF106",
        slug="legacy-tls-version",
        title="The client allows TLS versions below 1.2",
        severity=Severity.HIGH,
        cwe=(CWE.LESS_SECURE_ALGORITHM_NEGOTIATION, CWE.INADEQUATE_ENCRYPTION_STRENGTH),
        why=(
            "TLS 1.0 and 1.1 are deprecated (RFC 8996): they rely on SHA-1 and CBC "
            "constructions with known attacks. A client that still offers them can be "
            "negotiated down by a server or attacker that prefers them."
        ),
        fix=(
            "Set ctx.minimum_version = ssl.TLSVersion.TLSv1_2 (the default of "
            "ssl.create_default_context) or ssl_min_protocol_version=TLSv1.2."
        ),
        example="ctx.minimum_version = ssl.TLSVersion.TLSv1",
        example_fixed="ctx.minimum_version = ssl.TLSVersion.TLSv1_2",
        where=("scan", "guard"),
    ),
    Rule(
        id="VF107",
        slug="weak-cipher",
        title="The client cipher list admits weak suites",
        severity=Severity.HIGH,
        cwe=(CWE.BROKEN_CRYPTO,),
        why=(
            "NULL, EXPORT, RC4, 3DES, MD5-based and anonymous suites give no or broken "
            "confidentiality, or no authentication of the server."
        ),
        fix=(
            "Do not call set_ciphers with such a list; keep OpenSSL's default, or use "
            "'ECDHE+AESGCM:ECDHE+CHACHA20' (the suites a CockroachDB secure node offers)."
        ),
        example='ctx.set_ciphers("ALL:!aNULL:RC4")',
        example_fixed='ctx.set_ciphers("ECDHE+AESGCM:ECDHE+CHACHA20")',
        where=("scan", "guard"),
    ),
    Rule(
        id="VF108",
        slug="tls-decided-at-deploy",
        title="The connection's TLS is decided only at deploy time",
        severity=Severity.INFO,
        cwe=(CWE.CLEARTEXT_TRANSMISSION,),
        why=(
            "Everything that decides this connection's TLS (the whole URL, or its host "
            "and sslmode) comes from an environment variable or from code outside the "
            "scanned tree. Nothing here can be judged, so a deployment that leaves it "
            "unset or writes sslmode=prefer gets the driver default: plaintext when the "
            "server or an attacker answers 'N'. The finding names what the value "
            "depends on, so it can be checked where it is set."
        ),
        fix=(
            'Check the deployed value: `verifyfull explain "$DATABASE_URL"`, '
            "`verifyfull probe` against the server, or run the service under "
            "`verifyfull run --` (runtime enforcement). Or decide TLS in code: pass "
            "the TLS argument explicitly (an SSLContext from verifyfull.guard), which "
            "the drivers honour whatever the URL says."
        ),
        example='engine = create_async_engine(os.environ["DATABASE_URL"])',
        example_fixed=(
            "from verifyfull.guard import Guard\n"
            "from verifyfull.guard.sqlalchemy_ import create_guarded_async_engine\n"
            "# DATABASE_URL (and DB_CA_PATH) from the environment; TLS decided by the guard\n"
            'engine = create_guarded_async_engine(Guard.from_env(), "postgresql+asyncpg")'
        ),
        where=("scan",),
    ),
    Rule(
        id="VF201",
        slug="server-without-tls",
        title="The database server runs without TLS",
        severity=Severity.CRITICAL,
        cwe=(CWE.CLEARTEXT_TRANSMISSION,),
        why=(
            "cockroach start --insecure, PostgreSQL ssl=off, or a live 'N' to SSLRequest: "
            "no client can encrypt, whatever it asks for; with --insecure CockroachDB "
            "also skips authentication entirely."
        ),
        fix=(
            "Start CockroachDB with --certs-dir (cockroach cert create-ca / create-node), "
            "or set ssl=on with ssl_cert_file and ssl_key_file in postgresql.conf."
        ),
        example="command: cockroach start-single-node --insecure",
        example_fixed="command: cockroach start-single-node --certs-dir=/certs",
        where=("scan", "probe"),
        example_language="yaml",
    ),
    Rule(
        id="VF202",
        slug="server-accepts-plaintext",
        title="The server accepts SQL sessions without TLS",
        severity=Severity.HIGH,
        cwe=(CWE.CLEARTEXT_TRANSMISSION,),
        why=(
            "The server has TLS but still lets a client authenticate in plaintext "
            "(--accept-sql-without-tls, pg_hba 'host' or 'hostnossl' rules). Any client "
            "left on sslmode=prefer, or downgraded by an attacker, sends its password "
            "and data in cleartext."
        ),
        fix=(
            "Remove --accept-sql-without-tls; in pg_hba.conf use 'hostssl' lines only "
            "(and 'hostnossl ... reject')."
        ),
        example="host  all  all  0.0.0.0/0  scram-sha-256",
        example_fixed="hostssl  all  all  0.0.0.0/0  cert",
        where=("scan", "probe"),
        example_language="pg_hba",
    ),
    Rule(
        id="VF203",
        slug="server-legacy-tls",
        title="The server accepts TLS 1.0 or 1.1",
        severity=Severity.MEDIUM,
        cwe=(CWE.LESS_SECURE_ALGORITHM_NEGOTIATION, CWE.INADEQUATE_ENCRYPTION_STRENGTH),
        why="Deprecated protocol versions (RFC 8996) with known weaknesses remain negotiable.",
        fix="ssl_min_protocol_version = 'TLSv1.2' (PostgreSQL); CockroachDB enforces 1.2.",
        example="ssl_min_protocol_version = 'TLSv1'",
        example_fixed="ssl_min_protocol_version = 'TLSv1.2'",
        where=("scan", "probe"),
        example_language="postgresql.conf",
    ),
    Rule(
        id="VF204",
        slug="server-weak-ciphers",
        title="The server accepts weak cipher suites",
        severity=Severity.MEDIUM,
        cwe=(CWE.BROKEN_CRYPTO,),
        why=(
            "Suites without forward secrecy, CBC suites without AEAD, 3DES, RC4 or NULL "
            "suites can be negotiated. COCKROACH_TLS_ENABLE_OLD_CIPHER_SUITES=true adds "
            "CBC and RSA key-exchange suites to a CockroachDB node."
        ),
        fix=(
            "Unset COCKROACH_TLS_ENABLE_OLD_CIPHER_SUITES; in postgresql.conf set "
            "ssl_ciphers = 'ECDHE+AESGCM:ECDHE+CHACHA20'."
        ),
        example="COCKROACH_TLS_ENABLE_OLD_CIPHER_SUITES=true",
        example_fixed="# (variable removed)",
        where=("scan", "probe"),
        example_language="env",
    ),
    Rule(
        id="VF205",
        slug="client-cert-not-required",
        title="A user can log in without a client certificate although mTLS is required",
        severity=Severity.HIGH,
        cwe=(CWE.IMPROPER_CERT_VALIDATION,),
        why=(
            "PostgreSQL and CockroachDB decide the client-certificate requirement after "
            "the TLS handshake, per user. A server that asks for a password (or nothing) "
            "from a client without a certificate does not enforce the mTLS policy; TLS "
            "scanners that read the handshake alone report this wrongly."
        ),
        fix=(
            "pg_hba: 'hostssl all all 0.0.0.0/0 cert' (or clientcert=verify-full); "
            "CockroachDB: set server.host_based_authentication.configuration to 'cert' "
            "rules for the users concerned."
        ),
        example="hostssl all all 0.0.0.0/0 scram-sha-256",
        example_fixed="hostssl all all 0.0.0.0/0 cert",
        where=("probe",),
        example_language="pg_hba",
    ),
    Rule(
        id="VF206",
        slug="buffered-data-after-sslrequest",
        title="The server processes bytes sent before the TLS handshake (CVE-2021-23214)",
        severity=Severity.CRITICAL,
        cwe=(CWE.CLEARTEXT_TRANSMISSION,),
        why=(
            "A server that buffers plaintext sent with the SSLRequest and processes it "
            "after the handshake as if it came over TLS lets an on-path attacker inject "
            "SQL into a client's encrypted session."
        ),
        fix="Upgrade PostgreSQL to 14.1, 13.5, 12.9, 11.14, 10.19, 9.6.24 or later.",
        example="(live finding: probe sent SSLRequest + StartupMessage in one write)",
        example_fixed="(server answers FATAL 08P01 'received unencrypted data after SSL request')",
        where=("probe",),
        example_language="text",
    ),
    Rule(
        id="VF207",
        slug="api-over-plaintext-http",
        title="The API answers over plain HTTP",
        severity=Severity.HIGH,
        cwe=(CWE.CLEARTEXT_TRANSMISSION,),
        why=(
            "Content served over http:// (rather than a redirect to https on the same "
            "host) exposes tokens and data and lets an attacker strip TLS."
        ),
        fix=(
            "Serve the API with TLS (uvicorn --ssl-certfile/--ssl-keyfile or a TLS proxy) "
            "and redirect plain HTTP to HTTPS (HTTPSRedirectMiddleware)."
        ),
        example="uvicorn app:app --host 0.0.0.0 --port 80",
        example_fixed="uvicorn app:app --ssl-certfile api.crt --ssl-keyfile api.key",
        where=("probe",),
        example_language="shell",
    ),
    Rule(
        id="VF208",
        slug="hsts-missing",
        title="The HTTPS API sends no Strict-Transport-Security of at least 180 days",
        severity=Severity.MEDIUM,
        cwe=(CWE.PROTECTION_MECHANISM_FAILURE, CWE.CLEARTEXT_TRANSMISSION),
        why=(
            "Without HSTS a client that once reaches the API over http:// can be kept on "
            "plaintext by an attacker (SSL stripping)."
        ),
        fix="Send 'Strict-Transport-Security: max-age=31536000; includeSubDomains'.",
        example="(no Strict-Transport-Security header)",
        example_fixed="Strict-Transport-Security: max-age=31536000; includeSubDomains",
        where=("probe",),
        example_language="text",
    ),
    Rule(
        id="VF301",
        slug="cert-untrusted",
        title="The certificate chain does not verify against the given roots",
        severity=Severity.HIGH,
        cwe=(CWE.IMPROPER_CERT_VALIDATION,),
        why=(
            "A verify-full client refuses it (an outage), and a client that accepts it "
            "anyway accepts any attacker's certificate too."
        ),
        fix="Issue the node certificate from the cluster CA that clients trust (ca.crt).",
        example="node.crt signed by another CA than certs/ca.crt",
        example_fixed="cockroach cert create-node db.internal --certs-dir=certs --ca-key=ca.key",
        where=("scan", "probe", "guard"),
        example_language="text",
    ),
    Rule(
        id="VF302",
        slug="cert-hostname-mismatch",
        title="The certificate does not name the host dialled",
        severity=Severity.HIGH,
        cwe=(CWE.HOSTNAME_MISMATCH,),
        why=(
            "verify-full clients refuse the connection; the usual workaround, verify-ca, "
            "drops the check that stops impersonation by any other certificate of the CA."
        ),
        fix="Reissue the node certificate with every address clients dial in its SAN.",
        example="node.crt with SAN db-old.internal, dialled as db.internal",
        example_fixed="cockroach cert create-node db.internal localhost 127.0.0.1 ...",
        where=("scan", "probe", "guard"),
        example_language="text",
    ),
    Rule(
        id="VF303",
        slug="cert-expired",
        title="The certificate is expired, not yet valid, or expires within the warning window",
        severity=Severity.HIGH,
        cwe=(CWE.EXPIRED_CERT,),
        why=(
            "Expired certificates break verify-full clients and push teams to disable "
            "verification; expiring ones are the outage of next week."
        ),
        fix="Rotate the certificate before expiry; the guard reloads rotated files.",
        example="client.app.crt notAfter in the past",
        example_fixed="cockroach cert create-client app --lifetime=2160h ...",
        where=("scan", "probe", "guard"),
        example_language="text",
    ),
    Rule(
        id="VF304",
        slug="weak-key",
        title="RSA/DSA key under 2048 bits or EC key under 224 bits",
        severity=Severity.HIGH,
        cwe=(CWE.INADEQUATE_ENCRYPTION_STRENGTH,),
        why="Short keys can be factored or broken with affordable computing power.",
        fix="Use RSA 2048+ (3072 recommended) or ECDSA P-256 or stronger.",
        example="rsa.generate_private_key(public_exponent=65537, key_size=1024)",
        example_fixed="rsa.generate_private_key(public_exponent=65537, key_size=3072)",
        where=("scan", "probe", "guard"),
    ),
    Rule(
        id="VF305",
        slug="weak-signature-hash",
        title="Certificate signed with MD5 or SHA-1",
        severity=Severity.HIGH,
        cwe=(CWE.WEAK_HASH,),
        why="Chosen-prefix collisions against MD5 and SHA-1 allow forged certificates.",
        fix="Reissue the certificate with a SHA-256 (or stronger) signature.",
        example="Signature Algorithm: sha1WithRSAEncryption",
        example_fixed="Signature Algorithm: sha256WithRSAEncryption",
        where=("scan", "probe", "guard"),
        example_language="text",
    ),
    Rule(
        id="VF306",
        slug="private-key-exposed",
        title="Private key readable by others or committed to the tree",
        severity=Severity.HIGH,
        cwe=(CWE.UNPROTECTED_CREDENTIALS_STORAGE, CWE.HARDCODED_KEY),
        why=(
            "Whoever reads a node or client key impersonates that node or user. libpq "
            "refuses client keys readable by group or others; a key in version control "
            "is readable by everyone who ever clones it."
        ),
        fix=(
            "chmod 600 the key; remove committed keys from the tree and its history, "
            "rotate them, and mount keys from a secret manager instead."
        ),
        example="-rw-r--r-- certs/client.app.key",
        example_fixed="-rw------- certs/client.app.key",
        where=("scan", "guard"),
        example_language="text",
    ),
    Rule(
        id="VF401",
        slug="hardcoded-db-credential",
        title="Database password written in code or config",
        severity=Severity.HIGH,
        cwe=(CWE.HARDCODED_CREDENTIALS, CWE.HARDCODED_PASSWORD),
        why="Passwords in source end up in every clone, log and backup, and never rotate.",
        fix=(
            "Read the password from the environment or a secret-manager file "
            "(DB_PASSWORD_FILE), or use client-certificate authentication."
        ),
        example='"postgresql://app:s3cret@db/app"',
        example_fixed='"postgresql://app@db/app"  # password from DB_PASSWORD_FILE',
        where=("scan",),
    ),
    Rule(
        id="VF402",
        slug="weak-password-encoding",
        title="Password 'protected' by base64, hex or rot13",
        severity=Severity.HIGH,
        cwe=(CWE.WEAK_PASSWORD_ENCODING,),
        why="Encoding is not encryption: anyone decodes it in one line.",
        fix="Keep the secret out of the code entirely (environment or secret manager).",
        example='password = base64.b64decode("czNjcmV0").decode()',
        example_fixed='password = Path(os.environ["DB_PASSWORD_FILE"]).read_text().strip()',
        where=("scan",),
    ),
    Rule(
        id="VF403",
        slug="weak-hash",
        title="MD5 or SHA-1 used for passwords or security",
        severity=Severity.MEDIUM,
        cwe=(CWE.WEAK_HASH, CWE.BROKEN_CRYPTO),
        why=(
            "MD5 and SHA-1 are broken for collision resistance and far too fast for "
            "password storage; PostgreSQL's md5 auth method is deprecated for the same "
            "reason."
        ),
        fix=(
            "Passwords: argon2/scrypt/bcrypt (or hashlib.scrypt). Integrity: SHA-256. "
            "PostgreSQL: password_encryption = scram-sha-256."
        ),
        example="hashlib.md5(password.encode()).hexdigest()",
        example_fixed="hashlib.scrypt(password.encode(), salt=salt, n=2**14, r=8, p=1)",
        where=("scan",),
    ),
    Rule(
        id="VF404",
        slug="insecure-random",
        title="The random module used for tokens, passwords, keys or nonces",
        severity=Severity.MEDIUM,
        cwe=(CWE.INSUFFICIENT_RANDOMNESS, CWE.WEAK_PRNG),
        why="random is a Mersenne Twister: its output is predictable from earlier output.",
        fix="Use the secrets module (secrets.token_urlsafe, secrets.token_bytes).",
        example="token = ''.join(random.choice(ALPHABET) for _ in range(32))",
        example_fixed="token = secrets.token_urlsafe(32)",
        where=("scan",),
    ),
)

RULES: dict[str, Rule] = {rule.id: rule for rule in _RULES}
_BY_SLUG: dict[str, Rule] = {rule.slug: rule for rule in _RULES}

# The rules about one connection's transport, what the client does on the wire: the
# VF10x rules the guard also raises (VF101-VF107). VF108 only notes that the deploy
# decides it; server, certificate and credential rules are about other things.
TRANSPORT_RULES = frozenset(
    rule.id for rule in _RULES if rule.id.startswith("VF10") and "guard" in rule.where
)
# The transport rules the TLS mode alone decides: disable, allow/prefer, require,
# verify-ca (a setting that weakens a connection by its mode).
MODE_RULES = frozenset({"VF101", "VF102", "VF103", "VF104"})


def get(rule_id_or_slug: str) -> Rule:
    """Look a rule up by id (VF102, case-insensitive) or slug (plaintext-fallback)."""
    key = rule_id_or_slug.strip()
    rule = RULES.get(key.upper()) or _BY_SLUG.get(key.lower())
    if rule is None:
        raise KeyError(f"unknown rule {key!r}: run 'verifyfull rules' for the catalogue")
    return rule


def all_rules() -> Iterator[Rule]:
    return iter(_RULES)


def parse_selection(text: str | None) -> frozenset[str]:
    """Parse a --select/--ignore list: ids or slugs, comma separated; prefixes like VF1."""
    if not text:
        return frozenset()
    chosen: set[str] = set()
    for raw in text.split(","):
        item = raw.strip()
        if not item:
            continue
        prefix_hits = [r.id for r in _RULES if r.id.startswith(item.upper())]
        if prefix_hits:
            chosen.update(prefix_hits)
        else:
            chosen.add(get(item).id)
    return frozenset(chosen)


def selection_option(option: str, text: str | None) -> frozenset[str] | None:
    """A --select/--ignore value for a command (None when not given); an unknown id is
    a UsageError naming the option."""
    if text is None:
        return None
    try:
        return parse_selection(text)
    except KeyError as exc:
        raise UsageError(f"{option}: {exc.args[0]}") from None
