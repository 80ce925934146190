"""Graph's JSON batch envelope: parsing, Graph's limits, and ``dependsOn`` ordering.

``POST /$batch`` with ``{"requests": [{id, method, url, headers?, body?, dependsOn?}]}``:
at most 20 requests; ids unique (case-insensitive); relative URLs only (with or
without a leading ``/``). A malformed envelope is a ``400`` for the whole batch;
everything else is judged per inner request by the service.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from urllib.parse import urlsplit

from attrs import frozen

from ._graph_query import GraphError

__all__ = ["MAX_BATCH", "BatchStep", "order_steps", "parse_batch"]

#: the most requests one batch may hold.
MAX_BATCH = 20
_INVALID = "Invalid batch payload format."


@frozen(kw_only=True)
class BatchStep:
    """One inner request of a batch."""

    id: str
    method: str
    url: str
    depends_on: tuple[str, ...] = ()


def _bad(message: str = _INVALID) -> GraphError:
    return GraphError(400, "BadRequest", message)


def parse_batch(data: bytes) -> list[BatchStep]:
    """The inner requests of a batch body, in the order sent.

    Raises:
        GraphError: 400 for a body that is not a batch, more than 20 requests,
            a duplicate or missing id, an absolute URL, or an unknown ``dependsOn``.
    """
    try:
        payload = json.loads(data or b"null")
    except ValueError as exc:
        raise _bad() from exc
    requests = payload.get("requests") if isinstance(payload, dict) else None
    if not isinstance(requests, list) or not requests:
        raise _bad()
    if len(requests) > MAX_BATCH:
        raise _bad(f"Number of batch request steps exceeds the maximum of {MAX_BATCH}.")
    steps: list[BatchStep] = []
    seen: set[str] = set()
    for raw in requests:
        if not isinstance(raw, dict):
            raise _bad()
        step_id, method, url = raw.get("id"), raw.get("method"), raw.get("url")
        if not isinstance(step_id, str) or not step_id or not isinstance(method, str):
            raise _bad()
        if not isinstance(url, str) or not url or urlsplit(url).scheme or url.startswith("//"):
            raise _bad()  # absolute URLs are refused as a malformed batch
        url = url if url.startswith("/") else "/" + url  # the docs' example: "users?$select=..."
        if step_id.lower() in seen:
            raise _bad(f"Batch request ids must be unique; '{step_id}' appears more than once.")
        seen.add(step_id.lower())
        depends = raw.get("dependsOn", [])
        if not isinstance(depends, list) or not all(isinstance(d, str) for d in depends):
            raise _bad()
        steps.append(
            BatchStep(id=step_id, method=method.upper(), url=url, depends_on=tuple(depends))
        )
    for step in steps:
        unknown = [d for d in step.depends_on if d.lower() not in seen]
        if unknown:
            raise _bad(f"Request '{step.id}' depends on unknown request '{unknown[0]}'.")
    return steps


def order_steps(steps: Sequence[BatchStep]) -> list[BatchStep]:
    """``steps`` with every request after the ones it depends on (else in the order sent).

    Raises:
        GraphError: 400 when the dependencies form a cycle.
    """
    done: set[str] = set()
    ordered: list[BatchStep] = []
    waiting = list(steps)
    while waiting:
        ready = [s for s in waiting if all(d.lower() in done for d in s.depends_on)]
        if not ready:
            raise _bad(f"The dependencies of request '{waiting[0].id}' form a cycle.")
        for step in ready:
            ordered.append(step)
            done.add(step.id.lower())
        waiting = [s for s in waiting if s.id.lower() not in done]
    return ordered
