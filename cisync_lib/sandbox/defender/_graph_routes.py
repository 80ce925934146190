"""Which entity or collection a Graph cloud-app-discovery URL names, with Graph's errors."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

from attrs import frozen

from cisync_lib.sandbox._tenant import ServedTenant

from . import _graph_json as gj
from ._graph_query import GraphError

__all__ = ["BASE_PATH", "Many", "One", "resolve"]

BASE_PATH = "/beta/security/dataDiscovery/cloudAppDiscovery"
_FUNCTION = re.compile(
    r"^(?:microsoft\.graph\.security\.)?aggregatedAppsDetails"
    r"\(period=duration'(?P<period>[^']*)'\)$"
)
_PERIODS = ("P7D", "P30D", "P90D")


@frozen
class One:
    """A single entity of type ``entity``."""

    entity: str
    body: dict[str, Any]


@frozen
class Many:
    """A collection of ``entity`` items; ``metadata`` is the ``@odata.context`` fragment.

    ``items`` are raw values that ``render`` turns into Graph JSON, so a page
    renders only its own items.
    """

    entity: str
    items: Sequence[Any]
    metadata: str
    render: Callable[[Any], dict[str, Any]]


def _segment(name: str) -> GraphError:
    return GraphError(400, "BadRequest", f"Resource not found for the segment '{name}'.")


def _unrecorded(what: str) -> GraphError:
    return GraphError(400, "BadRequest", f"The sandbox's tenant file was recorded without {what}.")


def _missing(key: str) -> GraphError:
    return GraphError(
        404,
        "ResourceNotFound",
        f"Resource '{key}' does not exist or one of its queried reference-property objects "
        "are not present.",
    )


def resolve(tenant: ServedTenant | None, path: str) -> One | Many:
    """Resolve ``path`` against ``tenant`` (``None``: a tenant with no streams).

    Raises:
        GraphError: 400 for an unknown segment or period, 404 for an unknown stream or app.
    """
    if not path.startswith(BASE_PATH + "/"):
        raise _segment(path.strip("/").split("/")[0])
    parts = path[len(BASE_PATH) + 1 :].split("/")
    if parts[0] != "uploadedStreams":
        raise _segment(parts[0])
    streams = tenant.streams if tenant else ()
    if len(parts) == 1:
        return Many(gj.STREAM, streams, "uploadedStreams", gj.stream_json)
    stream = next((s for s in streams if s.id == parts[1]), None)
    if stream is None or tenant is None:
        raise _missing(parts[1])
    if len(parts) == 2:
        return One(gj.STREAM, gj.stream_json(stream))
    match = _FUNCTION.match(parts[2])
    if match is None:
        raise _segment(parts[2])
    period = match["period"]
    if period not in _PERIODS:
        raise GraphError(
            400,
            "BadRequest",
            f"Invalid value '{period}' for parameter 'period': the supported values are "
            f"{', '.join(_PERIODS)}.",
        )
    if period not in tenant.periods:  # a tenant file records one period: never invent the others
        raise GraphError(
            400,
            "BadRequest",
            f"The sandbox's tenant file holds period {', '.join(tenant.periods)} only, "
            f"not '{period}'.",
        )
    entity = gj.ENDPOINT_APP if stream.is_endpoint else gj.APP
    if len(parts) == 3:
        return Many(entity, tenant.apps(period, stream.id), f"Collection({gj.APP})", gj.app_json)
    app = tenant.app(period, stream.id, parts[3])
    if app is None:
        raise _missing(parts[3])
    if len(parts) == 4:
        return One(entity, gj.app_json(app))
    if len(parts) > 5:
        raise _segment(parts[5])
    key = (period, stream.id, app.id)
    nav = parts[4]
    if nav == "appInfo":
        info = tenant.app_info.get(app.id)
        if info is None:  # a tenant file read without catalog info: nothing to invent
            raise _unrecorded("catalog info (appInfo)")
        return One(gj.APP_INFO, gj.app_info_json(app.id, info))
    if nav == "users":
        if not tenant.users_recorded:
            raise _unrecorded("users")
        return Many(gj.USER, tenant.users(*key), f"Collection({gj.USER})", gj.user_json)
    if nav == "ipAddresses":
        items = tenant.ip_addresses(*key)
        return Many(gj.IP_ADDRESS, items, f"Collection({gj.IP_ADDRESS})", gj.ip_json)
    if nav == "devices":
        if not stream.is_endpoint:
            raise GraphError(
                400,
                "BadRequest",
                "Devices are available only for Microsoft Defender for Endpoint streams; "
                f"stream '{stream.id}' is a '{stream.log_data_provider}' stream.",
            )
        items = tenant.devices(*key)
        return Many(gj.DEVICE, items, f"Collection({gj.DEVICE})", gj.device_json)
    raise _segment(nav)
