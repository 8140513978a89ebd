"""verifyfull's sitecustomize: enforcement from a program's first import.

`verifyfull run` puts this directory first on PYTHONPATH (as
opentelemetry-instrument and ddtrace-run do); Python's site module imports it
at start-up, before the program's own code. It activates enforcement when
VERIFYFULL_ENFORCE is set, then runs the sitecustomize this one shadows, if
any, so the program's own start-up customisation still happens.
"""

import importlib.machinery
import importlib.util
import os
import sys


def _fail(message: str) -> None:
    """Enforcement asked for and impossible: stop before the program runs (fail closed).

    os._exit, because an exception raised here is a fatal start-up traceback.
    """
    sys.stderr.write(f"verifyfull: {message}\n")
    sys.stderr.flush()
    os._exit(2)


def _activate() -> None:
    try:
        from verifyfull.runtime.autostart import activate_from_env
    except ImportError as exc:
        if os.environ.get("VERIFYFULL_ENFORCE"):
            _fail(f"cannot enforce: {exc}; install verifyfull for this interpreter")
        return
    try:
        activate_from_env()
    except Exception as exc:  # a UsageError: one line naming the variable and the fix
        _fail(str(exc))


def _chain() -> None:
    """Import the next sitecustomize on sys.path (this directory excluded)."""
    here = os.path.dirname(os.path.abspath(__file__))
    rest = [p for p in sys.path if os.path.abspath(p or ".") != here]
    spec = importlib.machinery.PathFinder.find_spec("sitecustomize", rest)
    if spec is None or spec.loader is None:
        return
    module = importlib.util.module_from_spec(spec)
    sys.modules["_verifyfull_chained_sitecustomize"] = module
    spec.loader.exec_module(module)


_activate()
_chain()
