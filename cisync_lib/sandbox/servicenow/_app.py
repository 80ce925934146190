"""The ServiceNow WSGI application: routing, authentication and rate limiting."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from werkzeug.exceptions import HTTPException
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from cisync_lib.sandbox._log import INFO_KEY, RequestInfo

from ._attachment import attachment_file, attachments, upload
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
        Rule("/api/now/attachment", endpoint="attachments"),
        Rule("/api/now/v1/attachment", endpoint="attachments"),
        Rule("/api/now/attachment/file", endpoint="attachment_upload"),
        Rule("/api/now/v1/attachment/file", endpoint="attachment_upload"),
        Rule("/api/now/attachment/upload", endpoint="attachment_multipart"),
        Rule("/api/now/v1/attachment/upload", endpoint="attachment_multipart"),
        Rule("/api/now/attachment/<sys_id>", endpoint="attachments"),
        Rule("/api/now/v1/attachment/<sys_id>", endpoint="attachments"),
        Rule("/api/now/attachment/<sys_id>/file", endpoint="attachment_file"),
        Rule("/api/now/v1/attachment/<sys_id>/file", endpoint="attachment_file"),
        Rule("/oauth_token.do", endpoint="oauth"),
    ]


_IRE_VARIANTS = ("", "enhanced", "query", "queryEnhanced")
_UNAUTHENTICATED = ("User Not Authenticated", "Required to provide Auth information")


_TOMCAT_400 = (
    '<!doctype html><html lang="en"><head><title>HTTP Status 400 \u2013 Bad Request</title>'
    '</head><body><h1>HTTP Status 400 \u2013 Bad Request</h1><hr class="line" />'
    "<p><b>Type</b> Exception Report</p><p><b>Message</b> Request header is too large</p>"
    "<p><b>Description</b> The server cannot or will not process the request due to "
    "something that is perceived to be a client error (e.g., malformed request syntax, "
    "invalid request message framing, or deceptive request routing).</p>"
    '<hr class="line" /></body></html>'
)


def _header_bytes(environ: Mapping[str, Any]) -> int:
    """The size of the request line and headers, as Tomcat counts them (approximately)."""
    query = environ.get("QUERY_STRING", "")
    line = len(environ.get("REQUEST_METHOD", "")) + len(environ.get("PATH_INFO", ""))
    line += len(query) + 1 + len(environ.get("SERVER_PROTOCOL", "")) + 4
    headers = sum(
        len(key) - 5 + len(str(value)) + 4
        for key, value in environ.items()
        if key.startswith("HTTP_")
    )
    for key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
        if environ.get(key):
            headers += len(key) + len(str(environ[key])) + 4
    return line + headers


def _header_too_large() -> Response:
    """Tomcat's answer to a request line plus headers over ``maxHttpHeaderSize``."""
    return Response(
        _TOMCAT_400.encode("utf-8"),
        status=400,
        content_type="text/html;charset=utf-8",
        headers=[("Connection", "close")],
    )


def _accepts_json(accept: str) -> bool:
    """Whether an ``Accept`` header admits JSON (no header at all does)."""
    if not accept.strip():
        return True
    for item in accept.split(","):
        media, *params = (p.strip() for p in item.split(";"))
        quality = next((p[2:] for p in params if p.lower().startswith("q=")), "1")
        try:
            if float(quality) <= 0:
                continue
        except ValueError:
            continue
        if media.lower() in ("application/json", "application/*", "*/*", "*"):
            return True
    return False


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
        if _header_bytes(environ) > self.instance.options.max_header_bytes:
            response = _header_too_large()
        else:
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
        if not _accepts_json(request.headers.get("Accept", "")):
            return error(
                406,
                "The sandbox serves JSON only",
                f"Accept: {request.headers.get('Accept')} is not supported; "
                "ask for application/json (a real instance also serves XML)",
            )
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
        if endpoint == "attachments":
            sys_id = values.get("sys_id")
            return attachments(self.instance, call, None if sys_id is None else str(sys_id))
        if endpoint == "attachment_file":
            return attachment_file(self.instance, call, str(values["sys_id"]))
        if endpoint in ("attachment_upload", "attachment_multipart"):
            return upload(self.instance, call, multipart=endpoint == "attachment_multipart")
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
