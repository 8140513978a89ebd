"""Runtime enforcement: every database connection the process opens, judged and proven.

    handle = verifyfull.enforce(mode="refuse")   # or "audit"
    ...                                          # asyncpg, psycopg 3, psycopg2 and all on them
    handle.connections                           # one ConnectionRecord per attempt
    handle.stop()                                # the drivers are as before

`verifyfull run -- COMMAND` and `VERIFYFULL_ENFORCE=refuse|audit` activate it
for a whole program (bootstrap/sitecustomize.py); the pytest plugin
(pytest_plugin.py) for a test session. See docs/runtime.md.
"""

from verifyfull.runtime.enforce import ConnectionRefusedByPolicy, Enforcement, enforce
from verifyfull.runtime.record import ConnectionRecord, Mode

__all__ = ["ConnectionRecord", "ConnectionRefusedByPolicy", "Enforcement", "Mode", "enforce"]
