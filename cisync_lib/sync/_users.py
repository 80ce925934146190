"""The users of a run: what to correlate, the links made, who went unmatched, what is unknown.

A run that could not look up some users does not know whether those users
still use their apps. Their links are *unknown*, not absent: the planner keeps
them (``DesiredState.links_unknown``) and the run's outcome is ``partial``, with
a one-line summary of what was left undone and the counts behind it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from attrs import frozen

from cisync_lib.correlation import (
    CorrelationReport,
    DirectoryResult,
    FetchRequest,
    MatchResult,
    ObservedName,
    Status,
)
from cisync_lib.defender import DefenderData
from cisync_lib.typing import UserDirectory

from ._report import UnmatchedUser

__all__ = [
    "RecordingDirectory",
    "Unevaluated",
    "links_from",
    "matching_summary",
    "observed_names",
    "unevaluated",
    "unmatched_users",
]

_STATUS = re.compile(r"\bHTTP (\d{3})\b")
#: failures the connection tries again before giving up (so "after N tries" is true)
_RETRIED = frozenset(
    {"HTTP 429", "HTTP 500", "HTTP 502", "HTTP 503", "HTTP 504", "no answer", "malformed answer"}
)


def observed_names(
    data: DefenderData, app_ids: Iterable[str]
) -> tuple[list[ObservedName], list[str]]:
    """Every user identifier of the given apps, ready to correlate, with the app of each.

    Each name's ``context`` says the app's name and the discovery stream it was
    seen in (and ``endpoint``, for a Defender for Endpoint stream). An identifier
    seen in two apps appears twice.

    Example::

        data = load_snapshot("snapshot.json")
        names, _apps = observed_names(data, [merged.id for merged in data.apps])
        results = correlator.resolve(names, directory)

    Args:
        data: one read of Defender (a source's ``read()``, or a loaded snapshot).
        app_ids: the apps whose users to take, by app id.

    Returns:
        The names and, at the same index, the app id each belongs to.
    """
    names: list[ObservedName] = []
    owners: list[str] = []
    # a local logon on a device is likelier in an endpoint-based (Defender for Endpoint) stream
    endpoint = {s.id for s in data.streams if s.is_endpoint}
    for app_id in app_ids:
        merged = data.app(app_id)
        app_name = merged.app.name if merged is not None else app_id
        for user in data.users.get(app_id, ()):
            names.append(
                ObservedName(
                    raw=user.identifier,
                    anonymized=user.anonymized,
                    context={
                        "app": app_name,
                        "stream": user.stream_id,
                        **({"endpoint": "true"} if user.stream_id in endpoint else {}),
                    },
                )
            )
            owners.append(app_id)
    return names, owners


def links_from(results: Sequence[MatchResult], owners: Sequence[str]) -> dict[str, set[str]]:
    """App id -> ``sys_user`` sys_ids of its matched users (one result per input name)."""
    links: dict[str, set[str]] = {}
    for result, app_id in zip(results, owners, strict=True):
        if result.status is Status.MATCHED and result.user is not None:
            links.setdefault(app_id, set()).add(result.user.sys_id)
    return links


def unmatched_users(
    results: Sequence[MatchResult], owners: Sequence[str], app_names: Mapping[str, str]
) -> tuple[UnmatchedUser, ...]:
    """One entry per distinct identifier that was not matched, with the apps it used."""
    apps: dict[int, dict[str, None]] = {}
    first: dict[int, MatchResult] = {}
    for result, app_id in zip(results, owners, strict=True):
        if result.status is Status.MATCHED:
            continue
        first.setdefault(id(result), result)
        apps.setdefault(id(result), {})[app_names.get(app_id, app_id)] = None
    out = []
    for key, result in first.items():
        suggestion = result.suggestion
        out.append(
            UnmatchedUser(
                identifier=result.parsed.normalized,
                status=result.status.value,
                reason=result.reason.value,
                message=result.message,
                apps=tuple(apps[key]),
                occurrences=result.occurrences,
                raw_examples=result.raw_examples or (result.input.raw,),
                suggestion=(suggestion.email or suggestion.user_name) if suggestion else "",
            )
        )
    return tuple(out)


def matching_summary(results: Iterable[MatchResult]) -> dict[str, Any]:
    """The correlation summary of distinct results (one result object per identifier)."""
    distinct = list({id(r): r for r in results}.values())
    return CorrelationReport.from_results(distinct).summary().as_dict()


class RecordingDirectory:
    """A :class:`UserDirectory` that remembers the result of its last fetch.

    Args:
        inner: the directory that does the work.
    """

    def __init__(self, inner: UserDirectory) -> None:
        self.inner = inner
        self.last: DirectoryResult | None = None

    def fetch(self, request: FetchRequest) -> DirectoryResult:
        """Fetch through ``inner`` and keep the result."""
        self.last = self.inner.fetch(request)
        return self.last


@frozen(kw_only=True)
class Unevaluated:
    """The links a run could not evaluate, and why.

    Attributes:
        apps: app ids with at least one user that could not be looked up.
        links: (app, identifier) pairs whose user is unknown: links that could
            be neither added, confirmed nor removed.
        identifiers: distinct identifiers whose user is unknown.
        lookups: ``sys_user`` reads made.
        lookups_failed: those that failed after the connection's retries.
        hidden_rows: ``sys_user`` rows counted by the instance but not returned
            (summed over the lookups).
        lookups_short: lookups that came back without some of their rows.
        hidden_values: looked-up values held by rows hidden from us.
        statuses: the HTTP statuses of the failed lookups (``connection`` when none came).
        tries: how many times each failed lookup was tried.
    """

    apps: frozenset[str]
    links: int
    identifiers: int
    lookups: int
    lookups_failed: int
    hidden_rows: int
    lookups_short: int
    hidden_values: int
    statuses: tuple[str, ...]
    tries: int

    def summary(self) -> str:
        """One line: how many links, why, and what to do."""
        causes = []
        if self.lookups_failed:
            why = ", ".join(self.statuses)
            retried = self.tries > 1 and set(self.statuses) <= _RETRIED
            tried = f" after {self.tries} tries" if retried else ""
            causes.append(
                f"{self.lookups_failed} of {self.lookups} sys_user lookups failed ({why}){tried}"
            )
        if self.hidden_rows:
            causes.append(
                f"{self.hidden_values:,} looked-up value(s) match {self.hidden_rows:,} sys_user "
                "row(s) that read ACLs hide from the integration user"
            )
        if not causes:
            causes.append("some sys_user lookups did not complete")
        fixes = []
        if self.hidden_rows:
            fixes.append("grant the integration user read access to every sys_user row")
        fixes.append("re-run to complete")
        return f"{self.links:,} links not evaluated: {'; '.join(causes)}; {', then '.join(fixes)}"

    def to_dict(self, held_links: int) -> dict[str, Any]:
        """The counts for the report (``SyncReport.partial``)."""
        return {
            "summary": self.summary(),
            "links_not_evaluated": self.links,
            "existing_links_kept": held_links,
            "apps": len(self.apps),
            "identifiers": self.identifiers,
            "sys_user_lookups": self.lookups,
            "sys_user_lookups_failed": self.lookups_failed,
            "sys_user_lookups_short": self.lookups_short,
            "sys_user_rows_hidden": self.hidden_rows,
            "sys_user_values_hidden": self.hidden_values,
            "statuses": list(self.statuses),
            "tries": self.tries,
        }


def unevaluated(
    results: Sequence[MatchResult],
    owners: Sequence[str],
    fetched: DirectoryResult | None,
    *,
    tries: int,
) -> Unevaluated | None:
    """What the correlation left unknown, or None when every user was looked up.

    Args:
        results: one result per observed name (``Correlator.resolve_each``).
        owners: the app id of each observed name.
        fetched: the directory's result for the run.
        tries: how many times the connection tries one read.
    """
    pairs: set[tuple[str, int]] = set()
    failed: dict[int, MatchResult] = {}
    for result, app_id in zip(results, owners, strict=True):
        if result.status is Status.ERROR:
            pairs.add((app_id, id(result)))
            failed[id(result)] = result
    hidden = fetched.hidden_rows if fetched is not None else 0
    if not pairs and not hidden:
        return None
    statuses: dict[str, None] = {}
    if fetched is not None:
        for reason in dict.fromkeys(fetched.failed.values()):
            if "read ACLs" in reason:
                continue
            found = _STATUS.search(reason)
            if found:
                statuses[f"HTTP {found.group(1)}"] = None
            elif "JSON" in reason or "malformed" in reason:
                statuses["malformed answer"] = None
            else:
                statuses["no answer"] = None
    return Unevaluated(
        apps=frozenset(app_id for app_id, _ in pairs),
        links=len(pairs),
        identifiers=len(failed),
        lookups=fetched.lookups if fetched is not None else 0,
        lookups_failed=fetched.lookups_failed if fetched is not None else 0,
        hidden_rows=hidden,
        lookups_short=fetched.lookups_short if fetched is not None else 0,
        hidden_values=fetched.hidden_values if fetched is not None else 0,
        statuses=tuple(sorted(statuses)),
        tries=tries,
    )
