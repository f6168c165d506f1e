"""``GET /v1/feed/stream``: the change feed as Server-Sent Events (scope ``read``).

Each change is one event, ``id: <feed cursor>`` and ``data: <the change as JSON>`` (the
fields of a ``GET /v1/feed`` item), in feed order. A client resumes with the
``Last-Event-ID`` header (EventSource sends it by itself on reconnecting) or ``cursor``;
``Last-Event-ID`` wins, since a reconnecting EventSource keeps the URL it started with.

* Woken by ``LISTEN newsflow_articles``: one listening connection per API process
  (``FeedWaker``), shared by every stream; each stream then reads the feed from its own
  cursor, through the pooled engine, in pages. A NOTIFY may come before its change is
  exposed (an older transaction still runs), so a wake-up that finds nothing looks again
  shortly; and every ``POLL_SECONDS`` whatever happens (the listener may be reconnecting).
* A comment line (``: heartbeat``) every ``NEWSFLOW_STREAM_HEARTBEAT_SECONDS`` of silence,
  so proxies keep the connection open and a gone client is noticed.
* Bounded: a stream holds no buffer beyond one page of changes, and ends after
  ``NEWSFLOW_STREAM_MAX_SECONDS``; the client reconnects with ``Last-Event-ID`` and misses
  nothing (``retry:`` tells EventSource how soon).

A plain StreamingResponse: an async generator of lines is all SSE needs here.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import AsyncIterator
from typing import Annotated, Literal

import psycopg
from fastapi import APIRouter, Depends, Header, Query, Request
from fastapi.responses import StreamingResponse
from sqlalchemy.exc import SQLAlchemyError
from starlette.concurrency import run_in_threadpool

from api.auth import AUTH_RESPONSES, require_scope
from api.deps import SettingsDep, database
from api.problems import field_problem, problem_responses
from newsflow.settings import Settings
from newsflow.store import changes
from newsflow.store.changes import BadCursor, CursorPruned
from newsflow.store.db import get_engine

log = logging.getLogger("newsflow.api.stream")

EVENT_STREAM = "text/event-stream"
PAGE = 100
POLL_SECONDS = 5.0
RECHECK_SECONDS = 0.25  # after a NOTIFY whose change was not exposed yet
RECONNECT_MS = 1000

router = APIRouter(
    prefix="/v1",
    tags=["consumers"],
    dependencies=[Depends(require_scope("read"))],
    responses={**AUTH_RESPONSES, **problem_responses(410, 422)},
)


class FeedWaker:
    """One ``LISTEN newsflow_articles`` per API process: ``changed()`` is an event set at
    the next notification. Started by the first stream, stopped by the app's lifespan."""

    def __init__(self, database_url: str | None) -> None:
        self.database_url = database_url
        self._event = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def changed(self) -> asyncio.Event:
        if self._task is None and self.database_url:
            self._task = asyncio.create_task(self._listen())
        return self._event

    def _wake(self) -> None:
        event, self._event = self._event, asyncio.Event()
        event.set()

    async def _listen(self) -> None:
        assert self.database_url is not None
        while True:
            try:
                async with await psycopg.AsyncConnection.connect(
                    self.database_url, autocommit=True
                ) as connection:
                    await connection.execute(f"LISTEN {changes.NOTIFY_CHANNEL}")
                    async for _ in connection.notifies():
                        self._wake()
            except (psycopg.Error, OSError) as exc:
                log.warning("event stream: LISTEN failed (%s); polling meanwhile", exc)
                await asyncio.sleep(POLL_SECONDS)

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None


