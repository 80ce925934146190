"""Preflight (``cisync check``): can this deployment reach, sign in to and use both sides?

Every check is cheap (a DNS lookup, a TCP and TLS handshake, one token, one
count, a probe) and none reads in bulk or writes. Write permission is probed
with a ``PATCH`` and a ``DELETE`` of a sys_id that does not exist: an
instance that allows the write answers 404 (nothing to change), one whose
ACLs refuse it answers 403.

:func:`quick_check` is the part ``plan``/``apply``/``sync`` run first: network,
ServiceNow sign-in (exactly one request, so a wrong password costs one 401
and never trips a lockout policy) and the Entra ID token, before any
Defender page is read.
"""

from __future__ import annotations

import os
import socket
import ssl
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import certifi
import requests
from attrs import frozen

from cisync_lib.cmdb import ire_preflight
from cisync_lib.errors import (
    CisyncError,
    CmdbSetupError,
    PreflightError,
    ServiceNowAuthError,
    ServiceNowRequestError,
)
from cisync_lib.servicenow import ServiceNowConnection, q_eq, q_in, q_or_eq

from ._deploy import DeploymentConfig
from ._diagnose import Cause, Endpoint, classify, failure, from_error, secret_hint
from ._job import SyncJob
from ._sandbox_config import is_sandbox_config
from ._specs import DestinationSpec, SourceSpec

__all__ = [
    "CheckItem",
    "CheckReport",
    "Preflight",
    "job_endpoints",
    "quick_check",
    "quick_servicenow_check",
    "servicenow_endpoint",
    "run_checks",
]

#: a sys_id no record has: the write probes' target
PROBE_SYS_ID = "0" * 24 + "c15c0c4e"
#: the Graph application permission the source needs (a ``roles`` claim of the token)
GRAPH_ROLE = "CloudApp-Discovery.Read.All"
#: what the legacy API's Entra tokens must carry
LEGACY_ROLE = "Discovery.read"
NETWORK_TIMEOUT = 5.0
ROLES_FIX = (
    "grant the integration user the roles in the permissions table of the docs page "
    "'ServiceNow setup' (itil, or the least-privilege custom role described there)"
)


@frozen(kw_only=True)
class CheckItem:
    """One line of the checklist.

    Attributes:
        name: what was checked (``ServiceNow sign-in``).
        ok: whether it passed (``None``: not run, because an earlier check failed).
        detail: what was found, or the one-sentence problem.
        fix: what to change when it failed.
        cause: the failure's kind (see :class:`~cisync_lib.PreflightError`), if known.
    """

    name: str
    ok: bool | None
    detail: str = ""
    fix: str = ""
    cause: str = ""

    def line(self) -> str:
        """The item as one line of text."""
        mark = {True: "ok  ", False: "FAIL", None: "skip"}[self.ok]
        text = f"{mark}  {self.name}: {self.detail}"
        return f"{text}. Fix: {self.fix}" if self.fix else text


@frozen(kw_only=True)
class CheckReport:
    """The checklist of a deployment's preflight.

    Attributes:
        target: what was checked (connection, destination and environment).
        items: the checks in the order they ran.
    """

    target: str
    items: tuple[CheckItem, ...]

    @property
    def ok(self) -> bool:
        """Whether every check ran and passed."""
        return all(item.ok is True for item in self.items)

    def to_dict(self) -> dict[str, Any]:
        """Plain values for ``--json``."""
        return {
            "target": self.target,
            "ok": self.ok,
            "checks": [
                {"name": i.name, "ok": i.ok, "detail": i.detail, "fix": i.fix} for i in self.items
            ],
        }


