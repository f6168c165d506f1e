"""What downstream consumers read: ``GET /v1/articles`` (filters, full-text search, keyset
pagination), ``GET /v1/feed`` (every change, once, in order) and ``GET /v1/export``
(NDJSON of every matching document, streamed). All need the ``read`` scope.

Filters are in ``newsflow/store/search.py`` and the feed's design in
``newsflow/store/changes.py``."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import StreamingResponse
from pydantic import Field
from sqlalchemy.exc import SQLAlchemyError

from api.auth import AUTH_RESPONSES, require_scope
from api.deps import SettingsDep, database
from api.paging import chosen_cursor, link_next
from api.problems import (
    PROBLEM_JSON,
    FieldError,
    Problem,
    ProblemError,
    database_problem,
    field_problem,
)
from newsflow.contract import (
    ArticleDocument,
    ArticlePage,
    ArticleSummary,
    FeedItem,
    FeedPage,
    Links,
    Status,
    article_url,
)
from newsflow.settings import Settings
from newsflow.store import changes, search
from newsflow.store.changes import BadCursor, CursorPruned
from newsflow.store.db import get_engine

_PROBLEM_SCHEMA = {"schema": {"$ref": "#/components/schemas/Problem"}}
# AUTH_RESPONSES, with the Problem schema under application/problem+json too (the media
# type errors are actually sent as), and the 422 of bad parameters and cursors
_PROBLEMS: dict[int | str, dict[str, Any]] = {
    **{
        code: {**spec, "content": {PROBLEM_JSON: _PROBLEM_SCHEMA}}
        for code, spec in AUTH_RESPONSES.items()
    },
    422: {
        "model": Problem,
        "description": "An invalid parameter or cursor; `errors` names the field",
        "content": {PROBLEM_JSON: _PROBLEM_SCHEMA},
    },
}
router = APIRouter(
    prefix="/v1",
    tags=["consumers"],
    dependencies=[Depends(require_scope("read"))],
    responses=_PROBLEMS,
)
NDJSON = "application/x-ndjson"


class CursorPrunedProblem(Problem):
    resume_after: str = Field(
        description="Pass as `cursor` to continue from the oldest change still kept."
    )


class _Filters:
    """The query parameters that ``GET /v1/articles`` and ``GET /v1/export`` share."""

    def __init__(
        self,
        source: Annotated[
            list[str] | None, Query(description="Sender; repeat to match any of several.")
        ] = None,
        language: Annotated[
            list[str] | None, Query(description="ISO 639 code; repeat for several.")
        ] = None,
        status: Annotated[Status, Query(description="Submission state.")] = Status.done,
        published_after: Annotated[
            datetime | None, Query(description="published_at >= this.")
        ] = None,
        published_before: Annotated[
            datetime | None, Query(description="published_at < this.")
        ] = None,
        received_after: Annotated[
            datetime | None, Query(description="received_at >= this.")
        ] = None,
        received_before: Annotated[
            datetime | None, Query(description="received_at < this.")
        ] = None,
        q: Annotated[
            str | None,
            Query(
                min_length=1,
                max_length=500,
                description='Full text (websearch syntax: "a phrase", or, -not); ranks results.',
            ),
        ] = None,
        entity: Annotated[
            list[str] | None,
            Query(
                description="Mentions this entity: a key (`country:LT`) or a canonical name in "
                "any language (`Lithuania`, `Литва`); repeat for any of several."
            ),
        ] = None,
        cited_source: Annotated[
            list[str] | None, Query(description="Cites this outlet (`TVP World`).")
        ] = None,
        quoted: Annotated[
            str | None,
            Query(max_length=200, description="Has a quote by a speaker whose name contains this."),
        ] = None,
    ) -> None:
        # the parameter a query error is the fault of: the free text the database parses
        # (the other values are checked here, or escaped)
        self.query_field = "q" if q is not None else None
        # (a NUL in any of them is refused: api.problems.no_nul_parameters)
        self.value = search.FilterParameters(
            source=source or [],
            language=language or [],
            status=status,
            published_after=published_after,
            published_before=published_before,
            received_after=received_after,
            received_before=received_before,
            q=q,
            entity=entity or [],
            cited_source=cited_source or [],
            quoted=quoted,
        ).to_filters()


def _link(settings: Settings, article_id: uuid.UUID) -> Links:
    return Links(self=article_url(settings.base_url, article_id))


def _bad_cursor(name: str, exc: BadCursor) -> ProblemError:
    return field_problem(name, str(exc))


def _cursor_pruned(settings: Settings, exc: CursorPruned, name: str) -> ProblemError:
    """The 410 of a cursor older than the retention; ``name``: the parameter it came in."""
    resume_after = changes.encode_cursor(*exc.resume_after)
    message = (
        f"changes after this cursor were pruned (the feed keeps "
        f"{settings.feed_retention_days} days); continue with {name}={resume_after} from the "
        f"oldest change still kept, or start again without `{name}`"
    )
    error = ProblemError(410, "Cursor too old")
    error.problem = CursorPrunedProblem(
        title="Cursor too old",
        status=410,
        detail=f"{name}: {message}",
        errors=[FieldError(field=name, message=message)],
        resume_after=resume_after,
    )
    return error


@router.get(
    "/articles",
    response_model=ArticlePage,
    summary="Articles matching filters, newest first or by relevance to `q`",
    description=(
        "Filters combine (AND; a repeated parameter matches any of its values). Without `q` "
        "the order is newest received first; with `q`, by `rank` (ts_rank) then id. Pages "
        "are keyset: pass `next_cursor` as `cursor`; rows inserted meanwhile never repeat "
        "or hide rows that existed when paging began. A cursor is valid only for the same "
        "filters."
    ),
)
def list_articles(
    request: Request,
    response: Response,
    settings: SettingsDep,
    filters: Annotated[_Filters, Depends()],
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Annotated[
        str | None,
        Query(pattern=search.CURSOR_PATTERN, description="`next_cursor` of the previous page."),
    ] = None,
) -> ArticlePage:
    try:
        with database(settings, filters.query_field, replica=True) as connection:
            rows, next_cursor = search.list_articles(connection, filters.value, limit, cursor)
    except BadCursor as exc:
        raise _bad_cursor("cursor", exc) from exc
    items = [
        ArticleSummary.model_validate(
            {
                **row,
                "links": _link(settings, row["id"]),
                "authors": row["authors"] or [],
                "processed_at": row["processed_at"] or row["finished_at"],
            }
        )
        for row in rows
    ]
    link_next(request, response, next_cursor)
    return ArticlePage(items=items, next_cursor=next_cursor)


_FEED_CURSOR = f"^now$|{changes.CURSOR_PATTERN}"


@router.get(
    "/feed",
    response_model=FeedPage,
    summary="Every article change, once each, in order; resume with a cursor",
    description=(
        "Each insert or re-processing of an article appears once, in the order changes "
        "become final. Start with no `cursor` (the beginning) or `cursor=now` (only changes "
        "from now on), then pass `next_cursor` back as `cursor`. A cursor never skips a "
        "change, whatever the order in which concurrent workers commit. PostgreSQL consumers "
        "can `LISTEN newsflow_articles` to learn (payload: the article id) when to read "
        "again. Changes older than the retention (NEWSFLOW_FEED_RETENTION_DAYS) are pruned: "
        "a cursor from before them answers 410 with `resume_after`. `after` (in) and `next` "
        "(out) are the deprecated names of `cursor` and `next_cursor`."
    ),
    responses={
        410: {
            "model": CursorPrunedProblem,
            "description": "Changes after the cursor were pruned; `resume_after` is where the "
            "oldest change still kept follows",
            "content": {
                PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/CursorPrunedProblem"}}
            },
        }
    },
)
def read_feed(
    request: Request,
    response: Response,
    settings: SettingsDep,
    cursor: Annotated[
        str | None,
        Query(
            pattern=_FEED_CURSOR,
            description="`next_cursor` of the previous page, or `now`; none = the beginning.",
        ),
    ] = None,
    after: Annotated[
        str | None,
        Query(pattern=_FEED_CURSOR, deprecated=True, description="The old name of `cursor`."),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    include: Annotated[
        list[Literal["document"]] | None,
        Query(description="`document` adds each article's full document."),
    ] = None,
) -> FeedPage:
    name = "after" if after is not None and cursor is None else "cursor"
    given = chosen_cursor(request, response, cursor, "after", after)
    with_document = "document" in (include or [])
    try:
        position = (
            changes.START if given is None or given == changes.NOW else changes.decode_cursor(given)
        )
    except BadCursor as exc:
        raise _bad_cursor(name, exc) from exc
    try:
        with database(settings, replica=True) as connection:
            if given is None:
                position = changes.oldest_cursor(connection)
            elif given == changes.NOW:
                position = changes.current_end(connection)
            rows = changes.read_feed(
                connection,
                position,
                limit,
                include_document=with_document,
                base_url=settings.base_url,
            )
            if given is not None and given != changes.NOW:
                changes.check_not_pruned(connection, position)
            # a query of its own: only where there is a replica to be behind
            lag = changes.replica_lag_seconds(connection) if settings.read_database_url else None
    except CursorPruned as exc:
        raise _cursor_pruned(settings, exc, name) from exc
    items = [
        FeedItem(
            cursor=row.cursor,
            id=row.article_id,
            status=Status(row.status),
            title=row.title,
            language=row.language,
            published_at=row.published_at,
            processed_at=row.processed_at,
            changed_at=row.changed_at,
            version=row.version,
            links=_link(settings, row.article_id),
            document=ArticleDocument.model_validate(row.document) if row.document else None,
        )
        for row in rows
    ]
    next_cursor = items[-1].cursor if items else changes.encode_cursor(*position)
    caught_up = len(items) < limit
    # a feed always has a next page (changes to come); Link says so only while there is
    # more to read now, so a client following Link stops when caught up
    link_next(request, response, None if caught_up else next_cursor, "after")
    return FeedPage(
        items=items,
        next_cursor=next_cursor,
        caught_up=caught_up,
        replica_lag_seconds=lag,
        next=next_cursor,  # the old name, for clients of the last version
    )


@router.get(
    "/export",
    response_class=StreamingResponse,
    responses={
        200: {
            "description": "One article document per line (NDJSON), streamed.",
            "content": {NDJSON: {"schema": {"$ref": "#/components/schemas/ArticleDocument"}}},
        },
    },
    summary="Every matching article document as NDJSON, streamed",
    description=(
        "The same filters as `GET /v1/articles`: one document per line, in the same order, "
        "read from the database in batches (memory stays flat). Without `limit`, every "
        'match in one response; with `limit`, one page, and a `Link: <…>; rel="next"` '
        "header whose `cursor` continues it (the same cursors as `GET /v1/articles`)."
    ),
)
def export(
    request: Request,
    response: Response,
    settings: SettingsDep,
    filters: Annotated[_Filters, Depends()],
    limit: Annotated[
        int | None, Query(ge=1, le=10_000, description="At most this many (a page).")
    ] = None,
    cursor: Annotated[
        str | None,
        Query(pattern=search.CURSOR_PATTERN, description="Continue after this cursor."),
    ] = None,
) -> StreamingResponse:
    engine = get_engine(settings.reader_database_url())
    try:
        connection = engine.connect()
    except SQLAlchemyError as exc:
        raise database_problem(exc) from exc
    try:
        page_ids = next_cursor = None
        if limit is not None or cursor is not None:
            # the page's rows first, so the next cursor is known before the stream starts
            rows, next_cursor = search.list_articles(
                connection, filters.value, limit or 10_000, cursor
            )
            page_ids = [row["id"] for row in rows]
        documents = search.export_documents(
            connection, filters.value, settings.base_url, ids=page_ids
        )
        first = next(documents, None)  # runs the query now, so errors answer 422 or 503
    except BadCursor as exc:
        connection.close()
        raise _bad_cursor("cursor", exc) from exc
    except SQLAlchemyError as exc:
        connection.close()
        raise database_problem(exc, filters.query_field) from exc
    link_next(request, response, next_cursor)

    def lines() -> Iterator[bytes]:
        try:
            if first is None:
                return
            chunk = [first]
            size = len(first)
            for document in documents:
                chunk.append(document)
                size += len(document)
                if size >= 64 * 1024:
                    yield ("\n".join(chunk) + "\n").encode()
                    chunk, size = [], 0
            if chunk:
                yield ("\n".join(chunk) + "\n").encode()
        finally:
            documents.close()
            connection.close()

    return StreamingResponse(lines(), media_type=NDJSON, headers=dict(response.headers))
