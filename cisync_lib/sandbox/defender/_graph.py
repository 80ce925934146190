"""The sandbox's Microsoft Graph: beta cloud-app discovery of the generated tenant.

Bearer tokens from the ``entra`` service are checked (audience, expiry,
signature, role); collections page by ``@odata.nextLink``; errors use Graph's
``{"error": {"code", "message", "innerError"}}`` shape and every response
carries a ``request-id`` header.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any
from urllib.parse import quote, urlencode

from werkzeug.wrappers import Request, Response

from cisync_lib._errors import SandboxError
from cisync_lib.sandbox._server import WsgiApp
from cisync_lib.sandbox._services import SandboxContext

from . import _graph_json as gj
from ._graph_query import GraphError, SkipTokens, parse_query
from ._graph_routes import Many, resolve
from ._http import json_response, new_id, request_info, serve, utc_now_text
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
        try:
            self._authenticate(request)
            if request.method != "GET":
                raise GraphError(405, "MethodNotAllowed", f"{request.method} is not allowed here.")
            body = self._body(request)
        except GraphError as exc:
            return _error(exc, request_id, client_request_id)
        headers = {"request-id": request_id, "client-request-id": client_request_id}
        return json_response(body, headers=headers, content_type=ODATA_JSON)

    def _authenticate(self, request: Request) -> None:
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
        request_info(request).user = str(claims.get("appid", ""))

    def _body(self, request: Request) -> dict[str, Any]:
        base = request.host_url.rstrip("/")
        found = resolve(self.tenant, request.path)
        if isinstance(found, Many):
            return self._page(request, base, found)
        select = parse_query(
            {k: v for k, v in request.args.items() if k == "$select"},
            found.entity,
            gj.PROPERTIES.get(found.entity, tuple(found.body)),
        ).select
        body = found.body if select is None else _pick(found.body, select)
        return {"@odata.context": f"{base}/beta/$metadata#{found.entity}/$entity", **body}

    def _page(self, request: Request, base: str, found: Many) -> dict[str, Any]:
        args = request.args.to_dict()
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
        page = self._short_page(request, [render(raw) for raw in items[offset : offset + size]])
        body: dict[str, Any] = {"@odata.context": f"{base}/beta/$metadata#{found.metadata}"}
        if query.count:
            body["@odata.count"] = len(items)
        body["value"] = page if query.select is None else [_pick(i, query.select) for i in page]
        following = offset + len(page)
        if following < len(items):
            kept = {k: v for k, v in args.items() if k not in ("$skiptoken", "$skip")}
            kept["$skiptoken"] = self.skip_tokens.make(following, query.canonical)
            path = quote(request.path, safe=_SAFE)
            body["@odata.nextLink"] = f"{base}{path}?{urlencode(kept, safe=_SAFE, quote_via=quote)}"
        request_info(request).items = len(page)
        return body

    def _short_page(self, request: Request, page: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Apply a ``short_page`` fault: fewer items; the next page starts right after them."""
        rule = self.faults.pick(self.name, request.method, request.path, {"short_page"})
        if rule is None or len(page) < 2:
            return page
        drop = min(rule.rows or max(1, len(page) // 2), len(page) - 1)
        request_info(request).fault = "short_page"
        return page[: len(page) - drop]


def _pick(item: Mapping[str, Any], select: Sequence[str]) -> dict[str, Any]:
    out = {k: v for k, v in item.items() if k.startswith("@odata.")}
    out.update({k: item[k] for k in select if k in item})
    return out


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
