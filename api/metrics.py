"""The API's Prometheus metrics and ``GET /metrics``.

Requests are counted by route template (``/v1/articles/{submission_id}``, never the raw
path: one series per route, not per article), method and status, timed by route and
method, by one plain-ASGI middleware outside everything else, so refusals before routing
(413, the SubmitFastPath) are counted too. The middleware does a few dictionary look-ups
and two clock reads a request: POST /v1/articles stays on its fast path. Submissions are
counted by outcome (accepted, repeated, refused with a reason) for each intake door.
With ``newsflow api --workers N`` every uvicorn worker counts into the multiprocess files
and /metrics adds them up (newsflow/metrics.py)."""

from __future__ import annotations

import time
from typing import Any

import redis.asyncio.retry
import redis.retry
from fastapi import APIRouter, Request
from fastapi.responses import Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from starlette._utils import get_route_path
from starlette.concurrency import run_in_threadpool
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from newsflow.metrics import exposed_registry

DEFINED = CollectorRegistry(auto_describe=True)
router = APIRouter()

REQUESTS = Counter(
    "newsflow_http_requests",
    "HTTP requests answered, by route template, method and status (none: the client left "
    "before an answer).",
    ["route", "method", "status"],
    registry=DEFINED,
)
REQUEST_SECONDS = Histogram(
    "newsflow_http_request_duration_seconds",
    "Time from a request's arrival to the end of its answer, by route template and method.",
    ["route", "method"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
    registry=DEFINED,
)
SUBMISSIONS = Counter(
    "newsflow_submissions",
    "Submissions by intake door (article: POST /v1/articles, batch, feed) and outcome: "
    "accepted, repeated (an earlier submission's id answered) or refused, with the reason.",
    ["door", "outcome", "reason"],
    registry=DEFINED,
)
REDIS_ERRORS = Counter(
    "newsflow_redis_errors",
    "Redis commands of the API that failed (each attempt; a retry may then succeed), by "
    "error: ConnectionError, TimeoutError, or deadline (no answer in time).",
    ["error"],
    registry=DEFINED,
)

UNMATCHED = "unmatched"  # no route: a 404, never its raw path
METHODS = frozenset(("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"))
# POST /v1/articles answers by status alone (api/submit.py)
_SUBMIT_OUTCOMES = {
    202: ("accepted", ""),
    200: ("repeated", ""),
    401: ("refused", "unauthorized"),
    403: ("refused", "forbidden"),
    413: ("refused", "too_large"),
    415: ("refused", "unsupported_media_type"),
    422: ("refused", "invalid"),  # a field, or an Idempotency-Key reused with another body
    429: ("refused", "rate_limited"),
    503: ("refused", "unavailable"),
}
_ITEMS = {
    door: (
        SUBMISSIONS.labels(door, "accepted", ""),
        SUBMISSIONS.labels(door, "repeated", ""),
        SUBMISSIONS.labels(door, "refused", "invalid"),
    )
    for door in ("batch", "feed")
}


def count_items(door: str, accepted: int, repeated: int, refused: int) -> None:
    """The items of one batch or feed request (an invalid item is refused alone)."""
    for child, amount in zip(_ITEMS[door], (accepted, repeated, refused), strict=True):
        if amount:
            child.inc(amount)


def count_redis_error(error: str) -> None:
    REDIS_ERRORS.labels(error).inc()


class CountedRetry(redis.retry.Retry):
    """redis-py's retry of the API's sync client, counting each failed attempt."""

    def call_with_retry(self, do: Any, fail: Any, *args: Any, **kwargs: Any) -> Any:
        def counted(error: Exception, *rest: Any) -> Any:
            count_redis_error(type(error).__name__)
            return fail(error, *rest)

        return super().call_with_retry(do, counted, *args, **kwargs)


class CountedAsyncRetry(redis.asyncio.retry.Retry):
    """The same for the async client."""

    async def call_with_retry(self, do: Any, fail: Any, *args: Any, **kwargs: Any) -> Any:
        async def counted(error: Exception, *rest: Any) -> Any:
            count_redis_error(type(error).__name__)
            return await fail(error, *rest)

        return await super().call_with_retry(do, counted, *args, **kwargs)


class RequestMetrics:
    """Counts and times every HTTP request (see the module docstring)."""

    def __init__(self, app: ASGIApp, submit_path: str) -> None:
        self.app = app
        self.submit_path = submit_path
        self._children: dict[tuple[str, str, str], tuple[Any, Any, Any]] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = "none"

        async def counting_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = str(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, counting_send)
        except BaseException:
            if status == "none":
                status = "500"  # what ServerErrorMiddleware, outside, answers
            raise
        finally:
            self._count(scope, status, time.perf_counter() - started)

    def _count(self, scope: Scope, status: str, seconds: float) -> None:
        method = scope["method"] if scope["method"] in METHODS else "other"
        route = self._route(scope)
        key = (route, method, status)
        children = self._children.get(key)
        if children is None:
            submission = None
            if route == self.submit_path and method == "POST" and status != "none":
                outcome, reason = _SUBMIT_OUTCOMES.get(int(status), ("refused", "error"))
                submission = SUBMISSIONS.labels("article", outcome, reason)
            children = self._children[key] = (
                REQUESTS.labels(route, method, status),
                REQUEST_SECONDS.labels(route, method),
                submission,
            )
        requests, duration, submission = children
        requests.inc()
        duration.observe(seconds)
        if submission is not None:
            submission.inc()

    def _route(self, scope: Scope) -> str:
        """The template of the route that answered; for a request answered before routing
        (the submit fast path, a body refused by its size) the route it was sent to."""
        route = scope.get("route")
        if route is not None:
            return str(getattr(route, "path", UNMATCHED))
        path = get_route_path(scope)
        if path == self.submit_path:
            return path
        for candidate in scope["app"].router.routes:
            match, _ = candidate.matches(scope)
            if match is Match.FULL:
                return str(getattr(candidate, "path", UNMATCHED))
        return UNMATCHED


@router.get("/metrics", include_in_schema=False)
async def metrics(request: Request) -> Response:
    """Prometheus text format: this process's metrics, or every uvicorn worker's."""
    registry = getattr(request.app.state, "metrics_registry", None)
    if registry is None:
        registry = request.app.state.metrics_registry = exposed_registry(DEFINED)
    body = await run_in_threadpool(generate_latest, registry)  # multiprocess mode reads files
    return Response(body, media_type=CONTENT_TYPE_LATEST)
