"""The client certificate registered on the sandbox's Entra app (for certificate credentials)."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

from attrs import field, frozen
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID

__all__ = ["EntraAppCertificate", "load_or_make_certificate", "public_key"]


@frozen(kw_only=True)
class EntraAppCertificate:
    """A certificate and key the sandbox's Entra app accepts for client assertions.

    Pass ``{"private_key": private_key_pem, "thumbprint": thumbprint}`` or
    ``{"private_key_pfx_path": str(pfx_path), "passphrase": pfx_passphrase}``
    to msal as ``client_credential``.

    Attributes:
        private_key_pem: the RSA private key (PKCS#8 PEM, unencrypted).
        certificate_pem: the self-signed certificate (PEM).
        thumbprint: the certificate's SHA-1 thumbprint, upper-case hex (as the
            Azure portal shows it).
        thumbprint_sha256: the SHA-256 thumbprint, upper-case hex.
        pfx_path: a PKCS#12 file holding key and certificate.
        pfx_passphrase: the PFX file's passphrase.
    """

    private_key_pem: str = field(repr=False)
    certificate_pem: str
    thumbprint: str
    thumbprint_sha256: str
    pfx_path: Path
    pfx_passphrase: str = field(repr=False)


def public_key(certificate: EntraAppCertificate) -> rsa.RSAPublicKey:
    """The certificate's public key, which verifies client assertions."""
    key = x509.load_pem_x509_certificate(certificate.certificate_pem.encode()).public_key()
    if not isinstance(key, rsa.RSAPublicKey):  # pragma: no cover - we only make RSA keys
        raise TypeError("the client certificate must hold an RSA key")
    return key


def load_or_make_certificate(directory: Path, passphrase: str, name: str) -> EntraAppCertificate:
    """Reuse the certificate in ``directory``, or make a new self-signed one there.

    Args:
        directory: where ``client-key.pem``, ``client-cert.pem`` and
            ``client.pfx`` live (the state folder keeps them between runs).
        passphrase: the PFX passphrase.
        name: the certificate's common name.
    """
    directory.mkdir(parents=True, exist_ok=True)
    key_path, cert_path = directory / "client-key.pem", directory / "client-cert.pem"
    if key_path.exists() and cert_path.exists():
        key_pem, cert_pem = key_path.read_bytes(), cert_path.read_bytes()
        key = serialization.load_pem_private_key(key_pem, password=None)
        cert = x509.load_pem_x509_certificate(cert_pem)
    else:
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
        now = dt.datetime.now(dt.timezone.utc)
        cert = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=365))
            .sign(key, hashes.SHA256())
        )
        key_pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        cert_pem = cert.public_bytes(serialization.Encoding.PEM)
        _write_private(key_path, key_pem)
        cert_path.write_bytes(cert_pem)
    if not isinstance(key, rsa.RSAPrivateKey):  # pragma: no cover - we only make RSA keys
        raise TypeError(f"{key_path} must hold an RSA key")
    pfx_path = directory / "client.pfx"
    pfx = pkcs12.serialize_key_and_certificates(
        name.encode(), key, cert, None, serialization.BestAvailableEncryption(passphrase.encode())
    )
    _write_private(pfx_path, pfx)
    return EntraAppCertificate(
        private_key_pem=key_pem.decode(),
        certificate_pem=cert_pem.decode(),
        thumbprint=cert.fingerprint(hashes.SHA1()).hex().upper(),  # Entra names keys by SHA-1 (x5t)
        thumbprint_sha256=cert.fingerprint(hashes.SHA256()).hex().upper(),
        pfx_path=pfx_path,
        pfx_passphrase=passphrase,
    )


def _write_private(path: Path, data: bytes) -> None:
    path.write_bytes(data)
    os.chmod(path, 0o600)
