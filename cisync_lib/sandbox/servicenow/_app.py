"""The ServiceNow WSGI application: routing, authentication and rate limiting."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from werkzeug.exceptions import HTTPException
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from cisync_lib.sandbox._log import INFO_KEY, RequestInfo

from ._auth import Users
from ._batch import BATCH_CALL, batch
from ._context import Call, Instance
from ._http import error, json_response
from ._ire import identify_reconcile
from ._table_api import collection, record

__all__ = ["ServiceNowApp"]

_VERSION = "<any(v1, v2):version>/"


def _rules() -> list[Rule]:
    # a Rule binds to one Map only: every application gets its own
    return [
        Rule("/api/now/table/<table>", endpoint="collection"),
        Rule(f"/api/now/{_VERSION}table/<table>", endpoint="collection"),
        Rule("/api/now/table/<table>/<sys_id>", endpoint="record"),
        Rule(f"/api/now/{_VERSION}table/<table>/<sys_id>", endpoint="record"),
        Rule("/api/now/batch", endpoint="batch"),
        Rule("/api/now/v1/batch", endpoint="batch"),
        Rule("/api/now/identifyreconcile", endpoint="ire", defaults={"variant": ""}),
        Rule("/api/now/v1/identifyreconcile", endpoint="ire", defaults={"variant": ""}),
        Rule("/api/now/identifyreconcile/<variant>", endpoint="ire"),
        Rule("/api/now/v1/identifyreconcile/<variant>", endpoint="ire"),
        Rule("/oauth_token.do", endpoint="oauth"),
    ]


_IRE_VARIANTS = ("", "enhanced", "query", "queryEnhanced")
_UNAUTHENTICATED = ("User Not Authenticated", "Required to provide Auth information")


class ServiceNowApp:
    """Routes requests to the Table, Batch and IRE handlers after checking the caller.

    Args:
        instance: the store, options and fault injector.
        users: the users, OAuth application and rate limiter.
    """

    def __init__(self, instance: Instance, users: Users) -> None:
        self.instance = instance
        self.users = users
        self.urls = Map(_rules(), strict_slashes=False, merge_slashes=False)

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        response = self.dispatch(environ)
        return response(environ, start_response)

    def dispatch(self, environ: dict[str, Any]) -> Response:
        """Serve one request (or Batch API sub-request) and return the response."""
        request = Request(environ)
        adapter = self.urls.bind_to_environ(environ)
        try:
            endpoint, values = adapter.match(return_rule=False, method=None)
        except HTTPException:
            return error(400, "Requested URI does not represent any resource", None)
        if endpoint == "oauth":
            return self._token(request)
        outer: Call | None = environ.get(BATCH_CALL)
        info: RequestInfo = environ.get(INFO_KEY) or (outer.info if outer else RequestInfo())
        if outer is not None:
            call = Call(request, outer.user, outer.info, outer.base_url, in_batch=True)
            return self._route(call, str(endpoint), values)
        user = self.users.authenticate(request.headers.get("Authorization"))
        if user is None:
            return error(
                401, *_UNAUTHENTICATED, headers=[("WWW-Authenticate", 'BASIC realm="Service-now"')]
            )
        info.user = user.name
        decision = self.users.admit(user)
        if not decision.allowed:
            headers = [*decision.headers, ("Retry-After", str(decision.retry_after))]
            return error(429, "Rate limit exceeded", "Too many requests for this user", headers)
        call = Call(request, user, info, request.host_url.rstrip("/"))
        response = self._route(call, str(endpoint), values)
        response.headers.extend(decision.headers)
        return response

    def _route(self, call: Call, endpoint: str, values: Mapping[str, Any]) -> Response:
        if endpoint == "collection":
            return collection(self.instance, call, str(values["table"]))
        if endpoint == "record":
            return record(self.instance, call, str(values["table"]), str(values["sys_id"]))
        if endpoint == "batch":
            return batch(self.instance, call, self.dispatch)
        variant = str(values.get("variant", ""))
        if variant not in _IRE_VARIANTS:
            return error(400, "Requested URI does not represent any resource", None)
        return identify_reconcile(self.instance, call, variant)

    def _token(self, request: Request) -> Response:
        if request.method != "POST":
            return error(405, "Method not Supported", "use POST")
        form = dict(request.form.items())
        status, body = self.users.token(form, request.headers.get("Authorization"))
        return json_response(status, body)
