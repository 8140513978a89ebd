"""The probe's time budget: how long one target may take, in all.

One deadline per target covers every phase (name lookup, TCP connect,
SSLRequest, each TLS handshake, the StartupMessages, HTTP header reads,
the plain-HTTP side, --deep), so --timeout is the longest a target can
hold the probe, whatever the server does.
"""

from __future__ import annotations

DEFAULT_TIMEOUT = 10.0  # a full default probe takes well under 1 s on a LAN
DEEP_DEFAULT_TIMEOUT = 120.0  # --deep: sslyze alone takes 10-15 s per endpoint on loopback
MAX_TIMEOUT = 600.0
