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

from fastapi import APIRouter, Depends, Query
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field
from sqlalchemy.exc import SQLAlchemyError

from api.auth import AUTH_RESPONSES, require_scope
from api.deps import SettingsDep, database
from api.problems import (
    PROBLEM_JSON,
    FieldError,
    Problem,
    ProblemError,
    database_problem,
    field_problem,
)
from newsflow.contract import ArticleDocument, Links, Status, article_url
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


class ArticleSummary(BaseModel):
    id: uuid.UUID
    status: Status
    links: Links
    source: str
    external_id: str | None = None
    url: str | None = None
    title: str | None = None
    lead: str | None = None
    language: str | None = None
    published_at: datetime | None = None
    received_at: datetime
    processed_at: datetime | None = None
    word_count: int | None = None
    authors: list[str] = Field(default_factory=list)
    site: str | None = None
    error: str | None = None
    rank: float | None = Field(
        default=None, description="Relevance to `q` (ts_rank); null without `q`."
    )


class ArticlePage(BaseModel):
    items: list[ArticleSummary]
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next page; null on the last page."
    )


class FeedItem(BaseModel):
    cursor: str = Field(description="Resume after this item with `after=<cursor>`.")
    id: uuid.UUID
    status: Status
    title: str | None = None
    language: str | None = None
    published_at: datetime | None = None
    processed_at: datetime | None = None
    changed_at: datetime
    links: Links
    document: ArticleDocument | None = Field(
        default=None, description="The article document, with `include=document`."
    )


class FeedPage(BaseModel):
    items: list[FeedItem]
    next: str = Field(description="The cursor to continue from (the last item's, or `after`).")
    caught_up: bool = Field(description="True when fewer than `limit` changes were ready.")


class CursorPrunedProblem(Problem):
    resume_after: str = Field(
        description="Pass as `after` to continue from the oldest change still kept."
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


def _cursor_pruned(settings: Settings, exc: CursorPruned) -> ProblemError:
    resume_after = changes.encode_cursor(*exc.resume_after)
    message = (
        f"changes after this cursor were pruned (the feed keeps "
        f"{settings.feed_retention_days} days); continue with after={resume_after} from the "
        "oldest change still kept, or start again without `after`"
    )
    error = ProblemError(410, "Cursor too old")
    error.problem = CursorPrunedProblem(
        title="Cursor too old",
        status=410,
        detail=f"after: {message}",
        errors=[FieldError(field="after", message=message)],
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
    settings: SettingsDep,
    filters: Annotated[_Filters, Depends()],
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Annotated[
        str | None,
        Query(pattern=search.CURSOR_PATTERN, description="`next_cursor` of the previous page."),
    ] = None,
) -> ArticlePage:
    try:
        with database(settings, filters.query_field) as connection:
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
    return ArticlePage(items=items, next_cursor=next_cursor)


@router.get(
    "/feed",
    response_model=FeedPage,
    summary="Every article change, once each, in order; resume with a cursor",
    description=(
        "Each insert or re-processing of an article appears once, in the order changes "
        "become final. Start with no `after` (the beginning) or `after=now` (only changes "
        "from now on), then pass `next` back as `after`. A cursor never skips a change, "
        "whatever the order in which concurrent workers commit. PostgreSQL consumers can "
        "`LISTEN newsflow_articles` to learn (payload: the article id) when to read again. "
        "Changes older than the retention (NEWSFLOW_FEED_RETENTION_DAYS) are pruned: a "
        "cursor from before them answers 410 with `resume_after`."
    ),
    responses={
        410: {
            "model": CursorPrunedProblem,
            "description": "Changes after `after` were pruned; `resume_after` is where the "
            "oldest change still kept follows",
            "content": {
                PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/CursorPrunedProblem"}}
            },
        }
    },
)
def read_feed(
    settings: SettingsDep,
    after: Annotated[
        str | None,
        Query(
            pattern=f"^now$|{changes.CURSOR_PATTERN}",
            description="`next` of the previous page, or `now`; none = the beginning.",
        ),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    include: Annotated[
        list[Literal["document"]] | None,
        Query(description="`document` adds each article's full document."),
    ] = None,
) -> FeedPage:
    with_document = "document" in (include or [])
    try:
        position = (
            changes.START if after is None or after == changes.NOW else changes.decode_cursor(after)
        )
    except BadCursor as exc:
        raise _bad_cursor("after", exc) from exc
    try:
        with database(settings) as connection:
            if after is None:
                position = changes.oldest_cursor(connection)
            elif after == changes.NOW:
                position = changes.current_end(connection)
            rows = changes.read_feed(
                connection,
                position,
                limit,
                include_document=with_document,
                base_url=settings.base_url,
            )
            if after is not None and after != changes.NOW:
                changes.check_not_pruned(connection, position)
    except CursorPruned as exc:
        raise _cursor_pruned(settings, exc) from exc
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
            links=_link(settings, row.article_id),
            document=ArticleDocument.model_validate(row.document) if row.document else None,
        )
        for row in rows
    ]
    next_cursor = items[-1].cursor if items else changes.encode_cursor(*position)
    return FeedPage(items=items, next=next_cursor, caught_up=len(items) < limit)


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
        "The same filters as `GET /v1/articles`, without paging: one document per line, in "
        "the same order, read from the database in batches (memory stays flat)."
    ),
)
def export(settings: SettingsDep, filters: Annotated[_Filters, Depends()]) -> StreamingResponse:
    engine = get_engine(settings.require_database_url())
    try:
        connection = engine.connect()
    except SQLAlchemyError as exc:
        raise database_problem(exc) from exc
    try:
        documents = search.export_documents(connection, filters.value, settings.base_url)
        first = next(documents, None)  # runs the query now, so errors answer 422 or 503
    except SQLAlchemyError as exc:
        connection.close()
        raise database_problem(exc, filters.query_field) from exc

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

    return StreamingResponse(lines(), media_type=NDJSON)
