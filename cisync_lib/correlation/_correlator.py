"""The correlator: parse, dedupe, plan keys, fetch once, evaluate the chain, decide."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from attrs import evolve, frozen

from cisync_lib._records import SnUser
from cisync_lib.typing import Strategy, StrategyFactory, UserDirectory

from ._aliasmap import AliasMap
from ._chain import (
    AliasMapStrategy,
    Step,
    StrategyContext,
    Tier,
    build_chain,
    default_chain,
)
from ._config import CorrelatorConfig
from ._directory import DirectoryResult, FetchRequest, UserIndex
from ._parse import ObservedName, ParsedName, normalize, parse
from ._resolve import resolve_one
from ._result import MatchResult
from ._types import LookupKey

__all__ = ["Correlator", "Plan"]

_MAX_EXAMPLES = 3


@frozen(kw_only=True)
class Plan:
    """The pure first half of a run: distinct names and the keys to fetch.

    Attributes:
        names: one entry per distinct normalised identifier, first-seen order:
            ``(parsed, occurrences)``.
        request: what to ask the directory for.
    """

    names: tuple[tuple[ParsedName, tuple[ObservedName, ...]], ...]
    request: FetchRequest


class Correlator:
    """Resolves Defender user identifiers to ``sys_user`` records, explaining every result.

    Args:
        config: rules and options (default: :class:`CorrelatorConfig` defaults).
        alias_map: explicit decisions; put first in the chain when the chain
            does not place ``alias_map`` itself.
        strategies: the chain: names, strategy objects, :class:`Tier` objects,
            or lists forming a tier. ``None``: ``config.strategies`` if set,
            else the default chain.
        extra_strategies: more strategy factories by name for ``strategies``.

    Raises:
        UnknownStrategyError: a strategy name is not registered.
    """

    def __init__(
        self,
        config: CorrelatorConfig | None = None,
        alias_map: AliasMap | None = None,
        strategies: Iterable[str | Strategy | Tier | Sequence[str | Strategy]] | None = None,
        *,
        extra_strategies: Mapping[str, StrategyFactory] | None = None,
    ) -> None:
        self.config = config or CorrelatorConfig()
        self.alias_map = alias_map
        context = StrategyContext(config=self.config, alias_map=alias_map)
        steps = strategies if strategies is not None else self.config.strategies
        if steps is None:
            chain = default_chain(context)
        else:
            chain = build_chain(steps, context, extra=extra_strategies)
        has_alias = any(isinstance(m, AliasMapStrategy) for s in chain for m in _members(s))
        if alias_map is not None and not has_alias:
            chain = (AliasMapStrategy(alias_map), *chain)
        self.chain: tuple[Step, ...] = chain

    def plan(self, names: Iterable[str | ObservedName]) -> Plan:
        """Parse and dedupe the names and collect every lookup key (no I/O)."""
        groups: dict[tuple[str, bool], tuple[ParsedName, list[ObservedName]]] = {}
        for name in names:
            observed = name if isinstance(name, ObservedName) else ObservedName(raw=name)
            parsed = parse(observed, self.config)
            key = (parsed.normalized, observed.anonymized)
            if key in groups:
                groups[key][1].append(observed)
            else:
                groups[key] = (parsed, [observed])
        keys: dict[LookupKey, None] = {}
        for parsed, _ in groups.values():
            for step in self.chain:
                for member in _members(step):
                    if member.applies_to(parsed):
                        keys.update(dict.fromkeys(member.lookup_keys(parsed)))
        fields = dict.fromkeys(_fields(keys))
        return Plan(
            names=tuple((parsed, tuple(seen)) for parsed, seen in groups.values()),
            request=FetchRequest(
                keys=tuple(keys),
                fields=tuple(fields),
                keyed_threshold=self.config.keyed_threshold,
                chunk_size=self.config.chunk_size,
            ),
        )

    def resolve(
        self, names: Iterable[str | ObservedName], directory: UserDirectory
    ) -> list[MatchResult]:
        """Resolve names in bulk: one result per distinct normalised identifier, input order.

        Args:
            names: raw identifiers or :class:`ObservedName` objects.
            directory: where candidates come from (fetched once).
        """
        plan = self.plan(names)
        if plan.request.keys:
            fetched = directory.fetch(plan.request)
        else:  # nothing to look up (all skipped): no request at all
            fetched = DirectoryResult(index=UserIndex(()), mode="none")
        results = []
        for parsed, seen in plan.names:
            result = resolve_one(parsed, self.chain, fetched, self.config)
            results.append(_with_occurrences(result, seen))
        return results

    def resolve_each(
        self, names: Iterable[str | ObservedName], directory: UserDirectory
    ) -> list[MatchResult]:
        """Like :meth:`resolve`, but one result per input (the same object for duplicates)."""
        observed = [n if isinstance(n, ObservedName) else ObservedName(raw=n) for n in names]
        by_key = {
            (r.parsed.normalized, r.input.anonymized): r for r in self.resolve(observed, directory)
        }
        # the grouping key is the normalised text; classifying each name again is not needed
        return [by_key[(normalize(o.raw)[0], o.anonymized)] for o in observed]


def _members(step: Step) -> tuple[Strategy, ...]:
    return step.members if isinstance(step, Tier) else (step,)


def _fields(keys: Iterable[LookupKey]) -> list[str]:
    # the typed fields plus every custom field a strategy compares
    return [*SnUser.FIELDS, *(k.field for k in keys if k.field not in SnUser.FIELDS)]


def _with_occurrences(result: MatchResult, seen: Sequence[ObservedName]) -> MatchResult:
    examples = tuple(dict.fromkeys(o.raw for o in seen))[:_MAX_EXAMPLES]
    return evolve(
        result,
        input=seen[0],
        occurrences=len(seen),
        raw_examples=examples,
        context=_merge_context(seen),
    )


def _merge_context(seen: Sequence[ObservedName]) -> dict[str, str]:
    merged: dict[str, list[str]] = {}
    for observed in seen:
        for key, value in observed.context.items():
            if value:
                merged.setdefault(key, []).append(value)
    out: dict[str, str] = {}
    for key, values in merged.items():
        if key == "first_seen":
            out[key] = min(values)
        elif key == "last_seen":
            out[key] = max(values)
        else:
            out[key] = ";".join(dict.fromkeys(values))
    return out
