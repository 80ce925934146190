"""The built-in rule strategies (the alias-map strategy lives in ``_chain``, beside the chain)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from attrs import field, frozen

from cisync_lib._records import SnUser
from cisync_lib.typing import CandidateIndex

from ._codes import InputKind
from ._outcome import LookupKey, StrategyOutcome, split_tokens
from ._parse import ParsedName
from ._text import fold

__all__ = [
    "DomainAliasStrategy",
    "DownlevelStrategy",
    "EmailStrategy",
    "LocalPartStrategy",
    "PlusTagStripStrategy",
    "ProxyAddressStrategy",
    "UpnUserNameStrategy",
]


def _email_like(parsed: ParsedName) -> bool:
    return parsed.kind is InputKind.EMAIL_LIKE and parsed.skip_reason is None


def _both(value: str) -> tuple[LookupKey, ...]:
    return (LookupKey(field="email", value=value), LookupKey(field="user_name", value=value))


@frozen
class EmailStrategy:
    """``casefold(input) == casefold(sys_user.email)`` for email-like names (0.95)."""

    name: str = "email"
    confidence: float = 0.95

    def applies_to(self, parsed: ParsedName) -> bool:
        """Email-like names only."""
        return _email_like(parsed)

    def lookup_keys(self, parsed: ParsedName) -> Sequence[LookupKey]:
        """The normalised name as an ``email``."""
        return (LookupKey(field="email", value=parsed.normalized),)

    def evaluate(self, parsed: ParsedName, index: CandidateIndex) -> StrategyOutcome:
        """Re-check the ``email`` candidates."""
        return StrategyOutcome.from_keys(self, parsed, index, self.lookup_keys(parsed))


@frozen
class UpnUserNameStrategy:
    """``casefold(input) == casefold(sys_user.user_name)`` for UPNs and bare names (0.95)."""

    name: str = "upn_user_name"
    confidence: float = 0.95

    def applies_to(self, parsed: ParsedName) -> bool:
        """Email-like (a UPN) and bare names."""
        return parsed.skip_reason is None and parsed.kind in (InputKind.EMAIL_LIKE, InputKind.BARE)

    def lookup_keys(self, parsed: ParsedName) -> Sequence[LookupKey]:
        """The normalised name as a ``user_name``."""
        return (LookupKey(field="user_name", value=parsed.normalized),)

    def evaluate(self, parsed: ParsedName, index: CandidateIndex) -> StrategyOutcome:
        """Re-check the ``user_name`` candidates."""
        return StrategyOutcome.from_keys(self, parsed, index, self.lookup_keys(parsed))


@frozen
class DomainAliasStrategy:
    """Rewrite the domain through a configured equivalence map, then email and user_name (0.8).

    Args:
        aliases: DNS domain -> equivalent domain, both lower-case IDNA.
    """

    aliases: Mapping[str, str] = field(factory=dict, hash=False)
    name: str = "domain_alias"
    confidence: float = 0.8

    def applies_to(self, parsed: ParsedName) -> bool:
        """Email-like names whose domain is configured."""
        return _email_like(parsed) and parsed.domain in self.aliases

    def _rewritten(self, parsed: ParsedName) -> tuple[str, str]:
        target = self.aliases[parsed.domain or ""]
        return f"{parsed.local}@{target}", f"domain_alias:{parsed.domain}->{target}"

    def lookup_keys(self, parsed: ParsedName) -> Sequence[LookupKey]:
        """The rewritten address as ``email`` and ``user_name``."""
        return _both(self._rewritten(parsed)[0])

    def evaluate(self, parsed: ParsedName, index: CandidateIndex) -> StrategyOutcome:
        """Re-check both keys; different users are a conflict for the policy."""
        value, step = self._rewritten(parsed)
        return StrategyOutcome.from_keys(self, parsed, index, _both(value), transforms=(step,))


@frozen
class DownlevelStrategy:
    r"""``DOMAIN\sam`` for configured NetBIOS domains (0.8).

    Matches ``user_name == sam``, ``user_name == sam@<upn_suffix>`` or
    ``email == sam@<upn_suffix>``; if they point at different users, the
    policy reports a conflict.

    Args:
        domains: folded NetBIOS name -> ``{"upn_suffix": domain}``.
    """

    domains: Mapping[str, Mapping[str, str]] = field(factory=dict, hash=False)
    name: str = "downlevel"
    confidence: float = 0.8

    def applies_to(self, parsed: ParsedName) -> bool:
        """Down-level names of configured domains."""
        return (
            parsed.kind is InputKind.DOWNLEVEL
            and parsed.skip_reason is None
            and parsed.netbios in self.domains
        )

    def lookup_keys(self, parsed: ParsedName) -> Sequence[LookupKey]:
        """``user_name`` = sam and sam@suffix, ``email`` = sam@suffix."""
        sam = parsed.local or ""
        upn = f"{sam}@{self.domains[parsed.netbios or '']['upn_suffix']}"
        return (LookupKey(field="user_name", value=sam), *_both(upn))

    def evaluate(self, parsed: ParsedName, index: CandidateIndex) -> StrategyOutcome:
        """Re-check every key."""
        keys = self.lookup_keys(parsed)
        step = f"downlevel:{parsed.netbios}\\{parsed.local}->{keys[1].value}"
        return StrategyOutcome.from_keys(self, parsed, index, keys, transforms=(step,))


@frozen
class PlusTagStripStrategy:
    """Drop a ``+tag`` from the local part, for configured domains only (0.8).

    Args:
        domains: lower-case IDNA domains where plus addressing is in use.
    """

    domains: frozenset[str] = frozenset()
    name: str = "plus_tag_strip"
    confidence: float = 0.8

    def applies_to(self, parsed: ParsedName) -> bool:
        """Email-like names in a configured domain with a ``+`` after the first character."""
        local = parsed.local or ""
        return _email_like(parsed) and parsed.domain in self.domains and "+" in local[1:]

    def _stripped(self, parsed: ParsedName) -> str:
        local = parsed.local or ""
        return local[: local.index("+", 1)] + "@" + (parsed.normalized.rpartition("@")[2])

    def lookup_keys(self, parsed: ParsedName) -> Sequence[LookupKey]:
        """The untagged address as ``email`` and ``user_name``."""
        return _both(self._stripped(parsed))

    def evaluate(self, parsed: ParsedName, index: CandidateIndex) -> StrategyOutcome:
        """Re-check both keys."""
        return StrategyOutcome.from_keys(
            self, parsed, index, self.lookup_keys(parsed), transforms=("plus_tag_strip",)
        )


def _smtp_addresses(user: SnUser, key: LookupKey) -> Iterable[str]:
    raw = user.extra.get(key.field, "")
    for token in split_tokens(raw):
        prefix, sep, rest = token.partition(":")
        if not sep:
            yield token  # a bare address list
        elif fold(prefix) == "smtp":  # SMTP: primary, smtp: secondary; X500/SIP are not email
            yield rest


@frozen
class ProxyAddressStrategy:
    """The name equals one of the ``smtp:`` addresses in a custom proxy-address field (0.8).

    Args:
        field_name: the ``sys_user`` field holding ``SMTP:a@x;smtp:b@x``.
    """

    field_name: str
    name: str = "proxy_address"
    confidence: float = 0.8

    def applies_to(self, parsed: ParsedName) -> bool:
        """Email-like names."""
        return _email_like(parsed)

    def lookup_keys(self, parsed: ParsedName) -> Sequence[LookupKey]:
        """The name as one token of the proxy field."""
        return (LookupKey(field=self.field_name, value=parsed.normalized, op="token"),)

    def evaluate(self, parsed: ParsedName, index: CandidateIndex) -> StrategyOutcome:
        """Re-check against the ``smtp:`` addresses only."""
        return StrategyOutcome.from_keys(
            self, parsed, index, self.lookup_keys(parsed), values_of=_smtp_addresses
        )


@frozen
class LocalPartStrategy:
    """The local part equals a ``user_name`` (ServiceNow's "Remove domain"); a suggestion (0.6).

    Args:
        domains: input domains for which the local part may be tried.
    """

    domains: frozenset[str] = frozenset()
    name: str = "local_part"
    confidence: float = 0.6

    def applies_to(self, parsed: ParsedName) -> bool:
        """Email-like names in an allowed domain."""
        return _email_like(parsed) and parsed.domain in self.domains

    def lookup_keys(self, parsed: ParsedName) -> Sequence[LookupKey]:
        """The local part as a ``user_name``."""
        return (LookupKey(field="user_name", value=parsed.local or ""),)

    def evaluate(self, parsed: ParsedName, index: CandidateIndex) -> StrategyOutcome:
        """Re-check the ``user_name`` candidates."""
        return StrategyOutcome.from_keys(
            self, parsed, index, self.lookup_keys(parsed), transforms=("local_part",)
        )
