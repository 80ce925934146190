"""The sandbox's Defender side: an Entra authority, Microsoft Graph and the legacy MDCA API."""

from ._certs import EntraAppCertificate
from ._entra import EntraService
from ._graph import GraphService
from ._mdca import MdcaService

__all__ = [
    "EntraAppCertificate",
    "EntraService",
    "GraphService",
    "MdcaService",
]