@frozen(kw_only=True)
class Preflight:
    """The preflight of one deployment target: can it reach, sign in to and use both sides?

    Every check is cheap and none reads in bulk or writes; write permission is
    probed with requests that change nothing. The specs say which config keys and
    secrets each service comes from, so a failure names the key to change.

    Example::

        config = load_deployment("cisync.toml")
        job = job_from_config(config, "test")
        preflight = Preflight(
            config=config, source=config.connection(), destination=config.destination("test")
        )
        print(preflight.check(job).ok)

    Attributes:
        config: the deployment config.
        destination: the destination's spec
            (:meth:`~cisync_lib.sync.DeploymentConfig.destination`).
        source: the source connection's spec
            (:meth:`~cisync_lib.sync.DeploymentConfig.connection`); ``None`` for a job
            without a source (one that only applies saved plans).
    """

    config: DeploymentConfig
    destination: DestinationSpec
    source: SourceSpec | None = None

    def check(
        self, job: SyncJob, *, on_item: Callable[[CheckItem], None] | None = None
    ) -> CheckReport:
        """Every check (``cisync check``): network, sign-in, roles, tables, IRE and folders.

        Args:
            job: the job built from the same config, source and destination
                (:func:`~cisync_lib.sync.job_from_config`).
            on_item: told about each item as soon as it is known (for live output).
        """
        return run_checks(self.config, job, self.source, self.destination, on_item=on_item)

    def quick_check(self, job: SyncJob, *, writes: bool = False) -> None:
        """Network and sign-in to both sides, before a run reads anything.

        ServiceNow gets exactly one request (a wrong password costs one 401 and
        never trips a lockout policy); Entra ID one token request; no Defender
        page is read. With ``writes``, the write permissions are probed too (without
        writing), so a read-only user fails here in one line, not once per write.

        Raises:
            PreflightError: the first failure, in one line with its fix.
        """
        quick_check(self.config, job, self.source, self.destination, writes=writes)

    def check_servicenow(self, connection: ServiceNowConnection) -> None:
        """Network and sign-in to the destination only (one request), for work without a job.

        Args:
            connection: the destination's connection
                (:meth:`~cisync_lib.sync.DeploymentConfig.servicenow`).

        Raises:
            PreflightError: in one line with its fix.
        """
        quick_servicenow_check(self.config, self.destination, connection)

    def diagnose(self, error: BaseException, job: SyncJob) -> PreflightError | None:
        """A failure of ``job``'s run restated as one line naming the service and the fix.

        Args:
            error: what the run raised.
            job: the job that raised it.

        Returns:
            A :class:`~cisync_lib.errors.PreflightError` (raise it ``from error``), or
            ``None`` when ``error`` is not a network or sign-in problem of a service.
        """
        return from_error(error, job_endpoints(self.config, job, self.source, self.destination))


# --- endpoints --------------------------------------------------------------------------


def servicenow_endpoint(
    config: DeploymentConfig, destination: DestinationSpec, conn: ServiceNowConnection
) -> Endpoint:
    """The ServiceNow side of a deployment, with the keys and secret that point at it."""
    d_key = f"destinations.{destination.name}"
    secret_key = "password" if destination.auth == "basic" else "client_secret"
    identity = (
        f"user {destination.username}"
        if destination.username
        else f"OAuth client {destination.client_id}"
    )
    return Endpoint(
        service="ServiceNow",
        url=conn.instance_url,
        url_key=f"{d_key}.instance_url",
        ca_key=f"{d_key}.ca_bundle",
        verify=destination.verify,
        proxies=dict(destination.proxies),
        secret=secret_hint("destinations", destination.name, secret_key, config.secrets_file),
        identity=identity,
        config=str(config.path),
        sandbox=is_sandbox_config(config.path),
    )


def quick_servicenow_check(
    config: DeploymentConfig, destination: DestinationSpec, conn: ServiceNowConnection
) -> Endpoint:
    """Network and sign-in to ServiceNow only (one request), for commands without a job.

    Raises:
        PreflightError: in one line with its fix.
    """
    endpoint = servicenow_endpoint(config, destination, conn)
    item = network_check(endpoint)
    if item.ok is not False:
        item = servicenow_signin(endpoint, conn, "sys_user")
    if item.ok is False:
        raise _as_error(endpoint, item)
    return endpoint


