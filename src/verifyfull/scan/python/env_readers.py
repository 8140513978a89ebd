"""Functions that read an environment variable, with the literal default the code
runs with when the variable is unset.

The standard library's spellings, and libraries whose reader takes the variable's
name first and the default as the second argument or `default=` (the form
resolve._env and credentials.on_call read):

- python-decouple `config(name, default=..., cast=...)` (decouple.AutoConfig.__call__
  -> Config.get: os.environ first, then settings.ini/.env, then `default`).
"""

from __future__ import annotations

STDLIB_ENV_GETTERS = frozenset({"os.getenv", "os.environ.get", "os.environ.setdefault", "getenv"})

LIBRARY_ENV_GETTERS = frozenset({"decouple.config"})

ENV_GETTERS = STDLIB_ENV_GETTERS | LIBRARY_ENV_GETTERS

# Words one of which a file must hold for a library reader to be called (the
# prefilter's test: `from decouple import config`).
LIBRARY_ENV_WORDS = tuple(sorted({qual.split(".", 1)[0] for qual in LIBRARY_ENV_GETTERS}))