def _start(settings: Settings, cursor: str | None, field: str) -> tuple[int, int]:
    try:
        position = changes.START if cursor in (None, changes.NOW) else changes.decode_cursor(cursor)
    except BadCursor as exc:
        raise field_problem(field, str(exc)) from exc
    with database(settings, replica=True) as connection:
        if cursor is None:
            return changes.oldest_cursor(connection)
        if cursor == changes.NOW:
            return changes.current_end(connection)
        try:
            changes.check_not_pruned(connection, position)
        except CursorPruned as exc:
            resume = changes.encode_cursor(*exc.resume_after)
            error = field_problem(field, f"changes after it were pruned; resume after {resume}")
            error.problem.status, error.problem.title = 410, "Cursor too old"
            raise error from exc
    return position


def _read(
    settings: Settings, position: tuple[int, int], include_document: bool
) -> list[changes.FeedRow]:
    with get_engine(settings.reader_database_url()).connect() as connection:
        return changes.read_feed(
            connection,
            position,
            PAGE,
            include_document=include_document,
            base_url=settings.base_url,
        )


async def _events(
    settings: Settings,
    waker: FeedWaker,
    position: tuple[int, int],
    include_document: bool,
) -> AsyncIterator[str]:
    started = last_sent = time.monotonic()
    yield f"retry: {RECONNECT_MS}\n\n"
    recheck = False
    while True:
        changed = waker.changed()  # taken before reading: a NOTIFY during the read wakes us
        try:
            rows = await run_in_threadpool(_read, settings, position, include_document)
        except SQLAlchemyError as exc:
            log.warning("event stream: reading the feed failed (%s); closing the stream", exc)
            return  # the client reconnects with Last-Event-ID
        for row in rows:
            change = json.dumps(row.as_change(settings.base_url), ensure_ascii=False)
            yield f"id: {row.cursor}\ndata: {change}\n\n"
            position = (row.xid, row.position)
        now = time.monotonic()
        if rows:
            last_sent = now
        if len(rows) == PAGE:
            continue
        left = settings.stream_max_seconds - (now - started)
        if left <= 0:
            return
        heartbeat_in = settings.stream_heartbeat_seconds - (now - last_sent)
        if heartbeat_in <= 0:
            yield ": heartbeat\n\n"
            last_sent, heartbeat_in = now, settings.stream_heartbeat_seconds
        wait = min(RECHECK_SECONDS if recheck and not rows else POLL_SECONDS, heartbeat_in, left)
        try:
            await asyncio.wait_for(changed.wait(), wait)
            recheck = True
        except TimeoutError:
            recheck = False


@router.get(
    "/feed/stream",
    response_class=StreamingResponse,
    responses={
        200: {
            "description": "Server-Sent Events: `id: <cursor>`, `data: <change JSON>` per "
            "change, `: heartbeat` comments while idle.",
            "content": {EVENT_STREAM: {"schema": {"type": "string"}}},
        }
    },
    summary="The change feed as Server-Sent Events, as changes happen",
    description=(
        "Every change after the cursor (`Last-Event-ID`, else `cursor`; none = the "
        "beginning, `now` = from now on), then each new one as it is committed. The stream "
        "ends after NEWSFLOW_STREAM_MAX_SECONDS; reconnect with Last-Event-ID."
    ),
)
async def stream_feed(
    request: Request,
    settings: SettingsDep,
    cursor: Annotated[
        str | None,
        Query(
            pattern=f"^now$|{changes.CURSOR_PATTERN}",
            description="Start after this feed cursor, or `now`; none = the beginning.",
        ),
    ] = None,
    last_event_id: Annotated[
        str,
        Header(pattern=changes.CURSOR_PATTERN, description="The last event's id: resume after it."),
    ] = "",
    include: Annotated[
        list[Literal["document"]] | None,
        Query(description="`document` adds each article's full document."),
    ] = None,
) -> StreamingResponse:
    field = "Last-Event-ID" if last_event_id else "cursor"
    position = await run_in_threadpool(_start, settings, last_event_id or cursor, field)
    waker: FeedWaker = request.app.state.feed_waker
    return StreamingResponse(
        _events(settings, waker, position, "document" in (include or [])),
        media_type=EVENT_STREAM,
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
