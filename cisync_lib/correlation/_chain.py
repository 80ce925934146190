"""Chains as data: the alias-map strategy, tiers, the name registry and entry-point plugins."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from importlib.metadata import entry_points
from typing import TypeAlias, Union

from attrs import frozen

from cisync_lib.errors import CorrelationError, UnknownStrategyError
from cisync_lib.typing import CandidateIndex, Strategy, StrategyFactory

from ._aliasmap import AliasMap
from ._codes import InputKind
from ._config import CorrelatorConfig
from ._outcome import LookupKey, StrategyOutcome
from ._parse import ParsedName
from ._strategies import (
    DomainAliasStrategy,
    DownlevelStrategy,
    EmailStrategy,
    LocalPartStrategy,
    PlusTagStripStrategy,
    ProxyAddressStrategy,
    UpnUserNameStrategy,
)

__all__ = [
    "ENTRY_POINT_GROUP",
    "AliasMapStrategy",
    "Step",
    "StrategyContext",
    "Tier",
    "available_strategies",
    "build_chain",
    "default_chain",
]

logger = logging.getLogger(__name__)

#: the entry-point group third-party strategies register under.
ENTRY_POINT_GROUP = "cisync_lib.correlation"


@frozen
class AliasMapStrategy:
    """Explicit human decisions from an alias map (1.0); always first, never falls through.

    Args:
        alias_map: the decisions, or ``None`` (then it applies to nothing).
    """

    alias_map: AliasMap | None
    name: str = "alias_map"
    confidence: float = 1.0

    def applies_to(self, parsed: ParsedName) -> bool:
        """Every non-empty name with an entry, even one the parser would skip."""
        return (
            self.alias_map is not None
            and parsed.kind is not InputKind.EMPTY
            and self.alias_map.get(parsed.normalized) is not None
        )

    def lookup_keys(self, parsed: ParsedName) -> Sequence[LookupKey]:
        """The entry's target (nothing for ``ignore``)."""
        entry = self.alias_map.get(parsed.normalized) if self.alias_map else None
        if entry is None or entry.action == "ignore":
            return ()
        return (LookupKey(field=entry.target_field or "sys_id", value=entry.target_value or ""),)

    def evaluate(self, parsed: ParsedName, index: CandidateIndex) -> StrategyOutcome:
        """``ignore``, or the target's re-verified records as an explicit decision."""
        entry = self.alias_map.get(parsed.normalized) if self.alias_map else None
        if entry is None:
            return StrategyOutcome.not_applicable()
        where = f"{entry.file}:{entry.line}" if entry.line else entry.file
        if entry.action == "ignore":
            return StrategyOutcome(directive="ignore", note=f"alias entry {where}")
        found = StrategyOutcome.from_keys(
            self, parsed, index, self.lookup_keys(parsed), transforms=(f"alias_map:{where}",)
        )
        return StrategyOutcome(hits=found.hits, directive="explicit", note=f"alias entry {where}")


@frozen
class Tier:
    """Strategies of equal rank evaluated together; different users are a ``KEY_CONFLICT``.

    Args:
        name: the tier's name.
        members: the strategies in it.
    """

    name: str
    members: tuple[Strategy, ...]


Step: TypeAlias = Union[Strategy, Tier]  # noqa: UP007  (runtime alias, Python 3.10)


@frozen(kw_only=True)
class StrategyContext:
    """What a strategy factory may use to build a strategy.

    Attributes:
        config: the correlator configuration.
        alias_map: the alias map, if any.
    """

    config: CorrelatorConfig
    alias_map: AliasMap | None = None


def _email_upn(_ctx: StrategyContext) -> Tier:
    return Tier("email_upn", (EmailStrategy(), UpnUserNameStrategy()))


def _proxy(ctx: StrategyContext) -> Strategy:
    if not ctx.config.proxy_address_field:
        raise CorrelationError(message="strategy 'proxy_address' needs proxy_address_field")
    return ProxyAddressStrategy(ctx.config.proxy_address_field)


