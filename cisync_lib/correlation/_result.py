"""The per-identifier result and its one human sentence."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Literal

from attrs import field, frozen

from cisync_lib._records import SnUser

from ._codes import InputKind, ReasonCode, Status
from ._outcome import Evidence, StrategyTrace
from ._parse import ObservedName, ParsedName

__all__ = ["ConfidenceBand", "MatchResult", "confidence_band", "describe"]

ConfidenceBand = Literal["explicit", "high", "medium", "low", "none"]


def confidence_band(confidence: float) -> ConfidenceBand:
    """``explicit`` (1.0), ``high`` (>= 0.95), ``medium`` (>= 0.8), ``low`` (> 0), else ``none``."""
    if confidence >= 1.0:
        return "explicit"
    if confidence >= 0.95:
        return "high"
    if confidence >= 0.8:
        return "medium"
    return "low" if confidence > 0 else "none"


@frozen(kw_only=True)
class MatchResult:
    """How one distinct normalised identifier was resolved.

    Attributes:
        input: the first occurrence as given.
        parsed: its classification and normalised form.
        status: ``MATCHED``, ``AMBIGUOUS``, ``UNMATCHED``, ``SKIPPED`` or ``ERROR``.
        user: the matched ``sys_user`` (``MATCHED`` only).
        confidence: 1.0 explicit, 0.95 strong, 0.8 derived, 0.6 weak, 0 none.
        confidence_band: the band of ``confidence``.
        reason: the stable reason code.
        message: one sentence for humans.
        evidence: why the user (or each candidate) was considered.
        candidates: other candidates worth a look (all of them when ambiguous).
        trace: every strategy tried, in order.
        warnings: stable tags (``matched_inactive``, ``inactive_duplicates_ignored``,
            ``conflict_with:<strategy>``, ``server_candidate_rejected:<sys_id>``).
        suggestion: an unverified below-threshold candidate, if any.
        occurrences: how many raw inputs normalised to this identifier.
        raw_examples: up to three distinct raw spellings.
        context: the inputs' context merged (apps and streams joined by ``;``,
            earliest ``first_seen``, latest ``last_seen``).
    """

    input: ObservedName
    parsed: ParsedName
    status: Status
    reason: ReasonCode
    message: str
    user: SnUser | None = None
    confidence: float = 0.0
    confidence_band: ConfidenceBand = "none"
    evidence: tuple[Evidence, ...] = ()
    candidates: tuple[SnUser, ...] = ()
    trace: tuple[StrategyTrace, ...] = ()
    warnings: tuple[str, ...] = ()
    suggestion: SnUser | None = None
    occurrences: int = 1
    raw_examples: tuple[str, ...] = ()
    context: Mapping[str, str] = field(factory=dict, hash=False)

    @property
    def strategy(self) -> str | None:
        """The strategy whose evidence matched, if matched."""
        return self.evidence[0].strategy if self.user is not None and self.evidence else None


def _show(raw: str) -> str:
    # quote the raw name, making invisible characters visible but keeping backslashes
    if raw.isprintable() and "\xa0" not in raw:
        return f"'{raw}'"
    shown = "".join(c if c.isprintable() and c != "\xa0" else f"\\u{ord(c):04x}" for c in raw)
    return f"'{shown}'"


def _who(user: SnUser | None) -> str:
    if user is None:
        return "nobody"
    label = user.user_name or user.email or user.sys_id
    return f"{label} ({user.sys_id})"


_KIND_TEXT = {
    InputKind.EMAIL_LIKE: "an email-like name",
    InputKind.BARE: "a bare user name",
    InputKind.DOWNLEVEL: "a down-level DOMAIN\\user name",
}


def describe(
    reason: ReasonCode,
    parsed: ParsedName,
    *,
    user: SnUser | None = None,
    strategy: str | None = None,
    count: int = 0,
    suggestion: SnUser | None = None,
    rejected: int = 0,
    detail: str = "",
) -> str:
    """One sentence explaining a result to an operator or auditor."""
    name = _show(parsed.raw)
    # built lazily: only the one sentence needed is formatted
    texts: Mapping[ReasonCode, Callable[[], str]] = {
        ReasonCode.MATCHED: lambda: f"{name} matched {_who(user)} by {strategy}.",
        ReasonCode.MATCHED_INACTIVE: lambda: (
            f"{name} matched {_who(user)} by {strategy}, an inactive user (a leaver still "
            "using the app?)."
        ),
        ReasonCode.EMPTY_INPUT: lambda: f"{name} is empty or a placeholder; nothing to match.",
        ReasonCode.UNPARSEABLE: lambda: (
            f"{name} is not an email, DOMAIN\\user, user\\HOST or bare name; check the log parser."
        ),
        ReasonCode.ANONYMIZED: lambda: (
            f"{name} is an anonymised Defender name; it cannot be matched."
        ),
        ReasonCode.LOCAL_ACCOUNT: lambda: (
            f"{name} is the machine account of computer {parsed.host!r}, never a person; "
            "nothing to do."
            if parsed.evidence == "machine account"
            else f"{name} is a logon local to computer {parsed.host!r} "
            f"({parsed.evidence or 'host name'}), never a directory user; nothing to do "
            "(map it in the alias map only if it really is one person)."
        ),
        ReasonCode.DOMAIN_NOT_ALLOWED: lambda: (
            f"{name} reads as DOMAIN\\user in NetBIOS domain {parsed.netbios!r}, which is not "
            "configured: if it is your domain, add it to netbios_domains; if "
            f"{parsed.local!r} is a computer, this is a local logon and needs nothing."
        ),
        ReasonCode.NO_CANDIDATE: lambda: (
            f"No sys_user matches {name} ({_KIND_TEXT.get(parsed.kind, 'a name')})"
            + (
                f"; {rejected} user(s) differing only in case or accents were "
                "returned by the directory and rejected."
                if rejected
                else "."
            )
        ),
        ReasonCode.ONLY_INACTIVE_MATCH: lambda: (
            f"{name} matches only the inactive user {_who(user)}, and inactive users are skipped."
        ),
        ReasonCode.AMBIGUOUS_DUPLICATE: lambda: (
            f"{name} matches {count} users by {strategy}; none was chosen (clean up "
            "sys_user or add an alias entry by sys_id)."
        ),
        ReasonCode.KEY_CONFLICT: lambda: (
            f"{name} points at {count} different users by email and user name; a human must decide."
        ),
        ReasonCode.EXCLUDED_ONLY: lambda: (
            f"{name} matches only excluded classes or service accounts."
        ),
        ReasonCode.BELOW_THRESHOLD: lambda: (
            f"{name} only weakly matches {_who(suggestion)} by {strategy}; confirm it "
            "through the alias map."
        ),
        ReasonCode.IGNORED_BY_ALIAS: lambda: f"{name} is ignored by an alias entry ({detail}).",
        ReasonCode.ALIAS_TARGET_NOT_FOUND: lambda: (
            f"The alias entry for {name} ({detail}) points at no user; fix the alias file."
        ),
        ReasonCode.ALIAS_TARGET_AMBIGUOUS: lambda: (
            f"The alias entry for {name} ({detail}) points at {count} users; use a sys_id."
        ),
        ReasonCode.LOOKUP_ERROR: lambda: (
            f"Looking up {name} in ServiceNow failed ({detail}); retry, it is not a 'no match'."
        ),
        ReasonCode.UNSAFE_QUERY_VALUE: lambda: (
            f"{name} holds characters that cannot go into a ServiceNow query safely; "
            "it was not looked up (a snapshot read would resolve it)."
        ),
    }
    return texts[reason]()