def job_endpoints(
    config: DeploymentConfig, job: Any, source: SourceSpec | None, destination: DestinationSpec
) -> dict[str, Endpoint]:
    """The services a job talks to, by service name, with the config keys behind each."""
    sandbox = is_sandbox_config(config.path)
    common: dict[str, Any] = {"config": str(config.path), "sandbox": sandbox}
    found = {"ServiceNow": servicenow_endpoint(config, destination, job.destination.connection)}
    src = getattr(job, "source", None)
    if source is None or src is None or source.kind == "snapshot":
        return found
    c_key = f"connections.{source.name}"
    shared: dict[str, Any] = {
        "ca_key": f"{c_key}.ca_bundle",
        "verify": source.verify,
        "proxies": dict(source.proxies),
        **common,
    }
    connection = src.connection
    if source.credential != "token":
        entra = connection if source.kind == "graph" else connection.graph_like()
        parts = urlsplit(entra.authority)
        secret_name = "client_secret" if source.credential == "secret" else "certificate_passphrase"
        found["Entra ID"] = Endpoint(
            service="Entra ID",
            url=f"{parts.scheme}://{parts.netloc}",
            url_key=f"{c_key}.authority_host (or {c_key}.cloud)",
            secret=secret_hint("connections", source.name, secret_name, config.secrets_file),
            identity=f"app {source.client_id} (tenant {source.tenant_id})",
            **shared,
        )
    if source.kind == "graph":
        found["Microsoft Graph"] = Endpoint(
            service="Microsoft Graph",
            url=connection.graph_root,
            url_key=f"{c_key}.graph_url (or {c_key}.cloud)",
            **shared,
        )
    else:
        found["Defender legacy API"] = Endpoint(
            service="Defender legacy API",
            url=connection.root,
            url_key=f"{c_key}.url",
            secret=secret_hint("connections", source.name, "api_token", config.secrets_file),
            **shared,
        )
    return found


# --- the checks -------------------------------------------------------------------------


def network_check(endpoint: Endpoint) -> CheckItem:
    """DNS, TCP and TLS to an endpoint, with the CA it is configured to trust."""
    name = f"{endpoint.service} {endpoint.host} (DNS, TCP, TLS)"
    if endpoint.proxies:
        return CheckItem(name=name, ok=True, detail="through a proxy: checked by the calls below")
    parts = urlsplit(endpoint.url)
    host, port = parts.hostname or "", parts.port or 443
    try:
        socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        with socket.create_connection((host, port), timeout=NETWORK_TIMEOUT) as raw:
            context = _tls_context(endpoint.verify)
            with context.wrap_socket(raw, server_hostname=host):
                pass
    except (OSError, ssl.SSLError) as exc:
        error = failure(endpoint, *(classify(exc) or (Cause.NETWORK, str(exc))))
        return CheckItem(
            name=name, ok=False, detail=error.problem, fix=error.fix, cause=error.cause
        )
    return CheckItem(
        name=name, ok=True, detail=f"reachable, TLS trusted with CA {endpoint.ca_in_use}"
    )


def _tls_context(verify: bool | str) -> ssl.SSLContext:
    if verify is False:
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        return context
    # what requests trusts: the given bundle, or certifi's (requests' default) otherwise
    cafile = verify if isinstance(verify, str) else certifi.where()
    return ssl.create_default_context(cafile=cafile)


def _explained(endpoint: Endpoint, name: str, exc: CisyncError) -> CheckItem:
    found = classify(exc)
    if found is None:  # not the network and not a refusal: say what the service answered
        fix = "run the check again; if it persists, look up the request in the service's logs"
        return CheckItem(name=name, ok=False, detail=str(exc), fix=fix, cause="error")
    error = failure(endpoint, *found)
    return CheckItem(name=name, ok=False, detail=error.problem, fix=error.fix, cause=error.cause)


def servicenow_signin(endpoint: Endpoint, conn: ServiceNowConnection, table: str) -> CheckItem:
    """Sign in with ONE request (a count of ``table``): a wrong password costs one 401."""
    name = f"ServiceNow sign-in ({endpoint.identity})"
    try:
        conn.count(table, query="")
    except ServiceNowAuthError as exc:
        if exc.status == 403:  # signed in, but not allowed to read: the role checks say more
            return CheckItem(name=name, ok=True, detail="signed in (reading the table is refused)")
        return _explained(endpoint, name, exc)
    except CisyncError as exc:
        return _explained(endpoint, name, exc)
    return CheckItem(name=name, ok=True, detail="signed in")


