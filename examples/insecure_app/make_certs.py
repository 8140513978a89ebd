"""Regenerate certs/ with deliberately bad options (run from this directory).

The CA key goes to a temporary directory and is thrown away; the node key is
committed on purpose (VF306). The node certificate is SHA-1 signed (VF305), has
a 1024-bit RSA key (VF304) and expired in 2021 (VF303).
"""

import datetime as dt
import tempfile
from pathlib import Path

from verifyfull.certs.create import KeySpec, Validity, create_ca, create_node


def main() -> None:
    certs = Path("certs")
    with tempfile.TemporaryDirectory() as scratch:
        ca_key = Path(scratch) / "ca.key"
        create_ca(certs, ca_key, overwrite=True)
        create_node(
            ["crdb", "localhost"],
            certs,
            ca_key,
            key=KeySpec("rsa", 1024),
            validity=Validity(dt.timedelta(days=365), starts=dt.datetime(2020, 1, 1, tzinfo=dt.timezone.utc)),
            hash_name="sha1",
            overwrite=True,
        )


if __name__ == "__main__":
    main()
