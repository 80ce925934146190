"""A readable diff of a plan, for people reviewing it before apply."""

from __future__ import annotations

from collections.abc import Iterable

from ._actions import Plan

__all__ = ["render_plan"]


def _short(value: str, width: int = 60) -> str:
    text = value.replace("\n", "\\n")
    return repr(text if len(text) <= width else text[: width - 1] + "…")


def _capped(lines: Iterable[str], limit: int, total: int, what: str) -> list[str]:
    out = []
    for n, line in enumerate(lines):
        if n == limit:
            out.append(f"    … and {total - limit} more {what}")
            break
        out.append(line)
    return out


def render_plan(plan: Plan, *, limit: int = 50) -> str:
    """The plan as text: ``+`` create/add, ``~`` update, ``-`` retire/remove, ``=`` unchanged.

    Args:
        plan: the plan.
        limit: at most this many lines per section.
    """
    lines = [
        f"CMDB plan from state {plan.fingerprint[:12]} at {plan.created_at:%Y-%m-%d %H:%M:%S}Z "
        f"({plan.write_count} write(s))"
    ]
    for v in plan.vendors:
        lines.append(f"  + vendor   {v.name!r} [{v.sys_id}]")
    lines += _capped(
        (f"  + create   {c.name!r} ({c.values.get('correlation_id', '')}) [{c.sys_id}]"
         for c in plan.creates),
        limit, len(plan.creates), "creates",
    )  # fmt: skip
    for u in plan.updates[:limit]:
        tag = " (adopted by name)" if u.adopted else " (revived)" if u.revived else ""
        lines.append(f"  ~ update   {u.name!r} [{u.sys_id}]{tag}")
        lines += [f"      {c.field}: {_short(c.old)} -> {_short(c.new)}" for c in u.changes]
    if len(plan.updates) > limit:
        lines.append(f"    … and {len(plan.updates) - limit} more updates")
    lines += _capped(
        (f"  - retire   {r.name!r} [{r.sys_id}]: {r.reason}" for r in plan.retires),
        limit, len(plan.retires), "retires",
    )  # fmt: skip
    lines += _capped(
        (f"  + link     app {a.app_id} [{a.ci}] <- user {a.user}" for a in plan.add_links),
        limit, len(plan.add_links), "links to add",
    )  # fmt: skip
    lines += _capped(
        (f"  - unlink   app {r.app_id} [{r.ci}] <- user {r.user} ({r.reason}) [{r.sys_id}]"
         for r in plan.remove_links),
        limit, len(plan.remove_links), "links to remove",
    )  # fmt: skip
    same_links = sum(plan.unchanged_links.values())
    lines.append(f"  = {len(plan.unchanged_apps)} app(s) and {same_links} link(s) unchanged")
    if plan.pending:
        apps = sum(1 for p in plan.pending if p.kind == "app")
        lines.append(
            f"  … waiting for the grace period: {apps} app(s), {len(plan.pending) - apps} link(s)"
        )
    g = plan.guard
    verdict = "REFUSED (apply with force=True)" if g.refuses_retire or g.refuses_unlink else "ok"
    lines.append(
        f"  guard: retire {g.retire_count}/{g.managed_apps} (limit {g.max_retire_percent:g}%), "
        f"unlink {g.unlink_count}/{g.managed_links} (limit {g.max_unlink_percent:g}%): {verdict}"
    )
    lines += [f"  ! {w}" for w in plan.warnings]
    return "\n".join(lines)
