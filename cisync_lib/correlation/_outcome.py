"""What a strategy asks for and concludes: lookup keys, evidence, hits, outcomes, traces."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Literal

from attrs import frozen

from cisync_lib._records import SnUser
from cisync_lib.typing import CandidateIndex, Strategy

from ._parse import ParsedName
from ._text import fold

__all__ = [
    "Evidence",
    "KeyHit",
    "LookupKey",
    "StrategyOutcome",
    "StrategyTrace",
    "record_value",
    "split_tokens",
]

_TOKEN_SPLIT = re.compile(r"[;,|\s]+")


@frozen(kw_only=True)
class LookupKey:
    """One value a strategy wants looked up in ``sys_user``.

    Attributes:
        field: the ``sys_user`` field (``email``, ``user_name``, ``sys_id`` or a custom one).
        value: the value, folded (NFC + casefold) as the strategy compares it.
        op: ``eq`` for the whole field, ``token`` for one of several values the
            field holds (separated by ``;``, ``,``, ``|`` or whitespace, e.g.
            Exchange proxy addresses).
    """

    field: str
    value: str
    op: Literal["eq", "token"] = "eq"


@frozen(kw_only=True)
class Evidence:
    """Why one strategy considers one record a match.

    Attributes:
        strategy: the strategy's name.
        rule: the comparison, for humans (``casefold(input) == casefold(sys_user.email)``).
        input_value: the input after the strategy's transforms.
        record_field: the ``sys_user`` field compared.
        record_value: the record's raw value.
        sys_id: the record.
        transforms: what the strategy did to the input (``domain_alias:a->b``),
            after the parser's normalisation steps.
    """

    strategy: str
    rule: str
    input_value: str
    record_field: str
    record_value: str
    sys_id: str
    transforms: tuple[str, ...] = ()


@frozen(kw_only=True)
class KeyHit:
    """The re-verified records one lookup key found.

    Attributes:
        key: the lookup key.
        strategy: the strategy that asked for it.
        confidence: that strategy's confidence in a unique hit.
        matches: records that pass the strategy's own comparison.
        evidence: one entry per match, same order.
        rejected: records the directory returned that the comparison refused
            (the server compares case- and accent-insensitively).
    """

    key: LookupKey
    strategy: str
    confidence: float
    matches: tuple[SnUser, ...] = ()
    evidence: tuple[Evidence, ...] = ()
    rejected: tuple[SnUser, ...] = ()


@frozen(kw_only=True)
class StrategyOutcome:
    """What one strategy concluded for one name; the correlator applies the policy.

    Attributes:
        applicable: ``False`` when the strategy does not apply to this name.
        hits: per lookup key, the re-verified candidates.
        directive: ``explicit`` (a human decision: exclusions and active
            preference do not apply, exactly one record must result) or
            ``ignore`` (skip the name on purpose).
        note: a short remark copied to the trace.
    """

    applicable: bool = True
    hits: tuple[KeyHit, ...] = ()
    directive: Literal["explicit", "ignore"] | None = None
    note: str = ""

    @classmethod
    def not_applicable(cls) -> StrategyOutcome:
        """The strategy does not apply to this name."""
        return cls(applicable=False)

    @classmethod
    def from_keys(
        cls,
        strategy: Strategy,
        parsed: ParsedName,
        index: CandidateIndex,
        keys: Iterable[LookupKey],
        *,
        transforms: tuple[str, ...] = (),
        values_of: Callable[[SnUser, LookupKey], Iterable[str]] | None = None,
    ) -> StrategyOutcome:
        """Re-check each candidate of each key by folded equality and collect evidence.

        The building block of the built-in strategies and of most custom ones.

        Args:
            strategy: the strategy asking (its name and confidence are recorded).
            parsed: the name being resolved.
            index: the fetched candidates.
            keys: the keys to check (normally ``strategy.lookup_keys(parsed)``).
            transforms: what the strategy did to the input, for the evidence.
            values_of: the record values to compare with a key (default: the key's
                field, or its tokens for ``op="token"``).
        """
        hits: list[KeyHit] = []
        for key in keys:
            matches: list[SnUser] = []
            evidence: list[Evidence] = []
            rejected: list[SnUser] = []
            for user in index.candidates(key):
                values = values_of(user, key) if values_of else _default_values(user, key)
                same = next((v for v in values if fold(v) == key.value), None)
                if same is None:
                    rejected.append(user)
                    continue
                matches.append(user)
                evidence.append(
                    Evidence(
                        strategy=strategy.name,
                        rule=f"casefold(input) == casefold(sys_user.{key.field})",
                        input_value=key.value,
                        record_field=key.field,
                        record_value=same,
                        sys_id=user.sys_id,
                        transforms=parsed.transforms + transforms,
                    )
                )
            hits.append(
                KeyHit(
                    key=key,
                    strategy=strategy.name,
                    confidence=strategy.confidence,
                    matches=tuple(matches),
                    evidence=tuple(evidence),
                    rejected=tuple(rejected),
                )
            )
        return cls(hits=tuple(hits))


@frozen(kw_only=True)
class StrategyTrace:
    """One line of the trace of strategies tried for a name.

    Attributes:
        strategy: the strategy's name.
        outcome: ``n/a``, ``none``, ``match``, ``ambiguous``, ``conflict``,
            ``excluded``, ``inactive``, ``below_threshold``, ``ignored``,
            ``not_found``, ``lookup_error`` or ``unsafe``.
        candidates: how many re-verified candidates it saw.
        note: extra detail.
    """

    strategy: str
    outcome: str
    candidates: int = 0
    note: str = ""


def record_value(user: SnUser, field_name: str) -> str:
    """A record's raw value for a field (a typed attribute or one of ``extra``)."""
    if field_name in SnUser.FIELDS:
        value = getattr(user, field_name)
        return value if isinstance(value, str) else str(value).lower()
    return user.extra.get(field_name, "")


def split_tokens(value: str) -> list[str]:
    """The separate values of a multi-valued field (``;``, ``,``, ``|``, whitespace)."""
    return [t for t in _TOKEN_SPLIT.split(value) if t]


def _default_values(user: SnUser, key: LookupKey) -> Iterable[str]:
    raw = record_value(user, key.field)
    return split_tokens(raw) if key.op == "token" else (raw,)
