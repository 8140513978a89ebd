"""Where a rendered report goes: a file named by --output, or stdout.

Every byte written here has been through verifyfull.scrub: the views mask
secrets in each piece they render, and `emit` masks the whole text once more,
the last line of defence for a piece a view did not know held one.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path

from verifyfull.errors import UsageError
from verifyfull.scrub import scrub, scrub_tree


def _last_scrub(text: str) -> str:
    """The whole text masked once more. A JSON document (the json and sarif views)
    is masked value by value: the text patterns, run over its serialised form,
    would cut into an escape (`password=pw\\"` eats the backslash before a quote)
    and leave a document that no longer parses."""
    masked = scrub(text)
    if masked == text or not text.lstrip().startswith("{"):
        return masked
    try:
        document = json.loads(text)
    except ValueError:
        return masked
    return json.dumps(scrub_tree(document), indent=2) + "\n"


def emit(text: str, output: Path | None) -> None:
    """Write the report to `output` (a regular file is replaced atomically: a reader
    never sees half a report, and a failed write keeps the earlier one), or to stdout."""
    text = _last_scrub(text)
    if output is None:
        sys.stdout.write(text)
        sys.stdout.flush()
        return
    target = Path(output)
    if target.is_symlink():
        target = target.resolve()  # replace the file the link names, keep the link
    try:
        if target.exists() and not target.is_file():
            # /dev/null, a FIFO, /dev/stdout: write into it. Replacing it by a
            # rename would put a regular file where a device was.
            with open(target, "w", encoding="utf-8") as stream:
                stream.write(text)
            return
        fd, tmp = tempfile.mkstemp(dir=target.parent or Path("."), prefix=f".{target.name}.")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(text)
            os.chmod(tmp, 0o644)
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except OSError as exc:
        raise UsageError(
            f"cannot write {output}: {exc.strerror or exc}", "choose a writable path"
        ) from None
