"""What every ServiceNow handler gets: the instance (store, options, faults) and the call."""

from __future__ import annotations

from datetime import tzinfo

import attrs
from werkzeug.wrappers import Request

from cisync_lib.sandbox._config import ServiceNowOptions
from cisync_lib.sandbox._faults import FaultInjector
from cisync_lib.sandbox._log import RequestInfo

from ._auth import User
from ._store import ServiceNowStore

__all__ = ["SERVICE", "Call", "Instance"]

SERVICE = "servicenow"


@attrs.define
class Instance:
    """The parts of the instance the handlers use."""

    store: ServiceNowStore
    options: ServiceNowOptions
    faults: FaultInjector


@attrs.define
class Call:
    """One request (or Batch API sub-request) being served.

    Attributes:
        request: the werkzeug request.
        user: the authenticated user.
        info: what the request log records for the enclosing HTTP request.
        base_url: ``https://127.0.0.1:PORT`` (for links and ``Location``).
        in_batch: whether this is a Batch API sub-request.
        time_zone: the caller's time zone once looked up (``sys_user.time_zone``).
    """

    request: Request
    user: User
    info: RequestInfo
    base_url: str
    in_batch: bool = False
    time_zone: tzinfo | None = None
