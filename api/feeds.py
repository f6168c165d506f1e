"""`POST /v1/feeds`: an RSS or Atom document in, one submission per item."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

import orjson
import redis
from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, ValidationError
from starlette.concurrency import run_in_threadpool

from api.auth import AUTH_RESPONSES, require_scope
from api.intake import SubmissionIntake
from api.problems import Problem, ProblemError, field_errors
from newsflow.contract import Submission
from newsflow.feeds import FeedError, parse_feed

router = APIRouter(tags=["articles"])
FEED_TYPES = ("application/rss+xml", "application/atom+xml", "application/xml", "text/xml")


class FeedItemResult(BaseModel):
    index: int
    external_id: str | None
    id: uuid.UUID | None = None
    duplicate: bool = False
    error: str | None = None


class FeedAccepted(BaseModel):
    accepted: int
    duplicates: int
    rejected: int
    items: list[FeedItemResult]


@router.post(
    "/v1/feeds",
    status_code=202,
    response_model=FeedAccepted,
    dependencies=[Depends(require_scope("submit"))],
    responses={
        **{
            code: {"model": Problem, "content": {"application/problem+json": {}}}
            for code in (413, 415, 422, 503)
        },
        **AUTH_RESPONSES,
    },
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {media: {"schema": {"type": "string"}} for media in FEED_TYPES},
        }
    },
    summary="Submit an RSS or Atom feed: one submission per item",
)
async def submit_feed(
    request: Request, source: Annotated[str, Query(min_length=1, max_length=200)]
) -> FeedAccepted:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type not in FEED_TYPES:
        raise ProblemError(415, "Unsupported media type", f"send one of {', '.join(FEED_TYPES)}")
    try:
        items = parse_feed(await request.body(), source)
    except FeedError as exc:
        raise ProblemError(422, "Not a feed", str(exc)) from exc
    intake: SubmissionIntake = request.app.state.intake
    try:
        results = await run_in_threadpool(_accept_all, intake, items)
    except redis.RedisError as exc:
        # items accepted before the outage answer as duplicates when the feed is sent again
        raise ProblemError(
            503, "Queue unavailable", "retry the whole feed later", {"Retry-After": "5"}
        ) from exc
    return FeedAccepted(
        accepted=sum(1 for r in results if r.id and not r.duplicate),
        duplicates=sum(1 for r in results if r.duplicate),
        rejected=sum(1 for r in results if r.error),
        items=results,
    )


def _accept_all(intake: SubmissionIntake, items: list[dict[str, Any]]) -> list[FeedItemResult]:
    results = []
    for index, item in enumerate(items):
        external_id = item.get("external_id")
        try:
            submission = Submission.model_validate(item)
        except ValidationError as exc:
            first = field_errors(list(exc.errors()))[0]
            message = f"{first.field}: {first.message}" if first.field else first.message
            results.append(FeedItemResult(index=index, external_id=external_id, error=message))
            continue
        accepted = intake.accept(submission, orjson.dumps(item), None)
        results.append(
            FeedItemResult(
                index=index, external_id=external_id, id=accepted.id, duplicate=accepted.duplicate
            )
        )
    return results