def entra_token(endpoint: Endpoint, source: Any, role: str) -> CheckItem:
    """An access token from Entra ID, and the application permission it carries."""
    name = f"Entra ID token for {endpoint.identity}"
    try:
        claims = source.token_claims()
    except CisyncError as exc:
        return _explained(endpoint, name, exc)
    roles = (claims.get("roles") or []) if claims else []
    if role in roles:
        return CheckItem(name=name, ok=True, detail=f"token issued with role {role}")
    listed = ", ".join(map(str, roles)) or "none"
    return CheckItem(
        name=name,
        ok=False,
        detail=f"the token lacks the application permission {role} (roles: {listed})",
        cause="403",
        fix=f"in Entra ID > App registrations > {endpoint.identity.split()[1]} > API permissions, "
        f"add the application permission {role} and grant admin consent",
    )


def defender_reachable(endpoint: Endpoint, source: Any) -> CheckItem:
    """One cheap Defender call (the list of discovery streams)."""
    name = f"{endpoint.service} discovery streams"
    try:
        streams = source.list_streams()
    except CisyncError as exc:
        return _explained(endpoint, name, exc)
    return CheckItem(name=name, ok=True, detail=f"{len(streams)} stream(s) readable")


def _read(conn: ServiceNowConnection, table: str, query: str = "") -> tuple[int | None, str, str]:
    """(rows visible, problem, fix): a count is one request whatever the table's size."""
    try:
        return conn.count(table, query=query), "", ""
    except ServiceNowAuthError as exc:
        return None, f"reading {table} is refused (HTTP {exc.status})", ROLES_FIX
    except ServiceNowRequestError as exc:
        if exc.status in (400, 404):  # "Invalid table": a plugin or class is missing
            fix = f"check that table {table} exists on the instance (its plugin is active)"
            return None, f"reading {table} failed: {exc}", fix
        retry = "run the check again; if it persists, look in the instance's system log"
        return None, f"reading {table} failed: {exc}", retry


def _probe(conn: ServiceNowConnection, method: str, table: str) -> str:
    """'' when the instance would allow the write, else the problem (nothing is written)."""
    url = f"{conn.instance_url}/api/now/table/{table}/{PROBE_SYS_ID}"
    try:
        response = conn.session.request(method, url, json={} if method == "PATCH" else None)
    except requests.RequestException as exc:
        return f"{method} probe on {table} failed ({classify(exc) or exc})"
    verb = "update" if method == "PATCH" else "delete"
    if response.status_code in (404, 200, 204):
        return ""
    if response.status_code == 403:
        return f"may not {verb} {table} records (HTTP 403 to a probe that writes nothing)"
    return f"{method} probe on {table} answered HTTP {response.status_code}"


def servicenow_access(conn: ServiceNowConnection, job: Any, cmdb: Any) -> Iterator[CheckItem]:
    """The reads and writes the sync needs, each probed without changing anything."""
    users = bool(getattr(job, "syncs_users", True))
    total, problem, fix = _read(conn, "sys_user")
    inactive = _read(conn, "sys_user", q_eq("active", "false"))[0] if total is not None else 0
    if total is None:
        yield CheckItem(name="read sys_user", ok=False, detail=problem, fix=fix)
    else:
        note = "" if inactive else " (no inactive rows visible: leavers must be readable too)"
        detail = f"{total} users readable, {inactive} of them inactive{note}"
        yield CheckItem(name="read sys_user (incl. inactive)", ok=True, detail=detail)
    reads = [
        (cmdb.app_class, ""),
        (cmdb.link_table, ""),
        ("sys_dictionary", q_eq("name", cmdb.app_class)),
        ("sys_choice", q_in("name", [cmdb.app_class, "cmdb_ci"])),
        (cmdb.vendor_table, ""),
    ]
    for table, query in reads:
        count, problem, fix = _read(conn, table, query)
        label = f"read {table}" + (f" ({cmdb.app_class})" if table == "sys_dictionary" else "")
        if count is None:
            yield CheckItem(name=label, ok=False, detail=problem, fix=fix)
        elif table == "sys_dictionary" and count == 0:
            yield CheckItem(
                name=label,
                ok=False,
                detail=f"no dictionary entries of {cmdb.app_class} are visible",
                fix=f"grant read on sys_dictionary (and check {cmdb.app_class} exists: "
                "the Application Portfolio / CSDM business application class)",
            )
        else:
            yield CheckItem(name=label, ok=True, detail=f"{count} row(s) readable")
    yield _rel_type(conn, cmdb, users)
    for method, table in (("PATCH", cmdb.app_class), ("PATCH", cmdb.link_table),
                          ("DELETE", cmdb.link_table)):  # fmt: skip
        problem = _probe(conn, method, table)
        name = f"write {table} ({'update' if method == 'PATCH' else 'delete'}, probed)"
        if problem:
            yield CheckItem(name=name, ok=False, detail=problem, fix=ROLES_FIX)
        else:
            yield CheckItem(name=name, ok=True, detail="allowed (probe wrote nothing)")


