"""The correlator's configuration: rules (not exceptions: those live in the alias map)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Literal

import attrs
from attrs import field, frozen

from cisync_lib.errors import ConfigError

from ._text import fold, idna_domain

__all__ = ["DEFAULT_ANONYMIZED_PATTERN", "DEFAULT_HOST_PATTERN", "CorrelatorConfig"]

InactivePolicy = Literal["prefer_active", "skip", "treat_equal"]
_POLICIES = ("prefer_active", "skip", "treat_equal")

#: MDCA's encrypted names have no published format: a long hex or base64-ish token
#: with no ``@`` and no ``\`` is the conservative default (a 32-char hex token is one).
DEFAULT_ANONYMIZED_PATTERN = r"^(?:[0-9a-f]{32,}|(?=[^@\\]*[0-9])[a-z0-9+/_-]{40,}={0,2})$"
#: Windows' generated computer names (``DESKTOP-1A2B3C``, ``LAPTOP-7F3K``, ``PC-0042``):
#: hyphenated and holding a digit; only used to tell ``user\HOST`` from ``DOMAIN\user``.
DEFAULT_HOST_PATTERN = r"^(?=[^\\]*[0-9])[a-z0-9]+(?:-[a-z0-9]+)+$"
DEFAULT_PLACEHOLDERS = frozenset(
    {"-", "--", "?", "n/a", "na", "none", "null", "nil", "unknown", "(none)", "(null)", "undefined"}
)


def _domain(value: str, key: str) -> str:
    out = idna_domain(value)
    if out is None:
        raise ConfigError(key=key, problem=f"{value!r} is not a DNS domain")
    return out


def _domains(value: Iterable[str], key: str) -> frozenset[str]:
    if isinstance(value, str):
        raise ConfigError(key=key, problem="expected a list of domains, got a string")
    return frozenset(_domain(d, key) for d in value)


def _plus_tag_domains(value: Iterable[str]) -> frozenset[str]:
    return _domains(value, "plus_tag_domains")


def _local_part_domains(value: Iterable[str]) -> frozenset[str]:
    return _domains(value, "local_part_domains")


def _aliases(value: Mapping[str, str]) -> dict[str, str]:
    return {
        _domain(k, "domain_aliases"): _domain(v, f"domain_aliases.{k}") for k, v in value.items()
    }


def _netbios(value: Mapping[str, Mapping[str, str]]) -> dict[str, dict[str, str]]:
    out: dict[str, dict[str, str]] = {}
    for name, spec in value.items():
        key = f"netbios_domains.{name}"
        if not isinstance(spec, Mapping):
            raise ConfigError(key=key, problem="expected a mapping with 'upn_suffix'")
        unknown = set(spec) - {"upn_suffix"}
        if unknown or "upn_suffix" not in spec:
            raise ConfigError(
                key=key,
                problem=f"needs exactly 'upn_suffix' (got {sorted(spec)})",
                allowed="upn_suffix",
            )
        out[fold(name)] = {"upn_suffix": _domain(spec["upn_suffix"], key + ".upn_suffix")}
    return out


def _regex(value: str, key: str) -> str:
    try:
        re.compile(value)
    except (re.error, TypeError) as exc:
        raise ConfigError(key=key, problem=f"invalid regular expression: {exc}") from exc
    return value


def _anonymized_pattern(value: str) -> str:
    return _regex(value, "anonymized_pattern")


def _host_pattern(value: str) -> str:
    return _regex(value, "host_pattern")


def _folded_set(value: Iterable[str]) -> frozenset[str]:
    if isinstance(value, str):
        raise ConfigError(key="placeholders", problem="expected a list, got a string")
    return frozenset(fold(v).strip() for v in value)


def _names(value: Iterable[str] | None) -> tuple[str, ...] | None:
    return None if value is None else tuple(value)


def _check_policy(_inst: object, _attr: object, value: str) -> None:
    if value not in _POLICIES:
        raise ConfigError(
            key="inactive_policy", problem=f"unknown policy {value!r}", allowed=", ".join(_POLICIES)
        )


def _check_unit(_inst: object, _attr: object, value: float) -> None:
    if not 0.0 <= value <= 1.0:
        raise ConfigError(key="min_confidence", problem=f"{value} is not between 0 and 1")


def _check_positive(_inst: object, attr: attrs.Attribute[int], value: int) -> None:
    if value < 1:
        raise ConfigError(key=attr.name, problem=f"must be at least 1, got {value}")


@frozen(kw_only=True)
class CorrelatorConfig:
    r"""How identifiers are parsed and which rules may link them to users.

    Domain names are stored in lower-case IDNA form and NetBIOS names folded,
    so lookups compare like with like.

    Attributes:
        domain_aliases: DNS domain -> equivalent domain (``contoso.onmicrosoft.com``
            -> ``contoso.com``); only these rewrites are ever made.
        netbios_domains: NetBIOS domain -> ``{"upn_suffix": dns_domain}``; only
            these make ``DOMAIN\user`` correlatable.
        plus_tag_domains: domains whose ``user+tag@`` addresses may lose the tag.
        local_part_domains: domains whose local part may be *suggested* as a ``user_name``.
        proxy_address_field: a ``sys_user`` field holding Exchange proxy addresses, if any.
        exclude_classes: ``sys_class_name`` values never matched (e.g. ``customer_contact``).
        exclude_service_accounts: never match web-service-only or integration accounts.
        inactive_policy: ``prefer_active`` (an inactive-only match is a flagged match),
            ``skip`` (it is not a match) or ``treat_equal`` (active flag ignored).
        min_confidence: matches below it are only suggestions.
        anonymized_pattern: regex (on the folded name) for MDCA's encrypted names.
        host_pattern: regex (on the folded right side) of computer names in ``user\HOST``.
        placeholders: folded values that mean "no user" (``n/a``, ``-``).
        keyed_threshold: above this many distinct lookup values, a directory reads
            one snapshot of ``sys_user`` instead of keyed ``IN`` queries.
        chunk_size: values per keyed ``IN`` query.
        strategies: the chain by strategy name; ``None`` means the default chain.
    """

    domain_aliases: dict[str, str] = field(factory=dict, converter=_aliases)
    netbios_domains: dict[str, dict[str, str]] = field(factory=dict, converter=_netbios)
    plus_tag_domains: frozenset[str] = field(factory=frozenset, converter=_plus_tag_domains)
    local_part_domains: frozenset[str] = field(factory=frozenset, converter=_local_part_domains)
    proxy_address_field: str | None = None
    exclude_classes: frozenset[str] = field(factory=frozenset, converter=frozenset)
    exclude_service_accounts: bool = True
    inactive_policy: InactivePolicy = field(default="prefer_active", validator=_check_policy)
    min_confidence: float = field(default=0.8, validator=_check_unit)
    anonymized_pattern: str = field(
        default=DEFAULT_ANONYMIZED_PATTERN, converter=_anonymized_pattern
    )
    host_pattern: str = field(default=DEFAULT_HOST_PATTERN, converter=_host_pattern)
    placeholders: frozenset[str] = field(default=DEFAULT_PLACEHOLDERS, converter=_folded_set)
    keyed_threshold: int = field(default=1000, validator=_check_positive)
    chunk_size: int = field(default=100, validator=_check_positive)
    strategies: tuple[str, ...] | None = field(default=None, converter=_names)

    @classmethod
    def from_mapping(
        cls, data: Mapping[str, object], *, file: str | None = None
    ) -> CorrelatorConfig:
        """Build from a mapping: a parsed YAML/TOML section or ``tenant.correlation_settings``.

        Args:
            data: keys are the attribute names.
            file: the file the mapping came from, named in errors.

        Raises:
            ConfigError: an unknown key or an invalid value (naming file and key).
        """
        known = {a.name for a in attrs.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ConfigError(
                file=file,
                key=unknown[0],
                problem="unknown correlation setting",
                allowed=", ".join(sorted(known)),
            )
        try:
            return cls(**dict(data))  # type: ignore[arg-type]
        except ConfigError as exc:
            raise attrs.evolve(exc, file=file, message="") from None
        except (TypeError, ValueError, AttributeError) as exc:
            raise ConfigError(file=file, problem=f"invalid correlation settings: {exc}") from exc
