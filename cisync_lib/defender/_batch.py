"""Graph JSON batching: up to 20 GETs in one ``POST /$batch``, each answer judged on its own.

Graph evaluates (and throttles) every inner request of a batch on its own:
the batch answers 200 while some inner requests answer 429 with their own
``Retry-After``. So each inner answer is handled alone: a success or a final
error (404, 400, ...) is handed back to the caller, a 429/503 (or another
retryable status) is sent again in the next round, after the longest
``Retry-After`` the round asked for, and only those. Rounds stop when all
are answered, or after ``retries`` rounds in a row without progress: a round
that answered some is progress, however throttled the rest, and so is a round
of 429s only while other batches of the client got answers (under a tight
budget a request may wait many rounds for its turn). A request that fails on
its own gets ``retries`` retries, as a plain request does.
After a throttled round, batches carry half as many requests (never fewer than
that round got through), doubling again while rounds pass unthrottled: a tight
budget is met at its pace rather than with a wall of 429s.
Answers come back in no particular order; they are matched by ``id``.
"""

from __future__ import annotations

import itertools
import logging
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from attrs import frozen

from cisync_lib._http import THROTTLE_STATUSES
from cisync_lib.errors import DefenderAuthError, DefenderHttpError, DefenderPayloadError

from ._http import HttpClient, Where, graph_error

__all__ = ["Answer", "GraphBatcher", "MAX_BATCH", "inner_error"]

logger = logging.getLogger(__name__)

#: the most requests Graph accepts in one batch.
MAX_BATCH = 20


@frozen(kw_only=True)
class Answer:
    """One inner answer of a batch.

    Attributes:
        status: the inner HTTP status.
        body: the decoded inner body (a JSON object, or ``None``).
        headers: the inner headers, keys lower-cased.
    """

    status: int
    body: Any
    headers: Mapping[str, str]


class GraphBatcher:
    """Sends GETs of one Graph root as JSON batches.

    Args:
        http: the source's HTTP client (its limiter paces the envelopes).
        root: the Graph root, ``https://graph.microsoft.com``.
        version: the API version of every inner request (``beta``).
        sleep: how to wait between rounds (default: the HTTP policy's wait; tests
            pass a fake one).
    """

    def __init__(
        self,
        http: HttpClient,
        root: str,
        *,
        version: str = "beta",
        sleep: Callable[[float], None] | None = None,
    ) -> None:
        self._http = http
        self._prefix = f"{root}/{version}"
        self._url = f"{self._prefix}/$batch"
        self._sleep = sleep
        self._lock = threading.Lock()
        self.batches = 0
        self.inner_sent = 0
        self.inner_retried = 0
        self._width = float(MAX_BATCH)
        self._answered = 0  # inner answers that were not retried, by every thread

    def get_all(self, urls: Sequence[str], wheres: Sequence[Where]) -> list[Answer]:
        """GET every URL (absolute, under the root) in batches of at most 20; answers in order.

        Raises:
            DefenderHttpError: the batch itself failed, or an inner request was
                still throttled after ``retries`` rounds without progress.
            DefenderPayloadError: the batch answer is not Graph's shape.
        """
        answers: list[Answer | None] = [None] * len(urls)
        for start in range(0, len(urls), MAX_BATCH):
            chunk = range(start, min(start + MAX_BATCH, len(urls)))
            for index, answer in self._rounds([(i, urls[i]) for i in chunk], wheres).items():
                answers[index] = answer
        return [a for a in answers if a is not None]

    def _rounds(self, items: list[tuple[int, str]], wheres: Sequence[Where]) -> dict[int, Answer]:
        policy = self._http.policy
        retry = self._http.retry()  # reads Retry-After as the adapter does for plain requests
        pending = {str(index): (index, self._relative(url)) for index, url in items}
        done: dict[int, Answer] = {}
        stalled, first = 0, True
        seen = self._answered  # progress is the client's: other batches' answers count too
        while pending:
            sending = dict(itertools.islice(pending.items(), self.width))
            request = f"POST {self._url}"
            body = {
                "requests": [{"id": k, "method": "GET", "url": u} for k, (_, u) in sending.items()]
            }
            payload = self._http.fetch_json(
                "POST", self._url, Where(entity="batch"), body=body, adapt=False
            )
            answered = _answers(payload, set(sending), request)
            again: dict[str, tuple[int, str]] = {}
            waits: list[float] = []
            throttled = 0
            for key, answer in answered.items():
                if answer.status in policy.retry_statuses:
                    again[key] = sending[key]
                    throttled += answer.status in THROTTLE_STATUSES
                    waits.append(retry.retry_after(answer.headers.get("retry-after")) or 0.0)
                else:
                    done[sending[key][0]] = answer
                    del pending[key]
            self._adapt(len(sending), len(sending) - len(again), throttled, again)
            longest = max(waits, default=0.0)
            limiter = self._http.limiter
            if limiter is not None:
                limiter.record(200, throttled=throttled, retry_after=longest or None, kind="batch")
            if not again:
                first = False
                continue
            with self._lock:
                elsewhere, seen = self._answered > seen, self._answered
            # waiting for its turn under a 429 is no failure while the client gets answers;
            # a 5xx is this request's own trouble
            waiting = all(answered[k].status == 429 for k in again)
            progress = len(again) < len(sending) or (waiting and elsewhere)
            stalled = 0 if first or progress else stalled + 1
            first = False
            if stalled >= policy.retries:
                key = next(iter(again))
                url = self._prefix + again[key][1]
                note = f"still failing after {policy.retries} retries (rounds without progress): "
                raise inner_error(answered[key], url, wheres[again[key][0]], note=note)
            if not longest:  # no Retry-After: urllib3's backoff rule, per round without progress
                longest = min(policy.backoff_max, policy.backoff_factor * 2 ** max(0, stalled - 1))
            logger.debug(
                "$batch: %d of %d inner requests throttled or failing; again in %.1f s",
                len(again),
                len(sending),
                longest,
            )
            (self._sleep or retry.pause)(longest)
        return done

    @property
    def width(self) -> int:
        """Inner requests the next batch may carry (20 until the service throttles)."""
        with self._lock:
            return max(1, int(self._width))

    def _adapt(self, sent: int, answered: int, throttled: int, again: Mapping[str, object]) -> None:
        """Count a round; narrow or widen the batches.

        A throttled round halves the width of the next batches (not below what got
        through), so a tight budget is not met with a wall of 429s.
        """
        with self._lock:
            self.batches += 1
            self.inner_sent += sent
            self.inner_retried += len(again)
            self._answered += answered
            if throttled:  # halve, or down to what got through when that is more
                self._width = max(1.0, float(answered), self._width / 2)
            else:
                self._width = min(float(MAX_BATCH), self._width * 2)

    def _relative(self, url: str) -> str:
        if not url.startswith(self._prefix + "/"):
            raise ValueError(f"{url!r} is not under {self._prefix}")
        return url[len(self._prefix) :]


