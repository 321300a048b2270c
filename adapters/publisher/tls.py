"""The vendor's TLS toward the hub's broker (AMQPS, port 5671): the server's certificate checked
against the hub's CA, and the vendor's client certificate when the hub asks for one.

A vendor connects with an ``amqps://`` URL; the hub's operators give it the CA that signed the
broker's certificate when it is not a public one (docs/vendors.md).
"""

from __future__ import annotations

import ssl
from pathlib import Path

MINIMUM_VERSION = ssl.TLSVersion.TLSv1_2


def vendor_tls(
    ca_file: Path | None = None, cert_file: Path | None = None, key_file: Path | None = None
) -> ssl.SSLContext:
    """A client context: the system's CAs plus ``ca_file``, the certificate chain and host name
    verified, TLS 1.2 at least, and ``cert_file``/``key_file`` shown when given."""
    context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH)
    context.minimum_version = MINIMUM_VERSION
    if ca_file is not None:
        context.load_verify_locations(cafile=str(ca_file))
    if cert_file is not None:
        context.load_cert_chain(str(cert_file), None if key_file is None else str(key_file))
    return context
