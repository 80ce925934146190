"""Planning user links: add, heal duplicates, remove after the grace period (pure, no I/O)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from attrs import define, field

from cisync_lib.errors import CmdbSetupError

from ._actions import AddLink, PendingRemoval, RemoveLink
from ._config import CmdbConfig, LinkOwnership
from ._desired import DesiredState
from ._plan_apps import AppPlan, grace_over
from ._runstate import MissEntry, RunState
from ._state import CurrentState, LinkRow

__all__ = ["LinkPlan", "plan_links"]


@define
class LinkPlan:
    """The link half of a plan."""

    adds: list[AddLink] = field(factory=list)
    removes: list[RemoveLink] = field(factory=list)
    unchanged: dict[str, int] = field(factory=dict)
    pending: list[PendingRemoval] = field(factory=list)
    warnings: list[str] = field(factory=list)
    missing: dict[str, MissEntry] = field(factory=dict)
    owned_total: int = 0
    #: our links on apps whose users were not all looked up: kept, not evaluated
    held: int = 0


def _missing_type(config: CmdbConfig) -> CmdbSetupError:
    return CmdbSetupError(
        problem=(
            f"the instance has no {config.rel_type_table} record named {config.rel_type_name!r}, "
            "so user links cannot be written"
        ),
        fix=(
            f"as an administrator, create it in {config.rel_type_table} (name "
            f"{config.rel_type_name!r}, parent descriptor {config.rel_type_name!r}, child "
            "descriptor 'Uses'), or set rel_type_name to an existing type"
        ),
    )


def plan_links(
    desired: DesiredState,
    state: CurrentState,
    config: CmdbConfig,
    run_state: RunState,
    now: datetime,
    apps: AppPlan,
) -> LinkPlan:
    """Compare desired (app, user) pairs with the link rows read."""
    out = LinkPlan()
    if not state.links_read:
        out.missing = {
            k: e.carried(run_state.completed_runs) for k, e in run_state.missing_links.items()
        }
        if desired.sync_users:
            out.warnings.append(
                "user links were not read, so none is planned; read the state with the "
                "desired state (read_state(conn, config, desired))"
            )
        return out
    if state.rel_type is None:
        raise _missing_type(config)
    owner = config.integration_user or state.integration_user or run_state.integration_user
    by_ownership = config.link_ownership is LinkOwnership.SCOPE
    if not by_ownership and owner is None:
        out.warnings.append(
            "the integration user is unknown, so no existing link counts as ours and none is "
            "removed; set integration_user in the CMDB config"
        )

    def owned(row: LinkRow) -> bool:
        return by_ownership or (owner is not None and row.created_by == owner)

    # rows on CIs outside the managed scope (e.g. candidates not adopted) are not ours to judge
    rows: dict[tuple[str, str], list[LinkRow]] = {}
    for row in state.links:
        if row.ci in apps.managed_cis:
            rows.setdefault((row.ci, row.user), []).append(row)

    def ours(row: LinkRow) -> bool:
        # healing a duplicate is cosmetic: it may only ever delete a row this integration
        # created, whatever link_ownership says about stale links
        return owner is not None and row.created_by == owner

    keep: dict[tuple[str, str], LinkRow] = {}
    kept_foreign: list[LinkRow] = []
    for key, group in rows.items():
        if len(group) > 1:
            group.sort(key=lambda r: (ours(r), r.sys_id))  # keep a person's row if any
            for extra in group[1:]:
                if not ours(extra):
                    kept_foreign.append(extra)  # someone else's row: reported, never deleted
                    continue
                out.removes.append(
                    RemoveLink(
                        sys_id=extra.sys_id,
                        ci=extra.ci,
                        user=extra.user,
                        app_id=apps.managed_cis.get(extra.ci, ""),
                        reason="duplicate",
                    )
                )
        keep[key] = group[0]
        if owned(group[0]):
            out.owned_total += 1

    if kept_foreign:
        listed = ", ".join(
            f"{config.link_table}/{r.sys_id}"
            for r in sorted(kept_foreign, key=lambda r: r.sys_id)[:5]
        )
        more = f" and {len(kept_foreign) - 5} more" if len(kept_foreign) > 5 else ""
        out.warnings.append(
            f"{len(kept_foreign)} duplicate user link(s) not created by the integration user "
            f"were left in place ({listed}{more}); only rows the integration created are ever "
            "deleted: remove these by hand if they are unwanted"
        )
    if desired.sync_users:
        for app_id in sorted(desired.links):
            if app_id not in apps.ci_of:
                continue  # a refused app: nothing is written for it
            ci, new = apps.ci_of[app_id]
            same = 0
            for user in sorted(desired.links[app_id]):
                if keep.pop((ci, user), None) is not None:
                    same += 1
                else:
                    out.adds.append(AddLink(app_id=app_id, ci=ci, user=user, new_app=new))
            if same:
                out.unchanged[app_id] = same
        _plan_stale(desired, config, run_state, now, apps, keep, owned, out)
    elif config.remove_links_when_user_sync_off:
        for (ci, user), row in sorted(keep.items()):
            if owned(row):
                out.removes.append(
                    RemoveLink(
                        sys_id=row.sys_id,
                        ci=ci,
                        user=user,
                        app_id=apps.managed_cis.get(ci, ""),
                        reason="user_sync_off",
                    )
                )
    return out


def _plan_stale(
    desired: DesiredState,
    config: CmdbConfig,
    run_state: RunState,
    now: datetime,
    apps: AppPlan,
    left: dict[tuple[str, str], LinkRow],
    owned: Callable[[LinkRow], bool],
    out: LinkPlan,
) -> None:
    """Links in scope the source no longer justifies: remove ours after the grace period."""
    counting = desired.source_complete and desired.source_app_count > 0
    counting = counting and desired.source_user_count > 0 and desired.links_complete
    if not counting and left:
        out.warnings.append(
            "the source gave no users, the read was incomplete or some user lookups failed: "
            "no link is removed and no grace period advances"
        )
    run = run_state.current_run
    unknown = desired.links_unknown
    held_apps: set[str] = set()
    for (ci, user), row in sorted(left.items()):
        if not owned(row):
            continue  # made by a person or another tool: never removed
        key = f"{ci}:{user}"
        entry = run_state.missing_links.get(key)
        app_id = apps.managed_cis.get(ci, "")
        if app_id in unknown:  # the user may be one whose lookup failed: unknown, not absent
            out.held += 1
            held_apps.add(app_id)
        # a refused app's links are not judged either: its users were not written this run
        if not counting or app_id in unknown or app_id in apps.refused:
            # this run did not observe the link: its count stands still
            if entry is not None:
                out.missing[key] = entry.carried(run_state.completed_runs)
            continue
        entry = (
            entry.missed_again(run, run_state.completed_runs)
            if entry is not None
            else MissEntry.first(now, run)
        )
        out.missing[key] = entry
        if grace_over(entry, now, config):
            out.removes.append(RemoveLink(sys_id=row.sys_id, ci=ci, user=user, app_id=app_id))
        else:
            out.pending.append(
                PendingRemoval(
                    kind="link",
                    key=key,
                    app_id=app_id,
                    missed_runs=entry.misses,
                    first_missed_at=entry.first_missed_at,
                )
            )
    if out.held:
        out.warnings.append(
            f"{out.held} existing user link(s) of {len(held_apps)} app(s) not evaluated: some "
            "of their users could not be looked up in sys_user; none is removed and no grace "
            "period advances for them"
        )
