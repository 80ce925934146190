"""The sandbox's Microsoft Graph: beta cloud-app discovery of the generated tenant.

Bearer tokens from the ``entra`` service are checked (audience, expiry,
signature, role); collections page by ``@odata.nextLink``; errors use Graph's
``{"error": {"code", "message", "innerError"}}`` shape and every response
carries a ``request-id`` header. ``POST /beta/$batch`` serves JSON batches of
up to 20 requests; a throttling policy (``DefenderOptions.graph_throttle``)
answers 429 with ``Retry-After``, to plain requests and to each inner request.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from typing import Any
from urllib.parse import parse_qsl, quote, unquote, urlencode

from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Request, Response

from cisync_lib import SandboxError
from cisync_lib.sandbox._log import RequestInfo
from cisync_lib.sandbox._server import WsgiApp
from cisync_lib.sandbox._service import SandboxContext

from . import _graph_json as gj
from ._graph_batch import BatchStep, order_steps, parse_batch
from ._graph_query import GraphError, SkipTokens, parse_query
from ._graph_routes import Many, resolve
from ._graph_throttle import GraphThrottler
from ._http import JSON, json_response, new_id, request_info, serve, utc_now_text
from ._tokens import GRAPH_APP_ID, GRAPH_AUDIENCE, TokenAuthority, TokenProblem

__all__ = ["GraphService"]

ODATA_JSON = (
    "application/json;odata.metadata=minimal;odata.streaming=true;"
    "IEEE754Compatible=false;charset=utf-8"
)
_ROLE = "CloudApp-Discovery.Read.All"
_SAFE = "/()'=,.:$@!*+-_~"
_CODES = {
    400: "BadRequest", 401: "InvalidAuthenticationToken", 403: "Forbidden",
    404: "ResourceNotFound", 405: "MethodNotAllowed", 429: "TooManyRequests",
    500: "InternalServerError", 502: "BadGateway", 503: "ServiceUnavailable",
    504: "GatewayTimeout",
}  # fmt: skip
_BATCH_PATHS = ("/beta/$batch", "/v1.0/$batch")
_THROTTLED = "Too many requests; retry after the number of seconds in Retry-After."
_CHALLENGE = (
    'Bearer realm="", authorization_uri="https://login.microsoftonline.com/common/oauth2/'
    f'authorize", client_id="{GRAPH_APP_ID}"'
)


class GraphService:
    """The ``graph`` sandbox service; it checks tokens the ``entra`` service issued.

    Args:
        context: what the sandbox gives every service.
    """

    name = "graph"

    def __init__(self, context: SandboxContext) -> None:
        tokens = getattr(context.services.get("entra"), "tokens", None)
        if not isinstance(tokens, TokenAuthority):
            raise SandboxError(message="the graph service needs the entra service (start it first)")
        self.tokens = tokens
        self.tenant = context.tenant()
        self.page_size = context.config.defender.graph_page_size
        self.faults = context.faults
        self.skip_tokens = SkipTokens()
        options = context.config.defender
        self.throttler = GraphThrottler(options.graph_throttle, options.graph_throttle_apps)
        #: ``status`` faults applied to inner requests of batches (the log sees only envelopes).
        self.inner_faults = 0
        self._lock = threading.Lock()

    # --- SandboxService -----------------------------------------------------------

    def wsgi_app(self) -> WsgiApp:
        """Graph's WSGI application."""
        return serve(self._handle)

    def error_body(self, status: int, message: str) -> tuple[bytes, str]:
        """Graph's error JSON for injected faults."""
        code = _CODES.get(status, "UnknownError")
        response = _error(GraphError(status, code, message), new_id(), new_id())
        return response.get_data(), ODATA_JSON

    def connection_info(self, url: str) -> Mapping[str, str]:
        """Graph's base URL and the scope its tokens need."""
        return {"graph_url": url, "graph_scope": f"{GRAPH_AUDIENCE}/.default"}

    def close(self) -> None:
        """Nothing to release."""

    # --- the application ----------------------------------------------------------

    def _handle(self, request: Request) -> Response:
        request_id = new_id()
        client_request_id = request.headers.get("client-request-id") or request_id
        headers = {"request-id": request_id, "client-request-id": client_request_id}
        try:
            caller = self._authenticate(request)
            if request.path in _BATCH_PATHS:
                if request.method != "POST":
                    raise GraphError(405, "MethodNotAllowed", f"{request.method} is not allowed.")
                body = self._batch(request, caller)
                return json_response(body, headers=headers, content_type=JSON)
            if request.method != "GET":
                raise GraphError(405, "MethodNotAllowed", f"{request.method} is not allowed here.")
            retry_after = self.throttler.check(*caller)
            if retry_after:
                return _throttled(retry_after, request_id, client_request_id)
            base = request.host_url.rstrip("/")
            body = self._body(base, request.path, request.args, request_info(request))
        except GraphError as exc:
            return _error(exc, request_id, client_request_id)
        return json_response(body, headers=headers, content_type=ODATA_JSON)

    def _authenticate(self, request: Request) -> tuple[str, str]:
        """Check the bearer token; return the caller's (tenant id, app id)."""
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise GraphError(401, "InvalidAuthenticationToken", "Access token is empty.")
        try:
            claims = self.tokens.verify(token.strip(), (GRAPH_AUDIENCE, GRAPH_APP_ID))
        except TokenProblem as exc:
            raise GraphError(401, "InvalidAuthenticationToken", str(exc)) from exc
        if _ROLE not in claims.get("roles", ()):
            raise GraphError(
                403,
                "Forbidden",
                f"Missing role permissions on the request. API requires '{_ROLE}'.",
            )
        app_id = str(claims.get("appid", ""))
        request_info(request).user = app_id
        return str(claims.get("tid", "")), app_id

    def _batch(self, request: Request, caller: tuple[str, str]) -> dict[str, Any]:
        """Serve a JSON batch: each inner request on its own, throttled on its own.

        Only independent GETs, or chains through ``dependsOn``, are served (the
        only requests this Graph knows are GETs). Responses come back in an order
        of their own (Graph does not promise the request order either).
        """
        steps = parse_batch(request.get_data())
        info = request_info(request)
        info.items = len(steps)
        version = request.path.split("/")[1]
        base = request.host_url.rstrip("/")
        statuses: dict[str, int] = {}
        responses: list[dict[str, Any]] = []
        for step in order_steps(steps):
            failed = [d for d in step.depends_on if statuses[d.lower()] >= 400]
            if failed:
                error = GraphError(424, "FailedDependency", f"Dependency '{failed[0]}' failed.")
                reply = _inner_error(step.id, error)
            else:
                reply = self._inner(step, version, base, caller)
            statuses[step.id.lower()] = reply["status"]
            responses.append(reply)
        responses.reverse()
        return {"responses": responses}

    def _inner(
        self, step: BatchStep, version: str, base: str, caller: tuple[str, str]
    ) -> dict[str, Any]:
        path, _, query = step.url.partition("?")
        path = unquote(path)
        full = f"/{version}{path}"
        try:
            if path.split("/")[1] in ("v1.0", "beta"):
                raise GraphError(
                    400, "BadRequest", f"Resource not found for the segment '{path.split('/')[1]}'."
                )
            if step.method != "GET":
                raise GraphError(405, "MethodNotAllowed", f"{step.method} is not allowed here.")
            retry_after = self.throttler.check(*caller)
            if retry_after:
                error = GraphError(429, "TooManyRequests", _THROTTLED)
                return _inner_error(step.id, error, {"Retry-After": str(retry_after)})
            rule = self.faults.pick(self.name, step.method, full, {"status"})
            if rule is not None:
                with self._lock:
                    self.inner_faults += 1
                extra = {"Retry-After": str(rule.retry_after)} if rule.retry_after else {}
                code = _CODES.get(rule.status, "UnknownError")
                error = GraphError(rule.status, code, f"Injected fault: HTTP {rule.status}")
                return _inner_error(step.id, error, extra)
            args = MultiDict(parse_qsl(query, keep_blank_values=True))
            body = self._body(base, full, args, RequestInfo())
        except GraphError as exc:
            return _inner_error(step.id, exc)
        return {
            "id": step.id,
            "status": 200,
            "headers": {"Content-Type": ODATA_JSON},
            "body": body,
        }

    def _body(
        self, base: str, path: str, args: MultiDict[str, str], info: RequestInfo
    ) -> dict[str, Any]:
        found = resolve(self.tenant, path)
        if isinstance(found, Many):
            return self._page(base, path, args, found, info)
        select = parse_query(
            {k: v for k, v in args.items() if k == "$select"},
            found.entity,
            gj.PROPERTIES.get(found.entity, tuple(found.body)),
        ).select
        body = found.body if select is None else _pick(found.body, select)
        return {"@odata.context": f"{base}/beta/$metadata#{found.entity}/$entity", **body}

    def _page(
        self, base: str, path: str, raw_args: MultiDict[str, str], found: Many, info: RequestInfo
    ) -> dict[str, Any]:
        args = raw_args.to_dict()
        query = parse_query(args, found.entity, gj.PROPERTIES[found.entity])
        items: Sequence[Any] = found.items
        if query.filter is not None:
            rendered = (found.render(raw) for raw in items)
            items = [item for item in rendered if query.filter(item)]
            render: Callable[[Any], dict[str, Any]] = dict
        else:
            render = found.render
        offset = query.skip
        if query.skiptoken:
            offset = self.skip_tokens.read(query.skiptoken, query.canonical)
        size = min(query.top or self.page_size, self.page_size)
        page = self._short_page(path, info, [render(raw) for raw in items[offset : offset + size]])
        body: dict[str, Any] = {"@odata.context": f"{base}/beta/$metadata#{found.metadata}"}
        if query.count:
            body["@odata.count"] = len(items)
        body["value"] = page if query.select is None else [_pick(i, query.select) for i in page]
        following = offset + len(page)
        if following < len(items):
            kept = {k: v for k, v in args.items() if k not in ("$skiptoken", "$skip")}
            kept["$skiptoken"] = self.skip_tokens.make(following, query.canonical)
            quoted = quote(path, safe=_SAFE)
            body["@odata.nextLink"] = (
                f"{base}{quoted}?{urlencode(kept, safe=_SAFE, quote_via=quote)}"
            )
        info.items = len(page)
        return body

    def _short_page(
        self, path: str, info: RequestInfo, page: list[dict[str, Any]]
    ) -> list[dict[str, Any]]:
        """Apply a ``short_page`` fault: fewer items; the next page starts right after them."""
        rule = self.faults.pick(self.name, "GET", path, {"short_page"})
        if rule is None or len(page) < 2:
            return page
        drop = min(rule.rows or max(1, len(page) // 2), len(page) - 1)
        info.fault = "short_page"
        return page[: len(page) - drop]


def _pick(item: Mapping[str, Any], select: Sequence[str]) -> dict[str, Any]:
    out = {k: v for k, v in item.items() if k.startswith("@odata.")}
    out.update({k: item[k] for k in select if k in item})
    return out


def _inner_error(
    step_id: str, exc: GraphError, headers: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """An inner response of a batch for a refused request (Graph's error body inside)."""
    inner = {"date": utc_now_text(), "request-id": new_id(), "client-request-id": new_id()}
    return {
        "id": step_id,
        "status": exc.status,
        "headers": {"Content-Type": "application/json", **(headers or {})},
        "body": {"error": {"code": exc.code, "message": exc.message, "innerError": inner}},
    }


def _throttled(retry_after: int, request_id: str, client_request_id: str) -> Response:
    response = _error(GraphError(429, "TooManyRequests", _THROTTLED), request_id, client_request_id)
    response.headers["Retry-After"] = str(retry_after)
    return response


def _error(exc: GraphError, request_id: str, client_request_id: str) -> Response:
    inner = {
        "date": utc_now_text(),
        "request-id": request_id,
        "client-request-id": client_request_id,
    }
    headers = {"request-id": request_id, "client-request-id": client_request_id}
    if exc.status == 401:
        headers["WWW-Authenticate"] = _CHALLENGE
    body = {"error": {"code": exc.code, "message": exc.message, "innerError": inner}}
    return json_response(body, exc.status, headers, content_type=ODATA_JSON)
