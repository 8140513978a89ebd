"""Kubernetes Secret `data:` values: base64 the API server decodes before any pod sees them.

    kind: Secret
    data:
      DB_LINK: cG9zdGdyZXNxbDovL3Bvc3RncmVzOi4uLkBkYi5leGFtcGxlOjU0MzIvbXlkYgo=

The container's `DB_LINK` (a `secretKeyRef`, an `envFrom`, a mounted file) holds the
decoded bytes, so the value is judged as the setting it decodes to: a connection URL by
its driver, a password as a committed password (VF401: base64 is the API's encoding, not
protection, so it is no VF402 "encoded" password either). `stringData:` is written plain
and needs nothing. A SealedSecret's `spec.template.data` becomes such a Secret's `data:`.

The API decodes `data` with Go's `encoding/json` ([]byte fields: base64.StdEncoding,
padded, carriage returns and line feeds skipped). Bounded: a value over MAX_ENCODED
characters, one that is not valid base64, or one whose bytes are not UTF-8 text (a
keystore, a binary key) is not decoded and is judged as written. A file holding
`kind: Secret` is always parsed (model.worth_parsing): its keys and values may name
no database before decoding.
"""

from __future__ import annotations

import base64
import binascii

from verifyfull.scan.config.model import Setting

MAX_ENCODED = 64 * 1024
# Text a person writes: no control characters but tab and line breaks.
_CONTROL = frozenset(chr(c) for c in range(32)) - {"\t", "\n", "\r"} | {"\x7f"}


def is_secret_data(context: tuple[str, ...]) -> bool:
    """Whether a setting with these enclosing names is a value of a Secret's `data:`."""
    if not context or context[-1] != "data":
        return False
    if context[0] == "Secret":
        return True
    return context[0] == "SealedSecret" and len(context) >= 2 and context[-2] == "template"


def decoded(setting: Setting) -> str | None:
    """The text a Secret's `data:` value decodes to, else None (not such a value, too
    long, not base64, not text). Trailing line breaks (`echo … | base64`) are dropped."""
    if not is_secret_data(setting.context):
        return None
    encoded = setting.value.strip()
    if not encoded or len(encoded) > MAX_ENCODED:
        return None
    try:
        raw = base64.b64decode(encoded.replace("\r", "").replace("\n", ""), validate=True)
        text = raw.decode("utf-8")
    except (binascii.Error, ValueError, UnicodeDecodeError):
        return None
    if _CONTROL.intersection(text):
        return None
    return text.rstrip("\r\n")
