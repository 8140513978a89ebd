"""Password hashing and API tokens (every choice here is wrong)."""

import base64
import hashlib
import random
import string

# "Not in plain text" in the repository:
DB_PASSWORD = base64.b64decode("b3JkZXJzLWFkbWluLXB3").decode()

ALPHABET = string.ascii_letters + string.digits


def hash_password(password: str) -> str:
    return hashlib.md5(password.encode()).hexdigest()


def verify_password(password: str, stored: str) -> bool:
    return hash_password(password) == stored


def new_api_token() -> str:
    return "".join(random.choice(ALPHABET) for _ in range(32))


def avatar_cache_key(email: str) -> str:
    # Not a security use: a cache key (verifyfull does not flag this one).
    return hashlib.md5(email.lower().encode()).hexdigest()
