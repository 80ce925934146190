"""Chunked Batch API writes (``POST /api/now/v1/batch``) through the connection's session.

pysnc's own batch support is internal API, sends one unbounded batch, retries
unserviced items a fixed number of times and then posts an extra empty
batch; it also cannot tell "not executed" from "outcome unknown". This module
sends bounded chunks and reports, per item, exactly what is known.
"""

from __future__ import annotations

import base64
import enum
import json
import logging
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager
from typing import Any
from urllib.parse import urlencode, urlsplit

import requests
from attrs import field, frozen

from cisync_lib._http import SessionPolicy, make_retry
from cisync_lib.errors import ServiceNowAuthError

__all__ = ["BatchItem", "BatchOutcome", "BatchResult", "send_batches"]

logger = logging.getLogger(__name__)

#: statuses of the batch call itself meaning "this instance does not take batches"
_REFUSED = frozenset({400, 403, 404, 405, 413, 501})
#: seconds to wait after a 429 without a readable ``Retry-After``
_DEFAULT_WAIT = 1.0


class BatchOutcome(str, enum.Enum):
    """What is known about one item of a batch."""

    #: the instance answered the item (see ``status``)
    SERVICED = "serviced"
    #: the instance did not run the item (listed as unserviced, or never sent)
    NOT_RUN = "not_run"
    #: the batch call failed after it was sent, so the item may or may not have run
    UNKNOWN = "unknown"
    #: the instance refuses Batch API calls, so send the item on its own
    REFUSED = "refused"


@frozen(kw_only=True)
class BatchItem:
    """One Table API write to send inside a batch.

    Attributes:
        id: the caller's id for the item, unique within one call.
        method: ``POST``, ``PATCH`` or ``DELETE``.
        table: the table.
        sys_id: the record for PATCH and DELETE.
        body: the JSON body for POST and PATCH.
        fields: fields the instance should return (keeps responses small).
    """

    id: str
    method: str
    table: str
    sys_id: str | None = None
    body: Mapping[str, str] | None = field(default=None, eq=False)
    fields: tuple[str, ...] = ("sys_id",)


@frozen(kw_only=True)
class BatchResult:
    """The outcome of one :class:`BatchItem`.

    Attributes:
        id: the item's id.
        outcome: what is known about it.
        status: the item's HTTP status when serviced (or the batch call's status).
        result: the decoded ``result`` object of the item's response, if any.
        detail: an error text, if any.
    """

    id: str
    outcome: BatchOutcome
    status: int | None = None
    result: Mapping[str, Any] | None = field(default=None, eq=False)
    detail: str = ""

    @property
    def ok(self) -> bool:
        """Serviced with a 2xx status."""
        return (
            self.outcome is BatchOutcome.SERVICED and self.status is not None and self.status < 300
        )


def _relative(instance_url: str, item: BatchItem) -> str:
    prefix = urlsplit(instance_url).path.rstrip("/")
    path = f"{prefix}/api/now/table/{item.table}"
    if item.sys_id:
        path += f"/{item.sys_id}"
    if item.method == "DELETE":
        return path
    query = {
        "sysparm_exclude_reference_link": "true",
        "sysparm_display_value": "false",
        "sysparm_fields": ",".join(item.fields),
    }
    return f"{path}?{urlencode(query)}"


def _encode(instance_url: str, item: BatchItem) -> dict[str, Any]:
    request: dict[str, Any] = {
        "id": item.id,
        "method": item.method,
        "url": _relative(instance_url, item),
        "headers": [
            {"name": "Accept", "value": "application/json"},
            {"name": "Content-Type", "value": "application/json"},
        ],
    }
    if item.body is not None:
        raw = json.dumps(dict(item.body), separators=(",", ":")).encode()
        request["body"] = base64.b64encode(raw).decode("ascii")
    return request


def _decode(serviced: Mapping[str, Any]) -> BatchResult:
    status = int(serviced.get("status_code") or 0)
    result: Mapping[str, Any] | None = None
    detail = ""
    body = serviced.get("body") or ""
    if body:
        try:
            data = json.loads(base64.b64decode(body))
        except ValueError:
            data = None
            detail = "undecodable item body"
        if isinstance(data, Mapping):
            if isinstance(data.get("result"), Mapping):
                result = data["result"]
            err = data.get("error")
            if isinstance(err, Mapping):
                detail = ": ".join(str(err[k]) for k in ("message", "detail") if err.get(k))
    return BatchResult(
        id=str(serviced.get("id")),
        outcome=BatchOutcome.SERVICED,
        status=status,
        result=result,
        detail=detail or str(serviced.get("error_message") or ""),
    )


