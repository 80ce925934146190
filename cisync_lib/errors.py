"""Every error cisync_lib raises on purpose.

One base class, :class:`CisyncError`; each subclass carries structured
attributes (so callers can act on them without parsing text) and builds its
message from them. ``retryable`` tells a caller whether trying the same thing
again later may succeed.

Foreign errors (msal's error dicts, pysnc's exceptions, requests' errors) are
translated into these at the one module that talks to each library, with the
original kept as ``__cause__``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

import attrs

__all__ = [
    "AliasMapError",
    "ApplyError",
    "ApprovalDeclinedError",
    "ApprovalRequiredError",
    "CisyncError",
    "CmdbSetupError",
    "ConfigError",
    "ConsentMissingError",
    "ConsentRequiredError",
    "CorrelationError",
    "DefenderAuthError",
    "DefenderError",
    "DefenderHttpError",
    "DefenderPayloadError",
    "DocumentError",
    "GuardRefusedError",
    "JobLockedError",
    "PlanDestinationError",
    "PlanError",
    "PlanFileError",
    "PreflightError",
    "RelationshipNotAvailableError",
    "ReportNotSavedError",
    "SandboxError",
    "SandboxQueryError",
    "ServiceNowAuthError",
    "ServiceNowError",
    "ServiceNowRequestError",
    "SnapshotError",
    "StalePlanError",
    "UnknownStrategyError",
    "UnsafeQueryError",
]


def _rebuild(cls: type[CisyncError], fields: dict[str, Any]) -> CisyncError:
    return cls(**fields)


@attrs.define(auto_exc=True, kw_only=True, eq=False)
class CisyncError(Exception):
    """Base for every error cisync_lib raises on purpose.

    Attributes:
        message: the human-readable explanation; subclasses build it from
            their structured attributes when it is not given.
    """

    retryable: ClassVar[bool] = False

    message: str = ""

    def __attrs_post_init__(self) -> None:
        if not self.message:
            self.message = self._describe()

    def _describe(self) -> str:
        return type(self).__name__

    def __str__(self) -> str:
        return self.message

    def __reduce__(self) -> tuple[Any, ...]:
        # attrs exceptions pass positional args to BaseException; rebuild from
        # the named fields instead so errors survive pickling (multiprocessing).
        return (_rebuild, (type(self), attrs.asdict(self, recurse=False)))


# --- configuration and settings -------------------------------------------------


@attrs.define(auto_exc=True, kw_only=True, eq=False)
class ConfigError(CisyncError, ValueError):
    """A configuration or settings file, or a value given in code, is invalid.

    Attributes:
        file: the file the value came from, if any.
        key: the dotted key (``connections.contoso.settings.prod.max_risk_score``).
        problem: what is wrong, in a few words.
        allowed: the values that would be accepted, if they can be listed.
        line: the 1-based line in ``file``, when known.
    """

    file: str | None = None
    key: str | None = None
    problem: str = "invalid value"
    allowed: str | None = None
    line: int | None = None

    def _describe(self) -> str:
        where = self.file or "<config>"
        if self.line is not None:
            where += f":{self.line}"
        text = f"{where}: {self.key}: {self.problem}" if self.key else f"{where}: {self.problem}"
        if self.allowed:
            text += f" (allowed: {self.allowed})"
        return text


@attrs.define(auto_exc=True, kw_only=True, eq=False)
class ConsentRequiredError(CisyncError):
    """A settings change was about to be saved without explicit consent.

    Nothing was written.

    Attributes:
        connection: the connection whose settings were changing.
        changes: one line per changed value.
    """

    connection: str = ""
    changes: Sequence[str] = ()

    def _describe(self) -> str:
        listed = "; ".join(self.changes) or "no listed changes"
        return (
            f"saving settings of connection {self.connection!r} needs explicit consent "
            f"({listed}); pass a Consent (CLI: --i-consent). Nothing was written."
        )


@attrs.define(auto_exc=True, kw_only=True, eq=False)
class RelationshipNotAvailableError(CisyncError):
    """A job selected a relationship that the effective settings do not make available.

    Attributes:
        relationship: the relationship kind selected.
        setting: the setting that must be on.
        environment: the environment (``test`` or ``prod``) of the job.
        connection: the source connection.
    """

    relationship: str = ""
    setting: str = ""
    environment: str = ""
    connection: str = ""

    def _describe(self) -> str:
        return (
            f"relationship {self.relationship!r} is not available for connection "
            f"{self.connection!r} in {self.environment.upper()}: turn on {self.setting!r} "
            f"for {self.environment.upper()} (tick 'override default' and set it to true)"
        )


# --- correlation ---------------------------------------------------------------


@attrs.define(auto_exc=True, kw_only=True, eq=False)
class CorrelationError(CisyncError):
    """Base for correlation configuration errors."""


@attrs.define(auto_exc=True, kw_only=True, eq=False)
class UnknownStrategyError(CorrelationError, LookupError):
    """A correlation strategy name is not registered.

    Attributes:
        name: the name asked for.
        known: the registered names.
    """

    name: str = ""
    known: Sequence[str] = ()

    def _describe(self) -> str:
        return (
            f"unknown correlation strategy {self.name!r} (known: {', '.join(sorted(self.known))})"
        )


@attrs.define(auto_exc=True, kw_only=True, eq=False)
class AliasMapError(CorrelationError, ValueError):
    """An alias-map file is invalid.

    Attributes:
        file: the alias-map file.
        line: the 1-based line (CSV row or YAML line), if known.
        problem: what is wrong.
    """

    file: str = ""
    line: int | None = None
    problem: str = ""

    def _describe(self) -> str:
        where = self.file + (f":{self.line}" if self.line is not None else "")
        return f"{where}: {self.problem}"


# --- sandbox -------------------------------------------------------------------


@attrs.define(auto_exc=True, kw_only=True, eq=False)
class SandboxError(CisyncError):
    """The local sandbox could not start or was misused."""


@attrs.define(auto_exc=True, kw_only=True, eq=False)
class SandboxQueryError(SandboxError, ValueError):
    """An encoded query given to the sandbox has parts it cannot use.

    Raised by the sandbox store's direct-access API (which is strict so a typo
    in a test's oracle query fails loudly); over HTTP the same problem is
    ignored, or answered with 400 when strict queries are configured.

    Attributes:
        table: the table queried.
        query: the encoded query.
        problems: one ``part: problem`` line per unusable part.
    """

    table: str = ""
    query: str = ""
    problems: Sequence[str] = ()

    def _describe(self) -> str:
        listed = "; ".join(self.problems) or "unusable query"
        return (
            f"encoded query on {self.table!r} has unusable parts: {listed} (query {self.query!r})"
        )


@attrs.define(auto_exc=True, kw_only=True, eq=False)
class JobLockedError(CisyncError):
    """Another run is writing to the same destination with the same state folder.

    Attributes:
        lock_file: the lock file held by the other run.
        destination: the destination's name.
        waited: seconds this run waited for it.
    """

    retryable: ClassVar[bool] = True

    lock_file: str = ""
    destination: str = ""
    waited: float = 0.0

    def _describe(self) -> str:
        return (
            f"another cisync run is writing to destination {self.destination!r} with this state "
            f"folder (lock {self.lock_file} still held after {self.waited:g} s); nothing was "
            "written. Run again when it has finished (the lock is released as soon as that "
            "process ends; sync.lock_wait sets how long to wait)"
        )


@attrs.define(auto_exc=True, kw_only=True, eq=False)
class ReportNotSavedError(CisyncError):
    """A run finished, but its report could not be saved.

    Attributes:
        outcome: the run's outcome (``applied``, ``planned``, ...).
        written: records the run wrote to the destination.
        problem: why the report could not be saved (file and cause).
    """

    outcome: str = ""
    written: int = 0
    problem: str = ""

    def _describe(self) -> str:
        left = ", nothing left to write" if self.outcome == "applied" else ""
        return (
            f"the run finished ({self.outcome}, {self.written} record(s) written{left}), but "
            f"its report was not saved: {self.problem}. Fix that; the next run saves a report "
            "again"
        )


@attrs.define(auto_exc=True, kw_only=True, eq=False)
class ConsentMissingError(ConsentRequiredError):
    """A run's settings need consent that the connection's consent log does not record.

    Typically the settings file was edited by hand to turn ``allow_user_sync``
    on. Nothing was read or written.

    Attributes:
        file: the settings (deployment) file.
        environment: ``test`` or ``prod``.
        settings: the settings that are on without a matching consent-log entry.
    """

    file: str = ""
    environment: str = ""
    settings: Sequence[str] = ()

    def _describe(self) -> str:
        names = ", ".join(self.settings)
        first = self.settings[0] if self.settings else "allow_user_sync"
        return (
            f"{self.file}: connection {self.connection!r}, {self.environment.upper()}: {names} "
            "is on but the consent log records no consented change that turned it on (was the "
            "file edited by hand?); nothing was read or written. Record consent with: cisync "
            f"settings set {first} true --env {self.environment} --i-consent --config {self.file}"
        )


# --- saved documents (plans, run state, snapshots, reports) ---------------------


@attrs.define(auto_exc=True, kw_only=True, eq=False)
class DocumentError(CisyncError, ValueError):
    """A document cisync_lib saved (plan, run state, snapshot, report) could not be used.

    Every saved document fails to load the same way: the message is
    ``<document> <file>: <problem> @ <JSON path>``.

    Attributes:
        document: what kind of document (``plan``, ``run state``, ``snapshot``, ``report``).
        file: the file (or the name given for an in-memory document).
        json_path: where in the document (``$.version``, ``$.plan.creates[0].values``);
            empty when the problem is the file as a whole (unreadable, not JSON).
        problem: what is wrong, in a few words.
    """

    document: str = "document"
    file: str = ""
    json_path: str = ""
    problem: str = "invalid"

    def _describe(self) -> str:
        text = f"{self.document} {self.file}: {self.problem}"
        return f"{text} @ {self.json_path}" if self.json_path else text


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
class SnapshotError(DocumentError):
    """A snapshot file could not be read or written, or does not hold what a read asks for.

    Attributes:
        document: ``"snapshot"``.
        file: the snapshot file.
        json_path: where in it (``$.data.period``), when the problem has a place.
        problem: what is wrong.
    """

    document: str = "snapshot"

    @property
    def path(self) -> str:
        """The snapshot file (``file``; the name this error used before it was a DocumentError)."""
        return self.file


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


# --- planning and applying -------------------------------------------------------


@attrs.define(auto_exc=True, kw_only=True, eq=False)
class PlanError(CisyncError):
    """Base for errors about a plan and its application."""


@attrs.define(auto_exc=True, kw_only=True, eq=False)
class PlanFileError(DocumentError, PlanError):
    """A saved plan could not be read: unreadable, not JSON, not a plan, or malformed.

    Attributes:
        document: ``"plan"``.
        file: the plan file.
        json_path: where in it, when the problem has a place.
        problem: what is wrong.
    """

    document: str = "plan"


@attrs.define(auto_exc=True, kw_only=True, eq=False)
class StalePlanError(PlanError):
    """The instance changed since the plan was made; the plan was not applied.

    Attributes:
        expected: the fingerprint the plan was computed from.
        actual: the fingerprint of the state read now.
        expected_runs: the completed runs of the run state the plan was computed from.
        actual_runs: the completed runs of the job's run state now (``None``: not checked).
        next_step: what to do about it, in the caller's terms (the ``cisync`` command
            names the commands to run); empty: the Python API's advice.
    """

    expected: str = ""
    actual: str = ""
    expected_runs: int | None = None
    actual_runs: int | None = None
    next_step: str = ""

    def _describe(self) -> str:
        step = self.next_step or "plan again (or apply with on_stale='replan')"
        if self.expected == self.actual and self.actual_runs is not None:
            # its grace-period bookkeeping would rewind that of the runs since
            return (
                f"the plan was computed from the run state after {self.expected_runs} run(s), "
                f"but {self.actual_runs} run(s) have completed since; nothing was written; "
                f"{step}"
            )
        return (
            f"the plan was computed from state {self.expected[:12]} but the instance is now at "
            f"{self.actual[:12]}; nothing was written; {step}"
        )


@attrs.define(auto_exc=True, kw_only=True, eq=False)
class PlanDestinationError(PlanError):
    """A plan was made for another destination (or records none); it was not applied.

    A plan records the ServiceNow instance and the environment (TEST or PROD) of
    the job that made it; a job applies only a plan made for its own. Instance
    URLs are compared without regard to the case of the scheme and host, a
    default port or a trailing slash.

    Attributes:
        destination: the name of the applying job's destination.
        expected_instance: the applying job's instance URL.
        expected_environment: the applying job's environment (``test`` or ``prod``).
        found_instance: the instance the plan was made for (``None``: not recorded).
        found_environment: the environment the plan was made for (``None``: not recorded).
        plan_destination: the destination name the plan was saved for, when known
            (``cisync plan --out`` saves it); empty otherwise.
    """

    destination: str = ""
    expected_instance: str = ""
    expected_environment: str = ""
    found_instance: str | None = None
    found_environment: str | None = None
    plan_destination: str = ""

    def _describe(self) -> str:
        here = (
            f"{self.destination!r} ({self.expected_instance}, {self.expected_environment.upper()})"
        )
        step = "nothing was written; make a new plan with a job for this destination"
        if self.found_instance is None and self.found_environment is None:
            return (
                f"the plan records no destination (it was not made by a sync job), so it "
                f"cannot be applied to {here}; {step}"
            )
        instance = self.found_instance or "no instance recorded"
        environment = (self.found_environment or "no environment recorded").upper()
        there = (
            f"destination {self.plan_destination!r} ({instance}, {environment})"
            if self.plan_destination
            else f"{instance} ({environment})"
        )
        return f"the plan was made for {there}, not for this job's destination {here}; {step}"


@attrs.define(auto_exc=True, kw_only=True, eq=False)
class GuardRefusedError(PlanError):
    """A blast-radius guard refused a run that would remove too much.

    Attributes:
        what: ``retire apps`` or ``remove links``.
        count: how many the run would retire or remove.
        managed: how many are managed in total.
        limit_percent: the configured limit.
        force_hint: how to go ahead anyway.
    """

    what: str = ""
    count: int = 0
    managed: int = 0
    limit_percent: float = 0.0
    force_hint: str = "pass force=True (CLI: --force)"

    def _describe(self) -> str:
        share = 100.0 * self.count / self.managed if self.managed else 100.0
        return (
            f"refused to {self.what}: {self.count} of {self.managed} managed "
            f"({share:.1f}%) is over the {self.limit_percent:g}% limit; nothing was written. "
            f"If this is intended, {self.force_hint}"
        )


@attrs.define(auto_exc=True, kw_only=True, eq=False)
class ApplyError(PlanError):
    """Apply finished with writes that failed or whose outcome could not be settled.

    Everything else in the plan was applied; re-running converges (a new plan
    contains exactly what is still missing).

    Attributes:
        done: writes that succeeded.
        failed: writes that failed, stayed unresolved or were not attempted.
        problems: one line per failed write (table, sys_id, status, detail).
        stopped: why apply stopped part-way (a late HTTP failure, the run state could
            not be saved, ...); empty when every write was attempted.
        fix: what to do about it.
    """

    done: int = 0
    failed: int = 0
    problems: Sequence[str] = ()
    stopped: str = ""
    fix: str = ""

    def _describe(self) -> str:
        if self.stopped:
            total = self.done + self.failed
            remains = f", {self.failed} not made or not confirmed" if self.failed else ", none left"
            return (
                f"apply stopped: {self.done} of {total} write(s) confirmed{remains}: "
                f"{self.stopped}. "
                f"{self.fix or 'Fix that and run again: the next plan holds exactly what is left.'}"
            )
        shown = "; ".join(self.problems[:5])
        more = f" (+{len(self.problems) - 5} more)" if len(self.problems) > 5 else ""
        return (
            f"apply incomplete: {self.failed} write(s) failed, {self.done} succeeded: "
            f"{shown}{more}. Run again to converge."
        )


@attrs.define(auto_exc=True, kw_only=True, eq=False)
class CmdbSetupError(CisyncError):
    """The instance lacks something the CMDB writer needs; nothing was written.

    Attributes:
        problem: what is missing.
        fix: how an administrator sets it up.
    """

    problem: str = ""
    fix: str = ""

    def _describe(self) -> str:
        return f"{self.problem}. To fix: {self.fix}"


@attrs.define(auto_exc=True, kw_only=True, eq=False)
class UnsafeQueryError(CisyncError, ValueError):
    """A value cannot be put into a ServiceNow encoded query without changing its meaning.

    Attributes:
        field: the field the condition is on.
        value: the offending value.
        problem: why it was refused.
    """

    field: str = ""
    value: str = ""
    problem: str = ""

    def _describe(self) -> str:
        return f"encoded query on {self.field!r}: {self.problem} (value {self.value!r})"


# --- the operator's approval of a run that writes (the ``cisync`` command) -------


@attrs.define(auto_exc=True, kw_only=True, eq=False)
class ApprovalRequiredError(CisyncError):
    """A run that writes needs approval but nobody can give it (no terminal, no ``--yes``).

    Attributes:
        command: the command line to run instead (with ``--yes``).
    """

    command: str = ""

    def _describe(self) -> str:
        hint = f": {self.command}" if self.command else ""
        return (
            "this run writes to ServiceNow and needs approval, but there is no terminal to ask "
            f"on; nothing was written. For scheduled runs add --yes{hint}"
        )


@attrs.define(auto_exc=True, kw_only=True, eq=False)
class ApprovalDeclinedError(CisyncError):
    """The operator did not approve the plan at the prompt; nothing was written.

    Attributes:
        answer: what was typed.
        expected: what approval needed.
    """

    answer: str = ""
    expected: str = "yes"

    def _describe(self) -> str:
        return (
            f"not approved (typed {self.answer!r}, approval needs {self.expected!r}); "
            "nothing was written"
        )
