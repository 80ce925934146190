"""The correlator: parse, dedupe, plan keys, fetch once, evaluate the chain per name, decide."""

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
    available_strategies,
    build_chain,
    default_chain,
)
from ._codes import ReasonCode, Status
from ._config import CorrelatorConfig
from ._directory import DirectoryResult, FetchRequest, UserIndex
from ._outcome import Evidence, LookupKey, StrategyOutcome, StrategyTrace
from ._parse import ObservedName, ParsedName, normalize, parse
from ._policy import StepDecision, decide
from ._result import MatchResult, confidence_band, describe

__all__ = ["Correlator", "LookupPlan", "resolve_one"]

_MAX_EXAMPLES = 3


@frozen(kw_only=True)
class LookupPlan:
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

    @staticmethod
    def strategy_names() -> tuple[str, ...]:
        """Every name a chain may use, sorted: the built-ins and the installed plugins'.

        A plugin is a strategy factory its package registers in the entry-point group
        ``cisync_lib.correlation``; a configuration file can name it once the package
        is installed.
        """
        return tuple(sorted(available_strategies()))

    def plan(self, names: Iterable[str | ObservedName]) -> LookupPlan:
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
        return LookupPlan(
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


# parse-time skip reasons that are "not a match" rather than "not looked at"
_UNMATCHED_SKIPS = {ReasonCode.DOMAIN_NOT_ALLOWED}


@frozen(kw_only=True)
class _Verdict:
    status: Status
    reason: ReasonCode
    decision: StepDecision | None = None
    strategy: str | None = None
    detail: str = ""


def resolve_one(
    parsed: ParsedName, chain: tuple[Step, ...], fetched: DirectoryResult, config: CorrelatorConfig
) -> MatchResult:
    """Run the chain for one name: first definitive step wins, no fall-through past it.

    Args:
        parsed: the name.
        chain: the steps.
        fetched: the candidates and the keys that failed or were refused.
        config: the policy.
    """
    trace: list[StrategyTrace] = []
    rejected: dict[str, SnUser] = {}
    excluded = False
    suggestion: tuple[StepDecision, str] | None = None
    verdict: _Verdict | None = None
    for step in chain:
        members = step.members if isinstance(step, Tier) else (step,)
        applicable = [m for m in members if m.applies_to(parsed)]
        if not applicable:
            trace.extend(StrategyTrace(strategy=m.name, outcome="n/a") for m in members)
            continue
        keys = [k for m in applicable for k in m.lookup_keys(parsed)]
        failed = [fetched.failed[k] for k in keys if k in fetched.failed]
        if failed:
            trace.extend(_ordered(members, applicable, ["lookup_error"] * len(applicable)))
            verdict = _Verdict(
                status=Status.ERROR, reason=ReasonCode.LOOKUP_ERROR, detail=failed[0]
            )
            break
        if any(k in fetched.refused for k in keys):
            trace.extend(_ordered(members, applicable, ["unsafe"] * len(applicable)))
            verdict = _Verdict(status=Status.SKIPPED, reason=ReasonCode.UNSAFE_QUERY_VALUE)
            break
        outcomes = [m.evaluate(parsed, fetched.index) for m in applicable]
        decision = decide(outcomes, config)
        rejected.update((u.sys_id, u) for u in decision.rejected)
        trace.extend(_ordered(members, applicable, _member_traces(applicable, outcomes, decision)))
        name = step.name
        verdict = _step_verdict(decision, name, outcomes)
        if decision.kind == "excluded":
            excluded = True
        weak = decision.confidence < config.min_confidence
        if decision.kind == "match" and not decision.explicit and weak:
            suggestion = suggestion or (decision, name)
            verdict = None
        if verdict is not None:
            break
    if verdict is None:
        verdict = _fallback(parsed, excluded, suggestion)
    return _result(parsed, verdict, tuple(trace), tuple(rejected.values()), suggestion)


def _ordered(
    members: Sequence[Strategy],
    applicable: Sequence[Strategy],
    traces: Sequence[StrategyTrace | str],
) -> list[StrategyTrace]:
    # one line per member in chain order; members that did not apply are "n/a"
    given = {id(m): t for m, t in zip(applicable, traces, strict=True)}
    out = []
    for member in members:
        item = given.get(id(member), "n/a")
        out.append(
            item
            if isinstance(item, StrategyTrace)
            else StrategyTrace(strategy=member.name, outcome=item)
        )
    return out


def _member_traces(
    members: Sequence[Strategy], outcomes: Sequence[StrategyOutcome], decision: StepDecision
) -> list[StrategyTrace]:
    out = []
    for member, outcome in zip(members, outcomes, strict=True):
        found = {u.sys_id for hit in outcome.hits for u in hit.matches}
        label = decision.kind if found or decision.kind == "ignore" else "none"
        out.append(
            StrategyTrace(
                strategy=member.name, outcome=label, candidates=len(found), note=outcome.note
            )
        )
    return out


def _step_verdict(
    decision: StepDecision, name: str, outcomes: list[StrategyOutcome]
) -> _Verdict | None:
    note = next((o.note for o in outcomes if o.note), "")
    kind = decision.kind
    if kind == "match":
        inactive = decision.user is not None and not decision.user.active
        reason = ReasonCode.MATCHED_INACTIVE if inactive else ReasonCode.MATCHED
        used = " and ".join(dict.fromkeys(e.strategy for e in decision.evidence)) or name
        return _Verdict(status=Status.MATCHED, reason=reason, decision=decision, strategy=used)
    table = {
        "ambiguous": (Status.AMBIGUOUS, ReasonCode.AMBIGUOUS_DUPLICATE),
        "conflict": (Status.AMBIGUOUS, ReasonCode.KEY_CONFLICT),
        "inactive_skip": (Status.UNMATCHED, ReasonCode.ONLY_INACTIVE_MATCH),
        "ignore": (Status.SKIPPED, ReasonCode.IGNORED_BY_ALIAS),
        "alias_not_found": (Status.UNMATCHED, ReasonCode.ALIAS_TARGET_NOT_FOUND),
        "alias_ambiguous": (Status.AMBIGUOUS, ReasonCode.ALIAS_TARGET_AMBIGUOUS),
    }
    if kind not in table:  # none / excluded: try the next step
        return None
    status, reason = table[kind]
    return _Verdict(status=status, reason=reason, decision=decision, strategy=name, detail=note)


def _fallback(
    parsed: ParsedName, excluded: bool, suggestion: tuple[StepDecision, str] | None
) -> _Verdict:
    if parsed.skip_reason is not None:
        status = Status.UNMATCHED if parsed.skip_reason in _UNMATCHED_SKIPS else Status.SKIPPED
        return _Verdict(status=status, reason=parsed.skip_reason)
    if suggestion is not None:
        return _Verdict(
            status=Status.UNMATCHED, reason=ReasonCode.BELOW_THRESHOLD, strategy=suggestion[1]
        )
    reason = ReasonCode.EXCLUDED_ONLY if excluded else ReasonCode.NO_CANDIDATE
    return _Verdict(status=Status.UNMATCHED, reason=reason)


def _result(
    parsed: ParsedName,
    verdict: _Verdict,
    trace: tuple[StrategyTrace, ...],
    rejected: tuple[SnUser, ...],
    suggestion: tuple[StepDecision, str] | None,
) -> MatchResult:
    decision = verdict.decision
    matched = verdict.status is Status.MATCHED and decision is not None
    user = decision.user if matched and decision is not None else None
    confidence = decision.confidence if matched and decision is not None else 0.0
    candidates: tuple[SnUser, ...] = ()
    evidence: tuple[Evidence, ...] = ()
    warnings: list[str] = []
    if decision is not None:
        candidates = decision.candidates
        evidence = decision.evidence
        warnings.extend(decision.warnings)
    suggested = (
        suggestion[0].user if suggestion and verdict.reason is ReasonCode.BELOW_THRESHOLD else None
    )
    if suggested is not None and suggestion is not None:
        evidence = suggestion[0].evidence
    warnings.extend(f"server_candidate_rejected:{u.sys_id}" for u in rejected)
    message = describe(
        verdict.reason,
        parsed,
        user=user or (decision.user if decision else None),
        strategy=verdict.strategy,
        count=len(candidates),
        suggestion=suggested,
        rejected=len(rejected),
        detail=verdict.detail,
    )
    return MatchResult(
        input=ObservedName(raw=parsed.raw),
        parsed=parsed,
        status=verdict.status,
        reason=verdict.reason,
        message=message,
        user=user,
        confidence=confidence,
        confidence_band=confidence_band(confidence),
        evidence=evidence,
        candidates=candidates,
        trace=trace,
        warnings=tuple(dict.fromkeys(warnings)),
        suggestion=suggested,
    )
