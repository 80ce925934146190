"""The legacy Defender for Cloud Apps REST API, behind the same interface as Graph.

Streams (documented) and discovered apps (undocumented but long used) with
``skip``/``limit`` paging of at most 100 items and ``hasNext``; the budget of
30 requests per minute per tenant is enforced client-side, shared by every
source of the process that talks to the same tenant. The users-of-app call
was never supported by Microsoft: it is used only with ``experimental_users``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit

import attrs

from cisync_lib._converter import make_converter
from cisync_lib._models import AppInfo, AppUser, DiscoveredApp, DiscoveryStream
from cisync_lib._payload import structure_payload
from cisync_lib.errors import ConfigError, DefenderPayloadError

from ._auth import TokenProvider, token_claims
from ._config import LegacyConnection
from ._credentials import LegacyToken
from ._data import AppDevice, DefenderData, ProgressCallback
from ._http import HttpClient, Where, require_keys
from ._limiter import RateLimiter, shared_limiter
from ._reader import Call, call_one, run_read

__all__ = ["LegacySource"]

logger = logging.getLogger(__name__)

PAGE_LIMIT = 100  # the documented maximum per response
STREAMS_PATH = "/discovery/streams/"
APPS_PATH = "/v1/discovery/discovered_apps/"
USERS_PATH = "/v1/discovery/app_users/"
_DAYS = {"P7D": 7, "P30D": 30, "P90D": 90}
#: Keys seen for a user's name in the undocumented app_users rows, in preference order.
_USER_KEYS = ("userIdentifier", "username", "userName", "user", "name")


class LegacySource:
    """Reads discovered apps from the legacy Defender for Cloud Apps REST API.

    Users are read only when the connection sets ``experimental_users``
    (an undocumented endpoint); devices and catalog info are not available.

    Args:
        connection: the API root, credential and HTTP policy.
    """

    kind = "legacy"

    def __init__(self, connection: LegacyConnection) -> None:
        self.connection = connection
        authorization: Callable[[], str]
        on_unauthorized: Callable[[], None] | None = None
        cred = connection.credential
        self._tokens: TokenProvider | None = None
        if isinstance(cred, LegacyToken):
            key = cred.key
            authorization = lambda: "Token " + key.reveal()  # noqa: E731
        else:
            tokens = self._tokens = TokenProvider(connection.graph_like())
            authorization, on_unauthorized = tokens.authorization, tokens.invalidate
        rate = connection.http.rate_limit
        limiter: RateLimiter | None = None
        if rate is not None:  # the budget is per tenant, whoever spends it
            host = urlsplit(connection.root).netloc.lower()
            limiter = shared_limiter(f"mdca|{host}", rate.calls, rate.period)
        self._http = HttpClient(
            connection.http,
            verify=connection.verify,
            proxies=connection.proxies,
            authorization=authorization,
            on_unauthorized=on_unauthorized,
            limiter=limiter,
        )
        self._api = _LegacyApi(
            self._http, connection.root, require_user_count=connection.experimental_users
        )

    @property
    def requests_sent(self) -> int:
        """Requests sent by this source (retries inside urllib3 not counted)."""
        return self._http.requests_sent

    @property
    def round_trips(self) -> int:
        """Requests this source put on the wire, every retry included (tokens not included)."""
        return self._http.round_trips

    def read(
        self,
        *,
        period: str | int = "P30D",
        max_risk_score: int = 10,
        streams: Sequence[str] | None = None,
        include_users: bool = True,
        include_devices: bool = False,
        include_app_info: bool = False,
        progress: ProgressCallback | None = None,
    ) -> DefenderData:
        """Read streams and apps (and users, with ``experimental_users``).

        The arguments mean what they mean for :meth:`GraphSource.read`.
        Asking for something this API cannot give raises rather than
        returning less: ``include_users`` needs ``experimental_users`` on the
        connection; ``include_devices`` and ``include_app_info`` are not available.

        Raises:
            ConfigError: something was asked for that this API cannot give.
            DefenderHttpError: a page still failed after its retries.
            DefenderPayloadError: a page was malformed or the paging came up short.
        """
        if include_users and not self.connection.experimental_users:
            raise ConfigError(
                key="include_users",
                problem="the legacy API has no supported users-of-app call; pass "
                "include_users=False, or set experimental_users=True on the connection",
            )
        for flag, wanted in (
            ("include_devices", include_devices),
            ("include_app_info", include_app_info),
        ):
            if wanted:
                raise ConfigError(key=flag, problem="not available from the legacy API")
        return run_read(
            self._api,
            period=period,
            max_risk_score=max_risk_score,
            streams=streams,
            include_users=include_users,
            include_devices=False,
            include_app_info=False,
            progress=progress,
            concurrency=self.connection.http.concurrency,
            info_cache={},
        )

    def token_claims(self) -> dict[str, Any] | None:
        """Get an Entra access token and return its claims (``None`` with a legacy API token).

        Raises:
            DefenderAuthError: Entra ID refused the credential.
            DefenderHttpError: Entra ID could not be reached.
        """
        if self._tokens is None:
            return None
        return token_claims(self._tokens.token())

    def list_streams(self) -> list[DiscoveryStream]:
        """The discovery streams (one cheap call: a reachability and permission check).

        Raises:
            DefenderHttpError: the call failed after its retries.
            DefenderAuthError: the service refused the token.
        """
        return self._api.list_streams()

    def close(self) -> None:
        """Close the source's HTTP connections."""
        self._http.close()

    def __enter__(self) -> LegacySource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class _LegacyApi:
    kind = "legacy"
    batch_size = 1  # the legacy API has no batching

    def run_calls(self, calls: Sequence[Call]) -> list[object]:
        return [call_one(self, call) for call in calls]

    def __init__(self, http: HttpClient, root: str, *, require_user_count: bool = False) -> None:
        self._http = http
        self._root = root
        self._conv = make_converter()
        # users are read only for apps with a user count: a missing one would read as 0
        self._required = ("usersCount",) if require_user_count else ()

    def list_streams(self) -> list[DiscoveryStream]:
        url = self._root + STREAMS_PATH
        payload = self._http.fetch_json("GET", url, Where(entity="streams", page=1))
        key = next(
            (k for k in ("streams", "data") if isinstance(payload, Mapping) and k in payload), None
        )
        items = payload[key] if key is not None else payload  # type: ignore[index]
        path = f"$.{key}" if key else "$"
        if not isinstance(items, list):
            raise DefenderPayloadError(
                request=f"GET {url}", entity="streams", problems=[f"expected a list @ {path}"]
            )
        return structure_payload(
            items,
            list[DiscoveryStream],
            converter=self._conv,
            request=f"GET {url}",
            entity="streams",
            path=path,
            legacy=True,
        )

    def list_apps(
        self, stream: DiscoveryStream, period: str, max_risk_score: int
    ) -> list[DiscoveredApp]:
        body: dict[str, Any] = {"streamId": stream.id, "timeframe": _DAYS[period]}
        if max_risk_score < 10:
            body["filters"] = {"score": {"lte": max_risk_score}}
        where = Where(entity="apps", stream_id=stream.id)
        out: list[DiscoveredApp] = []
        for request, page, items in self._pages(self._root + APPS_PATH, body, where):
            entity = f"apps page {page}"
            require_keys(items, self._required, request=request, entity=entity, path="$.data")
            apps = structure_payload(
                items,
                list[DiscoveredApp],
                converter=self._conv,
                request=request,
                entity=entity,
                path="$.data",
                legacy=True,
            )
            out.extend(attrs.evolve(a, stream_id=stream.id, period=period) for a in apps)
        return out

    def list_users(self, stream: DiscoveryStream, app: DiscoveredApp, period: str) -> list[AppUser]:
        body: dict[str, Any] = {
            "appId": app.id,
            "streamId": stream.id,
            "timeframe": _DAYS[period],
            "sortField": "lastSeen",
            "sortDirection": "desc",
            "performAsyncTotal": False,
        }
        where = Where(entity="users", stream_id=stream.id, app_id=app.id)
        out: list[AppUser] = []
        for request, page, items in self._pages(self._root + USERS_PATH, body, where):
            for index, row in enumerate(items):
                name = _user_name(row)
                if name is None:
                    problem = (
                        f"no user name (expected one of {', '.join(_USER_KEYS)}) @ $.data[{index}]"
                    )
                    raise DefenderPayloadError(
                        request=request, entity=f"users page {page}", problems=[problem]
                    )
                out.append(
                    AppUser(
                        identifier=name,
                        app_id=app.id,
                        stream_id=stream.id,
                        anonymized=stream.anonymize_users,
                    )
                )
        return out

    def list_devices(
        self, stream: DiscoveryStream, app: DiscoveredApp, period: str
    ) -> list[AppDevice]:
        raise ConfigError(key="include_devices", problem="not available from the legacy API")

    def get_app_info(
        self, stream: DiscoveryStream, app: DiscoveredApp, period: str
    ) -> AppInfo | None:
        raise ConfigError(key="include_app_info", problem="not available from the legacy API")

    def _pages(
        self, url: str, body: dict[str, Any], where: Where
    ) -> Iterator[tuple[str, int, list[Any]]]:
        """Yield ``(request, page, items)`` with ``skip``/``limit`` until ``hasNext`` is false."""
        skip, page, seen = 0, 1, 0
        while True:
            current = attrs.evolve(where, page=page)
            payload = self._http.fetch_json(
                "POST", url, current, body={**body, "skip": skip, "limit": PAGE_LIMIT}
            )
            request = f"POST {url} (skip {skip})"
            entity = f"{where.entity} page {page}"
            if not isinstance(payload, Mapping) or not isinstance(payload.get("data"), list):
                problem = "expected an object with a data list @ $.data"
                raise DefenderPayloadError(request=request, entity=entity, problems=[problem])
            items: list[Any] = payload["data"]
            if len(items) > PAGE_LIMIT:
                problem = f"{len(items)} items, more than the limit of {PAGE_LIMIT} @ $.data"
                raise DefenderPayloadError(request=request, entity=entity, problems=[problem])
            seen += len(items)
            yield request, page, items
            has_next = payload.get("hasNext")
            if not isinstance(has_next, bool):
                raise DefenderPayloadError(
                    request=request, entity=entity, problems=["expected true or false @ $.hasNext"]
                )
            if has_next and not items:
                # more pages promised but none given: stopping here would be a silent
                # partial read, and looping could go on forever
                problem = "an empty page while hasNext is true @ $.data"
                raise DefenderPayloadError(request=request, entity=entity, problems=[problem])
            if not has_next:
                total = payload.get("total")
                if isinstance(total, int) and not isinstance(total, bool) and total > seen:
                    problem = f"paging ended after {seen} of {total} items @ $.total"
                    raise DefenderPayloadError(request=request, entity=entity, problems=[problem])
                return
            skip += len(items)
            page += 1


def _user_name(row: object) -> str | None:
    if isinstance(row, str):
        return row
    if isinstance(row, Mapping):
        for key in _USER_KEYS:
            value = row.get(key)
            if isinstance(value, str):
                return value
    return None
