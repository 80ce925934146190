"""What a sandbox service is and what it gets when the sandbox builds it.

A service is a class satisfying :class:`SandboxService` whose constructor takes a
:class:`SandboxContext` (it can reach services started before it through
``context.services``, e.g. Graph checking tokens that Entra issued). The sandbox
serves it over HTTPS on its own port, behind the request log and the
fault-injection middleware, and merges its ``connection_info``: the known services
are listed in ``_sandbox.SERVICE_BUILDERS``, and ``Sandbox.mount`` serves one of
your own.
"""

from __future__ import annotations

import json
import os
import secrets
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Protocol

import attrs

from ._config import SandboxConfig
from ._faults import FaultInjector
from ._log import RequestLog
from ._server import WsgiApp
from ._tenant import GeneratedTenant, SnapshotTenant, generate_tenant
from ._tls import TlsMaterial

__all__ = ["SandboxContext", "SandboxService", "ServiceBuilder"]


class SandboxService(Protocol):
    """One fake remote service (a WSGI application plus what clients need to reach it)."""

    @property
    def name(self) -> str:
        """``servicenow``, ``entra``, ``graph`` or ``mdca``: the key in logs and fault rules."""
        ...

    def wsgi_app(self) -> WsgiApp:
        """The WSGI application to serve (the sandbox wraps it in its middleware)."""
        ...

    def error_body(self, status: int, message: str) -> tuple[bytes, str]:
        """The service's own error body for an injected ``status`` fault: (body, content type)."""
        ...

    def connection_info(self, url: str) -> Mapping[str, str]:
        """Keys for ``Sandbox.connection_info()``, given the URL the service is served at."""
        ...

    def close(self) -> None:
        """Release resources (databases, files) when the sandbox closes."""
        ...


@attrs.define
class SandboxContext:
    """What every service gets when the sandbox builds it.

    Attributes:
        config: the sandbox configuration.
        tls: the run's CA (``tls.ca`` can issue client certificates) and CA file.
        faults: the shared fault injector (for ``short_page`` and ``unserviced``).
        request_log: the shared request log.
        stopping: set when the sandbox closes; long waits should use ``stopping.wait``.
        work_dir: a temporary folder removed when the sandbox closes.
        services: the services built so far, by name.

    The generated tenant of ``config.size`` is made once, on first use of
    :meth:`tenant`, and shared by every service.
    """

    config: SandboxConfig
    tls: TlsMaterial
    faults: FaultInjector
    request_log: RequestLog
    stopping: threading.Event
    work_dir: Path
    services: dict[str, SandboxService] = attrs.field(factory=dict)
    _secrets_lock: threading.Lock = attrs.field(factory=threading.Lock, init=False)
    _tenant: GeneratedTenant | SnapshotTenant | None = attrs.field(default=None, init=False)

    @property
    def state_dir(self) -> Path | None:
        """The folder that persists between runs, if any (created on demand)."""
        state = self.config.state_dir
        if state is not None:
            state.mkdir(parents=True, exist_ok=True)
        return state

    def secret(self, name: str, given: str | None = None) -> str:
        """Return ``given``, or a generated secret that a state folder keeps between runs."""
        if given is not None:
            return given
        state = self.state_dir
        if state is None:
            return secrets.token_urlsafe(18)
        path = state / "secrets.json"
        with self._secrets_lock:
            known: dict[str, str] = json.loads(path.read_text("utf-8")) if path.exists() else {}
            if name not in known:
                known[name] = secrets.token_urlsafe(18)
                path.write_text(json.dumps(known, indent=2), "utf-8")
                os.chmod(path, 0o600)
            return known[name]

    def tenant(self) -> GeneratedTenant | SnapshotTenant | None:
        """The tenant to serve, made once: ``config.tenant``'s file, or generated.

        The generated one follows ``config.size`` and ``config.seed``; ``None``
        without a file or a size.
        """
        if self.config.size is None and self.config.tenant is None:
            return None
        with self._secrets_lock:
            if self._tenant is None:
                if self.config.tenant is not None:
                    self._tenant = SnapshotTenant.load(self.config.tenant)
                else:
                    assert self.config.size is not None
                    self._tenant = generate_tenant(self.config.size, self.config.seed)
            return self._tenant


#: what builds a service: a class (or function) taking the context, e.g. ``GraphService``.
ServiceBuilder = Callable[[SandboxContext], SandboxService]
