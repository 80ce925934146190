"""The ``servicenow`` sandbox service: builds the store, users and application."""

from __future__ import annotations

from collections.abc import Mapping

from cisync_lib import SandboxError
from cisync_lib.sandbox._gate import TransactionGate
from cisync_lib.sandbox._server import WsgiApp
from cisync_lib.sandbox._service import SandboxContext

from ._app import ServiceNowApp
from ._auth import Users
from ._baseline import seed_baseline
from ._context import SERVICE, Instance
from ._demo_data import seed_demo
from ._demo_tables import demo_tables
from ._http import JSON, error_bytes
from ._store import ServiceNowStore
from ._tenant_users import load_sys_users

__all__ = ["ServiceNowService", "ServiceNowStore"]

DB_FILE = "servicenow.sqlite3"


class ServiceNowService:
    """A ServiceNow instance: Table, Batch and IRE APIs, Basic and OAuth auth.

    Args:
        context: what the sandbox gives every service.
    """

    name = SERVICE

    def __init__(self, context: SandboxContext) -> None:
        options = context.config.servicenow
        state = context.state_dir
        self.store = ServiceNowStore(
            None if state is None else state / DB_FILE,
            case_sensitive=options.case_sensitive,
            clock=options.clock,
        )
        try:
            for table, columns in options.extra_columns.items():
                for column in columns:
                    self.store.add_column(table, column, indexed=column.endswith("_id"))
            demo = context.config.demo_data
            if demo:
                self.store.add_tables(demo_tables())
            seed_baseline(self.store, options)
            if demo:
                seed_demo(self.store, options)
            tenant = context.tenant()
            if tenant is not None:
                load_sys_users(self.store, tenant)
        except SandboxError:
            self.store.close()
            raise
        self.users = Users(options, context.secret, demo_admin=demo)
        self.instance = Instance(self.store, options, context.faults)
        self.app = ServiceNowApp(self.instance, self.users)
        #: session synchronisation and the API transaction pool (the middleware applies it)
        self.gate = TransactionGate(
            threads=options.api_threads,
            queue=options.api_queue,
            session_sync=options.session_sync,
            max_waiters=options.session_max_waiters,
        )

    def wsgi_app(self) -> WsgiApp:
        """The WSGI application."""
        return self.app

    def error_body(self, status: int, message: str) -> tuple[bytes, str]:
        """ServiceNow's error shape, for injected status faults."""
        if status == 429:
            return error_bytes("Rate limit exceeded", message), JSON
        return error_bytes(message, None), JSON

    def connection_info(self, url: str) -> Mapping[str, str]:
        """URL, users and OAuth client of the instance."""
        info = {
            "servicenow_url": url,
            "servicenow_username": self.users.username,
            "servicenow_password": self.users.password,
            "servicenow_readonly_username": self.users.readonly_username,
            "servicenow_readonly_password": self.users.readonly_password,
            "servicenow_oauth_client_id": self.users.client_id,
            "servicenow_oauth_client_secret": self.users.client_secret,
        }
        if self.users.admin is not None:  # demo data: the developer instance's own login
            info["servicenow_admin_username"], info["servicenow_admin_password"] = self.users.admin
        return info

    def close(self) -> None:
        """Close the store (a state folder keeps its data)."""
        self.store.close()
