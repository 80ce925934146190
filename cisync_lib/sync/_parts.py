"""The parts of a sync report: unmatched users and the guard's decisions."""

from __future__ import annotations

from typing import Literal

from attrs import frozen

__all__ = ["GuardDecision", "UnmatchedUser"]


@frozen(kw_only=True)
class UnmatchedUser:
    """One distinct user identifier that was not linked to a ``sys_user``.

    Attributes:
        identifier: the normalised identifier.
        status: ``UNMATCHED``, ``AMBIGUOUS``, ``SKIPPED`` or ``ERROR``.
        reason: the reason code (``LOCAL_ACCOUNT``, ``NO_CANDIDATE``, ...).
        message: the explanation, for a person.
        apps: the names of the apps it was seen using.
        occurrences: how many raw identifiers normalised to it.
        raw_examples: some of those raw identifiers.
        suggestion: an unverified candidate, if a weaker rule found one.
    """

    identifier: str
    status: str
    reason: str
    message: str = ""
    apps: tuple[str, ...] = ()
    occurrences: int = 1
    raw_examples: tuple[str, ...] = ()
    suggestion: str = ""


@frozen(kw_only=True)
class GuardDecision:
    """The blast-radius guard's verdict on one kind of removal.

    Attributes:
        what: ``retire apps`` or ``remove user links``.
        count: how many the plan removes.
        managed: how many the library manages.
        limit_percent: the limit (a setting per environment).
        verdict: ``within`` the limit, ``refused``, or ``forced`` past it.
    """

    what: str
    count: int
    managed: int
    limit_percent: float
    verdict: Literal["within", "refused", "forced"]

    @property
    def percent(self) -> float:
        """The share of managed items removed, in percent."""
        return 100.0 * self.count / self.managed if self.managed else 0.0
