"""Every request's id, trace context and access log line, as plain ASGI in front of the
rest (so the submit fast path has them too): the caller's ``X-Request-ID`` (when valid)
or a new one, answered in the response's ``X-Request-ID``; the caller's ``traceparent``
continued (or a trace started), bound to every log line of the request and carried by the
task messages it enqueues (newsflow/logs.py); and, after the answer, one line on
``newsflow.access`` with method, route, status and duration."""

from __future__ import annotations

import logging
import time
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from newsflow import logs

access_log = logging.getLogger("newsflow.access")
REQUEST_ID_HEADER = b"x-request-id"


class RequestContext:
    def __init__(self, app: ASGIApp, *, access_log: bool = True) -> None:
        self.app = app
        self.access_log = access_log

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        request_id = traceparent = None
        for name, value in scope["headers"]:  # the first of each, as Starlette's get()
            if name == REQUEST_ID_HEADER and request_id is None:
                request_id = value.decode("latin-1")
            elif name == b"traceparent" and traceparent is None:
                traceparent = value.decode("latin-1")
        request_id = logs.valid_request_id(request_id) or logs.new_request_id()
        trace = logs.continue_trace(traceparent)
        status: int | None = None
        answered_id = request_id.encode()

        async def send_with_request_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", ()), (b"x-request-id", answered_id)]
            await send(message)

        token = logs.bind(request_id=request_id, **trace.fields())
        try:
            await self.app(scope, receive, send_with_request_id)
        except BaseException:
            status = status or 500  # ServerErrorMiddleware, outside, answers 500
            raise
        finally:
            if self.access_log:
                # no answer started: the client went away first (nginx's 499)
                _log_access(scope, status or 499, started)
            logs.unbind(token)


def _log_access(scope: Scope, status: int, started: float) -> None:
    if not access_log.isEnabledFor(logging.INFO):
        return
    route: Any = scope.get("route")  # set by the router; the fast path's is its own path
    path = scope["path"]
    method = scope["method"]
    fields = {
        "method": method,
        "route": getattr(route, "path", None) or path,
        "status": status,
        "duration_ms": round((time.perf_counter() - started) * 1000, 2),
    }
    # the record made directly: Logger.info() would walk the stack for the caller's line,
    # which no format writes
    access_log.handle(
        access_log.makeRecord(
            access_log.name,
            logging.INFO,
            __file__,
            0,
            "%s %s %d",
            (method, path, status),
            None,
            extra=fields,
        )
    )
