"""Pure steps of a sync job: names to correlate, links from results, and the report's parts."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from cisync_lib._records import SnUser
from cisync_lib.cmdb import DesiredState, GuardReport, Plan
from cisync_lib.correlation import CorrelationReport, MatchResult, ObservedName, Status
from cisync_lib.defender import DefenderData
from cisync_lib.settings import RelationshipKind

from ._destination import Destination
from ._report import GuardDecision, UnmatchedUser

__all__ = [
    "destination_warnings",
    "guard_decisions",
    "job_warnings",
    "links_from",
    "matching_summary",
    "observed_names",
    "plan_counts",
    "plan_rows",
    "unmatched_users",
]


def observed_names(
    data: DefenderData, app_ids: Iterable[str]
) -> tuple[list[ObservedName], list[str]]:
    """Every user identifier of the given apps, with the app each was seen in.

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


def plan_counts(plan: Plan) -> dict[str, int]:
    """Planned changes per action key."""
    return {
        "create_app": len(plan.creates),
        "update_app": len(plan.updates),
        "retire_app": len(plan.retires),
        "unchanged_app": len(plan.unchanged_apps),
        "add_link": len(plan.add_links),
        "remove_link": len(plan.remove_links),
        "unchanged_link": sum(plan.unchanged_links.values()),
        "create_vendor": len(plan.vendors),
        "pending_removal": len(plan.pending),
    }


def plan_rows(
    plan: Plan,
    desired: DesiredState,
    *,
    people: Mapping[str, SnUser] | None = None,
    ci_names: Mapping[str, str] | None = None,
) -> tuple[dict[str, str], ...]:
    """One plain row per planned change (for DataFrames, CSV and the review).

    Rows carry names beside sys_ids: the app's name (from the desired state, else
    ``ci_names``), and for user links the user's ``user_name`` and ``user_email``
    when ``people`` knows them (empty otherwise).
    """
    people = people or {}
    ci_names = ci_names or {}
    created = {c.sys_id: c.name for c in plan.creates}

    def name(app_id: str, ci: str = "") -> str:
        app = desired.apps.get(app_id)
        if app is not None:
            return app.name
        return ci_names.get(ci, "") or created.get(ci, "")

    def row(
        action: str, app_id: str, app_name: str, ci: str, user: str, detail: str
    ) -> dict[str, str]:
        person = people.get(user) if user else None
        return {
            "action": action,
            "app_id": app_id,
            "name": app_name,
            "ci": ci,
            "user": user,
            "user_name": (person.name or person.user_name) if person is not None else "",
            "user_email": person.email if person is not None else "",
            "detail": detail,
        }

    rows = [row("create_vendor", "", v.name, v.sys_id, "", "") for v in plan.vendors]
    rows += [row("create_app", c.app_id, c.name, c.sys_id, "", "") for c in plan.creates]
    for u in plan.updates:
        detail = ", ".join(c.field for c in u.changes)
        tag = " (adopted by name)" if u.adopted else " (revived)" if u.revived else ""
        rows.append(row("update_app", u.app_id, u.name, u.sys_id, "", detail + tag))
    rows += [row("retire_app", r.app_id, r.name, r.sys_id, "", r.reason) for r in plan.retires]
    rows += [
        row("add_link", a.app_id, name(a.app_id, a.ci), a.ci, a.user, "") for a in plan.add_links
    ]
    rows += [
        row("remove_link", r.app_id, name(r.app_id, r.ci), r.ci, r.user, r.reason)
        for r in plan.remove_links
    ]
    rows += [
        row("pending_removal", p.app_id, name(p.app_id), "", p.key if p.kind == "link" else "",
            f"{p.kind} missing for {p.missed_runs} run(s) since {p.first_missed_at:%Y-%m-%d}")
        for p in plan.pending
    ]  # fmt: skip
    return tuple(rows)


def guard_decisions(guard: GuardReport, *, force: bool) -> tuple[GuardDecision, ...]:
    """The guard's verdicts as report entries."""

    def verdict(over: bool) -> str:
        return "within" if not over else "forced" if force else "refused"

    return (
        GuardDecision(
            what="retire apps",
            count=guard.retire_count,
            managed=guard.managed_apps,
            limit_percent=guard.max_retire_percent,
            verdict=verdict(guard.refuses_retire),  # type: ignore[arg-type]
        ),
        GuardDecision(
            what="remove user links",
            count=guard.unlink_count,
            managed=guard.managed_links,
            limit_percent=guard.max_unlink_percent,
            verdict=verdict(guard.refuses_unlink),  # type: ignore[arg-type]
        ),
    )


def matching_summary(results: Iterable[MatchResult]) -> dict[str, Any]:
    """The correlation summary of distinct results (one result object per identifier)."""
    distinct = list({id(r): r for r in results}.values())
    return CorrelationReport.from_results(distinct).summary().as_dict()


def job_warnings(
    relationships: Iterable[RelationshipKind], desired: DesiredState, state_dir: Path | None
) -> tuple[str, ...]:
    """Warnings about how the job is set up (not about the data)."""
    found = []
    if RelationshipKind.USER_USES_APP in relationships and not desired.sync_users:
        found.append("user links selected but not synced (allow_user_sync is off)")
    if state_dir is None:
        found.append("no state folder: grace periods are kept in memory for this job only")
    return tuple(found)


def destination_warnings(destination: Destination) -> tuple[str, ...]:
    """Warnings about the destination's connection (TLS verification turned off)."""
    session = getattr(destination.connection, "session", None)
    if getattr(session, "verify", True) is False:
        env = destination.environment.value.upper()
        return (
            f"TLS certificate verification is OFF for {env} destination {destination.name!r}: "
            "anyone on the network path can read and change what this sync sends and receives; "
            "set ca_bundle instead of verify = false",
        )
    return ()