def _answers(payload: object, expected: set[str], request: str) -> dict[str, Answer]:
    """The inner answers by id; every id sent must be answered once."""
    entity = "batch"
    responses = payload.get("responses") if isinstance(payload, Mapping) else None
    if not isinstance(responses, list):
        problem = "expected a list @ $.responses"
        raise DefenderPayloadError(request=request, entity=entity, problems=[problem])
    found: dict[str, Answer] = {}
    problems: list[str] = []
    for index, raw in enumerate(responses):
        where = f"$.responses[{index}]"
        if not isinstance(raw, Mapping):
            problems.append(f"expected a JSON object @ {where}")
            continue
        key, status = raw.get("id"), raw.get("status")
        if not isinstance(key, str) or key not in expected or key in found:
            problems.append(f"unknown or repeated id {key!r} @ {where}.id")
            continue
        if isinstance(status, bool) or not isinstance(status, int):
            problems.append(f"expected an integer @ {where}.status")
            continue
        headers = raw.get("headers")
        lowered = (
            {str(k).lower(): str(v) for k, v in headers.items()}
            if isinstance(headers, Mapping)
            else {}
        )
        found[key] = Answer(status=status, body=raw.get("body"), headers=lowered)
    missing = sorted(expected - set(found), key=lambda k: (len(k), k))
    problems.extend(f"no answer for request id {k!r} @ $.responses" for k in missing)
    if problems:
        raise DefenderPayloadError(request=request, entity=entity, problems=problems)
    return found


def inner_error(
    answer: Answer, url: str, where: Where, *, note: str = ""
) -> DefenderHttpError | DefenderAuthError:
    """The error of a failed inner answer, named as the same request on its own would be.

    Graph repeats the inner request-id in the body (``error.innerError``), not in
    the inner headers.
    """
    detail, inner_id = graph_error(answer.body)
    detail = note + (detail or f"HTTP {answer.status}")
    name = f"GET {url} (in a $batch)"
    request_id = answer.headers.get("request-id") or inner_id
    if answer.status in (401, 403):
        return DefenderAuthError(
            error="unauthorized" if answer.status == 401 else "forbidden",
            error_description=f"{name} answered HTTP {answer.status}: {detail}",
            correlation_id=request_id,
        )
    return DefenderHttpError(
        request=name,
        status=answer.status,
        stream_id=where.stream_id,
        app_id=where.app_id,
        page=where.page,
        request_id=request_id,
        detail=detail,
    )
