"""The decision policy: exclusions, active preference, inactive users, conflicts (pure)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Literal

from attrs import frozen

from cisync_lib._records import SnUser

from ._config import CorrelatorConfig
from ._outcome import Evidence, KeyHit, StrategyOutcome

__all__ = ["StepDecision", "decide"]

DecisionKind = Literal[
    "none",
    "excluded",
    "match",
    "ambiguous",
    "conflict",
    "inactive_skip",
    "ignore",
    "alias_not_found",
    "alias_ambiguous",
]


@frozen(kw_only=True)
class StepDecision:
    """What one step of the chain (a strategy or a tier) decided.

    Attributes:
        kind: the decision.
        user: the chosen record (``match`` and ``inactive_skip``).
        candidates: every candidate worth showing a human (after exclusions).
        evidence: the evidence for the user, or for every candidate.
        confidence: the confidence of the step's match.
        warnings: stable warning tags.
        rejected: records the directory returned that the strategies refused.
        explicit: the decision came from an alias map.
    """

    kind: DecisionKind
    user: SnUser | None = None
    candidates: tuple[SnUser, ...] = ()
    evidence: tuple[Evidence, ...] = ()
    confidence: float = 0.0
    warnings: tuple[str, ...] = ()
    rejected: tuple[SnUser, ...] = ()
    explicit: bool = False


def _unique(users: Iterable[SnUser]) -> tuple[SnUser, ...]:
    return tuple({u.sys_id: u for u in users}.values())


def _excluded(user: SnUser, config: CorrelatorConfig) -> bool:
    if user.sys_class_name in config.exclude_classes:
        return True
    return config.exclude_service_accounts and user.is_service_account


def decide(outcomes: Sequence[StrategyOutcome], config: CorrelatorConfig) -> StepDecision:
    """Decide one step from the outcomes of its applicable strategies.

    Per lookup key: drop excluded classes and service accounts; prefer the
    single active candidate (unless ``treat_equal``); several left is
    ambiguous. Across keys (and tier members): one user is a match, several
    different users a conflict. Never breaks a tie by order or date.

    Args:
        outcomes: the applicable strategies' outcomes (one for a plain strategy).
        config: exclusions and the inactive policy.
    """
    hits = [hit for outcome in outcomes for hit in outcome.hits]
    rejected = _unique(u for hit in hits for u in hit.rejected)
    all_evidence = tuple(e for hit in hits for e in hit.evidence)
    if any(o.directive == "ignore" for o in outcomes):
        return StepDecision(kind="ignore", explicit=True)
    if any(o.directive == "explicit" for o in outcomes):
        return _explicit(hits, all_evidence, rejected)

    excluded_seen = False
    ambiguous = False
    kept_all: list[SnUser] = []
    chosen: dict[str, tuple[SnUser, float]] = {}
    warnings: list[str] = []
    for hit in hits:
        kept = [u for u in hit.matches if not _excluded(u, config)]
        excluded_seen = excluded_seen or len(kept) < len(hit.matches)
        kept_all.extend(kept)
        pick: SnUser | None = None
        if len(kept) == 1:
            pick = kept[0]
        elif kept and config.inactive_policy != "treat_equal":
            active = [u for u in kept if u.active]
            if len(active) == 1:
                pick = active[0]
                warnings.append("inactive_duplicates_ignored")
        if pick is not None:
            best = max(hit.confidence, chosen.get(pick.sys_id, (pick, 0.0))[1])
            chosen[pick.sys_id] = (pick, best)
        elif kept:
            ambiguous = True
    candidates = _unique(kept_all)
    if ambiguous:
        return StepDecision(
            kind="ambiguous", candidates=candidates, evidence=all_evidence, rejected=rejected
        )
    if len(chosen) > 1:
        warnings.extend(f"conflict_with:{e.strategy}" for e in all_evidence)
        return StepDecision(
            kind="conflict",
            candidates=candidates,
            evidence=all_evidence,
            warnings=tuple(dict.fromkeys(warnings)),
            rejected=rejected,
        )
    if not chosen:
        return StepDecision(kind="excluded" if excluded_seen else "none", rejected=rejected)
    ((user, confidence),) = chosen.values()
    evidence = tuple(e for e in all_evidence if e.sys_id == user.sys_id)
    if not user.active:
        if config.inactive_policy == "skip":
            return StepDecision(
                kind="inactive_skip", user=user, candidates=candidates, evidence=evidence
            )
        warnings.append("matched_inactive")
    return StepDecision(
        kind="match",
        user=user,
        candidates=tuple(u for u in candidates if u.sys_id != user.sys_id),
        evidence=evidence,
        confidence=confidence,
        warnings=tuple(dict.fromkeys(warnings)),
        rejected=rejected,
    )


def _explicit(
    hits: Sequence[KeyHit], evidence: tuple[Evidence, ...], rejected: tuple[SnUser, ...]
) -> StepDecision:
    # a human named this target: exclusions and active preference do not apply,
    # but it must resolve to exactly one record, and a failure never falls through
    matches = _unique(u for hit in hits for u in hit.matches)
    if not matches:
        return StepDecision(kind="alias_not_found", explicit=True, rejected=rejected)
    if len(matches) > 1:
        return StepDecision(
            kind="alias_ambiguous", candidates=matches, evidence=evidence, explicit=True
        )
    user = matches[0]
    return StepDecision(
        kind="match",
        user=user,
        evidence=evidence,
        confidence=1.0,
        warnings=() if user.active else ("matched_inactive",),
        explicit=True,
    )
