"""Credentials for Entra ID and the legacy API, kept out of every repr, log line and file.

A :class:`Secret` holds the sensitive string; only :meth:`Secret.reveal`
gives it back, and only :mod:`cisync_lib.defender._auth` and the legacy
adapter's request signing call it.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Mapping
from typing import Any, NoReturn
from urllib.parse import urlsplit, urlunsplit

from attrs import field, frozen

from cisync_lib.errors import ConfigError

__all__ = [
    "ClientAssertion",
    "ClientCertificate",
    "ClientSecret",
    "Credential",
    "LegacyToken",
    "Secret",
    "proxies_repr",
]

_MASK = "***"


class Secret:
    """A string that never shows itself: repr, str and format print ``***``.

    Equality is constant-time; pickling is refused so a secret cannot end up
    in a file by accident.
    """

    __slots__ = ("_value",)

    def __init__(self, value: str | Secret) -> None:
        if isinstance(value, Secret):
            value = value.reveal()
        if not isinstance(value, str):
            raise TypeError(f"a secret must be a string, got {type(value).__name__}")
        self._value = value

    def reveal(self) -> str:
        """Return the secret value; call it only where the value is sent."""
        return self._value

    def fingerprint(self) -> str:
        """A SHA-256 digest of the value, to tell secrets apart without keeping them."""
        return hashlib.sha256(self._value.encode("utf-8")).hexdigest()

    def __repr__(self) -> str:
        return f"Secret('{_MASK}')"

    def __str__(self) -> str:
        return _MASK

    def __format__(self, spec: str) -> str:
        return _MASK

    def __bool__(self) -> bool:
        return bool(self._value)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Secret):
            return NotImplemented
        return hmac.compare_digest(self._value.encode("utf-8"), other._value.encode("utf-8"))

    def __hash__(self) -> int:
        return hash(self.fingerprint())

    def __reduce__(self) -> NoReturn:
        raise TypeError("Secret values are not pickled (they would land in a file)")


def _secret(value: str | Secret) -> Secret:
    return Secret(value)


def _optional_secret(value: str | Secret | None) -> Secret | None:
    return None if value is None else Secret(value)


def _not_empty(name: str) -> Callable[[Any, Any, Any], None]:
    def check(_inst: object, _attr: object, value: Secret | None) -> None:
        if value is not None and not value:
            raise ConfigError(key=name, problem="must not be empty")

    return check


@frozen(kw_only=True)
class ClientSecret:
    """An Entra ID application's client secret.

    Attributes:
        secret: the secret value, wrapped so that it never shows (``reveal()`` returns it).
    """

    secret: Secret = field(converter=_secret, repr=False, validator=_not_empty("secret"))


@frozen(kw_only=True)
class ClientCertificate:
    """An Entra ID application's certificate: a PEM key with its thumbprint, or a PFX file.

    Build one with :meth:`from_pem` or :meth:`from_pfx`.

    Attributes:
        private_key_pem: the PEM private key (PEM form only).
        thumbprint: the certificate's SHA-1 thumbprint in hex (PEM form), as
            shown in the app registration.
        certificate_pem: the public certificate (PEM form, optional); lets msal
            compute the thumbprint and send the chain for Subject Name/Issuer auth.
        pfx_path: a PKCS#12 file holding key and certificate (PFX form only).
        passphrase: the passphrase of the PFX file or of an encrypted PEM key.
        send_certificate_chain: send the certificate (``x5c``) for Subject
            Name/Issuer authentication.
    """

    private_key_pem: Secret | None = field(
        default=None, converter=_optional_secret, repr=False, validator=_not_empty("private_key")
    )
    thumbprint: str | None = None
    certificate_pem: str | None = field(default=None, repr=False)
    pfx_path: str | None = None
    passphrase: Secret | None = field(default=None, converter=_optional_secret, repr=False)
    send_certificate_chain: bool = False

    def __attrs_post_init__(self) -> None:
        if (self.private_key_pem is None) == (self.pfx_path is None):
            raise ConfigError(
                key="credential", problem="give either a PEM private key or a PFX file, not both"
            )
        if self.private_key_pem is not None and not (self.thumbprint or self.certificate_pem):
            raise ConfigError(
                key="thumbprint", problem="a PEM key needs its thumbprint or its certificate"
            )

    @classmethod
    def from_pem(
        cls,
        private_key_pem: str | Secret,
        *,
        thumbprint: str | None = None,
        certificate_pem: str | None = None,
        passphrase: str | Secret | None = None,
        send_certificate_chain: bool = False,
    ) -> ClientCertificate:
        """A certificate credential from a PEM private key and its thumbprint (or certificate)."""
        return cls(
            private_key_pem=Secret(private_key_pem),
            thumbprint=thumbprint,
            certificate_pem=certificate_pem,
            passphrase=_optional_secret(passphrase),
            send_certificate_chain=send_certificate_chain,
        )

    @classmethod
    def from_pfx(
        cls,
        path: str,
        *,
        passphrase: str | Secret | None = None,
        send_certificate_chain: bool = False,
    ) -> ClientCertificate:
        """A certificate credential from a PKCS#12 (``.pfx``) file.

        The file is opened here, so a missing file or a wrong passphrase fails
        now rather than at the first token request.

        Raises:
            ConfigError: the file cannot be read, or the passphrase does not open it
                (key ``pfx_path`` or ``passphrase``).
        """
        _check_pfx(str(path), None if passphrase is None else Secret(passphrase))
        return cls(
            pfx_path=str(path),
            passphrase=_optional_secret(passphrase),
            send_certificate_chain=send_certificate_chain,
        )


def _check_pfx(path: str, passphrase: Secret | None) -> None:
    # cryptography is what msal itself uses to open the file, so what loads here loads there.
    # lazy: start-up time (slow to import, only a PFX credential needs it; msal defers it too)
    from cryptography.hazmat.primitives.serialization import pkcs12

    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except OSError as exc:
        raise ConfigError(key="pfx_path", problem=f"cannot read {path}: {exc.strerror}") from exc
    secret = passphrase.reveal().encode("utf-8") if passphrase else None
    try:
        key, _cert, _chain = pkcs12.load_key_and_certificates(data, secret)
    except (ValueError, TypeError) as exc:
        problem = (
            "the passphrase does not open it (wrong passphrase?)"
            if passphrase
            else "it is encrypted: give its passphrase"
        )
        raise ConfigError(key="passphrase", problem=f"PFX file {path}: {problem}") from exc
    if key is None:
        raise ConfigError(key="pfx_path", problem=f"PFX file {path} holds no private key")


def _assertion(value: str | Secret | Callable[[], str]) -> Secret | Callable[[], str]:
    return value if callable(value) else Secret(value)


@frozen(kw_only=True)
class ClientAssertion:
    """A pre-signed client assertion (a JWT), or a callable returning a fresh one.

    Attributes:
        assertion: the signed JWT, or a function msal calls for each token request.
    """

    assertion: Secret | Callable[[], str] = field(converter=_assertion, repr=False)


@frozen(kw_only=True)
class LegacyToken:
    """A legacy Defender for Cloud Apps API token (``Authorization: Token <key>``).

    Attributes:
        key: the token issued in the portal.
    """

    key: Secret = field(converter=_secret, repr=False, validator=_not_empty("key"))


#: Everything msal can authenticate with.
Credential = ClientSecret | ClientCertificate | ClientAssertion


def proxies_repr(proxies: Mapping[str, str]) -> str:
    """The repr of requests-style proxies with any password in their URLs masked."""

    def masked(url: str) -> str:
        parts = urlsplit(url)  # http://user:password@proxy:3128
        if parts.password is None:
            return url
        host = parts.netloc.rpartition("@")[2]
        return urlunsplit(parts._replace(netloc=f"{parts.username}:{_MASK}@{host}"))

    return repr({scheme: masked(url) for scheme, url in proxies.items()})
