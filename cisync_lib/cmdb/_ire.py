"""The IRE write path for app CIs (``/api/now/identifyreconcile/enhanced``) and its preflight.

IRE is plain JSON over the connection's session (pysnc has no IRE support),
so it gets the same trust settings, timeouts and request counting.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any

import requests

from cisync_lib.errors import CmdbSetupError, ServiceNowAuthError
from cisync_lib.servicenow import ServiceNowConnection, q_and, q_eq, q_in

from ._actions import Plan
from ._config import CmdbConfig
from ._execute import Op, OpKind, Tally, app_ops, execute, verify

__all__ = ["ire_preflight", "ire_write_apps"]

logger = logging.getLogger(__name__)

_PATH = "/api/now/identifyreconcile/enhanced"
_OPTIONS = "partial_payloads:false,partial_commits:false,generate_summary:true"


def _fix(config: CmdbConfig) -> str:
    return (
        "see the 'IRE setup' page of the cisync_lib docs; in short, as an administrator "
        f"(1) register the data source: add a sys_choice row (table cmdb_ci, element "
        f"discovery_source, value {config.discovery_source!r}); (2) create an independent "
        f"identification rule for {config.app_class} (CI Class Manager > Identification rule) "
        "with one identifier entry whose criterion attribute is correlation_id (or name to "
        "also match apps created by hand); or use the Table API write path (the default)"
    )


def ire_preflight(conn: ServiceNowConnection, config: CmdbConfig) -> None:
    """Check that IRE can take our CIs; stop with setup instructions otherwise.

    Raises:
        CmdbSetupError: the data source choice or the identification rule is missing.
    """
    problems = []
    rows = conn.query(
        "sys_choice",
        query=q_and(
            q_eq("name", "cmdb_ci"),
            q_eq("element", "discovery_source"),
            q_eq("value", config.discovery_source),
        ),
        fields=("value", "inactive"),
    )
    if not any(
        r.get("value") == config.discovery_source and r.get("inactive", "") != "true" for r in rows
    ):
        problems.append(
            f"no cmdb_ci.discovery_source choice {config.discovery_source!r} is registered"
        )
    rules = {
        r["sys_id"]: r
        for r in conn.query(
            "cmdb_identifier",
            query=q_and(q_in("applies_to", [config.app_class, "cmdb_ci"]), q_eq("active", "true")),
            fields=("applies_to", "name"),
        )
    }
    usable = []
    if rules:
        entries = conn.query(
            "cmdb_identifier_entry",
            query=q_and(q_in("identifier", sorted(rules)), q_eq("active", "true")),
            fields=("identifier", "criterion_attributes"),
        )
        sent = {"correlation_id", "name"}
        for entry in entries:
            attributes = {a.strip() for a in entry.get("criterion_attributes", "").split(",")}
            if attributes and attributes <= sent:
                usable.append(entry)
    if not usable:
        problems.append(
            f"no active identification rule for {config.app_class} identifies by "
            "correlation_id or name"
        )
    if problems:
        raise CmdbSetupError(
            problem="IRE preflight failed: " + "; ".join(problems), fix=_fix(config)
        )


def _item(op: Op, config: CmdbConfig) -> dict[str, Any]:
    values = dict(op.body or {})
    if op.kind is OpKind.CREATE:
        values.pop("sys_id", None)  # IRE assigns it; a given sys_id must already exist
    else:
        values["sys_id"] = op.sys_id
    return {
        "className": op.table,
        "values": values,
        "sys_object_source_info": {
            "source_name": config.discovery_source,
            "source_native_key": op.app_id,
            "source_feed": "cloud-discovery",
        },
        "internal_id": op.id,
        "settings": {
            "updateWithoutUpgrade": True,
            "updateWithoutDowngrade": True,
            "updateWithoutSwitch": True,
        },
    }


def _send(
    conn: ServiceNowConnection,
    chunk: Sequence[Op],
    config: CmdbConfig,
    unknown: list[Op],
    resend: list[Op],
) -> None:
    """One IRE call; ops end done, failed, in ``unknown`` (re-read) or ``resend`` (not sent)."""
    url = conn.instance_url + _PATH
    params = {"sysparm_data_source": config.discovery_source, "options": _OPTIONS}
    try:
        response = conn.session.post(
            url, params=params, json={"items": [_item(o, config) for o in chunk]}
        )
    except (requests.ConnectTimeout, requests.exceptions.SSLError) as exc:
        for op in chunk:
            op.error = type(exc).__name__
        resend.extend(chunk)  # never reached the instance
        return
    except requests.RequestException as exc:
        for op in chunk:
            op.error = f"{type(exc).__name__} (outcome unknown)"
        unknown.extend(chunk)
        return
    if response.status_code in (401, 403):
        raise ServiceNowAuthError(
            instance=conn.instance_url, status=response.status_code, detail="IRE refused"
        )
    try:
        items = response.json()["result"]["items"] if response.status_code == 200 else None
    except (ValueError, KeyError, TypeError):
        items = None
    if not isinstance(items, list) or len(items) != len(chunk):
        for op in chunk:
            op.error = f"IRE answered HTTP {response.status_code}: {response.text[:200]}"
        if response.status_code >= 500 or response.status_code == 200:
            unknown.extend(chunk)
        return
    for op, item in zip(chunk, items, strict=True):
        if isinstance(item, dict) and not item.get("errorCount"):
            op.done = True
            op.error = ""
            op.sys_id = str(item.get("sysId") or op.sys_id)
        else:
            errors = item.get("errors") if isinstance(item, dict) else item
            op.error = f"IRE item error: {errors}"


def ire_write_apps(
    conn: ServiceNowConnection,
    plan: Plan,
    config: CmdbConfig,
    tally: Tally,
    progress: Callable[[int, int], None] | None = None,
) -> list[Op]:
    """Create, update and retire app CIs through IRE, ``config.ire_batch_size`` per call.

    Returns:
        the ops, each done or carrying its error (creates carry IRE's sys_id).
    """
    every = app_ops(plan, config)
    vendors = [o for o in every if o.kind is OpKind.VENDOR]
    ops = [o for o in every if o.kind is not OpKind.VENDOR]
    if vendors:  # vendor companies are plain records: Table API
        execute(conn, vendors, config, tally)
    pending = ops
    for round_no in range(config.max_rounds):
        if not pending:
            break
        if round_no:
            tally.resent += len(pending)
        unknown: list[Op] = []
        resend: list[Op] = []
        before = conn.request_count
        for start in range(0, len(pending), config.ire_batch_size):
            chunk = pending[start : start + config.ire_batch_size]
            _send(conn, chunk, config, unknown, resend)
        tally.write_requests += conn.request_count - before
        if unknown:
            # re-read first: IRE would match a repeated item, but we never resend blindly
            before = conn.request_count
            verify(conn, unknown, config)
            tally.read_requests += conn.request_count - before
            tally.settled_by_reread += sum(1 for o in unknown if o.done)
        pending = resend + [o for o in unknown if not o.done]
        if progress is not None:
            progress(sum(1 for o in ops if o.done), len(ops))
    return vendors + ops