_BUILTIN: dict[str, StrategyFactory] = {
    "alias_map": lambda ctx: AliasMapStrategy(ctx.alias_map),
    "email": lambda _ctx: EmailStrategy(),
    "upn_user_name": lambda _ctx: UpnUserNameStrategy(),
    "email_upn": _email_upn,
    "domain_alias": lambda ctx: DomainAliasStrategy(ctx.config.domain_aliases),
    "downlevel": lambda ctx: DownlevelStrategy(ctx.config.netbios_domains),
    "plus_tag_strip": lambda ctx: PlusTagStripStrategy(ctx.config.plus_tag_domains),
    "proxy_address": _proxy,
    "local_part": lambda ctx: LocalPartStrategy(ctx.config.local_part_domains),
}


def available_strategies() -> dict[str, StrategyFactory]:
    """Built-in strategy factories by name, plus those of installed plugins.

    Plugins declare an entry point in the group ``cisync_lib.correlation``
    whose object is a factory taking a :class:`StrategyContext` (a class
    whose constructor takes it works). Built-in names win over plugins.
    """
    found: dict[str, StrategyFactory] = {}
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        if ep.name in _BUILTIN:
            logger.warning("plugin strategy %r (%s) shadows a built-in; ignored", ep.name, ep.value)
            continue
        found.setdefault(ep.name, _PluginFactory(ep.name, ep.value))
    return {**found, **_BUILTIN}


@frozen
class _PluginFactory:
    name: str
    target: str  # the entry point's object reference, for messages; loaded only when asked for

    def __call__(self, ctx: StrategyContext) -> Strategy | Tier:
        for ep in entry_points(group=ENTRY_POINT_GROUP, name=self.name):
            try:
                made = ep.load()(ctx)
            except Exception as exc:
                raise CorrelationError(
                    message=f"plugin strategy {self.name!r} ({self.target}) failed to load: {exc}"
                ) from exc
            if not isinstance(made, (Strategy, Tier)):
                raise CorrelationError(
                    message=f"plugin strategy {self.name!r} ({self.target}) returned "
                    f"{type(made).__name__}, which is not a Strategy"
                )
            return made
        raise UnknownStrategyError(name=self.name, known=sorted(_BUILTIN))


def build_chain(
    steps: Iterable[str | Strategy | Tier | Sequence[str | Strategy]],
    context: StrategyContext,
    *,
    extra: Mapping[str, StrategyFactory] | None = None,
) -> tuple[Step, ...]:
    """Turn names, strategies and lists (tiers) into a chain.

    Args:
        steps: each a registered name, a strategy object, a :class:`Tier`, or a
            list of names/strategies forming one tier.
        context: passed to the factories.
        extra: more factories by name (they win over registered ones).

    Raises:
        UnknownStrategyError: a name is not registered.
    """
    registry = {**available_strategies(), **(extra or {})}

    def one(item: str | Strategy) -> Strategy | Tier:
        if not isinstance(item, str):
            return item
        factory = registry.get(item)
        if factory is None:
            raise UnknownStrategyError(name=item, known=sorted(registry))
        return factory(context)

    chain: list[Step] = []
    for step in steps:
        if isinstance(step, (str, Tier, Strategy)):
            chain.append(step if isinstance(step, Tier) else one(step))
            continue
        members: list[Strategy] = []
        for item in step:
            made = one(item)
            members.extend(made.members if isinstance(made, Tier) else (made,))
        chain.append(Tier("+".join(m.name for m in members), tuple(members)))
    return tuple(chain)


def default_chain(context: StrategyContext) -> tuple[Step, ...]:
    """Alias map (if given), the email+UPN tier, then each configured rule."""
    config = context.config
    names = ["alias_map"] if context.alias_map is not None else []
    names.append("email_upn")
    wanted = (
        ("domain_alias", config.domain_aliases),
        ("downlevel", config.netbios_domains),
        ("plus_tag_strip", config.plus_tag_domains),
        ("proxy_address", config.proxy_address_field),
        ("local_part", config.local_part_domains),
    )
    names.extend(name for name, setting in wanted if setting)
    return build_chain(names, context)
