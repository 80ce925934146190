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
    "CisyncError",
    "ConfigError",
    "ConsentMissingError",
    "ConsentRequiredError",
    "CorrelationError",
    "JobLockedError",
    "ReportNotSavedError",
    "RelationshipNotAvailableError",
    "SandboxError",
    "SandboxQueryError",
    "UnknownStrategyError",
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