def _rel_type(conn: ServiceNowConnection, cmdb: Any, users: bool) -> CheckItem:
    name = f"relationship type {cmdb.rel_type_name!r} in {cmdb.rel_type_table}"
    query = (
        q_or_eq("name", [cmdb.rel_type_name])
        + "^OR"
        + q_eq("parent_descriptor", cmdb.rel_type_name)
    )
    try:
        rows = list(conn.query(cmdb.rel_type_table, query=query, fields=("name",)))
    except ServiceNowAuthError as exc:
        return CheckItem(
            name=name, ok=False, detail=f"reading {cmdb.rel_type_table} is refused "
            f"(HTTP {exc.status})", fix=ROLES_FIX,
        )  # fmt: skip
    except ServiceNowRequestError as exc:
        return CheckItem(name=name, ok=False, detail=str(exc), fix=ROLES_FIX)
    if rows:
        return CheckItem(name=name, ok=True, detail=f"found (sys_id {rows[0]['sys_id']})")
    return CheckItem(
        name=name,
        ok=False,
        detail=f"no {cmdb.rel_type_table} record named {cmdb.rel_type_name!r}"
        + ("" if users else " (needed once user links are synced)"),
        fix=f"as an administrator, create a {cmdb.rel_type_table} record with name "
        f"{cmdb.rel_type_name!r} (it ships with the CMDB; restore it if it was deleted)",
    )


def ire_check(conn: ServiceNowConnection, cmdb: Any) -> CheckItem:
    """The IRE data source and identification rule (only for ``write_path = "ire"``)."""
    name = "IRE data source and identification rule"
    try:
        ire_preflight(conn, cmdb)
    except CmdbSetupError as exc:
        return CheckItem(name=name, ok=False, detail=exc.problem, fix=exc.fix)
    except CisyncError as exc:
        return CheckItem(name=name, ok=False, detail=str(exc), fix=ROLES_FIX)
    return CheckItem(name=name, ok=True, detail="registered")


def folder_check(label: str, folder: Path) -> CheckItem:
    """Whether ``folder`` (or, before it exists, its nearest existing parent) takes files."""
    name = f"{label} folder writable"
    existing = folder
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    try:
        if not existing.is_dir():
            raise NotADirectoryError(str(existing))
        with tempfile.NamedTemporaryFile(dir=existing, prefix=".cisync-check-"):
            pass
    except OSError as exc:
        return CheckItem(
            name=name,
            ok=False,
            detail=f"cannot write in {existing} ({exc.strerror or type(exc).__name__})",
            fix="set sync.state_dir to a folder this account can write, or fix its permissions",
        )
    return CheckItem(name=name, ok=True, detail=str(folder))


# --- runs -------------------------------------------------------------------------------


