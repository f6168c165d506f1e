"""`POST /v1/feeds`: an RSS or Atom document in, one submission per item."""

from __future__ import annotations

from typing import Annotated

import redis
from fastapi import APIRouter, Depends, Query, Request
from starlette.concurrency import run_in_threadpool

from api.auth import require_scope
from api.batch import many_submissions_route, summarise, validate_item
from api.intake import SubmissionIntake
from api.metrics import count_items
from api.problems import ProblemError
from newsflow.apikeys import Principal
from newsflow.contract import BatchAccepted, ItemResult
from newsflow.feeds import UNUSABLE_DATE, FeedError, ParsedFeed, parse_feed

router = APIRouter(tags=["articles"])
FEED_TYPES = (
    "application/rss+xml",
    "application/atom+xml",
    "application/rdf+xml",
    "application/xml",
    "text/xml",
)


@many_submissions_route(
    router,
    "/v1/feeds",
    {media: {"schema": {"type": "string"}} for media in FEED_TYPES},
    "Submit an RSS or Atom feed: one submission per item",
)
async def submit_feed(
    request: Request,
    principal: Annotated[Principal, Depends(require_scope("submit"))],
    source: Annotated[str, Query(min_length=1, max_length=200)],
) -> BatchAccepted:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type not in FEED_TYPES:
        raise ProblemError(415, "Unsupported media type", f"send one of {', '.join(FEED_TYPES)}")
    try:
        feed = parse_feed(await request.body(), source)
    except FeedError as exc:
        raise ProblemError(422, "Not a feed", str(exc)) from exc
    intake: SubmissionIntake = request.app.state.intake
    try:
        results = await run_in_threadpool(accept_items, intake, feed, principal.owner)
    except redis.RedisError as exc:
        # items accepted before the outage answer as duplicates when the feed is sent again
        raise ProblemError(
            503, "Queue unavailable", "retry the whole feed later", {"Retry-After": "5"}
        ) from exc
    summary = summarise(results)
    count_items("feed", summary.accepted, summary.duplicates, summary.rejected)
    return summary


def accept_items(intake: SubmissionIntake, feed: ParsedFeed, owner: str) -> list[ItemResult]:
    """Each item through intake, as POST /v1/feeds and polled sources (worker/sources.py)
    take them: idempotent on the item's id (its guid, Atom id, or link)."""
    results = []
    for index, item in enumerate(feed.items):
        checked = validate_item(index, item)
        if isinstance(checked, ItemResult):
            results.append(checked)
            continue
        accepted = intake.accept(checked, None, owner=owner)
        warnings = []
        if (unusable := checked.metadata.get(UNUSABLE_DATE)) is not None:
            warnings.append(
                f"published_at: {unusable!r} is not a usable date (unreadable, or out of "
                f"range); accepted without it, kept in metadata.{UNUSABLE_DATE}"
            )
        if feed.problem:
            warnings.append(f"the feed is not well-formed ({feed.problem}); read leniently")
        results.append(
            ItemResult(
                index=index,
                external_id=checked.external_id,
                id=accepted.id,
                duplicate=accepted.duplicate,
                version=accepted.version,
                warning="; ".join(warnings) or None,
            )
        )
    return results
