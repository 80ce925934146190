"""A throwaway certificate authority and the server certificate every sandbox service uses."""

from __future__ import annotations

import ssl
from pathlib import Path
from typing import Any

import attrs
import trustme

__all__ = ["TlsMaterial", "make_tls"]

#: names the server certificate covers; urllib3 2.x checks only the subjectAltName.
SERVER_NAMES = ("127.0.0.1", "localhost")


@attrs.frozen
class TlsMaterial:
    """The CA of one sandbox run and a server-side TLS context signed by it.

    Attributes:
        ca: the ``trustme.CA``; part 2 issues client certificates from it.
        ca_file: the CA certificate (PEM) clients pass as ``verify=``.
        server_context: the TLS context every service's server uses.
    """

    ca: Any
    ca_file: Path
    server_context: ssl.SSLContext


def make_tls(directory: Path) -> TlsMaterial:
    """Create a CA and a server certificate for 127.0.0.1 and localhost.

    Args:
        directory: where the CA certificate is written (``ca.pem``).

    Returns:
        The CA, the path of its PEM file and a server TLS context.
    """
    ca = trustme.CA(organization_name="cisync sandbox")
    server_cert = ca.issue_cert(*SERVER_NAMES)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    server_cert.configure_cert(context)
    ca_file = directory / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    return TlsMaterial(ca=ca, ca_file=ca_file, server_context=context)
