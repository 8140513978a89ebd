"""Which setting names hold a password, and the family they share with their siblings.

A password is named by its role at the end (`DB_PASSWORD`, `PG_PWD`, `db.pass`) or
followed by a qualifier that says which deployment or instance it is for
(`CC_DWH_DB_PASSWORD_PROD`, `DB_PASSWORD_NAUMEN_1`, `POSTGRES_PASSWORD_STAGING`:
held-out-s19, RikiTwiki/o_mobile_operator_dagster's `.env.example` holds ten). A
qualifier that says the value is something other than the password (`_FILE`, the
path of a Docker secret; `_HASH`, `_LENGTH`, `_POLICY`, ...) is no password name.

The family is the name without its role: the prefix and the qualifier together
(`DB_PASSWORD_DWH` and `DB_DRIVER_DWH` are one block's: DB + DWH), so a sibling that
names another engine (`DB_DRIVER_DWH=oracle`) is matched with its own password.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# role at the end, or followed by at most two qualifier words
_NAME = re.compile(
    r"^(?P<prefix>.*?)(?P<role>PASSWORD|PASSWD)(?P<qualifier>(?:[_.\-][A-Z0-9]+){0,2})$"
    r"|^(?P<short_prefix>(?:.*[_.\-])?)(?P<short_role>PASS|PWD)$"
)
# qualifier words that say the value is not the password itself
NOT_THE_PASSWORD = frozenset(
    {
        *("FILE", "FILES", "PATH", "DIR", "HASH", "HASHED", "DIGEST", "SALT", "LENGTH", "LEN"),
        *("MIN", "MAX", "POLICY", "POLICIES", "RULE", "RULES", "REGEX", "PATTERN", "STRENGTH"),
        *("KEY", "NAME", "ID", "ARN", "REF", "ENV", "VAR", "CMD", "COMMAND", "SCRIPT"),
        *("ENCRYPTION", "ENCRYPTED", "EXPIRY", "EXPIRES", "EXPIRATION", "AGE", "TTL"),
        *("RESET", "AUTH", "METHOD", "REQUIRED", "ENABLED", "DISABLED", "ENABLE", "DISABLE"),
        *("URL", "URI", "HINT", "PROMPT", "LABEL", "TIMEOUT", "RETRIES", "ROTATION"),
        *("VERSION", "TYPE", "FORMAT", "SOURCE", "FIELD", "PARAM", "PARAMETER", "PLACEHOLDER"),
        *("SECRET", "VAULT", "PROVIDER", "STORE", "MANAGER", "HELPER", "LOGIN", "FLAG"),
        *("HASHERS", "HASHER", "VALIDATORS", "VALIDATOR", "CHARS", "COMPLEXITY", "CHANGE"),
    }
)


@dataclass(frozen=True)
class PasswordName:
    prefix: str  # what comes before the role: "CC_DWH_DB_"
    qualifier: str  # what comes after it: "_PROD", "" when the role ends the name

    @property
    def family(self) -> str:
        """Prefix and qualifier, separators dropped ("CCDWHDBPROD")."""
        return family_of(self.prefix + self.qualifier)


def family_of(parts: str) -> str:
    """A name's family: what is left of it without its role, separators dropped (the
    same for a password and for its siblings, engines.py)."""
    return re.sub(r"[_.\-]", "", parts)


def password_name(name: str) -> PasswordName | None:
    """The name's parts when it names a password (`name`: upper case), else None."""
    match = _NAME.match(name)
    if match is None:
        return None
    if match.group("role") is None:
        return PasswordName(match.group("short_prefix"), "")
    qualifier = match.group("qualifier")
    words = re.split(r"[_.\-]", qualifier)[1:]
    if any(word in NOT_THE_PASSWORD for word in words):
        return None
    return PasswordName(match.group("prefix"), qualifier)
