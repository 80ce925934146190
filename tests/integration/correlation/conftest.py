"""A sandbox ServiceNow instance with sys_user rows, and a real connection to it."""

import hashlib
import re
from urllib.parse import parse_qs

import pytest

from cisync_lib.servicenow import BasicAuth, ServiceNowConnection


def sid(label):
    """A stable 32-hex sys_id for a fixture label such as ``U4``."""
    return hashlib.md5(label.encode()).hexdigest()


def insert_users(store, users):
    """Write SnUser records straight into the sandbox store (no API calls)."""
    for u in users:
        store.insert(
            "sys_user",
            {
                "sys_id": u.sys_id,
                "user_name": u.user_name,
                "email": u.email,
                "active": u.active,
                "sys_class_name": u.sys_class_name,
                "name": u.name,
                "web_service_access_only": u.web_service_access_only,
                "internal_integration_user": u.internal_integration_user,
                **dict(u.extra),
            },
        )


def connect(sb, **options):
    return ServiceNowConnection(
        sb.servicenow_url,
        auth=BasicAuth(username=sb.servicenow_username, password=sb.servicenow_password),
        verify=str(sb.ca_file),
        **options,
    )


def user_queries(sb):
    """The decoded ``sysparm_query`` of every sys_user request the sandbox received."""
    out = []
    for entry in sb.request_log.entries:
        if entry.path.endswith("/table/sys_user"):
            query = parse_qs(entry.query).get("sysparm_query", [""])[0]
            # the connection appends its own sys_id ordering (and paging) conditions
            out.append(re.sub(r"\^?ORDERBYsys_id$", "", query))
    return out


@pytest.fixture
def sandbox(cisync_sandbox_session):
    """The session's shared sandbox with an empty sys_user table before and after the test.

    Shared to save a start per test; emptying sys_user keeps tests independent.
    """
    sb = cisync_sandbox_session
    _clear_users(sb.store)
    yield sb
    _clear_users(sb.store)
    sb.faults.clear()


def _clear_users(store):
    for row in store.query("sys_user"):
        store.delete("sys_user", row["sys_id"])