#: lends a session for one request (the connection's pool)
Lease = Callable[[], AbstractContextManager[requests.Session]]


def _post_chunk(
    lease: Lease,
    instance_url: str,
    chunk: Sequence[BatchItem],
    batch_id: int,
    policy: SessionPolicy,
) -> list[BatchResult]:
    payload = {
        "batch_request_id": str(batch_id),
        "rest_requests": [_encode(instance_url, item) for item in chunk],
    }

    def every(outcome: BatchOutcome, status: int | None, detail: str) -> list[BatchResult]:
        return [BatchResult(id=i.id, outcome=outcome, status=status, detail=detail) for i in chunk]

    try:
        with lease() as session:
            response = session.post(f"{instance_url}/api/now/v1/batch", json=payload)
    except (requests.ConnectTimeout, requests.exceptions.SSLError) as exc:
        return every(BatchOutcome.NOT_RUN, None, type(exc).__name__)
    except requests.RequestException as exc:
        # read timeout or a dropped connection after sending: the items may have run
        return every(BatchOutcome.UNKNOWN, None, type(exc).__name__)
    status = response.status_code
    if status in (401,):
        raise ServiceNowAuthError(instance=instance_url, status=status, detail="batch refused")
    if status == 429:
        # a POST: the adapter never retries it, so the policy is asked here, the same way
        retry = make_retry(policy)
        wait = retry.retry_after(response.headers.get("Retry-After"))
        wait = min(_DEFAULT_WAIT, policy.max_retry_after) if wait is None else wait
        logger.warning("the instance answered 429 to a Batch API call; waiting %.0f s", wait)
        retry.pause(wait)  # the instance said when (within the connection's cap); none ran
        return every(BatchOutcome.NOT_RUN, status, "rate limited")
    if status in _REFUSED:
        return every(BatchOutcome.REFUSED, status, response.text[:200])
    if status >= 300:
        return every(BatchOutcome.UNKNOWN, status, response.text[:200])
    try:
        data = response.json()
        serviced = list(data.get("serviced_requests") or [])
        unserviced = {str(i) for i in data.get("unserviced_requests") or []}
    except (ValueError, AttributeError, TypeError):
        return every(BatchOutcome.UNKNOWN, status, "malformed batch response")
    by_id = {str(s.get("id")): _decode(s) for s in serviced if isinstance(s, Mapping)}
    results = []
    for item in chunk:
        if item.id in by_id:
            results.append(by_id[item.id])
        elif item.id in unserviced:
            results.append(BatchResult(id=item.id, outcome=BatchOutcome.NOT_RUN, status=None))
        else:
            # neither serviced nor listed as unserviced: do not assume it did not run
            results.append(BatchResult(id=item.id, outcome=BatchOutcome.UNKNOWN, status=status))
    return results


def send_batches(
    lease: Lease,
    instance_url: str,
    items: Sequence[BatchItem],
    *,
    policy: SessionPolicy,
    chunk_size: int,
    next_id: Callable[[], int],
    retry_unserviced: int = 3,
    progress: Callable[[int, int], None] | None = None,
) -> list[BatchResult]:
    """Send ``items`` in chunks; re-send unserviced items (they did not run).

    Args:
        lease: lends one of the connection's sessions for one call.
        instance_url: the instance base URL.
        items: the writes, in order.
        policy: the connection's HTTP policy (its ``max_retry_after`` caps the
            wait after a 429).
        chunk_size: items per Batch API call.
        next_id: gives the next ``batch_request_id``.
        retry_unserviced: extra rounds for items the instance left unserviced.
        progress: called with (items settled so far, total) after each call.

    Returns:
        one result per item, in the order of ``items``.
    """
    if chunk_size < 1:
        raise ValueError("chunk_size must be at least 1")
    final: dict[str, BatchResult] = {}
    pending = list(items)
    for attempt in range(retry_unserviced + 1):
        retry: list[BatchItem] = []
        for start in range(0, len(pending), chunk_size):
            chunk = pending[start : start + chunk_size]
            for item, result in zip(
                chunk, _post_chunk(lease, instance_url, chunk, next_id(), policy), strict=True
            ):
                if result.outcome is BatchOutcome.NOT_RUN and attempt < retry_unserviced:
                    retry.append(item)
                else:
                    final[item.id] = result
            if progress is not None:
                progress(len(final), len(items))
        if not retry:
            break
        logger.info("re-sending %d unserviced batch item(s)", len(retry))
        pending = retry
    return [final[item.id] for item in items]
