"""Parse, classify and normalise raw Defender user identifiers (pure, one name at a time)."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from functools import lru_cache
from typing import Protocol

from attrs import field, frozen

from ._codes import InputKind, ReasonCode
from ._config import CorrelatorConfig
from ._text import ZERO_WIDTH, has_control, idna_domain

__all__ = [
    "ANONYMOUS_USER",
    "WELL_KNOWN_LOCAL_ACCOUNTS",
    "ObservedName",
    "ParsedName",
    "local_logon_evidence",
    "normalize",
    "parse",
]

#: the literal MDCA shows for a user it could not (or may not) name.
ANONYMOUS_USER = "anonymoususer"
# characters Active Directory forbids in a sAMAccountName, plus the separators we parse on
_BARE_FORBIDDEN = frozenset('"/\\[]:;|=,+*?<>@')
_SPACE = re.compile(r"\s")


@frozen(kw_only=True)
class ObservedName:
    """One raw identifier as the caller saw it.

    Attributes:
        raw: the identifier exactly as Defender reported it.
        source: where it came from.
        anonymized: the stream that reported it anonymises user names.
        context: free context copied to the unmatched report (``app``,
            ``stream``, ``first_seen``, ``last_seen``).
    """

    raw: str
    source: str = "mdca"
    anonymized: bool = False
    context: Mapping[str, str] = field(factory=dict, hash=False)


@frozen(kw_only=True)
class ParsedName:
    """A classified and normalised identifier.

    Attributes:
        raw: the raw identifier.
        kind: what it looks like.
        normalized: trimmed, zero-width characters removed, NFC, casefolded.
        local: the local part (email-like) or the user part (down-level, local logon).
        domain: the DNS domain (email-like), lower-case IDNA A-label.
        netbios: the folded NetBIOS domain (down-level).
        host: the folded computer name (local logon).
        transforms: the normalisation steps that changed the value, in order.
        skip_reason: why no rule-based strategy may use it (``None``: correlatable).
        evidence: why a backslash name was read as a local logon (the rule is in
            the correlation guide: ``machine account``, ``host name``, ...).
    """

    raw: str
    kind: InputKind
    normalized: str
    local: str | None = None
    domain: str | None = None
    netbios: str | None = None
    host: str | None = None
    transforms: tuple[str, ...] = ()
    skip_reason: ReasonCode | None = None
    evidence: str | None = None


def normalize(raw: str) -> tuple[str, tuple[str, ...]]:
    """Normalise an identifier and say which steps changed it.

    Steps: ``nfc``, ``strip_zero_width`` (U+200B-U+200D, U+2060, U+FEFF),
    ``trim`` (leading/trailing whitespace incl. NBSP), ``casefold``. Applying
    it to its own output changes nothing (idempotent).

    Args:
        raw: the raw identifier.

    Returns:
        ``(normalized, transforms)``.
    """
    steps: list[str] = []
    text = unicodedata.normalize("NFC", raw)
    if text != raw:
        steps.append("nfc")
    stripped = "".join(c for c in text if c not in ZERO_WIDTH)
    if stripped != text:
        steps.append("strip_zero_width")
    trimmed = stripped.strip()
    if trimmed != stripped:
        steps.append("trim")
    folded = unicodedata.normalize("NFC", trimmed.casefold())
    if folded != trimmed:
        steps.append("casefold")
    return folded, tuple(steps)


@lru_cache(maxsize=64)
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


def parse(name: str | ObservedName, config: CorrelatorConfig | None = None) -> ParsedName:
    """Classify and normalise one identifier (no I/O).

    Args:
        name: the raw identifier, or an :class:`ObservedName` (whose
            ``anonymized`` flag marks it anonymised).
        config: supplies the NetBIOS domains, placeholders and patterns.

    Returns:
        The parsed name; ``skip_reason`` is set for empty, placeholder,
        anonymised, unparseable, local-logon and unconfigured down-level names.
    """
    config = config or CorrelatorConfig()
    observed = name if isinstance(name, ObservedName) else ObservedName(raw=name)
    normalized, steps = normalize(observed.raw)

    def made(kind: InputKind, skip: ReasonCode | None = None, **parts: str | None) -> ParsedName:
        return ParsedName(
            raw=observed.raw,
            kind=kind,
            normalized=normalized,
            transforms=steps,
            skip_reason=skip,
            **parts,
        )

    if not normalized or normalized in config.placeholders:
        return made(InputKind.EMPTY, ReasonCode.EMPTY_INPUT)
    if (
        observed.anonymized
        or normalized == ANONYMOUS_USER
        or _compiled(config.anonymized_pattern).search(normalized)
    ):
        return made(InputKind.ANONYMIZED, ReasonCode.ANONYMIZED)
    # interior whitespace is never valid in a UPN, email or account name (IdFix)
    if has_control(normalized) or _SPACE.search(normalized):
        return made(InputKind.UNPARSEABLE, ReasonCode.UNPARSEABLE)
    if "@" in normalized:
        return _email(normalized, made)
    if "\\" in normalized:
        endpoint = observed.context.get("endpoint") == "true"
        return _backslash(normalized, observed.raw, config, made, endpoint=endpoint)
    if any(c in _BARE_FORBIDDEN for c in normalized) or len(normalized) > 256:
        return made(InputKind.UNPARSEABLE, ReasonCode.UNPARSEABLE)
    return made(InputKind.BARE, local=normalized)


def _email(normalized: str, made: _Maker) -> ParsedName:
    local, _, domain_text = normalized.rpartition("@")
    domain = idna_domain(domain_text)
    if (
        domain is None
        or not local
        or "@" in local
        or "\\" in local
        or '"' in local
        or len(local) > 64
        or local.startswith(".")
        or local.endswith(".")
        or ".." in local
    ):
        return made(InputKind.UNPARSEABLE, ReasonCode.UNPARSEABLE)
    return made(InputKind.EMAIL_LIKE, local=local, domain=domain)


def _backslash(
    normalized: str, raw: str, config: CorrelatorConfig, made: _Maker, *, endpoint: bool
) -> ParsedName:
    left, sep, right = normalized.partition("\\")
    if not sep or not left or not right or "\\" in right:
        return made(InputKind.UNPARSEABLE, ReasonCode.UNPARSEABLE)
    if any(c in _BARE_FORBIDDEN for c in left + right):
        return made(InputKind.UNPARSEABLE, ReasonCode.UNPARSEABLE)
    if left in config.netbios_domains:
        return made(InputKind.DOWNLEVEL, netbios=left, local=right)
    # MDCA writes a machine-local logon as user\COMPUTER: the right side is the host
    evidence = local_logon_evidence(raw, config, endpoint=endpoint)
    if evidence is not None:
        return made(
            InputKind.LOCAL_ACCOUNT,
            ReasonCode.LOCAL_ACCOUNT,
            local=left,
            host=right.rstrip("$"),
            evidence=evidence,
        )
    return made(InputKind.DOWNLEVEL, ReasonCode.DOMAIN_NOT_ALLOWED, netbios=left, local=right)


#: built-in Windows accounts that exist on every computer (folded; common localisations)
WELL_KNOWN_LOCAL_ACCOUNTS = frozenset(
    {
        "administrator",
        "administrateur",
        "administrador",
        "administratör",
        "guest",
        "invité",
        "invitado",
        "gast",
        "defaultaccount",
        "defaultuser0",
        "wdagutilityaccount",
    }
)
# letters then two or more digits: WS0042, PC12, SRV01, LAPTOP0042 (NetBIOS names are <= 15)
_HOST_SHAPE = re.compile(r"[a-z]{1,13}[0-9]{2,14}")


def local_logon_evidence(
    raw: str, config: CorrelatorConfig, *, endpoint: bool = False
) -> str | None:
    r"""Why ``user\HOST`` (whose left side is no configured NetBIOS domain) is a local logon.

    The rule, first match wins; ``None`` means it is read as ``DOMAIN\user``:

    1. the right side is a computer's machine account (ends with ``$``);
    2. the right side matches ``host_pattern`` (letters and digits with a hyphen and a
       digit: ``LAPTOP-7F3KQ2M``, ``PC-0042``);
    3. the left side is a built-in Windows account (:data:`WELL_KNOWN_LOCAL_ACCOUNTS`:
       Administrator, Guest, DefaultAccount, ...);
    4. the right side has a common host-name shape (letters then two or more digits:
       ``WS0042``, ``SRV01``) and is written in capitals, and either the left side is
       not (NetBIOS domains are conventionally upper-case, user names are not:
       ``jdoe\WS0042``), or the stream is endpoint-based (Defender for Endpoint
       reports logons on devices).

    Args:
        raw: the identifier as reported (case matters for rule 4).
        config: supplies ``host_pattern``.
        endpoint: the identifier came from an endpoint-based stream.
    """
    raw_left, _, raw_right = raw.strip().partition("\\")
    left, right = raw_left.casefold(), raw_right.casefold()
    if right.endswith("$") and len(right) > 1:
        return "machine account"
    if _compiled(config.host_pattern).search(right):
        return "host name"
    if left in WELL_KNOWN_LOCAL_ACCOUNTS:
        return "built-in local account"
    if _HOST_SHAPE.fullmatch(right) and raw_right.isupper():
        if not raw_left.isupper():
            return "host name"
        if endpoint:
            return "host name on an endpoint stream"
    return None


class _Maker(Protocol):
    def __call__(
        self, kind: InputKind, skip: ReasonCode | None = None, **parts: str | None
    ) -> ParsedName: ...
