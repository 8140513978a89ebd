"""Rules shared by the libpq and asyncpg engines: sslmode's meaning, hosts, Tortoise's casts."""

from __future__ import annotations

from verifyfull.conninfo.sslarg import SSLArg
from verifyfull.conninfo.verdict import Judge
from verifyfull.policy import (
    TLSUse,
)

TLS_DSN_KEYS = (
    "sslmode",
    "sslrootcert",
    "sslcert",
    "sslkey",
    "sslcrl",
    "sslpassword",
    "sslnegotiation",
    "ssl_min_protocol_version",
    "ssl_max_protocol_version",
)


def is_tls_key(key: str) -> bool:
    return key.startswith("ssl") or key in ("requiressl", "direct_tls", "tls")


TORTOISE_OWN = frozenset(
    {
        "server_settings",
        "schema",
        "application_name",
        "connection_name",
        "fetch_inserted",
        "loop",
        "connection_class",
        "minsize",
        "maxsize",
    }
)
FALSE_WORDS = ("false", "0", "no", "off", "disable", "n", "f")


def tortoise_url_ssl(value: str, judge: Judge) -> tuple[SSLArg, str]:
    """Tortoise casts db_url's ?ssl= with bool(): every non-empty string is True."""
    if value.strip().lower() in FALSE_WORDS:
        judge.flag(
            "VF105",
            f"Tortoise casts ?ssl={value} with bool(): it becomes ssl=True (TLS against the "
            "system trust store), the opposite of what it says",
        )
    elif value.strip().lower() not in ("true", "1", "yes", "on"):
        judge.flag(
            "VF105",
            f"Tortoise casts ?ssl={value} with bool(): it becomes ssl=True (the system trust "
            "store), not the mode it names",
        )
    return SSLArg.of_bool(True), f"db_url ?ssl={value} (cast to True)"


def judge_sslmode(
    judge: Judge,
    who: str,
    mode: str,
    origin: str,
    *,
    root: str | None,
    root_known: bool,
    root_missing: str,
) -> bool:
    """libpq's sslmode meaning, shared by libpq and asyncpg (which copies it).

    Returns False when TLS is not certain (nothing more to judge).
    """
    if mode == "disable":
        judge.transport(TLSUse.NEVER, False, False, off=True)
        judge.note(f"{origin}: disable, {who} never uses TLS")
        return False
    if mode in ("allow", "prefer"):
        judge.transport(TLSUse.MAYBE, False, False)
        behaviour = (
            "starts in plaintext and uses TLS only if the server insists"
            if mode == "allow"
            else "asks for TLS, continues in plaintext when the server answers 'N', and "
            "retries in plaintext when the server refuses the session over TLS"
        )
        judge.note(f"{origin}: {mode}. {who} {behaviour}")
        return False
    where = root or "~/.postgresql/root.crt"
    if mode == "require":
        judge.transport(TLSUse.ALWAYS, root_known, False)
        if root_known:
            judge.note(
                f"{origin}: require with a root certificate ({where}): {who} then checks the "
                "chain like verify-ca, but not the host name"
            )
        else:
            judge.note(f"{origin}: require without a root certificate: any certificate is accepted")
        return True
    full = mode == "verify-full"
    judge.transport(TLSUse.ALWAYS, True, full)
    if not root_known:
        judge.crash(
            root_missing,
            f"{mode} needs a root certificate: no sslrootcert, PGSSLROOTCERT or "
            "~/.postgresql/root.crt, so every connect fails",
            # Fails closed, and the deployment may well provide the file: a
            # note and `breaks`, not a finding.
            rule=None,
        )
    judge.note(
        f"{origin}: {mode}, chain checked against {where}"
        + (", host name checked" if full else ", host name NOT checked")
    )
    return True
