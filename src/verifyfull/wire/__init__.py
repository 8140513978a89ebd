"""The one network layer of verifyfull: deadline-bounded sockets and PostgreSQL's first bytes.

`net` turns silence, trickling, resets and endless streams into one error
type (WireError) under one Deadline; `pg` writes and reads the
pre-authentication part of the PostgreSQL protocol (SSLRequest,
GSSENCRequest, StartupMessage, backend messages, the TLS upgrade). The probe,
the lab and the guard all use it. Standard library only, so that the
production library (the guard) can import it without carrying any harness.
"""