def run_checks(
    config: DeploymentConfig,
    job: Any,
    source: SourceSpec | None,
    destination: DestinationSpec,
    *,
    on_item: Callable[[CheckItem], None] | None = None,
) -> CheckReport:
    """Every preflight check of a job built from ``config``; nothing is written.

    Args:
        config: the deployment config.
        job: the job (:func:`~cisync_lib.sync.job_from_config`).
        source: the job's source connection spec (``None`` for none).
        destination: the job's destination spec.
        on_item: told about each item as soon as it is known (for live output).
    """
    items: list[CheckItem] = []

    def add(item: CheckItem) -> bool:
        items.append(item)
        if on_item is not None:
            on_item(item)
        return item.ok is True

    endpoints = job_endpoints(config, job, source, destination)
    reachable = {name: add(network_check(ep)) for name, ep in endpoints.items()}
    sn = endpoints["ServiceNow"]
    conn = job.destination.connection
    cmdb = job.cmdb_config
    if reachable["ServiceNow"] and add(servicenow_signin(sn, conn, cmdb.app_class)):
        for item in servicenow_access(conn, job, cmdb):
            add(item)
        if cmdb.write_path.value == "ire":
            add(ire_check(conn, cmdb))
    else:
        add(CheckItem(name="ServiceNow roles and tables", ok=None, detail="not checked: "
                      "sign-in to ServiceNow failed"))  # fmt: skip
    src = job.source
    entra = endpoints.get("Entra ID")
    signed_in = True
    if entra is not None:
        role = GRAPH_ROLE if source is not None and source.kind == "graph" else LEGACY_ROLE
        signed_in = reachable["Entra ID"] and add(entra_token(entra, src, role))
    for name in ("Microsoft Graph", "Defender legacy API"):
        endpoint = endpoints.get(name)
        if endpoint is None:
            continue
        if reachable[name] and signed_in:
            add(defender_reachable(endpoint, src))
        else:
            add(CheckItem(name=f"{name} discovery streams", ok=None,
                          detail="not checked: an earlier check failed"))  # fmt: skip
    if source is not None and source.kind == "snapshot" and source.path is not None:
        readable = source.path.is_file() and os.access(source.path, os.R_OK)
        add(CheckItem(
            name="snapshot file", ok=readable, detail=str(source.path),
            fix="" if readable else f"set connections.{source.name}.path to a snapshot file",
        ))  # fmt: skip
    state = job.state_dir or config.state_dir
    add(folder_check("state", state))
    add(folder_check("reports", state / "reports"))
    target = (
        f"connection {source.name!r} -> destination {destination.name!r} "
        f"({destination.environment.value.upper()})"
        if source is not None
        else f"destination {destination.name!r} ({destination.environment.value.upper()})"
    )
    return CheckReport(target=target, items=tuple(items))


def quick_check(
    config: DeploymentConfig,
    job: Any,
    source: SourceSpec | None,
    destination: DestinationSpec,
    *,
    writes: bool = False,
) -> dict[str, Endpoint]:
    """Network and sign-in to both sides, before a run reads anything.

    ServiceNow gets exactly one request (a wrong password: one 401, then stop);
    Entra ID one token request. No Defender page is read. With ``writes``,
    the write permissions are probed too (without writing), so a read-only
    user fails here in one line instead of once per refused write.

    Returns:
        The job's endpoints (to explain a later failure with :func:`from_error`).

    Raises:
        PreflightError: the first failure, in one line with its fix.
    """
    endpoints = job_endpoints(config, job, source, destination)
    for endpoint in endpoints.values():  # a refused port or a bad CA fails in milliseconds
        item = network_check(endpoint)
        if item.ok is False:
            raise _as_error(endpoint, item)
    sn = endpoints["ServiceNow"]
    item = servicenow_signin(sn, job.destination.connection, job.cmdb_config.app_class)
    if item.ok is False:
        raise _as_error(sn, item)
    if writes:
        conn, cmdb = job.destination.connection, job.cmdb_config
        for method, table in (("PATCH", cmdb.app_class), ("PATCH", cmdb.link_table)):
            problem = _probe(conn, method, table)
            if problem:
                raise PreflightError(
                    service=sn.service,
                    host=sn.host,
                    problem=f"{sn.identity} {problem}",
                    fix=ROLES_FIX,
                    cause="403",
                )
    legacy = endpoints.get("Defender legacy API")
    if legacy is not None and source is not None and source.credential == "token":
        # no Entra ID token to ask for: the one cheap legacy call is the sign-in check
        item = defender_reachable(legacy, job.source)
        if item.ok is False:
            raise _as_error(legacy, item)
    entra = endpoints.get("Entra ID")
    if entra is not None and job.source is not None:
        role = GRAPH_ROLE if source is not None and source.kind == "graph" else LEGACY_ROLE
        item = entra_token(entra, job.source, role)
        if item.ok is False:
            raise _as_error(entra, item)
    return endpoints


def _as_error(endpoint: Endpoint, item: CheckItem) -> PreflightError:
    return PreflightError(
        service=endpoint.service, host=endpoint.host, problem=item.detail, fix=item.fix,
        cause=item.cause or "setup",
    )  # fmt: skip
