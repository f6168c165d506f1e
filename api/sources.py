"""`/v1/sources`: feeds newsflow polls itself (worker/sources.py), for operators (`admin`):
create, list, show, update, disable, poll now; each with its health."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any
from urllib.parse import urlsplit

import redis
from fastapi import APIRouter, Depends
from pydantic import AfterValidator, BaseModel, ConfigDict, Field
from pydantic.json_schema import SkipJsonSchema

from api.auth import AUTH_RESPONSES, require_scope
from api.deps import IntakeDep, SettingsDep, database
from api.problems import RETRY_AFTER, ProblemError, problem_responses
from newsflow.apikeys import Principal
from newsflow.contract import _URL, _URL_PATTERN, MAX_URL_LENGTH, clean_text
from newsflow.store import sources
from newsflow.taskmessage import queue_key, task_message
from newsflow.taskqueue import POLL_SOURCES

router = APIRouter(
    prefix="/v1/sources",
    tags=["sources"],
    dependencies=[Depends(require_scope("admin"))],
    responses=AUTH_RESPONSES,
)
NAME = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$"
LANGUAGE = r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$"


MIN_INTERVAL = 60  # seconds: no feed needs polling more often


def _feed_url(value: str) -> str:
    """The same URLs a `url` submission may name, cleaned as it is (newsflow/contract.py:
    NUL dropped, lone surrogates replaced), so PostgreSQL can store it."""
    value = clean_text(value)
    if not _URL.fullmatch(value) or not urlsplit(value).hostname:
        raise ValueError("must be an absolute http(s) URL with a valid host, no credentials")
    return value


FeedUrl = Annotated[
    str,
    Field(
        max_length=MAX_URL_LENGTH,
        json_schema_extra={"pattern": _URL_PATTERN},
        description="The feed (RSS or Atom).",
    ),
    AfterValidator(_feed_url),
]
Interval = Annotated[
    int, Field(ge=MIN_INTERVAL, le=7 * 86400, description="Seconds between polls.")
]


class SourceChanges(BaseModel):
    """Only the fields sent change; ``language: null`` drops the hint."""

    model_config = ConfigDict(extra="forbid")

    url: FeedUrl | SkipJsonSchema[None] = None
    poll_interval_seconds: Interval | SkipJsonSchema[None] = None
    language: str | None = Field(
        default=None, pattern=LANGUAGE, description="A hint: items' declared language."
    )
    enabled: bool | SkipJsonSchema[None] = None


class NewSource(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=NAME, description="Unique; the `source` of its submissions.")
    url: FeedUrl
    poll_interval_seconds: Interval = 900
    language: str | None = Field(
        default=None, pattern=LANGUAGE, description="A hint: items' declared language."
    )


class SourceHealth(BaseModel):
    last_fetch_at: datetime | None
    last_status: str | None = Field(description="ok, not_modified, error, robots_disallowed")
    last_http_status: int | None
    items_seen: int = Field(description="Items in the feed at the last poll.")
    items_new: int = Field(description="Of those, new submissions.")
    total_items_new: int
    error_streak: int = Field(description="Polls failed in a row; each doubles the wait.")
    next_poll_at: datetime
    last_error: str | None
    last_problem: str | None = Field(description="What was wrong with a feed read anyway.")


class SourceRecord(BaseModel):
    id: uuid.UUID
    name: str
    url: str
    language: str | None
    poll_interval_seconds: int
    enabled: bool
    created_at: datetime
    updated_at: datetime
    health: SourceHealth


class SourceList(BaseModel):
    items: list[SourceRecord]


def _record(row: dict[str, Any]) -> SourceRecord:
    return SourceRecord.model_validate({**row, "health": row})


def _not_found(name: str) -> ProblemError:
    return ProblemError(404, "Not found", f"no source named {name!r}")


@router.post(
    "",
    status_code=201,
    response_model=SourceRecord,
    responses=problem_responses(409, 422, 503),
    summary="Add a feed to poll (due at once)",
)
def create_source(
    settings: SettingsDep,
    body: NewSource,
    principal: Annotated[Principal, Depends(require_scope("admin"))],
) -> SourceRecord:
    with database(settings, transaction=True) as connection:
        # its items' claims are the creator's: a feed also sent to POST /v1/feeds with a
        # key of the same owner is not submitted twice
        row = sources.create(
            connection,
            name=body.name,
            url=body.url,
            language=body.language,
            poll_interval_seconds=body.poll_interval_seconds,
            owner=principal.owner,
        )
    if row is None:
        raise ProblemError(409, "Name taken", f"a source named {body.name!r} exists")
    return _record(row)


@router.get("", response_model=SourceList, summary="Every source, with its health")
def list_sources(settings: SettingsDep) -> SourceList:
    with database(settings) as connection:
        return SourceList(items=[_record(row) for row in sources.list_sources(connection)])


@router.get(
    "/{name}",
    response_model=SourceRecord,
    responses=problem_responses(404),
    summary="One source and its health",
)
def get_source(settings: SettingsDep, name: str) -> SourceRecord:
    with database(settings) as connection:
        row = sources.get(connection, name)
    if row is None:
        raise _not_found(name)
    return _record(row)


@router.patch(
    "/{name}",
    response_model=SourceRecord,
    responses=problem_responses(404, 422),
    summary="Change a source's feed, interval, language hint, or enable it again",
)
def update_source(settings: SettingsDep, name: str, body: SourceChanges) -> SourceRecord:
    changes = body.model_dump(exclude_unset=True)
    for field in ("url", "poll_interval_seconds", "enabled"):
        if field in changes and changes[field] is None:
            raise ProblemError(422, "Invalid request", f"{field}: must not be null")
    with database(settings, transaction=True) as connection:
        row = sources.update(connection, name, changes)
    if row is None:
        raise _not_found(name)
    return _record(row)


@router.post(
    "/{name}/disable",
    response_model=SourceRecord,
    responses=problem_responses(404),
    summary="Stop polling a source (kept, with its health; PATCH enabled=true resumes)",
)
def disable_source(settings: SettingsDep, name: str) -> SourceRecord:
    with database(settings, transaction=True) as connection:
        row = sources.update(connection, name, {"enabled": False})
    if row is None:
        raise _not_found(name)
    return _record(row)


@router.post(
    "/{name}/poll",
    status_code=202,
    response_model=SourceRecord,
    responses=problem_responses(404, 409, 503),
    summary="Poll a source now (a worker does it; its health shows when)",
)
def poll_source(settings: SettingsDep, intake: IntakeDep, name: str) -> SourceRecord:
    with database(settings, transaction=True) as connection:
        row = sources.make_due(connection, name)
        if row is None:
            raise _not_found(name)
        if not row["enabled"]:
            raise ProblemError(409, "Disabled", f"source {name!r} is disabled")
    try:
        intake.redis.lpush(
            queue_key(settings, settings.fetch_queue),
            task_message(POLL_SOURCES, str(uuid.uuid4()), [[name]], settings.fetch_queue),
        )
    except redis.RedisError as exc:
        # it is due all the same: the next scheduled poll takes it
        raise ProblemError(
            503, "Queue unavailable", "the next scheduled poll will take it", RETRY_AFTER
        ) from exc
    return _record(row)
