"""The Microsoft Graph beta ``cloudAppDiscovery`` source (the default)."""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping, Sequence
from functools import partial
from typing import Any, TypeVar
from urllib.parse import quote, urlencode, urlsplit

import attrs

from cisync_lib._converter import make_converter
from cisync_lib._models import AppInfo, AppUser, DiscoveredApp, DiscoveryStream
from cisync_lib._payload import structure_payload
from cisync_lib.errors import DefenderHttpError, DefenderPayloadError

from ._adaptive import AdaptiveLimiter
from ._auth import TokenProvider, token_claims
from ._batch import MAX_BATCH, Answer, GraphBatcher, inner_error
from ._config import GraphConnection
from ._data import AppDevice, DefenderData, ProgressCallback
from ._http import HttpClient, Where, require_keys
from ._limiter import Limiter, shared_limiter
from ._reader import Call, Later, call_one, run_read

__all__ = ["GraphSource"]

logger = logging.getLogger(__name__)

T = TypeVar("T")
_BASE = "/beta/security/dataDiscovery/cloudAppDiscovery/uploadedStreams"


class GraphSource:
    """Reads discovered apps and their users from Microsoft Graph (beta ``cloudAppDiscovery``).

    One :class:`requests.Session` per source; use it as a context manager or
    call :meth:`close`. Catalog info read with ``include_app_info`` is cached
    per app id for the life of the source.

    Requests are paced by an adaptive limit on requests in flight (see
    :class:`HttpPolicy`), or by a fixed ``rate_limit`` when one is pinned; the
    first page of each app's users, devices and catalog info go in JSON
    batches of ``batch_size`` (not with a pinned rate: Graph counts every
    inner request of a batch against its budget). :attr:`read_stats` tells what the last read saw.

    Args:
        connection: tenant, app registration, credential, endpoints and HTTP policy.
    """

    kind = "graph"

    def __init__(self, connection: GraphConnection) -> None:
        self.connection = connection
        self._tokens = TokenProvider(connection)
        policy = connection.http
        limiter: Limiter | None = None
        self._adaptive: AdaptiveLimiter | None = None
        if policy.rate_limit is not None:  # pinned; Graph throttles per app and tenant: share it
            key = f"graph|{connection.graph_root}|{connection.tenant_id}|{connection.client_id}"
            limiter = shared_limiter(key, policy.rate_limit.calls, policy.rate_limit.period)
        elif policy.adaptive:
            limiter = self._adaptive = AdaptiveLimiter(policy.concurrency)
        self._http = HttpClient(
            connection.http,
            verify=connection.verify,
            proxies=connection.proxies,
            authorization=self._tokens.authorization,
            on_unauthorized=self._tokens.invalidate,
            limiter=limiter,
        )
        # Graph throttles each inner request of a batch: a pinned budget counts requests as
        # Graph does, so it sends them one by one (at a fixed rate, batches save no time)
        batch_size = 1 if policy.rate_limit is not None else policy.batch_size
        self._api = _GraphApi(self._http, connection.graph_root, batch_size)
        self._info_cache: dict[str, AppInfo | None] = {}
        self._read_stats: dict[str, int | float] = {}

    @property
    def requests_sent(self) -> int:
        """Graph requests sent by this source (retries inside urllib3 not counted)."""
        return self._http.requests_sent

    @property
    def round_trips(self) -> int:
        """Requests this source put on the wire, every retry included (tokens not included)."""
        return self._http.round_trips

    @property
    def read_stats(self) -> Mapping[str, int | float]:
        """What the last read saw of Graph's pacing, for the run report.

        ``requests`` (HTTP requests, a batch counting one), ``batches``,
        ``batched_requests`` (inner requests, retries included),
        ``retried_in_batches`` (inner requests sent again), and with the
        adaptive limit: ``concurrency_max`` (configured), ``concurrency_peak``
        (highest limit reached), ``concurrency_final``, ``in_flight_peak``,
        ``throttled`` (429/503 answers, inner ones included), ``decreases``
        (times the limit was halved) and ``throttle_wait_s`` (seconds held by
        ``Retry-After``). Empty before the first read.
        """
        return dict(self._read_stats)

    def read(
        self,
        *,
        period: str | int = "P30D",
        max_risk_score: int = 10,
        streams: Sequence[str] | None = None,
        include_users: bool = True,
        include_devices: bool = True,
        include_app_info: bool = False,
        progress: ProgressCallback | None = None,
    ) -> DefenderData:
        """Read streams, their apps, and each app's users (and devices, catalog info).

        Args:
            period: ``P7D``/``P30D``/``P90D``, or the ``report_time_frame`` setting (7/30/90).
            max_risk_score: read only apps with a risk score at or below it
                (filtered by Graph: ``$filter=riskScore le N``); 10 reads all.
            streams: stream ids or names; ``None`` reads every non-snapshot stream.
            include_users: read the users of each app (apps with no users are skipped).
            include_devices: read the devices of apps in endpoint streams.
            include_app_info: read catalog info (vendor, compliance) per app id.
            progress: called with a :class:`ReadProgress` after each step.

        Returns:
            Complete data; a read never returns part of what was asked for.

        Raises:
            DefenderHttpError: a page still failed after its retries (names
                stream, app and page).
            DefenderPayloadError: a page was malformed (names request and JSON path).
            DefenderAuthError: Entra ID or Graph refused the credential.
            ConfigError: an unknown period, risk score or stream.
        """
        sent, batcher = self._http.requests_sent, self._api.batcher
        batches, inner, retried = batcher.batches, batcher.inner_sent, batcher.inner_retried
        if self._adaptive is not None:
            self._adaptive.reset_stats()
        try:
            return self._read(
                period=period,
                max_risk_score=max_risk_score,
                streams=streams,
                include_users=include_users,
                include_devices=include_devices,
                include_app_info=include_app_info,
                progress=progress,
            )
        finally:
            stats: dict[str, int | float] = {
                "requests": self._http.requests_sent - sent,
                "batches": batcher.batches - batches,
                "batched_requests": batcher.inner_sent - inner,
                "retried_in_batches": batcher.inner_retried - retried,
            }
            if self._adaptive is not None:
                seen = self._adaptive.stats()
                stats.update(
                    concurrency_max=seen.maximum,
                    concurrency_peak=seen.peak_limit,
                    concurrency_final=seen.limit,
                    in_flight_peak=seen.peak_in_flight,
                    throttled=seen.throttled,
                    decreases=seen.decreases,
                    throttle_wait_s=seen.waited,
                )
            self._read_stats = stats

    def _read(
        self,
        *,
        period: str | int,
        max_risk_score: int,
        streams: Sequence[str] | None,
        include_users: bool,
        include_devices: bool,
        include_app_info: bool,
        progress: ProgressCallback | None,
    ) -> DefenderData:
        return run_read(
            self._api,
            period=period,
            max_risk_score=max_risk_score,
            streams=streams,
            include_users=include_users,
            include_devices=include_devices,
            include_app_info=include_app_info,
            progress=progress,
            concurrency=self.connection.http.concurrency,
            info_cache=self._info_cache,
        )

    def token_claims(self) -> dict[str, Any]:
        """Get an access token (msal's cache first) and return its claims, unverified.

        A cheap check that the credential works and of what Entra ID granted
        (``roles`` should hold ``CloudApp-Discovery.Read.All``); no Graph call.

        Raises:
            DefenderAuthError: Entra ID refused the credential.
            DefenderHttpError: Entra ID could not be reached.
        """
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

    def __enter__(self) -> GraphSource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class _GraphApi:
    """Graph's endpoints G1, G2, G4, G5 and G7, each followed through every page."""

    kind = "graph"

    def __init__(self, http: HttpClient, root: str, batch_size: int = 1) -> None:
        self._http = http
        self._root = root
        self._host = urlsplit(root).netloc.lower()
        self._conv = make_converter()
        self.batch_size = max(1, min(batch_size, MAX_BATCH))
        self.batcher = GraphBatcher(http, root)

    def run_calls(self, calls: Sequence[Call]) -> list[object]:
        """The first page of every call in one batch, then each call's further pages."""
        if len(calls) < 2:
            return [call_one(self, call) for call in calls]
        urls = [self._first_url(call) for call in calls]
        wheres = [self._where(call) for call in calls]
        answers = self.batcher.get_all(urls, wheres)
        return [
            self._finish(call, url, where, answer)
            for call, url, where, answer in zip(calls, urls, wheres, answers, strict=True)
        ]

    def _first_url(self, call: Call) -> str:
        nav = "appInfo" if call.kind == "info" else call.kind
        return f"{self._apps_url(call.stream.id, call.period)}/{quote(call.app.id, safe='')}/{nav}"

    def _where(self, call: Call) -> Where:
        entity = "app info" if call.kind == "info" else call.kind
        return Where(entity=entity, stream_id=call.stream.id, app_id=call.app.id, page=1)

    def _finish(self, call: Call, url: str, where: Where, answer: Answer) -> object:
        """Turn a batched first page into what :func:`call_one` would have returned."""
        if call.kind == "info":
            if answer.status == 404:  # not every discovered app is in the catalog
                return None
            _raise_for_status(answer, url, where)
            return structure_payload(
                answer.body, AppInfo, converter=self._conv, request=f"GET {url}", entity="app info"
            )
        _raise_for_status(answer, url, where)
        page = answer.body if answer.body is not None else {}  # refused as a page without value
        read = self._users if call.kind == "users" else self._devices
        _, link = self._page_parts(page, f"GET {url}", where)  # a malformed page fails here
        if link is None:
            return read(call.stream, call.app, url, where, page)
        # more pages: followed later, in parallel with the other chains
        return Later(partial(read, call.stream, call.app, url, where, page))

    def list_streams(self) -> list[DiscoveryStream]:
        return self._collect(self._root + _BASE, Where(entity="streams"), DiscoveryStream)

    def list_apps(
        self, stream: DiscoveryStream, period: str, max_risk_score: int
    ) -> list[DiscoveredApp]:
        url = self._apps_url(stream.id, period)
        if max_risk_score < 10:
            url += "?" + urlencode({"$filter": f"riskScore le {max_risk_score}"}, quote_via=quote)
        # a missing userCount would read as 0 and skip the app's users without a word
        where = Where(entity="apps", stream_id=stream.id)
        apps = self._collect(url, where, DiscoveredApp, required=("userCount",))
        return [attrs.evolve(a, stream_id=stream.id, period=period) for a in apps]

    def list_users(self, stream: DiscoveryStream, app: DiscoveredApp, period: str) -> list[AppUser]:
        url = f"{self._apps_url(stream.id, period)}/{quote(app.id, safe='')}/users"
        where = Where(entity="users", stream_id=stream.id, app_id=app.id)
        return self._users(stream, app, url, where, None)

    def list_devices(
        self, stream: DiscoveryStream, app: DiscoveredApp, period: str
    ) -> list[AppDevice]:
        url = f"{self._apps_url(stream.id, period)}/{quote(app.id, safe='')}/devices"
        where = Where(entity="devices", stream_id=stream.id, app_id=app.id)
        return self._devices(stream, app, url, where, None)

    def _users(
        self, stream: DiscoveryStream, app: DiscoveredApp, url: str, where: Where, first: object
    ) -> list[AppUser]:
        return [
            attrs.evolve(u, app_id=app.id, stream_id=stream.id, anonymized=stream.anonymize_users)
            for u in self._collect(url, where, AppUser, first=first)
        ]

    def _devices(
        self, stream: DiscoveryStream, app: DiscoveredApp, url: str, where: Where, first: object
    ) -> list[AppDevice]:
        return [
            attrs.evolve(d, app_id=app.id, stream_id=stream.id, anonymized=stream.anonymize_devices)
            for d in self._collect(url, where, AppDevice, first=first)
        ]

    def get_app_info(
        self, stream: DiscoveryStream, app: DiscoveredApp, period: str
    ) -> AppInfo | None:
        url = f"{self._apps_url(stream.id, period)}/{quote(app.id, safe='')}/appInfo"
        where = Where(entity="app info", stream_id=stream.id, app_id=app.id, page=1)
        try:
            payload = self._http.fetch_json("GET", url, where)
        except DefenderHttpError as exc:
            if exc.status == 404:  # not every discovered app is in the catalog
                logger.debug("no catalog info for app %s", app.id)
                return None
            raise
        return structure_payload(
            payload, AppInfo, converter=self._conv, request=f"GET {url}", entity="app info"
        )

    def _apps_url(self, stream_id: str, period: str) -> str:
        fn = f"microsoft.graph.security.aggregatedAppsDetails(period=duration'{period}')"
        return f"{self._root}{_BASE}/{quote(stream_id, safe='')}/{fn}"

    def _collect(
        self,
        url: str,
        where: Where,
        cls: type[T],
        *,
        required: tuple[str, ...] = (),
        first: object = None,
    ) -> list[T]:
        out: list[T] = []
        for request, page, items in self._pages(url, where, first):
            entity = f"{where.entity} page {page}"
            require_keys(items, required, request=request, entity=entity, path="$.value")
            out.extend(
                structure_payload(
                    items,
                    list[cls],  # type: ignore[valid-type]
                    converter=self._conv,
                    request=request,
                    entity=entity,
                    path="$.value",
                )
            )
        return out

    def _pages(
        self, url: str, where: Where, first: object = None
    ) -> Iterator[tuple[str, int, list[Any]]]:
        """Yield ``(request, page number, items)``, following ``@odata.nextLink`` verbatim.

        ``first`` is the first page when a batch already fetched it.
        """
        page, next_url = 1, url
        while True:
            current = attrs.evolve(where, page=page)
            if page == 1 and first is not None:
                payload = first
            else:
                payload = self._http.fetch_json("GET", next_url, current)
            request = f"GET {next_url}"
            items, link = self._page_parts(payload, request, current)
            yield request, page, items
            if link is None:
                return
            next_url, page = link, page + 1

    def _page_parts(
        self, payload: object, request: str, where: Where
    ) -> tuple[list[Any], str | None]:
        entity = f"{where.entity} page {where.page}"
        if not isinstance(payload, Mapping):
            problem = f"expected a JSON object, got {type(payload).__name__} @ $"
            raise DefenderPayloadError(request=request, entity=entity, problems=[problem])
        items = payload.get("value")
        if not isinstance(items, list):
            problem = "required key missing" if items is None else "expected a list"
            raise DefenderPayloadError(
                request=request, entity=entity, problems=[f"{problem} @ $.value"]
            )
        link = payload.get("@odata.nextLink")
        if link is None:
            return items, None
        parts = urlsplit(link) if isinstance(link, str) else None
        if parts is None or parts.scheme != "https" or parts.netloc.lower() != self._host:
            # never send our token to another host, whatever the page says
            problem = f"not a link to {self._host}: {str(link)[:200]!r} @ $['@odata.nextLink']"
            raise DefenderPayloadError(request=request, entity=entity, problems=[problem])
        return items, link


def _raise_for_status(answer: Answer, url: str, where: Where) -> None:
    """Raise the named error of a failed inner answer, as a request on its own would."""
    if answer.status >= 400:
        raise inner_error(answer, url, where)
