"""Errors from the remote services: Defender for Cloud Apps, Entra ID and ServiceNow.

Foreign errors (msal's error dicts, pysnc's exceptions, requests' errors)
become these at the one module that talks to each library.
"""

from __future__ import annotations

from collections.abc import Sequence

import attrs

from ._errors import CisyncError

__all__ = [
    "DefenderAuthError",
    "DefenderError",
    "DefenderHttpError",
    "DefenderPayloadError",
    "PreflightError",
    "ServiceNowAuthError",
    "ServiceNowError",
    "ServiceNowRequestError",
    "SnapshotError",
]


# --- Defender for Cloud Apps ----------------------------------------------------


@attrs.define(auto_exc=True, kw_only=True, eq=False)
class DefenderError(CisyncError):
    """Base for errors while reading from Defender for Cloud Apps or Entra ID."""


@attrs.define(auto_exc=True, kw_only=True, eq=False)
class DefenderAuthError(DefenderError):
    """Entra ID (through msal) or the legacy API refused to authenticate us.

    Attributes:
        error: the OAuth error code (``invalid_client``, ...).
        error_description: Entra's explanation.
        correlation_id: Entra's correlation id, for a support ticket.
    """

    error: str = ""
    error_description: str = ""
    correlation_id: str | None = None

    def _describe(self) -> str:
        text = f"authentication failed: {self.error or 'unknown error'}"
        if self.error_description:
            text += f": {self.error_description}"
        if self.correlation_id:
            text += f" (correlation id {self.correlation_id})"
        return text


@attrs.define(auto_exc=True, kw_only=True, eq=False)
class DefenderHttpError(DefenderError):
    """A Defender request failed after its retries.

    Attributes:
        request: ``METHOD url`` of the failing request.
        status: the HTTP status, or ``None`` for a connection-level failure.
        stream_id: the discovery stream being read, if any.
        app_id: the app being read, if any.
        page: the 1-based page number within that collection, if known.
        request_id: Microsoft's ``request-id`` response header, if any.
        detail: the server's or transport's explanation.
    """

    request: str = ""
    status: int | None = None
    stream_id: str | None = None
    app_id: str | None = None
    page: int | None = None
    request_id: str | None = None
    detail: str = ""

    @property
    def retryable(self) -> bool:  # type: ignore[override]
        """Whether a later retry might succeed (throttling, server or network trouble)."""
        return self.status is None or self.status in (408, 429) or self.status >= 500

    def _describe(self) -> str:
        parts = [f"{self.request} failed"]
        if self.status is not None:
            parts.append(f"with HTTP {self.status}")
        where = [
            f"{name} {value}"
            for name, value in (
                ("stream", self.stream_id),
                ("app", self.app_id),
                ("page", self.page),
            )
            if value is not None
        ]
        if where:
            parts.append("(" + ", ".join(where) + ")")
        text = " ".join(parts)
        if self.detail:
            text += f": {self.detail}"
        if self.request_id:
            text += f" [request-id {self.request_id}]"
        return text


@attrs.define(auto_exc=True, kw_only=True, eq=False)
class DefenderPayloadError(DefenderError):
    """A Defender response (or a snapshot) did not have the expected shape.

    Attributes:
        request: ``METHOD url`` of the request (or the snapshot file), if known.
        entity: what was being read (``discovered app``, ``stream``, ...).
        problems: one readable line per problem, each ending in a JSON path
            such as ``@ $.value[3].lastSeenDateTime``.
    """

    request: str | None = None
    entity: str = "payload"
    problems: Sequence[str] = ()

    def _describe(self) -> str:
        head = f"invalid {self.entity}"
        if self.request:
            head += f" from {self.request}"
        return head + ": " + "; ".join(self.problems or ("unreadable",))


@attrs.define(auto_exc=True, kw_only=True, eq=False)
class SnapshotError(CisyncError):
    """A snapshot file could not be read or written.

    Attributes:
        path: the snapshot file.
        problem: what is wrong.
    """

    path: str = ""
    problem: str = ""

    def _describe(self) -> str:
        return f"snapshot {self.path}: {self.problem}"


# --- ServiceNow ---------------------------------------------------------------


@attrs.define(auto_exc=True, kw_only=True, eq=False)
class ServiceNowError(CisyncError):
    """Base for errors talking to a ServiceNow instance."""


@attrs.define(auto_exc=True, kw_only=True, eq=False)
class ServiceNowAuthError(ServiceNowError):
    """The instance refused our credentials (401) or our role (403).

    Attributes:
        instance: the instance URL.
        status: 401 or 403.
        detail: the server's explanation.
    """

    instance: str = ""
    status: int | None = None
    detail: str = ""

    def _describe(self) -> str:
        kind = "is not allowed to do this (role)" if self.status == 403 else "was refused"
        text = f"ServiceNow {self.instance}: the integration user {kind}"
        if self.status is not None:
            text += f" (HTTP {self.status})"
        return text + (f": {self.detail}" if self.detail else "")


@attrs.define(auto_exc=True, kw_only=True, eq=False)
class ServiceNowRequestError(ServiceNowError):
    """A Table, Batch or IRE request failed.

    Attributes:
        operation: ``query``, ``get``, ``insert``, ``update``, ``delete``,
            ``batch`` or ``identifyreconcile``.
        table: the table involved.
        sys_id: the record involved, if any.
        status: the HTTP status, or ``None`` for a connection-level failure.
        detail: the server's or transport's explanation.
        outcome_unknown: True when the write may or may not have happened
            (timeout after sending); callers must re-read, never blindly retry.
        hidden_rows: for a read that stopped because the instance kept back
            rows ``X-Total-Count`` counted (read ACLs), how many it kept back.
    """

    operation: str = ""
    table: str = ""
    sys_id: str | None = None
    status: int | None = None
    detail: str = ""
    outcome_unknown: bool = False
    hidden_rows: int = 0

    @property
    def retryable(self) -> bool:  # type: ignore[override]
        """Whether a later retry might succeed (throttling, server or network trouble)."""
        return self.status is None or self.status in (408, 429) or self.status >= 500

    def _describe(self) -> str:
        text = f"ServiceNow {self.operation or 'request'} on {self.table or '?'}"
        if self.sys_id:
            text += f"/{self.sys_id}"
        text += " failed"
        if self.status is not None:
            text += f" with HTTP {self.status}"
        if self.outcome_unknown:
            text += " (outcome unknown: re-read before retrying)"
        return text + (f": {self.detail}" if self.detail else "")


# --- both sides ---------------------------------------------------------------


@attrs.define(auto_exc=True, kw_only=True, eq=False)
class PreflightError(CisyncError):
    """A service could not be reached or used, said in one line with the fix.

    Raised by ``cisync check`` and by the quick checks ``plan``/``apply``/``sync``
    run before reading anything, and used to restate a network or auth failure
    of a run with the config key to change.

    Attributes:
        service: ``ServiceNow``, ``Entra ID``, ``Microsoft Graph``, ``Defender legacy API``
            or ``local`` (state folders).
        host: ``host:port`` (or the folder) concerned.
        problem: what is wrong, in a few words.
        fix: what to change, naming the config key or secret.
        cause: ``dns``, ``refused``, ``tls``, ``timeout``, ``network``, ``401``,
            ``403`` or ``setup`` (a role, a missing record, a folder).
    """

    service: str = ""
    host: str = ""
    problem: str = ""
    fix: str = ""
    cause: str = ""

    def _describe(self) -> str:
        where = f"{self.service} {self.host}".strip()
        text = f"{where}: {self.problem}" if where else self.problem
        return f"{text}. Fix: {self.fix}" if self.fix else text
