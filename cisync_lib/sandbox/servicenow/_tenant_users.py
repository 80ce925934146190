"""Loading the served tenant's ``sys_user`` rows into the sandbox's ServiceNow store."""

from __future__ import annotations

from cisync_lib import SnUser
from cisync_lib.sandbox._tenant import ServedTenant

from ._store import ServiceNowStore

__all__ = ["load_sys_users", "sys_user_values"]


def sys_user_values(user: SnUser) -> dict[str, str]:
    """The ``sys_user`` column values of a generated user, as ServiceNow strings."""
    values = {
        "sys_id": user.sys_id,
        "user_name": user.user_name,
        "email": user.email,
        "name": user.name,
        "active": "true" if user.active else "false",
        "web_service_access_only": "true" if user.web_service_access_only else "false",
        "internal_integration_user": "true" if user.internal_integration_user else "false",
    }
    values.update(user.extra)
    return values


def load_sys_users(store: ServiceNowStore, tenant: ServedTenant) -> int:
    """Insert the tenant's users that the store does not hold yet (a state folder keeps them).

    Returns:
        How many rows were inserted.
    """
    present = {row["sys_id"] for row in store.query("sys_user")}
    inserted = 0
    for user in tenant.sys_users:
        if user.sys_id not in present:
            store.insert("sys_user", sys_user_values(user))
            inserted += 1
    return inserted
