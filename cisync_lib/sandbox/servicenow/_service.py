"""Placeholder until the ServiceNow service lands (next commits on this branch)."""

from __future__ import annotations

from collections.abc import Mapping

from cisync_lib._errors import SandboxError
from cisync_lib.sandbox._server import WsgiApp
from cisync_lib.sandbox._services import SandboxContext


class ServiceNowStore:
    """Direct access to the instance's data (coming in the next commits)."""


class _Users:
    username = password = readonly_username = readonly_password = client_id = client_secret = ""


class ServiceNowService:
    """The ServiceNow service (coming in the next commits)."""

    name = "servicenow"
    users = _Users()
    store = ServiceNowStore()

    def __init__(self, context: SandboxContext) -> None:
        raise SandboxError(message="the ServiceNow sandbox service is not available yet")

    def wsgi_app(self) -> WsgiApp:
        """Not available yet."""
        raise NotImplementedError

    def error_body(self, status: int, message: str) -> tuple[bytes, str]:
        """Not available yet."""
        raise NotImplementedError

    def connection_info(self, url: str) -> Mapping[str, str]:
        """Not available yet."""
        raise NotImplementedError

    def close(self) -> None:
        """Not available yet."""
